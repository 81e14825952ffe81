"""The dues payment day at city scale: one occurrence covering every branch of the city.

On a generated city (2,000 branches, 150,000 members) every member has had a confirmed standard
for six months and up to six months of ledger entries: about seven in ten are paid up, the
rest one to seven months behind (so the escalations fire too); each branch has an
organization member who keeps the dues. For each backend:

(a) the payment-day occurrence as the job runner runs it (scheduler.dues_reminders): who
    owes read in set-based queries, every private reminder, keepers' status and arrears flag
    rendered, then all inserted in one transaction (rolled back, so each run starts the
    same). Target < 30 s.
(b) baseline: the same number of outbox rows, prepared beforehand, inserted in one
    transaction by the same bulk insert (services.outbox.add_items), rolled back.

Medians of several runs; the ratio is reported, never asserted.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from bench.city import NOW, TODAY, backends, generate_city, scratch_database
from bot.app import build_deps
from bot.config import parse_config
from domain.dues import add_months, months_between
from domain.dues_cycle import payment_key, payment_moment
from domain.orgs import Role
from scheduler.dues_reminders import DuesPaymentDay
from services.jobs import Occurrence
from services.outbox import add_items, item_values
from storage.db import Database
from storage.models import DuesEntry, DuesStandard, Member, RoleAssignment

TZ = "Asia/Shanghai"
MONTH = 202612
CHUNK = 5000


async def build(db: Database, branches: int, members: int) -> int:
    """The city with standards, ledgers and a keeper per branch; how many owe."""
    city = await generate_city(db, branches=branches, members=members)
    rng = random.Random(12)
    owing = 0
    async with db.transaction() as s:
        people = (
            await s.execute(select(Member.id, Member.org_id).order_by(Member.org_id, Member.id))
        ).all()
        standards = [
            {"member_id": m, "org_id": o, "category": "working", "permille": 10,
             "amount_fen": rng.choice((1_500, 4_000, 8_100, 12_000)),
             "from_month": add_months(MONTH, -5), "status": "confirmed", "declared_at": NOW}
            for m, o in people
        ]  # fmt: skip
        for i in range(0, len(standards), CHUNK):
            await s.execute(insert(DuesStandard), standards[i : i + CHUNK])
        entries: list[dict[str, Any]] = []
        for row, (member_id, org_id) in zip(standards, people, strict=True):
            behind = 0 if rng.random() < 0.7 else rng.randint(1, 7)
            owing += behind > 0
            for month in months_between(add_months(MONTH, -5), add_months(MONTH, -behind)):
                entries.append({"member_id": member_id, "org_id": org_id, "month": month,
                                "amount_fen": row["amount_fen"], "kind": "dues",
                                "recorded_by": 1, "recorded_at": NOW})  # fmt: skip
            if len(entries) >= CHUNK:
                await s.execute(insert(DuesEntry), entries)
                entries = []
        if entries:
            await s.execute(insert(DuesEntry), entries)
        # Each branch's second member keeps the dues (the organization member).
        seconds: dict[int, int] = {}
        firsts: set[int] = set()
        for member_id, org_id in people:
            if org_id not in firsts:
                firsts.add(org_id)
            elif org_id not in seconds:
                seconds[org_id] = member_id
        await s.execute(
            insert(RoleAssignment),
            [{"org_id": org, "role": Role.ORGANIZATION, "member_id": member_id,
              "start_on": TODAY - timedelta(days=400), "created_at": NOW}
             for org, member_id in seconds.items() if org in city.branches],
        )  # fmt: skip
    return owing


async def _median(runs: int, call: Callable[[], Awaitable[Any]]) -> tuple[float, float]:
    """(median, first) wall time in seconds over `runs` calls."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times[0]


async def _measure(backend: str, db: Database, branches: int, members: int, runs: int) -> None:
    started = time.perf_counter()
    owing = await build(db, branches, members)
    built = time.perf_counter() - started
    cfg = parse_config(
        {"telegram": {"token": "1:x"}, "database": {"url": db.url}}, config_dir=Path("."), env={}
    )
    deps = build_deps(cfg, db=db)
    job = DuesPaymentDay()
    due = payment_moment(MONTH, 5, deps.settings.schedule.digest_hour, TZ)
    occurrence = Occurrence(due, job.name, payment_key(MONTH, 5, TZ))
    detail: dict[str, Any] = {}
    parts: dict[str, list[float]] = {"read+render": [], "insert": []}

    async def payment_day() -> None:
        t0 = time.perf_counter()
        effects = await job.prepare(deps, occurrence, due)
        t1 = time.perf_counter()
        async with db.transaction() as s:
            detail.update(await effects(s) or {})
            await s.rollback()
        parts["read+render"].append(t1 - t0)
        parts["insert"].append(time.perf_counter() - t1)

    ours, first = await _median(runs, payment_day)
    count = int(detail.get("messages", 0))
    rows = [
        item_values(purpose="text", chat_id=6_000_000_000 + i, org_id=1, now=NOW,
                    payload={"html": "王芳同志，您好！今天是支部的党费交纳日。" + "字" * 80,
                             "buttons": []})
        for i in range(count)
    ]  # fmt: skip

    async def bare() -> None:
        async with db.transaction() as s:
            await add_items(s, rows)
            await s.rollback()

    base, _ = await _median(runs, bare)
    med = {k: statistics.median(v) for k, v in parts.items()}
    print(
        f"dues_reminders [{backend}]: {branches} branches / {members} members, "
        f"{owing} owing, built in {built:.1f} s\n"
        f"  (a) one payment-day occurrence: {detail.get('owing', 0)} owing "
        f"({detail.get('unreachable', 0)} unreachable), {detail.get('escalations', 0)} "
        f"escalations, {count} outbox rows\n"
        f"      read+render+insert  median {ours * 1000:7.0f} ms  (first {first * 1000:.0f} ms)"
        f"  target < 30000 ms\n"
        f"        read+render {med['read+render'] * 1000:.0f} ms, insert "
        f"{med['insert'] * 1000:.0f} ms\n"
        f"  (b) bare bulk insert of {count} outbox rows  median {base * 1000:7.0f} ms\n"
        f"      ratio               {ours / base:7.2f}",
        flush=True,
    )


async def run(*, quick: bool = False) -> None:
    """Print the payment-day occurrence's timings per backend."""
    branches, members, runs = (200, 15_000, 3) if quick else (2000, 150_000, 3)
    for backend in backends():
        async with scratch_database(backend) as db:
            await _measure(backend, db, branches, members, runs)
