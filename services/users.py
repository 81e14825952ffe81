"""People the bot talks to: first contact, language choice, blocking."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any, Protocol, cast

from sqlalchemy import ColumnElement, Connection, Row, Table, bindparam, select, update

from domain.locale import is_supported, negotiate_locale
from services.activity import PRESENCE_RESOLUTION, PRESENCE_SEEN, ActivityLog
from services.authz import HOLDS_OFFICE
from storage.db import Database
from storage.models import ChatPresence, User
from storage.upsert import upsert, upsert_statement

# last_seen is for "last activity" views; minute precision is plenty and saves a write
# on almost every update.
LAST_SEEN_RESOLUTION = timedelta(minutes=10)


@dataclass(frozen=True)
class Person:
    """What Telegram tells us about a user on each update."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None


@dataclass(frozen=True)
class UserView:
    """A user as the rest of the bot needs them."""

    id: int
    first_name: str
    last_name: str | None
    language_code: str | None
    locale: str | None
    started: bool
    blocked: bool
    # Whether they hold an office today, as read with the row (None: not asked for); menus
    # and /help choose what to show by it, every action still authorizes on its own.
    holds_office: bool | None = None


class _UserColumns(Protocol):
    """A users row, as the ORM or a plain SELECT gives it."""

    id: int
    first_name: str
    last_name: str | None
    username: str | None
    language_code: str | None
    locale: str | None
    started: bool
    blocked_at: datetime | None
    last_seen_at: datetime


def _view(row: _UserColumns, holds_office: bool | None = None) -> UserView:
    return UserView(
        id=row.id,
        first_name=row.first_name,
        last_name=row.last_name,
        language_code=row.language_code,
        locale=row.locale,
        started=row.started,
        blocked=row.blocked_at is not None,
        holds_office=holds_office,
    )


_USERS = cast(Table, User.__table__)
_USER_ROW = select(_USERS).where(_USERS.c.id == bindparam("user_id"))


# Everything an update needs to know of its sender, in one keyed statement: their row, when
# they were last seen in the group (chat_id NULL outside a group: no row matches) and whether
# they hold an office today.
_PROFILE_COLUMNS: list[ColumnElement[Any]] = [
    *(c for c in _USERS.c if c.key != "created_at"),  # one date fewer to parse, unused here
    PRESENCE_SEEN.scalar_subquery().label("presence_seen"),
    HOLDS_OFFICE.label("holds_office"),
]
_PROFILE = select(*_PROFILE_COLUMNS).where(_USERS.c.id == bindparam("user_id"))


def _profile(user_id: int, group_id: int | None, today: date, conn: Connection) -> Row[Any] | None:
    """The stored user with their presence in the group and whether they hold an office."""
    params = {"user_id": user_id, "chat_id": group_id, "today": today}
    return conn.execute(_PROFILE, params).first()


def _user_row(user_id: int, conn: Connection) -> Row[Any] | None:
    return conn.execute(_USER_ROW, {"user_id": user_id}).first()


def _clip(value: str | None, limit: int) -> str | None:
    return None if value is None else value[:limit]


async def touch_user(
    db: Database,
    person: Person,
    now: datetime,
    *,
    started: bool = False,
    activity: ActivityLog | None = None,
    group_id: int | None = None,
    today: date | None = None,
) -> UserView:
    """Remember who wrote to us (and that they are in this group); writes only what changed.

    One read serves every fact, since every update of a busy moment needs them; refreshes
    of what is already known go to the activity log's batch when one is given. Given
    `today`, the view says whether they hold an office that day.
    """
    row = await db.read_now(partial(_profile, person.id, group_id, today or now.date()))
    seen = row.presence_seen if row is not None else None
    office = bool(row.holds_office) if row is not None and today is not None else None
    new_presence = group_id is not None and seen is None
    if group_id is not None and seen is not None and now - seen >= PRESENCE_RESOLUTION:
        if activity is not None:
            activity.present(group_id, person.id, now)  # a refresh: written with the batch
        else:
            new_presence = True  # no batch: written now, with the user if need be
    user_write = row is None or _needs_write(row, person, now, started)
    only_time = row is not None and not _changed(row, person, started)
    if row is not None and user_write and activity is not None and only_time:
        activity.user_seen(row.id, now)  # only the time moved: written with the batch
        user_write = False
    if row is not None and not user_write and not new_presence:
        return _view(row, office)
    # A small keyed write of every first contact: group-committed with the writes of the
    # moment (a crowd of newcomers shares a commit), answered once committed.
    presence_in = group_id if new_presence else None
    return await db.write_together(
        partial(_write_contact, person, now, today, started, user_write or row is None, presence_in)
    )


def _write_contact(
    person: Person,
    now: datetime,
    today: date | None,
    started: bool,
    write_user: bool,
    presence_in: int | None,
    conn: Connection,
) -> UserView:
    """The user's row (and their presence in a group) written; the row as stored after it."""
    if write_user:
        conn.execute(
            upsert_statement(conn.dialect.name, _USERS, _USER_COLUMNS, key=["id"],
                             update=_REFRESHED_ON_START if started else _REFRESHED),
            {
                "id": person.id,
                "first_name": _clip(person.first_name, 256) or "",
                "last_name": _clip(person.last_name, 256),
                "username": _clip(person.username, 64),
                "language_code": _clip(person.language_code, 35),
                "last_seen_at": now,
                "started": started,
                "blocked_at": None,
                "created_at": now,
                "locale": None,
            },
        )  # fmt: skip
    if presence_in is not None:
        conn.execute(
            upsert_statement(conn.dialect.name, _PRESENCE, _PRESENCE_COLUMNS,
                             key=["chat_id", "user_id"], update=("seen_at",)),
            {"chat_id": presence_in, "user_id": person.id, "seen_at": now},
        )  # fmt: skip
    if today is None:
        return _view(conn.execute(_USER_ROW, {"user_id": person.id}).one())
    stored = _profile(person.id, None, today, conn)
    assert stored is not None
    return _view(stored, bool(stored.holds_office))


# Upsert: two first updates from one person may race on the insert.
_USER_COLUMNS = ("id", "first_name", "last_name", "username", "language_code", "last_seen_at",
                 "started", "blocked_at", "created_at", "locale")  # fmt: skip
_REFRESHED = ("first_name", "last_name", "username", "language_code", "last_seen_at")
_REFRESHED_ON_START = (*_REFRESHED, "started", "blocked_at")
_PRESENCE = cast(Table, ChatPresence.__table__)
_PRESENCE_COLUMNS = ("chat_id", "user_id", "seen_at")


def _changed(row: _UserColumns, person: Person, started: bool) -> bool:
    return (
        (started and (not row.started or row.blocked_at is not None))
        or row.first_name != (_clip(person.first_name, 256) or "")
        or row.last_name != _clip(person.last_name, 256)
        or row.username != _clip(person.username, 64)
        or row.language_code != _clip(person.language_code, 35)
    )


def _needs_write(row: _UserColumns, person: Person, now: datetime, started: bool) -> bool:
    return _changed(row, person, started) or now - row.last_seen_at >= LAST_SEEN_RESOLUTION


async def set_locale(db: Database, user_id: int, locale: str) -> bool:
    """Remember the language a user chose; False for an unknown user or locale."""
    if not is_supported(locale):
        return False
    async with db.transaction() as session:
        result = await session.execute(update(User).where(User.id == user_id).values(locale=locale))
        return bool(result.rowcount)  # type: ignore[attr-defined]


async def set_private_chat_status(
    db: Database, person: Person, now: datetime, *, blocked: bool
) -> None:
    """Record that a user blocked (or unblocked) the bot, so nobody retries sending to them."""
    async with db.transaction() as session:
        await upsert(
            session,
            User.__table__,  # type: ignore[arg-type]
            {
                "id": person.id,
                "first_name": _clip(person.first_name, 256) or "",
                "last_name": _clip(person.last_name, 256),
                "username": _clip(person.username, 64),
                "language_code": _clip(person.language_code, 35),
                "started": not blocked,
                "blocked_at": now if blocked else None,
                "created_at": now,
                "last_seen_at": now,
                "locale": None,
            },
            key=["id"],
            update=["started", "blocked_at"],
        )


async def locale_of(db: Database, user_id: int, default: str) -> str:
    """The language to write to someone in: their /lang choice, else their app's language."""
    row = await db.read_now(partial(_user_row, user_id))
    if row is None:
        return default
    return row.locale or negotiate_locale(row.language_code, default)
