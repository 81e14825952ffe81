"""How dues ledgers look: the 党费交纳登记表 workbook (print-ready, landscape A4), the
committee's roll-up as text and a chart of collection rates, and the 党费台账 buttons."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import ClassVar

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from telegram import InlineKeyboardButton

from domain.dues import yuan
from services.dues import OrgRef
from services.dues_ledger import Register, Rollup
from ui.callbacks import CallbackData, button
from ui.compliance_chart import ChartLabels, ChartRow, render_chart
from ui.i18n import Catalog
from ui.ledger import safe_name


@dataclass(frozen=True)
class LedgerOpen(CallbackData):
    """党费台账: kind "menu" (org 0), "reg" (a branch's register) or "sum" (a roll-up)."""

    prefix: ClassVar[str] = "dpl"
    kind: str
    org_id: int
    year: int


THIN = Side(style="thin")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
MONEY = "0.00"


def register_xlsx(catalog: Catalog, locale: str, register: Register) -> bytes:
    """The 党费交纳登记表: a member per row, the months across, amounts in yuan, totals."""

    def p(key: str, **params: object) -> str:
        return catalog.plain(locale, key, **params)

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = p("dues.ledger.sheet", year=register.year)
    headers = [p("dues.ledger.col.no"), p("dues.ledger.col.name")]
    headers += [p("dues.ledger.col.month", month=m) for m in range(1, 13)]
    headers += [p("dues.ledger.col.extra"), p("dues.ledger.col.total")]
    title = p("dues.ledger.title", branch=register.org_name, year=register.year)
    sheet.cell(row=1, column=1, value=title).font = Font(bold=True, size=14)
    sheet.cell(row=1, column=1).alignment = CENTER
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    sheet.row_dimensions[1].height = 28
    for index, text in enumerate(headers, 1):
        cell = sheet.cell(row=2, column=index, value=text)
        cell.font, cell.alignment, cell.border = Font(bold=True), CENTER, BORDER
        width = 6 if index == 1 else 12 if index == 2 else 9
        sheet.column_dimensions[get_column_letter(index)].width = width
    row_no = 3
    for number, line in enumerate(register.rows, 1):
        values: list[object] = [number, line.name]
        values += [fen / 100 if fen else None for fen in line.months]
        values += [line.extra_fen / 100 if line.extra_fen else None, line.total_fen / 100]
        _row(sheet, row_no, values)
        row_no += 1
    totals: list[object] = ["", p("dues.ledger.col.sum")]
    totals += [fen / 100 for fen in register.month_totals]
    totals += [register.extra_total / 100, register.total_fen / 100]
    _row(sheet, row_no, totals)
    for index in range(1, len(totals) + 1):
        sheet.cell(row=row_no, column=index).font = Font(bold=True)
    sheet.freeze_panes = "C3"
    sheet.print_title_rows = "1:2"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _row(sheet: object, row: int, values: list[object]) -> None:
    for index, value in enumerate(values, 1):
        cell = sheet.cell(row=row, column=index, value=value)  # type: ignore[attr-defined]
        cell.border, cell.alignment = BORDER, CENTER
        if isinstance(value, float):
            cell.number_format = MONEY


def register_filename(catalog: Catalog, locale: str, register: Register) -> str:
    """党费交纳登记表_支部_2026.xlsx"""
    name = catalog.plain(locale, "dues.ledger.filename", branch=safe_name(register.org_name),
                         year=register.year)  # fmt: skip
    return name + ".xlsx"


def _rate_text(rate: float | None) -> str:
    return "—" if rate is None else f"{round(rate * 100)}%"


def rollup_text(catalog: Catalog, locale: str, rollup: Rollup, shown: int = 30) -> str:
    """The roll-up as a message: overall figures, then the weakest branches."""
    t = catalog.t
    rate = rollup.paid_fen / rollup.due_fen if rollup.due_fen else None
    lines = [t(locale, "dues.ledger.sum_head", org=rollup.org_name, year=rollup.year,
               branches=len(rollup.branches), due=yuan(rollup.due_fen),
               paid=yuan(rollup.paid_fen), rate=_rate_text(rate))]  # fmt: skip
    weakest = sorted(rollup.branches, key=lambda b: b.rate if b.rate is not None else 2.0)
    for branch in weakest[:shown]:
        lines.append(t(locale, "dues.ledger.sum_line", name=branch.name, members=branch.members,
                       due=yuan(branch.due_fen), paid=yuan(branch.paid_fen),
                       rate=_rate_text(branch.rate), a=branch.behind_1_2, b=branch.behind_3_5,
                       c=branch.behind_6))  # fmt: skip
    if len(rollup.branches) > shown:
        lines.append(t(locale, "dues.ledger.sum_more", count=len(rollup.branches) - shown))
    return "\n".join(lines)


def rollup_chart(catalog: Catalog, locale: str, rollup: Rollup) -> bytes:
    """The collection rate by branch, and the share of members with nothing owed (the
    compliance chart's layout)."""

    def p(key: str, **params: object) -> str:
        return catalog.plain(locale, key, **params)

    labels = ChartLabels(
        title=p("dues.ledger.chart_title", org=rollup.org_name, year=rollup.year),
        subtitle=p("dues.ledger.chart_subtitle", branches=len(rollup.branches)),
        compliance=p("dues.ledger.chart_rate"),
        attendance=p("dues.ledger.chart_clear"),
        branches=p("dues.ledger.chart_branches"),
        weakest=p("dues.ledger.chart_weakest"),
        compliance_distribution=p("dues.ledger.chart_distribution"),
        attendance_distribution=p("dues.ledger.chart_clear_distribution"),
        median=lambda value: p("dues.ledger.chart_median", value=value),
        no_data=p("dues.ledger.chart_no_data"),
    )
    rows = [ChartRow(b.name, b.rate, b.clear_share) for b in rollup.branches]
    return render_chart(rows, labels)


LedgerItem = tuple[str, OrgRef]  # "reg" (a branch's register) or "sum" (a roll-up), and whose


def ledger_items(views: tuple[OrgRef, ...], totals: tuple[OrgRef, ...]) -> list[LedgerItem]:
    """党费台账's list: a register per branch whose members one sees, then a roll-up per
    organization one sees as totals."""
    return [("reg", org) for org in views] + [("sum", org) for org in totals]


def ledger_label(catalog: Catalog, locale: str, item: LedgerItem, year: int) -> str:
    """One register's or roll-up's button."""
    key = "dues.ledger.reg_button" if item[0] == "reg" else "dues.ledger.sum_button"
    return catalog.plain(locale, key, org=item[1].name, year=year)


def year_row(catalog: Catalog, locale: str, year: int) -> list[InlineKeyboardButton]:
    """上一年 / 下一年 under 党费台账's list."""
    return [
        button(catalog.plain(locale, "dues.ledger.prev_year"), LedgerOpen("menu", 0, year - 1)),
        button(catalog.plain(locale, "dues.ledger.next_year"), LedgerOpen("menu", 0, year + 1)),
    ]
