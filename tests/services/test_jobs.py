"""The job runner: each occurrence once, late ones within the grace, two processes never both."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import build_deps
from bot.config import parse_config
from scheduler.jobs import JobRunner
from services.jobs import Effects, Occurrence, last_runs
from services.outbox import enqueue_text
from storage.db import Database
from storage.models import JobRun, OutboxItem
from tests.conftest import FakeClock
from ui.deps import Deps

START = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)


class Hourly:
    """A toy job due at every full hour: one outbox text per occurrence."""

    name = "hourly"
    summary = "a text every hour"

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay  # seconds spent inside the transaction (to make runs overlap)
        self.calls = 0

    async def due(self, deps: Deps, start: datetime, end: datetime) -> list[Occurrence]:
        first = start.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        out = []
        at = first
        while at <= end:
            if at > start:
                out.append(Occurrence(at, self.name, at.strftime("%Y-%m-%dT%H")))
            at += timedelta(hours=1)
        return out

    async def prepare(self, deps: Deps, occurrence: Occurrence, now: datetime) -> Effects:
        async def effects(session: AsyncSession) -> dict[str, Any]:
            return await self.run(deps, session, occurrence, now)

        return effects

    async def run(
        self, deps: Deps, session: AsyncSession, occurrence: Occurrence, now: datetime
    ) -> dict[str, Any]:
        self.calls += 1
        enqueue_text(session, chat_id=1, html=occurrence.key, now=now)
        if self.delay:
            await asyncio.sleep(self.delay)
        return {"texts": 1}


def _deps(db: Database, clock: FakeClock, grace_hours: int = 0) -> Deps:
    cfg = parse_config(
        {"telegram": {"token": "1:x"}, "database": {"url": db.url},
         "schedule": {"grace_hours": grace_hours}},
        config_dir=Path("."),
        env={},
    )  # fmt: skip
    return build_deps(cfg, clock=clock, db=db)


async def _texts(db: Database) -> list[str]:
    async with db.read() as s:
        items = (await s.scalars(select(OutboxItem).order_by(OutboxItem.id))).all()
    return [item.payload["html"] for item in items]


async def test_an_occurrence_runs_once_even_after_a_restart(db: Database) -> None:
    clock = FakeClock(START + timedelta(seconds=20))
    job = Hourly()
    assert await JobRunner(_deps(db, clock), [job]).tick() == 1
    assert await JobRunner(_deps(db, clock), [job]).tick() == 0  # a restarted process
    clock.advance(hours=1)
    runner = JobRunner(_deps(db, clock), [job])
    assert await runner.tick() == 1
    assert await runner.tick() == 0
    assert await _texts(db) == ["2026-12-01T00", "2026-12-01T01"]
    assert job.calls == 2


async def test_downtime_is_caught_up_within_the_grace_and_older_is_skipped(db: Database) -> None:
    clock = FakeClock(START + timedelta(seconds=20))
    await JobRunner(_deps(db, clock, grace_hours=2), [Hourly()]).tick()
    # Down from 00:00 to 05:30: 01..03 are older than the 2-hour grace, 04 and 05 are not.
    clock.set(START + timedelta(hours=5, minutes=30))
    assert await JobRunner(_deps(db, clock, grace_hours=2), [Hourly()]).tick() == 2
    texts = await _texts(db)
    assert texts[-3:] == ["2026-12-01T00", "2026-12-01T04", "2026-12-01T05"]
    async with db.read() as s:
        outcomes = dict(
            (
                await s.execute(
                    select(JobRun.key, JobRun.outcome).where(JobRun.key >= "2026-12-01")
                )
            ).all()
        )
    assert outcomes == {
        "2026-12-01T00": "done",
        "2026-12-01T01": "skipped",
        "2026-12-01T02": "skipped",
        "2026-12-01T03": "skipped",
        "2026-12-01T04": "done",
        "2026-12-01T05": "done",
    }
    latest = await last_runs(db, ["hourly"])
    assert latest["hourly"].key == "2026-12-01T05"
    assert latest["hourly"].detail == {"texts": 1}


async def test_a_failing_occurrence_leaves_nothing_and_runs_again(db: Database) -> None:
    clock = FakeClock(START + timedelta(seconds=20))

    class Flaky(Hourly):
        async def run(
            self, deps: Deps, session: AsyncSession, occurrence: Occurrence, now: datetime
        ) -> dict[str, Any]:
            await super().run(deps, session, occurrence, now)
            if self.calls == 1:
                raise RuntimeError("the database went away")
            return {"texts": 1}

    job = Flaky()
    runner = JobRunner(_deps(db, clock), [job])
    assert await runner.tick() == 0
    assert await _texts(db) == []
    assert await runner.tick() == 1
    assert await _texts(db) == ["2026-12-01T00"]


async def test_run_at_runs_what_was_due_by_then(db: Database) -> None:
    clock = FakeClock(START)
    runner = JobRunner(_deps(db, clock), [Hourly()])
    runner = JobRunner(_deps(db, clock, grace_hours=2), [Hourly()])
    assert await runner.run_at("hourly", START + timedelta(hours=3, minutes=10)) == 2
    assert await runner.run_at("hourly", START + timedelta(hours=3, minutes=10)) == 0
    upcoming = await runner.upcoming(START + timedelta(hours=3, minutes=10), timedelta(days=1))
    nxt = upcoming["hourly"]
    assert nxt is not None
    assert nxt.key == "2026-12-01T04"


async def test_two_processes_sharing_the_database_never_both_run(db: Database) -> None:
    clock = FakeClock(START + timedelta(seconds=20))
    first, second = db, Database(db.url)  # two connection pools, as two processes have
    try:
        jobs = Hourly(delay=0.2), Hourly(delay=0.2)
        runners = [JobRunner(_deps(first, clock), [jobs[0]]),
                   JobRunner(_deps(second, clock), [jobs[1]])]  # fmt: skip
        ran = await asyncio.gather(*(r.tick() for r in runners))
        assert sorted(ran) == [0, 1]
        async with first.read() as s:
            assert await s.scalar(select(func.count()).select_from(OutboxItem)) == 1
            done = select(func.count()).select_from(JobRun).where(JobRun.outcome == "done")
            assert await s.scalar(done) == 1
    finally:
        await second.dispose()


async def test_a_zero_grace_still_runs_what_fell_due_since_the_last_tick(db: Database) -> None:
    clock = FakeClock(START + timedelta(seconds=20))
    assert await JobRunner(_deps(db, clock, grace_hours=0), [Hourly()]).tick() == 1
