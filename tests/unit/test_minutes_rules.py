"""Pure minutes rules: the form per meeting type, cleaning and limits of what is typed, and
the attendance summary posted when a meeting closes."""

from __future__ import annotations

import pytest

from domain.compliance import MeetingType as M
from domain.meetings import Status, may_cancel, may_edit, may_record, summarize
from domain.minutes import (
    FIELDS_BY_TYPE,
    LONG_MAX,
    PHOTOS_MAX,
    Field,
    check_minutes,
    clean_minutes_text,
    form_for,
    parse_field,
    text_length,
)
from domain.orgs import Stage
from domain.validation import Invalid

F, P = Stage.FULL, Stage.PROBATIONARY


def fields(*types: M) -> list[str]:
    return [s.field.value for s in form_for(types)]


def test_each_type_asks_its_own_fields_and_remarks_last() -> None:
    assert fields(M.GENERAL_MEETING) == ["topics", "discussion", "resolutions", "remarks"]
    assert fields(M.COMMITTEE_MEETING) == ["topics", "decisions", "remarks"]
    assert fields(M.GROUP_MEETING) == ["content", "speeches", "remarks"]
    assert fields(M.PARTY_LESSON) == ["lecturer", "theme", "summary", "remarks"]
    assert fields(M.THEME_DAY) == ["activity", "reflections", "remarks"]
    assert fields(M.LIFE_MEETING) == ["self_review", "rectification", "remarks"]
    assert fields(M.DEMOCRATIC_EVALUATION) == ["evaluation", "evaluation_result", "remarks"]
    assert set(FIELDS_BY_TYPE) == set(M)  # every type has a form


def test_a_combined_meeting_asks_the_union_once_in_a_fixed_order() -> None:
    combined = fields(M.PARTY_LESSON, M.COMMITTEE_MEETING, M.GENERAL_MEETING)
    assert combined == [
        "topics",
        "discussion",
        "resolutions",
        "decisions",
        "lecturer",
        "theme",
        "summary",
        "remarks",
    ]
    assert combined == fields(M.GENERAL_MEETING, M.COMMITTEE_MEETING, M.PARTY_LESSON)
    specs = form_for([M.THEME_DAY])
    assert [s.required for s in specs] == [True, True, False]


def test_typed_text_keeps_lines_and_drops_invisible_and_control_characters() -> None:
    raw = "  第一行\u200b  有   空格\r\n\r\n\r\n\r\n第二\u202e行\x00\t结束 \u2028第三行 "
    assert clean_minutes_text(raw) == "第一行 有 空格\n\n第二行 结束\n第三行"
    # Decomposed characters are composed (NFC), so the same text compares equal.
    assert clean_minutes_text("e\u0301") == "\u00e9"
    assert clean_minutes_text("\ud800孤立") == "孤立"  # a lone surrogate


def test_fields_are_limited_in_telegram_units_and_empty_is_refused() -> None:
    spec = form_for([M.GENERAL_MEETING])[1]
    assert parse_field(spec, "字" * LONG_MAX) == "字" * LONG_MAX
    assert parse_field(spec, "字" * (LONG_MAX + 1)) == Invalid("text.too_long")
    assert text_length("👍") == 2
    assert parse_field(spec, "👍" * (LONG_MAX // 2 + 1)) == Invalid("text.too_long")
    assert parse_field(spec, " \u200b\n ") == Invalid("text.empty")
    lecturer = form_for([M.PARTY_LESSON])[0]
    assert lecturer.field is Field.LECTURER
    assert parse_field(lecturer, "陈\n书记") == "陈 书记"  # a name is one line
    assert parse_field(lecturer, "名" * 31) == Invalid("text.too_long")


def test_checking_minutes_reports_missing_long_and_too_many_photos() -> None:
    form = form_for([M.COMMITTEE_MEETING])
    cleaned, problems = check_minutes(
        form, {"topics": " 议题 ", "remarks": "", "speeches": "别的表单"}, []
    )
    assert cleaned == {"topics": "议题"}  # optional empty and foreign keys left out
    assert problems.missing == (Field.DECISIONS,)
    assert problems
    cleaned, problems = check_minutes(
        form, {"topics": "议题", "decisions": "长" * (LONG_MAX + 1)}, ["a"] * (PHOTOS_MAX + 1)
    )
    assert problems.invalid == (Field.DECISIONS,)
    assert problems.too_many_photos
    _, problems = check_minutes(form, {"topics": "议题", "decisions": "决定"}, ["a"] * 9)
    assert not problems


def test_summary_counts_leave_absent_and_the_full_member_quorum() -> None:
    expected = [(1, F), (2, F), (3, F), (4, F), (5, P), (6, P)]
    # 2 signed in although they asked for leave: present, not on leave.
    result = summarize(expected, [1, 2, 5, 6], [2, 3], [M.GENERAL_MEETING])
    assert (result.expected, result.present, result.leave, result.absent) == (6, 4, 1, 1)
    assert result.quorum is not None
    assert (result.quorum.expected, result.quorum.present) == (4, 2)
    assert not result.quorum.reached  # half is not more than half
    lesson = summarize(expected, [1, 2, 3], [], [M.PARTY_LESSON])
    assert lesson.quorum is None
    assert lesson.absent == 3


@pytest.mark.parametrize(
    ("status", "edit", "cancel", "record"),
    [
        (Status.SCHEDULED, True, True, False),
        (Status.OPEN, True, True, True),
        (Status.CLOSED, False, False, True),
        (Status.CANCELLED, False, False, False),
    ],
)
def test_what_each_state_allows(status: Status, edit: bool, cancel: bool, record: bool) -> None:
    assert (may_edit(status), may_cancel(status), may_record(status)) == (edit, cancel, record)
