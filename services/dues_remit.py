"""上缴: a branch's keeper records dues handed to the committee (a period, the amount, the day,
maybe a photo of the receipt); the committee's keepers are told and confirm receipt; the
committee sees, per branch and period, what was due, collected, remitted and confirmed.

Every remittance and confirmation is audited. The notification is rendered by the caller in
every language and queued here, in the remittance's transaction, with its 确认收到 button.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.dues import Month, due_for, months_between
from domain.dues_cycle import check_remittance, remit_confirm_data
from domain.locale import negotiate_locale
from domain.orgs import Level, Permission, Role, Status
from services.audit import record
from services.authz import Actor, active_role_filter, ancestry, descendants, require
from services.dues import periods_of
from services.errors import NotFound, ServiceError
from services.outbox import add_items, item_values
from storage.db import Database
from storage.models import DuesEntry, DuesRemittance, Member, Organization, RoleAssignment, User

COMMITTEE_KEEPERS = (Role.ORGANIZATION, Role.DUES_KEEPER)


@dataclass(frozen=True)
class RemitPlan:
    """What a keeper is about to remit: from which branch to which committee, and the
    period's collected total (the default amount)."""

    org_id: int
    branch: str
    to_org_id: int
    committee: str
    from_month: Month
    until_month: Month
    collected_fen: int


@dataclass(frozen=True)
class RemitView:
    """A recorded remittance."""

    id: int
    org_id: int
    branch: str
    to_org_id: int
    committee: str
    from_month: Month
    until_month: Month
    amount_fen: int
    paid_on: date
    proof_file_id: str | None
    confirmed: bool
    told: int = 0  # committee keepers notified


@dataclass(frozen=True)
class RemitText:
    """The notification in one language: its text and its button's label."""

    html: str
    confirm_label: str


async def _committee_of(session: AsyncSession, org_id: int) -> Organization:
    """The nearest committee above a branch (its dues go there)."""
    for org in (await ancestry(session, org_id))[1:]:
        row = await session.get(Organization, org)
        if row is not None and row.level == Level.COMMITTEE:
            return row
    raise ServiceError("dues.remit.no_committee")


async def collected(session: AsyncSession, org_id: int, first: Month, last: Month) -> int:
    """What the branch's ledger holds for these months (dues and corrections)."""
    total = await session.scalar(
        select(func.coalesce(func.sum(DuesEntry.amount_fen), 0)).where(
            DuesEntry.org_id == org_id,
            DuesEntry.month >= first,
            DuesEntry.month <= last,
            DuesEntry.kind.in_(("dues", "correction")),
        )
    )
    return int(total or 0)


async def remit_plan(
    db: Database, actor: Actor, org_id: int, first: Month, last: Month, today: date
) -> RemitPlan:
    """The keeper's remittance screen: committee, period and the collected total."""
    async with db.read() as session:
        await require(session, actor, org_id, Permission.KEEP_DUES, today)
        branch = await session.get(Organization, org_id)
        if branch is None:
            raise NotFound("org.not_found")
        committee = await _committee_of(session, org_id)
        total = await collected(session, org_id, first, last)
        return RemitPlan(org_id, branch.name, committee.id, committee.name, first, last, total)


async def _keepers(session: AsyncSession, org_id: int, today: date) -> list[tuple[int, str]]:
    """(user id, locale) of the organization's keepers the bot may write to."""
    user = func.coalesce(RoleAssignment.user_id, Member.user_id)
    rows = await session.execute(
        select(User.id, User.locale, User.language_code)
        .select_from(RoleAssignment)
        .outerjoin(Member, Member.id == RoleAssignment.member_id)
        .join(User, User.id == user)
        .where(RoleAssignment.org_id == org_id,
               RoleAssignment.role.in_([r.value for r in COMMITTEE_KEEPERS]),
               *active_role_filter(today), User.started.is_(True), User.blocked_at.is_(None),
               (RoleAssignment.member_id.is_(None)) | (Member.status == Status.ACTIVE))
        .order_by(RoleAssignment.id)
    )  # fmt: skip
    found: dict[int, str] = {}
    for uid, locale, language in rows.all():
        found.setdefault(uid, locale or negotiate_locale(language, "zh_CN"))
    return list(found.items())


def _view(row: DuesRemittance, branch: str, committee: str, told: int = 0) -> RemitView:
    return RemitView(
        row.id, row.org_id, branch, row.to_org_id, committee, row.from_month, row.until_month,
        row.amount_fen, row.paid_on, row.proof_file_id, row.confirmed_at is not None, told,
    )  # fmt: skip


async def record_remittance(
    db: Database,
    actor: Actor,
    plan: RemitPlan,
    *,
    amount_fen: int,
    paid_on: date,
    proof_file_id: str | None,
    texts: Mapping[str, RemitText],
    default_locale: str,
    now: datetime,
    today: date,
) -> RemitView:
    """确认上缴: the remittance recorded and audited, the committee's keepers told with
    确认收到 — all in one transaction."""
    problem = check_remittance(plan.from_month, plan.until_month, amount_fen, paid_on, today)
    if problem is not None:
        raise ServiceError(problem)
    async with db.transaction() as session:
        await require(session, actor, plan.org_id, Permission.KEEP_DUES, today)
        committee = await _committee_of(session, plan.org_id)
        if committee.id != plan.to_org_id:
            raise ServiceError("stale")  # the branch moved since the screen was read
        row = DuesRemittance(
            org_id=plan.org_id, to_org_id=committee.id, from_month=plan.from_month,
            until_month=plan.until_month, amount_fen=amount_fen, paid_on=paid_on,
            proof_file_id=proof_file_id, recorded_by=actor.user_id, recorded_at=now,
        )  # fmt: skip
        session.add(row)
        await session.flush()
        record(session, at=now, actor_id=actor.user_id or None, action="dues.remit.record",
               target_type="dues_remittance", target_id=row.id,
               after={"org_id": plan.org_id, "to_org_id": committee.id,
                      "from_month": plan.from_month, "until_month": plan.until_month,
                      "amount_fen": amount_fen, "paid_on": paid_on.isoformat(),
                      "proof": proof_file_id is not None})  # fmt: skip
        keepers = await _keepers(session, committee.id, today)
        data = "cb:" + remit_confirm_data(row.id)
        items = []
        for uid, locale in keepers:
            text = texts.get(locale) or texts[default_locale]
            payload = {"html": text.html, "buttons": [[[text.confirm_label, data]]]}
            items.append(
                item_values(
                    purpose="text", chat_id=uid, org_id=committee.id, now=now, payload=payload
                )
            )
        await add_items(session, items)
        return _view(row, plan.branch, committee.name, len(items))


async def confirm_remittance(
    db: Database, actor: Actor, remittance_id: int, now: datetime, today: date
) -> tuple[RemitView, bool]:
    """确认收到 by a keeper of the receiving committee: confirmed_by/at set, audited; the
    view and whether this press confirmed it (False: it was confirmed already)."""
    async with db.transaction() as session:
        row = await session.get(DuesRemittance, remittance_id, with_for_update=True)
        if row is None:
            raise NotFound("dues.remit.not_found")
        await require(session, actor, row.to_org_id, Permission.KEEP_DUES, today)
        branch = await session.get(Organization, row.org_id)
        committee = await session.get(Organization, row.to_org_id)
        names = (branch.name if branch else "", committee.name if committee else "")
        if row.confirmed_at is not None:
            return _view(row, *names), False
        row.confirmed_by, row.confirmed_at = actor.user_id, now
        record(session, at=now, actor_id=actor.user_id or None, action="dues.remit.confirm",
               target_type="dues_remittance", target_id=row.id,
               before={"confirmed": False}, after={"confirmed": True})  # fmt: skip
        await session.flush()
        return _view(row, *names), True


@dataclass(frozen=True)
class BranchRemits:
    """One branch's dues over a period, as its committee sees them (totals only)."""

    org_id: int
    name: str
    due_fen: int
    collected_fen: int
    remitted_fen: int
    confirmed_fen: int


async def committee_remits(
    db: Database, actor: Actor, committee_id: int, first: Month, last: Month, today: date
) -> list[BranchRemits]:
    """Per branch under a committee, for the months first…last: due, collected, remitted
    (remittances whose period lies within), confirmed. For those who see the committee."""
    async with db.read() as session:
        await require(session, actor, committee_id, Permission.VIEW_ROSTER, today)
        under = await descendants(session, {committee_id})
        branches = (
            await session.execute(
                select(Organization.id, Organization.name)
                .where(
                    Organization.id.in_(under),
                    Organization.level == Level.BRANCH,
                    Organization.archived_at.is_(None),
                )
                .order_by(Organization.name, Organization.id)
            )
        ).all()
        ids = [b for b, _ in branches]
        members = (
            await session.execute(
                select(Member.id, Member.org_id).where(
                    Member.org_id.in_(ids), Member.status == Status.ACTIVE
                )
            )
        ).all()
        periods = await periods_of(session, [m for m, _ in members])
        months = months_between(first, last)
        due: dict[int, int] = {}
        for member_id, org_id in members:
            spans = periods.get(member_id, [])
            due[org_id] = due.get(org_id, 0) + sum(due_for(spans, m) or 0 for m in months)
        got = dict(
            (
                await session.execute(
                    select(DuesEntry.org_id, func.sum(DuesEntry.amount_fen))
                    .where(
                        DuesEntry.org_id.in_(ids),
                        DuesEntry.month >= first,
                        DuesEntry.month <= last,
                        DuesEntry.kind.in_(("dues", "correction")),
                    )
                    .group_by(DuesEntry.org_id)
                )
            ).all()
        )
        remitted: dict[int, int] = {}
        confirmed: dict[int, int] = {}
        rows = await session.execute(
            select(DuesRemittance.org_id, DuesRemittance.amount_fen, DuesRemittance.confirmed_at)
            .where(DuesRemittance.org_id.in_(ids), DuesRemittance.from_month >= first,
                   DuesRemittance.until_month <= last)
        )  # fmt: skip
        for org_id, amount, confirmed_at in rows.all():
            remitted[org_id] = remitted.get(org_id, 0) + amount
            if confirmed_at is not None:
                confirmed[org_id] = confirmed.get(org_id, 0) + amount
        return [
            BranchRemits(
                b,
                name,
                due.get(b, 0),
                int(got.get(b) or 0),
                remitted.get(b, 0),
                confirmed.get(b, 0),
            )
            for b, name in branches
        ]
