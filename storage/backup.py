"""Backups of the bot's database, taken while the bot runs, and restoring them.

SQLite: the online backup API copies the database in one step, a consistent snapshot
(WAL readers never block the bot's writers). PostgreSQL: pg_dump in its custom format,
which is itself a consistent snapshot, and pg_restore.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import URL, make_url

from storage.db import Database, DatabaseUnavailable
from storage.migrate import alembic_config

PG_CONNECT_TIMEOUT = 10  # seconds: a silent server is named, not waited for
# libpq parameters an asyncpg URL may carry that mean the same to pg_dump.
_LIBPQ_PASSTHROUGH = frozenset(
    [
        "host",
        "port",
        "connect_timeout",
        "application_name",
        "options",
        "sslmode",
        "sslrootcert",
        "sslcert",
        "sslkey",
        "target_session_attrs",
    ]
)
_SSL = {"true": "require", "false": "disable", "1": "require", "0": "disable"}


class BackupError(Exception):
    """A backup or restore that did not happen, said in one line."""


@dataclass(frozen=True)
class Contents:
    """What a database holds: any of our tables, and any rows in them."""

    tables: int
    rows: bool


def libpq_target(url: str) -> tuple[str, dict[str, str]]:
    """The libpq URL for pg_dump/pg_restore (no password: that goes in PGPASSWORD, so it is
    not on the command line for `ps` to show) and the environment to run them with."""
    parsed = make_url(url)
    query: dict[str, str] = {}
    for key, value in parsed.query.items():
        one = value if isinstance(value, str) else value[-1]
        if key == "ssl":
            query["sslmode"] = _SSL.get(one.lower(), one)
        elif key in _LIBPQ_PASSTHROUGH:
            query[key] = one
    query.setdefault("connect_timeout", str(PG_CONNECT_TIMEOUT))
    target = URL.create(
        "postgresql",
        username=parsed.username,
        host=parsed.host,
        port=parsed.port,
        database=parsed.database,
        query=query,
    ).render_as_string(hide_password=False)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    return target, env


async def backup(url: str, dest: Path) -> str:
    """Write a backup of the database to `dest` (replacing it only once complete)."""
    dest = _writable(dest)
    partial = dest.with_name(dest.name + ".partial")
    try:
        if make_url(url).get_backend_name() == "sqlite":
            await asyncio.to_thread(_sqlite_backup, _sqlite_path(url), partial)
        else:
            target, env = libpq_target(url)
            await _tool(
                "pg_dump", ["--format=custom", f"--file={partial}", f"--dbname={target}"], env
            )
        os.replace(partial, dest)
    finally:
        partial.unlink(missing_ok=True)
    return f"backup written to {dest} ({_size(dest.stat().st_size)})"


async def restore(url: str, source: Path, *, force: bool = False) -> str:
    """Load a backup into the configured database; refuses one that holds rows unless forced."""
    source = _readable(source)
    sqlite = make_url(url).get_backend_name() == "sqlite"
    revision = _sqlite_revision(source) if sqlite else None
    if not sqlite:
        _tool_path("pg_restore")  # before anything else: the one line that says what to install
    contents = await contents_of(url)
    if contents.rows and not force:
        raise BackupError(
            "the database already holds records; restore into an empty database, "
            "or add --force to replace them"
        )
    if sqlite:
        await asyncio.to_thread(_sqlite_restore, source, _sqlite_path(url, must_exist=False))
    else:
        target, env = libpq_target(url)
        # Tables but no rows (a migrated, unused database) are replaced without asking.
        clean = ["--clean", "--if-exists"] if contents.tables else []
        await _tool(
            "pg_restore",
            [f"--dbname={target}", "--no-owner", "--no-privileges", "--single-transaction",
             *clean, str(source)],
            env,
        )  # fmt: skip
        revision = await _revision_of(url)
    return f"restored {source} (schema {revision or 'unknown'}); start zhibu to migrate it if older"


async def contents_of(url: str) -> Contents:
    """How many tables (besides Alembic's) the database has, and whether any holds a row."""
    if (
        make_url(url).get_backend_name() == "sqlite"
        and not _sqlite_path(url, must_exist=False).exists()
    ):
        return Contents(tables=0, rows=False)
    db = Database(url)
    try:
        await db.ping()
        async with db.engine.connect() as conn:
            return await conn.run_sync(_contents)
    except DatabaseUnavailable as exc:
        raise BackupError(f"cannot reach the database ({exc})") from None
    finally:
        await db.dispose()


def _contents(conn: Connection) -> Contents:
    tables = [t for t in inspect(conn).get_table_names() if t != "alembic_version"]
    preparer = conn.dialect.identifier_preparer
    rows = any(
        conn.execute(text(f"SELECT 1 FROM {preparer.quote(t)} LIMIT 1")).first() is not None
        for t in tables
    )
    return Contents(tables=len(tables), rows=rows)


async def _revision_of(url: str) -> str | None:
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            return await conn.run_sync(
                lambda c: c.execute(text("SELECT version_num FROM alembic_version")).scalar()
            )
    except Exception:  # noqa: BLE001 - only for the summary line
        return None
    finally:
        await db.dispose()


def _writable(dest: Path) -> Path:
    dest = dest.resolve()
    if not dest.parent.is_dir():
        raise BackupError(f"no such directory: {dest.parent}")
    return dest


def _readable(source: Path) -> Path:
    source = source.resolve()
    if not source.is_file():
        raise BackupError(f"no such backup file: {source}")
    return source


def _sqlite_path(url: str, *, must_exist: bool = True) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("database.url: an in-memory SQLite database cannot be backed up")
    path = Path(database).resolve()
    if must_exist and not path.is_file():
        raise BackupError(f"no database file at {path}")
    return path


def _sqlite_backup(source: Path, partial: Path) -> None:
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(partial)
    try:
        # pages=-1: the whole database in one step, so the copy is one moment's snapshot;
        # the bot's writers carry on meanwhile (in WAL mode a reader never blocks them).
        src.backup(dst, pages=-1)
        # One self-contained file, not a database expecting a -wal beside it.
        dst.execute("PRAGMA journal_mode=DELETE")
        if dst.execute("PRAGMA quick_check").fetchone() != ("ok",):
            raise BackupError("the copy failed its integrity check; the database may be damaged")
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite backup failed: {exc}") from None
    finally:
        dst.close()
        src.close()


def _sqlite_revision(source: Path) -> str:
    """The backup's schema revision; refuses files that are not a zhibu database we know."""
    try:
        conn = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        raise BackupError(f"{source} is not a zhibu SQLite backup") from None
    if row is None:
        raise BackupError(f"{source} is not a zhibu SQLite backup (no schema revision)")
    known = {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if row[0] not in known:
        raise BackupError(f"{source} was made by a newer zhibu (schema {row[0]}); upgrade first")
    return str(row[0])


def _sqlite_restore(source: Path, target: Path) -> None:
    if not target.parent.is_dir():
        raise BackupError(f"no such directory: {target.parent}")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target, timeout=30)
    try:
        src.backup(dst, pages=-1)  # replaces every page of the target in one transaction
        dst.execute("PRAGMA journal_mode=WAL")
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite restore failed: {exc}") from None
    finally:
        dst.close()
        src.close()


def _tool_path(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} not found on PATH; install the PostgreSQL client tools "
            "(Debian/Ubuntu: apt install postgresql-client) of the server's version or newer"
        )
    return path


async def _tool(name: str, args: list[str], env: dict[str, str]) -> None:
    """Run pg_dump or pg_restore; BackupError with its first error line if it fails."""
    tool = _tool_path(name)
    proc = await asyncio.create_subprocess_exec(
        tool, *args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, err = await proc.communicate()
    if proc.returncode != 0:
        lines = [line.strip() for line in err.decode(errors="replace").splitlines() if line.strip()]
        errors = [line for line in lines if "error:" in line] or lines or ["no message"]
        raise BackupError(f"{name} failed: {errors[0]}")


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB"):
        if n < 1024:
            return f"{n} {unit}"
        n //= 1024
    return f"{n} GB"
