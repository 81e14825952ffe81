"""Typed answers in private chat go to whichever wizard the person has open."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, CommandHandler, MessageHandler, filters

from domain.pickers import FindDraft
from domain.wizard import Draft, Event, Refusal, Steps, apply
from handlers.common import actor_of
from handlers.fallback import not_understood
from services.authz import Actor
from services.drafts import DraftView, Outdated, clear_draft, get_draft, keep_draft, open_draft
from services.errors import ServiceError
from ui.deps import BotContext
from ui.errors import Feature, error_key

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


F = TypeVar("F", bound=FindDraft)
# A chooser's screen: (context, actor, list, key, offset, typed part) → text and keyboard;
# a ServiceError when the person may no longer choose from it.
FindScreen = Callable[
    [BotContext, Actor, str, int, int, str], Awaitable[tuple[str, InlineKeyboardMarkup]]
]


def narrowing(
    cls: type[F], steps: Steps[F], screen: FindScreen, domain: Feature | None = None
) -> Callable[[Update, BotContext, DraftView], Awaitable[None]]:
    """The answer to part of a name typed while a chooser of `cls` is open: its list,
    narrowed to the names holding it (the question ends if the right to choose went)."""

    async def typed_find(update: Update, context: BotContext, _view: DraftView) -> None:
        message, user = update.effective_message, update.effective_user
        assert message is not None
        assert user is not None
        draft = await typed_draft(update, context, cls)
        if draft is None:
            return
        now = context.deps.clock.now()
        found = apply(steps, draft, Event("text", text=message.text or ""), now)
        if isinstance(found, Refusal):
            await message.reply_text(context.t(error_key(found.code)))
            return
        actor = actor_of(context, user)
        try:
            text, markup = await screen(context, actor, found.step, found.key, 0, found.find)
        except ServiceError as exc:
            await clear_draft(context.deps.db, user.id, cls.FLOW)
            await message.reply_text(context.t(error_key(exc.code, domain)))
            return
        await keep_draft(context.deps.db, user.id, found, now)
        await message.reply_text(text, reply_markup=markup)

    return typed_find
