"""The scheduled jobs and their runner: due occurrences run once, late ones within the grace.

Nothing about what is scheduled lives in memory. Every tick asks each job which of its
occurrences fell due within the grace period, skips those job_runs already holds, and runs
the rest (services.jobs.run_occurrence: the run's record and its effects commit together).
So a reminder that fell due while the bot was down goes out once after the restart, an
older one is recorded as skipped, and a second process finds nothing left to do.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from telegram.ext import Application, ContextTypes

from scheduler.compliance import compliance_jobs
from scheduler.dues_declare import DuesDeclareReminder
from scheduler.dues_disclose import DuesDiscloseReminder
from scheduler.dues_reminders import DuesPaymentDay
from scheduler.forms_cycles import FormCycles
from scheduler.forms_reminders import FormReminders
from scheduler.meetings_reminders import MeetingReminders
from scheduler.notices import NoticeNudges
from services.jobs import Effects, Occurrence, already_ran, record_skipped, run_occurrence
from ui.deps import Deps

log = logging.getLogger(__name__)

TICK = 30.0  # seconds between looks at what is due
SCHEDULED_JOBS = "scheduled-jobs"  # the tick's name on the JobQueue (tests remove it)
# On start-up, occurrences this far before the grace period are recorded as skipped, so
# `zhibu jobs list` shows what the downtime cost; older ones are simply forgotten.
SKIP_LOOKBACK = timedelta(days=3)


class Job(Protocol):
    """A kind of scheduled work: when it is due, and what one occurrence does."""

    name: str
    summary: str  # one line for operators (`zhibu jobs list`)

    async def due(self, deps: Deps, start: datetime, end: datetime) -> list[Occurrence]:
        """The occurrences due in (start, end], UTC."""
        ...

    async def prepare(self, deps: Deps, occurrence: Occurrence, now: datetime) -> Effects:
        """Read and render what one occurrence needs, outside any write transaction, and
        return its effects: what to write (outbox items…) in the run's own transaction.

        The heavy part of a city-wide job (compliance of 2,000 branches, a chart) happens
        here, so the write lock is held only for the inserts: on SQLite every button press
        waits for that lock.
        """
        ...


def default_jobs() -> list[Job]:
    """Every job the bot runs, in the order they are looked at."""
    # A new cycle is issued before its own reminders are looked at.
    return [
        MeetingReminders(), *compliance_jobs(), NoticeNudges(), FormCycles(), FormReminders(),
        DuesPaymentDay(), DuesDeclareReminder(), DuesDiscloseReminder(),
    ]  # fmt: skip


class JobRunner:
    """Runs due occurrences of the jobs; the same code serves the bot's tick and the CLI."""

    def __init__(self, deps: Deps, jobs: Sequence[Job] | None = None) -> None:
        self.deps = deps
        self.jobs = list(default_jobs() if jobs is None else jobs)
        self._started = False

    def job(self, name: str) -> Job:
        """The job with this name (KeyError when there is none)."""
        for job in self.jobs:
            if job.name == name:
                return job
        raise KeyError(name)

    @property
    def grace(self) -> timedelta:
        # At least two ticks, so an occurrence is never missed between two looks.
        return max(timedelta(hours=self.deps.settings.schedule.grace_hours),
                   timedelta(seconds=2 * TICK))  # fmt: skip

    async def _pending(self, job: Job, start: datetime, end: datetime) -> list[Occurrence]:
        occurrences = sorted(await job.due(self.deps, start, end))
        ran = await already_ran(self.deps.db, job.name, [o.key for o in occurrences])
        return [o for o in occurrences if o.key not in ran]

    async def run_job(self, job: Job, start: datetime, end: datetime, now: datetime) -> int:
        """Run the occurrences of one job due in (start, end] that never ran; how many ran."""
        ran = 0
        for occurrence in await self._pending(job, start, end):
            try:
                effects = await job.prepare(self.deps, occurrence, now)
                detail = await run_occurrence(self.deps.db, occurrence, now, effects)
            except Exception:  # one bad occurrence must not stop the others; retried next tick
                log.exception("job %s %s failed", occurrence.job, occurrence.key)
                continue
            if detail is not None:
                ran += 1
                log.info("job %s %s ran: %s", occurrence.job, occurrence.key, detail)
        return ran

    async def tick(self, now: datetime | None = None) -> int:
        """Run everything due now (within the grace period); how many occurrences ran."""
        now = now or self.deps.clock.now()
        cutoff = now - self.grace
        if not self._started:
            self._started = True
            for job in self.jobs:
                try:
                    stale = await self._pending(job, cutoff - SKIP_LOOKBACK, cutoff)
                    await record_skipped(self.deps.db, stale, now)
                except Exception:
                    log.exception("job %s: could not record what the downtime skipped", job.name)
        ran = 0
        for job in self.jobs:
            try:
                ran += await self.run_job(job, cutoff, now, now)
            except Exception:  # e.g. the database away for a moment: the next tick retries
                log.exception("job %s: could not look at what is due", job.name)
        if ran:
            self.deps.outbox.wake()
        return ran

    async def run_at(self, name: str, at: datetime) -> int:
        """Run one job as if it were `at` (operators and tests): what fell due by then."""
        return await self.run_job(self.job(name), at - self.grace, at, self.deps.clock.now())

    async def upcoming(self, now: datetime, horizon: timedelta) -> dict[str, Occurrence | None]:
        """Each job's next occurrence after now, within the horizon."""
        nexts: dict[str, Occurrence | None] = {}
        for job in self.jobs:
            occurrences = sorted(await job.due(self.deps, now, now + horizon))
            nexts[job.name] = occurrences[0] if occurrences else None
        return nexts


def register_jobs(app: Application) -> None:  # type: ignore[type-arg]
    """Tick the runner on PTB's JobQueue; what is due and what ran live in the database."""
    assert app.job_queue is not None
    runner: JobRunner | None = None

    async def tick(context: ContextTypes.DEFAULT_TYPE) -> None:
        nonlocal runner
        if runner is None:
            runner = JobRunner(app.bot_data.deps)
        await runner.tick()

    app.job_queue.run_repeating(tick, TICK, first=3.0, name=SCHEDULED_JOBS)
