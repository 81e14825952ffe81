"""How payments look: the 我已交纳 screens, the keeper's 确认 / 退回 note, the month grid."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from domain.dues import Month, add_months, yuan
from domain.dues_pay import ImportDraft, PayDraft
from services.dues_payments import CLAIM_SLOT, ClaimView, Grid, GridRow, Note
from services.dues_payments import PAGE as GRID_PAGE
from ui.callbacks import CallbackData, button
from ui.i18n import Catalog


@dataclass(frozen=True)
class PayStep(CallbackData):
    """A 我已交纳 button: open, toggle a month (value), next, skip, back, redo, submit, cancel."""

    prefix: ClassVar[str] = "dp"
    action: str
    value: int = 0


@dataclass(frozen=True)
class Decide(CallbackData):
    """The keeper's buttons on a claim: ok (确认), no (退回), proof (看截图)."""

    prefix: ClassVar[str] = "dpd"
    claim_id: int
    action: str


@dataclass(frozen=True)
class GridOpen(CallbackData):
    """登记交费: a branch's month grid at a page (org 0: choose the branch first)."""

    prefix: ClassVar[str] = "dpg"
    org_id: int
    month: int
    page: int


@dataclass(frozen=True)
class GridAll(CallbackData):
    """显示全部 on a month grid narrowed by a typed part of a name."""

    prefix: ClassVar[str] = "dpa"
    org_id: int
    month: int


@dataclass(frozen=True)
class GridTap(CallbackData):
    """A member tapped in the grid: pay (record), ask (offer a correction), fix (correct)."""

    prefix: ClassVar[str] = "dpt"
    org_id: int
    month: int
    page: int
    member_id: int
    action: str


def month_text(month: Month) -> str:
    """202609 → "2026-09"."""
    return f"{month // 100}-{month % 100:02d}"


def months_text(months: tuple[Month, ...] | list[Month]) -> str:
    """Months as a short list: "2026-10、2026-11"."""
    return "、".join(month_text(m) for m in months)


# ---- 我已交纳 ----


def pay_screen(catalog: Catalog, locale: str, draft: PayDraft) -> tuple[str, InlineKeyboardMarkup]:
    """The screen of the draft's step, with its buttons."""
    t, p = catalog.t, catalog.plain
    rows: list[list[InlineKeyboardButton]] = []
    cancel = [button(p(locale, "dues.pay.cancel"), PayStep("cancel"))]
    back = button(p(locale, "dues.pay.back"), PayStep("back"))
    if draft.step == "months":
        for due in draft.offered:
            mark = "✅" if due.month in draft.chosen else "⬜"
            label = p(locale, "dues.pay.month_button", mark=mark, month=month_text(due.month),
                      amount=yuan(due.owed_fen))  # fmt: skip
            rows.append([button(label, PayStep("toggle", due.month))])
        rows.append([button(p(locale, "dues.pay.next"), PayStep("next"))])
        text = t(locale, "dues.pay.months", count=len(draft.chosen), amount=yuan(draft.amount_fen))
    elif draft.step == "extra":
        rows.append([button(p(locale, "dues.pay.no_extra"), PayStep("skip"))])
        rows.append([back])
        text = t(locale, "dues.pay.extra")
    elif draft.step == "proof":
        rows.append([button(p(locale, "dues.pay.no_proof"), PayStep("skip"))])
        rows.append([back])
        text = t(locale, "dues.pay.proof")
    else:
        proof = p(locale, "dues.pay.proof_yes" if draft.proof_file_id else "dues.pay.proof_no")
        text = t(locale, "dues.pay.review", months=months_text(draft.chosen),
                 amount=yuan(draft.amount_fen), extra=yuan(draft.extra_fen), proof=proof,
                 total=yuan(draft.amount_fen + draft.extra_fen))  # fmt: skip
        rows.append([button(p(locale, "dues.pay.submit"), PayStep("submit"))])
        rows.append([back, button(p(locale, "dues.pay.redo"), PayStep("redo"))])
    rows.append(cancel)
    return text, InlineKeyboardMarkup(rows)


def keeper_note(catalog: Catalog, locale: str, draft: PayDraft) -> Note:
    """The note the keepers get for a new claim, with 确认 / 退回 (and 看截图)."""
    text = catalog.t(locale, "dues.pay.keeper_note", org=draft.org_name, name=draft.member_name,
                     months=months_text(draft.chosen), amount=yuan(draft.amount_fen),
                     extra=yuan(draft.extra_fen),
                     total=yuan(draft.amount_fen + draft.extra_fen))  # fmt: skip
    slot = Decide.prefix + ":" + CLAIM_SLOT + ":"
    row = [(catalog.plain(locale, "dues.pay.confirm"), "cb:" + slot + "ok"),
           (catalog.plain(locale, "dues.pay.reject"), "cb:" + slot + "no")]  # fmt: skip
    buttons = [row]
    if draft.proof_file_id:
        buttons.append([(catalog.plain(locale, "dues.pay.see_proof"), "cb:" + slot + "proof")])
    return Note(text, buttons)


def member_note(
    catalog: Catalog, locale: str, claim: ClaimView, *, accept: bool, reason: str = ""
) -> Note:
    """What the member is told when the keeper decides."""
    total = yuan(claim.amount_fen + claim.extra_fen)
    if accept:
        return Note(catalog.t(locale, "dues.pay.member_confirmed",
                              months=months_text(claim.months), total=total))  # fmt: skip
    return Note(catalog.t(locale, "dues.pay.member_rejected", months=months_text(claim.months),
                          reason=reason))  # fmt: skip


def decided_text(catalog: Catalog, locale: str, claim: ClaimView) -> str:
    """The keeper's note once decided (buttons taken off)."""
    if claim.status == "confirmed":
        return catalog.t(locale, "dues.pay.confirmed_keeper", name=claim.member_name,
                         months=months_text(claim.months),
                         total=yuan(claim.amount_fen + claim.extra_fen))  # fmt: skip
    return catalog.t(locale, "dues.pay.rejected_keeper", name=claim.member_name,
                     reason=claim.reason or "")  # fmt: skip


# ---- the month grid ----

MARKS = {"paid": "✓", "unpaid": "✗", "exempt": "免", "none": "—"}


def grid_screen(catalog: Catalog, locale: str, grid: Grid) -> tuple[str, InlineKeyboardMarkup]:
    """A page of the branch's members for the month: tap to record, tap a paid one to correct."""
    p = catalog.plain
    rows: list[list[InlineKeyboardButton]] = []
    for row in grid.rows:
        action = "ask" if row.state == "paid" else "pay"
        label = p(locale, "dues.grid.row", mark=MARKS[row.state], name=row.name)
        rows.append(
            [button(label, GridTap(grid.org_id, grid.month, grid.page, row.member_id, action))]
        )
    paging: list[InlineKeyboardButton] = []
    if grid.page > 0:
        paging.append(button(p(locale, "dues.grid.page_prev"),
                             GridOpen(grid.org_id, grid.month, grid.page - 1)))  # fmt: skip
    if grid.page + 1 < grid.pages:
        paging.append(button(p(locale, "dues.grid.page_next"),
                             GridOpen(grid.org_id, grid.month, grid.page + 1)))  # fmt: skip
    if paging:
        rows.append(paging)
    if grid.find:
        rows.append([button(p(locale, "picker.show_all"), GridAll(grid.org_id, grid.month))])
    rows.append([
        button(p(locale, "dues.grid.prev"), GridOpen(grid.org_id, add_months(grid.month, -1), 0)),
        button(p(locale, "dues.grid.next"), GridOpen(grid.org_id, add_months(grid.month, 1), 0)),
    ])  # fmt: skip
    rows.append([button(p(locale, "dues.import.button"), ImportStep(grid.org_id, "start"))])
    lines = [catalog.t(locale, "dues.grid.title", org=grid.org_name, month=month_text(grid.month),
                       paid=grid.paid_count, total=grid.total)]  # fmt: skip
    # As on every picker: what the list is narrowed to, and that typing a name finds one.
    if grid.find:
        key = "picker.found" if grid.found else "picker.none"
        lines.append(catalog.t(locale, key, part=grid.find, count=grid.found))
    if grid.pages > 1:
        first = grid.page * GRID_PAGE + 1
        lines.append(catalog.t(locale, "picker.page", first=first,
                               last=first + len(grid.rows) - 1, total=grid.found))  # fmt: skip
    if grid.find or grid.pages > 1:
        lines.append(catalog.t(locale, "picker.hint"))
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def ask_fix_screen(
    catalog: Catalog, locale: str, grid: GridOpen, row: GridRow
) -> tuple[str, InlineKeyboardMarkup]:
    """A second tap on a paid member: correct it to unpaid?"""
    text = catalog.t(locale, "dues.grid.ask_fix", name=row.name, month=month_text(grid.month),
                     amount=yuan(row.paid_fen))  # fmt: skip
    keyboard = InlineKeyboardMarkup([[
        button(catalog.plain(locale, "dues.grid.fix"),
               GridTap(grid.org_id, grid.month, grid.page, row.member_id, "fix")),
        button(catalog.plain(locale, "dues.grid.keep"), grid),
    ]])  # fmt: skip
    return text, keyboard


# ---- a keeper's payments sheet ----


@dataclass(frozen=True)
class ImportStep(CallbackData):
    """导入交费表: start (for a branch), apply (the preview), cancel."""

    prefix: ClassVar[str] = "dpi"
    org_id: int
    action: str


PROBLEM_KEYS = {
    "dues.import.unknown": "dues.import.reason.unknown",
    "dues.import.ambiguous": "dues.import.reason.ambiguous",
    "dues.import.month": "dues.import.reason.month",
    "dues.import.amount": "dues.import.reason.amount",
    "dues.import.already": "dues.import.reason.already",
}
PROBLEMS_SHOWN = 15


def import_preview(
    catalog: Catalog, locale: str, draft: ImportDraft
) -> tuple[str, InlineKeyboardMarkup]:
    """What the sheet would record, the rows it would not (and why), 确认导入 / 取消."""
    lines = [catalog.t(locale, "dues.import.preview", count=len(draft.lines),
                       amount=yuan(sum(x.amount_fen for x in draft.lines)),
                       skipped=len(draft.problems))]  # fmt: skip
    for problem in draft.problems[:PROBLEMS_SHOWN]:
        reason = catalog.plain(locale, PROBLEM_KEYS.get(problem.code, "dues.import.reason.month"))
        lines.append(catalog.t(locale, "dues.import.problem", line=problem.line,
                               text=problem.text[:30], reason=reason))  # fmt: skip
    if len(draft.problems) > PROBLEMS_SHOWN:
        lines.append(catalog.t(locale, "dues.import.more",
                               count=len(draft.problems) - PROBLEMS_SHOWN))  # fmt: skip
    rows = []
    if draft.lines:
        rows.append([button(catalog.plain(locale, "dues.import.apply"),
                            ImportStep(draft.org_id, "apply"))])  # fmt: skip
    rows.append([button(catalog.plain(locale, "dues.import.cancel"),
                        ImportStep(draft.org_id, "cancel"))])  # fmt: skip
    return "\n".join(lines), InlineKeyboardMarkup(rows)
