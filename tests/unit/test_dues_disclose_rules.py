"""党费公示 rules: periods, titles, each member's line (no amounts by default), when a
disclosure falls due and when it is overdue, and the draft's transitions."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.i18n import load_catalog
from domain.dues import Period, standing
from domain.dues_disclose import (
    OVERDUE_AFTER_DAYS,
    STEPS,
    DisclosurePeriod,
    Line,
    MemberStatus,
    PeriodKind,
    State,
    is_reminder_day,
    member_status,
    offered,
    ordered,
    overdue_period,
    parse_period,
    reminder_period,
    start,
)
from domain.wizard import Event, Refusal, apply
from services.dues_disclose import Disclosure, MonthFigures
from ui.dues_disclose import body_html, line_text, period_name, status_text, title_text

CATALOG = load_catalog("zh_CN")
Q3 = DisclosurePeriod(2026, PeriodKind.QUARTER, 3)
H2 = DisclosurePeriod(2026, PeriodKind.HALF, 2)
Y = DisclosurePeriod(2026, PeriodKind.YEAR)


@pytest.mark.parametrize(
    ("key", "months", "end"),
    [
        ("2026-Q3", (202607, 202608, 202609), date(2026, 9, 30)),
        ("2026-Q1", (202601, 202602, 202603), date(2026, 3, 31)),
        ("2026-H2", tuple(range(202607, 202613)), date(2026, 12, 31)),
        ("2026", tuple(range(202601, 202613)), date(2026, 12, 31)),
    ],
)
def test_periods_have_their_months(key: str, months: tuple[int, ...], end: date) -> None:
    period = parse_period(key)
    assert period is not None
    assert period.key == key
    assert period.months == months
    assert period.end == end


@pytest.mark.parametrize("key", ["", "2026-Q5", "2026-H3", "2026-Q0", "26-Q1", "2026Q1",
                                 "1999", "2026-q1", "２０２６"])  # fmt: skip
def test_odd_period_keys_are_refused(key: str) -> None:
    assert parse_period(key) is None


@pytest.mark.parametrize(
    ("period", "zh", "en"),
    [
        (Q3, "甲支部关于2026年第三季度党费收缴情况的公示",
         "甲支部: Party dues collection, Q3 2026 (public notice)"),
        (H2, "甲支部关于2026年下半年党费收缴情况的公示",
         "甲支部: Party dues collection, second half-year 2026 (public notice)"),
        (Y, "甲支部关于2026年度党费收缴情况的公示",
         "甲支部: Party dues collection, the year 2026 (public notice)"),
    ],
)  # fmt: skip
def test_titles_in_both_languages(period: DisclosurePeriod, zh: str, en: str) -> None:
    assert title_text(CATALOG, "zh_CN", "甲支部", period) == zh
    assert title_text(CATALOG, "en", "甲支部", period) == en


def test_a_long_branch_name_still_fits_a_notice_title() -> None:
    title = title_text(CATALOG, "zh_CN", "很" * 100, Q3)
    assert len(title) <= 100
    assert title.endswith("…关于2026年第三季度党费收缴情况的公示")


STANDARD = [Period(202601, 8100)]


def _status(paid: dict[int, int], periods: list[Period] = STANDARD) -> MemberStatus:
    return member_status(standing(periods, paid, 202609, 202601), periods)


def test_statuses_as_of_the_period_end() -> None:
    all_year = {m: 8100 for m in range(202601, 202610)}
    assert _status(all_year) == MemberStatus(State.CLEAR, 202609)
    ahead = {**all_year, 202610: 8100, 202611: 8100, 202612: 8100}
    assert _status(ahead) == MemberStatus(State.ADVANCE, 202612, advance_until=202612)
    behind = {m: 8100 for m in range(202601, 202607)}
    assert _status(behind) == MemberStatus(State.ARREARS, 202606, owed_months=3)
    assert _status({}).paid_through is None
    exempt = [Period(202601, 8100), Period(202607, 0)]
    assert _status({m: 8100 for m in range(202601, 202607)}, exempt).state is State.EXEMPT


def _line(state: State, **kw: object) -> Line:
    through = kw.pop("through", 202609)
    return Line(1, "王芳", MemberStatus(state, through, **kw), None)  # type: ignore[arg-type]


def test_status_lines_say_months_and_never_amounts_by_default() -> None:
    zh = [
        line_text(CATALOG, "zh_CN", _line(State.CLEAR), Q3),
        line_text(CATALOG, "zh_CN", _line(State.ADVANCE, through=202701, advance_until=202701),
                  Q3),
        line_text(CATALOG, "zh_CN", _line(State.ARREARS, through=202606, owed_months=3), Q3),
        line_text(CATALOG, "zh_CN", _line(State.EXEMPT, through=None), Q3),
    ]  # fmt: skip
    assert zh == [
        "王芳　交至9月　✓ 已交清",
        "王芳　交至2027年1月　预交至2027年1月",
        "王芳　交至6月　欠交 3 个月",
        "王芳　尚未交纳　免交",
    ]
    assert not any("元" in text for text in zh)
    assert status_text(CATALOG, "en", _line(State.ARREARS, owed_months=2), Q3) == (
        "2 month(s) unpaid"
    )
    shown = Line(1, "王芳", MemberStatus(State.CLEAR, 202609), 24300)
    assert line_text(CATALOG, "zh_CN", shown, Q3).endswith("本期 243.00 元")


def test_names_are_escaped_and_lines_ordered_by_name() -> None:
    odd = Line(2, "<b>赵</b>&", MemberStatus(State.CLEAR, 202609))
    assert "&lt;b&gt;赵&lt;/b&gt;&amp;" in line_text(CATALOG, "zh_CN", odd, Q3)
    lines = [Line(3, "王芳", odd.status), Line(1, "李娜", odd.status), Line(2, "王芳", odd.status)]
    assert [(x.name, x.member_id) for x in ordered(lines)] == [
        ("李娜", 1), ("王芳", 2), ("王芳", 3)
    ]  # fmt: skip


def test_the_body_has_totals_and_a_tally() -> None:
    data = Disclosure(
        1, "甲支部", Q3, False, 48600, 40500, 30000,
        (MonthFigures(202607, 16200, 16200), MonthFigures(202608, 16200, 16200),
         MonthFigures(202609, 16200, 8100)),
        (_line(State.CLEAR), _line(State.ARREARS, owed_months=1, through=202608)),
        None,
    )  # fmt: skip
    body = body_html(CATALOG, "zh_CN", data)
    assert "公示期间：7月至9月" in body
    assert "应交党费 486.00 元，实交 405.00 元，已上缴 300.00 元" in body
    assert "党员 2 人：已交清 1 人，预交 0 人，欠交 1 人，免交 0 人" in body
    assert period_name(CATALOG, "en", H2) == "second half-year 2026"


def test_when_a_disclosure_falls_due_and_is_overdue() -> None:
    assert reminder_period(3, date(2026, 10, 1)) == Q3
    assert reminder_period(3, date(2026, 10, 2)) is None
    assert reminder_period(6, date(2026, 10, 1)) is None
    assert reminder_period(6, date(2027, 1, 1)) == H2
    assert reminder_period(12, date(2027, 1, 1)) == Y
    assert reminder_period(12, date(2026, 7, 1)) is None
    assert [is_reminder_day(date(2026, m, 1)) for m in (1, 2, 4, 7, 10, 12)] == [
        True, False, True, True, True, False
    ]  # fmt: skip
    assert OVERDUE_AFTER_DAYS == 15
    # Q3 ended on 30 September: due by 15 October.
    assert overdue_period(3, date(2026, 10, 15)).key == "2026-Q2"
    assert overdue_period(3, date(2026, 10, 16)).key == "2026-Q3"
    assert overdue_period(3, date(2026, 12, 31)).key == "2026-Q3"
    assert overdue_period(6, date(2026, 10, 31)).key == "2026-H1"
    assert overdue_period(12, date(2026, 10, 31)).key == "2025"


def test_offered_periods_start_with_the_branch_s_own_kind() -> None:
    keys = [p.key for p in offered(3, date(2026, 10, 3))]
    assert keys == ["2026-Q3", "2026-Q2", "2026-H1", "2025"]
    assert [p.key for p in offered(12, date(2027, 1, 5))] == ["2026", "2025", "2026-Q4", "2026-H2"]


def test_the_draft_accepts_only_ended_periods() -> None:
    now = datetime(2026, 10, 3, 9, tzinfo=UTC)
    draft = start(7)
    chosen = apply(STEPS, draft, Event("pick", 1, "2026-Q3"), now)
    assert not isinstance(chosen, Refusal)
    assert (chosen.step, chosen.period_key, chosen.show_amounts) == ("pre", "2026-Q3", True)
    assert apply(STEPS, draft, Event("pick", 0, "2026-Q4"), now) == Refusal(
        "dues.disclose.not_ended"
    )
    assert apply(STEPS, draft, Event("pick", 0, "2026-Q9"), now) == Refusal("stale")
    assert apply(STEPS, draft, Event("ok"), now) == Refusal("stale")
