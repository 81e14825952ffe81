"""The 三会一课 compliance engine (domain/compliance.py): periods, requirements, obligations."""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date, timedelta
from fractions import Fraction
from itertools import pairwise

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from domain.compliance import (
    DEFAULT_FREQUENCIES,
    DEFAULT_NEW_BRANCH_SHARE,
    PER_GROUP_TYPES,
    HeldMeeting,
    MeetingType,
    Obligation,
    PeriodKind,
    Requirement,
    Requirements,
    compliance,
    due_soon,
    format_requirement,
    history,
    missed,
    owes,
    parse_requirement,
    period_of,
    periods_between,
)
from domain.validation import Invalid

M = MeetingType
K = PeriodKind
DEFAULTS = Requirements()
OLD = date(2000, 1, 1)  # a branch that has existed for ages

days = st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31))
kinds = st.sampled_from(list(PeriodKind))


def meeting(day: date, *types: MeetingType, group: int | None = None) -> HeldMeeting:
    return HeldMeeting(day, frozenset(types), group)


def find(
    obligations: Sequence[Obligation], kind: MeetingType, group: int | None = None
) -> Obligation:
    (found,) = [o for o in obligations if o.type is kind and o.party_group_id == group]
    return found


def by_type(obligations: Sequence[Obligation]) -> dict[MeetingType, Obligation]:
    return {o.type: o for o in obligations if o.party_group_id is None}


# ---------------------------------------------------------------- meeting types and defaults


def test_the_eight_meeting_types_have_stable_values() -> None:
    assert [str(kind) for kind in MeetingType] == [
        "general_meeting",
        "committee_meeting",
        "group_meeting",
        "party_lesson",
        "theme_day",
        "life_meeting",
        "democratic_evaluation",
        "heart_talk",
    ]


def test_default_frequencies_follow_the_domain_reference() -> None:
    assert {kind: req.period for kind, req in DEFAULT_FREQUENCIES.items()} == {
        M.GENERAL_MEETING: K.QUARTER,
        M.COMMITTEE_MEETING: K.MONTH,
        M.GROUP_MEETING: K.MONTH,
        M.PARTY_LESSON: K.QUARTER,
        M.THEME_DAY: K.MONTH,
        M.LIFE_MEETING: K.YEAR,
        M.DEMOCRATIC_EVALUATION: K.YEAR,
        M.HEART_TALK: K.YEAR,
    }
    assert all(req.count == 1 for req in DEFAULT_FREQUENCIES.values())
    assert {M.GROUP_MEETING} == PER_GROUP_TYPES
    assert Fraction(1, 2) == DEFAULT_NEW_BRANCH_SHARE


def test_default_requirements_are_the_default_frequencies_in_type_order() -> None:
    assert dict(DEFAULTS) == dict(DEFAULT_FREQUENCIES)
    assert list(DEFAULTS) == list(MeetingType)
    assert len(DEFAULTS) == 8
    assert DEFAULTS.new_branch_share == Fraction(1, 2)


def test_overrides_replace_add_and_drop_requirements() -> None:
    custom = Requirements(
        {
            M.PARTY_LESSON: Requirement(K.HALF_YEAR, 2),
            M.HEART_TALK: None,
        },
        new_branch_share=Fraction(1, 3),
    )
    assert custom[M.PARTY_LESSON] == Requirement(K.HALF_YEAR, 2)
    assert M.HEART_TALK not in custom
    assert custom[M.THEME_DAY] == Requirement(K.MONTH)
    assert custom.new_branch_share == Fraction(1, 3)
    assert list(custom) == [kind for kind in MeetingType if kind is not M.HEART_TALK]


def test_overrides_layer_and_can_restore_a_dropped_type() -> None:
    city = Requirements({M.HEART_TALK: None})
    committee = city.overriding({M.HEART_TALK: Requirement(K.HALF_YEAR)})
    assert M.HEART_TALK not in city  # the original is untouched
    assert committee[M.HEART_TALK] == Requirement(K.HALF_YEAR)
    assert list(committee) == list(MeetingType)  # restored in its usual place
    assert committee.new_branch_share == city.new_branch_share
    assert committee.overriding({}, new_branch_share=Fraction(1)).new_branch_share == 1


def test_overriding_with_nothing_gives_an_equal_value() -> None:
    assert DEFAULTS.overriding({}) == DEFAULTS
    assert hash(DEFAULTS.overriding({})) == hash(DEFAULTS)
    assert Requirements(new_branch_share=Fraction(1, 3)) != DEFAULTS
    assert Requirements({M.THEME_DAY: Requirement(K.MONTH, 2)}) != DEFAULTS
    assert dict(DEFAULTS) != DEFAULTS  # a plain dict lacks the new-branch rule


def test_requirements_are_immutable() -> None:
    with pytest.raises(AttributeError):
        DEFAULTS.new_branch_share = Fraction(1)  # type: ignore[misc]
    with pytest.raises(AttributeError):
        object.__setattr__(DEFAULTS, "anything", 1)
    with pytest.raises(TypeError):
        DEFAULTS[M.THEME_DAY] = Requirement(K.YEAR)  # type: ignore[index]
    assert "theme_day=month" in repr(DEFAULTS)


@pytest.mark.parametrize("share", [Fraction(-1, 2), Fraction(3, 2)])
def test_a_new_branch_share_outside_zero_to_one_is_refused(share: Fraction) -> None:
    with pytest.raises(ValueError, match="new_branch_share"):
        Requirements(new_branch_share=share)


def test_a_requirement_needs_a_positive_count() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Requirement(K.MONTH, 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("month", Requirement(K.MONTH)),
        (" Quarter ", Requirement(K.QUARTER)),
        ("half_year", Requirement(K.HALF_YEAR)),
        ("year", Requirement(K.YEAR)),
        ("2/quarter", Requirement(K.QUARTER, 2)),
        ("3 / month", Requirement(K.MONTH, 3)),
        ("off", None),
        ("none", None),
    ],
)
def test_requirements_parse_from_configuration(text: str, expected: Requirement | None) -> None:
    assert parse_requirement(text) == expected


@pytest.mark.parametrize("text", ["", "weekly", "0/month", "-1/month", "2/", "month/2", "每月"])
def test_unreadable_requirements_are_refused(text: str) -> None:
    assert parse_requirement(text) == Invalid("requirement.invalid")


@given(st.one_of(st.none(), st.builds(Requirement, kinds, st.integers(1, 999))))
def test_format_requirement_reads_back(requirement: Requirement | None) -> None:
    assert parse_requirement(format_requirement(requirement)) == requirement


# ---------------------------------------------------------------- periods


@pytest.mark.parametrize(
    ("kind", "day", "start", "end", "key"),
    [
        (K.MONTH, date(2026, 1, 31), date(2026, 1, 1), date(2026, 1, 31), "2026-01"),
        (K.MONTH, date(2026, 2, 10), date(2026, 2, 1), date(2026, 2, 28), "2026-02"),
        (K.MONTH, date(2028, 2, 29), date(2028, 2, 1), date(2028, 2, 29), "2028-02"),
        (K.MONTH, date(2100, 2, 1), date(2100, 2, 1), date(2100, 2, 28), "2100-02"),
        (K.MONTH, date(2000, 2, 1), date(2000, 2, 1), date(2000, 2, 29), "2000-02"),
        (K.QUARTER, date(2026, 1, 1), date(2026, 1, 1), date(2026, 3, 31), "2026-Q1"),
        (K.QUARTER, date(2026, 3, 31), date(2026, 1, 1), date(2026, 3, 31), "2026-Q1"),
        (K.QUARTER, date(2026, 4, 1), date(2026, 4, 1), date(2026, 6, 30), "2026-Q2"),
        (K.QUARTER, date(2026, 9, 30), date(2026, 7, 1), date(2026, 9, 30), "2026-Q3"),
        (K.QUARTER, date(2026, 12, 31), date(2026, 10, 1), date(2026, 12, 31), "2026-Q4"),
        (K.HALF_YEAR, date(2026, 6, 30), date(2026, 1, 1), date(2026, 6, 30), "2026-H1"),
        (K.HALF_YEAR, date(2026, 7, 1), date(2026, 7, 1), date(2026, 12, 31), "2026-H2"),
        (K.YEAR, date(2026, 7, 1), date(2026, 1, 1), date(2026, 12, 31), "2026"),
        (K.YEAR, date(9999, 12, 31), date(9999, 1, 1), date(9999, 12, 31), "9999"),
        (K.MONTH, date(1, 1, 1), date(1, 1, 1), date(1, 1, 31), "0001-01"),
    ],
)
def test_period_of(kind: PeriodKind, day: date, start: date, end: date, key: str) -> None:
    period = period_of(kind, day)
    assert (period.start, period.end, period.kind, period.key) == (start, end, kind, key)


@pytest.mark.parametrize(
    ("kind", "days_in_period"),
    [(K.MONTH, 29), (K.QUARTER, 91), (K.HALF_YEAR, 182), (K.YEAR, 366)],
)
def test_period_lengths_in_a_leap_year(kind: PeriodKind, days_in_period: int) -> None:
    assert period_of(kind, date(2028, 2, 29)).days == days_in_period


def test_previous_period_crosses_the_year_boundary() -> None:
    assert period_of(K.MONTH, date(2027, 1, 5)).previous() == period_of(K.MONTH, date(2026, 12, 1))
    q1 = period_of(K.QUARTER, date(2027, 2, 1))
    assert q1.previous() == period_of(K.QUARTER, date(2026, 11, 11))
    assert q1.previous().key == "2026-Q4"
    assert period_of(K.HALF_YEAR, date(2027, 1, 1)).previous().key == "2026-H2"
    assert period_of(K.YEAR, date(2027, 1, 1)).previous().key == "2026"
    assert period_of(K.MONTH, date(2026, 12, 31)).next().key == "2027-01"
    assert period_of(K.MONTH, date(2028, 3, 1)).previous().end == date(2028, 2, 29)


def test_periods_contain_their_days_only() -> None:
    q = period_of(K.QUARTER, date(2026, 5, 5))
    assert date(2026, 4, 1) in q
    assert date(2026, 6, 30) in q
    assert date(2026, 3, 31) not in q
    assert date(2026, 7, 1) not in q
    assert "2026-05-05" not in q


def test_periods_sort_by_start() -> None:
    months = [period_of(K.MONTH, date(2026, m, 1)) for m in (5, 1, 3)]
    assert [p.key for p in sorted(months)] == ["2026-01", "2026-03", "2026-05"]


def test_periods_between() -> None:
    got = list(periods_between(K.QUARTER, date(2026, 3, 31), date(2026, 10, 1)))
    assert [p.key for p in got] == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    assert list(periods_between(K.YEAR, date(2026, 5, 1), date(2026, 5, 1))) == [
        period_of(K.YEAR, date(2026, 1, 1))
    ]
    assert list(periods_between(K.MONTH, date(2026, 5, 2), date(2026, 5, 1))) == []


@given(kinds, days)
def test_every_day_belongs_to_exactly_its_period(kind: PeriodKind, day: date) -> None:
    period = period_of(kind, day)
    assert period.start <= day <= period.end
    assert day in period
    # Both ends map back to the same period: no day belongs to two periods of a kind.
    assert period_of(kind, period.start) == period
    assert period_of(kind, period.end) == period
    assert period.start.day == 1
    assert period.end.day == calendar.monthrange(period.end.year, period.end.month)[1]
    assert period.previous().end + timedelta(days=1) == period.start
    assert period.next().start - timedelta(days=1) == period.end
    assert period.next().previous() == period
    assert period.key == period.next().previous().key != period.next().key


@given(kinds, st.integers(1900, 2200))
def test_periods_tile_the_year(kind: PeriodKind, year: int) -> None:
    tiles = list(periods_between(kind, date(year, 1, 1), date(year, 12, 31)))
    assert len(tiles) == {K.MONTH: 12, K.QUARTER: 4, K.HALF_YEAR: 2, K.YEAR: 1}[kind]
    assert tiles[0].start == date(year, 1, 1)
    assert tiles[-1].end == date(year, 12, 31)
    assert sum(p.days for p in tiles) == (366 if calendar.isleap(year) else 365)
    for before, after in pairwise(tiles):
        assert before.end + timedelta(days=1) == after.start
    assert len({p.key for p in tiles}) == len(tiles)


@given(days)
def test_shorter_periods_nest_in_longer_ones(day: date) -> None:
    month, quarter = period_of(K.MONTH, day), period_of(K.QUARTER, day)
    half, year = period_of(K.HALF_YEAR, day), period_of(K.YEAR, day)
    assert year.start <= half.start <= quarter.start <= month.start
    assert month.end <= quarter.end <= half.end <= year.end


# ---------------------------------------------------------------- branches created mid-period


@pytest.mark.parametrize(
    ("kind", "created", "owed"),
    [
        (K.MONTH, date(2026, 4, 1), True),  # created on the first day
        (K.MONTH, date(2026, 3, 20), True),  # created before the period
        (K.MONTH, date(2026, 4, 16), True),  # 15 of 30 days remain: exactly half
        (K.MONTH, date(2026, 4, 17), False),  # 14 of 30
        (K.MONTH, date(2026, 4, 30), False),
        (K.MONTH, date(2026, 5, 1), False),  # created after the period ended
        (K.YEAR, date(2026, 7, 2), True),  # 183 of 365
        (K.YEAR, date(2026, 7, 3), False),  # 182 of 365
        (K.QUARTER, date(2026, 5, 16), True),  # 46 of 91
        (K.QUARTER, date(2026, 5, 17), False),  # 45 of 91
    ],
)
def test_a_branch_owes_a_period_if_half_of_it_remained(
    kind: PeriodKind, created: date, owed: bool
) -> None:
    assert owes(period_of(kind, date(2026, 4, 15)), created) is owed


@pytest.mark.parametrize(
    ("created", "owed"),
    [
        (date(2028, 2, 15), True),  # 15 of 29 days
        (date(2028, 2, 16), False),  # 14 of 29 days: less than 14.5
    ],
)
def test_the_half_period_rule_in_a_leap_february(created: date, owed: bool) -> None:
    assert owes(period_of(K.MONTH, date(2028, 2, 1)), created) is owed


def test_the_leap_year_needs_183_days() -> None:
    year = period_of(K.YEAR, date(2028, 1, 1))
    assert owes(year, date(2028, 7, 2))  # 183 of 366
    assert not owes(year, date(2028, 7, 3))


def test_the_new_branch_share_is_configurable() -> None:
    april = period_of(K.MONTH, date(2026, 4, 1))
    assert owes(april, date(2026, 4, 30), Fraction(0))  # any remaining day suffices
    assert not owes(april, date(2026, 5, 1), Fraction(0))  # but not after the period
    assert not owes(april, date(2026, 4, 2), Fraction(1))  # the whole period or nothing
    assert owes(april, date(2026, 4, 1), Fraction(1))


@given(kinds, days, days, st.fractions(0, 1))
def test_a_later_creation_never_owes_more(
    kind: PeriodKind, day: date, created: date, share: Fraction
) -> None:
    period = period_of(kind, day)
    later = created + timedelta(days=1)
    assert owes(period, later, share) <= owes(period, created, share)
    if created <= period.start:
        assert owes(period, created, share)


# ---------------------------------------------------------------- the current period


def test_a_new_branch_with_nothing_held_owes_everything() -> None:
    obligations = compliance(date(2026, 5, 10), DEFAULTS, [], branch_created=OLD)
    assert [o.type for o in obligations] == [t for t in MeetingType if t is not M.GROUP_MEETING]
    assert all(o.unmet and o.held == 0 and o.required == 1 for o in obligations)
    assert not any(o.exempt for o in obligations)
    found = by_type(obligations)
    assert found[M.THEME_DAY].period.key == "2026-05"
    assert found[M.THEME_DAY].days_remaining == 21
    assert found[M.GENERAL_MEETING].period.key == "2026-Q2"
    assert (found[M.GENERAL_MEETING].start, found[M.GENERAL_MEETING].end) == (
        date(2026, 4, 1),
        date(2026, 6, 30),
    )
    assert found[M.GENERAL_MEETING].days_remaining == 51
    assert found[M.LIFE_MEETING].days_remaining == 235


def test_one_theme_day_counts_as_general_meeting_lesson_and_theme_day() -> None:
    held = [meeting(date(2026, 5, 1), M.THEME_DAY, M.GENERAL_MEETING, M.PARTY_LESSON)]
    found = by_type(compliance(date(2026, 5, 10), DEFAULTS, held, branch_created=OLD))
    assert found[M.THEME_DAY].met
    assert found[M.GENERAL_MEETING].met
    assert found[M.PARTY_LESSON].met
    assert not found[M.COMMITTEE_MEETING].met
    assert found[M.THEME_DAY].held == 1


def test_meetings_of_earlier_periods_and_after_as_of_do_not_count() -> None:
    held = [
        meeting(date(2026, 3, 31), M.GENERAL_MEETING, M.THEME_DAY),  # last quarter
        meeting(date(2026, 4, 11), M.GENERAL_MEETING, M.THEME_DAY),  # after as_of
    ]
    found = by_type(compliance(date(2026, 4, 10), DEFAULTS, held, branch_created=OLD))
    assert found[M.GENERAL_MEETING].held == 0
    assert found[M.THEME_DAY].held == 0
    later = by_type(compliance(date(2026, 4, 11), DEFAULTS, held, branch_created=OLD))
    assert later[M.GENERAL_MEETING].met
    assert later[M.THEME_DAY].met


def test_new_year_starts_every_period_afresh() -> None:
    held = [
        meeting(
            date(2026, 12, 31),
            M.GENERAL_MEETING,
            M.COMMITTEE_MEETING,
            M.PARTY_LESSON,
            M.THEME_DAY,
            M.LIFE_MEETING,
            M.DEMOCRATIC_EVALUATION,
            M.HEART_TALK,
        )
    ]
    last_day = compliance(date(2026, 12, 31), DEFAULTS, held, branch_created=OLD)
    assert all(o.met and o.days_remaining == 0 for o in last_day)
    first_day = compliance(date(2027, 1, 1), DEFAULTS, held, branch_created=OLD)
    assert not any(o.met for o in first_day)
    found = by_type(first_day)
    assert found[M.THEME_DAY].days_remaining == 30
    assert found[M.GENERAL_MEETING].days_remaining == 89
    assert found[M.LIFE_MEETING].days_remaining == 364


def test_quarter_end_and_start() -> None:
    held = [meeting(date(2026, 2, 1), M.GENERAL_MEETING)]
    assert by_type(compliance(date(2026, 3, 31), DEFAULTS, held, branch_created=OLD))[
        M.GENERAL_MEETING
    ].met
    april = by_type(compliance(date(2026, 4, 1), DEFAULTS, held, branch_created=OLD))
    assert not april[M.GENERAL_MEETING].met
    assert april[M.GENERAL_MEETING].period.key == "2026-Q2"


def test_a_higher_required_count_needs_that_many_meetings() -> None:
    twice = DEFAULTS.overriding({M.PARTY_LESSON: Requirement(K.QUARTER, 2)})
    one = [meeting(date(2026, 4, 2), M.PARTY_LESSON)]
    found = by_type(compliance(date(2026, 4, 30), twice, one, branch_created=OLD))
    assert (found[M.PARTY_LESSON].held, found[M.PARTY_LESSON].required) == (1, 2)
    assert not found[M.PARTY_LESSON].met
    two = [*one, meeting(date(2026, 5, 2), M.PARTY_LESSON)]
    assert by_type(compliance(date(2026, 5, 30), twice, two, branch_created=OLD))[
        M.PARTY_LESSON
    ].met


def test_dropped_types_are_not_reported() -> None:
    relaxed = DEFAULTS.overriding({M.HEART_TALK: None, M.DEMOCRATIC_EVALUATION: None})
    kinds_reported = {o.type for o in compliance(date(2026, 5, 1), relaxed, [], branch_created=OLD)}
    assert M.HEART_TALK not in kinds_reported
    assert M.DEMOCRATIC_EVALUATION not in kinds_reported


def test_an_overridden_period_kind_is_used() -> None:
    half_yearly = DEFAULTS.overriding({M.PARTY_LESSON: Requirement(K.HALF_YEAR)})
    held = [meeting(date(2026, 1, 5), M.PARTY_LESSON)]
    found = by_type(compliance(date(2026, 6, 30), half_yearly, held, branch_created=OLD))
    assert found[M.PARTY_LESSON].period.key == "2026-H1"
    assert found[M.PARTY_LESSON].met


# ---------------------------------------------------------------- party groups


def test_each_party_group_owes_its_own_meeting() -> None:
    held = [
        meeting(date(2026, 5, 3), M.GROUP_MEETING, group=11),
        meeting(date(2026, 5, 4), M.GROUP_MEETING, group=11),
        meeting(date(2026, 5, 5), M.GROUP_MEETING, group=99),  # a group not listed
    ]
    obligations = compliance(
        date(2026, 5, 10), DEFAULTS, held, branch_created=OLD, party_groups=[12, 11, 12]
    )
    groups = [o for o in obligations if o.type is M.GROUP_MEETING]
    assert [o.party_group_id for o in groups] == [12, 11]  # deduplicated, caller's order
    assert find(obligations, M.GROUP_MEETING, 11).held == 2
    assert find(obligations, M.GROUP_MEETING, 11).met
    assert not find(obligations, M.GROUP_MEETING, 12).met
    assert find(obligations, M.GROUP_MEETING, 12).period.key == "2026-05"


def test_a_branch_without_party_groups_owes_no_group_meetings() -> None:
    obligations = compliance(date(2026, 5, 10), DEFAULTS, [], branch_created=OLD)
    assert all(o.type is not M.GROUP_MEETING for o in obligations)
    assert all(o.party_group_id is None for o in obligations)


def test_a_group_meeting_without_a_group_counts_for_no_group() -> None:
    held = [meeting(date(2026, 5, 3), M.GROUP_MEETING)]
    obligations = compliance(
        date(2026, 5, 10), DEFAULTS, held, branch_created=OLD, party_groups=[1]
    )
    assert find(obligations, M.GROUP_MEETING, 1).held == 0


def test_a_lesson_inside_one_group_does_not_meet_the_branch_obligation() -> None:
    held = [meeting(date(2026, 5, 3), M.GROUP_MEETING, M.PARTY_LESSON, group=1)]
    obligations = compliance(
        date(2026, 5, 10), DEFAULTS, held, branch_created=OLD, party_groups=[1]
    )
    assert find(obligations, M.GROUP_MEETING, 1).met
    assert not find(obligations, M.PARTY_LESSON).met


# ---------------------------------------------------------------- branches created mid-period


def test_a_branch_created_late_in_the_month_is_exempt_for_that_month_only() -> None:
    created = date(2026, 5, 20)  # 12 of 31 days remain in May; 42 of 91 in Q2
    found = by_type(compliance(date(2026, 5, 25), DEFAULTS, [], branch_created=created))
    assert found[M.THEME_DAY].exempt
    assert not found[M.THEME_DAY].unmet
    assert found[M.GENERAL_MEETING].exempt  # less than half of Q2 remains
    assert not found[M.LIFE_MEETING].exempt  # 226 of 365 days remain in the year
    june = by_type(compliance(date(2026, 6, 1), DEFAULTS, [], branch_created=created))
    assert not june[M.THEME_DAY].exempt
    assert june[M.GENERAL_MEETING].exempt


def test_an_exempt_obligation_still_reports_what_was_held() -> None:
    held = [meeting(date(2026, 5, 30), M.THEME_DAY)]
    found = by_type(compliance(date(2026, 5, 31), DEFAULTS, held, branch_created=date(2026, 5, 29)))
    assert found[M.THEME_DAY].exempt
    assert found[M.THEME_DAY].met
    assert found[M.THEME_DAY].held == 1


def test_a_branch_created_early_in_the_month_owes_it() -> None:
    found = by_type(compliance(date(2026, 5, 2), DEFAULTS, [], branch_created=date(2026, 5, 2)))
    assert not found[M.THEME_DAY].exempt
    assert found[M.THEME_DAY].unmet


def test_a_branch_created_after_as_of_owes_nothing_yet() -> None:
    obligations = compliance(date(2026, 5, 2), DEFAULTS, [], branch_created=date(2026, 8, 1))
    assert all(o.exempt for o in obligations)


def test_per_group_obligations_are_exempt_with_the_branch() -> None:
    obligations = compliance(
        date(2026, 5, 30), DEFAULTS, [], branch_created=date(2026, 5, 29), party_groups=[1, 2]
    )
    assert find(obligations, M.GROUP_MEETING, 1).exempt
    assert find(obligations, M.GROUP_MEETING, 2).exempt


# ---------------------------------------------------------------- due soon


def test_due_soon_lists_unmet_obligations_ending_within_the_window() -> None:
    held = [meeting(date(2026, 6, 2), M.COMMITTEE_MEETING)]
    on_23 = compliance(date(2026, 6, 23), DEFAULTS, held, branch_created=OLD)  # 7 days left
    soon = {o.type for o in due_soon(on_23)}
    assert soon == {M.GENERAL_MEETING, M.PARTY_LESSON, M.THEME_DAY}  # not the met committee
    on_22 = compliance(date(2026, 6, 22), DEFAULTS, held, branch_created=OLD)  # 8 days left
    assert due_soon(on_22) == []
    assert {o.type for o in due_soon(on_22, within_days=8)} == soon
    assert {o.type for o in due_soon(on_22, within_days=365)} == soon | {
        M.LIFE_MEETING,
        M.DEMOCRATIC_EVALUATION,
        M.HEART_TALK,
    }


def test_due_soon_skips_exempt_obligations() -> None:
    obligations = compliance(date(2026, 6, 28), DEFAULTS, [], branch_created=date(2026, 6, 25))
    assert {o.type for o in due_soon(obligations)} == set()


# ---------------------------------------------------------------- history


def test_history_of_a_year() -> None:
    held = [meeting(date(2026, m, 5), M.THEME_DAY, M.COMMITTEE_MEETING) for m in range(1, 13)]
    held += [meeting(date(2026, 2, 1), M.GENERAL_MEETING, M.PARTY_LESSON)]
    held += [meeting(date(2026, 11, 1), M.LIFE_MEETING)]
    past = history(date(2026, 1, 1), date(2026, 12, 31), DEFAULTS, held, branch_created=OLD)
    assert len(past) == 12 * 2 + 4 * 2 + 3
    assert all(o.days_remaining == 0 for o in past)
    assert [o.period.end for o in past] == sorted(o.period.end for o in past)
    gaps = missed(past)
    assert [(o.type, o.period.key) for o in gaps] == [
        (M.GENERAL_MEETING, "2026-Q2"),
        (M.PARTY_LESSON, "2026-Q2"),
        (M.GENERAL_MEETING, "2026-Q3"),
        (M.PARTY_LESSON, "2026-Q3"),
        (M.GENERAL_MEETING, "2026-Q4"),
        (M.PARTY_LESSON, "2026-Q4"),
        (M.DEMOCRATIC_EVALUATION, "2026"),
        (M.HEART_TALK, "2026"),
    ]


def test_history_selects_periods_by_their_end() -> None:
    # The morning after a quarter ends: the month and the quarter that ended yesterday.
    yesterday = date(2026, 3, 31)
    ended = history(yesterday, yesterday, DEFAULTS, [], branch_created=OLD, party_groups=[7])
    assert {(o.type, o.period.key) for o in ended} == {
        (M.GENERAL_MEETING, "2026-Q1"),
        (M.COMMITTEE_MEETING, "2026-03"),
        (M.GROUP_MEETING, "2026-03"),
        (M.PARTY_LESSON, "2026-Q1"),
        (M.THEME_DAY, "2026-03"),
    }
    assert history(date(2026, 3, 30), date(2026, 3, 30), DEFAULTS, [], branch_created=OLD) == []
    assert history(date(2026, 4, 1), date(2026, 3, 31), DEFAULTS, [], branch_created=OLD) == []


def test_history_starts_with_the_branch() -> None:
    created = date(2026, 5, 20)
    past = history(date(2026, 1, 1), date(2026, 12, 31), DEFAULTS, [], branch_created=created)
    assert min(o.period.end for o in past) == date(2026, 5, 31)
    may = [o for o in past if o.period.key in {"2026-05", "2026-Q2"}]
    assert may
    assert all(o.exempt for o in may)
    assert [o.period.key for o in missed(past) if o.type is M.THEME_DAY] == [
        f"2026-{m:02d}" for m in range(6, 13)
    ]


def test_history_counts_per_group() -> None:
    held = [meeting(date(2026, 1, 9), M.GROUP_MEETING, group=2)]
    past = history(
        date(2026, 1, 1), date(2026, 2, 28), DEFAULTS, held, branch_created=OLD, party_groups=[1, 2]
    )
    groups = [(o.period.key, o.party_group_id, o.met) for o in past if o.type is M.GROUP_MEETING]
    assert groups == [
        ("2026-01", 1, False),
        ("2026-01", 2, True),
        ("2026-02", 1, False),
        ("2026-02", 2, False),
    ]


# ---------------------------------------------------------------- properties

meeting_types = st.frozensets(st.sampled_from(list(MeetingType)), min_size=1, max_size=3)
held_meetings = st.lists(
    st.builds(
        HeldMeeting,
        st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31)),
        meeting_types,
        st.one_of(st.none(), st.sampled_from([1, 2, 3])),
    ),
    max_size=40,
)
requirement_sets = st.builds(
    Requirements,
    st.dictionaries(
        st.sampled_from(list(MeetingType)),
        st.one_of(st.none(), st.builds(Requirement, kinds, st.integers(1, 3))),
        max_size=4,
    ),
    new_branch_share=st.fractions(0, 1),
)
as_of_days = st.dates(min_value=date(2025, 6, 1), max_value=date(2027, 12, 31))
creation_days = st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31))


def brute_count(held: Sequence[HeldMeeting], o: Obligation, until: date) -> int:
    return sum(
        1
        for h in held
        if o.type in h.types
        and h.party_group_id == o.party_group_id
        and o.period.start <= h.held_on <= min(o.period.end, until)
    )


@given(as_of_days, requirement_sets, held_meetings, creation_days)
def test_compliance_counts_and_judges_like_a_brute_force_count(
    as_of: date, reqs: Requirements, held: list[HeldMeeting], created: date
) -> None:
    obligations = compliance(as_of, reqs, held, branch_created=created, party_groups=[1, 2])
    expected_len = sum(2 if kind in PER_GROUP_TYPES else 1 for kind in reqs)
    assert len(obligations) == expected_len
    for o in obligations:
        requirement = reqs[o.type]
        assert o.period == period_of(requirement.period, as_of)
        assert o.required == requirement.count
        assert o.held == brute_count(held, o, as_of)
        assert o.met is (o.held >= o.required)
        assert o.unmet is (not o.met and not o.exempt)
        assert o.exempt is not owes(o.period, created, reqs.new_branch_share)
        assert o.days_remaining == (o.end - as_of).days >= 0


@given(as_of_days, held_meetings)
def test_days_remaining_falls_by_one_each_day_within_a_period(
    as_of: date, held: list[HeldMeeting]
) -> None:
    today = compliance(as_of, DEFAULTS, held, branch_created=OLD, party_groups=[1])
    tomorrow = compliance(
        as_of + timedelta(days=1), DEFAULTS, held, branch_created=OLD, party_groups=[1]
    )
    for a, b in zip(today, tomorrow, strict=True):
        assert (a.type, a.party_group_id) == (b.type, b.party_group_id)
        if a.period == b.period:
            assert b.days_remaining == a.days_remaining - 1
            assert b.held >= a.held  # a period's count only grows
        else:
            assert a.days_remaining == 0
            assert b.days_remaining == b.period.days - 1
            assert b.period == a.period.next()


@given(
    st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31)),
    st.integers(0, 400),
    st.integers(0, 400),
    held_meetings,
    creation_days,
)
def test_consecutive_history_windows_report_each_period_once(
    since: date, first: int, second: int, held: list[HeldMeeting], created: date
) -> None:
    middle = since + timedelta(days=first)
    until = middle + timedelta(days=second + 1)
    whole = history(since, until, DEFAULTS, held, branch_created=created, party_groups=[1])
    parts = history(since, middle, DEFAULTS, held, branch_created=created, party_groups=[1])
    parts += history(
        middle + timedelta(days=1), until, DEFAULTS, held, branch_created=created, party_groups=[1]
    )
    assert sorted(whole, key=repr) == sorted(parts, key=repr)
    assert all(since <= o.period.end <= until and o.period.end >= created for o in whole)


@given(as_of_days, requirement_sets, held_meetings, creation_days)
def test_history_agrees_with_compliance_on_the_last_day(
    as_of: date, reqs: Requirements, held: list[HeldMeeting], created: date
) -> None:
    assume(created <= as_of)
    current = compliance(as_of, reqs, held, branch_created=created, party_groups=[1, 2])
    ended = history(as_of, as_of, reqs, held, branch_created=created, party_groups=[1, 2])
    ending_today = [o for o in current if o.end == as_of]
    assert sorted(ended, key=repr) == sorted(ending_today, key=repr)
    assert missed(ended) == [o for o in ended if o.unmet]
