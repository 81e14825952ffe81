"""Hardship reductions and exemptions as a typed draft: the picker's query and pages, the
caps on months (12 at most, 6 back, 12 ahead), the agreed day, typed texts, what 结束 does."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from domain.dues_exempt import (
    EXEMPT,
    EXEMPT_STEPS,
    REDUCE,
    ExemptDraft,
    begin,
    check_draft,
    check_months,
    ending,
    overlaps,
)
from domain.wizard import Event, Refusal, apply, dump, load

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)  # December 2026


def _go(draft: ExemptDraft, *events: Event) -> ExemptDraft:
    for event in events:
        moved = apply(EXEMPT_STEPS, draft, event, NOW)
        assert isinstance(moved, ExemptDraft), (event, moved)
        draft = moved
    return draft


def _refused(draft: ExemptDraft, event: Event) -> Refusal:
    moved = apply(EXEMPT_STEPS, draft, event, NOW)
    assert isinstance(moved, Refusal), moved
    return moved


def _to_from(kind: int = EXEMPT) -> ExemptDraft:
    draft = _go(begin(3), Event("pick", 42, "王芳"), Event("kind", kind))
    if kind == REDUCE:
        draft = _go(draft, Event("text", text="0.5"))
    return draft


def test_a_whole_exemption() -> None:
    draft = _go(
        _to_from(),
        Event("month", 0),
        Event("span", 6),
        Event("today"),
        Event("text", text="街道党工委 李明"),
        Event("text", text="  大病住院  "),
    )
    assert draft.step == "confirm"
    assert (draft.member_id, draft.member_name, draft.amount_fen) == (42, "王芳", 0)
    assert (draft.from_month, draft.until_month) == (202612, 202705)
    assert (draft.agreed_on, draft.approved_by, draft.reason) == (
        "2026-12-07",
        "街道党工委 李明",
        "大病住院",
    )
    assert check_draft(draft, 202612, NOW.date()) is None
    assert load(ExemptDraft, dump(draft)) == draft


def test_a_reduction_with_typed_months_and_day() -> None:
    draft = _go(
        _to_from(REDUCE),
        Event("text", text="2026年11月"),
        Event("text", text="2027-10"),
        Event("text", text="2026/12/1"),
    )
    assert (draft.amount_fen, draft.from_month, draft.until_month) == (50, 202611, 202710)
    assert draft.agreed_on == "2026-12-01"
    assert _go(draft, Event("back"), Event("back"), Event("back")).step == "from"
    assert _go(draft, *[Event("back")] * 4).step == "amount"  # a reduction: its amount


def test_the_picker_narrows_and_pages() -> None:
    draft = _go(begin(3), Event("text", text=" 王 "), Event("page", 2))
    assert (draft.query, draft.page, draft.step) == ("王", 2, "member")
    assert _go(draft, Event("text", text="李")).page == 0
    assert _refused(draft, Event("text", text="长" * 21)).code == "dues.exempt.query_too_long"
    assert _refused(draft, Event("page", -1)).code == "stale"
    assert _refused(draft, Event("pick", 0, "x")).code == "stale"
    assert _refused(draft, Event("pick", 5, "")).code == "stale"


@pytest.mark.parametrize(
    ("first", "last", "code"),
    [
        (202606, 202606, None),  # six months back: allowed
        (202605, 202605, "dues.exempt.from_range"),  # seven back
        (202712, 202712, None),
        (202801, 202801, "dues.exempt.from_range"),  # more than a year ahead
        (202612, 202611, "dues.exempt.until_before"),
        (202612, 202711, None),  # twelve months
        (202612, 202712, "dues.exempt.too_long"),  # thirteen
    ],
)
def test_month_caps(first: int, last: int, code: str | None) -> None:
    assert check_months(first, last, 202612) == code


@pytest.mark.parametrize(
    ("step_events", "text", "code"),
    [
        ((), "0", "dues.exempt.amount_range"),
        ((), "-1", "dues.amount.invalid"),
        ((), "1" * 3000, "dues.amount.invalid"),
        ((), "三块", "dues.amount.invalid"),
        ((Event("text", text="0.5"),), "2026-13", "dues.exempt.month_invalid"),
        ((Event("text", text="0.5"),), "下个月\u202e", "dues.exempt.month_invalid"),
        ((Event("text", text="0.5"), Event("month", 0)), "2028-01", "dues.exempt.too_long"),
        (
            (Event("text", text="0.5"), Event("month", 0), Event("span", 3)),
            "2026-12-08",
            "dues.exempt.agreed_range",
        ),
        (
            (Event("text", text="0.5"), Event("month", 0), Event("span", 3)),
            "2025-12-01",
            "dues.exempt.agreed_range",
        ),
        (
            (Event("text", text="0.5"), Event("month", 0), Event("span", 3)),
            "昨天",
            "dues.exempt.date_invalid",
        ),
        (
            (Event("text", text="0.5"), Event("month", 0), Event("span", 3), Event("today")),
            "\u200b \n",
            "dues.exempt.text_empty",
        ),
        (
            (Event("text", text="0.5"), Event("month", 0), Event("span", 3), Event("today")),
            "批" * 61,
            "dues.exempt.text_too_long",
        ),
    ],
)
def test_odd_answers_are_refused(step_events: tuple[Event, ...], text: str, code: str) -> None:
    draft = _go(_go(begin(3), Event("pick", 42, "王芳"), Event("kind", REDUCE)), *step_events)
    assert _refused(draft, Event("text", text=text)).code == code


def test_buttons_of_another_step_are_stale() -> None:
    draft = _to_from()
    for event in (
        Event("span", 6),
        Event("kind", 0),
        Event("ok"),
        Event("month", 5),
        Event("pick", 1, "x"),
    ):
        assert _refused(draft, event).code == "stale"
    until = _go(draft, Event("month", 1))
    assert _refused(until, Event("span", 5)).code == "stale"


def test_check_draft_refuses_an_unfinished_or_aged_draft() -> None:
    draft = _go(
        _to_from(),
        Event("month", 0),
        Event("span", 3),
        Event("today"),
        Event("text", text="李明"),
        Event("text", text="困难"),
    )
    assert check_draft(_go(draft, Event("back")), 202612, NOW.date()) == "stale"
    # Confirmed a year and more after the committee agreed: refused.
    assert check_draft(draft, 202612, date(2027, 12, 20)) == "dues.exempt.agreed_range"
    # Saved in a later month than the start allowed: the month caps apply again.
    assert check_draft(draft, 202707, date(2027, 7, 1)) == "dues.exempt.from_range"


def test_overlaps_and_ending() -> None:
    assert overlaps(202601, 202603, 202603, 202605)
    assert not overlaps(202601, 202603, 202604, 202605)
    assert ending(202610, 202703, 202612) == "end"
    assert ending(202701, 202703, 202612) == "withdraw"
    assert ending(202610, 202612, 202612) == "over"
    assert ending(202601, 202606, 202612) == "over"
