"""Offices in branches and committees, each with a start and an end date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.orgs import BRANCH_ROLES, SINGLE_HOLDER_ROLES, Level, Permission, Role, Status
from services import audit
from services.authz import Actor, active_role_filter, require
from services.errors import NotFound, ServiceError
from services.orgs import load_org
from storage.db import Database
from storage.models import Member, PartyGroup, RoleAssignment, User


@dataclass(frozen=True)
class RoleView:
    """One office held today."""

    id: int
    org_id: int
    role: Role
    holder: str  # roster name, or the Telegram name for committee-level offices
    member_id: int | None
    user_id: int | None
    party_group: str | None
    start_on: date


async def grant_role(
    db: Database,
    actor: Actor,
    org_id: int,
    role: Role,
    *,
    member_id: int | None = None,
    user_id: int | None = None,
    party_group_id: int | None = None,
    now: datetime,
    today: date,
) -> RoleView:
    """Give an office to a roster member (branch offices) or a known user (committee offices).

    A branch has one secretary: granting it ends the previous holder's term yesterday.
    """
    async with db.transaction() as session:
        return await grant_role_in(
            session, actor, org_id, role, member_id=member_id, user_id=user_id,
            party_group_id=party_group_id, now=now, today=today,
        )  # fmt: skip


async def grant_role_in(
    session: AsyncSession,
    actor: Actor,
    org_id: int,
    role: Role,
    *,
    member_id: int | None = None,
    user_id: int | None = None,
    party_group_id: int | None = None,
    now: datetime,
    today: date,
) -> RoleView:
    """grant_role inside the caller's transaction (an intent that also takes its wizard's draft)."""
    org = await load_org(session, org_id)
    await require(session, actor, org_id, Permission.MANAGE_ROLES, today)
    holder = ""
    committee_keeper = role == Role.DUES_KEEPER and org.level != Level.BRANCH
    if role in BRANCH_ROLES and not committee_keeper:
        if org.level == Level.COMMITTEE:
            raise ServiceError("role.not_for_committee")
        member = await session.get(Member, member_id) if member_id else None
        if member is None or member.org_id != org_id or member.status != Status.ACTIVE:
            raise NotFound("member.not_found")
        holder, user_id = member.name, None
    else:
        user = await session.get(User, user_id) if user_id else None
        if user is None:
            raise NotFound("user.unknown")
        holder, member_id = user.first_name, None
    group_name = None
    if role == Role.GROUP_LEADER:
        group = await session.get(PartyGroup, party_group_id) if party_group_id else None
        if group is None or group.org_id != org_id:
            raise ServiceError("role.needs_party_group")
        group_name = group.name
    else:
        party_group_id = None
    current = (
        await session.scalars(
            select(RoleAssignment).where(
                RoleAssignment.org_id == org_id,
                RoleAssignment.role == role,
                *active_role_filter(today),
            )
        )
    ).all()
    for existing in current:
        same = (
            existing.member_id == member_id
            and existing.user_id == user_id
            and existing.party_group_id == party_group_id
        )
        if same:
            return _view(existing, holder, group_name)
        if role in SINGLE_HOLDER_ROLES:
            existing.end_on = today - timedelta(days=1)
            audit.record(
                session, at=now, actor_id=actor.user_id or None, action="role.end",
                target_type="role", target_id=existing.id,
                before={"role": role, "end_on": None}, after={"end_on": str(existing.end_on)},
            )  # fmt: skip
    row = RoleAssignment(
        org_id=org_id,
        role=role,
        member_id=member_id,
        user_id=user_id,
        party_group_id=party_group_id,
        start_on=today,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    audit.record(
        session, at=now, actor_id=actor.user_id or None, action="role.grant",
        target_type="role", target_id=row.id,
        after={"org_id": org_id, "role": role, "member_id": member_id, "user_id": user_id},
    )  # fmt: skip
    return _view(row, holder, group_name)


async def end_role(db: Database, actor: Actor, role_id: int, *, now: datetime, today: date) -> None:
    """End an office today."""
    async with db.transaction() as session:
        row = await session.get(RoleAssignment, role_id)
        if row is None or (row.end_on is not None and row.end_on < today):
            raise NotFound("role.not_found")
        await require(session, actor, row.org_id, Permission.MANAGE_ROLES, today)
        before = row.end_on
        # end_on is the last day in office: yesterday, so the rights go now, even for an
        # office granted today (it then ends before it started: never held).
        row.end_on = today - timedelta(days=1)
        audit.record(
            session, at=now, actor_id=actor.user_id or None, action="role.end",
            target_type="role", target_id=row.id,
            before={"end_on": str(before) if before else None}, after={"end_on": str(row.end_on)},
        )  # fmt: skip


async def roles_of_org(db: Database, org_id: int, today: date) -> list[RoleView]:
    """The offices held today in an organization."""
    async with db.read() as session:
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
    return [
        _view(r, member_name or user_name or "", group) for r, member_name, user_name, group in rows
    ]


def _view(row: RoleAssignment, holder: str, group: str | None) -> RoleView:
    return RoleView(
        id=row.id,
        org_id=row.org_id,
        role=Role(row.role),
        holder=holder,
        member_id=row.member_id,
        user_id=row.user_id,
        party_group=group,
        start_on=row.start_on,
    )
