"""How forms results look: /forms, a cycle's results, a branch's answers, one answer under
review, the note the respondent gets, the completion chart and the XLSX export.

Screens are short for phones: totals first, the branches furthest behind next, paged; the
per-question summaries, the list of who has not answered and each branch's answers are a
press away. Renderers take (catalog, locale, …) so handlers and jobs can both call them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from domain.forms import (
    ANONYMOUS_MIN,
    CHOSEN,
    NUMERIC,
    ROSTER_PHONE,
    Attachment,
    FormKind,
    QType,
    Question,
    Tally,
    Value,
    combine,
    tally,
)
from domain.forms_review import Sight
from domain.pickers import matches
from services.forms import BranchProgress, CycleView, FormView
from services.forms_results import (
    AnswerView,
    AttachmentFile,
    BranchAnswers,
    ExportPlan,
    ExportRow,
    FormsPage,
    ResultsScreen,
)
from services.outbox import ButtonRows
from ui.callbacks import CallbackData
from ui.compliance_chart import ChartLabels, ChartRow, render_chart
from ui.forms import FormChase, FormOpen
from ui.i18n import Catalog
from ui.ledger import safe_name
from ui.render import MESSAGE_LIMIT, datetime_text

BRANCHES_PAGE = 8  # branch buttons per results page
QUESTIONS_PAGE = 5  # question summaries per page
MISSING_PAGE = 30  # lines per page of the not-answered list
COMMITTEES_SHOWN = 10
ANSWER_TEXT_MAX = 300  # characters of one text answer on the review screen
LABEL_MAX = 28  # characters of a name on a button

STATUS_KEYS = {
    "submitted": "form.results.status.submitted",
    "returned": "form.results.status.returned",
    "accepted": "form.results.status.accepted",
}


# ---- callback codecs ----


@dataclasses.dataclass(frozen=True)
class FormsList(CallbackData):
    """A page of /forms."""

    prefix: ClassVar[str] = "frl"
    page: int


@dataclasses.dataclass(frozen=True)
class ResultsFound(CallbackData):
    """A page of a cycle's branches narrowed by the part of a name typed (kept in the draft)."""

    prefix: ClassVar[str] = "frn"
    cycle_id: int
    page: int


@dataclasses.dataclass(frozen=True)
class FormsFound(CallbackData):
    """A page of /forms narrowed by the part of a title typed (kept in the person's draft)."""

    prefix: ClassVar[str] = "frf"
    page: int


@dataclasses.dataclass(frozen=True)
class FormResults(CallbackData):
    """A cycle's results screen, with a page of its branches furthest behind."""

    prefix: ClassVar[str] = "fr"
    cycle_id: int
    page: int


@dataclasses.dataclass(frozen=True)
class FormCycles(CallbackData):
    """往期: the cycles of a repeating form, to switch to an earlier one."""

    prefix: ClassVar[str] = "frk"
    cycle_id: int


@dataclasses.dataclass(frozen=True)
class FormQuestions(CallbackData):
    """各题统计: a page of per-question summaries of a cycle."""

    prefix: ClassVar[str] = "frq"
    cycle_id: int
    page: int


@dataclasses.dataclass(frozen=True)
class FormMissing(CallbackData):
    """未报名单: a page of who (or which branches) has not answered."""

    prefix: ClassVar[str] = "frm"
    cycle_id: int
    page: int


@dataclasses.dataclass(frozen=True)
class FormBranch(CallbackData):
    """One branch's part of a cycle: its progress, tallies and a page of its answers."""

    prefix: ClassVar[str] = "frb"
    cycle_id: int
    org_id: int
    page: int


@dataclasses.dataclass(frozen=True)
class FormReview(CallbackData):
    """One answer: open it, 通过 (ok) or 退回修改 (ret)."""

    prefix: ClassVar[str] = "fra"
    action: str
    response_id: int


@dataclasses.dataclass(frozen=True)
class FormExport(CallbackData):
    """导出: the cycle's answers as a spreadsheet."""

    prefix: ClassVar[str] = "frx"
    cycle_id: int


@dataclasses.dataclass(frozen=True)
class FormChart(CallbackData):
    """图表: the completion chart of a cycle."""

    prefix: ClassVar[str] = "frg"
    cycle_id: int


@dataclasses.dataclass(frozen=True)
class FormClose(CallbackData):
    """结束收集 on a results screen (confirm 0: ask first; 1: close now)."""

    prefix: ClassVar[str] = "frc"
    cycle_id: int
    confirm: int


Screen = tuple[str, InlineKeyboardMarkup | None]


def _button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data.pack())


def _short(text: str, limit: int = LABEL_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _pager(
    catalog: Catalog, locale: str, page: int, pages: int, make: Any
) -> list[InlineKeyboardButton]:
    row = []
    if page > 0:
        row.append(_button(catalog.plain(locale, "form.results.prev"), make(page - 1)))
    if page + 1 < pages:
        row.append(_button(catalog.plain(locale, "form.results.next"), make(page + 1)))
    return row


def cycle_label(catalog: Catalog, locale: str, key: str) -> str:
    """A cycle's key as people say it: nothing for a one-off form, else "2026-11"."""
    return "" if key == "once" else catalog.plain(locale, "form.results.cycle", key=key)


def _fit(text: str) -> str:
    """A screen that must stay one message: cut at Telegram's limit, on a line break."""
    if len(text) <= MESSAGE_LIMIT:
        return text
    cut = text.rfind("\n", 0, MESSAGE_LIMIT - 2)
    return text[: cut if cut > 0 else MESSAGE_LIMIT - 2] + "\n…"


# ---- /forms ----


def render_forms(catalog: Catalog, locale: str, page: FormsPage) -> Screen:
    """The forms the person may see, newest first, each with its latest cycle's progress; as
    every picker: narrowed to a typed part of a title, 显示全部, and saying so."""
    if not page.items and not page.find:
        return catalog.t(locale, "form.results.none"), None
    lines = [catalog.t(locale, "form.results.pick")]
    if page.find:
        key = "picker.found" if page.total else "picker.none"
        lines.append(catalog.t(locale, key, part=page.find, count=page.total))
    keyboard = []
    for item in page.items:
        cycle = cycle_label(catalog, locale, item.cycle_key)
        keyboard.append(
            [
                _button(
                    catalog.plain(
                        locale, "form.results.item", title=_short(item.title, 20), cycle=cycle,
                        answered=item.answered, expected=item.expected, late=item.late,
                    ),
                    FormResults(item.cycle_id, 0),
                )
            ]
        )  # fmt: skip
    # The pickers' own 上一页 / 下一页, as on every list one chooses from.
    turn = FormsFound if page.find else FormsList
    pager = []
    if page.page > 0:
        pager.append(_button(catalog.plain(locale, "common.prev"), turn(page.page - 1)))
    if page.page + 1 < page.pages:
        pager.append(_button(catalog.plain(locale, "common.next"), turn(page.page + 1)))
    if pager:
        lines.append(catalog.t(locale, "form.results.page", page=page.page + 1, pages=page.pages))
        keyboard.append(pager)
    if pager or page.find:
        lines.append(catalog.t(locale, "picker.hint"))
    if page.find:
        keyboard.append([_button(catalog.plain(locale, "picker.show_all"), FormsList(0))])
    return "\n".join(lines), InlineKeyboardMarkup(keyboard)


# ---- a cycle's results ----


def _progress_line(catalog: Catalog, locale: str, key: str, p: BranchProgress) -> str:
    return catalog.t(
        locale, key, name=p.name, expected=p.expected, answered=p.on_time + p.late,
        on_time=p.on_time, late=p.late, missing=p.missing,
    )  # fmt: skip


def _head(catalog: Catalog, locale: str, form: FormView, cycle: CycleView, tz: ZoneInfo,
          now: datetime) -> list[str]:  # fmt: skip
    cycle_text = cycle_label(catalog, locale, cycle.key)
    return [
        catalog.t(locale, "form.results.title", title=form.title, cycle=cycle_text),
        catalog.t(locale, "form.results.deadline",
                  deadline=datetime_text(catalog, locale, cycle.deadline, tz, now)),
    ]  # fmt: skip


def render_results(
    catalog: Catalog,
    locale: str,
    screen: ResultsScreen,
    page: int,
    tz: ZoneInfo,
    now: datetime,
    find: str = "",
) -> Screen:
    """Totals, the committees' subtree totals, then a page of branches (furthest behind
    first; narrowed to the names holding `find`, as every picker narrows) as buttons to their
    answers, and the results' actions."""
    results = screen.results
    form, cycle = results.form, results.cycle
    lines = _head(catalog, locale, form, cycle, tz, now)
    lines.append(_progress_line(catalog, locale, "form.results.total", results.total))
    if results.total.expected:
        done = results.total.on_time + results.total.late
        lines.append(
            catalog.t(locale, "form.results.rate", rate=round(100 * done / results.total.expected))
        )
    if screen.committees:
        lines.append(catalog.t(locale, "form.results.committees"))
        for p in screen.committees[:COMMITTEES_SHOWN]:
            lines.append(_progress_line(catalog, locale, "form.results.committee_line", p))
        if len(screen.committees) > COMMITTEES_SHOWN:
            lines.append(
                catalog.t(locale, "form.results.more",
                          count=len(screen.committees) - COMMITTEES_SHOWN)
            )  # fmt: skip
    if screen.instructors:
        lines.append(catalog.t(locale, "form.results.instructors"))
        for p in screen.instructors[:COMMITTEES_SHOWN]:
            lines.append(_progress_line(catalog, locale, "form.results.committee_line", p))
        if len(screen.instructors) > COMMITTEES_SHOWN:
            lines.append(
                catalog.t(locale, "form.results.more",
                          count=len(screen.instructors) - COMMITTEES_SHOWN)
            )  # fmt: skip
    if results.aggregates_hidden:
        lines.append(catalog.t(locale, "form.results.anonymous_hidden", count=ANONYMOUS_MIN))
    behind = [p for p in screen.behind if matches(p.name, find)]
    pages = max(1, -(-len(behind) // BRANCHES_PAGE))
    page = min(max(page, 0), pages - 1)
    keyboard: list[list[InlineKeyboardButton]] = []
    shown = behind[page * BRANCHES_PAGE : (page + 1) * BRANCHES_PAGE]
    if shown:
        lines.append(catalog.t(locale, "form.results.branches", page=page + 1, pages=pages))
    if find:
        key = "picker.found" if behind else "picker.none"
        lines.append(catalog.t(locale, key, part=find, count=len(behind)))
    if find or pages > 1:
        lines.append(catalog.t(locale, "picker.hint"))
    for p in shown:
        keyboard.append(
            [
                _button(
                    catalog.plain(
                        locale, "form.results.branch_button", name=_short(p.name, 16),
                        answered=p.on_time + p.late, expected=p.expected, late=p.late,
                        missing=p.missing,
                    ),
                    FormBranch(cycle.id, p.org_id, 0),
                )
            ]
        )  # fmt: skip
    turn = ResultsFound if find else FormResults
    pager = _pager(catalog, locale, page, pages, lambda n: turn(cycle.id, n))
    if pager:
        keyboard.append(pager)
    if find:
        keyboard.append(
            [_button(catalog.plain(locale, "picker.show_all"), FormResults(cycle.id, 0))]
        )
    keyboard.append(
        [
            _button(catalog.plain(locale, "form.results.questions"), FormQuestions(cycle.id, 0)),
            _button(
                catalog.plain(locale, "form.results.missing", count=results.total.missing),
                FormMissing(cycle.id, 0),
            ),
        ]
    )
    keyboard.append(
        [
            _button(catalog.plain(locale, "form.results.chart"), FormChart(cycle.id)),
            _button(catalog.plain(locale, "form.results.export"), FormExport(cycle.id)),
        ]
    )
    last_row = []
    if results.total.missing:
        last_row.append(_button(catalog.plain(locale, "form.results.chase"), FormChase(cycle.id)))
    if len(screen.cycles) > 1:
        last_row.append(_button(catalog.plain(locale, "form.results.cycles"), FormCycles(cycle.id)))
    last_row.append(_button(catalog.plain(locale, "form.results.back_list"), FormsList(0)))
    keyboard.append(last_row)
    if screen.may_close:
        keyboard.append(
            [_button(catalog.plain(locale, "form.close.button"), FormClose(cycle.id, 0))]
        )
    return _fit("\n".join(lines)), InlineKeyboardMarkup(keyboard)


def render_close_confirm(catalog: Catalog, locale: str, title: str, cycle_id: int) -> Screen:
    """Are you sure: no more answers, no more cycles."""
    keyboard = [
        [
            _button(catalog.plain(locale, "form.close.confirm"), FormClose(cycle_id, 1)),
            _button(catalog.plain(locale, "form.results.back"), FormResults(cycle_id, 0)),
        ]
    ]
    return catalog.t(locale, "form.close.ask", title=title), InlineKeyboardMarkup(keyboard)


def render_cycles(catalog: Catalog, locale: str, screen: ResultsScreen) -> Screen:
    """往期: the form's cycles, newest first, each opening its results."""
    current = screen.results.cycle
    keyboard = [
        [
            _button(
                ("• " if c.id == current.id else "") + (cycle_label(catalog, locale, c.key) or "—"),
                FormResults(c.id, 0),
            )
        ]
        for c in screen.cycles[:24]
    ]
    keyboard.append(
        [_button(catalog.plain(locale, "form.results.back"), FormResults(current.id, 0))]
    )
    text = catalog.t(locale, "form.results.cycles_pick", title=screen.results.form.title)
    return text, InlineKeyboardMarkup(keyboard)


def _number(value: Decimal | None) -> str:
    if value is None:
        return "—"
    return format(value.normalize(), "f")


def _percent(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


def choice_labels(catalog: Catalog, locale: str, question: Question) -> tuple[str, ...]:
    """A chosen question's options as shown: its choices, or 否/是 for yes/no."""
    if question.type is QType.YES_NO:
        return (catalog.plain(locale, "form.results.no"), catalog.plain(locale, "form.results.yes"))
    return question.choices


def summary_lines(catalog: Catalog, locale: str, question: Question, result: Tally) -> list[str]:
    """One question's summary: counts with % for choices, sum/mean/min/max for numbers."""
    if question.type in CHOSEN:
        labels = choice_labels(catalog, locale, question)
        parts = [
            catalog.t(locale, "form.results.choice", label=label, count=count,
                      percent=_percent(count, result.answered))
            for label, count in zip(labels, result.counts, strict=False)
        ]  # fmt: skip
        return ["   " + "；".join(parts)] if parts else []
    if question.type in NUMERIC:
        if not result.answered:
            return ["   " + catalog.t(locale, "form.results.answered", count=0)]
        return [
            "   "
            + catalog.t(
                locale, "form.results.numbers", total=_number(result.total), unit=question.unit,
                mean=_number(result.mean), low=_number(result.low), high=_number(result.high),
                count=result.answered,
            )
        ]  # fmt: skip
    if question.type is QType.ROWS:
        return [
            "   " + catalog.t(locale, "form.results.rows", count=result.answered,
                              rows=_number(result.total or Decimal(0)))
        ]  # fmt: skip
    return ["   " + catalog.t(locale, "form.results.answered", count=result.answered)]


def render_questions(
    catalog: Catalog, locale: str, screen: ResultsScreen, page: int, tz: ZoneInfo, now: datetime
) -> Screen:
    """各题统计: a page of per-question summaries over the branches the reader sees."""
    results = screen.results
    form, cycle = results.form, results.cycle
    lines = _head(catalog, locale, form, cycle, tz, now)
    pages = max(1, -(-len(form.questions) // QUESTIONS_PAGE))
    page = min(max(page, 0), pages - 1)
    if results.aggregates_hidden:
        lines.append(catalog.t(locale, "form.results.anonymous_hidden", count=ANONYMOUS_MIN))
    else:
        for q_result in results.questions[page * QUESTIONS_PAGE : (page + 1) * QUESTIONS_PAGE]:
            question = form.questions[q_result.index]
            lines.append(
                catalog.t(locale, "form.results.question", number=q_result.index + 1,
                          title=question.title)
            )  # fmt: skip
            lines += summary_lines(catalog, locale, question, q_result.total)
    keyboard = []
    pager = _pager(catalog, locale, page, pages, lambda n: FormQuestions(cycle.id, n))
    if pager:
        lines.append(catalog.t(locale, "form.results.page", page=page + 1, pages=pages))
        keyboard.append(pager)
    keyboard.append([_button(catalog.plain(locale, "form.results.back"), FormResults(cycle.id, 0))])
    return _fit("\n".join(lines)), InlineKeyboardMarkup(keyboard)


def render_missing(catalog: Catalog, locale: str, screen: ResultsScreen, page: int) -> Screen:
    """未报名单: those a reminder reaches, then those to phone (请电话联系), paged."""
    results = screen.results
    cycle = results.cycle
    lines: list[str] = []
    if results.form.kind is FormKind.BRANCH:
        lines += [catalog.t(locale, "form.results.missing_branch", branch=o.branch)
                  for o in screen.outstanding]  # fmt: skip
    else:
        lines += [catalog.t(locale, "form.results.missing_member", branch=o.branch, name=o.name)
                  for o in screen.to_remind]  # fmt: skip
        if screen.to_call:
            lines.append(catalog.t(locale, "form.results.call", count=len(screen.to_call)))
            lines += [
                catalog.t(locale, "form.results.missing_member", branch=o.branch, name=o.name)
                for o in screen.to_call
            ]
    pages = max(1, -(-len(lines) // MISSING_PAGE))
    page = min(max(page, 0), pages - 1)
    head = [
        catalog.t(locale, "form.results.title", title=results.form.title,
                  cycle=cycle_label(catalog, locale, cycle.key)),
        catalog.t(locale, "form.results.missing_title", count=len(screen.outstanding)),
    ]  # fmt: skip
    if not screen.outstanding:
        # Missing answers whose names the reader may not see (an instructor): say so.
        key = "form.results.missing_hidden" if results.total.missing else (
            "form.results.missing_none")  # fmt: skip
        head.append(catalog.t(locale, key, count=results.total.missing))
    body = lines[page * MISSING_PAGE : (page + 1) * MISSING_PAGE]
    keyboard = []
    pager = _pager(catalog, locale, page, pages, lambda n: FormMissing(cycle.id, n))
    if pager:
        body.append(catalog.t(locale, "form.results.page", page=page + 1, pages=pages))
        keyboard.append(pager)
    actions = []
    if screen.to_remind or (results.form.kind is FormKind.BRANCH and screen.outstanding):
        actions.append(_button(catalog.plain(locale, "form.results.chase"), FormChase(cycle.id)))
    actions.append(_button(catalog.plain(locale, "form.results.back"), FormResults(cycle.id, 0)))
    keyboard.append(actions)
    return _fit("\n".join(head + body)), InlineKeyboardMarkup(keyboard)


def render_branch(
    catalog: Catalog, locale: str, view: BranchAnswers, tz: ZoneInfo, now: datetime
) -> Screen:
    """One branch: its progress, short tallies, and its answers as buttons to review."""
    form, cycle = view.form, view.cycle
    lines = _head(catalog, locale, form, cycle, tz, now)
    lines.append(_progress_line(catalog, locale, "form.results.branch_total", view.progress))
    if view.aggregates_hidden:
        lines.append(catalog.t(locale, "form.results.anonymous_hidden", count=ANONYMOUS_MIN))
    for index, result in enumerate(view.tallies):
        question = form.questions[index]
        if question.type not in CHOSEN | NUMERIC:
            continue
        lines.append(catalog.t(locale, "form.results.question", number=index + 1,
                               title=question.title))  # fmt: skip
        lines += summary_lines(catalog, locale, question, result)
    keyboard = []
    for item in view.items:
        marks = []
        if item.late:
            marks.append(catalog.plain(locale, "form.results.late_mark"))
        if item.nothing_to_report:
            marks.append(catalog.plain(locale, "form.results.nothing_mark"))
        marks.append(catalog.plain(locale, STATUS_KEYS.get(item.status, STATUS_KEYS["submitted"])))
        label = catalog.plain(
            locale,
            "form.results.answer_button",
            name=_short(item.name or "—", 12),
            marks=" · ".join(marks),
        )
        keyboard.append([_button(label, FormReview("open", item.response_id))])  # fmt: skip
    if view.pages > 1:
        lines.append(catalog.t(locale, "form.results.page", page=view.page + 1, pages=view.pages))
        keyboard.append(
            _pager(catalog, locale, view.page, view.pages,
                   lambda n: FormBranch(cycle.id, view.progress.org_id, n))
        )  # fmt: skip
    if not view.items and view.sight >= Sight.ANSWERS and not form.anonymous:
        lines.append(catalog.t(locale, "form.results.no_answers"))
    keyboard.append([_button(catalog.plain(locale, "form.results.back"), FormResults(cycle.id, 0))])
    return _fit("\n".join(lines)), InlineKeyboardMarkup(keyboard)


# ---- answers as text ----


def value_text(
    catalog: Catalog,
    locale: str,
    question: Question,
    value: Value | None,
    names: Mapping[int, str],
) -> str:
    """An answer as people read it: labels for choices, names for members picked, the file
    name of an attachment, one line per table row."""
    if value is None:
        return ""
    kind = question.type
    if isinstance(value, Attachment):
        return value.name or catalog.plain(
            locale, "form.results.photo" if value.kind == "photo" else "form.results.file"
        )
    if kind is QType.YES_NO and isinstance(value, bool):
        return catalog.plain(locale, "form.results.yes" if value else "form.results.no")
    if kind is QType.SINGLE and isinstance(value, int):
        return question.choices[value] if 0 <= value < len(question.choices) else ""
    if kind is QType.MULTI and isinstance(value, tuple):
        return "、".join(
            question.choices[v]
            for v in value
            if isinstance(v, int) and 0 <= v < len(question.choices)
        )
    if kind is QType.MEMBERS and isinstance(value, tuple):
        return "、".join(names.get(v, "?") for v in value if isinstance(v, int))
    if kind is QType.ROWS and isinstance(value, tuple):
        return "\n".join(
            "；".join(_cell_text(catalog, locale, c) for c in row)
            for row in value
            if isinstance(row, tuple)
        )
    if kind in NUMERIC:
        return f"{value}{question.unit}"
    return str(value)


def _cell_text(catalog: Catalog, locale: str, cell: object) -> str:
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return catalog.plain(locale, "form.results.yes" if cell else "form.results.no")
    return str(cell)


def render_answer(
    catalog: Catalog, locale: str, view: AnswerView, tz: ZoneInfo, now: datetime
) -> Screen:
    """One answer to review: who, version, 迟报, status, every shown answer, the roster
    changes approving it makes, and 通过 / 退回修改."""
    form = view.form
    lines = [
        catalog.t(locale, "form.results.title", title=form.title,
                  cycle=cycle_label(catalog, locale, view.cycle.key)),
        catalog.t(locale, "form.review.who", branch=view.branch, name=view.name or "—"),
        catalog.t(locale, "form.review.version", version=view.version,
                  when=datetime_text(catalog, locale, view.submitted_at, tz, now)),
    ]  # fmt: skip
    if view.late:
        lines.append(catalog.t(locale, "form.review.late"))
    status = catalog.plain(locale, STATUS_KEYS.get(view.status, STATUS_KEYS["submitted"]))
    lines.append(catalog.t(locale, "form.review.status", status=status))
    if view.status == "returned" and view.review_comment:
        lines.append(catalog.t(locale, "form.review.comment_was", comment=view.review_comment))
    if view.nothing_to_report:
        lines.append(catalog.t(locale, "form.review.nothing"))
    for index, question in enumerate(form.questions):
        if index not in view.answers:
            continue
        text = value_text(catalog, locale, question, view.answers[index], view.member_names)
        if len(text) > ANSWER_TEXT_MAX:
            text = text[: ANSWER_TEXT_MAX - 1] + "…"
        lines.append(catalog.t(locale, "form.results.question", number=index + 1,
                               title=question.title))  # fmt: skip
        lines.append(catalog.t(locale, "form.review.value", value=text))
    if view.roster:
        lines.append(catalog.t(locale, "form.review.roster"))
        for change in view.roster:
            field = "form.review.roster.phone" if change.field == ROSTER_PHONE else (
                "form.review.roster.unit")  # fmt: skip
            lines.append(
                catalog.t(locale, "form.review.roster_line", field=catalog.plain(locale, field),
                          old=change.old or "—", new=change.new)
            )  # fmt: skip
    if view.roster_problem:
        lines.append(catalog.t(locale, "form.review.roster_problem"))
    keyboard = []
    if view.may_review and view.status != "accepted":
        keyboard.append(
            [
                _button(catalog.plain(locale, "form.review.accept"),
                        FormReview("ok", view.response_id)),
                _button(catalog.plain(locale, "form.review.return"),
                        FormReview("ret", view.response_id)),
            ]
        )  # fmt: skip
    keyboard.append(
        [
            _button(
                catalog.plain(locale, "form.results.back"),
                FormBranch(view.cycle.id, view.org_id, 0),
            )
        ]
    )
    return _fit("\n".join(lines)), InlineKeyboardMarkup(keyboard)


def review_note(
    catalog: Catalog, locale: str, view: AnswerView, *, accepted: bool, comment: str = ""
) -> tuple[str, ButtonRows]:
    """What the respondent is told privately: accepted, or returned with the comment and a
    修改 button that opens the form again."""
    cycle = cycle_label(catalog, locale, view.cycle.key)
    if accepted:
        return catalog.t(locale, "form.review.note_accepted", title=view.form.title,
                         cycle=cycle), []  # fmt: skip
    branch_id = view.org_id if view.form.kind is FormKind.BRANCH else 0
    text = catalog.t(locale, "form.review.note_returned", title=view.form.title, cycle=cycle,
                     comment=comment)  # fmt: skip
    edit = catalog.plain(locale, "form.review.note_edit")
    return text, [[(edit, "cb:" + FormOpen(view.cycle.id, branch_id).pack())]]


# ---- the chart ----


def completion_chart(catalog: Catalog, locale: str, screen: ResultsScreen) -> bytes:
    """Completion by branch as horizontal bars (answered, and on time), weakest first; for
    many branches the distributions and the weakest, as the compliance chart draws them."""

    def p(key: str, **params: object) -> str:
        return catalog.plain(locale, key, **params)

    results = screen.results
    rows = [
        ChartRow(
            b.name,
            (b.on_time + b.late) / b.expected if b.expected else None,
            b.on_time / b.expected if b.expected else None,
        )
        for b in results.branches
    ]
    labels = ChartLabels(
        title=p("form.chart.title", title=results.form.title,
                cycle=cycle_label(catalog, locale, results.cycle.key)),
        subtitle=p("form.chart.subtitle", count=len(rows), expected=results.total.expected,
                   answered=results.total.on_time + results.total.late),
        compliance=p("form.chart.answered"),
        attendance=p("form.chart.on_time"),
        branches=p("form.chart.branches"),
        weakest=p("form.chart.weakest", count=min(len(rows), 15)),
        compliance_distribution=p("form.chart.answered_distribution"),
        attendance_distribution=p("form.chart.on_time_distribution"),
        median=lambda value: p("form.chart.median", value=value),
        no_data=p("form.chart.no_data"),
    )  # fmt: skip
    return render_chart(rows, labels)


# ---- the export ----


def export_filename(catalog: Catalog, locale: str, plan: ExportPlan) -> str:
    """ "主题党日_2026-11.xlsx": the form's title and the cycle."""
    key = "" if plan.cycle.key == "once" else "_" + plan.cycle.key
    return catalog.plain(locale, "form.export.filename", title=safe_name(plan.form.title),
                         cycle=key)  # fmt: skip


def _excel(question: Question, value: Value | None) -> object:
    """A numeric answer as a number Excel adds up; None when not answered."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            number = Decimal(value)
        except ArithmeticError:
            return value
        return int(number) if number == number.to_integral_value() else float(number)
    return None


class ExportWriter:
    """An XLSX written row by row (openpyxl write_only) to a file: answers, one sheet per
    table question, and per-branch subtotals whose total row is the sum of the branch rows.

    Rows arrive in chunks, one branch's rows together; a branch's tallies are taken when its
    rows end, so memory holds one branch's values, never the whole export.
    """

    def __init__(
        self, catalog: Catalog, locale: str, plan: ExportPlan, tz: ZoneInfo, path: Path
    ) -> None:
        self.catalog, self.locale, self.plan, self.tz, self.path = catalog, locale, plan, tz, path
        self.book = Workbook(write_only=True)
        self.bold = Font(bold=True)
        questions = plan.form.questions
        self.tallied = [i for i, q in enumerate(questions) if q.type in CHOSEN | NUMERIC]
        self.tables = [i for i, q in enumerate(questions) if q.type is QType.ROWS]
        self.answers_sheet: Any = None
        self.table_sheets: dict[int, Any] = {}
        if plan.individual:
            self.answers_sheet = self.book.create_sheet(self.p("form.export.sheet.answers"))
            self._header(
                self.answers_sheet,
                [self.p("form.export.col.branch"), self.p("form.export.col.name"),
                 self.p("form.export.col.submitted"), self.p("form.export.col.late"),
                 self.p("form.export.col.nothing"),
                 *(f"{i + 1}. {q.title}" for i, q in enumerate(questions))],
            )  # fmt: skip
            for index in self.tables:
                question = questions[index]
                sheet = self.book.create_sheet(
                    self.p("form.export.sheet.table", number=index + 1)[:31]
                )
                self._header(
                    sheet,
                    [self.p("form.export.col.branch"), self.p("form.export.col.name"),
                     self.p("form.export.col.row"), *(c.title for c in question.columns)],
                )  # fmt: skip
                self.table_sheets[index] = sheet
        self.totals_sheet = self.book.create_sheet(self.p("form.export.sheet.totals"))
        self.current: int | None = None
        self.values: dict[int, list[Value | None]] = {}
        self.branch_tallies: dict[int, dict[int, Tally]] = {}
        self.branch_answers: dict[int, int] = {}
        self.rows = 0

    def p(self, key: str, **params: object) -> str:
        return self.catalog.plain(self.locale, key, **params)

    def _header(self, sheet: Any, titles: Sequence[str]) -> None:
        cells = []
        for title in titles:
            cell = WriteOnlyCell(sheet, value=title)
            cell.font = self.bold
            cells.append(cell)
        sheet.append(cells)

    def _close_branch(self) -> None:
        if self.current is None:
            return
        questions = self.plan.form.questions
        self.branch_tallies[self.current] = {
            i: tally(questions[i], self.values.get(i, [])) for i in self.tallied
        }
        self.values = {}

    def add(self, rows: Sequence[ExportRow]) -> None:
        """Write a chunk of answers (one branch's rows together, in order)."""
        questions = self.plan.form.questions
        yes, no = self.p("form.results.yes"), self.p("form.results.no")
        names = self.plan.member_names
        for row in rows:
            if row.org_id != self.current:
                self._close_branch()
                self.current = row.org_id
            self.rows += 1
            self.branch_answers[row.org_id] = self.branch_answers.get(row.org_id, 0) + 1
            for i in self.tallied:
                self.values.setdefault(i, []).append(row.answers.get(i))
            if self.answers_sheet is None:
                continue
            submitted = (
                row.submitted_at.astimezone(self.tz).strftime("%Y-%m-%d %H:%M")
                if row.submitted_at
                else None
            )
            cells: list[object] = [row.branch, row.name, submitted, yes if row.late else no,
                                   yes if row.nothing_to_report else no]  # fmt: skip
            for index, question in enumerate(questions):
                value = row.answers.get(index)
                if question.type in NUMERIC:
                    cells.append(_excel(question, value))
                elif question.type is QType.ROWS:
                    count = len(value) if isinstance(value, tuple) else 0
                    cells.append(count or None)
                    if count and isinstance(value, tuple):
                        sheet = self.table_sheets[index]
                        for n, table_row in enumerate(value, 1):
                            cells_row = table_row if isinstance(table_row, tuple) else ()
                            sheet.append(
                                [row.branch, row.name, n,
                                 *(_cell_text(self.catalog, self.locale, c) or None
                                   for c in cells_row)]
                            )  # fmt: skip
                else:
                    text = value_text(self.catalog, self.locale, question, value, names)
                    cells.append(text or None)
            self.answers_sheet.append(cells)

    def _tally_cells(self, tallies: Mapping[int, Tally] | None) -> list[object]:
        questions = self.plan.form.questions
        cells: list[object] = []
        for i in self.tallied:
            question = questions[i]
            result = tallies.get(i) if tallies is not None else None
            if question.type in NUMERIC:
                total = result.total if result is not None else None
                cells.append(None if tallies is None else _decimal_cell(total))
            else:
                width = 2 if question.type is QType.YES_NO else len(question.choices)
                counts = result.counts if result is not None else ()
                cells += [
                    None if tallies is None else (counts[c] if c < len(counts) else 0)
                    for c in range(width)
                ]
        return cells

    def finish(self) -> int:
        """Write the subtotals (branch rows, then their sum) and save; the answers written."""
        self._close_branch()
        questions = self.plan.form.questions
        headers = [self.p("form.export.col.branch"), self.p("form.export.col.expected"),
                   self.p("form.export.col.answered"), self.p("form.export.col.late_count"),
                   self.p("form.export.col.missing")]  # fmt: skip
        for i in self.tallied:
            question = questions[i]
            if question.type in NUMERIC:
                headers.append(self.p("form.export.col.sum", number=i + 1, title=question.title))
            else:
                headers += [
                    self.p("form.export.col.choice", number=i + 1, choice=label)
                    for label in choice_labels(self.catalog, self.locale, question)
                ]
        self._header(self.totals_sheet, headers)
        anonymous = self.plan.form.anonymous
        kept: list[Mapping[int, Tally]] = []
        hidden_names: list[str] = []
        hidden_tallies: list[Mapping[int, Tally]] = []
        hidden_progress = [0, 0, 0, 0]
        progress_sum = [0, 0, 0, 0]
        for branch in self.plan.branches:
            counts = [branch.expected, branch.on_time + branch.late, branch.late, branch.missing]
            empty = dict.fromkeys(self.tallied, Tally())
            tallies = self.branch_tallies.get(branch.org_id, empty)
            if anonymous and 0 < self.branch_answers.get(branch.org_id, 0) < ANONYMOUS_MIN:
                # A few anonymous answers of one branch could be traced back: merged below.
                hidden_names.append(branch.name)
                hidden_tallies.append(tallies)
                hidden_progress = [a + b for a, b in zip(hidden_progress, counts, strict=True)]
                continue
            self.totals_sheet.append([branch.name, *counts, *self._tally_cells(tallies)])
            kept.append(tallies)
            progress_sum = [a + b for a, b in zip(progress_sum, counts, strict=True)]
        if hidden_names:
            merged = {i: combine(t[i] for t in hidden_tallies) for i in self.tallied}
            answered = hidden_progress[1]
            shown = answered >= ANONYMOUS_MIN
            self.totals_sheet.append(
                [self.p("form.export.merged", count=len(hidden_names)), *hidden_progress,
                 *self._tally_cells(merged if shown else None)]
            )  # fmt: skip
            progress_sum = [a + b for a, b in zip(progress_sum, hidden_progress, strict=True)]
            if shown:
                kept.append(merged)
        total = {i: combine(t[i] for t in kept) for i in self.tallied}
        row = [self.p("form.export.total"), *progress_sum, *self._tally_cells(total)]
        cells = []
        for value in row:
            cell = WriteOnlyCell(self.totals_sheet, value=value)
            cell.font = self.bold
            cells.append(cell)
        self.totals_sheet.append(cells)
        self.book.save(self.path)
        return self.rows


def _decimal_cell(value: Decimal | None) -> object:
    if value is None:
        return 0
    return int(value) if value == value.to_integral_value() else float(value)


def export_caption(catalog: Catalog, locale: str, plan: ExportPlan) -> str:
    """The document's caption: the form, the cycle, how many branches and answers."""
    return catalog.t(locale, "form.export.caption", title=plan.form.title,
                     cycle=cycle_label(catalog, locale, plan.cycle.key),
                     branches=len(plan.branches), answers=plan.answers)  # fmt: skip


async def write_export(
    catalog: Catalog,
    locale: str,
    plan: ExportPlan,
    chunks: AsyncIterator[list[ExportRow]],
    tz: ZoneInfo,
    path: Path,
) -> int:
    """Write the export to `path` as the chunks arrive; the writing runs in a worker thread
    chunk by chunk, so the bot keeps answering meanwhile. The answers written."""
    writer = await asyncio.to_thread(ExportWriter, catalog, locale, plan, tz, path)
    async for chunk in chunks:
        await asyncio.to_thread(writer.add, chunk)
    return await asyncio.to_thread(writer.finish)


def attachment_path(file: AttachmentFile, used: set[str], fallback_ext: str) -> str:
    """Where an attachment goes in the ZIP: 支部/姓名_题号.ext, numbered when the same name
    comes twice (two people of one name in a branch)."""
    source = file.filename or ""
    ext = source.rsplit(".", 1)[-1] if "." in source else fallback_ext
    ext = re.sub(r"[^A-Za-z0-9]", "", ext)[:8] or "bin"
    stem = f"{safe_name(file.branch)}/{safe_name(file.name or '-')}_{file.number}"
    path, n = f"{stem}.{ext}", 1
    while path in used:
        n += 1
        path = f"{stem}_{n}.{ext}"
    used.add(path)
    return path


def attachments_filename(catalog: Catalog, locale: str, plan: ExportPlan) -> str:
    """ "主题党日_2026-11_附件.zip"."""
    key = "" if plan.cycle.key == "once" else "_" + plan.cycle.key
    name = catalog.plain(locale, "form.export.zip_filename", title=safe_name(plan.form.title),
                         cycle=key)  # fmt: skip
    return name + ".zip"


def attachments_caption(
    catalog: Catalog, locale: str, plan: ExportPlan, added: int, skipped: int
) -> str:
    """The ZIP's caption: how many files, and how many could not be included."""
    text = catalog.t(locale, "form.export.zip_caption", title=plan.form.title, count=added)
    if skipped:
        text += "\n" + catalog.t(locale, "form.export.zip_skipped", count=skipped)
    return text
