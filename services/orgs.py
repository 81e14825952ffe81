"""The organization tree: committees, general branches, branches, units and party groups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.orgs import ALLOWED_PARENTS, KINDS_BY_LEVEL, Kind, Level, Permission
from domain.validation import Invalid, parse_short_text
from services import audit
from services.authz import Actor, require
from services.errors import Denied, NotFound, ServiceError
from storage.db import Database
from storage.models import Organization, PartyGroup, Unit

ORG_NAME_MAX = 100


@dataclass(frozen=True)
class OrgView:
    """An organization as handlers show it."""

    id: int
    parent_id: int | None
    level: Level
    kind: Kind
    name: str
    gate_enabled: bool


@dataclass(frozen=True)
class NamedItem:
    """A unit or party group: an id and a name."""

    id: int
    name: str


def org_view(row: Organization) -> OrgView:
    return OrgView(
        id=row.id,
        parent_id=row.parent_id,
        level=Level(row.level),
        kind=Kind(row.kind),
        name=row.name,
        gate_enabled=row.gate_enabled,
    )


async def load_org(session: AsyncSession, org_id: int) -> Organization:
    """The live organization row, or NotFound."""
    row = await session.get(Organization, org_id)
    if row is None or row.archived_at is not None:
        raise NotFound("org.not_found")
    return row


async def create_org(
    db: Database,
    actor: Actor,
    *,
    name: str,
    level: Level,
    kind: Kind,
    parent_id: int | None,
    now: datetime,
    today: date,
) -> OrgView:
    """Create a committee, general branch or branch under a parent the actor manages."""
    async with db.transaction() as session:
        return await add_org(
            session, actor, name=name, level=level, kind=kind, parent_id=parent_id,
            now=now, today=today,
        )  # fmt: skip


async def add_org(
    session: AsyncSession,
    actor: Actor,
    *,
    name: str,
    level: Level,
    kind: Kind,
    parent_id: int | None,
    now: datetime,
    today: date,
) -> OrgView:
    """create_org inside the caller's transaction (for intents that also do more)."""
    clean = parse_short_text(name, ORG_NAME_MAX)
    if isinstance(clean, Invalid):
        raise ServiceError(f"org.{clean.code}")
    if kind not in KINDS_BY_LEVEL[level]:
        raise ServiceError("org.bad_kind")
    parent_level: Level | None = None
    if parent_id is not None:
        parent = await load_org(session, parent_id)
        parent_level = Level(parent.level)
        await require(session, actor, parent_id, Permission.MANAGE_ORGS, today)
    elif not actor.superadmin:
        raise Denied("auth.manage_orgs")
    if parent_level not in ALLOWED_PARENTS[level]:
        raise ServiceError("org.bad_parent")
    row = Organization(
        parent_id=parent_id,
        level=level,
        kind=kind,
        name=clean,
        gate_enabled=True,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    audit.record(
        session,
        at=now,
        actor_id=actor.user_id or None,
        action="org.create",
        target_type="org",
        target_id=row.id,
        after={"name": clean, "level": level, "kind": kind, "parent_id": parent_id},
    )
    return org_view(row)


async def get_org(db: Database, org_id: int) -> OrgView:
    """One organization, or NotFound."""
    async with db.read() as session:
        return org_view(await load_org(session, org_id))


async def get_orgs(db: Database, org_ids: list[int]) -> list[OrgView]:
    """Several organizations, in the order asked."""
    if not org_ids:
        return []
    async with db.read() as session:
        rows = (
            await session.scalars(select(Organization).where(Organization.id.in_(org_ids)))
        ).all()
    by_id = {r.id: org_view(r) for r in rows}
    return [by_id[i] for i in org_ids if i in by_id]


async def list_orgs(
    db: Database, *, parent_id: int | None = None, level: Level | None = None
) -> list[OrgView]:
    """Live organizations, optionally only the children of one or of one level, by name."""
    query = select(Organization).where(Organization.archived_at.is_(None))
    if parent_id is not None:
        query = query.where(Organization.parent_id == parent_id)
    if level is not None:
        query = query.where(Organization.level == level)
    async with db.read() as session:
        rows = (await session.scalars(query.order_by(Organization.name, Organization.id))).all()
    return [org_view(r) for r in rows]


async def count_orgs(db: Database, level: Level) -> int:
    """How many live organizations of a level there are."""
    async with db.read() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(Organization)
                .where(Organization.level == level, Organization.archived_at.is_(None))
            )
            or 0
        )


async def add_unit(
    db: Database, actor: Actor, org_id: int, name: str, now: datetime, today: date
) -> NamedItem:
    """Add an enterprise to a (joint) branch; an existing name is returned as it is."""
    return await _add_named(db, actor, org_id, name, now, today, Unit, "unit")


async def add_party_group(
    db: Database, actor: Actor, org_id: int, name: str, now: datetime, today: date
) -> NamedItem:
    """Add a party group to a branch; an existing name is returned as it is."""
    return await _add_named(db, actor, org_id, name, now, today, PartyGroup, "party_group")


async def _add_named(
    db: Database,
    actor: Actor,
    org_id: int,
    name: str,
    now: datetime,
    today: date,
    model: type[Unit] | type[PartyGroup],
    what: str,
) -> NamedItem:
    clean = parse_short_text(name, ORG_NAME_MAX)
    if isinstance(clean, Invalid):
        raise ServiceError(f"org.{clean.code}")
    async with db.transaction() as session:
        await load_org(session, org_id)
        await require(session, actor, org_id, Permission.MANAGE_MEMBERS, today)
        existing: Unit | PartyGroup | None = await session.scalar(
            select(model).where(model.org_id == org_id, model.name == clean)
        )
        if existing is not None:
            return NamedItem(existing.id, existing.name)
        row = model(org_id=org_id, name=clean)
        session.add(row)
        await session.flush()
        audit.record(
            session, at=now, actor_id=actor.user_id or None, action=f"{what}.create",
            target_type=what, target_id=row.id, after={"org_id": org_id, "name": clean},
        )  # fmt: skip
        return NamedItem(row.id, row.name)


async def units_of(db: Database, org_id: int) -> list[NamedItem]:
    """The enterprises a branch covers, by name."""
    async with db.read() as session:
        rows = await session.execute(
            select(Unit.id, Unit.name).where(Unit.org_id == org_id).order_by(Unit.name)
        )
        return [NamedItem(i, n) for i, n in rows.all()]


async def party_groups_of(db: Database, org_id: int) -> list[NamedItem]:
    """The party groups of a branch, by name."""
    async with db.read() as session:
        rows = await session.execute(
            select(PartyGroup.id, PartyGroup.name)
            .where(PartyGroup.org_id == org_id)
            .order_by(PartyGroup.name)
        )
        return [NamedItem(i, n) for i, n in rows.all()]


async def set_gate(
    db: Database, actor: Actor, org_id: int, enabled: bool, now: datetime, today: date
) -> OrgView:
    """Turn the group gate on or off for a branch."""
    async with db.transaction() as session:
        row = await load_org(session, org_id)
        await require(session, actor, org_id, Permission.BIND_GROUP, today)
        if row.gate_enabled != enabled:
            audit.record(
                session, at=now, actor_id=actor.user_id or None, action="org.gate",
                target_type="org", target_id=org_id,
                before={"gate_enabled": row.gate_enabled}, after={"gate_enabled": enabled},
            )  # fmt: skip
            row.gate_enabled = enabled
        return org_view(row)
