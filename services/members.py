"""Real-name membership: registration with approval, the roster, profiles and leaving."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.members_registration import RegistrationDraft
from domain.orgs import (
    Level,
    Permission,
    RegistrationStatus,
    Role,
    Stage,
    Status,
)
from domain.validation import Invalid, parse_phone, parse_real_name, parse_short_text
from domain.wizard import Draft as TypedDraft
from services import audit
from services.authz import (
    Actor,
    active_role_filter,
    ancestry,
    orgs_with,
    permissions,
    require,
)
from services.drafts import finish_draft, take_draft
from services.errors import Denied, NotFound, ServiceError
from services.members_requests import decider_name, redraw_copies, send_requests
from services.orgs import OrgView, load_org, org_view
from storage.db import Database
from storage.models import (
    ChatPresence,
    Draft,
    GateRestriction,
    Member,
    Organization,
    PartyGroup,
    Registration,
    RoleAssignment,
    Unit,
    User,
)

REASON_MAX = 200
APPROVER_ROLES = (Role.SECRETARY, Role.DEPUTY, Role.ORGANIZATION)


@dataclass(frozen=True)
class RegistrationView:
    """A registration request as approvers and the applicant see it."""

    id: int
    user_id: int
    org_id: int
    org_name: str
    name: str
    phone: str | None
    stage: Stage
    unit: str | None
    status: RegistrationStatus
    match_member_id: int | None
    reason: str | None


@dataclass(frozen=True)
class Submitted:
    """A registration that reached the approvers."""

    registration: RegistrationView
    approvers: tuple[int, ...]
    replaced: bool  # an earlier pending request of this person was withdrawn


@dataclass(frozen=True)
class Decision:
    """The outcome of an approver's decision, and who must hear of it."""

    registration: RegistrationView
    member_id: int | None
    # Bound groups where the gate muted the applicant: approval lifts these.
    restricted_chats: tuple[int, ...]


@dataclass(frozen=True)
class RosterEntry:
    """One line of a roster; personal fields are None for those who may not see them."""

    member_id: int
    name: str
    stage: Stage
    roles: tuple[Role, ...]
    linked: bool
    phone: str | None
    unit: str | None
    party_group: str | None
    last_seen: datetime | None


@dataclass(frozen=True)
class Roster:
    """A branch's current roster as one viewer may see it."""

    org: OrgView
    entries: tuple[RosterEntry, ...]
    full: bool  # stages, linked, activity and phones shown (admins)
    can_manage: bool


@dataclass(frozen=True)
class Profile:
    """A member's own record."""

    member_id: int
    org: OrgView
    name: str
    phone: str | None
    stage: Stage
    unit: str | None
    party_group: str | None
    roles: tuple[Role, ...]


def today_in(now: datetime, tz: object) -> date:
    """The calendar date in the organization's time zone."""
    return now.astimezone(tz).date()  # type: ignore[arg-type]


def _invalid(code: str) -> ServiceError:
    return ServiceError(f"input.{code}")


async def _registration_view(session: AsyncSession, row: Registration) -> RegistrationView:
    org = await session.get(Organization, row.org_id)
    unit = await session.get(Unit, row.unit_id) if row.unit_id else None
    return RegistrationView(
        id=row.id,
        user_id=row.user_id,
        org_id=row.org_id,
        org_name=org.name if org else "",
        name=row.name,
        phone=row.phone,
        stage=Stage(row.stage),
        unit=unit.name if unit else None,
        status=RegistrationStatus(row.status),
        match_member_id=row.match_member_id,
        reason=row.reason,
    )


async def active_membership(session: AsyncSession, user_id: int) -> Member | None:
    """The person's live roster entry, if any."""
    return await session.scalar(
        select(Member).where(Member.user_id == user_id, Member.status == Status.ACTIVE)
    )


async def registration_branch(db: Database, org_id: int) -> OrgView:
    """The branch a registration link points to; NotFound for anything else."""
    async with db.read() as session:
        row = await load_org(session, org_id)
        if row.level == Level.COMMITTEE:
            raise NotFound("org.not_found")
        return org_view(row)


async def pending_registration(db: Database, user_id: int) -> RegistrationView | None:
    """The person's registration awaiting a decision, if any."""
    async with db.read() as session:
        row = await session.scalar(
            select(Registration).where(
                Registration.user_id == user_id,
                Registration.status == RegistrationStatus.PENDING,
            )
        )
        return None if row is None else await _registration_view(session, row)


async def approvers_of(session: AsyncSession, org_id: int, today: date) -> tuple[int, ...]:
    """Who decides registrations: the branch's secretary, deputy and organization member;
    failing those, the committee admins above it."""
    chain = await ancestry(session, org_id)
    rows = await session.execute(
        select(RoleAssignment.org_id, RoleAssignment.role, RoleAssignment.user_id, Member.user_id)
        .outerjoin(Member, and_(Member.id == RoleAssignment.member_id, Member.status == "active"))
        .where(
            RoleAssignment.org_id.in_(chain),
            RoleAssignment.role.in_([*APPROVER_ROLES, Role.COMMITTEE_ADMIN]),
            *active_role_filter(today),
        )
    )
    direct: list[int] = []
    above: list[int] = []
    for held_org, role, user_id, member_user in rows.all():
        uid = user_id or member_user
        if uid is None:
            continue
        if held_org == org_id and role in APPROVER_ROLES:
            direct.append(uid)
        elif role == Role.COMMITTEE_ADMIN:
            above.append(uid)
    return tuple(dict.fromkeys(direct or above))


async def submit_registration(
    db: Database,
    *,
    user_id: int,
    org_id: int,
    name: str,
    stage: Stage,
    unit_id: int | None,
    phone: str | None,
    now: datetime,
    today: date,
    fallback: tuple[int, ...] = (),
) -> Submitted:
    """File a registration for the branch's approvers, replacing an earlier pending one;
    each approver's copy is queued with it (`fallback`: who decides when nobody holds the
    office, the superadmins)."""
    async with db.transaction() as session:
        return await _file(
            session, user_id=user_id, org_id=org_id, name=name, stage=stage,
            unit_id=unit_id, phone=phone, now=now, today=today, fallback=fallback,
        )  # fmt: skip


async def submit_registration_draft(
    db: Database, user_id: int, *, now: datetime, today: date, fallback: tuple[int, ...] = ()
) -> Submitted:
    """File what the person's registration wizard holds; the wizard ends in the same transaction.

    A second press of 提交 (or a replay after a crash between the commit and the reply)
    finds no draft and is refused as "stale", instead of filing again and asking the
    approvers twice. A refusal rolls back and leaves the draft as it was.
    """
    async with db.transaction() as session:
        draft = await take_draft(session, user_id, RegistrationDraft)
        if draft is None or draft.step != "confirm" or draft.name is None or draft.stage is None:
            raise ServiceError("stale")
        return await _file(
            session, user_id=user_id, org_id=draft.org_id, name=draft.name, stage=draft.stage,
            unit_id=draft.unit_id, phone=draft.phone, now=now, today=today, fallback=fallback,
        )  # fmt: skip


async def _file(
    session: AsyncSession,
    *,
    user_id: int,
    org_id: int,
    name: str,
    stage: Stage,
    unit_id: int | None,
    phone: str | None,
    now: datetime,
    today: date,
    fallback: tuple[int, ...],
) -> Submitted:
    clean_name = parse_real_name(name)
    if isinstance(clean_name, Invalid):
        raise _invalid(clean_name.code)
    clean_phone: str | None = None
    if phone:
        parsed = parse_phone(phone)
        if isinstance(parsed, Invalid):
            raise _invalid(parsed.code)
        clean_phone = parsed
    org = await load_org(session, org_id)
    if org.level == Level.COMMITTEE:
        raise NotFound("org.not_found")
    current = await active_membership(session, user_id)
    if current is not None:
        branch = await session.get(Organization, current.org_id)
        raise ServiceError("registration.already_member", branch=branch.name if branch else "")
    if (
        unit_id is not None
        and await session.scalar(select(Unit.id).where(Unit.id == unit_id, Unit.org_id == org_id))
        is None
    ):
        raise ServiceError("registration.bad_unit")
    match = await _roster_match(session, org_id, clean_name, clean_phone)
    replaced = await _cancel_pending(session, user_id, now)
    row = Registration(
        user_id=user_id,
        org_id=org_id,
        name=clean_name,
        phone=clean_phone,
        stage=stage,
        unit_id=unit_id,
        status=RegistrationStatus.PENDING,
        match_member_id=match,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    approvers = await approvers_of(session, org_id, today)
    await send_requests(session, row.id, approvers or fallback, now)
    return Submitted(
        registration=await _registration_view(session, row),
        approvers=approvers,
        replaced=replaced,
    )


async def _cancel_pending(session: AsyncSession, user_id: int, now: datetime) -> bool:
    """Withdraw the person's pending request; its copies say so and lose their buttons."""
    pending = (
        await session.scalars(
            select(Registration.id).where(
                Registration.user_id == user_id,
                Registration.status == RegistrationStatus.PENDING,
            )
        )
    ).all()
    if not pending:
        return False
    await session.execute(
        update(Registration)
        .where(Registration.id.in_(pending))
        .values(status=RegistrationStatus.CANCELLED, decided_at=now)
    )
    await redraw_copies(session, pending, now)
    return True


async def _roster_match(
    session: AsyncSession, org_id: int, name: str, phone: str | None
) -> int | None:
    """An unlinked roster entry that is this person: same phone, else the only same name."""
    unlinked = (Member.org_id == org_id, Member.status == Status.ACTIVE, Member.user_id.is_(None))
    if phone:
        by_phone = await session.scalar(select(Member.id).where(*unlinked, Member.phone == phone))
        if by_phone is not None:
            return by_phone
        taken = await session.scalar(
            select(Member.id).where(
                Member.org_id == org_id, Member.status == Status.ACTIVE, Member.phone == phone
            )
        )
        if taken is not None:
            raise ServiceError("registration.phone_taken")
    same_name = (
        await session.scalars(
            select(Member.id).where(
                *unlinked,
                Member.name == name,
                # A different phone on the roster means a different person of the same name.
                or_(Member.phone.is_(None), Member.phone == phone) if phone else true(),
            )
        )
    ).all()
    return same_name[0] if len(same_name) == 1 else None


async def cancel_registration(db: Database, user_id: int, now: datetime) -> bool:
    """Withdraw the person's pending registration."""
    async with db.transaction() as session:
        return await _cancel_pending(session, user_id, now)


async def decide_registration(
    db: Database,
    actor: Actor,
    registration_id: int,
    *,
    approve: bool,
    reason: str | None,
    now: datetime,
    today: date,
    draft: TypedDraft | None = None,
    pressed: tuple[int, int] | None = None,
) -> Decision:
    """Approve (adding or linking the roster entry) or reject a pending registration; every
    approver's copy is redrawn to say who decided and loses its buttons.

    `draft`: the wizard a rejection's reason was typed into, taken with the decision.
    `pressed`: (chat, message) of the copy the decider pressed, which their reply edits.
    """
    async with db.transaction() as session:
        if draft is not None:
            await finish_draft(session, actor.user_id, draft)
        row = await session.get(Registration, registration_id, with_for_update=True)
        if row is None:
            raise NotFound("registration.not_found")
        await require(session, actor, row.org_id, Permission.MANAGE_MEMBERS, today)
        await _still_pending(session, row)
        row.decided_by = actor.user_id or None
        row.decided_at = now
        await redraw_copies(session, [row.id], now, pressed=pressed)
        if not approve:
            clean = parse_short_text(reason or "", REASON_MAX)
            if isinstance(clean, Invalid):
                raise _invalid(f"reason_{clean.code.split('.')[-1]}")
            row.status = RegistrationStatus.REJECTED
            row.reason = clean
            audit.record(
                session, at=now, actor_id=actor.user_id or None, action="registration.reject",
                target_type="registration", target_id=row.id, after={"reason": clean},
            )  # fmt: skip
            return Decision(await _registration_view(session, row), None, ())
        current = await active_membership(session, row.user_id)
        if current is None:
            return await _approve_and_report(session, actor, row, now)
        # The person became a member meanwhile: cancel the request for good (raising here,
        # inside the transaction, would roll the cancellation back and leave it pending).
        row.status = RegistrationStatus.CANCELLED
        branch = await session.get(Organization, current.org_id)
    raise ServiceError("registration.already_member", branch=branch.name if branch else "")


async def _still_pending(session: AsyncSession, row: Registration) -> None:
    """Refuse a decision on a request already decided, naming who decided it."""
    if row.status == RegistrationStatus.PENDING:
        return
    if row.status in (RegistrationStatus.APPROVED, RegistrationStatus.REJECTED):
        who = await decider_name(session, row.decided_by)
        if who:
            raise ServiceError("registration.decided_by", by=who)
    raise ServiceError(f"registration.already_{row.status}")


async def _approve_and_report(
    session: AsyncSession, actor: Actor, row: Registration, now: datetime
) -> Decision:
    member = await _approve(session, row, now)
    row.status = RegistrationStatus.APPROVED
    row.member_id = member.id
    audit.record(
        session, at=now, actor_id=actor.user_id or None, action="registration.approve",
        target_type="member", target_id=member.id,
        after={"user_id": row.user_id, "org_id": row.org_id,
               "linked": member.id if member.id == row.match_member_id else None},
    )  # fmt: skip
    chats = (
        await session.scalars(
            select(GateRestriction.chat_id).where(
                GateRestriction.user_id == row.user_id,
                GateRestriction.org_id == row.org_id,
                GateRestriction.lifted_at.is_(None),
            )
        )
    ).all()
    return Decision(await _registration_view(session, row), member.id, tuple(chats))


async def _phone_taken(
    session: AsyncSession, org_id: int, phone: str | None, but: int | None = None
) -> bool:
    """Whether another live roster entry of the branch has this phone."""
    if not phone:
        return False
    query = select(Member.id).where(
        Member.org_id == org_id, Member.status == Status.ACTIVE, Member.phone == phone
    )
    if but is not None:
        query = query.where(Member.id != but)
    return await session.scalar(query.limit(1)) is not None


async def _approve(session: AsyncSession, row: Registration, now: datetime) -> Member:
    match = await session.get(Member, row.match_member_id) if row.match_member_id else None
    if match is not None and (match.status != Status.ACTIVE or match.user_id is not None):
        match = None
    # Someone else may have been given this phone since the request was filed.
    if await _phone_taken(session, row.org_id, row.phone, but=match.id if match else None):
        raise ServiceError("registration.phone_taken")
    if match is not None:
        # The roster entry is the branch's record: keep its name and stage, fill the gaps.
        match.user_id = row.user_id
        match.phone = match.phone or row.phone
        match.unit_id = match.unit_id or row.unit_id
        match.updated_at = now
        return match
    member = Member(
        org_id=row.org_id,
        user_id=row.user_id,
        name=row.name,
        phone=row.phone,
        stage=row.stage,
        status=Status.ACTIVE,
        source="registration",
        unit_id=row.unit_id,
        created_at=now,
        updated_at=now,
    )
    session.add(member)
    await session.flush()
    return member


async def get_registration(db: Database, registration_id: int) -> RegistrationView:
    """One registration, or NotFound."""
    async with db.read() as session:
        row = await session.get(Registration, registration_id)
        if row is None:
            raise NotFound("registration.not_found")
        return await _registration_view(session, row)


async def mark_gate_lifted(db: Database, chat_id: int, user_id: int, now: datetime) -> None:
    """Record that the gate's restriction in a group was lifted."""
    async with db.transaction() as session:
        await session.execute(
            update(GateRestriction)
            .where(
                GateRestriction.chat_id == chat_id,
                GateRestriction.user_id == user_id,
                GateRestriction.lifted_at.is_(None),
            )
            .values(lifted_at=now)
        )


async def _roles_by_member(
    session: AsyncSession, member_ids: list[int], today: date
) -> dict[int, list[Role]]:
    roles: dict[int, list[Role]] = {}
    if not member_ids:
        return roles
    rows = await session.execute(
        select(RoleAssignment.member_id, RoleAssignment.role).where(
            RoleAssignment.member_id.in_(member_ids), *active_role_filter(today)
        )
    )
    for member_id, role in rows.all():
        if member_id is not None:
            roles.setdefault(member_id, []).append(Role(role))
    return roles


ROLE_ORDER = {role: i for i, role in enumerate(Role)}


async def roster(db: Database, actor: Actor, org_id: int, today: date) -> Roster:
    """The branch's roster: everything for its admins, names and roles for its members."""
    async with db.read() as session:
        org = await load_org(session, org_id)
        granted = await permissions(session, actor, org_id, today)
        full = Permission.VIEW_ROSTER in granted
        if not full:
            mine = await active_membership(session, actor.user_id)
            if mine is None or mine.org_id != org_id:
                raise Denied("auth.view_roster")
        personal = Permission.VIEW_PERSONAL in granted
        rows = (
            await session.execute(
                select(Member, Unit.name, PartyGroup.name, User.last_seen_at)
                .outerjoin(Unit, Unit.id == Member.unit_id)
                .outerjoin(PartyGroup, PartyGroup.id == Member.party_group_id)
                .outerjoin(User, User.id == Member.user_id)
                .where(Member.org_id == org_id, Member.status == Status.ACTIVE)
            )
        ).all()
        roles = await _roles_by_member(session, [m.id for m, *_ in rows], today)
    entries = [
        RosterEntry(
            member_id=m.id,
            name=m.name,
            stage=Stage(m.stage),
            roles=tuple(sorted(roles.get(m.id, []), key=ROLE_ORDER.__getitem__)),
            linked=m.user_id is not None,
            phone=m.phone if personal else None,
            unit=unit,
            party_group=group,
            last_seen=seen if full else None,
        )
        for m, unit, group, seen in rows
    ]
    # Office holders first (secretary at the top), then everyone by name.
    entries.sort(key=lambda e: (min((ROLE_ORDER[r] for r in e.roles), default=99), e.name))
    return Roster(
        org=org_view(org),
        entries=tuple(entries),
        full=full,
        can_manage=Permission.MANAGE_MEMBERS in granted,
    )


async def my_branch(db: Database, user_id: int) -> int | None:
    """The branch the person is an active member of."""
    async with db.read() as session:
        member = await active_membership(session, user_id)
        return None if member is None else member.org_id


async def profile(db: Database, user_id: int, today: date) -> Profile | None:
    """The person's own roster entry, or None when not registered."""
    async with db.read() as session:
        member = await active_membership(session, user_id)
        if member is None:
            return None
        org = await session.get(Organization, member.org_id)
        assert org is not None
        unit = await session.get(Unit, member.unit_id) if member.unit_id else None
        group = (
            await session.get(PartyGroup, member.party_group_id) if member.party_group_id else None
        )
        roles = await _roles_by_member(session, [member.id], today)
        return Profile(
            member_id=member.id,
            org=org_view(org),
            name=member.name,
            phone=member.phone,
            stage=Stage(member.stage),
            unit=unit.name if unit else None,
            party_group=group.name if group else None,
            roles=tuple(roles.get(member.id, [])),
        )


async def update_own_phone(
    db: Database, user_id: int, phone: str, now: datetime, *, draft: TypedDraft | None = None
) -> str:
    """Change the phone on one's own roster entry; returns the normalized number.

    `draft`: the /me wizard the number was typed into, taken with the change.
    """
    parsed = parse_phone(phone)
    if isinstance(parsed, Invalid):
        raise _invalid(parsed.code)
    async with db.transaction() as session:
        if draft is not None:
            await finish_draft(session, user_id, draft)
        member = await active_membership(session, user_id)
        if member is None:
            raise NotFound("member.not_registered")
        taken = await session.scalar(
            select(func.count())
            .select_from(Member)
            .where(
                Member.org_id == member.org_id,
                Member.status == Status.ACTIVE,
                Member.phone == parsed,
                Member.id != member.id,
            )
        )
        if taken:
            raise ServiceError("registration.phone_taken")
        member.phone = parsed
        member.updated_at = now
        return parsed


async def update_own_unit(db: Database, user_id: int, unit_id: int, now: datetime) -> str:
    """Change the unit on one's own roster entry to one of the branch's units."""
    async with db.transaction() as session:
        member = await active_membership(session, user_id)
        if member is None:
            raise NotFound("member.not_registered")
        unit = await session.get(Unit, unit_id)
        if unit is None or unit.org_id != member.org_id:
            raise ServiceError("registration.bad_unit")
        member.unit_id = unit.id
        member.updated_at = now
        return unit.name


async def _end_offices(session: AsyncSession, holder: ColumnElement[bool], today: date) -> None:
    """End offices held now or later: yesterday becomes their last day, so the rights go
    today, and a set end date in the future no longer keeps them alive."""
    await session.execute(
        update(RoleAssignment)
        .where(holder, or_(RoleAssignment.end_on.is_(None), RoleAssignment.end_on >= today))
        .values(end_on=today - timedelta(days=1))
    )


async def delete_account(db: Database, user_id: int, now: datetime, today: date) -> None:
    """Forget a person: roster entries anonymized (registers keep a nameless line), offices
    ended, pending requests and drafts dropped, Telegram names erased."""
    async with db.transaction() as session:
        members = (await session.scalars(select(Member).where(Member.user_id == user_id))).all()
        for m in members:
            await _end_offices(session, RoleAssignment.member_id == m.id, today)
            if m.status == Status.ACTIVE:
                m.status = Status.DELETED
                m.left_on = today
            m.name = ""
            m.phone = None
            m.user_id = None
            m.updated_at = now
        await _end_offices(session, RoleAssignment.user_id == user_id, today)
        await session.execute(
            update(Registration)
            .where(
                Registration.user_id == user_id,
                Registration.status == RegistrationStatus.PENDING,
            )
            .values(status=RegistrationStatus.CANCELLED, decided_at=now)
        )
        await session.execute(
            update(Registration).where(Registration.user_id == user_id).values(name="", phone=None)
        )
        for model in (Draft, ChatPresence):
            await session.execute(model.__table__.delete().where(model.user_id == user_id))  # type: ignore[attr-defined]
        user = await session.get(User, user_id)
        if user is not None:
            user.first_name = ""
            user.last_name = None
            user.username = None
            user.locale = None
        audit.record(
            session, at=now, actor_id=user_id, action="account.delete",
            target_type="user", target_id=user_id, after={"members": [m.id for m in members]},
        )  # fmt: skip


async def mark_left(
    db: Database,
    actor: Actor,
    member_id: int,
    reason: str,
    *,
    now: datetime,
    today: date,
    draft: TypedDraft | None = None,
) -> None:
    """Take a member off the roster (history kept), ending their offices.

    `draft`: the wizard the reason was typed into, taken with the change.
    """
    clean = parse_short_text(reason, REASON_MAX)
    if isinstance(clean, Invalid):
        raise _invalid(f"reason_{clean.code.split('.')[-1]}")
    async with db.transaction() as session:
        if draft is not None:
            await finish_draft(session, actor.user_id, draft)
        member = await session.get(Member, member_id)
        if member is None or member.status != Status.ACTIVE:
            raise NotFound("member.not_found")
        await require(session, actor, member.org_id, Permission.MANAGE_MEMBERS, today)
        member.status = Status.LEFT
        member.left_on = today
        member.note = clean
        member.updated_at = now
        await _end_offices(session, RoleAssignment.member_id == member.id, today)
        audit.record(
            session, at=now, actor_id=actor.user_id or None, action="member.left",
            target_type="member", target_id=member.id,
            before={"status": "active"}, after={"status": "left", "reason": clean},
        )  # fmt: skip


async def transfer_member(
    db: Database,
    actor: Actor,
    member_id: int,
    target_org_id: int,
    *,
    now: datetime,
    today: date,
) -> int:
    """组织关系转接: move a member to another branch; the old entry stays as history."""
    async with db.transaction() as session:
        member = await session.get(Member, member_id)
        if member is None or member.status != Status.ACTIVE:
            raise NotFound("member.not_found")
        target = await load_org(session, target_org_id)
        if target.level == Level.COMMITTEE or target.id == member.org_id:
            raise ServiceError("member.bad_transfer_target")
        for org in (member.org_id, target.id):
            await require(session, actor, org, Permission.MANAGE_MEMBERS, today)
        if await _phone_taken(session, target.id, member.phone):
            raise ServiceError("registration.phone_taken")
        await _end_offices(session, RoleAssignment.member_id == member.id, today)
        member.status = Status.TRANSFERRED
        member.left_on = today
        member.updated_at = now
        await session.flush()  # free the one-live-entry-per-person index before the new row
        moved = Member(
            org_id=target.id,
            user_id=member.user_id,
            name=member.name,
            phone=member.phone,
            stage=member.stage,
            status=Status.ACTIVE,
            source="transfer",
            applied_on=member.applied_on,
            activist_on=member.activist_on,
            candidate_on=member.candidate_on,
            probationary_on=member.probationary_on,
            full_on=member.full_on,
            created_at=now,
            updated_at=now,
        )
        session.add(moved)
        await session.flush()
        member.transferred_to = moved.id
        audit.record(
            session, at=now, actor_id=actor.user_id or None, action="member.transfer",
            target_type="member", target_id=member.id,
            before={"org_id": member.org_id}, after={"org_id": target.id, "member_id": moved.id},
        )  # fmt: skip
        return moved.id


async def send_pending(
    db: Database, actor: Actor, now: datetime, today: date, *, limit: int = 10
) -> tuple[int, int]:
    """Queue a copy of each registration awaiting a decision in the branches the actor
    manages (oldest first, at most `limit`) for the actor; returns (queued, waiting)."""
    async with db.transaction() as session:
        orgs = await orgs_with(session, actor, Permission.MANAGE_MEMBERS, today, level=None)
        if not orgs:
            raise Denied("auth.manage_members")
        where = (Registration.org_id.in_(orgs), Registration.status == RegistrationStatus.PENDING)
        total = await session.scalar(select(func.count()).select_from(Registration).where(*where))
        ids = (
            await session.scalars(
                select(Registration.id).where(*where).order_by(Registration.id).limit(limit)
            )
        ).all()
        for registration_id in ids:
            await send_requests(session, registration_id, [actor.user_id], now)
        return len(ids), int(total or 0)


async def check_can_decide(
    db: Database, actor: Actor, registration_id: int, today: date
) -> RegistrationView:
    """The pending registration, if this actor may decide it; else the refusal."""
    async with db.read() as session:
        row = await session.get(Registration, registration_id)
        if row is None:
            raise NotFound("registration.not_found")
        await require(session, actor, row.org_id, Permission.MANAGE_MEMBERS, today)
        await _still_pending(session, row)
        return await _registration_view(session, row)


async def roster_choices(db: Database, actor: Actor, today: date) -> list[OrgView]:
    """Branches whose roster the actor may open: those they oversee and their own."""
    async with db.read() as session:
        ids = set(await orgs_with(session, actor, Permission.VIEW_ROSTER, today, level=None))
        own = await active_membership(session, actor.user_id)
        if own is not None:
            ids.add(own.org_id)
        if not ids:
            return []
        rows = (
            await session.scalars(
                select(Organization)
                .where(Organization.id.in_(ids), Organization.level != Level.COMMITTEE)
                .order_by(Organization.name, Organization.id)
            )
        ).all()
        return [org_view(r) for r in rows]


async def roster_export(
    db: Database, actor: Actor, org_id: int, *, now: datetime, today: date
) -> Roster:
    """The full roster for a spreadsheet; exporting personal data is audited."""
    async with db.read() as session:
        await require(session, actor, org_id, Permission.VIEW_ROSTER, today)
    result = await roster(db, actor, org_id, today)
    async with db.transaction() as session:
        audit.record(
            session, at=now, actor_id=actor.user_id or None, action="roster.export",
            target_type="org", target_id=org_id,
            after={"rows": len(result.entries), "personal": result.full and any(
                e.phone for e in result.entries)},
        )  # fmt: skip
    return result


@dataclass(frozen=True)
class MemberCard:
    """One roster entry with what the viewer may do to it."""

    entry: RosterEntry
    org: OrgView
    can_manage: bool
    can_grant: bool


async def member_card(db: Database, actor: Actor, member_id: int, today: date) -> MemberCard:
    """A roster entry for an admin's member screen."""
    async with db.read() as session:
        member = await session.get(Member, member_id)
        if member is None or member.status != Status.ACTIVE:
            raise NotFound("member.not_found")
        granted = await permissions(session, actor, member.org_id, today)
        if Permission.VIEW_ROSTER not in granted:
            raise Denied("auth.view_roster")
        org = org_view(await load_org(session, member.org_id))
        unit = await session.get(Unit, member.unit_id) if member.unit_id else None
        group = (
            await session.get(PartyGroup, member.party_group_id) if member.party_group_id else None
        )
        seen = await session.scalar(select(User.last_seen_at).where(User.id == member.user_id))
        roles = await _roles_by_member(session, [member.id], today)
        entry = RosterEntry(
            member_id=member.id,
            name=member.name,
            stage=Stage(member.stage),
            roles=tuple(roles.get(member.id, [])),
            linked=member.user_id is not None,
            phone=member.phone if Permission.VIEW_PERSONAL in granted else None,
            unit=unit.name if unit else None,
            party_group=group.name if group else None,
            last_seen=seen,
        )
        return MemberCard(
            entry=entry,
            org=org,
            can_manage=Permission.MANAGE_MEMBERS in granted,
            can_grant=Permission.MANAGE_ROLES in granted,
        )


async def transfer_targets(
    db: Database, actor: Actor, member_id: int, today: date
) -> list[OrgView]:
    """Branches a member may be moved to by this actor (they must manage both ends)."""
    async with db.read() as session:
        member = await session.get(Member, member_id)
        if member is None or member.status != Status.ACTIVE:
            raise NotFound("member.not_found")
        await require(session, actor, member.org_id, Permission.MANAGE_MEMBERS, today)
        ids = await orgs_with(session, actor, Permission.MANAGE_MEMBERS, today, level=None)
        rows = (
            await session.scalars(
                select(Organization)
                .where(
                    Organization.id.in_(ids),
                    Organization.id != member.org_id,
                    Organization.level != Level.COMMITTEE,
                )
                .order_by(Organization.name)
            )
        ).all()
        return [org_view(r) for r in rows]
