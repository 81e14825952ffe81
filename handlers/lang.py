"""/lang: each person chooses Chinese or English for themselves."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from handlers.common import deep_link, edit_text, is_private
from services.users import set_locale
from ui.callbacks import SetLanguage
from ui.deps import BotContext

DEEP_LINK_PAYLOAD = "lang"


def _keyboard(context: BotContext) -> InlineKeyboardMarkup:
    catalog = context.deps.catalog
    # Each language is named in itself, so a person who cannot read the current one finds theirs.
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    catalog.plain(locale, "lang.self_name"),
                    callback_data=SetLanguage(locale=locale).pack(),
                )
                for locale in catalog.locales
            ]
        ]
    )


async def ask_language(update: Update, context: BotContext) -> None:
    """Offer the language buttons in private chat."""
    message = update.effective_message
    assert message is not None
    current = context.deps.catalog.plain(context.locale, "lang.self_name")
    await message.reply_text(
        context.t("lang.choose", current=current), reply_markup=_keyboard(context)
    )


async def lang_command(update: Update, context: BotContext) -> None:
    """In private: the language buttons. In a group: a button to do it privately."""
    message = update.effective_message
    assert message is not None
    if is_private(update):
        await ask_language(update, context)
        return
    button = InlineKeyboardButton(
        context.plain("lang.open_private"),
        url=deep_link(context.bot.username, DEEP_LINK_PAYLOAD),
    )
    await message.reply_text(
        context.t("lang.use_private"), reply_markup=InlineKeyboardMarkup([[button]])
    )


async def language_chosen(update: Update, context: BotContext) -> None:
    """Save the pressed language for the presser and confirm in that language."""
    query = update.callback_query
    assert query is not None
    choice = SetLanguage.unpack(query.data)
    # The button only ever changes the presser's own setting, so any presser is authorized;
    # a forged or unknown locale is refused without a change.
    if choice is None or choice.locale not in context.deps.catalog.locales:
        await query.answer(context.plain("callback.invalid"), show_alert=True)
        return
    if not await set_locale(context.deps.db, query.from_user.id, choice.locale):
        await query.answer(context.plain("callback.invalid"), show_alert=True)
        return
    catalog = context.deps.catalog
    await query.answer(catalog.plain(choice.locale, "lang.changed_short"))
    if query.message is not None and query.message.chat.type == "private":
        await edit_text(query, catalog.t(choice.locale, "lang.changed"))


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("lang", lang_command))
    app.add_handler(CallbackQueryHandler(language_chosen, pattern=SetLanguage.pattern()))
