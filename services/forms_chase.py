"""Forms: reminding those who have not answered a cycle, on schedule and by hand (催报).

Who is reminded: each member of the audience without an answer (member forms), or the
answering officers of each branch without one (branch forms). Privately when the bot may
write to them, else by a mention in their branch's main group; who can be reached neither
way is listed to the person who chases, to be called. With the last scheduled reminder of a
branch form, and once more the day after its deadline, the admins of the sending
organization get the list of branches behind.

Reading who is behind (`load_plan`) happens outside the write transaction; the job and the
催报 render with ui/ and write the messages in one statement (`queue`): 100,000 reminders
are one insert, not 100,000 ORM objects.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.forms import FormKind
from domain.forms_chase import (
    CHASE_COOLDOWN,
    Reminder,
    chase_too_soon,
    reminder_key,
    reminders,
)
from domain.locale import negotiate_locale
from domain.orgs import Permission, Role, Status
from services import audit
from services.authz import Actor, active_role_filter, orgs_with, permissions
from services.compliance import zoneinfo
from services.errors import NotFound, ServiceError
from services.forms import load_cycle
from services.forms_delivery import ANSWERING_ROLES
from services.jobs import effective_timezones
from services.notices import Audience, audience_member_filter, notice_branches
from services.outbox import ButtonRows, add_items, item_values
from storage.db import Database
from storage.models import (
    AuditEntry,
    ChatBinding,
    Form,
    FormCard,
    FormCycle,
    FormResponse,
    Member,
    OutboxItem,
    RoleAssignment,
    User,
)

JOB = "form-reminders"
CHASE_ACTION = "form.chase"
# Who of the sending organization hears which branches are behind.
OVERSEER_ROLES = (Role.SECRETARY, Role.DEPUTY, Role.ORGANIZATION, Role.COMMITTEE_ADMIN)


@dataclass(frozen=True)
class Person:
    """Someone to remind (a member, or an officer answering for a branch)."""

    org_id: int  # the branch
    name: str
    user_id: int | None
    locale: str
    private: bool  # started the bot and has not blocked it

    @property
    def mentionable(self) -> bool:
        """Known to Telegram but not reachable privately: mentioned in the group instead."""
        return not self.private and self.user_id is not None


@dataclass(frozen=True)
class GroupTarget:
    """Where a branch's mentions go: its main group, under the cycle's card once it is posted."""

    chat_id: int
    thread_id: int | None
    reply_to: int | None


@dataclass(frozen=True)
class Overseer:
    """Someone of the sending organization told which branches are behind."""

    user_id: int
    locale: str


@dataclass(frozen=True)
class ChasePlan:
    """Who a reminder of one cycle goes to, and where."""

    cycle_id: int
    form_id: int
    kind: FormKind
    title: str
    cycle_key: str  # "once" for a one-off form
    opens_at: datetime
    deadline: datetime
    timezone: str
    scope: tuple[int, ...]  # the branches reminded; () the whole audience
    branches: Mapping[int, str]  # names of the audience's branches (in scope)
    people: tuple[Person, ...]
    groups: Mapping[int, GroupTarget]
    behind: tuple[int, ...] = ()  # branch forms: branches without an answer, by name
    overseers: tuple[Overseer, ...] = ()

    @property
    def unreachable(self) -> tuple[Person, ...]:
        """Those neither written to nor mentioned (no Telegram account known, or no group)."""
        return tuple(
            p
            for p in self.people
            if not p.private and not (p.mentionable and p.org_id in self.groups)
        )

    @property
    def without_officer(self) -> tuple[int, ...]:
        """Branches behind with nobody holding an answering office (branch forms)."""
        staffed = {p.org_id for p in self.people}
        return tuple(b for b in self.behind if b not in staffed)


@dataclass(frozen=True)
class Outgoing:
    """One rendered message to queue."""

    chat_id: int
    html: str
    buttons: ButtonRows = field(default_factory=list)
    org_id: int | None = None
    is_group: bool = False
    thread_id: int | None = None
    reply_to: int | None = None


@dataclass(frozen=True)
class Chased:
    """What a 催报 queued: counts, and who must be called."""

    private: int
    mentioned: int
    unreachable: tuple[Person, ...]
    without_officer: tuple[int, ...]
    branches: Mapping[int, str]


def counts(plan: ChasePlan) -> tuple[int, int]:
    """(written to privately, mentioned in a group) of a plan."""
    private = sum(1 for p in plan.people if p.private)
    mentioned = sum(1 for p in plan.people if p.mentionable and p.org_id in plan.groups)
    return private, mentioned


async def queue(session: AsyncSession, messages: Sequence[Outgoing], now: datetime) -> None:
    """Insert the rendered messages into the outbox in the caller's transaction, at once."""
    await add_items(
        session,
        [
            item_values(
                purpose="text",
                chat_id=m.chat_id,
                org_id=m.org_id,
                thread_id=m.thread_id,
                is_group=m.is_group,
                target_message_id=m.reply_to,
                now=now,
                payload={"html": m.html, "buttons": m.buttons},
            )
            for m in messages
        ],
    )


# ---- reading who is behind ----


def _locale(locale: str | None, language: str | None, default: str) -> str:
    return locale or negotiate_locale(language, default)


async def _members_behind(
    session: AsyncSession, cycle_id: int, audience: Audience, ids: list[int], default: str
) -> list[Person]:
    """Members of these branches in the audience without an answer to the cycle."""
    # NOT IN a subquery: one hashed set of the cycle's answers (both databases), not a
    # probe of the responses per member.
    answered = select(FormResponse.member_id).where(
        FormResponse.cycle_id == cycle_id, FormResponse.member_id.is_not(None)
    )
    rows = await session.execute(
        select(Member.org_id, Member.name, Member.user_id, User.started, User.blocked_at,
               User.locale, User.language_code)
        .outerjoin(User, User.id == Member.user_id)
        .where(Member.org_id.in_(ids), *audience_member_filter(audience),
               Member.id.not_in(answered))
        .order_by(Member.org_id, Member.name, Member.id)
    )  # fmt: skip
    return [
        Person(org_id, name, user_id, _locale(locale, language, default),
               bool(user_id is not None and started and blocked is None))
        for org_id, name, user_id, started, blocked, locale, language in rows.all()
    ]  # fmt: skip


async def _officers(
    session: AsyncSession, branch_ids: Sequence[int], today: date, default: str
) -> list[Person]:
    """The answering officers of these branches (one entry per branch and person)."""
    if not branch_ids:
        return []
    user = func.coalesce(RoleAssignment.user_id, Member.user_id)
    rows = await session.execute(
        select(RoleAssignment.org_id, user, Member.name, User.first_name, User.started,
               User.blocked_at, User.locale, User.language_code)
        .outerjoin(Member, Member.id == RoleAssignment.member_id)
        .join(User, User.id == user)
        .where(RoleAssignment.org_id.in_(list(branch_ids)),
               RoleAssignment.role.in_([r.value for r in ANSWERING_ROLES]),
               *active_role_filter(today),
               or_(RoleAssignment.member_id.is_(None), Member.status == Status.ACTIVE))
        .order_by(RoleAssignment.org_id, RoleAssignment.id)
    )  # fmt: skip
    seen: set[tuple[int, int]] = set()
    people = []
    for org_id, user_id, name, first_name, started, blocked, locale, language in rows.all():
        if (org_id, user_id) in seen:
            continue
        seen.add((org_id, user_id))
        people.append(
            Person(org_id, name or first_name, user_id, _locale(locale, language, default),
                   bool(started and blocked is None))
        )  # fmt: skip
    return people


async def _groups(
    session: AsyncSession, cycle_id: int, org_ids: Sequence[int]
) -> dict[int, GroupTarget]:
    """The main group of each branch, replying to the cycle's card there once it is posted."""
    if not org_ids:
        return {}
    bindings = (
        await session.execute(
            select(ChatBinding.org_id, ChatBinding.chat_id, ChatBinding.topic_id).where(
                ChatBinding.org_id.in_(list(org_ids)),
                ChatBinding.purpose == "main",
                ChatBinding.active.is_(True),
            )
        )
    ).all()
    posted = {
        org_id: (chat_id, thread_id, message_id)
        for org_id, chat_id, thread_id, message_id in (
            await session.execute(
                select(FormCard.org_id, FormCard.chat_id, FormCard.thread_id, OutboxItem.message_id)
                .join(OutboxItem, OutboxItem.id == FormCard.item_id)
                .where(
                    FormCard.cycle_id == cycle_id,
                    FormCard.org_id.in_(list(org_ids)),
                    OutboxItem.status == "sent",
                )
            )
        ).all()
    }
    groups = {}
    for org_id, chat_id, topic_id in bindings:
        card = posted.get(org_id)
        if card is not None and card[0] == chat_id:
            groups[org_id] = GroupTarget(chat_id, card[1], card[2])
        else:
            groups[org_id] = GroupTarget(chat_id, topic_id, None)
    return groups


async def _overseers(
    session: AsyncSession, form: Form, today: date, default: str
) -> tuple[Overseer, ...]:
    """The sender and the admins of the sending organization whom the bot may write to."""
    user = func.coalesce(RoleAssignment.user_id, Member.user_id)
    rows = await session.execute(
        select(User.id, User.locale, User.language_code)
        .select_from(RoleAssignment)
        .outerjoin(Member, and_(Member.id == RoleAssignment.member_id,
                                Member.status == Status.ACTIVE.value))
        .join(User, User.id == user)
        .where(RoleAssignment.org_id == form.org_id,
               RoleAssignment.role.in_([r.value for r in OVERSEER_ROLES]),
               *active_role_filter(today), User.started.is_(True), User.blocked_at.is_(None))
        .order_by(RoleAssignment.id)
    )  # fmt: skip
    sender = await session.execute(
        select(User.id, User.locale, User.language_code).where(
            User.id == form.sender_id, User.started.is_(True), User.blocked_at.is_(None)
        )
    )
    found: dict[int, Overseer] = {}
    for user_id, locale, language in [*sender.all(), *rows.all()]:
        found.setdefault(user_id, Overseer(user_id, _locale(locale, language, default)))
    return tuple(found.values())


async def load_plan(
    session: AsyncSession,
    cycle_id: int,
    *,
    today: date,
    default_locale: str,
    default_tz: str,
    scope: tuple[int, ...] = (),
    overseers: bool = False,
) -> ChasePlan | str:
    """Who has not answered the cycle (within `scope`, () for everyone), how each is
    reached, and (with `overseers`) who hears of the branches behind; a reason string when
    nobody is to be reminded any more ("closed", "gone")."""
    cycle = await session.get(FormCycle, cycle_id)
    form = None if cycle is None else await session.get(Form, cycle.form_id)
    if cycle is None or form is None:
        return "gone"
    if form.status != "open":
        return "closed"
    audience = Audience.from_json(form.audience)
    branches = await notice_branches(session, audience)
    if scope:
        branches = [b for b in branches if b.id in scope]
    names = {b.id: b.name for b in branches}
    ids = list(names)
    kind = FormKind(form.kind)
    behind: tuple[int, ...] = ()
    if kind is FormKind.BRANCH:
        answered = set(
            (
                await session.scalars(
                    select(FormResponse.org_id).where(FormResponse.cycle_id == cycle_id)
                )
            ).all()
        )
        behind = tuple(b for b in ids if b not in answered)
        people = await _officers(session, behind, today, default_locale)
    else:
        people = await _members_behind(session, cycle_id, audience, ids, default_locale)
    mention_orgs = sorted({p.org_id for p in people if p.mentionable})
    zones = await effective_timezones(session, default_tz)
    return ChasePlan(
        cycle_id=cycle.id,
        form_id=form.id,
        kind=kind,
        title=form.title,
        cycle_key=cycle.key,
        opens_at=cycle.opens_at,
        deadline=cycle.deadline,
        timezone=zones.get(form.org_id, default_tz),
        scope=scope,
        branches=names,
        people=tuple(people),
        groups=await _groups(session, cycle_id, mention_orgs),
        behind=behind,
        overseers=await _overseers(session, form, today, default_locale) if overseers else (),
    )


# ---- the scheduled reminders ----


@dataclass(frozen=True)
class DueReminder:
    """One scheduled reminder of one cycle."""

    cycle_id: int
    days: int  # before the due day; 0: the day after the deadline (overseers only)
    at: datetime

    @property
    def key(self) -> str:
        """The occurrence key: "42@3d", "42@after"."""
        return reminder_key(self.cycle_id, self.days)


@dataclass(frozen=True)
class CycleTimes:
    """What the scheduled reminders of a cycle are computed from."""

    cycle_id: int
    kind: FormKind
    opens_at: datetime
    deadline: datetime
    timezone: str


async def cycle_times(session: AsyncSession, cycle_id: int, default_tz: str) -> CycleTimes | str:
    """A cycle's kind, opening, deadline and zone; a reason string when it is not to be
    reminded any more ("gone", "closed")."""
    cycle = await session.get(FormCycle, cycle_id)
    form = None if cycle is None else await session.get(Form, cycle.form_id)
    if cycle is None or form is None:
        return "gone"
    if form.status != "open":
        return "closed"
    zones = await effective_timezones(session, default_tz)
    return CycleTimes(cycle.id, FormKind(form.kind), cycle.opens_at, cycle.deadline,
                      zones.get(form.org_id, default_tz))  # fmt: skip


def planned(times: CycleTimes, days: Sequence[int], hour: int, default_tz: str) -> list[Reminder]:
    """The scheduled reminders of a cycle (the day after the deadline: branch forms only)."""
    zone = zoneinfo(times.timezone, default_tz)
    return reminders(times.deadline, times.opens_at, days, zone, hour,
                     after=times.kind is FormKind.BRANCH)  # fmt: skip


async def due_reminders(
    db: Database, days: Sequence[int], *, hour: int, default_tz: str, start: datetime,
    end: datetime,
) -> list[DueReminder]:  # fmt: skip
    """The reminders of cycles of open forms due in (start, end]."""
    # Any reminder lies within the largest offset (and a day either side for the local
    # hour) before the deadline, or a day and a half after it.
    span = timedelta(days=max(days, default=0) + 2)
    async with db.read() as session:
        rows = (
            await session.execute(
                select(FormCycle.id, Form.kind, FormCycle.opens_at, FormCycle.deadline, Form.org_id)
                .join(Form, Form.id == FormCycle.form_id)
                .where(
                    Form.status == "open",
                    FormCycle.deadline > start - timedelta(days=2),
                    FormCycle.deadline <= end + span,
                )
            )
        ).all()
        zones = await effective_timezones(session, default_tz) if rows else {}
    due = []
    for cycle_id, kind, opens_at, deadline, org_id in rows:
        times = CycleTimes(cycle_id, FormKind(kind), opens_at, deadline,
                           zones.get(org_id, default_tz))  # fmt: skip
        for reminder in planned(times, days, hour, default_tz):
            if start < reminder.at <= end:
                due.append(DueReminder(cycle_id, reminder.days, reminder.at.astimezone(UTC)))
    return sorted(due, key=lambda d: (d.at, d.cycle_id, -d.days))


def local_today(when: datetime, zone: str, default_tz: str) -> date:
    """The local date of a moment in a zone."""
    return when.astimezone(zoneinfo(zone, default_tz)).date()


# ---- 催报 by hand ----


async def _chase_scope(
    session: AsyncSession, actor: Actor, form: Form, branch_ids: Sequence[int], today: date
) -> tuple[int, ...]:
    """The branches the actor may chase: () for all (the sender, the sending organization's
    admins), else the branches of the audience they administer; refused otherwise."""
    if actor.superadmin or actor.user_id == form.sender_id:
        return ()
    if Permission.MANAGE_MEMBERS in await permissions(session, actor, form.org_id, today):
        return ()
    mine = set(await orgs_with(session, actor, Permission.MANAGE_MEMBERS, today, level=None))
    scope = tuple(sorted(mine & set(branch_ids)))
    if not scope:
        raise ServiceError("auth.denied")
    return scope


async def chase_plan(
    db: Database, actor: Actor, cycle_id: int, *, today: date, default_locale: str,
    default_tz: str,
) -> ChasePlan:  # fmt: skip
    """催报: who of the cycle the actor may chase has not answered (read, not yet queued):
    the sender and the sending organization's admins chase everyone, a branch admin their
    own branch's non-answerers; refused to anyone else."""
    async with db.read() as session:
        form, _row = await load_cycle(session, cycle_id)
        if form.status != "open":
            raise ServiceError("form.closed")
        branches = await notice_branches(session, Audience.from_json(form.audience))
        scope = await _chase_scope(session, actor, form, [b.id for b in branches], today)
        plan = await load_plan(session, cycle_id, today=today, default_locale=default_locale,
                               default_tz=default_tz, scope=scope)  # fmt: skip
    if isinstance(plan, str):
        raise ServiceError("form.closed")
    return plan


async def commit_chase(
    db: Database, actor: Actor, plan: ChasePlan, messages: Sequence[Outgoing], *,
    now: datetime, today: date,
) -> Chased:  # fmt: skip
    """Queue a 催报's rendered reminders, re-authorized, in one transaction; refused when the
    same people were chased within CHASE_COOLDOWN (a double press sends nothing twice)."""
    async with db.transaction() as session:
        # Chases of one cycle queue behind each other here (PostgreSQL; SQLite's writers
        # are serialized anyway), so the second of two presses sees the first.
        cycle = await session.get(FormCycle, plan.cycle_id, with_for_update=True)
        form = None if cycle is None else await session.get(Form, cycle.form_id)
        if cycle is None or form is None:
            raise NotFound("form.not_found")
        if form.status != "open":
            raise ServiceError("form.closed")
        branches = await notice_branches(session, Audience.from_json(form.audience))
        scope = await _chase_scope(session, actor, form, [b.id for b in branches], today)
        if scope != plan.scope:
            raise ServiceError("stale")  # the actor's offices changed since the plan was read
        earlier = (
            await session.execute(
                select(AuditEntry.at, AuditEntry.after).where(
                    AuditEntry.target_type == "form_cycle",
                    AuditEntry.target_id == str(cycle.id),
                    AuditEntry.action == CHASE_ACTION,
                    AuditEntry.at > now - CHASE_COOLDOWN,
                )
            )
        ).all()
        chased = [(at, tuple((after or {}).get("scope", []))) for at, after in earlier]
        if chase_too_soon(chased, scope, now):
            raise ServiceError("form.chase.recent")
        await queue(session, messages, now)
        private, mentioned = counts(plan)
        audit.record(
            session, at=now, actor_id=actor.user_id or None, action=CHASE_ACTION,
            target_type="form_cycle", target_id=cycle.id,
            after={"scope": list(scope), "private": private, "mentioned": mentioned,
                   "unreachable": len(plan.unreachable)},
        )  # fmt: skip
    return Chased(private, mentioned, plan.unreachable, plan.without_officer, plan.branches)


def reminder_summary(plan: ChasePlan, messages: int) -> dict[str, Any]:
    """What one reminder did, for `zhibu jobs list`."""
    private, mentioned = counts(plan)
    return {
        "cycle": plan.cycle_id,
        "private": private,
        "mentioned": mentioned,
        "unreachable": len(plan.unreachable),
        "behind": len(plan.behind),
        "messages": messages,
    }
