"""Administering the organization tree: the /org menu's screens and the `zhibu org` commands."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from domain.orgs import ALLOWED_PARENTS, Level, Permission, Role, Status
from domain.orgs_wizard import NewOrgDraft
from domain.wizard import Draft as TypedDraft
from services.authz import Actor, active_role_filter, orgs_with, permissions, require
from services.drafts import finish_draft, take_draft
from services.errors import Denied, NotFound, ServiceError
from services.orgs import NamedItem, OrgView, add_org, load_org, org_view, set_gate
from services.orgs_roles import RoleView, end_role, grant_role, grant_role_in
from storage.db import Database
from storage.models import Member, Organization, PartyGroup, RoleAssignment, User

# Offices given to a Telegram user (not a roster entry) from the /org menu.
# Offices held by a Telegram user rather than a roster entry: a committee's admin, its 党费管理员
# (who confirms the branches' remittances), and instructors.
USER_OFFICES = (Role.COMMITTEE_ADMIN, Role.INSTRUCTOR, Role.DUES_KEEPER)
# Telegram usernames: 5–32 letters, digits and underscores (older ones may be shorter).
_USERNAME = re.compile(r"^[A-Za-z0-9_]{3,32}$")
_USER_ID = re.compile(r"^\d{1,19}$")


@dataclass(frozen=True)
class TopList:
    """The organizations someone manages that have no managed organization above them."""

    orgs: tuple[OrgView, ...]
    can_create: bool  # superadmins create committees at the top


@dataclass(frozen=True)
class OrgCard:
    """One organization with its numbers and one page of its children."""

    org: OrgView
    parent: OrgView | None  # None at the top, or when the viewer does not manage the parent
    children: tuple[OrgView, ...]  # the requested page
    child_count: int
    offset: int
    members: int  # active roster entries of the organization itself
    find: str = ""  # the children are narrowed to names containing this
    found: int = 0  # how many children match it (all of them when nothing was typed)


@dataclass(frozen=True)
class CreateTarget:
    """Where a new organization may go and which levels it may have there."""

    parent: OrgView | None
    levels: tuple[Level, ...]


@dataclass(frozen=True)
class Office:
    """An office held today; `ending` when it ends tonight (it still counts until then)."""

    id: int
    role: Role
    holder: str
    party_group: str | None
    start_on: date
    ending: bool


@dataclass(frozen=True)
class Offices:
    """The offices of one organization."""

    org: OrgView
    items: tuple[Office, ...]


@dataclass(frozen=True)
class Appointed:
    """An office just given, and the organization's offices afterwards."""

    role: RoleView
    offices: Offices


@dataclass(frozen=True)
class Ended:
    """An office just ended, and the organization's offices afterwards."""

    office: Office
    offices: Offices


@dataclass(frozen=True)
class Candidates:
    """Who may become a branch's secretary: its active roster, by name."""

    org: OrgView
    members: tuple[NamedItem, ...]
    secretary: str | None


@dataclass(frozen=True)
class TreeRow:
    """One line of `zhibu org list`."""

    org: OrgView
    depth: int
    members: int  # active roster entries in it and everything below it


def child_levels(parent: Level | None) -> tuple[Level, ...]:
    """The levels an organization may have directly under `parent` (None: the top)."""
    return tuple(level for level in Level if parent in ALLOWED_PARENTS[level])


async def roots(db: Database) -> list[OrgView]:
    """The live organizations at the top of the tree, by name."""
    async with db.read() as session:
        rows = await session.scalars(
            select(Organization)
            .where(Organization.parent_id.is_(None), Organization.archived_at.is_(None))
            .order_by(Organization.name, Organization.id)
        )
        return [org_view(r) for r in rows.all()]


async def top_orgs(db: Database, actor: Actor, today: date) -> TopList:
    """The organizations the actor manages, highest first; Denied for those who manage none."""
    if actor.superadmin:
        return TopList(orgs=tuple(await roots(db)), can_create=True)
    async with db.read() as session:
        managed = await orgs_with(session, actor, Permission.MANAGE_ORGS, today, level=None)
        if not managed:
            raise Denied("auth.manage_orgs")
        rows = (
            await session.scalars(
                select(Organization)
                .where(Organization.id.in_(managed))
                .order_by(Organization.name, Organization.id)
            )
        ).all()
    ids = set(managed)
    # A committee admin also manages everything below; list only the tops of their subtrees.
    tops = tuple(org_view(r) for r in rows if r.parent_id not in ids)
    return TopList(orgs=tops, can_create=False)


async def _card(
    session: AsyncSession,
    actor: Actor,
    row: Organization,
    today: date,
    offset: int,
    limit: int,
    find: str = "",
) -> OrgCard:
    live_children: tuple[ColumnElement[bool], ...] = (
        Organization.parent_id == row.id,
        Organization.archived_at.is_(None),
    )
    count = int(
        await session.scalar(select(func.count()).select_from(Organization).where(*live_children))
        or 0
    )
    found = count
    if find:
        live_children = (*live_children, Organization.name.icontains(find, autoescape=True))
        found = int(
            await session.scalar(
                select(func.count()).select_from(Organization).where(*live_children)
            )
            or 0
        )
    offset = max(0, min(offset, max(found - 1, 0) // limit * limit))
    children = (
        await session.scalars(
            select(Organization)
            .where(*live_children)
            .order_by(Organization.name, Organization.id)
            .offset(offset)
            .limit(limit)
        )
    ).all()
    members = int(
        await session.scalar(
            select(func.count())
            .select_from(Member)
            .where(Member.org_id == row.id, Member.status == Status.ACTIVE)
        )
        or 0
    )
    parent: OrgView | None = None
    if row.parent_id is not None:
        parent_row = await session.get(Organization, row.parent_id)
        if (
            parent_row is not None
            and parent_row.archived_at is None
            and Permission.MANAGE_ORGS in await permissions(session, actor, parent_row.id, today)
        ):
            parent = org_view(parent_row)
    return OrgCard(
        org=org_view(row),
        parent=parent,
        children=tuple(org_view(c) for c in children),
        child_count=count,
        offset=offset,
        members=members,
        find=find,
        found=found,
    )


async def org_card(
    db: Database,
    actor: Actor,
    org_id: int,
    today: date,
    *,
    offset: int = 0,
    limit: int = 8,
    find: str = "",
) -> OrgCard:
    """An organization the actor manages, with a page of its children (those whose name
    contains `find` when something was typed)."""
    async with db.read() as session:
        row = await load_org(session, org_id)
        await require(session, actor, org_id, Permission.MANAGE_ORGS, today)
        return await _card(session, actor, row, today, offset, limit, find)


async def creation_target(
    db: Database, actor: Actor, parent_id: int | None, today: date
) -> CreateTarget:
    """Check the actor may create under `parent_id` (None: the top) and say which levels fit."""
    if parent_id is None:
        if not actor.superadmin:
            raise Denied("auth.manage_orgs")
        return CreateTarget(parent=None, levels=child_levels(None))
    async with db.read() as session:
        row = await load_org(session, parent_id)
        await require(session, actor, parent_id, Permission.MANAGE_ORGS, today)
        levels = child_levels(Level(row.level))
        if not levels:
            raise ServiceError("org.bad_parent")
        return CreateTarget(parent=org_view(row), levels=levels)


async def create_from_draft(db: Database, actor: Actor, *, now: datetime, today: date) -> OrgCard:
    """Create the organization the person's /org wizard previews; the wizard ends with it.

    The draft is taken inside the creating transaction: a second 确认创建 (or a replay after
    a crash between the commit and the reply) finds no draft and is refused as "stale"
    instead of creating a twin. A refusal rolls back and leaves the draft as it was.
    """
    async with db.transaction() as session:
        draft = await take_draft(session, actor.user_id, NewOrgDraft)
        if draft is None or draft.step != "confirm":
            raise ServiceError("stale")
        if draft.level is None or draft.kind is None or draft.name is None:
            raise ServiceError("stale")
        created = await add_org(
            session, actor, name=draft.name, level=draft.level, kind=draft.kind,
            parent_id=draft.parent_id, now=now, today=today,
        )  # fmt: skip
    return await org_card(db, actor, created.id, today)


async def switch_gate(
    db: Database, actor: Actor, org_id: int, enabled: bool, *, now: datetime, today: date
) -> OrgCard:
    """Turn the group gate of a branch on or off and return its card."""
    await set_gate(db, actor, org_id, enabled, now, today)
    return await org_card(db, actor, org_id, today)


async def _check_office(
    session: AsyncSession, actor: Actor, org_id: int, role: Role, today: date
) -> Organization:
    row = await load_org(session, org_id)
    await require(session, actor, org_id, Permission.MANAGE_ROLES, today)
    if role not in USER_OFFICES:
        raise ServiceError("org.bad_office")
    # A committee admin manages a subtree; on a branch the secretary does that job.
    if role == Role.COMMITTEE_ADMIN and row.level != Level.COMMITTEE:
        raise ServiceError("org.bad_office")
    # On a branch the 党费管理员 is a member of it, appointed from the roster (/members).
    if role == Role.DUES_KEEPER and row.level == Level.BRANCH:
        raise ServiceError("org.bad_office")
    return row


async def office_target(
    db: Database, actor: Actor, org_id: int, role: Role, today: date
) -> OrgView:
    """Check the actor may give this user office here, before asking who should hold it."""
    async with db.read() as session:
        return org_view(await _check_office(session, actor, org_id, role, today))


def parse_handle(text: str) -> tuple[int | None, str | None]:
    """A numeric Telegram id or a @username as people type them; (None, None) for neither."""
    value = text.strip().removeprefix("@").strip()
    if _USER_ID.match(value):
        return int(value), None
    if _USERNAME.match(value):
        return None, value.lower()
    return None, None


async def find_user(session: AsyncSession, handle: str) -> User | None:
    """Someone who started the bot, by numeric id or @username (case-insensitive)."""
    user_id, username = parse_handle(handle)
    if user_id is not None:
        query = select(User).where(User.id == user_id)
    elif username is not None:
        query = select(User).where(func.lower(User.username) == username)
    else:
        raise ServiceError("org.bad_handle")
    return await session.scalar(query.where(User.started.is_(True)).limit(1))


async def appoint_user(
    db: Database,
    actor: Actor,
    org_id: int,
    role: Role,
    handle: str,
    *,
    now: datetime,
    today: date,
    draft: TypedDraft | None = None,
) -> Appointed:
    """Give a committee-admin or instructor office to someone who started the bot.

    `draft`: the wizard the holder was typed into, taken with the grant.
    """
    async with db.read() as session:
        await _check_office(session, actor, org_id, role, today)
        user = await find_user(session, handle)
        if user is None:
            raise NotFound("user.unknown")
        user_id = user.id
    async with db.transaction() as session:
        if draft is not None:
            await finish_draft(session, actor.user_id, draft)
        granted = await grant_role_in(
            session, actor, org_id, role, user_id=user_id, now=now, today=today
        )
    return Appointed(role=granted, offices=await offices(db, actor, org_id, today))


async def candidates(db: Database, actor: Actor, org_id: int, today: date) -> Candidates:
    """The branch's active roster to pick a secretary from, and the current secretary."""
    async with db.read() as session:
        row = await load_org(session, org_id)
        await require(session, actor, org_id, Permission.MANAGE_ROLES, today)
        if row.level == Level.COMMITTEE:
            raise ServiceError("role.not_for_committee")
        members = (
            await session.execute(
                select(Member.id, Member.name)
                .where(Member.org_id == org_id, Member.status == Status.ACTIVE)
                .order_by(Member.name, Member.id)
            )
        ).all()
        secretary = await session.scalar(
            select(Member.name)
            .join(RoleAssignment, RoleAssignment.member_id == Member.id)
            .where(
                RoleAssignment.org_id == org_id,
                RoleAssignment.role == Role.SECRETARY,
                *active_role_filter(today),
            )
            .order_by(RoleAssignment.start_on.desc())
            .limit(1)
        )
        return Candidates(
            org=org_view(row),
            members=tuple(NamedItem(i, n) for i, n in members),
            secretary=secretary,
        )


async def appoint_secretary(
    db: Database, actor: Actor, org_id: int, member_id: int, *, now: datetime, today: date
) -> Appointed:
    """Make a roster member the branch's secretary (the previous one's term ends)."""
    granted = await grant_role(
        db, actor, org_id, Role.SECRETARY, member_id=member_id, now=now, today=today
    )
    return Appointed(role=granted, offices=await offices(db, actor, org_id, today))


async def _offices(session: AsyncSession, org_id: int, today: date) -> tuple[Office, ...]:
    rows = (
        await session.execute(
            select(RoleAssignment, Member.name, User.first_name, PartyGroup.name)
            .outerjoin(Member, Member.id == RoleAssignment.member_id)
            .outerjoin(User, User.id == RoleAssignment.user_id)
            .outerjoin(PartyGroup, PartyGroup.id == RoleAssignment.party_group_id)
            .where(RoleAssignment.org_id == org_id, *active_role_filter(today))
            .order_by(RoleAssignment.id)
        )
    ).all()
    return tuple(
        Office(
            id=r.id,
            role=Role(r.role),
            holder=member_name or user_name or "",
            party_group=group,
            start_on=r.start_on,
            ending=r.end_on is not None and r.end_on <= today,
        )
        for r, member_name, user_name, group in rows
    )


async def offices(db: Database, actor: Actor, org_id: int, today: date) -> Offices:
    """The offices held today in an organization whose offices the actor manages."""
    async with db.read() as session:
        row = await load_org(session, org_id)
        await require(session, actor, org_id, Permission.MANAGE_ROLES, today)
        return Offices(org=org_view(row), items=await _offices(session, org_id, today))


async def end_office(
    db: Database, actor: Actor, role_id: int, *, now: datetime, today: date
) -> Ended:
    """End an office today; returns it and the organization's offices afterwards."""
    async with db.read() as session:
        row = await session.get(RoleAssignment, role_id)
        if row is None:
            raise NotFound("role.not_found")
        org_id = row.org_id
        await require(session, actor, org_id, Permission.MANAGE_ROLES, today)
        office = next((o for o in await _offices(session, org_id, today) if o.id == role_id), None)
        # Ending it twice would write a second audit entry for nothing.
        if office is None or office.ending:
            raise ServiceError("org.role_ended")
    await end_role(db, actor, role_id, now=now, today=today)
    return Ended(office=office, offices=await offices(db, actor, org_id, today))


async def tree(db: Database) -> list[TreeRow]:
    """Every live organization, depth first by name, with active members counted upwards."""
    async with db.read() as session:
        rows = (
            await session.scalars(
                select(Organization)
                .where(Organization.archived_at.is_(None))
                .order_by(Organization.name, Organization.id)
            )
        ).all()
        counts = dict(
            (
                await session.execute(
                    select(Member.org_id, func.count())
                    .where(Member.status == Status.ACTIVE)
                    .group_by(Member.org_id)
                )
            ).all()
        )
    views = [org_view(r) for r in rows]
    known = {v.id for v in views}
    children: dict[int | None, list[OrgView]] = {}
    for v in views:
        # Under an archived parent, show it at the top rather than hide it.
        children.setdefault(v.parent_id if v.parent_id in known else None, []).append(v)

    def total(org_id: int) -> int:
        return int(counts.get(org_id, 0)) + sum(total(c.id) for c in children.get(org_id, []))

    out: list[TreeRow] = []

    def walk(parent: int | None, depth: int) -> None:
        for v in children.get(parent, []):
            out.append(TreeRow(org=v, depth=depth, members=total(v.id)))
            walk(v.id, depth + 1)

    walk(None, 0)
    return out
