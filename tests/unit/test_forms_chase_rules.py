"""Form cycles and reminders: when the next cycle opens, its deadline, when reminders fall,
and when a 催报 by hand is too soon."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import ConfigError, parse_config
from domain.forms import Repeat, cycle_for
from domain.forms_chase import (
    CHASE_COOLDOWN,
    Reminder,
    chase_overlaps,
    chase_too_soon,
    cycle_from_key,
    cycles_opening,
    deadline_of,
    is_last,
    parse_reminder_key,
    reminder_key,
    reminders,
    superseded,
)

SH = ZoneInfo("Asia/Shanghai")


def test_a_deadline_is_the_end_of_the_due_day_local_time() -> None:
    deadline = deadline_of(date(2026, 12, 5), SH)
    assert deadline.astimezone(UTC) == datetime(2026, 12, 5, 15, 59, 59, tzinfo=UTC)


def test_stored_keys_give_back_their_cycles() -> None:
    for repeat, day in ((Repeat.MONTHLY, date(2026, 12, 3)), (Repeat.QUARTERLY, date(2026, 10, 9)),
                        (Repeat.YEARLY, date(2027, 1, 15))):  # fmt: skip
        cycle = cycle_for(repeat, 5, day)
        assert cycle_from_key(repeat, 5, cycle.key) == cycle
    assert cycle_from_key(Repeat.MONTHLY, 5, "once") is None
    assert cycle_from_key(Repeat.MONTHLY, 5, "2026-13") is None
    assert cycle_from_key(Repeat.QUARTERLY, 5, "2026-11") is None


def test_cycles_open_on_their_first_day_at_the_hour_and_missed_ones_are_passed_over() -> None:
    latest = cycle_for(Repeat.MONTHLY, 5, date(2026, 12, 3))  # "2026-11"
    jan = datetime(2027, 1, 1, 9, tzinfo=SH)
    found = cycles_opening(Repeat.MONTHLY, 5, latest, SH, 9, jan - timedelta(hours=1), jan)
    assert [(at, c.key, c.due) for at, c in found] == [(jan, "2026-12", date(2027, 1, 5))]
    # Nothing before its moment.
    assert cycles_opening(Repeat.MONTHLY, 5, latest, SH, 9, jan - timedelta(hours=2),
                          jan - timedelta(minutes=1)) == []  # fmt: skip
    # After months of downtime, the next cycles are still found.
    later = cycles_opening(Repeat.MONTHLY, 5, latest, SH, 9, datetime(2027, 3, 1, tzinfo=SH),
                           datetime(2027, 4, 2, tzinfo=SH))  # fmt: skip
    assert [c.key for _, c in later] == ["2027-02", "2027-03"]


def test_reminders_fall_days_before_the_due_day_and_after_it_for_branch_forms() -> None:
    deadline = deadline_of(date(2026, 12, 5), SH)
    opened = datetime(2026, 12, 1, 9, tzinfo=SH)
    planned = reminders(deadline, opened, [1, 3], SH, 9, after=True)
    assert planned == [
        Reminder(3, datetime(2026, 12, 2, 9, tzinfo=SH)),
        Reminder(1, datetime(2026, 12, 4, 9, tzinfo=SH)),
        Reminder(0, datetime(2026, 12, 6, 9, tzinfo=SH)),
    ]
    assert planned[2].after_deadline
    # A cycle opened after a reminder's moment does not get it.
    late = reminders(deadline, datetime(2026, 12, 3, tzinfo=SH), [3, 1], SH, 9, after=False)
    assert [r.days for r in late] == [1]


def test_keys_round_trip_and_the_last_and_superseded_rules() -> None:
    assert reminder_key(42, 3) == "42@3d"
    assert reminder_key(42, 0) == "42@after"
    assert parse_reminder_key("42@3d") == (42, 3)
    assert parse_reminder_key("42@after") == (42, 0)
    assert parse_reminder_key("42@x") is None
    assert is_last(1, (3, 1))
    assert not is_last(3, (3, 1))
    assert not is_last(0, (3, 1))
    planned = [Reminder(3, datetime(2026, 12, 2, tzinfo=UTC)),
               Reminder(1, datetime(2026, 12, 4, tzinfo=UTC))]  # fmt: skip
    assert not superseded(3, planned, datetime(2026, 12, 3, tzinfo=UTC))
    assert superseded(3, planned, datetime(2026, 12, 4, 1, tzinfo=UTC))
    assert not superseded(1, planned, datetime(2026, 12, 4, 1, tzinfo=UTC))


def test_a_chase_is_too_soon_only_when_it_reaches_people_chased_minutes_ago() -> None:
    now = datetime(2026, 12, 3, 2, tzinfo=UTC)
    recent = now - timedelta(minutes=3)
    assert chase_overlaps((), (5,))
    assert chase_overlaps((5,), ())
    assert chase_overlaps((5, 6), (6,))
    assert not chase_overlaps((5,), (6,))
    assert chase_too_soon([(recent, ())], (), now)
    assert chase_too_soon([(recent, ())], (7,), now)  # everyone was chased, branch 7 too
    assert not chase_too_soon([(recent, (5,))], (7,), now)  # another branch's admin
    assert not chase_too_soon([(now - CHASE_COOLDOWN, ())], (), now)


def test_remind_days_are_read_from_the_config_and_checked() -> None:
    def parse(forms: dict[str, object]) -> tuple[int, ...]:
        raw = {"telegram": {"token": "1:x"}, "forms": forms}
        return parse_config(raw, config_dir=Path("."), env={}).forms.remind_days

    assert parse({}) == (3, 1)
    assert parse({"remind_days": [1, 5]}) == (5, 1)
    for bad in ([0], [1, 1], ["3"], [29], 3):
        with pytest.raises(ConfigError) as problem:
            parse({"remind_days": bad})
        assert problem.value.key == "forms.remind_days"
    with pytest.raises(ConfigError) as unknown:
        parse({"remind_hours": [3]})
    assert unknown.value.key == "forms.remind_hours"
