"""Shared fixtures: a real database (SQLite, or PostgreSQL when ZHIBU_TEST_DATABASE_URL says so)."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from storage import migrate
from storage.db import Database
from storage.models import Base

TEST_DATABASE_ENV = "ZHIBU_TEST_DATABASE_URL"

# A test that never touches the suite's database (it runs `zhibu` with its own SQLite file, or
# none) runs the same in both CI suites: once, in the SQLite one, is enough.
once = pytest.mark.skipif(
    os.environ.get(TEST_DATABASE_ENV, "").startswith("postgresql"),
    reason="does not use the suite's database: runs in the SQLite suite",
)


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 12, 1, 1, 30, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> datetime:
        self._now += timedelta(**delta)
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _pg_admin_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _create_pg_database(base_url: str, name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_pg_admin_url(base_url))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _drop_pg_database(base_url: str, name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_pg_admin_url(base_url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def _migrate(url: str) -> None:
    db = Database(url)
    try:
        await migrate.upgrade(db)
    finally:
        await db.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database for this test session: a PostgreSQL database or an SQLite file."""
    base = os.environ.get(TEST_DATABASE_ENV, "")
    if base.startswith("postgresql"):
        name = f"zhibu_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        asyncio.run(_create_pg_database(base, name))
        url = make_url(base).set(database=name).render_as_string(hide_password=False)
        asyncio.run(_migrate(url))
        yield url
        asyncio.run(_drop_pg_database(base, name))
    else:
        path = tmp_path_factory.mktemp("db") / "template.sqlite3"
        url = f"sqlite+aiosqlite:///{path}"
        asyncio.run(_migrate(url))
        yield url


@pytest.fixture
def database_url(database_template: str, tmp_path: Path) -> str:
    """A database URL for one test: a copy of the SQLite template, or the PostgreSQL one."""
    if database_template.startswith("sqlite"):
        src = Path(database_template.removeprefix("sqlite+aiosqlite:///"))
        dst = tmp_path / "zhibu.sqlite3"
        shutil.copy(src, dst)
        return f"sqlite+aiosqlite:///{dst}"
    return database_template


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """A migrated, empty database; PostgreSQL tables are emptied after each test."""
    database = Database(database_url)
    yield database
    if database.dialect == "postgresql":
        await _empty(database)
    await database.dispose()


# The audit log refuses DELETE (a trigger keeps it append-only): TRUNCATE fires no row trigger.
_APPEND_ONLY = {"audit_log"}
_TRUNCATE = text(f"TRUNCATE {', '.join(sorted(_APPEND_ONLY))}")
# Children before parents, so each DELETE leaves nothing pointing at a deleted row.
_DELETES = [
    text(f"DELETE FROM {t.name}")
    for t in reversed(Base.metadata.sorted_tables)
    if t.name not in _APPEND_ONLY
]
# Ids start at 1 again in every test, as after TRUNCATE … RESTART IDENTITY.
_RESTART_IDS = text("SELECT setval(c.oid, 1, false) FROM pg_class c WHERE c.relkind = 'S'")


async def _empty(database: Database) -> None:
    """Empty every table. DELETE takes milliseconds for the few rows a test leaves, where
    TRUNCATE of every table took 225 ms (new files for each), a third of the suite's time."""
    try:
        async with database.engine.begin() as conn:
            await conn.execute(_TRUNCATE)
            for delete in _DELETES:
                await conn.execute(delete)
            await conn.execute(_RESTART_IDS)
    except IntegrityError:  # rows pointing both ways between two tables: TRUNCATE copes
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        async with database.engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
