"""三会一课 compliance of many branches at once: loaded in a few queries, judged by the domain.

Everything is read in the caller's session, so a scheduled job computes and queues its
messages in one transaction. Dates are each branch's local dates (its effective time
zone); the requirements are the defaults with every committee override along the
branch's ancestry applied, the nearest last.
"""

from __future__ import annotations

import json
import logging
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Text, and_, cast, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.compliance import (
    HeldMeeting,
    MeetingType,
    Obligation,
    Period,
    PeriodKind,
    Requirement,
    Requirements,
    compliance,
    due_soon,
    format_requirement,
    history,
    missed,
    parse_requirement,
    period_of,
)
from domain.dues_disclose import DisclosurePeriod
from domain.locale import negotiate_locale
from domain.meetings import Audience
from domain.meetings import Status as MeetingStatus
from domain.orgs import Level, Permission, Role
from domain.orgs import Status as MemberStatus
from domain.validation import Invalid
from services import audit
from services.authz import Actor, active_role_filter, require
from services.dues_disclose import overdue_disclosures
from services.errors import ServiceError
from services.meetings import COMMITTEE_ROLES
from services.orgs import load_org
from storage.db import Database
from storage.models import (
    Meeting,
    MeetingAttendance,
    Member,
    Organization,
    PartyGroup,
    RoleAssignment,
    User,
)

log = logging.getLogger(__name__)

# Below this many ids a query filters with IN; above it, reading everything and dropping
# the rest in Python is cheaper than thousands of bound parameters.
IN_LIMIT = 500
# Who gets a branch's digest and warnings: the first of these who can be written to.
CONTACT_ROLES = (Role.SECRETARY, Role.DEPUTY, Role.ORGANIZATION)
DEFAULT_REQUIREMENTS = Requirements()


# ---- the organization tree ----


@dataclass(frozen=True)
class OrgNode:
    """One live organization as the compliance calendar needs it."""

    id: int
    parent_id: int | None
    level: Level
    name: str
    created_at: datetime
    timezone: str | None
    requirements: Mapping[str, str | None] | None


def parse_overrides(raw: Mapping[str, str | None] | None) -> dict[MeetingType, Requirement | None]:
    """An organization's stored overrides; unknown types and unreadable values are ignored."""
    result: dict[MeetingType, Requirement | None] = {}
    for key, value in (raw or {}).items():
        try:
            kind = MeetingType(key)
        except ValueError:
            log.warning("requirements: unknown meeting type %r ignored", key)
            continue
        if value is None:
            result[kind] = None
            continue
        parsed = parse_requirement(str(value))
        if isinstance(parsed, Invalid):
            log.warning("requirements: %r for %s is not a frequency; ignored", value, key)
            continue
        result[kind] = parsed
    return result


class OrgTree:
    """Every live organization, with time zones and requirements resolved along the ancestry."""

    def __init__(self, nodes: Iterable[OrgNode], default_tz: str) -> None:
        self.nodes = {node.id: node for node in nodes}
        self.default_tz = default_tz
        self.children: dict[int, list[int]] = defaultdict(list)
        for node in self.nodes.values():
            if node.parent_id is not None and node.parent_id in self.nodes:
                self.children[node.parent_id].append(node.id)
        self._zones: dict[int, str] = {}
        self._requirements: dict[int, Requirements] = {}

    def chain(self, org_id: int) -> list[int]:
        """The organization and its live ancestors, nearest first."""
        chain: list[int] = []
        node: int | None = org_id
        while node is not None and node in self.nodes and node not in chain:
            chain.append(node)
            node = self.nodes[node].parent_id
        return chain

    def zone(self, org_id: int) -> str:
        """The effective time zone: its own, else the nearest ancestor's, else the default."""
        if org_id not in self._zones:
            zone = self.default_tz
            for node in self.chain(org_id):
                own = self.nodes[node].timezone
                if own:
                    zone = own
                    break
            self._zones[org_id] = zone
        return self._zones[org_id]

    def requirements(self, org_id: int) -> Requirements:
        """The defaults with the overrides of every ancestor applied, the nearest last."""
        if org_id in self._requirements:
            return self._requirements[org_id]
        parent = self.nodes[org_id].parent_id if org_id in self.nodes else None
        base = self.requirements(parent) if parent in self.nodes else DEFAULT_REQUIREMENTS
        node = self.nodes.get(org_id)
        overrides = parse_overrides(node.requirements if node else None)
        result = base.overriding(overrides) if overrides else base
        self._requirements[org_id] = result
        return result

    def committee_of(self, org_id: int) -> int | None:
        """The nearest committee above the organization (not itself)."""
        for node in self.chain(org_id)[1:]:
            if self.nodes[node].level == Level.COMMITTEE:
                return node
        return None

    def branches(self) -> list[int]:
        """Every live branch."""
        return [n.id for n in self.nodes.values() if n.level == Level.BRANCH]

    def branches_under(self, org_id: int) -> list[int]:
        """The branches in the organization's subtree (itself when it is one)."""
        found: list[int] = []
        stack = [org_id]
        seen: set[int] = set()
        while stack:
            node = stack.pop()
            if node in seen or node not in self.nodes:
                continue
            seen.add(node)
            if self.nodes[node].level == Level.BRANCH:
                found.append(node)
            stack.extend(self.children.get(node, ()))
        return found


async def load_tree(
    session: AsyncSession, default_tz: str, only: Collection[int] | None = None
) -> OrgTree:
    """Every live organization in one query (or `only` these: a branch and its ancestry)."""
    query = select(
        Organization.id, Organization.parent_id, Organization.level, Organization.name,
        Organization.created_at, Organization.timezone, Organization.requirements,
    ).where(Organization.archived_at.is_(None))  # fmt: skip
    if only is not None:
        query = query.where(Organization.id.in_(list(only)))
    rows = await _core(session, query)
    return OrgTree(
        (OrgNode(i, p, Level(lv), n, c, tz, req) for i, p, lv, n, c, tz, req in rows),
        default_tz,
    )


_ZONES: dict[str, ZoneInfo] = {}


def zoneinfo(name: str, default: str) -> ZoneInfo:
    """A cached ZoneInfo; an unknown name falls back to the default zone."""
    if name not in _ZONES:
        try:
            _ZONES[name] = ZoneInfo(name)
        except (ValueError, KeyError, OSError):
            log.warning("unknown time zone %r: using %s", name, default)
            _ZONES[name] = ZoneInfo(default)
    return _ZONES[name]


# ---- the calendar: branches and the meetings they held ----


@dataclass(frozen=True)
class BranchFacts:
    """A branch as the compliance engine sees it."""

    id: int
    name: str
    parent_id: int | None
    zone: str
    created_on: date  # local
    requirements: Requirements
    party_groups: tuple[int, ...]


@dataclass(frozen=True)
class HeldRow:
    """A closed meeting with what attendance needs: its id and audience."""

    id: int
    org_id: int
    party_group_id: int | None
    audience: str
    held_on: date
    published_on: date  # members who joined later were not expected
    signed: int  # sign-ins recorded


@dataclass(frozen=True)
class Calendar:
    """Branches with the meetings they held between `first` and `last` (local dates)."""

    tree: OrgTree
    branches: Mapping[int, BranchFacts]
    held: Mapping[int, Sequence[HeldMeeting]]
    rows: Sequence[HeldRow]
    group_names: Mapping[int, str]
    first: date
    last: date

    def current(self, branch_id: int, as_of: date) -> list[Obligation]:
        """The branch's obligations in the periods containing as_of."""
        b = self.branches[branch_id]
        return compliance(
            as_of, b.requirements, self.held.get(branch_id, ()),
            branch_created=b.created_on, party_groups=b.party_groups,
        )  # fmt: skip

    def finished(self, branch_id: int, since: date, until: date) -> list[Obligation]:
        """The branch's obligations of the periods that ended from since to until."""
        b = self.branches[branch_id]
        return history(
            since, until, b.requirements, self.held.get(branch_id, ()),
            branch_created=b.created_on, party_groups=b.party_groups,
        )  # fmt: skip


def _select_branches(tree: OrgTree, zone: str | None, org_ids: Collection[int] | None) -> list[int]:
    ids = tree.branches() if org_ids is None else [i for i in org_ids if i in tree.nodes]
    ids = [i for i in ids if tree.nodes[i].level == Level.BRANCH]
    if zone is not None:
        ids = [i for i in ids if tree.zone(i) == zone]
    return ids


async def load_calendar(
    session: AsyncSession,
    *,
    default_tz: str,
    first: date,
    last: date,
    zone: str | None = None,
    org_ids: Collection[int] | None = None,
    tree: OrgTree | None = None,
    keep_rows: bool = False,
) -> Calendar:
    """Branches (all, those of one time zone, or these) and their meetings held first..last."""
    tree = tree or await load_tree(session, default_tz)
    wanted = _select_branches(tree, zone, org_ids)
    wanted_set = set(wanted)
    everything = len(wanted_set) == len(tree.branches())
    narrow = not everything and len(wanted_set) <= IN_LIMIT

    groups_query = select(PartyGroup.id, PartyGroup.org_id, PartyGroup.name).order_by(
        PartyGroup.name, PartyGroup.id
    )
    if narrow:
        groups_query = groups_query.where(PartyGroup.org_id.in_(wanted_set))
    groups: dict[int, list[int]] = defaultdict(list)
    group_names: dict[int, str] = {}
    for group_id, org_id, name in await _core(session, groups_query):
        if org_id in wanted_set:
            groups[org_id].append(group_id)
            group_names[group_id] = name

    branches: dict[int, BranchFacts] = {}
    for org_id in wanted:
        node = tree.nodes[org_id]
        zone_name = tree.zone(org_id)
        branches[org_id] = BranchFacts(
            id=org_id,
            name=node.name,
            parent_id=node.parent_id,
            zone=zone_name,
            created_on=node.created_at.astimezone(zoneinfo(zone_name, default_tz)).date(),
            requirements=tree.requirements(org_id),
            party_groups=tuple(groups.get(org_id, ())),
        )

    # A day of margin either side covers every zone's local dates.
    low = datetime.combine(first - timedelta(days=1), time(), UTC)
    high = datetime.combine(last + timedelta(days=2), time(), UTC)
    # Sign-ins counted per meeting by its primary-key index: cheaper than grouping them all.
    signed = (
        select(func.count())
        .where(MeetingAttendance.meeting_id == Meeting.id)
        .correlate(Meeting)
        .scalar_subquery()
        if keep_rows
        else literal(0)
    )
    # Only attendance needs when each notice went out: otherwise not read (nor converted).
    notice_time = Meeting.created_at if keep_rows else literal(None)
    query = select(
        Meeting.id, Meeting.org_id, Meeting.party_group_id, cast(Meeting.types, Text),
        Meeting.starts_at, Meeting.audience, notice_time, signed,
    ).where(*_held_filter(low, high))  # fmt: skip
    if narrow:
        query = query.where(Meeting.org_id.in_(wanted_set))
    held: dict[int, list[HeldMeeting]] = defaultdict(list)
    rows: list[HeldRow] = []
    type_sets: dict[str, frozenset[MeetingType]] = {}
    zones = {org_id: zoneinfo(b.zone, default_tz) for org_id, b in branches.items()}
    for meeting_id, owner, group, types, starts_at, audience, created_at, present in await _core(
        session, query
    ):
        tz = zones.get(owner)
        if tz is None:
            continue
        day = starts_at.astimezone(tz).date()
        if not first <= day <= last:
            continue
        # The types column read as its JSON text: a handful of distinct values, parsed once.
        kinds = type_sets.get(types)
        if kinds is None:
            kinds = type_sets[types] = _types(types)
        held[owner].append(HeldMeeting(day, kinds, group))
        if keep_rows:
            published = min(day, created_at.astimezone(tz).date())
            rows.append(HeldRow(meeting_id, owner, group, audience, day, published, present))
    return Calendar(tree, branches, held, rows, group_names, first, last)


_TYPE_VALUES = frozenset(t.value for t in MeetingType)


def _types(raw: str) -> frozenset[MeetingType]:
    values = json.loads(raw) if raw else []
    return frozenset(MeetingType(t) for t in values if t in _TYPE_VALUES)


async def _core(session: AsyncSession, query: Any) -> Sequence[Any]:
    """Rows of a column query run on the session's connection: no ORM row processing, which
    costs more than the query itself for tens of thousands of rows."""
    connection = await session.connection()
    return (await connection.execute(query)).all()


def _held_filter(low: datetime, high: datetime) -> list[Any]:
    """Meetings that took place: closed, never cancelled, starting in [low, high)."""
    return [
        Meeting.status == MeetingStatus.CLOSED.value,
        Meeting.cancelled_at.is_(None),
        Meeting.starts_at >= low,
        Meeting.starts_at < high,
    ]


def local_today(now: datetime, zone: str, default_tz: str) -> date:
    """The date it is now in a time zone."""
    return now.astimezone(zoneinfo(zone, default_tz)).date()


# ---- what the jobs ask ----


@dataclass(frozen=True)
class BranchStatus:
    """A branch with some of its obligations (open, due soon or missed) and names to show."""

    branch_id: int
    name: str
    zone: str
    today: date
    obligations: tuple[Obligation, ...]
    group_names: Mapping[int, str]


def _status(cal: Calendar, branch_id: int, today: date, obs: Iterable[Obligation]) -> BranchStatus:
    b = cal.branches[branch_id]
    chosen = tuple(obs)
    names = {g: cal.group_names.get(g, "") for g in b.party_groups}
    return BranchStatus(branch_id, b.name, b.zone, today, chosen, names)


def _today_span(now: datetime, tree: OrgTree, ids: Iterable[int]) -> tuple[date, date]:
    days = [local_today(now, tree.zone(i), tree.default_tz) for i in ids]
    if not days:
        today = now.date()
        return today, today
    return min(days), max(days)


def _month_end(day: date) -> date:
    return period_of(PeriodKind.MONTH, day).end


async def open_obligations(
    session: AsyncSession,
    *,
    now: datetime,
    default_tz: str,
    zone: str | None = None,
    org_ids: Collection[int] | None = None,
    keep_empty: bool = False,
) -> list[BranchStatus]:
    """Each branch's unmet obligations of this month and quarter (and of longer periods that
    end this month), as of its local today; branches with none only when keep_empty."""
    tree = await load_tree(session, default_tz)
    ids = _select_branches(tree, zone, org_ids)
    low, high = _today_span(now, tree, ids)
    cal = await load_calendar(
        session, default_tz=default_tz, first=date(low.year, 1, 1), last=high,
        org_ids=ids, tree=tree,
    )  # fmt: skip
    result: list[BranchStatus] = []
    for branch_id in ids:
        today = local_today(now, cal.branches[branch_id].zone, default_tz)
        month_end = _month_end(today)
        chosen = [
            o
            for o in cal.current(branch_id, today)
            if o.unmet
            and (o.period.kind in (PeriodKind.MONTH, PeriodKind.QUARTER) or o.end <= month_end)
        ]
        if chosen or keep_empty:
            result.append(_status(cal, branch_id, today, chosen))
    return result


async def due_within(
    session: AsyncSession,
    *,
    now: datetime,
    days: int,
    default_tz: str,
    zone: str | None = None,
    org_ids: Collection[int] | None = None,
) -> list[BranchStatus]:
    """Each branch's unmet obligations whose period ends within `days` days of its today."""
    tree = await load_tree(session, default_tz)
    ids = _select_branches(tree, zone, org_ids)
    low, high = _today_span(now, tree, ids)
    cal = await load_calendar(
        session, default_tz=default_tz, first=date(low.year, 1, 1), last=high,
        org_ids=ids, tree=tree,
    )  # fmt: skip
    result: list[BranchStatus] = []
    for branch_id in ids:
        today = local_today(now, cal.branches[branch_id].zone, default_tz)
        chosen = due_soon(cal.current(branch_id, today), days)
        if chosen:
            result.append(_status(cal, branch_id, today, chosen))
    return result


async def missed_between(
    session: AsyncSession,
    *,
    since: date,
    until: date,
    default_tz: str,
    zone: str | None = None,
    org_ids: Collection[int] | None = None,
    tree: OrgTree | None = None,
) -> list[BranchStatus]:
    """Each branch's obligations of periods that ended from since to until and were missed."""
    tree = tree or await load_tree(session, default_tz)
    ids = _select_branches(tree, zone, org_ids)
    cal = await load_calendar(
        session, default_tz=default_tz, first=date(since.year, 1, 1), last=until,
        org_ids=ids, tree=tree,
    )  # fmt: skip
    result: list[BranchStatus] = []
    for branch_id in ids:
        chosen = missed(cal.finished(branch_id, since, until))
        if chosen:
            result.append(_status(cal, branch_id, until, chosen))
    return result


# ---- the committee's monthly table ----


@dataclass(frozen=True)
class Tally:
    """Obligations met out of those owed."""

    met: int
    required: int

    @property
    def rate(self) -> float | None:
        """The share met, None when nothing was owed."""
        return self.met / self.required if self.required else None


def tally(obligations: Iterable[Obligation]) -> Tally:
    """Count the owed obligations (exempt ones are not owed) and those met."""
    owed = [o for o in obligations if not o.exempt]
    return Tally(sum(1 for o in owed if o.met), len(owed))


@dataclass(frozen=True)
class BranchRow:
    """One line of a committee's table."""

    org_id: int
    name: str
    parent_name: str  # the organization directly above (a general branch or committee)
    month: Tally  # periods that ended in the month just ended
    year: Tally  # periods that ended from 1 January to the end of that month
    missed_month: tuple[Obligation, ...]
    meetings_month: int
    meetings_year: int
    attendance_month: float | None  # signed in / expected, over the meetings held
    attendance_year: float | None
    # 党费公示逾期: the dues disclosure period overdue at the month's end (None: none overdue).
    dues_overdue: DisclosurePeriod | None = None


@dataclass(frozen=True)
class CommitteeTable:
    """All branches under a committee, for the month just ended and the year so far."""

    committee_id: int
    committee_name: str
    month: Period
    rows: tuple[BranchRow, ...]
    group_names: Mapping[int, str]

    @property
    def year_start(self) -> date:
        return date(self.month.start.year, 1, 1)


class _Roster:
    """How many members an audience had on a given day (joins and departures, sorted)."""

    def __init__(self) -> None:
        self.joins: list[date] = []
        self.leaves: list[date] = []

    def add(self, joined: date, left: date | None, count: int) -> None:
        self.joins.extend([joined] * count)
        if left is not None:
            self.leaves.extend([left] * count)

    def seal(self) -> None:
        self.joins.sort()
        self.leaves.sort()

    def expected(self, published: date, held: date) -> int:
        """On the roster when the notice went out and still on it on the day (left_on is
        the first day off the roster)."""
        return max(0, bisect_right(self.joins, published) - bisect_right(self.leaves, held))


async def _attendance(
    session: AsyncSession, cal: Calendar, default_tz: str
) -> dict[int, tuple[int, int]]:
    """meeting id → (present, expected) for the calendar's meetings."""
    if not cal.rows:
        return {}
    ids = set(cal.branches)
    narrow = len(ids) <= IN_LIMIT

    member_query = (
        select(Member.org_id, Member.party_group_id, Member.created_at, Member.left_on,
               func.count())
        .where(or_(Member.status == MemberStatus.ACTIVE.value,
                   and_(Member.left_on.is_not(None), Member.left_on >= cal.first)))
        .group_by(Member.org_id, Member.party_group_id, Member.created_at, Member.left_on)
    )  # fmt: skip
    if narrow:
        member_query = member_query.where(Member.org_id.in_(ids))
    rosters: dict[tuple[int, int | None], _Roster] = defaultdict(_Roster)
    zones = {i: zoneinfo(b.zone, default_tz) for i, b in cal.branches.items()}
    for org_id, group_id, created_at, left_on, count in await _core(session, member_query):
        tz = zones.get(org_id)
        if tz is None:
            continue
        joined = created_at.astimezone(tz).date()
        rosters[(org_id, None)].add(joined, left_on, count)
        if group_id is not None:
            rosters[(org_id, group_id)].add(joined, left_on, count)
    for roster in rosters.values():
        roster.seal()

    role_query = select(
        RoleAssignment.org_id, RoleAssignment.member_id, RoleAssignment.start_on,
        RoleAssignment.end_on,
    ).where(
        RoleAssignment.role.in_([r.value for r in COMMITTEE_ROLES]),
        RoleAssignment.member_id.is_not(None),
        RoleAssignment.start_on <= cal.last,
        or_(RoleAssignment.end_on.is_(None), RoleAssignment.end_on >= cal.first),
    )  # fmt: skip
    if narrow:
        role_query = role_query.where(RoleAssignment.org_id.in_(ids))
    offices: dict[int, list[tuple[int, date, date | None]]] = defaultdict(list)
    for org_id, member_id, start_on, end_on in await _core(session, role_query):
        if member_id is not None:
            offices[org_id].append((member_id, start_on, end_on))

    empty = _Roster()
    result: dict[int, tuple[int, int]] = {}
    for row in cal.rows:
        if row.audience == Audience.COMMITTEE.value:
            expected = len(
                {m for m, s, e in offices.get(row.org_id, ()) if s <= row.held_on
                 and (e is None or e >= row.held_on)}
            )  # fmt: skip
        elif row.audience == Audience.PARTY_GROUP.value and row.party_group_id is not None:
            roster = rosters.get((row.org_id, row.party_group_id), empty)
            expected = roster.expected(row.published_on, row.held_on)
        else:
            expected = rosters.get((row.org_id, None), empty).expected(
                row.published_on, row.held_on
            )
        signed = row.signed
        # Whoever signed in was in the audience (as the attendance register counts them).
        result[row.id] = (signed, max(expected, signed))
    return result


def _rate(pairs: Iterable[tuple[int, int]]) -> float | None:
    present = expected = 0
    for p, e in pairs:
        present += p
        expected += e
    return present / expected if expected else None


async def committee_tables(
    session: AsyncSession,
    committee_ids: Collection[int],
    *,
    month: date,
    default_tz: str,
    tree: OrgTree | None = None,
) -> dict[int, CommitteeTable]:
    """For each committee, every branch under it: obligations met in the month containing
    `month` and in the year up to its end, meetings held and attendance."""
    tree = tree or await load_tree(session, default_tz)
    period = period_of(PeriodKind.MONTH, month)
    year_start = date(period.start.year, 1, 1)
    under = {c: tree.branches_under(c) for c in committee_ids if c in tree.nodes}
    # Branches created after the month are not in its table.
    wanted = sorted(
        {b for ids in under.values() for b in ids}
        & {
            b
            for b in tree.branches()
            if tree.nodes[b].created_at.astimezone(zoneinfo(tree.zone(b), default_tz)).date()
            <= period.end
        }
    )
    cal = await load_calendar(
        session, default_tz=default_tz, first=year_start, last=period.end, org_ids=wanted,
        tree=tree, keep_rows=True,
    )  # fmt: skip
    figures = await _attendance(session, cal, default_tz)
    overdue = await overdue_disclosures(session, wanted, dict.fromkeys(wanted, period.end))
    by_branch: dict[int, list[HeldRow]] = defaultdict(list)
    for row in cal.rows:
        by_branch[row.org_id].append(row)

    rows: dict[int, BranchRow] = {}
    for branch_id in wanted:
        b = cal.branches[branch_id]
        finished = cal.finished(branch_id, year_start, period.end)
        in_month = [o for o in finished if o.end >= period.start]
        held_rows = by_branch.get(branch_id, [])
        month_rows = [r for r in held_rows if r.held_on >= period.start]
        parent = tree.nodes.get(b.parent_id) if b.parent_id is not None else None
        rows[branch_id] = BranchRow(
            org_id=branch_id,
            name=b.name,
            parent_name=parent.name if parent else "",
            month=tally(in_month),
            year=tally(finished),
            missed_month=tuple(missed(in_month)),
            meetings_month=len(month_rows),
            meetings_year=len(held_rows),
            attendance_month=_rate(figures[r.id] for r in month_rows),
            attendance_year=_rate(figures[r.id] for r in held_rows),
            dues_overdue=overdue.get(branch_id),
        )
    tables: dict[int, CommitteeTable] = {}
    for committee_id, ids in under.items():
        chosen = sorted((rows[i] for i in ids if i in rows), key=lambda r: (r.name, r.org_id))
        tables[committee_id] = CommitteeTable(
            committee_id=committee_id,
            committee_name=tree.nodes[committee_id].name,
            month=period,
            rows=tuple(chosen),
            group_names=cal.group_names,
        )
    return tables


# ---- who is told ----


@dataclass(frozen=True)
class Recipient:
    """Someone the bot may write to privately, in their language."""

    user_id: int
    locale: str


async def _holders(
    session: AsyncSession,
    roles: Sequence[Role],
    today: date,
    default_locale: str,
    org_ids: Collection[int] | None = None,
) -> list[tuple[int, Role, Recipient]]:
    """(org, role, person) for offices held today by people who started the bot."""
    query = (
        select(RoleAssignment.org_id, RoleAssignment.role, User.id, User.locale,
               User.language_code)
        .outerjoin(Member, and_(Member.id == RoleAssignment.member_id,
                                Member.status == MemberStatus.ACTIVE.value))
        .join(User, User.id == func.coalesce(RoleAssignment.user_id, Member.user_id))
        .where(RoleAssignment.role.in_([r.value for r in roles]), *active_role_filter(today),
               User.started.is_(True), User.blocked_at.is_(None))
        .order_by(RoleAssignment.id)
    )  # fmt: skip
    if org_ids is not None and len(org_ids) <= IN_LIMIT:
        query = query.where(RoleAssignment.org_id.in_(list(org_ids)))
    wanted = None if org_ids is None else set(org_ids)
    result = []
    for org_id, role, user_id, locale, language in (await session.execute(query)).all():
        if wanted is None or org_id in wanted:
            person = Recipient(user_id, locale or negotiate_locale(language, default_locale))
            result.append((org_id, Role(role), person))
    return result


async def branch_contacts(
    session: AsyncSession, branch_ids: Collection[int], today: date, default_locale: str
) -> dict[int, Recipient]:
    """Each branch's secretary, else deputy, else organization member: the first of them
    who started the bot (branches where nobody did are missing)."""
    order = {role: i for i, role in enumerate(CONTACT_ROLES)}
    best: dict[int, tuple[int, Recipient]] = {}
    for org_id, role, person in await _holders(
        session, CONTACT_ROLES, today, default_locale, branch_ids
    ):
        rank = order[role]
        if org_id not in best or rank < best[org_id][0]:
            best[org_id] = (rank, person)
    return {org_id: person for org_id, (_, person) in best.items()}


async def overseers(
    session: AsyncSession,
    tree: OrgTree,
    branch_ids: Collection[int],
    today: date,
    default_locale: str,
) -> dict[int, list[Recipient]]:
    """Who hears about a branch's missed obligations: the admins of its nearest committee
    and the instructors of the branch or of anything between it and that committee."""
    holders = await _holders(
        session, (Role.COMMITTEE_ADMIN, Role.INSTRUCTOR), today, default_locale
    )
    admins: dict[int, list[Recipient]] = defaultdict(list)
    instructors: dict[int, list[Recipient]] = defaultdict(list)
    for org_id, role, person in holders:
        (admins if role == Role.COMMITTEE_ADMIN else instructors)[org_id].append(person)
    result: dict[int, list[Recipient]] = {}
    for branch_id in branch_ids:
        committee = tree.committee_of(branch_id)
        people: dict[int, Recipient] = {}
        for person in admins.get(committee, []) if committee is not None else []:
            people.setdefault(person.user_id, person)
        for node in tree.chain(branch_id):
            for person in instructors.get(node, []):
                people.setdefault(person.user_id, person)
            if node == committee:
                break
        if people:
            result[branch_id] = list(people.values())
    return result


async def committee_admins(
    session: AsyncSession, committee_ids: Collection[int], today: date, default_locale: str
) -> dict[int, list[Recipient]]:
    """The admins of each committee (held in that committee itself) who started the bot."""
    result: dict[int, list[Recipient]] = defaultdict(list)
    seen: set[tuple[int, int]] = set()
    for org_id, _, person in await _holders(
        session, (Role.COMMITTEE_ADMIN,), today, default_locale, committee_ids
    ):
        if (org_id, person.user_id) not in seen:
            seen.add((org_id, person.user_id))
            result[org_id].append(person)
    return dict(result)


def committees_in_zone(tree: OrgTree, zone: str) -> list[int]:
    """Committees whose effective time zone is this one."""
    return sorted(
        n.id for n in tree.nodes.values() if n.level == Level.COMMITTEE and tree.zone(n.id) == zone
    )


async def zones_in_use(session: AsyncSession, default_tz: str) -> set[str]:
    """Every time zone an organization may be in: the default and those set explicitly."""
    rows = await session.scalars(
        select(Organization.timezone)
        .where(Organization.archived_at.is_(None), Organization.timezone.is_not(None))
        .distinct()
    )
    return {default_tz, *(z for z in rows.all() if z)}


# ---- per-committee frequencies ----


@dataclass(frozen=True)
class RequirementLine:
    """One meeting type's frequency for an organization and where it comes from."""

    type: MeetingType
    effective: Requirement | None  # None: not required
    own: bool  # this organization overrides it
    source: str | None  # the organization whose override decides it; None: the default


@dataclass(frozen=True)
class RequirementsView:
    """The frequencies in force for an organization's subtree."""

    org_id: int
    org_name: str
    level: Level
    lines: tuple[RequirementLine, ...]


def _view(tree: OrgTree, org_id: int) -> RequirementsView:
    node = tree.nodes[org_id]
    effective = tree.requirements(org_id)
    lines = []
    for kind in MeetingType:
        source: str | None = None
        own = False
        for ancestor in tree.chain(org_id):  # nearest first: the first override decides
            if kind in parse_overrides(tree.nodes[ancestor].requirements):
                source = tree.nodes[ancestor].name
                own = ancestor == org_id
                break
        lines.append(RequirementLine(kind, effective.get(kind), own, source))
    return RequirementsView(org_id, node.name, node.level, tuple(lines))


async def requirements_of(
    db: Database, actor: Actor, org_id: int, today: date, default_tz: str
) -> RequirementsView:
    """The meeting frequencies in force for an organization, with their sources."""
    async with db.read() as session:
        await load_org(session, org_id)
        await require(session, actor, org_id, Permission.MANAGE_ORGS, today)
        return _view(await load_tree(session, default_tz), org_id)


async def set_requirements(
    db: Database,
    actor: Actor,
    org_id: int,
    *,
    changes: Mapping[MeetingType, Requirement | None],
    clear: Collection[MeetingType] = (),
    now: datetime,
    today: date,
    default_tz: str,
) -> RequirementsView:
    """Override a committee's meeting frequencies (None: not required); `clear` goes back to
    what the committee above (or the default) requires. Audited."""
    async with db.transaction() as session:
        org = await load_org(session, org_id)
        await require(session, actor, org_id, Permission.MANAGE_ORGS, today)
        if org.level != Level.COMMITTEE:
            raise ServiceError("requirements.not_committee")
        before = dict(org.requirements or {})
        after = {k: v for k, v in before.items() if k not in {c.value for c in clear}}
        for kind, requirement in changes.items():
            after[kind.value] = format_requirement(requirement) if requirement else None
        if after != before:
            org.requirements = after or None  # a new object, so the JSON change is seen
            audit.record(
                session, at=now, actor_id=actor.user_id or None, action="org.requirements",
                target_type="org", target_id=org_id, before=before or None, after=after or None,
            )  # fmt: skip
        await session.flush()
        return _view(await load_tree(session, default_tz), org_id)
