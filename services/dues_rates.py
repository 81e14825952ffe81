"""A committee's local rate table (党费计算标准): the table in force and where it comes from,
starting an edit, and saving it (or going back to the table from above), audited.

Standards already confirmed are not recomputed (see domain.dues_rates): the new table applies
to declarations and corrections from now on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.dues import NATIONAL, RateTable, check_table, table_from_json, table_to_json
from domain.dues_rates import RATE_PERMISSIONS, RatesDraft, begin
from domain.orgs import Level
from services import audit
from services.authz import Actor, ancestry, permissions
from services.drafts import keep_draft_in, take_draft
from services.errors import Denied, NotFound, ServiceError
from storage.db import Database
from storage.models import DuesSettings, Organization


@dataclass(frozen=True)
class RatesView:
    """A committee's table in force: its own, one from a committee above, or the national."""

    org_id: int
    org_name: str
    table: RateTable
    local: bool  # the committee's own table
    source: str  # the committee whose table it is ("": the national table)
    inherited: RateTable  # what applies without the committee's own table
    inherited_source: str


@dataclass(frozen=True)
class RatesSaved:
    """A table saved: the committee, old and new, and whether it is now its own."""

    org_id: int
    org_name: str
    before: RateTable
    after: RateTable
    local: bool


async def _committee(session: AsyncSession, actor: Actor, org_id: int, today: date) -> str:
    """The committee's name, once the actor may adjust its table."""
    org = await session.get(Organization, org_id)
    if org is None or org.archived_at is not None:
        raise NotFound("org.not_found")
    if org.level != Level.COMMITTEE:
        raise ServiceError("dues.rates.not_committee")
    if not RATE_PERMISSIONS & await permissions(session, actor, org_id, today):
        raise Denied("auth.keep_dues")
    return org.name


async def _own(session: AsyncSession, org_id: int) -> dict[str, object] | None:
    row = await session.get(DuesSettings, org_id)
    return row.rate_table if row is not None and row.rate_table else None


async def _above(session: AsyncSession, org_id: int) -> tuple[RateTable, str]:
    """The table the committee gets without its own: the nearest above, else national."""
    chain = (await ancestry(session, org_id))[1:]
    for ancestor in chain:
        stored = await _own(session, ancestor)
        if stored:
            name = await session.scalar(
                select(Organization.name).where(Organization.id == ancestor)
            )
            return table_from_json(stored), name or ""
    return NATIONAL, ""


async def _view(session: AsyncSession, org_id: int, name: str) -> RatesView:
    inherited, inherited_source = await _above(session, org_id)
    own = await _own(session, org_id)
    if own:
        return RatesView(org_id, name, table_from_json(own), True, name, inherited,
                         inherited_source)  # fmt: skip
    return RatesView(org_id, name, inherited, False, inherited_source, inherited,
                     inherited_source)  # fmt: skip


async def rates_of(db: Database, actor: Actor, org_id: int, today: date) -> RatesView:
    """The committee's table in force, for those who may adjust it."""
    async with db.read() as session:
        name = await _committee(session, actor, org_id, today)
        return await _view(session, org_id, name)


async def start_rates(
    db: Database, actor: Actor, org_id: int, now: datetime, today: date
) -> tuple[RatesDraft, RatesView]:
    """修改: the table in force as a draft to edit (replacing any open wizard)."""
    async with db.transaction() as session:
        name = await _committee(session, actor, org_id, today)
        view = await _view(session, org_id, name)
        draft = begin(org_id, name, view.table, view.local, view.inherited,
                      view.inherited_source)  # fmt: skip
        await keep_draft_in(session, actor.user_id, draft, now)
        return draft, view


async def save_rates(db: Database, actor: Actor, now: datetime, today: date) -> RatesSaved:
    """确认: the edited table becomes the committee's own (or its own is dropped), in one
    transaction that takes the draft; refused if someone changed the table meanwhile;
    audited with the table before and after. Confirmed standards are left as they are."""
    async with db.transaction() as session:
        draft = await take_draft(session, actor.user_id, RatesDraft)
        if draft is None or draft.step != "preview":
            raise ServiceError("stale")
        name = await _committee(session, actor, draft.org_id, today)
        row = await session.get(DuesSettings, draft.org_id, with_for_update=True)
        stored = row.rate_table if row is not None and row.rate_table else None
        current = table_from_json(stored) if stored else None
        if (current is not None) != draft.before_local or (
            current is not None and current != draft.before
        ):
            raise ServiceError("dues.rates.changed")
        if not draft.changed:
            raise ServiceError("dues.rates.unchanged")
        invalid = check_table(draft.table)
        if invalid is not None:
            raise ServiceError(invalid.code)
        after = table_to_json(draft.table) if draft.local else None
        if row is None:
            row = DuesSettings(org_id=draft.org_id, updated_at=now)
            session.add(row)
        row.rate_table, row.updated_by, row.updated_at = after, actor.user_id, now
        audit.record(
            session, at=now, actor_id=actor.user_id,
            action="dues.rates.changed" if draft.local else "dues.rates.inherited",
            target_type="organization", target_id=draft.org_id,
            before={"rate_table": stored}, after={"rate_table": after},
        )  # fmt: skip
        return RatesSaved(draft.org_id, name, draft.before, draft.table, draft.local)
