"""The ledger (台账): a branch's meetings, attendance and compliance for a period, and the
absence streaks flagged to secretaries."""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from fractions import Fraction
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.compliance import (
    HeldMeeting,
    MeetingType,
    Obligation,
    Period,
    Requirement,
    history,
    period_of,
)
from domain.meetings import Answer, Audience, Quorum, SignedBy, Status, needs_quorum, ordered_types
from domain.meetings_attendance import (
    ATTENDED,
    LOOKBACK_MONTHS,
    Expectation,
    Mark,
    absence_streak,
    add_months,
    expected_at,
    flagged,
    mark_of,
    month_start,
    votes_on,
)
from domain.minutes import Field
from domain.orgs import STAGE_CHOICES, Level, Role, Stage
from domain.orgs import Status as MemberStatus
from services import audit
from services.authz import Actor, active_role_filter, ancestry, descendants, held_by, roles_in
from services.compliance import load_tree
from services.errors import Denied, NotFound, ServiceError
from services.jobs import effective_timezones
from services.meetings import COMMITTEE_ROLES
from services.orgs import OrgView, load_org, org_view
from storage.db import Database
from storage.models import (
    Meeting,
    MeetingAttendance,
    MeetingMinutes,
    MeetingRsvp,
    Member,
    Organization,
    PartyGroup,
    RoleAssignment,
)

# Who may read a branch's ledger: its secretary, deputy and organization member, and the
# instructors and committee admins above it (read-only: the ledger changes nothing).
BRANCH_READERS = frozenset({Role.SECRETARY, Role.DEPUTY, Role.ORGANIZATION})
OVERSEERS = frozenset({Role.INSTRUCTOR, Role.COMMITTEE_ADMIN})
SUMMARY_MAX = 80
# Minutes fields that say most about a meeting in a line, tried in this order for the
# register's summary; any other field (remarks last) stands in when none of them is there.
SUMMARY_FIELDS: tuple[str, ...] = tuple(
    f.value
    for f in (
        Field.TOPICS,
        Field.THEME,
        Field.ACTIVITY,
        Field.CONTENT,
        Field.SUMMARY,
        Field.TALKS,
        Field.DECISIONS,
        Field.RESOLUTIONS,
        Field.EVALUATION_RESULT,
        Field.SELF_REVIEW,
    )
)
# Organizations per query: well under every driver's limit on bound parameters.
CHUNK = 5000
_STAGE_RANK = {stage: i for i, stage in enumerate(STAGE_CHOICES)}


# ---- results ----


@dataclass(frozen=True)
class LedgerMeeting:
    """One row of the register: a meeting that took place (or was due) in the period."""

    id: int
    starts_at: datetime  # in the branch's time zone
    types: tuple[MeetingType, ...]
    topic: str
    place: str
    audience: Audience
    party_group: str | None
    host: str | None
    recorder: str | None
    lecturer: str | None
    status: Status
    expected: int
    present_self: int
    present_proxy: int
    present_late: int
    on_leave: int
    absent: int
    quorum: Quorum | None  # full members, for meetings whose decisions need a quorum
    has_minutes: bool
    summary: str | None

    @property
    def present(self) -> int:
        """实到: signed in by any means."""
        return self.present_self + self.present_proxy + self.present_late

    @property
    def rate(self) -> Fraction | None:
        """Present over expected; None when nobody was expected."""
        return Fraction(self.present, self.expected) if self.expected else None


@dataclass(frozen=True)
class MemberRow:
    """One member across the period's meetings (marks in the order of `Ledger.meetings`)."""

    member_id: int
    name: str  # empty for a deleted account: the register keeps a nameless line
    stage: Stage
    marks: tuple[Mark, ...]

    @property
    def expected(self) -> int:
        return sum(1 for m in self.marks if m is not Mark.NOT_EXPECTED)

    @property
    def attended(self) -> int:
        return sum(1 for m in self.marks if m in ATTENDED)

    @property
    def rate(self) -> Fraction | None:
        return Fraction(self.attended, self.expected) if self.expected else None


class Standing(StrEnum):
    """Where one obligation of the period stands."""

    MET = "met"
    UNMET = "unmet"  # the period is over and too few were held
    OPEN = "open"  # not met yet, but the period is still running
    EXEMPT = "exempt"  # the branch was created too late in the period to owe it


@dataclass(frozen=True)
class ComplianceRow:
    """One required activity in one period: requirement, held and standing."""

    type: MeetingType
    party_group: str | None  # per-group types: which group owes it
    period: Period
    requirement: Requirement
    held: int
    standing: Standing


@dataclass(frozen=True)
class AbsenceFlag:
    """A member whose latest absence streak reached the threshold."""

    org_id: int
    member_id: int
    name: str
    months: int
    leaves: int  # leave requests at meetings of those months
    last_attended: date | None  # within the lookback window; None: not once in it


@dataclass(frozen=True)
class Ledger:
    """Everything the 台账 shows for one branch and period (never a phone number)."""

    org: OrgView
    start: date
    end: date
    timezone: str
    meetings: tuple[LedgerMeeting, ...]
    members: tuple[MemberRow, ...]
    compliance: tuple[ComplianceRow, ...]
    flags: tuple[AbsenceFlag, ...]
    absence_months: int

    @property
    def met(self) -> int:
        return sum(1 for c in self.compliance if c.standing is Standing.MET)

    @property
    def unmet(self) -> int:
        return sum(1 for c in self.compliance if c.standing is Standing.UNMET)

    @property
    def open(self) -> int:
        return sum(1 for c in self.compliance if c.standing is Standing.OPEN)


# ---- who may read it ----


async def may_read(session: AsyncSession, actor: Actor, org_id: int, today: date) -> bool:
    """Whether the actor may read this branch's ledger (and its absence flags)."""
    if actor.superadmin:
        return True
    chain = await ancestry(session, org_id)
    for held_org, role in await roles_in(session, actor.user_id, chain, today):
        if role in OVERSEERS or (held_org == org_id and role in BRANCH_READERS):
            return True
    return False


async def ledger_branches(db: Database, actor: Actor, today: date) -> list[OrgView]:
    """The branches whose ledger the actor may read, by name."""
    async with db.read() as session:
        query = select(Organization).where(
            Organization.archived_at.is_(None), Organization.level == Level.BRANCH
        )
        if not actor.superadmin:
            held = await session.execute(
                select(RoleAssignment.org_id, RoleAssignment.role)
                .outerjoin(Member, Member.id == RoleAssignment.member_id)
                .where(held_by(actor.user_id), *active_role_filter(today))
            )
            direct: set[int] = set()
            above: set[int] = set()
            for org_id, role in held.all():
                if Role(role) in OVERSEERS:
                    above.add(org_id)
                elif Role(role) in BRANCH_READERS:
                    direct.add(org_id)
            reachable = direct | await descendants(session, above)
            if not reachable:
                return []
            query = query.where(Organization.id.in_(reachable))
        rows = await session.scalars(query.order_by(Organization.name, Organization.id))
        return [org_view(r) for r in rows.all()]


async def ledger_branch(db: Database, actor: Actor, org_id: int, today: date) -> OrgView:
    """One branch picked for its ledger, re-checked (a button may be old or forged)."""
    async with db.read() as session:
        org = await load_org(session, org_id)
        if org.level != Level.BRANCH:
            raise NotFound("org.not_found")
        if not await may_read(session, actor, org_id, today):
            raise Denied("auth.ledger")
        return org_view(org)


# ---- time zones and requirements ----


def _zone(name: str | None, default: str) -> tzinfo:
    try:
        return ZoneInfo(name or default)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(default)


def _utc(day: date, zone: tzinfo) -> datetime:
    """Local midnight at the start of the day, as UTC."""
    return datetime.combine(day, time(), zone).astimezone(UTC)


# ---- the ledger ----


@dataclass(frozen=True)
class _Person:
    id: int
    name: str
    stage: Stage
    full_on: date | None
    joined_at: datetime
    left_on: date | None
    party_group_id: int | None


def _person(row: Member, zone: tzinfo) -> _Person:
    left = row.left_on
    if left is None and row.status != MemberStatus.ACTIVE:
        left = row.updated_at.astimezone(zone).date()  # off the roster without a date
    return _Person(
        id=row.id,
        name=row.name,
        stage=Stage(row.stage),
        full_on=row.full_on,
        joined_at=row.created_at,
        left_on=left,
        party_group_id=row.party_group_id,
    )


class _Committee:
    """Who held a branch-committee office on which days."""

    def __init__(self, rows: Iterable[tuple[int, int, date, date | None]]) -> None:
        self._terms: dict[tuple[int, int], list[tuple[date, date | None]]] = defaultdict(list)
        for org_id, member_id, start_on, end_on in rows:
            self._terms[(org_id, member_id)].append((start_on, end_on))

    def holds(self, org_id: int, member_id: int, day: date) -> bool:
        return any(
            start <= day and (end is None or end >= day)
            for start, end in self._terms.get((org_id, member_id), ())
        )


async def _committee(
    session: AsyncSession, org_ids: Sequence[int], first: date, last: date
) -> _Committee:
    rows = await session.execute(
        select(
            RoleAssignment.org_id,
            RoleAssignment.member_id,
            RoleAssignment.start_on,
            RoleAssignment.end_on,
        ).where(
            RoleAssignment.org_id.in_(org_ids),
            RoleAssignment.role.in_([r.value for r in COMMITTEE_ROLES]),
            RoleAssignment.member_id.is_not(None),
            RoleAssignment.start_on <= last,
            or_(RoleAssignment.end_on.is_(None), RoleAssignment.end_on >= first),
        )
    )
    return _Committee((o, m, s, e) for o, m, s, e in rows.all() if m is not None)


def _summary(fields: Mapping[str, str] | None) -> str | None:
    """A short line from the minutes: the most telling field, cut to SUMMARY_MAX."""
    if not fields:
        return None
    remarks = Field.REMARKS.value
    others = [k for k in fields if k not in SUMMARY_FIELDS and k != remarks]
    text = next((fields[k] for k in (*SUMMARY_FIELDS, *others, remarks) if fields.get(k)), None)
    if text is None:
        return None
    line = " ".join(str(text).split())
    return line if len(line) <= SUMMARY_MAX else line[: SUMMARY_MAX - 1] + "…"


async def _names(session: AsyncSession, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await session.execute(select(Member.id, Member.name).where(Member.id.in_(wanted)))
    return {member_id: name for member_id, name in rows.all()}


def _standing(obligation: Obligation, today: date) -> Standing:
    if obligation.met:
        return Standing.MET
    if obligation.exempt:
        return Standing.EXEMPT
    return Standing.OPEN if obligation.period.end >= today else Standing.UNMET


async def ledger(
    db: Database,
    actor: Actor,
    org_id: int,
    period_start: date,
    period_end: date,
    today: date,
    *,
    now: datetime,
    default_tz: str,
    absence_months: int,
) -> Ledger:
    """The branch's register for the period; refused to all but its readers; audited."""
    if period_end < period_start:
        raise ServiceError("ledger.bad_range")
    # Built in a read (a year of a branch's sign-ins takes a while), then audited in a
    # short write: on SQLite the write lock is not held while the register is assembled.
    async with db.read() as session:
        org = await load_org(session, org_id)
        if org.level != Level.BRANCH:
            raise NotFound("org.not_found")
        if not await may_read(session, actor, org_id, today):
            raise Denied("auth.ledger")
        # Zone and frequencies resolved by the same rules as the scheduled compliance work.
        tree = await load_tree(session, default_tz, only=await ancestry(session, org_id))
        zone = _zone(tree.zone(org_id), default_tz)
        requirements = tree.requirements(org_id)
        lo, hi = _utc(period_start, zone), _utc(period_end + timedelta(days=1), zone)
        # Obligations whose period ends in the range may have begun before it (a quarter
        # seen from its last month): their meetings are read from the earliest such start.
        starts = [period_of(r.period, period_start).start for r in requirements.values()]
        span = min([period_start, *starts])
        rows = (
            await session.scalars(
                select(Meeting)
                .where(
                    Meeting.org_id == org_id,
                    Meeting.status != Status.CANCELLED,
                    Meeting.starts_at >= _utc(span, zone),
                    Meeting.starts_at < hi,
                    Meeting.starts_at <= now,  # not yet held: not in the register
                )
                .order_by(Meeting.starts_at, Meeting.id)
            )
        ).all()
        # A meeting counts toward an obligation once it is closed (sign-in over), as the
        # digests and committee reports count it; the register lists it from its start.
        held = [
            HeldMeeting(
                r.starts_at.astimezone(zone).date(),
                frozenset(MeetingType(t) for t in r.types),
                r.party_group_id,
            )
            for r in rows
            if r.status == Status.CLOSED
        ]
        group_rows = await session.execute(
            select(PartyGroup.id, PartyGroup.name).where(PartyGroup.org_id == org_id)
        )
        groups = {group_id: name for group_id, name in group_rows.all()}
        meetings = [r for r in rows if r.starts_at >= lo]
        grid = await _grid(session, org_id, meetings, groups, zone, hi, period_start)
        obligations = history(
            period_start,
            period_end,
            requirements,
            held,
            branch_created=org.created_at.astimezone(zone).date(),
            party_groups=sorted(groups, key=lambda g: (groups[g], g)),
        )
        compliance = tuple(
            ComplianceRow(
                type=o.type,
                party_group=groups.get(o.party_group_id) if o.party_group_id else None,
                period=o.period,
                requirement=requirements[o.type],
                held=o.held,
                standing=_standing(o, today),
            )
            for o in obligations
            if o.period.start <= today  # periods not begun yet owe nothing so far
        )
        flags = await absence_streaks(
            session, [org_id], today, absence_months, default_tz=default_tz
        )
        result = Ledger(
            org=org_view(org),
            start=period_start,
            end=period_end,
            timezone=str(zone),
            meetings=grid[0],
            members=grid[1],
            compliance=compliance,
            flags=tuple(flags.get(org_id, ())),
            absence_months=absence_months,
        )
    async with db.transaction() as session:
        audit.record(
            session,
            at=now,
            actor_id=actor.user_id or None,
            action="ledger.export",
            target_type="org",
            target_id=org_id,
            after={
                "start": period_start.isoformat(),
                "end": period_end.isoformat(),
                "meetings": len(result.meetings),
                "members": len(result.members),
            },
        )
    return result


async def _grid(
    session: AsyncSession,
    org_id: int,
    meetings: Sequence[Meeting],
    group_names: Mapping[int, str],
    zone: tzinfo,
    hi: datetime,
    first_day: date,
) -> tuple[tuple[LedgerMeeting, ...], tuple[MemberRow, ...]]:
    """The meeting rows and the member × meeting marks."""
    ids = [m.id for m in meetings]
    signed: dict[tuple[int, int], SignedBy] = {}
    answers: dict[tuple[int, int], Answer] = {}
    minutes: dict[int, dict[str, str]] = {}
    if ids:
        for meeting_id, member_id, by in (
            await session.execute(
                select(
                    MeetingAttendance.meeting_id,
                    MeetingAttendance.member_id,
                    MeetingAttendance.signed_by,
                ).where(MeetingAttendance.meeting_id.in_(ids))
            )
        ).all():
            signed[(meeting_id, member_id)] = SignedBy(by)
        for meeting_id, member_id, answer in (
            await session.execute(
                select(MeetingRsvp.meeting_id, MeetingRsvp.member_id, MeetingRsvp.answer).where(
                    MeetingRsvp.meeting_id.in_(ids)
                )
            )
        ).all():
            answers[(meeting_id, member_id)] = Answer(answer)
        for meeting_id, fields in (
            await session.execute(
                select(MeetingMinutes.meeting_id, MeetingMinutes.fields).where(
                    MeetingMinutes.meeting_id.in_(ids)
                )
            )
        ).all():
            minutes[meeting_id] = dict(fields or {})
    responders = {member_id for _, member_id in (*signed, *answers)}
    people = [
        _person(row, zone)
        for row in (
            await session.scalars(
                select(Member).where(
                    Member.org_id == org_id,
                    or_(Member.created_at < hi, Member.id.in_(responders)),
                )
            )
        ).all()
    ]
    local = {m.id: m.starts_at.astimezone(zone) for m in meetings}
    days = [d.date() for d in local.values()]
    committee = await _committee(
        session, [org_id], min(days, default=first_day), max(days, default=first_day)
    )
    names = await _names(
        session, [i for m in meetings for i in (m.host_id, m.recorder_id, m.lecturer_id)]
    )
    marks: dict[int, list[Mark]] = {p.id: [] for p in people}
    rows: list[LedgerMeeting] = []
    for meeting in meetings:
        held_on = local[meeting.id].date()
        audience = Audience(meeting.audience)
        counts: dict[Mark, int] = defaultdict(int)
        voters = voters_present = 0
        for p in people:
            key = (meeting.id, p.id)
            expected = expected_at(
                audience=audience,
                meeting_group=meeting.party_group_id,
                published_at=meeting.created_at,
                held_on=held_on,
                joined_at=p.joined_at,
                left_on=p.left_on,
                member_group=p.party_group_id,
                in_committee=committee.holds(org_id, p.id, held_on),
                responded=key in signed or key in answers,
            )
            mark = mark_of(
                expected=expected, signed=signed.get(key), on_leave=answers.get(key) == Answer.LEAVE
            )
            marks[p.id].append(mark)
            counts[mark] += 1
            if mark is not Mark.NOT_EXPECTED and votes_on(p.stage, p.full_on, held_on):
                voters += 1
                voters_present += mark in ATTENDED
        types = tuple(ordered_types(MeetingType(t) for t in meeting.types))
        rows.append(
            LedgerMeeting(
                id=meeting.id,
                starts_at=local[meeting.id],
                types=types,
                topic=meeting.topic,
                place=meeting.place,
                audience=audience,
                party_group=group_names.get(meeting.party_group_id or 0),
                host=names.get(meeting.host_id) if meeting.host_id else None,
                recorder=names.get(meeting.recorder_id) if meeting.recorder_id else None,
                lecturer=names.get(meeting.lecturer_id) if meeting.lecturer_id else None,
                status=Status(meeting.status),
                expected=len(people) - counts[Mark.NOT_EXPECTED],
                present_self=counts[Mark.PRESENT],
                present_proxy=counts[Mark.PROXY],
                present_late=counts[Mark.LATE],
                on_leave=counts[Mark.LEAVE],
                absent=counts[Mark.ABSENT],
                quorum=Quorum(voters, voters_present) if needs_quorum(types) else None,
                has_minutes=meeting.id in minutes,
                summary=_summary(minutes.get(meeting.id)),
            )
        )
    members = [
        MemberRow(p.id, p.name, p.stage, tuple(marks[p.id]))
        for p in people
        if any(m is not Mark.NOT_EXPECTED for m in marks[p.id])
        or (p.joined_at < hi and (p.left_on is None or p.left_on >= first_day))
    ]
    members.sort(key=lambda r: (_STAGE_RANK.get(r.stage, len(_STAGE_RANK)), r.name, r.member_id))
    return tuple(rows), tuple(members)


# ---- absence streaks ----


async def absence_streaks(
    session: AsyncSession,
    org_ids: Iterable[int],
    today: date,
    months: int,
    *,
    default_tz: str = "Asia/Shanghai",
    lookback_months: int = LOOKBACK_MONTHS,
) -> dict[int, list[AbsenceFlag]]:
    """Members on the roster of these branches whose absence streak reached `months`.

    The rule (domain.meetings_attendance): complete calendar months up to the month before today,
    at most `lookback_months` back; a month counts when at least one closed meeting
    expected the member and they attended none (leave is not attending, and is reported);
    months with no meeting for them are neutral; flag when the latest streak ≥ months.
    Branches without flags are left out of the answer. A handful of queries per 5,000
    branches, whatever their number: no query per branch or per member.
    """
    wanted = sorted(set(org_ids))
    if not wanted:
        return {}
    zones = await effective_timezones(session, default_tz)
    result: dict[int, list[AbsenceFlag]] = {}
    for i in range(0, len(wanted), CHUNK):
        chunk = wanted[i : i + CHUNK]
        zone_of = {o: _zone(zones.get(o), default_tz) for o in chunk}
        for flag in await _streaks(session, zone_of, today, months, lookback_months):
            result.setdefault(flag.org_id, []).append(flag)
    for flags in result.values():
        flags.sort(key=lambda f: (-f.months, f.name, f.member_id))
    return result


async def branch_absences(
    db: Database, org_id: int, today: date, months: int, *, default_tz: str = "Asia/Shanghai"
) -> list[AbsenceFlag]:
    """absence_streaks for one branch in its own read (callers have checked who may see it)."""
    async with db.read() as session:
        found = await absence_streaks(session, [org_id], today, months, default_tz=default_tz)
        return found.get(org_id, [])


@dataclass(frozen=True)
class _Held:
    id: int
    held_on: date
    audience: Audience
    party_group_id: int | None
    published_at: datetime


async def _streaks(
    session: AsyncSession,
    zone_of: Mapping[int, tzinfo],
    today: date,
    months: int,
    lookback: int,
) -> list[AbsenceFlag]:
    org_ids = list(zone_of)
    current = month_start(today)
    window = add_months(current, -lookback)
    # Local month boundaries differ by zone: read wide in UTC, then cut by local date.
    starts = {z: _utc(window, z) for z in set(zone_of.values())}
    ends = {z: _utc(current, z) for z in set(zone_of.values())}
    lo, hi = min(starts.values()), max(ends.values())
    in_window = and_(
        Meeting.org_id.in_(org_ids),
        Meeting.status == Status.CLOSED,
        Meeting.starts_at >= lo,
        Meeting.starts_at < hi,
    )
    by_org: dict[int, list[_Held]] = defaultdict(list)
    for meeting_id, org_id, group, audience, starts_at, created_at in (
        await session.execute(
            select(
                Meeting.id,
                Meeting.org_id,
                Meeting.party_group_id,
                Meeting.audience,
                Meeting.starts_at,
                Meeting.created_at,
            ).where(in_window)
        )
    ).all():
        held_on = starts_at.astimezone(zone_of[org_id]).date()
        if window <= held_on < current:
            by_org[org_id].append(_Held(meeting_id, held_on, Audience(audience), group, created_at))
    if not by_org:
        return []
    for held in by_org.values():
        held.sort(key=lambda h: h.held_on)
    held_days = {org_id: [h.held_on for h in held] for org_id, held in by_org.items()}
    # Everything attended before the current month is at or before the latest attendance,
    # so per member one date (the latest) stands for all their attendances.
    last: dict[int, datetime] = {}
    for zone in set(zone_of.values()):
        same = [o for o in by_org if zone_of[o] == zone]
        if not same:
            continue
        rows = await session.execute(
            select(MeetingAttendance.member_id, func.max(Meeting.starts_at))
            .join(Meeting, Meeting.id == MeetingAttendance.meeting_id)
            .where(
                Meeting.org_id.in_(same),
                Meeting.status == Status.CLOSED,
                Meeting.starts_at >= starts[zone],
                Meeting.starts_at < ends[zone],
            )
            .group_by(MeetingAttendance.member_id)
        )
        last.update({member_id: at for member_id, at in rows.all() if at is not None})
    # Answers matter where the audience rule alone would not expect the member (they were
    # in the live audience when answering), and leave requests are reported: read only those.
    answers: dict[tuple[int, int], Answer] = {}
    for meeting_id, member_id, answer in (
        await session.execute(
            select(MeetingRsvp.meeting_id, MeetingRsvp.member_id, MeetingRsvp.answer)
            .join(Meeting, Meeting.id == MeetingRsvp.meeting_id)
            .join(Member, Member.id == MeetingRsvp.member_id)
            .where(
                in_window,
                Member.status == MemberStatus.ACTIVE,
                or_(
                    MeetingRsvp.answer == Answer.LEAVE,
                    Meeting.audience != Audience.BRANCH,
                    Member.created_at > Meeting.created_at,
                ),
            )
        )
    ).all():
        answers[(meeting_id, member_id)] = Answer(answer)
    committee = await _committee(session, list(by_org), window, current - timedelta(days=1))
    flags: list[AbsenceFlag] = []
    for member_id, org_id, name, group, joined_at in (
        await session.execute(
            select(
                Member.id, Member.org_id, Member.name, Member.party_group_id, Member.created_at
            ).where(Member.org_id.in_(list(by_org)), Member.status == MemberStatus.ACTIVE)
        )
    ).all():
        held, days = by_org[org_id], held_days[org_id]
        attended_at = last.get(member_id)
        expectations: list[Expectation] = []
        after = window
        if attended_at is not None:
            attended_on = attended_at.astimezone(zone_of[org_id]).date()
            expectations.append(Expectation(attended_on, attended=True))
            after = add_months(month_start(attended_on), 1)
        start = bisect_left(days, after)
        for h in held[start:]:
            reply = answers.get((h.id, member_id))
            if expected_at(
                audience=h.audience,
                meeting_group=h.party_group_id,
                published_at=h.published_at,
                held_on=h.held_on,
                joined_at=joined_at,
                left_on=None,
                member_group=group,
                in_committee=committee.holds(org_id, member_id, h.held_on),
                responded=reply is not None,
            ):
                expectations.append(
                    Expectation(h.held_on, attended=False, on_leave=reply == Answer.LEAVE)
                )
        streak = absence_streak(expectations, today, lookback_months=lookback)
        if flagged(streak, months):
            flags.append(
                AbsenceFlag(
                    org_id, member_id, name, streak.months, streak.leaves, streak.last_attended
                )
            )
    return flags
