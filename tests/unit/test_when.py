"""Reading typed times (domain/when.py): formats, 12-hour words, implicit days, time zones."""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from domain.validation import Invalid
from domain.when import DEFAULT_DEADLINE_TIME, parse_date_only, parse_when

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Thursday 3 December 2026, 16:20 in Beijing.
NOW = datetime(2026, 12, 3, 16, 20, 45, tzinfo=SHANGHAI)


def at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


_CN = "零一二三四五六七八九"


def chinese(n: int) -> str:
    """1..99 in Chinese numerals, as people write them (十, 十二, 二十, 二十三)."""
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _CN[ones]
    head = "" if tens == 1 else _CN[tens]
    return head + "十" + (_CN[ones] if ones else "")


# ---------------------------------------------------------------- the formats of the issue


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2026-12-05 19:30", at(2026, 12, 5, 19, 30)),
        ("2026-12-05T19:30", at(2026, 12, 5, 19, 30)),
        ("2026-12-05 19:30:15", at(2026, 12, 5, 19, 30, 15)),
        ("2026/12/5 19:30", at(2026, 12, 5, 19, 30)),
        ("2026.12.5 9:05", at(2026, 12, 5, 9, 5)),
        ("2026-12-1 12:30", at(2026, 12, 1, 12, 30)),  # the space between digits matters
        ("2026年12月5日 19:30", at(2026, 12, 5, 19, 30)),
        ("2026年12月5日下午三点", at(2026, 12, 5, 15, 0)),
        ("12-05 19:30", at(2026, 12, 5, 19, 30)),
        ("12/5 19:30", at(2026, 12, 5, 19, 30)),
        ("12月5日 19:30", at(2026, 12, 5, 19, 30)),
        ("12月5日19:30", at(2026, 12, 5, 19, 30)),
        ("12月5日晚上7点半", at(2026, 12, 5, 19, 30)),
        ("12月5号下午3点", at(2026, 12, 5, 15, 0)),
        ("十二月五日 晚上七点一刻", at(2026, 12, 5, 19, 15)),
        ("明天下午3点", at(2026, 12, 4, 15, 0)),
        ("明天 下午 3 点", at(2026, 12, 4, 15, 0)),
        ("明天的下午3点", at(2026, 12, 4, 15, 0)),
        ("明日15:00", at(2026, 12, 4, 15, 0)),
        ("后天上午9点", at(2026, 12, 5, 9, 0)),
        ("大后天上午9点", at(2026, 12, 6, 9, 0)),
        ("今天18:00", at(2026, 12, 3, 18, 0)),
        ("今晚7点", at(2026, 12, 3, 19, 0)),
        ("今晚上7点", at(2026, 12, 3, 19, 0)),
        ("明早8点", at(2026, 12, 4, 8, 0)),
        ("明早晨8点", at(2026, 12, 4, 8, 0)),
        ("明天早晨8点", at(2026, 12, 4, 8, 0)),
        ("明晚8点半", at(2026, 12, 4, 20, 30)),
        ("下周三 14:00", at(2026, 12, 9, 14, 0)),
        ("下个星期三下午2点", at(2026, 12, 9, 14, 0)),
        ("下下周一 9:00", at(2026, 12, 14, 9, 0)),
        ("本周五 9:00", at(2026, 12, 4, 9, 0)),
        ("这周二 9:00", at(2026, 12, 1, 9, 0)),  # named in full, so even in the past
        ("周五下午2点半", at(2026, 12, 4, 14, 30)),
        ("星期六上午10点", at(2026, 12, 5, 10, 0)),
        ("礼拜天上午10点", at(2026, 12, 6, 10, 0)),
        ("周日上午10点", at(2026, 12, 6, 10, 0)),
        ("周5 14:00", at(2026, 12, 4, 14, 0)),
        ("周四下午5点", at(2026, 12, 3, 17, 0)),  # today, still ahead
        ("周四下午3点", at(2026, 12, 10, 15, 0)),  # today's has passed: next week
        ("3点", at(2026, 12, 4, 15, 0)),  # 15:00 today has passed: tomorrow
        ("下午5点", at(2026, 12, 3, 17, 0)),
        ("17:00", at(2026, 12, 3, 17, 0)),
        ("16:20", at(2026, 12, 3, 16, 20)),  # this very minute is not the past
        ("16:19", at(2026, 12, 4, 16, 19)),
        ("5号 9:00", at(2026, 12, 5, 9, 0)),
        ("3号 9:00", at(2027, 1, 3, 9, 0)),
        ("12月3日 16:00", at(2027, 12, 3, 16, 0)),  # passed this year: next year
        ("1月1日 10:00", at(2027, 1, 1, 10, 0)),
        ("3pm", at(2026, 12, 4, 15, 0)),
        ("5 PM", at(2026, 12, 3, 17, 0)),
        ("明天 9:30 a.m.", at(2026, 12, 4, 9, 30)),
        ("明天下午3点前", at(2026, 12, 4, 15, 0)),
        ("明天下午3点左右。", at(2026, 12, 4, 15, 0)),
        ("19点30分", at(2026, 12, 3, 19, 30)),
        ("19时30分", at(2026, 12, 3, 19, 30)),
        ("9点零5分", at(2026, 12, 4, 9, 5)),
        ("9点05", at(2026, 12, 4, 9, 5)),
        ("9点三刻", at(2026, 12, 4, 9, 45)),
        ("9点整", at(2026, 12, 4, 9, 0)),
        ("9点钟", at(2026, 12, 4, 9, 0)),
        ("两点半", at(2026, 12, 4, 14, 30)),
        ("十点二十分", at(2026, 12, 4, 10, 20)),
    ],
)
def test_typed_times_are_understood(typed: str, expected: datetime) -> None:
    result = parse_when(typed, NOW)
    assert result == expected
    assert isinstance(result, datetime)
    assert result.tzinfo is SHANGHAI


@pytest.mark.parametrize(
    ("typed", "ascii_form"),
    [
        ("１２月５日　１９：３０", "12月5日 19:30"),
        ("２０２６－１２－０５　１９：３０", "2026-12-05 19:30"),
        ("明天下午３点", "明天下午3点"),
        ("１９：３０", "19:30"),
    ],
)
def test_full_width_digits_and_colons_are_accepted(typed: str, ascii_form: str) -> None:
    assert parse_when(typed, NOW) == parse_when(ascii_form, NOW)
    assert isinstance(parse_when(typed, NOW), datetime)


# ---------------------------------------------------------------- parts of the day


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("明天凌晨2点", at(2026, 12, 4, 2, 0)),
        ("明天凌晨12点", at(2026, 12, 4, 0, 0)),
        ("明天早上7点", at(2026, 12, 4, 7, 0)),
        ("明天早7点", at(2026, 12, 4, 7, 0)),
        ("明天上午12点", at(2026, 12, 4, 12, 0)),
        ("明天中午12点", at(2026, 12, 4, 12, 0)),
        ("明天中午1点", at(2026, 12, 4, 13, 0)),
        ("明天中午11点半", at(2026, 12, 4, 11, 30)),
        ("明天下午12点", at(2026, 12, 4, 12, 0)),
        ("明天下午1点", at(2026, 12, 4, 13, 0)),
        ("明天下午15点", at(2026, 12, 4, 15, 0)),
        ("明天下午3:30", at(2026, 12, 4, 15, 30)),
        ("明天傍晚6点", at(2026, 12, 4, 18, 0)),
        ("明天晚上7点", at(2026, 12, 4, 19, 0)),
        ("明天晚上11点", at(2026, 12, 4, 23, 0)),
        ("明天晚上12点", at(2026, 12, 5, 0, 0)),  # the midnight that ends the evening
        ("明天晚上20:00", at(2026, 12, 4, 20, 0)),
        ("明天24:00", at(2026, 12, 5, 0, 0)),
        ("今晚12点", at(2026, 12, 4, 0, 0)),
        ("12am", at(2026, 12, 4, 0, 0)),
        ("12pm", at(2026, 12, 4, 12, 0)),
    ],
)
def test_parts_of_the_day_use_a_12_hour_clock(typed: str, expected: datetime) -> None:
    assert parse_when(typed, NOW) == expected


@pytest.mark.parametrize(
    ("hour", "expected"),
    [(1, 13), (2, 14), (5, 17), (6, 18), (7, 7), (8, 8), (11, 11), (12, 12), (0, 0)],
)
def test_a_bare_chinese_hour_before_seven_means_the_afternoon(hour: int, expected: int) -> None:
    now = at(2026, 12, 3, 0, 0)
    result = parse_when(f"明天{hour}点", now)
    assert result == at(2026, 12, 4, expected, 0)


def test_colon_times_and_the_formal_shi_are_a_24_hour_clock() -> None:
    assert parse_when("明天3:00", NOW) == at(2026, 12, 4, 3, 0)
    assert parse_when("明天03:00", NOW) == at(2026, 12, 4, 3, 0)
    assert parse_when("明天3时", NOW) == at(2026, 12, 4, 3, 0)
    assert parse_when("明天14时30分", NOW) == at(2026, 12, 4, 14, 30)
    assert parse_when("明天3點", NOW) == at(2026, 12, 4, 15, 0)


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("", "when.empty"),
        ("   ", "when.empty"),
        ("hello", "when.invalid"),
        ("开会", "when.invalid"),
        ("明天", "when.no_time"),
        ("12月5日", "when.no_time"),
        ("2026-12-05", "when.no_time"),
        ("下周三", "when.no_time"),
        ("明天下午", "when.no_time"),
        ("2026-02-30 10:00", "when.bad_date"),
        ("2026-13-01 10:00", "when.bad_date"),
        ("2026年2月29日 10:00", "when.bad_date"),  # 2026 is not a leap year
        ("2月30日 10:00", "when.bad_date"),
        ("13月1日 10:00", "when.bad_date"),
        ("32号 10:00", "when.bad_date"),
        ("0号 10:00", "when.bad_date"),
        ("25:00", "when.bad_time"),
        ("12:60", "when.bad_time"),
        ("24:30", "when.bad_time"),
        ("明天7点60分", "when.bad_time"),
        ("明天晚上3点", "when.bad_time"),
        ("明天凌晨8点", "when.bad_time"),
        ("明天上午13点", "when.bad_time"),
        ("明天中午5点", "when.bad_time"),
        ("明天下午25点", "when.bad_time"),
        ("13pm", "when.bad_time"),
        ("0am", "when.bad_time"),
        ("明天下午3点开会", "when.invalid"),
        ("2026-12-05 19:30 晚上", "when.invalid"),
    ],
)
def test_unreadable_times_are_refused_with_a_code(typed: str, code: str) -> None:
    assert parse_when(typed, NOW) == Invalid(code)


def test_a_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_when("明天下午3点", datetime(2026, 12, 3, 16, 20))
    with pytest.raises(ValueError, match="aware"):
        parse_date_only("明天", datetime(2026, 12, 3, 16, 20))


# ---------------------------------------------------------------- boundaries


def test_across_the_new_year() -> None:
    eve = at(2026, 12, 31, 22, 0)
    assert parse_when("明天上午9点", eve) == at(2027, 1, 1, 9, 0)
    assert parse_when("1月1日 9:00", eve) == at(2027, 1, 1, 9, 0)
    assert parse_when("12月31日 23:00", eve) == at(2026, 12, 31, 23, 0)
    assert parse_when("12月31日 21:00", eve) == at(2027, 12, 31, 21, 0)
    assert parse_when("1号 9:00", eve) == at(2027, 1, 1, 9, 0)
    assert parse_when("下周一 9:00", eve) == at(2027, 1, 4, 9, 0)  # 31 Dec 2026 is a Thursday
    assert parse_when("晚上12点", eve) == at(2027, 1, 1, 0, 0)


def test_leap_days() -> None:
    assert parse_when("明天10:00", at(2028, 2, 28, 12, 0)) == at(2028, 2, 29, 10, 0)
    assert parse_when("明天10:00", at(2026, 2, 28, 12, 0)) == at(2026, 3, 1, 10, 0)
    assert parse_when("2月29日 10:00", at(2026, 5, 1, 12, 0)) == at(2028, 2, 29, 10, 0)
    assert parse_when("2月29日 10:00", at(2028, 3, 1, 12, 0)) == at(2032, 2, 29, 10, 0)
    # 2100 is not a leap year: the next 29 February after 2096 is in 2104.
    assert parse_when("2月29日 10:00", at(2096, 3, 1, 12, 0)) == at(2104, 2, 29, 10, 0)
    assert parse_when("2028-02-29 10:00", NOW) == at(2028, 2, 29, 10, 0)


def test_a_day_of_month_skips_months_too_short() -> None:
    assert parse_when("31号 9:00", at(2027, 1, 31, 20, 0)) == at(2027, 3, 31, 9, 0)
    assert parse_when("30号 9:00", at(2028, 1, 31, 20, 0)) == at(2028, 3, 30, 9, 0)
    assert parse_when("29号 9:00", at(2028, 2, 1, 20, 0)) == at(2028, 2, 29, 9, 0)


def test_next_week_is_the_next_monday_to_sunday_week() -> None:
    monday = at(2026, 11, 30, 9, 0)
    assert parse_when("下周三 14:00", monday) == at(2026, 12, 9, 14, 0)
    assert parse_when("周三 14:00", monday) == at(2026, 12, 2, 14, 0)
    sunday = at(2026, 12, 6, 9, 0)
    assert parse_when("下周日 14:00", sunday) == at(2026, 12, 13, 14, 0)
    assert parse_when("下周一 14:00", sunday) == at(2026, 12, 7, 14, 0)
    assert parse_when("周日 14:00", sunday) == at(2026, 12, 6, 14, 0)
    assert parse_when("本周一 14:00", sunday) == at(2026, 11, 30, 14, 0)


def test_results_are_in_the_timezone_of_now() -> None:
    utc_now = NOW.astimezone(UTC)
    result = parse_when("2026-12-05 19:30", utc_now)
    assert result == datetime(2026, 12, 5, 19, 30, tzinfo=UTC)
    # "Tomorrow" is tomorrow where the branch is: 00:30 in Beijing is still yesterday in UTC.
    beijing_early = at(2026, 12, 4, 0, 30)
    assert parse_when("明天上午9点", beijing_early) == at(2026, 12, 5, 9, 0)
    assert parse_when("明天上午9点", beijing_early.astimezone(UTC)) == datetime(
        2026, 12, 4, 9, 0, tzinfo=UTC
    )


def test_a_wall_time_in_a_dst_gap_lands_on_a_real_instant() -> None:
    new_york = ZoneInfo("America/New_York")
    now = datetime(2026, 3, 1, 12, 0, tzinfo=new_york)
    result = parse_when("2026-03-08 02:30", now)  # clocks jump from 02:00 to 03:00
    assert isinstance(result, datetime)
    assert result == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert result.astimezone(UTC).astimezone(new_york) == result


# ---------------------------------------------------------------- dates without a time


def test_parse_date_only_uses_the_deadline_time() -> None:
    assert time(18, 0) == DEFAULT_DEADLINE_TIME
    assert parse_date_only("明天", NOW) == at(2026, 12, 4, 18, 0)
    assert parse_date_only("12月5日", NOW) == at(2026, 12, 5, 18, 0)
    assert parse_date_only("2026-12-05", NOW) == at(2026, 12, 5, 18, 0)
    assert parse_date_only("2026年12月5日", NOW) == at(2026, 12, 5, 18, 0)
    assert parse_date_only("周五", NOW) == at(2026, 12, 4, 18, 0)
    assert parse_date_only("周四", NOW) == at(2026, 12, 3, 18, 0)  # today, still ahead
    assert parse_date_only("周四", at(2026, 12, 3, 19, 0)) == at(2026, 12, 10, 18, 0)
    assert parse_date_only("下周三前", NOW) == at(2026, 12, 9, 18, 0)
    assert parse_date_only("5号", NOW) == at(2026, 12, 5, 18, 0)
    assert parse_date_only("今天", at(2026, 12, 3, 19, 0)) == at(2026, 12, 3, 18, 0)
    assert parse_date_only("12/31", NOW, at=time(23, 59)) == at(2026, 12, 31, 23, 59)


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("明天3点", "when.has_time"),
        ("2026-12-05 19:30", "when.has_time"),
        ("明天下午", "when.no_time"),
        ("2026-02-30", "when.bad_date"),
        ("", "when.empty"),
        ("随便", "when.invalid"),
    ],
)
def test_parse_date_only_refusals(typed: str, code: str) -> None:
    assert parse_date_only(typed, NOW) == Invalid(code)


def test_parse_when_fills_a_bare_date_with_a_default_time() -> None:
    assert parse_when("明天", NOW, default_time=time(9, 30)) == at(2026, 12, 4, 9, 30)
    assert parse_when("明天下午3点", NOW, default_time=time(9, 30)) == at(2026, 12, 4, 15, 0)
    assert parse_when("12月3日", NOW, default_time=time(16, 0)) == at(2027, 12, 3, 16, 0)


# ---------------------------------------------------------------- properties

zones = st.sampled_from([SHANGHAI, ZoneInfo("Asia/Urumqi"), ZoneInfo("UTC")])
minutes = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2200, 12, 31, 23, 59)
).map(lambda d: d.replace(second=0, microsecond=0))
# From 1992: China last changed its clocks for summer time in 1991, so every wall time
# exists and the properties below can compare hours and minutes directly.
nows = st.builds(
    lambda naive, tz: naive.replace(tzinfo=tz),
    st.datetimes(min_value=datetime(1992, 1, 1), max_value=datetime(2150, 12, 31)),
    zones,
)


@given(minutes, zones, nows)
def test_iso_text_reads_back_exactly(naive: datetime, tz: ZoneInfo, now: datetime) -> None:
    moment = naive.replace(tzinfo=tz)
    # Wall times skipped by a summer-time change (Shanghai 1986-1991) cannot read back.
    assume(moment.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == naive)
    now = now.astimezone(tz)
    assert parse_when(f"{moment:%Y-%m-%d %H:%M}", now) == moment
    assert parse_when(moment.isoformat(timespec="seconds").split("+")[0], now) == moment
    slashed = f"{moment.year}/{moment.month}/{moment.day} {moment.hour}:{moment.minute:02d}"
    assert parse_when(slashed, now) == moment


@given(nows, st.integers(1, 12), st.integers(1, 31), st.integers(0, 23), st.integers(0, 59))
@example(at(2026, 12, 31, 23, 59, 59), 12, 31, 23, 59)
@example(at(2027, 3, 1, 0, 0), 2, 29, 0, 0)
def test_a_date_without_a_year_is_the_next_one_never_past(
    now: datetime, month: int, day: int, hour: int, minute: int
) -> None:
    floor = now.replace(second=0, microsecond=0)
    for typed in (
        f"{month}月{day}日 {hour}:{minute:02d}",
        f"{month}-{day} {hour:02d}:{minute:02d}",
        f"{chinese(month)}月{chinese(day)}号{hour}时{minute}分",
    ):
        result = parse_when(typed, now)
        try:
            date(2028, month, day)
        except ValueError:
            assert result == Invalid("when.bad_date")
            continue
        assert isinstance(result, datetime), typed
        assert result >= floor
        assert (result.month, result.day, result.hour, result.minute) == (month, day, hour, minute)
        # The earliest such moment: a year earlier (or the leap day before) was already past.
        if (month, day) != (2, 29):
            assert result.year in (now.year, now.year + 1)
            if result.year > now.year:
                assert result.replace(year=now.year) < floor


@given(nows, st.integers(0, 23), st.integers(0, 59))
def test_a_time_without_a_day_is_within_the_next_day(now: datetime, hour: int, minute: int) -> None:
    result = parse_when(f"{hour}:{minute:02d}", now)
    assert isinstance(result, datetime)
    floor = now.replace(second=0, microsecond=0)
    assert floor <= result < floor + timedelta(days=1)
    assert (result.hour, result.minute) == (hour, minute)


@given(nows, st.integers(0, 6), st.sampled_from(["周", "星期", "礼拜"]), st.integers(1, 11))
def test_a_bare_weekday_is_within_the_next_week(
    now: datetime, weekday: int, word: str, hour: int
) -> None:
    result = parse_when(f"{word}{'一二三四五六日'[weekday]}下午{chinese(hour)}点", now)
    assert isinstance(result, datetime)
    floor = now.replace(second=0, microsecond=0)
    assert floor <= result < floor + timedelta(days=7)
    assert result.weekday() == weekday
    assert result.hour == hour + 12


@given(nows, st.integers(1, 31))
def test_a_bare_day_of_month_is_the_next_one(now: datetime, day: int) -> None:
    result = parse_date_only(f"{day}号", now)
    assert isinstance(result, datetime)
    assert result.day == day
    assert result >= now.replace(second=0, microsecond=0)
    assert result - now < timedelta(days=93)


@given(nows, st.sampled_from([("今天", 0), ("明天", 1), ("后天", 2), ("大后天", 3)]))
def test_relative_days_count_from_the_branch_date(now: datetime, word: tuple[str, int]) -> None:
    text, offset = word
    result = parse_when(f"{text}上午10点", now)
    assert isinstance(result, datetime)
    assert result.date() == now.date() + timedelta(days=offset)
    assert result.time() == time(10, 0)


@given(nows, st.integers(1, 11), st.sampled_from(["", "半", "一刻", "三刻", "十分", "零五分"]))
def test_chinese_and_digit_hours_agree(now: datetime, hour: int, minutes_word: str) -> None:
    minute = {"": 0, "半": 30, "一刻": 15, "三刻": 45, "十分": 10, "零五分": 5}[minutes_word]
    in_chinese = parse_when(f"明天下午{chinese(hour)}点{minutes_word}", now)
    in_digits = parse_when(f"明天{hour + 12}:{minute:02d}", now)
    assert in_chinese == in_digits
    assert isinstance(in_digits, datetime)


@given(st.text(max_size=30), nows)
@example("下周三 14:00", NOW)
@example("２月２９日　１０：００", NOW)
@example("9999-12-31 23:59", at(9999, 12, 31, 12, 0))
@example("12月31日 23:00", at(9999, 12, 31, 23, 30))
def test_parsing_never_raises(text: str, now: datetime) -> None:
    for result in (parse_when(text, now), parse_date_only(text, now)):
        assert isinstance(result, datetime | Invalid)
        if isinstance(result, datetime):
            assert result.tzinfo is now.tzinfo


@given(
    st.text(alphabet="0123456789-/: 年月日号点时分半刻上下午晚凌晨周明今后天", max_size=16), nows
)
def test_full_width_text_reads_like_its_ascii_form(text: str, now: datetime) -> None:
    wide = "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)
    assert unicodedata.normalize("NFKC", wide) == text
    assert parse_when(wide, now) == parse_when(text, now)
