"""Who may do what where: always decided from the database, never from Telegram admin status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import partial

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    and_,
    bindparam,
    exists,
    literal_column,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from domain.orgs import (
    ALL_PERMISSIONS,
    INHERITED_ROLES,
    Level,
    Permission,
    Role,
    Status,
    permissions_for,
)
from services.errors import Denied
from storage.db import Database
from storage.models import Member, Organization, RoleAssignment


@dataclass(frozen=True)
class Actor:
    """The person asking, as handlers identify them."""

    user_id: int
    superadmin: bool = False


async def ancestry(session: AsyncSession, org_id: int) -> list[int]:
    """The organization and its ancestors, nearest first."""
    chain: list[int] = []
    current: int | None = org_id
    while current is not None and current not in chain:  # the tree is shallow (≤ 4 levels)
        chain.append(current)
        current = await session.scalar(
            select(Organization.parent_id).where(Organization.id == current)
        )
    return chain


def active_role_filter(today: date) -> list[ColumnElement[bool]]:
    """Conditions for an office that is held today."""
    return [
        RoleAssignment.start_on <= today,
        or_(RoleAssignment.end_on.is_(None), RoleAssignment.end_on >= today),
    ]


def held_by(user_id: int) -> ColumnElement[bool]:
    """Offices held by this Telegram user directly or through their linked roster entry."""
    return or_(
        RoleAssignment.user_id == user_id,
        and_(Member.user_id == user_id, Member.status == Status.ACTIVE),
    )


async def roles_in(
    session: AsyncSession, user_id: int, org_ids: list[int], today: date
) -> list[tuple[int, Role]]:
    """(org_id, role) pairs the user holds today in any of these organizations."""
    rows = await session.execute(
        select(RoleAssignment.org_id, RoleAssignment.role)
        .outerjoin(Member, Member.id == RoleAssignment.member_id)
        .where(RoleAssignment.org_id.in_(org_ids), held_by(user_id), *active_role_filter(today))
    )
    return [(org, Role(role)) for org, role in rows.all()]


async def permissions(
    session: AsyncSession, actor: Actor, org_id: int, today: date
) -> frozenset[Permission]:
    """What the actor may do for this organization today."""
    if actor.superadmin:
        return ALL_PERMISSIONS
    chain = await ancestry(session, org_id)
    held: set[Role] = set()
    for held_org, role in await roles_in(session, actor.user_id, chain, today):
        # Offices in the organization itself count; above it, only those that reach down.
        if held_org == org_id or role in INHERITED_ROLES:
            held.add(role)
    return permissions_for(held)


async def require(
    session: AsyncSession, actor: Actor, org_id: int, permission: Permission, today: date
) -> None:
    """Raise Denied unless the actor has the permission for this organization."""
    if permission not in await permissions(session, actor, org_id, today):
        raise Denied(f"auth.{permission.value}")


async def orgs_with(
    session: AsyncSession,
    actor: Actor,
    permission: Permission,
    today: date,
    *,
    level: Level | None = Level.BRANCH,
) -> list[int]:
    """Ids of the organizations (of a level) where the actor has a permission, by name."""
    query = select(Organization.id).where(Organization.archived_at.is_(None))
    if level is not None:
        query = query.where(Organization.level == level)
    if not actor.superadmin:
        roles = await session.execute(
            select(RoleAssignment.org_id, RoleAssignment.role)
            .outerjoin(Member, Member.id == RoleAssignment.member_id)
            .where(held_by(actor.user_id), *active_role_filter(today))
        )
        direct: set[int] = set()
        inherited: set[int] = set()
        for org_id, role in roles.all():
            if permission in permissions_for({Role(role)}):
                (inherited if Role(role) in INHERITED_ROLES else direct).add(org_id)
        reachable = direct | await descendants(session, inherited)
        if not reachable:
            return []
        query = query.where(Organization.id.in_(reachable))
    return list((await session.scalars(query.order_by(Organization.name, Organization.id))).all())


async def descendants(session: AsyncSession, roots: set[int]) -> set[int]:
    """The organizations themselves and everything below them."""
    if not roots:
        return set()
    tree = select(Organization.id).where(Organization.id.in_(roots)).cte(recursive=True)
    tree = tree.union_all(select(Organization.id).where(Organization.parent_id == tree.c.id))
    return set((await session.scalars(select(tree.c.id))).all())


# Whether someone holds an office today: one statement of two keyed lookups (by the office's
# user, then through their linked roster entry); the OR of `held_by` across an outer join
# is not a keyed lookup.
_TODAY: BindParameter[date] = bindparam("today")
# A literal, not a parameter, on every database: nothing to substitute on each update.
_ACTIVE: ColumnElement[str] = literal_column(f"'{Status.ACTIVE.value}'")
# As a column, it also rides along with the user's row read on every update (services.users).
HOLDS_OFFICE = or_(
    exists().where(
        RoleAssignment.user_id == bindparam("user_id"),
        RoleAssignment.start_on <= _TODAY,
        or_(RoleAssignment.end_on.is_(None), RoleAssignment.end_on >= _TODAY),
    ),
    select(RoleAssignment.id)
    .join(Member, Member.id == RoleAssignment.member_id)
    .where(
        Member.user_id == bindparam("user_id"),
        Member.status == _ACTIVE,
        RoleAssignment.start_on <= _TODAY,
        or_(RoleAssignment.end_on.is_(None), RoleAssignment.end_on >= _TODAY),
    )
    .exists(),
)
_HOLDS_OFFICE = select(HOLDS_OFFICE)


def _holds_office(user_id: int, today: date, conn: Connection) -> bool:
    return bool(conn.execute(_HOLDS_OFFICE, {"user_id": user_id, "today": today}).scalar())


async def holds_office(db: Database, actor: Actor, today: date) -> bool:
    """Whether the person is a superadmin or holds any office today (for menus and help)."""
    if actor.superadmin:
        return True
    # Every /help and menu asks this: a keyed lookup, on SQLite run inline (see read_now).
    return await db.read_now(partial(_holds_office, actor.user_id, today))
