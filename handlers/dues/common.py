"""What the dues handlers share: the one `Presses("dues")`, the /dues menu's entries, which
each part of the feature adds for the people it serves, and photos and files routed to the
open dues wizard."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from telegram import Message, Update
from telegram.ext import ApplicationHandlerStop

from handlers.press import Presses
from services.drafts import get_draft
from services.dues import DuesAccess
from services.members_import import MAX_FILE_BYTES
from ui.callbacks import CallbackData
from ui.deps import BotContext
from ui.errors import error_key

presses = Presses("dues")


@dataclass(frozen=True)
class MenuEntry:
    """One /dues button: its label (catalog key), the press it sends, and who sees it."""

    label_key: str
    data: Callable[[DuesAccess], CallbackData]
    shown: Callable[[DuesAccess], bool]
    order: int = 50


# Filled in by the dues handler modules when imported; /dues shows what applies, by order.
MENU: list[MenuEntry] = []


def menu_entry(entry: MenuEntry) -> None:
    """Add a button to /dues."""
    MENU.append(entry)
    MENU.sort(key=lambda e: (e.order, e.label_key))


# ---- photos and files sent while a dues wizard is open ----

MediaStep = Callable[[Update, BotContext], Awaitable[None]]
# Draft flow → what takes a photo or file sent while that dues wizard is open (a transfer
# screenshot, an XLSX of payments). Each dues module adds its flows when imported.
MEDIA_STEPS: dict[str, MediaStep] = {}


async def media_received(update: Update, context: BotContext) -> None:
    """A private photo or file: to the open dues wizard that takes one (then no other handler
    sees it), else left for the others (forms, the roster import, a notice's body)."""
    user = update.effective_user
    if user is None:
        return
    draft = await get_draft(context.deps.db, user.id)
    step = MEDIA_STEPS.get(draft.flow) if draft is not None else None
    if step is None:
        return
    await step(update, context)
    raise ApplicationHandlerStop


async def sheet_bytes(
    message: Message, context: BotContext, *, send_key: str, too_large_code: str
) -> tuple[str, bytes] | None:
    """A sheet sent to a dues wizard, downloaded as (file name, content); None (and the reason
    told) when the message holds no file or one too large to read."""
    document = message.document
    if document is None:
        await message.reply_text(context.t(send_key))
        return None
    if (document.file_size or 0) > MAX_FILE_BYTES:
        await message.reply_text(context.t(error_key(too_large_code)))
        return None
    content = bytes(await (await document.get_file()).download_as_bytearray())
    return document.file_name or "", content
