"""Working days in mainland China (domain/workdays.py): weekends, holidays and 调休."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.workdays import (
    first_working_day,
    is_announced,
    is_holiday,
    is_working_day,
    working_days,
)


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 1, 1),  # 元旦
        date(2026, 1, 2),
        date(2026, 2, 16),  # 除夕
        date(2026, 2, 23),  # the last day of the 春节 break
        date(2026, 4, 6),  # 清明, moved to the Monday
        date(2026, 5, 5),  # 劳动节
        date(2026, 6, 19),  # 端午
        date(2026, 9, 25),  # 中秋
        date(2026, 10, 7),  # 国庆
        date(2025, 10, 8),  # 国庆 and 中秋 together in 2025
        date(2025, 6, 2),  # 端午 2025, the Monday
    ],
)
def test_announced_holidays_are_days_off(day: date) -> None:
    assert is_holiday(day)
    assert not is_working_day(day)


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 1, 4),  # a Sunday worked for 元旦
        date(2026, 2, 14),  # Saturday before 春节
        date(2026, 2, 28),  # Saturday after 春节
        date(2026, 5, 9),
        date(2026, 9, 20),
        date(2026, 10, 10),
        date(2025, 1, 26),
        date(2025, 2, 8),
        date(2025, 4, 27),
        date(2025, 9, 28),
        date(2025, 10, 11),
    ],
)
def test_adjusted_weekends_are_working_days(day: date) -> None:
    assert day.weekday() >= 5
    assert is_working_day(day)


def test_ordinary_weekdays_work_and_weekends_rest() -> None:
    assert is_working_day(date(2026, 12, 1))  # a Tuesday
    assert not is_working_day(date(2026, 12, 5))  # a Saturday
    assert not is_working_day(date(2026, 12, 6))


@pytest.mark.parametrize(
    ("year", "month", "expected"),
    [
        (2026, 1, date(2026, 1, 4)),  # 1–3 off, the 4th a worked Sunday
        (2026, 2, date(2026, 2, 2)),  # the 1st is a Sunday
        (2026, 3, date(2026, 3, 2)),
        (2026, 5, date(2026, 5, 6)),  # 劳动节 1–5
        (2026, 10, date(2026, 10, 8)),  # 国庆 1–7
        (2026, 11, date(2026, 11, 2)),  # the 1st is a Sunday
        (2026, 12, date(2026, 12, 1)),  # a plain Tuesday
        (2025, 6, date(2025, 6, 3)),  # 端午 May 31 – Jun 2
        (2025, 10, date(2025, 10, 9)),  # 国庆 and 中秋 1–8
        (2027, 1, date(2027, 1, 4)),  # estimated: Friday the 1st off, then the weekend
        (2028, 2, date(2028, 2, 2)),  # estimated: 春节 (Jan 25 – Feb 1)
        (2028, 10, date(2028, 10, 9)),  # estimated: 中秋 on Oct 3 makes 国庆 eight days
    ],
)
def test_first_working_day_of_a_month(year: int, month: int, expected: date) -> None:
    assert first_working_day(year, month) == expected


def test_estimated_years_are_flagged_and_keep_the_fixed_holidays() -> None:
    assert is_announced(2026)
    assert not is_announced(2027)
    assert is_holiday(date(2027, 2, 5))  # 除夕 2027
    assert is_holiday(date(2027, 6, 9))  # 端午 2027
    assert is_holiday(date(2030, 9, 12))  # 中秋 2030
    # Outside the table: only 元旦, 劳动节 and 国庆.
    assert is_holiday(date(2035, 5, 3))
    assert is_holiday(date(2035, 10, 7))
    assert is_working_day(date(2035, 10, 8))  # a Monday


def test_working_days_lists_only_working_days() -> None:
    days = list(working_days(date(2026, 9, 28), date(2026, 10, 12)))
    assert days == [
        date(2026, 9, 28),
        date(2026, 9, 29),
        date(2026, 9, 30),
        date(2026, 10, 8),
        date(2026, 10, 9),
        date(2026, 10, 10),  # the worked Saturday
        date(2026, 10, 12),
    ]


@given(st.integers(min_value=2000, max_value=2100), st.integers(min_value=1, max_value=12))
def test_the_first_working_day_is_early_in_the_month_and_nothing_before_it_works(
    year: int, month: int
) -> None:
    first = first_working_day(year, month)
    assert (first.year, first.month) == (year, month)
    assert first.day <= 10  # the longest break (春节, 国庆) ends well before
    day = date(year, month, 1)
    while day < first:
        assert not is_working_day(day)
        day += timedelta(days=1)
