"""What the notice screens share: the feature's presses, button labels, the sender's clock."""

from __future__ import annotations

from datetime import datetime

from telegram import InlineKeyboardButton

from handlers.press import Presses
from ui.callbacks import CallbackData
from ui.deps import BotContext
from ui.notices import CATEGORY_KEYS
from ui.render import format_datetime

# Every button of the notices feature (wizard, 收到, /receipts, 编辑) is routed here.
presses = Presses("notices")

BUTTON_NAME_MAX = 40

Keyboard = list[list[InlineKeyboardButton]]


def short(name: str) -> str:
    """A name cut to fit on a button."""
    return name if len(name) <= BUTTON_NAME_MAX else name[: BUTTON_NAME_MAX - 1] + "…"


def button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data.pack())


def mark(context: BotContext, label: str, on: bool) -> str:
    """A toggle's label: ✅ on, ⬜ off."""
    return context.plain("notice.checked" if on else "notice.unchecked", label=label)


def current(context: BotContext, label: str, on: bool) -> str:
    """A single choice's label: ✅ on the one chosen before, nothing on the others."""
    return context.plain("notice.checked", label=label) if on else label


def category_label(context: BotContext, category: str | None) -> str:
    return context.plain(CATEGORY_KEYS.get(category or "", "notice.category.announcement"))


def local_now(context: BotContext) -> datetime:
    """Now on the sender's clock (the bot's time zone): what typed times are read against."""
    return context.deps.clock.now().astimezone(context.deps.settings.timezone)


def deadline_text(context: BotContext, deadline: datetime | None) -> str:
    if deadline is None:
        return context.plain("notice.opt.no_deadline")
    return format_datetime(context, deadline, context.deps.settings.timezone)
