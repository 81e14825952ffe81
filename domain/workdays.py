"""Working days in mainland China: Monday to Friday, minus public holidays, plus 调休 weekends."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from functools import lru_cache
from typing import Final

# Limits (what this table knows and what it guesses):
# - The State Council announces each year's schedule (放假安排) in the autumn before. The
#   announced years below (2025, 2026) are exact: every day off and every weekend worked
#   in exchange (调休).
# - 2027–2030 are estimated from the statutory holidays (2025 rules) and the lunar dates:
#   元旦 Jan 1, 春节 除夕 to 初七, 清明, 劳动节 May 1–5, 端午, 中秋, 国庆 Oct 1–7 (Oct 8 too
#   when 中秋 falls inside the week); a single-day festival on a weekend moves to the Monday.
#   The weekends they will ask people to work are unknown, so none is counted as a working
#   day. Add each year's schedule to ANNOUNCED when it is published.
# - Outside 2025–2030 only the fixed-date holidays (元旦, 劳动节, 国庆) and weekends count.
# - Regional holidays (e.g. in ethnic autonomous areas) are not modelled.


def _span(first: date, days: int) -> list[date]:
    return [first + timedelta(days=i) for i in range(days)]


def _dates(*spans: Iterable[date]) -> frozenset[date]:
    return frozenset(day for span in spans for day in span)


D = date

# Announced schedules: (days off, weekend days worked).
ANNOUNCED: Final[dict[int, tuple[frozenset[date], frozenset[date]]]] = {
    2025: (
        _dates(
            [D(2025, 1, 1)],
            _span(D(2025, 1, 28), 8),  # 春节
            _span(D(2025, 4, 4), 3),  # 清明
            _span(D(2025, 5, 1), 5),  # 劳动节
            _span(D(2025, 5, 31), 3),  # 端午
            _span(D(2025, 10, 1), 8),  # 国庆、中秋
        ),
        _dates([D(2025, 1, 26), D(2025, 2, 8), D(2025, 4, 27), D(2025, 9, 28), D(2025, 10, 11)]),
    ),
    2026: (
        _dates(
            _span(D(2026, 1, 1), 3),  # 元旦
            _span(D(2026, 2, 15), 9),  # 春节
            _span(D(2026, 4, 4), 3),  # 清明
            _span(D(2026, 5, 1), 5),  # 劳动节
            _span(D(2026, 6, 19), 3),  # 端午
            _span(D(2026, 9, 25), 3),  # 中秋
            _span(D(2026, 10, 1), 7),  # 国庆
        ),
        _dates(
            [D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28)],
            [D(2026, 5, 9), D(2026, 9, 20), D(2026, 10, 10)],
        ),
    ),
}

# Lunar festivals and 清明 for the estimated years: (春节 初一, 清明, 端午, 中秋).
LUNAR: Final[dict[int, tuple[date, date, date, date]]] = {
    2025: (D(2025, 1, 29), D(2025, 4, 4), D(2025, 5, 31), D(2025, 10, 6)),
    2026: (D(2026, 2, 17), D(2026, 4, 5), D(2026, 6, 19), D(2026, 9, 25)),
    2027: (D(2027, 2, 6), D(2027, 4, 5), D(2027, 6, 9), D(2027, 9, 15)),
    2028: (D(2028, 1, 26), D(2028, 4, 4), D(2028, 5, 28), D(2028, 10, 3)),
    2029: (D(2029, 2, 13), D(2029, 4, 4), D(2029, 6, 16), D(2029, 9, 22)),
    2030: (D(2030, 2, 3), D(2030, 4, 5), D(2030, 6, 5), D(2030, 9, 12)),
}


def _observed(day: date) -> list[date]:
    """A one-day festival, plus the Monday after when it falls on a weekend."""
    if day.weekday() == 5:
        return [day, day + timedelta(days=2)]
    if day.weekday() == 6:
        return [day, day + timedelta(days=1)]
    return [day]


@lru_cache(maxsize=64)
def _schedule(year: int) -> tuple[frozenset[date], frozenset[date]]:
    """(days off, weekend days worked) of a year: announced, estimated or fixed-date only."""
    if year in ANNOUNCED:
        return ANNOUNCED[year]
    national = _span(D(year, 10, 1), 7)
    off = [*_observed(D(year, 1, 1)), *_span(D(year, 5, 1), 5)]
    if year in LUNAR:
        spring, qingming, dragon, autumn = LUNAR[year]
        off += _span(spring - timedelta(days=1), 8)  # 除夕 to 初七
        off += _observed(qingming) + _observed(dragon)
        if autumn in national or autumn == D(year, 10, 8):
            national = _span(D(year, 10, 1), 8)
        else:
            off += _observed(autumn)
    return frozenset(off + national), frozenset()


def is_announced(year: int) -> bool:
    """Whether the year's schedule is the State Council's own (not an estimate)."""
    return year in ANNOUNCED


def is_holiday(day: date) -> bool:
    """A public holiday (or a day off given in exchange for a worked weekend)."""
    return day in _schedule(day.year)[0]


def is_working_day(day: date) -> bool:
    """Whether offices work that day: a weekday that is no holiday, or a 调休 weekend."""
    off, worked = _schedule(day.year)
    if day in worked:
        return True
    return day.weekday() < 5 and day not in off


def working_days(first: date, last: date) -> Iterator[date]:
    """The working days from first to last inclusive."""
    day = first
    while day <= last:
        if is_working_day(day):
            yield day
        day += timedelta(days=1)


def first_working_day(year: int, month: int) -> date:
    """The month's first working day (the 1st unless a weekend or holiday comes first)."""
    day = D(year, month, 1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day
