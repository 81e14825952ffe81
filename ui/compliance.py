"""三会一课 texts: reminders, reports, the committee's table and chart; compliance codecs.

Rendered for scheduled jobs (no update at hand: catalog and locale passed in) and for handlers.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Mapping, Sequence
from datetime import date
from typing import ClassVar

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from domain.compliance import MeetingType, Obligation, Period, PeriodKind, Requirement
from services.compliance import BranchStatus, CommitteeTable, Tally
from services.ledger import AbsenceFlag
from services.outbox import ButtonRows
from ui.callbacks import CallbackData
from ui.compliance_chart import ChartLabels, ChartRow, render_chart
from ui.dues_disclose import period_name
from ui.i18n import Catalog
from ui.meetings import TYPE_KEYS
from ui.render import MONTH_KEYS, WEEKDAY_KEYS, split_message

TYPES = list(MeetingType)
# A recipient of the end-of-period report gets at most this many messages; the rest of the
# list is in the committee's monthly table.
REPORT_PARTS_MAX = 5
FREQUENCY_KEYS: dict[PeriodKind, str] = {
    PeriodKind.MONTH: "compliance.freq.month",
    PeriodKind.QUARTER: "compliance.freq.quarter",
    PeriodKind.HALF_YEAR: "compliance.freq.half_year",
    PeriodKind.YEAR: "compliance.freq.year",
}
# What the frequencies screen offers (None: not required); the last choice is "as above".
FREQUENCY_CHOICES: tuple[Requirement | None, ...] = (
    Requirement(PeriodKind.MONTH),
    Requirement(PeriodKind.QUARTER),
    Requirement(PeriodKind.HALF_YEAR),
    Requirement(PeriodKind.YEAR),
    Requirement(PeriodKind.YEAR, 2),
    None,
)
INHERIT = len(FREQUENCY_CHOICES)
QUARTER_KEYS = (
    "compliance.period.q1", "compliance.period.q2", "compliance.period.q3",
    "compliance.period.q4",
)  # fmt: skip


@dataclasses.dataclass(frozen=True)
class ScheduleNow(CallbackData):
    """立即安排 under a reminder: open /meeting for the branch with the type ticked."""

    prefix: ClassVar[str] = "cs"
    org_id: int
    type_index: int


@dataclasses.dataclass(frozen=True)
class ShowFrequencies(CallbackData):
    """A committee's meeting frequencies (from its /org card)."""

    prefix: ClassVar[str] = "oq"
    org_id: int


@dataclasses.dataclass(frozen=True)
class PickFrequency(CallbackData):
    """The choices for one meeting type of a committee."""

    prefix: ClassVar[str] = "oqt"
    org_id: int
    type_index: int


@dataclasses.dataclass(frozen=True)
class SetFrequency(CallbackData):
    """One choice pressed: an index of FREQUENCY_CHOICES, or INHERIT."""

    prefix: ClassVar[str] = "oqs"
    org_id: int
    type_index: int
    choice: int


# ---- pieces of text ----


def date_text(catalog: Catalog, locale: str, day: date) -> str:
    """ "12月31日（周四）" / "Thu 31 Dec"."""
    return catalog.plain(
        locale,
        "compliance.date",
        month_name=catalog.plain(locale, MONTH_KEYS[day.month - 1]),
        day=day.day,
        weekday=catalog.plain(locale, WEEKDAY_KEYS[day.weekday()]),
    )


def month_text(catalog: Catalog, locale: str, day: date) -> str:
    """ "2026年12月" / "Dec 2026"."""
    name = catalog.plain(locale, MONTH_KEYS[day.month - 1])
    return catalog.plain(locale, "compliance.month_label", year=day.year, month_name=name)


def period_text(catalog: Catalog, locale: str, period: Period) -> str:
    """The period an obligation belongs to: 12月, 第四季度, 下半年, 2026年."""
    start = period.start
    if period.kind is PeriodKind.MONTH:
        name = catalog.plain(locale, MONTH_KEYS[start.month - 1])
        return catalog.plain(locale, "compliance.period.month", month_name=name)
    if period.kind is PeriodKind.QUARTER:
        return catalog.plain(locale, QUARTER_KEYS[(start.month - 1) // 3])
    if period.kind is PeriodKind.HALF_YEAR:
        key = "compliance.period.h1" if start.month == 1 else "compliance.period.h2"
        return catalog.plain(locale, key)
    return catalog.plain(locale, "compliance.period.year", year=start.year)


def type_text(
    catalog: Catalog, locale: str, obligation: Obligation, group_names: Mapping[int, str]
) -> str:
    """The meeting type, with the party group for per-group obligations."""
    label = catalog.plain(locale, TYPE_KEYS[obligation.type])
    if obligation.party_group_id is None:
        return label
    name = group_names.get(obligation.party_group_id, "")
    return catalog.plain(locale, "compliance.type_in_group", type=label, group=name)


def frequency_text(catalog: Catalog, locale: str, requirement: Requirement | None) -> str:
    """ "每季度 1 次" / "once a quarter"; "不要求" when not required."""
    if requirement is None:
        return catalog.plain(locale, "compliance.freq.off")
    return catalog.plain(locale, FREQUENCY_KEYS[requirement.period], count=requirement.count)


def _open_line(catalog: Catalog, locale: str, o: Obligation, group_names: Mapping[int, str]) -> str:
    left = (
        catalog.plain(locale, "compliance.days_left", days=o.days_remaining)
        if o.days_remaining
        else catalog.plain(locale, "compliance.last_day")
    )
    return catalog.t(
        locale, "compliance.line", type=type_text(catalog, locale, o, group_names),
        period=period_text(catalog, locale, o.period), held=o.held, required=o.required,
        left=left,
    )  # fmt: skip


def _missed_line(
    catalog: Catalog, locale: str, o: Obligation, group_names: Mapping[int, str]
) -> str:
    return catalog.t(
        locale, "compliance.missed_line", type=type_text(catalog, locale, o, group_names),
        period=period_text(catalog, locale, o.period), held=o.held, required=o.required,
    )  # fmt: skip


# ---- the messages of the jobs ----


def digest_message(
    catalog: Catalog, locale: str, status: BranchStatus, absences: Sequence[AbsenceFlag] = ()
) -> tuple[list[str], ButtonRows]:
    """The first-working-day digest: open obligations with 立即安排 buttons, and the members
    absent for months. Parts of at most one message each; the buttons go with the last."""
    lines = [catalog.t(locale, "compliance.digest.title", branch=status.name)]
    lines += [_open_line(catalog, locale, o, status.group_names) for o in status.obligations]
    if absences:
        lines += ["", catalog.t(locale, "compliance.digest.absent_title", count=len(absences))]
        for flag in absences:
            key = "compliance.digest.absent_line" if flag.leaves else "compliance.digest.absent"
            lines.append(
                catalog.t(locale, key, name=flag.name, months=flag.months, leaves=flag.leaves)
            )
    lines += ["", catalog.t(locale, "compliance.digest.footer")]
    kinds = list(dict.fromkeys(o.type for o in status.obligations))
    buttons: ButtonRows = [
        [
            (
                catalog.plain(
                    locale, "compliance.schedule_now", type=catalog.plain(locale, TYPE_KEYS[kind])
                ),
                "cb:" + ScheduleNow(status.branch_id, TYPES.index(kind)).pack(),
            )
        ]
        for kind in kinds
    ]
    return split_message(lines), buttons


def warning_message(
    catalog: Catalog, locale: str, status: BranchStatus
) -> tuple[list[str], ButtonRows]:
    """Days before a period ends: what is still owed, with 立即安排 buttons."""
    ends = sorted({o.end for o in status.obligations})
    lines = [
        catalog.t(
            locale, "compliance.warn.title", branch=status.name,
            end=date_text(catalog, locale, ends[0]),
        )
    ]  # fmt: skip
    lines += [_open_line(catalog, locale, o, status.group_names) for o in status.obligations]
    kinds = list(dict.fromkeys(o.type for o in status.obligations))
    buttons: ButtonRows = [
        [
            (
                catalog.plain(
                    locale, "compliance.schedule_now", type=catalog.plain(locale, TYPE_KEYS[kind])
                ),
                "cb:" + ScheduleNow(status.branch_id, TYPES.index(kind)).pack(),
            )
        ]
        for kind in kinds
    ]
    return split_message(lines), buttons


def report_messages(
    catalog: Catalog, locale: str, missed: Sequence[BranchStatus], ended: date
) -> list[str]:
    """To a committee admin or instructor: every branch that missed, grouped by branch;
    several messages when long, at most REPORT_PARTS_MAX (the table has the rest)."""
    head = catalog.t(
        locale, "compliance.report.title", count=len(missed), end=date_text(catalog, locale, ended)
    )
    blocks: list[list[str]] = []
    for status in sorted(missed, key=lambda s: (s.name, s.branch_id)):
        block = ["", catalog.t(locale, "compliance.report.branch", branch=status.name)]
        block += [_missed_line(catalog, locale, o, status.group_names) for o in status.obligations]
        blocks.append(block)
    parts = split_message([head, *(line for block in blocks for line in block)])
    if len(parts) <= REPORT_PARTS_MAX:
        return parts
    # Too long: keep whole branches that fit, then say how many more there are.
    kept: list[str] = [head]
    shown = 0
    for block in blocks:
        if len(split_message([*kept, *block])) >= REPORT_PARTS_MAX:
            break
        kept += block
        shown += 1
    kept += ["", catalog.t(locale, "compliance.report.more", count=len(blocks) - shown)]
    return split_message(kept)


# ---- the committee's table and chart ----


def _span_text(catalog: Catalog, locale: str, month: Period) -> str:
    name = catalog.plain(locale, MONTH_KEYS[month.start.month - 1])
    if month.start.month == 1:
        return month_text(catalog, locale, month.start)
    return catalog.plain(locale, "compliance.span", year=month.start.year, month_name=name)


def table_filename(catalog: Catalog, locale: str, table: CommitteeTable) -> str:
    """The XLSX file's name."""
    return catalog.plain(
        locale, "compliance.table.filename", committee=table.committee_name,
        month=table.month.key,
    )  # fmt: skip


def table_caption(catalog: Catalog, locale: str, table: CommitteeTable) -> str:
    """One line under the XLSX document (and one more when dues disclosures are overdue)."""
    text = catalog.t(
        locale, "compliance.table.caption", committee=table.committee_name,
        month=month_text(catalog, locale, table.month.start), count=len(table.rows),
    )  # fmt: skip
    overdue = sum(1 for row in table.rows if row.dues_overdue is not None)
    if overdue:
        text += "\n" + catalog.t(locale, "dues.disclose.caption_overdue", count=overdue)
    return text


def chart_caption(catalog: Catalog, locale: str, table: CommitteeTable) -> str:
    """One line under the chart."""
    return catalog.t(
        locale, "compliance.chart.caption", committee=table.committee_name,
        span=_span_text(catalog, locale, table.month),
    )  # fmt: skip


def _rate_cell(value: float | None) -> float | None:
    return round(value, 4) if value is not None else None


def committee_xlsx(catalog: Catalog, locale: str, table: CommitteeTable) -> bytes:
    """Every branch under the committee: obligations met in the month and the year so far,
    meetings and attendance; a totals line at the bottom."""

    def p(key: str, **params: object) -> str:
        return catalog.plain(locale, key, **params)

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = p("compliance.table.sheet")
    month = month_text(catalog, locale, table.month.start)
    sheet.append([p("compliance.table.title", committee=table.committee_name, month=month)])
    sheet.append([p("compliance.table.note", end=date_text(catalog, locale, table.month.end))])
    headers = [
        p("compliance.col.index"), p("compliance.col.branch"), p("compliance.col.parent"),
        p("compliance.col.month_required"), p("compliance.col.month_met"),
        p("compliance.col.month_rate"), p("compliance.col.year_required"),
        p("compliance.col.year_met"), p("compliance.col.year_rate"),
        p("compliance.col.meetings"), p("compliance.col.attendance_month"),
        p("compliance.col.attendance_year"), p("compliance.col.missed"),
        p("dues.disclose.col_overdue"),
    ]  # fmt: skip
    sheet.append(headers)
    month_total, year_total = Tally(0, 0), Tally(0, 0)
    for index, row in enumerate(table.rows, 1):
        missed = "、" if locale.startswith("zh") else ", "
        sheet.append(
            [
                index, row.name, row.parent_name, row.month.required, row.month.met,
                _rate_cell(row.month.rate), row.year.required, row.year.met,
                _rate_cell(row.year.rate), row.meetings_month, _rate_cell(row.attendance_month),
                _rate_cell(row.attendance_year),
                missed.join(type_text(catalog, locale, o, table.group_names)
                            for o in row.missed_month),
                period_name(catalog, locale, row.dues_overdue) if row.dues_overdue else None,
            ]
        )  # fmt: skip
        month_total = Tally(month_total.met + row.month.met,
                            month_total.required + row.month.required)  # fmt: skip
        year_total = Tally(year_total.met + row.year.met, year_total.required + row.year.required)
    sheet.append(
        [
            None, p("compliance.col.total", count=len(table.rows)), None, month_total.required,
            month_total.met, _rate_cell(month_total.rate), year_total.required, year_total.met,
            _rate_cell(year_total.rate),
        ]
    )  # fmt: skip
    sheet["A1"].font = Font(bold=True, size=13)
    sheet["A2"].alignment = Alignment(wrap_text=False)
    for cell in sheet[3]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    last = sheet.max_row
    for cell in sheet[last]:
        cell.font = Font(bold=True)
    for column in ("F", "I", "K", "L"):
        for (cell,) in sheet[f"{column}4:{column}{last}"]:
            cell.number_format = "0%"
    widths = [6, 28, 20, 10, 10, 10, 10, 10, 10, 10, 10, 10, 36, 16]
    for i, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.freeze_panes = "C4"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def committee_chart(catalog: Catalog, locale: str, table: CommitteeTable) -> bytes:
    """The chart: compliance (year so far) and attendance per branch, as a PNG."""

    def p(key: str, **params: object) -> str:
        return catalog.plain(locale, key, **params)

    labels = ChartLabels(
        title=p("compliance.chart.title", committee=table.committee_name),
        subtitle=p("compliance.chart.subtitle", span=_span_text(catalog, locale, table.month),
                   count=len(table.rows)),
        compliance=p("compliance.chart.compliance"),
        attendance=p("compliance.chart.attendance"),
        branches=p("compliance.chart.branches"),
        weakest=p("compliance.chart.weakest", count=min(len(table.rows), 15)),
        compliance_distribution=p("compliance.chart.compliance_distribution"),
        attendance_distribution=p("compliance.chart.attendance_distribution"),
        median=lambda value: p("compliance.chart.median", value=value),
        no_data=p("compliance.chart.no_data"),
    )  # fmt: skip
    rows = [ChartRow(r.name, r.year.rate, r.attendance_year) for r in table.rows]
    return render_chart(rows, labels)
