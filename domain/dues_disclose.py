"""党费收缴情况公示 (the dues disclosure) as rules: periods and their months, what each member's
line says, when a branch's disclosure falls due and when it is overdue, and the typed draft
(choose a period → preview → 确认发布).

A member's line says how far they have paid and a status — 已交清, 预交至 N 月, 欠交 N 个月,
免交 — and no amount unless the branch switched amounts on (an amount reveals an income
bracket). Standing is worked out as of the period's last month.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import ClassVar

from domain.dues import Month, Period, Standing, add_months, due_for, month_of
from domain.wizard import Draft, Event, Refusal, Steps

# A disclosure is overdue when the period it covers ended more than this many days ago and it
# is still unpublished: half a month is the time a keeper needs to collect late payments,
# remit and write the post, and it keeps a quarter's overdue flag visible in the committee's
# table for the following month or two.
OVERDUE_AFTER_DAYS = 15
PERIOD_MONTHS = (3, 6, 12)  # quarterly (the default), half-yearly, yearly


class PeriodKind(StrEnum):
    """How long a disclosure period is."""

    QUARTER = "Q"
    HALF = "H"
    YEAR = "Y"


_LENGTH = {PeriodKind.QUARTER: 3, PeriodKind.HALF: 6, PeriodKind.YEAR: 12}
_KEY = re.compile(r"([0-9]{4})(?:-([QH])([1-4]))?", re.ASCII)


@dataclasses.dataclass(frozen=True, order=True)
class DisclosurePeriod:
    """A quarter ("2026-Q3"), a half-year ("2026-H2") or a year ("2026")."""

    year: int
    kind: PeriodKind
    index: int = 1  # the quarter (1–4) or half (1–2); 1 for a year

    @property
    def key(self) -> str:
        """How it is stored: "2026-Q3", "2026-H2", "2026"."""
        if self.kind is PeriodKind.YEAR:
            return str(self.year)
        return f"{self.year}-{self.kind.value}{self.index}"

    @property
    def length(self) -> int:
        """Its number of months."""
        return _LENGTH[self.kind]

    @property
    def first_month(self) -> Month:
        """Its first month (yyyymm)."""
        return self.year * 100 + (self.index - 1) * self.length + 1

    @property
    def last_month(self) -> Month:
        """Its last month (yyyymm)."""
        return add_months(self.first_month, self.length - 1)

    @property
    def months(self) -> tuple[Month, ...]:
        """Every month it covers, in order."""
        return tuple(add_months(self.first_month, i) for i in range(self.length))

    @property
    def first_day(self) -> date:
        """The day it starts."""
        return date(self.year, self.first_month % 100, 1)

    @property
    def end(self) -> date:
        """Its last day."""
        after = add_months(self.last_month, 1)
        return date(after // 100, after % 100, 1) - timedelta(days=1)


def parse_period(key: str) -> DisclosurePeriod | None:
    """A stored or pressed period key; None for anything else."""
    found = _KEY.fullmatch(key or "")
    if found is None:
        return None
    year, kind, index = int(found[1]), found[2], found[3]
    if not 2000 <= year <= 2100:
        return None
    if kind is None:
        return DisclosurePeriod(year, PeriodKind.YEAR)
    if kind == "H" and int(index) > 2:
        return None
    return DisclosurePeriod(year, PeriodKind(kind), int(index))


def kind_for(months: int) -> PeriodKind:
    """The period kind of a branch's disclosure_months (3, 6 or 12; anything else: quarterly)."""
    return {6: PeriodKind.HALF, 12: PeriodKind.YEAR}.get(months, PeriodKind.QUARTER)


def period_of(kind: PeriodKind, month: Month) -> DisclosurePeriod:
    """The period of this kind that contains a month."""
    year, index = month // 100, (month % 100 - 1) // _LENGTH[kind] + 1
    return DisclosurePeriod(year, kind, index)


def last_ended(kind: PeriodKind, today: date) -> DisclosurePeriod:
    """The latest period of this kind that ended before today."""
    return period_of(kind, add_months(period_of(kind, month_of(today)).first_month, -1))


def offered(months: int, today: date) -> list[DisclosurePeriod]:
    """The periods a keeper is offered: the branch's own kind first (the last two that ended),
    then the last ended half-year and year (when not the same period)."""
    own = kind_for(months)
    first = last_ended(own, today)
    periods = [first, last_ended(own, first.first_day)]
    for kind in (PeriodKind.QUARTER, PeriodKind.HALF, PeriodKind.YEAR):
        if kind is not own:
            candidate = last_ended(kind, today)
            if candidate not in periods:
                periods.append(candidate)
    return periods


def reminder_period(months: int, day: date) -> DisclosurePeriod | None:
    """The period whose disclosure falls due on this day (the first day after it ended)."""
    kind = kind_for(months)
    ended = last_ended(kind, day)
    return ended if ended.end + timedelta(days=1) == day else None


def overdue_period(months: int, as_of: date) -> DisclosurePeriod:
    """The latest period that should have been published by as_of (ended more than
    OVERDUE_AFTER_DAYS before it): the one a missing disclosure is overdue for."""
    return last_ended(kind_for(months), as_of - timedelta(days=OVERDUE_AFTER_DAYS))


def is_reminder_day(day: date) -> bool:
    """Whether any period kind ends the day before (the 1st of January, April, July, October)."""
    return day.day == 1 and day.month in (1, 4, 7, 10)


# ---- each member's line ----


class State(StrEnum):
    """A member's status in a disclosure."""

    CLEAR = "clear"  # ✓ 已交清
    ADVANCE = "advance"  # 预交至 N 月
    ARREARS = "arrears"  # 欠交 N 个月
    EXEMPT = "exempt"  # 免交


@dataclasses.dataclass(frozen=True)
class MemberStatus:
    """Where a member stands at the period's end, as the disclosure says it."""

    state: State
    paid_through: Month | None  # None: nothing paid yet (or exempt)
    owed_months: int = 0  # ARREARS: unpaid months up to the period's end
    advance_until: Month | None = None  # ADVANCE: the last month paid ahead


def member_status(standing: Standing, periods: Sequence[Period]) -> MemberStatus:
    """The status of a member as of the period's last month (standing.as_of)."""
    if standing.arrears:
        return MemberStatus(State.ARREARS, standing.paid_through, len(standing.arrears))
    if due_for(periods, standing.as_of) == 0:
        return MemberStatus(State.EXEMPT, standing.paid_through)
    if standing.paid_through is not None and standing.paid_through > standing.as_of:
        return MemberStatus(
            State.ADVANCE, standing.paid_through, advance_until=standing.paid_through
        )
    return MemberStatus(State.CLEAR, standing.paid_through)


@dataclasses.dataclass(frozen=True)
class Line:
    """One member in a disclosure; paid_fen only when the branch shows amounts."""

    member_id: int
    name: str
    status: MemberStatus
    paid_fen: int | None = None


def ordered(lines: Iterable[Line]) -> list[Line]:
    """Lines in the order they are published: by name (then roster id, for namesakes)."""
    return sorted(lines, key=lambda line: (line.name, line.member_id))


def with_amounts(lines: Iterable[Line], paid: Mapping[int, int], show: bool) -> list[Line]:
    """Lines with each member's paid amount for the period when shown, else without."""
    return [
        dataclasses.replace(line, paid_fen=paid.get(line.member_id, 0) if show else None)
        for line in lines
    ]


# ---- the draft: choose a period → preview → 确认发布 ----


@dataclasses.dataclass(frozen=True)
class DisclosureDraft(Draft):
    """A disclosure being prepared: the branch, the period and the amounts mode previewed."""

    FLOW: ClassVar[str] = "dues_disclose"
    VERSION: ClassVar[int] = 1

    org_id: int = 0
    period_key: str = ""
    show_amounts: bool = False  # the mode in force when the preview was shown


def start(org_id: int) -> DisclosureDraft:
    """Choosing a period for a branch."""
    return DisclosureDraft(step="period", org_id=org_id)


def take_period(draft: DisclosureDraft, event: Event, now: datetime) -> DisclosureDraft | Refusal:
    """A period chosen (text: its key; value: 1 when the branch shows amounts): it must have
    ended (`now` is the branch's local time)."""
    period = parse_period(event.text or "")
    if period is None:
        return Refusal("stale")
    if period.end >= now.date():
        return Refusal("dues.disclose.not_ended")
    return dataclasses.replace(
        draft, step="pre", period_key=period.key, show_amounts=bool(event.value)
    )


STEPS: Steps[DisclosureDraft] = {
    "period": {"pick": take_period},
    "pre": {"pick": take_period},
}
