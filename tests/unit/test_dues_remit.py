"""上缴 rules: periods (presets, typed ranges), amounts, the day, the overlap warning, and the
keeper's draft walked through its step table."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from domain.dues import Invalid
from domain.dues_remit import (
    REMIT_MAX_FEN,
    STEPS,
    FindDraft,
    RemitDraft,
    Span,
    check_period,
    half_of,
    parse_amount,
    parse_period,
    parse_query,
    preset,
    quarter_of,
    remitted_within,
    start,
    with_collected,
)
from domain.wizard import Event, Refusal, apply, dump, load

NOW = datetime(2026, 11, 20, 10, tzinfo=UTC)
TODAY = NOW.date()


def test_quarters_halves_and_presets() -> None:
    assert quarter_of(202611) == (202610, 202612)
    assert quarter_of(202601) == (202601, 202603)
    assert half_of(202606) == (202601, 202606)
    assert half_of(202607) == (202607, 202612)
    assert preset("lq", TODAY) == (202607, 202609)
    assert preset("tq", TODAY) == (202610, 202611)
    assert preset("lh", TODAY) == (202601, 202606)
    assert preset("th", TODAY) == (202607, 202611)
    assert preset("ly", TODAY) == (202501, 202512)
    assert preset("ty", TODAY) == (202601, 202611)
    assert preset("lq", date(2026, 2, 1)) == (202510, 202512)  # across the year
    assert preset("lh", date(2026, 2, 1)) == (202507, 202512)
    assert preset("zz", TODAY) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-07至2026-09", (202607, 202609)),
        ("2026/7-2026/9", (202607, 202609)),
        ("２０２６年７月至９月", (202607, 202609)),
        ("2026年7月到2026年9月", (202607, 202609)),
        ("202607 202609", (202607, 202609)),
        ("2026-09", (202609, 202609)),
        (" 2026.7 ~ 2026.12 ", (202607, 202612)),
    ],
)
def test_typed_periods(text: str, expected: tuple[int, int]) -> None:
    assert parse_period(text) == expected


@pytest.mark.parametrize(
    "text", ["", "七月到九月", "2026-09至2026-07", "2026-13", "2026-01 2026-02 2026-03",
             "2026-07" * 10, "\u202e2026"],
)  # fmt: skip
def test_periods_not_understood(text: str) -> None:
    assert parse_period(text) == Invalid("dues.remit.period")


def test_period_checks() -> None:
    assert check_period(202607, 202609, TODAY) is None
    assert check_period(202611, 202612, TODAY) == "dues.remit.period_future"
    assert check_period(202001, 202609, TODAY) == "dues.remit.period_long"
    assert check_period(202609, 202607, TODAY) == "dues.remit.period"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234.5", 123_450),
        ("１,２３４.５０元", 123_450),
        ("¥81", 8_100),
        ("0", Invalid("dues.remit.amount")),
        ("-5", Invalid("dues.remit.amount_invalid")),
        ("1.234", Invalid("dues.remit.amount_invalid")),
        ("一千", Invalid("dues.remit.amount_invalid")),
        ("1000001", Invalid("dues.remit.amount_large")),
        ("9" * 400, Invalid("dues.remit.amount_invalid")),
        ("1e9", Invalid("dues.remit.amount_invalid")),
    ],
)
def test_amounts(text: str, expected: int | Invalid) -> None:
    assert parse_amount(text) == expected
    if isinstance(expected, int):
        assert 0 < expected <= REMIT_MAX_FEN


def _walk(draft: RemitDraft, *events: Event) -> RemitDraft:
    for event in events:
        moved = apply(STEPS, draft, event, NOW)
        assert isinstance(moved, RemitDraft), moved
        draft = moved
    return draft


def test_the_keeper_walks_to_the_review() -> None:
    draft = start(7, "第一支部", 3, "两新工委", ())
    draft = _walk(draft, Event("pick", text="lq"))
    assert (draft.step, draft.from_month, draft.until_month) == ("amount", 202607, 202609)
    draft = with_collected(draft, 48_600)
    assert draft.amount_fen == 48_600
    draft = _walk(draft, Event("ok"), Event("yesterday"), Event("photo", text="AgAD-photo"))
    assert (draft.step, draft.paid_on, draft.proof_file_id) == ("review", "2026-11-19",
                                                                "AgAD-photo")  # fmt: skip
    again = _walk(draft, Event("redo"), Event("text", text="2026-10"))
    assert (again.from_month, again.until_month, again.amount_fen) == (202610, 202610, 0)
    assert load(RemitDraft, dump(draft)) == draft  # kept as JSON and read back


def test_typed_amount_and_day_and_refusals() -> None:
    draft = with_collected(_walk(start(7, "b", 3, "c", ()), Event("pick", text="lq")), 0)
    assert apply(STEPS, draft, Event("ok"), NOW) == Refusal("dues.remit.amount")  # nothing
    draft = _walk(draft, Event("text", text="300"))
    assert draft.amount_fen == 30_000
    assert apply(STEPS, draft, Event("text", text="2026-12-01"), NOW) == Refusal(
        "dues.remit.date_future"
    )
    assert apply(STEPS, draft, Event("text", text="2026-06-30"), NOW) == Refusal(
        "dues.remit.date_early"
    )
    assert apply(STEPS, draft, Event("text", text="昨天吧"), NOW) == Refusal("dues.remit.date")
    draft = _walk(draft, Event("text", text="2026年10月8日"), Event("skip"))
    assert (draft.paid_on, draft.proof_file_id, draft.step) == ("2026-10-08", "", "review")
    # A step's buttons only: 确认上缴's draft refuses an old period press as stale.
    assert apply(STEPS, draft, Event("pick", text="lq"), NOW) == Refusal("stale")


def test_an_overlap_warns_and_the_default_leaves_out_what_was_remitted() -> None:
    past = (Span(202607, 202609, 40_000, True), Span(202604, 202606, 30_000, False))
    draft = _walk(start(7, "b", 3, "c", past), Event("pick", text="th"))
    assert draft.step == "overlap"
    assert draft.overlaps == (past[0],)
    draft = with_collected(_walk(draft, Event("go")), 48_600)
    assert remitted_within(past, 202607, 202611) == 40_000
    assert (draft.step, draft.amount_fen) == ("amount", 8_600)
    other = _walk(replace(draft, step="overlap"), Event("back"), Event("text", text="2026-10"))
    assert other.step == "amount"  # no overlap: straight on
    assert apply(STEPS, start(7, "b", 3, "c", ()), Event("pick", text="x"), NOW) == Refusal("stale")


def test_find_query() -> None:
    assert parse_query("  第三\u200b ") == "第三"
    assert parse_query("\u202e") == Invalid("dues.board.query_empty")
    assert parse_query("支" * 31) == Invalid("dues.board.query_long")
    draft = FindDraft(step="shown", committee_id=1, first=202607, last=202609, query="三")
    assert load(FindDraft, dump(draft)) == draft
