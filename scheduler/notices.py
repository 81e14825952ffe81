"""Timed work for notices.

- The automatic nudge is a job of the job runner (scheduler.jobs): one occurrence per
  notice that asks for acknowledgement, at its deadline − NUDGE_LEAD, keyed by the notice
  id. Its job_runs row commits with the nudges it queues, so it runs once, also across
  restarts and with two processes; a notice nudged by hand before is left alone.
- The group counters ("已收到 12/30") are a sweeper, not a job: a press sets its notice's
  `counts_dirty` flag; one periodic sweep (every COUNTER_EVERY seconds) takes the flags and
  queues one re-render per changed group copy. Taking a flag and queueing are idempotent:
  a press after the take sets it again and is seen by the next sweep, and a failed sweep
  gives its flags back.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from telegram.ext import Application, ContextTypes

from services.jobs import Effects, Occurrence, Session
from services.notices import auto_nudge_in, due_auto_nudges, queue_counter_updates
from ui.deps import Deps

log = logging.getLogger(__name__)

COUNTER_EVERY = 5.0  # seconds: well inside 20 edits per minute per group
NUDGE_LEAD = timedelta(hours=6)  # the automatic reminder goes out this long before the deadline
NUDGE_JOB = "notice-nudge"


async def refresh_counters(deps: Deps) -> int:
    """Queue re-renders of group counters that changed since the last run."""
    queued = await queue_counter_updates(deps.db, deps.clock.now())
    if queued:
        deps.outbox.wake()
    return queued


class NoticeNudges:
    """The automatic reminder of those who have not acknowledged, once per notice."""

    name = NUDGE_JOB
    summary = "before a notice's deadline: one reminder to those who have not acknowledged"

    async def due(self, deps: Deps, start: datetime, end: datetime) -> list[Occurrence]:
        """One occurrence per delivered notice whose deadline − NUDGE_LEAD is in (start, end]."""
        return [
            Occurrence(at, self.name, str(notice_id))
            for at, notice_id in await due_auto_nudges(deps.db, NUDGE_LEAD, start, end)
        ]

    async def prepare(self, deps: Deps, occurrence: Occurrence, now: datetime) -> Effects:
        """A nudge reads one notice's audience: done inside the run's transaction."""

        async def effects(session: Session) -> dict[str, Any] | None:
            return await auto_nudge_in(
                session,
                int(occurrence.key),
                now=now,
                default_timezone=deps.settings.timezone.key,
            )

        return effects


def register_jobs(app: Application) -> None:  # type: ignore[type-arg]
    """Sweep the group counters on PTB's JobQueue (the dirty flags live in the database)."""
    assert app.job_queue is not None

    async def counters(context: ContextTypes.DEFAULT_TYPE) -> None:
        await refresh_counters(app.bot_data.deps)

    app.job_queue.run_repeating(
        counters, COUNTER_EVERY, first=COUNTER_EVERY, name="notice-counters"
    )
