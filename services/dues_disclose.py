"""党费收缴情况公示: a branch's disclosure for a quarter, half-year or year — drafted from the
ledger, previewed, and published to the branch's group as a notice with 收到 and the monthly
collection chart after it; the keeper's show-amounts switch; the keepers' reminder when a
disclosure falls due; and which branches are overdue, for the committee's compliance table.

Publishing is one transaction: the dues_disclosures row (one per branch and period), the
notice with its outbox copies (services.notices.publish_in), the chart queued as a photo to
the same groups right after the notice's copies (a notice carries a Telegram file id, and the
chart is bytes the bot drew: the outbox's self-contained file item fits it), the draft taken,
and the audit row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.dues import Month, due_for, standing
from domain.dues_disclose import (
    DisclosureDraft,
    DisclosurePeriod,
    Line,
    member_status,
    offered,
    ordered,
    overdue_period,
    parse_period,
    reminder_period,
)
from domain.locale import negotiate_locale
from domain.orgs import Level, Permission, Role, Status
from services import audit
from services.authz import Actor, active_role_filter, permissions, require
from services.drafts import take_draft
from services.dues import CONFIRMED, paid_of, periods_of, settings_of
from services.errors import NotFound, ServiceError
from services.jobs import effective_timezones
from services.notices import Audience, NoticeSpec, publish_in
from services.outbox import enqueue_file
from storage.db import Database
from storage.models import (
    DuesDisclosure,
    DuesEntry,
    DuesRemittance,
    DuesSettings,
    DuesStandard,
    JobRun,
    Member,
    Organization,
    OutboxItem,
    RoleAssignment,
    User,
)
from storage.upsert import upsert

REMINDER_JOB = "dues-disclose"
BRANCH_REMINDER_JOB = "dues-disclose-branch"  # job_runs rows: one per branch and period
KEEPER_ROLES = (Role.ORGANIZATION, Role.DUES_KEEPER)
ORG_CHUNK = 500


@dataclass(frozen=True)
class PublishedRef:
    """A disclosure already published for a period."""

    period_key: str
    notice_id: int | None
    published_at: datetime


@dataclass(frozen=True)
class PeriodChoice:
    """A period offered on the 公示 screen, and whether it was published."""

    period: DisclosurePeriod
    published: PublishedRef | None


@dataclass(frozen=True)
class DiscloseMenu:
    """A branch's 公示 screen: the periods offered and the amounts mode in force."""

    org_id: int
    org_name: str
    disclosure_months: int
    show_amounts: bool
    can_switch: bool  # the keeper may switch amounts on or off
    choices: tuple[PeriodChoice, ...]


@dataclass(frozen=True)
class MonthFigures:
    """One month of the period: what was due and what was recorded as paid."""

    month: Month
    due_fen: int
    paid_fen: int


@dataclass(frozen=True)
class Disclosure:
    """Everything a disclosure post says for a branch and period."""

    org_id: int
    org_name: str
    period: DisclosurePeriod
    show_amounts: bool
    due_fen: int
    paid_fen: int
    remitted_fen: int
    months: tuple[MonthFigures, ...]
    lines: tuple[Line, ...]  # by name; paid_fen only when show_amounts
    published: PublishedRef | None


@dataclass(frozen=True)
class DisclosurePost:
    """The rendered post, as the keeper previewed it (texts in the keeper's language)."""

    org_id: int
    period_key: str
    show_amounts: bool
    title: str
    body_html: str
    chart_png: bytes
    chart_filename: str
    chart_caption: str


@dataclass(frozen=True)
class PublishedDisclosure:
    """What publishing queued."""

    disclosure_id: int
    notice_id: int
    period_key: str
    title: str
    groups: int
    expected: int


async def _branch(session: AsyncSession, org_id: int) -> Organization:
    org = await session.get(Organization, org_id)
    if org is None or org.level != Level.BRANCH or org.archived_at is not None:
        raise NotFound("org.not_found")
    return org


async def _published(session: AsyncSession, org_id: int, keys: Sequence[str]) -> dict[str, Any]:
    rows = await session.execute(
        select(DuesDisclosure.period_key, DuesDisclosure.notice_id, DuesDisclosure.published_at)
        .where(DuesDisclosure.org_id == org_id, DuesDisclosure.period_key.in_(list(keys)))
    )  # fmt: skip
    return {key: PublishedRef(key, notice, at) for key, notice, at in rows.all()}


async def disclose_menu(db: Database, actor: Actor, org_id: int, today: date) -> DiscloseMenu:
    """The 公示 screen of a branch: for those who see its members' dues (secretary, keepers)."""
    async with db.read() as session:
        await require(session, actor, org_id, Permission.VIEW_DUES, today)
        org = await _branch(session, org_id)
        settings = await settings_of(session, org_id)
        can_switch = Permission.KEEP_DUES in await permissions(session, actor, org_id, today)
        periods = offered(settings.disclosure_months, today)
        done = await _published(session, org_id, [p.key for p in periods])
        return DiscloseMenu(
            org_id, org.name, settings.disclosure_months, settings.show_amounts, can_switch,
            tuple(PeriodChoice(p, done.get(p.key)) for p in periods),
        )  # fmt: skip


async def disclosure_in(session: AsyncSession, org_id: int, period: DisclosurePeriod) -> Disclosure:
    """A branch's disclosure figures (no authorization: callers check it)."""
    org = await _branch(session, org_id)
    settings = await settings_of(session, org_id)
    roster = (
        await session.execute(
            select(Member.id, Member.name).where(
                Member.org_id == org_id, Member.status == Status.ACTIVE
            )
        )
    ).all()
    ids = [member_id for member_id, _ in roster]
    spans_by = await periods_of(session, ids)
    paid_by = await paid_of(session, ids)
    months = period.months
    due_month: dict[Month, int] = defaultdict(int)
    lines: list[Line] = []
    for member_id, name in roster:
        spans = spans_by.get(member_id)
        if not spans:
            continue  # no confirmed standard: the branch does not keep this member's dues here
        paid = paid_by.get(member_id, {})
        since = min(p.from_month for p in spans)
        if since > period.last_month:
            continue  # a standard from after the period: nothing was due in it
        for month in months:
            due_month[month] += due_for(spans, month) or 0
        status = member_status(standing(spans, paid, period.last_month, since), spans)
        shown = sum(paid.get(m, 0) for m in months) if settings.show_amounts else None
        lines.append(Line(member_id, name, status, shown))
    paid_rows = await session.execute(
        select(DuesEntry.month, func.sum(DuesEntry.amount_fen))
        .where(DuesEntry.org_id == org_id, DuesEntry.month >= period.first_month,
               DuesEntry.month <= period.last_month, DuesEntry.kind.in_(("dues", "correction")))
        .group_by(DuesEntry.month)
    )  # fmt: skip
    paid_month = {int(m): int(total or 0) for m, total in paid_rows.all() if m is not None}
    remitted = await session.scalar(
        select(func.coalesce(func.sum(DuesRemittance.amount_fen), 0)).where(
            DuesRemittance.org_id == org_id,
            DuesRemittance.from_month >= period.first_month,
            DuesRemittance.until_month <= period.last_month,
        )
    )
    figures = tuple(MonthFigures(m, due_month.get(m, 0), paid_month.get(m, 0)) for m in months)
    done = await _published(session, org_id, [period.key])
    return Disclosure(
        org_id, org.name, period, settings.show_amounts,
        sum(f.due_fen for f in figures), sum(f.paid_fen for f in figures), int(remitted or 0),
        figures, tuple(ordered(lines)), done.get(period.key),
    )  # fmt: skip


def _period(key: str) -> DisclosurePeriod:
    period = parse_period(key)
    if period is None:
        raise ServiceError("stale")
    return period


async def disclosure(
    db: Database, actor: Actor, org_id: int, period_key: str, today: date
) -> Disclosure:
    """A branch's disclosure for a period, to preview or publish: for those who see its
    members' dues (the secretary, the keepers)."""
    period = _period(period_key)
    async with db.read() as session:
        await require(session, actor, org_id, Permission.VIEW_DUES, today)
        return await disclosure_in(session, org_id, period)


async def set_show_amounts(
    db: Database, actor: Actor, org_id: int, show: bool, *, now: datetime, today: date
) -> bool:
    """The keeper switches per-member amounts in the branch's disclosures on or off (audited);
    the new setting."""
    async with db.transaction() as session:
        await require(session, actor, org_id, Permission.KEEP_DUES, today)
        await _branch(session, org_id)
        before = (await settings_of(session, org_id)).show_amounts
        if before == show:
            return show
        await upsert(
            session, DuesSettings.__table__,  # type: ignore[arg-type]
            {"org_id": org_id, "show_amounts": show, "updated_by": actor.user_id,
             "updated_at": now},
            key=["org_id"], update=["show_amounts", "updated_by", "updated_at"],
        )  # fmt: skip
        audit.record(
            session, at=now, actor_id=actor.user_id or None, action="dues.disclose.amounts",
            target_type="organization", target_id=org_id,
            before={"show_amounts": before}, after={"show_amounts": show},
        )  # fmt: skip
        return show


async def publish_disclosure(
    db: Database, actor: Actor, post: DisclosurePost, *, now: datetime, today: date
) -> PublishedDisclosure:
    """确认发布: the previewed disclosure becomes a notice to the branch's group (with 收到),
    the chart follows it, the period is marked published — one transaction, audited. A period
    already published is refused (naming when); so is a preview whose amounts mode changed."""
    period = _period(post.period_key)
    async with db.transaction() as session:
        draft = await take_draft(session, actor.user_id, DisclosureDraft)
        if (
            draft is None
            or draft.step != "pre"
            or (draft.org_id, draft.period_key) != (post.org_id, period.key)
        ):
            raise ServiceError("stale")
        await require(session, actor, post.org_id, Permission.VIEW_DUES, today)
        earlier = (await _published(session, post.org_id, [period.key])).get(period.key)
        if earlier is not None:
            raise ServiceError("dues.disclose.already", published_at=earlier.published_at)
        settings = await settings_of(session, post.org_id)
        if settings.show_amounts != post.show_amounts or draft.show_amounts != post.show_amounts:
            raise ServiceError("dues.disclose.mode_changed")
        spec = NoticeSpec(
            org_id=post.org_id, category="announcement", title=post.title,
            body_html=post.body_html, audience=Audience((post.org_id,)), ack_label="received",
        )  # fmt: skip
        # The secretary and the keepers publish it: those who see the members' dues.
        result = await publish_in(session, actor, spec, now=now, today=today,
                                  permission=Permission.VIEW_DUES)  # fmt: skip
        if not result.groups:
            raise ServiceError("dues.disclose.no_group")  # the rollback keeps the draft
        copies = (
            await session.execute(
                select(OutboxItem.chat_id, OutboxItem.thread_id)
                .where(OutboxItem.notice_id == result.notice.id, OutboxItem.is_group.is_(True))
                .order_by(OutboxItem.id)
            )
        ).all()
        await session.flush()  # the chart's items come after the notice's copies
        for chat_id, thread_id in copies:
            enqueue_file(
                session, chat_id=chat_id, thread_id=thread_id, is_group=True, now=now,
                filename=post.chart_filename, data=post.chart_png,
                caption_html=post.chart_caption, as_photo=True,
            )  # fmt: skip
        row = DuesDisclosure(
            org_id=post.org_id, period_key=period.key, notice_id=result.notice.id,
            show_amounts=post.show_amounts, published_by=actor.user_id, published_at=now,
        )  # fmt: skip
        session.add(row)
        try:
            await session.flush()
        except IntegrityError:  # published by someone else a moment ago
            raise ServiceError("dues.disclose.already", published_at=now) from None
        audit.record(
            session, at=now, actor_id=actor.user_id or None, action="dues.disclose.publish",
            target_type="dues_disclosure", target_id=row.id,
            after={"org_id": post.org_id, "period": period.key, "notice_id": result.notice.id,
                   "show_amounts": post.show_amounts, "groups": result.groups},
        )  # fmt: skip
        return PublishedDisclosure(
            row.id, result.notice.id, period.key, result.notice.title, result.groups,
            result.expected,
        )  # fmt: skip


# ---- branches that keep dues in zhibu: reminders and the overdue flag ----


def _keeping() -> Any:
    """Branches someone has a confirmed standard in (those that keep dues in zhibu)."""
    return select(DuesStandard.org_id).where(DuesStandard.status == CONFIRMED).distinct()


@dataclass(frozen=True)
class KeeperReminder:
    """One keeper to remind that a branch's disclosure for a period is due."""

    org_id: int
    org_name: str
    period: DisclosurePeriod
    user_id: int
    locale: str
    key: str  # the branch's once-only key


def reminder_key(org_id: int, period: DisclosurePeriod) -> str:
    """The once-only key of a branch's reminder for a period."""
    return f"{org_id}:{period.key}"


async def reminders_due(
    session: AsyncSession, zone: str, default_tz: str, day: date, default_locale: str
) -> list[KeeperReminder]:
    """The keepers to remind on this local day in this zone: branches that keep dues in
    zhibu, whose period (by their disclosure_months) ended yesterday, not yet published and
    not yet reminded."""
    zones = await effective_timezones(session, default_tz)
    branch_rows = (
        await session.execute(
            select(Organization.id, Organization.name, DuesSettings.disclosure_months)
            .outerjoin(DuesSettings, DuesSettings.org_id == Organization.id)
            .where(Organization.level == Level.BRANCH, Organization.archived_at.is_(None),
                   Organization.id.in_(_keeping()))
            .order_by(Organization.id)
        )
    ).all()  # fmt: skip
    due: dict[int, tuple[str, DisclosurePeriod]] = {}
    for org_id, name, months in branch_rows:
        if zones.get(org_id, default_tz) != zone:
            continue
        period = reminder_period(int(months or 3), day)
        if period is not None:
            due[org_id] = (name, period)
    if not due:
        return []
    found: list[KeeperReminder] = []
    ids = sorted(due)
    for start in range(0, len(ids), ORG_CHUNK):
        chunk = ids[start : start + ORG_CHUNK]
        keys = [reminder_key(o, due[o][1]) for o in chunk]
        reminded = set(
            await session.scalars(
                select(JobRun.key).where(JobRun.job == BRANCH_REMINDER_JOB, JobRun.key.in_(keys))
            )
        )
        published = set(
            (
                await session.execute(
                    select(DuesDisclosure.org_id, DuesDisclosure.period_key).where(
                        DuesDisclosure.org_id.in_(chunk)
                    )
                )
            ).all()
        )
        user = func.coalesce(RoleAssignment.user_id, Member.user_id)
        keepers = await session.execute(
            select(RoleAssignment.org_id, User.id, User.locale, User.language_code)
            .select_from(RoleAssignment)
            .outerjoin(Member, Member.id == RoleAssignment.member_id)
            .join(User, User.id == user)
            .where(RoleAssignment.org_id.in_(chunk),
                   RoleAssignment.role.in_([r.value for r in KEEPER_ROLES]),
                   *active_role_filter(day), User.started.is_(True), User.blocked_at.is_(None),
                   (RoleAssignment.member_id.is_(None)) | (Member.status == Status.ACTIVE))
            .order_by(RoleAssignment.org_id, RoleAssignment.id)
        )  # fmt: skip
        seen: set[tuple[int, int]] = set()
        for org_id, uid, locale, language in keepers.all():
            name, period = due[org_id]
            key = reminder_key(org_id, period)
            if key in reminded or (org_id, period.key) in published or (org_id, uid) in seen:
                continue
            seen.add((org_id, uid))
            found.append(KeeperReminder(org_id, name, period, uid,
                                        locale or negotiate_locale(language, default_locale),
                                        key))  # fmt: skip
    return found


async def record_reminded(
    session: AsyncSession, reminders: Sequence[KeeperReminder], due_at: datetime, now: datetime
) -> None:
    """In the reminder's transaction: each branch's period marked as reminded (never twice)."""
    keys = sorted({r.key for r in reminders})
    if keys:
        await session.execute(
            insert(JobRun),
            [{"job": BRANCH_REMINDER_JOB, "key": key, "due_at": due_at, "ran_at": now,
              "outcome": "done", "detail": {}} for key in keys],
        )  # fmt: skip


async def overdue_disclosures(
    session: AsyncSession, branch_ids: Sequence[int], as_of: Mapping[int, date]
) -> dict[int, DisclosurePeriod]:
    """Branches (of these) whose disclosure is overdue on their as_of day: they keep dues in
    zhibu, a standard was in force by the period's end, and the latest period that should be
    published by then (domain.dues_disclose.overdue_period) is not."""
    wanted: dict[int, DisclosurePeriod] = {}
    for start in range(0, len(branch_ids), ORG_CHUNK):
        chunk = list(branch_ids[start : start + ORG_CHUNK])
        first_standard = dict(
            (
                await session.execute(
                    select(DuesStandard.org_id, func.min(DuesStandard.from_month))
                    .where(DuesStandard.org_id.in_(chunk), DuesStandard.status == CONFIRMED)
                    .group_by(DuesStandard.org_id)
                )
            ).all()
        )
        if not first_standard:
            continue
        months = dict(
            (
                await session.execute(
                    select(DuesSettings.org_id, DuesSettings.disclosure_months).where(
                        DuesSettings.org_id.in_(list(first_standard))
                    )
                )
            ).all()
        )
        for org_id, since in first_standard.items():
            day = as_of.get(org_id)
            if day is None:
                continue
            period = overdue_period(int(months.get(org_id) or 3), day)
            if since <= period.last_month:
                wanted[org_id] = period
        if wanted:
            published = set(
                (
                    await session.execute(
                        select(DuesDisclosure.org_id, DuesDisclosure.period_key).where(
                            DuesDisclosure.org_id.in_([o for o in chunk if o in wanted])
                        )
                    )
                ).all()
            )
            for org_id in [o for o in chunk if o in wanted]:
                if (org_id, wanted[org_id].key) in published:
                    del wanted[org_id]
    return wanted
