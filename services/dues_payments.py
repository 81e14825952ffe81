"""Payments (党费交纳): a member's 我已交纳 claim and the keeper's 确认 / 退回, and the keeper's
month grid (a tap records a month paid; a second tap corrects it with a negative entry).

The ledger is append-only: confirming writes one 'dues' entry per month (and an 'extra' one
for a voluntary payment), a mistake is put right by a 'correction' entry, never an edit.
"""

from __future__ import annotations

import asyncio
import csv
import io
import zipfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import PurePath

import openpyxl
from sqlalchemy import insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.dues import Invalid, Month, due_for, month_of, standing, to_centre
from domain.dues_pay import (
    HEADERS,
    IMPORT_MAX_ROWS,
    STEPS,
    ImportDraft,
    MonthDue,
    PayDraft,
    RejectDraft,
    check_months,
    check_reason,
    owed_months,
    plan_payments,
)
from domain.members_roster import FileError
from domain.orgs import Permission, Role, Status, permissions_for
from domain.pickers import matches
from domain.validation import clean_text
from domain.wizard import Event, Refusal, apply
from services import audit
from services.authz import Actor, active_role_filter, require
from services.drafts import keep_draft, keep_draft_in, open_draft, take_draft
from services.dues import paid_of, periods_of, settings_of
from services.dues_notes import Localized, Note, in_locale, reader_locales
from services.errors import NotFound, ServiceError
from services.members_import import (
    MAX_FILE_BYTES,
    MAX_UNPACKED_BYTES,
    cell_text,  # the roster's way of reading cells
    decode_text,  # UTF-8, GBK/GB18030 or UTF-16
)
from services.outbox import ButtonRows, enqueue_text
from storage.db import Database
from storage.models import DuesClaim, DuesEntry, Member, Organization, RoleAssignment

PENDING, CONFIRMED, REJECTED = "pending", "confirmed", "rejected"
CLAIM_SLOT = "{claim}"  # in a note's button data: replaced by the new claim's id

KEEPING_ROLES = tuple(r for r in Role if Permission.KEEP_DUES in permissions_for({r}))


@dataclass(frozen=True)
class ClaimView:
    """A 我已交纳 claim as screens show it."""

    id: int
    member_id: int
    member_name: str
    org_id: int
    org_name: str
    months: tuple[Month, ...]
    amount_fen: int
    extra_fen: int
    proof_file_id: str | None
    status: str
    reason: str | None
    claimed_by: int
    claimed_at: datetime


def _invalid(refused: Invalid | Refusal) -> ServiceError:
    return ServiceError(refused.code)


async def _own_entry(session: AsyncSession, actor: Actor) -> Member:
    entry = await session.scalar(
        select(Member)
        .where(Member.user_id == actor.user_id, Member.status == Status.ACTIVE)
        .order_by(Member.id)
        .limit(1)
    )
    if entry is None:
        raise ServiceError("dues.pay.not_member")
    return entry


async def _pending_months(session: AsyncSession, member_id: int) -> set[Month]:
    rows = await session.scalars(
        select(DuesClaim.months).where(
            DuesClaim.member_id == member_id, DuesClaim.status == PENDING
        )
    )
    return {int(m) for months in rows.all() for m in months}


async def _offer(session: AsyncSession, member: Member, today: date) -> PayDraft:
    """The 我已交纳 draft at its first step: what the member may pay now."""
    periods = (await periods_of(session, [member.id])).get(member.id)
    if not periods:
        raise ServiceError("dues.pay.no_standard")
    settings = await settings_of(session, member.org_id)
    paid = (await paid_of(session, [member.id])).get(member.id, {})
    as_of = month_of(today)
    now = standing(periods, paid, as_of, min(p.from_month for p in periods))
    offered = owed_months(
        periods, paid, now, advance_cap=settings.advance_cap, arrears_cap=settings.arrears_cap,
        pending=await _pending_months(session, member.id),
    )  # fmt: skip
    if not offered:
        raise ServiceError("dues.pay.nothing_owed")
    chosen = tuple(m.month for m in offered if m.month <= as_of)  # arrears and this month
    org = await session.get(Organization, member.org_id)
    return PayDraft(
        step="months", member_id=member.id, org_id=member.org_id, member_name=member.name,
        org_name=org.name if org else "", as_of=as_of,
        advance_cap=settings.advance_cap, arrears_cap=settings.arrears_cap, offered=offered,
        chosen=chosen,
    )  # fmt: skip


async def start_payment(db: Database, actor: Actor, now: datetime, today: date) -> PayDraft:
    """我已交纳 opened: the months the member owes (arrears and this month chosen), kept as
    their draft; refused to a member without a confirmed standard (declare first)."""
    async with db.read() as session:
        member = await _own_entry(session, actor)
        draft = await _offer(session, member, today)
    return await keep_draft(db, actor.user_id, draft, now)


async def pay_step(db: Database, actor: Actor, event: Event, now: datetime) -> PayDraft:
    """A press or a typed answer in 我已交纳: the draft after it (kept), or why not."""
    draft = await open_draft(db, actor.user_id, PayDraft)
    if not isinstance(draft, PayDraft):
        raise ServiceError("stale")
    moved = apply(STEPS, draft, event, now)
    if isinstance(moved, Refusal):
        raise _invalid(moved)
    return await keep_draft(db, actor.user_id, moved, now)


async def open_payment(db: Database, actor: Actor) -> PayDraft | None:
    """The member's open 我已交纳 draft, if any."""
    draft = await open_draft(db, actor.user_id, PayDraft)
    return draft if isinstance(draft, PayDraft) else None


async def keepers_of(session: AsyncSession, org_id: int, today: date) -> list[int]:
    """Telegram ids of the people keeping a branch's dues today (its 组织委员, 党费管理员)."""
    rows = await session.execute(
        select(RoleAssignment.user_id, Member.user_id)
        .outerjoin(Member, Member.id == RoleAssignment.member_id)
        .where(
            RoleAssignment.org_id == org_id,
            RoleAssignment.role.in_(KEEPING_ROLES),
            or_(RoleAssignment.member_id.is_(None), Member.status == Status.ACTIVE),
            *active_role_filter(today),
        )
    )
    found: list[int] = []
    for direct, linked in rows.all():
        uid = direct if direct is not None else linked
        if uid is not None and uid not in found:
            found.append(uid)
    return found


def _fill(buttons: ButtonRows, claim_id: int) -> ButtonRows:
    return [[(label, data.replace(CLAIM_SLOT, str(claim_id))) for label, data in row]
            for row in buttons]  # fmt: skip


async def _view(session: AsyncSession, claim: DuesClaim) -> ClaimView:
    member = await session.get(Member, claim.member_id)
    org = await session.get(Organization, claim.org_id)
    return ClaimView(
        claim.id, claim.member_id, member.name if member else "", claim.org_id,
        org.name if org else "", tuple(int(m) for m in claim.months), claim.amount_fen,
        claim.extra_fen, claim.proof_file_id, claim.status, claim.reason, claim.claimed_by,
        claim.claimed_at,
    )  # fmt: skip


async def _owed_now(session: AsyncSession, member_id: int, months: Sequence[Month]) -> list[int]:
    periods = (await periods_of(session, [member_id])).get(member_id, [])
    paid = (await paid_of(session, [member_id])).get(member_id, {})
    owed: list[int] = []
    for month in months:
        due = due_for(periods, month)
        owed.append(max((due or 0) - paid.get(month, 0), 0))
    return owed


async def submit_claim(
    db: Database,
    actor: Actor,
    *,
    now: datetime,
    today: date,
    keeper_notes: Localized[Note],
    default_locale: str,
) -> ClaimView:
    """提交: the member's claim waits for the keeper (the draft taken in the same
    transaction, so a second press finds none); each keeper is sent the note in their own
    language (CLAIM_SLOT in its buttons becomes the claim's id)."""
    async with db.transaction() as session:
        draft = await take_draft(session, actor.user_id, PayDraft)
        if draft is None or draft.step != "review":
            raise ServiceError("stale")
        member = await session.get(Member, draft.member_id, with_for_update=True)
        if member is None or member.user_id != actor.user_id or member.status != Status.ACTIVE:
            raise ServiceError("stale")
        fresh = await _offer(session, member, today)
        refused = check_months(
            fresh.offered, draft.chosen, fresh.as_of,
            advance_cap=fresh.advance_cap, arrears_cap=fresh.arrears_cap,
        )  # fmt: skip
        if refused is not None:
            raise _invalid(refused)
        owed = {m.month: m.owed_fen for m in fresh.offered}
        claim = DuesClaim(
            member_id=member.id, org_id=member.org_id, months=list(draft.chosen),
            amount_fen=sum(owed[m] for m in draft.chosen), extra_fen=draft.extra_fen,
            proof_file_id=draft.proof_file_id or None, status=PENDING, claimed_by=actor.user_id,
            claimed_at=now,
        )  # fmt: skip
        session.add(claim)
        await session.flush()
        keepers = [k for k in await keepers_of(session, member.org_id, today)
                   if k != actor.user_id]  # fmt: skip
        for keeper, locale in (await reader_locales(session, keepers, default_locale)).items():
            note = in_locale(keeper_notes, locale, default_locale)
            enqueue_text(session, chat_id=keeper, html=note.html, now=now,
                         buttons=_fill(note.buttons, claim.id))  # fmt: skip
        return await _view(session, claim)


async def _claim_for_keeper(
    session: AsyncSession, actor: Actor, claim_id: int, today: date, *, lock: bool = False
) -> DuesClaim:
    claim = await session.get(DuesClaim, claim_id, with_for_update=lock)
    if claim is None:
        raise NotFound("dues.claim.not_found")
    await require(session, actor, claim.org_id, Permission.KEEP_DUES, today)
    return claim


async def claim_of(db: Database, actor: Actor, claim_id: int, today: date) -> ClaimView:
    """A claim as its branch's keeper sees it."""
    async with db.read() as session:
        return await _view(session, await _claim_for_keeper(session, actor, claim_id, today))


async def begin_reject(
    db: Database, actor: Actor, claim_id: int, *, now: datetime, today: date
) -> ClaimView:
    """退回 pressed: the keeper is asked for the reason (kept as their draft)."""
    async with db.transaction() as session:
        claim = await _claim_for_keeper(session, actor, claim_id, today)
        await _refuse_own(session, actor, claim)
        if claim.status != PENDING:
            raise ServiceError("stale")
        await keep_draft_in(session, actor.user_id, RejectDraft("reason", claim_id), now)
        return await _view(session, claim)


async def _refuse_own(session: AsyncSession, actor: Actor, claim: DuesClaim) -> None:
    member = await session.get(Member, claim.member_id)
    own_entry = member is not None and member.user_id == actor.user_id
    if claim.claimed_by == actor.user_id or own_entry:
        raise ServiceError("dues.claim.own")


async def decide_claim(
    db: Database,
    actor: Actor,
    claim_id: int,
    *,
    accept: bool,
    reason: str = "",
    now: datetime,
    today: date,
    member_notes: Localized[Note],
    default_locale: str,
) -> ClaimView:
    """确认 (the months and the extra go into the ledger) or 退回 with a reason (taken from the
    keeper's draft); audited; the member is told in their language. Decided already: stale."""
    async with db.transaction() as session:
        claim = await _claim_for_keeper(session, actor, claim_id, today, lock=True)
        await _refuse_own(session, actor, claim)
        reason_text = ""
        if not accept:
            draft = await take_draft(session, actor.user_id, RejectDraft)
            if draft is None or draft.claim_id != claim_id:
                raise ServiceError("stale")
            checked = check_reason(reason)
            if isinstance(checked, Invalid):
                raise _invalid(checked)
            reason_text = checked
        if claim.status != PENDING:
            raise ServiceError("stale")
        months = [int(m) for m in claim.months]
        if accept:
            owed = await _owed_now(session, claim.member_id, months)
            if sum(owed) != claim.amount_fen or any(o <= 0 for o in owed):
                raise ServiceError("dues.claim.changed")
            for month, amount in zip(months, owed, strict=True):
                session.add(DuesEntry(
                    member_id=claim.member_id, org_id=claim.org_id, month=month,
                    amount_fen=amount, kind="dues", to_centre=False, claim_id=claim.id,
                    recorded_by=actor.user_id, recorded_at=now,
                ))  # fmt: skip
            if claim.extra_fen > 0:
                session.add(DuesEntry(
                    member_id=claim.member_id, org_id=claim.org_id, month=None,
                    amount_fen=claim.extra_fen, kind="extra",
                    to_centre=to_centre(claim.extra_fen), claim_id=claim.id,
                    recorded_by=actor.user_id, recorded_at=now,
                ))  # fmt: skip
        claim.status = CONFIRMED if accept else REJECTED
        claim.reason = None if accept else reason_text
        claim.decided_by = actor.user_id
        claim.decided_at = now
        audit.record(
            session, at=now, actor_id=actor.user_id,
            action="dues.claim.confirm" if accept else "dues.claim.reject",
            target_type="dues_claim", target_id=claim.id, before={"status": PENDING},
            after={"status": claim.status, "months": months, "amount_fen": claim.amount_fen,
                   "extra_fen": claim.extra_fen, "reason": claim.reason},
        )  # fmt: skip
        member = await session.get(Member, claim.member_id)
        if member is not None and member.user_id is not None:
            locale = (await reader_locales(session, [member.user_id], default_locale))[
                member.user_id
            ]
            note = in_locale(member_notes, locale, default_locale)
            enqueue_text(session, chat_id=member.user_id, html=note.html, now=now,
                         buttons=note.buttons)  # fmt: skip
        return await _view(session, claim)


# ---- the keeper's month grid ----

PAGE = 10


@dataclass(frozen=True)
class GridRow:
    """One member in the month grid: paid (in full), unpaid, or exempt (免)."""

    member_id: int
    name: str
    due_fen: int | None  # None: no confirmed standard yet
    paid_fen: int

    @property
    def state(self) -> str:
        """ "paid", "unpaid", "exempt" or "none" (no standard)."""
        if self.due_fen is None:
            return "none"
        if self.due_fen == 0:
            return "exempt"
        return "paid" if self.paid_fen >= self.due_fen else "unpaid"


@dataclass(frozen=True)
class Grid:
    """A branch's members for one month, a page of them."""

    org_id: int
    org_name: str
    month: Month
    page: int
    pages: int
    rows: tuple[GridRow, ...]
    paid_count: int
    total: int
    find: str = ""  # a typed part of a name the list is narrowed to
    found: int = 0  # members whose name holds it (the whole roster when nothing was typed)


async def _branch_members(session: AsyncSession, org_id: int) -> list[tuple[int, str]]:
    rows = await session.execute(
        select(Member.id, Member.name)
        .where(Member.org_id == org_id, Member.status == Status.ACTIVE)
        .order_by(Member.name, Member.id)
    )
    return [(i, n) for i, n in rows.all()]


async def month_grid(
    db: Database, actor: Actor, org_id: int, month: Month, page: int, today: date, find: str = ""
) -> Grid:
    """登记交费: a page of the branch's members with the month's state (narrowed to the names
    holding `find`, as every picker narrows: domain.pickers); the counts are the branch's."""
    async with db.read() as session:
        await require(session, actor, org_id, Permission.KEEP_DUES, today)
        org = await session.get(Organization, org_id)
        members = await _branch_members(session, org_id)
        ids = [i for i, _ in members]
        periods = await periods_of(session, ids)
        paid = await paid_of(session, ids)
        rows = [
            GridRow(i, name, due_for(periods.get(i, []), month), paid.get(i, {}).get(month, 0))
            for i, name in members
        ]
    kept = [r for r in rows if matches(r.name, find)]
    pages = max(1, -(-len(kept) // PAGE))
    page = min(max(page, 0), pages - 1)
    return Grid(
        org_id, org.name if org else "", month, page, pages,
        tuple(kept[page * PAGE : (page + 1) * PAGE]),
        sum(1 for r in rows if r.state == "paid"), len(rows), find, len(kept),
    )  # fmt: skip


async def _grid_member(session: AsyncSession, actor: Actor, member_id: int, today: date) -> Member:
    member = await session.get(Member, member_id, with_for_update=True)
    if member is None or member.status != Status.ACTIVE:
        raise NotFound("member.not_found")
    await require(session, actor, member.org_id, Permission.KEEP_DUES, today)
    return member


async def record_month(
    db: Database, actor: Actor, member_id: int, month: Month, *, now: datetime, today: date
) -> GridRow:
    """A tap on an unpaid member: the month recorded paid at what is owed for it; audited."""
    async with db.transaction() as session:
        member = await _grid_member(session, actor, member_id, today)
        periods = (await periods_of(session, [member_id])).get(member_id, [])
        due = due_for(periods, month)
        if due is None:
            raise ServiceError("dues.grid.no_standard")
        if due == 0:
            raise ServiceError("dues.grid.exempt")
        got = (await paid_of(session, [member_id])).get(member_id, {}).get(month, 0)
        if got >= due:
            raise ServiceError("dues.grid.already_paid")
        entry = DuesEntry(member_id=member_id, org_id=member.org_id, month=month,
                          amount_fen=due - got, kind="dues", to_centre=False,
                          recorded_by=actor.user_id, recorded_at=now)  # fmt: skip
        session.add(entry)
        await session.flush()
        audit.record(
            session, at=now, actor_id=actor.user_id, action="dues.record",
            target_type="dues_entry", target_id=entry.id,
            after={"member_id": member_id, "month": month, "amount_fen": due - got},
        )  # fmt: skip
        return GridRow(member_id, member.name, due, due)


async def correct_month(
    db: Database, actor: Actor, member_id: int, month: Month, *, now: datetime, today: date
) -> GridRow:
    """A confirmed second tap: what was recorded for the month is taken back by a negative
    'correction' entry (the original stays); audited."""
    async with db.transaction() as session:
        member = await _grid_member(session, actor, member_id, today)
        got = (await paid_of(session, [member_id])).get(member_id, {}).get(month, 0)
        if got <= 0:
            raise ServiceError("dues.grid.nothing_to_correct")
        last = await session.scalar(
            select(DuesEntry.id)
            .where(DuesEntry.member_id == member_id, DuesEntry.month == month,
                   DuesEntry.kind == "dues")
            .order_by(DuesEntry.id.desc())
            .limit(1)
        )  # fmt: skip
        entry = DuesEntry(member_id=member_id, org_id=member.org_id, month=month,
                          amount_fen=-got, kind="correction", to_centre=False, corrects_id=last,
                          recorded_by=actor.user_id, recorded_at=now)  # fmt: skip
        session.add(entry)
        await session.flush()
        audit.record(
            session, at=now, actor_id=actor.user_id, action="dues.correct",
            target_type="dues_entry", target_id=entry.id, before={"paid_fen": got},
            after={"member_id": member_id, "month": month, "amount_fen": -got},
        )  # fmt: skip
        periods = (await periods_of(session, [member_id])).get(member_id, [])
        return GridRow(member_id, member.name, due_for(periods, month), 0)


__all__ = [
    "CLAIM_SLOT",
    "ClaimView",
    "Grid",
    "GridRow",
    "MonthDue",
    "Note",
    "begin_reject",
    "claim_of",
    "correct_month",
    "decide_claim",
    "keepers_of",
    "month_grid",
    "open_payment",
    "pay_step",
    "record_month",
    "start_payment",
    "submit_claim",
]


async def grid_row(
    db: Database, actor: Actor, member_id: int, month: Month, today: date
) -> GridRow:
    """One member's line in the grid (for asking about a correction)."""
    async with db.read() as session:
        member = await session.get(Member, member_id)
        if member is None or member.status != Status.ACTIVE:
            raise NotFound("member.not_found")
        await require(session, actor, member.org_id, Permission.KEEP_DUES, today)
        periods = (await periods_of(session, [member_id])).get(member_id, [])
        got = (await paid_of(session, [member_id])).get(member_id, {}).get(month, 0)
        return GridRow(member_id, member.name, due_for(periods, month), got)


# ---- a keeper's XLSX (or CSV) of payments: read, preview, record ----


def read_payments(filename: str, content: bytes) -> list[tuple[int, dict[str, str]]] | FileError:
    """The rows of a 姓名 / 月份 / 金额 sheet (line numbers as the spreadsheet shows them), read
    with the roster import's limits and decoding, or why the file cannot be read."""
    if len(content) > MAX_FILE_BYTES:
        return FileError("file.too_large")
    if not content.strip():
        return FileError("file.no_rows")
    table: list[list[str]]
    if content.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                if "xl/workbook.xml" not in archive.namelist():
                    return FileError("file.type")
                if sum(i.file_size for i in archive.infolist()) > MAX_UNPACKED_BYTES:
                    return FileError("file.too_large")
            book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
            try:
                sheet = book.worksheets[0]
                table = [
                    [cell_text(v) for v in row]
                    for row in sheet.iter_rows(values_only=True, max_col=10)
                ]
            finally:
                book.close()
        except Exception:  # noqa: BLE001 - a damaged file makes openpyxl raise nearly anything
            return FileError("file.corrupt")
    elif content.startswith(b"\xd0\xcf\x11\xe0"):
        return FileError("file.old_excel")
    elif PurePath(filename).suffix.lower() in (".csv", ".txt", ".tsv"):
        text = decode_text(content)
        if isinstance(text, FileError):
            return text
        delimiter = max((",", "\t", ";"), key="\n".join(text.splitlines()[:10]).count)
        table = [
            [c.strip() for c in row] for row in csv.reader(io.StringIO(text), delimiter=delimiter)
        ]
    else:
        return FileError("file.type")
    for index, row in enumerate(table[:10]):
        codes = [HEADERS.get(clean_text(c).lower().replace(" ", ""), "") for c in row]
        if {"name", "month", "amount"} <= set(codes):
            rows = [
                (index + 2 + n, {code: cells[i] if i < len(cells) else ""
                                 for i, code in enumerate(codes) if code})
                for n, cells in enumerate(table[index + 1 :])
            ]  # fmt: skip
            if len(rows) > IMPORT_MAX_ROWS:
                return FileError("file.too_many_rows")
            return rows
    return FileError("file.missing_column")


async def start_import(db: Database, actor: Actor, org_id: int, *, now: datetime,
                       today: date) -> ImportDraft:  # fmt: skip
    """导入交费表 pressed: the keeper is asked for the file (kept as their draft)."""
    async with db.read() as session:
        await require(session, actor, org_id, Permission.KEEP_DUES, today)
    return await keep_draft(db, actor.user_id, ImportDraft("file", org_id), now)


async def preview_payments(
    db: Database, actor: Actor, filename: str, content: bytes, *, now: datetime, today: date
) -> ImportDraft:
    """The file read against the branch's roster and ledger (nothing recorded yet): what
    would be recorded and what not; kept as the draft the 确认导入 press applies."""
    draft = await open_draft(db, actor.user_id, ImportDraft)
    if not isinstance(draft, ImportDraft):
        raise ServiceError("stale")
    rows = await asyncio.to_thread(read_payments, filename, content)
    if isinstance(rows, FileError):
        raise ServiceError("dues.import." + rows.code.replace(".", "_"))
    async with db.read() as session:
        await require(session, actor, draft.org_id, Permission.KEEP_DUES, today)
        roster: dict[str, list[int]] = defaultdict(list)
        for member_id, name in await _branch_members(session, draft.org_id):
            roster[clean_text(name)].append(member_id)
        ids = [i for named in roster.values() for i in named]
        paid = {(m, month): fen for m, months in (await paid_of(session, ids)).items()
                for month, fen in months.items()}  # fmt: skip
    lines, problems = plan_payments(rows, roster, paid)
    moved = replace(draft, step="preview", lines=lines, problems=problems)
    return await keep_draft(db, actor.user_id, moved, now)


async def apply_payments(db: Database, actor: Actor, *, now: datetime, today: date) -> int:
    """确认导入: the previewed rows recorded (a month recorded meanwhile is left out), the
    draft taken in the same transaction, audited. How many were recorded."""
    async with db.transaction() as session:
        draft = await take_draft(session, actor.user_id, ImportDraft)
        if draft is None or draft.step != "preview":
            raise ServiceError("stale")
        await require(session, actor, draft.org_id, Permission.KEEP_DUES, today)
        ids = sorted({line.member_id for line in draft.lines})
        current = set(
            (
                await session.execute(
                    select(Member.id).where(
                        Member.id.in_(ids or [-1]),
                        Member.org_id == draft.org_id,
                        Member.status == Status.ACTIVE,
                    )
                )
            ).scalars()
        )
        paid = await paid_of(session, ids)
        rows = [
            {"member_id": line.member_id, "org_id": draft.org_id, "month": line.month,
             "amount_fen": line.amount_fen, "kind": "dues", "to_centre": False,
             "note": "import", "recorded_by": actor.user_id, "recorded_at": now}
            for line in draft.lines
            if line.member_id in current and paid.get(line.member_id, {}).get(line.month, 0) <= 0
        ]  # fmt: skip
        if rows:
            await session.execute(insert(DuesEntry), rows)
        audit.record(
            session, at=now, actor_id=actor.user_id, action="dues.import",
            target_type="organization", target_id=draft.org_id,
            after={"recorded": len(rows), "skipped": len(draft.problems)
                   + len(draft.lines) - len(rows),
                   "amount_fen": sum(r["amount_fen"] for r in rows)},
        )  # fmt: skip
        return len(rows)
