"""Attendance rules (domain/meetings_attendance.py): marks, the expected, absence streaks."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from domain.compliance import PeriodKind
from domain.meetings import Audience, SignedBy
from domain.meetings_attendance import (
    LOOKBACK_MONTHS,
    Expectation,
    Mark,
    NamedPeriod,
    Streak,
    absence_streak,
    add_months,
    expected_at,
    flagged,
    mark_of,
    named_period,
    parse_range,
    votes_on,
)
from domain.orgs import Stage
from domain.validation import Invalid


def absent(day: date, *, leave: bool = False) -> Expectation:
    return Expectation(day, attended=False, on_leave=leave)


def came(day: date) -> Expectation:
    return Expectation(day, attended=True)


# ---- marks and who was expected ----


def test_a_sign_in_wins_over_a_leave_request_and_over_the_audience() -> None:
    assert mark_of(expected=True, signed=SignedBy.SELF, on_leave=True) is Mark.PRESENT
    assert mark_of(expected=False, signed=SignedBy.PROXY, on_leave=False) is Mark.PROXY
    assert mark_of(expected=True, signed=SignedBy.LATE, on_leave=False) is Mark.LATE
    assert mark_of(expected=True, signed=None, on_leave=True) is Mark.LEAVE
    assert mark_of(expected=True, signed=None, on_leave=False) is Mark.ABSENT
    assert mark_of(expected=False, signed=None, on_leave=True) is Mark.NOT_EXPECTED


PUBLISHED = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)
HELD = date(2026, 10, 10)


def expected(**changes: object) -> bool:
    values: dict[str, object] = {
        "audience": Audience.BRANCH,
        "meeting_group": None,
        "published_at": PUBLISHED,
        "held_on": HELD,
        "joined_at": datetime(2026, 1, 1, tzinfo=UTC),
        "left_on": None,
        "member_group": None,
        "in_committee": False,
        "responded": False,
    }
    values.update(changes)
    return expected_at(**values)  # type: ignore[arg-type]


def test_the_whole_branch_expects_everyone_on_the_roster_when_it_was_published() -> None:
    assert expected()
    assert expected(joined_at=PUBLISHED)  # joined the same moment: still in the audience
    assert not expected(joined_at=datetime(2026, 10, 2, tzinfo=UTC))  # joined after publishing
    assert expected(left_on=date(2026, 10, 11))  # left the day after
    assert not expected(left_on=HELD)  # off the roster on the meeting day
    assert not expected(left_on=date(2026, 9, 1))


def test_a_party_group_meeting_expects_its_group_and_a_committee_meeting_its_officers() -> None:
    group = {"audience": Audience.PARTY_GROUP, "meeting_group": 7}
    assert expected(**group, member_group=7)
    assert not expected(**group, member_group=8)
    assert not expected(**group, member_group=None)
    assert expected(audience=Audience.COMMITTEE, in_committee=True)
    assert not expected(audience=Audience.COMMITTEE, in_committee=False)


def test_answering_or_signing_in_proves_the_member_was_in_the_audience() -> None:
    assert expected(
        audience=Audience.PARTY_GROUP,
        meeting_group=7,
        member_group=8,
        joined_at=datetime(2026, 10, 5, tzinfo=UTC),
        responded=True,
    )


def test_only_full_members_vote_and_only_from_the_day_they_became_full() -> None:
    assert votes_on(Stage.FULL, None, HELD)
    assert votes_on(Stage.FULL, HELD, HELD)
    assert not votes_on(Stage.FULL, date(2026, 10, 11), HELD)  # still probationary then
    assert not votes_on(Stage.PROBATIONARY, None, HELD)
    assert not votes_on(Stage.MASSES, None, HELD)


# ---- absence streaks ----

DEC_15 = date(2026, 12, 15)


def test_two_months_without_attending_are_a_streak_of_two() -> None:
    streak = absence_streak([absent(date(2026, 10, 10)), absent(date(2026, 11, 5))], DEC_15)
    assert streak == Streak(months=2, leaves=0, last_attended=None)
    assert flagged(streak, 2)
    assert not flagged(streak, 3)


def test_months_without_a_meeting_for_the_member_neither_count_nor_break_the_streak() -> None:
    marks = [came(date(2026, 7, 1)), absent(date(2026, 8, 3)), absent(date(2026, 11, 2))]
    streak = absence_streak(marks, DEC_15)  # September and October had nothing for them
    assert streak == Streak(months=2, leaves=0, last_attended=date(2026, 7, 1))


def test_attending_any_meeting_of_a_month_ends_the_streak() -> None:
    marks = [
        absent(date(2026, 9, 1)),
        absent(date(2026, 10, 2)),
        came(date(2026, 10, 20)),  # same month as an absence: the month is not held against them
        absent(date(2026, 11, 3)),
    ]
    assert absence_streak(marks, DEC_15) == Streak(1, 0, date(2026, 10, 20))
    assert not flagged(absence_streak(marks, DEC_15), 2)


def test_leave_is_not_attending_and_is_reported_with_the_streak() -> None:
    marks = [
        absent(date(2026, 10, 10), leave=True),
        absent(date(2026, 11, 5), leave=True),
        absent(date(2026, 11, 20)),
    ]
    assert absence_streak(marks, DEC_15) == Streak(months=2, leaves=2, last_attended=None)


def test_the_current_month_is_not_complete_and_does_not_count_either_way() -> None:
    marks = [absent(date(2026, 10, 10)), absent(date(2026, 11, 5)), came(date(2026, 12, 3))]
    assert absence_streak(marks, DEC_15) == Streak(2, 0, None)
    only_now = [absent(date(2026, 12, 1)), absent(date(2026, 12, 14))]
    assert absence_streak(only_now, DEC_15).months == 0
    # On the first day of a month the month before is complete.
    assert absence_streak([absent(date(2026, 11, 30))], date(2026, 12, 1)).months == 1
    assert absence_streak([absent(date(2026, 12, 1))], date(2026, 12, 1)).months == 0


def test_streaks_run_across_the_change_of_year() -> None:
    marks = [came(date(2026, 10, 9)), absent(date(2026, 11, 6)), absent(date(2026, 12, 4))]
    streak = absence_streak(marks, date(2027, 1, 4))
    assert streak == Streak(months=2, leaves=0, last_attended=date(2026, 10, 9))
    # In January 2027 itself (today 2027-02-01): December and January count.
    later = [came(date(2026, 11, 6)), absent(date(2026, 12, 31)), absent(date(2027, 1, 1))]
    assert absence_streak(later, date(2027, 2, 1)).months == 2


def test_streaks_look_back_at_most_the_lookback_window() -> None:
    marks = [absent(add_months(date(2025, 1, 1), i)) for i in range(24)]  # 2025-01 … 2026-12
    streak = absence_streak(marks, date(2027, 1, 10))
    assert streak.months == LOOKBACK_MONTHS
    assert absence_streak(marks, date(2027, 1, 10), lookback_months=3).months == 3
    # An attendance before the window is still reported as the last one.
    old = [came(date(2024, 6, 1)), absent(date(2026, 12, 1))]
    assert absence_streak(old, date(2027, 1, 10)) == Streak(1, 0, date(2024, 6, 1))


def test_no_meeting_expected_the_member_means_no_streak() -> None:
    assert absence_streak([], DEC_15) == Streak(0, 0, None)
    assert not flagged(Streak(0, 0, None), 0)  # a threshold below one month means one
    assert flagged(Streak(1, 0, None), 0)


def test_months_are_added_across_years() -> None:
    assert add_months(date(2026, 12, 1), 1) == date(2027, 1, 1)
    assert add_months(date(2026, 1, 1), -1) == date(2025, 12, 1)
    assert add_months(date(2026, 3, 1), -15) == date(2024, 12, 1)


# ---- periods ----


@pytest.mark.parametrize(
    ("which", "start", "end"),
    [
        (NamedPeriod.THIS_MONTH, date(2026, 1, 1), date(2026, 1, 31)),
        (NamedPeriod.LAST_MONTH, date(2025, 12, 1), date(2025, 12, 31)),
        (NamedPeriod.THIS_QUARTER, date(2026, 1, 1), date(2026, 3, 31)),
        (NamedPeriod.LAST_QUARTER, date(2025, 10, 1), date(2025, 12, 31)),
        (NamedPeriod.THIS_YEAR, date(2026, 1, 1), date(2026, 12, 31)),
        (NamedPeriod.LAST_YEAR, date(2025, 1, 1), date(2025, 12, 31)),
    ],
)
def test_named_periods_in_january_reach_back_into_the_previous_year(
    which: NamedPeriod, start: date, end: date
) -> None:
    period = named_period(which, date(2026, 1, 15))
    assert (period.start, period.end) == (start, end)


def test_named_periods_have_the_kind_they_say() -> None:
    assert named_period(NamedPeriod.LAST_QUARTER, date(2026, 5, 1)).kind is PeriodKind.QUARTER
    assert named_period(NamedPeriod.LAST_MONTH, date(2024, 3, 31)).end == date(2024, 2, 29)


@pytest.mark.parametrize(
    "text",
    [
        "2026-01-01 2026-06-30",
        "2026-1-1 至 2026-6-30",
        "2026/01/01-2026/06/30",
        "2026.1.1～2026.6.30",
        "2026年1月1日到2026年6月30日",
        "20260101 20260630",
        "２０２６－０１－０１　２０２６－０６－３０",  # full-width, as Chinese keyboards type
    ],
)
def test_ranges_are_read_as_people_type_them(text: str) -> None:
    assert parse_range(text) == (date(2026, 1, 1), date(2026, 6, 30))


def test_bad_ranges_say_what_is_wrong() -> None:
    assert parse_range("上个月") == Invalid("range.invalid")
    assert parse_range("2026-01-01") == Invalid("range.invalid")
    assert parse_range("2026-02-30 2026-03-01") == Invalid("range.invalid")
    assert parse_range("2026-06-30 2026-01-01") == Invalid("range.order")
    assert parse_range("2025-01-01 2026-01-02") == Invalid("range.too_long")
    assert parse_range("2025-01-01 2026-01-01") == (date(2025, 1, 1), date(2026, 1, 1))
    assert parse_range("2024-01-01 2024-12-31") == (date(2024, 1, 1), date(2024, 12, 31))
    assert parse_range("2026-03-01 2026-03-01") == (date(2026, 3, 1), date(2026, 3, 1))
