"""SQLAlchemy models. Telegram ids are 64-bit; times are aware UTC."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.types import IndexedCode, UTCDateTime

# Deterministic constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# On SQLite an INTEGER PRIMARY KEY is the rowid alias (autoincrement); BIGINT would not be.
BigIntId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    """A Telegram user the bot has seen, with the language they chose."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    first_name: Mapped[str] = mapped_column(String(256))
    last_name: Mapped[str | None] = mapped_column(String(256))
    username: Mapped[str | None] = mapped_column(String(64))
    language_code: Mapped[str | None] = mapped_column(String(35))
    # Chosen with /lang; None means "follow the Telegram app's language".
    locale: Mapped[str | None] = mapped_column(String(10))
    # The bot may only write privately to people who started it and have not blocked it.
    started: Mapped[bool] = mapped_column(Boolean, default=False)
    blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Chat(Base):
    """A group or supergroup the bot has been in, and the bot's standing there."""

    __tablename__ = "chats"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    type: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(256), default="")
    # member / administrator / left / kicked, as Telegram last reported it.
    bot_status: Mapped[str] = mapped_column(String(16))
    is_forum: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set when a basic group became a supergroup; the old id is dead from then on.
    migrated_to: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """One admin action: who did what to which record, with before and after. Append-only."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_target", "target_type", "target_id"),
        Index("ix_audit_log_actor_at", "actor_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # None for actions taken by the system itself (scheduled jobs, CLI without a user).
    actor_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Organization(Base):
    """A committee, general branch or branch, in one tree."""

    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    parent_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("organizations.id"), index=True
    )
    level: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(24))
    name: Mapped[str] = mapped_column(String(100))
    # Unknown people who join a bound group are restricted until approved.
    gate_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # The branch committee's term (3 or 5 years), for reminders before it expires.
    term_start: Mapped[date | None] = mapped_column(Date)
    term_end: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # IANA zone for its reminders and scheduled work; None: its parent's, else the bot's.
    timezone: Mapped[str | None] = mapped_column(String(64))
    # Committees: meeting frequency overrides for their subtree, {meeting type: "1/quarter"
    # as domain.compliance.parse_requirement reads it, or null: not required}.
    requirements: Mapped[dict[str, str | None] | None] = mapped_column(JSON)


class Unit(Base):
    """An enterprise or organization a (joint) branch covers."""

    __tablename__ = "units"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    org_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("organizations.id"))
    name: Mapped[str] = mapped_column(String(100))


class PartyGroup(Base):
    """A party group (党小组) inside a branch."""

    __tablename__ = "party_groups"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    org_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("organizations.id"))
    name: Mapped[str] = mapped_column(String(100))


_LIVE = "status = 'active'"


class Member(Base):
    """A person on a branch's roster: registered, imported, or both once linked."""

    __tablename__ = "members"
    __table_args__ = (
        Index("ix_members_org_status", "org_id", "status"),
        # One live roster entry per phone per branch, and one live branch per person.
        Index(
            "uq_members_org_phone_live",
            "org_id",
            "phone",
            unique=True,
            sqlite_where=text(_LIVE),
            postgresql_where=text(_LIVE),
        ),
        Index(
            "uq_members_user_live",
            "user_id",
            unique=True,
            sqlite_where=text(_LIVE),
            postgresql_where=text(_LIVE),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    org_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("organizations.id"))
    # None until the person registers (imported rosters come before Telegram accounts).
    user_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    stage: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(IndexedCode)
    source: Mapped[str] = mapped_column(String(16))  # registration / import / admin
    unit_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("units.id"))
    party_group_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("party_groups.id"))
    applied_on: Mapped[date | None] = mapped_column(Date)
    activist_on: Mapped[date | None] = mapped_column(Date)
    candidate_on: Mapped[date | None] = mapped_column(Date)
    probationary_on: Mapped[date | None] = mapped_column(Date)
    full_on: Mapped[date | None] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(500))  # why they left or were moved
    # Set when a transfer created a new entry elsewhere: the history links both.
    transferred_to: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("members.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Registration(Base):
    """A person's request to join a branch's roster, decided by the branch's approvers."""

    __tablename__ = "registrations"
    __table_args__ = (
        Index("ix_registrations_org_status", "org_id", "status"),
        Index(
            "uq_registrations_user_pending",
            "user_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"))
    org_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("organizations.id"))
    name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(20))
    stage: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("units.id"))
    status: Mapped[str] = mapped_column(IndexedCode)
    # An imported roster entry this person appears to be: approval links it, no duplicate.
    match_member_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("members.id"))
    member_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("members.id"))
    reason: Mapped[str | None] = mapped_column(String(500))  # why it was rejected
    decided_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChatPresence(Base):
    """Someone the bot has seen in a group (Telegram offers bots no member list)."""

    __tablename__ = "chat_presence"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RoleAssignment(Base):
    """An office held by a person in an organization, from a date until a date."""

    __tablename__ = "roles"
    __table_args__ = (
        Index("ix_roles_org_role", "org_id", "role"),
        Index("ix_roles_user", "user_id"),
        Index("ix_roles_member", "member_id"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    org_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("organizations.id"))
    role: Mapped[str] = mapped_column(String(24))
    # Branch offices belong to roster entries (they may be imported before the person
    # registers); committee admins and instructors need not be on any roster.
    member_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("members.id"))
    user_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"))
    party_group_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("party_groups.id"))
    start_on: Mapped[date] = mapped_column(Date)
    end_on: Mapped[date | None] = mapped_column(Date)  # None: still in office
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChatBinding(Base):
    """A Telegram group linked to an organization: its main group or an extra one."""

    __tablename__ = "chat_bindings"
    __table_args__ = (
        Index(
            "uq_chat_bindings_main",
            "org_id",
            unique=True,
            sqlite_where=text("purpose = 'main' AND active"),
            postgresql_where=text("purpose = 'main' AND active"),
        ),
    )

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    org_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("organizations.id"), index=True)
    purpose: Mapped[str] = mapped_column(IndexedCode)  # main / extra
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    topic_id: Mapped[int | None] = mapped_column(BigInteger)  # forum topic for notices
    bound_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"))
    bound_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Draft(Base):
    """A half-finished wizard (registration, …): survives restarts, one per person."""

    __tablename__ = "drafts"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    flow: Mapped[str] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class GateRestriction(Base):
    """Someone the group gate muted in a bound group, until approval lifts it."""

    __tablename__ = "gate_restrictions"
    __table_args__ = (Index("ix_gate_restrictions_user_open", "user_id", "lifted_at"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(BigInteger)
    org_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("organizations.id"))
    restricted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Notice(Base):
    """A broadcast: category, title, body (or media with caption), audience and options."""

    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_status_send_at", "status", "send_at"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    # The organization the sender acted for (a branch, or a committee for wide broadcasts).
    org_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("organizations.id"), index=True)
    sender_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"))
    category: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    # Telegram-safe HTML produced from the sender's own formatting (entities), never raw input.
    body_html: Mapped[str] = mapped_column(Text)
    media_kind: Mapped[str | None] = mapped_column(String(16))  # photo / document
    media_file_id: Mapped[str | None] = mapped_column(String(256))
    # {"org_ids": [...], "stages": [...] | null, "party_group_id": int | null, "private": bool}
    audience: Mapped[dict[str, Any]] = mapped_column(JSON)
    pin: Mapped[bool] = mapped_column(Boolean, default=False)
    ack_label: Mapped[str | None] = mapped_column(String(16))  # received / studied / None
    ack_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    send_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # scheduled → sending → sent; recalled at any time after publishing.
    status: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, default=1)  # bumped by each edit
    report_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    report_message_id: Mapped[int | None] = mapped_column(BigInteger)
    nudged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the sender's progress message last showed the final counts.
    report_done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when acknowledgements changed and group counters need re-rendering.
    counts_dirty: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recalled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutboxItem(Base):
    """One message the bot owes somebody: claimed, sent, and marked with Telegram's id.

    Everything the bot sends that is not a direct answer goes through here, so it
    survives restarts, respects flood limits and is never sent twice by two workers.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "not_before", "id"),
        Index("ix_outbox_notice", "notice_id", "purpose", "status"),
        # One copy of a notice per chat, whatever retries and restarts happen.
        Index(
            "uq_outbox_notice_copy",
            "notice_id",
            "chat_id",
            unique=True,
            sqlite_where=text("purpose = 'notice'"),
            postgresql_where=text("purpose = 'notice'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    # notice / notice_edit / notice_delete / counter / nudge / text
    purpose: Mapped[str] = mapped_column(IndexedCode)
    notice_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("notices.id"))
    org_id: Mapped[int | None] = mapped_column(BigInteger)  # the branch a group copy serves
    chat_id: Mapped[int] = mapped_column(BigInteger)
    thread_id: Mapped[int | None] = mapped_column(BigInteger)
    is_group: Mapped[bool] = mapped_column(Boolean, default=False)
    # The message to edit or delete, for edits, counters and recalls.
    target_message_id: Mapped[int | None] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # pending → sending → sent | unreachable | failed | cancelled
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Acknowledgement(Base):
    """Someone pressed 收到 / 已学习 on a notice (information, not surveillance)."""

    __tablename__ = "acknowledgements"
    __table_args__ = (Index("ix_ack_notice_org", "notice_id", "org_id"),)

    notice_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("notices.id"), primary_key=True, autoincrement=False
    )
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    member_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("members.id"))
    org_id: Mapped[int] = mapped_column(BigInteger)
    acked_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Meeting(Base):
    """A scheduled organizational-life meeting (三会一课, theme day …) of a branch."""

    __tablename__ = "meetings"
    __table_args__ = (
        Index("ix_meetings_org_starts", "org_id", "starts_at"),
        Index("ix_meetings_status_starts", "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    org_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("organizations.id"))
    party_group_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("party_groups.id"))
    # The MeetingType values it counts for: one meeting may be several (theme day + lesson).
    types: Mapped[list[str]] = mapped_column(JSON)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    place: Mapped[str] = mapped_column(String(200))  # a room, or an online link
    topic: Mapped[str] = mapped_column(String(100))
    agenda: Mapped[str | None] = mapped_column(Text)
    host_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("members.id"))
    recorder_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("members.id"))
    lecturer_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("members.id"))
    audience: Mapped[str] = mapped_column(String(16))  # branch / committee / party_group
    # scheduled → open (sign-in) → closed; cancelled at any time before closing.
    status: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"))
    # The outbox item that posted the notice in the branch's main group (None: no group).
    group_item_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("outbox.id"))
    # Set when answers or sign-ins changed and the group message needs re-rendering.
    counts_dirty: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)  # bumped by each edit
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    signin_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MeetingRsvp(Base):
    """A member's answer to a meeting notice: attend, or leave with a reason."""

    __tablename__ = "meeting_rsvps"

    meeting_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("meetings.id"), primary_key=True, autoincrement=False
    )
    member_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("members.id"), primary_key=True, autoincrement=False
    )
    answer: Mapped[str] = mapped_column(String(16))  # attend / leave
    reason: Mapped[str | None] = mapped_column(String(200))  # None until a leave is explained
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MeetingAttendance(Base):
    """A member signed in at a meeting: by themselves, 代签 or 补签 by the recorder."""

    __tablename__ = "meeting_attendance"

    meeting_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("meetings.id"), primary_key=True, autoincrement=False
    )
    member_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("members.id"), primary_key=True, autoincrement=False
    )
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    signed_by: Mapped[str] = mapped_column(String(16))  # self / proxy / late
    by_user_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(String(200))


class MeetingMinutes(Base):
    """The recorder's minutes (会议记录) of a meeting: the required fields and photos."""

    __tablename__ = "meeting_minutes"

    meeting_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("meetings.id"), primary_key=True, autoincrement=False
    )
    # {field key: text}, the keys of the form the meeting's types ask for.
    fields: Mapped[dict[str, str]] = mapped_column(JSON)
    photos: Mapped[list[str]] = mapped_column(JSON)  # Telegram file ids, in order
    written_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"))
    written_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class JobRun(Base):
    """One occurrence of a scheduled job, written in the transaction of its effects.

    The (job, key) pair is unique, so an occurrence happens once: a second process, or the
    same one after a restart, fails to insert it and its effects roll back with it.
    """

    __tablename__ = "job_runs"
    __table_args__ = (
        UniqueConstraint("job", "key", name="uq_job_runs_job_key"),
        Index("ix_job_runs_job_due", "job", "due_at"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    job: Mapped[str] = mapped_column(String(48))
    # Which occurrence: e.g. "2026-12-01" for a monthly job, "42@1440@2026-12-05T11:30Z"
    # for one meeting reminder, optionally with the organization it concerns.
    key: Mapped[str] = mapped_column(String(160))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ran_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(16))  # done / skipped (past the grace period)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # counts, for `zhibu jobs`


class Form(Base):
    """A form (信息报送) as its sender built it: questions, audience, deadline rules, repeat."""

    __tablename__ = "forms"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    # The organization the sender acted for (a branch, or a committee for its subtree).
    org_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("organizations.id"), index=True)
    sender_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # member / branch
    title: Mapped[str] = mapped_column(String(200))
    intro: Mapped[str] = mapped_column(Text)
    # [{"type", "title", "hint", "required", "unit", "low", "high", "choices", "columns",
    #   "show_if"}, …] as domain.forms.Question, in order; fixed once sent.
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    audience: Mapped[dict[str, Any]] = mapped_column(JSON)  # as a notice's audience
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    late_policy: Mapped[str] = mapped_column(String(16))  # accept / refuse
    repeat: Mapped[str] = mapped_column(String(16))  # none / monthly / quarterly / yearly
    due_day: Mapped[int] = mapped_column(Integer, default=0)  # repeating: day of the month due
    template: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # open / closed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FormCycle(Base):
    """One issue of a form with its deadline: a one-off form has one, a monthly one a year 12."""

    __tablename__ = "form_cycles"
    __table_args__ = (
        UniqueConstraint("form_id", "key", name="uq_form_cycles_form_key"),
        Index("ix_form_cycles_deadline", "deadline"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    form_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("forms.id"))
    key: Mapped[str] = mapped_column(String(16))  # "once", "2026-11", "2026-Q3", "2026"
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    # Set when answers changed and the group cards' counts need re-rendering.
    counts_dirty: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FormResponse(Base):
    """Who answered a cycle (a member, or a branch for branch forms), when, and where it stands.

    For an anonymous form the answers are not here (answers is null): they are kept in
    form_anonymous_answers with nothing that leads back to this row or to the member.
    """

    __tablename__ = "form_responses"
    __table_args__ = (
        # One response per member (member forms) or per branch (branch forms) and cycle.
        UniqueConstraint("cycle_id", "respondent", name="uq_form_responses_cycle_respondent"),
        Index("ix_form_responses_cycle_org", "cycle_id", "org_id"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    cycle_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("form_cycles.id"))
    respondent: Mapped[str] = mapped_column(String(32))  # "m:<member id>" / "b:<org id>"
    org_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("organizations.id"))  # the branch
    member_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("members.id"))
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"))  # who submitted
    answers: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # {"0": value, …}
    nothing_to_report: Mapped[bool] = mapped_column(Boolean, default=False)  # 本期无情况
    # submitted → returned (退回修改, with a comment) → submitted …; accepted locks it.
    status: Mapped[str] = mapped_column(String(16))
    late: Mapped[bool] = mapped_column(Boolean, default=False)  # 迟报
    version: Mapped[int] = mapped_column(Integer, default=1)
    first_submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    review_comment: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FormResponseVersion(Base):
    """Every submitted version of a (non-anonymous) response, kept when it is changed."""

    __tablename__ = "form_response_versions"

    response_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("form_responses.id"), primary_key=True, autoincrement=False
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    nothing_to_report: Mapped[bool] = mapped_column(Boolean, default=False)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FormCard(Base):
    """The card a cycle put in one branch's group (📝 title · deadline · 已填 n/m), kept current."""

    __tablename__ = "form_cards"
    __table_args__ = (
        UniqueConstraint("cycle_id", "org_id", name="uq_form_cards_cycle_org"),
        Index("ix_form_cards_dirty", "dirty"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    cycle_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("form_cycles.id"))
    org_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("organizations.id"))  # the branch
    chat_id: Mapped[int] = mapped_column(BigInteger)
    thread_id: Mapped[int | None] = mapped_column(BigInteger)
    item_id: Mapped[int | None] = mapped_column(BigInteger)  # the outbox item that posts it
    # The latest count update queued: another waits until this one has gone out.
    edit_item_id: Mapped[int | None] = mapped_column(BigInteger)
    # Set with each answer from the branch; the counter sweep clears it with one edit.
    dirty: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FormAnonymousAnswer(Base):
    """The answers of an anonymous form: the cycle and the branch, nothing about who."""

    __tablename__ = "form_anonymous_answers"
    __table_args__ = (Index("ix_form_anonymous_answers_cycle_org", "cycle_id", "org_id"),)

    # Random, not a sequence: ids in insertion order would line up with the responses'.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    cycle_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("form_cycles.id"))
    org_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("organizations.id"))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The day only, not the moment: a timestamp next to the responses' would link them.
    submitted_on: Mapped[date] = mapped_column(Date)


class DuesSettings(Base):
    """A branch's (or, for the rate table, a committee's) dues settings."""

    __tablename__ = "dues_settings"

    org_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("organizations.id"), primary_key=True, autoincrement=False
    )
    payment_day: Mapped[int] = mapped_column(Integer, default=5)  # 1–28
    advance_cap: Mapped[int] = mapped_column(Integer, default=6)  # months ahead one may pay
    arrears_cap: Mapped[int] = mapped_column(Integer, default=6)  # months back one may pay
    show_amounts: Mapped[bool] = mapped_column(Boolean, default=False)  # in disclosures
    disclosure_months: Mapped[int] = mapped_column(Integer, default=3)  # 3, 6 or 12
    # A committee's locally adjusted brackets and fixed amounts (domain.dues.table_to_json);
    # None: the national table (or the nearest committee above that set one).
    rate_table: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    updated_by: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DuesStandard(Base):
    """A member's monthly dues from a month on: declared, then confirmed (or rejected).

    The base (income) is kept only while the keeper has not decided; confirming or rejecting
    clears it, so after that nobody can see it. Only category, bracket and amount remain.
    """

    __tablename__ = "dues_standards"
    __table_args__ = (
        Index("ix_dues_standards_member", "member_id", "status"),
        Index("ix_dues_standards_org", "org_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    member_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("members.id"))
    org_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("organizations.id"))
    category: Mapped[str] = mapped_column(String(16))  # domain.dues.Category
    permille: Mapped[int] = mapped_column(Integer, default=0)
    lower_fen: Mapped[int | None] = mapped_column(BigInteger)  # the bracket (for showing it)
    upper_fen: Mapped[int | None] = mapped_column(BigInteger)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    from_month: Mapped[int] = mapped_column(Integer)  # yyyymm
    # declared → confirmed | rejected; a confirmed one is superseded by a later confirmed one.
    status: Mapped[str] = mapped_column(String(16))
    base_fen: Mapped[int | None] = mapped_column(BigInteger)  # only until decided
    declared_by: Mapped[int | None] = mapped_column(BigInteger)
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[int | None] = mapped_column(BigInteger)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)


class DuesExemption(Base):
    """A hardship reduction (amount > 0) or exemption (0): the branch committee agreed on a
    day, the upper committee approved (who), for the months from … until …, why."""

    __tablename__ = "dues_exemptions"
    __table_args__ = (Index("ix_dues_exemptions_member", "member_id"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    member_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("members.id"))
    org_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("organizations.id"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    from_month: Mapped[int] = mapped_column(Integer)
    until_month: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    agreed_on: Mapped[date] = mapped_column(Date)
    approved_by: Mapped[str] = mapped_column(String(100))
    recorded_by: Mapped[int] = mapped_column(BigInteger)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DuesClaim(Base):
    """我已交纳: a member says they paid these months (and maybe extra), with an optional
    transfer screenshot, for the keeper to confirm or reject with a reason."""

    __tablename__ = "dues_claims"
    __table_args__ = (
        Index("ix_dues_claims_org_status", "org_id", "status"),
        Index("ix_dues_claims_member", "member_id"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    member_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("members.id"))
    org_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("organizations.id"))
    months: Mapped[list[int]] = mapped_column(JSON)  # yyyymm
    amount_fen: Mapped[int] = mapped_column(BigInteger)  # for those months
    extra_fen: Mapped[int] = mapped_column(BigInteger, default=0)  # 自愿多交
    proof_file_id: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))  # pending / confirmed / rejected
    reason: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[int] = mapped_column(BigInteger)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[int | None] = mapped_column(BigInteger)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DuesEntry(Base):
    """The ledger: one line per month paid (or extra payment, or correction). Append-only:
    a mistake is put right by a new 'correction' line pointing at the one it corrects."""

    __tablename__ = "dues_entries"
    __table_args__ = (
        # Covers what arrears are summed from (migration 0009): index-only scans.
        Index("ix_dues_entries_member_cover", "member_id", "month", "kind", "amount_fen"),
        Index("ix_dues_entries_org_month", "org_id", "month"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    member_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("members.id"))
    org_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("organizations.id"))
    month: Mapped[int | None] = mapped_column(Integer)  # yyyymm; None for an extra payment
    amount_fen: Mapped[int] = mapped_column(BigInteger)  # negative in a correction
    kind: Mapped[str] = mapped_column(String(16))  # dues / extra / correction
    to_centre: Mapped[bool] = mapped_column(Boolean, default=False)  # extra ≥ 1,000 yuan
    claim_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("dues_claims.id"))
    corrects_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("dues_entries.id"))
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[int] = mapped_column(BigInteger)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DuesTalk(Base):
    """A 谈心谈话 about unpaid dues: who talked, when, what came of it."""

    __tablename__ = "dues_talks"
    __table_args__ = (Index("ix_dues_talks_member", "member_id"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    member_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("members.id"))
    org_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("organizations.id"))
    held_on: Mapped[date] = mapped_column(Date)
    talked_by: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[int] = mapped_column(BigInteger)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DuesRemittance(Base):
    """上缴: a branch's dues for some months handed to its committee; the committee's keeper
    confirms receipt."""

    __tablename__ = "dues_remittances"
    __table_args__ = (
        Index("ix_dues_remittances_org", "org_id"),
        Index("ix_dues_remittances_to_org", "to_org_id"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    org_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("organizations.id"))
    to_org_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("organizations.id"))
    from_month: Mapped[int] = mapped_column(Integer)
    until_month: Mapped[int] = mapped_column(Integer)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    paid_on: Mapped[date] = mapped_column(Date)
    proof_file_id: Mapped[str | None] = mapped_column(String(200))
    recorded_by: Mapped[int] = mapped_column(BigInteger)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    confirmed_by: Mapped[int | None] = mapped_column(BigInteger)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DuesDisclosure(Base):
    """A 党费收缴情况公示 published for a period ("2026-Q3", "2026-H2", "2026"), as a notice."""

    __tablename__ = "dues_disclosures"
    __table_args__ = (
        UniqueConstraint("org_id", "period_key", name="uq_dues_disclosures_org_period"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    org_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("organizations.id"))
    period_key: Mapped[str] = mapped_column(String(16))
    notice_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("notices.id"))
    show_amounts: Mapped[bool] = mapped_column(Boolean, default=False)
    published_by: Mapped[int] = mapped_column(BigInteger)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
