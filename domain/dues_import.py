"""A keeper setting dues standards in bulk from a sheet (批量设置标准): 姓名, 类别, 月缴金额(元)
or 月收入基数(元), 起始月份. Which rows set what, which do not and why, and the typed draft that
carries the dry run to 确认导入. Pure.

A base (income) is turned into its bracket, rate and amount here and then forgotten: it is
never part of a line, a problem, or the draft.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import ClassVar

from domain.dues import (
    BASED,
    FIXED,
    Category,
    Invalid,
    Month,
    RateTable,
    Standard,
    add_months,
    parse_yuan,
    standard,
)
from domain.dues_pay import parse_month
from domain.dues_wizard import AMOUNT_MAX_FEN
from domain.validation import clean_text
from domain.wizard import Draft

MAX_ROWS = 5_000  # as the roster import: a branch's whole roster, with room to spare
PROBLEMS_KEPT = 30  # problems carried to the preview (the count is kept in full)
MONTHS_BACK = 12  # a standard may start up to a year back (the annual assessment, late)
MONTHS_AHEAD = 12

# A header cell, lower-cased without spaces, "(元)" or "(yuan)" → its column.
HEADERS: dict[str, str] = {
    "姓名": "name", "名字": "name", "name": "name", "membername": "name",
    "类别": "category", "缴费类别": "category", "人员类别": "category", "类型": "category",
    "category": "category",
    "月缴金额": "amount", "每月金额": "amount", "月缴党费": "amount", "金额": "amount",
    "缴费金额": "amount", "amount": "amount", "monthlydues": "amount", "monthlyamount": "amount",
    "dues": "amount",
    "月收入基数": "base", "收入基数": "base", "基数": "base", "缴费基数": "base", "base": "base",
    "monthlyincomebase": "base", "incomebase": "base", "monthlybase": "base",
    "起始月份": "from", "起始月": "from", "开始月份": "from", "从何月起": "from", "from": "from",
    "frommonth": "from", "startmonth": "from",
}  # fmt: skip
REQUIRED = frozenset({"name", "category"})
_UNITS = ("(元)", "(yuan)", "(rmb)", "(¥)")


def header_code(cell: str) -> str:
    """The column a header cell names ("" when none): zh or en, with or without "(元)"."""
    text = clean_text(cell).lower().replace(" ", "").replace("（", "(").replace("）", ")")
    for unit in _UNITS:
        text = text.replace(unit, "")
    return HEADERS.get(text, "")


# Category as keepers write it: the catalog's labels in both languages, common short forms,
# and the codes themselves.
CATEGORY_WORDS: dict[str, Category] = {
    **{c.value: c for c in Category},
    "在职": Category.WORKING, "在职职工": Category.WORKING, "在职人员": Category.WORKING,
    "职工": Category.WORKING, "工薪": Category.WORKING, "employee": Category.WORKING,
    "employed": Category.WORKING,
    "年薪制": Category.ANNUAL_SALARY, "年薪制人员": Category.ANNUAL_SALARY,
    "annualsalary": Category.ANNUAL_SALARY, "onanannualsalary": Category.ANNUAL_SALARY,
    "个体": Category.SELF_EMPLOYED, "个体经营": Category.SELF_EMPLOYED,
    "个体经营等": Category.SELF_EMPLOYED, "灵活就业": Category.SELF_EMPLOYED,
    "selfemployed": Category.SELF_EMPLOYED,
    "退休": Category.RETIRED, "离退休": Category.RETIRED, "离退休人员": Category.RETIRED,
    "离休": Category.RETIRED, "退休人员": Category.RETIRED, "retiree": Category.RETIRED,
    "学生": Category.STUDENT, "在校学生": Category.STUDENT,
    "失业": Category.UNEMPLOYED, "下岗失业": Category.UNEMPLOYED, "下岗": Category.UNEMPLOYED,
    "失业人员": Category.UNEMPLOYED,
    "低保": Category.SUBSISTENCE, "领取低保": Category.SUBSISTENCE,
    "onsubsistenceallowance": Category.SUBSISTENCE,
    "农民": Category.FARMER, "农民党员": Category.FARMER,
}  # fmt: skip


def parse_category(text: str) -> Category | None:
    """A category as written in the sheet (Chinese or English), None when not understood."""
    key = clean_text(text).lower()
    for mark in (" ", "-", "_", "　"):
        key = key.replace(mark, "")
    return CATEGORY_WORDS.get(key)


# What a standard sets (the base is not part of it): category, amount, rate, bracket, month.
StandardKey = tuple[str, int, int, int | None, int | None, Month]


@dataclass(frozen=True)
class Current:
    """A member's confirmed standards as the branch holds them: (from month, what) each."""

    spans: tuple[tuple[Month, StandardKey], ...]


@dataclass(frozen=True)
class StandardLine:
    """A row that will set a member's standard."""

    line: int
    member_id: int
    category: str
    amount_fen: int
    permille: int
    lower_fen: int | None
    upper_fen: int | None
    from_month: Month
    new: bool  # the member had no confirmed standard (else it changes one)

    @property
    def key(self) -> StandardKey:
        """What the line sets, for the note the member gets."""
        return (self.category, self.amount_fen, self.permille, self.lower_fen, self.upper_fen,
                self.from_month)  # fmt: skip


@dataclass(frozen=True)
class RowProblem:
    """A row that sets nothing, and why (a code for the catalog, and what to quote)."""

    line: int
    code: str
    text: str = ""


@dataclass(frozen=True)
class Plan:
    """The dry run: what would be set, how many rows change nothing, and what is wrong."""

    lines: tuple[StandardLine, ...]
    unchanged: int
    problems: tuple[RowProblem, ...]


def _worked_out(table: RateTable, category: Category, amount: str, base: str) -> Standard | Invalid:
    """The standard a row gives: from the base on the branch's table, or the amount given
    (checked against the table where it fixes the amount)."""
    amount_fen: int | None = None
    if amount.strip():
        parsed = parse_yuan(amount)
        if isinstance(parsed, Invalid) or not 0 < parsed <= AMOUNT_MAX_FEN:
            return Invalid("dues.bulk.amount")
        amount_fen = parsed
    if category in FIXED:
        if amount_fen is not None and amount_fen != table.fixed_fen:
            return Invalid("dues.bulk.fixed")
        return standard(table, category)
    if category is Category.FARMER:
        if amount_fen is None:
            return Invalid("dues.bulk.farmer_missing")
        found = standard(table, category, farmer_fen=amount_fen)
        return Invalid("dues.bulk.farmer_range") if isinstance(found, Invalid) else found
    assert category in BASED
    if base.strip():
        base_fen = parse_yuan(base)
        if isinstance(base_fen, Invalid) or base_fen == 0:
            return Invalid("dues.bulk.base")
        found = standard(table, category, base_fen=base_fen)
        if isinstance(found, Invalid):
            return Invalid("dues.bulk.base")
        if amount_fen is not None and amount_fen != found.amount_fen:
            return Invalid("dues.bulk.mismatch")
        return found
    if amount_fen is None:
        return Invalid("dues.bulk.missing")
    return Standard(category, amount_fen)  # the keeper's own figure: no bracket to show


def _in_force(current: Current | None, month: Month) -> tuple[StandardKey | None, bool]:
    """The standard in force at a month, and whether a later confirmed one starts after it."""
    if current is None:
        return None, False
    before = [(m, k) for m, k in current.spans if m <= month]
    later = any(m > month for m, _ in current.spans)
    return (max(before, key=lambda s: s[0])[1] if before else None), later


def plan_standards(
    rows: Iterable[tuple[int, Mapping[str, str]]],
    roster: Mapping[str, Collection[int]],
    current: Mapping[int, Current],
    table: RateTable,
    this_month: Month,
) -> Plan:
    """Which rows set a standard and which not: the name must be one active member of the
    branch (once in the sheet), the category understood, the amount given or worked out from
    the base by the table, the month within a year either way (default this month). A row
    giving what is already in force from that month changes nothing."""
    lines: list[StandardLine] = []
    problems: list[RowProblem] = []
    unchanged = 0
    seen: set[int] = set()
    earliest, latest = add_months(this_month, -MONTHS_BACK), add_months(this_month, MONTHS_AHEAD)
    for number, row in rows:
        if not any(clean_text(v) for v in row.values()):
            continue
        name = clean_text(row.get("name", ""))
        ids = list(roster.get(name, ())) if name else []
        if not ids:
            problems.append(RowProblem(number, "dues.bulk.unknown", name))
            continue
        if len(ids) > 1:
            problems.append(RowProblem(number, "dues.bulk.ambiguous", name))
            continue
        member_id = ids[0]
        if member_id in seen:
            problems.append(RowProblem(number, "dues.bulk.duplicate", name))
            continue
        seen.add(member_id)
        category = parse_category(row.get("category", ""))
        if category is None:
            problems.append(RowProblem(number, "dues.bulk.category", name))
            continue
        month = this_month
        if clean_text(row.get("from", "")):
            parsed = parse_month(row.get("from", ""))
            if isinstance(parsed, Invalid) or not earliest <= parsed <= latest:
                problems.append(RowProblem(number, "dues.bulk.month", name))
                continue
            month = parsed
        found = _worked_out(table, category, row.get("amount", ""), row.get("base", ""))
        if isinstance(found, Invalid):
            problems.append(RowProblem(number, found.code, name))
            continue
        line = StandardLine(number, member_id, category.value, found.amount_fen, found.permille,
                            found.lower_fen, found.upper_fen, month,
                            new=member_id not in current)  # fmt: skip
        in_force, later = _in_force(current.get(member_id), month)
        if in_force is not None and not later and in_force[:5] == line.key[:5]:
            unchanged += 1
            continue
        lines.append(line)
    return Plan(tuple(lines), unchanged, tuple(problems))


@dataclass(frozen=True)
class BulkDraft(Draft):
    """批量设置标准: waiting for the sheet ("file"), then its dry run ("preview"), which
    确认导入 applies. Only the first PROBLEMS_KEPT problems are carried; their count in full."""

    FLOW: ClassVar[str] = "dues_bulk"
    VERSION: ClassVar[int] = 1

    org_id: int = 0
    lines: tuple[StandardLine, ...] = ()
    unchanged: int = 0
    problems: tuple[RowProblem, ...] = ()
    problem_count: int = 0

    @property
    def new_count(self) -> int:
        """Members who get their first standard."""
        return sum(1 for line in self.lines if line.new)

    @property
    def changed_count(self) -> int:
        """Members whose standard changes."""
        return sum(1 for line in self.lines if not line.new)
