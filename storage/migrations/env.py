"""Alembic environment: always run with a connection handed in by storage.migrate."""

from __future__ import annotations

from alembic import context

from storage.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - guarded by storage.migrate
    raise RuntimeError("run migrations through `zhibu db upgrade` (storage.migrate)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
