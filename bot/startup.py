"""What every command checks first: the database answers and its schema is this version's."""

from __future__ import annotations

import logging

from alembic.script import ScriptDirectory
from alembic.util import CommandError

from bot.config import Config
from storage import migrate
from storage.db import Database, DatabaseUnavailable

log = logging.getLogger("zhibu")


class StartupError(Exception):
    """Something the operator can put right, said in one line (exit status 2)."""


async def reach(db: Database) -> None:
    """Raise StartupError naming database.url unless the database answers."""
    try:
        await db.ping()
    except DatabaseUnavailable as exc:
        raise StartupError(f"database.url: cannot reach the database ({exc})") from None


def _known(revision: str) -> bool:
    try:
        scripts = ScriptDirectory.from_config(migrate.alembic_config())
        return scripts.get_revision(revision) is not None
    except CommandError:
        return False


async def schema_problem(db: Database) -> str | None:
    """Why this database cannot be used by this version as it is, or None when it can."""
    current, head = await migrate.current_revision(db), migrate.head_revision()
    if current == head:
        return None
    if current is None:
        return "the database is empty: run `zhibu db upgrade` first"
    if not _known(current):
        return (
            f"the database is at schema {current}, which this zhibu does not know "
            f"(its newest is {head}): it was written by a newer zhibu; install that one"
        )
    return f"the database is at schema {current}, this zhibu needs {head}: run `zhibu db upgrade`"


async def ready(db: Database, *, migrate_now: bool) -> None:
    """Reach the database and bring its schema up to date (when allowed), or StartupError."""
    await reach(db)
    problem = await schema_problem(db)
    if problem is None:
        return
    current = await migrate.current_revision(db)
    if not migrate_now or (current is not None and not _known(current)):
        raise StartupError(problem)
    await migrate.upgrade(db)
    log.info("database upgraded %s → %s", current or "empty", migrate.head_revision())


async def prepare_database(cfg: Config, *, migrate_now: bool) -> None:
    """Open the configured database once to check (and maybe migrate) it, then close it."""
    db = Database(cfg.database.url)
    try:
        await ready(db, migrate_now=migrate_now)
    finally:
        await db.dispose()
