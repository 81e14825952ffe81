"""Columns named by a partial index's condition are compared as literals on SQLite.

SQLite re-prepares a statement on every run when a bound value could decide whether a
partial index applies; comparing those columns with literals keeps each statement prepared.
"""

from __future__ import annotations

import re

from sqlalchemy import Boolean, insert, select, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.sql import ClauseElement

from domain.orgs import Status
from storage.models import Base, ChatBinding, Member
from storage.types import IndexedCode


def _sql(statement: ClauseElement) -> str:
    """The statement as SQLite runs it: values rendered at execution filled in."""
    return str(statement.compile(dialect=sqlite.dialect(),
                                 compile_kwargs={"render_postcompile": True}))  # fmt: skip


def test_every_column_a_partial_index_names_is_an_indexed_code() -> None:
    found = []
    for table in Base.metadata.tables.values():
        for index in table.indexes:
            where = index.dialect_options["sqlite"].get("where")
            if where is None:
                continue
            for name in set(re.findall(r"[a-z_]+", str(where))) & set(table.c.keys()):
                found.append((table.name, name))
                # A flag is compared as `IS 1` / `= 1`, a literal already, on either database.
                assert isinstance(table.c[name].type, IndexedCode | Boolean), (table, name)
    assert ("members", "status") in found
    assert ("outbox", "purpose") in found


def test_comparisons_render_literals_and_writes_stay_bound() -> None:
    query = select(Member.id).where(Member.user_id == 5, Member.status == Status.ACTIVE)
    assert "members.status = 'active'" in _sql(query)
    assert "members.user_id = ?" in _sql(query)
    listed = select(Member.id).where(Member.status.in_([Status.ACTIVE, Status.LEFT]))
    assert "IN ('active', 'left')" in _sql(listed)
    changed = update(Member).where(Member.status == Status.ACTIVE).values(status=Status.LEFT)
    assert "SET status=? " in _sql(changed)
    assert "WHERE members.status = 'active'" in _sql(changed)
    assert "?" in _sql(insert(Member).values(status=Status.ACTIVE, name="张三"))


def test_a_flag_in_a_partial_index_is_compared_as_a_literal() -> None:
    query = select(ChatBinding.chat_id).where(ChatBinding.active.is_(True))
    assert "chat_bindings.active IS 1" in _sql(query)
    assert "chat_bindings.active = 1" in _sql(select(ChatBinding.chat_id).where(ChatBinding.active))
