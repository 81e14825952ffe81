"""Schema migrations with Alembic, runnable from inside a running event loop."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from storage.db import Database

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(connection: Connection | None = None) -> AlembicConfig:
    """An Alembic config pointing at our migrations, optionally bound to a connection."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    """The newest migration shipped with this version of zhibu."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def current_revision(db: Database) -> str | None:
    """The migration the database is at, or None for an empty database."""

    def _read(conn: Connection) -> str | None:
        return MigrationContext.configure(conn).get_current_revision()

    async with db.engine.connect() as conn:
        return await conn.run_sync(_read)


async def upgrade(db: Database, revision: str = "head") -> None:
    """Apply every pending migration up to `revision` in one transaction."""

    def _run(conn: Connection) -> None:
        command.upgrade(alembic_config(conn), revision)

    async with db.engine.begin() as conn:
        await conn.run_sync(_run)


async def downgrade(db: Database, revision: str) -> None:
    """Undo migrations down to `revision` (operators only, for rollbacks)."""

    def _run(conn: Connection) -> None:
        command.downgrade(alembic_config(conn), revision)

    async with db.engine.begin() as conn:
        await conn.run_sync(_run)


def revision(message: str, autogenerate: bool, connection: Connection) -> Any:
    """Write a new migration file (developers only)."""
    return command.revision(alembic_config(connection), message=message, autogenerate=autogenerate)
