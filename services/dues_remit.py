"""上缴: a branch's keeper records dues handed to the committee (a period, the amount, the day,
maybe a photo of the receipt); the committee's keepers are told and confirm receipt; the
committee sees, per branch and period, what was due, collected, remitted and confirmed.

Every remittance and confirmation is audited. The notification is rendered by the caller in
every language and queued here, in the remittance's transaction, with its 确认收到 button.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.dues import Month, due_for, months_between
from domain.dues_cycle import check_remittance, remit_confirm_data
from domain.dues_remit import (
    PAST_SHOWN,
    STEPS,
    RemitDraft,
    Span,
    remit_proof_data,
    start,
    with_collected,
)
from domain.locale import negotiate_locale
from domain.orgs import Level, Permission, Role, Status
from domain.wizard import Event, Refusal, apply
from services.audit import record
from services.authz import (
    Actor,
    active_role_filter,
    ancestry,
    descendants,
    orgs_with,
    permissions,
    require,
)
from services.drafts import finish_draft, keep_draft, open_draft
from services.dues import CONFIRMED, periods_of
from services.errors import NotFound, ServiceError
from services.outbox import add_items, enqueue_file, item_values
from storage.db import Database
from storage.models import (
    DuesEntry,
    DuesExemption,
    DuesRemittance,
    DuesStandard,
    Member,
    Organization,
    RoleAssignment,
    User,
)

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
    proof_label: str = ""  # 看凭证, when a photo of the receipt goes with it


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


async def _record(
    session: AsyncSession,
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
    """The remittance written, audited, and the committee's keepers told (the caller's
    transaction)."""
    problem = check_remittance(plan.from_month, plan.until_month, amount_fen, paid_on, today)
    if problem is not None:
        raise ServiceError(problem)
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
        buttons = [[[text.confirm_label, data]]]
        if proof_file_id and text.proof_label:
            buttons[0].append([text.proof_label, "cb:" + remit_proof_data(row.id)])
        payload = {"html": text.html, "buttons": buttons}
        items.append(
            item_values(purpose="text", chat_id=uid, org_id=committee.id, now=now, payload=payload)
        )
    await add_items(session, items)
    return _view(row, plan.branch, committee.name, len(items))


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
    async with db.transaction() as session:
        return await _record(
            session, actor, plan, amount_fen=amount_fen, paid_on=paid_on,
            proof_file_id=proof_file_id, texts=texts, default_locale=default_locale, now=now,
            today=today,
        )  # fmt: skip


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


# ---- the keeper's wizard (domain.dues_remit) ----


async def _spans(session: AsyncSession, org_id: int) -> tuple[Span, ...]:
    rows = await session.execute(
        select(DuesRemittance.from_month, DuesRemittance.until_month, DuesRemittance.amount_fen,
               DuesRemittance.confirmed_at)
        .where(DuesRemittance.org_id == org_id)
        .order_by(DuesRemittance.until_month.desc(), DuesRemittance.id.desc())
    )  # fmt: skip
    return tuple(Span(int(f), int(u), int(a), c is not None) for f, u, a, c in rows.all())


async def start_remit(
    db: Database, actor: Actor, org_id: int, now: datetime, today: date
) -> RemitDraft:
    """上缴党费 opened for a branch the actor keeps: its committee and earlier remittances,
    kept as their draft at the period question."""
    async with db.read() as session:
        await require(session, actor, org_id, Permission.KEEP_DUES, today)
        branch = await session.get(Organization, org_id)
        if branch is None or branch.archived_at is not None:
            raise NotFound("org.not_found")
        committee = await _committee_of(session, org_id)
        draft = start(org_id, branch.name, committee.id, committee.name,
                      await _spans(session, org_id))  # fmt: skip
    return await keep_draft(db, actor.user_id, draft, now)


async def open_remit(db: Database, actor: Actor) -> RemitDraft | None:
    """The keeper's open 上缴党费 draft, if any."""
    draft = await open_draft(db, actor.user_id, RemitDraft)
    return draft if isinstance(draft, RemitDraft) else None


async def remit_step(
    db: Database, actor: Actor, event: Event, now: datetime, today: date
) -> RemitDraft:
    """A press or a typed answer in 上缴党费 (`now` local): the draft after it (kept), or
    why not. A period chosen is read against the branch's ledger (re-authorized)."""
    draft = await open_remit(db, actor)
    if draft is None:
        raise ServiceError("stale")
    moved = apply(STEPS, draft, event, now)
    if isinstance(moved, Refusal):
        raise ServiceError(moved.code, **moved.params)
    if draft.step in ("period", "overlap") and event.action in ("pick", "text"):
        async with db.read() as session:
            await require(session, actor, moved.org_id, Permission.KEEP_DUES, today)
            got = await collected(session, moved.org_id, moved.from_month, moved.until_month)
            moved = with_collected(replace(moved, past=await _spans(session, moved.org_id)), got)
    return await keep_draft(db, actor.user_id, moved, now)


def plan_of(draft: RemitDraft) -> RemitPlan:
    """What the draft is about to remit."""
    return RemitPlan(draft.org_id, draft.branch, draft.to_org_id, draft.committee,
                     draft.from_month, draft.until_month, draft.collected_fen)  # fmt: skip


async def finish_remittance(
    db: Database,
    actor: Actor,
    draft: RemitDraft,
    *,
    texts: Mapping[str, RemitText],
    default_locale: str,
    now: datetime,
    today: date,
) -> RemitView:
    """确认上缴: exactly the previewed draft taken and recorded, the committee's keepers told,
    in one transaction (a second press, or a draft changed meanwhile, is refused as stale)."""
    if draft.step != "review" or not draft.paid_on:
        raise ServiceError("stale")
    async with db.transaction() as session:
        await finish_draft(session, actor.user_id, draft)
        return await _record(
            session, actor, plan_of(draft), amount_fen=draft.amount_fen,
            paid_on=date.fromisoformat(draft.paid_on),
            proof_file_id=draft.proof_file_id or None, texts=texts,
            default_locale=default_locale, now=now, today=today,
        )  # fmt: skip


async def branch_remittances(
    db: Database, actor: Actor, org_id: int, today: date, limit: int = PAST_SHOWN
) -> list[RemitView]:
    """A branch's remittances, newest first, for its keepers."""
    async with db.read() as session:
        await require(session, actor, org_id, Permission.KEEP_DUES, today)
        branch = await session.get(Organization, org_id)
        rows = (
            await session.scalars(
                select(DuesRemittance)
                .where(DuesRemittance.org_id == org_id)
                .order_by(DuesRemittance.until_month.desc(), DuesRemittance.id.desc())
                .limit(limit)
            )
        ).all()
        names = await _names(session, {r.to_org_id for r in rows})
        return [_view(r, branch.name if branch else "", names.get(r.to_org_id, "")) for r in rows]


async def _names(session: AsyncSession, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await session.execute(
        select(Organization.id, Organization.name).where(Organization.id.in_(list(ids)))
    )
    return {int(i): str(n) for i, n in rows.all()}


async def remittance_of(db: Database, actor: Actor, remittance_id: int, today: date) -> RemitView:
    """One remittance, for the branch's keepers or those who see the receiving committee
    (看凭证)."""
    async with db.read() as session:
        row = await session.get(DuesRemittance, remittance_id)
        if row is None:
            raise NotFound("dues.remit.not_found")
        if Permission.KEEP_DUES not in await permissions(session, actor, row.org_id, today):
            await require(session, actor, row.to_org_id, Permission.VIEW_ROSTER, today)
        names = await _names(session, {row.org_id, row.to_org_id})
        return _view(row, names.get(row.org_id, ""), names.get(row.to_org_id, ""))


@dataclass(frozen=True)
class BranchRemits:
    """One branch's dues over a period, as its committee sees them (totals only)."""

    org_id: int
    name: str
    due_fen: int
    collected_fen: int
    remitted_fen: int
    confirmed_fen: int


CHUNK = 1_000  # branch ids per IN list


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for begin in range(0, len(ids), CHUNK):
        yield ids[begin : begin + CHUNK]


def _month_index(month: Any) -> Any:
    """yyyymm as a count of months (a SQL expression for a column: integer division)."""
    return month // 100 * 12 + month % 100


async def branch_remits(
    session: AsyncSession, branches: Sequence[tuple[int, str]], first: Month, last: Month
) -> list[BranchRemits]:
    """Per branch, for the months first…last: due, collected, remitted (remittances whose
    period lies within), confirmed.

    Most members have one confirmed standard and no exemption: their due is the standard
    times the months it was in force, summed by the database per branch. The others (a
    standard that changed, an exemption) are worked out month by month (domain.dues).
    """
    ids = [org_id for org_id, _ in branches]
    due: dict[int, int] = {}
    got: dict[int, int] = {}
    remitted: dict[int, int] = {}
    confirmed: dict[int, int] = {}
    several = (
        select(DuesStandard.member_id)
        .where(DuesStandard.status == CONFIRMED)
        .group_by(DuesStandard.member_id)
        .having(func.count() > 1)
    )
    exempt = select(DuesExemption.member_id)
    start = case((DuesStandard.from_month > first, DuesStandard.from_month), else_=first)
    months = _month_index(last) - _month_index(start) + 1
    for part in _chunks(ids):
        active = and_(Member.org_id.in_(list(part)), Member.status == Status.ACTIVE)
        simple = await session.execute(
            select(Member.org_id, func.sum(DuesStandard.amount_fen * months))
            .join(Member, Member.id == DuesStandard.member_id)
            .where(active, DuesStandard.status == CONFIRMED, DuesStandard.from_month <= last,
                   DuesStandard.member_id.not_in(several), DuesStandard.member_id.not_in(exempt))
            .group_by(Member.org_id)
        )  # fmt: skip
        for org_id, fen in simple.all():
            due[int(org_id)] = int(fen or 0)
        others = await session.execute(
            select(Member.id, Member.org_id).where(
                active, Member.id.in_(several) | Member.id.in_(exempt)
            )
        )
        branch_of = {int(m): int(o) for m, o in others.all()}
        if branch_of:
            periods = await periods_of(session, list(branch_of))
            span = months_between(first, last)
            for member_id, org_id in branch_of.items():
                spans = periods.get(member_id, [])
                due[org_id] = due.get(org_id, 0) + sum(due_for(spans, m) or 0 for m in span)
        entries = await session.execute(
            select(DuesEntry.org_id, func.sum(DuesEntry.amount_fen))
            .where(DuesEntry.org_id.in_(list(part)), DuesEntry.month >= first,
                   DuesEntry.month <= last, DuesEntry.kind.in_(("dues", "correction")))
            .group_by(DuesEntry.org_id)
        )  # fmt: skip
        got.update((int(o), int(f or 0)) for o, f in entries.all())
        rows = await session.execute(
            select(DuesRemittance.org_id, DuesRemittance.amount_fen, DuesRemittance.confirmed_at)
            .where(DuesRemittance.org_id.in_(list(part)), DuesRemittance.from_month >= first,
                   DuesRemittance.until_month <= last)
        )  # fmt: skip
        for org_id, amount, confirmed_at in rows.all():
            remitted[org_id] = remitted.get(org_id, 0) + amount
            if confirmed_at is not None:
                confirmed[org_id] = confirmed.get(org_id, 0) + amount
    return [
        BranchRemits(b, name, due.get(b, 0), got.get(b, 0), remitted.get(b, 0),
                     confirmed.get(b, 0))
        for b, name in branches
    ]  # fmt: skip


async def _branches_under(session: AsyncSession, committee_id: int) -> list[tuple[int, str]]:
    under = await descendants(session, {committee_id})
    rows = await session.execute(
        select(Organization.id, Organization.name)
        .where(Organization.id.in_(list(under)), Organization.level == Level.BRANCH,
               Organization.archived_at.is_(None))
        .order_by(Organization.name, Organization.id)
    )  # fmt: skip
    return [(int(i), str(n)) for i, n in rows.all()]


async def committee_remits(
    db: Database, actor: Actor, committee_id: int, first: Month, last: Month, today: date
) -> list[BranchRemits]:
    """Per branch under a committee, for the months first…last: due, collected, remitted
    (remittances whose period lies within), confirmed. For those who see the committee."""
    async with db.read() as session:
        await require(session, actor, committee_id, Permission.VIEW_ROSTER, today)
        return await branch_remits(
            session, await _branches_under(session, committee_id), first, last
        )


# ---- the committee's 上缴情况 ----

PAGE_SIZE = 20
PENDING_SHOWN = 5


@dataclass(frozen=True)
class RemitBoard:
    """One page of a committee's 上缴情况 for a period: the branches shown, the totals of all
    (or of those whose name holds `query`), and remittances waiting for 确认收到."""

    committee_id: int
    committee: str
    from_month: Month
    until_month: Month
    query: str
    page: int
    pages: int
    rows: tuple[BranchRemits, ...]
    branches: int  # matching branches
    none_remitted: int  # matching branches that remitted nothing for the period
    due_fen: int
    collected_fen: int
    remitted_fen: int
    confirmed_fen: int
    can_confirm: bool  # the viewer keeps the committee's dues
    pending: tuple[RemitView, ...]  # waiting for 确认收到 (the first few)
    pending_count: int


async def remit_committees(db: Database, actor: Actor, today: date) -> list[tuple[int, str]]:
    """The committees whose 上缴情况 the actor may see."""
    async with db.read() as session:
        ids = await orgs_with(session, actor, Permission.VIEW_ROSTER, today,
                              level=Level.COMMITTEE)  # fmt: skip
        names = await _names(session, set(ids))
        return [(i, names[i]) for i in ids if i in names]


async def remit_board(
    db: Database, actor: Actor, committee_id: int, first: Month, last: Month, *, page: int,
    query: str, today: date,
) -> tuple[RemitBoard, list[BranchRemits]]:  # fmt: skip
    """A page of the committee's 上缴情况 (and every matching branch's line, for the
    export); the page is clamped to the last one."""
    async with db.read() as session:
        granted = await permissions(session, actor, committee_id, today)
        if Permission.VIEW_ROSTER not in granted:
            raise ServiceError("dues.board.denied")
        committee = await session.get(Organization, committee_id)
        if committee is None or committee.level != Level.COMMITTEE:
            raise NotFound("org.not_found")
        branches = await _branches_under(session, committee_id)
        if query:
            folded = query.casefold()
            branches = [(i, n) for i, n in branches if folded in n.casefold()]
        lines = await branch_remits(session, branches, first, last)
        pages = max(1, -(-len(lines) // PAGE_SIZE))
        page = min(max(page, 0), pages - 1)
        waiting = (
            select(DuesRemittance)
            .where(DuesRemittance.to_org_id == committee_id,
                   DuesRemittance.confirmed_at.is_(None),
                   DuesRemittance.from_month >= first, DuesRemittance.until_month <= last)
        )  # fmt: skip
        pending_count = int(
            await session.scalar(select(func.count()).select_from(waiting.subquery())) or 0
        )
        pending_rows = (
            await session.scalars(
                waiting.order_by(DuesRemittance.recorded_at, DuesRemittance.id).limit(PENDING_SHOWN)
            )
        ).all()
        names = await _names(session, {r.org_id for r in pending_rows})
        pending = tuple(_view(r, names.get(r.org_id, ""), committee.name) for r in pending_rows)
    board = RemitBoard(
        committee_id, committee.name, first, last, query, page, pages,
        tuple(lines[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]), len(lines),
        sum(1 for x in lines if x.remitted_fen == 0), sum(x.due_fen for x in lines),
        sum(x.collected_fen for x in lines), sum(x.remitted_fen for x in lines),
        sum(x.confirmed_fen for x in lines), Permission.KEEP_DUES in granted, pending,
        pending_count,
    )  # fmt: skip
    return board, lines


async def queue_remits_file(
    db: Database, actor: Actor, committee_id: int, *, first: Month, last: Month,
    filename: str, data: bytes, caption_html: str, now: datetime, today: date,
) -> int:  # fmt: skip
    """The 上缴情况 workbook sent to the actor through the outbox, audited as an export, in one
    transaction (re-authorized). The item id."""
    async with db.transaction() as session:
        if Permission.VIEW_ROSTER not in await permissions(session, actor, committee_id, today):
            raise ServiceError("dues.board.denied")
        item = enqueue_file(session, chat_id=actor.user_id, filename=filename, data=data,
                            caption_html=caption_html, as_photo=False, now=now)  # fmt: skip
        record(session, at=now, actor_id=actor.user_id or None, action="dues.export",
               target_type="organization", target_id=committee_id,
               after={"ledger": "remits", "from_month": first, "until_month": last,
                      "file": filename})  # fmt: skip
        await session.flush()
        return item.id
