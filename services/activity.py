"""When people were last seen, written in batches: one transaction a second, not one per press.

Every update refreshes two facts at a ten-minute resolution: the user's last_seen_at and their
presence in the group. During a broadcast nearly every press is someone's first in ten
minutes, so written one by one they were two of the three write transactions of a press,
and on SQLite every write waits for the one before. Only these refreshes of rows that
already exist are batched here; a new person or a changed name is written at once. What
the buffer holds when the process dies is at most a second of "last seen" refreshes,
which nothing depends on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import ChatPresence, User
from storage.upsert import upsert

log = logging.getLogger(__name__)

# Presence in a group is refreshed at most this often (it answers "who is in this group").
PRESENCE_RESOLUTION = timedelta(minutes=10)

FLUSH_EVERY = 1.0  # seconds
# Bounds what a dead database can make us hold; beyond it the oldest refreshes are dropped.
MAX_PENDING = 200_000

# Core statements: with a list of parameters they run as one executemany, not ORM bulk work.
_USERS = cast(Table, User.__table__)
_PRESENCE = cast(Table, ChatPresence.__table__)
_BUMP_USER = (
    update(_USERS)
    .where(_USERS.c.id == bindparam("uid"), _USERS.c.last_seen_at < bindparam("seen"))
    .values(last_seen_at=bindparam("seen"))
)
_BUMP_PRESENCE = (
    update(_PRESENCE)
    .where(
        _PRESENCE.c.chat_id == bindparam("cid"),
        _PRESENCE.c.user_id == bindparam("uid"),
        _PRESENCE.c.seen_at < bindparam("seen"),
    )
    .values(seen_at=bindparam("seen"))
)


# When someone was last recorded as present in a group, if ever (chat_id, user_id).
PRESENCE_SEEN = select(ChatPresence.seen_at).where(
    ChatPresence.chat_id == bindparam("chat_id"), ChatPresence.user_id == bindparam("user_id")
)


async def presence_seen(session: AsyncSession, chat_id: int, user_id: int) -> datetime | None:
    """When someone was last recorded as present in a group, if ever."""
    return await session.scalar(PRESENCE_SEEN, {"chat_id": chat_id, "user_id": user_id})


async def write_presence(session: AsyncSession, chat_id: int, user_id: int, now: datetime) -> None:
    """Record someone as present in a group now (inserted or refreshed)."""
    await upsert(
        session, _PRESENCE,
        {"chat_id": chat_id, "user_id": user_id, "seen_at": now},
        key=["chat_id", "user_id"], update=["seen_at"],
    )  # fmt: skip


class ActivityLog:
    """Last-seen refreshes waiting to be written by flush()."""

    def __init__(self) -> None:
        self._users: dict[int, datetime] = {}
        self._presence: dict[tuple[int, int], datetime] = {}
        self._task: asyncio.Task[None] | None = None

    def user_seen(self, user_id: int, now: datetime) -> None:
        """Remember that a known user was active now."""
        self._users[user_id] = now
        self._trim()

    def present(self, chat_id: int, user_id: int, now: datetime) -> None:
        """Remember that a known member of a group was active in it now."""
        self._presence[(chat_id, user_id)] = now
        self._trim()

    @property
    def pending(self) -> int:
        return len(self._users) + len(self._presence)

    def _trim(self) -> None:
        while len(self._users) > MAX_PENDING:
            del self._users[next(iter(self._users))]
        while len(self._presence) > MAX_PENDING:
            del self._presence[next(iter(self._presence))]

    async def flush(self, db: Database) -> int:
        """Write what is waiting in one transaction; how many refreshes were written."""
        users, self._users = self._users, {}
        presence, self._presence = self._presence, {}
        if not users and not presence:
            return 0
        try:
            async with db.transaction() as session:
                if users:
                    await session.execute(
                        _BUMP_USER, [{"uid": u, "seen": t} for u, t in users.items()]
                    )
                if presence:
                    # An update, never an insert: someone who left meanwhile stays gone.
                    await session.execute(
                        _BUMP_PRESENCE,
                        [{"cid": c, "uid": u, "seen": t} for (c, u), t in presence.items()],
                    )
        except Exception:
            # Put them back (newer refreshes win) for the next flush.
            for uid, at in users.items():
                self._users.setdefault(uid, at)
            for key, at in presence.items():
                self._presence.setdefault(key, at)
            self._trim()
            raise
        return len(users) + len(presence)

    async def _run(self, db: Database) -> None:
        while True:
            await asyncio.sleep(FLUSH_EVERY)
            try:
                await self.flush(db)
            except Exception:  # the database away for a moment: keep them for the next try
                log.exception("could not record last-seen times; retrying")

    def start(self, db: Database) -> None:
        """Flush every second from now on (inside the running event loop)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(db), name="activity-log")

    async def stop(self, db: Database) -> None:
        """Stop the periodic flush and write what is left."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        try:
            await self.flush(db)
        except Exception:
            log.exception("could not record the last last-seen times")
