"""Attendance registers: who was expected at a past meeting, each member's mark, absence
streaks, and the periods a ledger (台账) covers."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Final

from domain.compliance import Period, PeriodKind, period_of
from domain.meetings import Audience, SignedBy
from domain.orgs import Stage
from domain.validation import Invalid, parse_date

# Who was expected at a meeting that took place (the register's 应到):
# - The meeting's audience as it stood then: the whole branch, its committee (an office of
#   the branch committee held on the meeting day) or one party group (the member's group
#   as recorded now: group moves are not kept as history).
# - Only people already on the roster when the meeting was published (members who join
#   later are not expected) and not yet off it on the meeting day (left, transferred or
#   deleted on or before that day).
# - Anyone who answered the notice or signed in was in the audience at the time, and is
#   expected whatever the rules above say.
#
# Absence streaks (flagged to the secretary, DOMAIN: "absent 6 months = treated as left",
# branches warn after 2–3):
# - Only complete calendar months count: from the month before `today` back, at most
#   `lookback_months` months (12 by default, so a streak is never reported above 12).
# - A month counts against a member when at least one meeting (closed, not cancelled) in
#   it expected them and they attended none of them. Leave (请假) is not attending; the
#   leave requests in the streak are reported beside it.
# - A month in which no meeting expected the member is neutral: it neither counts nor
#   breaks the streak. A month in which they attended any meeting ends the streak.
# - The streak is the number of counting months after the latest month they attended
#   (or in the whole window when they attended none); a member is flagged when it reaches
#   `months` (the [schedule] absence_months setting, 2 by default).

LOOKBACK_MONTHS: Final = 12
# A typed ledger period may span at most this many days (a year, leap years included).
RANGE_MAX_DAYS: Final = 366


class Mark(StrEnum):
    """One member at one meeting, as the register shows it."""

    PRESENT = "present"  # signed in themselves (✓)
    PROXY = "proxy"  # 代签: signed in by the recorder during the meeting
    LATE = "late"  # 补签: signed in afterwards
    LEAVE = "leave"  # 请假 and did not come
    ABSENT = "absent"  # 缺席
    NOT_EXPECTED = "not_expected"  # — : not in the audience (joined later, other group …)


ATTENDED: Final = frozenset({Mark.PRESENT, Mark.PROXY, Mark.LATE})
_SIGNED_MARKS: Final = {
    SignedBy.SELF: Mark.PRESENT,
    SignedBy.PROXY: Mark.PROXY,
    SignedBy.LATE: Mark.LATE,
}


def mark_of(*, expected: bool, signed: SignedBy | None, on_leave: bool) -> Mark:
    """The register's mark: a sign-in wins over a leave request; neither means absent."""
    if signed is not None:
        return _SIGNED_MARKS[signed]
    if not expected:
        return Mark.NOT_EXPECTED
    return Mark.LEAVE if on_leave else Mark.ABSENT


def expected_at(
    *,
    audience: Audience,
    meeting_group: int | None,
    published_at: datetime,
    held_on: date,
    joined_at: datetime,
    left_on: date | None,
    member_group: int | None,
    in_committee: bool,
    responded: bool,
) -> bool:
    """Whether a roster entry was in a past meeting's audience (see the rules above)."""
    if responded:
        return True
    if joined_at > published_at or (left_on is not None and left_on <= held_on):
        return False
    if audience is Audience.PARTY_GROUP:
        return member_group is not None and member_group == meeting_group
    if audience is Audience.COMMITTEE:
        return in_committee
    return True


def votes_on(stage: Stage, full_on: date | None, day: date) -> bool:
    """Whether a member was a full member (with a vote) on that day."""
    return stage is Stage.FULL and (full_on is None or full_on <= day)


# ---- absence streaks ----


@dataclass(frozen=True)
class Expectation:
    """A closed meeting that expected the member: did they attend, did they ask for leave."""

    held_on: date
    attended: bool
    on_leave: bool = False


@dataclass(frozen=True)
class Streak:
    """The latest run of counting months without attending."""

    months: int
    leaves: int  # leave requests at meetings of those months
    last_attended: date | None  # the latest meeting attended before the current month


def month_start(day: date) -> date:
    """The first day of the day's month."""
    return day.replace(day=1)


def add_months(first: date, months: int) -> date:
    """The first day of the month `months` after (or before, if negative) first's month."""
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def absence_streak(
    expectations: Iterable[Expectation], today: date, *, lookback_months: int = LOOKBACK_MONTHS
) -> Streak:
    """The member's current absence streak as of today (the rules above)."""
    current = month_start(today)
    window = add_months(current, -lookback_months)
    months: dict[date, list[Expectation]] = {}
    last_attended: date | None = None
    for item in expectations:
        if item.held_on >= current:
            continue  # the current month is not complete yet
        if item.attended and (last_attended is None or item.held_on > last_attended):
            last_attended = item.held_on
        if item.held_on >= window:
            months.setdefault(month_start(item.held_on), []).append(item)
    count = leaves = 0
    for month in sorted(months, reverse=True):
        items = months[month]
        if any(i.attended for i in items):
            break
        count += 1
        leaves += sum(1 for i in items if i.on_leave)
    return Streak(count, leaves, last_attended)


def flagged(streak: Streak, months: int) -> bool:
    """Whether the streak is long enough to tell the secretary (months ≥ 1)."""
    return streak.months >= max(1, months)


# ---- the ledger's period ----


class NamedPeriod(StrEnum):
    """The period buttons of /ledger (short codes: they travel in callback data)."""

    THIS_MONTH = "tm"
    LAST_MONTH = "lm"
    THIS_QUARTER = "tq"
    LAST_QUARTER = "lq"
    THIS_YEAR = "ty"
    LAST_YEAR = "ly"


_NAMED: Final = {
    NamedPeriod.THIS_MONTH: (PeriodKind.MONTH, False),
    NamedPeriod.LAST_MONTH: (PeriodKind.MONTH, True),
    NamedPeriod.THIS_QUARTER: (PeriodKind.QUARTER, False),
    NamedPeriod.LAST_QUARTER: (PeriodKind.QUARTER, True),
    NamedPeriod.THIS_YEAR: (PeriodKind.YEAR, False),
    NamedPeriod.LAST_YEAR: (PeriodKind.YEAR, True),
}


def named_period(which: NamedPeriod, today: date) -> Period:
    """本月 / 上月 / 本季度 / 上季度 / 本年 / 上年 as of today."""
    kind, previous = _NAMED[which]
    period = period_of(kind, today)
    return period.previous() if previous else period


_DATE_TOKEN = re.compile(r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?|\d{8}")


def parse_range(text: str) -> tuple[date, date] | Invalid:
    """Two dates as typed, e.g. "2026-01-01 2026-06-30" or "2026年1月1日至2026年6月30日"."""
    tokens = _DATE_TOKEN.findall(unicodedata.normalize("NFKC", text))
    if len(tokens) != 2:
        return Invalid("range.invalid")
    first, last = (parse_date(re.sub(r"\s+", "", t)) for t in tokens)
    if isinstance(first, Invalid) or isinstance(last, Invalid):
        return Invalid("range.invalid")
    if last < first:
        return Invalid("range.order")
    if (last - first) >= timedelta(days=RANGE_MAX_DAYS):
        return Invalid("range.too_long")
    return first, last
