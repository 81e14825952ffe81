"""The payment-day reads: which branches share a payment day, who owes, who keeps the dues,
and which arrears escalations are new — read in sets, for a city of 150,000 members.

Escalations are recorded as job_runs rows of their own job (ESCALATION_JOB, key
domain.dues_cycle.arrears_key) in the payment day's transaction: each once, across restarts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.dues import Month, Standing, add_months, month_of, months_between
from domain.dues_cycle import Level, arrears_key, first_unpaid, levels_reached, payment_key
from domain.dues_cycle import payment_moment as moment
from domain.dues_settings import PAYMENT_DAY_ACTION, day_in_force
from domain.dues_talk import TalkDraft
from domain.dues_talk import start as talk_start
from domain.locale import negotiate_locale
from domain.orgs import Level as OrgLevel
from domain.orgs import Permission, Role, Status
from services.audit import record
from services.authz import Actor, active_role_filter, require
from services.drafts import keep_draft_in, take_draft
from services.dues import standings_in
from services.errors import NotFound, ServiceError
from services.jobs import effective_timezones
from storage.db import Database
from storage.models import (
    AuditEntry,
    DuesSettings,
    DuesStandard,
    DuesTalk,
    JobRun,
    Member,
    Organization,
    RoleAssignment,
    User,
)

JOB = "dues-payment-day"
ESCALATION_JOB = "dues-arrears"
DEFAULT_PAYMENT_DAY = 5
MEMBER_CHUNK = 2000  # member ids per IN list: well under both databases' parameter limits
ORG_CHUNK = 500

KEEPER_ROLES = (Role.ORGANIZATION, Role.DUES_KEEPER)
COMMITTEE_ROLES = (Role.SECRETARY, Role.DEPUTY, Role.ORGANIZATION)


@dataclass(frozen=True)
class Branch:
    """A branch whose payment day it is."""

    id: int
    name: str


@dataclass(frozen=True)
class Owing:
    """A member who owes on the payment day."""

    member_id: int
    org_id: int
    name: str
    user_id: int | None
    locale: str
    private: bool
    standing: Standing


@dataclass(frozen=True)
class Officer:
    """Someone holding a branch office the bot may write to."""

    org_id: int
    role: Role
    user_id: int
    locale: str


@dataclass(frozen=True)
class Escalation:
    """A new arrears level a member reached (the highest new one; lower new ones recorded)."""

    member: Owing
    level: Level
    keys: tuple[str, ...]  # every new level's key, recorded together


@dataclass(frozen=True)
class Talk:
    """A recorded 谈心谈话, for the committee's flag."""

    held_on: date
    talked_by: str
    outcome: str


@dataclass
class PaymentPlan:
    """Everything one payment day sends, read before the write transaction."""

    month: Month
    branches: dict[int, Branch] = field(default_factory=dict)
    with_standard: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    owing: list[Owing] = field(default_factory=list)
    officers: list[Officer] = field(default_factory=list)
    escalations: list[Escalation] = field(default_factory=list)
    talks: dict[int, list[Talk]] = field(default_factory=dict)


async def payment_day_changes(
    session: AsyncSession, since: datetime, zones: dict[int, str], default_tz: str
) -> dict[int, list[tuple[Month, int]]]:
    """Each branch's payment-day changes made since `since`, oldest first: the local month of
    each and the day before it (from the audit trail, read only for branches whose settings
    were saved since then — rarely any)."""
    saved = (
        await session.scalars(select(DuesSettings.org_id).where(DuesSettings.updated_at >= since))
    ).all()
    changes: dict[int, list[tuple[Month, int]]] = defaultdict(list)
    if not saved:
        return changes
    rows = await session.execute(
        select(AuditEntry.target_id, AuditEntry.at, AuditEntry.before)
        .where(AuditEntry.target_type == "organization",
               AuditEntry.target_id.in_([str(o) for o in saved]),
               AuditEntry.action == PAYMENT_DAY_ACTION, AuditEntry.at >= since)
        .order_by(AuditEntry.at, AuditEntry.id)
    )  # fmt: skip
    for target, at, before in rows.all():
        org_id = int(target)
        day = (before or {}).get("payment_day")
        if not isinstance(day, int):
            continue
        local = at.astimezone(ZoneInfo(zones.get(org_id, default_tz)))
        changes[org_id].append((month_of(local.date()), day))
    return changes


@dataclass(frozen=True)
class DayTable:
    """The active dues-keeping branches with their zone and saved payment day, and the
    payment-day changes since the earliest month asked about."""

    branches: list[tuple[int, str, int]]
    changes: dict[int, list[tuple[Month, int]]]

    def groups(self, month: Month) -> dict[tuple[int, str], list[int]]:
        """The branches grouped by (the payment day in force in `month`, time zone)."""
        groups: dict[tuple[int, str], list[int]] = defaultdict(list)
        for org_id, zone, saved in self.branches:
            day = day_in_force(month, saved, self.changes.get(org_id, ()))
            groups[(max(1, min(int(day), 28)), zone)].append(org_id)
        return groups


def _month_start(month: Month) -> datetime:
    """A moment safely before the month begins anywhere (a day before its UTC start)."""
    return datetime(month // 100, month % 100, 1, tzinfo=UTC) - timedelta(days=1)


async def day_table(session: AsyncSession, default_tz: str, since: Month) -> DayTable:
    """Active branches keeping dues in zhibu, their zones and payment days, and the
    payment-day changes made since the month `since` began."""
    zones = await effective_timezones(session, default_tz)
    days = dict(
        (await session.execute(select(DuesSettings.org_id, DuesSettings.payment_day))).all()
    )
    # Only branches that keep dues in zhibu (someone has a confirmed standard): a payment day
    # with nobody to remind is no occurrence at all.
    keeping = select(DuesStandard.org_id).where(DuesStandard.status == "confirmed").distinct()
    branches = await session.scalars(
        select(Organization.id).where(
            Organization.level == OrgLevel.BRANCH,
            Organization.archived_at.is_(None),
            Organization.id.in_(keeping),
        )
    )
    rows = [
        (org_id, zones.get(org_id, default_tz), int(days.get(org_id) or DEFAULT_PAYMENT_DAY))
        for org_id in branches
    ]
    changes = await payment_day_changes(session, _month_start(since), zones, default_tz)
    return DayTable(rows, changes)


async def branch_days(
    session: AsyncSession, default_tz: str, month: Month
) -> dict[tuple[int, str], list[int]]:
    """Active branches grouped by (the payment day in force in `month`, time zone)."""
    return (await day_table(session, default_tz, month)).groups(month)


async def day_this_month(
    session: AsyncSession, org_id: int, saved_day: int, default_tz: str, today: date
) -> int:
    """The payment day a branch's reminder keeps this month (the saved one applies from the
    month after a change)."""
    zones = await effective_timezones(session, default_tz)
    month = month_of(today)
    changes = await payment_day_changes(session, _month_start(month), zones, default_tz)
    return day_in_force(month, saved_day, changes.get(org_id, ()))


@dataclass(frozen=True)
class DueDay:
    """A payment day falling due."""

    at: datetime
    key: str


async def due_days(
    session: AsyncSession, hour: int, default_tz: str, start: datetime, end: datetime
) -> list[DueDay]:
    """The payment days (per day and zone) whose moment lies in (start, end]."""
    found: list[DueDay] = []
    # A month either side: a branch's local day may fall on another UTC day (and month).
    months = months_between(add_months(month_of(start.date()), -1),
                            add_months(month_of(end.date()), 1))  # fmt: skip
    table = await day_table(session, default_tz, months[0])
    for month in months:
        for day, zone in table.groups(month):
            at = moment(month, day, hour, zone)
            if start < at <= end:
                found.append(DueDay(at, payment_key(month, day, zone)))
    return found


def _locale(locale: str | None, language: str | None, default: str) -> str:
    return locale or negotiate_locale(language, default)


async def _officers(
    session: AsyncSession, org_ids: Sequence[int], today: date, default: str
) -> list[Officer]:
    user = func.coalesce(RoleAssignment.user_id, Member.user_id)
    roles = [r.value for r in {*KEEPER_ROLES, *COMMITTEE_ROLES}]
    rows = await session.execute(
        select(RoleAssignment.org_id, RoleAssignment.role, User.id, User.locale,
               User.language_code)
        .select_from(RoleAssignment)
        .outerjoin(Member, Member.id == RoleAssignment.member_id)
        .join(User, User.id == user)
        .where(RoleAssignment.org_id.in_(list(org_ids)), RoleAssignment.role.in_(roles),
               *active_role_filter(today), User.started.is_(True), User.blocked_at.is_(None))
        .order_by(RoleAssignment.org_id, RoleAssignment.id)
    )  # fmt: skip
    return [
        Officer(org_id, Role(role), uid, _locale(loc, lang, default))
        for org_id, role, uid, loc, lang in rows.all()
    ]


async def load_payment_plan(
    session: AsyncSession, org_ids: Sequence[int], local_day: date, default_locale: str
) -> PaymentPlan:
    """Who owes in these branches on their payment day, their officers, and the new
    escalations (those whose keys job_runs does not hold yet)."""
    plan = PaymentPlan(local_day.year * 100 + local_day.month)
    for start in range(0, len(org_ids), ORG_CHUNK):
        chunk = list(org_ids[start : start + ORG_CHUNK])
        names = await session.execute(
            select(Organization.id, Organization.name).where(Organization.id.in_(chunk))
        )
        plan.branches.update({i: Branch(i, n) for i, n in names.all()})
        members = (
            await session.execute(
                select(
                    Member.id,
                    Member.org_id,
                    Member.name,
                    Member.user_id,
                    User.started,
                    User.blocked_at,
                    User.locale,
                    User.language_code,
                )
                .outerjoin(User, User.id == Member.user_id)
                .where(Member.org_id.in_(chunk), Member.status == Status.ACTIVE)
                .order_by(Member.org_id, Member.name, Member.id)
            )
        ).all()
        stands = await standings_in(session, chunk, local_day)
        for member_id, org_id, name, uid, started, blocked, loc, lang in members:
            got = stands.get(member_id)
            if got is None:
                continue
            plan.with_standard[org_id] += 1
            if got.arrears or got.short_fen > 0:
                private = bool(uid is not None and started and blocked is None)
                plan.owing.append(
                    Owing(member_id, org_id, name, uid,
                          _locale(loc, lang, default_locale), private, got)
                )  # fmt: skip
        plan.officers += await _officers(session, chunk, local_day, default_locale)
    plan.escalations = await _new_escalations(session, plan.owing)
    flagged = [e.member.member_id for e in plan.escalations if e.level is Level.COMMITTEE]
    plan.talks = await talks_of(session, flagged)
    return plan


async def _new_escalations(session: AsyncSession, owing: Sequence[Owing]) -> list[Escalation]:
    candidates: dict[int, tuple[Owing, list[tuple[Level, str]]]] = {}
    for person in owing:
        behind = person.standing.months_behind
        reached = levels_reached(behind)
        if reached:
            first = first_unpaid(person.standing.as_of, behind)
            keys = [(lvl, arrears_key(person.member_id, lvl, first)) for lvl in reached]
            candidates[person.member_id] = (person, keys)
    all_keys = [k for _, keys in candidates.values() for _, k in keys]
    recorded: set[str] = set()
    for start in range(0, len(all_keys), MEMBER_CHUNK):
        rows = await session.scalars(
            select(JobRun.key).where(
                JobRun.job == ESCALATION_JOB, JobRun.key.in_(all_keys[start : start + MEMBER_CHUNK])
            )
        )
        recorded.update(rows)
    found = []
    for person, keys in candidates.values():
        new = [(lvl, k) for lvl, k in keys if k not in recorded]
        if new:
            found.append(Escalation(person, max(lvl for lvl, _ in new), tuple(k for _, k in new)))
    return found


async def talks_of(session: AsyncSession, member_ids: Sequence[int]) -> dict[int, list[Talk]]:
    """The talks recorded about each member, oldest first."""
    talks: dict[int, list[Talk]] = defaultdict(list)
    for start in range(0, len(member_ids), MEMBER_CHUNK):
        rows = await session.execute(
            select(DuesTalk.member_id, DuesTalk.held_on, DuesTalk.talked_by, DuesTalk.outcome)
            .where(DuesTalk.member_id.in_(list(member_ids[start : start + MEMBER_CHUNK])))
            .order_by(DuesTalk.held_on, DuesTalk.id)
        )
        for member_id, held_on, by, outcome in rows.all():
            talks[member_id].append(Talk(held_on, by, outcome))
    return talks


async def record_escalations(
    session: AsyncSession, escalations: Sequence[Escalation], due_at: datetime, now: datetime
) -> None:
    """Record the escalations as done in the payment day's transaction (never raised twice)."""
    rows: list[dict[str, Any]] = [
        {"job": ESCALATION_JOB, "key": key, "due_at": due_at, "ran_at": now, "outcome": "done",
         "detail": {"member": e.member.member_id, "level": int(e.level)}}
        for e in escalations
        for key in e.keys
    ]  # fmt: skip
    if rows:
        await session.execute(insert(JobRun), rows)


# ---- 谈心谈话: recorded by the branch's secretary or keepers ----


@dataclass(frozen=True)
class TalkTarget:
    """The member a talk is about, and their branch."""

    member_id: int
    org_id: int
    name: str
    branch: str


async def _target(session: AsyncSession, actor: Actor, member_id: int, today: date) -> TalkTarget:
    row = await session.get(Member, member_id)
    if row is None or row.status != Status.ACTIVE:
        raise NotFound("dues.member.not_found")
    # Those who see the branch's dues one by one: the secretary and the keepers.
    await require(session, actor, row.org_id, Permission.VIEW_DUES, today)
    branch = await session.get(Organization, row.org_id)
    return TalkTarget(row.id, row.org_id, row.name, branch.name if branch else "")


async def start_talk(
    db: Database, actor: Actor, member_id: int, now: datetime, today: date
) -> TalkTarget:
    """记录谈话 pressed: the talk draft opened (who talked is asked first)."""
    async with db.transaction() as session:
        target = await _target(session, actor, member_id, today)
        await keep_draft_in(session, actor.user_id, talk_start(target.member_id, target.org_id),
                            now)  # fmt: skip
        return target


async def save_talk(db: Database, actor: Actor, now: datetime, today: date) -> TalkTarget:
    """保存: the finished talk draft becomes a DuesTalk, audited; the draft goes with it."""
    async with db.transaction() as session:
        draft = await take_draft(session, actor.user_id, TalkDraft)
        if draft is None or draft.step != "ready":
            raise ServiceError("stale")
        target = await _target(session, actor, draft.member_id, today)
        talk = DuesTalk(
            member_id=target.member_id, org_id=target.org_id,
            held_on=date.fromisoformat(draft.held_on), talked_by=draft.talked_by,
            outcome=draft.outcome, recorded_by=actor.user_id, recorded_at=now,
        )  # fmt: skip
        session.add(talk)
        await session.flush()
        record(session, at=now, actor_id=actor.user_id, action="dues.talk.record",
               target_type="dues_talk", target_id=talk.id,
               after={"member_id": target.member_id, "held_on": draft.held_on,
                      "talked_by": draft.talked_by, "outcome": draft.outcome})  # fmt: skip
        return target


async def member_name(db: Database, member_id: int) -> str:
    """A roster entry's name (for the talk draft's questions)."""
    async with db.read() as session:
        row = await session.get(Member, member_id)
        return row.name if row is not None else ""
