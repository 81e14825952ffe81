"""`zhibu jobs …`: what each scheduled job does next and did last; run one for a moment."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.config import Config, ConfigError
from services.clock import Clock
from services.jobs import Occurrence, already_ran, last_runs
from storage.db import DatabaseUnavailable

if TYPE_CHECKING:
    from scheduler.jobs import JobRunner

EXIT_USAGE = 2
LOOKAHEAD = timedelta(days=62)  # how far `jobs list` looks for each job's next occurrence


def add_jobs_parser(
    subparsers: argparse._SubParsersAction,  # type: ignore[type-arg]
    parents: Sequence[argparse.ArgumentParser] = (),
) -> None:
    """Add `zhibu jobs list` and `zhibu jobs run NAME --at TIME` to the command line."""
    common = list(parents)
    jobs = subparsers.add_parser(
        "jobs",
        help="scheduled jobs (reminders, reports): list them, run one for a given moment",
        description="The scheduled jobs. What is due and what already ran live in the "
        "database, so these commands work beside a running bot and never repeat what it did.",
    )
    actions = jobs.add_subparsers(dest="jobs_command", metavar="ACTION", required=True)
    actions.add_parser(
        "list",
        parents=common,
        help="each job's next occurrence and last run",
        description="Show each job: its next occurrence (within "
        f"{LOOKAHEAD.days} days) and its last recorded run with outcome and counts. Times "
        "are in bot.timezone.",
    )
    run = actions.add_parser(
        "run",
        parents=common,
        help="run one job as if it were a given moment",
        description="Run what one job had due by --at (within the grace period) and has "
        "not run yet; print how many occurrences ran. Their messages wait in the outbox "
        "until the running bot sends them. Exit status 2 for an unknown job or time.",
    )
    run.add_argument("name", metavar="NAME", help="the job's name, as `zhibu jobs list` shows it")
    run.add_argument(
        "--at",
        required=True,
        metavar="TIME",
        help='"2026-12-05 09:00" in bot.timezone, or ISO 8601 with an offset '
        '("2026-12-05T09:00+08:00")',
    )


def parse_at(value: str, tz: ZoneInfo) -> datetime | None:
    """The moment an operator typed: local to `tz` unless it names its own offset."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=tz)


def _when(value: datetime | None, tz: ZoneInfo, seconds: bool = False) -> str:
    if value is None:
        return "-"
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def _detail(detail: dict[str, Any] | None) -> str:
    if not detail:
        return "-"
    return " ".join(f"{key}={value}" for key, value in detail.items())


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in rows]  # fmt: skip


def usage_problem(cfg: Config, args: argparse.Namespace) -> str | None:
    """What is wrong with a `zhibu jobs` command line (an unknown job or time), before any
    database is touched; None when nothing is."""
    if args.jobs_command != "run":
        return None
    from scheduler.jobs import default_jobs  # see jobs_command

    names = [job.name for job in default_jobs()]
    if args.name not in names:
        return f"zhibu jobs: no job named {args.name!r}; jobs: {', '.join(names)}"
    if parse_at(args.at, ZoneInfo(cfg.bot.timezone)) is None:
        return (f"zhibu jobs: --at {args.at!r} is not a time; write \"2026-12-05 09:00\" "
                "or \"2026-12-05T09:00+08:00\"")  # fmt: skip
    return None


async def jobs_command(cfg: Config, args: argparse.Namespace, *, clock: Clock | None = None) -> int:
    """Run one `zhibu jobs` action; 0 on success, 2 for an unknown job or time."""
    tz = ZoneInfo(cfg.bot.timezone)
    problem = usage_problem(cfg, args)
    if problem is not None:
        print(problem, file=sys.stderr)
        return EXIT_USAGE
    at = parse_at(args.at, tz) if args.jobs_command == "run" else None
    # Imported when used: the bot's handlers take two seconds to import, and every other
    # `zhibu` command (org, members, db) should start without them.
    from bot.app import build_deps
    from scheduler.jobs import JobRunner

    deps = build_deps(cfg, clock=clock)
    try:
        try:
            await deps.db.ping()
        except DatabaseUnavailable as exc:
            raise ConfigError("database.url", f"cannot reach the database ({exc})") from None
        runner = JobRunner(deps)
        if at is None:
            await _list(runner, tz)
        else:
            await _run(runner, args.name, at, tz)
        return 0
    finally:
        await deps.db.dispose()


async def _list(runner: JobRunner, tz: ZoneInfo) -> None:
    now = runner.deps.clock.now()
    last = await last_runs(runner.deps.db, [job.name for job in runner.jobs])
    upcoming: dict[str, Occurrence | None] = {}
    for job in runner.jobs:
        # Not JobRunner.upcoming: an operator may already have run an occurrence ahead.
        ahead = sorted(await job.due(runner.deps, now, now + LOOKAHEAD))
        ran = await already_ran(runner.deps.db, job.name, [o.key for o in ahead])
        upcoming[job.name] = next((o for o in ahead if o.key not in ran), None)
    rows = [["JOB", "NEXT", "NEXT KEY", "LAST DUE", "OUTCOME", "RAN AT", "LAST KEY", "DETAIL"]]
    for job in runner.jobs:
        nxt, done = upcoming.get(job.name), last.get(job.name)
        rows.append(
            [
                job.name,
                _when(nxt.due_at, tz) if nxt else f"none in {LOOKAHEAD.days} days",
                nxt.key if nxt else "-",
                _when(done.due_at if done else None, tz),
                done.outcome if done else "never ran",
                _when(done.ran_at if done else None, tz, seconds=True),
                done.key if done else "-",
                _detail(done.detail if done else None),
            ]
        )
    print(f"Scheduled jobs (times in {tz.key}, now {_when(now, tz)}):")
    for line in _table(rows):
        print(line)
    print()
    for job in runner.jobs:
        print(f"{job.name}: {job.summary}")


async def _run(runner: JobRunner, name: str, at: datetime, tz: ZoneInfo) -> None:
    ran = await runner.run_at(name, at)
    hours = runner.grace.total_seconds() / 3600
    print(f"zhibu jobs: {name} for {_when(at, tz)} ({tz.key}): {ran} occurrence(s) ran, "
          f"of those due in the {hours:g} hours before (the grace period) that had not "
          "run yet.")  # fmt: skip
    if ran:
        print("Their messages wait in the outbox: the running bot sends them "
              "(nothing is sent to Telegram from here).")  # fmt: skip
    else:
        print("Nothing was due then that had not already run.")
