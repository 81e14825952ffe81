"""Notices, the durable outbox and acknowledgements.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("sender_id", sa.BigInteger(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("media_kind", sa.String(length=16), nullable=True),
        sa.Column("media_file_id", sa.String(length=256), nullable=True),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("pin", sa.Boolean(), nullable=False),
        sa.Column("ack_label", sa.String(length=16), nullable=True),
        sa.Column("ack_deadline", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("send_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("report_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("report_message_id", sa.BigInteger(), nullable=True),
        sa.Column("nudged_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("report_done_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("counts_dirty", sa.Boolean(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("recalled_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_notices_org_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["sender_id"], ["users.id"], name=op.f("fk_notices_sender_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
    )
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notices_org_id"), ["org_id"], unique=False)
        batch_op.create_index("ix_notices_status_send_at", ["status", "send_at"], unique=False)

    op.create_table(
        "outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("notice_id", sa.BigInteger(), nullable=True),
        sa.Column("org_id", sa.BigInteger(), nullable=True),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("thread_id", sa.BigInteger(), nullable=True),
        sa.Column("is_group", sa.Boolean(), nullable=False),
        sa.Column("target_message_id", sa.BigInteger(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["notice_id"], ["notices.id"], name=op.f("fk_outbox_notice_id_notices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_due", ["status", "not_before", "id"], unique=False)
        batch_op.create_index("ix_outbox_notice", ["notice_id", "purpose", "status"], unique=False)
        batch_op.create_index(
            "uq_outbox_notice_copy",
            ["notice_id", "chat_id"],
            unique=True,
            sqlite_where=sa.text("purpose = 'notice'"),
            postgresql_where=sa.text("purpose = 'notice'"),
        )

    op.create_table(
        "acknowledgements",
        sa.Column("notice_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("member_id", sa.BigInteger(), nullable=True),
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("acked_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_acknowledgements_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"], ["notices.id"], name=op.f("fk_acknowledgements_notice_id_notices")
        ),
        sa.PrimaryKeyConstraint("notice_id", "user_id", name=op.f("pk_acknowledgements")),
    )
    with op.batch_alter_table("acknowledgements", schema=None) as batch_op:
        batch_op.create_index("ix_ack_notice_org", ["notice_id", "org_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("acknowledgements", schema=None) as batch_op:
        batch_op.drop_index("ix_ack_notice_org")

    op.drop_table("acknowledgements")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_outbox_notice_copy",
            sqlite_where=sa.text("purpose = 'notice'"),
            postgresql_where=sa.text("purpose = 'notice'"),
        )
        batch_op.drop_index("ix_outbox_notice")
        batch_op.drop_index("ix_outbox_due")

    op.drop_table("outbox")
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_index("ix_notices_status_send_at")
        batch_op.drop_index(batch_op.f("ix_notices_org_id"))

    op.drop_table("notices")
