"""Answering a form: the step table, without Telegram or a database."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.forms import Attachment, Column, QType, Question, ShowIf
from domain.forms_wizard import STEPS, AnswerDraft, answers_of, start, with_attachment
from domain.wizard import STALE, Event, Refusal, apply, dump, load

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)

FORM = (
    Question(QType.YES_NO, "本月是否开展主题党日"),  # 0
    Question(QType.INTEGER, "参加人数", unit="人", show_if=ShowIf(0, (1,))),  # 1
    Question(QType.MULTI, "活动形式", choices=("学习", "志愿服务", "参观")),  # 2
    Question(QType.LONG, "心得", required=False),  # 3
    Question(
        QType.ROWS, "志愿者", required=False,
        columns=(Column("姓名"), Column("时长", QType.DECIMAL)),
    ),  # 4
    Question(QType.ATTACHMENT, "活动照片", required=False),  # 5
)  # fmt: skip


def step(draft: AnswerDraft, action: str, value: int = 0, text: str | None = None) -> AnswerDraft:
    moved = apply(STEPS, draft, Event(action, value, text), NOW)
    assert isinstance(moved, AnswerDraft), moved
    return moved


def refused(draft: AnswerDraft, action: str, value: int = 0, text: str | None = None) -> str:
    result = apply(STEPS, draft, Event(action, value, text), NOW)
    assert isinstance(result, Refusal), result
    return result.code


def test_a_whole_answer_from_the_first_question_to_submit() -> None:
    draft = start(7, FORM)
    assert (draft.step, draft.current) == ("q", 0)
    draft = step(draft, "pick", 1)  # 是: the count is asked next
    assert draft.current == 1
    assert refused(draft, "text", text="十二") == "form.answer.number"
    draft = step(draft, "text", text="12人")
    assert draft.current == 2
    draft = step(draft, "pick", 0)
    draft = step(draft, "pick", 2)
    assert draft.current == 2  # a multiple choice waits for 完成
    draft = step(draft, "done")
    draft = step(draft, "skip")  # 心得 is optional
    draft = step(draft, "text", text="王芳，2.5")
    draft = step(draft, "text", text="李雷，1")
    draft = step(draft, "done")
    attached = with_attachment(draft, Attachment("photo", "file-1"))
    assert isinstance(attached, AnswerDraft)
    assert attached.step == "review"
    draft = step(attached, "submit")
    assert draft.step == "submit"
    assert answers_of(draft) == {
        0: True, 1: 12, 2: (0, 2), 4: (("王芳", "2.5"), ("李雷", "1")),
        5: Attachment("photo", "file-1"),
    }  # fmt: skip


def test_no_skips_the_question_it_hid_and_going_back_reopens_it() -> None:
    draft = step(start(7, FORM), "pick", 0)  # 否: no count
    assert draft.current == 2
    back = step(draft, "back")
    assert back.current == 0
    again = step(back, "pick", 1)
    assert again.current == 1
    assert refused(start(7, FORM), "back") == "stale"


def test_required_questions_cannot_be_skipped_or_left_empty() -> None:
    draft = step(start(7, FORM), "pick", 0)  # at the multiple choice, nothing picked
    assert refused(draft, "skip") == "form.answer.required"
    assert refused(draft, "done") == "form.answer.empty"
    assert refused(draft, "text", text="学习") == "form.answer.use_buttons"


def test_prefilled_answers_are_confirmed_with_one_tap() -> None:
    draft = start(7, FORM, {0: True, 1: 30})
    assert answers_of(draft) == {0: True, 1: 30}
    draft = step(step(draft, "keep"), "keep")
    assert draft.current == 2
    assert refused(draft, "keep") == "stale"  # nothing there yet to confirm


def test_last_periods_answers_can_all_stand_with_one_tap() -> None:
    partial = start(7, FORM, {0: True, 1: 30})
    assert refused(partial, "all") == "form.incomplete"  # 活动形式 is still to be answered
    whole = start(7, FORM, {0: True, 1: 30, 2: (0, 1)})
    review = step(whole, "all")
    assert review.step == "review"
    assert answers_of(review) == {0: True, 1: 30, 2: (0, 1)}


def test_the_review_changes_an_answer_and_submit_needs_every_required_one() -> None:
    draft = start(7, FORM, {0: False, 2: (1,)})
    draft = step(step(draft, "keep"), "done")
    draft = step(step(step(draft, "skip"), "skip"), "skip")
    assert draft.step == "review"
    assert refused(draft, "edit", 1) == "stale"  # hidden: 否 was answered
    draft = step(draft, "edit", 0)
    draft = step(draft, "pick", 1)  # now 是: the count is required
    assert draft.current == 1
    draft = step(draft, "text", text="8")
    draft = step(step(step(step(draft, "done"), "skip"), "skip"), "skip")
    assert step(draft, "submit").step == "submit"
    # Changing an answer keeps the others: the count is still there after 是 again.
    assert answers_of(step(step(draft, "edit", 0), "pick", 1))[1] == 8


def test_a_branch_may_report_nothing_this_period() -> None:
    member = start(7, FORM)
    assert refused(member, "nothing") == "stale"
    branch = start(7, FORM, branch_id=42)
    nothing = step(branch, "nothing")
    assert (nothing.step, nothing.nothing_to_report) == ("review", True)
    assert step(nothing, "submit").step == "submit"
    assert refused(step(branch, "pick", 0), "submit") == "stale"  # not at the review yet


def test_member_picker_and_tables_keep_their_limits() -> None:
    picker = start(7, (Question(QType.MEMBERS, "参加人员"),))
    picked = step(step(step(picker, "person", 5), "person", 9), "person", 5)
    assert answers_of(picked) == {0: (9,)}
    assert refused(picker, "person", 0) == "stale"
    table = start(7, (Question(QType.ROWS, "志愿者", columns=(Column("姓名"),)),))
    assert refused(table, "text", text="，") in ("form.answer.empty", "form.row.cells")
    for i in range(50):
        table = step(table, "text", text=f"志愿者{i}")
    assert refused(table, "text", text="再一个") == "form.rows.too_many"


def test_an_attachment_comes_only_where_one_is_asked() -> None:
    draft = start(7, FORM)
    assert with_attachment(draft, Attachment("photo", "x")) == Refusal("form.answer.use_buttons")
    assert apply(STEPS, draft, Event("whatever"), NOW) is STALE


def test_the_draft_survives_its_json_round_trip() -> None:
    draft = step(step(start(7, FORM, branch_id=3), "pick", 1), "text", text="12")
    assert load(AnswerDraft, dump(draft)) == draft
