"""Last resort: stale or forged buttons and messages nothing else understood."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, MessageHandler, filters

from ui.deps import BotContext


async def stale_button(update: Update, context: BotContext) -> None:
    """Any button no feature claimed: say it no longer works, change nothing."""
    query = update.callback_query
    if query is not None:
        await query.answer(context.plain("callback.invalid"), show_alert=True)


async def not_understood(update: Update, context: BotContext) -> None:
    """A private message no flow was waiting for: point to /help."""
    message = update.effective_message
    assert message is not None
    key = (
        "fallback.unknown_command"
        if message.text and message.text.startswith("/")
        else ("fallback.not_understood")
    )
    await message.reply_text(context.t(key))


def register(app: Application) -> None:  # type: ignore[type-arg]
    # Registered last in group 0, so every feature handler gets its chance first.
    app.add_handler(CallbackQueryHandler(stale_button))
    app.add_handler(
        MessageHandler(
            filters.ChatType.PRIVATE & ~filters.StatusUpdate.ALL & ~filters.UpdateType.EDITED,
            not_understood,
        )
    )
