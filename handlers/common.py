"""Small helpers shared by feature handlers."""

from __future__ import annotations

from datetime import date
from typing import Any

from telegram import CallbackQuery, Chat, Update, User
from telegram.error import BadRequest, Forbidden

from services.authz import Actor, holds_office
from services.users import Person
from ui.deps import BotContext


def person_of(user: User) -> Person:
    """Our service-level view of a Telegram user."""
    return Person(
        id=user.id,
        first_name=user.first_name,
        last_name=user.last_name,
        username=user.username,
        language_code=user.language_code,
    )


def display_name(first_name: str, last_name: str | None) -> str:
    """How we address someone: their Telegram names as they wrote them."""
    return " ".join(part for part in (first_name, last_name) if part) or "?"


def is_private(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type == Chat.PRIVATE


def deep_link(bot_username: str, payload: str) -> str:
    """A t.me link that opens a private chat with the bot and sends /start <payload>."""
    return f"https://t.me/{bot_username}?start={payload}"


async def edit_text(query: CallbackQuery, text: str, **kwargs: Any) -> None:
    """Edit the pressed message; an identical edit (a double press) is not an error."""
    try:
        await query.edit_message_text(text, **kwargs)
    except BadRequest as exc:
        if not not_modified(exc):
            raise


def not_modified(exc: BadRequest) -> bool:
    """Whether Telegram refused an edit only because it would change nothing (a double press)."""
    # PTB capitalizes Telegram's description ("Message is not modified: …").
    return "message is not modified" in exc.message.lower()


def actor_of(context: BotContext, user: User) -> Actor:
    """The person pressing or writing, with their superadmin standing from the config."""
    return Actor(user_id=user.id, superadmin=user.id in context.deps.settings.superadmins)


def today(context: BotContext) -> date:
    """Today's date in the bot's time zone."""
    return context.deps.clock.now().astimezone(context.deps.settings.timezone).date()


async def is_officer(context: BotContext, user: User) -> bool:
    """Whether the person is a superadmin or holds an office today (what menus and /help
    show; every action authorizes on its own)."""
    actor = actor_of(context, user)
    profile = context.profile
    if actor.superadmin:
        return True
    if profile is not None and profile.id == user.id and profile.holds_office is not None:
        return profile.holds_office  # read with the sender's row as the update arrived
    return await holds_office(context.deps.db, actor, today(context))


async def send_private(context: BotContext, user_id: int, text: str, **kwargs: Any) -> bool:
    """Write to someone privately; False when Telegram will not let us (never started, blocked)."""
    try:
        await context.bot.send_message(user_id, text, **kwargs)
    except Forbidden:
        return False
    return True
