"""Party dues (党费): who may see and keep what, a branch's settings and rate table, and where a
member stands — the reads every dues screen, job and intent builds on.

A member's standing is worked out from the ledger, never stored: confirmed standards and
exemptions give the amount due each month, the append-only entries what was paid.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.dues import (
    NATIONAL,
    Month,
    Period,
    RateTable,
    Standing,
    add_months,
    month_of,
    standing,
    table_from_json,
)
from domain.dues_rates import RATE_PERMISSIONS
from domain.orgs import Level, Permission, Status
from services.authz import Actor, ancestry, orgs_with
from storage.db import Database
from storage.models import (
    DuesEntry,
    DuesExemption,
    DuesSettings,
    DuesStandard,
    Member,
    Organization,
)

CONFIRMED = "confirmed"


@dataclass(frozen=True)
class OrgRef:
    """An organization as a dues screen names it."""

    id: int
    name: str


@dataclass(frozen=True)
class MemberRef:
    """The person's own roster entry."""

    id: int
    org_id: int
    name: str


@dataclass(frozen=True)
class DuesAccess:
    """What dues the person may see or keep: their own, branches' per member (keepers and
    secretaries), branches' totals (committees and instructors)."""

    member: MemberRef | None
    keeps: tuple[OrgRef, ...]  # branches whose dues they keep (confirm, record, remit, publish)
    views: tuple[OrgRef, ...]  # branches whose members' dues they may see one by one
    totals: tuple[OrgRef, ...]  # committees (and branches) they see as totals and statuses
    rates: tuple[OrgRef, ...] = ()  # committees whose local rate table they may adjust


@dataclass(frozen=True)
class SettingsView:
    """A branch's dues settings (defaults where none were saved)."""

    org_id: int
    payment_day: int = 5
    advance_cap: int = 6
    arrears_cap: int = 6
    show_amounts: bool = False
    disclosure_months: int = 3


async def _refs(session: AsyncSession, ids: Sequence[int]) -> tuple[OrgRef, ...]:
    if not ids:
        return ()
    rows = await session.execute(
        select(Organization.id, Organization.name).where(Organization.id.in_(list(ids)))
    )
    names = dict(rows.all())
    return tuple(OrgRef(i, names[i]) for i in ids if i in names)


async def dues_access(db: Database, actor: Actor, today: date) -> DuesAccess:
    """The person's own roster entry and the organizations whose dues they keep or see."""
    async with db.read() as session:
        entry = await session.scalar(
            select(Member)
            .where(Member.user_id == actor.user_id, Member.status == Status.ACTIVE)
            .order_by(Member.id)
            .limit(1)
        )
        keeps = await orgs_with(session, actor, Permission.KEEP_DUES, today)
        views = await orgs_with(session, actor, Permission.VIEW_DUES, today)
        seen = await orgs_with(session, actor, Permission.VIEW_ROSTER, today, level=None)
        totals = [org_id for org_id in seen if org_id not in set(views)]
        rates: dict[int, None] = {}
        for permission in sorted(RATE_PERMISSIONS):
            for org_id in await orgs_with(session, actor, permission, today,
                                          level=Level.COMMITTEE):  # fmt: skip
                rates[org_id] = None
        return DuesAccess(
            MemberRef(entry.id, entry.org_id, entry.name) if entry is not None else None,
            await _refs(session, keeps),
            await _refs(session, views),
            await _refs(session, totals),
            await _refs(session, list(rates)),
        )


async def settings_of(session: AsyncSession, org_id: int) -> SettingsView:
    """A branch's dues settings, defaults where none were saved."""
    row = await session.get(DuesSettings, org_id)
    if row is None:
        return SettingsView(org_id)
    return SettingsView(
        org_id, row.payment_day, row.advance_cap, row.arrears_cap, row.show_amounts,
        row.disclosure_months,
    )  # fmt: skip


async def rate_table_for(session: AsyncSession, org_id: int) -> RateTable:
    """The brackets in force for an organization: the nearest committee above (or itself)
    that adjusted them for its locality, else the national table."""
    chain = await ancestry(session, org_id)
    rows = await session.execute(
        select(DuesSettings.org_id, DuesSettings.rate_table).where(
            DuesSettings.org_id.in_(chain), DuesSettings.rate_table.is_not(None)
        )
    )
    tables: dict[int, dict[str, object] | None] = {org: t for org, t in rows.all()}
    for org in chain:
        stored = tables.get(org)
        if stored:
            return table_from_json(stored)
    return NATIONAL


# Members to read: their ids, or a query giving them (a branch's roster: no long id lists).
Members = Sequence[int] | Select[Any]


def _of(column: Any, members: Members) -> Any:
    return column.in_(members if isinstance(members, Select) else list(members))


async def periods_of(session: AsyncSession, members: Members) -> dict[int, list[Period]]:
    """Each member's amounts due over time: confirmed standards, with exemptions laid over
    the months they cover (after an exemption ends, the standard in force applies again)."""
    periods: dict[int, list[Period]] = defaultdict(list)
    if not isinstance(members, Select) and not members:
        return periods
    standards = await session.execute(
        select(DuesStandard.member_id, DuesStandard.from_month, DuesStandard.amount_fen)
        .where(_of(DuesStandard.member_id, members), DuesStandard.status == CONFIRMED)
        .order_by(DuesStandard.member_id, DuesStandard.from_month, DuesStandard.id)
    )
    for member_id, from_month, amount in standards.all():
        periods[member_id].append(Period(from_month, amount))
    exemptions = await session.execute(
        select(DuesExemption.member_id, DuesExemption.from_month, DuesExemption.until_month,
               DuesExemption.amount_fen)
        .where(_of(DuesExemption.member_id, members))
        .order_by(DuesExemption.id)
    )  # fmt: skip
    for member_id, start, until, amount in exemptions.all():
        base = periods[member_id]
        after = add_months(until, 1)
        resumed = [p for p in base if p.from_month <= after]
        resume = max(resumed, key=lambda p: p.from_month).amount_fen if resumed else None
        kept = [p for p in base if not start <= p.from_month <= until]
        kept.append(Period(start, amount))
        if resume is not None and not any(p.from_month == after for p in kept):
            kept.append(Period(after, resume))
        periods[member_id] = sorted(kept, key=lambda p: p.from_month)
    return periods


async def paid_of(session: AsyncSession, members: Members) -> dict[int, dict[Month, int]]:
    """What each member paid per month (dues and corrections added up; extras apart)."""
    paid: dict[int, dict[Month, int]] = defaultdict(dict)
    if not isinstance(members, Select) and not members:
        return paid
    rows = await session.execute(
        select(DuesEntry.member_id, DuesEntry.month, func.sum(DuesEntry.amount_fen))
        .where(
            _of(DuesEntry.member_id, members),
            DuesEntry.month.is_not(None),
            DuesEntry.kind.in_(("dues", "correction")),
        )
        .group_by(DuesEntry.member_id, DuesEntry.month)
    )
    for member_id, month, amount in rows.all():
        if month is not None:
            paid[member_id][int(month)] = int(amount or 0)
    return paid


async def standings(
    session: AsyncSession, member_ids: Sequence[int], today: date
) -> dict[int, Standing]:
    """Where each member stands this month (members without a confirmed standard: absent)."""
    return await _standings(session, member_ids, today)


async def standings_in(
    session: AsyncSession, org_ids: Sequence[int], today: date
) -> dict[int, Standing]:
    """Where each active member of these branches stands: read by branch, not by id lists
    (a city's payment day reads 150,000 members)."""
    roster = select(Member.id).where(
        Member.org_id.in_(list(org_ids)), Member.status == Status.ACTIVE
    )
    return await _standings(session, roster, today)


async def _standings(session: AsyncSession, members: Members, today: date) -> dict[int, Standing]:
    periods = await periods_of(session, members)
    paid = await paid_of(session, members)
    as_of = month_of(today)
    result: dict[int, Standing] = {}
    for member_id in periods:
        spans = periods.get(member_id)
        if not spans:
            continue
        since = min(p.from_month for p in spans)
        result[member_id] = standing(spans, paid.get(member_id, {}), as_of, since)
    return result
