"""How 上缴 looks: the keeper's 上缴党费 screens and the note the committee's keepers get, and
the committee's 上缴情况 (a page of branches, totals, remittances to confirm, the workbook)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from domain.dues import Month, yuan
from domain.dues_remit import (
    COMMITTEE_PRESETS,
    KEEPER_PRESETS,
    REMIT_PROOF_PREFIX,
    RemitDraft,
    Span,
    preset,
)
from services.dues_remit import PAGE_SIZE, BranchRemits, RemitBoard, RemitText, RemitView
from ui.callbacks import CallbackData, button
from ui.dues_cycle import months_text
from ui.dues_ledger import BORDER, CENTER, MONEY
from ui.i18n import Catalog
from ui.ledger import day_text, safe_name


@dataclass(frozen=True)
class RemitStep(CallbackData):
    """上缴党费: open (org_id; 0: choose the branch), pick (a preset code), go, ok, today,
    yesterday, skip, back, redo, send (确认上缴), cancel."""

    prefix: ClassVar[str] = "drm"
    action: str
    org_id: int = 0
    code: str = ""


@dataclass(frozen=True)
class RemitProof(CallbackData):
    """看凭证: the photo of a remittance's receipt (domain.dues_remit.remit_proof_data)."""

    prefix: ClassVar[str] = REMIT_PROOF_PREFIX
    remittance_id: int


@dataclass(frozen=True)
class BoardAt(CallbackData):
    """上缴情况 of a committee for first…last at a page (committee 0: choose the committee;
    first 0: choose the period). `filtered` 1: narrowed to the typed part of a name."""

    prefix: ClassVar[str] = "drb"
    committee_id: int
    first: int
    last: int
    page: int
    filtered: int = 0


@dataclass(frozen=True)
class BoardAct(CallbackData):
    """On 上缴情况: find (type a name), all (clear it), xlsx, ok (确认收到 remittance_id)."""

    prefix: ClassVar[str] = "dra"
    committee_id: int
    first: int
    last: int
    action: str
    remittance_id: int = 0
    filtered: int = 0


PRESET_KEYS = {
    "lq": "dues.remit.preset.lq",
    "tq": "dues.remit.preset.tq",
    "lh": "dues.remit.preset.lh",
    "th": "dues.remit.preset.th",
    "ly": "dues.remit.preset.ly",
    "ty": "dues.remit.preset.ty",
}


def period_text(catalog: Catalog, locale: str, first: Month, last: Month) -> str:
    """ "2026年7月至2026年9月", or one month."""
    return months_text(catalog, locale, [first] if first == last else [first, last])


def _span_line(catalog: Catalog, locale: str, first: Month, last: Month, amount: int,
               confirmed: bool) -> str:  # fmt: skip
    state = catalog.plain(locale, "dues.remit.state_ok" if confirmed else "dues.remit.state_wait")
    return catalog.t(locale, "dues.remit.past_line", period=period_text(catalog, locale, first,
                     last), amount=yuan(amount), state=state)  # fmt: skip


def past_lines(catalog: Catalog, locale: str, spans: Sequence[Span]) -> list[str]:
    """The branch's earlier remittances, one line each (or a line saying there are none)."""
    if not spans:
        return [catalog.t(locale, "dues.remit.past_none")]
    return [catalog.t(locale, "dues.remit.past_head")] + [
        _span_line(catalog, locale, s.from_month, s.until_month, s.amount_fen, s.confirmed)
        for s in spans
    ]


# ---- the keeper's 上缴党费 ----


def remit_screen(
    catalog: Catalog, locale: str, draft: RemitDraft, today: date
) -> tuple[str, InlineKeyboardMarkup]:
    """The screen of the draft's step, with its buttons."""
    t, p = catalog.t, catalog.plain
    rows: list[list[InlineKeyboardButton]] = []
    back = button(p(locale, "dues.remit.back"), RemitStep("back"))
    head = t(locale, "dues.remit.head", branch=draft.branch, committee=draft.committee)
    period = period_text(catalog, locale, draft.from_month, draft.until_month)
    if draft.step == "period":
        for code in KEEPER_PRESETS:
            first, last = preset(code, today) or (0, 0)
            label = p(locale, PRESET_KEYS[code],
                      period=period_text(catalog, locale, first, last))  # fmt: skip
            rows.append([button(label, RemitStep("pick", code=code))])
        lines = [head, "", *past_lines(catalog, locale, draft.past), "",
                 t(locale, "dues.remit.ask_period")]  # fmt: skip
    elif draft.step == "overlap":
        lines = [head, "", t(locale, "dues.remit.overlap", period=period)]
        lines += [_span_line(catalog, locale, s.from_month, s.until_month, s.amount_fen,
                             s.confirmed) for s in draft.overlaps]  # fmt: skip
        lines += ["", t(locale, "dues.remit.overlap_why")]
        rows.append([button(p(locale, "dues.remit.go"), RemitStep("go"))])
        rows.append([button(p(locale, "dues.remit.other_period"), RemitStep("back"))])
    elif draft.step == "amount":
        lines = [head, t(locale, "dues.remit.period_line", period=period),
                 t(locale, "dues.remit.collected", amount=yuan(draft.collected_fen))]  # fmt: skip
        earlier = draft.collected_fen - draft.suggested_fen
        if earlier > 0:
            lines.append(t(locale, "dues.remit.remitted_before", amount=yuan(earlier)))
        lines += ["", t(locale, "dues.remit.ask_amount")]
        if draft.amount_fen > 0:
            rows.append([button(p(locale, "dues.remit.keep_amount", amount=yuan(draft.amount_fen)),
                                RemitStep("ok"))])  # fmt: skip
        rows.append([back])
    elif draft.step == "date":
        lines = [head, t(locale, "dues.remit.period_line", period=period),
                 t(locale, "dues.remit.amount_line", amount=yuan(draft.amount_fen)), "",
                 t(locale, "dues.remit.ask_date")]  # fmt: skip
        today_button = button(p(locale, "dues.remit.today"), RemitStep("today"))
        rows.append([today_button, button(p(locale, "dues.remit.yesterday"),
                                          RemitStep("yesterday"))])  # fmt: skip
        rows.append([back])
    elif draft.step == "proof":
        lines = [head, t(locale, "dues.remit.ask_proof")]
        rows.append([button(p(locale, "dues.remit.no_proof"), RemitStep("skip"))])
        rows.append([back])
    else:
        lines = [review_text(catalog, locale, draft)]
        rows.append([button(p(locale, "dues.remit.send"), RemitStep("send"))])
        rows.append([back, button(p(locale, "dues.remit.redo"), RemitStep("redo"))])
    rows.append([button(p(locale, "dues.remit.cancel"), RemitStep("cancel"))])
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def review_text(catalog: Catalog, locale: str, draft: RemitDraft) -> str:
    """The preview before 确认上缴."""
    proof = catalog.plain(
        locale, "dues.remit.proof_yes" if draft.proof_file_id else "dues.remit.proof_no"
    )
    return catalog.t(
        locale, "dues.remit.review", branch=draft.branch, committee=draft.committee,
        period=period_text(catalog, locale, draft.from_month, draft.until_month),
        collected=yuan(draft.collected_fen), amount=yuan(draft.amount_fen),
        day=day_text(catalog, locale, date.fromisoformat(draft.paid_on)), proof=proof,
    )  # fmt: skip


def remit_note(catalog: Catalog, locale: str, draft: RemitDraft) -> RemitText:
    """What the committee's keepers get, with 确认收到 (and 看凭证)."""
    proof = catalog.plain(
        locale, "dues.remit.note_proof" if draft.proof_file_id else "dues.remit.note_no_proof"
    )
    html = catalog.t(
        locale, "dues.remit.note", branch=draft.branch, committee=draft.committee,
        period=period_text(catalog, locale, draft.from_month, draft.until_month),
        amount=yuan(draft.amount_fen),
        day=day_text(catalog, locale, date.fromisoformat(draft.paid_on)), proof=proof,
    )  # fmt: skip
    return RemitText(html, catalog.plain(locale, "dues.remit.confirm_button"),
                     catalog.plain(locale, "dues.remit.proof_button"))  # fmt: skip


def remit_notes(catalog: Catalog, draft: RemitDraft) -> dict[str, RemitText]:
    """The note in every language the bot speaks."""
    return {locale: remit_note(catalog, locale, draft) for locale in catalog.locales}


def done_text(catalog: Catalog, locale: str, view: RemitView, past: Sequence[RemitView]) -> str:
    """After 确认上缴: what was recorded, who was told, and the branch's remittances."""
    t = catalog.t
    lines = [t(locale, "dues.remit.done", committee=view.committee,
               period=period_text(catalog, locale, view.from_month, view.until_month),
               amount=yuan(view.amount_fen),
               day=day_text(catalog, locale, view.paid_on))]  # fmt: skip
    lines.append(t(locale, "dues.remit.told", count=view.told) if view.told
                 else t(locale, "dues.remit.told_none"))  # fmt: skip
    spans = [Span(v.from_month, v.until_month, v.amount_fen, v.confirmed) for v in past]
    return "\n".join([*lines, "", *past_lines(catalog, locale, spans)])


# ---- the committee's 上缴情况 ----


def periods_screen(
    catalog: Catalog, locale: str, committee_id: int, committee: str, today: date
) -> tuple[str, InlineKeyboardMarkup]:
    """上缴情况: which period (quarters, halves, years)."""
    rows = []
    for code in COMMITTEE_PRESETS:
        first, last = preset(code, today) or (0, 0)
        label = catalog.plain(locale, PRESET_KEYS[code],
                              period=period_text(catalog, locale, first, last))  # fmt: skip
        rows.append([button(label, BoardAt(committee_id, first, last, 0))])
    text = catalog.t(locale, "dues.board.pick_period", committee=committee)
    return text, InlineKeyboardMarkup(rows)


def _board_line(catalog: Catalog, locale: str, number: int, row: BranchRemits) -> str:
    key = "dues.board.line_none" if row.remitted_fen == 0 else "dues.board.line"
    return catalog.t(locale, key, no=number, branch=row.name, due=yuan(row.due_fen),
                     collected=yuan(row.collected_fen), remitted=yuan(row.remitted_fen),
                     confirmed=yuan(row.confirmed_fen))  # fmt: skip


def board_screen(
    catalog: Catalog, locale: str, board: RemitBoard
) -> tuple[str, InlineKeyboardMarkup]:
    """A page of the committee's 上缴情况: the totals, the branches, the remittances waiting
    for 确认收到, paging, find by name, the workbook."""
    t, p = catalog.t, catalog.plain
    period = period_text(catalog, locale, board.from_month, board.until_month)
    lines = [t(locale, "dues.board.head", committee=board.committee, period=period)]
    if board.query:
        lines.append(t(locale, "dues.board.filtered", query=board.query))
    lines.append(t(locale, "dues.board.totals", branches=board.branches,
                   due=yuan(board.due_fen), collected=yuan(board.collected_fen),
                   remitted=yuan(board.remitted_fen), confirmed=yuan(board.confirmed_fen),
                   none=board.none_remitted))  # fmt: skip
    lines.append("")
    if not board.rows:
        lines.append(t(locale, "dues.board.empty"))
    start = board.page * PAGE_SIZE
    lines += [_board_line(catalog, locale, start + i + 1, r) for i, r in enumerate(board.rows)]
    if board.pages > 1:
        lines.append(t(locale, "dues.board.page", page=board.page + 1, pages=board.pages))
    key = (board.committee_id, board.from_month, board.until_month)
    filtered = 1 if board.query else 0
    rows: list[list[InlineKeyboardButton]] = []
    if board.pending:
        lines += ["", t(locale, "dues.board.pending", count=board.pending_count)]
        for view in board.pending:
            lines.append(t(locale, "dues.board.pending_line", branch=view.branch,
                           period=period_text(catalog, locale, view.from_month,
                                              view.until_month),
                           amount=yuan(view.amount_fen),
                           day=day_text(catalog, locale, view.paid_on)))  # fmt: skip
            line: list[InlineKeyboardButton] = []
            if board.can_confirm:
                line.append(button(p(locale, "dues.board.confirm", branch=view.branch[:12],
                                     amount=yuan(view.amount_fen)),
                                   BoardAct(*key, "ok", view.id, filtered)))  # fmt: skip
            if view.proof_file_id:
                line.append(button(p(locale, "dues.remit.proof_button"), RemitProof(view.id)))
            if line:
                rows.append(line)
    paging: list[InlineKeyboardButton] = []
    if board.page > 0:
        paging.append(button(p(locale, "dues.board.prev"),
                             BoardAt(*key, board.page - 1, filtered)))  # fmt: skip
    if board.page + 1 < board.pages:
        paging.append(button(p(locale, "dues.board.next"),
                             BoardAt(*key, board.page + 1, filtered)))  # fmt: skip
    if paging:
        rows.append(paging)
    if board.query:
        rows.append([button(p(locale, "dues.board.all"), BoardAt(*key, 0, 0))])
    find = button(p(locale, "dues.board.find"), BoardAct(*key, "find"))
    rows.append([find, button(p(locale, "dues.board.xlsx"),
                              BoardAct(*key, "xlsx", 0, filtered))])  # fmt: skip
    rows.append([button(p(locale, "dues.board.other_period"),
                        BoardAt(board.committee_id, 0, 0, 0))])  # fmt: skip
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def board_xlsx(
    catalog: Catalog, locale: str, board: RemitBoard, lines: Sequence[BranchRemits]
) -> bytes:
    """The same table as a workbook: every matching branch, amounts in yuan, a totals row."""

    def p(key: str, **params: object) -> str:
        return catalog.plain(locale, key, **params)

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = p("dues.board.sheet")
    period = period_text(catalog, locale, board.from_month, board.until_month)
    sheet.cell(row=1, column=1, value=p("dues.board.xlsx_title", committee=board.committee,
                                        period=period)).font = Font(bold=True, size=14)  # fmt: skip
    headers = [p("dues.ledger.col.no"), p("dues.board.col.branch"), p("dues.board.col.due"),
               p("dues.board.col.collected"), p("dues.board.col.remitted"),
               p("dues.board.col.confirmed"), p("dues.board.col.note")]  # fmt: skip
    for index, text in enumerate(headers, 1):
        cell = sheet.cell(row=2, column=index, value=text)
        cell.font, cell.alignment, cell.border = Font(bold=True), CENTER, BORDER
        sheet.column_dimensions[get_column_letter(index)].width = 28 if index == 2 else 13
    row_no = 3
    none = p("dues.board.col.none")
    for number, line in enumerate(lines, 1):
        values: list[object] = [number, line.name, line.due_fen / 100, line.collected_fen / 100,
                                line.remitted_fen / 100, line.confirmed_fen / 100,
                                none if line.remitted_fen == 0 else ""]  # fmt: skip
        _cells(sheet, row_no, values)
        row_no += 1
    totals: list[object] = ["", p("dues.ledger.col.sum"), board.due_fen / 100,
                            board.collected_fen / 100, board.remitted_fen / 100,
                            board.confirmed_fen / 100, ""]  # fmt: skip
    _cells(sheet, row_no, totals)
    for index in range(1, len(totals) + 1):
        sheet.cell(row=row_no, column=index).font = Font(bold=True)
    sheet.freeze_panes = "C3"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cells(sheet: object, row: int, values: list[object]) -> None:
    for index, value in enumerate(values, 1):
        cell = sheet.cell(row=row, column=index, value=value)  # type: ignore[attr-defined]
        cell.border = BORDER
        if isinstance(value, float):
            cell.number_format = MONEY


def board_filename(catalog: Catalog, locale: str, board: RemitBoard) -> str:
    """上缴情况_党委_202607-202609.xlsx"""
    name = catalog.plain(locale, "dues.board.filename", committee=safe_name(board.committee),
                         first=board.from_month, last=board.until_month)  # fmt: skip
    return name + ".xlsx"


def board_caption(catalog: Catalog, locale: str, board: RemitBoard) -> str:
    """The workbook's caption."""
    return catalog.t(locale, "dues.board.xlsx_caption", committee=board.committee,
                     period=period_text(catalog, locale, board.from_month, board.until_month),
                     branches=board.branches)  # fmt: skip
