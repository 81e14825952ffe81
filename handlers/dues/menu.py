"""/dues: the menu of party-dues screens the person may use (their own dues, the branches they
keep, the committees they oversee)."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update

from handlers.common import actor_of, is_private, today
from handlers.dues.common import MENU
from services.dues import dues_access
from ui.callbacks import button
from ui.deps import BotContext


async def dues_command(update: Update, context: BotContext) -> None:
    """/dues in private: the dues buttons that apply to this person."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    if not is_private(update):
        await message.reply_text(context.t("dues.use_private"))
        return
    access = await dues_access(context.deps.db, actor_of(context, user), today(context))
    entries = [e for e in MENU if e.shown(access)]
    if not entries:
        await message.reply_text(context.t("dues.nothing"))
        return
    keyboard = [[button(context.plain(e.label_key), e.data(access))] for e in entries]
    await message.reply_text(context.t("dues.menu"), reply_markup=InlineKeyboardMarkup(keyboard))
