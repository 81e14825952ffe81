"""/notice: the composer. A press or a typed answer is an event applied to the typed draft
(domain.notices.STEPS); the result is saved and its step's question shown."""

from __future__ import annotations

from dataclasses import replace

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.ext import ApplicationHandlerStop

from domain.notices import (
    STEPS,
    TYPED,
    NoticeDraft,
    NoticeEditDraft,
    choose_org,
    publish_check,
    start,
    with_body,
)
from domain.wizard import DraftFormatError, Event, Refusal, apply, load
from handlers.common import actor_of, is_private, today
from handlers.notices.common import button, local_now, presses
from handlers.notices.preview import publish, send_preview
from handlers.notices.screens import roots, screen
from handlers.press import Press
from services.authz import Actor
from services.drafts import (
    DraftView,
    Outdated,
    clear_draft,
    get_draft,
    keep_draft,
    open_draft,
)
from services.errors import ServiceError
from services.notices import audience_of
from services.notices_admin import audience_preview, branches_under
from ui.deps import BotContext
from ui.errors import error_key
from ui.notices import NoticeStep

FLOW = NoticeDraft.FLOW


async def notice_command(update: Update, context: BotContext) -> None:
    """/notice: start composing a notice (or offer to continue the unfinished one)."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    if not is_private(update):
        await message.reply_text(context.t("notice.use_private"))
        return
    actor = actor_of(context, user)
    if not await roots(context, actor):
        await message.reply_text(context.t("notice.not_allowed"))
        return
    draft = await open_draft(context.deps.db, user.id, NoticeDraft)
    if isinstance(draft, NoticeDraft):
        title = draft.title or context.plain("notice.untitled")
        keyboard = [
            [
                button(context.plain("notice.resume"), NoticeStep("go", "resume")),
                button(context.plain("notice.restart"), NoticeStep("go", "new")),
            ]
        ]
        await message.reply_text(
            context.t("notice.unfinished", title=title),
            reply_markup=InlineKeyboardMarkup(keyboard),
        )
        return
    if isinstance(draft, Outdated):
        await message.reply_text(context.t("wizard.outdated"))
    await begin(context, actor)


async def begin(context: BotContext, actor: Actor, press: Press[NoticeStep] | None = None) -> None:
    """Ask the first question of a new draft (no org step for one organization)."""
    orgs = await roots(context, actor)
    if not orgs:
        raise ServiceError("auth.send_notice")
    draft = start(single_org=len(orgs) == 1)
    if len(orgs) == 1:
        draft = choose_org(draft, orgs[0].id, orgs[0].name, orgs[0].level)
    await ask(context, actor, draft, press=press)


async def ask(
    context: BotContext,
    actor: Actor,
    draft: NoticeDraft,
    error: str = "",
    press: Press[NoticeStep] | None = None,
) -> None:
    """Save the draft and send its step's question as a new message; a press is answered
    and loses its buttons only once the question could be built (a refusal must still be
    answerable)."""
    if draft.step == "pre":
        await send_preview(context, actor, draft, error, press)
        return
    text, markup, draft = await screen(context, actor, draft, error)
    await keep_draft(context.deps.db, actor.user_id, draft, context.deps.clock.now())
    if press is not None:
        await press.answer()
        await press.drop_buttons()
    await context.bot.send_message(actor.user_id, text, reply_markup=markup)


async def _show(press: Press[NoticeStep], context: BotContext, draft: NoticeDraft) -> None:
    """The step a press led to: in place, or below when the preview is involved."""
    if draft.step == "pre" or press.data.step == "pre":
        # The preview is a series of messages: it and what follows it come below.
        await ask(context, press.actor, draft, press=press)
        return
    text, markup, draft = await screen(context, press.actor, draft)
    await keep_draft(context.deps.db, press.user_id, draft, context.deps.clock.now())
    await press.answer()
    await press.edit(text, markup)


async def _outdated(context: BotContext, actor: Actor) -> None:
    """A draft of an older release was dropped: say so and start again."""
    await context.bot.send_message(actor.user_id, context.t("wizard.outdated"))
    await begin(context, actor)


async def _current(press: Press[NoticeStep], context: BotContext) -> NoticeDraft | None:
    """The open draft, if the press belongs to its step (else refused as stale)."""
    draft = await open_draft(context.deps.db, press.user_id, NoticeDraft)
    if isinstance(draft, Outdated):
        await press.answer()
        await _outdated(context, press.actor)
        return None
    if draft is None or draft.step != press.data.step:
        await press.refuse("stale")
        return None
    return draft


async def _apply(press: Press[NoticeStep], context: BotContext, draft: NoticeDraft) -> None:
    event = Event(press.data.action, press.data.value)
    result = apply(STEPS, draft, event, local_now(context))
    if isinstance(result, Refusal):
        await press.refuse(result.code)
        return
    await _show(press, context, result)


# ---- presses: the special ones first, every other step action through the table ----


@presses.on(NoticeStep, step="pre", action="pvack")
async def preview_ack(press: Press[NoticeStep], context: BotContext) -> None:
    """The 收到 button on the preview: it only shows what members will press."""
    await press.answer("notice.preview_ack", alert=True)


@presses.on(NoticeStep, step="go", action="resume")
async def resume(press: Press[NoticeStep], context: BotContext) -> None:
    """继续填写: the unfinished draft's question again."""
    if not await roots(context, press.actor):
        raise ServiceError("auth.send_notice")
    draft = await open_draft(context.deps.db, press.user_id, NoticeDraft)
    if isinstance(draft, NoticeDraft):
        await ask(context, press.actor, draft, press=press)
    else:
        await begin(context, press.actor, press)


@presses.on(NoticeStep, step="go", action="new")
async def restart(press: Press[NoticeStep], context: BotContext) -> None:
    """重新开始: a new draft replaces the unfinished one."""
    await begin(context, press.actor, press)


@presses.on(NoticeStep, action="x")
async def cancel(press: Press[NoticeStep], context: BotContext) -> None:
    """取消 on any step: the draft is dropped."""
    if not await clear_draft(context.deps.db, press.user_id, FLOW):
        raise ServiceError("stale")
    await press.answer()
    await press.edit(context.t("notice.cancelled"))


@presses.on(NoticeStep, step="org", action="pick")
async def pick_org(press: Press[NoticeStep], context: BotContext) -> None:
    """An organization to send for: one the sender may still notify."""
    draft = await _current(press, context)
    if draft is None:
        return
    org = next((o for o in await roots(context, press.actor) if o.id == press.data.value), None)
    if org is None:
        raise ServiceError("auth.send_notice")
    await _show(press, context, choose_org(draft, org.id, org.name, org.level))


@presses.on(NoticeStep, step="br", action="tb")
async def toggle_branch(press: Press[NoticeStep], context: BotContext) -> None:
    """A branch in or out of the audience: a new one must be under the organization."""
    draft = await _current(press, context)
    if draft is None:
        return
    branch = press.data.value
    if branch not in draft.targets:
        assert draft.org_id is not None
        found = await branches_under(
            context.deps.db, press.actor, draft.org_id, [branch], today(context)
        )
        if not found:
            raise ServiceError("stale")
    await _apply(press, context, draft)


@presses.on(NoticeStep, step="pg", action="pick")
async def pick_party_group(press: Press[NoticeStep], context: BotContext) -> None:
    """One party group of the branch (0: the whole branch)."""
    draft = await _current(press, context)
    if draft is None:
        return
    if press.data.value:
        preview = await audience_preview(
            context.deps.db, press.actor, audience_of(draft), today(context)
        )
        if press.data.value not in {g.id for g in preview.party_groups}:
            raise ServiceError("stale")
    await _apply(press, context, draft)


@presses.on(NoticeStep, step="pre", action="ok")
async def confirm(press: Press[NoticeStep], context: BotContext) -> None:
    """确认发布: times re-checked (the preview may have been left open), then published."""
    draft = await _current(press, context)
    if draft is None:
        return
    late = publish_check(draft, context.deps.clock.now())
    if late is not None:
        step, refusal = late
        await ask(context, press.actor, replace(draft, step=step), _words(refusal), press)
        return
    await publish(press, context)


@presses.on(NoticeStep)
async def step_action(press: Press[NoticeStep], context: BotContext) -> None:
    """Any other button of a step: the transition its table lists (else stale)."""
    draft = await _current(press, context)
    if draft is not None:
        await _apply(press, context, draft)


# ---- typed answers and media ----


def _words(refusal: Refusal) -> str:
    return error_key(refusal.code, "notices")


async def _typed_draft(context: BotContext, actor: Actor, view: DraftView) -> NoticeDraft | None:
    try:
        return load(NoticeDraft, view.data)
    except DraftFormatError:
        await clear_draft(context.deps.db, actor.user_id, FLOW)
        await _outdated(context, actor)
        return None


async def typed_answer(update: Update, context: BotContext, view: DraftView) -> None:
    """A typed title, body, deadline or send time for the open /notice wizard."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    actor = actor_of(context, user)
    try:
        draft = await _typed_draft(context, actor, view)
        if draft is not None:
            await _on_typed(message, context, actor, draft)
    except ServiceError as exc:
        await clear_draft(context.deps.db, user.id, FLOW)
        await message.reply_text(context.t(error_key(exc.code, "notices")))


async def _on_typed(
    message: Message, context: BotContext, actor: Actor, draft: NoticeDraft
) -> None:
    if draft.step == "body":
        await _take_body(message, context, actor, draft)
    elif draft.step == "pre":
        # Re-sending the whole preview for a stray message would bury the buttons.
        await message.reply_text(context.t(error_key("notice.use_buttons", "notices")))
    elif draft.step in TYPED:
        result = apply(STEPS, draft, Event("text", text=message.text or ""), local_now(context))
        if isinstance(result, Refusal):
            await ask(context, actor, draft, _words(result))
        else:
            await ask(context, actor, result)
    else:
        await ask(context, actor, draft, error_key("notice.use_buttons", "notices"))


async def _take_body(
    message: Message, context: BotContext, actor: Actor, draft: NoticeDraft
) -> None:
    """The sender's message becomes the body: formatted text, or a photo or file with caption."""
    if message.photo:
        result = with_body(draft, message.caption_html or "", "photo", message.photo[-1].file_id)
    elif message.document:
        file_id = message.document.file_id
        result = with_body(draft, message.caption_html or "", "document", file_id)
    else:
        # text_html is Telegram's own rendering of the sender's formatting: safe to resend.
        result = with_body(draft, message.text_html if message.text else "")
    if isinstance(result, Refusal):
        await ask(context, actor, draft, _words(result))
    else:
        await ask(context, actor, result)


async def media_received(update: Update, context: BotContext) -> None:
    """A private photo or file: the body of an open notice, else left for other features."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    view = await get_draft(context.deps.db, user.id)
    if view is None or view.flow not in (FLOW, NoticeEditDraft.FLOW):
        return
    if view.flow != FLOW:
        await message.reply_text(context.t("notice.edit.text_only"))
        raise ApplicationHandlerStop
    actor = actor_of(context, user)
    try:
        draft = await _typed_draft(context, actor, view)
        if draft is not None and draft.step == "body":
            await _take_body(message, context, actor, draft)
        elif draft is not None:
            await ask(context, actor, draft, error_key("notice.no_media_here", "notices"))
    except ServiceError as exc:
        await clear_draft(context.deps.db, user.id, FLOW)
        await message.reply_text(context.t(error_key(exc.code, "notices")))
    raise ApplicationHandlerStop
