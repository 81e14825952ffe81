"""How dues standards look: 我的党费, the declaring questions, the keeper's card and replies,
and their callback codecs (prefixes "ds…")."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import ClassVar

from domain.dues import Category, Month, yuan
from domain.dues_wizard import CATEGORIES, FROM_CHOICES, DeclareDraft, start_month
from services.dues_standards import Decision, MyDues, StandardView
from ui.callbacks import CallbackData
from ui.dues_exempt import mine_text
from ui.i18n import Catalog, Html


@dataclasses.dataclass(frozen=True)
class DuesMine(CallbackData):
    """我的党费: the member's own dues screen."""

    prefix: ClassVar[str] = "dsm"


@dataclasses.dataclass(frozen=True)
class DuesDeclare(CallbackData):
    """申报 / 我的收入变了: start declaring."""

    prefix: ClassVar[str] = "dsn"


@dataclasses.dataclass(frozen=True)
class DuesCategory(CallbackData):
    """A category button (an index of domain.dues_wizard.CATEGORIES)."""

    prefix: ClassVar[str] = "dsc"
    index: int


@dataclasses.dataclass(frozen=True)
class DuesFrom(CallbackData):
    """From which month (an index of domain.dues_wizard.FROM_CHOICES)."""

    prefix: ClassVar[str] = "dsf"
    which: int


@dataclasses.dataclass(frozen=True)
class DuesDeclareStep(CallbackData):
    """提交 / 返回 / 取消 while declaring."""

    prefix: ClassVar[str] = "dss"
    action: str  # ok / back / cancel


@dataclasses.dataclass(frozen=True)
class DuesDecide(CallbackData):
    """A keeper's 确认 (c) / 更正 (e) / 退回 (r) on a declaration, named by member, month and
    the amount declared (an older button after a new declaration finds nothing)."""

    prefix: ClassVar[str] = "dsd"
    member_id: int
    month: int
    amount: int
    action: str


CATEGORY_KEYS: dict[Category, str] = {
    Category.WORKING: "dues.std.category.working",
    Category.ANNUAL_SALARY: "dues.std.category.annual",
    Category.SELF_EMPLOYED: "dues.std.category.self",
    Category.RETIRED: "dues.std.category.retired",
    Category.STUDENT: "dues.std.category.student",
    Category.UNEMPLOYED: "dues.std.category.unemployed",
    Category.SUBSISTENCE: "dues.std.category.subsistence",
    Category.FARMER: "dues.std.category.farmer",
}
BASE_QUESTIONS: dict[Category, str] = {
    Category.WORKING: "dues.declare.ask_base.working",
    Category.ANNUAL_SALARY: "dues.declare.ask_base.annual",
    Category.SELF_EMPLOYED: "dues.declare.ask_base.self",
    Category.RETIRED: "dues.declare.ask_base.retired",
}
FROM_KEYS = ("dues.declare.from.this", "dues.declare.from.next", "dues.declare.from.january")
DECIDE_BUTTONS = {"c": "dues.decide.button.c", "e": "dues.decide.button.e",
                  "r": "dues.decide.button.r"}  # fmt: skip
DECIDE_QUESTIONS = {"amount": "dues.decide.ask_amount", "reason": "dues.decide.ask_reason"}


def month_text(catalog: Catalog, locale: str | None, month: Month) -> str:
    """A yyyymm month as people read it: 2026年12月."""
    return catalog.t(locale, "dues.std.month", year=month // 100, month=month % 100)


def category_text(catalog: Catalog, locale: str | None, category: Category | str) -> str:
    """A category in plain words."""
    return catalog.t(locale, CATEGORY_KEYS[Category(category)])


def rate_text(permille: int) -> str:
    """A rate in ‰ as a percentage: 15 → "1.5%"."""
    whole, tenth = divmod(permille, 10)
    return f"{whole}.{tenth}%" if tenth else f"{whole}%"


def _whole_yuan(fen: int) -> str:
    return str(fen // 100) if fen % 100 == 0 else yuan(fen)


def bracket_text(catalog: Catalog, locale: str | None, lower: int | None, upper: int | None) -> str:
    """The bracket a base fell in: "3000–5000元", "3000元及以下", "10000元以上"."""
    if upper is None and lower is not None:
        return catalog.t(locale, "dues.std.bracket.above", lower=_whole_yuan(lower))
    if lower is None and upper is not None:
        return catalog.t(locale, "dues.std.bracket.upto", upper=_whole_yuan(upper))
    if lower is not None and upper is not None:
        return catalog.t(locale, "dues.std.bracket.between", lower=_whole_yuan(lower),
                         upper=_whole_yuan(upper))  # fmt: skip
    return ""


def standard_text(catalog: Catalog, locale: str | None, view: StandardView) -> Html:
    """Category, bracket and rate (for a based category), and the monthly amount."""
    lines = [catalog.t(locale, "dues.std.line.category",
                       category=Html(category_text(catalog, locale, view.category)))]  # fmt: skip
    if view.permille:
        bracket = bracket_text(catalog, locale, view.lower_fen, view.upper_fen)
        lines.append(catalog.t(locale, "dues.std.line.bracket", bracket=Html(bracket),
                               rate=rate_text(view.permille)))  # fmt: skip
    if view.amount_fen > 0:
        lines.append(catalog.t(locale, "dues.std.line.amount", amount=yuan(view.amount_fen)))
    else:
        lines.append(catalog.t(locale, "dues.std.line.farmer_pending"))
    lines.append(catalog.t(locale, "dues.std.line.from",
                           month=Html(month_text(catalog, locale, view.from_month))))  # fmt: skip
    return Html("\n".join(lines))


def render_mine(catalog: Catalog, locale: str | None, mine: MyDues) -> Html:
    """我的党费: standard, paid through, arrears, advance, differences, history, pending."""
    parts = [catalog.t(locale, "dues.mine.title", name=mine.name, branch=mine.org_name)]
    if mine.current is None:
        parts.append(catalog.t(locale, "dues.mine.no_standard"))
    else:
        parts.append(standard_text(catalog, locale, mine.current))
    stand = mine.standing
    if stand is not None:
        if stand.paid_through is not None:
            parts.append(catalog.t(locale, "dues.mine.paid_through",
                         month=Html(month_text(catalog, locale, stand.paid_through))))  # fmt: skip
        elif not stand.advance:
            parts.append(catalog.t(locale, "dues.mine.nothing_paid"))
        if stand.arrears:
            months = "、".join(month_text(catalog, locale, m) for m in stand.arrears)
            parts.append(catalog.t(locale, "dues.mine.arrears", count=len(stand.arrears),
                                   months=Html(months), total=yuan(stand.short_fen)))  # fmt: skip
        elif stand.short_fen:
            parts.append(catalog.t(locale, "dues.mine.short", total=yuan(stand.short_fen)))
        else:
            parts.append(catalog.t(locale, "dues.mine.no_arrears"))
        if stand.advance:
            parts.append(catalog.t(locale, "dues.mine.advance", count=len(stand.advance),
                         until=Html(month_text(catalog, locale, stand.advance[-1]))))  # fmt: skip
        for month, fen in stand.differences:
            if month > stand.as_of:
                parts.append(catalog.t(locale, "dues.mine.difference", amount=yuan(fen),
                             month=Html(month_text(catalog, locale, month))))  # fmt: skip
    if mine.history:
        lines = [catalog.t(locale, "dues.mine.history")]
        for month, fen in reversed(mine.history):
            lines.append(catalog.t(locale, "dues.mine.history_line", amount=yuan(fen),
                                   month=Html(month_text(catalog, locale, month))))  # fmt: skip
        parts.append("\n".join(lines))
    if mine.exemption is not None:
        parts.append(mine_text(catalog, locale, mine.exemption))
    if mine.pending is not None:
        parts.append(catalog.t(locale, "dues.mine.pending_declaration",
                               standard=standard_text(catalog, locale, mine.pending)))  # fmt: skip
    if mine.pending_claims:
        parts.append(catalog.t(locale, "dues.mine.pending_claims", count=mine.pending_claims))
    return Html("\n\n".join(parts))


def ask_category(catalog: Catalog, locale: str | None) -> Html:
    """The first declaring question."""
    return Html(catalog.t(locale, "dues.declare.ask_category"))


def category_buttons(catalog: Catalog, locale: str | None) -> list[tuple[str, CallbackData]]:
    """One button per category, in plain words."""
    return [(catalog.plain(locale, CATEGORY_KEYS[c]), DuesCategory(i))
            for i, c in enumerate(CATEGORIES)]  # fmt: skip


def ask_base(catalog: Catalog, locale: str | None, draft: DeclareDraft) -> Html:
    """The base question for a category assessed on an income."""
    return Html(catalog.t(locale, BASE_QUESTIONS[Category(draft.category)]))


def arithmetic(draft: DeclareDraft) -> str:
    """How the amount was worked out: "5400.00 × 1.5% = 81.00"."""
    return f"{yuan(draft.base_fen or 0)} × {rate_text(draft.permille)} = {yuan(draft.amount_fen)}"


def ask_month(catalog: Catalog, locale: str | None, draft: DeclareDraft) -> Html:
    """What the answer gives so far, and from which month."""
    head = _worked_out(catalog, locale, draft)
    return Html(head + "\n\n" + catalog.t(locale, "dues.declare.ask_month"))


def month_buttons(
    catalog: Catalog, locale: str | None, now_month_of: datetime
) -> list[tuple[str, CallbackData]]:
    """本月 / 下月 / 明年1月, each with the month it stands for."""
    return [
        (catalog.plain(locale, FROM_KEYS[i],
                       month=catalog.plain(locale, "dues.std.month",
                                           year=start_month(i, now_month_of) // 100,
                                           month=start_month(i, now_month_of) % 100)),
         DuesFrom(i))
        for i in range(len(FROM_CHOICES))
    ]  # fmt: skip


def _worked_out(
    catalog: Catalog, locale: str | None, draft: DeclareDraft, *, with_base: bool = True
) -> str:
    category = Html(category_text(catalog, locale, draft.category))
    if draft.base_fen is not None and not with_base:
        bracket = Html(bracket_text(catalog, locale, draft.lower_fen, draft.upper_fen))
        return catalog.t(locale, "dues.declare.based_no_base", category=category,
                         bracket=bracket, rate=rate_text(draft.permille),
                         amount=yuan(draft.amount_fen))  # fmt: skip
    if draft.base_fen is not None:
        bracket = Html(bracket_text(catalog, locale, draft.lower_fen, draft.upper_fen))
        return catalog.t(locale, "dues.declare.based", category=category, bracket=bracket,
                         rate=rate_text(draft.permille), sum=arithmetic(draft))  # fmt: skip
    if draft.category == Category.FARMER.value:
        return catalog.t(locale, "dues.declare.farmer", category=category)
    return catalog.t(locale, "dues.declare.fixed", category=category,
                     amount=yuan(draft.amount_fen))  # fmt: skip


def summary(catalog: Catalog, locale: str | None, draft: DeclareDraft) -> Html:
    """The declaration before 提交."""
    return Html(catalog.t(locale, "dues.declare.summary",
                          worked=Html(_worked_out(catalog, locale, draft)),
                          month=Html(month_text(catalog, locale, draft.from_month))))  # fmt: skip


def keeper_card(catalog: Catalog, locale: str | None, name: str, draft: DeclareDraft) -> Html:
    """What the keepers are told of a declaration: bracket, rate and amount, never the base
    (the message outlives the decision, the base must not)."""
    return Html(catalog.t(locale, "dues.declare.keeper_card", name=name,
                          worked=Html(_worked_out(catalog, locale, draft, with_base=False)),
                          month=Html(month_text(catalog, locale, draft.from_month))))  # fmt: skip


def decision_text(catalog: Catalog, locale: str | None, decision: Decision) -> Html:
    """The keeper's reply after deciding."""
    if decision.status == "rejected":
        return Html(catalog.t(locale, "dues.decide.rejected", name=decision.name,
                              reason=decision.reason or ""))  # fmt: skip
    key = "dues.decide.corrected" if decision.corrected else "dues.decide.confirmed"
    return Html(catalog.t(locale, key, name=decision.name,
                          standard=standard_text(catalog, locale, decision.standard)))  # fmt: skip


def member_told(
    catalog: Catalog,
    locale: str | None,
    view: StandardView,
    *,
    corrected: bool,
    reason: str | None,
) -> Html:
    """What the member is told after the keeper decided."""
    if reason is not None:
        return Html(catalog.t(locale, "dues.told.rejected", reason=reason))
    key = "dues.told.corrected" if corrected else "dues.told.confirmed"
    return Html(catalog.t(locale, key, standard=standard_text(catalog, locale, view)))


def redeclare_text(catalog: Catalog, locale: str | None, name: str, year: int) -> str:
    """The January 请重新申报 reminder."""
    return catalog.t(locale, "dues.redeclare", name=name, year=year)
