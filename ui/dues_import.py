"""How 批量设置标准 looks: its buttons (prefix "dsb"), the template sheet, the dry-run preview,
the keeper's reply and the note each member gets."""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

import openpyxl
from openpyxl.styles import Alignment, Font
from telegram import InlineKeyboardMarkup

from domain.dues import Category
from domain.dues_import import MAX_ROWS, BulkDraft, StandardKey
from services.dues_import import Applied
from services.dues_standards import StandardView
from ui.callbacks import CallbackData, button
from ui.dues_notes import in_every_locale
from ui.dues_standards import CATEGORY_KEYS, standard_text
from ui.i18n import Catalog


@dataclass(frozen=True)
class BulkStep(CallbackData):
    """批量设置标准: start (for a branch; 0: choose the branch), apply (确认导入), cancel."""

    prefix: ClassVar[str] = "dsb"
    org_id: int
    action: str


COLUMN_KEYS = ("dues.bulk.col.name", "dues.bulk.col.category", "dues.bulk.col.amount",
               "dues.bulk.col.base", "dues.bulk.col.from")  # fmt: skip
PROBLEM_KEYS = {
    "dues.bulk.unknown": "dues.bulk.reason.unknown",
    "dues.bulk.ambiguous": "dues.bulk.reason.ambiguous",
    "dues.bulk.duplicate": "dues.bulk.reason.duplicate",
    "dues.bulk.category": "dues.bulk.reason.category",
    "dues.bulk.month": "dues.bulk.reason.month",
    "dues.bulk.amount": "dues.bulk.reason.amount",
    "dues.bulk.base": "dues.bulk.reason.base",
    "dues.bulk.fixed": "dues.bulk.reason.fixed",
    "dues.bulk.mismatch": "dues.bulk.reason.mismatch",
    "dues.bulk.missing": "dues.bulk.reason.missing",
    "dues.bulk.farmer_missing": "dues.bulk.reason.farmer_missing",
    "dues.bulk.farmer_range": "dues.bulk.reason.farmer_range",
}
PROBLEMS_SHOWN = 15
NAME_SHOWN = 20  # characters of a name quoted back


def template_name(catalog: Catalog, locale: str) -> str:
    """The template's file name."""
    return catalog.plain(locale, "dues.bulk.template_name") + ".xlsx"


def standards_template(catalog: Catalog, locale: str) -> bytes:
    """The sheet to fill in: the five headers, and a help sheet (categories as accepted,
    how the amount is worked out, that a base is not kept)."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = catalog.plain(locale, "dues.bulk.sheet")
    sheet.append([catalog.plain(locale, key) for key in COLUMN_KEYS])
    bold = Font(bold=True)
    for index, cell in enumerate(sheet[1]):
        cell.font = bold
        letter = cell.column_letter
        sheet.column_dimensions[letter].width = 14 if index != 3 else 20
        sheet.column_dimensions[letter].number_format = "@" if index == 4 else "General"
    sheet.freeze_panes = "A2"
    help_sheet = book.create_sheet(catalog.plain(locale, "dues.bulk.help_sheet"))
    categories = ("、" if locale.startswith("zh") else ", ").join(
        catalog.plain(locale, CATEGORY_KEYS[c]) for c in Category
    )
    text = catalog.plain(locale, "dues.bulk.help", categories=categories, limit=MAX_ROWS)
    for line in text.split("\n"):
        help_sheet.append([line])
    help_sheet.column_dimensions["A"].width = 100
    for row in help_sheet.iter_rows():
        row[0].alignment = Alignment(wrap_text=True, vertical="top")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def preview(
    catalog: Catalog, locale: str, branch: str, draft: BulkDraft
) -> tuple[str, InlineKeyboardMarkup]:
    """The dry run: counts, the first problems with their row numbers, 确认导入 / 取消."""
    t = catalog.t
    parts = [t(locale, "dues.bulk.preview", branch=branch, new=draft.new_count,
               changed=draft.changed_count, unchanged=draft.unchanged,
               problems=draft.problem_count)]  # fmt: skip
    for problem in draft.problems[:PROBLEMS_SHOWN]:
        name = problem.text if len(problem.text) <= NAME_SHOWN else problem.text[:NAME_SHOWN] + "…"
        reason = catalog.plain(locale, PROBLEM_KEYS.get(problem.code, "dues.bulk.reason.amount"))
        parts.append(t(locale, "dues.bulk.problem", line=problem.line, name=name or "—",
                       reason=reason))  # fmt: skip
    if draft.problem_count > PROBLEMS_SHOWN:
        parts.append(t(locale, "dues.bulk.more", count=draft.problem_count - PROBLEMS_SHOWN))
    rows = []
    if draft.lines:
        rows.append([button(catalog.plain(locale, "dues.bulk.apply"),
                            BulkStep(draft.org_id, "apply"))])  # fmt: skip
    else:
        parts.append(t(locale, "dues.bulk.nothing"))
    rows.append([button(catalog.plain(locale, "dues.bulk.cancel"),
                        BulkStep(draft.org_id, "cancel"))])  # fmt: skip
    return "\n".join(parts), InlineKeyboardMarkup(rows)


def done_text(catalog: Catalog, locale: str, applied: Applied) -> str:
    """The keeper's reply once applied."""
    return catalog.t(locale, "dues.bulk.done", new=applied.new, changed=applied.changed,
                     told=applied.told)  # fmt: skip


def member_notes(
    catalog: Catalog, keys: Iterable[StandardKey]
) -> dict[StandardKey, dict[str, str]]:
    """The note a member gets for each distinct standard set, in every language."""
    notes: dict[StandardKey, dict[str, str]] = {}
    for key in set(keys):
        category, amount, permille, lower, upper, month = key
        view = StandardView(Category(category), amount, permille, lower, upper, month)
        notes[key] = in_every_locale(
            catalog,
            lambda locale, view=view: catalog.t(  # type: ignore[misc]
                locale, "dues.bulk.told", standard=standard_text(catalog, locale, view)
            ),
        )
    return notes
