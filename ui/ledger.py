"""The ledger (台账) as a workbook: the meetings, each member's attendance and the required
meetings of a period, print-ready; and the wording it shares with the /ledger screens."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import date
from fractions import Fraction

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from domain.compliance import MeetingType, Period, PeriodKind
from domain.meetings import Audience
from domain.meetings_attendance import Mark
from services.ledger import Ledger, LedgerMeeting, Standing
from ui.i18n import Catalog
from ui.meetings import TYPE_KEYS
from ui.render import MONTH_KEYS, STAGE_KEYS, WEEKDAY_KEYS

MARK_KEYS: dict[Mark, str] = {
    Mark.PRESENT: "ledger.mark.present",
    Mark.PROXY: "ledger.mark.proxy",
    Mark.LATE: "ledger.mark.late",
    Mark.LEAVE: "ledger.mark.leave",
    Mark.ABSENT: "ledger.mark.absent",
    Mark.NOT_EXPECTED: "ledger.mark.not_expected",
}
SHORT_TYPE_KEYS: dict[MeetingType, str] = {
    MeetingType.GENERAL_MEETING: "ledger.short.general_meeting",
    MeetingType.COMMITTEE_MEETING: "ledger.short.committee_meeting",
    MeetingType.GROUP_MEETING: "ledger.short.group_meeting",
    MeetingType.PARTY_LESSON: "ledger.short.party_lesson",
    MeetingType.THEME_DAY: "ledger.short.theme_day",
    MeetingType.LIFE_MEETING: "ledger.short.life_meeting",
    MeetingType.DEMOCRATIC_EVALUATION: "ledger.short.democratic_evaluation",
    MeetingType.HEART_TALK: "ledger.short.heart_talk",
}
STANDING_KEYS: dict[Standing, str] = {
    Standing.MET: "ledger.standing.met",
    Standing.UNMET: "ledger.standing.unmet",
    Standing.OPEN: "ledger.standing.open",
    Standing.EXEMPT: "ledger.standing.exempt",
}
REQUIREMENT_KEYS: dict[PeriodKind, str] = {
    PeriodKind.MONTH: "ledger.req.month",
    PeriodKind.QUARTER: "ledger.req.quarter",
    PeriodKind.HALF_YEAR: "ledger.req.half_year",
    PeriodKind.YEAR: "ledger.req.year",
}
AUDIENCE_KEYS: dict[Audience, str] = {
    Audience.BRANCH: "ledger.audience.branch",
    Audience.COMMITTEE: "ledger.audience.committee",
}
MEETING_COLUMNS: tuple[tuple[str, int], ...] = (
    ("ledger.col.no", 6),
    ("ledger.col.date", 18),
    ("ledger.col.time", 8),
    ("ledger.col.types", 16),
    ("ledger.col.topic", 22),
    ("ledger.col.place", 16),
    ("ledger.col.audience", 10),
    ("ledger.col.host", 10),
    ("ledger.col.recorder", 10),
    ("ledger.col.lecturer", 10),
    ("ledger.col.expected", 7),
    ("ledger.col.present", 7),
    ("ledger.col.self", 7),
    ("ledger.col.proxy", 7),
    ("ledger.col.late", 7),
    ("ledger.col.leave", 7),
    ("ledger.col.absent", 7),
    ("ledger.col.rate", 8),
    ("ledger.col.quorum", 20),
    ("ledger.col.minutes", 9),
    ("ledger.col.summary", 30),
)
# Attendance sheet: 序号, 姓名, 身份, one column per meeting, then the totals.
MEMBER_COLUMNS: tuple[tuple[str, int], ...] = (
    ("ledger.col.no", 6),
    ("ledger.col.name", 12),
    ("ledger.col.stage", 12),
)
TOTAL_COLUMNS: tuple[tuple[str, int], ...] = (
    ("ledger.col.attended", 8),
    ("ledger.col.should", 8),
    ("ledger.col.member_rate", 9),
)
COMPLIANCE_COLUMNS: tuple[tuple[str, int], ...] = (
    ("ledger.col.type", 18),
    ("ledger.col.group", 12),
    ("ledger.col.period", 16),
    ("ledger.col.requirement", 14),
    ("ledger.col.held", 9),
    ("ledger.col.standing", 16),
)
MEETING_CELL_WIDTH = 11


# ---- wording shared with the spreadsheet ----


def safe_name(name: str) -> str:
    """A branch name fit for a file name: letters, digits (any script), - and _ only."""
    cleaned = re.sub(r"[^\w-]+", "_", name).strip("_")
    return cleaned[:40] or "branch"


def day_text(catalog: Catalog, locale: str, day: date, *, weekday: bool = False) -> str:
    """ "2026年10月10日" (or "…（周六）" with the weekday) / "10 Oct 2026"."""
    return catalog.plain(
        locale,
        "ledger.date" if weekday else "ledger.day_year",
        year=day.year,
        month_name=catalog.plain(locale, MONTH_KEYS[day.month - 1]),
        day=day.day,
        weekday=catalog.plain(locale, WEEKDAY_KEYS[day.weekday()]),
    )


def period_text(catalog: Catalog, locale: str, start: date, end: date) -> str:
    """ "2026年10月1日至2026年12月31日" / "1 Oct 2026 – 31 Dec 2026"."""
    return catalog.plain(
        locale,
        "ledger.range",
        start=day_text(catalog, locale, start),
        end=day_text(catalog, locale, end),
    )


def _period_label(catalog: Catalog, locale: str, period: Period) -> str:
    first = period.start
    month_name = catalog.plain(locale, MONTH_KEYS[first.month - 1])
    if period.kind is PeriodKind.MONTH:
        return catalog.plain(locale, "ledger.period.month", year=first.year, month_name=month_name)
    if period.kind is PeriodKind.QUARTER:
        quarter = (first.month - 1) // 3 + 1
        return catalog.plain(locale, "ledger.period.quarter", year=first.year, quarter=quarter)
    if period.kind is PeriodKind.HALF_YEAR:
        key = "ledger.period.first_half" if first.month == 1 else "ledger.period.second_half"
        return catalog.plain(locale, key, year=first.year)
    return catalog.plain(locale, "ledger.period.year", year=first.year)


def _types(catalog: Catalog, locale: str, types: Sequence[MeetingType], short: bool) -> str:
    keys = SHORT_TYPE_KEYS if short else TYPE_KEYS
    separator = "·" if short else catalog.plain(locale, "ledger.list_separator")
    return separator.join(catalog.plain(locale, keys[t]) for t in types)


# ---- the spreadsheet ----

_THIN = Side(style="thin", color="000000")
BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
WRAP = Alignment(wrap_text=True, vertical="center")
CENTER = Alignment(wrap_text=True, vertical="center", horizontal="center")
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)


def _sheet(book: Workbook, name: str, title: str, headers: Sequence[tuple[str, int]]) -> Worksheet:
    """A sheet with a merged title row, a bold bordered header row, widths and print setup."""
    sheet = book.create_sheet(name)
    columns = len(headers)
    sheet.cell(row=1, column=1, value=title).font = TITLE
    sheet.cell(row=1, column=1).alignment = Alignment(horizontal="center", vertical="center")
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=columns)
    sheet.row_dimensions[1].height = 28
    for index, (text, width) in enumerate(headers, 1):
        cell = sheet.cell(row=2, column=index, value=text)
        cell.font, cell.alignment, cell.border = BOLD, CENTER, BORDER
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A3"
    sheet.print_title_rows = "1:2"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    return sheet


def _row(sheet: Worksheet, row: int, values: Sequence[object], *, centered: int = 0) -> None:
    """Write a bordered, wrapped data row; columns from `centered` on are centred."""
    for index, value in enumerate(values, 1):
        cell = sheet.cell(row=row, column=index, value=value)
        cell.border = BORDER
        cell.alignment = CENTER if centered and index >= centered else WRAP
        if isinstance(value, float):
            cell.number_format = "0%"


def _rate(value: Fraction | None) -> float | None:
    """A rate as a number the sheet shows as a percentage (empty when nobody was expected)."""
    return float(value) if value is not None else None


def _quorum_text(catalog: Catalog, locale: str, meeting: LedgerMeeting) -> str | None:
    if meeting.quorum is None:
        return None
    verdict = "ledger.quorum.reached" if meeting.quorum.reached else "ledger.quorum.not_reached"
    return catalog.plain(
        locale,
        "ledger.quorum",
        expected=meeting.quorum.expected,
        present=meeting.quorum.present,
        verdict=catalog.plain(locale, verdict),
    )


def _audience(catalog: Catalog, locale: str, meeting: LedgerMeeting) -> str | None:
    if meeting.audience is Audience.PARTY_GROUP:
        return meeting.party_group
    return catalog.plain(locale, AUDIENCE_KEYS[meeting.audience])


def ledger_xlsx(catalog: Catalog, locale: str, result: Ledger) -> bytes:
    """The register as a workbook to hand to an inspection: meetings, attendance, compliance."""

    def p(key: str, **params: object) -> str:
        return catalog.plain(locale, key, **params)

    span = period_text(catalog, locale, result.start, result.end)
    branch = result.org.name
    book = Workbook()
    book.remove(book.active)
    # Sheet 1: one row per meeting.
    sheet = _sheet(
        book,
        p("ledger.sheet.meetings"),
        p("ledger.title.meetings", branch=branch, range=span),
        [(p(key), width) for key, width in MEETING_COLUMNS],
    )
    for index, m in enumerate(result.meetings, 1):
        values: list[object] = [
            index,
            day_text(catalog, locale, m.starts_at.date(), weekday=True),
            m.starts_at.strftime("%H:%M"),
            _types(catalog, locale, m.types, short=False),
            m.topic,
            m.place,
            _audience(catalog, locale, m),
            m.host,
            m.recorder,
            m.lecturer,
            m.expected,
            m.present,
            m.present_self,
            m.present_proxy,
            m.present_late,
            m.on_leave,
            m.absent,
            _rate(m.rate),
            _quorum_text(catalog, locale, m),
            p("ledger.minutes.yes" if m.has_minutes else "ledger.minutes.no"),
            m.summary,
        ]
        _row(sheet, index + 2, values)
        for column in (1, 3, *range(11, 19), 20):
            sheet.cell(row=index + 2, column=column).alignment = CENTER
    if not result.meetings:
        sheet.cell(row=3, column=1, value=p("ledger.no_meetings"))
        sheet.merge_cells(start_row=3, start_column=1, end_row=3, end_column=len(MEETING_COLUMNS))
    # Sheet 2: members in rows, meetings in columns.
    headers = [(p(key), width) for key, width in MEMBER_COLUMNS]
    for m in result.meetings:
        day = catalog.plain(
            locale,
            "ledger.day",
            month_name=p(MONTH_KEYS[m.starts_at.month - 1]),
            day=m.starts_at.day,
        )
        headers.append(
            (f"{day}\n{_types(catalog, locale, m.types, short=True)}", MEETING_CELL_WIDTH)
        )
    headers += [(p(key), width) for key, width in TOTAL_COLUMNS]
    sheet = _sheet(
        book,
        p("ledger.sheet.attendance"),
        p("ledger.title.attendance", branch=branch, range=span),
        headers,
    )
    sheet.row_dimensions[2].height = 32
    sheet.freeze_panes = "D3"  # names stay in view while scrolling through the meetings
    for index, r in enumerate(result.members, 1):
        _row(
            sheet,
            index + 2,
            [
                index,
                r.name or p("ledger.anonymous"),
                p(STAGE_KEYS[r.stage]),
                *(p(MARK_KEYS[mark]) for mark in r.marks),
                r.attended,
                r.expected,
                _rate(r.rate),
            ],
            centered=4,
        )
        sheet.cell(row=index + 2, column=1).alignment = CENTER
    legend_row = len(result.members) + 4
    sheet.cell(row=legend_row, column=1, value=p("ledger.legend"))
    sheet.merge_cells(
        start_row=legend_row, start_column=1, end_row=legend_row, end_column=len(headers)
    )
    # Sheet 3: what was required and what was held.
    sheet = _sheet(
        book,
        p("ledger.sheet.compliance"),
        p("ledger.title.compliance", branch=branch, range=span),
        [(p(key), width) for key, width in COMPLIANCE_COLUMNS],
    )
    for index, c in enumerate(result.compliance, 1):
        _row(
            sheet,
            index + 2,
            [
                p(TYPE_KEYS[c.type]),
                c.party_group,
                _period_label(catalog, locale, c.period),
                p(REQUIREMENT_KEYS[c.requirement.period], count=c.requirement.count),
                c.held,
                p(STANDING_KEYS[c.standing]),
            ],
            centered=5,
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
