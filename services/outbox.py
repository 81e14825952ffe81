"""The durable outbox: what the bot owes people, claimed once, sent, and marked."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import OutboxItem
from storage.types import UTCDateTime

# Waits after a transient failure (5xx, timeout), then the item is given up as failed.
BACKOFF = (timedelta(seconds=2), timedelta(seconds=10), timedelta(seconds=60),
           timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1))  # fmt: skip


class Wakeup:
    """Tells the outbox worker that new items are waiting, so it need not wait for its poll."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def wake(self) -> None:
        self._event.set()

    async def wait(self, seconds: float) -> None:
        """Return when woken or after `seconds`, whichever comes first."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), seconds)
        self._event.clear()


@dataclass(frozen=True)
class Delivery:
    """A claimed outbox item, ready to be sent by one worker."""

    id: int
    purpose: str
    notice_id: int | None
    org_id: int | None
    chat_id: int
    thread_id: int | None
    is_group: bool
    target_message_id: int | None
    payload: dict[str, Any]
    attempts: int


def item_values(
    *,
    purpose: str,
    chat_id: int,
    now: datetime,
    not_before: datetime | None = None,
    notice_id: int | None = None,
    org_id: int | None = None,
    thread_id: int | None = None,
    is_group: bool = False,
    target_message_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The columns of a new outbox row (see new_item; add_items inserts many at once)."""
    return {
        "purpose": purpose,
        "notice_id": notice_id,
        "org_id": org_id,
        "chat_id": chat_id,
        "thread_id": thread_id,
        "is_group": is_group,
        "target_message_id": target_message_id,
        "payload": payload or {},
        "status": "pending",
        "attempts": 0,
        "not_before": not_before or now,
        "created_at": now,
    }


def new_item(
    *,
    purpose: str,
    chat_id: int,
    now: datetime,
    not_before: datetime | None = None,
    notice_id: int | None = None,
    org_id: int | None = None,
    thread_id: int | None = None,
    is_group: bool = False,
    target_message_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> OutboxItem:
    """An outbox row to add in the caller's transaction (so it commits with the intent)."""
    values = item_values(
        purpose=purpose, chat_id=chat_id, now=now, not_before=not_before, notice_id=notice_id,
        org_id=org_id, thread_id=thread_id, is_group=is_group,
        target_message_id=target_message_id, payload=payload,
    )  # fmt: skip
    return OutboxItem(**values)


async def add_items(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Insert many outbox rows (item_values) in the caller's transaction, in one statement:
    a 2,000-group broadcast or 150,000 private copies must not cost an ORM object each."""
    if rows:
        await session.execute(insert(OutboxItem), rows)


# A button as stored in a payload: [label, "cb:" + callback data] or [label, "url:" + link].
ButtonRows = list[list[tuple[str, str]]]


def enqueue_text(
    session: AsyncSession,
    *,
    chat_id: int,
    html: str,
    now: datetime,
    not_before: datetime | None = None,
    is_group: bool = False,
    thread_id: int | None = None,
    buttons: ButtonRows | None = None,
    reply_to: int | None = None,
) -> OutboxItem:
    """Queue a ready-rendered message (reminders, reports, notifications) in the caller's
    transaction; its Telegram message id is recorded on the returned row once sent."""
    item = new_item(purpose="text", chat_id=chat_id, now=now, not_before=not_before,
                    is_group=is_group, thread_id=thread_id, target_message_id=reply_to,
                    payload={"html": html, "buttons": buttons or []})  # fmt: skip
    session.add(item)
    return item


def enqueue_edit(
    session: AsyncSession,
    *,
    chat_id: int,
    message_id: int,
    html: str,
    now: datetime,
    is_group: bool = False,
    buttons: ButtonRows | None = None,
) -> OutboxItem:
    """Queue a re-render of a message the bot sent (live counters, closed states)."""
    item = new_item(purpose="edit", chat_id=chat_id, now=now, is_group=is_group,
                    target_message_id=message_id,
                    payload={"html": html, "buttons": buttons or []})  # fmt: skip
    session.add(item)
    return item


def enqueue_file(
    session: AsyncSession,
    *,
    chat_id: int,
    filename: str,
    data: bytes,
    caption_html: str,
    as_photo: bool,
    now: datetime,
    not_before: datetime | None = None,
    is_group: bool = False,
    thread_id: int | None = None,
) -> OutboxItem:
    """Queue a document or photo the bot made (a table, a chart) in the caller's transaction;
    the bytes travel in the payload (base64), so the item is self-contained."""
    payload = {"filename": filename, "data": base64.b64encode(data).decode("ascii"),
               "caption": caption_html, "as_photo": as_photo}  # fmt: skip
    item = new_item(purpose="file", chat_id=chat_id, now=now, not_before=not_before,
                    is_group=is_group, thread_id=thread_id, payload=payload)  # fmt: skip
    session.add(item)
    return item


async def sent_message_id(db: Database, item_id: int) -> int | None:
    """The Telegram message id of a sent item (None while it is not sent)."""
    async with db.read() as session:
        return await session.scalar(
            select(OutboxItem.message_id).where(
                OutboxItem.id == item_id, OutboxItem.status == "sent"
            )
        )


async def claim(db: Database, worker: str, now: datetime, limit: int) -> list[Delivery]:
    """Take up to `limit` due items for this worker; no other worker can take them."""
    async with db.transaction() as session:
        query = (
            select(OutboxItem)
            .where(OutboxItem.status == "pending", OutboxItem.not_before <= now)
            .order_by(OutboxItem.not_before, OutboxItem.id)
            .limit(limit)
        )
        if db.dialect == "postgresql":
            # Two bot processes on one database never take the same row.
            query = query.with_for_update(skip_locked=True)
        rows = (await session.scalars(query)).all()
        for row in rows:
            row.status = "sending"
            row.claimed_at = now
            row.claimed_by = worker
            row.attempts += 1
        return [
            Delivery(
                id=r.id,
                purpose=r.purpose,
                notice_id=r.notice_id,
                org_id=r.org_id,
                chat_id=r.chat_id,
                thread_id=r.thread_id,
                is_group=r.is_group,
                target_message_id=r.target_message_id,
                payload=dict(r.payload),
                attempts=r.attempts,
            )
            for r in rows
        ]


async def next_due(db: Database) -> datetime | None:
    """When the earliest pending item becomes due (for the worker's sleep)."""
    async with db.read() as session:
        return await session.scalar(
            select(func.min(OutboxItem.not_before)).where(OutboxItem.status == "pending")
        )


async def release_stale(db: Database, now: datetime, claim_timeout: timedelta) -> int:
    """Items a dead worker claimed and never finished go back to pending.

    This is the one place a message can go out twice: if Telegram accepted it and the
    process died before mark_sent committed (a window of milliseconds).
    """
    async with db.transaction() as session:
        result = await session.execute(
            update(OutboxItem)
            .where(OutboxItem.status == "sending", OutboxItem.claimed_at < now - claim_timeout)
            .values(status="pending", claimed_by=None)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


_ITEMS = cast(Table, OutboxItem.__table__)
_MARK_SENT = (
    update(_ITEMS)
    .where(_ITEMS.c.id == bindparam("item_id"))
    .values(status="sent", message_id=bindparam("message_id"),
            sent_at=bindparam("sent_at", type_=UTCDateTime()), error=None)
)  # fmt: skip


async def mark_sent(
    db: Database,
    item_id: int,
    message_id: int | None,
    now: datetime,
    *,
    other_parts: list[int] | None = None,
) -> None:
    """Telegram accepted it: remember its message id (for edits, counters and recalls) and
    the ids of earlier parts when a long text went out as several messages."""
    # Once per copy of a broadcast: group-committed with the other writes of the moment.
    await db.write_together(partial(_record_sent, item_id, message_id, now, other_parts))


def _record_sent(
    item_id: int,
    message_id: int | None,
    now: datetime,
    other_parts: list[int] | None,
    conn: Connection,
) -> None:
    values = {"item_id": item_id, "message_id": message_id, "sent_at": now}
    if not other_parts:
        conn.execute(_MARK_SENT, values)
        return
    payload = conn.execute(select(_ITEMS.c.payload).where(_ITEMS.c.id == item_id)).scalar()
    conn.execute(_MARK_SENT.values(payload={**(payload or {}), "parts": other_parts}), values)


async def mark_retry(db: Database, item: Delivery, error: str, now: datetime) -> bool:
    """A transient failure: try again after a growing wait; False once we give up."""
    give_up = item.attempts > len(BACKOFF)
    async with db.transaction() as session:
        values: dict[str, Any] = {"error": error[:300], "claimed_by": None}
        if give_up:
            values["status"] = "failed"
        else:
            values["status"] = "pending"
            values["not_before"] = now + BACKOFF[item.attempts - 1]
        await session.execute(update(OutboxItem).where(OutboxItem.id == item.id).values(**values))
    return not give_up


async def mark_later(db: Database, item_id: int, at: datetime, error: str) -> None:
    """Flood control asked us to wait: back to pending until `at`, no attempt counted."""
    async with db.transaction() as session:
        await session.execute(
            update(OutboxItem)
            .where(OutboxItem.id == item_id)
            .values(status="pending", not_before=at, claimed_by=None, error=error[:300],
                    attempts=OutboxItem.attempts - 1)
        )  # fmt: skip


async def mark_final(db: Database, item_id: int, status: str, error: str) -> None:
    """A permanent outcome: "unreachable" (blocked, kicked) or "failed" (rejected)."""
    async with db.transaction() as session:
        await session.execute(
            update(OutboxItem)
            .where(OutboxItem.id == item_id)
            .values(status=status, error=error[:300], claimed_by=None)
        )


async def follow_migration(db: Database, item_id: int, old_chat: int, new_chat: int) -> None:
    """The target group became a supergroup: this and every pending item follow it."""
    async with db.transaction() as session:
        await session.execute(
            update(OutboxItem)
            .where(OutboxItem.chat_id == old_chat, OutboxItem.status.in_(["pending", "sending"]))
            .values(chat_id=new_chat)
        )
        await session.execute(
            update(OutboxItem)
            .where(OutboxItem.id == item_id)
            .values(status="pending", claimed_by=None, attempts=OutboxItem.attempts - 1)
        )
