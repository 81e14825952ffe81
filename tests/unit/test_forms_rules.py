"""Forms: building questions, valid answers, conditions, cycles, and totals that add up."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.forms import (
    Column,
    Cycle,
    LatePolicy,
    QType,
    Question,
    Repeat,
    ShowIf,
    Tally,
    Timeliness,
    Value,
    check_form,
    choose,
    combine,
    contains_id_number,
    cycle_for,
    guess_question,
    is_answered,
    kept_answers,
    may_answer,
    missing,
    next_cycle,
    next_question,
    parse_bounds,
    parse_choices,
    parse_row,
    parse_typed,
    previous_question,
    shown_for_anonymous,
    tally,
    timeliness,
    visible,
)
from domain.validation import Invalid

DEADLINE = datetime(2026, 12, 10, 15, 59, tzinfo=UTC)


def q(kind: QType, **kw: object) -> Question:
    return Question(kind, "题目", **kw)  # type: ignore[arg-type]


# ---- building ----


def test_choices_typed_in_the_ways_people_separate_them() -> None:
    assert parse_choices("参加\n不参加") == ("参加", "不参加")
    assert parse_choices("优秀、合格，基本合格；不合格") == ("优秀", "合格", "基本合格", "不合格")
    assert parse_choices("是、是、否") == ("是", "否")
    assert parse_choices("只有一个") == Invalid("form.choices.too_few")
    assert parse_choices("、".join(str(i) for i in range(13))) == Invalid("form.choices.too_many")
    assert parse_choices("短\n" + "长" * 31) == Invalid("form.choices.too_long")


def test_number_bounds() -> None:
    assert parse_bounds("0-100") == ("0", "100")
    assert parse_bounds("０～１００") == ("0", "100")
    assert parse_bounds("≥0") == ("0", None)
    assert parse_bounds("不超过 500") == (None, "500")
    assert parse_bounds("-") == (None, None)
    assert parse_bounds("100-0") == Invalid("form.bounds.order")
    assert parse_bounds("很多") == Invalid("form.bounds.invalid")


def test_a_form_is_checked_before_it_is_sent() -> None:
    assert check_form([]) == Invalid("form.no_questions")
    assert check_form([q(QType.SINGLE, choices=("a",))]) == Invalid("form.choices.too_few")
    assert check_form([q(QType.ROWS)]) == Invalid("form.columns.none")
    later = [q(QType.SHORT, show_if=ShowIf(1, (0,))), q(QType.YES_NO)]
    assert check_form(later) == Invalid("form.show_if.order")
    on_text = [q(QType.SHORT), q(QType.SHORT, show_if=ShowIf(0, (0,)))]
    assert check_form(on_text) == Invalid("form.show_if.source")
    out_of_range = [q(QType.YES_NO), q(QType.SHORT, show_if=ShowIf(0, (2,)))]
    assert check_form(out_of_range) == Invalid("form.show_if.source")
    assert check_form([q(QType.YES_NO), q(QType.SHORT, show_if=ShowIf(0, (1,)))]) is None


# ---- answering ----


def test_id_card_numbers_are_recognized_by_their_check_digit() -> None:
    assert contains_id_number("11010519491231002X")
    assert contains_id_number("我的身份证号是 11010519491231002x。")
    assert contains_id_number("110105491231002")  # the old 15-digit form
    assert not contains_id_number("110105194912310020")  # wrong check digit
    assert not contains_id_number("13800138000")
    assert not contains_id_number("订单号 123456789012345678")


def test_an_id_card_number_is_refused_in_any_typed_answer() -> None:
    for kind in (QType.SHORT, QType.LONG, QType.INTEGER, QType.PHONE):
        assert parse_typed(q(kind), "11010519491231002X") == Invalid("form.answer.id_card")
    rows = q(QType.ROWS, columns=(Column("姓名"), Column("证件")))
    assert parse_row(rows, "王芳，11010519491231002X") == Invalid("form.answer.id_card")


def test_text_answers() -> None:
    assert parse_typed(q(QType.SHORT), "  王\u200b芳  ") == "王芳"
    assert parse_typed(q(QType.SHORT), "   ") == Invalid("form.answer.empty")
    assert parse_typed(q(QType.SHORT), "字" * 201) == Invalid("form.answer.too_long")
    assert parse_typed(q(QType.LONG), "第一段\n\n第二段  ") == "第一段\n\n第二段"
    assert parse_typed(q(QType.LONG), "字" * 5000) == Invalid("form.answer.too_long")


def test_number_answers_with_units_bounds_and_full_width_digits() -> None:
    people = q(QType.INTEGER, unit="人", low="0", high="500")
    assert parse_typed(people, "１２人") == 12
    assert parse_typed(people, "12.5") == Invalid("form.answer.integer")
    assert parse_typed(people, "501") == Invalid("form.answer.too_large")
    assert parse_typed(people, "-1") == Invalid("form.answer.too_small")
    assert parse_typed(people, "十二") == Invalid("form.answer.number")
    money = q(QType.DECIMAL, unit="元")
    assert parse_typed(money, "1,234.50元") == "1234.5"
    assert parse_typed(money, "0.00001") == Invalid("form.answer.decimals")
    assert parse_typed(money, "0") == "0"


def test_dates_and_phones() -> None:
    assert parse_typed(q(QType.DATE), "2026年7月1日") == "2026-07-01"
    assert parse_typed(q(QType.DATE), "2026-02-30") == Invalid("form.answer.date")
    assert parse_typed(q(QType.PHONE), "+86 138-0013-8000") == "13800138000"
    assert parse_typed(q(QType.PHONE), "12345") == Invalid("form.answer.phone")
    assert parse_typed(q(QType.SINGLE, choices=("a", "b")), "a") == Invalid(
        "form.answer.use_buttons"
    )


def test_choices_pressed() -> None:
    one = q(QType.SINGLE, choices=("优秀", "合格", "不合格"))
    assert choose(one, 1) == 1
    assert choose(one, 3) == Invalid("stale")
    many = q(QType.MULTI, choices=("a", "b", "c"))
    assert choose(many, 2) == (2,)
    assert choose(many, 0, (2,)) == (0, 2)
    assert choose(many, 2, (0, 2)) == (0,)
    assert choose(q(QType.YES_NO), 1) is True
    assert choose(q(QType.YES_NO), 0) is False
    assert choose(q(QType.YES_NO), 5) == Invalid("stale")


def test_a_row_of_a_small_table() -> None:
    rows = q(
        QType.ROWS,
        columns=(Column("姓名"), Column("时长", QType.DECIMAL), Column("党员", QType.YES_NO)),
    )
    assert parse_row(rows, "王芳，2.5，是") == ("王芳", "2.5", True)
    assert parse_row(rows, "王芳,,否") == ("王芳", None, False)
    assert parse_row(rows, "王芳，两小时，是") == Invalid("form.row.number")
    assert parse_row(rows, "王芳，2") == Invalid("form.row.cells")
    assert parse_row(rows, "王芳，2，也许") == Invalid("form.row.yes_no")
    assert parse_row(rows, "，，") == Invalid("form.answer.empty")


def test_what_counts_as_answered() -> None:
    assert not is_answered(None)
    assert not is_answered(())
    assert not is_answered("")
    assert is_answered(False)
    assert is_answered(0)


# ---- conditions and the order of questions ----

FORM = [
    q(QType.YES_NO),  # 0: 本月是否开展主题党日？
    q(QType.INTEGER, show_if=ShowIf(0, (1,))),  # 1: 参加人数 (only if yes)
    q(QType.LONG, show_if=ShowIf(1, (1,)), required=False),  # 2: never (1 is a number)
    q(QType.MULTI, choices=("学习", "志愿", "参观")),  # 3
    q(QType.SHORT, show_if=ShowIf(3, (2,))),  # 4: 参观地点 (only if 参观 picked)
    q(QType.SHORT, required=False),  # 5
]


def test_questions_follow_earlier_answers() -> None:
    assert visible(FORM, {}) == [0, 3, 5]
    assert visible(FORM, {0: True}) == [0, 1, 3, 5]
    assert visible(FORM, {0: False, 3: (0, 2)}) == [0, 3, 4, 5]
    assert next_question(FORM, {}, None) == 0
    assert next_question(FORM, {0: False}, 0) == 3
    assert next_question(FORM, {0: True}, 0) == 1
    assert next_question(FORM, {0: True}, 5) is None
    assert previous_question(FORM, {0: True}, 3) == 1
    assert previous_question(FORM, {0: False}, 3) == 0
    assert previous_question(FORM, {}, 0) is None


def test_a_changed_answer_drops_what_it_hid_and_required_ones_are_listed() -> None:
    answers: dict[int, Value] = {0: True, 1: 12, 3: (2,), 4: "延安"}
    assert kept_answers(FORM, {**answers, 0: False}) == {0: False, 3: (2,), 4: "延安"}
    assert missing(FORM, {0: True}) == [1, 3]
    assert missing(FORM, answers) == []
    assert missing(FORM, {**answers, 3: ()}) == [3]


# ---- deadlines and cycles ----


def test_late_answers_follow_the_policy() -> None:
    late = DEADLINE + timedelta(minutes=1)
    assert may_answer(LatePolicy.REFUSE, DEADLINE, DEADLINE)
    assert not may_answer(LatePolicy.REFUSE, DEADLINE, late)
    assert may_answer(LatePolicy.ACCEPT, DEADLINE, late)
    assert timeliness(None, DEADLINE) is Timeliness.MISSING
    assert timeliness(DEADLINE, DEADLINE) is Timeliness.ON_TIME
    assert timeliness(late, DEADLINE) is Timeliness.LATE


def test_monthly_quarterly_and_yearly_cycles() -> None:
    assert cycle_for(Repeat.MONTHLY, 5, date(2026, 12, 3)) == Cycle(
        "2026-11", date(2026, 11, 1), date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 5)
    )
    assert cycle_for(Repeat.MONTHLY, 31, date(2027, 2, 10)).due == date(2027, 2, 28)
    assert cycle_for(Repeat.MONTHLY, 5, date(2027, 1, 1)).key == "2026-12"
    quarter = cycle_for(Repeat.QUARTERLY, 10, date(2026, 11, 20))
    assert quarter == Cycle(
        "2026-Q3", date(2026, 7, 1), date(2026, 9, 30), date(2026, 10, 1), date(2026, 10, 10)
    )
    assert cycle_for(Repeat.QUARTERLY, 10, date(2027, 2, 1)).key == "2026-Q4"
    year = cycle_for(Repeat.YEARLY, 20, date(2027, 3, 1))
    assert (year.key, year.opens, year.due) == ("2026", date(2027, 1, 1), date(2027, 1, 20))
    with pytest.raises(ValueError, match="one-off"):
        cycle_for(Repeat.NONE, 5, date(2026, 1, 1))


def test_each_cycle_follows_the_last_without_gaps() -> None:
    for repeat in (Repeat.MONTHLY, Repeat.QUARTERLY, Repeat.YEARLY):
        cycle = cycle_for(repeat, 5, date(2026, 1, 15))
        for _ in range(10):
            following = next_cycle(repeat, 5, cycle)
            assert following.period_start == cycle.period_end + timedelta(days=1)
            assert following.opens > cycle.opens
            cycle = following


# ---- totals ----


def test_tallies_of_each_kind() -> None:
    yes_no = tally(q(QType.YES_NO), [True, False, True, None])
    assert (yes_no.answered, yes_no.counts) == (3, (1, 2))
    many = tally(q(QType.MULTI, choices=("a", "b", "c")), [(0, 2), (2,), ()])
    assert (many.answered, many.counts) == (2, (1, 0, 2))
    numbers = tally(q(QType.DECIMAL), ["1.5", "2", None, "10.25"])
    assert (numbers.total, numbers.low, numbers.high) == (
        Decimal("13.75"),
        Decimal("1.5"),
        Decimal("10.25"),
    )
    assert numbers.mean == Decimal("4.58")
    rows = tally(q(QType.ROWS, columns=(Column("姓名"),)), [(("a",), ("b",)), (("c",),)])
    assert (rows.answered, rows.total) == (2, Decimal(3))
    assert Tally().mean is None


@given(
    st.lists(
        st.lists(st.one_of(st.none(), st.integers(-1000, 1000)), max_size=20),
        min_size=1,
        max_size=12,
    )
)
def test_branch_subtotals_add_up_to_the_committee_total(branches: list[list[int | None]]) -> None:
    question = q(QType.INTEGER)
    whole = tally(question, [v for branch in branches for v in branch])
    assert combine(tally(question, branch) for branch in branches) == whole


@given(st.lists(st.lists(st.integers(0, 2), max_size=20), min_size=1, max_size=12))
def test_choice_counts_add_up_too(branches: list[list[int]]) -> None:
    question = q(QType.SINGLE, choices=("a", "b", "c"))
    whole = tally(question, [v for branch in branches for v in branch])
    assert combine(tally(question, branch) for branch in branches) == whole


def test_anonymous_aggregates_wait_for_five_answers() -> None:
    assert not shown_for_anonymous(4)
    assert shown_for_anonymous(5)


# ---- a sheet's header row becomes questions ----


def test_column_types_are_guessed_from_headers_and_cells() -> None:
    assert guess_question("联系电话", ["13800138000"]).type is QType.PHONE  # type: ignore[union-attr]
    assert guess_question("活动日期", []).type is QType.DATE  # type: ignore[union-attr]
    assert guess_question("参加人数", ["12"]).type is QType.INTEGER  # type: ignore[union-attr]
    assert guess_question("活动情况", ["…"]).type is QType.LONG  # type: ignore[union-attr]
    assert guess_question("时长", [1.5, 2, "3"]).type is QType.DECIMAL  # type: ignore[union-attr]
    assert guess_question("次", [1, 2, 3]).type is QType.INTEGER  # type: ignore[union-attr]
    assert guess_question("党员", ["是", "否", "是"]).type is QType.YES_NO  # type: ignore[union-attr]
    assert guess_question("报到", [date(2026, 1, 1)]).type is QType.DATE  # type: ignore[union-attr]
    stage = guess_question("身份", ["正式党员", "预备党员", "正式党员", "预备党员"])
    assert stage is not None
    assert (stage.type, stage.choices) == (QType.SINGLE, ("正式党员", "预备党员"))
    assert guess_question("姓名", ["王芳", "李雷"]).type is QType.SHORT  # type: ignore[union-attr]
    assert guess_question("", ["x"]) is None
    assert guess_question(None, []) is None  # type: ignore[arg-type]
