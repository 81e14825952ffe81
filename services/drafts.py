"""Half-finished wizards, kept in the database so a restart loses no answer."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from domain.wizard import Draft as TypedDraft
from domain.wizard import DraftFormatError, dump, load
from services.errors import ServiceError
from storage.db import Database
from storage.models import Draft
from storage.upsert import upsert

log = logging.getLogger(__name__)
D = TypeVar("D", bound=TypedDraft)


@dataclass(frozen=True)
class DraftView:
    """Where a person is in a wizard and what they answered so far."""

    flow: str
    step: str
    data: dict[str, Any] = field(default_factory=dict)


async def get_draft(db: Database, user_id: int) -> DraftView | None:
    """The person's open wizard, if any."""
    async with db.read() as session:
        row = await session.get(Draft, user_id)
        return None if row is None else DraftView(row.flow, row.step, dict(row.data))


async def save_draft(
    db: Database, user_id: int, flow: str, step: str, data: dict[str, Any], now: datetime
) -> DraftView:
    """Remember the wizard's step and answers (one open wizard per person)."""
    async with db.transaction() as session:
        await upsert(
            session,
            Draft.__table__,  # type: ignore[arg-type]
            {"user_id": user_id, "flow": flow, "step": step, "data": data, "updated_at": now},
            key=["user_id"],
            update=["flow", "step", "data", "updated_at"],
        )
    return DraftView(flow, step, data)


async def clear_draft(db: Database, user_id: int, flow: str | None = None) -> bool:
    """Forget the person's open wizard (only if it is of `flow`, when given)."""
    async with db.transaction() as session:
        query = delete(Draft).where(Draft.user_id == user_id)
        if flow is not None:
            query = query.where(Draft.flow == flow)
        result = await session.execute(query)
        return bool(result.rowcount)  # type: ignore[attr-defined]


# ---- typed drafts (domain.wizard): one frozen dataclass per wizard, versioned ----


@dataclass(frozen=True)
class Outdated:
    """The person had a wizard of this kind open, saved by an older release: it was dropped."""

    flow: str


async def open_draft(db: Database, user_id: int, cls: type[D]) -> D | Outdated | None:
    """The person's open wizard of this kind; Outdated (and forgotten) if it cannot be read."""
    async with db.read() as session:
        row = await session.get(Draft, user_id)
        if row is None or row.flow != cls.FLOW:
            return None
        data = dict(row.data)
    try:
        return load(cls, data)
    except DraftFormatError:
        log.info("dropping a %s draft of user %s saved by another release", cls.FLOW, user_id)
        await clear_draft(db, user_id, cls.FLOW)
        return Outdated(cls.FLOW)


async def keep_draft(db: Database, user_id: int, draft: D, now: datetime) -> D:
    """Remember the typed draft (replacing whatever wizard the person had open)."""
    await save_draft(db, user_id, type(draft).FLOW, draft.step, dump(draft), now)
    return draft


async def keep_draft_in(session: AsyncSession, user_id: int, draft: D, now: datetime) -> D:
    """Inside the caller's transaction: remember the typed draft (kept only if it commits)."""
    await session.flush()  # a draft taken earlier in this transaction is deleted first
    await upsert(
        session,
        Draft.__table__,  # type: ignore[arg-type]
        {"user_id": user_id, "flow": type(draft).FLOW, "step": draft.step,
         "data": dump(draft), "updated_at": now},
        key=["user_id"],
        update=["flow", "step", "data", "updated_at"],
    )  # fmt: skip
    return draft


async def take_draft(session: AsyncSession, user_id: int, cls: type[D]) -> D | None:
    """Inside the caller's transaction: the open draft of this kind, deleted with the intent.

    The intent that finishes a wizard (publish, save an edit) calls this in its own
    transaction: the draft is gone exactly when the change is committed, so pressing the old
    preview's button again finds nothing to act on (None), even after a crash in between.
    """
    row = await session.get(Draft, user_id, with_for_update=True)
    if row is None or row.flow != cls.FLOW:
        return None
    try:
        draft = load(cls, dict(row.data))
    except DraftFormatError:
        return None
    await session.delete(row)
    return draft


async def finish_draft(session: AsyncSession, user_id: int, draft: TypedDraft) -> None:
    """Inside the intent's transaction: take exactly the draft the answer was read against.

    A one-question wizard's intent (a typed reason, a phone number) calls this, so the draft
    goes when the change commits and stays when it is refused; the same text sent again, or a
    draft replaced meanwhile by another wizard, is refused as "stale".
    """
    if await take_draft(session, user_id, type(draft)) != draft:
        raise ServiceError("stale")
