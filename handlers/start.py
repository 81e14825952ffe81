"""/start and /help: greet people and tell them what they can do."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler

from handlers import lang, members_registration
from handlers.commands import visible
from handlers.common import actor_of, display_name, is_private, today
from services.authz import holds_office
from ui.deps import BotContext


async def start(update: Update, context: BotContext) -> None:
    """Greet the user; a deep-link payload opens the flow it names."""
    message = update.effective_message
    assert message is not None
    assert update.effective_user is not None
    payload = context.args[0] if context.args else ""
    if is_private(update) and payload == lang.DEEP_LINK_PAYLOAD:
        await lang.ask_language(update, context)
        return
    if is_private(update) and payload.startswith(members_registration.DEEP_LINK_PREFIX):
        org_id = payload.removeprefix(members_registration.DEEP_LINK_PREFIX)
        if org_id.isdigit() and len(org_id) < 19:
            await members_registration.begin(update, context, int(org_id))
            return
    name = display_name(update.effective_user.first_name, update.effective_user.last_name)
    key = "start.private" if is_private(update) else "start.group"
    await message.reply_text(context.t(key, name=name))


async def help_command(update: Update, context: BotContext) -> None:
    """List the commands available in this chat, each with one line of explanation."""
    message = update.effective_message
    assert message is not None
    private = is_private(update)
    assert update.effective_user is not None
    admin = await holds_office(
        context.deps.db, actor_of(context, update.effective_user), today(context)
    )
    lines = [
        context.t("help.line", command=c.name, description=context.plain(c.description_key))
        for c in visible(admin=admin, private=private)
    ]
    key = "help.private" if private else "help.group"
    await message.reply_text(context.t(key, commands="\n".join(lines)))


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("help", help_command))
