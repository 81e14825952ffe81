"""Answering a form in private chat: opened from a card's 填写 link, a private copy or a
reminder; one question per message; presses and typed answers are events applied to the
typed draft (domain.forms_wizard.STEPS); 提交 takes the draft with the answers."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, ApplicationHandlerStop, CommandHandler, filters

from domain.forms import Attachment, QType
from domain.forms_wizard import STEPS, AnswerDraft, answers_of, with_attachment
from domain.wizard import Event, Refusal, apply
from handlers.common import actor_of, today
from handlers.forms.common import MEDIA_STEPS, presses
from handlers.press import Press
from handlers.wizard import WizardRouter, typed_draft
from services.authz import Actor
from services.drafts import DraftView, Outdated, keep_draft, open_draft
from services.errors import ServiceError
from services.forms import submit_draft
from services.forms_answer import (
    BranchChoice,
    Opening,
    RosterPage,
    answer_header,
    member_names,
    on_roster,
    open_answer,
    roster_page,
)
from ui.deps import BotContext
from ui.errors import error_key
from ui.forms import LINK_PREFIX, FormOpen, parse_answer_link
from ui.forms_answer import (
    REVIEW,
    FormAnswer,
    branch_choice,
    opening_note,
    picked_ids,
    question_screen,
    refusal_text,
    review_screen,
    submitted_text,
)

FLOW = AnswerDraft.FLOW
# Ahead of group 0, where /start greets: a card's 填写 link is ours.
DEEP_LINK_GROUP = -5


async def _screen(
    context: BotContext,
    actor: Actor,
    draft: AnswerDraft,
    *,
    note: str = "",
    page: int = 0,
    query: str = "",
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The draft's current screen (a question, or the review), in the reader's language."""
    header = await answer_header(context.deps.db, draft.cycle_id, draft.branch_id)
    answers = answers_of(draft)
    names = await member_names(context.deps.db, picked_ids(draft.questions, answers))
    catalog, locale = context.deps.catalog, context.locale
    tz, now = context.deps.settings.timezone, context.deps.clock.now()
    if draft.step == "review":
        return review_screen(catalog, locale, tz, now, header, draft, names, note)
    roster: RosterPage | None = None
    if draft.questions[draft.current].type is QType.MEMBERS:
        roster = await roster_page(context.deps.db, actor.user_id, draft, page, query)
        names = {**names, **dict(roster.members)}
    return question_screen(catalog, locale, tz, now, header, draft, names, roster, note)


async def _open(
    context: BotContext, actor: Actor, cycle_id: int, branch_id: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    """Open the form (refusals raised as ServiceError) and build its first screen."""
    opened = await open_answer(
        context.deps.db, actor, cycle_id, branch_id,
        now=context.deps.clock.now(), today=today(context),
    )  # fmt: skip
    if isinstance(opened, BranchChoice):
        return branch_choice(context.deps.catalog, context.locale, opened)
    return await _first_screen(context, actor, opened)


async def _first_screen(
    context: BotContext, actor: Actor, opened: Opening
) -> tuple[str, InlineKeyboardMarkup | None]:
    note = opening_note(
        context.deps.catalog, context.locale, status=opened.status, comment=opened.comment,
        from_previous=opened.from_previous, late=opened.late,
    )  # fmt: skip
    if opened.header.intro and opened.status is None:
        intro = context.t("form.open.intro", intro=opened.header.intro)
        note = f"{intro}\n{note}" if note else intro
    return await _screen(context, actor, opened.draft, note=note)


async def answer_link(update: Update, context: BotContext) -> None:
    """/start f_<cycle>_<branch>: a card's 填写 link opens the form here."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    parsed = parse_answer_link(context.args[0] if context.args else "")
    if parsed is None:
        await message.reply_text(context.t(error_key("stale", "forms")))
        raise ApplicationHandlerStop
    try:
        text, markup = await _open(context, actor_of(context, user), *parsed)
    except ServiceError as exc:
        await message.reply_text(context.t(error_key(exc.code, "forms"), **exc.params))
        raise ApplicationHandlerStop from None
    await message.reply_text(text, reply_markup=markup)
    raise ApplicationHandlerStop


@presses.on(FormOpen)
async def open_pressed(press: Press[FormOpen], context: BotContext) -> None:
    """填写 on a private copy, a reminder or a 退回 note: the form's first question below."""
    text, markup = await _open(context, press.actor, press.data.cycle_id, press.data.branch_id)
    await press.answer()
    await context.bot.send_message(press.user_id, text, reply_markup=markup)


async def _current(press: Press[FormAnswer], context: BotContext) -> AnswerDraft | None:
    """The open answer, if the press belongs to the screen it shows (else refused as stale)."""
    draft = await open_draft(context.deps.db, press.user_id, AnswerDraft)
    if isinstance(draft, Outdated):
        await press.answer()
        await context.bot.send_message(press.user_id, context.t("wizard.outdated"))
        return None
    on_screen = REVIEW if draft is not None and draft.step == "review" else None
    if draft is not None and draft.step == "q":
        on_screen = draft.current
    if draft is None or on_screen != press.data.q:
        await press.refuse("stale")
        return None
    return draft


@presses.on(FormAnswer, action="page")
async def page(press: Press[FormAnswer], context: BotContext) -> None:
    """◀ / ▶ through the branch roster of a member-picker question."""
    draft = await _current(press, context)
    if draft is None:
        return
    text, markup = await _screen(context, press.actor, draft, page=press.data.value)
    await press.edit(text, markup)


@presses.on(FormAnswer, action="submit")
async def submit(press: Press[FormAnswer], context: BotContext) -> None:
    """提交: the answers are taken (and the draft ends) in one transaction."""
    draft = await _current(press, context)
    if draft is None:
        return
    result = await submit_draft(
        context.deps.db, press.actor, now=context.deps.clock.now(), today=today(context)
    )
    header = await answer_header(context.deps.db, draft.cycle_id, draft.branch_id)
    await press.answer("form.submitted.alert")
    text = submitted_text(
        context.deps.catalog, context.locale, header, late=result.late, changed=result.changed,
        version=result.version,
    )  # fmt: skip
    await press.edit(text)


@presses.on(
    FormAnswer, action=("pick", "person", "done", "skip", "keep", "all", "back", "nothing", "edit")
)
async def step(press: Press[FormAnswer], context: BotContext) -> None:
    """Any other button of the answering screens: applied to the draft, the next screen shown
    in place (a member picked must be on the branch roster)."""
    draft = await _current(press, context)
    if draft is None:
        return
    if press.data.action == "person" and not await on_roster(
        context.deps.db, press.user_id, draft, press.data.value
    ):
        raise ServiceError("stale")
    result = apply(
        STEPS, draft, Event(press.data.action, press.data.value), context.deps.clock.now()
    )
    if isinstance(result, Refusal):
        await press.refuse(result.code)
        return
    await keep_draft(context.deps.db, press.user_id, result, context.deps.clock.now())
    text, markup = await _screen(context, press.actor, result)
    await press.answer()
    await press.edit(text, markup)


async def typed_answer(update: Update, context: BotContext, _view: DraftView) -> None:
    """A typed answer to the question on screen; a member-picker question takes a typed name
    as a search of the roster."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    draft = await typed_draft(update, context, AnswerDraft)
    if draft is None:
        return
    actor = actor_of(context, user)
    text = message.text or ""
    if draft.step != "q":
        await message.reply_text(context.t("form.error.answer_use_buttons"))
        return
    if draft.questions[draft.current].type is QType.MEMBERS:
        screen, markup = await _screen(context, actor, draft, query=text)
        await message.reply_text(screen, reply_markup=markup)
        return
    result = apply(STEPS, draft, Event("text", text=text), context.deps.clock.now())
    if isinstance(result, Refusal):
        key = error_key(result.code, "forms")
        question = draft.questions[draft.current]
        await message.reply_text(refusal_text(context.deps.catalog, context.locale, key, question))
        return
    await keep_draft(context.deps.db, user.id, result, context.deps.clock.now())
    screen, markup = await _screen(context, actor, result)
    await message.reply_text(screen, reply_markup=markup)


async def attachment_received(update: Update, context: BotContext) -> None:
    """A photo or document sent while answering: the answer to an attachment question."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    draft = await typed_draft(update, context, AnswerDraft)
    if draft is None:
        return
    if message.photo:
        attachment = Attachment("photo", message.photo[-1].file_id)
    elif message.document is not None:
        name = (message.document.file_name or "")[:100]
        attachment = Attachment("document", message.document.file_id, name)
    else:
        return
    result = with_attachment(draft, attachment)
    if isinstance(result, Refusal):
        await message.reply_text(context.t(error_key(result.code, "forms")))
        return
    await keep_draft(context.deps.db, user.id, result, context.deps.clock.now())
    screen, markup = await _screen(context, actor_of(context, user), result)
    await message.reply_text(screen, reply_markup=markup)


def register(app: Application, router: WizardRouter) -> None:  # type: ignore[type-arg]
    """The 填写 deep link, typed answers and attachments of the answering flow."""
    app.add_handler(
        CommandHandler(
            "start",
            answer_link,
            filters=filters.ChatType.PRIVATE & filters.Regex(rf"^/start {LINK_PREFIX}"),
        ),
        group=DEEP_LINK_GROUP,
    )
    router.on_text(FLOW, typed_answer)
    MEDIA_STEPS[FLOW] = attachment_received
