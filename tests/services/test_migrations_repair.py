"""A database created with the first version of 0003 upgrades to the same schema as a new one."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Connection, inspect
from sqlalchemy.engine import make_url

from storage import migrate
from storage.db import Database
from tests.conftest import TEST_DATABASE_ENV, _create_pg_database, _drop_pg_database
from tests.migration_history import VERSIONS, first_commit, in_git_checkout, text_at

pytestmark = pytest.mark.skipif(
    not in_git_checkout(), reason="needs the git history (not available in an sdist)"
)
FIRST = ("0001_initial.py", "0002_organizations.py", "0003_notices.py")


@pytest.fixture
async def fresh_url(tmp_path: Path) -> AsyncIterator[Callable[[], Any]]:
    """Makes empty databases (SQLite files, or new PostgreSQL databases) for one test."""
    base = os.environ.get(TEST_DATABASE_ENV, "")
    made: list[str] = []

    async def make() -> str:
        if not base.startswith("postgresql"):
            return f"sqlite+aiosqlite:///{tmp_path / f'{uuid.uuid4().hex[:8]}.sqlite3'}"
        name = f"zhibu_mig_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        await _create_pg_database(base, name)
        made.append(name)
        return make_url(base).set(database=name).render_as_string(hide_password=False)

    yield make
    for name in made:
        await _drop_pg_database(base, name)


def _original_migrations(into: Path) -> Path:
    """A script directory holding 0001-0003 exactly as they were first committed."""
    into.mkdir()
    shutil.copy(migrate.MIGRATIONS / "env.py", into / "env.py")
    shutil.copy(migrate.MIGRATIONS / "script.py.mako", into / "script.py.mako")
    (into / "versions").mkdir()
    for name in FIRST:
        path = str(VERSIONS.relative_to(VERSIONS.parents[2]) / name)
        commit = first_commit(path)
        assert commit is not None
        (into / "versions" / name).write_text(text_at(commit, path), encoding="utf-8")
    return into


async def _upgrade_with(db: Database, script_location: Path, revision: str) -> None:
    def _run(conn: Connection) -> None:
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(script_location))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)

    async with db.engine.begin() as conn:
        await conn.run_sync(_run)


def _schema(conn: Connection) -> dict[str, Any]:
    """Tables with their columns, keys and indexes, independent of column order."""
    insp = inspect(conn)
    schema: dict[str, Any] = {}
    for table in sorted(insp.get_table_names()):
        schema[table] = {
            "columns": {
                c["name"]: (str(c["type"]), c["nullable"]) for c in insp.get_columns(table)
            },
            "pk": sorted(insp.get_pk_constraint(table)["constrained_columns"]),
            "fks": sorted(
                (tuple(fk["constrained_columns"]), fk["referred_table"])
                for fk in insp.get_foreign_keys(table)
            ),
            "indexes": sorted(
                (ix["name"] or "", tuple(ix["column_names"]), bool(ix["unique"]))
                for ix in insp.get_indexes(table)
            ),
            "uniques": sorted(tuple(u["column_names"]) for u in insp.get_unique_constraints(table)),
        }
    return schema


async def _read_schema(db: Database) -> dict[str, Any]:
    async with db.engine.connect() as conn:
        return await conn.run_sync(_schema)


async def test_a_database_from_the_first_0003_upgrades_to_the_schema_of_a_new_one(
    fresh_url: Callable[[], Any], tmp_path: Path
) -> None:
    old = Database(await fresh_url())
    new = Database(await fresh_url())
    try:
        await _upgrade_with(old, _original_migrations(tmp_path / "original"), "0003")
        columns = await _read_schema(old)
        assert "report_done_at" not in columns["notices"]["columns"]  # the fault, as it was
        await migrate.upgrade(old)
        await migrate.upgrade(new)
        assert await migrate.current_revision(old) == migrate.head_revision()
        assert await _read_schema(old) == await _read_schema(new)
    finally:
        await asyncio.gather(old.dispose(), new.dispose())


async def test_the_repair_is_a_no_op_on_a_database_made_with_the_edited_0003(
    fresh_url: Callable[[], Any],
) -> None:
    db = Database(await fresh_url())
    try:
        await migrate.upgrade(db, "0009")  # the revision before the repair
        before = await _read_schema(db)
        await migrate.upgrade(db)
        after = await _read_schema(db)
        assert after == before  # alembic_version holds its revision, not its shape
        await migrate.upgrade(db)  # and running it again changes nothing either
        assert await _read_schema(db) == before
    finally:
        await db.dispose()
