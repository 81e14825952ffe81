"""Timed work for meetings: group counters updated at most every few seconds; the meeting
cards in the group rendered as they are sent (services queue them as intent)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from telegram.ext import Application, ContextTypes, ExtBot

from domain.locale import negotiate_locale
from services.meetings import (
    CARD,
    CARD_EDIT,
    GROUP_NOTE,
    NOTE,
    SUMMARY,
    Card,
    card_state,
    change_of,
    closing_summary,
    queue_counter_updates,
)
from services.outbox import Delivery
from ui.deps import Deps
from ui.meetings import group_note, private_note, render_card, summary_text

COUNTER_EVERY = 3.0  # seconds: a burst of presses becomes one edit, well inside 20 per minute
BULK = {"bulk": True}  # rate_limit_args: cards stand aside for interactive answers


async def refresh_counters(deps: Deps) -> int:
    """Queue one update for each meeting notice whose answers changed since the last run."""
    queued = await queue_counter_updates(deps.db, deps.clock.now())
    if queued:
        deps.outbox.wake()
    return queued


async def send_card(bot: ExtBot[Any], deps: Deps, item: Delivery) -> int:
    """Post a meeting card, or show the meeting's current state in a posted one (an edit),
    rendered now from the meeting as it stands; returns the message id."""
    tz = deps.settings.timezone
    now = deps.clock.now()
    state = await card_state(deps.db, int(item.payload["meeting_id"]), now.astimezone(tz).date())
    card = Card(item.payload.get("card", Card.NOTICE.value))
    html, markup = render_card(deps.catalog, deps.settings.default_locale, tz, now, card, state)
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


async def send_note(bot: ExtBot[Any], deps: Deps, item: Delivery) -> int:
    """Tell of a change: privately in the reader's language, or in the group naming those the
    bot cannot write to; worded now, from the meeting as it was before and after the change."""
    tz = deps.settings.timezone
    now = deps.clock.now()
    change = change_of(item.payload)
    default = deps.settings.default_locale
    if item.purpose == NOTE:
        locale = change.locale or negotiate_locale(change.language_code, default)
        html = private_note(deps.catalog, locale, tz, now, change)
    else:
        html = group_note(deps.catalog, default, tz, now, change)
    return await _post(bot, item, html)


async def send_summary(bot: ExtBot[Any], deps: Deps, item: Delivery) -> int:
    """Post a closed meeting's attendance summary in its group, under its notice."""
    today = deps.clock.now().astimezone(deps.settings.timezone).date()
    view, figures = await closing_summary(deps.db, int(item.payload["meeting_id"]), today)
    html = summary_text(deps.catalog, deps.settings.default_locale, view, figures)
    return await _post(bot, item, html)


async def _post(bot: ExtBot[Any], item: Delivery, html: str) -> int:
    message = await bot.send_message(
        item.chat_id, html, message_thread_id=item.thread_id,
        reply_to_message_id=item.target_message_id, allow_sending_without_reply=True,
        rate_limit_args=BULK,
    )  # fmt: skip
    return message.message_id


# The outbox items of meetings the worker hands here, by purpose: each is rendered as it is
# sent, from what the row says happened (services queue intent, never text).
SENDERS: dict[str, Callable[[ExtBot[Any], Deps, Delivery], Awaitable[int]]] = {
    CARD: send_card,
    CARD_EDIT: send_card,
    NOTE: send_note,
    GROUP_NOTE: send_note,
    SUMMARY: send_summary,
}


def register_jobs(app: Application) -> None:  # type: ignore[type-arg]
    """Run the meeting jobs on PTB's JobQueue (what they act on lives in the database)."""
    assert app.job_queue is not None

    async def counters(context: ContextTypes.DEFAULT_TYPE) -> None:
        await refresh_counters(app.bot_data.deps)

    app.job_queue.run_repeating(
        counters, COUNTER_EVERY, first=COUNTER_EVERY, name="meeting-counters"
    )
