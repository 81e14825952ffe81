"""What the /notice wizard and /receipts screens need besides services.notices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.orgs import Level, Permission
from services.authz import Actor, descendants, require
from services.errors import NotFound
from services.notices import (
    Audience,
    BranchReceipts,
    NoticeView,
    PersonLine,
    audience_member_filter,
    notice_branches,
    notice_view,
)
from services.orgs import NamedItem, OrgView, load_org, org_view
from storage.db import Database
from storage.models import (
    Acknowledgement,
    ChatBinding,
    Member,
    Notice,
    Organization,
    OutboxItem,
    PartyGroup,
    User,
)


@dataclass(frozen=True)
class BranchPage:
    """One page of the branches under an organization, for the audience picker."""

    items: tuple[OrgView, ...]
    total: int


@dataclass(frozen=True)
class AudiencePreview:
    """What a notice to an audience would reach, for the preview before publishing."""

    branches: int
    groups: int
    private_copies: int
    without_group: tuple[str, ...]
    expected: int  # people expected to acknowledge, all branches together
    sample_expected: int  # the counter one branch's group copy starts from
    single_branch: OrgView | None  # the one branch reached, when there is exactly one
    party_groups: tuple[NamedItem, ...]  # of that single branch


@dataclass(frozen=True)
class BranchCount:
    """Acknowledgements of one branch, as counts."""

    org_id: int
    name: str
    acked: int
    expected: int


@dataclass(frozen=True)
class DeliveryProblem:
    """A copy that could not be delivered: to a branch group or to one person."""

    org_name: str | None
    person: str | None  # the member's name for a private copy
    is_group: bool
    status: str  # unreachable / failed
    error: str


@dataclass(frozen=True)
class ReceiptSummary:
    """The receipts screen of one notice: counts per branch and delivery problems."""

    notice: NoticeView
    branches: tuple[BranchCount, ...]
    problems: tuple[DeliveryProblem, ...]
    problem_total: int

    @property
    def acked(self) -> int:
        return sum(b.acked for b in self.branches)

    @property
    def expected(self) -> int:
        return sum(b.expected for b in self.branches)


def _branch_like(ids: set[int]) -> list[ColumnElement[bool]]:
    """Live organizations among `ids` that can have members and a group (not committees)."""
    return [
        Organization.id.in_(ids),
        Organization.level != Level.COMMITTEE,
        Organization.archived_at.is_(None),
    ]


async def branch_page(
    db: Database,
    actor: Actor,
    root_id: int,
    today: date,
    *,
    offset: int,
    limit: int,
    name_part: str = "",
) -> BranchPage:
    """Branches under an organization the actor may notify, by name, one page at a time;
    narrowed to those whose name contains `name_part` when one is typed."""
    async with db.read() as session:
        await load_org(session, root_id)
        await require(session, actor, root_id, Permission.SEND_NOTICE, today)
        ids = await descendants(session, {root_id})
        where = _branch_like(ids)
        if name_part:
            where.append(Organization.name.icontains(name_part, autoescape=True))
        total = int(
            await session.scalar(select(func.count()).select_from(Organization).where(*where)) or 0
        )
        rows = (
            await session.scalars(
                select(Organization)
                .where(*where)
                .order_by(Organization.name, Organization.id)
                .offset(max(offset, 0))
                .limit(limit)
            )
        ).all()
        return BranchPage(tuple(org_view(r) for r in rows), total)


async def branches_under(
    db: Database, actor: Actor, root_id: int, org_ids: list[int], today: date
) -> list[OrgView]:
    """Those of `org_ids` that are live branches under `root_id` (forged ids drop out)."""
    async with db.read() as session:
        await load_org(session, root_id)
        await require(session, actor, root_id, Permission.SEND_NOTICE, today)
        wanted = set(org_ids) & await descendants(session, {root_id})
        if not wanted:
            return []
        rows = (
            await session.scalars(
                select(Organization)
                .where(*_branch_like(wanted))
                .order_by(Organization.name, Organization.id)
            )
        ).all()
        return [org_view(r) for r in rows]


async def audience_preview(
    db: Database, actor: Actor, audience: Audience, today: date
) -> AudiencePreview:
    """How many branches, groups and people a notice to this audience would reach."""
    async with db.read() as session:
        for org_id in audience.org_ids:
            await load_org(session, org_id)
            await require(session, actor, org_id, Permission.SEND_NOTICE, today)
        branches = await notice_branches(session, audience)
        ids = [b.id for b in branches]
        bound = set(
            (
                await session.scalars(
                    select(ChatBinding.org_id).where(
                        ChatBinding.org_id.in_(ids),
                        ChatBinding.purpose == "main",
                        ChatBinding.active.is_(True),
                    )
                )
            ).all()
        )
        per_branch = dict(
            (
                await session.execute(
                    select(Member.org_id, func.count())
                    .where(Member.org_id.in_(ids), *audience_member_filter(audience))
                    .group_by(Member.org_id)
                )
            ).all()
        )
        private = 0
        if audience.private_copies:
            private = int(
                await session.scalar(
                    select(func.count())
                    .select_from(Member)
                    .join(User, User.id == Member.user_id)
                    .where(
                        Member.org_id.in_(ids),
                        *audience_member_filter(audience),
                        User.started.is_(True),
                        User.blocked_at.is_(None),
                    )
                )
                or 0
            )
        single = org_view(branches[0]) if len(branches) == 1 else None
        groups: tuple[NamedItem, ...] = ()
        if single is not None:
            rows = await session.execute(
                select(PartyGroup.id, PartyGroup.name)
                .where(PartyGroup.org_id == single.id)
                .order_by(PartyGroup.name)
            )
            groups = tuple(NamedItem(i, n) for i, n in rows.all())
        # The preview shows the counter of the first branch that gets a group copy.
        sample = next((b.id for b in branches if b.id in bound), ids[0] if ids else None)
        return AudiencePreview(
            branches=len(branches),
            groups=len(bound),
            private_copies=private,
            without_group=tuple(b.name for b in branches if b.id not in bound),
            expected=sum(int(n) for n in per_branch.values()),
            sample_expected=int(per_branch.get(sample, 0)) if sample is not None else 0,
            single_branch=single,
            party_groups=groups,
        )


async def _readable(session: AsyncSession, actor: Actor, notice_id: int, today: date) -> Notice:
    """The notice, if the actor sent it or may notify the organization it was sent for."""
    row = await session.get(Notice, notice_id)
    if row is None:
        raise NotFound("notice.not_found")
    if row.sender_id != actor.user_id:
        await require(session, actor, row.org_id, Permission.SEND_NOTICE, today)
    return row


def _ack_join(notice_id: int) -> ColumnElement[bool]:
    return and_(Acknowledgement.notice_id == notice_id, Acknowledgement.user_id == Member.user_id)


async def receipt_summary(
    db: Database, actor: Actor, notice_id: int, today: date, *, problems_limit: int = 20
) -> ReceiptSummary:
    """Acknowledged / expected per branch (counted in the database) and undelivered copies."""
    async with db.read() as session:
        row = await _readable(session, actor, notice_id, today)
        audience = Audience.from_json(row.audience)
        branches = await notice_branches(session, audience)
        ids = [b.id for b in branches]
        counts = {
            org_id: (int(acked), int(expected))
            for org_id, expected, acked in (
                await session.execute(
                    select(
                        Member.org_id, func.count(Member.id), func.count(Acknowledgement.user_id)
                    )
                    .outerjoin(Acknowledgement, _ack_join(notice_id))
                    .where(Member.org_id.in_(ids), *audience_member_filter(audience))
                    .group_by(Member.org_id)
                )
            ).all()
        }
        problem_filter = (
            OutboxItem.notice_id == notice_id,
            OutboxItem.purpose == "notice",
            OutboxItem.status.in_(["unreachable", "failed"]),
        )
        problem_total = int(
            await session.scalar(
                select(func.count()).select_from(OutboxItem).where(*problem_filter)
            )
            or 0
        )
        problems: list[DeliveryProblem] = []
        if problem_total:
            found = (
                await session.execute(
                    select(
                        OutboxItem.is_group,
                        OutboxItem.status,
                        OutboxItem.error,
                        Organization.name,
                        Member.name,
                    )
                    .outerjoin(Organization, Organization.id == OutboxItem.org_id)
                    .outerjoin(
                        Member,
                        and_(
                            OutboxItem.is_group.is_(False),
                            Member.user_id == OutboxItem.chat_id,
                            Member.org_id == OutboxItem.org_id,
                        ),
                    )
                    .where(*problem_filter)
                    .order_by(OutboxItem.id)
                    .limit(problems_limit)
                )
            ).all()
            problems = [
                DeliveryProblem(org, person, bool(is_group), status, error or "")
                for is_group, status, error, org, person in found
            ]
        return ReceiptSummary(
            notice=notice_view(row),
            branches=tuple(BranchCount(b.id, b.name, *counts.get(b.id, (0, 0))) for b in branches),
            problems=tuple(problems),
            problem_total=problem_total,
        )


async def branch_receipts(
    db: Database, actor: Actor, notice_id: int, org_id: int, today: date
) -> BranchReceipts:
    """Who in one branch acknowledged (and when) and who has not."""
    async with db.read() as session:
        row = await _readable(session, actor, notice_id, today)
        audience = Audience.from_json(row.audience)
        branch = next((b for b in await notice_branches(session, audience) if b.id == org_id), None)
        if branch is None:
            raise NotFound("org.not_found")
        people = (
            await session.execute(
                select(
                    Member.id,
                    Member.name,
                    Member.user_id,
                    User.started,
                    Acknowledgement.acked_at,
                )
                .outerjoin(User, User.id == Member.user_id)
                .outerjoin(Acknowledgement, _ack_join(notice_id))
                .where(Member.org_id == org_id, *audience_member_filter(audience))
                .order_by(Member.name, Member.id)
            )
        ).all()
    acked: list[PersonLine] = []
    missing: list[PersonLine] = []
    for member_id, name, user_id, started, acked_at in people:
        line = PersonLine(member_id, name, user_id, bool(started), acked_at)
        (acked if acked_at else missing).append(line)
    # Earliest first: the list reads as the order people responded in.
    acked.sort(key=lambda p: p.acked_at.timestamp() if p.acked_at else 0.0)
    return BranchReceipts(org_view(branch), tuple(acked), tuple(missing))


async def notice_for(db: Database, actor: Actor, notice_id: int, today: date) -> NoticeView:
    """A notice the actor may manage (its sender, or who may notify its organization)."""
    async with db.read() as session:
        return notice_view(await _readable(session, actor, notice_id, today))
