"""党费台账: a branch's 党费交纳登记表 for a year (sent as a workbook), and a committee's roll-up
(totals by branch, with a chart of collection rates)."""

from __future__ import annotations

import asyncio

from handlers.common import today
from handlers.dues.common import MenuEntry, menu_entry, presses
from handlers.press import Press
from services.dues import dues_access
from services.dues_ledger import branch_register, committee_rollup, queue_ledger_file
from ui.deps import BotContext
from ui.dues_ledger import (
    LedgerOpen,
    ledger_menu,
    register_filename,
    register_xlsx,
    rollup_chart,
    rollup_text,
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


@presses.on(LedgerOpen, kind="menu")
async def open_ledgers(press: Press[LedgerOpen], context: BotContext) -> None:
    """党费台账: the registers and roll-ups the person may have, for a year."""
    access = await dues_access(context.deps.db, press.actor, today(context))
    text, markup = ledger_menu(context.deps.catalog, context.locale, access.views,
                               access.totals, _year(press, context))  # fmt: skip
    await press.edit(text, markup)


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
