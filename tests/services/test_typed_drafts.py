"""Typed drafts in the database: kept, reopened, dropped when outdated, taken with an intent."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import ClassVar

from domain.wizard import Draft, dump
from services.drafts import (
    Outdated,
    clear_draft,
    get_draft,
    keep_draft,
    open_draft,
    save_draft,
    take_draft,
)
from storage.db import Database

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


@dataclasses.dataclass(frozen=True)
class Plan(Draft):
    FLOW: ClassVar[str] = "plan"
    VERSION: ClassVar[int] = 1

    topic: str = ""
    members: tuple[int, ...] = ()


async def test_a_typed_draft_is_kept_and_reopened(db: Database) -> None:
    draft = Plan(step="topic", topic="学习", members=(5, 7))
    await keep_draft(db, 1, draft, NOW)
    assert await open_draft(db, 1, Plan) == draft
    assert await open_draft(db, 2, Plan) is None


async def test_a_draft_of_another_flow_is_not_opened(db: Database) -> None:
    await save_draft(db, 1, "notice", "title", {}, NOW)
    assert await open_draft(db, 1, Plan) is None
    assert await get_draft(db, 1) is not None


async def test_a_draft_saved_by_an_older_release_is_dropped_politely(db: Database) -> None:
    await save_draft(db, 1, "plan", "topic", {**dump(Plan(step="topic")), "_v": 0}, NOW)
    assert await open_draft(db, 1, Plan) == Outdated("plan")
    assert await get_draft(db, 1) is None


async def test_taking_a_draft_deletes_it_in_the_callers_transaction(db: Database) -> None:
    await keep_draft(db, 1, Plan(step="pre", topic="x"), NOW)

    class Boom(Exception):
        pass

    try:
        async with db.transaction() as session:
            assert await take_draft(session, 1, Plan) == Plan(step="pre", topic="x")
            raise Boom
    except Boom:
        pass
    # Rolled back with the intent: still there.
    assert await open_draft(db, 1, Plan) == Plan(step="pre", topic="x")
    async with db.transaction() as session:
        assert await take_draft(session, 1, Plan) is not None
    async with db.transaction() as session:
        assert await take_draft(session, 1, Plan) is None
    assert not await clear_draft(db, 1)
