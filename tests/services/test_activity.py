"""Last-seen refreshes are batched; new people and changes are written at once; none is lost."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from services.activity import ActivityLog
from services.groups import forget_presence, record_presence
from services.users import Person, touch_user
from storage.db import Database
from storage.models import Chat, ChatPresence, User
from tests.conftest import FakeClock

GROUP = -100777


async def _last_seen(db: Database, user_id: int) -> datetime | None:
    async with db.read() as s:
        return await s.scalar(select(User.last_seen_at).where(User.id == user_id))


async def _presence(db: Database, user_id: int) -> datetime | None:
    async with db.read() as s:
        return await s.scalar(
            select(ChatPresence.seen_at).where(
                ChatPresence.chat_id == GROUP, ChatPresence.user_id == user_id
            )
        )


async def _group(db: Database, now: datetime) -> None:
    async with db.transaction() as s:
        s.add(Chat(id=GROUP, type="supergroup", title="支部群", bot_status="administrator",
                   created_at=now, updated_at=now))  # fmt: skip


async def test_a_known_users_refresh_waits_for_the_flush(db: Database, clock: FakeClock) -> None:
    log, first = ActivityLog(), clock.now()
    await touch_user(db, Person(1, "张三"), first, activity=log)  # new: written at once
    assert await _last_seen(db, 1) == first
    later = clock.advance(minutes=30)
    await touch_user(db, Person(1, "张三"), later, activity=log)
    assert await _last_seen(db, 1) == first  # only the time moved: batched
    assert await log.flush(db) == 1
    assert await _last_seen(db, 1) == later
    assert await log.flush(db) == 0


async def test_a_changed_name_is_written_at_once(db: Database, clock: FakeClock) -> None:
    log = ActivityLog()
    await touch_user(db, Person(1, "张三"), clock.now(), activity=log)
    later = clock.advance(minutes=30)
    view = await touch_user(db, Person(1, "张三丰"), later, activity=log)
    assert view.first_name == "张三丰"
    assert await _last_seen(db, 1) == later
    assert log.pending == 0


async def test_presence_refresh_never_brings_back_someone_who_left(
    db: Database, clock: FakeClock
) -> None:
    log, first = ActivityLog(), clock.now()
    await _group(db, first)
    await record_presence(db, GROUP, 1, first, log)  # new: written at once
    await record_presence(db, GROUP, 2, first, log)
    assert await _presence(db, 1) == first
    later = clock.advance(minutes=30)
    await record_presence(db, GROUP, 1, later, log)
    await record_presence(db, GROUP, 2, later, log)
    assert log.pending == 2
    await forget_presence(db, GROUP, 2)  # left the group before the flush
    await log.flush(db)
    assert await _presence(db, 1) == later
    assert await _presence(db, 2) is None


async def test_a_failed_flush_keeps_the_refreshes(db: Database, clock: FakeClock) -> None:
    log = ActivityLog()
    await touch_user(db, Person(1, "张三"), clock.now(), activity=log)
    later = clock.advance(minutes=30)
    await touch_user(db, Person(1, "张三"), later, activity=log)
    broken = Database("sqlite+aiosqlite:////nonexistent/dir/zhibu.sqlite3")
    with pytest.raises(Exception):  # noqa: B017, PT011 - whatever the driver raises
        await log.flush(broken)
    await broken.dispose()
    assert log.pending == 1
    await log.flush(db)
    assert await _last_seen(db, 1) == later


async def test_stop_writes_what_is_left(db: Database, clock: FakeClock) -> None:
    log = ActivityLog()
    await touch_user(db, Person(1, "张三"), clock.now(), activity=log)
    log.start(db)
    later = clock.advance(minutes=30)
    await touch_user(db, Person(1, "张三"), later, activity=log)
    await log.stop(db)
    assert await _last_seen(db, 1) == later


async def test_one_touch_records_the_user_and_their_presence(
    db: Database, clock: FakeClock
) -> None:
    log, first = ActivityLog(), clock.now()
    await _group(db, first)
    await touch_user(db, Person(1, "张三"), first, activity=log, group_id=GROUP)
    assert await _presence(db, 1) == first  # someone new in the group: written at once
    assert log.pending == 0
    clock.advance(minutes=5)
    await touch_user(db, Person(1, "张三"), clock.now(), activity=log, group_id=GROUP)
    assert log.pending == 0  # within the resolution: nothing to write at all
    later = clock.advance(minutes=30)
    await touch_user(db, Person(1, "张三"), later, activity=log, group_id=GROUP)
    assert log.pending == 2  # both refreshes wait for the batch
    await log.flush(db)
    assert await _presence(db, 1) == later
    assert await _last_seen(db, 1) == later
