"""The party-dues rules: the standard on every bracket edge, money typed and shown, months,
and where a member stands (arrears, advance, the difference after a standard rose)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.dues import (
    BASE_MAX_FEN,
    BASED,
    NATIONAL,
    Bracket,
    Category,
    Invalid,
    Period,
    RateTable,
    Standard,
    add_months,
    check_table,
    due_for,
    half_up,
    month_of,
    months_between,
    parse_yuan,
    payable_months,
    standard,
    standing,
    table_from_json,
    table_to_json,
    to_centre,
    yuan,
)

CASES = [
    # (category, base in fen, expected amount in fen)
    (Category.WORKING, 0, 0),
    (Category.WORKING, 100_000, 500),  # 1,000 × 0.5 %
    (Category.WORKING, 300_000, 1_500),  # 3,000 is the top of the first bracket
    (Category.WORKING, 300_001, 3_000),  # 3,000.01 × 1 % = 30.0001 → 30.00
    (Category.WORKING, 500_000, 5_000),
    (Category.WORKING, 500_001, 7_500),  # 5,000.01 × 1.5 % = 75.00015 → 75.00
    (Category.WORKING, 540_000, 8_100),  # the rules' example: 5,400 → 81.00
    (Category.WORKING, 1_000_000, 15_000),
    (Category.WORKING, 1_000_001, 20_000),
    (Category.WORKING, 1_150_000, 23_000),  # the rules' example: 11,500 → 230.00
    (Category.WORKING, 333_333, 3_333),  # 3,333.33 × 1 % = 33.3333 → 33.33
    (Category.WORKING, 333_350, 3_334),  # 33.335 → 33.34 (half up)
    (Category.ANNUAL_SALARY, 800_000, 12_000),
    (Category.SELF_EMPLOYED, 250_000, 1_250),
    (Category.RETIRED, 500_000, 2_500),  # pension 5,000 → 0.5 %
    (Category.RETIRED, 500_001, 5_000),  # above 5,000 → 1 % of all of it
]


@pytest.mark.parametrize(("category", "base", "amount"), CASES)
def test_the_standard_on_every_bracket_edge(category: Category, base: int, amount: int) -> None:
    result = standard(NATIONAL, category, base)
    assert isinstance(result, Standard)
    assert result.amount_fen == amount


def test_the_bracket_is_shown_with_the_standard() -> None:
    result = standard(NATIONAL, Category.WORKING, 540_000)
    assert result == Standard(Category.WORKING, 8_100, 15, 500_000, 1_000_000)
    top = standard(NATIONAL, Category.WORKING, 2_000_000)
    assert isinstance(top, Standard)
    assert (top.permille, top.lower_fen, top.upper_fen) == (20, 1_000_000, None)


def test_fixed_amounts_and_farmers() -> None:
    for category in (Category.STUDENT, Category.UNEMPLOYED, Category.SUBSISTENCE):
        assert standard(NATIONAL, category) == Standard(category, 20)
    assert standard(NATIONAL, Category.FARMER, farmer_fen=50) == Standard(Category.FARMER, 50)
    assert standard(NATIONAL, Category.FARMER, farmer_fen=101) == Invalid("dues.farmer.range")
    assert standard(NATIONAL, Category.FARMER, farmer_fen=19) == Invalid("dues.farmer.range")
    assert standard(NATIONAL, Category.FARMER) == Invalid("dues.farmer.missing")
    assert standard(NATIONAL, Category.WORKING) == Invalid("dues.base.missing")
    assert standard(NATIONAL, Category.WORKING, -1) == Invalid("dues.base.range")
    assert standard(NATIONAL, Category.WORKING, BASE_MAX_FEN + 1) == Invalid("dues.base.range")


@given(
    st.sampled_from(sorted(BASED)),
    st.integers(0, BASE_MAX_FEN - 1),
    st.integers(1, 1_000_000),
)  # fmt: skip
def test_the_amount_never_falls_as_the_base_grows(category: Category, base: int, more: int) -> None:
    low = standard(NATIONAL, category, base)
    high = standard(NATIONAL, category, min(base + more, BASE_MAX_FEN))
    assert isinstance(low, Standard)
    assert isinstance(high, Standard)
    assert high.amount_fen >= low.amount_fen


def test_a_committee_table_is_checked_and_stored() -> None:
    local = RateTable(working=(Bracket(400_000, 5), Bracket(None, 10)), fixed_fen=50)
    assert check_table(local) is None
    assert table_from_json(table_to_json(local)) == local
    assert table_from_json({}) == NATIONAL
    assert check_table(RateTable(working=(Bracket(400_000, 5),))) == Invalid("dues.table.open_end")
    unordered = RateTable(working=(Bracket(500_000, 5), Bracket(400_000, 10), Bracket(None, 15)))
    assert check_table(unordered) == Invalid("dues.table.order")
    assert check_table(RateTable(working=(Bracket(None, 80),))) == Invalid("dues.table.rate")
    assert check_table(RateTable(farmer_low_fen=200)) == Invalid("dues.table.farmer")
    local_amount = standard(local, Category.WORKING, 450_000)
    assert isinstance(local_amount, Standard)
    assert local_amount.amount_fen == 4_500


def test_money_typed_and_shown() -> None:
    assert parse_yuan("5400") == 540_000
    assert parse_yuan("5,400.5") == 540_050
    assert parse_yuan("５４００元") == 540_000
    assert parse_yuan("¥81.00") == 8_100
    assert parse_yuan("0.2") == 20
    for bad in ("", "abc", "1.234", "-5", "1e5", "9999999999"):
        assert parse_yuan(bad) == Invalid("dues.amount.invalid")
    assert yuan(8_100) == "81.00"
    assert yuan(20) == "0.20"
    assert yuan(-50) == "-0.50"
    assert half_up(5, 10) == 1
    assert half_up(4, 10) == 0
    assert to_centre(100_000)
    assert not to_centre(99_999)


def test_months() -> None:
    assert month_of(date(2026, 12, 6)) == 202612
    assert add_months(202612, 1) == 202701
    assert add_months(202601, -1) == 202512
    assert add_months(202606, -18) == 202412
    assert months_between(202611, 202702) == [202611, 202612, 202701, 202702]
    assert months_between(202702, 202611) == []


def test_where_a_member_stands() -> None:
    periods = [Period(202601, 8_100)]
    paid = {m: 8_100 for m in months_between(202601, 202608)}
    now = standing(periods, paid, as_of=202612, since=202601)
    assert now.paid_through == 202608
    assert now.arrears == (202609, 202610, 202611, 202612)
    assert now.months_behind == 4
    assert now.short_fen == 4 * 8_100
    assert now.advance == ()
    ahead = standing(periods, {**paid, **{m: 8_100 for m in months_between(202609, 202703)}},
                     as_of=202612, since=202601)  # fmt: skip
    assert ahead.arrears == ()
    assert ahead.advance == (202701, 202702, 202703)
    assert ahead.paid_through == 202703
    assert ahead.short_fen == 0


def test_a_rise_after_paying_ahead_leaves_the_difference_due() -> None:
    paid = {m: 8_100 for m in months_between(202601, 202606)}
    periods = [Period(202601, 8_100), Period(202604, 9_000)]  # a raise from April
    now = standing(periods, paid, as_of=202603, since=202601)
    assert now.arrears == ()
    assert now.differences == ((202604, 900), (202605, 900), (202606, 900))
    assert now.short_fen == 2_700
    assert due_for(periods, 202603) == 8_100
    assert due_for(periods, 202604) == 9_000
    assert due_for(periods, 202512) is None


def test_an_exemption_is_a_period_of_nothing_due() -> None:
    periods = [Period(202601, 8_100), Period(202605, 0), Period(202609, 8_100)]
    paid = {m: 8_100 for m in months_between(202601, 202604)}
    now = standing(periods, paid, as_of=202608, since=202601)
    assert now.arrears == ()
    assert now.paid_through == 202608


def test_which_months_may_be_said_to_be_paid() -> None:
    now = standing([Period(202601, 100)], {}, as_of=202612, since=202601)
    assert payable_months(now, [202612], advance_cap=6, arrears_cap=6) is None
    assert payable_months(now, [202706], advance_cap=6, arrears_cap=6) is None
    assert payable_months(now, [202707], advance_cap=6, arrears_cap=6) == Invalid(
        "dues.months.too_far_ahead"
    )
    assert payable_months(now, [202605], advance_cap=6, arrears_cap=6) == Invalid(
        "dues.months.too_far_back"
    )
    assert payable_months(now, [], advance_cap=6, arrears_cap=6) == Invalid("dues.months.none")
    assert payable_months(now, [202612, 202612], advance_cap=6, arrears_cap=6) == Invalid(
        "dues.months.invalid"
    )
    assert payable_months(now, [202613], advance_cap=6, arrears_cap=6) == Invalid(
        "dues.months.invalid"
    )
