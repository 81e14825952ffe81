"""Timed work for notices: group counters re-rendered, one automatic nudge before deadlines."""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram.ext import Application, ContextTypes

from services.notices import due_for_auto_nudge, queue_counter_updates, queue_nudges
from ui.deps import Deps

log = logging.getLogger(__name__)

COUNTER_EVERY = 5.0  # seconds: well inside 20 edits per minute per group
NUDGE_EVERY = 600.0
NUDGE_LEAD = timedelta(hours=6)  # the automatic reminder goes out this long before the deadline


async def refresh_counters(deps: Deps) -> int:
    """Queue re-renders of group counters that changed since the last run."""
    queued = await queue_counter_updates(deps.db, deps.clock.now())
    if queued:
        deps.outbox.wake()
    return queued


async def auto_nudge(deps: Deps) -> int:
    """Remind people who have not acknowledged, once per notice, before its deadline."""
    now = deps.clock.now()
    count = 0
    for notice_id in await due_for_auto_nudge(deps.db, now, NUDGE_LEAD):
        today = now.astimezone(deps.settings.timezone).date()
        await queue_nudges(deps.db, None, notice_id, now=now, today=today)
        count += 1
    if count:
        deps.outbox.wake()
    return count


def register_jobs(app: Application) -> None:  # type: ignore[type-arg]
    """Run the notice jobs on PTB's JobQueue (what they act on lives in the database)."""
    assert app.job_queue is not None

    async def counters(context: ContextTypes.DEFAULT_TYPE) -> None:
        await refresh_counters(app.bot_data.deps)

    async def nudges(context: ContextTypes.DEFAULT_TYPE) -> None:
        await auto_nudge(app.bot_data.deps)

    app.job_queue.run_repeating(
        counters, COUNTER_EVERY, first=COUNTER_EVERY, name="notice-counters"
    )
    app.job_queue.run_repeating(nudges, NUDGE_EVERY, first=30, name="notice-auto-nudge")
