"""编辑 on /receipts: a new title or body for a published notice; every sent copy follows."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update

from domain.notices import TITLE_MAX, NoticeEditDraft
from domain.validation import Invalid, parse_short_text
from domain.wizard import DraftFormatError, load
from handlers.common import actor_of, today
from handlers.notices.common import button, presses
from handlers.notices.receipts import live_title
from handlers.press import Press
from services.drafts import DraftView, clear_draft, keep_draft
from services.errors import ServiceError
from services.notices import edit_from_draft
from ui.deps import BotContext
from ui.errors import error_key
from ui.notices import Receipt

FLOW = NoticeEditDraft.FLOW
# Refusals of what was typed: the draft stays and the sender types again.
RETYPE = ("notice.title_too_long", "notice.title_empty", "notice.body_too_long")


@presses.on(Receipt, action="edit")
async def choose_part(press: Press[Receipt], context: BotContext) -> None:
    """编辑: the title or the body?"""
    title = await live_title(press, context)
    await press.answer()
    notice_id = press.data.notice_id
    keyboard = [
        [
            button(context.plain("notice.edit.title"), Receipt("etitle", notice_id)),
            button(context.plain("notice.edit.body"), Receipt("ebody", notice_id)),
        ],
        [button(context.plain("wizard.cancel"), Receipt("stop", notice_id))],
    ]
    await context.bot.send_message(
        press.user_id,
        context.t("notice.edit.which", title=title),
        reply_markup=InlineKeyboardMarkup(keyboard),
    )


@presses.on(Receipt, action=("etitle", "ebody"))
async def ask_part(press: Press[Receipt], context: BotContext) -> None:
    """Ask for the new title or body; the edit draft says which, of which notice."""
    title = await live_title(press, context)
    notice_id = press.data.notice_id
    part = "title" if press.data.action == "etitle" else "body"
    draft = NoticeEditDraft(step=part, notice_id=notice_id)
    await keep_draft(context.deps.db, press.user_id, draft, context.deps.clock.now())
    await press.answer()
    key = "notice.edit.ask_title" if part == "title" else "notice.edit.ask_body"
    stop = button(context.plain("wizard.cancel"), Receipt("stop", notice_id))
    markup = InlineKeyboardMarkup([[stop]])
    await press.edit(context.t(key, title=title, limit=TITLE_MAX), markup)


@presses.on(Receipt, action="stop")
async def stop(press: Press[Receipt], context: BotContext) -> None:
    """取消 the edit."""
    await clear_draft(context.deps.db, press.user_id, FLOW)
    await press.answer()
    await press.edit(context.t("notice.edit.cancelled"))


async def typed_edit(update: Update, context: BotContext, view: DraftView) -> None:
    """The new title or body typed after 编辑: every copy already sent is updated."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    db = context.deps.db
    try:
        draft = load(NoticeEditDraft, view.data)
    except DraftFormatError:
        await clear_draft(db, user.id, FLOW)
        await message.reply_text(context.t("wizard.outdated"))
        return
    if draft.step == "title":
        title = parse_short_text(message.text or "", TITLE_MAX)
        if isinstance(title, Invalid):
            key = "notice.title_empty" if title.code == "text.empty" else "notice.title_too_long"
            await message.reply_text(context.t(error_key(key, "notices")))
            return  # the draft stays: the sender types the title again
        text = title
    else:
        text = message.text_html if message.text else ""
        if not text.strip():
            await message.reply_text(context.t(error_key("notice.body_empty", "notices")))
            return
    try:
        # The draft is taken in the edit's own transaction (gone exactly when it commits).
        copies = await edit_from_draft(
            db,
            actor_of(context, user),
            text=text,
            now=context.deps.clock.now(),
            today=today(context),
        )
    except ServiceError as exc:
        if exc.code not in RETYPE:
            await clear_draft(db, user.id, FLOW)
        await message.reply_text(context.t(error_key(exc.code, "notices")))
        return
    if copies:
        context.deps.outbox.wake()
    await message.reply_text(context.t("notice.edited_done", count=copies))
