"""Forms: stopping a form's collection (结束收集), by its sender or an admin of the sending
organization: no more answers, no more cycles, and every group card says so."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.orgs import Permission
from services import audit
from services.authz import Actor, permissions
from services.errors import NotFound, ServiceError
from storage.db import Database
from storage.models import Form, FormCard, FormCycle


@dataclass(frozen=True)
class Closed:
    """A form whose collection stopped, and how many group cards will say so."""

    form_id: int
    title: str
    cards: int


async def may_close(session: AsyncSession, actor: Actor, form: Form, today: date) -> bool:
    """The sender, or whoever may send for the sending organization (and superadmins)."""
    if actor.superadmin or actor.user_id == form.sender_id:
        return True
    return Permission.SEND_NOTICE in await permissions(session, actor, form.org_id, today)


async def close_form(
    db: Database, actor: Actor, form_id: int, *, now: datetime, today: date
) -> Closed:
    """结束收集: the form takes no more answers and issues no more cycles; its cards are
    re-rendered as closed by the counter sweep; audited. Closing twice is refused as stale."""
    async with db.transaction() as session:
        form = await session.get(Form, form_id, with_for_update=True)
        if form is None:
            raise NotFound("form.not_found")
        if not await may_close(session, actor, form, today):
            raise ServiceError("auth.denied")
        if form.status != "open":
            raise ServiceError("stale")
        form.status = "closed"
        form.closed_at = now
        cycles = select(FormCycle.id).where(FormCycle.form_id == form.id)
        cards = await session.scalar(
            select(func.count()).select_from(FormCard).where(FormCard.cycle_id.in_(cycles))
        )
        await session.execute(
            update(FormCard).where(FormCard.cycle_id.in_(cycles)).values(dirty=True)
        )
        audit.record(
            session, at=now, actor_id=actor.user_id, action="form.close", target_type="form",
            target_id=form.id, before={"status": "open"}, after={"status": "closed"},
        )  # fmt: skip
        return Closed(form.id, form.title, int(cards or 0))
