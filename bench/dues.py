"""Party dues at city scale: every branch's arrears, the committee roll-up, one member's
standing, a branch's yearly register.

On a generated city (2,000 branches, 150,000 members; the 20 committees of bench.city
gathered under one city committee), each member with a confirmed standard from December 2025
and a year of entries (about 1.8 million member-months, bulk-inserted): most paid every month,
some a month or two behind, some three to five, a few six or more; a few corrections and
voluntary extras. For each backend:

(a) arrears and status of all 2,000 branches as of November 2026
    (services.dues_ledger.branch_statuses: members, standards, entries, standing per member).
    Baseline: one bare SELECT of the year's entry rows. Target < 2 s.
(b) the city committee's roll-up with its chart (services.dues_ledger.committee_rollup and
    ui.dues_ledger.rollup_chart). Baseline: the same bare SELECT. Target < 5 s.
(c) one member's standing as 我的党费 shows it (services.dues.standings for one id), p95 over
    many members. Baseline: a bare SELECT of that member's entries. Target < 100 ms.
(d) a branch's yearly 党费交纳登记表, read and written as XLSX (the largest branch).
    Baseline: a bare SELECT of the branch's entries for the year. Target < 1 s.

Medians of several runs; ratios are reported, never asserted.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import insert, select, text, update

from bench.city import NOW, TODAY, backends, generate_city, scratch_database
from bot.i18n import load_catalog
from domain.dues import add_months, month_of
from domain.orgs import Kind, Level, Status
from services.authz import Actor
from services.dues import standings
from services.dues_ledger import branch_register, branch_statuses, committee_rollup
from storage.db import Database
from storage.models import DuesEntry, DuesStandard, Member, Organization
from ui.dues_ledger import register_xlsx, rollup_chart

SUPER = Actor(user_id=0, superadmin=True)
FIRST = 202512
AS_OF = month_of(TODAY)  # 202611
CHUNK = 5000


async def _insert(db: Database, model: Any, rows: list[dict[str, Any]]) -> None:
    async with db.transaction() as s:
        for i in range(0, len(rows), CHUNK):
            await s.execute(insert(model), rows[i : i + CHUNK])


async def build(db: Database, branches: int, members: int) -> tuple[int, int]:
    """The city under one city committee, standards and a year of entries; (city, entries)."""
    await generate_city(db, branches=branches, members=members)
    async with db.transaction() as s:
        city = Organization(level=Level.COMMITTEE, kind=Kind.COMPREHENSIVE, name="市委",
                            gate_enabled=True, created_at=NOW)  # fmt: skip
        s.add(city)
        await s.flush()
        await s.execute(
            update(Organization)
            .where(Organization.level == Level.COMMITTEE, Organization.id != city.id)
            .values(parent_id=city.id)
        )
        people = (
            await s.execute(select(Member.id, Member.org_id).where(Member.status == Status.ACTIVE))
        ).all()
        city_id = city.id
    rng = random.Random(5)
    standards: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    months = [add_months(FIRST, i) for i in range(12)]
    for member_id, org_id in people:
        amount = rng.choice((20, 2_500, 5_000, 8_100, 12_000, 23_000))
        standards.append({"member_id": member_id, "org_id": org_id, "category": "working",
                          "permille": 10, "amount_fen": amount, "from_month": FIRST,
                          "status": "confirmed", "declared_at": NOW})  # fmt: skip
        roll = rng.random()
        behind = 0 if roll < 0.80 else rng.randint(1, 2) if roll < 0.90 else (
            rng.randint(3, 5) if roll < 0.96 else rng.randint(6, 12))  # fmt: skip
        for month in months[: len(months) - behind]:
            entries.append({"member_id": member_id, "org_id": org_id, "month": month,
                            "amount_fen": amount, "kind": "dues", "to_centre": False,
                            "recorded_by": 1, "recorded_at": NOW})  # fmt: skip
        if rng.random() < 0.01:
            entries.append({"member_id": member_id, "org_id": org_id, "month": None,
                            "amount_fen": 50_000, "kind": "extra", "to_centre": False,
                            "recorded_by": 1, "recorded_at": NOW})  # fmt: skip
    await _insert(db, DuesStandard, standards)
    await _insert(db, DuesEntry, entries)
    async with db.transaction() as s:  # statistics, as a database that has been running has
        await s.execute(text("ANALYZE"))
    return city_id, len(entries)


async def _median(runs: int, call: Callable[[], Awaitable[Any]]) -> tuple[float, float]:
    """(median, first) wall time in seconds over `runs` calls."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times[0]


def _bare(db: Database, *where: Any) -> Callable[[], Awaitable[int]]:
    """The baseline: one SELECT of the entry rows the service reads, as cheaply as Core allows."""
    query = select(DuesEntry.member_id, DuesEntry.month, DuesEntry.amount_fen,
                   DuesEntry.kind).where(*where)  # fmt: skip

    async def select_rows() -> int:
        async with db.read() as s:
            connection = await s.connection()
            return len((await connection.execute(query)).all())

    return select_rows


async def _measure(backend: str, db: Database, branches: int, members: int, runs: int) -> None:
    started = time.perf_counter()
    city_id, entry_count = await build(db, branches, members)
    built = time.perf_counter() - started
    catalog = load_catalog("zh_CN")
    year = _bare(db, DuesEntry.month.between(202601, 202612))
    async with db.read() as s:
        orgs = [(int(i), str(n)) for i, n in (await s.execute(
            select(Organization.id, Organization.name).where(Organization.level == Level.BRANCH)
        )).all()]  # fmt: skip
        member_ids = list((await s.scalars(select(Member.id))).all())
    found: dict[str, Any] = {}

    async def all_branches() -> None:
        async with db.read() as s:
            found["statuses"] = await branch_statuses(s, orgs, 2026, AS_OF)

    async def rollup() -> None:
        result = await committee_rollup(db, SUPER, city_id, 2026, TODAY)
        found["png"] = len(rollup_chart(catalog, "zh_CN", result))

    ours_a, first_a = await _median(runs, all_branches)
    base_a, _ = await _median(runs, year)
    rows = await year()
    behind = sum(b.behind_1_2 + b.behind_3_5 + b.behind_6 for b in found["statuses"])
    ours_b, first_b = await _median(max(1, runs // 2), rollup)

    # (c) one member at a time, as 我的党费 reads it.
    rng = random.Random(3)
    sample = rng.sample(member_ids, min(300, len(member_ids)))
    one: list[float] = []
    bare_one: list[float] = []
    for member_id in sample:
        t0 = time.perf_counter()
        async with db.read() as s:
            await standings(s, [member_id], TODAY)
        one.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        await _bare(db, DuesEntry.member_id == member_id)()
        bare_one.append(time.perf_counter() - t0)
    p95 = statistics.quantiles(one, n=20)[-1]
    p95_bare = statistics.quantiles(bare_one, n=20)[-1]

    # (d) the largest branch's register, read and written.
    async with db.read() as s:
        counts = (await s.execute(
            select(Member.org_id, Member.id).where(Member.status == Status.ACTIVE)
        )).all()  # fmt: skip
    sizes: dict[int, int] = {}
    for org_id, _ in counts:
        sizes[org_id] = sizes.get(org_id, 0) + 1
    biggest = max(sizes, key=lambda o: sizes[o])

    async def register() -> None:
        result = await branch_register(db, SUPER, biggest, 2026, TODAY)
        found["xlsx"] = len(register_xlsx(catalog, "zh_CN", result))

    ours_d, first_d = await _median(runs, register)
    base_d, _ = await _median(
        runs, _bare(db, DuesEntry.org_id == biggest, DuesEntry.month.between(202601, 202612))
    )
    print(
        f"dues [{backend}]: {branches} branches / {members} members, {entry_count} entries, "
        f"built in {built:.1f} s\n"
        f"  (a) all branches as of {AS_OF}: {len(found['statuses'])} branches, "
        f"{behind} members behind\n"
        f"      branch_statuses     median {ours_a * 1000:7.0f} ms  "
        f"(first {first_a * 1000:.0f} ms)  target < 2000 ms\n"
        f"      bare SELECT         median {base_a * 1000:7.0f} ms  ({rows} rows)\n"
        f"      ratio               {ours_a / base_a:7.2f}\n"
        f"  (b) city roll-up with chart (png {found['png'] // 1024} KiB)\n"
        f"      rollup+chart        median {ours_b * 1000:7.0f} ms  "
        f"(first {first_b * 1000:.0f} ms)  target < 5000 ms\n"
        f"      ratio to bare       {ours_b / base_a:7.2f}\n"
        f"  (c) one member's standing, {len(sample)} members\n"
        f"      standings p95       {p95 * 1000:7.1f} ms  (median "
        f"{statistics.median(one) * 1000:.1f} ms)  target < 100 ms\n"
        f"      bare SELECT p95     {p95_bare * 1000:7.1f} ms\n"
        f"      ratio               {p95 / p95_bare:7.2f}\n"
        f"  (d) register of the largest branch ({sizes[biggest]} members, "
        f"xlsx {found['xlsx'] // 1024} KiB)\n"
        f"      register+xlsx       median {ours_d * 1000:7.0f} ms  "
        f"(first {first_d * 1000:.0f} ms)  target < 1000 ms\n"
        f"      bare SELECT         median {base_d * 1000:7.0f} ms\n"
        f"      ratio               {ours_d / base_d:7.2f}",
        flush=True,
    )


async def run(*, quick: bool = False) -> None:
    """Print dues timings per backend."""
    branches, members, runs = (200, 15_000, 3) if quick else (2000, 150_000, 5)
    for backend in backends():
        async with scratch_database(backend) as db:
            await _measure(backend, db, branches, members, runs)


__all__ = ["run"]
