"""我已交纳 rules without I/O: which months are offered and what they cost, the step table."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.dues import Invalid, Period, standing
from domain.dues_pay import (
    STEPS,
    MonthDue,
    PayDraft,
    check_months,
    owed_months,
    parse_extra,
    parse_month,
    plan_payments,
)
from domain.wizard import Event, Refusal, apply

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _offer(paid: dict[int, int], pending: tuple[int, ...] = ()) -> tuple[MonthDue, ...]:
    periods = [Period(202610, 8_100), Period(202702, 10_000)]
    now = standing(periods, paid, 202612, 202610)
    return owed_months(periods, paid, now, advance_cap=3, arrears_cap=6, pending=pending)


def test_offered_months_and_differences() -> None:
    offered = _offer({202610: 8_100, 202702: 8_100}, pending=(202701,))
    assert offered == (
        MonthDue(202611, 8_100), MonthDue(202612, 8_100), MonthDue(202702, 1_900),
        MonthDue(202703, 10_000),
    )  # fmt: skip


def test_check_months() -> None:
    offered = _offer({})
    assert check_months(offered, [], 202612, advance_cap=3, arrears_cap=6) == Invalid(
        "dues.months.none"
    )
    assert check_months(offered, [202704], 202612, advance_cap=3, arrears_cap=6) == Invalid(
        "dues.months.too_far_ahead"
    )
    assert check_months(offered, [202609], 202612, advance_cap=3, arrears_cap=6) == Invalid(
        "dues.months.not_owed"
    )
    assert check_months(offered, [202610, 202703], 202612, advance_cap=3, arrears_cap=6) is None


def test_extra() -> None:
    assert parse_extra("１,０００元") == 100_000
    assert parse_extra("0") == 0
    assert parse_extra("12.345") == Invalid("dues.amount.invalid")
    assert parse_extra("100001") == Invalid("dues.extra.too_large")


def test_steps() -> None:
    draft = PayDraft(step="months", as_of=202612, advance_cap=3, arrears_cap=6,
                     offered=_offer({}), chosen=(202610,))  # fmt: skip
    toggled = apply(STEPS, draft, Event("toggle", 202611), NOW)
    assert isinstance(toggled, PayDraft)
    assert toggled.chosen == (202610, 202611)
    assert toggled.amount_fen == 16_200
    assert apply(STEPS, toggled, Event("toggle", 202801), NOW) == Refusal("dues.months.not_owed")
    assert apply(STEPS, toggled, Event("skip"), NOW) == Refusal("stale")
    extra = apply(STEPS, toggled, Event("next"), NOW)
    assert isinstance(extra, PayDraft)
    assert extra.step == "extra"
    proof = apply(STEPS, extra, Event("text", text="50"), NOW)
    assert isinstance(proof, PayDraft)
    assert (proof.step, proof.extra_fen) == ("proof", 5_000)
    review = apply(STEPS, proof, Event("photo", text="AgAD"), NOW)
    assert isinstance(review, PayDraft)
    assert (review.step, review.proof_file_id) == ("review", "AgAD")


def test_months_as_written() -> None:
    for text in ("2026-09", "2026/9", "2026年9月", "２０２６年９月", "202609", "2026-09-01",
                 "2026年09月15日", " 2026 - 9 "):  # fmt: skip
        assert parse_month(text) == 202609, text
    for text in ("9月", "2026-13", "26-09", "", "2026年"):
        assert parse_month(text) == Invalid("dues.import.month"), text


def test_plan_payments() -> None:
    roster = {"王芳": [1], "李娜": [2, 3], "张伟": [4]}
    rows = [
        (2, {"name": "王芳", "month": "2026-09", "amount": "81"}),
        (3, {"name": "王芳", "month": "2026年9月", "amount": "81"}),  # twice in the file
        (4, {"name": "李娜", "month": "2026-09", "amount": "81"}),  # two of that name
        (5, {"name": "赵六", "month": "2026-09", "amount": "81"}),
        (6, {"name": "张伟", "month": "九月", "amount": "81"}),
        (7, {"name": "张伟", "month": "2026-09", "amount": "0"}),
        (8, {"name": "张伟", "month": "2026-08", "amount": "50"}),  # already recorded
        (9, {"name": "", "month": "", "amount": ""}),  # blank: skipped silently
        (10, {"name": "张伟", "month": "2026-10", "amount": "５０.５"}),
    ]
    lines, problems = plan_payments(rows, roster, {(4, 202608): 5_000})
    assert [(x.line, x.member_id, x.month, x.amount_fen) for x in lines] == [
        (2, 1, 202609, 8_100), (10, 4, 202610, 5_050)
    ]  # fmt: skip
    assert [(p.line, p.code) for p in problems] == [
        (3, "dues.import.already"), (4, "dues.import.ambiguous"), (5, "dues.import.unknown"),
        (6, "dues.import.month"), (7, "dues.import.amount"), (8, "dues.import.already"),
    ]  # fmt: skip
