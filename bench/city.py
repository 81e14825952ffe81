"""A generated city for benchmarks: 2,000 branches and 150,000 members on a scratch database."""

from __future__ import annotations

import os
import random
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.engine import make_url

from domain.orgs import Kind, Level, Role, Stage, Status
from storage import migrate
from storage.db import Database
from storage.models import Member, Organization, RoleAssignment, User

PG_ENV = "ZHIBU_BENCH_PG_URL"
NOW = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
TODAY = date(2026, 11, 22)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "芳伟娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


@dataclass(frozen=True)
class City:
    """What was generated: branch ids with their sizes, and each branch's secretary."""

    branches: dict[int, int]  # org id → member count
    secretaries: dict[int, int]  # org id → Telegram user id
    members: int


def backends() -> list[str]:
    """SQLite always; PostgreSQL when ZHIBU_BENCH_PG_URL names a server."""
    return ["sqlite"] + (["postgresql"] if os.environ.get(PG_ENV) else [])


@asynccontextmanager
async def scratch_database(backend: str) -> AsyncIterator[Database]:
    """A fresh migrated database, removed afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            db = Database(f"sqlite+aiosqlite:///{Path(tmp) / 'city.sqlite3'}")
            await migrate.upgrade(db)
            try:
                yield db
            finally:
                await db.dispose()
        return
    import asyncpg

    base = os.environ[PG_ENV]
    admin = make_url(base).set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"zhibu_bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    db = Database(make_url(base).set(database=name).render_as_string(hide_password=False))
    try:
        await migrate.upgrade(db)
        yield db
    finally:
        await db.dispose()
        conn = await asyncpg.connect(admin)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


async def generate_city(
    db: Database, *, branches: int = 2000, members: int = 150_000, seed: int = 7
) -> City:
    """Committees → branches → members (most linked to Telegram users) with secretaries."""
    rng = random.Random(seed)
    async with db.transaction() as s:
        committees = [
            Organization(level=Level.COMMITTEE, kind=Kind.COMPREHENSIVE, name=f"第{i + 1}综合党委",
                         gate_enabled=True, created_at=NOW)
            for i in range(max(1, branches // 100))
        ]  # fmt: skip
        s.add_all(committees)
        await s.flush()
        org_rows = [
            {
                "parent_id": committees[i % len(committees)].id,
                "level": Level.BRANCH,
                "kind": Kind.STANDARD,
                "name": f"第{i + 1}支部",
                "gate_enabled": True,
                "created_at": NOW,
            }
            for i in range(branches)
        ]
        await s.execute(insert(Organization), org_rows)
        org_ids = list(
            (
                await s.scalars(select(Organization.id).where(Organization.level == Level.BRANCH))
            ).all()
        )
    # Sizes between 10 and 140 that add up to the requested total.
    weights = [rng.randint(10, 140) for _ in org_ids]
    scale = members / sum(weights)
    sizes = {org: max(3, round(w * scale)) for org, w in zip(org_ids, weights, strict=True)}
    stages = [Stage.FULL] * 8 + [Stage.PROBATIONARY, Stage.ACTIVIST]
    user_id = 6_000_000_000
    secretaries: dict[int, int] = {}
    users: list[dict[str, object]] = []
    rows: list[dict[str, object]] = []
    for org, size in sizes.items():
        for n in range(size):
            linked = rng.random() < 0.85 or n == 0
            uid = None
            if linked:
                user_id += 1
                uid = user_id
                seen = NOW - timedelta(hours=rng.randint(1, 2000))
                users.append({"id": uid, "first_name": "用户", "started": True,
                              "created_at": NOW, "last_seen_at": seen})  # fmt: skip
                if n == 0:
                    secretaries[org] = uid
            name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2)))
            rows.append({"org_id": org, "user_id": uid, "name": name,
                         "phone": f"1{rng.randint(30, 99)}{rng.randint(0, 99_999_999):08d}",
                         "stage": rng.choice(stages), "status": Status.ACTIVE, "source": "import",
                         "created_at": NOW, "updated_at": NOW})  # fmt: skip
    async with db.transaction() as s:
        for i in range(0, len(users), 5000):
            await s.execute(insert(User), users[i : i + 5000])
        for i in range(0, len(rows), 5000):
            await s.execute(insert(Member), rows[i : i + 5000])
        firsts = dict(
            (
                await s.execute(
                    select(Member.user_id, Member.id).where(
                        Member.user_id.in_(list(secretaries.values()))
                    )
                )
            ).all()
        )
        await s.execute(
            insert(RoleAssignment),
            [{"org_id": org, "role": Role.SECRETARY, "member_id": firsts[uid],
              "start_on": TODAY - timedelta(days=400), "created_at": NOW}
             for org, uid in secretaries.items()],
        )  # fmt: skip
    return City(branches=sizes, secretaries=secretaries, members=len(rows))
