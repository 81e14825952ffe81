"""党费公示: a branch's secretary or keeper chooses a period, sees the post and its chart exactly
as the group will, and publishes it (确认发布) as a notice with 收到; the keeper switches
per-member amounts on or off. Every press is re-authorized by its service."""

from __future__ import annotations

import asyncio

from telegram import InputFile

from domain.dues_disclose import STEPS, DisclosureDraft, start
from domain.wizard import Event, Refusal, apply
from handlers.common import today
from handlers.dues.common import MenuEntry, menu_entry, presses
from handlers.dues.pickers import Chooser, chooser, show
from handlers.press import Press
from services.authz import Actor
from services.drafts import clear_draft, keep_draft, open_draft
from services.dues import dues_access
from services.dues_disclose import (
    disclose_menu,
    disclosure,
    publish_disclosure,
    set_show_amounts,
)
from services.errors import ServiceError
from ui.deps import BotContext
from ui.dues_disclose import (
    DiscAct,
    DiscAmounts,
    DiscOpen,
    DiscPick,
    disclose_screen,
    preview_markup,
    preview_parts,
    published_text,
    render_post,
    when_text,
)

menu_entry(
    MenuEntry(
        "dues.disclose.menu",
        data=lambda a: DiscOpen(a.views[0].id if len(a.views) == 1 else 0),
        shown=lambda a: bool(a.views),
        order=55,
    )
)


async def _screen(press: Press[DiscOpen] | Press[DiscAmounts], org_id: int,
                  context: BotContext) -> None:  # fmt: skip
    menu = await disclose_menu(context.deps.db, press.actor, org_id, today(context))
    await keep_draft(context.deps.db, press.user_id, start(org_id), context.deps.clock.now())
    text, markup = disclose_screen(context.deps.catalog, context.locale, menu)
    await press.edit(text, markup)


@presses.on(DiscOpen)
async def open_screen(press: Press[DiscOpen], context: BotContext) -> None:
    """党费公示: the branch's screen (or, for several branches, which one)."""
    if press.data.org_id:
        await _screen(press, press.data.org_id, context)
        return
    access = await dues_access(context.deps.db, press.actor, today(context))
    if not access.views:
        raise ServiceError("auth.view_dues")
    if len(access.views) == 1:
        await _screen(press, access.views[0].id, context)
        return
    await show(press, context, "disclose", 0)  # which one: every branch, paged, found by name


@chooser("disclose")
async def _disclose_branches(context: BotContext, actor: Actor, key: int) -> Chooser:
    """党费公示 for someone who keeps or sees several branches (a committee's hundreds): every
    one, paged and found by name."""
    access = await dues_access(context.deps.db, actor, today(context))
    if not access.views:
        raise ServiceError("auth.view_dues")
    question = context.t("dues.disclose.choose_branch")
    return Chooser(access.views, question, lambda o: o.name, lambda o: DiscOpen(o.id))


@presses.on(DiscAmounts)
async def switch_amounts(press: Press[DiscAmounts], context: BotContext) -> None:
    """显示金额 / 不显示金额: the keeper's switch (audited), then the screen again."""
    shown = await set_show_amounts(
        context.deps.db, press.actor, press.data.org_id, bool(press.data.on),
        now=context.deps.clock.now(), today=today(context),
    )  # fmt: skip
    await press.answer("dues.disclose.amounts_now_on" if shown else "dues.disclose.amounts_now_off")
    await _screen(press, press.data.org_id, context)


@presses.on(DiscPick)
async def pick_period(press: Press[DiscPick], context: BotContext) -> None:
    """A period: the post previewed as the group will get it, chart first; or, if it was
    published already, when."""
    db, catalog, locale = context.deps.db, context.deps.catalog, context.locale
    data = await disclosure(db, press.actor, press.data.org_id, press.data.period, today(context))
    if data.published is not None:
        title = render_post(catalog, locale, data).title
        await press.edit(published_text(catalog, locale, title, data.published.published_at,
                                        context.deps.settings.timezone))  # fmt: skip
        return
    current = await open_draft(db, press.user_id, DisclosureDraft)
    draft = (
        current
        if isinstance(current, DisclosureDraft) and current.org_id == press.data.org_id
        else start(press.data.org_id)
    )
    local_now = context.deps.clock.now().astimezone(context.deps.settings.timezone)
    event = Event("pick", int(data.show_amounts), press.data.period)
    result = apply(STEPS, draft, event, local_now)
    if isinstance(result, Refusal):
        raise ServiceError(result.code, **result.params)
    await keep_draft(db, press.user_id, result, context.deps.clock.now())
    post = await asyncio.to_thread(render_post, catalog, locale, data)
    await press.answer()
    await press.edit(context.t("dues.disclose.preview_intro"))
    await context.bot.send_photo(
        press.user_id, InputFile(post.chart_png, filename=post.chart_filename),
        caption=post.chart_caption,
    )  # fmt: skip
    parts = preview_parts(catalog, locale, post)
    for index, part in enumerate(parts):
        markup = preview_markup(catalog, locale, data.org_id) if index == len(parts) - 1 else None
        await context.bot.send_message(press.user_id, part, reply_markup=markup)


@presses.on(DiscAct, action="ok")
async def publish(press: Press[DiscAct], context: BotContext) -> None:
    """确认发布: published to the branch's group through the outbox, the chart after it."""
    db, catalog, locale = context.deps.db, context.deps.catalog, context.locale
    draft = await open_draft(db, press.user_id, DisclosureDraft)
    if not isinstance(draft, DisclosureDraft) or draft.step != "pre":
        raise ServiceError("stale")
    data = await disclosure(db, press.actor, draft.org_id, draft.period_key, today(context))
    post = await asyncio.to_thread(render_post, catalog, locale, data)
    try:
        done = await publish_disclosure(db, press.actor, post, now=context.deps.clock.now(),
                                        today=today(context))  # fmt: skip
    except ServiceError as exc:
        when = exc.params.get("published_at")
        if exc.code == "dues.disclose.already" and when is not None:
            local = when.astimezone(context.deps.settings.timezone)  # type: ignore[attr-defined]
            raise ServiceError(exc.code, when=when_text(catalog, locale, local)) from None
        raise
    context.deps.outbox.wake()
    await press.answer()
    await press.drop_buttons()
    await context.bot.send_message(
        press.user_id, context.t("dues.disclose.published", title=done.title, groups=done.groups,
                                 expected=done.expected)
    )  # fmt: skip


@presses.on(DiscAct, action="cancel")
async def cancel(press: Press[DiscAct], context: BotContext) -> None:
    """取消: the disclosure draft forgotten, nothing published."""
    await clear_draft(context.deps.db, press.user_id, DisclosureDraft.FLOW)
    await press.answer()
    await press.edit(context.t("wizard.cancelled"))
