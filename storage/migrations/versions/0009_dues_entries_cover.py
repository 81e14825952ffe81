"""Dues: the ledger's member index also covers kind and amount, so arrears of a whole city
are summed from the index alone (no table lookups for 1.8 million member-months).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

COVER = ["member_id", "month", "kind", "amount_fen"]


def upgrade() -> None:
    # The new index starts with (member_id, month), so the old one would only cost writes.
    op.create_index("ix_dues_entries_member_cover", "dues_entries", COVER)
    op.drop_index("ix_dues_entries_member_month", table_name="dues_entries")


def downgrade() -> None:
    op.create_index("ix_dues_entries_member_month", "dues_entries", ["member_id", "month"])
    op.drop_index("ix_dues_entries_member_cover", table_name="dues_entries")
