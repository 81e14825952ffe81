"""Scheduled work, once per occurrence: each run is recorded in the transaction of its effects.

A job (a meeting reminder, the monthly digest, an end-of-period report) is a series of
occurrences, each named by a key ("2026-12-01@Asia/Shanghai", "42@60@2026-12-05T11:30Z").
Running one inserts its job_runs row first, then writes its effects (outbox items, flags)
in the same transaction. The row's (job, key) is unique, so:
- a restart after the commit finds the row and does nothing: never twice;
- a crash before the commit loses the row and the effects together: run again later;
- two processes sharing PostgreSQL both try; the second's INSERT waits for the first's
  commit, then inserts nothing, and the second runs no effects. On SQLite the writers are
  serialized by BEGIN IMMEDIATE to the same end.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import JobRun, Organization

log = logging.getLogger(__name__)

# The open transaction an occurrence's effects write in; jobs pass it on, never look inside.
Session = AsyncSession

# What an occurrence does inside the transaction; returns a summary kept for `zhibu jobs`.
Effects = Callable[[AsyncSession], Awaitable[dict[str, Any] | None]]


@dataclass(frozen=True, order=True)
class Occurrence:
    """One moment a job is due: which job, which occurrence, when (UTC)."""

    due_at: datetime
    job: str
    key: str


@dataclass(frozen=True)
class RunView:
    """A recorded run, for `zhibu jobs list`."""

    job: str
    key: str
    due_at: datetime
    ran_at: datetime
    outcome: str
    detail: dict[str, Any] | None


def _insert_run(dialect: str, values: dict[str, Any]) -> Any:
    module: Any = postgresql if dialect == "postgresql" else sqlite
    return (
        module.insert(JobRun)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["job", "key"])
        .returning(JobRun.id)
    )


async def run_occurrence(
    db: Database, occurrence: Occurrence, now: datetime, effects: Effects
) -> dict[str, Any] | None:
    """Run one occurrence unless it already ran; its summary, or None when it had run."""
    async with db.transaction() as session:
        run_id = await session.scalar(
            _insert_run(
                db.dialect,
                {"job": occurrence.job, "key": occurrence.key, "due_at": occurrence.due_at,
                 "ran_at": now, "outcome": "done", "detail": None},
            )
        )  # fmt: skip
        if run_id is None:
            return None
        detail = await effects(session) or {}
        await session.execute(update(JobRun).where(JobRun.id == run_id).values(detail=detail))
    return detail


async def record_skipped(db: Database, occurrences: Iterable[Occurrence], now: datetime) -> int:
    """Record occurrences that fell due too long ago to be worth sending; how many were new."""
    recorded = 0
    async with db.transaction() as session:
        for occ in occurrences:
            run_id = await session.scalar(
                _insert_run(
                    db.dialect,
                    {"job": occ.job, "key": occ.key, "due_at": occ.due_at, "ran_at": now,
                     "outcome": "skipped", "detail": None},
                )
            )  # fmt: skip
            if run_id is not None:
                recorded += 1
                log.warning("job %s %s was due at %s: skipped (past grace)", occ.job, occ.key,
                            occ.due_at.isoformat())  # fmt: skip
    return recorded


async def already_ran(db: Database, job: str, keys: Sequence[str]) -> set[str]:
    """Which of these occurrence keys of a job have a recorded run (done or skipped)."""
    found: set[str] = set()
    async with db.read() as session:
        for start in range(0, len(keys), 500):  # stay under bound-parameter limits
            chunk = list(keys[start : start + 500])
            rows = await session.scalars(
                select(JobRun.key).where(JobRun.job == job, JobRun.key.in_(chunk))
            )
            found.update(rows)
    return found


async def last_runs(db: Database, jobs: Sequence[str]) -> dict[str, RunView]:
    """The most recent recorded run of each job (by due time)."""
    async with db.read() as session:
        latest = (
            select(JobRun.job, func.max(JobRun.due_at).label("due_at"))
            .where(JobRun.job.in_(list(jobs)))
            .group_by(JobRun.job)
            .subquery()
        )
        rows = (
            await session.execute(
                select(JobRun)
                .join(latest, (JobRun.job == latest.c.job) & (JobRun.due_at == latest.c.due_at))
                .order_by(JobRun.id)
            )
        ).scalars()
        return {
            row.job: RunView(row.job, row.key, row.due_at, row.ran_at, row.outcome, row.detail)
            for row in rows
        }


async def effective_timezones(session: AsyncSession, default: str) -> dict[int, str]:
    """Each active organization's time zone: its own, else the nearest ancestor's, else default."""
    rows = (
        await session.execute(
            select(Organization.id, Organization.parent_id, Organization.timezone).where(
                Organization.archived_at.is_(None)
            )
        )
    ).all()
    parent = {org_id: parent_id for org_id, parent_id, _ in rows}
    own = {org_id: tz for org_id, _, tz in rows if tz}
    resolved: dict[int, str] = {}
    for org_id in parent:
        chain: list[int] = []
        node: int | None = org_id
        zone = default
        while node is not None and node not in resolved and len(chain) <= len(parent):
            if node in own:
                zone = own[node]
                break
            chain.append(node)
            node = parent.get(node)
        else:
            if node is not None and node in resolved:
                zone = resolved[node]
        for member in chain:
            resolved[member] = zone
        resolved.setdefault(org_id, zone)
    return resolved
