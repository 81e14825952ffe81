"""我已交纳 rules without I/O: which months are offered and what they cost, the step table."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.dues import Invalid, Period, standing
from domain.dues_pay import STEPS, MonthDue, PayDraft, check_months, owed_months, parse_extra
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
