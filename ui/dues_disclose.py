"""How a 党费收缴情况公示 looks: its title, the post (totals, then each member's line: paid
through which month and a status, amounts only when the branch shows them), the monthly
collection chart, the 公示 screen's buttons and the keepers' reminder."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from domain.dues import Month, yuan
from domain.dues_disclose import DisclosurePeriod, Line, PeriodKind, State
from domain.notices import TITLE_MAX
from services.dues_disclose import DiscloseMenu, Disclosure, DisclosurePost
from ui.callbacks import CallbackData, button
from ui.compliance_chart import GOLD, GREY, RED, chart_style, figure_png
from ui.i18n import Catalog, Html
from ui.render import split_html

QUARTER_KEYS = ("compliance.period.q1", "compliance.period.q2", "compliance.period.q3",
                "compliance.period.q4")  # fmt: skip
HALF_KEYS = ("compliance.period.h1", "compliance.period.h2")
EVERY_KEYS = {3: "dues.disclose.every.3", 6: "dues.disclose.every.6", 12: "dues.disclose.every.12"}
STATE_KEYS = {
    State.CLEAR: "dues.disclose.state.clear",
    State.ADVANCE: "dues.disclose.state.advance",
    State.ARREARS: "dues.disclose.state.arrears",
    State.EXEMPT: "dues.disclose.state.exempt",
}


@dataclass(frozen=True)
class DiscOpen(CallbackData):
    """党费公示: the branch list (org 0) or a branch's 公示 screen."""

    prefix: ClassVar[str] = "dxo"
    org_id: int


@dataclass(frozen=True)
class DiscPick(CallbackData):
    """A period chosen on a branch's 公示 screen ("2026-Q3", "2026-H2", "2026")."""

    prefix: ClassVar[str] = "dxp"
    org_id: int
    period: str


@dataclass(frozen=True)
class DiscAct(CallbackData):
    """The preview's buttons: "ok" (确认发布) or "cancel"."""

    prefix: ClassVar[str] = "dxa"
    action: str


@dataclass(frozen=True)
class DiscAmounts(CallbackData):
    """The keeper's switch: per-member amounts in the branch's disclosures on (1) or off (0)."""

    prefix: ClassVar[str] = "dxw"
    org_id: int
    on: int


def period_name(catalog: Catalog, locale: str, period: DisclosurePeriod) -> str:
    """ "2026年第三季度", "2026年下半年", "2026年度" / "Q3 2026", "second half of 2026", "2026"."""
    if period.kind is PeriodKind.YEAR:
        return catalog.plain(locale, "dues.disclose.period.year", year=period.year)
    keys = QUARTER_KEYS if period.kind is PeriodKind.QUARTER else HALF_KEYS
    part = catalog.plain(locale, keys[period.index - 1])
    return catalog.plain(locale, "dues.disclose.period.part", year=period.year, part=part)


def month_name(catalog: Catalog, locale: str, month: Month, year: int) -> str:
    """ "9月" within the period's year, "2027年1月" outside it."""
    if month // 100 == year:
        return catalog.plain(locale, "dues.disclose.month", month=month % 100)
    return catalog.plain(locale, "dues.disclose.month_year", year=month // 100, month=month % 100)


def title_text(catalog: Catalog, locale: str, org_name: str, period: DisclosurePeriod) -> str:
    """ "某某支部关于2026年第三季度党费收缴情况的公示" (cut to a notice title's length)."""
    name = period_name(catalog, locale, period)
    title = catalog.plain(locale, "dues.disclose.title", branch=org_name, period=name)
    if len(title) <= TITLE_MAX:
        return title
    cut = max(1, len(org_name) - (len(title) - TITLE_MAX) - 1)
    return catalog.plain(locale, "dues.disclose.title", branch=org_name[:cut] + "…", period=name)


def status_text(catalog: Catalog, locale: str, line: Line, period: DisclosurePeriod) -> str:
    """A member's status: "✓ 已交清", "预交至12月", "欠交3个月", "免交"."""
    status = line.status
    params: dict[str, object] = {}
    if status.state is State.ARREARS:
        params["count"] = status.owed_months
    if status.state is State.ADVANCE and status.advance_until is not None:
        params["month"] = month_name(catalog, locale, status.advance_until, period.year)
    return catalog.plain(locale, STATE_KEYS[status.state], **params)


def line_text(catalog: Catalog, locale: str, line: Line, period: DisclosurePeriod) -> str:
    """One member's line (HTML): name, paid through, status, and the amount when shown."""
    through = (
        catalog.plain(locale, "dues.disclose.through",
                      month=month_name(catalog, locale, line.status.paid_through, period.year))
        if line.status.paid_through is not None else catalog.plain(locale, "dues.disclose.none")
    )  # fmt: skip
    status = status_text(catalog, locale, line, period)
    if line.paid_fen is None:
        return catalog.t(locale, "dues.disclose.line", name=line.name, through=through,
                         status=status)  # fmt: skip
    return catalog.t(locale, "dues.disclose.line_amount", name=line.name, through=through,
                     status=status, amount=yuan(line.paid_fen))  # fmt: skip


def body_html(catalog: Catalog, locale: str, data: Disclosure) -> str:
    """The post's body: the period, the branch totals, the tally, every member's line."""
    period = data.period
    counts = {state: 0 for state in State}
    for line in data.lines:
        counts[line.status.state] += 1
    head = catalog.t(
        locale, "dues.disclose.head",
        first=month_name(catalog, locale, period.first_month, period.year),
        last=month_name(catalog, locale, period.last_month, period.year),
        due=yuan(data.due_fen), paid=yuan(data.paid_fen), remitted=yuan(data.remitted_fen),
        members=len(data.lines), clear=counts[State.CLEAR], advance=counts[State.ADVANCE],
        arrears=counts[State.ARREARS], exempt=counts[State.EXEMPT],
    )  # fmt: skip
    lines = [line_text(catalog, locale, line, period) for line in data.lines]
    if not lines:
        lines = [catalog.t(locale, "dues.disclose.nobody")]
    foot = catalog.t(locale, "dues.disclose.foot")
    return "\n\n".join((head, "\n".join(lines), foot))


def chart_png(catalog: Catalog, locale: str, data: Disclosure) -> bytes:
    """The monthly collection chart: what was due and what was paid each month (yuan), with
    the month's collection rate above its bars."""
    from matplotlib.figure import Figure

    def p(key: str, **params: object) -> str:
        return catalog.plain(locale, key, **params)

    period = data.period
    labels = [month_name(catalog, locale, f.month, period.year) for f in data.months]
    due = [f.due_fen / 100 for f in data.months]
    paid = [f.paid_fen / 100 for f in data.months]
    with chart_style():
        width = max(6.0, 1.0 + 0.75 * len(labels))
        fig = Figure(figsize=(width, 4.4), dpi=130)
        fig.text(0.02, 0.96, p("dues.disclose.chart_title", branch=data.org_name,
                               period=period_name(catalog, locale, period)),
                 fontsize=13, va="top")  # fmt: skip
        subtitle = p("dues.disclose.chart_subtitle", due=yuan(data.due_fen),
                     paid=yuan(data.paid_fen))  # fmt: skip
        fig.text(0.02, 0.885, subtitle, fontsize=9, color=GREY, va="top")
        ax = fig.add_axes((0.1, 0.12, 0.86, 0.64))
        xs = list(range(len(labels)))
        ax.bar(
            [x - 0.19 for x in xs], due, width=0.38, color=GOLD, label=p("dues.disclose.chart_due")
        )
        ax.bar(
            [x + 0.19 for x in xs], paid, width=0.38, color=RED, label=p("dues.disclose.chart_paid")
        )
        top = max([*due, *paid, 1.0])
        for x, d, g in zip(xs, due, paid, strict=True):
            rate = f"{round(100 * min(g / d, 1.0))}%" if d else "—"
            ax.text(x, max(d, g) + top * 0.03, rate, ha="center", fontsize=8, color=GREY)
        ax.set_xticks(xs, labels, fontsize=9)
        ax.set_ylim(0, top * 1.18)
        ax.set_ylabel(p("dues.disclose.chart_unit"), fontsize=9)
        ax.grid(axis="y", color="#e6e6e6", linewidth=0.8)
        ax.set_axisbelow(True)
        ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=2, frameon=False, fontsize=9)
        return figure_png(fig)


def render_post(catalog: Catalog, locale: str, data: Disclosure) -> DisclosurePost:
    """The post as it will be published (title, body, chart) in one language."""
    title = title_text(catalog, locale, data.org_name, data.period)
    return DisclosurePost(
        org_id=data.org_id, period_key=data.period.key, show_amounts=data.show_amounts,
        title=title, body_html=body_html(catalog, locale, data),
        chart_png=chart_png(catalog, locale, data),
        chart_filename=f"dues_{data.org_id}_{data.period.key}.png",
        chart_caption=catalog.t(locale, "dues.disclose.chart_caption",
                                period=period_name(catalog, locale, data.period)),
    )  # fmt: skip


def mode_text(catalog: Catalog, locale: str, show_amounts: bool) -> str:
    """Which mode is in force: statuses only, or with each member's amount."""
    return catalog.t(locale, "dues.disclose.mode_on" if show_amounts else "dues.disclose.mode_off")


def preview_parts(catalog: Catalog, locale: str, post: DisclosurePost) -> list[str]:
    """The preview: the title, the mode, then the post's body — split to fit messages."""
    text = "\n\n".join((
        catalog.t(locale, "dues.disclose.preview_head", title=post.title),
        mode_text(catalog, locale, post.show_amounts),
        Html(post.body_html),
    ))  # fmt: skip
    return split_html(text)


def preview_markup(catalog: Catalog, locale: str, org_id: int) -> InlineKeyboardMarkup:
    """确认发布 · 返回 · 取消"""
    return InlineKeyboardMarkup(
        [[button(catalog.plain(locale, "dues.disclose.publish"), DiscAct("ok"))],
         [button(catalog.plain(locale, "dues.disclose.back"), DiscOpen(org_id)),
          button(catalog.plain(locale, "wizard.cancel"), DiscAct("cancel"))]]
    )  # fmt: skip


def published_text(catalog: Catalog, locale: str, title: str, when: datetime, tz: ZoneInfo) -> str:
    """A period already published: when."""
    local = when.astimezone(tz)
    return catalog.t(locale, "dues.disclose.already_text", title=title,
                     when=when_text(catalog, locale, local))  # fmt: skip


def when_text(catalog: Catalog, locale: str, local: datetime) -> str:
    """ "2026年10月3日" / "3 Oct 2026"."""
    return catalog.plain(locale, "dues.disclose.date", year=local.year, month=local.month,
                         day=local.day)  # fmt: skip


def disclose_screen(
    catalog: Catalog, locale: str, menu: DiscloseMenu
) -> tuple[str, InlineKeyboardMarkup]:
    """A branch's 公示 screen: the mode in force, the periods (✓ published), the switch."""
    every = catalog.plain(locale, EVERY_KEYS.get(menu.disclosure_months, EVERY_KEYS[3]))
    text = "\n\n".join((
        catalog.t(locale, "dues.disclose.screen", branch=menu.org_name, every=every),
        mode_text(catalog, locale, menu.show_amounts),
    ))  # fmt: skip
    rows: list[list[InlineKeyboardButton]] = []
    for choice in menu.choices:
        name = period_name(catalog, locale, choice.period)
        key = "dues.disclose.choice_done" if choice.published else "dues.disclose.choice"
        rows.append([button(catalog.plain(locale, key, period=name),
                            DiscPick(menu.org_id, choice.period.key))])  # fmt: skip
    if menu.can_switch:
        key = "dues.disclose.amounts_off" if menu.show_amounts else "dues.disclose.amounts_on"
        rows.append([button(catalog.plain(locale, key),
                            DiscAmounts(menu.org_id, 0 if menu.show_amounts else 1))])  # fmt: skip
    rows.append([button(catalog.plain(locale, "wizard.cancel"), DiscAct("cancel"))])
    return text, InlineKeyboardMarkup(rows)


def reminder_text(catalog: Catalog, locale: str, branch: str, period: DisclosurePeriod) -> str:
    """The keeper's reminder that a disclosure is due."""
    return catalog.t(locale, "dues.disclose.reminder", branch=branch,
                     period=period_name(catalog, locale, period))  # fmt: skip
