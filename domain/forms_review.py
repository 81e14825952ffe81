"""Reviewing form answers: who may see what of them, the 退回修改 comment a reviewer types,
and what an approved 党员信息更新 answer changes on the roster. Pure rules.

Answers are the respondent's and their branch's business. The sender of a form sees all of
it; a branch's admins see their own branch's answers (a committee form included, but only
their part of it); other officers of the branch see the answers without personal data;
a party-building instructor (党建指导员) sees what the answers add up to for the branches
they guide, never one person's answer. Phone numbers and attachments are personal data:
only the sender and the branch's admins see them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import IntEnum
from typing import ClassVar

from domain.forms import PERSONAL, ROSTER_PHONE, ROSTER_UNIT, Question, Value
from domain.orgs import Permission, Role, permissions_for
from domain.validation import Invalid, clean_text, parse_phone
from domain.wizard import Draft, Event, Refusal, Steps

COMMENT_MAX = 500
UNIT_MAX = 100


class Sight(IntEnum):
    """How much of a branch's answers a person may see (each level includes the ones below)."""

    NONE = 0
    AGGREGATES = 1  # counts and tallies only (instructors)
    ANSWERS = 2  # each answer, personal data left out
    PERSONAL = 3  # each answer with phones and attachments (sender, branch admins)


def sight(roles: Collection[Role], *, sender: bool = False, superadmin: bool = False) -> Sight:
    """What the offices someone holds over a branch (there, or inherited from above) let them
    see of its answers; the sender and superadmins see everything."""
    if sender or superadmin:
        return Sight.PERSONAL
    granted = permissions_for(frozenset(roles))
    if Permission.MANAGE_MEMBERS in granted:
        return Sight.PERSONAL
    if Permission.VIEW_ROSTER in permissions_for(frozenset(roles) - {Role.INSTRUCTOR}):
        return Sight.ANSWERS
    if Role.INSTRUCTOR in roles:
        return Sight.AGGREGATES
    return Sight.NONE


def may_review(level: Sight, *, sender: bool) -> bool:
    """通过 / 退回修改: the sender, or someone who administers the respondent's branch."""
    return sender or level >= Sight.PERSONAL


def shown_answers(
    questions: Sequence[Question], answers: Mapping[int, Value], level: Sight
) -> dict[int, Value]:
    """The answers someone at `level` may read: nothing below ANSWERS, personal data only at
    PERSONAL."""
    if level < Sight.ANSWERS:
        return {}
    return {
        i: v
        for i, v in answers.items()
        if i < len(questions) and (level >= Sight.PERSONAL or questions[i].type not in PERSONAL)
    }


# ---- 党员信息更新: what an accepted answer writes back to the roster ----


@dataclass(frozen=True)
class RosterChange:
    """One roster field an answer changes: its old and new value (texts as shown)."""

    field: str  # domain.forms.ROSTER_PHONE / ROSTER_UNIT
    old: str
    new: str


def roster_changes(
    questions: Sequence[Question],
    answers: Mapping[int, Value],
    current: Mapping[str, str],
) -> list[RosterChange] | Invalid:
    """The roster fields the answers change (old → new), in question order; a phone that is no
    mainland mobile number, or a unit name too long, refuses the whole write-back."""
    changes: list[RosterChange] = []
    seen: set[str] = set()
    for index, question in enumerate(questions):
        field = question.roster
        if not field or field in seen or index not in answers:
            continue
        raw = answers[index]
        if not isinstance(raw, str):
            continue
        if field == ROSTER_PHONE:
            new = parse_phone(raw)
            if isinstance(new, Invalid):
                return Invalid("form.roster.phone_invalid")
        elif field == ROSTER_UNIT:
            new = clean_text(raw)
            if not new:
                continue
            if len(new) > UNIT_MAX:
                return Invalid("form.roster.unit_too_long")
        else:
            continue
        seen.add(field)
        old = current.get(field, "")
        if new != old:
            changes.append(RosterChange(field, old, new))
    return changes


# ---- the 退回修改 comment, typed ----


@dataclass(frozen=True)
class ReviewDraft(Draft):
    """退回修改 pressed on an answer: the reviewer is asked why, in a typed message."""

    FLOW: ClassVar[str] = "form_review"
    VERSION: ClassVar[int] = 1
    response_id: int = 0
    cycle_id: int = 0
    comment: str = ""


def start(response_id: int, cycle_id: int) -> ReviewDraft:
    """The draft when 退回修改 is pressed: waiting for the comment."""
    return ReviewDraft(step="comment", response_id=response_id, cycle_id=cycle_id)


def check_comment(text: str) -> str | Invalid:
    """A reviewer's comment: one cleaned paragraph, not empty, at most COMMENT_MAX characters."""
    value = clean_text(text)
    if not value:
        return Invalid("form.comment.empty")
    if len(value) > COMMENT_MAX:
        return Invalid("form.comment.too_long")
    return value


def take_comment(draft: ReviewDraft, event: Event, _now: datetime) -> ReviewDraft | Refusal:
    """The typed comment: kept, and the draft is ready to return the answer."""
    comment = check_comment(event.text or "")
    if isinstance(comment, Invalid):
        return Refusal(comment.code)
    return replace(draft, step="ready", comment=comment)


STEPS: Steps[ReviewDraft] = {"comment": {"text": take_comment}}
