"""The schema: migrations match the models, ids are 64-bit, the audit log is append-only."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, delete, func, insert, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError

import storage.db
from services import audit
from storage import migrate
from storage.db import Database
from storage.models import AuditEntry, Base, Chat
from tests.conftest import FakeClock


async def test_migrated_schema_equals_the_models(db: Database) -> None:
    def diff(conn: Any) -> list[Any]:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(ctx, Base.metadata))

    async with db.engine.connect() as conn:
        assert await conn.run_sync(diff) == []
    assert await migrate.current_revision(db) == migrate.head_revision()


async def test_upgrade_is_idempotent(db: Database) -> None:
    await migrate.upgrade(db)
    assert await migrate.current_revision(db) == migrate.head_revision()


async def test_telegram_ids_beyond_32_bits_are_stored(db: Database, clock: FakeClock) -> None:
    supergroup_id = -1001234567890123
    async with db.transaction() as s:
        s.add(
            Chat(
                id=supergroup_id,
                type="supergroup",
                title="t",
                bot_status="member",
                is_forum=False,
                created_at=clock.now(),
                updated_at=clock.now(),
            )
        )
    async with db.read() as s:
        assert (await s.scalar(select(Chat.id))) == supergroup_id


async def test_failed_intent_leaves_nothing_behind(db: Database, clock: FakeClock) -> None:
    def chat() -> Chat:
        now = clock.now()
        return Chat(id=1, type="group", title="t", bot_status="member", is_forum=False,
                    created_at=now, updated_at=now)  # fmt: skip

    async def intent() -> None:
        async with db.transaction() as s:
            audit.record(s, at=clock.now(), actor_id=None, action="x", target_type="t", target_id=1)
            s.add(chat())
            await s.flush()
            s.add(chat())  # the same primary key again: the whole intent must roll back
            await s.flush()

    with pytest.raises(IntegrityError):
        await intent()
    assert await audit.recent(db) == []


async def test_audit_log_is_append_only(db: Database, clock: FakeClock) -> None:
    async with db.transaction() as s:
        audit.record(
            s,
            at=clock.now(),
            actor_id=None,
            action="role.grant",
            target_type="member",
            target_id=7,
            before=None,
            after={"role": "书记"},
        )
    [entry] = await audit.recent(db)
    assert entry.after == {"role": "书记"}
    assert entry.at == clock.now()
    for statement in (update(AuditEntry).values(action="forged"), delete(AuditEntry)):
        with pytest.raises(DBAPIError, match="append-only"):
            async with db.transaction() as s:
                await s.execute(statement)
    assert [e.action for e in await audit.recent(db)] == ["role.grant"]


def _add_chat(chat_id: int, at: datetime) -> Callable[[Connection], int]:
    def work(conn: Connection) -> int:
        conn.execute(
            insert(Chat).values(id=chat_id, type="group", title=f"群{chat_id}",
                                bot_status="member", is_forum=False, created_at=at,
                                updated_at=at)
        )  # fmt: skip
        return chat_id

    return work


async def test_writes_together_each_answer_after_their_commit(
    db: Database, clock: FakeClock
) -> None:
    results = await asyncio.gather(
        *(db.write_together(_add_chat(-i, clock.now())) for i in range(1, 41))
    )
    assert results == list(range(-1, -41, -1))
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(Chat)) == 40
        stored = await s.scalar(select(Chat.created_at).where(Chat.id == -7))
    assert stored == clock.now()  # the column's type (UTC) applies on this path too


async def test_a_failing_write_fails_alone_and_the_others_stand(
    db: Database, clock: FakeClock
) -> None:
    await db.write_together(_add_chat(-1, clock.now()))
    outcomes = await asyncio.gather(
        db.write_together(_add_chat(-2, clock.now())),
        db.write_together(_add_chat(-1, clock.now())),  # already there
        db.write_together(_add_chat(-3, clock.now())),
        return_exceptions=True,
    )
    assert outcomes[0] == -2
    assert outcomes[2] == -3
    assert isinstance(outcomes[1], IntegrityError)
    async with db.read() as s:
        assert set((await s.scalars(select(Chat.id))).all()) == {-1, -2, -3}


async def test_writes_together_queue_with_the_other_writers(db: Database, clock: FakeClock) -> None:
    # A transaction holding the write lock is not interleaved with: the grouped write
    # waits for it (on SQLite, the process's writers take turns), and both commit.
    async def long_intent() -> None:
        async with db.transaction() as s:
            s.add(Chat(id=-100, type="group", title="t", bot_status="member", is_forum=False,
                       created_at=clock.now(), updated_at=clock.now()))  # fmt: skip
            await s.flush()
            await asyncio.sleep(0.05)

    await asyncio.gather(long_intent(), db.write_together(_add_chat(-101, clock.now())))
    async with db.read() as s:
        assert set((await s.scalars(select(Chat.id))).all()) == {-100, -101}


async def test_a_write_lock_held_by_another_process_never_blocks_the_loop(
    db: Database, clock: FakeClock
) -> None:
    if db.dialect != "sqlite":
        pytest.skip("SQLite's single writer only")
    other = sqlite3.connect(make_url(db.url).database or "", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # e.g. `zhibu members import --apply` in another process
    try:
        write = asyncio.create_task(db.write_together(_add_chat(-1, clock.now())))
        ticks = 0
        for _ in range(10):
            await asyncio.sleep(0.02)  # the loop keeps running: answers keep going out
            ticks += 1
        assert ticks == 10
        assert not write.done()  # it waits for the other writer, in a thread
    finally:
        other.execute("COMMIT")
        other.close()
    assert await write == -1


async def test_grouped_writes_are_checkpointed_into_the_database_file(
    db: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    if db.dialect != "sqlite":
        pytest.skip("SQLite's WAL only")
    path = Path(make_url(db.url).database or "")
    monkeypatch.setattr(storage.db, "CHECKPOINT_SECONDS", 0.0)
    before = _size(path)

    def blob(conn: Connection) -> None:
        conn.execute(text("CREATE TABLE IF NOT EXISTS blobs (b BLOB)"))
        conn.execute(text("INSERT INTO blobs VALUES (randomblob(200000))"))

    for _ in range(3):
        await db.write_together(blob)
    together = db._together
    assert together is not None
    assert together.checkpoint is not None
    await together.checkpoint
    # The inline writer never checkpoints itself; the background one moved the pages over.
    assert _size(path) >= before + 500_000


def _size(path: Path) -> int:
    return path.stat().st_size
