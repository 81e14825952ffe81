"""Roster import of 5,000 rows: read + plan + apply, against one plain bulk INSERT of the same rows.

The import runs as the bot does it: parse the XLSX, plan (preview), then apply (which plans
again inside its transaction and writes members, units, party groups, offices and audit
entries). The baseline inserts the same people with one `insert(Member)` executemany and
nothing else, into a second branch of the same database. The target is 10 s for the import.
Set ZHIBU_BENCH_PG_URL (e.g. postgresql+asyncpg://127.0.0.1:5432/test) to also measure
PostgreSQL in a scratch database that is dropped afterwards.
"""

from __future__ import annotations

import io
import os
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl
from sqlalchemy import insert
from sqlalchemy.engine import make_url

from domain.members_roster import MAX_ROWS, TEMPLATE_HEADERS, Column
from domain.orgs import Kind, Level, Status
from services import orgs
from services.authz import Actor
from services.members_import import RosterFile, apply_import, plan_import, read_roster
from storage import migrate
from storage.db import Database
from storage.models import Member

PG_ENV = "ZHIBU_BENCH_PG_URL"
SYSTEM = Actor(user_id=0, superadmin=True)
NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
TODAY = NOW.date()
STAGES = ("正式党员", "预备党员", "入党积极分子", "发展对象", "入党申请人", "群众")


def _name(i: int) -> str:
    # Distinct two- or three-character Han names, as a real roster has.
    return "王" + chr(0x4E00 + i % 2000) + chr(0x4E00 + 2000 + i // 2000)


def roster_xlsx(rows: int) -> bytes:
    """A filled-in template: every column used, phones as numbers, dates as date cells."""
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append([TEMPLATE_HEADERS["zh_CN"][c] for c in Column])
    for i in range(rows):
        sheet.append(
            [
                _name(i),
                13000000000 + i,
                STAGES[i % len(STAGES)] if i % 10 else "正式党员",
                "党小组长" if i % 250 == 0 else None,
                f"第{i % 25 + 1}党小组",
                f"某某{i % 40 + 1}号科技有限公司",
                date(2010, 1, 1 + i % 28),
                date(2011, 1, 1 + i % 28),
                None,
                date(2013, 1, 1 + i % 28) if i % 10 == 0 else None,
                date(2014, 1, 1 + i % 28) if i % 10 == 0 else None,
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@asynccontextmanager
async def _sqlite() -> AsyncIterator[Database]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}")
        try:
            yield db
        finally:
            await db.dispose()


@asynccontextmanager
async def _postgres(base: str) -> AsyncIterator[Database]:
    import asyncpg

    name = f"zhibu_bench_{uuid.uuid4().hex[:8]}"
    admin = make_url(base).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    db = Database(make_url(base).set(database=name).render_as_string(hide_password=False))
    try:
        yield db
    finally:
        await db.dispose()
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


async def _branch(db: Database, committee: int, name: str) -> int:
    view = await orgs.create_org(
        db, SYSTEM, name=name, level=Level.BRANCH, kind=Kind.STANDARD,
        parent_id=committee, now=NOW, today=TODAY,
    )  # fmt: skip
    return view.id


async def _measure(label: str, db: Database, content: bytes, rows: int) -> None:
    await migrate.upgrade(db)
    committee = await orgs.create_org(
        db, SYSTEM, name="高新区综合党委", level=Level.COMMITTEE, kind=Kind.COMPREHENSIVE,
        parent_id=None, now=NOW, today=TODAY,
    )  # fmt: skip
    branch = await _branch(db, committee.id, "甲公司党支部")
    baseline_branch = await _branch(db, committee.id, "乙公司党支部")

    started = time.perf_counter()
    roster = read_roster("名册.xlsx", content)
    read_s = time.perf_counter() - started
    assert isinstance(roster, RosterFile), roster
    started = time.perf_counter()
    plan = await plan_import(db, SYSTEM, branch, roster, TODAY)
    plan_s = time.perf_counter() - started
    assert plan.ok, plan.rows[:3]
    assert plan.created == rows
    started = time.perf_counter()
    report = await apply_import(db, SYSTEM, branch, roster, NOW, TODAY)
    apply_s = time.perf_counter() - started
    assert report.applied
    assert report.created == rows
    started = time.perf_counter()
    again = await apply_import(db, SYSTEM, branch, roster, NOW, TODAY)
    again_s = time.perf_counter() - started
    assert not again.applied
    assert again.plan.unchanged == rows

    values = [
        {
            "org_id": baseline_branch, "user_id": None, "name": _name(i),
            "phone": str(13000000000 + i), "stage": "full", "status": Status.ACTIVE.value,
            "source": "import", "unit_id": None, "party_group_id": None,
            "applied_on": date(2010, 1, 1), "activist_on": None, "candidate_on": None,
            "probationary_on": None, "full_on": None, "left_on": None, "note": None,
            "transferred_to": None, "created_at": NOW, "updated_at": NOW,
        }
        for i in range(rows)
    ]  # fmt: skip
    started = time.perf_counter()
    async with db.transaction() as session:
        await session.execute(insert(Member), values)
    baseline_s = time.perf_counter() - started

    total = read_s + plan_s + apply_s
    print(
        f"{label:<10} {rows} rows: read {read_s:5.2f} s · plan {plan_s:5.2f} s · "
        f"apply {apply_s:5.2f} s · total {total:5.2f} s · re-import {again_s:5.2f} s"
    )
    print(
        f"{'':<10} baseline bulk insert {baseline_s:5.2f} s · apply/baseline "
        f"{apply_s / baseline_s:4.1f}× · total/baseline {total / baseline_s:4.1f}×"
    )


async def run(*, quick: bool = False) -> None:
    """Print the import's phases and the baseline insert on SQLite (and PostgreSQL if set)."""
    rows = 500 if quick else MAX_ROWS
    content = roster_xlsx(rows)
    print(f"roster import: {rows} rows, XLSX of {len(content) // 1024} KB (target: total < 10 s)")
    async with _sqlite() as db:
        await _measure("sqlite", db, content, rows)
    base = os.environ.get(PG_ENV, "")
    if base.startswith("postgresql"):
        async with _postgres(base) as db:
            await _measure("postgresql", db, content, rows)
    else:
        print(f"postgresql skipped (set {PG_ENV})")
