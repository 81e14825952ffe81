"""The append-only audit trail of admin actions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import AuditEntry


@dataclass(frozen=True)
class AuditRecord:
    """One line of the audit trail as shown to operators."""

    id: int
    at: datetime
    actor_id: int | None
    action: str
    target_type: str
    target_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def record(
    session: AsyncSession,
    *,
    at: datetime,
    actor_id: int | None,
    action: str,
    target_type: str,
    target_id: str | int,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Add an audit entry to the caller's transaction, so it commits with the change itself."""
    session.add(
        AuditEntry(
            at=at,
            actor_id=actor_id,
            action=action,
            target_type=target_type,
            target_id=str(target_id),
            before=before,
            after=after,
        )
    )


async def recent(
    db: Database, *, limit: int = 50, target_type: str | None = None, target_id: str | None = None
) -> list[AuditRecord]:
    """The newest audit entries, optionally for one record."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if target_type is not None:
        query = query.where(AuditEntry.target_type == target_type)
    if target_id is not None:
        query = query.where(AuditEntry.target_id == target_id)
    async with db.transaction() as session:
        rows = (await session.scalars(query)).all()
    return [
        AuditRecord(
            id=r.id,
            at=r.at,
            actor_id=r.actor_id,
            action=r.action,
            target_type=r.target_type,
            target_id=r.target_id,
            before=r.before,
            after=r.after,
        )
        for r in rows
    ]
