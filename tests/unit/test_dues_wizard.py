"""Declaring dues as a step table: categories, the base and what it gives, the month, going
back; a keeper's typed correction and reason."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.dues import NATIONAL, Category, Invalid
from domain.dues_wizard import (
    CATEGORIES,
    DECLARE_STEPS,
    Correction,
    DeclareDraft,
    begin,
    check_reason,
    parse_correction,
)
from domain.wizard import Event, Refusal, apply, dump, load

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def _step(draft: DeclareDraft, event: Event) -> DeclareDraft:
    moved = apply(DECLARE_STEPS, draft, event, NOW)
    assert isinstance(moved, DeclareDraft), moved
    return moved


def test_a_working_member_declares_a_base() -> None:
    draft = _step(
        begin(7, 3, "王芳", NATIONAL), Event("category", CATEGORIES.index(Category.WORKING))
    )
    assert draft.step == "base"
    draft = _step(draft, Event("text", text="５,４００元"))
    assert (draft.step, draft.base_fen, draft.amount_fen, draft.permille) == (
        "month", 540_000, 8_100, 15,
    )  # fmt: skip
    assert (draft.lower_fen, draft.upper_fen) == (500_000, 1_000_000)
    for choice, month in ((0, 202612), (1, 202701), (2, 202701)):
        done = _step(draft, Event("month", choice))
        assert (done.step, done.from_month) == ("confirm", month)
    assert load(DeclareDraft, dump(done)) == done
    back = _step(done, Event("back"))
    assert (back.step, back.from_month, back.base_fen) == ("month", 0, 540_000)
    assert _step(back, Event("back")) == begin(7, 3, "王芳", NATIONAL)


def test_wrong_bases_are_refused() -> None:
    draft = _step(begin(7, 3, "王芳", NATIONAL), Event("category", 0))
    for text, code in (("五千", "dues.amount.invalid"), ("-5", "dues.amount.invalid"),
                       ("0", "dues.base.range"), ("999999999", "dues.base.range"),
                       ("5400.123", "dues.amount.invalid"), ("", "dues.amount.invalid"),
                       ("5400\u202e", "dues.amount.invalid")):  # fmt: skip
        assert apply(DECLARE_STEPS, draft, Event("text", text=text), NOW) == Refusal(code), text


def test_fixed_and_farmer_categories_skip_the_base() -> None:
    student = _step(
        begin(7, 3, "王芳", NATIONAL), Event("category", CATEGORIES.index(Category.STUDENT))
    )
    assert (student.step, student.amount_fen, student.base_fen) == ("month", 20, None)
    farmer = _step(
        begin(7, 3, "王芳", NATIONAL), Event("category", CATEGORIES.index(Category.FARMER))
    )
    assert (farmer.step, farmer.amount_fen) == ("month", 0)


def test_stale_and_forged_events() -> None:
    draft = begin(7, 3, "王芳", NATIONAL)
    assert apply(DECLARE_STEPS, draft, Event("category", 99), NOW) == Refusal("stale")
    assert apply(DECLARE_STEPS, draft, Event("month", 0), NOW) == Refusal("stale")
    assert apply(DECLARE_STEPS, draft, Event("text", text="5400"), NOW) == Refusal("stale")
    month = _step(draft, Event("category", CATEGORIES.index(Category.STUDENT)))
    assert apply(DECLARE_STEPS, month, Event("month", 3), NOW) == Refusal("stale")


def test_corrections_and_reasons() -> None:
    assert parse_correction("81") == Correction(amount_fen=8_100)
    assert parse_correction("基数 5400") == Correction(base_fen=540_000)
    assert parse_correction("base: 5400") == Correction(base_fen=540_000)
    assert parse_correction("0") == Invalid("dues.amount.range")
    assert parse_correction("30000") == Invalid("dues.amount.range")
    assert parse_correction("八十一") == Invalid("dues.amount.invalid")
    assert parse_correction("基数 0") == Invalid("dues.base.range")
    assert check_reason("  收入  填错了 ") == "收入 填错了"
    assert check_reason(" \n ") == Invalid("dues.reason.empty")
    assert check_reason("长" * 201) == Invalid("dues.reason.too_long")
