"""Reviewing form answers: who sees how much, the 退回修改 comment, the roster write-back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.forms import ROSTER_PHONE, ROSTER_UNIT, Attachment, QType, Question, Value
from domain.forms_review import (
    COMMENT_MAX,
    STEPS,
    ReviewDraft,
    RosterChange,
    Sight,
    may_review,
    roster_changes,
    shown_answers,
    sight,
    start,
)
from domain.orgs import Role
from domain.validation import Invalid
from domain.wizard import Event, Refusal, apply, dump, load

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        ((), Sight.NONE),
        ((Role.SECRETARY,), Sight.PERSONAL),
        ((Role.DEPUTY,), Sight.PERSONAL),
        ((Role.ORGANIZATION,), Sight.PERSONAL),
        ((Role.COMMITTEE_ADMIN,), Sight.PERSONAL),
        ((Role.PROPAGANDA,), Sight.ANSWERS),
        ((Role.INFO_OFFICER,), Sight.ANSWERS),
        ((Role.GROUP_LEADER,), Sight.ANSWERS),
        ((Role.INSTRUCTOR,), Sight.AGGREGATES),
        ((Role.INSTRUCTOR, Role.PROPAGANDA), Sight.ANSWERS),
        ((Role.INSTRUCTOR, Role.SECRETARY), Sight.PERSONAL),
    ],
)
def test_what_offices_let_someone_see(roles: tuple[Role, ...], expected: Sight) -> None:
    assert sight(roles) is expected


def test_the_sender_and_superadmins_see_everything() -> None:
    assert sight((), sender=True) is Sight.PERSONAL
    assert sight((), superadmin=True) is Sight.PERSONAL


def test_only_the_sender_and_branch_admins_review() -> None:
    assert may_review(Sight.NONE, sender=True)
    assert may_review(Sight.PERSONAL, sender=False)
    assert not may_review(Sight.ANSWERS, sender=False)
    assert not may_review(Sight.AGGREGATES, sender=False)


QUESTIONS = (
    Question(QType.SHORT, "姓名"),
    Question(QType.PHONE, "手机号", roster=ROSTER_PHONE),
    Question(QType.ATTACHMENT, "照片", required=False),
    Question(QType.SHORT, "工作单位", roster=ROSTER_UNIT),
)
ANSWERS: dict[int, Value] = {0: "王芳", 1: "13800138000", 2: Attachment("photo", "f1"), 3: "甲公司"}


def test_personal_data_is_shown_to_admins_only() -> None:
    assert shown_answers(QUESTIONS, ANSWERS, Sight.PERSONAL) == ANSWERS
    assert shown_answers(QUESTIONS, ANSWERS, Sight.ANSWERS) == {0: "王芳", 3: "甲公司"}
    assert shown_answers(QUESTIONS, ANSWERS, Sight.AGGREGATES) == {}


def test_roster_changes_show_old_and_new_and_skip_what_is_unchanged() -> None:
    current = {ROSTER_PHONE: "13800138000", ROSTER_UNIT: "乙公司"}
    assert roster_changes(QUESTIONS, ANSWERS, current) == [
        RosterChange(ROSTER_UNIT, "乙公司", "甲公司")
    ]
    assert roster_changes(QUESTIONS, {1: "138 0013 8001"}, current) == [
        RosterChange(ROSTER_PHONE, "13800138000", "13800138001")
    ]
    assert roster_changes(QUESTIONS, {}, current) == []


def test_a_bad_phone_or_a_long_unit_refuses_the_write_back() -> None:
    assert roster_changes(QUESTIONS, {1: "12345"}, {}) == Invalid("form.roster.phone_invalid")
    assert roster_changes(QUESTIONS, {3: "公" * 101}, {}) == Invalid("form.roster.unit_too_long")


def test_the_comment_is_typed_checked_and_kept() -> None:
    draft = start(7, 3)
    assert draft == ReviewDraft(step="comment", response_id=7, cycle_id=3)
    assert apply(STEPS, draft, Event("text", text="   "), NOW) == Refusal("form.comment.empty")
    long = apply(STEPS, draft, Event("text", text="改" * (COMMENT_MAX + 1)), NOW)
    assert long == Refusal("form.comment.too_long")
    ready = apply(STEPS, draft, Event("text", text=" 请补充\t活动照片 "), NOW)
    assert isinstance(ready, ReviewDraft)
    assert (ready.step, ready.comment) == ("ready", "请补充 活动照片")
    assert apply(STEPS, ready, Event("text", text="again"), NOW) == Refusal("stale")
    assert load(ReviewDraft, dump(draft)) == draft
