"""Timed work for forms: cards and private copies rendered as they are sent (services queue
them as intent), and the cards' counts kept current by one sweep."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from telegram.ext import Application, ContextTypes, ExtBot

from domain.locale import negotiate_locale
from services.forms_delivery import (
    CARD,
    CARD_EDIT,
    COPY,
    card_state,
    copy_state,
    queue_card_updates,
)
from services.outbox import Delivery
from ui.deps import Deps
from ui.forms import render_card, render_copy

COUNTER_EVERY = 3.0  # seconds: a burst of answers becomes one edit, well inside 20 per minute
BULK = {"bulk": True}  # rate_limit_args: cards and copies stand aside for interactive answers


async def refresh_cards(deps: Deps) -> int:
    """Queue one count update for each card whose branch answered since it was last shown."""
    queued = await queue_card_updates(deps.db, deps.clock.now())
    if queued:
        deps.outbox.wake()
    return queued


async def send_card(bot: ExtBot[Any], deps: Deps, item: Delivery) -> int | None:
    """Post a form's card in a branch group, or bring a posted one's count up to date."""
    state = await card_state(deps.db, int(item.payload["card_id"]))
    if state is None:
        return None  # the form is gone: nothing to show
    tz, now = deps.settings.timezone, deps.clock.now()
    html, markup = render_card(
        deps.catalog, deps.settings.default_locale, tz, now, state, bot.username
    )
    if item.purpose == CARD_EDIT:
        assert item.target_message_id is not None  # queued for a posted card
        await bot.edit_message_text(
            html, item.chat_id, item.target_message_id, reply_markup=markup, rate_limit_args=BULK
        )
        return item.target_message_id
    message = await bot.send_message(
        item.chat_id, html, message_thread_id=item.thread_id, reply_markup=markup,
        rate_limit_args=BULK,
    )  # fmt: skip
    return message.message_id


async def send_copy(bot: ExtBot[Any], deps: Deps, item: Delivery) -> int | None:
    """Send someone their private copy of a form, in their language, with 填写."""
    state = await copy_state(
        deps.db, int(item.payload["cycle_id"]), int(item.payload["branch_id"]), item.chat_id
    )
    if state is None:
        return None  # the form was closed before this copy went out
    default = deps.settings.default_locale
    locale = state.locale or negotiate_locale(state.language_code, default)
    html, markup = render_copy(
        deps.catalog, locale, deps.settings.timezone, deps.clock.now(), state
    )
    message = await bot.send_message(item.chat_id, html, reply_markup=markup, rate_limit_args=BULK)
    return message.message_id


# The outbox items of forms the worker hands here, by purpose.
SENDERS: dict[str, Callable[[ExtBot[Any], Deps, Delivery], Awaitable[int | None]]] = {
    CARD: send_card,
    CARD_EDIT: send_card,
    COPY: send_copy,
}


def register_jobs(app: Application) -> None:  # type: ignore[type-arg]
    """Run the card counter sweep on PTB's JobQueue (what it acts on lives in the database)."""
    assert app.job_queue is not None

    async def counters(context: ContextTypes.DEFAULT_TYPE) -> None:
        await refresh_cards(app.bot_data.deps)

    app.job_queue.run_repeating(counters, COUNTER_EVERY, first=COUNTER_EVERY, name="form-counters")
