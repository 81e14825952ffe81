"""The approvers' copies of a registration request: queued as intent, rendered as they are
sent, and redrawn for everyone once one approver has decided."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.locale import negotiate_locale
from domain.orgs import RegistrationStatus, Stage, Status
from services.outbox import add_items, item_values
from storage.db import Database
from storage.models import Member, Organization, OutboxItem, Registration, Unit, User

# Outbox purposes (at most 16 characters). A copy carries {"registration_id"}; a redraw also
# {"copy": the copy's outbox id}, whose message it edits once that copy is in the chat.
REQUEST = "reg_request"
REDRAW = "reg_redraw"

_REACHED = ("sent", "sending")  # copies that are (or are about to be) in an approver's chat


@dataclass(frozen=True)
class RequestState:
    """A registration as an approver's copy shows it now, in that approver's language."""

    registration_id: int
    org_name: str
    name: str
    stage: Stage
    unit: str | None
    phone: str | None
    matched: bool
    status: RegistrationStatus
    decider: str | None  # who approved or rejected it (a roster name, else the Telegram name)
    decided_at: datetime | None
    locale: str


async def send_requests(
    session: AsyncSession, registration_id: int, approvers: Iterable[int], now: datetime
) -> int:
    """Queue one copy of the request for each approver, in the caller's transaction."""
    rows = [
        item_values(
            purpose=REQUEST, chat_id=approver, now=now, payload={"registration_id": registration_id}
        )
        for approver in sorted(set(approvers))
    ]
    await add_items(session, rows)
    return len(rows)


async def redraw_copies(
    session: AsyncSession,
    registration_ids: Iterable[int],
    now: datetime,
    *,
    pressed: tuple[int, int] | None = None,
) -> int:
    """Queue an edit of every copy of these requests already in a chat, so each shows the
    decision and loses its buttons; `pressed` (chat, message) is the copy the decider's own
    reply already edits. Copies not sent yet need nothing: they are rendered when sent."""
    ids = list(registration_ids)
    if not ids:
        return 0
    copies = (
        await session.scalars(
            select(OutboxItem)
            .where(
                OutboxItem.notice_id.is_(None),
                OutboxItem.purpose == REQUEST,
                OutboxItem.status.in_(_REACHED),
                OutboxItem.payload["registration_id"].as_integer().in_(ids),
            )
            .order_by(OutboxItem.id)
            # Locked on PostgreSQL: a copy the worker is claiming is seen as sending, not
            # pending (it would then be rendered before this decision commits, with buttons).
            .with_for_update()
        )
    ).all()
    rows = [
        item_values(
            purpose=REDRAW,
            chat_id=copy.chat_id,
            now=now,
            target_message_id=copy.message_id,
            payload={"registration_id": copy.payload["registration_id"], "copy": copy.id},
        )
        for copy in copies
        if pressed is None or (copy.chat_id, copy.message_id) != pressed
    ]
    await add_items(session, rows)
    return len(rows)


async def copy_message_id(db: Database, copy_id: int) -> tuple[str, int | None]:
    """A copy's outbox status and, once sent, its message id (for a redraw queued meanwhile)."""
    async with db.read() as session:
        row = (
            await session.execute(
                select(OutboxItem.status, OutboxItem.message_id).where(OutboxItem.id == copy_id)
            )
        ).first()
    return ("gone", None) if row is None else (str(row[0]), row[1])


async def decider_name(session: AsyncSession, user_id: int | None) -> str | None:
    """How approvers know one another: the roster name, else the Telegram first name."""
    if user_id is None:
        return None
    name = await session.scalar(
        select(Member.name)
        .where(Member.user_id == user_id, Member.status == Status.ACTIVE)
        .limit(1)
    )
    if name:
        return name
    user = await session.get(User, user_id)
    return user.first_name if user is not None else None


async def request_state(
    db: Database, registration_id: int, approver: int, default_locale: str
) -> RequestState | None:
    """What one approver's copy shows now; None when the registration is gone."""
    async with db.read() as session:
        row = await session.get(Registration, registration_id)
        if row is None:
            return None
        org = await session.get(Organization, row.org_id)
        unit = await session.get(Unit, row.unit_id) if row.unit_id else None
        reader = await session.get(User, approver)
        decided = row.status in (RegistrationStatus.APPROVED, RegistrationStatus.REJECTED)
        return RequestState(
            registration_id=row.id,
            org_name=org.name if org else "",
            name=row.name,
            stage=Stage(row.stage),
            unit=unit.name if unit else None,
            phone=row.phone,
            matched=row.match_member_id is not None,
            status=RegistrationStatus(row.status),
            decider=await decider_name(session, row.decided_by) if decided else None,
            decided_at=row.decided_at if decided else None,
            locale=(reader.locale or negotiate_locale(reader.language_code, default_locale))
            if reader is not None
            else default_locale,
        )
