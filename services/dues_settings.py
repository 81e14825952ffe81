"""党费设置: a branch's keepers see and change its dues settings — the payment day, how many
months one may pay ahead and back, how often to disclose. Each change is one transaction,
audited with the value before and after; the settings row is created with the defaults if the
branch had none. (The disclosure's show-amounts switch stays on the 公示 screen.)

A changed payment day applies from the next month (domain.dues_settings.day_in_force): the
screen says which day this month's reminder keeps.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from domain.dues_settings import ACTIONS, COLUMNS, Setting, SettingsDraft, asking, check
from domain.orgs import Level, Permission
from services import audit
from services.authz import Actor, require
from services.drafts import keep_draft_in, take_draft
from services.dues import SettingsView, settings_of
from services.dues_reminders import day_this_month
from services.errors import NotFound, ServiceError
from storage.db import Database
from storage.models import DuesSettings, Organization
from storage.upsert import upsert


@dataclasses.dataclass(frozen=True)
class SettingsScreen:
    """A branch's settings as its keeper sees them."""

    org_id: int
    org_name: str
    settings: SettingsView
    day_this_month: int  # the day this month's reminder keeps (the saved one from next month)
    changed: Setting | None = None  # what the press changed (None: nothing, or just opened)


async def _branch(session: AsyncSession, actor: Actor, org_id: int, today: date) -> str:
    """The branch's name, once the actor keeps its dues."""
    await require(session, actor, org_id, Permission.KEEP_DUES, today)
    org = await session.get(Organization, org_id)
    if org is None or org.archived_at is not None:
        raise NotFound("org.not_found")
    if org.level != Level.BRANCH:
        raise ServiceError("dues.settings.not_branch")
    return org.name


async def _screen(
    session: AsyncSession, org_id: int, name: str, default_tz: str, today: date,
    view: SettingsView | None = None, changed: Setting | None = None,
) -> SettingsScreen:  # fmt: skip
    if view is None:
        view = await settings_of(session, org_id)
    day = await day_this_month(session, org_id, view.payment_day, default_tz, today)
    return SettingsScreen(org_id, name, view, day, changed)


async def dues_settings(
    db: Database, actor: Actor, org_id: int, *, default_tz: str, today: date
) -> SettingsScreen:
    """党费设置: the branch's settings, for its keepers."""
    async with db.read() as session:
        name = await _branch(session, actor, org_id, today)
        return await _screen(session, org_id, name, default_tz, today)


async def ask_setting(
    db: Database, actor: Actor, org_id: int, setting: Setting, *, now: datetime, today: date
) -> SettingsScreen:
    """改…: for a value that may be typed, the person's answer is awaited (a draft)."""
    async with db.transaction() as session:
        name = await _branch(session, actor, org_id, today)
        view = await settings_of(session, org_id)
        if setting is not Setting.EVERY:
            await keep_draft_in(session, actor.user_id, asking(org_id, setting), now)
        return SettingsScreen(org_id, name, view, view.payment_day)


async def change_setting(
    db: Database, actor: Actor, org_id: int, setting: Setting, value: int, *,
    default_tz: str, now: datetime, today: date, typed: bool = False,
) -> SettingsScreen:  # fmt: skip
    """One setting changed (the row created with the defaults if absent), audited with before
    and after; the same value again changes nothing. A typed value finishes the person's open
    question: the draft is taken in this transaction, so the answer counts once."""
    async with db.transaction() as session:
        if typed:
            draft = await take_draft(session, actor.user_id, SettingsDraft)
            if draft is None or (draft.org_id, draft.what) != (org_id, setting.value):
                raise ServiceError("stale")
        name = await _branch(session, actor, org_id, today)
        refused = check(setting, value)
        if refused is not None:
            raise ServiceError(refused.code)
        before = await settings_of(session, org_id)
        column = COLUMNS[setting]
        old = getattr(before, column)
        if old == value:
            return await _screen(session, org_id, name, default_tz, today, before)
        values = {
            "org_id": org_id, "payment_day": before.payment_day,
            "advance_cap": before.advance_cap, "arrears_cap": before.arrears_cap,
            "show_amounts": before.show_amounts, "disclosure_months": before.disclosure_months,
            "updated_by": actor.user_id or None, "updated_at": now,
        }  # fmt: skip
        values[column] = value
        await upsert(
            session, DuesSettings.__table__,  # type: ignore[arg-type]
            values, key=["org_id"], update=[column, "updated_by", "updated_at"],
        )  # fmt: skip
        audit.record(
            session, at=now, actor_id=actor.user_id or None, action=ACTIONS[setting],
            target_type="organization", target_id=org_id,
            before={column: old}, after={column: value},
        )  # fmt: skip
        await session.flush()
        after = dataclasses.replace(before, **{column: value})  # type: ignore[arg-type]
        return await _screen(session, org_id, name, default_tz, today, after, setting)
