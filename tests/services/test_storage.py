"""The schema: migrations match the models, ids are 64-bit, the audit log is append-only."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

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
