"""Forms (信息报送): forms, their cycles, responses with their versions, anonymous answers.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _time(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, storage.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "forms",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("sender_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("intro", sa.Text(), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("late_policy", sa.String(length=16), nullable=False),
        sa.Column("repeat", sa.String(length=16), nullable=False),
        sa.Column("due_day", sa.Integer(), nullable=False),
        sa.Column("template", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        _time("created_at"),
        _time("closed_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_forms_org_id_organizations")
        ),
        sa.ForeignKeyConstraint(["sender_id"], ["users.id"], name=op.f("fk_forms_sender_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forms")),
    )
    with op.batch_alter_table("forms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_forms_org_id"), ["org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_forms_sender_id"), ["sender_id"], unique=False)

    op.create_table(
        "form_cycles",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("form_id", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(length=16), nullable=False),
        _time("opens_at"),
        _time("deadline"),
        sa.Column("counts_dirty", sa.Boolean(), nullable=False),
        _time("created_at"),
        sa.ForeignKeyConstraint(
            ["form_id"], ["forms.id"], name=op.f("fk_form_cycles_form_id_forms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_cycles")),
        sa.UniqueConstraint("form_id", "key", name="uq_form_cycles_form_key"),
    )
    with op.batch_alter_table("form_cycles", schema=None) as batch_op:
        batch_op.create_index("ix_form_cycles_deadline", ["deadline"], unique=False)

    op.create_table(
        "form_responses",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("cycle_id", sa.BigInteger(), nullable=False),
        sa.Column("respondent", sa.String(length=32), nullable=False),
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("member_id", sa.BigInteger(), nullable=True),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=True),
        sa.Column("nothing_to_report", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _time("first_submitted_at"),
        _time("submitted_at"),
        sa.Column("review_comment", sa.Text(), nullable=True),
        sa.Column("reviewed_by", sa.BigInteger(), nullable=True),
        _time("reviewed_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["form_cycles.id"], name=op.f("fk_form_responses_cycle_id_form_cycles")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_form_responses_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_form_responses_org_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by"], ["users.id"], name=op.f("fk_form_responses_reviewed_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_form_responses_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_responses")),
        sa.UniqueConstraint("cycle_id", "respondent", name="uq_form_responses_cycle_respondent"),
    )
    with op.batch_alter_table("form_responses", schema=None) as batch_op:
        batch_op.create_index("ix_form_responses_cycle_org", ["cycle_id", "org_id"], unique=False)

    op.create_table(
        "form_response_versions",
        sa.Column("response_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("nothing_to_report", sa.Boolean(), nullable=False),
        _time("submitted_at"),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["form_responses.id"],
            name=op.f("fk_form_response_versions_response_id_form_responses"),
        ),
        sa.PrimaryKeyConstraint("response_id", "version", name=op.f("pk_form_response_versions")),
    )

    op.create_table(
        "form_anonymous_answers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("cycle_id", sa.BigInteger(), nullable=False),
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("submitted_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cycle_id"],
            ["form_cycles.id"],
            name=op.f("fk_form_anonymous_answers_cycle_id_form_cycles"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_form_anonymous_answers_org_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_anonymous_answers")),
    )
    with op.batch_alter_table("form_anonymous_answers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_form_anonymous_answers_cycle_org", ["cycle_id", "org_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("form_anonymous_answers")
    op.drop_table("form_response_versions")
    op.drop_table("form_responses")
    op.drop_table("form_cycles")
    op.drop_table("forms")
