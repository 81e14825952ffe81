"""Half-finished wizards, kept in the database so a restart loses no answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete

from storage.db import Database
from storage.models import Draft
from storage.upsert import upsert


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
