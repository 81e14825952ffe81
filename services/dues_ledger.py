"""Dues ledgers (党费台账): a branch's 党费交纳登记表 for a year (each member's amount per month,
for those who may see members' dues) and a committee's roll-up (per branch: members, due,
paid, collection rate, members in arrears) for those who see totals only.

Reads scan; they run in `db.read()`. Sending a ledger is an export: queued through the outbox
and audited in one short transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.dues import Month, Period, due_for, month_of, months_between, standing
from domain.orgs import Level, Permission, Status
from services import audit
from services.authz import Actor, descendants, require
from services.dues import CONFIRMED, paid_of, periods_of
from services.errors import NotFound, ServiceError
from services.outbox import enqueue_file
from storage.db import Database
from storage.models import DuesEntry, DuesExemption, DuesStandard, Member, Organization

CHUNK = 5_000  # member ids per IN list (both databases' parameter limits are far above)
YEAR_MIN, YEAR_MAX = 2000, 2100


@dataclass(frozen=True)
class RegisterRow:
    """One member's line in the 党费交纳登记表: the amount recorded for each month (fen, 0:
    nothing), the voluntary extra paid in the year, and their total."""

    name: str
    months: tuple[int, ...]  # 12, January first
    extra_fen: int

    @property
    def total_fen(self) -> int:
        """The year's dues and extra together."""
        return sum(self.months) + self.extra_fen


@dataclass(frozen=True)
class Register:
    """A branch's 党费交纳登记表 for a year."""

    org_id: int
    org_name: str
    year: int
    rows: tuple[RegisterRow, ...]

    @property
    def month_totals(self) -> tuple[int, ...]:
        """Each month's total over all members."""
        return tuple(sum(r.months[i] for r in self.rows) for i in range(12))

    @property
    def extra_total(self) -> int:
        """The year's voluntary extras."""
        return sum(r.extra_fen for r in self.rows)

    @property
    def total_fen(self) -> int:
        """Everything recorded for the year."""
        return sum(r.total_fen for r in self.rows)


def _check_year(year: int) -> None:
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise ServiceError("dues.ledger.bad_year")


def _year_bounds(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)


async def register_in(session: AsyncSession, org_id: int, year: int) -> Register:
    """The register's figures (no authorization: callers check it)."""
    org = await session.get(Organization, org_id)
    if org is None or org.level != Level.BRANCH:
        raise NotFound("org.not_found")
    first, last = year * 100 + 1, year * 100 + 12
    amounts: dict[int, list[int]] = defaultdict(lambda: [0] * 12)
    rows = await session.execute(
        select(DuesEntry.member_id, DuesEntry.month, func.sum(DuesEntry.amount_fen))
        .where(
            DuesEntry.org_id == org_id,
            DuesEntry.month.between(first, last),
            DuesEntry.kind.in_(("dues", "correction")),
        )
        .group_by(DuesEntry.member_id, DuesEntry.month)
    )
    for member_id, month, amount in rows.all():
        amounts[member_id][int(month or 0) % 100 - 1] = int(amount or 0)
    start, end = _year_bounds(year)
    extra_rows = await session.execute(
        select(DuesEntry.member_id, func.sum(DuesEntry.amount_fen))
        .where(
            DuesEntry.org_id == org_id,
            DuesEntry.kind == "extra",
            DuesEntry.recorded_at >= start,
            DuesEntry.recorded_at < end,
        )
        .group_by(DuesEntry.member_id)
    )
    extras = {int(m): int(total or 0) for m, total in extra_rows.all()}
    # The branch's members now, and anyone who paid into it that year (moved away since).
    paid_in = set(amounts) | set(extras)
    members = await session.execute(
        select(Member.id, Member.name)
        .where(
            or_(
                and_(Member.org_id == org_id, Member.status == Status.ACTIVE),
                Member.id.in_(list(paid_in) or [-1]),
            )
        )
        .order_by(Member.name, Member.id)
    )
    lines = tuple(
        RegisterRow(name, tuple(amounts.get(member_id, [0] * 12)), int(extras.get(member_id, 0)))
        for member_id, name in members.all()
    )
    return Register(org_id, org.name, year, lines)


async def branch_register(
    db: Database, actor: Actor, org_id: int, year: int, today: date
) -> Register:
    """A branch's 党费交纳登记表 for a year: for those who may see each member's dues."""
    _check_year(year)
    async with db.read() as session:
        await require(session, actor, org_id, Permission.VIEW_DUES, today)
        return await register_in(session, org_id, year)


async def queue_ledger_file(
    db: Database,
    actor: Actor,
    org_id: int,
    *,
    kind: str,
    year: int,
    filename: str,
    data: bytes,
    caption_html: str,
    as_photo: bool,
    now: datetime,
    today: date,
) -> int:
    """Send a written ledger (the register, or the roll-up's chart) to the actor through the
    outbox, audited as an export, in one transaction (re-authorized). The item id."""
    async with db.transaction() as session:
        permission = Permission.VIEW_DUES if kind == "register" else Permission.VIEW_ROSTER
        await require(session, actor, org_id, permission, today)
        item = enqueue_file(
            session, chat_id=actor.user_id, filename=filename, data=data,
            caption_html=caption_html, as_photo=as_photo, now=now,
        )  # fmt: skip
        audit.record(
            session, at=now, actor_id=actor.user_id, action="dues.export",
            target_type="organization", target_id=org_id,
            after={"ledger": kind, "year": year, "file": filename},
        )  # fmt: skip
        await session.flush()
        return item.id


# ---- the committee's roll-up ----


@dataclass(frozen=True)
class BranchDues:
    """A branch's dues for a year as a committee sees them: totals only."""

    org_id: int
    name: str
    members: int  # active members with a confirmed standard
    due_fen: int  # owed for the year's months up to now
    paid_fen: int  # recorded for those months
    behind_1_2: int  # members with 1–2 unpaid months
    behind_3_5: int
    behind_6: int  # 6 or more: the rules' point for treating it as leaving the Party

    @property
    def rate(self) -> float | None:
        """Collection rate (None: nothing was due)."""
        return min(self.paid_fen / self.due_fen, 1.0) if self.due_fen else None

    @property
    def clear_share(self) -> float | None:
        """The share of members with no unpaid month (None: no member with a standard)."""
        if not self.members:
            return None
        return 1 - (self.behind_1_2 + self.behind_3_5 + self.behind_6) / self.members


@dataclass(frozen=True)
class Rollup:
    """A committee's dues for a year, branch by branch."""

    org_id: int
    org_name: str
    year: int
    branches: tuple[BranchDues, ...]

    @property
    def due_fen(self) -> int:
        """What all branches owed."""
        return sum(b.due_fen for b in self.branches)

    @property
    def paid_fen(self) -> int:
        """What all branches recorded."""
        return sum(b.paid_fen for b in self.branches)


def _count_months(first: Month, last: Month) -> int:
    """How many months from first to last, both included (0 when first is later)."""
    span = (last // 100 - first // 100) * 12 + (last % 100 - first % 100) + 1
    return max(span, 0)


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


async def branch_statuses(
    session: AsyncSession, branches: Sequence[tuple[int, str]], year: int, as_of: Month
) -> list[BranchDues]:
    """Each branch's members, due, paid and arrears for the year's months up to as_of.

    Most members have one standard and no exemption: their months are counted by the
    database (one row per member, not per month). The others (a standard that changed, an
    exemption) are worked out month by month with domain.dues.standing.
    """
    ids = [org_id for org_id, _ in branches]
    connection = await session.connection()
    first, last = year * 100 + 1, min(year * 100 + 12, as_of)
    members: dict[int, int] = {}  # member → branch
    simple: dict[int, tuple[int, int]] = {}  # member → (from_month, amount)
    several: set[int] = set()
    for part in _chunks(ids):
        in_branches = and_(Member.org_id.in_(list(part)), Member.status == Status.ACTIVE)
        rows = await connection.execute(select(Member.id, Member.org_id).where(in_branches))
        members.update((int(m), int(o)) for m, o in rows.all())
        standards = await connection.execute(
            select(DuesStandard.member_id, DuesStandard.from_month, DuesStandard.amount_fen)
            .join(Member, Member.id == DuesStandard.member_id)
            .where(in_branches, DuesStandard.status == CONFIRMED)
        )
        for member_id, from_month, amount in standards.all():
            if member_id in simple or member_id in several:
                simple.pop(member_id, None)
                several.add(member_id)
            else:
                simple[member_id] = (int(from_month), int(amount))
        exempt = await connection.execute(
            select(DuesExemption.member_id)
            .join(Member, Member.id == DuesExemption.member_id)
            .where(in_branches)
            .distinct()
        )
        for (member_id,) in exempt.all():
            if simple.pop(member_id, None) is not None:
                several.add(member_id)
    sums: dict[int, list[int]] = {org_id: [0, 0, 0, 0, 0, 0] for org_id in ids}

    def count(member_id: int, due: int, paid: int, behind: int) -> None:
        line = sums[members[member_id]]
        line[0] += 1
        line[1] += due
        line[2] += paid
        line[3 if behind <= 2 else 4 if behind <= 5 else 5] += 1 if behind else 0

    # One standard: months paid in full since it started, and the year's paid (capped at the
    # due), counted in SQL per member.
    owed_month = (
        select(
            DuesEntry.member_id.label("member_id"),
            DuesEntry.month.label("month"),
            func.sum(DuesEntry.amount_fen).label("paid"),
        )
        .where(
            DuesEntry.kind.in_(("dues", "correction")),
            DuesEntry.month.is_not(None),
            DuesEntry.month <= as_of,
        )
        .group_by(DuesEntry.member_id, DuesEntry.month)
        .subquery()
    )
    standard = DuesStandard
    in_force = owed_month.c.month >= standard.from_month
    full = case((and_(in_force, owed_month.c.paid >= standard.amount_fen), 1), else_=0)
    capped = case(
        (owed_month.c.paid < standard.amount_fen, owed_month.c.paid), else_=standard.amount_fen
    )
    this_year = and_(in_force, owed_month.c.month >= first, owed_month.c.month <= last)
    counted: dict[int, tuple[int, int]] = {}
    for part in _chunks(ids):
        rows = await connection.execute(
            select(
                owed_month.c.member_id,
                func.sum(full),
                func.sum(case((this_year, capped), else_=0)),
            )
            .join(standard, standard.member_id == owed_month.c.member_id)
            .join(Member, Member.id == owed_month.c.member_id)
            .where(
                standard.status == CONFIRMED,
                Member.org_id.in_(list(part)),
                Member.status == Status.ACTIVE,
            )
            .group_by(owed_month.c.member_id)
        )
        counted.update((int(m), (int(f or 0), int(p or 0))) for m, f, p in rows.all())
    for member_id, (from_month, amount) in simple.items():
        owed = _count_months(from_month, as_of)
        year_months = _count_months(max(from_month, first), last)
        full_months, paid = counted.get(member_id, (0, 0))
        count(member_id, amount * year_months if amount > 0 else 0, paid,
              owed - full_months if amount > 0 else 0)  # fmt: skip
    # The rest, month by month.
    months = months_between(first, last)
    for part in _chunks(sorted(several)):
        periods = await periods_of(session, part)
        paid_by = await paid_of(session, part)
        for member_id in part:
            spans: list[Period] = periods.get(member_id, [])
            if not spans:
                continue
            got = paid_by.get(member_id, {})
            dues = [due_for(spans, month) or 0 for month in months]
            behind = len(standing(spans, got, as_of, min(p.from_month for p in spans)).arrears)
            paid = sum(min(got.get(m, 0), d) for m, d in zip(months, dues, strict=True))
            count(member_id, sum(dues), paid, behind)
    return [BranchDues(org_id, name, *sums[org_id]) for org_id, name in branches]


async def committee_rollup(
    db: Database, actor: Actor, org_id: int, year: int, today: date
) -> Rollup:
    """A committee's (or branch's) dues for a year, branch by branch: for anyone who sees the
    organization's roster as totals (committee admins, instructors) or more."""
    _check_year(year)
    async with db.read() as session:
        await require(session, actor, org_id, Permission.VIEW_ROSTER, today)
        org = await session.get(Organization, org_id)
        if org is None:
            raise NotFound("org.not_found")
        below = await descendants(session, {org_id})
        rows = await session.execute(
            select(Organization.id, Organization.name)
            .where(
                Organization.id.in_(list(below)),
                Organization.level == Level.BRANCH,
                Organization.archived_at.is_(None),
            )
            .order_by(Organization.name, Organization.id)
        )
        branches = [(int(i), str(n)) for i, n in rows.all()]
        statuses = await branch_statuses(session, branches, year, month_of(today))
    return Rollup(org_id, org.name, year, tuple(statuses))
