"""Answering a form in private chat, as a typed draft and its step table.

One question per message. Typed answers are checked with their reason; choices are pressed;
a multiple-choice, member or table question is finished with 完成; an optional question can
be skipped; 上一步 goes back to the last question shown; a pre-filled answer (from the roster or
the previous cycle) is confirmed with one tap. A branch form offers 本期无情况. After the last
question shown comes the review, where any answer can be changed before submitting. The
draft keeps a copy of the form's questions: a form does not change once sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import ClassVar

from domain.forms import (
    MEMBERS_MAX,
    ROWS_MAX,
    Attachment,
    QType,
    Question,
    Value,
    choose,
    is_answered,
    kept_answers,
    missing,
    next_question,
    parse_row,
    parse_typed,
    previous_question,
    value_from_json,
    value_to_json,
    visible,
)
from domain.validation import Invalid
from domain.wizard import Draft, Event, Refusal, Steps


@dataclass(frozen=True)
class AnswerDraft(Draft):
    """Someone's answers to one cycle of a form, on their way to being submitted."""

    FLOW: ClassVar[str] = "form_answer"
    VERSION: ClassVar[int] = 1

    cycle_id: int = 0
    branch_id: int = 0  # a branch form: the branch answered for (0 for member forms)
    questions: tuple[Question, ...] = ()
    current: int = 0  # the question on screen (step "q")
    # (question index, the answer as JSON text): answers of every type in one typed field.
    answers: tuple[tuple[int, str], ...] = ()
    allow_nothing: bool = False  # a branch form: 本期无情况 is offered
    nothing_to_report: bool = False


def start(
    cycle_id: int,
    questions: tuple[Question, ...],
    prefill: dict[int, Value] | None = None,
    *,
    branch_id: int = 0,
) -> AnswerDraft:
    """A new answer at the first question, with what is already known filled in."""
    draft = AnswerDraft(
        step="q", cycle_id=cycle_id, branch_id=branch_id, questions=questions,
        allow_nothing=branch_id != 0,
    )  # fmt: skip
    draft = _with_answers(draft, prefill or {})
    first = next_question(questions, answers_of(draft), None)
    return replace(draft, current=first or 0, step="q" if first is not None else "review")


def answers_of(draft: AnswerDraft) -> dict[int, Value]:
    """The answers so far, each read as its question's type."""
    answers: dict[int, Value] = {}
    for index, text in draft.answers:
        if 0 <= index < len(draft.questions):
            value = value_from_json(draft.questions[index], json.loads(text))
            if value is not None:
                answers[index] = value
    return answers


def question(draft: AnswerDraft) -> Question:
    """The question on screen."""
    return draft.questions[draft.current]


def _with_answers(draft: AnswerDraft, answers: dict[int, Value]) -> AnswerDraft:
    kept = kept_answers(draft.questions, answers)
    stored = tuple(
        (i, json.dumps(value_to_json(v), ensure_ascii=False)) for i, v in sorted(kept.items())
    )
    return replace(draft, answers=stored)


def _set(draft: AnswerDraft, value: Value | None) -> AnswerDraft:
    answers = answers_of(draft)
    if value is None:
        answers.pop(draft.current, None)
    else:
        answers[draft.current] = value
    return _with_answers(draft, answers)


def _advance(draft: AnswerDraft) -> AnswerDraft:
    following = next_question(draft.questions, answers_of(draft), draft.current)
    if following is None:
        return replace(draft, step="review")
    return replace(draft, current=following, step="q")


def _invalid(result: Invalid) -> Refusal:
    return Refusal(result.code)


# ---- the transitions ----


def _typed(draft: AnswerDraft, event: Event, now: datetime) -> AnswerDraft | Refusal:
    q = question(draft)
    text = event.text or ""
    if q.type is QType.ROWS:
        row = parse_row(q, text)
        if isinstance(row, Invalid):
            return _invalid(row)
        rows = answers_of(draft).get(draft.current)
        so_far = rows if isinstance(rows, tuple) else ()
        if len(so_far) >= ROWS_MAX:
            return Refusal("form.rows.too_many")
        return _set(draft, (*so_far, row))
    value = parse_typed(q, text)
    if isinstance(value, Invalid):
        return _invalid(value)
    return _advance(_set(draft, value))


def _pick(draft: AnswerDraft, event: Event, now: datetime) -> AnswerDraft | Refusal:
    q = question(draft)
    if q.type not in (QType.SINGLE, QType.MULTI, QType.YES_NO):
        return Refusal("stale")
    value = choose(q, event.value, answers_of(draft).get(draft.current))
    if isinstance(value, Invalid):
        return _invalid(value)
    moved = _set(draft, value)
    # A multiple choice stays on screen until 完成; one choice is the whole answer.
    return moved if q.type is QType.MULTI else _advance(moved)


def _person(draft: AnswerDraft, event: Event, now: datetime) -> AnswerDraft | Refusal:
    """A member picked (or unpicked) for a member-picker question; the handler has checked
    that the id is on the branch roster."""
    if question(draft).type is not QType.MEMBERS or event.value <= 0:
        return Refusal("stale")
    current = answers_of(draft).get(draft.current)
    chosen = set(current) if isinstance(current, tuple) else set()
    chosen ^= {event.value}
    if len(chosen) > MEMBERS_MAX:
        return Refusal("form.members.too_many")
    return _set(draft, tuple(sorted(int(c) for c in chosen)))  # type: ignore[call-overload]


def _done(draft: AnswerDraft, event: Event, now: datetime) -> AnswerDraft | Refusal:
    q = question(draft)
    if q.type not in (QType.MULTI, QType.MEMBERS, QType.ROWS):
        return Refusal("stale")
    if q.required and not is_answered(answers_of(draft).get(draft.current)):
        return Refusal("form.answer.empty")
    return _advance(draft)


def _skip(draft: AnswerDraft, event: Event, now: datetime) -> AnswerDraft | Refusal:
    if question(draft).required:
        return Refusal("form.answer.required")
    return _advance(_set(draft, None))


def _keep(draft: AnswerDraft, event: Event, now: datetime) -> AnswerDraft | Refusal:
    """确认: the answer already there (pre-filled, or from going back) stands."""
    if not is_answered(answers_of(draft).get(draft.current)):
        return Refusal("stale")
    return _advance(draft)


def _back(draft: AnswerDraft, event: Event, now: datetime) -> AnswerDraft | Refusal:
    if draft.step == "review":
        last = previous_question(draft.questions, answers_of(draft), len(draft.questions))
        if last is None:
            return Refusal("stale")
        return replace(draft, step="q", current=last, nothing_to_report=False)
    earlier = previous_question(draft.questions, answers_of(draft), draft.current)
    if earlier is None:
        return Refusal("stale")
    return replace(draft, current=earlier)


def _all_kept(draft: AnswerDraft, event: Event, now: datetime) -> AnswerDraft | Refusal:
    """全部沿用: every pre-filled answer stands; straight to the review (only when complete)."""
    if missing(draft.questions, answers_of(draft)):
        return Refusal("form.incomplete")
    return replace(draft, step="review")


def _nothing(draft: AnswerDraft, event: Event, now: datetime) -> AnswerDraft | Refusal:
    """本期无情况: a branch reports that there was nothing this period (a valid answer)."""
    if not draft.allow_nothing:
        return Refusal("stale")
    return replace(draft, nothing_to_report=True, step="review")


def _edit(draft: AnswerDraft, event: Event, now: datetime) -> AnswerDraft | Refusal:
    """From the review: change the answer to question `value` (one that is shown)."""
    if event.value not in visible(draft.questions, answers_of(draft)):
        return Refusal("stale")
    return replace(draft, step="q", current=event.value, nothing_to_report=False)


def _submit(draft: AnswerDraft, event: Event, now: datetime) -> AnswerDraft | Refusal:
    """提交: allowed once every required question shown has an answer (or 本期无情况)."""
    if not draft.nothing_to_report and missing(draft.questions, answers_of(draft)):
        return Refusal("form.incomplete")
    return replace(draft, step="submit")


STEPS: Steps[AnswerDraft] = {
    "q": {
        "text": _typed,
        "pick": _pick,
        "person": _person,
        "done": _done,
        "skip": _skip,
        "keep": _keep,
        "all": _all_kept,
        "back": _back,
        "nothing": _nothing,
    },
    "review": {"edit": _edit, "back": _back, "submit": _submit, "nothing": _nothing},
}


def with_attachment(draft: AnswerDraft, attachment: Attachment) -> AnswerDraft | Refusal:
    """A photo or document sent for an attachment question (more than an event carries)."""
    if draft.step != "q" or question(draft).type is not QType.ATTACHMENT:
        return Refusal("form.answer.use_buttons")
    return _advance(_set(draft, attachment))
