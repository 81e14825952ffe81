"""Hardship reductions and exemptions (减免党费): the branch keeper picks a member, records
one with the committees' agreement and approval, lists the branch's records and ends one
early; the member is told privately. Rules and caps: domain.dues_exempt.

Only the branch's keepers (KEEP_DUES) see these records: an amount reveals an income bracket
and a reason a hardship. The member sees their own in 我的党费.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.dues import Month, month_of
from domain.dues_exempt import PAGE_SIZE, ExemptDraft, begin, check_draft, ending
from domain.orgs import Permission, Status
from services import audit
from services.authz import Actor, require
from services.drafts import keep_draft_in, take_draft
from services.dues import CONFIRMED
from services.errors import NotFound, ServiceError
from services.outbox import enqueue_text
from storage.db import Database
from storage.models import DuesExemption, DuesStandard, Member, Organization

LIST_MAX = 30


@dataclass(frozen=True)
class Candidate:
    """A member offered by the picker."""

    id: int
    name: str


@dataclass(frozen=True)
class CandidatePage:
    """One page of the branch's members matching the typed part of a name."""

    org_id: int
    org_name: str
    query: str
    page: int
    pages: int
    total: int
    members: tuple[Candidate, ...]


@dataclass(frozen=True)
class ExemptionView:
    """One record as the keeper's list (or the member) shows it."""

    id: int
    org_id: int
    member_id: int
    name: str
    amount_fen: int  # 0: exempt
    from_month: Month
    until_month: Month
    agreed_on: date
    approved_by: str
    reason: str


@dataclass(frozen=True)
class ExemptionList:
    """A branch's records: current and coming ones first, then past ones."""

    org_id: int
    org_name: str
    this_month: Month
    current: tuple[ExemptionView, ...]
    past: tuple[ExemptionView, ...]


async def _branch(session: AsyncSession, actor: Actor, org_id: int, today: date) -> str:
    org = await session.get(Organization, org_id)
    if org is None or org.archived_at is not None:
        raise NotFound("org.not_found")
    await require(session, actor, org_id, Permission.KEEP_DUES, today)
    return org.name


async def _member(session: AsyncSession, org_id: int, member_id: int) -> Member:
    member = await session.get(Member, member_id)
    if member is None or member.org_id != org_id or member.status != Status.ACTIVE:
        raise NotFound("dues.member.not_found")
    return member


def _view(row: DuesExemption, name: str) -> ExemptionView:
    return ExemptionView(row.id, row.org_id, row.member_id, name, row.amount_fen, row.from_month,
                         row.until_month, row.agreed_on, row.approved_by, row.reason)  # fmt: skip


async def start_exemption(
    db: Database, actor: Actor, org_id: int, now: datetime, today: date
) -> ExemptDraft:
    """登记减免: the member picker, as a draft (replacing any open wizard)."""
    async with db.transaction() as session:
        await _branch(session, actor, org_id, today)
        return await keep_draft_in(session, actor.user_id, begin(org_id), now)


async def candidates(
    db: Database, actor: Actor, org_id: int, query: str, page: int, today: date
) -> CandidatePage:
    """A page of the branch's active members whose name contains the typed text."""
    async with db.read() as session:
        org_name = await _branch(session, actor, org_id, today)
        where = [Member.org_id == org_id, Member.status == Status.ACTIVE]
        if query:
            where.append(Member.name.contains(query, autoescape=True))
        total = int(await session.scalar(select(func.count(Member.id)).where(*where)) or 0)
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(max(page, 0), pages - 1)
        rows = await session.execute(
            select(Member.id, Member.name).where(*where).order_by(Member.name, Member.id)
            .offset(page * PAGE_SIZE).limit(PAGE_SIZE)
        )  # fmt: skip
        members = tuple(Candidate(i, n) for i, n in rows.all())
        return CandidatePage(org_id, org_name, query, page, pages, total, members)


async def pick(db: Database, actor: Actor, org_id: int, member_id: int, today: date) -> str:
    """The picked member's roster name, once they are an active member of the branch."""
    async with db.read() as session:
        await _branch(session, actor, org_id, today)
        return (await _member(session, org_id, member_id)).name


async def standard_at(session: AsyncSession, member_id: int, month: Month) -> int | None:
    """The member's confirmed standard for a month (exemptions aside), None without one."""
    amount = await session.scalar(
        select(DuesStandard.amount_fen)
        .where(DuesStandard.member_id == member_id, DuesStandard.status == CONFIRMED,
               DuesStandard.from_month <= month)
        .order_by(DuesStandard.from_month.desc(), DuesStandard.id.desc())
        .limit(1)
    )  # fmt: skip
    return None if amount is None else int(amount)


async def standard_for(db: Database, actor: Actor, draft: ExemptDraft, today: date) -> int | None:
    """The standard the reduction replaces (for the preview)."""
    async with db.read() as session:
        await _branch(session, actor, draft.org_id, today)
        return await standard_at(session, draft.member_id, draft.from_month)


async def _overlapping(
    session: AsyncSession, member_id: int, from_month: Month, until_month: Month
) -> bool:
    found = await session.scalar(
        select(DuesExemption.id).where(
            DuesExemption.member_id == member_id,
            DuesExemption.from_month <= until_month,
            DuesExemption.until_month >= from_month,
        ).limit(1)
    )  # fmt: skip
    return found is not None


async def record_exemption(
    db: Database, actor: Actor, *, member_html: str, now: datetime, today: date
) -> ExemptionView:
    """确认: the reduction or exemption recorded in one transaction that takes the draft;
    refused without a confirmed standard in force at its first month (after the record the
    standard applies again), when it overlaps another of the member's records or does not
    lower the standard;
    audited; the member told privately through the outbox."""
    async with db.transaction() as session:
        draft = await take_draft(session, actor.user_id, ExemptDraft)
        if draft is None:
            raise ServiceError("stale")
        code = check_draft(draft, month_of(today), today)
        if code is not None:
            raise ServiceError(code)
        await _branch(session, actor, draft.org_id, today)
        member = await _member(session, draft.org_id, draft.member_id)
        if await _overlapping(session, member.id, draft.from_month, draft.until_month):
            raise ServiceError("dues.exempt.overlap")
        standard = await standard_at(session, member.id, draft.from_month)
        if standard is None:  # nothing to reduce, and nothing to go back to when it ends
            raise ServiceError("dues.exempt.no_standard")
        if draft.amount_fen > 0 and draft.amount_fen >= standard:
            raise ServiceError("dues.exempt.not_lower")
        row = DuesExemption(
            member_id=member.id, org_id=draft.org_id, amount_fen=draft.amount_fen,
            from_month=draft.from_month, until_month=draft.until_month, reason=draft.reason,
            agreed_on=date.fromisoformat(draft.agreed_on), approved_by=draft.approved_by,
            recorded_by=actor.user_id, recorded_at=now,
        )  # fmt: skip
        session.add(row)
        await session.flush()
        audit.record(
            session, at=now, actor_id=actor.user_id, action="dues.exemption.recorded",
            target_type="dues_exemption", target_id=row.id, before=None,
            after={"member_id": member.id, "amount_fen": row.amount_fen,
                   "from_month": row.from_month, "until_month": row.until_month,
                   "agreed_on": draft.agreed_on, "approved_by": row.approved_by,
                   "reason": row.reason},
        )  # fmt: skip
        if member.user_id is not None:
            enqueue_text(session, chat_id=member.user_id, html=member_html, now=now)
        return _view(row, member.name)


async def branch_exemptions(db: Database, actor: Actor, org_id: int, today: date) -> ExemptionList:
    """减免记录: the branch's records, current and coming first, then the latest past ones."""
    async with db.read() as session:
        org_name = await _branch(session, actor, org_id, today)
        rows = await session.execute(
            select(DuesExemption, Member.name)
            .join(Member, Member.id == DuesExemption.member_id)
            .where(DuesExemption.org_id == org_id)
            .order_by(DuesExemption.until_month.desc(), DuesExemption.id.desc())
            .limit(LIST_MAX)
        )
        this = month_of(today)
        views = [_view(row, name) for row, name in rows.all()]
        current = tuple(v for v in views if v.until_month >= this)
        past = tuple(v for v in views if v.until_month < this)
        return ExemptionList(org_id, org_name, this, current, past)


async def exemption_of(db: Database, actor: Actor, exemption_id: int, today: date) -> ExemptionView:
    """One record, for its keeper (before ending it)."""
    async with db.read() as session:
        row = await session.get(DuesExemption, exemption_id)
        if row is None:
            raise NotFound("dues.exempt.not_found")
        await _branch(session, actor, row.org_id, today)
        member = await session.get(Member, row.member_id)
        return _view(row, member.name if member else "")


async def end_exemption(
    db: Database,
    actor: Actor,
    exemption_id: int,
    *,
    member_html: str,
    now: datetime,
    today: date,
) -> tuple[str, ExemptionView]:
    """结束: this month becomes the last one covered (an audited change of until_month, before
    and after in the audit row), or a record not begun yet is withdrawn (audited with what it
    was); the member told. Ending what has ended is refused. Returns (what was done, before)."""
    async with db.transaction() as session:
        row = await session.get(DuesExemption, exemption_id, with_for_update=True)
        if row is None:
            raise NotFound("dues.exempt.not_found")
        await _branch(session, actor, row.org_id, today)
        member = await session.get(Member, row.member_id)
        before = _view(row, member.name if member else "")
        this = month_of(today)
        done = ending(row.from_month, row.until_month, this)
        if done == "over":
            raise ServiceError("dues.exempt.over")
        snapshot = {"member_id": row.member_id, "amount_fen": row.amount_fen,
                    "from_month": row.from_month, "until_month": row.until_month}  # fmt: skip
        if done == "end":
            row.until_month = this
            after: dict[str, object] | None = {**snapshot, "until_month": this}
        else:
            await session.delete(row)
            after = None
        audit.record(
            session, at=now, actor_id=actor.user_id, action=f"dues.exemption.{done}",
            target_type="dues_exemption", target_id=exemption_id, before=snapshot, after=after,
        )  # fmt: skip
        if member is not None and member.user_id is not None:
            enqueue_text(session, chat_id=member.user_id, html=member_html, now=now)
        return done, before


async def active_exemption(
    session: AsyncSession, member_id: int, month: Month
) -> ExemptionView | None:
    """The member's record covering this month, or the next one coming (for 我的党费)."""
    row = await session.scalar(
        select(DuesExemption)
        .where(DuesExemption.member_id == member_id, DuesExemption.until_month >= month)
        .order_by(DuesExemption.from_month)
        .limit(1)
    )
    return None if row is None else _view(row, "")


async def exempt_branch(db: Database, actor: Actor, org_id: int, today: date) -> str:
    """The branch's name, once the actor keeps its dues (the 减免党费 screen)."""
    async with db.read() as session:
        return await _branch(session, actor, org_id, today)
