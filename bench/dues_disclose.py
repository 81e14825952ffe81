"""Drafting one large branch's 党费公示: 300 members, a year of ledger entries.

For each backend, medians of several runs:
(a) the disclosure's figures (services.dues_disclose.disclosure: roster, standards,
    exemptions, payments, monthly totals, remittances, each member's status) for the year;
(b) rendering the post's text (ui.dues_disclose.body_html) and (c) the monthly chart (PNG);
baseline: the same branch's 党费交纳登记表 read (services.dues_ledger.register_in), which scans
the same entries. The ratio (a)/baseline is reported, never asserted.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path

from bench.city import backends, scratch_database
from bot.app import build_deps
from bot.config import parse_config
from domain.dues import months_between
from domain.orgs import Kind, Level, Status
from services.authz import Actor
from services.dues_disclose import disclosure
from services.dues_ledger import register_in
from storage.db import Database
from storage.models import DuesEntry, DuesStandard, Member, Organization
from ui.dues_disclose import body_html, chart_png

NOW = datetime(2027, 1, 5, 2, tzinfo=UTC)
SUPER = Actor(user_id=0, superadmin=True)


async def build(db: Database, members: int) -> int:
    """A committee and one branch of `members`, each with a standard and up to 13 months paid."""
    rng = random.Random(5)
    async with db.transaction() as s:
        committee = Organization(level=Level.COMMITTEE, kind=Kind.COMPREHENSIVE, name="综合党委",
                                 gate_enabled=True, created_at=NOW)  # fmt: skip
        s.add(committee)
        await s.flush()
        branch = Organization(level=Level.BRANCH, kind=Kind.STANDARD, name="大支部",
                              parent_id=committee.id, gate_enabled=True,
                              created_at=NOW)  # fmt: skip
        s.add(branch)
        await s.flush()
        rows = [
            Member(org_id=branch.id, name=f"党员{i:03d}", stage="full", status=Status.ACTIVE,
                   source="import", created_at=NOW, updated_at=NOW)
            for i in range(members)
        ]  # fmt: skip
        s.add_all(rows)
        await s.flush()
        for row in rows:
            amount = rng.choice((1_500, 4_000, 8_100, 12_000))
            s.add(DuesStandard(member_id=row.id, org_id=branch.id, category="working",
                               permille=10, amount_fen=amount, from_month=202601,
                               status="confirmed", declared_at=NOW))  # fmt: skip
            last = rng.choice((202609, 202611, 202612, 202612, 202612, 202701))
            for month in months_between(202601, last):
                s.add(DuesEntry(member_id=row.id, org_id=branch.id, month=month,
                                amount_fen=amount, kind="dues", recorded_by=1,
                                recorded_at=NOW))  # fmt: skip
        return branch.id


async def _median(runs: int, work: Callable[[], Awaitable[object]]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


async def _measure(backend: str, db: Database, members: int, runs: int) -> None:
    branch = await build(db, members)
    cfg = parse_config(
        {"telegram": {"token": "1:x"}, "database": {"url": db.url}}, config_dir=Path("."), env={}
    )
    catalog = build_deps(cfg, db=db).catalog
    data = await disclosure(db, SUPER, branch, "2026", date(2027, 1, 5))

    async def figures() -> None:
        await disclosure(db, SUPER, branch, "2026", date(2027, 1, 5))

    async def text() -> None:
        body_html(catalog, "zh_CN", data)

    async def chart() -> None:
        chart_png(catalog, "zh_CN", data)

    async def register() -> None:
        async with db.read() as s:
            await register_in(s, branch, 2026)

    a = await _median(runs, figures)
    b = await _median(runs, text)
    c = await _median(runs, chart)
    base = await _median(runs, register)
    size = len(body_html(catalog, "zh_CN", data))
    print(
        f"dues_disclose [{backend}]: one branch of {members} members, a year of entries\n"
        f"  (a) disclosure figures  median {a * 1000:7.1f} ms\n"
        f"  (b) post text           median {b * 1000:7.1f} ms  ({size} chars)\n"
        f"  (c) monthly chart       median {c * 1000:7.1f} ms\n"
        f"  baseline: register read median {base * 1000:7.1f} ms; "
        f"ratio (a)/baseline {a / base:.2f}",
        flush=True,
    )


async def run(*, quick: bool = False) -> None:
    """Print the disclosure's drafting timings per backend."""
    members, runs = (300, 3) if quick else (300, 7)
    for backend in backends():
        async with scratch_database(backend) as db:
            await _measure(backend, db, members, runs)
