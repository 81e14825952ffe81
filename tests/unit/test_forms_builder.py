"""The /form builder's draft and step table, without Telegram or a database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from domain.forms import Column, FormKind, Guess, LatePolicy, QType, Question, Repeat, ShowIf
from domain.forms_builder import (
    QTYPES,
    STEPS,
    TYPED,
    BuildDraft,
    choose_org,
    from_guesses,
    from_template,
    kinds_allowed,
    parse_columns,
    start,
    swapped,
    without,
)
from domain.orgs import Level
from domain.validation import Invalid
from domain.wizard import Event, Refusal, apply, dump, load

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def go(draft: BuildDraft, action: str, value: int = 0, text: str | None = None) -> BuildDraft:
    result = apply(STEPS, draft, Event(action, value, text), NOW)
    assert isinstance(result, BuildDraft), result
    return result


def refused(draft: BuildDraft, action: str, value: int = 0, text: str | None = None) -> str:
    result = apply(STEPS, draft, Event(action, value, text), NOW)
    assert isinstance(result, Refusal), result
    return result.code


def committee_draft() -> BuildDraft:
    return choose_org(start(single_org=True), 1, "两新工委", Level.COMMITTEE)


def at_questions(kind: int = 0) -> BuildDraft:
    draft = go(committee_draft(), "blank")
    draft = go(draft, "pick", kind)
    draft = go(draft, "text", text="志愿活动报名")
    return go(draft, "skip")


def add(draft: BuildDraft, kind: QType, title: str) -> BuildDraft:
    draft = go(draft, "add")
    draft = go(draft, "pick", QTYPES.index(kind))
    return go(draft, "text", text=title)


def test_a_branch_sends_member_forms_only_a_committee_either() -> None:
    branch = choose_org(start(single_org=False), 5, "第一支部", Level.BRANCH)
    assert kinds_allowed(branch) == (FormKind.MEMBER,)
    assert kinds_allowed(committee_draft()) == (FormKind.MEMBER, FormKind.BRANCH)
    blank = go(branch, "blank")
    assert refused(blank, "pick", 1) == "stale"  # 支部填写 forged by a branch secretary
    # A branch template started by a branch becomes a member form.
    started = from_template(branch, "monthly_report", FormKind.BRANCH, "t", "", (), Repeat.NONE, 0)
    assert started.kind is FormKind.MEMBER


def test_blank_form_with_choices_condition_numbers_and_a_table() -> None:
    draft = at_questions()
    assert draft.step == "qs"
    draft = add(draft, QType.YES_NO, "是否参加？")
    assert draft.step == "qo"
    draft = go(draft, "save")
    draft = add(draft, QType.SINGLE, "时间段")
    assert draft.step == "qc"
    assert refused(draft, "text", text="只有一个") == "form.choices.too_few"
    draft = go(draft, "text", text="上午\n下午")
    draft = go(draft, "if")
    assert draft.step == "qif"
    assert refused(draft, "pick", 1) == "stale"  # not an earlier question
    draft = go(draft, "pick", 0)
    assert refused(draft, "done") == "form.build.condition_values"
    draft = go(go(draft, "tv", 1), "done")
    draft = go(draft, "save")
    draft = add(draft, QType.INTEGER, "人数")
    assert draft.step == "qu"
    draft = go(go(draft, "text", text="人"), "text", text="0-10")
    draft = go(draft, "req")
    draft = go(draft, "save")
    draft = add(draft, QType.ROWS, "家属")
    assert refused(draft, "text", text="姓名:颜色") == "form.build.column_type"
    draft = go(draft, "text", text="姓名:文字\n年龄：整数")
    draft = go(draft, "save")
    assert [q.type for q in draft.questions] == [
        QType.YES_NO,
        QType.SINGLE,
        QType.INTEGER,
        QType.ROWS,
    ]
    assert draft.questions[1].show_if == ShowIf(0, (1,))
    assert (draft.questions[2].unit, draft.questions[2].low, draft.questions[2].high) == (
        "人",
        "0",
        "10",
    )
    assert not draft.questions[2].required
    assert draft.questions[3].columns == (Column("姓名"), Column("年龄", QType.INTEGER))
    assert go(draft, "next").step == "aud"


def test_the_draft_survives_a_round_trip_through_json() -> None:
    draft = at_questions()
    draft = add(draft, QType.YES_NO, "是否参加？")
    draft = go(draft, "save")
    draft = add(draft, QType.MULTI, "项目")
    draft = go(draft, "text", text="甲、乙、丙")
    draft = replace(draft, deadline=NOW + timedelta(days=3), late=LatePolicy.REFUSE)
    assert load(BuildDraft, dump(draft)) == draft


def test_moving_and_deleting_keep_conditions_pointing_at_the_right_question() -> None:
    questions = (
        Question(QType.SHORT, "a"),
        Question(QType.YES_NO, "b"),
        Question(QType.SHORT, "c", show_if=ShowIf(1, (1,))),
    )
    assert isinstance(swapped(questions, 1), Refusal)  # c cannot go above b
    moved = swapped(questions, 0)
    assert isinstance(moved, tuple)
    assert [q.title for q in moved] == ["b", "a", "c"]
    assert moved[2].show_if == ShowIf(0, (1,))
    dropped = without(questions, 1)
    assert [q.show_if for q in dropped] == [None, None]
    shifted = without(questions, 0)
    assert shifted[1].show_if == ShowIf(0, (1,))


def test_list_screen_moves_and_deletes_through_the_table() -> None:
    draft = at_questions()
    for title in ("一", "二", "三"):
        draft = go(add(draft, QType.SHORT, title), "save")
    draft = go(go(draft, "pick", 2), "up")
    assert [q.title for q in draft.questions] == ["一", "三", "二"]
    draft = go(go(draft, "pick", 0), "del")
    assert [q.title for q in draft.questions] == ["三", "二"]
    draft = go(go(draft, "pick", 0), "edit")
    assert (draft.step, draft.work_index) == ("qo", 0)
    draft = go(go(draft, "word"), "text", text="三（改）")
    draft = go(draft, "save")
    assert [q.title for q in draft.questions] == ["三（改）", "二"]
    assert refused(draft, "pick", 9) == "stale"


def test_guessed_types_are_checked_before_the_kind() -> None:
    guesses = (Guess("姓名", QType.SHORT), Guess("手机", QType.PHONE))
    draft = from_guesses(go(committee_draft(), "file"), guesses, "统计表")
    assert (draft.step, draft.title, draft.kind) == ("guess", "统计表", None)
    draft = go(draft, "ty", 0)
    draft = go(draft, "pick", QTYPES.index(QType.SINGLE))
    assert draft.step == "qc"  # a choice question needs its choices
    draft = go(draft, "text", text="张三\n李四")
    draft = go(draft, "save")
    assert draft.step == "guess"
    assert draft.questions[0].choices == ("张三", "李四")
    draft = go(go(draft, "ty", 1), "pick", QTYPES.index(QType.LONG))
    assert draft.questions[1].type is QType.LONG
    assert go(draft, "ok").step == "kind"


def test_typed_answers_are_checked() -> None:
    draft = go(committee_draft(), "blank")
    draft = go(draft, "pick", 1)
    assert refused(draft, "text", text="标" * 5000) == "form.title.too_long"
    assert refused(draft, "text", text="  \u200b ") == "form.title.empty"
    draft = go(draft, "text", text="  表单\u00a0标题 🇨🇳 <b>&")
    assert draft.title == "表单 标题 🇨🇳 <b>&"
    draft = go(draft, "skip")
    draft = add(draft, QType.DECIMAL, "金额")
    assert refused(draft, "text", text="") == "form.build.unit_empty"
    draft = go(draft, "skip")
    assert refused(draft, "text", text="100-1") == "form.bounds.order"


def test_deadline_repeat_and_anonymity() -> None:
    draft = at_questions(kind=0)
    draft = go(add(draft, QType.YES_NO, "是否"), "save")
    draft = go(go(draft, "next"), "next")
    assert draft.step == "dl"
    assert refused(draft, "dl", 5) == "stale"
    draft = go(draft, "dlt")
    assert refused(draft, "text", text="昨天") in ("form.deadline_past", "form.build.bad_time")
    assert refused(draft, "text", text="胡说") == "form.build.bad_time"
    draft = go(draft, "text", text="2026-12-20")
    assert draft.step == "opt"
    assert draft.deadline is not None
    assert draft.deadline.date().isoformat() == "2026-12-20"
    draft = go(draft, "rep", 1)
    assert (draft.step, draft.repeat) == ("dd", Repeat.MONTHLY)
    assert refused(draft, "text", text="31") == "form.build.due_day"
    draft = go(draft, "text", text="5日")
    draft = go(go(draft, "anon"), "late")
    assert (draft.due_day, draft.anonymous, draft.late) == (5, True, LatePolicy.REFUSE)
    assert go(draft, "next").step == "pre"
    # A branch form is never anonymous.
    branch = replace(draft, kind=FormKind.BRANCH, anonymous=False)
    assert refused(branch, "anon") == "stale"


def test_back_walks_the_steps_and_stale_actions_are_refused() -> None:
    draft = at_questions()
    assert go(draft, "back").step == "intro"
    draft = add(draft, QType.INTEGER, "人数")
    assert go(draft, "back").step == "qw"
    assert go(go(draft, "back"), "back").step == "qt"
    assert refused(draft, "publish") == "stale"
    first = start(single_org=True)
    assert refused(first, "back") == "stale"


def test_columns_are_read_one_per_line() -> None:
    assert parse_columns("姓名\n时长：整数\n日期:date") == (
        Column("姓名"),
        Column("时长", QType.INTEGER),
        Column("日期", QType.DATE),
    )
    assert parse_columns("a\na") == Invalid("form.build.column_twice")
    assert parse_columns("\n".join(str(i) for i in range(7))) == Invalid(
        "form.build.columns_too_many"
    )


def test_editing_a_saved_question_can_be_left_without_saving() -> None:
    draft = at_questions()
    draft = add(draft, QType.INTEGER, "人数")
    draft = go(go(draft, "text", text="人"), "text", text="≥0")
    draft = go(draft, "save")
    editing = go(go(draft, "pick", 0), "edit")
    types = go(editing, "type")
    assert go(types, "back").step == "qo"  # 改答题方式 returns to the options
    wording = go(types, "pick", QTYPES.index(QType.INTEGER))
    unit = go(wording, "keep")
    assert unit.step == "qu"
    bounds = go(unit, "keep")  # the unit kept
    options = go(bounds, "keep")  # the bounds kept
    assert options.work == draft.questions[0]
    changed = go(options, "req")
    left = go(changed, "back")
    assert left.step == "qs"
    assert left.questions == draft.questions  # the change was let go
    assert left.work is None


def test_the_org_copy_and_branch_steps_are_the_shared_picker() -> None:
    for step in ("org", "copy", "br"):
        assert {"page", "text", "nof"} <= set(STEPS[step]), step
        assert step in TYPED  # a typed part of a name narrows the list
    draft = replace(choose_org(start(False), 1, "党委", Level.COMMITTEE), step="br", targets=(7,))
    turned = go(draft, "page", 16)
    assert turned.br_offset == 16
    found = go(turned, "text", text="  第３００ ")
    assert (found.br_filter, found.br_offset, found.targets) == ("第３００", 0, (7,))
    assert refused(found, "text", text="   ") == "picker.find_empty"
    toggled = go(found, "tb", 9)
    assert (toggled.targets, toggled.br_filter) == ((7, 9), "第３００")  # still narrowed
    everything = go(toggled, "nof")
    assert (everything.br_filter, everything.br_offset, everything.targets) == ("", 0, (7, 9))
    copying = go(replace(draft, step="copy"), "text", text="报名")
    assert (copying.copy_find, copying.copy_offset) == ("报名", 0)
    other = choose_org(replace(found, step="org"), 2, "另一个党委", Level.COMMITTEE)
    assert (other.br_filter, other.targets) == ("", ())  # another organization's branches
