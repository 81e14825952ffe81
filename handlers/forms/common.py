"""What the forms handlers share: the one `Presses("forms")`, and photos and files routed to
whichever forms wizard the sender has open (the builder's XLSX, an answer's attachment)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from handlers.press import Presses
from services.drafts import get_draft
from ui.deps import BotContext

presses = Presses("forms")

MediaStep = Callable[[Update, BotContext], Awaitable[None]]
# Draft flow → what takes a photo or file sent while that wizard is open.
MEDIA_STEPS: dict[str, MediaStep] = {}


async def media_received(update: Update, context: BotContext) -> None:
    """A private photo or file: to the open forms wizard that takes one (then no other
    handler sees it), else left for the others (the roster import, a notice's body)."""
    user = update.effective_user
    if user is None:
        return
    draft = await get_draft(context.deps.db, user.id)
    step = MEDIA_STEPS.get(draft.flow) if draft is not None else None
    if step is None:
        return
    await step(update, context)
    raise ApplicationHandlerStop
