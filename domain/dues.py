"""Party dues (党费): the monthly standard, months, and where a member stands.

Money is integer fen (分), never floats. The standard is a percentage of the WHOLE base (not
marginal), bounds inclusive, rounded half up to the fen: 5,400 yuan → 1.5 % → 81.00 yuan.
The brackets and fixed amounts are one table (RateTable) a committee may adjust for its
locality. zhibu records what members paid through the branch's channel; it never decides on
its own that a month is paid.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from itertools import pairwise

# ---- categories and the table ----


class Category(StrEnum):
    """How a member's monthly dues are set."""

    WORKING = "working"  # regular monthly pay after tax
    ANNUAL_SALARY = "annual"  # 年薪制: the month's actual pay
    SELF_EMPLOYED = "self"  # 个体等: previous quarter's average monthly net income
    RETIRED = "retired"  # basic pension
    STUDENT = "student"
    UNEMPLOYED = "unemployed"
    SUBSISTENCE = "subsistence"  # 低保
    FARMER = "farmer"  # a fixed amount the branch sets, 0.20–1.00


# Categories whose standard is a percentage of a base the member declares.
BASED = frozenset(
    {Category.WORKING, Category.ANNUAL_SALARY, Category.SELF_EMPLOYED, Category.RETIRED}
)
# Categories with the table's fixed amount.
FIXED = frozenset({Category.STUDENT, Category.UNEMPLOYED, Category.SUBSISTENCE})

BASE_MAX_FEN = 100_000_000  # 1,000,000 yuan a month: beyond is a typing mistake


@dataclass(frozen=True)
class Bracket:
    """Bases up to `upper_fen` (inclusive; None: no upper bound) pay `permille` ‰ of all of it."""

    upper_fen: int | None
    permille: int  # 5 = 0.5 %, 10 = 1 %, 15 = 1.5 %, 20 = 2 %


@dataclass(frozen=True)
class RateTable:
    """The brackets and fixed amounts in force for a committee's branches."""

    working: tuple[Bracket, ...] = (
        Bracket(300_000, 5),
        Bracket(500_000, 10),
        Bracket(1_000_000, 15),
        Bracket(None, 20),
    )
    retired: tuple[Bracket, ...] = (Bracket(500_000, 5), Bracket(None, 10))
    fixed_fen: int = 20  # students, the unemployed, subsistence allowance: 0.20 a month
    farmer_low_fen: int = 20
    farmer_high_fen: int = 100


NATIONAL = RateTable()


@dataclass(frozen=True)
class Standard:
    """A member's monthly dues and how they were worked out (the base is not kept)."""

    category: Category
    amount_fen: int
    permille: int = 0  # 0 for fixed amounts
    lower_fen: int | None = None  # the bracket the base fell in (exclusive lower bound)
    upper_fen: int | None = None  # inclusive upper bound; None: no upper bound


@dataclass(frozen=True)
class Invalid:
    """Why a value was refused (a code for the message catalog)."""

    code: str


def half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half up (both non-negative)."""
    return (2 * numerator + denominator) // (2 * denominator)


def brackets_for(table: RateTable, category: Category) -> tuple[Bracket, ...]:
    """The brackets a based category is assessed on."""
    return table.retired if category is Category.RETIRED else table.working


def standard(
    table: RateTable, category: Category, base_fen: int | None = None, farmer_fen: int | None = None
) -> Standard | Invalid:
    """The monthly standard for a category: a percentage of the whole base (by its bracket),
    the table's fixed amount, or (farmers) the branch's amount within the table's bounds."""
    if category in FIXED:
        return Standard(category, table.fixed_fen)
    if category is Category.FARMER:
        if farmer_fen is None:
            return Invalid("dues.farmer.missing")
        if not table.farmer_low_fen <= farmer_fen <= table.farmer_high_fen:
            return Invalid("dues.farmer.range")
        return Standard(category, farmer_fen)
    if base_fen is None:
        return Invalid("dues.base.missing")
    if base_fen < 0 or base_fen > BASE_MAX_FEN:
        return Invalid("dues.base.range")
    lower: int | None = None
    for bracket in brackets_for(table, category):
        if bracket.upper_fen is None or base_fen <= bracket.upper_fen:
            amount = half_up(base_fen * bracket.permille, 1000)
            return Standard(category, amount, bracket.permille, lower, bracket.upper_fen)
        lower = bracket.upper_fen
    return Invalid("dues.table.incomplete")


def check_table(table: RateTable) -> Invalid | None:
    """A committee's adjusted table must still be a table: brackets contiguous (each starts
    where the one before ends) with rising upper bounds, the last open, rates between 0.1 %
    and 5 % and never lower in a higher bracket, fixed amounts between 0.01 and 10 yuan."""
    for brackets in (table.working, table.retired):
        if not brackets or brackets[-1].upper_fen is not None:
            return Invalid("dues.table.open_end")
        uppers = [b.upper_fen for b in brackets[:-1]]
        if any(u is None for u in uppers) or uppers != sorted(set(uppers)):  # type: ignore[type-var]
            return Invalid("dues.table.order")
        if any(u is not None and not 0 < u <= BASE_MAX_FEN for u in uppers):
            return Invalid("dues.table.order")
        if any(not 1 <= b.permille <= 50 for b in brackets):
            return Invalid("dues.table.rate")
        # A higher bracket never pays a lower rate: the amount must not fall as the base grows.
        if any(a.permille > b.permille for a, b in pairwise(brackets)):
            return Invalid("dues.table.falling")
    if not 1 <= table.fixed_fen <= 1000:
        return Invalid("dues.table.fixed")
    if not 1 <= table.farmer_low_fen <= table.farmer_high_fen <= 1000:
        return Invalid("dues.table.farmer")
    return None


def table_to_json(table: RateTable) -> dict[str, object]:
    """A table as stored for a committee."""
    return {
        "working": [[b.upper_fen, b.permille] for b in table.working],
        "retired": [[b.upper_fen, b.permille] for b in table.retired],
        "fixed_fen": table.fixed_fen,
        "farmer_low_fen": table.farmer_low_fen,
        "farmer_high_fen": table.farmer_high_fen,
    }


def table_from_json(data: Mapping[str, object]) -> RateTable:
    """A stored table (anything missing is the national default)."""

    def brackets(raw: object, default: tuple[Bracket, ...]) -> tuple[Bracket, ...]:
        if not isinstance(raw, list) or not raw:
            return default
        return tuple(Bracket(None if u is None else int(u), int(p)) for u, p in raw)

    return RateTable(
        working=brackets(data.get("working"), NATIONAL.working),
        retired=brackets(data.get("retired"), NATIONAL.retired),
        fixed_fen=int(data.get("fixed_fen", NATIONAL.fixed_fen)),  # type: ignore[call-overload]
        farmer_low_fen=int(data.get("farmer_low_fen", NATIONAL.farmer_low_fen)),  # type: ignore[call-overload]
        farmer_high_fen=int(data.get("farmer_high_fen", NATIONAL.farmer_high_fen)),  # type: ignore[call-overload]
    )


# ---- money as people type and read it ----


def parse_yuan(text: str) -> int | Invalid:
    """An amount typed in yuan ("5400", "5,400.5", "５４００元", "¥81") as fen."""
    cleaned = text.strip().translate(_FULL_WIDTH).replace(",", "").replace("，", "")
    for mark in ("元", "¥", "￥", "RMB", "rmb"):
        cleaned = cleaned.replace(mark, "")
    cleaned = cleaned.strip()
    whole, _, part = cleaned.partition(".")
    if not whole.isdigit() or (part and not part.isdigit()) or len(part) > 2 or len(whole) > 9:
        return Invalid("dues.amount.invalid")
    return int(whole) * 100 + int((part + "00")[:2])


_FULL_WIDTH = str.maketrans("０１２３４５６７８９．", "0123456789.")


def yuan(fen: int) -> str:
    """Fen as yuan with two decimals: 8100 → "81.00", -50 → "-0.50"."""
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


# ---- months ----

Month = int  # yyyymm, e.g. 202612


def month_of(day: date) -> Month:
    """The month a day falls in."""
    return day.year * 100 + day.month


def add_months(month: Month, count: int) -> Month:
    """The month `count` months later (earlier when negative)."""
    index = (month // 100) * 12 + (month % 100 - 1) + count
    return (index // 12) * 100 + index % 12 + 1


def months_between(first: Month, last: Month) -> list[Month]:
    """Every month from first to last, both included (empty when first is later)."""
    months: list[Month] = []
    current = first
    while current <= last:
        months.append(current)
        current = add_months(current, 1)
    return months


def is_month(value: int) -> bool:
    """Whether an int reads as a yyyymm month."""
    return 190001 <= value <= 299912 and 1 <= value % 100 <= 12


# ---- where a member stands ----


@dataclass(frozen=True)
class Period:
    """A standard (or an exemption) in force from a month, until the next one starts."""

    from_month: Month
    amount_fen: int  # 0: exempt


def due_for(periods: Iterable[Period], month: Month) -> int | None:
    """The amount due for a month: the latest period that started by then (None: none yet)."""
    due: int | None = None
    started: Month = 0
    for period in periods:
        if started <= period.from_month <= month:
            due, started = period.amount_fen, period.from_month
    return due


@dataclass(frozen=True)
class Standing:
    """A member's dues as of a month: what is owed, what is paid ahead, what is short."""

    as_of: Month
    paid_through: Month | None  # the last month paid in full with no gap before it
    arrears: tuple[Month, ...]  # months up to as_of not paid in full (oldest first)
    advance: tuple[Month, ...]  # months after as_of already paid in full
    short_fen: int  # owed in all: unpaid months plus differences after a standard rose
    differences: tuple[tuple[Month, int], ...] = field(default=())  # paid before a rise

    @property
    def months_behind(self) -> int:
        """Consecutive unpaid months ending at as_of (arrears escalate on this)."""
        count = 0
        month = self.as_of
        while month in self.arrears:
            count += 1
            month = add_months(month, -1)
        return count


def standing(
    periods: Iterable[Period], paid: Mapping[Month, int], as_of: Month, since: Month
) -> Standing:
    """Where a member stands: each month from `since` (joined, or the first standard) through
    as_of is owed its standard; a month paid for less (a standard that rose after it was paid
    in advance) owes the difference; months after as_of that were paid are the advance."""
    spans = sorted(periods, key=lambda p: p.from_month)
    arrears: list[Month] = []
    differences: list[tuple[Month, int]] = []
    short = 0
    paid_through: Month | None = None
    gap = False
    last_paid = max(paid, default=as_of)
    for month in months_between(since, max(as_of, last_paid)):
        due = due_for(spans, month)
        if due is None:
            continue
        got = paid.get(month, 0)
        future = month > as_of
        if got >= due:
            if not gap:
                paid_through = month
            continue
        if future:
            if got > 0:  # paid ahead, before the standard rose: the rest is due now
                differences.append((month, due - got))
                short += due - got
            gap = True
            continue
        gap = True
        if got > 0:
            differences.append((month, due - got))
        arrears.append(month)
        short += due - got
    advance = tuple(m for m in sorted(paid) if m > as_of and paid[m] >= (due_for(spans, m) or 0))
    return Standing(as_of, paid_through, tuple(arrears), advance, short, tuple(differences))


def payable_months(
    standing_now: Standing, months: Iterable[Month], *, advance_cap: int, arrears_cap: int
) -> Invalid | None:
    """Months a member may say they paid: arrears (at most arrears_cap months back), this
    month, and up to advance_cap months ahead; each month once."""
    chosen = list(months)
    if not chosen:
        return Invalid("dues.months.none")
    if len(set(chosen)) != len(chosen) or not all(is_month(m) for m in chosen):
        return Invalid("dues.months.invalid")
    earliest = add_months(standing_now.as_of, -arrears_cap)
    latest = add_months(standing_now.as_of, advance_cap)
    if any(m > latest for m in chosen):
        return Invalid("dues.months.too_far_ahead")
    if any(m < earliest for m in chosen):
        return Invalid("dues.months.too_far_back")
    return None


CENTRE_THRESHOLD_FEN = 100_000  # a voluntary payment of 1,000 yuan or more goes to the Centre


def to_centre(extra_fen: int) -> bool:
    """Whether a voluntary extra payment goes to the Centre in full."""
    return extra_fen >= CENTRE_THRESHOLD_FEN
