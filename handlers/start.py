"""/start and /help: greet people and tell them what they can do."""

from __future__ import annotations

from telegram import Update, User
from telegram.ext import Application, CommandHandler

from handlers import lang, members_registration
from handlers.commands import visible
from handlers.common import display_name, is_officer, is_private
from services.members import my_branch
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
    user = update.effective_user
    name = display_name(user.first_name, user.last_name)
    if not is_private(update):
        await message.reply_text(context.t("start.group", name=name))
        return
    text = context.t("start.private", name=name)
    if await _belongs_nowhere(context, user):
        # The first person to write is usually the operator, who needs it for bot.superadmins;
        # a newcomer may be asked for it by their secretary.
        text += "\n\n" + context.t("start.your_id", id=user.id)
    await message.reply_text(text)


async def _belongs_nowhere(context: BotContext, user: User) -> bool:
    if await my_branch(context.deps.db, user.id) is not None:
        return False
    return not await is_officer(context, user)


async def myid(update: Update, context: BotContext) -> None:
    """Tell anyone their numeric Telegram id (in a group, the group's too)."""
    message = update.effective_message
    assert message is not None
    assert update.effective_user is not None
    if is_private(update):
        await message.reply_text(context.t("myid.private", id=update.effective_user.id))
    else:
        assert update.effective_chat is not None
        await message.reply_text(
            context.t("myid.group", id=update.effective_user.id, chat=update.effective_chat.id)
        )


async def help_command(update: Update, context: BotContext) -> None:
    """List the commands available in this chat, each with one line of explanation."""
    message = update.effective_message
    assert message is not None
    private = is_private(update)
    assert update.effective_user is not None
    admin = await is_officer(context, update.effective_user)
    await message.reply_text(_help_text(context, admin=admin, private=private))


# The help of each language, kind of person and chat, rendered once: every newcomer asks
# for it, and the catalog does not change while the bot runs.
_HELP: dict[tuple[str, bool, bool], str] = {}


def _help_text(context: BotContext, *, admin: bool, private: bool) -> str:
    key = (context.locale, admin, private)
    text = _HELP.get(key)
    if text is None:
        lines = [
            context.t("help.line", command=c.name, description=context.plain(c.description_key))
            for c in visible(admin=admin, private=private)
        ]
        template = "help.private" if private else "help.group"
        text = _HELP[key] = context.t(template, commands="\n".join(lines))
    return text


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("help", help_command))
    app.add_handler(CommandHandler("myid", myid))
