"""Reading the times people type: "2026-12-05 19:30", "12月5日 19:30", "明天下午3点"."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import Enum
from typing import Final

from domain.validation import Invalid

# Rules:
# - Text is NFKC-normalized (full-width digits, colons and spaces) and lower-cased.
# - A day named in full (2026-12-05, 今天, 明天, 后天, 本周三, 下周三) is taken as written,
#   even when the moment has passed: recording a past meeting needs that, and the caller
#   decides whether the past is acceptable.
# - A day left implicit (no year, no month, a bare weekday, no day at all) is the first
#   such moment at or after now (to the minute), so it is never in the past: "12月5日" on
#   6 December is next year's, "周五" on a Friday evening is next week's, "3点" after
#   15:00 is tomorrow's, "2月29日" is the next leap day.
# - 下周X is that day of the next Monday-to-Sunday week (on a Monday, nine days later for
#   下周三); 下下周X the week after that.
# - Colon times are a 24-hour clock. With 上午/早上 the hour is as written (上午12点 is
#   noon); 凌晨 takes 0-6 (凌晨12点 is 00:00 of that day); 中午 takes 11-12 and 1-2 as
#   13-14; 下午 adds 12 to 1-11; 晚上 adds 12 to 5-11 and 晚上12点 is 00:00 of the next
#   day (the midnight ending that evening); 24:00 likewise.
# - A bare spoken hour (3点, 两点半) from 1 to 6 means the afternoon: branches do not meet
#   before dawn. 7点 and later are as written, as is the formal 时 (3时 is 03:00); the
#   bot shows the time it understood.
# - 半 is :30, 一刻 :15, 三刻 :45; 整, 钟 and a trailing 前/之前/左右 change nothing.

DEFAULT_DEADLINE_TIME: Final = time(18, 0)


class _Part(Enum):
    DAWN = "dawn"
    MORNING = "morning"
    NOON = "noon"
    AFTERNOON = "afternoon"
    EVENING = "evening"


_PART_WORDS: Final = {
    "凌晨": _Part.DAWN,
    "清晨": _Part.MORNING,
    "早上": _Part.MORNING,
    "早晨": _Part.MORNING,
    "上午": _Part.MORNING,
    "早": _Part.MORNING,
    "中午": _Part.NOON,
    "下午": _Part.AFTERNOON,
    "午后": _Part.AFTERNOON,
    "傍晚": _Part.EVENING,
    "晚上": _Part.EVENING,
    "晚间": _Part.EVENING,
    "夜里": _Part.EVENING,
    "夜间": _Part.EVENING,
    "晚": _Part.EVENING,
}
# Longest first, so 早上 is not read as 早 followed by garbage.
_PART = "(?P<part>" + "|".join(sorted(_PART_WORDS, key=len, reverse=True)) + ")"
_CN_DIGITS: Final = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "兩": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_NUM = "(?:[0-9]{1,2}|[零〇一二两兩三四五六七八九十]{1,3})"
_WEEKDAYS: Final = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_RELATIVE_DAYS: Final = {
    "今天": 0,
    "今日": 0,
    "明天": 1,
    "明日": 1,
    "后天": 2,
    "後天": 2,
    "大后天": 3,
    "大後天": 3,
}


def _number(text: str) -> int | None:
    """Digits or a Chinese numeral up to 99 (十一, 二十三, 两), or None."""
    if text.isascii() and text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, ones = text.partition("十")
        if len(tens) > 1 or len(ones) > 1:
            return None
        high = 1 if not tens else _CN_DIGITS.get(tens)
        low = 0 if not ones else _CN_DIGITS.get(ones)
        if high is None or low is None:
            return None
        return high * 10 + low
    return _CN_DIGITS.get(text) if len(text) == 1 else None


@dataclass(frozen=True)
class _Days:
    """Candidate days, earliest first; implicit ones are skipped while in the past."""

    candidates: Sequence[date]
    implicit: bool


@dataclass(frozen=True)
class _Clock:
    hour: int
    minute: int
    second: int = 0
    next_day: bool = False  # 晚上12点 and 24:00: midnight at the end of the day


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except (ValueError, OverflowError):
        return None


def _full_date(m: re.Match[str], today: date) -> _Days | Invalid:
    year, month, day = int(m["y"]), _number(m["m"]), _number(m["d"])
    found = _safe_date(year, month, day) if month is not None and day is not None else None
    return _Days([found], implicit=False) if found else Invalid("when.bad_date")


def _month_day(m: re.Match[str], today: date) -> _Days | Invalid:
    month, day = _number(m["m"]), _number(m["d"])
    if month is None or day is None:
        return Invalid("when.bad_date")
    # Nine years always include a 29 February (the longest gap is 2096 to 2104).
    found = [_safe_date(today.year + k, month, day) for k in range(9)]
    days = [d for d in found if d is not None]
    return _Days(days, implicit=True) if days else Invalid("when.bad_date")


def _day_of_month(m: re.Match[str], today: date) -> _Days | Invalid:
    day = _number(m["d"])
    if day is None:
        return Invalid("when.bad_date")
    days: list[date] = []
    for k in range(14):  # a 31st comes at least every other month
        index = today.year * 12 + today.month - 1 + k
        found = _safe_date(index // 12, index % 12 + 1, day)
        if found:
            days.append(found)
    return _Days(days, implicit=True) if days else Invalid("when.bad_date")


def _relative_day(m: re.Match[str], today: date) -> _Days | Invalid:
    return _Days([today + timedelta(days=_RELATIVE_DAYS[m["rel"]])], implicit=False)


def _weekday(m: re.Match[str], today: date) -> _Days | Invalid:
    target = _WEEKDAYS.get(m["wd"], int(m["wd"]) - 1 if m["wd"].isdigit() else 0)
    monday = today - timedelta(days=today.weekday())
    which = m["which"]
    if which in {"本", "这", "這"}:
        return _Days([monday + timedelta(days=target)], implicit=False)
    if which:
        weeks = 2 if which.startswith("下下") else 1
        return _Days([monday + timedelta(weeks=weeks, days=target)], implicit=False)
    first = today + timedelta(days=(target - today.weekday()) % 7)
    return _Days([first, first + timedelta(weeks=1)], implicit=True)


_DateRule = tuple[re.Pattern[str], Callable[[re.Match[str], date], "_Days | Invalid"]]
# Tried in order; each matches a prefix and the rest must read as a time (or nothing).
_DATE_RULES: Final[tuple[_DateRule, ...]] = (
    (re.compile(r"(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})(?!\d)", re.ASCII), _full_date),
    (re.compile(rf"(?P<y>\d{{4}})年(?P<m>{_NUM})月(?P<d>{_NUM})[日号號]?", re.ASCII), _full_date),
    (re.compile(rf"(?P<m>{_NUM})月(?P<d>{_NUM})[日号號]?", re.ASCII), _month_day),
    (re.compile(r"(?P<m>\d{1,2})[-/](?P<d>\d{1,2})(?![\d:])", re.ASCII), _month_day),
    (re.compile("(?P<rel>" + "|".join(sorted(_RELATIVE_DAYS, key=len, reverse=True)) + ")"),
     _relative_day),
    (
        re.compile(
            r"(?P<which>下下|下|本|这|這)?[个個]?(?:周|週|星期|礼拜|禮拜)(?P<wd>[一二三四五六日天1-7])"
        ),
        _weekday,
    ),
    (re.compile(rf"(?P<d>{_NUM})[日号號]", re.ASCII), _day_of_month),
)  # fmt: skip

_SEPARATOR = re.compile(r"(?: |t|,|的)?")
_COLON_TIME = re.compile(
    rf"{_PART}?(?P<h>\d{{1,2}}):(?P<min>\d{{2}})(?::(?P<s>\d{{2}}))?", re.ASCII
)
_CHINESE_TIME = re.compile(
    rf"{_PART}?(?P<h>{_NUM})(?P<unit>[点點时時])钟?"
    rf"(?:(?P<half>半)|(?P<quarter>[一三])刻|整|[零〇]?(?P<min>{_NUM})分?)?"
)
_AMPM_TIME = re.compile(r"(?P<h>\d{1,2})(?::(?P<min>\d{2}))? ?(?P<ampm>a\.?m\.?|p\.?m\.?)")
_PART_ONLY = re.compile(_PART)
# 今晚, 明早上 and the like: a day and a part of it in one word.
_DAY_PART_WORD = re.compile(r"([今明])(晚|早)(?:上|晨)?")
_TRAILING = re.compile(r"(?:之前|以前|前|左右|[。.!！,])+$")
# Spaces next to a Han character carry no meaning ("明天 下午 3 点"); between two digit
# groups they do ("2026-12-1 12:30" must not become "2026-12-112:30").
_SPACE_NEAR_HAN = re.compile(r" ?([\u3007\u4e00-\u9fff]) ?")


def _normalize(text: str) -> str:
    value = unicodedata.normalize("NFKC", text).lower()
    value = re.sub(r"\s+", " ", value).strip()
    value = _SPACE_NEAR_HAN.sub(r"\1", value)
    value = _TRAILING.sub("", value)
    return _DAY_PART_WORD.sub(lambda m: m[1] + "天" + m[2] + "上", value)


def _hour(part: _Part | None, hour: int, *, chinese: bool) -> tuple[int, bool] | None:
    """The 24-hour clock hour and whether it falls on the next day, or None."""
    if part is None:
        if hour == 24:
            return 0, True
        if chinese and 1 <= hour <= 6:
            return hour + 12, False
        return (hour, False) if 0 <= hour <= 23 else None
    if part is _Part.DAWN:
        return (0, False) if hour == 12 else (hour, False) if 0 <= hour <= 6 else None
    if part is _Part.MORNING:
        return (hour, False) if 0 <= hour <= 12 else None
    if part is _Part.NOON:
        if hour in (1, 2):
            return hour + 12, False
        return (hour, False) if 11 <= hour <= 14 else None
    if part is _Part.AFTERNOON:
        if 1 <= hour <= 11:
            return hour + 12, False
        return (hour, False) if 12 <= hour <= 23 else None
    if hour in (0, 12, 24):
        return 0, True
    if 5 <= hour <= 11:
        return hour + 12, False
    return (hour, False) if 17 <= hour <= 23 else None


def _clock(part: str | None, hour: int, minute: int, second: int, *, chinese: bool) -> _Clock:
    resolved = _hour(_PART_WORDS[part] if part else None, hour, chinese=chinese)
    if resolved is None or not 0 <= minute <= 59 or not 0 <= second <= 59:
        raise ValueError("no such time")
    if resolved[1] and (minute or second):
        raise ValueError("no time after midnight at the end of the day")  # 24:30
    return _Clock(resolved[0], minute, second, resolved[1])


def _parse_time(text: str) -> _Clock | Invalid | None:
    """The time of day in the text, None for no time, Invalid if unreadable."""
    if not text:
        return None
    try:
        if m := _COLON_TIME.fullmatch(text):
            return _clock(m["part"], int(m["h"]), int(m["min"]), int(m["s"] or 0), chinese=False)
        if m := _CHINESE_TIME.fullmatch(text):
            hour = _number(m["h"])
            if m["half"]:
                minute: int | None = 30
            elif m["quarter"]:
                minute = 15 if m["quarter"] == "一" else 45
            else:
                minute = _number(m["min"]) if m["min"] else 0
            if hour is None or minute is None:
                return Invalid("when.bad_time")
            # 时 is the formal 24-hour style of notices (14时30分); 点 the spoken one.
            return _clock(m["part"], hour, minute, 0, chinese=m["unit"] in "点點")
        if m := _AMPM_TIME.fullmatch(text):
            hour = int(m["h"])
            if not 1 <= hour <= 12:
                return Invalid("when.bad_time")
            hour = hour % 12 + (12 if m["ampm"].startswith("p") else 0)
            return _clock(None, hour, int(m["min"] or 0), 0, chinese=False)
    except ValueError:
        return Invalid("when.bad_time")
    if _PART_ONLY.fullmatch(text):
        return Invalid("when.no_time")  # 明天下午: a part of the day but no hour
    return Invalid("when.invalid")


def _read(text: str, today: date) -> tuple[_Days, _Clock | None] | Invalid:
    value = _normalize(text)
    if not value:
        return Invalid("when.empty")
    for pattern, build in _DATE_RULES:
        m = pattern.match(value)
        if not m:
            continue
        separator = _SEPARATOR.match(value, m.end())
        rest = value[separator.end() if separator else m.end() :]
        clock = _parse_time(rest)
        if isinstance(clock, Invalid) and clock.code == "when.invalid":
            continue  # perhaps another reading of the date part fits
        days = build(m, today)
        if isinstance(days, Invalid):
            return days
        if isinstance(clock, Invalid):
            return clock
        return days, clock
    clock = _parse_time(value)
    if clock is None:
        return Invalid("when.invalid")
    if isinstance(clock, Invalid):
        return clock
    return _Days([today, today + timedelta(days=1)], implicit=True), clock


def _at(day: date, clock: _Clock, tz: tzinfo) -> datetime:
    naive = datetime.combine(day, time(clock.hour, clock.minute, clock.second))
    if clock.next_day:
        naive += timedelta(days=1)
    # Through UTC and back, so a wall time inside a DST gap lands on a real instant.
    return naive.replace(tzinfo=tz).astimezone(UTC).astimezone(tz)


def _resolve(days: _Days, clock: _Clock, now: datetime, tz: tzinfo) -> datetime | Invalid:
    floor = now.replace(second=0, microsecond=0)
    for day in days.candidates:
        try:
            moment = _at(day, clock, tz)
        except (OverflowError, ValueError):
            continue
        if not days.implicit or moment >= floor:
            return moment
    return Invalid("when.bad_date")


def _timezone(now: datetime) -> tzinfo:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime in the branch's timezone")
    return now.tzinfo


def parse_when(text: str, now: datetime, *, default_time: time | None = None) -> datetime | Invalid:
    """A date and time as people type it, in now's timezone; default_time fills a bare date."""
    tz = _timezone(now)
    read = _read(text, now.date())
    if isinstance(read, Invalid):
        return read
    days, clock = read
    if clock is None:
        if default_time is None:
            return Invalid("when.no_time")
        clock = _Clock(default_time.hour, default_time.minute, default_time.second)
    return _resolve(days, clock, now, tz)


def parse_date_only(
    text: str, now: datetime, *, at: time = DEFAULT_DEADLINE_TIME
) -> datetime | Invalid:
    """A day without a time of day (a deadline), as a datetime at `at` in now's timezone."""
    tz = _timezone(now)
    read = _read(text, now.date())
    if isinstance(read, Invalid):
        return read
    days, clock = read
    if clock is not None:
        return Invalid("when.has_time")
    return _resolve(days, _Clock(at.hour, at.minute, at.second), now, tz)
