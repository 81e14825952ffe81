"""Timed work for meetings: group counters re-rendered at most every few seconds."""

from __future__ import annotations

from telegram.ext import Application, ContextTypes

from services.meetings import queue_counter_updates
from ui.deps import Deps
from ui.meetings import group_renderer

COUNTER_EVERY = 3.0  # seconds: a burst of presses becomes one edit, well inside 20 per minute


async def refresh_counters(deps: Deps) -> int:
    """Queue one re-render for each meeting notice whose answers changed since the last run."""
    now = deps.clock.now()
    tz = deps.settings.timezone
    render = group_renderer(deps.catalog, deps.settings.default_locale, tz, now)
    queued = await queue_counter_updates(deps.db, render, now, now.astimezone(tz).date())
    if queued:
        deps.outbox.wake()
    return queued


def register_jobs(app: Application) -> None:  # type: ignore[type-arg]
    """Run the meeting jobs on PTB's JobQueue (what they act on lives in the database)."""
    assert app.job_queue is not None

    async def counters(context: ContextTypes.DEFAULT_TYPE) -> None:
        await refresh_counters(app.bot_data.deps)

    app.job_queue.run_repeating(
        counters, COUNTER_EVERY, first=COUNTER_EVERY, name="meeting-counters"
    )
