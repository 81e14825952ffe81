"""三会一课 reminders and reports as people read them; 立即安排 and the frequencies screen.

The texts are rendered for scheduled jobs (no update at hand: catalog and locale passed
in); the buttons are ordinary callbacks, each re-authorized against the database.
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
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler

from domain.compliance import MeetingType, Obligation, Period, PeriodKind, Requirement
from handlers.callbacks import CallbackData
from handlers.common import actor_of, edit_text, error_key, today
from handlers.compliance_chart import ChartLabels, ChartRow, render_chart
from handlers.context import BotContext
from handlers.i18n import Catalog
from handlers.meetings import TYPE_KEYS, meeting_error_key, open_wizard_for
from handlers.render import MONTH_KEYS, WEEKDAY_KEYS, split_message
from services.compliance import (
    BranchStatus,
    CommitteeTable,
    RequirementsView,
    Tally,
    requirements_of,
    set_requirements,
)
from services.errors import ServiceError
from services.ledger import AbsenceFlag
from services.meetings import planning
from services.outbox import ButtonRows

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
ERRORS = {
    "requirements.not_committee": "compliance.req.not_committee",
    "auth.manage_orgs": "org.error.denied",
    "org.not_found": "org.error.gone",
}


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


def _button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data.pack())


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
    """One line under the XLSX document."""
    return catalog.t(
        locale, "compliance.table.caption", committee=table.committee_name,
        month=month_text(catalog, locale, table.month.start), count=len(table.rows),
    )  # fmt: skip


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
    widths = [6, 28, 20, 10, 10, 10, 10, 10, 10, 10, 10, 10, 36]
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


# ---- 立即安排 ----


async def schedule_now_button(update: Update, context: BotContext) -> None:
    """立即安排: the /meeting wizard for that branch with the type ticked (organizers only)."""
    query = update.callback_query
    assert query is not None
    press = ScheduleNow.unpack(query.data)
    if press is None or not 0 <= press.type_index < len(TYPES):
        await query.answer(context.plain(error_key("stale")), show_alert=True)
        return
    try:
        plan = await planning(
            context.deps.db, actor_of(context, query.from_user), press.org_id, today(context)
        )
    except ServiceError as exc:
        await query.answer(context.plain(meeting_error_key(exc.code)), show_alert=True)
        return
    await query.answer()
    await open_wizard_for(
        context, query.from_user.id, plan.org.id, plan.org.name, [TYPES[press.type_index]]
    )


# ---- a committee's frequencies, from /org ----


def frequencies_row(context: BotContext, org_id: int) -> list[InlineKeyboardButton]:
    """The 会议频次要求 button on a committee's /org card."""
    return [_button(context.plain("compliance.req.button"), ShowFrequencies(org_id))]


def _back_to_card(context: BotContext, org_id: int) -> InlineKeyboardButton:
    from handlers.org import OpenOrg  # the /org menu imports this module: no cycle at import

    return _button(context.plain("org.back"), OpenOrg(org_id))


def render_frequencies(
    context: BotContext, view: RequirementsView, notice: str = ""
) -> tuple[str, InlineKeyboardMarkup]:
    """Each meeting type with its frequency and who set it; a button per type to change it."""
    lines = [notice, ""] if notice else []
    lines.append(context.t("compliance.req.title", org=view.org_name))
    for line in view.lines:
        value = frequency_text(context.deps.catalog, context.locale, line.effective)
        label = context.plain(TYPE_KEYS[line.type])
        if line.own:
            key = "compliance.req.line_own"
        elif line.source:
            key = "compliance.req.line_above"
        else:
            key = "compliance.req.line_default"
        lines.append(context.t(key, type=label, value=value, source=line.source or ""))
    lines.append(context.t("compliance.req.hint"))
    buttons = [
        _button(context.plain(TYPE_KEYS[line.type]),
                PickFrequency(view.org_id, TYPES.index(line.type)))
        for line in view.lines
    ]  # fmt: skip
    keyboard = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    keyboard.append([_back_to_card(context, view.org_id)])
    return "\n".join(lines), InlineKeyboardMarkup(keyboard)


def render_choices(
    context: BotContext, view: RequirementsView, kind: MeetingType
) -> tuple[str, InlineKeyboardMarkup]:
    """The frequencies one type can be given, and 沿用上级 to drop this committee's own."""
    line = next(x for x in view.lines if x.type is kind)
    catalog, locale = context.deps.catalog, context.locale
    text = context.t(
        "compliance.req.choose", type=context.plain(TYPE_KEYS[kind]), org=view.org_name,
        value=frequency_text(catalog, locale, line.effective),
    )  # fmt: skip
    index = TYPES.index(kind)
    keyboard = [
        [_button(frequency_text(catalog, locale, choice), SetFrequency(view.org_id, index, i))]
        for i, choice in enumerate(FREQUENCY_CHOICES)
    ]
    if line.own:
        keyboard.append(
            [_button(context.plain("compliance.req.inherit"),
                     SetFrequency(view.org_id, index, INHERIT))]
        )  # fmt: skip
    keyboard.append([_button(context.plain("org.back"), ShowFrequencies(view.org_id))])
    return text, InlineKeyboardMarkup(keyboard)


async def frequencies_button(update: Update, context: BotContext) -> None:
    """Show, pick or set a committee's meeting frequencies (committee admins, superadmins)."""
    query = update.callback_query
    assert query is not None
    press: ShowFrequencies | PickFrequency | SetFrequency | None = (
        ShowFrequencies.unpack(query.data)
        or PickFrequency.unpack(query.data)
        or SetFrequency.unpack(query.data)
    )
    index = press.type_index if isinstance(press, PickFrequency | SetFrequency) else 0
    if press is None or not 0 <= index < len(TYPES):
        await query.answer(context.plain(error_key("stale")), show_alert=True)
        return
    org_id = press.org_id
    pick = press if isinstance(press, PickFrequency) else None
    choose = press if isinstance(press, SetFrequency) else None
    actor, db, tz = actor_of(context, query.from_user), context.deps.db, context.deps.settings
    now = context.deps.clock.now()
    try:
        if choose is not None:
            if not 0 <= choose.choice <= INHERIT:
                await query.answer(context.plain(error_key("stale")), show_alert=True)
                return
            kind = TYPES[index]
            inherit = choose.choice == INHERIT
            view = await set_requirements(
                db, actor, org_id,
                changes={} if inherit else {kind: FREQUENCY_CHOICES[choose.choice]},
                clear=[kind] if inherit else [], now=now, today=today(context),
                default_tz=str(tz.timezone),
            )  # fmt: skip
            text, markup = render_frequencies(context, view, context.t("compliance.req.saved"))
        else:
            view = await requirements_of(db, actor, org_id, today(context), str(tz.timezone))
            if pick is not None:
                text, markup = render_choices(context, view, TYPES[index])
            else:
                text, markup = render_frequencies(context, view)
    except ServiceError as exc:
        key = ERRORS.get(exc.code) or error_key(exc.code)
        await query.answer(context.plain(key), show_alert=True)
        return
    await query.answer()
    await edit_text(query, text, reply_markup=markup)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Install 立即安排 and the committee frequencies screen."""
    app.add_handler(CallbackQueryHandler(schedule_now_button, pattern=ScheduleNow.pattern()))
    for data in (ShowFrequencies, PickFrequency, SetFrequency):
        app.add_handler(CallbackQueryHandler(frequencies_button, pattern=data.pattern()))
