"""Repair databases created with the first version of 0003: add notices.report_done_at.

0003_notices.py was edited after it was committed (commit deb2abb, "Outbox: ... final
report never missed") to add the column `notices.report_done_at`. A database migrated
to 0003 before that edit records revision 0003 without the column, so every later upgrade
"succeeded" and the notice reports then failed on the missing column. This migration adds
what the edit added, only where it is missing: on a database created with the edited 0003
it does nothing.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("notices")}
    if "report_done_at" not in columns:
        with op.batch_alter_table("notices", schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("report_done_at", storage.types.UTCDateTime(timezone=True), nullable=True)
            )


def downgrade() -> None:
    # Nothing to undo: the column belongs to 0003 as it stands, and most databases got it
    # from there; dropping it here would break them.
    pass
