"""/lang: each person chooses Chinese or English for themselves."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CommandHandler

from handlers.common import deep_link, is_private
from handlers.press import Press, Presses
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
    await offer_languages(context, message.chat_id)


async def offer_languages(context: BotContext, chat_id: int) -> None:
    """Send the language buttons, naming the language in use."""
    current = context.deps.catalog.plain(context.locale, "lang.self_name")
    await context.bot.send_message(
        chat_id, context.t("lang.choose", current=current), reply_markup=_keyboard(context)
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


presses = Presses()


@presses.on(SetLanguage)
async def language_chosen(press: Press[SetLanguage], context: BotContext) -> None:
    """Save the pressed language for the presser and confirm in that language."""
    locale, catalog = press.data.locale, context.deps.catalog
    # The button only ever changes the presser's own setting, so any presser is authorized;
    # a forged or unknown locale is refused without a change.
    if locale not in catalog.locales or not await set_locale(
        context.deps.db, press.user_id, locale
    ):
        await press.refuse("stale")
        return
    # The confirmation speaks the chosen language, not the one the press came in.
    press.answered = True
    await press.query.answer(catalog.plain(locale, "lang.changed_short"))
    if press.in_private:
        await press.edit(catalog.t(locale, "lang.changed"))


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("lang", lang_command))
    presses.register(app)
