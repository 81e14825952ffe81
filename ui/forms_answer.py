"""How answering a form looks: one question per message with its buttons, the review, the
confirmation. Shared by the handlers (and by whatever shows an answer back)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from domain.forms import (
    Attachment,
    QType,
    Question,
    Value,
    is_answered,
    missing,
    previous_question,
    visible,
)
from domain.forms_wizard import AnswerDraft, answers_of
from services.forms_answer import BranchChoice, Header, RosterPage
from ui.callbacks import CallbackData, button
from ui.forms import FormOpen
from ui.i18n import Catalog, Html
from ui.render import datetime_text

REVIEW = -1  # FormAnswer.q on the review screen
# Questions answered in several presses or messages, finished with 完成.
MULTI_STEP = frozenset({QType.MULTI, QType.MEMBERS, QType.ROWS})
# How to answer each type, with an example (rows are explained with their columns).
HOW = {
    QType.SHORT: "form.answer.how.short",
    QType.LONG: "form.answer.how.long",
    QType.INTEGER: "form.answer.how.int",
    QType.DECIMAL: "form.answer.how.dec",
    QType.SINGLE: "form.answer.how.one",
    QType.MULTI: "form.answer.how.many",
    QType.YES_NO: "form.answer.how.yn",
    QType.DATE: "form.answer.how.date",
    QType.PHONE: "form.answer.how.phone",
    QType.MEMBERS: "form.answer.how.members",
    QType.ATTACHMENT: "form.answer.how.file",
    QType.ROWS: "form.answer.how.rows",
}


@dataclass(frozen=True)
class FormAnswer(CallbackData):
    """A button of the answering screens: the question on screen (REVIEW for the review), what
    was pressed, and its value (a choice, a member, a question to change, a page)."""

    prefix: ClassVar[str] = "fa"
    q: int
    action: str
    value: int


def _b(
    catalog: Catalog, locale: str, key: str, q: int, action: str, value: int = 0
) -> InlineKeyboardButton:
    return button(catalog.plain(locale, key), FormAnswer(q, action, value))


def head_line(catalog: Catalog, locale: str, tz: ZoneInfo, now: datetime, header: Header) -> str:
    """📝 title (branch) · 截止 date."""
    deadline = datetime_text(catalog, locale, header.deadline, tz, now)
    if header.branch:
        return catalog.t(
            locale, "form.answer.head_branch", title=header.title, branch=header.branch,
            deadline=deadline,
        )  # fmt: skip
    return catalog.t(locale, "form.answer.head", title=header.title, deadline=deadline)


def value_text(
    catalog: Catalog, locale: str, question: Question, value: Value | None, names: Mapping[int, str]
) -> str:
    """An answer as a person reads it: labels for choices, names for members, rows listed."""
    if not is_answered(value) and not isinstance(value, bool):
        return catalog.plain(locale, "form.answer.none")
    kind = question.type
    if isinstance(value, bool):
        return catalog.plain(locale, "form.answer.yes" if value else "form.answer.no")
    if kind is QType.SINGLE and isinstance(value, int):
        return question.choices[value] if 0 <= value < len(question.choices) else "?"
    if kind is QType.MULTI and isinstance(value, tuple):
        return "、".join(
            question.choices[i]
            for i in value
            if isinstance(i, int) and 0 <= i < len(question.choices)
        )
    if kind is QType.MEMBERS and isinstance(value, tuple):
        return "、".join(names.get(i, "?") for i in value if isinstance(i, int))
    if isinstance(value, Attachment):
        return catalog.plain(
            locale, "form.answer.file" if value.kind == "document" else "form.answer.photo",
            name=value.name,
        )  # fmt: skip
    if kind is QType.ROWS and isinstance(value, tuple):
        lines = [
            " ｜ ".join(_cell(catalog, locale, c) for c in row)
            for row in value
            if isinstance(row, tuple)
        ]
        return catalog.plain(locale, "form.answer.rows", count=len(lines)) + "\n" + "\n".join(lines)
    if kind is QType.DATE and isinstance(value, str):
        day = date.fromisoformat(value)
        return catalog.plain(
            locale, "form.answer.date", year=day.year, month=day.month, day=day.day
        )
    if question.unit and kind in (QType.INTEGER, QType.DECIMAL):
        return f"{value} {question.unit}"
    return str(value)


def _cell(catalog: Catalog, locale: str, cell: str | int | bool | None) -> str:
    if cell is None:
        return "—"
    if isinstance(cell, bool):
        return catalog.plain(locale, "form.answer.yes" if cell else "form.answer.no")
    return str(cell)


def instruction(catalog: Catalog, locale: str, question: Question) -> str:
    """How to answer this type, with an example."""
    kind = question.type
    if kind in (QType.INTEGER, QType.DECIMAL):
        text = catalog.plain(locale, HOW[kind])
        if question.unit:
            text += catalog.plain(locale, "form.answer.how.unit", unit=question.unit)
        if question.low is not None or question.high is not None:
            text += catalog.plain(
                locale, "form.answer.how.bounds", low=question.low or "…", high=question.high or "…"
            )
        return text
    if kind is QType.ROWS:
        columns = "，".join(c.title for c in question.columns)
        return catalog.plain(locale, "form.answer.how.rows", columns=columns)
    return catalog.plain(locale, HOW[kind])


def refusal_text(catalog: Catalog, locale: str, key: str, question: Question) -> str:
    """Why a typed answer was refused, then how to answer it, with an example."""
    how = catalog.t(locale, "form.answer.how", how=instruction(catalog, locale, question))
    return f"{catalog.t(locale, key)}\n{how}"


def question_screen(
    catalog: Catalog,
    locale: str,
    tz: ZoneInfo,
    now: datetime,
    header: Header,
    draft: AnswerDraft,
    names: Mapping[int, str],
    roster: RosterPage | None = None,
    note: str = "",
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The question on screen, its current answer, and its buttons."""
    index = draft.current
    question = draft.questions[index]
    answers = answers_of(draft)
    shown = visible(draft.questions, answers)
    number = shown.index(index) + 1 if index in shown else index + 1
    value = answers.get(index)
    lines = [head_line(catalog, locale, tz, now, header)]
    if note:
        lines.append(note)
    optional = "" if question.required else catalog.t(locale, "form.answer.optional")
    lines.append(
        catalog.t(
            locale, "form.answer.number", number=number, total=len(shown), optional=Html(optional)
        )
    )
    lines.append(catalog.t(locale, "form.answer.question", title=question.title))
    if question.hint:
        lines.append(catalog.t(locale, "form.answer.hint", hint=question.hint))
    lines.append(catalog.t(locale, "form.answer.how", how=instruction(catalog, locale, question)))
    if is_answered(value) or isinstance(value, bool):
        lines.append(
            catalog.t(
                locale,
                "form.answer.current",
                value=value_text(catalog, locale, question, value, names),
            )
        )
    rows: list[list[InlineKeyboardButton]] = []
    kind = question.type
    if kind is QType.SINGLE:
        rows += [
            [button(("● " if value == i else "○ ") + label, FormAnswer(index, "pick", i))]
            for i, label in enumerate(question.choices)
        ]
    elif kind is QType.YES_NO:
        rows.append(
            [
                _b(catalog, locale, "form.answer.yes", index, "pick", 1),
                _b(catalog, locale, "form.answer.no", index, "pick", 0),
            ]
        )
    elif kind is QType.MULTI:
        chosen = set(value) if isinstance(value, tuple) else set()
        rows += [
            [button(("☑ " if i in chosen else "☐ ") + label, FormAnswer(index, "pick", i))]
            for i, label in enumerate(question.choices)
        ]
    elif kind is QType.MEMBERS and roster is not None:
        chosen = set(value) if isinstance(value, tuple) else set()
        rows += [
            [
                button(
                    ("✅ " if member_id in chosen else "▫️ ") + name,
                    FormAnswer(index, "person", member_id),
                )
            ]
            for member_id, name in roster.members
        ]
        nav = []
        if roster.page > 0:
            nav.append(_b(catalog, locale, "form.answer.prev_page", index, "page", roster.page - 1))
        if roster.page + 1 < roster.pages:
            nav.append(_b(catalog, locale, "form.answer.next_page", index, "page", roster.page + 1))
        if nav:
            rows.append(nav)
        lines.append(
            catalog.t(
                locale,
                "form.answer.roster_page",
                page=roster.page + 1,
                pages=roster.pages,
            )
        )
    if kind in MULTI_STEP:
        rows.append([_b(catalog, locale, "form.answer.done", index, "done")])
    elif is_answered(value) or isinstance(value, bool):
        rows.append([_b(catalog, locale, "form.answer.keep", index, "keep")])
    bottom = []
    if previous_question(draft.questions, answers, index) is not None:
        bottom.append(_b(catalog, locale, "form.answer.back", index, "back"))
    if not question.required:
        bottom.append(_b(catalog, locale, "form.answer.skip", index, "skip"))
    if bottom:
        rows.append(bottom)
    if not missing(draft.questions, answers):
        rows.append([_b(catalog, locale, "form.answer.to_review", index, "all")])
    if draft.allow_nothing:
        rows.append([_b(catalog, locale, "form.answer.nothing", index, "nothing")])
    return "\n".join(lines), InlineKeyboardMarkup(rows) if rows else None


def review_screen(
    catalog: Catalog,
    locale: str,
    tz: ZoneInfo,
    now: datetime,
    header: Header,
    draft: AnswerDraft,
    names: Mapping[int, str],
    note: str = "",
) -> tuple[str, InlineKeyboardMarkup]:
    """Every shown question with its answer, 修改 for each, then 提交."""
    lines = [head_line(catalog, locale, tz, now, header)]
    if note:
        lines.append(note)
    lines.append(catalog.t(locale, "form.review.title"))
    answers = answers_of(draft)
    shown = visible(draft.questions, answers)
    edits: list[InlineKeyboardButton] = []
    if draft.nothing_to_report:
        lines.append(catalog.t(locale, "form.answer.review_nothing"))
    else:
        for number, index in enumerate(shown, start=1):
            question = draft.questions[index]
            lines.append(
                catalog.t(
                    locale,
                    "form.review.line",
                    number=number,
                    title=question.title,
                    value=value_text(catalog, locale, question, answers.get(index), names),
                )
            )
            edits.append(
                button(
                    catalog.plain(locale, "form.review.edit", number=number),
                    FormAnswer(REVIEW, "edit", index),
                )
            )
    rows = [edits[i : i + 4] for i in range(0, len(edits), 4)]
    if draft.nothing_to_report:
        rows.append([_b(catalog, locale, "form.review.answer_instead", REVIEW, "back")])
    else:
        rows.append([_b(catalog, locale, "form.answer.back", REVIEW, "back")])
        if draft.allow_nothing:
            rows.append([_b(catalog, locale, "form.answer.nothing", REVIEW, "nothing")])
    rows.append([_b(catalog, locale, "form.review.submit", REVIEW, "submit")])
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def submitted_text(
    catalog: Catalog, locale: str, header: Header, *, late: bool, changed: bool, version: int
) -> str:
    """What the person sees after 提交."""
    key = "form.submitted.changed" if changed else "form.submitted"
    text = catalog.t(locale, key, title=header.title, version=version)
    if late:
        text += "\n" + catalog.t(locale, "form.submitted.late")
    return text


def opening_note(
    catalog: Catalog,
    locale: str,
    *,
    status: str | None,
    comment: str | None,
    from_previous: bool,
    late: bool,
) -> str:
    """What the first screen says before the question: returned with a comment, changing an
    answer already given, answers carried over from the last cycle, answering late."""
    notes = []
    if status == "returned":
        notes.append(catalog.t(locale, "form.open.returned", comment=comment or ""))
    elif status is not None:
        notes.append(catalog.t(locale, "form.open.changing"))
    if from_previous:
        notes.append(catalog.t(locale, "form.open.previous"))
    if late:
        notes.append(catalog.t(locale, "form.open.late"))
    return "\n".join(notes)


def branch_choice(
    catalog: Catalog, locale: str, choice: BranchChoice
) -> tuple[str, InlineKeyboardMarkup]:
    """Which branch to answer a branch form for, when one answers for several."""
    rows = [[button(name, FormOpen(choice.cycle_id, org_id))] for org_id, name in choice.branches]
    return catalog.t(locale, "form.open.which_branch", title=choice.title), InlineKeyboardMarkup(
        rows
    )


def picked_ids(questions: Sequence[Question], answers: Mapping[int, Value]) -> set[int]:
    """Member ids picked in member-picker answers (to look their names up)."""
    ids: set[int] = set()
    for index, value in answers.items():
        if (
            0 <= index < len(questions)
            and questions[index].type is QType.MEMBERS
            and isinstance(value, tuple)
        ):
            ids |= {v for v in value if isinstance(v, int)}
    return ids
