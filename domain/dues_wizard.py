"""Declaring one's dues (申报) and a keeper's typed decision, as typed drafts with step tables.

Declaring: "category" → ("base", for categories assessed on an income) → "month" → "confirm".
The bot shows the bracket, the rate and the monthly amount worked out from the base; the base
itself leaves the draft when the declaration is submitted and leaves the database when the
keeper decides. Farmers only declare the category: the keeper sets the amount.

Deciding (a keeper's typed answer after 更正 or 退回): "amount" (a corrected amount, or
"基数 5400" for a corrected base) or "reason" (why the declaration is sent back).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import ClassVar

from domain.dues import (
    BASED,
    Category,
    Invalid,
    Month,
    RateTable,
    add_months,
    month_of,
    parse_yuan,
    standard,
)
from domain.wizard import Draft, Event, Refusal, Steps

# The order of the category buttons (an event's value is the index here).
CATEGORIES: tuple[Category, ...] = (
    Category.WORKING,
    Category.RETIRED,
    Category.ANNUAL_SALARY,
    Category.SELF_EMPLOYED,
    Category.FARMER,
    Category.STUDENT,
    Category.UNEMPLOYED,
    Category.SUBSISTENCE,
)

# From which month the standard applies: this month, next month, January of next year.
FROM_CHOICES = ("this", "next", "january")

AMOUNT_MAX_FEN = 2_000_000  # 20,000 yuan a month: beyond is a typing mistake
REASON_MAX = 200


def start_month(choice: int, now: datetime) -> Month:
    """The month a FROM_CHOICES index stands for, seen from `now` (local time)."""
    this = month_of(now.date())
    if choice == 1:
        return add_months(this, 1)
    if choice == 2:
        return (now.year + 1) * 100 + 1
    return this


@dataclasses.dataclass(frozen=True)
class DeclareDraft(Draft):
    """A member's declaration so far: category, (base and) the amount it gives, the month."""

    FLOW: ClassVar[str] = "dues_declare"
    VERSION: ClassVar[int] = 1

    member_id: int = 0
    org_id: int = 0
    name: str = ""  # the roster name, for the keepers' card
    table: RateTable = dataclasses.field(default_factory=RateTable)
    category: str = ""
    base_fen: int | None = None
    amount_fen: int = 0  # 0 for farmers until the keeper sets it
    permille: int = 0
    lower_fen: int | None = None
    upper_fen: int | None = None
    from_month: int = 0


def begin(member_id: int, org_id: int, name: str, table: RateTable) -> DeclareDraft:
    """The first question: which category."""
    return DeclareDraft(step="category", member_id=member_id, org_id=org_id, name=name,
                        table=table)  # fmt: skip


def pick_category(draft: DeclareDraft, event: Event, now: datetime) -> DeclareDraft | Refusal:
    """A category button: based ones ask for the base, the rest go straight to the month."""
    if not 0 <= event.value < len(CATEGORIES):
        return Refusal("stale")
    category = CATEGORIES[event.value]
    cleared = dataclasses.replace(
        draft, category=category.value, base_fen=None, amount_fen=0, permille=0,
        lower_fen=None, upper_fen=None,
    )  # fmt: skip
    if category in BASED:
        return dataclasses.replace(cleared, step="base")
    if category is Category.FARMER:
        return dataclasses.replace(cleared, step="month")
    fixed = standard(draft.table, category)
    assert not isinstance(fixed, Invalid)
    return dataclasses.replace(cleared, step="month", amount_fen=fixed.amount_fen)


def take_base(draft: DeclareDraft, event: Event, now: datetime) -> DeclareDraft | Refusal:
    """A typed monthly base in yuan: the bracket, rate and amount it gives."""
    parsed = parse_yuan(event.text or "")
    if isinstance(parsed, Invalid):
        return Refusal(parsed.code)
    if parsed == 0:
        return Refusal("dues.base.range")
    found = standard(draft.table, Category(draft.category), base_fen=parsed)
    if isinstance(found, Invalid):
        return Refusal(found.code)
    return dataclasses.replace(
        draft, step="month", base_fen=parsed, amount_fen=found.amount_fen,
        permille=found.permille, lower_fen=found.lower_fen, upper_fen=found.upper_fen,
    )  # fmt: skip


def pick_month(draft: DeclareDraft, event: Event, now: datetime) -> DeclareDraft | Refusal:
    """From which month (a FROM_CHOICES index): then the summary to submit."""
    if not 0 <= event.value < len(FROM_CHOICES):
        return Refusal("stale")
    return dataclasses.replace(draft, step="confirm", from_month=start_month(event.value, now))


def back_to_category(draft: DeclareDraft, event: Event, now: datetime) -> DeclareDraft:
    """返回 to the category question (what was typed is dropped)."""
    return begin(draft.member_id, draft.org_id, draft.name, draft.table)


def back_to_month(draft: DeclareDraft, event: Event, now: datetime) -> DeclareDraft:
    """返回 from the summary to the month question."""
    return dataclasses.replace(draft, step="month", from_month=0)


DECLARE_STEPS: Steps[DeclareDraft] = {
    "category": {"category": pick_category},
    "base": {"text": take_base, "back": back_to_category},
    "month": {"month": pick_month, "back": back_to_category},
    "confirm": {"back": back_to_month},
}


# ---- the keeper's typed decision ----


@dataclasses.dataclass(frozen=True)
class DecideDraft(Draft):
    """Which declaration a keeper is correcting ("amount") or sending back ("reason")."""

    FLOW: ClassVar[str] = "dues_decide"
    VERSION: ClassVar[int] = 1

    member_id: int = 0
    month: int = 0
    declared_fen: int = 0


@dataclasses.dataclass(frozen=True)
class Correction:
    """A keeper's typed correction: an amount, or a base to work the amount out from."""

    amount_fen: int | None = None
    base_fen: int | None = None


BASE_WORDS = ("基数", "base")


def parse_correction(text: str) -> Correction | Invalid:
    """ "81" or "81.50元" is the monthly amount; "基数 5400" is a base to assess."""
    cleaned = text.strip()
    for word in BASE_WORDS:
        if cleaned.lower().startswith(word):
            base = parse_yuan(cleaned[len(word) :].strip(" ：:"))
            if isinstance(base, Invalid):
                return base
            if base == 0:
                return Invalid("dues.base.range")
            return Correction(base_fen=base)
    amount = parse_yuan(cleaned)
    if isinstance(amount, Invalid):
        return amount
    if not 0 < amount <= AMOUNT_MAX_FEN:
        return Invalid("dues.amount.range")
    return Correction(amount_fen=amount)


def check_reason(text: str) -> str | Invalid:
    """A reason for sending a declaration back: some words, not an essay."""
    reason = " ".join(text.split())
    if not reason:
        return Invalid("dues.reason.empty")
    if len(reason) > REASON_MAX:
        return Invalid("dues.reason.too_long")
    return reason
