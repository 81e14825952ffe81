"""Telegram groups bound to branches: binding, presence, the gate, and losing a group."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.orgs import Kind, Level, Permission, Status
from services import audit
from services.activity import PRESENCE_RESOLUTION, ActivityLog, presence_seen, write_presence
from services.authz import Actor, orgs_with, require
from services.errors import NotFound
from services.members import approvers_of
from services.orgs import OrgView, add_org, load_org, org_view
from storage.db import Database
from storage.models import (
    ChatBinding,
    ChatPresence,
    GateRestriction,
    Member,
    Organization,
    User,
)
from storage.upsert import upsert


@dataclass(frozen=True)
class BindingView:
    """Which organization a group serves and how."""

    chat_id: int
    org: OrgView
    main: bool
    active: bool


@dataclass(frozen=True)
class BindResult:
    """What binding changed."""

    binding: BindingView
    previous_org: OrgView | None  # the group was bound elsewhere before
    demoted_main: int | None  # the former main group, now an extra one


@dataclass(frozen=True)
class BindReport:
    """The group's people as the secretary needs them at bind time."""

    registered: tuple[str, ...]  # active members of the branch seen in the group
    unknown: tuple[str, ...]  # people seen in the group who are not on the roster
    unlinked: tuple[str, ...]  # roster entries with no Telegram account yet
    seen: int  # people the bot has seen in the group so far


@dataclass(frozen=True)
class GateDecision:
    """What to do with someone who joined a bound group."""

    org_id: int | None  # None: not a gated group
    allowed: bool  # an active member (or the gate is off)
    already_restricted: bool


async def bind_candidates(
    db: Database, actor: Actor, today: date, *, offset: int, limit: int
) -> tuple[list[OrgView], int]:
    """Branches the actor may bind a group to, a page at a time, and how many in all."""
    async with db.read() as session:
        ids = await orgs_with(session, actor, Permission.BIND_GROUP, today, level=None)
        rows = (
            await session.scalars(
                select(Organization)
                .where(Organization.id.in_(ids), Organization.level != Level.COMMITTEE)
                .order_by(Organization.name, Organization.id)
            )
        ).all()
    views = [org_view(r) for r in rows]
    return views[offset : offset + limit], len(views)


async def binding_of(db: Database, chat_id: int) -> BindingView | None:
    """The group's active binding, if any."""
    async with db.read() as session:
        return await _binding(session, chat_id)


async def _binding(session: AsyncSession, chat_id: int) -> BindingView | None:
    row = await session.get(ChatBinding, chat_id)
    if row is None or not row.active:
        return None
    org = await session.get(Organization, row.org_id)
    if org is None or org.archived_at is not None:
        return None
    return BindingView(chat_id, org_view(org), row.purpose == "main", row.active)


async def bind_chat(
    db: Database,
    actor: Actor,
    chat_id: int,
    org_id: int,
    *,
    make_main: bool,
    now: datetime,
    today: date,
) -> BindResult:
    """Link a group to a branch: its main group if it has none (or when asked), else extra."""
    async with db.transaction() as session:
        return await _bind(
            session, actor, chat_id, org_id, make_main=make_main, now=now, today=today
        )


async def create_and_bind(
    db: Database,
    actor: Actor,
    chat_id: int,
    *,
    parent_id: int,
    name: str,
    now: datetime,
    today: date,
) -> BindResult:
    """Create a branch named after the group under a committee, and bind the group to it."""
    async with db.transaction() as session:
        org = await add_org(
            session, actor, name=name, level=Level.BRANCH, kind=Kind.STANDARD,
            parent_id=parent_id, now=now, today=today,
        )  # fmt: skip
        return await _bind(session, actor, chat_id, org.id, make_main=True, now=now, today=today)


async def branch_parents(
    db: Database, actor: Actor, today: date, *, offset: int, limit: int
) -> tuple[list[OrgView], int]:
    """Committees and general branches under which the actor may create a branch."""
    async with db.read() as session:
        ids = await orgs_with(session, actor, Permission.MANAGE_ORGS, today, level=None)
        rows = (
            await session.scalars(
                select(Organization)
                .where(Organization.id.in_(ids), Organization.level != Level.BRANCH)
                .order_by(Organization.name, Organization.id)
            )
        ).all()
    views = [org_view(r) for r in rows]
    return views[offset : offset + limit], len(views)


async def _bind(
    session: AsyncSession,
    actor: Actor,
    chat_id: int,
    org_id: int,
    *,
    make_main: bool,
    now: datetime,
    today: date,
) -> BindResult:
    org = await load_org(session, org_id)
    if org.level == Level.COMMITTEE:
        raise NotFound("org.not_found")
    await require(session, actor, org_id, Permission.BIND_GROUP, today)
    row = await session.get(ChatBinding, chat_id)
    previous: OrgView | None = None
    before = None if row is None else {"org_id": row.org_id, "purpose": row.purpose,
                                       "active": row.active}  # fmt: skip
    if row is not None and row.active and row.org_id != org_id:
        old = await session.get(Organization, row.org_id)
        previous = org_view(old) if old else None
        if row.purpose == "main":
            # The branch this group leaves keeps a main group if it has another one.
            row.purpose = "extra"
            await session.flush()
            successor = await session.scalar(
                select(ChatBinding)
                .where(
                    ChatBinding.org_id == row.org_id,
                    ChatBinding.active.is_(True),
                    ChatBinding.chat_id != chat_id,
                )
                .order_by(ChatBinding.bound_at)
                .limit(1)
            )
            if successor is not None:
                successor.purpose = "main"
    main_row = await session.scalar(
        select(ChatBinding).where(
            ChatBinding.org_id == org_id,
            ChatBinding.purpose == "main",
            ChatBinding.active.is_(True),
            ChatBinding.chat_id != chat_id,
        )
    )
    demoted = None
    if main_row is not None and make_main:
        main_row.purpose = "extra"
        demoted = main_row.chat_id
        await session.flush()  # the one-main-group index must see the demotion first
    purpose = "main" if main_row is None or make_main else "extra"
    if row is None:
        row = ChatBinding(chat_id=chat_id, org_id=org_id, purpose=purpose, active=True,
                          bound_by=actor.user_id or None, bound_at=now)  # fmt: skip
        session.add(row)
    else:
        row.org_id, row.purpose, row.active = org_id, purpose, True
        row.bound_by, row.bound_at = actor.user_id or None, now
    audit.record(
        session, at=now, actor_id=actor.user_id or None, action="chat.bind",
        target_type="chat", target_id=chat_id, before=before,
        after={"org_id": org_id, "purpose": purpose, "demoted_main": demoted},
    )  # fmt: skip
    await session.flush()
    return BindResult(
        BindingView(chat_id, org_view(org), purpose == "main", True), previous, demoted
    )


async def unbind_chat(
    db: Database, chat_id: int, now: datetime, today: date
) -> tuple[OrgView | None, tuple[int, ...]]:
    """The bot lost the group: the binding turns inactive; returns the branch and whom to tell."""
    async with db.transaction() as session:
        row = await session.get(ChatBinding, chat_id)
        if row is None or not row.active:
            return None, ()
        row.active = False
        org = await session.get(Organization, row.org_id)
        audit.record(
            session, at=now, actor_id=None, action="chat.lost", target_type="chat",
            target_id=chat_id, before={"org_id": row.org_id, "active": True},
            after={"active": False},
        )  # fmt: skip
        admins = await approvers_of(session, row.org_id, today)
        return (org_view(org) if org else None), admins


async def move_chat_id(session: AsyncSession, old_id: int, new_id: int) -> None:
    """A group became a supergroup: everything keyed by its chat id follows the new id."""
    row = await session.get(ChatBinding, old_id)
    if row is not None and await session.get(ChatBinding, new_id) is None:
        await session.execute(
            update(ChatBinding).where(ChatBinding.chat_id == old_id).values(chat_id=new_id)
        )
    await session.execute(
        update(GateRestriction).where(GateRestriction.chat_id == old_id).values(chat_id=new_id)
    )
    old_presence = (
        await session.execute(
            select(ChatPresence.user_id, ChatPresence.seen_at).where(ChatPresence.chat_id == old_id)
        )
    ).all()
    await session.execute(delete(ChatPresence).where(ChatPresence.chat_id == old_id))
    for user_id, seen_at in old_presence:
        await upsert(
            session, ChatPresence.__table__,  # type: ignore[arg-type]
            {"chat_id": new_id, "user_id": user_id, "seen_at": seen_at},
            key=["chat_id", "user_id"], update=[],
        )  # fmt: skip


async def record_presence(
    db: Database, chat_id: int, user_id: int, now: datetime, activity: ActivityLog | None = None
) -> None:
    """Remember that someone is in a group (the Bot API cannot list members)."""
    # Most group updates come from people already known: a read (no lock on SQLite)
    # spares a write transaction per message and per button press.
    async with db.read() as session:
        seen = await presence_seen(session, chat_id, user_id)
    if seen is not None and now - seen < PRESENCE_RESOLUTION:
        return
    if seen is not None and activity is not None:
        activity.present(chat_id, user_id, now)  # a refresh: written with the batch
        return
    async with db.transaction() as session:
        await write_presence(session, chat_id, user_id, now)


async def forget_presence(db: Database, chat_id: int, user_id: int) -> None:
    """Someone left the group."""
    async with db.transaction() as session:
        await session.execute(
            delete(ChatPresence).where(
                ChatPresence.chat_id == chat_id, ChatPresence.user_id == user_id
            )
        )


async def bind_report(db: Database, chat_id: int, org_id: int) -> BindReport:
    """Sort the group's known people into registered and unknown, and list unlinked entries."""
    async with db.read() as session:
        seen = (
            await session.execute(
                select(ChatPresence.user_id, User.first_name, User.last_name, Member.name)
                .join(User, User.id == ChatPresence.user_id)
                .outerjoin(
                    Member,
                    (Member.user_id == ChatPresence.user_id)
                    & (Member.org_id == org_id)
                    & (Member.status == Status.ACTIVE),
                )
                .where(ChatPresence.chat_id == chat_id)
            )
        ).all()
        unlinked = (
            await session.scalars(
                select(Member.name)
                .where(
                    Member.org_id == org_id,
                    Member.status == Status.ACTIVE,
                    Member.user_id.is_(None),
                )
                .order_by(Member.name)
            )
        ).all()
    registered = sorted(name for _, _, _, name in seen if name)
    unknown = sorted(
        " ".join(p for p in (first, last) if p) for _, first, last, name in seen if not name
    )
    return BindReport(tuple(registered), tuple(unknown), tuple(unlinked), len(seen))


async def gate_check(db: Database, chat_id: int, user_id: int) -> GateDecision:
    """Whether someone who joined may post: active members of the bound branch may."""
    async with db.read() as session:
        row = await session.get(ChatBinding, chat_id)
        if row is None or not row.active:
            return GateDecision(None, True, False)
        org = await session.get(Organization, row.org_id)
        if org is None or not org.gate_enabled:
            return GateDecision(None, True, False)
        member = await session.scalar(
            select(func.count())
            .select_from(Member)
            .where(
                Member.user_id == user_id,
                Member.org_id == row.org_id,
                Member.status == Status.ACTIVE,
            )
        )
        restricted = await session.scalar(
            select(func.count())
            .select_from(GateRestriction)
            .where(
                GateRestriction.chat_id == chat_id,
                GateRestriction.user_id == user_id,
                GateRestriction.lifted_at.is_(None),
            )
        )
        return GateDecision(row.org_id, bool(member), bool(restricted))


async def record_restriction(
    db: Database, chat_id: int, user_id: int, org_id: int, now: datetime
) -> None:
    """Remember that the gate muted someone, so approval can lift it."""
    async with db.transaction() as session:
        exists = await session.scalar(
            select(func.count())
            .select_from(GateRestriction)
            .where(
                GateRestriction.chat_id == chat_id,
                GateRestriction.user_id == user_id,
                GateRestriction.lifted_at.is_(None),
            )
        )
        if not exists:
            session.add(GateRestriction(chat_id=chat_id, user_id=user_id, org_id=org_id,
                                        restricted_at=now))  # fmt: skip
