"""The 三会一课 compliance calendar: what each period requires, and whether it was met."""

from __future__ import annotations

import calendar
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from fractions import Fraction
from functools import lru_cache
from types import MappingProxyType
from typing import Final, NoReturn

from domain.validation import Invalid

# Rules (every number here is a default a committee may override):
# - Periods are calendar months, quarters, half-years and years; `end` is the last day.
# - A meeting counts in the period that contains the day it was held, for every type it
#   was recorded as (a theme day may also be the general meeting and the party lesson).
# - Party-group meetings are owed by each party group and count only for the group that
#   held them; branch-wide types count only meetings of the whole branch (no group), so a
#   party lesson given inside one group does not meet the branch's lesson obligation.
# - A branch created during a period owes that period only if at least
#   `new_branch_share` (default one half) of the period's days remain, counting the
#   creation day; otherwise the obligation is reported as exempt.
# - days_remaining is the number of days left in the period after as_of: 0 on its last day.
# - Meetings dated after as_of are ignored, so replaying a past date gives the same answer.


class MeetingType(StrEnum):
    """The organizational-life activities a branch must hold."""

    GENERAL_MEETING = "general_meeting"  # 支部党员大会
    COMMITTEE_MEETING = "committee_meeting"  # 支委会
    GROUP_MEETING = "group_meeting"  # 党小组会: owed by each party group
    PARTY_LESSON = "party_lesson"  # 党课
    THEME_DAY = "theme_day"  # 主题党日
    LIFE_MEETING = "life_meeting"  # 组织生活会
    DEMOCRATIC_EVALUATION = "democratic_evaluation"  # 民主评议党员
    HEART_TALK = "heart_talk"  # 谈心谈话


# Types owed once per party group rather than once per branch.
PER_GROUP_TYPES: Final = frozenset({MeetingType.GROUP_MEETING})

_TYPE_ORDER: Final = {kind: index for index, kind in enumerate(MeetingType)}


class PeriodKind(StrEnum):
    """How long a compliance period lasts."""

    MONTH = "month"
    QUARTER = "quarter"
    HALF_YEAR = "half_year"
    YEAR = "year"


_MONTHS: Final = {
    PeriodKind.MONTH: 1,
    PeriodKind.QUARTER: 3,
    PeriodKind.HALF_YEAR: 6,
    PeriodKind.YEAR: 12,
}


@dataclass(frozen=True, order=True, slots=True)
class Period:
    """A calendar month, quarter, half-year or year, from `start` to `end` inclusive."""

    start: date
    end: date
    kind: PeriodKind

    def previous(self) -> Period:
        """The period of the same kind just before this one."""
        return period_of(self.kind, self.start - timedelta(days=1))

    def next(self) -> Period:
        """The period of the same kind just after this one."""
        return period_of(self.kind, self.end + timedelta(days=1))

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    @property
    def days(self) -> int:
        """How many days the period has."""
        return (self.end - self.start).days + 1

    @property
    def key(self) -> str:
        """A stable name such as 2026-03, 2026-Q1, 2026-H1 or 2026 (for idempotency keys)."""
        year, month = self.start.year, self.start.month
        if self.kind is PeriodKind.MONTH:
            return f"{year:04d}-{month:02d}"
        if self.kind is PeriodKind.QUARTER:
            return f"{year:04d}-Q{(month - 1) // 3 + 1}"
        if self.kind is PeriodKind.HALF_YEAR:
            return f"{year:04d}-H{(month - 1) // 6 + 1}"
        return f"{year:04d}"


# Thousands of branches ask about the same few periods: remember them.
@lru_cache(maxsize=4096)
def period_of(kind: PeriodKind, day: date) -> Period:
    """The period of this kind that contains the day."""
    length = _MONTHS[kind]
    first_month = (day.month - 1) // length * length + 1
    last_month = first_month + length - 1
    # monthrange rather than "next start minus one day": no overflow in December 9999.
    last_day = calendar.monthrange(day.year, last_month)[1]
    return Period(date(day.year, first_month, 1), date(day.year, last_month, last_day), kind)


def periods_between(kind: PeriodKind, first: date, last: date) -> Iterator[Period]:
    """Every period of this kind that overlaps first..last, oldest first."""
    if last < first:
        return
    period = period_of(kind, first)
    while True:
        yield period
        if period.end >= last:
            return
        period = period.next()


@dataclass(frozen=True, slots=True)
class Requirement:
    """At least `count` activities of a type in every period of kind `period`."""

    period: PeriodKind
    count: int = 1

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError(f"a requirement needs a count of at least 1, not {self.count}")


DEFAULT_FREQUENCIES: Final[Mapping[MeetingType, Requirement]] = MappingProxyType(
    {
        MeetingType.GENERAL_MEETING: Requirement(PeriodKind.QUARTER),
        MeetingType.COMMITTEE_MEETING: Requirement(PeriodKind.MONTH),
        MeetingType.GROUP_MEETING: Requirement(PeriodKind.MONTH),
        MeetingType.PARTY_LESSON: Requirement(PeriodKind.QUARTER),
        MeetingType.THEME_DAY: Requirement(PeriodKind.MONTH),
        MeetingType.LIFE_MEETING: Requirement(PeriodKind.YEAR),
        MeetingType.DEMOCRATIC_EVALUATION: Requirement(PeriodKind.YEAR),
        MeetingType.HEART_TALK: Requirement(PeriodKind.YEAR),
    }
)
# A branch created mid-period owes it only if at least this share of the period remains.
DEFAULT_NEW_BRANCH_SHARE: Final = Fraction(1, 2)


class Requirements(Mapping[MeetingType, Requirement]):
    """Minimum frequencies by meeting type: the defaults with overrides applied; immutable."""

    __slots__ = ("_items", "_new_branch_share")

    _items: Mapping[MeetingType, Requirement]
    _new_branch_share: Fraction

    def __init__(
        self,
        overrides: Mapping[MeetingType, Requirement | None] | None = None,
        *,
        new_branch_share: Fraction = DEFAULT_NEW_BRANCH_SHARE,
    ) -> None:
        """Start from DEFAULT_FREQUENCIES; an override of None drops that obligation."""
        self._set(_merge(DEFAULT_FREQUENCIES, overrides or {}), new_branch_share)

    def _set(self, items: dict[MeetingType, Requirement], share: Fraction) -> None:
        if not 0 <= share <= 1:
            raise ValueError(f"new_branch_share must be between 0 and 1, not {share}")
        # Declaration order, so every report lists the types the same way.
        ordered = dict(sorted(items.items(), key=lambda item: _TYPE_ORDER[item[0]]))
        object.__setattr__(self, "_items", MappingProxyType(ordered))
        object.__setattr__(self, "_new_branch_share", share)

    def overriding(
        self,
        overrides: Mapping[MeetingType, Requirement | None],
        *,
        new_branch_share: Fraction | None = None,
    ) -> Requirements:
        """A copy with further overrides layered on top (e.g. a committee over the city)."""
        copy = object.__new__(Requirements)
        share = self._new_branch_share if new_branch_share is None else new_branch_share
        copy._set(_merge(self._items, overrides), share)
        return copy

    @property
    def new_branch_share(self) -> Fraction:
        """The share of a period that must remain for a newly created branch to owe it."""
        return self._new_branch_share

    def __getitem__(self, key: MeetingType) -> Requirement:
        return self._items[key]

    def __iter__(self) -> Iterator[MeetingType]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Requirements):
            return NotImplemented
        return dict(self._items) == dict(other._items) and (
            self._new_branch_share == other._new_branch_share
        )

    def __hash__(self) -> int:
        return hash((frozenset(self._items.items()), self._new_branch_share))

    def __repr__(self) -> str:
        items = ", ".join(f"{kind}={format_requirement(req)}" for kind, req in self.items())
        return f"Requirements({items}; new_branch_share={self._new_branch_share})"

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError("Requirements is immutable; use overriding()")


def _merge(
    base: Mapping[MeetingType, Requirement], overrides: Mapping[MeetingType, Requirement | None]
) -> dict[MeetingType, Requirement]:
    merged = dict(base)
    for kind, requirement in overrides.items():
        if requirement is None:
            merged.pop(MeetingType(kind), None)
        else:
            merged[MeetingType(kind)] = requirement
    return merged


_REQUIREMENT_RE = re.compile(r"^(?:(\d{1,3})\s*/\s*)?([a-z_]+)$", re.ASCII)
_OFF_WORDS = frozenset({"off", "none", "never"})
_PERIOD_NAMES = frozenset(kind.value for kind in PeriodKind)


def parse_requirement(text: str) -> Requirement | Invalid | None:
    """A requirement as written in configuration: "month", "2/quarter", or "off" (None)."""
    value = text.strip().lower()
    if value in _OFF_WORDS:
        return None
    m = _REQUIREMENT_RE.match(value)
    if not m or m[2] not in _PERIOD_NAMES:
        return Invalid("requirement.invalid")
    count = int(m[1]) if m[1] else 1
    if count < 1:
        return Invalid("requirement.invalid")
    return Requirement(PeriodKind(m[2]), count)


def format_requirement(requirement: Requirement | None) -> str:
    """The configuration spelling parse_requirement reads back."""
    if requirement is None:
        return "off"
    if requirement.count == 1:
        return str(requirement.period)
    return f"{requirement.count}/{requirement.period}"


@dataclass(frozen=True, slots=True)
class HeldMeeting:
    """A meeting that took place, with every obligation type it counts toward."""

    held_on: date
    types: frozenset[MeetingType]
    party_group_id: int | None = None  # None: the whole branch or its committee


@dataclass(frozen=True, slots=True)
class Obligation:
    """One required activity in one period: how many were needed, held and days left."""

    type: MeetingType
    party_group_id: int | None  # set for per-group types only
    period: Period
    held: int
    required: int
    days_remaining: int  # days left in the period after as_of; 0 for a finished period
    exempt: bool  # the branch was created too late in the period to owe it

    @property
    def start(self) -> date:
        """The first day of the period."""
        return self.period.start

    @property
    def end(self) -> date:
        """The last day of the period."""
        return self.period.end

    @property
    def met(self) -> bool:
        """Enough meetings of this type were held in the period."""
        return self.held >= self.required

    @property
    def unmet(self) -> bool:
        """Still owed: not met and not exempt (for a finished period: missed)."""
        return not self.met and not self.exempt


def owes(period: Period, branch_created: date, share: Fraction = DEFAULT_NEW_BRANCH_SHARE) -> bool:
    """Whether a branch created on this day owes the period (enough of it remained)."""
    if branch_created <= period.start:
        return True
    remaining = (period.end - branch_created).days + 1
    # Integer cross-multiplication: Fraction arithmetic is slow across thousands of branches.
    return remaining > 0 and remaining * share.denominator >= share.numerator * period.days


class _Index:
    """Meeting days bucketed by (type, party group) and sorted, for counting by bisection."""

    def __init__(self, held: Iterable[HeldMeeting]) -> None:
        buckets: dict[tuple[MeetingType, int | None], list[date]] = {}
        for meeting in held:
            for kind in meeting.types:
                if (kind in PER_GROUP_TYPES) != (meeting.party_group_id is not None):
                    continue
                buckets.setdefault((kind, meeting.party_group_id), []).append(meeting.held_on)
        for days in buckets.values():
            days.sort()
        self._buckets = buckets

    def count(self, kind: MeetingType, group: int | None, first: date, last: date) -> int:
        """Meetings of this type (and group) held from first to last inclusive."""
        days = self._buckets.get((kind, group))
        if not days or last < first:
            return 0
        return bisect_right(days, last) - bisect_left(days, first)


def _groups_for(kind: MeetingType, party_groups: Sequence[int]) -> Sequence[int | None]:
    if kind in PER_GROUP_TYPES:
        return list(dict.fromkeys(party_groups))  # dedupe, keep the caller's order
    return [None]


def _obligations(
    kind: MeetingType,
    requirement: Requirement,
    period: Period,
    index: _Index,
    *,
    counted_until: date,
    days_remaining: int,
    exempt: bool,
    party_groups: Sequence[int],
) -> Iterator[Obligation]:
    for group in _groups_for(kind, party_groups):
        yield Obligation(
            type=kind,
            party_group_id=group,
            period=period,
            held=index.count(kind, group, period.start, min(period.end, counted_until)),
            required=requirement.count,
            days_remaining=days_remaining,
            exempt=exempt,
        )


def compliance(
    as_of: date,
    requirements: Requirements,
    held: Iterable[HeldMeeting],
    *,
    branch_created: date,
    party_groups: Sequence[int] = (),
) -> list[Obligation]:
    """Each required activity in the current period containing as_of, met or not."""
    index = _Index(held)
    result: list[Obligation] = []
    for kind, requirement in requirements.items():
        period = period_of(requirement.period, as_of)
        result.extend(
            _obligations(
                kind,
                requirement,
                period,
                index,
                counted_until=as_of,
                days_remaining=(period.end - as_of).days,
                exempt=not owes(period, branch_created, requirements.new_branch_share),
                party_groups=party_groups,
            )
        )
    return result


def history(
    since: date,
    until: date,
    requirements: Requirements,
    held: Iterable[HeldMeeting],
    *,
    branch_created: date,
    party_groups: Sequence[int] = (),
) -> list[Obligation]:
    """Obligations of every period that ended from since to until inclusive, oldest first."""
    # Selecting periods by their end day lets consecutive windows (e.g. "yesterday", run
    # each morning) report every finished period exactly once.
    index = _Index(held)
    result: list[Obligation] = []
    for kind, requirement in requirements.items():
        for period in periods_between(requirement.period, since, until):
            if not since <= period.end <= until or period.end < branch_created:
                continue
            result.extend(
                _obligations(
                    kind,
                    requirement,
                    period,
                    index,
                    counted_until=period.end,
                    days_remaining=0,
                    exempt=not owes(period, branch_created, requirements.new_branch_share),
                    party_groups=party_groups,
                )
            )
    result.sort(key=lambda o: (o.period.end, _TYPE_ORDER[o.type]))
    return result


def missed(obligations: Iterable[Obligation]) -> list[Obligation]:
    """The obligations owed and not met; applied to history(), the missed periods."""
    return [o for o in obligations if o.unmet]


def due_soon(obligations: Iterable[Obligation], within_days: int = 7) -> list[Obligation]:
    """Unmet obligations whose period ends within this many days after as_of."""
    return [o for o in obligations if o.unmet and o.days_remaining <= within_days]
