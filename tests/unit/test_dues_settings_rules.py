"""The dues settings' rules: which values each setting takes, reading typed values (full-width
digits, units, odd and huge texts), and the payment day in force in a month after a change."""

from __future__ import annotations

import pytest

from domain.dues import Invalid
from domain.dues_settings import Setting, asking, check, day_in_force, parse


@pytest.mark.parametrize(
    ("setting", "ok", "bad"),
    [
        (Setting.DAY, (1, 5, 28), (0, 29, 31, -1)),
        (Setting.AHEAD, (0, 6, 12), (-1, 13)),
        (Setting.BACK, (1, 6, 12), (0, 13)),
        (Setting.EVERY, (3, 6, 12), (0, 1, 4, 24)),
    ],
)
def test_ranges(setting: Setting, ok: tuple[int, ...], bad: tuple[int, ...]) -> None:
    for value in ok:
        assert check(setting, value) is None, value
    for value in bad:
        refused = check(setting, value)
        assert isinstance(refused, Invalid), value
        assert refused.code.startswith("dues.settings."), value


@pytest.mark.parametrize(
    ("text", "value"),
    [("10", 10), ("１０", 10), (" 8 ", 8), ("8日", 8), ("8号", 8), ("２８号", 28), ("1", 1)],
)
def test_typed_days(text: str, value: int) -> None:
    assert parse(Setting.DAY, text) == value


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("0", "dues.settings.day_range"),
        ("29", "dues.settings.day_range"),
        ("０", "dues.settings.day_range"),
        ("十", "dues.settings.not_number"),
        ("٥", "dues.settings.not_number"),  # Arabic-Indic five: int() would take it
        ("5.5", "dues.settings.not_number"),
        ("-3", "dues.settings.not_number"),
        ("\u202e5", "dues.settings.not_number"),
        ("", "dues.settings.not_number"),
        ("9" * 4096, "dues.settings.not_number"),
        ("1" * 19, "dues.settings.not_number"),
    ],
)
def test_odd_days_refused(text: str, code: str) -> None:
    assert parse(Setting.DAY, text) == Invalid(code)


def test_typed_months() -> None:
    assert parse(Setting.AHEAD, "0") == 0
    assert parse(Setting.AHEAD, "12个月") == 12
    assert parse(Setting.AHEAD, "13") == Invalid("dues.settings.ahead_range")
    assert parse(Setting.BACK, "0") == Invalid("dues.settings.back_range")
    assert parse(Setting.BACK, "３") == 3


def test_day_in_force_is_the_day_the_month_began_with() -> None:
    assert day_in_force(202607, 10, ()) == 10
    # Changed from 5 to 10 in July: July keeps 5, August on has 10.
    changes = [(202607, 5)]
    assert day_in_force(202606, 10, changes) == 5
    assert day_in_force(202607, 10, changes) == 5
    assert day_in_force(202608, 10, changes) == 10
    # Two changes in July (5 → 10 → 20), one in August (20 → 1): July 5, August 20, then 1.
    changes = [(202607, 5), (202607, 10), (202608, 20)]
    assert day_in_force(202607, 1, changes) == 5
    assert day_in_force(202608, 1, changes) == 20
    assert day_in_force(202609, 1, changes) == 1


def test_asking_draft() -> None:
    draft = asking(42, Setting.DAY)
    assert (draft.step, draft.org_id, draft.what) == ("ask", 42, "day")
