"""Dues standards (党费标准): 我的党费 (a member's own standard and standing), declaring one's
income category and base, and the keeper confirming, correcting or sending it back.

The base (income) is private: it is kept on the declared row only until the keeper decides,
then set to NULL in the same transaction; audits and notices never carry it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.dues import (
    Category,
    Invalid,
    Month,
    RateTable,
    Standard,
    Standing,
    add_months,
    month_of,
    standard,
)
from domain.dues_wizard import AMOUNT_MAX_FEN, Correction, DecideDraft, DeclareDraft
from domain.locale import negotiate_locale
from domain.orgs import Permission, Role, Status
from services import audit
from services.authz import Actor, active_role_filter, require
from services.drafts import finish_draft, keep_draft_in
from services.dues import CONFIRMED, paid_of, rate_table_for, standings
from services.dues_exempt import ExemptionView, active_exemption
from services.dues_notes import Localized, Note, in_locale, reader_locales
from services.errors import ServiceError
from services.jobs import effective_timezones
from services.outbox import ButtonRows, enqueue_text
from storage.db import Database
from storage.models import (
    DuesClaim,
    DuesStandard,
    Member,
    Organization,
    RoleAssignment,
    User,
)

DECLARED = "declared"
REJECTED = "rejected"
SUPERSEDED = "superseded"
REPLACED = "replaced"  # a newer declaration came before the keeper decided this one
HISTORY_MONTHS = 12
KEEPER_ROLES = (Role.ORGANIZATION, Role.DUES_KEEPER)
CHUNK = 1000  # ids bound in one statement (SQLite and asyncpg cap a statement's parameters)


@dataclass(frozen=True)
class StandardView:
    """A standard as shown: category, bracket, rate and amount (never the base)."""

    category: Category
    amount_fen: int
    permille: int
    lower_fen: int | None
    upper_fen: int | None
    from_month: Month


@dataclass(frozen=True)
class MyDues:
    """我的党费: the member's standard, standing, last year's payments and what is pending."""

    member_id: int
    name: str
    org_name: str
    current: StandardView | None
    pending: StandardView | None  # a declaration the keeper has not decided yet
    standing: Standing | None
    history: tuple[tuple[Month, int], ...]  # paid per month, the last 12 and any ahead
    pending_claims: int
    exemption: ExemptionView | None = None  # a reduction or exemption now or coming


@dataclass(frozen=True)
class Declared:
    """A declaration submitted: for whom, and how many keepers were told."""

    member_id: int
    name: str
    org_name: str
    keepers: int


@dataclass(frozen=True)
class Decision:
    """A keeper's decision on a declaration, as the reply shows it."""

    member_id: int
    name: str
    status: str  # confirmed / rejected
    standard: StandardView
    corrected: bool
    reason: str | None


def _view(row: DuesStandard) -> StandardView:
    return StandardView(Category(row.category), row.amount_fen, row.permille, row.lower_fen,
                        row.upper_fen, row.from_month)  # fmt: skip


async def _own_entry(session: AsyncSession, actor: Actor) -> Member:
    entry = await session.scalar(
        select(Member)
        .where(Member.user_id == actor.user_id, Member.status == Status.ACTIVE)
        .order_by(Member.id)
        .limit(1)
    )
    if entry is None:
        raise ServiceError("dues.not_member")
    return entry


async def my_dues(db: Database, actor: Actor, today: date) -> MyDues:
    """The person's own dues: keyed reads for their one roster entry."""
    async with db.read() as session:
        entry = await _own_entry(session, actor)
        org_name = await session.scalar(
            select(Organization.name).where(Organization.id == entry.org_id)
        )
        rows = (
            await session.scalars(
                select(DuesStandard)
                .where(
                    DuesStandard.member_id == entry.id,
                    DuesStandard.status.in_((CONFIRMED, DECLARED)),
                )
                .order_by(DuesStandard.from_month, DuesStandard.id)
            )
        ).all()
        this = month_of(today)
        confirmed = [r for r in rows if r.status == CONFIRMED and r.from_month <= this]
        if not confirmed:
            confirmed = [r for r in rows if r.status == CONFIRMED]
        declared = [r for r in rows if r.status == DECLARED]
        stand = (await standings(session, [entry.id], today)).get(entry.id)
        paid = (await paid_of(session, [entry.id])).get(entry.id, {})
        first = add_months(this, -(HISTORY_MONTHS - 1))
        history = tuple((m, paid[m]) for m in sorted(paid) if first <= m)  # advance too
        claims = await session.scalar(
            select(func.count())
            .select_from(DuesClaim)
            .where(DuesClaim.member_id == entry.id, DuesClaim.status == "pending")
        )
        return MyDues(
            entry.id, entry.name, org_name or "",
            _view(confirmed[-1]) if confirmed else None,
            _view(declared[-1]) if declared else None,
            stand, history, int(claims or 0),
            await active_exemption(session, entry.id, this),
        )  # fmt: skip


async def declaring(db: Database, actor: Actor) -> tuple[int, int, str, RateTable]:
    """To start declaring: the person's roster entry (id, branch, name) and the rate table
    in force."""
    async with db.read() as session:
        entry = await _own_entry(session, actor)
        return entry.id, entry.org_id, entry.name, await rate_table_for(session, entry.org_id)


async def keepers_of(session: AsyncSession, org_id: int, today: date) -> list[int]:
    """The Telegram ids of the branch's dues keepers (组织委员, 党费管理员) today."""
    rows = await session.execute(
        select(RoleAssignment.user_id, Member.user_id)
        .outerjoin(Member, Member.id == RoleAssignment.member_id)
        .where(
            RoleAssignment.org_id == org_id,
            RoleAssignment.role.in_([r.value for r in KEEPER_ROLES]),
            or_(RoleAssignment.member_id.is_(None), Member.status == Status.ACTIVE),
            *active_role_filter(today),
        )
    )
    ids: set[int] = set()
    for direct, linked in rows.all():
        user_id = direct if direct is not None else linked
        if user_id is not None:
            ids.add(user_id)
    return sorted(ids)


def keeper_buttons(labels: tuple[str, str, str], data: tuple[str, str, str]) -> ButtonRows:
    """确认 / 更正 / 退回 as stored in an outbox payload."""
    return [[(labels[0], "cb:" + data[0]), (labels[1], "cb:" + data[1])],
            [(labels[2], "cb:" + data[2])]]  # fmt: skip


async def submit_declaration(
    db: Database,
    actor: Actor,
    draft: DeclareDraft,
    *,
    keeper_notes: Localized[Note],
    default_locale: str,
    now: datetime,
    today: date,
) -> Declared:
    """提交: the declaration is recorded (with the base, until decided) and the branch's
    keepers are told, each in their own language, in one transaction that takes the draft;
    an undecided earlier declaration is replaced (its base dropped)."""
    if draft.step != "confirm" or not draft.category or not draft.from_month:
        raise ServiceError("stale")
    async with db.transaction() as session:
        await finish_draft(session, actor.user_id, draft)
        entry = await _own_entry(session, actor)
        if entry.id != draft.member_id or entry.org_id != draft.org_id:
            raise ServiceError("stale")
        await session.execute(
            update(DuesStandard)
            .where(DuesStandard.member_id == entry.id, DuesStandard.status == DECLARED)
            .values(status=REPLACED, base_fen=None, decided_at=now)
        )
        session.add(
            DuesStandard(
                member_id=entry.id, org_id=entry.org_id, category=draft.category,
                permille=draft.permille, lower_fen=draft.lower_fen, upper_fen=draft.upper_fen,
                amount_fen=draft.amount_fen, from_month=draft.from_month, status=DECLARED,
                base_fen=draft.base_fen, declared_by=actor.user_id, declared_at=now,
            )
        )  # fmt: skip
        keepers = await keepers_of(session, entry.org_id, today)
        for keeper, locale in (await reader_locales(session, keepers, default_locale)).items():
            note = in_locale(keeper_notes, locale, default_locale)
            enqueue_text(session, chat_id=keeper, html=note.html, now=now, buttons=note.buttons)
        org_name = await session.scalar(
            select(Organization.name).where(Organization.id == entry.org_id)
        )
        return Declared(entry.id, entry.name, org_name or "", len(keepers))


async def _declared_row(
    session: AsyncSession, member_id: int, month: Month, declared_fen: int, *, lock: bool
) -> DuesStandard:
    query = (
        select(DuesStandard)
        .where(
            DuesStandard.member_id == member_id,
            DuesStandard.from_month == month,
            DuesStandard.amount_fen == declared_fen,
            DuesStandard.status == DECLARED,
        )
        .order_by(DuesStandard.id.desc())
        .limit(1)
    )
    row = await session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise ServiceError("dues.declaration.gone")
    return row


async def supersede(session: AsyncSession, starts: Mapping[int, Month]) -> None:
    """Members' confirmed standards from these months on (member → month) are superseded by
    the new ones about to be confirmed: one statement per distinct month, not per member."""
    by_month: dict[Month, list[int]] = defaultdict(list)
    for member_id, month in starts.items():
        by_month[month].append(member_id)
    for month, members in sorted(by_month.items()):
        for start in range(0, len(members), CHUNK):
            await session.execute(
                update(DuesStandard)
                .where(
                    DuesStandard.member_id.in_(sorted(members)[start : start + CHUNK]),
                    DuesStandard.status == CONFIRMED,
                    DuesStandard.from_month >= month,
                )
                .values(status=SUPERSEDED)
            )


async def review_target(
    db: Database, actor: Actor, member_id: int, month: Month, declared_fen: int, today: date
) -> tuple[str, StandardView]:
    """The declaration a keeper is about to decide (re-checked): the member's name and it."""
    async with db.read() as session:
        row = await _declared_row(session, member_id, month, declared_fen, lock=False)
        await require(session, actor, row.org_id, Permission.KEEP_DUES, today)
        member = await session.get(Member, row.member_id)
        return (member.name if member else ""), _view(row)


async def corrected_standard(
    db: Database,
    actor: Actor,
    draft: DecideDraft,
    correction: Correction,
    today: date,
) -> StandardView:
    """What a keeper's typed correction gives: their amount, or the base assessed on the
    branch's table (a based category only)."""
    async with db.read() as session:
        row = await _declared_row(session, draft.member_id, draft.month, draft.declared_fen,
                                  lock=False)  # fmt: skip
        await require(session, actor, row.org_id, Permission.KEEP_DUES, today)
        category = Category(row.category)
        table = await rate_table_for(session, row.org_id)
    if correction.base_fen is not None:
        found = standard(table, category, base_fen=correction.base_fen)
    elif category is Category.FARMER:
        found = standard(table, category, farmer_fen=correction.amount_fen)
    else:
        found = Standard(category, correction.amount_fen or 0)
    if isinstance(found, Invalid):
        raise ServiceError(found.code)
    if not 0 < found.amount_fen <= AMOUNT_MAX_FEN:
        raise ServiceError("dues.amount.range")
    return StandardView(category, found.amount_fen, found.permille, found.lower_fen,
                        found.upper_fen, row.from_month)  # fmt: skip


async def decide_declaration(
    db: Database,
    actor: Actor,
    *,
    member_id: int,
    month: Month,
    declared_fen: int,
    confirm: bool,
    corrected: StandardView | None = None,
    reason: str | None = None,
    draft: DecideDraft | None = None,
    member_notes: Localized[str],
    default_locale: str,
    now: datetime,
    today: date,
) -> Decision:
    """确认 / 更正 / 退回 a declaration: its base is dropped in the same transaction; a
    confirmed standard supersedes the member's confirmed ones from the same month or later;
    audited without the base; the member told through the outbox, in their language."""
    async with db.transaction() as session:
        if draft is not None:
            await finish_draft(session, actor.user_id, draft)
        row = await _declared_row(session, member_id, month, declared_fen, lock=True)
        await require(session, actor, row.org_id, Permission.KEEP_DUES, today)
        if confirm and corrected is None and row.amount_fen <= 0:
            raise ServiceError("dues.farmer.missing")
        before = {"status": row.status, "category": row.category,
                  "amount_fen": row.amount_fen, "from_month": row.from_month}  # fmt: skip
        if confirm:
            await supersede(session, {row.member_id: row.from_month})
            if corrected is not None:
                row.amount_fen, row.permille = corrected.amount_fen, corrected.permille
                row.lower_fen, row.upper_fen = corrected.lower_fen, corrected.upper_fen
        row.status = CONFIRMED if confirm else REJECTED
        row.base_fen = None
        row.decided_by, row.decided_at = actor.user_id, now
        row.note = reason
        action = "rejected" if not confirm else ("corrected" if corrected else "confirmed")
        audit.record(
            session, at=now, actor_id=actor.user_id, action=f"dues.standard.{action}",
            target_type="dues_standard", target_id=row.id, before=before,
            after={"status": row.status, "category": row.category,
                   "amount_fen": row.amount_fen, "from_month": row.from_month,
                   "reason": reason},
        )  # fmt: skip
        member = await session.get(Member, row.member_id)
        if member is not None and member.user_id is not None:
            locales = await reader_locales(session, [member.user_id], default_locale)
            html = in_locale(member_notes, locales[member.user_id], default_locale)
            enqueue_text(session, chat_id=member.user_id, html=html, now=now)
        return Decision(row.member_id, member.name if member else "", row.status, _view(row),
                        corrected is not None, reason)  # fmt: skip


async def start_decision(
    db: Database, actor: Actor, draft: DecideDraft, today: date, now: datetime
) -> tuple[str, StandardView]:
    """更正 / 退回 pressed: re-checked, and the keeper's typed answer awaited (the draft)."""
    async with db.transaction() as session:
        row = await _declared_row(session, draft.member_id, draft.month, draft.declared_fen,
                                  lock=False)  # fmt: skip
        await require(session, actor, row.org_id, Permission.KEEP_DUES, today)
        member = await session.get(Member, row.member_id)
        await keep_draft_in(session, actor.user_id, draft, now)
        return (member.name if member else ""), _view(row)


@dataclass(frozen=True)
class Redeclarer:
    """A member to remind in January to declare again: whom to write, in which language."""

    user_id: int
    locale: str
    name: str


async def to_redeclare(
    session: AsyncSession, zone: str, default_zone: str, default_locale: str
) -> list[Redeclarer]:
    """Members with a confirmed standard in branches of this time zone, who started the bot
    (one line each, whatever their number of standards)."""
    zones = await effective_timezones(session, default_zone)
    in_zone = [org for org, tz in zones.items() if tz == zone]
    if not in_zone:
        return []
    rows = await session.execute(
        select(User.id, User.locale, User.language_code, Member.name)
        .join(Member, Member.user_id == User.id)
        .where(
            Member.status == Status.ACTIVE,
            Member.org_id.in_(in_zone),
            User.started.is_(True),
            User.blocked_at.is_(None),
            select(DuesStandard.id)
            .where(DuesStandard.member_id == Member.id, DuesStandard.status == CONFIRMED)
            .exists(),
        )
        .order_by(User.id)
    )
    seen: dict[int, Redeclarer] = {}
    for user_id, locale, language, name in rows.all():
        if user_id not in seen:
            chosen = locale or negotiate_locale(language, default_locale)
            seen[user_id] = Redeclarer(user_id, chosen, name)
    return list(seen.values())
