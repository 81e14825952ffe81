"""上缴情况 at city scale: the city committee's table of 2,000 branches for a quarter.

The city of bench.dues (2,000 branches, 150,000 members, a year of entries, one standard
each), with 2 % of members given a second standard from July and 1 % an exemption (worked out
month by month), and a remittance for the third quarter from most branches (half of them
confirmed). For each backend:

(a) services.dues_remit.committee_remits for 2026-07…2026-09 over the whole city (due,
    collected, remitted, confirmed per branch). Baseline: one bare SELECT of the quarter's
    entry rows. Target < 2 s.
(b) one page of 上缴情况 as the committee sees it (services.dues_remit.remit_board, the
    same read plus the pending list), and the workbook of every branch (ui.dues_remit).

Medians of several runs; ratios are reported, never asserted.
"""

from __future__ import annotations

import random
import time
from typing import Any

from sqlalchemy import select

from bench.city import NOW, TODAY, backends, scratch_database
from bench.dues import _bare, _insert, _median, build
from bot.i18n import load_catalog
from domain.orgs import Level, Status
from services.authz import Actor
from services.dues_remit import committee_remits, remit_board
from storage.db import Database
from storage.models import (
    DuesEntry,
    DuesExemption,
    DuesRemittance,
    DuesStandard,
    Member,
    Organization,
)
from ui.dues_remit import board_xlsx

SUPER = Actor(user_id=0, superadmin=True)
FIRST, LAST = 202607, 202609


async def _extras(db: Database, city_id: int) -> None:
    """Second standards, exemptions and the quarter's remittances."""
    rng = random.Random(11)
    async with db.read() as s:
        people = (
            await s.execute(select(Member.id, Member.org_id).where(Member.status == Status.ACTIVE))
        ).all()
        branches = list(
            await s.scalars(select(Organization.id).where(Organization.level == Level.BRANCH))
        )
        parents = dict((await s.execute(select(Organization.id, Organization.parent_id))).all())
    standards: list[dict[str, Any]] = []
    exemptions: list[dict[str, Any]] = []
    for member_id, org_id in people:
        roll = rng.random()
        if roll < 0.02:
            standards.append({"member_id": member_id, "org_id": org_id, "category": "working",
                              "permille": 15, "amount_fen": 9_000, "from_month": 202607,
                              "status": "confirmed", "declared_at": NOW})  # fmt: skip
        elif roll < 0.03:
            exemptions.append({"member_id": member_id, "org_id": org_id, "from_month": 202608,
                               "until_month": 202612, "amount_fen": 0, "reason": "困难",
                               "agreed_on": TODAY, "approved_by": "党委", "recorded_by": 1,
                               "recorded_at": NOW})  # fmt: skip
    remits: list[dict[str, Any]] = []
    for org_id in branches:
        if rng.random() < 0.9:
            remits.append({"org_id": org_id, "to_org_id": parents.get(org_id) or city_id,
                           "from_month": FIRST, "until_month": LAST,
                           "amount_fen": rng.randint(1_000, 500_000),
                           "paid_on": TODAY, "recorded_by": 1, "recorded_at": NOW,
                           "confirmed_by": 1 if rng.random() < 0.5 else None,
                           "confirmed_at": NOW if rng.random() < 0.5 else None})  # fmt: skip
    await _insert(db, DuesStandard, standards)
    await _insert(db, DuesExemption, exemptions)
    await _insert(db, DuesRemittance, remits)


async def _measure(backend: str, db: Database, branches: int, members: int, runs: int) -> None:
    started = time.perf_counter()
    city_id, entry_count = await build(db, branches, members)
    await _extras(db, city_id)
    built = time.perf_counter() - started
    catalog = load_catalog("zh_CN")
    found: dict[str, Any] = {}

    async def table() -> None:
        found["rows"] = await committee_remits(db, SUPER, city_id, FIRST, LAST, TODAY)

    async def page() -> None:
        board, lines = await remit_board(db, SUPER, city_id, FIRST, LAST, page=50, query="",
                                         today=TODAY)  # fmt: skip
        found["board"], found["lines"] = board, lines

    quarter = _bare(db, DuesEntry.month.between(FIRST, LAST))
    ours_a, first_a = await _median(runs, table)
    base, _ = await _median(runs, quarter)
    rows = await quarter()
    ours_b, first_b = await _median(runs, page)
    t0 = time.perf_counter()
    xlsx = board_xlsx(catalog, "zh_CN", found["board"], found["lines"])
    written = time.perf_counter() - t0
    lines = found["rows"]
    print(
        f"dues_remit [{backend}]: {branches} branches / {members} members, {entry_count} "
        f"entries, built in {built:.1f} s\n"
        f"  (a) committee_remits {FIRST}…{LAST}: {len(lines)} branches, due "
        f"{sum(x.due_fen for x in lines) / 100:.0f} yuan, "
        f"{sum(1 for x in lines if x.remitted_fen == 0)} remitted nothing\n"
        f"      committee_remits    median {ours_a * 1000:7.0f} ms  "
        f"(first {first_a * 1000:.0f} ms)  target < 2000 ms\n"
        f"      bare SELECT         median {base * 1000:7.0f} ms  ({rows} rows)\n"
        f"      ratio               {ours_a / base:7.2f}\n"
        f"  (b) one page of 上缴情况 (page {found['board'].page + 1} of "
        f"{found['board'].pages})\n"
        f"      remit_board         median {ours_b * 1000:7.0f} ms  "
        f"(first {first_b * 1000:.0f} ms)\n"
        f"      ratio to bare       {ours_b / base:7.2f}\n"
        f"      workbook of all     {written * 1000:7.0f} ms  ({len(xlsx) // 1024} KiB)",
        flush=True,
    )


async def run(*, quick: bool = False) -> None:
    """Print 上缴情况 timings per backend."""
    branches, members, runs = (200, 15_000, 3) if quick else (2000, 150_000, 5)
    for backend in backends():
        async with scratch_database(backend) as db:
            await _measure(backend, db, branches, members, runs)


__all__ = ["run"]
