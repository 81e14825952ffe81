"""The bot's own membership: added to or removed from groups, blocked, group migrations."""

from __future__ import annotations

import logging

from telegram import Chat, ChatMember, Update
from telegram.ext import Application, ChatMemberHandler, MessageHandler, filters

from handlers.common import person_of, send_private, today
from services.chats import migrate_chat, record_bot_status
from services.groups import unbind_chat
from services.users import locale_of, set_private_chat_status
from ui.deps import BotContext

log = logging.getLogger(__name__)

_PRESENT = {ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER}


async def bot_membership_changed(update: Update, context: BotContext) -> None:
    """Record the bot's new standing; greet a group that just added it."""
    change = update.my_chat_member
    assert change is not None
    deps = context.deps
    now = deps.clock.now()
    chat = change.chat
    status = change.new_chat_member.status
    if chat.type == Chat.PRIVATE:
        # "kicked" in a private chat means the person blocked the bot.
        await set_private_chat_status(
            deps.db, person_of(change.from_user), now, blocked=status == ChatMember.BANNED
        )
        return
    if chat.type not in (Chat.GROUP, Chat.SUPERGROUP):
        return  # channels are not ours to serve
    await record_bot_status(
        deps.db,
        chat_id=chat.id,
        chat_type=chat.type,
        title=chat.title or "",
        is_forum=bool(chat.is_forum),
        bot_status=status,
        now=now,
    )
    was_present = change.old_chat_member.status in _PRESENT
    if status in _PRESENT and not was_present:
        await context.bot.send_message(chat.id, context.t("chat.bot_added"))
    elif status not in _PRESENT:
        log.info("bot left chat %s (%s)", chat.id, status)
        org, admins = await unbind_chat(deps.db, chat.id, now, today(context))
        if org is not None:
            for admin in admins:
                locale = await locale_of(deps.db, admin, deps.settings.default_locale)
                text = deps.catalog.t(
                    locale, "chat.binding_lost", group=chat.title or "", branch=org.name
                )
                await send_private(context, admin, text)


async def group_migrated(update: Update, context: BotContext) -> None:
    """Follow a basic group that became a supergroup, whichever service message comes first."""
    message = update.effective_message
    assert message is not None
    if message.migrate_to_chat_id:
        old_id, new_id = message.chat.id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id:
        old_id, new_id = message.migrate_from_chat_id, message.chat.id
    else:  # pragma: no cover - the filter admits only migration messages
        return
    deps = context.deps
    await migrate_chat(
        deps.db, old_id=old_id, new_id=new_id, title=message.chat.title or "", now=deps.clock.now()
    )
    log.info("chat %s migrated to %s", old_id, new_id)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(ChatMemberHandler(bot_membership_changed, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, group_migrated))
