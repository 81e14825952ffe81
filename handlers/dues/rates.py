"""党费计算标准: a committee's keeper or admin sees the table in force and adjusts it for the
locality (a typed draft: a bracket's bound and rate, the fixed amounts, or back to the table
from above), previews old against new and confirms; audited by the service."""

from __future__ import annotations

from telegram import Update

from domain.dues_rates import RATES_STEPS, RatesDraft
from domain.wizard import Event, Refusal, apply
from handlers.common import today
from handlers.dues.common import MenuEntry, menu_entry, presses
from handlers.dues.pickers import Chooser, chooser, show
from handlers.press import Press
from handlers.wizard import WizardRouter, typed_draft
from services.authz import Actor
from services.drafts import DraftView, Outdated, clear_draft, keep_draft, open_draft
from services.dues import dues_access
from services.dues_rates import rates_of, save_rates, start_rates
from services.errors import ServiceError
from ui.deps import BotContext
from ui.dues_rates import (
    RatesEdit,
    RatesOpen,
    RatesStep,
    draft_screen,
    rates_screen,
    saved_text,
)
from ui.errors import error_key

menu_entry(
    MenuEntry(
        "dues.rates.menu",
        data=lambda a: RatesOpen(a.rates[0].id if len(a.rates) == 1 else 0),
        shown=lambda a: bool(a.rates),
        order=70,
    )
)


@chooser("rates")
async def _rate_committees(context: BotContext, actor: Actor, key: int) -> Chooser:
    """党费计算标准 for someone who may adjust several committees' tables: every one, paged
    and found by name."""
    access = await dues_access(context.deps.db, actor, today(context))
    if not access.rates:
        raise ServiceError("auth.keep_dues")
    question = context.t("dues.rates.choose")
    return Chooser(access.rates, question, lambda o: o.name, lambda o: RatesOpen(o.id))


@presses.on(RatesOpen)
async def open_rates(press: Press[RatesOpen], context: BotContext) -> None:
    """党费计算标准: the committee's table in force (first the committee, when several)."""
    catalog, locale = context.deps.catalog, context.locale
    if press.data.org_id == 0:
        await show(press, context, "rates", 0)
        return
    view = await rates_of(context.deps.db, press.actor, press.data.org_id, today(context))
    text, markup = rates_screen(catalog, locale, view)
    await press.edit(text, markup)


@presses.on(RatesEdit)
async def edit(press: Press[RatesEdit], context: BotContext) -> None:
    """修改: the table as a draft, with a button per bracket and for the fixed amounts."""
    draft, _view = await start_rates(context.deps.db, press.actor, press.data.org_id,
                                     context.deps.clock.now(), today(context))  # fmt: skip
    await press.answer()
    text, markup = draft_screen(context.deps.catalog, context.locale, draft)
    await press.edit(text, markup)


@presses.on(RatesStep, action=("bracket", "fixed", "inherit", "preview", "keep", "back"))
async def move(press: Press[RatesStep], context: BotContext) -> None:
    """A button of the draft's current step (an older screen's button is refused as stale)."""
    draft = await open_draft(context.deps.db, press.user_id, RatesDraft)
    if isinstance(draft, Outdated):
        await press.answer("wizard.outdated", alert=True)
        return
    if draft is None:
        await press.refuse("stale")
        return
    moved = apply(RATES_STEPS, draft, Event(press.data.action, press.data.value),
                  context.deps.clock.now())  # fmt: skip
    if isinstance(moved, Refusal):
        await press.refuse(moved.code, **moved.params)
        return
    await keep_draft(context.deps.db, press.user_id, moved, context.deps.clock.now())
    await press.answer()
    text, markup = draft_screen(context.deps.catalog, context.locale, moved)
    await press.edit(text, markup)


@presses.on(RatesStep, action="ok")
async def confirm(press: Press[RatesStep], context: BotContext) -> None:
    """确认: saved (once: the draft goes with the change)."""
    saved = await save_rates(context.deps.db, press.actor, context.deps.clock.now(),
                             today(context))  # fmt: skip
    await press.answer()
    await press.edit(saved_text(context.deps.catalog, context.locale, saved))


@presses.on(RatesStep, action="cancel")
async def cancel(press: Press[RatesStep], context: BotContext) -> None:
    """取消: nothing changes."""
    await clear_draft(context.deps.db, press.user_id, RatesDraft.FLOW)
    await press.answer()
    await press.edit(context.t("wizard.cancelled"))


async def typed_rates(update: Update, context: BotContext, _view: DraftView) -> None:
    """A typed bound, rate or amount: the next screen, or why not and the question again."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    draft = await typed_draft(update, context, RatesDraft)
    if draft is None:
        return
    moved = apply(RATES_STEPS, draft, Event("text", text=message.text or ""),
                  context.deps.clock.now())  # fmt: skip
    if isinstance(moved, Refusal):
        text, markup = draft_screen(context.deps.catalog, context.locale, draft)
        key = "dues.rates.use_buttons" if moved.code == "stale" else error_key(moved.code, "dues")
        await message.reply_text(context.t(key, **moved.params) + "\n\n" + text,
                                 reply_markup=markup)  # fmt: skip
        return
    await keep_draft(context.deps.db, user.id, moved, context.deps.clock.now())
    text, markup = draft_screen(context.deps.catalog, context.locale, moved)
    await message.reply_text(text, reply_markup=markup)


def register(router: WizardRouter) -> None:
    """The draft's typed answers."""
    router.on_text(RatesDraft.FLOW, typed_rates)
