"""减免党费: a branch keeper records a hardship reduction or exemption (a typed draft with a
paging member picker), lists the branch's records and ends one early; the member is told
privately. Every press is re-authorized by its service."""

from __future__ import annotations

from datetime import datetime

from telegram import InlineKeyboardMarkup, Update

from domain.dues import month_of
from domain.dues_exempt import EXEMPT_STEPS, ExemptDraft, ending
from domain.wizard import Event, Refusal, apply
from handlers.common import actor_of, today
from handlers.dues.common import MenuEntry, menu_entry, presses
from handlers.dues.pickers import Chooser, chooser, show
from handlers.press import Press
from handlers.wizard import WizardRouter, typed_draft
from services.authz import Actor
from services.drafts import DraftView, Outdated, clear_draft, keep_draft, open_draft
from services.dues import dues_access
from services.dues_exempt import (
    branch_exemptions,
    candidates,
    end_exemption,
    exempt_branch,
    exemption_of,
    pick,
    record_exemption,
    standard_for,
    start_exemption,
)
from services.errors import ServiceError
from ui.deps import BotContext
from ui.dues_exempt import (
    ExemptEnd,
    ExemptList,
    ExemptNew,
    ExemptOpen,
    ExemptStep,
    branch_screen,
    end_screen,
    end_told,
    ended_text,
    list_screen,
    member_told,
    picker_screen,
    recorded_text,
    step_screen,
)
from ui.errors import error_key

menu_entry(
    MenuEntry(
        "dues.exempt.menu",
        data=lambda a: ExemptOpen(a.keeps[0].id if len(a.keeps) == 1 else 0),
        shown=lambda a: bool(a.keeps),
        order=40,
    )
)


async def _screen(
    context: BotContext, actor: Actor, draft: ExemptDraft
) -> tuple[str, InlineKeyboardMarkup]:
    """The draft's step: the picker (a page read from the roster), a question, the preview."""
    catalog, locale, db = context.deps.catalog, context.locale, context.deps.db
    if draft.step == "member":
        page = await candidates(db, actor, draft.org_id, draft.query, draft.page, today(context))
        return picker_screen(catalog, locale, page)
    standard = None
    if draft.step == "confirm":
        standard = await standard_for(db, actor, draft, today(context))
    return step_screen(catalog, locale, draft, _local_now(context), standard)


def _local_now(context: BotContext) -> datetime:
    """Now in the bot's time zone (本月 is this month there)."""
    return context.deps.clock.now().astimezone(context.deps.settings.timezone)


@chooser("exempt")
async def _exempt_branches(context: BotContext, actor: Actor, key: int) -> Chooser:
    """减免党费 for a keeper of several branches: every one, paged and found by name."""
    access = await dues_access(context.deps.db, actor, today(context))
    if not access.keeps:
        raise ServiceError("auth.keep_dues")
    question = context.t("dues.exempt.choose_branch")
    return Chooser(access.keeps, question, lambda o: o.name, lambda o: ExemptOpen(o.id))


@presses.on(ExemptOpen)
async def open_exempt(press: Press[ExemptOpen], context: BotContext) -> None:
    """减免党费: 登记减免 / 减免记录 (first the branch, for a keeper of several)."""
    catalog, locale = context.deps.catalog, context.locale
    if press.data.org_id == 0:
        await show(press, context, "exempt", 0)
        return
    name = await exempt_branch(context.deps.db, press.actor, press.data.org_id, today(context))
    text, markup = branch_screen(catalog, locale, press.data.org_id, name)
    await press.edit(text, markup)


@presses.on(ExemptNew)
async def new(press: Press[ExemptNew], context: BotContext) -> None:
    """登记减免: the member picker."""
    draft = await start_exemption(context.deps.db, press.actor, press.data.org_id,
                                  context.deps.clock.now(), today(context))  # fmt: skip
    text, markup = await _screen(context, press.actor, draft)
    await press.answer()
    await press.edit(text, markup)


@presses.on(ExemptStep, action=("page", "pick", "kind", "month", "span", "today", "back"))
async def move(press: Press[ExemptStep], context: BotContext) -> None:
    """A button of the draft's current step (an older screen's button is refused as stale)."""
    draft = await open_draft(context.deps.db, press.user_id, ExemptDraft)
    if isinstance(draft, Outdated):
        await press.answer("wizard.outdated", alert=True)
        return
    if draft is None:
        await press.refuse("stale")
        return
    event = Event(press.data.action, press.data.value)
    if press.data.action == "pick" and draft.step == "member":
        name = await pick(context.deps.db, press.actor, draft.org_id, press.data.value,
                          today(context))  # fmt: skip
        event = Event("pick", press.data.value, name)
    moved = apply(EXEMPT_STEPS, draft, event, _local_now(context))
    if isinstance(moved, Refusal):
        await press.refuse(moved.code, **moved.params)
        return
    await keep_draft(context.deps.db, press.user_id, moved, context.deps.clock.now())
    text, markup = await _screen(context, press.actor, moved)
    await press.answer()
    await press.edit(text, markup)


@presses.on(ExemptStep, action="ok")
async def confirm(press: Press[ExemptStep], context: BotContext) -> None:
    """确认: recorded (once: the draft goes with it); the member told privately."""
    draft = await open_draft(context.deps.db, press.user_id, ExemptDraft)
    if not isinstance(draft, ExemptDraft):
        await press.refuse("stale")
        return
    catalog = context.deps.catalog
    html = member_told(catalog, catalog.default_locale, draft)
    view = await record_exemption(context.deps.db, press.actor, member_html=html,
                                  now=context.deps.clock.now(), today=today(context))  # fmt: skip
    context.deps.outbox.wake()
    await press.answer()
    await press.edit(recorded_text(catalog, context.locale, view))


@presses.on(ExemptStep, action="cancel")
async def cancel(press: Press[ExemptStep], context: BotContext) -> None:
    """取消: nothing recorded."""
    await clear_draft(context.deps.db, press.user_id, ExemptDraft.FLOW)
    await press.answer()
    await press.edit(context.t("wizard.cancelled"))


async def typed_exempt(update: Update, context: BotContext, _view: DraftView) -> None:
    """Typed part of a name, an amount, a month, a day, the approver or the reason."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    draft = await typed_draft(update, context, ExemptDraft)
    if draft is None:
        return
    actor = actor_of(context, user)
    moved = apply(EXEMPT_STEPS, draft, Event("text", text=message.text or ""),
                  _local_now(context))  # fmt: skip
    try:
        if isinstance(moved, Refusal):
            text, markup = await _screen(context, actor, draft)
            key = "dues.exempt.use_buttons" if moved.code == "stale" else error_key(
                moved.code, "dues")  # fmt: skip
            await message.reply_text(context.t(key, **moved.params) + "\n\n" + text,
                                     reply_markup=markup)  # fmt: skip
            return
        await keep_draft(context.deps.db, user.id, moved, context.deps.clock.now())
        text, markup = await _screen(context, actor, moved)
    except ServiceError as exc:
        await message.reply_text(context.t(error_key(exc.code, "dues"), **exc.params))
        return
    await message.reply_text(text, reply_markup=markup)


@presses.on(ExemptList)
async def show_list(press: Press[ExemptList], context: BotContext) -> None:
    """减免记录: current and coming records (each with 结束), then past ones."""
    records = await branch_exemptions(context.deps.db, press.actor, press.data.org_id,
                                      today(context))  # fmt: skip
    text, markup = list_screen(context.deps.catalog, context.locale, records)
    await press.edit(text, markup)


@presses.on(ExemptEnd, action="ask")
async def ask_end(press: Press[ExemptEnd], context: BotContext) -> None:
    """结束: what it will do, with 确认结束."""
    view = await exemption_of(context.deps.db, press.actor, press.data.exemption_id,
                              today(context))  # fmt: skip
    this = month_of(today(context))
    done = ending(view.from_month, view.until_month, this)
    if done == "over":
        await press.refuse("dues.exempt.over")
        return
    text, markup = end_screen(context.deps.catalog, context.locale, view, done, this)
    await press.edit(text, markup)


@presses.on(ExemptEnd, action="ok")
async def end(press: Press[ExemptEnd], context: BotContext) -> None:
    """确认结束: ended (or withdrawn), audited; the member told. A second press is refused."""
    catalog, db, day = context.deps.catalog, context.deps.db, today(context)
    view = await exemption_of(db, press.actor, press.data.exemption_id, day)
    this = month_of(day)
    planned = ending(view.from_month, view.until_month, this)
    if planned == "over":
        raise ServiceError("dues.exempt.over")
    html = end_told(catalog, catalog.default_locale, view, planned, this)
    done, before = await end_exemption(db, press.actor, view.id, member_html=html,
                                       now=context.deps.clock.now(), today=day)  # fmt: skip
    context.deps.outbox.wake()
    await press.answer()
    await press.edit(ended_text(catalog, context.locale, before, done, this))


def register(router: WizardRouter) -> None:
    """The draft's typed answers."""
    router.on_text(ExemptDraft.FLOW, typed_exempt)
