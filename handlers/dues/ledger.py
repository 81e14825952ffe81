"""党费台账: a branch's 党费交纳登记表 for a year (sent as a workbook), and a committee's roll-up
(totals by branch, with a chart of collection rates)."""

from __future__ import annotations

import asyncio

from handlers.common import today
from handlers.dues.common import MenuEntry, menu_entry, presses
from handlers.dues.pickers import Chooser, chooser, show
from handlers.press import Press
from services.authz import Actor
from services.dues import dues_access
from services.dues_ledger import branch_register, committee_rollup, queue_ledger_file
from ui.deps import BotContext
from ui.dues_ledger import (
    LedgerOpen,
    ledger_items,
    ledger_label,
    register_filename,
    register_xlsx,
    rollup_chart,
    rollup_text,
    year_row,
)

menu_entry(
    MenuEntry(
        "dues.ledger.menu",
        data=lambda a: LedgerOpen("menu", 0, 0),
        shown=lambda a: bool(a.views or a.totals),
        order=60,
    )
)


def _year(press: Press[LedgerOpen], context: BotContext) -> int:
    return press.data.year or today(context).year


@chooser("ledger")
async def _ledgers(context: BotContext, actor: Actor, year: int) -> Chooser:
    """党费台账: a register per branch whose members one sees, then a roll-up per organization
    one sees as totals (a committee's hundreds of branches among them), paged and found by
    name; 上一年 / 下一年 under them."""
    access = await dues_access(context.deps.db, actor, today(context))
    items = ledger_items(access.views, access.totals)
    catalog, locale = context.deps.catalog, context.locale
    return Chooser(
        items, context.t("dues.ledger.menu_text", year=year), lambda item: item[1].name,
        lambda item: LedgerOpen(item[0], item[1].id, year),
        label=lambda item: ledger_label(catalog, locale, item, year),
        below=(tuple(year_row(catalog, locale, year)),),
    )  # fmt: skip


@presses.on(LedgerOpen, kind="menu")
async def open_ledgers(press: Press[LedgerOpen], context: BotContext) -> None:
    """党费台账: the registers and roll-ups the person may have, for a year."""
    await show(press, context, "ledger", _year(press, context))


@presses.on(LedgerOpen, kind="reg")
async def send_register(press: Press[LedgerOpen], context: BotContext) -> None:
    """A branch's 党费交纳登记表: written, then sent through the outbox (audited)."""
    db, catalog, locale, year = (
        context.deps.db,
        context.deps.catalog,
        context.locale,
        _year(press, context),
    )
    register = await branch_register(db, press.actor, press.data.org_id, year, today(context))
    data = await asyncio.to_thread(register_xlsx, catalog, locale, register)
    caption = catalog.t(locale, "dues.ledger.reg_caption", branch=register.org_name, year=year,
                        members=len(register.rows))  # fmt: skip
    await queue_ledger_file(
        db, press.actor, register.org_id, kind="register", year=year,
        filename=register_filename(catalog, locale, register), data=data, caption_html=caption,
        as_photo=False, now=context.deps.clock.now(), today=today(context),
    )  # fmt: skip
    context.deps.outbox.wake()
    await press.answer("dues.ledger.sending")


@presses.on(LedgerOpen, kind="sum")
async def send_rollup(press: Press[LedgerOpen], context: BotContext) -> None:
    """A committee's roll-up: the totals by branch on screen, the chart sent after."""
    db, catalog, locale, year = (
        context.deps.db,
        context.deps.catalog,
        context.locale,
        _year(press, context),
    )
    rollup = await committee_rollup(db, press.actor, press.data.org_id, year, today(context))
    await press.edit(rollup_text(catalog, locale, rollup))
    chart = await asyncio.to_thread(rollup_chart, catalog, locale, rollup)
    await queue_ledger_file(
        db, press.actor, rollup.org_id, kind="rollup", year=year,
        filename=f"dues_{rollup.org_id}_{year}.png", data=chart,
        caption_html=catalog.t(locale, "dues.ledger.chart_caption", org=rollup.org_name,
                               year=year),
        as_photo=True, now=context.deps.clock.now(), today=today(context),
    )  # fmt: skip
    context.deps.outbox.wake()
