"""/members on a city: the roster service for ~50-member branches vs one bare SELECT.

Generates 2,000 branches and 150,000 members, then times the roster a secretary sees
(members, units, groups, roles and last activity, with permission checks) for branches of
about 50 members, and beside it the least any implementation must do: one indexed SELECT
of that branch's member rows. Reports p50/p95 in milliseconds and the ratio.
"""

from __future__ import annotations

import random
import statistics
import time

from sqlalchemy import select

from bench.city import TODAY, backends, generate_city, scratch_database
from services.authz import Actor
from services.members import roster
from storage.models import Member


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(*, quick: bool = False) -> None:
    """Print roster timings per backend."""
    branches, members, samples = (200, 15_000, 30) if quick else (2000, 150_000, 200)
    for backend in backends():
        async with scratch_database(backend) as db:
            started = time.perf_counter()
            city = await generate_city(db, branches=branches, members=members)
            built = time.perf_counter() - started
            rng = random.Random(3)
            around_50 = [org for org, size in city.branches.items() if 45 <= size <= 55]
            picks = [rng.choice(around_50) for _ in range(samples)]
            ours: list[float] = []
            base: list[float] = []
            for org in picks:
                actor = Actor(user_id=city.secretaries[org])
                t0 = time.perf_counter()
                result = await roster(db, actor, org, TODAY)
                ours.append((time.perf_counter() - t0) * 1000)
                assert result.full
                assert len(result.entries) >= 45
                t0 = time.perf_counter()
                async with db.read() as s:
                    (
                        await s.scalars(
                            select(Member).where(Member.org_id == org, Member.status == "active")
                        )
                    ).all()
                base.append((time.perf_counter() - t0) * 1000)
            mine, bare = statistics.median(ours), statistics.median(base)
            print(
                f"members [{backend}]: {len(city.branches)} branches / {city.members} members "
                f"built in {built:.1f} s; {samples} rosters of 45–55 members\n"
                f"  roster service  p50 {mine:6.1f} ms  p95 {_pct(ours, 0.95):6.1f} ms\n"
                f"  bare SELECT     p50 {bare:6.1f} ms  p95 {_pct(base, 0.95):6.1f} ms\n"
                f"  ratio (p50)     {mine / bare:6.2f}"
            )
