"""Repeating forms: each new cycle issued once, on its opening day at the digest hour (local
time of the sending organization), with its delivery queued in the same transaction.

A job of scheduler.jobs: one occurrence per form and cycle ("7@2026-12"); its job_runs row
commits with the new cycle and its cards and copies, so it happens once across restarts and
with two processes (and form_cycles' unique (form_id, key) refuses a second cycle anyway).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.forms_cycles import JOB, due_cycles, issue_cycle, parse_cycle_key
from services.jobs import Effects, Occurrence, Session
from ui.deps import Deps


class FormCycles:
    """Each new cycle of every open repeating form, once."""

    name = JOB
    summary = "a repeating form's opening day, 09:00: its new cycle issued and delivered"

    async def due(self, deps: Deps, start: datetime, end: datetime) -> list[Occurrence]:
        """One occurrence per form and cycle opening in (start, end]."""
        settings = deps.settings
        return [
            Occurrence(d.at, self.name, d.key)
            for d in await due_cycles(
                deps.db, default_tz=settings.timezone.key, hour=settings.schedule.digest_hour,
                start=start, end=end,
            )
        ]  # fmt: skip

    async def prepare(self, deps: Deps, occurrence: Occurrence, now: datetime) -> Effects:
        """Issuing reads one form: done inside the run's transaction, with what it writes."""

        async def effects(session: Session) -> dict[str, Any] | None:
            parsed = parse_cycle_key(occurrence.key)
            if parsed is None:
                return {"stale": "bad key"}
            form_id, cycle_key = parsed
            return await issue_cycle(
                session, form_id, cycle_key, at=occurrence.due_at, now=now,
                default_tz=deps.settings.timezone.key,
            )  # fmt: skip

        return effects
