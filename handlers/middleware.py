"""Runs before every feature handler: know who is writing and in which language."""

from __future__ import annotations

from telegram import Chat, Update
from telegram.ext import Application, TypeHandler

from handlers.common import person_of
from services.users import touch_user
from ui.deps import BotContext

GROUP = -100  # before every feature handler (which use group 0 and up)


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
    )


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(TypeHandler(Update, remember_user), group=GROUP)
