"""Forms: the card each branch's group gets for a cycle, so its count can be kept up to date.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "form_cards",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("cycle_id", sa.BigInteger(), nullable=False),
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("thread_id", sa.BigInteger(), nullable=True),
        sa.Column("item_id", sa.BigInteger(), nullable=True),
        sa.Column("edit_item_id", sa.BigInteger(), nullable=True),
        sa.Column("dirty", sa.Boolean(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["form_cycles.id"], name=op.f("fk_form_cards_cycle_id_form_cycles")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_form_cards_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_cards")),
        sa.UniqueConstraint("cycle_id", "org_id", name="uq_form_cards_cycle_org"),
    )
    with op.batch_alter_table("form_cards", schema=None) as batch_op:
        batch_op.create_index("ix_form_cards_dirty", ["dirty"], unique=False)


def downgrade() -> None:
    op.drop_table("form_cards")
