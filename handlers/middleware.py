"""Runs before every feature handler: know who is writing and in which language, and drop
what someone sends beyond the per-person limit."""

from __future__ import annotations

import logging

from telegram import Chat, Update
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationHandlerStop, TypeHandler

from handlers.common import person_of, send_private, today
from services.throttle import Verdict
from services.users import touch_user
from ui.deps import BotContext

log = logging.getLogger(__name__)

GROUP = -100  # before every feature handler (which use group 0 and up)
THROTTLE_GROUP = GROUP + 1  # right after: the person's language is known by then


async def remember_user(update: Update, context: BotContext) -> None:
    """Record the sender (names, language, that they can be written to) and load their profile."""
    user = update.effective_user
    if user is None or user.is_bot:
        return
    chat = update.effective_chat
    # Any message of theirs in our private chat means Telegram lets us write to them now.
    started = (
        chat is not None
        and chat.type == Chat.PRIVATE
        and update.effective_message is not None
        and update.callback_query is None
    )
    # Anyone active in a group is in it (the Bot API offers no member list); one who just
    # left is forgotten by handlers.groups instead.
    message = update.effective_message
    in_group = (
        chat is not None
        and chat.type in (Chat.GROUP, Chat.SUPERGROUP)
        and not (message is not None and message.left_chat_member is not None)
    )
    deps = context.deps
    context.profile = await touch_user(
        deps.db,
        person_of(user),
        deps.clock.now(),
        started=started,
        activity=deps.activity,
        group_id=chat.id if in_group and chat is not None else None,
        today=today(context),
    )


async def drop_if_too_fast(update: Update, context: BotContext) -> None:
    """An update beyond the person's limit (decided as it arrived): answer it, handle nothing."""
    verdict = context.deps.throttle.take_verdict(update.update_id)
    if verdict is Verdict.PASS:
        return
    user = update.effective_user
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(context.plain("throttle.too_fast"))
        if verdict is Verdict.DROP_FIRST and user is not None:
            # Once an episode: the rest of their messages are dropped without a word.
            await send_private(context, user.id, context.t("throttle.told"))
    except TelegramError as exc:  # their chat is busy or gone: being dropped says enough
        log.info("could not tell %s they are too fast: %s", user.id if user else None, exc)
    raise ApplicationHandlerStop


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(TypeHandler(Update, remember_user), group=GROUP)
    app.add_handler(TypeHandler(Update, drop_if_too_fast), group=THROTTLE_GROUP)
