"""How hardship reductions and exemptions look: the branch screen, the member picker, each
question, the preview, the list, ending one, and what the member is told (prefixes "dh…")."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import ClassVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from domain.dues import Month, add_months, month_of, yuan
from domain.dues_exempt import EXEMPT, EXEMPT_MONTHS_MAX, REDUCE, SPANS, ExemptDraft
from services.dues_exempt import CandidatePage, ExemptionList, ExemptionView
from ui.callbacks import CallbackData, button
from ui.i18n import Catalog, Html


@dataclasses.dataclass(frozen=True)
class ExemptOpen(CallbackData):
    """减免党费: a branch's screen (0: choose the branch first)."""

    prefix: ClassVar[str] = "dho"
    org_id: int


@dataclasses.dataclass(frozen=True)
class ExemptNew(CallbackData):
    """登记减免 for a branch."""

    prefix: ClassVar[str] = "dhn"
    org_id: int


@dataclasses.dataclass(frozen=True)
class ExemptList(CallbackData):
    """减免记录 of a branch."""

    prefix: ClassVar[str] = "dhl"
    org_id: int


@dataclasses.dataclass(frozen=True)
class ExemptStep(CallbackData):
    """A button while recording: page, pick (member id), kind, month, span, today, back, ok,
    cancel."""

    prefix: ClassVar[str] = "dhs"
    action: str
    value: int = 0


@dataclasses.dataclass(frozen=True)
class ExemptEnd(CallbackData):
    """结束 a record: ask (show what ending does), ok (do it)."""

    prefix: ClassVar[str] = "dhe"
    exemption_id: int
    action: str


def _month(catalog: Catalog, locale: str | None, month: Month) -> str:
    return catalog.t(locale, "dues.std.month", year=month // 100, month=month % 100)


def what_text(catalog: Catalog, locale: str | None, amount_fen: int) -> str:
    """免交, or 减为每月 X 元."""
    if amount_fen == 0:
        return catalog.t(locale, "dues.exempt.what.exempt")
    return catalog.t(locale, "dues.exempt.what.reduce", amount=yuan(amount_fen))


def branch_screen(
    catalog: Catalog, locale: str | None, org_id: int, org_name: str
) -> tuple[str, InlineKeyboardMarkup]:
    """A branch's 减免党费: 登记减免 / 减免记录, and the rule."""
    p = catalog.plain
    rows = [[button(p(locale, "dues.exempt.new"), ExemptNew(org_id))],
            [button(p(locale, "dues.exempt.list"), ExemptList(org_id))]]  # fmt: skip
    return catalog.t(locale, "dues.exempt.title", branch=org_name), InlineKeyboardMarkup(rows)


def picker_screen(
    catalog: Catalog, locale: str | None, page: CandidatePage
) -> tuple[str, InlineKeyboardMarkup]:
    """The member picker: a page of names, 上一页 / 下一页, and typing part of a name."""
    p = catalog.plain
    if page.query:
        head = catalog.t(locale, "dues.exempt.pick_query", query=page.query, count=page.total)
    else:
        head = catalog.t(locale, "dues.exempt.pick", count=page.total)
    if page.pages > 1:
        head += "\n" + catalog.t(locale, "dues.exempt.page", page=page.page + 1,
                                 pages=page.pages)  # fmt: skip
    names = [InlineKeyboardButton(m.name, callback_data=ExemptStep("pick", m.id).pack())
             for m in page.members]  # fmt: skip
    rows = [names[i : i + 2] for i in range(0, len(names), 2)]
    turn: list[InlineKeyboardButton] = []
    if page.page > 0:
        turn.append(button(p(locale, "dues.exempt.prev"), ExemptStep("page", page.page - 1)))
    if page.page + 1 < page.pages:
        turn.append(button(p(locale, "dues.exempt.next"), ExemptStep("page", page.page + 1)))
    if turn:
        rows.append(turn)
    rows.append([button(p(locale, "wizard.cancel"), ExemptStep("cancel"))])
    return head, InlineKeyboardMarkup(rows)


def step_screen(
    catalog: Catalog,
    locale: str | None,
    draft: ExemptDraft,
    now: datetime,
    standard_fen: int | None = None,
) -> tuple[str, InlineKeyboardMarkup]:
    """The question of the draft's step (not the picker), with its buttons."""
    p = catalog.plain
    back = button(p(locale, "wizard.back"), ExemptStep("back"))
    cancel = button(p(locale, "wizard.cancel"), ExemptStep("cancel"))
    tail = [back, cancel]
    name = draft.member_name
    if draft.step == "kind":
        rows = [[button(p(locale, "dues.exempt.kind.exempt"), ExemptStep("kind", EXEMPT)),
                 button(p(locale, "dues.exempt.kind.reduce"), ExemptStep("kind", REDUCE))],
                tail]  # fmt: skip
        return catalog.t(locale, "dues.exempt.ask_kind", name=name), InlineKeyboardMarkup(rows)
    if draft.step == "amount":
        return catalog.t(locale, "dues.exempt.ask_amount", name=name), InlineKeyboardMarkup([tail])
    if draft.step == "from":
        this = month_of(now.date())
        rows = [[button(p(locale, "dues.exempt.from.this", month=_month(catalog, locale, this)),
                        ExemptStep("month", 0)),
                 button(p(locale, "dues.exempt.from.next",
                          month=_month(catalog, locale, add_months(this, 1))),
                        ExemptStep("month", 1))], tail]  # fmt: skip
        return catalog.t(locale, "dues.exempt.ask_from"), InlineKeyboardMarkup(rows)
    if draft.step == "until":
        spans = [button(p(locale, "dues.exempt.span", count=n,
                          until=_month(catalog, locale, add_months(draft.from_month, n - 1))),
                        ExemptStep("span", n)) for n in SPANS]  # fmt: skip
        text = catalog.t(locale, "dues.exempt.ask_until", limit=EXEMPT_MONTHS_MAX,
                         first=_month(catalog, locale, draft.from_month))  # fmt: skip
        return text, InlineKeyboardMarkup([[s] for s in spans] + [tail])
    if draft.step == "agreed":
        rows = [[button(p(locale, "dues.exempt.today"), ExemptStep("today"))], tail]
        return catalog.t(locale, "dues.exempt.ask_agreed"), InlineKeyboardMarkup(rows)
    if draft.step == "approver":
        return catalog.t(locale, "dues.exempt.ask_approver"), InlineKeyboardMarkup([tail])
    if draft.step == "reason":
        return catalog.t(locale, "dues.exempt.ask_reason"), InlineKeyboardMarkup([tail])
    return preview_screen(catalog, locale, draft, standard_fen)


def _standard(catalog: Catalog, locale: str | None, standard_fen: int | None) -> str:
    if standard_fen is None:
        return catalog.t(locale, "dues.exempt.no_standard")
    return catalog.t(locale, "dues.exempt.standard", amount=yuan(standard_fen))


def preview_screen(
    catalog: Catalog, locale: str | None, draft: ExemptDraft, standard_fen: int | None
) -> tuple[str, InlineKeyboardMarkup]:
    """Everything that will be recorded, with 确认 / 返回 / 取消."""
    text = catalog.t(
        locale, "dues.exempt.preview", name=draft.member_name,
        what=Html(what_text(catalog, locale, draft.amount_fen)),
        standard=Html(_standard(catalog, locale, standard_fen)),
        first=_month(catalog, locale, draft.from_month),
        last=_month(catalog, locale, draft.until_month),
        agreed=date.fromisoformat(draft.agreed_on).isoformat() if draft.agreed_on else "",
        approver=draft.approved_by, reason=draft.reason,
    )  # fmt: skip
    p = catalog.plain
    rows = [[button(p(locale, "dues.exempt.ok"), ExemptStep("ok"))],
            [button(p(locale, "wizard.back"), ExemptStep("back")),
             button(p(locale, "wizard.cancel"), ExemptStep("cancel"))]]  # fmt: skip
    return text, InlineKeyboardMarkup(rows)


def recorded_text(catalog: Catalog, locale: str | None, view: ExemptionView) -> str:
    """The keeper's reply after 确认."""
    return catalog.t(locale, "dues.exempt.recorded", name=view.name,
                     what=Html(what_text(catalog, locale, view.amount_fen)),
                     first=_month(catalog, locale, view.from_month),
                     last=_month(catalog, locale, view.until_month))  # fmt: skip


def member_told(catalog: Catalog, locale: str | None, draft: ExemptDraft) -> str:
    """What the member is told privately of a new record."""
    return catalog.t(locale, "dues.exempt.told", what=Html(what_text(catalog, locale,
                     draft.amount_fen)), first=_month(catalog, locale, draft.from_month),
                     last=_month(catalog, locale, draft.until_month),
                     agreed=draft.agreed_on, approver=draft.approved_by)  # fmt: skip


def _line(catalog: Catalog, locale: str | None, view: ExemptionView) -> str:
    return catalog.t(locale, "dues.exempt.line", name=view.name,
                     what=Html(what_text(catalog, locale, view.amount_fen)),
                     first=_month(catalog, locale, view.from_month),
                     last=_month(catalog, locale, view.until_month),
                     agreed=view.agreed_on.isoformat(), approver=view.approved_by,
                     reason=view.reason)  # fmt: skip


def list_screen(
    catalog: Catalog, locale: str | None, records: ExemptionList
) -> tuple[str, InlineKeyboardMarkup]:
    """减免记录: current and coming ones (each with 结束), then past ones."""
    p = catalog.plain
    parts = [catalog.t(locale, "dues.exempt.list_title", branch=records.org_name)]
    if not records.current and not records.past:
        parts.append(catalog.t(locale, "dues.exempt.list_empty"))
    if records.current:
        parts.append(catalog.t(locale, "dues.exempt.list_current") + "\n"
                     + "\n".join(_line(catalog, locale, v) for v in records.current))  # fmt: skip
    if records.past:
        parts.append(catalog.t(locale, "dues.exempt.list_past") + "\n"
                     + "\n".join(_line(catalog, locale, v) for v in records.past))  # fmt: skip
    rows = [[button(p(locale, "dues.exempt.end_button", name=v.name,
                      first=_month(catalog, locale, v.from_month)),
                    ExemptEnd(v.id, "ask"))]
            for v in records.current if v.until_month > records.this_month]  # fmt: skip
    rows.append([button(p(locale, "dues.exempt.new"), ExemptNew(records.org_id))])
    return "\n\n".join(parts), InlineKeyboardMarkup(rows)


def end_screen(
    catalog: Catalog, locale: str | None, view: ExemptionView, done: str, this_month: Month
) -> tuple[str, InlineKeyboardMarkup]:
    """What 结束 will do (end this month, or withdraw one not begun), with 确认结束."""
    key = "dues.exempt.end_ask" if done == "end" else "dues.exempt.withdraw_ask"
    text = catalog.t(locale, key, name=view.name,
                     what=Html(what_text(catalog, locale, view.amount_fen)),
                     first=_month(catalog, locale, view.from_month),
                     last=_month(catalog, locale, view.until_month),
                     month=_month(catalog, locale, this_month),
                     next=_month(catalog, locale, add_months(this_month, 1)))  # fmt: skip
    rows = [[button(catalog.plain(locale, "dues.exempt.end_ok"), ExemptEnd(view.id, "ok"))],
            [button(catalog.plain(locale, "dues.exempt.back_to_list"),
                    ExemptList(view.org_id))]]  # fmt: skip
    return text, InlineKeyboardMarkup(rows)


def end_told(catalog: Catalog, locale: str | None, view: ExemptionView, done: str,
             this_month: Month) -> str:  # fmt: skip
    """What the member is told when a record ends early or is withdrawn."""
    key = "dues.exempt.told_end" if done == "end" else "dues.exempt.told_withdraw"
    return catalog.t(locale, key, first=_month(catalog, locale, view.from_month),
                     month=_month(catalog, locale, this_month),
                     next=_month(catalog, locale, add_months(this_month, 1)))  # fmt: skip


def ended_text(catalog: Catalog, locale: str | None, view: ExemptionView, done: str,
               this_month: Month) -> str:  # fmt: skip
    """The keeper's reply after 确认结束."""
    key = "dues.exempt.ended" if done == "end" else "dues.exempt.withdrawn"
    return catalog.t(locale, key, name=view.name, month=_month(catalog, locale, this_month),
                     first=_month(catalog, locale, view.from_month))  # fmt: skip


def mine_text(catalog: Catalog, locale: str | None, view: ExemptionView) -> str:
    """我的党费's line about a reduction or exemption now or coming."""
    return catalog.t(locale, "dues.exempt.mine", what=Html(what_text(catalog, locale,
                     view.amount_fen)), first=_month(catalog, locale, view.from_month),
                     last=_month(catalog, locale, view.until_month))  # fmt: skip
