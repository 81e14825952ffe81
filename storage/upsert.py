"""INSERT … ON CONFLICT for both SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import Executable, Table, bindparam
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


def upsert_statement(
    dialect: str, table: Table, columns: Sequence[str], *, key: Sequence[str], update: Sequence[str]
) -> Executable:
    """The same upsert with every column a bound parameter, built once (a hot write then
    costs no statement building and hits the compiled-statement cache)."""
    return _upsert_statement(dialect, table, tuple(columns), tuple(key), tuple(update))


@cache
def _upsert_statement(
    dialect: str, table: Table, columns: tuple[str, ...], key: tuple[str, ...],
    update: tuple[str, ...],
) -> Executable:  # fmt: skip
    module: Any = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(table).values({c: bindparam(c) for c in columns})
    if update:
        stmt = stmt.on_conflict_do_update(
            index_elements=list(key), set_={c: stmt.excluded[c] for c in update}
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(key))
    done: Executable = stmt
    return done
