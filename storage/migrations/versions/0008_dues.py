"""Party dues (党费): settings and rate tables, standards, exemptions, claims, the append-only
ledger of entries, talks, remittances and disclosures.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _time(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, storage.types.UTCDateTime(timezone=True), nullable=nullable)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    op.create_table(
        "dues_settings",
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("payment_day", sa.Integer(), nullable=False),
        sa.Column("advance_cap", sa.Integer(), nullable=False),
        sa.Column("arrears_cap", sa.Integer(), nullable=False),
        sa.Column("show_amounts", sa.Boolean(), nullable=False),
        sa.Column("disclosure_months", sa.Integer(), nullable=False),
        sa.Column("rate_table", sa.JSON(), nullable=True),
        sa.Column("updated_by", sa.BigInteger(), nullable=True),
        _time("updated_at"),
        _fk("dues_settings", "org_id", "organizations"),
        sa.PrimaryKeyConstraint("org_id", name="pk_dues_settings"),
    )
    op.create_table(
        "dues_standards",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("member_id", sa.BigInteger(), nullable=False),
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("permille", sa.Integer(), nullable=False),
        sa.Column("lower_fen", sa.BigInteger(), nullable=True),
        sa.Column("upper_fen", sa.BigInteger(), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("from_month", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("base_fen", sa.BigInteger(), nullable=True),
        sa.Column("declared_by", sa.BigInteger(), nullable=True),
        _time("declared_at"),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        _time("decided_at", nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        _fk("dues_standards", "member_id", "members"),
        _fk("dues_standards", "org_id", "organizations"),
        sa.PrimaryKeyConstraint("id", name="pk_dues_standards"),
    )
    op.create_index("ix_dues_standards_member", "dues_standards", ["member_id", "status"])
    op.create_index("ix_dues_standards_org", "dues_standards", ["org_id", "status"])
    op.create_table(
        "dues_exemptions",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("member_id", sa.BigInteger(), nullable=False),
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("from_month", sa.Integer(), nullable=False),
        sa.Column("until_month", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("agreed_on", sa.Date(), nullable=False),
        sa.Column("approved_by", sa.String(length=100), nullable=False),
        sa.Column("recorded_by", sa.BigInteger(), nullable=False),
        _time("recorded_at"),
        _fk("dues_exemptions", "member_id", "members"),
        _fk("dues_exemptions", "org_id", "organizations"),
        sa.PrimaryKeyConstraint("id", name="pk_dues_exemptions"),
    )
    op.create_index("ix_dues_exemptions_member", "dues_exemptions", ["member_id"])
    op.create_table(
        "dues_claims",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("member_id", sa.BigInteger(), nullable=False),
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("months", sa.JSON(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("extra_fen", sa.BigInteger(), nullable=False),
        sa.Column("proof_file_id", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("claimed_by", sa.BigInteger(), nullable=False),
        _time("claimed_at"),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        _time("decided_at", nullable=True),
        _fk("dues_claims", "member_id", "members"),
        _fk("dues_claims", "org_id", "organizations"),
        sa.PrimaryKeyConstraint("id", name="pk_dues_claims"),
    )
    op.create_index("ix_dues_claims_org_status", "dues_claims", ["org_id", "status"])
    op.create_index("ix_dues_claims_member", "dues_claims", ["member_id"])
    op.create_table(
        "dues_entries",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("member_id", sa.BigInteger(), nullable=False),
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("to_centre", sa.Boolean(), nullable=False),
        sa.Column("claim_id", sa.BigInteger(), nullable=True),
        sa.Column("corrects_id", sa.BigInteger(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.BigInteger(), nullable=False),
        _time("recorded_at"),
        _fk("dues_entries", "member_id", "members"),
        _fk("dues_entries", "org_id", "organizations"),
        _fk("dues_entries", "claim_id", "dues_claims"),
        _fk("dues_entries", "corrects_id", "dues_entries"),
        sa.PrimaryKeyConstraint("id", name="pk_dues_entries"),
    )
    op.create_index("ix_dues_entries_member_month", "dues_entries", ["member_id", "month"])
    op.create_index("ix_dues_entries_org_month", "dues_entries", ["org_id", "month"])
    op.create_table(
        "dues_talks",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("member_id", sa.BigInteger(), nullable=False),
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("talked_by", sa.String(length=100), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.BigInteger(), nullable=False),
        _time("recorded_at"),
        _fk("dues_talks", "member_id", "members"),
        _fk("dues_talks", "org_id", "organizations"),
        sa.PrimaryKeyConstraint("id", name="pk_dues_talks"),
    )
    op.create_index("ix_dues_talks_member", "dues_talks", ["member_id"])
    op.create_table(
        "dues_remittances",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("to_org_id", sa.BigInteger(), nullable=False),
        sa.Column("from_month", sa.Integer(), nullable=False),
        sa.Column("until_month", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("proof_file_id", sa.String(length=200), nullable=True),
        sa.Column("recorded_by", sa.BigInteger(), nullable=False),
        _time("recorded_at"),
        sa.Column("confirmed_by", sa.BigInteger(), nullable=True),
        _time("confirmed_at", nullable=True),
        _fk("dues_remittances", "org_id", "organizations"),
        _fk("dues_remittances", "to_org_id", "organizations"),
        sa.PrimaryKeyConstraint("id", name="pk_dues_remittances"),
    )
    op.create_index("ix_dues_remittances_org", "dues_remittances", ["org_id"])
    op.create_index("ix_dues_remittances_to_org", "dues_remittances", ["to_org_id"])
    op.create_table(
        "dues_disclosures",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("period_key", sa.String(length=16), nullable=False),
        sa.Column("notice_id", sa.BigInteger(), nullable=True),
        sa.Column("show_amounts", sa.Boolean(), nullable=False),
        sa.Column("published_by", sa.BigInteger(), nullable=False),
        _time("published_at"),
        _fk("dues_disclosures", "org_id", "organizations"),
        _fk("dues_disclosures", "notice_id", "notices"),
        sa.PrimaryKeyConstraint("id", name="pk_dues_disclosures"),
        sa.UniqueConstraint("org_id", "period_key", name="uq_dues_disclosures_org_period"),
    )


def downgrade() -> None:
    for table in (
        "dues_disclosures", "dues_remittances", "dues_talks", "dues_entries", "dues_claims",
        "dues_exemptions", "dues_standards", "dues_settings",
    ):  # fmt: skip
        op.drop_table(table)
