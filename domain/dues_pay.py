"""我已交纳: a member says which months they paid (and maybe a voluntary extra), with an
optional transfer screenshot, for the branch's keeper to confirm. The typed draft, its step
table, and the rules for which months are offered and what they add up to. Pure.

The amount of a month is what is still owed for it: its due, or the difference when the
standard rose after the member had paid it in advance.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import ClassVar

from domain.dues import (
    Invalid,
    Month,
    Period,
    Standing,
    add_months,
    due_for,
    is_month,
    months_between,
    parse_yuan,
    payable_months,
)
from domain.validation import clean_text
from domain.wizard import Draft, Event, Refusal, Steps

EXTRA_MAX_FEN = 10_000_000  # 100,000 yuan typed as a voluntary extra: beyond is a typing slip
REASON_MAX = 300


@dataclass(frozen=True)
class MonthDue:
    """A month offered for payment and what is still owed for it (fen)."""

    month: Month
    owed_fen: int


def owed_months(
    periods: Iterable[Period],
    paid: Mapping[Month, int],
    now: Standing,
    *,
    advance_cap: int,
    arrears_cap: int,
    pending: Collection[Month] = (),
) -> tuple[MonthDue, ...]:
    """The months a member may say they paid, oldest first: owed months back to arrears_cap,
    this month, and up to advance_cap ahead, each with what is still owed (months paid in
    full, months already in a claim waiting for the keeper, and exempt months are left out)."""
    spans = sorted(periods, key=lambda p: p.from_month)
    first = add_months(now.as_of, -arrears_cap)
    last = add_months(now.as_of, advance_cap)
    offered: list[MonthDue] = []
    for month in months_between(first, last):
        due = due_for(spans, month)
        if due is None or due <= 0 or month in pending:
            continue
        owed = due - paid.get(month, 0)
        if owed > 0:
            offered.append(MonthDue(month, owed))
    return tuple(offered)


def check_months(
    offered: Iterable[MonthDue], chosen: Iterable[Month], as_of: Month, *, advance_cap: int,
    arrears_cap: int,
) -> Invalid | None:  # fmt: skip
    """Chosen months must be payable (domain.dues.payable_months) and among those offered."""
    months = list(chosen)
    now = Standing(as_of, None, (), (), 0)
    refused = payable_months(now, months, advance_cap=advance_cap, arrears_cap=arrears_cap)
    if refused is not None:
        return refused
    if not set(months) <= {m.month for m in offered}:
        return Invalid("dues.months.not_owed")
    return None


def amount_of(offered: Iterable[MonthDue], chosen: Collection[Month]) -> int:
    """What the chosen months add up to (fen)."""
    return sum(m.owed_fen for m in offered if m.month in chosen)


def parse_extra(text: str) -> int | Invalid:
    """A voluntary extra typed in yuan (0 clears it)."""
    fen = parse_yuan(text)
    if isinstance(fen, Invalid):
        return fen
    if fen > EXTRA_MAX_FEN:
        return Invalid("dues.extra.too_large")
    return fen


def check_reason(text: str) -> str | Invalid:
    """The reason a keeper types when sending a claim back: not empty, not too long."""
    cleaned = clean_text(text)
    if not cleaned:
        return Invalid("dues.reason.empty")
    if len(cleaned) > REASON_MAX:
        return Invalid("dues.reason.too_long")
    return cleaned


# ---- the 我已交纳 wizard ----


@dataclass(frozen=True)
class PayDraft(Draft):
    """我已交纳 being filled in: the months offered and chosen, the extra, the screenshot."""

    FLOW: ClassVar[str] = "dues_pay"
    VERSION: ClassVar[int] = 1

    member_id: int = 0
    org_id: int = 0
    member_name: str = ""
    org_name: str = ""
    as_of: Month = 0
    advance_cap: int = 6
    arrears_cap: int = 6
    offered: tuple[MonthDue, ...] = ()
    chosen: tuple[Month, ...] = ()
    extra_fen: int = 0
    proof_file_id: str = ""

    @property
    def amount_fen(self) -> int:
        """The chosen months' amount (without the extra)."""
        return amount_of(self.offered, set(self.chosen))


def _toggle(draft: PayDraft, event: Event, now: datetime) -> PayDraft | Refusal:
    if event.value not in {m.month for m in draft.offered}:
        return Refusal("dues.months.not_owed")
    if event.value in draft.chosen:
        return replace(draft, chosen=tuple(m for m in draft.chosen if m != event.value))
    return replace(draft, chosen=tuple(sorted((*draft.chosen, event.value))))


def _months_done(draft: PayDraft, event: Event, now: datetime) -> PayDraft | Refusal:
    refused = check_months(
        draft.offered, draft.chosen, draft.as_of,
        advance_cap=draft.advance_cap, arrears_cap=draft.arrears_cap,
    )  # fmt: skip
    if refused is not None:
        return Refusal(refused.code)
    return replace(draft, step="extra")


def _take_extra(draft: PayDraft, event: Event, now: datetime) -> PayDraft | Refusal:
    fen = parse_extra(event.text or "")
    if isinstance(fen, Invalid):
        return Refusal(fen.code)
    return replace(draft, extra_fen=fen, step="proof")


def _no_extra(draft: PayDraft, event: Event, now: datetime) -> PayDraft | Refusal:
    return replace(draft, extra_fen=0, step="proof")


def _take_proof(draft: PayDraft, event: Event, now: datetime) -> PayDraft | Refusal:
    file_id = (event.text or "").strip()
    if not file_id or len(file_id) > 200:
        return Refusal("dues.proof.invalid")
    return replace(draft, proof_file_id=file_id, step="review")


def _no_proof(draft: PayDraft, event: Event, now: datetime) -> PayDraft | Refusal:
    return replace(draft, proof_file_id="", step="review")


def _back_to_months(draft: PayDraft, event: Event, now: datetime) -> PayDraft | Refusal:
    return replace(draft, step="months")


def _back_to_extra(draft: PayDraft, event: Event, now: datetime) -> PayDraft | Refusal:
    return replace(draft, step="extra")


def _back_to_proof(draft: PayDraft, event: Event, now: datetime) -> PayDraft | Refusal:
    return replace(draft, step="proof")


# Step → action → transition. 提交 at "review" is the service's submit_claim (takes the draft).
STEPS: Steps[PayDraft] = {
    "months": {"toggle": _toggle, "next": _months_done},
    "extra": {"text": _take_extra, "skip": _no_extra, "back": _back_to_months},
    "proof": {"photo": _take_proof, "skip": _no_proof, "back": _back_to_extra},
    "review": {"back": _back_to_proof, "redo": _back_to_months},
}


# ---- a keeper sending a claim back: the reason typed ----


@dataclass(frozen=True)
class RejectDraft(Draft):
    """退回: the keeper is typing why a claim goes back to the member."""

    FLOW: ClassVar[str] = "dues_reject"
    VERSION: ClassVar[int] = 1

    claim_id: int = 0


# ---- a keeper's XLSX of payments (姓名, 月份, 金额) ----

IMPORT_MAX_ROWS = 3_000
HEADERS = {"姓名": "name", "名字": "name", "name": "name", "月份": "month", "月": "month",
           "month": "month", "金额": "amount", "金额（元）": "amount", "金额(元)": "amount",
           "amount": "amount"}  # fmt: skip
_MONTH_FORMS = (
    re.compile(r"^(\d{4})[-/.年](\d{1,2})(?:月|月\d{1,2}日?|[-/.]\d{1,2})?$"),
    re.compile(r"^(\d{4})(\d{2})$"),
)


def parse_month(text: str) -> Month | Invalid:
    """A month as people write it: 2026-09, 2026/9, 2026年9月, 202609, or a date in it."""
    cleaned = clean_text(text).translate(_DIGITS).replace(" ", "")
    cleaned = cleaned.split("T")[0]
    for form in _MONTH_FORMS:
        found = form.match(cleaned)
        if found:
            month = int(found.group(1)) * 100 + int(found.group(2))
            return month if is_month(month) else Invalid("dues.import.month")
    return Invalid("dues.import.month")


_DIGITS = str.maketrans("０１２３４５６７８９－／", "0123456789-/")


@dataclass(frozen=True)
class PaymentLine:
    """A row of the file that will be recorded: who, which month, how much (fen)."""

    line: int
    member_id: int
    name: str
    month: Month
    amount_fen: int


@dataclass(frozen=True)
class LineProblem:
    """A row that will not be recorded, and why (a code for the catalog)."""

    line: int
    code: str
    text: str = ""


def plan_payments(
    rows: Iterable[tuple[int, Mapping[str, str]]],
    roster: Mapping[str, Collection[int]],
    paid: Mapping[tuple[int, Month], int],
) -> tuple[tuple[PaymentLine, ...], tuple[LineProblem, ...]]:
    """Which rows will be recorded and which not: the name must be one member of the branch,
    the month a month, the amount positive; a month already recorded (in the ledger or
    earlier in the file) is left out."""
    lines: list[PaymentLine] = []
    problems: list[LineProblem] = []
    seen: set[tuple[int, Month]] = set()
    for number, row in rows:
        name = clean_text(row.get("name", ""))
        if not name and not row.get("month") and not row.get("amount"):
            continue
        ids = list(roster.get(name, ()))
        if not ids:
            problems.append(LineProblem(number, "dues.import.unknown", name))
            continue
        if len(ids) > 1:
            problems.append(LineProblem(number, "dues.import.ambiguous", name))
            continue
        month = parse_month(row.get("month", ""))
        if isinstance(month, Invalid):
            problems.append(LineProblem(number, month.code, row.get("month", "")))
            continue
        amount = parse_yuan(row.get("amount", ""))
        if isinstance(amount, Invalid) or amount <= 0:
            problems.append(LineProblem(number, "dues.import.amount", row.get("amount", "")))
            continue
        key = (ids[0], month)
        if key in seen or paid.get(key, 0) > 0:
            problems.append(LineProblem(number, "dues.import.already", name))
            continue
        seen.add(key)
        lines.append(PaymentLine(number, ids[0], name, month, amount))
    return tuple(lines), tuple(problems)


@dataclass(frozen=True)
class ImportDraft(Draft):
    """导入交费表: waiting for the file, then the preview of what it records."""

    FLOW: ClassVar[str] = "dues_import"
    VERSION: ClassVar[int] = 1

    org_id: int = 0
    lines: tuple[PaymentLine, ...] = ()
    problems: tuple[LineProblem, ...] = ()
