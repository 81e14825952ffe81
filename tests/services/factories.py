"""Building blocks for service tests: people, an organization tree, roster rows and offices.

Rows the services have no function for (imported roster entries, offices with given dates)
are written directly through a session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from domain.orgs import Kind, Level, Role, Stage, Status
from services import orgs
from services.authz import Actor
from services.users import Person, touch_user
from storage.db import Database
from storage.models import Member, RoleAssignment
from tests.conftest import FakeClock

SUPER = Actor(user_id=0, superadmin=True)

# Telegram user ids beyond 32 bits, as real ones are.
BASE_UID = 5_000_000_000


def today(clock: FakeClock) -> date:
    return clock.now().date()


async def person(db: Database, clock: FakeClock, uid: int, first_name: str = "") -> Actor:
    """A Telegram user the bot has seen, as an Actor."""
    await touch_user(db, Person(id=uid, first_name=first_name or f"用户{uid % 1000}"), clock.now())
    return Actor(user_id=uid)


@dataclass(frozen=True)
class Tree:
    """committee → sub-committee → general branch → branch_a; committee → branch_b;
    and a second, unrelated committee with branch_c."""

    committee: int
    sub_committee: int
    general: int
    branch_a: int
    branch_b: int
    other_committee: int
    branch_c: int


async def org(
    db: Database,
    clock: FakeClock,
    name: str,
    level: Level,
    parent_id: int | None,
    kind: Kind | None = None,
) -> int:
    default = {Level.COMMITTEE: Kind.COMPREHENSIVE, Level.GENERAL_BRANCH: Kind.GENERAL,
               Level.BRANCH: Kind.STANDARD}  # fmt: skip
    view = await orgs.create_org(
        db,
        SUPER,
        name=name,
        level=level,
        kind=kind or default[level],
        parent_id=parent_id,
        now=clock.now(),
        today=today(clock),
    )
    return view.id


async def tree(db: Database, clock: FakeClock) -> Tree:
    committee = await org(db, clock, "高新区综合党委", Level.COMMITTEE, None)
    sub = await org(db, clock, "软件园两新工委", Level.COMMITTEE, committee, Kind.TWO_NEW)
    general = await org(db, clock, "软件园党总支", Level.GENERAL_BRANCH, sub)
    branch_a = await org(db, clock, "甲公司党支部", Level.BRANCH, general)
    branch_b = await org(db, clock, "乙公司联合党支部", Level.BRANCH, committee, Kind.JOINT)
    other = await org(db, clock, "商贸行业党委", Level.COMMITTEE, None, Kind.INDUSTRY)
    branch_c = await org(db, clock, "丙公司党支部", Level.BRANCH, other)
    return Tree(committee, sub, general, branch_a, branch_b, other, branch_c)


async def member(
    db: Database,
    clock: FakeClock,
    org_id: int,
    name: str,
    *,
    user_id: int | None = None,
    phone: str | None = None,
    stage: Stage = Stage.FULL,
    status: Status = Status.ACTIVE,
    source: str = "import",
    unit_id: int | None = None,
    party_group_id: int | None = None,
) -> int:
    """A roster row written directly (an import, or a member added by hand)."""
    async with db.transaction() as s:
        row = Member(
            org_id=org_id,
            user_id=user_id,
            name=name,
            phone=phone,
            stage=stage,
            status=status,
            source=source,
            unit_id=unit_id,
            party_group_id=party_group_id,
            created_at=clock.now(),
            updated_at=clock.now(),
        )
        s.add(row)
        await s.flush()
        return row.id


async def office(
    db: Database,
    clock: FakeClock,
    org_id: int,
    role: Role,
    *,
    member_id: int | None = None,
    user_id: int | None = None,
    party_group_id: int | None = None,
    start_on: date | None = None,
    end_on: date | None = None,
) -> int:
    """An office row written directly, with any dates."""
    async with db.transaction() as s:
        row = RoleAssignment(
            org_id=org_id,
            role=role,
            member_id=member_id,
            user_id=user_id,
            party_group_id=party_group_id,
            start_on=start_on or today(clock),
            end_on=end_on,
            created_at=clock.now(),
        )
        s.add(row)
        await s.flush()
        return row.id


async def linked_member(
    db: Database,
    clock: FakeClock,
    org_id: int,
    uid: int,
    name: str,
    *,
    phone: str | None = None,
    role: Role | None = None,
) -> tuple[Actor, int]:
    """A registered member (a user linked to an active roster entry), maybe in an office."""
    actor = await person(db, clock, uid, name)
    member_id = await member(
        db, clock, org_id, name, user_id=uid, phone=phone, source="registration"
    )
    if role is not None:
        await office(db, clock, org_id, role, member_id=member_id)
    return actor, member_id
