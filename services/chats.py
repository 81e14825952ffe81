"""Groups the bot is in: being added or removed, and group → supergroup migration."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update

from services.groups import move_chat_id
from storage.db import Database
from storage.models import Chat, OutboxItem
from storage.upsert import upsert

ACTIVE_STATUSES = frozenset({"member", "administrator", "creator"})


@dataclass(frozen=True)
class ChatView:
    """A group as the rest of the bot needs it."""

    id: int
    type: str
    title: str
    bot_status: str
    is_forum: bool
    migrated_to: int | None

    @property
    def active(self) -> bool:
        return self.bot_status in ACTIVE_STATUSES and self.migrated_to is None


async def record_bot_status(
    db: Database,
    *,
    chat_id: int,
    chat_type: str,
    title: str,
    is_forum: bool,
    bot_status: str,
    now: datetime,
) -> ChatView:
    """Remember the bot's standing in a group after Telegram reports a change."""
    async with db.transaction() as session:
        await upsert(
            session,
            Chat.__table__,  # type: ignore[arg-type]
            {
                "id": chat_id,
                "type": chat_type,
                "title": title[:256],
                "bot_status": bot_status,
                "is_forum": is_forum,
                "migrated_to": None,
                "created_at": now,
                "updated_at": now,
            },
            key=["id"],
            update=["type", "title", "bot_status", "is_forum", "updated_at"],
        )
        row = await session.get(Chat, chat_id, populate_existing=True)
        assert row is not None
        return _view(row)


async def migrate_chat(
    db: Database, *, old_id: int, new_id: int, title: str, now: datetime
) -> ChatView:
    """Follow a basic group that became a supergroup: the new id takes over, the old is dead.

    Idempotent: Telegram sends the migration as two service messages (one in each chat),
    and either may arrive first or twice.
    """
    async with db.transaction() as session:
        old = await session.get(Chat, old_id)
        status = old.bot_status if old is not None else "member"
        await upsert(
            session,
            Chat.__table__,  # type: ignore[arg-type]
            {
                "id": new_id,
                "type": "supergroup",
                "title": title[:256],
                "bot_status": status,
                "is_forum": False,
                "migrated_to": None,
                "created_at": now,
                "updated_at": now,
            },
            key=["id"],
            update=["type", "updated_at"],
        )
        if old is not None:
            await session.execute(
                update(Chat).where(Chat.id == old_id).values(migrated_to=new_id, updated_at=now)
            )
        # Every table that stores a chat id moves here, in this same transaction, so
        # nothing is left pointing at the dead id.
        await move_chat_id(session, old_id, new_id)
        await session.execute(
            update(OutboxItem)
            .where(OutboxItem.chat_id == old_id, OutboxItem.status == "pending")
            .values(chat_id=new_id)
        )
        row = await session.get(Chat, new_id, populate_existing=True)
        assert row is not None
        return _view(row)


async def get_chat(db: Database, chat_id: int) -> ChatView | None:
    """The group as last recorded, or None."""
    async with db.read() as session:
        row = await session.get(Chat, chat_id)
        return None if row is None else _view(row)


def _view(row: Chat) -> ChatView:
    return ChatView(
        id=row.id,
        type=row.type,
        title=row.title,
        bot_status=row.bot_status,
        is_forum=row.is_forum,
        migrated_to=row.migrated_to,
    )
