"""`zhibu db backup` while the bot writes, and `zhibu db restore` into a fresh database."""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, select
from sqlalchemy.engine import make_url

from domain.orgs import Role
from services.outbox import enqueue_text
from services.users import Person, touch_user
from storage.backup import libpq_target
from storage.db import Database
from storage.models import Base
from tests.bot.test_process import ROOT, write_config
from tests.conftest import TEST_DATABASE_ENV, FakeClock, _create_pg_database, _drop_pg_database
from tests.services.factories import linked_member, member, tree

pytestmark = pytest.mark.slow
Rows = dict[str, dict[tuple[Any, ...], tuple[Any, ...]]]


async def zhibu(*args: str, path: str | None = None) -> tuple[int, str, str]:
    """`python -m bot ARGS` to completion, optionally with another PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHIBU_")}
    if path is not None:
        env["PATH"] = path
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


@pytest.fixture
async def fresh_url(tmp_path: Path) -> AsyncIterator[str]:
    """An empty database of the kind under test: a new SQLite path or PostgreSQL database."""
    base = os.environ.get(TEST_DATABASE_ENV, "")
    if not base.startswith("postgresql"):
        yield f"sqlite+aiosqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    name = f"zhibu_restore_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    await _create_pg_database(base, name)
    yield make_url(base).set(database=name).render_as_string(hide_password=False)
    await _drop_pg_database(base, name)


def _rows(conn: Connection) -> Rows:
    """Every row of every table, by primary key."""
    out: Rows = {}
    for table in Base.metadata.sorted_tables:
        key = list(table.primary_key.columns)
        rows = conn.execute(select(table).order_by(*key)).all()
        out[table.name] = {tuple(r._mapping[c.name] for c in key): tuple(r) for r in rows}
    return out


async def rows_of(db: Database) -> Rows:
    async with db.engine.connect() as conn:
        return await conn.run_sync(_rows)


def checksum(rows: dict[tuple[Any, ...], tuple[Any, ...]]) -> str:
    return hashlib.sha256(repr(sorted(rows.items())).encode()).hexdigest()


async def _seed(db: Database, clock: FakeClock) -> None:
    orgs = await tree(db, clock)
    await linked_member(db, clock, orgs.branch_a, 5_100_000_001, "王芳", role=Role.SECRETARY)
    for n in range(30):
        await member(db, clock, orgs.branch_b, f"成员{n}", phone=f"1380000{n:04d}")


async def _write_until(db: Database, clock: FakeClock, stop: asyncio.Event) -> int:
    """Users and outbox items, one transaction each, as the bot writes them; how many."""
    n = 0
    while not stop.is_set():
        n += 1
        await touch_user(db, Person(id=6_000_000_000 + n, first_name=f"写入{n}"), clock.now())
        async with db.transaction() as session:
            enqueue_text(session, chat_id=6_000_000_000 + n, html=f"第{n}条", now=clock.now())
        await asyncio.sleep(0.005)  # a busy bot's pace, leaving the CPU to the backup
    return n


async def test_backup_while_writing_then_restore_keeps_every_row(
    db: Database, clock: FakeClock, tmp_path: Path, fresh_url: str
) -> None:
    if db.dialect == "postgresql" and shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed (apt install postgresql-client)")
    await _seed(db, clock)
    source_config = write_config(tmp_path / "source.toml", None, db.url)
    stop = asyncio.Event()
    writer = asyncio.create_task(_write_until(db, clock, stop))
    try:
        while len((await rows_of(db))["users"]) < 10:
            await asyncio.sleep(0.01)
        before = await rows_of(db)
        dump = tmp_path / "zhibu.backup"
        code, out, err = await zhibu("db", "backup", str(dump), "--config", str(source_config))
        after = await rows_of(db)
    finally:
        stop.set()
        written = await writer
    assert (code, err) == (0, ""), err
    assert "backup written" in out
    assert len(after["users"]) > len(before["users"]), "no writes happened during the backup"
    assert written > 10

    target_config = write_config(tmp_path / "target.toml", None, fresh_url)
    code, out, err = await zhibu("db", "restore", str(dump), "--config", str(target_config))
    assert (code, err) == (0, ""), err
    restored_db = Database(fresh_url)
    try:
        restored = await rows_of(restored_db)
    finally:
        await restored_db.dispose()
    assert sum(len(r) for r in restored.values()) > 50
    for table, rows in restored.items():
        # Every row committed before the backup began is there; nothing that never existed.
        assert before[table].keys() <= rows.keys() <= after[table].keys(), table
        same = {key: after[table][key] for key in rows}
        assert (len(rows), checksum(rows)) == (len(same), checksum(same)), table
    assert len(restored["users"]) >= len(before["users"])

    # The restored database is not empty any more: a second restore needs --force.
    code, out, err = await zhibu("db", "restore", str(dump), "--config", str(target_config))
    assert code == 2
    assert out == ""
    [line] = err.strip().splitlines()
    assert "--force" in line
    code, out, err = await zhibu(
        "db", "restore", str(dump), "--force", "--config", str(target_config)
    )
    assert (code, err) == (0, ""), err


async def test_a_missing_file_or_pg_dump_is_one_line(tmp_path: Path) -> None:
    sqlite = write_config(tmp_path / "s.toml", None, f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    code, out, err = await zhibu("db", "backup", str(tmp_path / "b"), "--config", str(sqlite))
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert "no database file" in err
    code, out, err = await zhibu("db", "restore", str(tmp_path / "none"), "--config", str(sqlite))
    assert (code, out, err.count("\n")) == (2, "", 1)
    assert "no such backup file" in err
    pg = write_config(tmp_path / "p.toml", None, "postgresql+asyncpg://u:secret@127.0.0.1:9/db")
    code, out, err = await zhibu("db", "backup", str(tmp_path / "b"), "--config", str(pg), path="")
    assert (code, out, err.count("\n")) == (2, "", 1)
    assert "pg_dump not found" in err
    assert "Traceback" not in err


def test_the_libpq_url_keeps_the_password_off_the_command_line() -> None:
    target, env = libpq_target(
        "postgresql+asyncpg://zhibu:p%40ss@db.internal:5433/zhibu?ssl=require"
    )
    assert target == (
        "postgresql://zhibu@db.internal:5433/zhibu?connect_timeout=10&sslmode=require"
    )
    assert env["PGPASSWORD"] == "p@ss"
