"""Typed answers in private chat go to whichever wizard the person has open."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import Update
from telegram.ext import Application, CommandHandler, MessageHandler, filters

from domain.wizard import Draft
from handlers.fallback import not_understood
from services.drafts import DraftView, Outdated, clear_draft, get_draft, open_draft
from ui.deps import BotContext

TextStep = Callable[[Update, BotContext, DraftView], Awaitable[None]]
D = TypeVar("D", bound=Draft)


class WizardRouter:
    """Maps a draft's flow name to the handler of typed answers for it."""

    def __init__(self) -> None:
        self._flows: dict[str, TextStep] = {}

    def on_text(self, flow: str, step: TextStep) -> None:
        """Route typed answers of `flow` to `step`."""
        if flow in self._flows:
            raise ValueError(f"flow {flow!r} registered twice")
        self._flows[flow] = step

    async def answer(self, update: Update, context: BotContext) -> None:
        """Hand a private text to the open wizard, or say it was not understood."""
        user = update.effective_user
        assert user is not None
        draft = await get_draft(context.deps.db, user.id)
        step = self._flows.get(draft.flow) if draft else None
        if draft is None or step is None:
            await not_understood(update, context)
            return
        await step(update, context, draft)

    def register(self, app: Application) -> None:  # type: ignore[type-arg]
        """Install /cancel and the text router; call after all flows are known."""
        app.add_handler(CommandHandler("cancel", cancel))
        app.add_handler(
            MessageHandler(
                filters.ChatType.PRIVATE
                & filters.TEXT
                & ~filters.COMMAND
                & ~filters.UpdateType.EDITED,
                self.answer,
            )
        )


async def cancel(update: Update, context: BotContext) -> None:
    """/cancel: drop whatever wizard is open and say so."""
    user, message = update.effective_user, update.effective_message
    assert user is not None
    assert message is not None
    cleared = await clear_draft(context.deps.db, user.id)
    await message.reply_text(
        context.t("wizard.cancelled" if cleared else "wizard.nothing_to_cancel")
    )


async def typed_draft(update: Update, context: BotContext, cls: type[D]) -> D | None:
    """The person's open wizard of this kind for a typed answer; None when there is none any
    more, or when an older release saved it (dropped, and the person told so)."""
    user, message = update.effective_user, update.effective_message
    assert user is not None
    assert message is not None
    draft = await open_draft(context.deps.db, user.id, cls)
    if isinstance(draft, Outdated):
        await message.reply_text(context.t("wizard.outdated"))
        return None
    return draft
