"""The local rate table as a typed draft: each edit keeps a valid table (contiguous brackets,
rising bounds, rates that never fall), typed rates and ranges, reset to the table above,
and check_table's extended rules."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.dues import (
    NATIONAL,
    Bracket,
    Category,
    Invalid,
    RateTable,
    Standard,
    check_table,
    standard,
    table_from_json,
    table_to_json,
)
from domain.dues_rates import (
    KIND_STEP,
    RATES_STEPS,
    RatesDraft,
    begin,
    parse_range,
    parse_rate,
)
from domain.wizard import Event, Refusal, apply, dump, load

NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
LOCAL = dataclasses.replace(NATIONAL, fixed_fen=30)


def _draft(before: RateTable = NATIONAL, local: bool = False) -> RatesDraft:
    return begin(7, "两新工委", before, local, NATIONAL, "")


def _go(draft: RatesDraft, *events: Event) -> RatesDraft:
    for event in events:
        moved = apply(RATES_STEPS, draft, event, NOW)
        assert isinstance(moved, RatesDraft), moved
        draft = moved
    return draft


def _refused(draft: RatesDraft, event: Event) -> str:
    moved = apply(RATES_STEPS, draft, event, NOW)
    assert isinstance(moved, Refusal), moved
    return moved.code


@pytest.mark.parametrize(
    ("text", "permille"),
    [("1.5", 15), ("1.5%", 15), ("１．５％", 15), (" 2 ", 20), ("0.5", 5), ("10", 100)],
)
def test_rates_read_as_percentages(text: str, permille: int) -> None:
    assert parse_rate(text) == permille


@pytest.mark.parametrize("text", ["", "一点五", "1.55", "-1", "1,5", "100", "1.5%%x", "x" * 5000])
def test_odd_rates_are_refused(text: str) -> None:
    assert parse_rate(text) == Invalid("dues.rates.rate_invalid")


@pytest.mark.parametrize(
    ("text", "pair"),
    [
        ("0.2-1", (20, 100)),
        ("0.20～1.00", (20, 100)),
        ("0.3至0.8元", (30, 80)),
        ("0.5 1", (50, 100)),
        ("０．２－１", (20, 100)),
    ],
)
def test_farmer_ranges(text: str, pair: tuple[int, int]) -> None:
    assert parse_range(text) == pair


@pytest.mark.parametrize("text", ["0.2", "a-b", "0.2-1-3", ""])
def test_odd_ranges_are_refused(text: str) -> None:
    assert parse_range(text) == Invalid("dues.rates.range_invalid")


def test_editing_a_bracket_moves_the_next_one_with_it() -> None:
    draft = _go(
        _draft(), Event("bracket", 1), Event("text", text="6000"), Event("text", text="1.2")
    )
    assert draft.step == "table"
    assert draft.table.working[1] == Bracket(600_000, 12)
    assert draft.local
    assert draft.changed
    # The bracket above now starts at 6,000: 5,400 falls in 3,000–6,000 at 1.2 %.
    found = standard(draft.table, Category.WORKING, base_fen=540_000)
    assert found == Standard(Category.WORKING, 6_480, 12, 300_000, 600_000)
    assert check_table(draft.table) is None


def test_the_open_top_bracket_asks_only_its_rate() -> None:
    draft = _go(_draft(), Event("bracket", 3))
    assert draft.step == "rate"
    draft = _go(draft, Event("text", text="2.5%"))
    assert draft.table.working[-1] == Bracket(None, 25)


def test_retired_brackets_have_their_own_buttons() -> None:
    draft = _go(_draft(), Event("bracket", KIND_STEP), Event("keep"), Event("text", text="0.8"))
    assert draft.table.retired[0] == Bracket(500_000, 8)
    assert draft.table.working == NATIONAL.working


@pytest.mark.parametrize(
    ("value", "text", "code"),
    [
        (1, "3000", "dues.table.order"),  # equal to the bracket below: overlap
        (1, "2000", "dues.table.order"),  # below the bracket below
        (1, "10000", "dues.table.order"),  # reaches the next bound
        (1, "0", "dues.table.order"),
        (1, "五千", "dues.amount.invalid"),
        (1, "9" * 4000, "dues.amount.invalid"),
    ],
)
def test_bounds_that_would_overlap_are_refused(value: int, text: str, code: str) -> None:
    draft = _go(_draft(), Event("bracket", value))
    assert _refused(draft, Event("text", text=text)) == code


@pytest.mark.parametrize(
    ("value", "text", "code"),
    [
        (0, "0", "dues.table.rate"),
        (3, "6", "dues.table.rate"),
        (2, "0.6", "dues.table.falling"),
        (0, "1.2", "dues.table.falling"),
        (0, "abc", "dues.rates.rate_invalid"),
    ],
)
def test_rates_out_of_range_or_falling_are_refused(value: int, text: str, code: str) -> None:
    draft = _go(_draft(), Event("bracket", value))
    if draft.step == "upper":
        draft = _go(draft, Event("keep"))
    assert _refused(draft, Event("text", text=text)) == code


def test_fixed_amounts_and_the_farmers_range() -> None:
    draft = _go(_draft(), Event("fixed"), Event("text", text="0.3"), Event("text", text="0.5-2"))
    assert (draft.table.fixed_fen, draft.table.farmer_low_fen, draft.table.farmer_high_fen) == (
        30,
        50,
        200,
    )
    start = _go(_draft(), Event("fixed"))
    assert _refused(start, Event("text", text="11")) == "dues.table.fixed"
    farmer = _go(start, Event("keep"))
    assert farmer.step == "farmer"
    assert _refused(farmer, Event("text", text="1-0.2")) == "dues.table.farmer"


def test_preview_needs_a_change_and_reset_goes_back_to_the_table_above() -> None:
    draft = _draft()
    assert _refused(draft, Event("preview")) == "dues.rates.unchanged"
    local = _draft(LOCAL, local=True)
    reset = _go(local, Event("inherit"))
    assert reset.table == NATIONAL
    assert not reset.local
    assert reset.changed
    assert _go(reset, Event("preview")).step == "preview"


def test_buttons_of_another_step_are_stale() -> None:
    draft = _draft()
    assert _refused(draft, Event("ok")) == "stale"
    assert _refused(draft, Event("text", text="1")) == "stale"
    assert _refused(draft, Event("bracket", 9)) == "stale"  # no tenth working bracket
    assert _refused(draft, Event("bracket", 99)) == "stale"
    assert _refused(draft, Event("bracket", -1)) == "stale"


def test_the_draft_survives_storage() -> None:
    draft = _go(_draft(), Event("bracket", 1), Event("text", text="6000"))
    assert load(RatesDraft, dump(draft)) == draft


def test_check_table_refuses_broken_tables() -> None:
    assert check_table(NATIONAL) is None
    broken = {
        "dues.table.open_end": dataclasses.replace(NATIONAL, retired=(Bracket(500_000, 5),)),
        "dues.table.order": dataclasses.replace(
            NATIONAL, working=(Bracket(500_000, 5), Bracket(300_000, 10), Bracket(None, 20))
        ),
        "dues.table.falling": dataclasses.replace(
            NATIONAL, retired=(Bracket(500_000, 10), Bracket(None, 5))
        ),
    }
    for code, table in broken.items():
        assert check_table(table) == Invalid(code)
    assert table_from_json(table_to_json(LOCAL)) == LOCAL


@st.composite
def tables(draw: st.DrawFn) -> RateTable:
    count = draw(st.integers(1, 6))
    uppers = sorted(
        draw(st.sets(st.integers(1, 5_000_000), min_size=count - 1, max_size=count - 1))
    )
    rates = sorted(draw(st.lists(st.integers(1, 50), min_size=count, max_size=count)))
    working = tuple(Bracket(u, r) for u, r in zip([*uppers, None], rates, strict=True))
    return dataclasses.replace(NATIONAL, working=working)


@given(tables(), st.integers(0, 20_000_000), st.integers(0, 20_000_000))
def test_on_any_valid_table_the_amount_never_falls_as_the_base_grows(
    table: RateTable, a: int, b: int
) -> None:
    assert check_table(table) is None
    low, high = sorted((a, b))
    first = standard(table, Category.WORKING, base_fen=low)
    second = standard(table, Category.WORKING, base_fen=high)
    assert isinstance(first, Standard)
    assert isinstance(second, Standard)
    assert first.amount_fen <= second.amount_fen
