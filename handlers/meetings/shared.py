"""What the meeting handlers share: the feature's presses, paging, local time, old drafts."""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from telegram import InlineKeyboardMarkup

from domain.wizard import Draft, DraftFormatError, load
from handlers.press import Presses
from services.authz import Actor
from services.drafts import DraftView, clear_draft
from ui.deps import BotContext
from ui.render import split_message

presses = Presses("meetings")
PAGE = 8
D = TypeVar("D", bound=Draft)


def actor_for(context: BotContext, user_id: int) -> Actor:
    """The person with their superadmin standing from the config."""
    return Actor(user_id=user_id, superadmin=user_id in context.deps.settings.superadmins)


def local_now(context: BotContext) -> datetime:
    """Now in the bot's time zone (typed times are read relative to it)."""
    return context.deps.clock.now().astimezone(context.deps.settings.timezone)


async def typed_draft(context: BotContext, user_id: int, view: DraftView, cls: type[D]) -> D | None:
    """The typed draft behind a routed text; None (dropped, the person told) when an older
    release saved it."""
    try:
        return load(cls, view.data)
    except DraftFormatError:
        await clear_draft(context.deps.db, user_id, cls.FLOW)
        await context.bot.send_message(user_id, context.t("wizard.outdated"))
        return None


async def send_parts(
    context: BotContext, chat_id: int, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Send a long text in as many messages as it needs, the buttons under the last one."""
    parts = split_message(text.split("\n"))
    for i, part in enumerate(parts):
        await context.bot.send_message(
            chat_id, part, reply_markup=markup if i == len(parts) - 1 else None
        )
