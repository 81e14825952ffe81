"""Forms: when a repeating form's next cycle opens, when its deadline falls, when those who
have not answered are reminded, and when a 催报 by hand is too soon after the last one.

Times are local to the sending organization (its time zone passed in); everything scheduled
happens at one local hour (the digest hour) of a day, never in the night.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from domain.forms import Cycle, Repeat, cycle_for, next_cycle

# Reminders before a cycle's due day, in days (configurable: [forms] remind_days).
REMIND_DAYS = (3, 1)
REMIND_DAYS_MAX = 28
# A 催报 by hand is refused this soon after another that reached the same people.
CHASE_COOLDOWN = timedelta(minutes=10)
# The end of the due day: answers up to this moment are on time.
DUE_TIME = time(23, 59, 59)
# At most this many cycles are looked ahead of a form's latest one (a form forgotten for
# years must not make a tick loop for long).
LOOKAHEAD = 60


def deadline_of(due: date, zone: tzinfo) -> datetime:
    """The deadline of a cycle due on `due`: the end of that day, local time."""
    return datetime.combine(due, DUE_TIME, zone)


def at_hour(day: date, hour: int, zone: tzinfo) -> datetime:
    """The local `hour` o'clock of `day`."""
    return datetime.combine(day, time(hour), zone)


_MONTHLY = re.compile(r"(\d{4})-(\d{2})")
_QUARTERLY = re.compile(r"(\d{4})-Q([1-4])")
_YEARLY = re.compile(r"\d{4}")


def cycle_from_key(repeat: Repeat, due_day: int, key: str) -> Cycle | None:
    """The cycle a stored key names ("2026-11", "2026-Q3", "2026"); None for another form of
    key (a one-off form's "once")."""
    if repeat is Repeat.MONTHLY and (m := _MONTHLY.fullmatch(key)) and 1 <= int(m[2]) <= 12:
        year, month = int(m[1]), int(m[2])
    elif repeat is Repeat.QUARTERLY and (m := _QUARTERLY.fullmatch(key)):
        year, month = int(m[1]), 3 * int(m[2])
    elif repeat is Repeat.YEARLY and _YEARLY.fullmatch(key):
        year, month = int(key), 12
    else:
        return None
    if not 1 <= year < 9999:
        return None
    period_end = date(year, month, calendar.monthrange(year, month)[1])
    return cycle_for(repeat, due_day, period_end + timedelta(days=1))


def cycles_opening(
    repeat: Repeat,
    due_day: int,
    latest: Cycle,
    zone: tzinfo,
    hour: int,
    start: datetime,
    end: datetime,
) -> list[tuple[datetime, Cycle]]:
    """(moment, cycle) of each cycle after `latest` issued in (start, end]: at `hour` local
    time on its opening day. Cycles that opened before `start` are passed over (the runner
    records them as missed), so the next ones are still found."""
    found: list[tuple[datetime, Cycle]] = []
    cycle = latest
    for _ in range(LOOKAHEAD):
        cycle = next_cycle(repeat, due_day, cycle)
        moment = at_hour(cycle.opens, hour, zone)
        if moment > end:
            break
        if moment > start:
            found.append((moment, cycle))
    return found


@dataclass(frozen=True)
class Reminder:
    """One reminder of a cycle: `days` before its due day (0: the day after the deadline,
    the overseers' last word on branches behind), at `at`."""

    days: int
    at: datetime

    @property
    def after_deadline(self) -> bool:
        return self.days == 0


def reminders(
    deadline: datetime, opened: datetime, days: Iterable[int], zone: tzinfo, hour: int,
    *, after: bool,
) -> list[Reminder]:  # fmt: skip
    """The reminders of a cycle: at `hour` local time on each day `days` before the due day
    (the local date of the deadline) that falls after the cycle opened and before the
    deadline; with `after`, one more on the day after the deadline."""
    due = deadline.astimezone(zone).date()
    found = []
    for n in sorted(set(days), reverse=True):
        at = at_hour(due - timedelta(days=n), hour, zone)
        if opened < at < deadline:
            found.append(Reminder(n, at))
    if after:
        found.append(Reminder(0, at_hour(due + timedelta(days=1), hour, zone)))
    return found


def reminder_key(cycle_id: int, days: int) -> str:
    """The occurrence key of one reminder: "42@3d", "42@after"."""
    return f"{cycle_id}@{days}d" if days else f"{cycle_id}@after"


def parse_reminder_key(key: str) -> tuple[int, int] | None:
    """(cycle id, days) of a reminder key; None when it is not one."""
    m = re.fullmatch(r"(\d+)@(?:(\d+)d|after)", key)
    if m is None:
        return None
    return int(m[1]), int(m[2]) if m[2] else 0


def superseded(days: int, planned: Sequence[Reminder], as_of: datetime) -> bool:
    """Whether a nearer reminder of the same cycle is already due at `as_of` (both fell due
    while the bot was down): one reminder is enough."""
    return days > 0 and any(0 < r.days < days and r.at <= as_of for r in planned)


def is_last(days: int, remind_days: Sequence[int]) -> bool:
    """Whether this is the last reminder before the deadline (the overseers hear of the
    branches behind with it)."""
    return days > 0 and days == min(remind_days)


def chase_overlaps(previous: Sequence[int], wanted: Sequence[int]) -> bool:
    """Whether a 催报 of the branches `wanted` reaches people an earlier one reached (an empty
    scope is the whole form: it overlaps everything)."""
    return not previous or not wanted or bool(set(previous) & set(wanted))


def chase_too_soon(earlier: Iterable[tuple[datetime, Sequence[int]]], wanted: Sequence[int],
                   now: datetime) -> bool:  # fmt: skip
    """Whether a 催报 now would remind people already chased within CHASE_COOLDOWN."""
    return any(now - at < CHASE_COOLDOWN and chase_overlaps(scope, wanted) for at, scope in earlier)
