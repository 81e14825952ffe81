"""Notices: publish to branches through the outbox, acknowledge, edit, recall, receipts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache, partial
from typing import Any, cast
from weakref import WeakKeyDictionary
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Connection,
    Row,
    Select,
    Subquery,
    Table,
    and_,
    bindparam,
    func,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from domain.notices import (
    ACK_LABELS,
    BODY_MAX,
    CATEGORIES,
    TITLE_MAX,
    NoticeDraft,
    NoticeEditDraft,
    ack_label,
    publish_check,
)
from domain.orgs import Level, Permission, Stage, Status
from domain.validation import Invalid, parse_short_text
from services import audit
from services.authz import Actor, descendants, orgs_with, require
from services.drafts import take_draft
from services.errors import Denied, NotFound, ServiceError
from services.jobs import effective_timezones
from services.orgs import OrgView, load_org, org_view
from services.outbox import add_items, item_values, new_item
from storage.db import Database
from storage.models import (
    Acknowledgement,
    ChatBinding,
    Member,
    Notice,
    Organization,
    OutboxItem,
    User,
)
from storage.types import UTCDateTime


@dataclass(frozen=True)
class Audience:
    """Who a notice is for: organizations (with everything below), optionally narrowed."""

    org_ids: tuple[int, ...]
    stages: tuple[Stage, ...] = ()  # empty: every stage
    party_group_id: int | None = None
    private_copies: bool = False  # also a private copy to every member who started the bot

    def to_json(self) -> dict[str, Any]:
        return {
            "org_ids": list(self.org_ids),
            "stages": [s.value for s in self.stages],
            "party_group_id": self.party_group_id,
            "private": self.private_copies,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Audience:
        return cls(
            org_ids=tuple(int(i) for i in data.get("org_ids", [])),
            stages=tuple(Stage(s) for s in data.get("stages", [])),
            party_group_id=data.get("party_group_id"),
            private_copies=bool(data.get("private")),
        )


@dataclass(frozen=True)
class NoticeSpec:
    """Everything the sender chose in the /notice wizard."""

    org_id: int  # the organization the sender acts for
    category: str
    title: str
    body_html: str
    audience: Audience
    media_kind: str | None = None
    media_file_id: str | None = None
    pin: bool = False
    ack_label: str | None = None
    ack_deadline: datetime | None = None
    send_at: datetime | None = None  # None: now


@dataclass(frozen=True)
class NoticeView:
    """A notice as renderers and reports need it."""

    id: int
    org_id: int
    sender_id: int
    category: str
    title: str
    body_html: str
    media_kind: str | None
    media_file_id: str | None
    pin: bool
    ack_label: str | None
    ack_deadline: datetime | None
    send_at: datetime
    status: str
    version: int
    audience: Audience


@dataclass(frozen=True)
class Published:
    """What publishing queued."""

    notice: NoticeView
    groups: int
    private_copies: int
    branches_without_group: tuple[str, ...]
    expected: int  # people expected to acknowledge


@dataclass(frozen=True)
class AckResult:
    """The outcome of pressing the acknowledgement button."""

    status: str  # ok / already / outside / closed
    branch_count: int = 0
    branch_expected: int = 0


@dataclass(frozen=True)
class Progress:
    """How far the delivery of a notice has got."""

    total: int
    sent: int
    pending: int
    unreachable: tuple[tuple[int, str], ...]  # (chat id, reason)
    failed: tuple[tuple[int, str], ...]
    labels: dict[int, str] = field(default_factory=dict)  # chat id → branch or person

    @property
    def done(self) -> bool:
        return self.pending == 0


@dataclass(frozen=True)
class PersonLine:
    """One person on a receipts list."""

    member_id: int
    name: str
    user_id: int | None
    started: bool
    acked_at: datetime | None


@dataclass(frozen=True)
class BranchReceipts:
    """Acknowledgements of one branch."""

    org: OrgView
    acked: tuple[PersonLine, ...]
    missing: tuple[PersonLine, ...]


@dataclass(frozen=True)
class Receipts:
    """Acknowledgements of a notice, branch by branch."""

    notice: NoticeView
    branches: tuple[BranchReceipts, ...] = field(default_factory=tuple)

    @property
    def acked(self) -> int:
        return sum(len(b.acked) for b in self.branches)

    @property
    def expected(self) -> int:
        return sum(len(b.acked) + len(b.missing) for b in self.branches)


def notice_view(row: Notice | Row[Any]) -> NoticeView:
    """The view of a notice row (an ORM object, or a Core row of the notices table)."""
    return NoticeView(
        id=row.id,
        org_id=row.org_id,
        sender_id=row.sender_id,
        category=row.category,
        title=row.title,
        body_html=row.body_html,
        media_kind=row.media_kind,
        media_file_id=row.media_file_id,
        pin=row.pin,
        ack_label=row.ack_label,
        ack_deadline=row.ack_deadline,
        send_at=row.send_at,
        status=row.status,
        version=row.version,
        audience=Audience.from_json(row.audience),
    )


async def notice_branches(session: AsyncSession, audience: Audience) -> list[Organization]:
    """The branches (and general branches) an audience reaches, committees expanded."""
    ids = await descendants(session, set(audience.org_ids))
    rows = (
        await session.scalars(
            select(Organization)
            .where(
                Organization.id.in_(ids),
                Organization.level != Level.COMMITTEE,
                Organization.archived_at.is_(None),
            )
            .order_by(Organization.name, Organization.id)
        )
    ).all()
    return list(rows)


def audience_member_filter(audience: Audience) -> list[Any]:
    """Who of a branch's roster is in a notice's audience: the one rule acks and counts share."""
    conditions: list[Any] = [Member.status == Status.ACTIVE]
    if audience.stages:
        conditions.append(Member.stage.in_([s.value for s in audience.stages]))
    if audience.party_group_id is not None:
        conditions.append(Member.party_group_id == audience.party_group_id)
    return conditions


def _bound_member_filter(stages: bool, party_group: bool) -> list[Any]:
    """audience_member_filter for prebuilt statements: the narrowing comes as parameters."""
    conditions: list[Any] = [Member.status == Status.ACTIVE]
    if stages:
        conditions.append(Member.stage.in_(bindparam("stages", expanding=True)))
    if party_group:
        conditions.append(Member.party_group_id == bindparam("party_group"))
    return conditions


def _narrowing(audience: Audience) -> tuple[tuple[bool, bool], dict[str, Any]]:
    """The shape of an audience's member filter and the parameters it takes."""
    params: dict[str, Any] = {}
    if audience.stages:
        params["stages"] = [s.value for s in audience.stages]
    if audience.party_group_id is not None:
        params["party_group"] = audience.party_group_id
    return (bool(audience.stages), audience.party_group_id is not None), params


async def sendable_orgs(db: Database, actor: Actor, today: date) -> list[OrgView]:
    """Organizations the actor may send notices to (committees reach everything below)."""
    async with db.read() as session:
        ids = await orgs_with(session, actor, Permission.SEND_NOTICE, today, level=None)
        if not ids:
            return []
        rows = (
            await session.scalars(
                select(Organization)
                .where(Organization.id.in_(ids))
                .order_by(Organization.level, Organization.name, Organization.id)
            )
        ).all()
        return [org_view(r) for r in rows]


def _clean_title(title: str) -> str:
    clean = parse_short_text(title, TITLE_MAX)
    if isinstance(clean, Invalid):
        raise ServiceError(f"notice.title_{clean.code.split('.')[-1]}")
    return clean


def audience_of(draft: NoticeDraft) -> Audience:
    """Who the /notice draft is for: the chosen branches, else everything under its org."""
    return Audience(
        org_ids=draft.targets or ((draft.org_id,) if draft.org_id is not None else ()),
        stages=draft.stages,
        party_group_id=draft.party_group_id,
        private_copies=draft.private,
    )


def notice_spec(draft: NoticeDraft) -> NoticeSpec:
    """What the /notice draft asks to publish."""
    if draft.org_id is None or draft.category is None or draft.title is None:
        raise ServiceError("stale")
    return NoticeSpec(
        org_id=draft.org_id,
        category=draft.category,
        title=draft.title,
        body_html=draft.body or "",
        audience=audience_of(draft),
        media_kind=draft.media_kind,
        media_file_id=draft.media_file_id,
        pin=draft.pin,
        ack_label=ack_label(draft),
        ack_deadline=draft.deadline if ack_label(draft) else None,
        send_at=draft.send_at,
    )


async def publish_draft(db: Database, actor: Actor, *, now: datetime, today: date) -> Published:
    """确认发布: the sender's /notice draft becomes a notice and its queued copies.

    The draft is taken in the same transaction: the notice, its outbox copies and the
    draft's deletion commit together, so the preview's button pressed again (even after a
    crash between the commit and the reply) finds no draft and is refused as stale.
    """
    async with db.transaction() as session:
        draft = await take_draft(session, actor.user_id, NoticeDraft)
        if draft is None or draft.step != "pre":
            raise ServiceError("stale")
        late = publish_check(draft, now)
        if late is not None:
            raise ServiceError(late[1].code)  # the rollback keeps the draft
        return await _publish(session, actor, notice_spec(draft), now=now, today=today)


async def publish_notice(
    db: Database, actor: Actor, spec: NoticeSpec, *, now: datetime, today: date
) -> Published:
    """Record the notice and queue one copy per branch group (and private copies if asked)."""
    async with db.transaction() as session:
        return await _publish(session, actor, spec, now=now, today=today)


async def publish_in(
    session: AsyncSession,
    actor: Actor,
    spec: NoticeSpec,
    *,
    now: datetime,
    today: date,
    permission: Permission = Permission.SEND_NOTICE,
) -> Published:
    """Inside the caller's transaction: record the notice and queue its copies, for a slice
    that publishes its own post as a notice (a dues disclosure by the branch's keeper, who
    needs `permission` for every audience organization instead of SEND_NOTICE)."""
    return await _publish(session, actor, spec, now=now, today=today, permission=permission)


async def _publish(
    session: AsyncSession,
    actor: Actor,
    spec: NoticeSpec,
    *,
    now: datetime,
    today: date,
    permission: Permission = Permission.SEND_NOTICE,
) -> Published:
    if spec.category not in CATEGORIES:
        raise ServiceError("notice.bad_category")
    if spec.ack_label not in (None, *ACK_LABELS):
        raise ServiceError("notice.bad_ack")
    title = _clean_title(spec.title)
    if len(spec.body_html) > BODY_MAX:
        raise ServiceError("notice.body_too_long")
    if not spec.audience.org_ids:
        raise ServiceError("notice.no_audience")
    send_at = max(spec.send_at or now, now)
    for org_id in spec.audience.org_ids:
        await load_org(session, org_id)
        await require(session, actor, org_id, permission, today)
    row = Notice(
        org_id=spec.org_id,
        sender_id=actor.user_id,
        category=spec.category,
        title=title,
        body_html=spec.body_html,
        media_kind=spec.media_kind,
        media_file_id=spec.media_file_id,
        audience=spec.audience.to_json(),
        pin=spec.pin,
        ack_label=spec.ack_label,
        ack_deadline=spec.ack_deadline,
        send_at=send_at,
        status="scheduled" if send_at > now else "sending",
        version=1,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    branches = await notice_branches(session, spec.audience)
    branch_ids = [b.id for b in branches]
    bindings = (
        await session.scalars(
            select(ChatBinding).where(
                ChatBinding.org_id.in_(branch_ids),
                ChatBinding.purpose == "main",
                ChatBinding.active.is_(True),
            )
        )
    ).all()
    bound = {b.org_id: b for b in bindings}
    copies = [
        item_values(
            purpose="notice",
            notice_id=row.id,
            org_id=binding.org_id,
            chat_id=binding.chat_id,
            thread_id=binding.topic_id,
            is_group=True,
            now=now,
            not_before=send_at,
        )
        for binding in bindings
    ]
    privates = 0
    if spec.audience.private_copies:
        people = (
            await session.execute(
                select(Member.org_id, Member.user_id)
                .join(User, User.id == Member.user_id)
                .where(
                    Member.org_id.in_(branch_ids),
                    *audience_member_filter(spec.audience),
                    User.started.is_(True),
                    User.blocked_at.is_(None),
                )
            )
        ).all()
        for org_id, user_id in people:
            assert user_id is not None  # joined on users
            copies.append(
                item_values(
                    purpose="notice",
                    notice_id=row.id,
                    org_id=org_id,
                    chat_id=user_id,
                    now=now,
                    not_before=send_at,
                )
            )
        privates = len(people)
    await add_items(session, copies)
    expected = int(
        await session.scalar(
            select(func.count())
            .select_from(Member)
            .where(Member.org_id.in_(branch_ids), *audience_member_filter(spec.audience))
        )
        or 0
    )
    audit.record(
        session,
        at=now,
        actor_id=actor.user_id or None,
        action="notice.publish",
        target_type="notice",
        target_id=row.id,
        after={
            "title": title,
            "orgs": list(spec.audience.org_ids),
            "groups": len(bindings),
            "private": privates,
            "send_at": send_at.isoformat(),
        },
    )
    return Published(
        notice=notice_view(row),
        groups=len(bindings),
        private_copies=privates,
        branches_without_group=tuple(b.name for b in branches if b.id not in bound),
        expected=expected,
    )


async def set_report_message(db: Database, notice_id: int, chat_id: int, message_id: int) -> None:
    """Remember the sender's progress message so the worker can keep it up to date."""
    async with db.transaction() as session:
        await session.execute(
            update(Notice)
            .where(Notice.id == notice_id)
            .values(report_chat_id=chat_id, report_message_id=message_id)
        )


async def get_notice(db: Database, notice_id: int) -> NoticeView:
    """One notice, or NotFound."""
    async with db.read() as session:
        row = await session.get(Notice, notice_id)
        if row is None:
            raise NotFound("notice.not_found")
        return notice_view(row)


async def _editable(session: AsyncSession, actor: Actor, notice_id: int, today: date) -> Notice:
    row = await session.get(Notice, notice_id)
    if row is None:
        raise NotFound("notice.not_found")
    if row.sender_id != actor.user_id:
        # Besides the sender, whoever may notify the organization it was sent for.
        await require(session, actor, row.org_id, Permission.SEND_NOTICE, today)
    if row.status == "recalled":
        raise ServiceError("notice.recalled")
    return row


async def edit_notice(
    db: Database,
    actor: Actor,
    notice_id: int,
    *,
    title: str | None = None,
    body_html: str | None = None,
    now: datetime,
    today: date,
) -> int:
    """Change a notice's title or body; every copy already sent is edited. Returns copies."""
    async with db.transaction() as session:
        return await _edit(session, actor, notice_id, title, body_html, now=now, today=today)


async def edit_from_draft(
    db: Database, actor: Actor, *, text: str, now: datetime, today: date
) -> int:
    """The title or body typed after 编辑 (which one and of which notice: the edit draft).

    The draft is taken in the edit's transaction: it is gone exactly when the copies'
    edits are queued. A refusal (a title too long) rolls back and keeps it, so the sender
    can type again. Returns the copies to edit.
    """
    async with db.transaction() as session:
        draft = await take_draft(session, actor.user_id, NoticeEditDraft)
        if draft is None:
            raise ServiceError("stale")
        title, body = (text, None) if draft.step == "title" else (None, text)
        return await _edit(session, actor, draft.notice_id, title, body, now=now, today=today)


async def _edit(
    session: AsyncSession,
    actor: Actor,
    notice_id: int,
    title: str | None,
    body_html: str | None,
    *,
    now: datetime,
    today: date,
) -> int:
    row = await _editable(session, actor, notice_id, today)
    before = {"title": row.title, "version": row.version}
    if title is not None:
        row.title = _clean_title(title)
    if body_html is not None:
        if len(body_html) > BODY_MAX:
            raise ServiceError("notice.body_too_long")
        row.body_html = body_html
    row.version += 1
    sent = (
        await session.scalars(
            select(OutboxItem).where(
                OutboxItem.notice_id == notice_id,
                OutboxItem.purpose == "notice",
                OutboxItem.status == "sent",
            )
        )
    ).all()
    for copy in sent:
        session.add(
            new_item(
                purpose="notice_edit",
                notice_id=notice_id,
                org_id=copy.org_id,
                chat_id=copy.chat_id,
                is_group=copy.is_group,
                target_message_id=copy.message_id,
                now=now,
                payload={"version": row.version},
            )
        )
    audit.record(
        session,
        at=now,
        actor_id=actor.user_id or None,
        action="notice.edit",
        target_type="notice",
        target_id=notice_id,
        before=before,
        after={"title": row.title, "version": row.version},
    )
    return len(sent)


async def recall_notice(
    db: Database, actor: Actor, notice_id: int, *, now: datetime, today: date
) -> int:
    """Withdraw a notice: unsent copies are cancelled, sent ones deleted. Returns copies."""
    async with db.transaction() as session:
        row = await _editable(session, actor, notice_id, today)
        row.status = "recalled"
        row.recalled_at = now
        await session.execute(
            update(OutboxItem)
            .where(OutboxItem.notice_id == notice_id, OutboxItem.status == "pending")
            .values(status="cancelled")
        )
        sent = (
            await session.scalars(
                select(OutboxItem).where(
                    OutboxItem.notice_id == notice_id,
                    OutboxItem.purpose == "notice",
                    OutboxItem.status.in_(["sent", "sending"]),
                )
            )
        ).all()
        for copy in sent:
            session.add(
                new_item(
                    purpose="notice_delete",
                    notice_id=notice_id,
                    chat_id=copy.chat_id,
                    is_group=copy.is_group,
                    target_message_id=copy.message_id,
                    now=now,
                    payload={"copy_id": copy.id, "parts": copy.payload.get("parts", [])},
                )
            )
        audit.record(
            session,
            at=now,
            actor_id=actor.user_id or None,
            action="notice.recall",
            target_type="notice",
            target_id=notice_id,
            after={"copies": len(sent)},
        )
        return len(sent)


# The statements of the hot paths (a press, a copy of a broadcast) are built once: building
# a SQLAlchemy statement costs more than the database takes to run it.
_NOTICE_ROW = select(*Notice.__table__.c).where(Notice.id == bindparam("notice_id"))
_ACK_NOTICE = select(Notice.ack_label, Notice.audience).where(Notice.id == bindparam("notice_id"))
_NOTICES = cast(Table, Notice.__table__)
# Core (not ORM) statements: executed with parameters they are not ORM bulk operations.
_MARK_DIRTY = (
    update(_NOTICES)
    .where(_NOTICES.c.id == bindparam("notice_id"), _NOTICES.c.counts_dirty.is_(False))
    .values(counts_dirty=True)
)


def _bound_roster_entry(stages: bool, party_group: bool) -> Subquery:
    """(member id, branch) of a person's roster entry within an audience, if any.

    In the audience when the member's branch or one of its ancestors was addressed: one
    walk up a shallow tree, not an expansion of every branch below a committee.
    """
    start = (
        select(Member.id.label("member_id"), Member.org_id.label("org_id"),
               Member.org_id.label("node"))
        .where(Member.user_id == bindparam("user_id"), *_bound_member_filter(stages, party_group))
        .cte("up", recursive=True)
    )  # fmt: skip
    parent = aliased(Organization)
    # UNION, not UNION ALL: a (corrupt) cycle in the tree ends the walk instead of looping.
    up = start.union(
        select(start.c.member_id, start.c.org_id, parent.parent_id)
        .join(parent, parent.id == start.c.node)
        .where(parent.parent_id.is_not(None))
    )
    return (
        select(up.c.member_id, up.c.org_id)
        .where(up.c.node.in_(bindparam("orgs", expanding=True)))
        .order_by(up.c.member_id)
        .limit(1)
        .subquery("entry")
    )


@cache
def _press_query(stages: bool, party_group: bool) -> Select[Any]:
    """What a press needs, in one statement: the notice's state, the presser's roster entry
    within the audience, and that branch's counts before this press."""
    entry = _bound_roster_entry(stages, party_group)
    acked = (
        select(func.count())
        .select_from(Acknowledgement)
        .where(
            Acknowledgement.notice_id == bindparam("notice_id"),
            Acknowledgement.org_id == entry.c.org_id,
        )
        .scalar_subquery()
    )
    expected = (
        select(func.count())
        .select_from(Member)
        .where(Member.org_id == entry.c.org_id, *_bound_member_filter(stages, party_group))
        .scalar_subquery()
    )
    return (
        select(_NOTICES.c.status, _NOTICES.c.counts_dirty, entry.c.member_id, entry.c.org_id,
               acked.label("acked"), expected.label("expected"))
        .select_from(_NOTICES.outerjoin(entry, true()))
        .where(_NOTICES.c.id == bindparam("notice_id"))
    )  # fmt: skip


@cache
def _ack_insert(dialect: str) -> Any:
    """INSERT … ON CONFLICT DO NOTHING: a second press changes nothing, even a racing one."""
    module: Any = postgresql if dialect == "postgresql" else sqlite
    return (
        module.insert(cast(Table, Acknowledgement.__table__))
        .values(notice_id=bindparam("notice_id"), user_id=bindparam("user_id"),
                member_id=bindparam("member_id"), org_id=bindparam("org_id"),
                acked_at=bindparam("acked_at", type_=UTCDateTime()))
        .on_conflict_do_nothing(index_elements=["notice_id", "user_id"])
    )  # fmt: skip


@cache
def _counts_query(stages: bool, party_group: bool) -> Select[int, int]:
    """(acknowledged, expected) of one branch, in one statement."""
    acked = (
        select(func.count())
        .select_from(Acknowledgement)
        .where(
            Acknowledgement.notice_id == bindparam("notice_id"),
            Acknowledgement.org_id == bindparam("org_id"),
        )
        .scalar_subquery()
    )
    expected = (
        select(func.count())
        .select_from(Member)
        .where(Member.org_id == bindparam("org_id"), *_bound_member_filter(stages, party_group))
        .scalar_subquery()
    )
    return select(acked, expected)


# What never changes after publishing (the button and the audience), per database, so a
# press reads only what can change. Keyed by the Database object: tests open many.
_ACK_FACTS: WeakKeyDictionary[Database, dict[int, tuple[str | None, Audience]]] = (
    WeakKeyDictionary()
)


def _press_facts(
    known: dict[int, tuple[str | None, Audience]], notice_id: int, user_id: int, conn: Connection
) -> Row[Any] | None:
    """The notice's state, the presser's roster entry in its audience and that branch's
    counts; None when the notice asks for no acknowledgement (or does not exist)."""
    facts = known.get(notice_id)
    if facts is None:
        # The button and the audience never change after publishing: read once per notice.
        row = conn.execute(_ACK_NOTICE, {"notice_id": notice_id}).first()
        if row is None:
            return None
        if len(known) > 4096:
            known.clear()
        facts = known[notice_id] = (row.ack_label, Audience.from_json(row.audience))
    label, audience = facts
    if label is None:
        return None
    shape, params = _narrowing(audience)
    return conn.execute(
        _press_query(*shape),
        {"notice_id": notice_id, "user_id": user_id, "orgs": list(audience.org_ids), **params},
    ).first()


def _record_ack(dialect: str, row: dict[str, Any], conn: Connection) -> bool:
    """Insert one acknowledgement (a repeated press changes nothing); True when it is new."""
    added = conn.execute(_ack_insert(dialect), row)
    if not added.rowcount:
        return False
    # Always asked when new (a no-op when set): the counter job may have taken the flag
    # since the read that let this press through.
    conn.execute(_MARK_DIRTY, {"notice_id": row["notice_id"]})
    return True


async def acknowledge(db: Database, user_id: int, notice_id: int, now: datetime) -> AckResult:
    """Record 收到 / 已学习 from someone in the notice's audience (once)."""
    # Every press runs this, maybe while a broadcast goes out. The checks are one keyed
    # read; the write is one INSERT that a repeated press leaves alone and a flag set only
    # when not set yet.
    known = _ACK_FACTS.setdefault(db, {})
    press = await db.read_now(partial(_press_facts, known, notice_id, user_id))
    if press is None or press.member_id is None:
        return AckResult("outside")
    if press.status == "recalled":
        return AckResult("closed")
    row = {"notice_id": notice_id, "user_id": user_id, "member_id": press.member_id,
           "org_id": press.org_id, "acked_at": now}  # fmt: skip
    # Group-committed on SQLite with the other writes of the moment (see write_together).
    new = await db.write_together(partial(_record_ack, db.dialect, row))
    return AckResult(
        "ok" if new else "already", int(press.acked or 0) + new, int(press.expected or 0)
    )


async def branch_counts(db: Database, notice_id: int, org_id: int) -> tuple[int, int]:
    """(acknowledged, expected) for one branch: the counter on its group copy."""
    _, counts = await notice_for_copy(db, notice_id, org_id)
    assert counts is not None
    return counts


async def notice_for_copy(
    db: Database, notice_id: int, org_id: int | None
) -> tuple[NoticeView, tuple[int, int] | None]:
    """The notice and, for a branch's group copy, its counter: what the outbox worker
    renders (for every copy of a broadcast), in keyed lookups."""
    found = await db.read_now(partial(_copy_facts, notice_id, org_id))
    if found is None:
        raise NotFound("notice.not_found")
    return found


def _copy_facts(
    notice_id: int, org_id: int | None, conn: Connection
) -> tuple[NoticeView, tuple[int, int] | None] | None:
    row = conn.execute(_NOTICE_ROW, {"notice_id": notice_id}).first()
    if row is None:
        return None
    view = notice_view(row)
    if org_id is None:
        return view, None
    shape, params = _narrowing(view.audience)
    acked, expected = conn.execute(
        _counts_query(*shape), {"notice_id": notice_id, "org_id": org_id, **params}
    ).one()
    return view, (int(acked or 0), int(expected or 0))


async def progress(db: Database, notice_id: int) -> Progress:
    """How many copies of a notice went out, are waiting, or could not be delivered."""
    async with db.read() as session:
        # Counted by the database: the worker asks after every batch of a broadcast.
        counts: dict[str, int] = {
            status: int(n)
            for status, n in (
                await session.execute(
                    select(OutboxItem.status, func.count())
                    .where(OutboxItem.notice_id == notice_id, OutboxItem.purpose == "notice")
                    .group_by(OutboxItem.status)
                )
            ).all()
        }
        rows = (
            (
                await session.execute(
                    select(OutboxItem.status, OutboxItem.chat_id, OutboxItem.error)
                    .where(
                        OutboxItem.notice_id == notice_id,
                        OutboxItem.purpose == "notice",
                        OutboxItem.status.in_(["unreachable", "failed"]),
                    )
                    .order_by(OutboxItem.id)
                )
            ).all()
            if counts.get("unreachable") or counts.get("failed")
            else []
        )
        problems = [chat for _, chat, _ in rows]
        labels: dict[int, str] = {}
        if problems:
            # Senders know branches and people, not chat ids.
            for chat, name, is_group in (
                await session.execute(
                    select(OutboxItem.chat_id, Organization.name, OutboxItem.is_group)
                    .join(Organization, Organization.id == OutboxItem.org_id)
                    .where(OutboxItem.notice_id == notice_id, OutboxItem.chat_id.in_(problems))
                )
            ).all():
                labels[chat] = name
                if not is_group:
                    person = await session.get(User, chat)
                    labels[chat] = f"{person.first_name if person else chat}（{name}）"
    unreachable: list[tuple[int, str]] = []
    failed: list[tuple[int, str]] = []
    for status, chat_id, error in rows:
        if status == "unreachable":
            unreachable.append((chat_id, error or ""))
        else:
            failed.append((chat_id, error or ""))
    return Progress(
        total=sum(counts.values()),
        sent=counts.get("sent", 0),
        pending=counts.get("pending", 0) + counts.get("sending", 0),
        unreachable=tuple(unreachable),
        failed=tuple(failed),
        labels=labels,
    )


async def finish_if_done(db: Database, notice_id: int, now: datetime) -> bool:
    """Mark a notice sent once no copy is waiting; True the first time it happens."""
    async with db.transaction() as session:
        waiting = await session.scalar(
            select(func.count())
            .select_from(OutboxItem)
            .where(
                OutboxItem.notice_id == notice_id,
                OutboxItem.purpose == "notice",
                OutboxItem.status.in_(["pending", "sending"]),
            )
        )
        if waiting:
            return False
        result = await session.execute(
            update(Notice)
            .where(Notice.id == notice_id, Notice.status.in_(["scheduled", "sending"]))
            .values(status="sent", finished_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


async def receipts(db: Database, actor: Actor, notice_id: int, today: date) -> Receipts:
    """Who acknowledged (and when) and who has not, per branch; for the sender and admins."""
    async with db.read() as session:
        row = await session.get(Notice, notice_id)
        if row is None:
            raise NotFound("notice.not_found")
        if row.sender_id != actor.user_id:
            await require(session, actor, row.org_id, Permission.SEND_NOTICE, today)
        audience = Audience.from_json(row.audience)
        branches = await notice_branches(session, audience)
        ids = [b.id for b in branches]
        people = (
            await session.execute(
                select(
                    Member.id,
                    Member.org_id,
                    Member.name,
                    Member.user_id,
                    User.started,
                    Acknowledgement.acked_at,
                )
                .outerjoin(User, User.id == Member.user_id)
                .outerjoin(
                    Acknowledgement,
                    and_(
                        Acknowledgement.notice_id == notice_id,
                        Acknowledgement.user_id == Member.user_id,
                    ),
                )
                .where(Member.org_id.in_(ids), *audience_member_filter(audience))
                .order_by(Member.org_id, Member.name)
            )
        ).all()
    by_org: dict[int, tuple[list[PersonLine], list[PersonLine]]] = {i: ([], []) for i in ids}
    for member_id, org_id, name, user_id, started, acked_at in people:
        line = PersonLine(member_id, name, user_id, bool(started), acked_at)
        by_org[org_id][0 if acked_at else 1].append(line)
    return Receipts(
        notice=notice_view(row),
        branches=tuple(
            BranchReceipts(org_view(b), tuple(by_org[b.id][0]), tuple(by_org[b.id][1]))
            for b in branches
        ),
    )


async def sent_notices(
    db: Database, actor: Actor, *, limit: int | None = 10, offset: int = 0
) -> list[NoticeView]:
    """The actor's notices, newest first, `limit` from `offset` (None: all of them; for
    /receipts)."""
    async with db.read() as session:
        query = (
            select(Notice)
            .where(Notice.sender_id == actor.user_id)
            .order_by(Notice.id.desc())
            .offset(max(0, offset))
        )
        if limit is not None:
            query = query.limit(limit)
        rows = (await session.scalars(query)).all()
        return [notice_view(r) for r in rows]


async def queue_nudges(
    db: Database, actor: Actor | None, notice_id: int, *, now: datetime, today: date
) -> tuple[int, int]:
    """Remind those who have not acknowledged: privately if they started the bot, else by a
    mention in their group. `actor` None is the automatic nudge. Returns (private, groups)."""
    async with db.transaction() as session:
        return await _nudge(session, actor, notice_id, now=now, today=today)


async def due_auto_nudges(
    db: Database, lead: timedelta, start: datetime, end: datetime
) -> list[tuple[datetime, int]]:
    """(moment, notice id) of each automatic nudge due in (start, end]: `lead` before the
    deadline of a delivered notice that asks for acknowledgement and was never nudged."""
    async with db.read() as session:
        rows = (
            await session.execute(
                select(Notice.ack_deadline, Notice.id).where(
                    Notice.ack_label.is_not(None),
                    Notice.ack_deadline > start + lead,
                    Notice.ack_deadline <= end + lead,
                    Notice.nudged_at.is_(None),
                    Notice.status == "sent",
                )
            )
        ).all()
    return [(deadline - lead, notice_id) for deadline, notice_id in rows if deadline is not None]


async def auto_nudge_in(
    session: AsyncSession, notice_id: int, *, now: datetime, default_timezone: str
) -> dict[str, Any]:
    """Inside a job run's transaction: the automatic nudge of one notice (a summary)."""
    row = await session.get(Notice, notice_id)
    if row is None or row.status == "recalled" or row.ack_label is None:
        return {"stale": "gone"}
    if row.ack_deadline is None or row.ack_deadline <= now:
        return {"stale": "deadline passed"}
    if row.nudged_at is not None:
        return {"stale": "nudged already"}
    zone = (await effective_timezones(session, default_timezone)).get(row.org_id)
    today = now.astimezone(ZoneInfo(zone or default_timezone)).date()
    private, groups = await _nudge(session, None, notice_id, now=now, today=today)
    return {"notice": notice_id, "private": private, "groups": groups}


async def _nudge(
    session: AsyncSession, actor: Actor | None, notice_id: int, *, now: datetime, today: date
) -> tuple[int, int]:
    row = await session.get(Notice, notice_id)
    if row is None:
        raise NotFound("notice.not_found")
    if actor is not None and row.sender_id != actor.user_id:
        await require(session, actor, row.org_id, Permission.SEND_NOTICE, today)
    if row.status == "recalled" or row.ack_label is None:
        raise ServiceError("notice.no_ack")
    audience = Audience.from_json(row.audience)
    ids = [b.id for b in await notice_branches(session, audience)]
    missing = (
        await session.execute(
            select(Member.org_id, Member.user_id, Member.name, User.started, User.blocked_at)
            .outerjoin(User, User.id == Member.user_id)
            .outerjoin(
                Acknowledgement,
                and_(
                    Acknowledgement.notice_id == notice_id,
                    Acknowledgement.user_id == Member.user_id,
                ),
            )
            .where(
                Member.org_id.in_(ids),
                *audience_member_filter(audience),
                Acknowledgement.user_id.is_(None),
            )
        )
    ).all()
    copies = {
        c.org_id: c
        for c in (
            await session.scalars(
                select(OutboxItem).where(
                    OutboxItem.notice_id == notice_id,
                    OutboxItem.purpose == "notice",
                    OutboxItem.is_group.is_(True),
                    OutboxItem.status == "sent",
                )
            )
        ).all()
    }
    private = 0
    mentions: dict[int, list[dict[str, Any]]] = {}
    for org_id, user_id, name, started, blocked in missing:
        if user_id is not None and started and blocked is None:
            session.add(
                new_item(
                    purpose="nudge",
                    notice_id=notice_id,
                    org_id=org_id,
                    chat_id=user_id,
                    now=now,
                )
            )
            private += 1
        elif user_id is not None and org_id in copies:
            mentions.setdefault(org_id, []).append({"user_id": user_id, "name": name})
    for org_id, people in mentions.items():
        copy = copies[org_id]
        # Telegram allows 50 mentions per message; larger groups get several messages.
        for start in range(0, len(people), 40):
            session.add(
                new_item(
                    purpose="nudge",
                    notice_id=notice_id,
                    org_id=org_id,
                    chat_id=copy.chat_id,
                    thread_id=copy.thread_id,
                    is_group=True,
                    target_message_id=copy.message_id,
                    now=now,
                    payload={"mentions": people[start : start + 40]},
                )
            )
    row.nudged_at = now
    audit.record(
        session,
        at=now,
        actor_id=actor.user_id if actor and actor.user_id else None,
        action="notice.nudge",
        target_type="notice",
        target_id=notice_id,
        after={"private": private, "groups": len(mentions)},
    )
    return private, len(mentions)


async def queue_counter_updates(db: Database, now: datetime) -> int:
    """Re-render group counters of notices with new acknowledgements (one edit per copy).

    Only copies of branches acknowledged since their counter was last rendered are queued:
    re-rendering all 2,000 copies of a city-wide notice whenever anyone pressed would keep
    the outbox (and everything queued behind it) busy for minutes.
    """
    # Three steps, so the scan of a big notice never holds the write lock that presses
    # wait for: take the dirty flags (a press after this sets its flag again and is seen
    # by the next run; with two processes each flag goes to one), read what to render,
    # then queue it.
    # A notice still being delivered keeps its flag: its remaining copies come first, and
    # the counters of the groups that have it are brought up to date once, at the end.
    delivering = (
        select(OutboxItem.id)
        .where(
            OutboxItem.notice_id == Notice.id,
            OutboxItem.purpose == "notice",
            OutboxItem.status.in_(("pending", "sending")),
        )
        .exists()
    )
    async with db.transaction() as session:
        dirty = list(
            (
                await session.scalars(
                    update(Notice)
                    .where(
                        Notice.counts_dirty.is_(True),
                        Notice.status != "recalled",
                        ~delivering,
                    )
                    .values(counts_dirty=False)
                    .returning(Notice.id)
                )
            ).all()
        )
    if not dirty:
        return 0
    try:
        rows: list[dict[str, Any]] = []
        async with db.read() as session:
            for notice_id in dirty:
                rows += await _counter_rows(session, notice_id, now)
        if rows:
            async with db.transaction() as session:
                await add_items(session, rows)
    except BaseException:
        async with db.transaction() as session:  # give the flags back for the next run
            await session.execute(
                update(Notice).where(Notice.id.in_(dirty)).values(counts_dirty=True)
            )
        raise
    return len(rows)


async def _counter_rows(
    session: AsyncSession, notice_id: int, now: datetime
) -> list[dict[str, Any]]:
    """The counter re-renders one notice needs: copies acknowledged since last shown."""
    copies = (
        await session.execute(
            select(OutboxItem.org_id, OutboxItem.chat_id, OutboxItem.message_id,
                   OutboxItem.claimed_at)
            .where(
                OutboxItem.notice_id == notice_id,
                OutboxItem.purpose == "notice",
                OutboxItem.is_group.is_(True),
                OutboxItem.status == "sent",
            )
        )
    ).all()  # fmt: skip
    waiting: set[int] = set()
    rendered: dict[int, datetime] = {}  # chat → when its last counter was queued
    for chat_id, status, queued_at in (
        await session.execute(
            select(OutboxItem.chat_id, OutboxItem.status, func.max(OutboxItem.created_at))
            .where(OutboxItem.notice_id == notice_id, OutboxItem.purpose == "counter")
            .group_by(OutboxItem.chat_id, OutboxItem.status)
        )
    ).all():
        if status in ("pending", "sending"):
            waiting.add(chat_id)  # one pending re-render per group is enough
        elif status == "sent":
            rendered[chat_id] = max(queued_at, rendered.get(chat_id, queued_at))
    latest: dict[int, datetime] = {
        org_id: at
        for org_id, at in (
            await session.execute(
                select(Acknowledgement.org_id, func.max(Acknowledgement.acked_at))
                .where(Acknowledgement.notice_id == notice_id)
                .group_by(Acknowledgement.org_id)
            )
        ).all()
    }
    rows = []
    for org_id, chat_id, message_id, claimed_at in copies:
        last_ack = latest.get(org_id) if org_id is not None else None
        # A copy (or counter) renders the counts after it was claimed (or queued).
        shown_since = rendered.get(chat_id, claimed_at)
        if chat_id in waiting or last_ack is None:
            continue
        if shown_since is not None and last_ack < shown_since:
            continue
        rows.append(
            item_values(
                purpose="counter",
                notice_id=notice_id,
                org_id=org_id,
                chat_id=chat_id,
                is_group=True,
                target_message_id=message_id,
                now=now,
            )
        )
    return rows


def deny_unless_sender(view: NoticeView, actor: Actor) -> None:
    """Raise Denied when the actor is not the notice's sender (cheap pre-check for buttons)."""
    if view.sender_id != actor.user_id and not actor.superadmin:
        raise Denied("auth.denied")


def categories() -> Sequence[str]:
    """The category codes in menu order."""
    return tuple(CATEGORIES)


async def report_target(db: Database, notice_id: int) -> tuple[int, int] | None:
    """The sender's progress message (chat id, message id), if one was recorded."""
    async with db.read() as session:
        row = await session.get(Notice, notice_id)
        if row is None or row.report_chat_id is None or row.report_message_id is None:
            return None
        return row.report_chat_id, row.report_message_id


async def reports_due(db: Database) -> list[int]:
    """Finished notices whose sender has not yet seen the final counts."""
    async with db.read() as session:
        return list(
            (
                await session.scalars(
                    select(Notice.id).where(
                        Notice.status == "sent",
                        Notice.report_message_id.is_not(None),
                        Notice.report_done_at.is_(None),
                    )
                )
            ).all()
        )


async def mark_reported(db: Database, notice_id: int, now: datetime) -> None:
    """The final counts were shown to the sender."""
    async with db.transaction() as session:
        await session.execute(
            update(Notice).where(Notice.id == notice_id).values(report_done_at=now)
        )
