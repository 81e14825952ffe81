"""/form: the forms builder. A press or a typed answer is an event applied to the typed draft
(domain.forms_builder.STEPS); the result is saved and its step's question shown. Starting from
a template, an earlier form or an uploaded sheet brings in what the table cannot know."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.ext import Application, CommandHandler

from domain.forms_builder import (
    STEPS,
    TYPED,
    BuildDraft,
    choose_org,
    from_form,
    from_guesses,
    from_template,
    start,
)
from domain.wizard import DraftFormatError, Event, Refusal, apply, load
from handlers.common import actor_of, is_private, today
from handlers.forms.common import MEDIA_STEPS, presses
from handlers.press import Press
from handlers.wizard import WizardRouter
from services.authz import Actor
from services.drafts import DraftView, Outdated, clear_draft, keep_draft, open_draft
from services.errors import ServiceError
from services.forms_builder import (
    MAX_FILE_BYTES,
    SheetError,
    builder_orgs,
    earlier_form,
    publish_built,
    questions_from_table,
)
from services.notices import Audience
from services.notices_admin import audience_preview, branches_under
from ui.deps import BotContext
from ui.errors import error_key
from ui.forms import TEMPLATES, template_form
from ui.forms_builder import FormBuild, button, preview_messages, published_text, screen

FLOW = BuildDraft.FLOW


def _words(code: str) -> str:
    return error_key(code, "forms")


def local_now(context: BotContext) -> datetime:
    """Now on the sender's clock (the bot's time zone): what typed times are read against."""
    return context.deps.clock.now().astimezone(context.deps.settings.timezone)


async def form_command(update: Update, context: BotContext) -> None:
    """/form: start building a form (or offer to continue the unfinished one)."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    if not is_private(update):
        await message.reply_text(context.t("form.build.use_private"))
        return
    actor = actor_of(context, user)
    if not await builder_orgs(context.deps.db, actor, today(context)):
        await message.reply_text(context.t("form.build.not_allowed"))
        return
    draft = await open_draft(context.deps.db, user.id, BuildDraft)
    if isinstance(draft, BuildDraft):
        title = draft.title or context.plain("form.build.untitled")
        keyboard = [
            [
                button(context.plain("notice.resume"), FormBuild("go", "resume")),
                button(context.plain("notice.restart"), FormBuild("go", "new")),
            ]
        ]
        await message.reply_text(
            context.t("form.build.unfinished", title=title),
            reply_markup=InlineKeyboardMarkup(keyboard),
        )
        return
    if isinstance(draft, Outdated):
        await message.reply_text(context.t("wizard.outdated"))
    await begin(context, actor)


async def begin(context: BotContext, actor: Actor, press: Press[FormBuild] | None = None) -> None:
    """Ask the first question of a new draft (no org step for one organization)."""
    orgs = await builder_orgs(context.deps.db, actor, today(context))
    if not orgs:
        raise ServiceError("auth.send_notice")
    draft = start(single_org=len(orgs) == 1)
    if len(orgs) == 1:
        draft = choose_org(draft, orgs[0].id, orgs[0].name, orgs[0].level)
    await ask(context, actor, draft, press=press)


async def ask(
    context: BotContext,
    actor: Actor,
    draft: BuildDraft,
    error: str = "",
    press: Press[FormBuild] | None = None,
) -> None:
    """Save the draft and send its step's question as a new message (the preview as several);
    a press loses its buttons only once the question could be built."""
    if draft.step == "pre":
        parts, summary, markup = await preview_messages(context, actor, draft)
        await keep_draft(context.deps.db, actor.user_id, draft, context.deps.clock.now())
        if press is not None:
            await press.answer()
            await press.drop_buttons()
        if error:
            await context.bot.send_message(actor.user_id, context.t(error))
        for part in parts:
            await context.bot.send_message(actor.user_id, part)
        await context.bot.send_message(actor.user_id, summary, reply_markup=markup)
        return
    text, markup, draft = await screen(context, actor, draft, error)
    await keep_draft(context.deps.db, actor.user_id, draft, context.deps.clock.now())
    if press is not None:
        await press.answer()
        await press.drop_buttons()
    await context.bot.send_message(actor.user_id, text, reply_markup=markup)


async def _show(press: Press[FormBuild], context: BotContext, draft: BuildDraft) -> None:
    """The step a press led to: in place, or below when the preview is involved."""
    if draft.step == "pre" or press.data.step == "pre":
        await ask(context, press.actor, draft, press=press)
        return
    text, markup, draft = await screen(context, press.actor, draft)
    await keep_draft(context.deps.db, press.user_id, draft, context.deps.clock.now())
    await press.answer()
    await press.edit(text, markup)


async def _current(press: Press[FormBuild], context: BotContext) -> BuildDraft | None:
    """The open draft, if the press belongs to its step (else refused as stale)."""
    draft = await open_draft(context.deps.db, press.user_id, BuildDraft)
    if isinstance(draft, Outdated):
        await press.answer()
        await context.bot.send_message(press.user_id, context.t("wizard.outdated"))
        await begin(context, press.actor)
        return None
    if draft is None or draft.step != press.data.step:
        await press.refuse("stale")
        return None
    return draft


async def _apply(press: Press[FormBuild], context: BotContext, draft: BuildDraft) -> None:
    event = Event(press.data.action, press.data.value)
    result = apply(STEPS, draft, event, local_now(context))
    if isinstance(result, Refusal):
        await press.refuse(result.code)
        return
    await _show(press, context, result)


# ---- presses: the special ones first, every other step action through the table ----


@presses.on(FormBuild, step="go", action="resume")
async def resume(press: Press[FormBuild], context: BotContext) -> None:
    """继续: the unfinished draft's question again."""
    if not await builder_orgs(context.deps.db, press.actor, today(context)):
        raise ServiceError("auth.send_notice")
    draft = await open_draft(context.deps.db, press.user_id, BuildDraft)
    if isinstance(draft, BuildDraft):
        await ask(context, press.actor, draft, press=press)
    else:
        await begin(context, press.actor, press)


@presses.on(FormBuild, step="go", action="new")
async def restart(press: Press[FormBuild], context: BotContext) -> None:
    """重新开始: a new draft replaces the unfinished one."""
    await begin(context, press.actor, press)


@presses.on(FormBuild, action="x")
async def cancel(press: Press[FormBuild], context: BotContext) -> None:
    """取消 on any step: the draft is dropped."""
    if not await clear_draft(context.deps.db, press.user_id, FLOW):
        raise ServiceError("stale")
    await press.answer()
    if press.data.step == "pre":
        await press.drop_buttons()
        await context.bot.send_message(press.user_id, context.t("form.build.cancelled"))
    else:
        await press.edit(context.t("form.build.cancelled"))


@presses.on(FormBuild, step="org", action="pick")
async def pick_org(press: Press[FormBuild], context: BotContext) -> None:
    """An organization to send for: one the sender may still send to."""
    draft = await _current(press, context)
    if draft is None:
        return
    orgs = await builder_orgs(context.deps.db, press.actor, today(context))
    org = next((o for o in orgs if o.id == press.data.value), None)
    if org is None:
        raise ServiceError("auth.send_notice")
    await _show(press, context, choose_org(draft, org.id, org.name, org.level))


@presses.on(FormBuild, step="tpl", action="pick")
async def pick_template(press: Press[FormBuild], context: BotContext) -> None:
    """A template, written out in the sender's language."""
    draft = await _current(press, context)
    if draft is None:
        return
    if not 0 <= press.data.value < len(TEMPLATES):
        raise ServiceError("stale")
    chosen = TEMPLATES[press.data.value]
    title, intro, questions = template_form(context.deps.catalog, context.locale, chosen)
    started = from_template(
        draft, chosen.code, chosen.kind, title, intro, questions, chosen.repeat, chosen.due_day
    )
    await _show(press, context, started)


@presses.on(FormBuild, step="copy", action="pick")
async def pick_copy(press: Press[FormBuild], context: BotContext) -> None:
    """One of the sender's earlier forms, copied."""
    draft = await _current(press, context)
    if draft is None:
        return
    form = await earlier_form(context.deps.db, press.actor, press.data.value)
    started = from_form(
        draft, form.kind, form.title, form.intro, form.questions, form.repeat, form.due_day,
        form.anonymous,
    )  # fmt: skip
    await _show(press, context, started)


@presses.on(FormBuild, step="br", action="tb")
async def toggle_branch(press: Press[FormBuild], context: BotContext) -> None:
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


@presses.on(FormBuild, step="pg", action="pick")
async def pick_party_group(press: Press[FormBuild], context: BotContext) -> None:
    """One party group of the branch (0: the whole branch)."""
    draft = await _current(press, context)
    if draft is None:
        return
    if press.data.value:
        assert draft.org_id is not None
        audience = Audience(draft.targets or (draft.org_id,), draft.stages)
        preview = await audience_preview(context.deps.db, press.actor, audience, today(context))
        if press.data.value not in {g.id for g in preview.party_groups}:
            raise ServiceError("stale")
    await _apply(press, context, draft)


@presses.on(FormBuild, step="pre", action="ok")
async def confirm(press: Press[FormBuild], context: BotContext) -> None:
    """确认发布: the form is published and the draft taken in one transaction."""
    draft = await _current(press, context)
    if draft is None:
        return
    try:
        result = await publish_built(
            context.deps.db, press.actor, now=context.deps.clock.now(), today=today(context)
        )
    except ServiceError as exc:
        if exc.code != "form.deadline_past":
            raise
        # Left open while the deadline passed: choose another one.
        await ask(context, press.actor, replace(draft, step="dl"), _words(exc.code), press)
        return
    await press.answer()
    await press.drop_buttons()
    await context.bot.send_message(press.user_id, published_text(context, result))


@presses.on(FormBuild)
async def step_action(press: Press[FormBuild], context: BotContext) -> None:
    """Any other button of a step: the transition its table lists (else stale)."""
    draft = await _current(press, context)
    if draft is not None:
        await _apply(press, context, draft)


# ---- typed answers and files ----


async def _typed_draft(context: BotContext, actor: Actor, view: DraftView) -> BuildDraft | None:
    try:
        return load(BuildDraft, view.data)
    except DraftFormatError:
        await clear_draft(context.deps.db, actor.user_id, FLOW)
        await context.bot.send_message(actor.user_id, context.t("wizard.outdated"))
        return None


async def typed_answer(update: Update, context: BotContext, view: DraftView) -> None:
    """A typed title, intro, wording, choices, bounds, branch name, deadline or due day."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    actor = actor_of(context, user)
    try:
        draft = await _typed_draft(context, actor, view)
        if draft is not None:
            await _on_typed(message, context, actor, draft)
    except ServiceError as exc:
        # The right to send was taken away (or the organization is gone) meanwhile.
        await clear_draft(context.deps.db, user.id, FLOW)
        await message.reply_text(context.t(_words(exc.code)))


async def _on_typed(message: Message, context: BotContext, actor: Actor, draft: BuildDraft) -> None:
    if draft.step == "pre":
        # Re-sending the whole preview for a stray message would bury the buttons.
        await message.reply_text(context.t("form.build.use_buttons"))
    elif draft.step == "file":
        await ask(context, actor, draft, "form.build.send_file")
    elif draft.step in TYPED:
        result = apply(STEPS, draft, Event("text", text=message.text or ""), local_now(context))
        if isinstance(result, Refusal):
            await ask(context, actor, draft, _words(result.code))
        else:
            await ask(context, actor, result)
    else:
        await ask(context, actor, draft, "form.build.use_buttons")


async def file_received(update: Update, context: BotContext) -> None:
    """A photo or file while the builder is open: on the upload step, a sheet's header row
    becomes questions; anywhere else, a reminder of what the step asks."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    actor = actor_of(context, user)
    draft = await open_draft(context.deps.db, user.id, BuildDraft)
    if not isinstance(draft, BuildDraft):
        return
    try:
        await _take_file(message, context, actor, draft)
    except ServiceError as exc:
        # The right to send was taken away (or the organization is gone) meanwhile.
        await clear_draft(context.deps.db, user.id, FLOW)
        await message.reply_text(context.t(_words(exc.code)))


async def _take_file(
    message: Message, context: BotContext, actor: Actor, draft: BuildDraft
) -> None:
    if draft.step != "file":
        await ask(context, actor, draft, "form.build.no_file_here")
        return
    document = message.document
    if document is None:
        await ask(context, actor, draft, _words("form.build.file_type"))
        return
    if document.file_size is not None and document.file_size > MAX_FILE_BYTES:
        await ask(context, actor, draft, _words("form.build.file_too_large"))
        return
    content = bytes(await (await document.get_file()).download_as_bytearray())
    sheet = questions_from_table(content, document.file_name or "")
    if isinstance(sheet, SheetError):
        await ask(context, actor, draft, _words(sheet.code))
        return
    await ask(context, actor, from_guesses(draft, sheet.questions, sheet.title))


def register(app: Application, router: WizardRouter) -> None:  # type: ignore[type-arg]
    """/form, its typed answers and its uploads (its buttons go through the shared presses)."""
    app.add_handler(CommandHandler("form", form_command))
    router.on_text(FLOW, typed_answer)
    MEDIA_STEPS[FLOW] = file_received
