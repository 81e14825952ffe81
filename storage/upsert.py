"""INSERT … ON CONFLICT for both SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


async def upsert(
    session: AsyncSession,
    table: Table,
    values: dict[str, Any],
    *,
    key: Sequence[str],
    update: Sequence[str],
) -> None:
    """Insert a row, or update the `update` columns of the row with the same `key`."""
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(table).values(**values)
    if update:
        stmt = stmt.on_conflict_do_update(
            index_elements=list(key), set_={c: stmt.excluded[c] for c in update}
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(key))
    await session.execute(stmt)
