"""Form reminders: days before each cycle's due day (`[forms] remind_days`, 3 and 1 by
default, at the digest hour local to the sending organization), everyone who has not
answered is reminded once — privately with 填写, else by a mention in their branch's group.
With the last reminder of a branch form, and once more the day after its deadline, the
sending organization's admins get the branches behind.

A job of scheduler.jobs: one occurrence per cycle and offset ("42@3d", "42@after"). Who is
behind is read and rendered outside the write transaction; the messages are inserted at
once in the run's transaction with its job_runs row: never twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.forms import FormKind
from domain.forms_chase import is_last, parse_reminder_key, superseded
from services.forms_chase import (
    JOB,
    Outgoing,
    cycle_times,
    due_reminders,
    load_plan,
    local_today,
    planned,
    queue,
    reminder_summary,
)
from services.jobs import Effects, Occurrence, Session
from ui.deps import Deps
from ui.forms_chase import overseer_messages, reminder_messages


def _nothing(detail: dict[str, Any]) -> Effects:
    async def effects(session: Session) -> dict[str, Any]:
        return detail

    return effects


class FormReminders:
    """The scheduled reminders of every open form's cycles."""

    name = JOB
    summary = "days before a form's due day, 09:00: non-answerers reminded, overseers told"

    async def due(self, deps: Deps, start: datetime, end: datetime) -> list[Occurrence]:
        """One occurrence per cycle and reminder day in (start, end]."""
        settings = deps.settings
        return [
            Occurrence(r.at, self.name, r.key)
            for r in await due_reminders(
                deps.db, settings.form_remind_days, hour=settings.schedule.digest_hour,
                default_tz=settings.timezone.key, start=start, end=end,
            )
        ]  # fmt: skip

    async def prepare(self, deps: Deps, occurrence: Occurrence, now: datetime) -> Effects:
        """Read who is behind and render their reminders; the effects only insert them."""
        parsed = parse_reminder_key(occurrence.key)
        if parsed is None:
            return _nothing({"stale": "bad key"})
        cycle_id, days = parsed
        settings = deps.settings
        default_tz = settings.timezone.key
        # Late after downtime: speak of the real time left; run ahead by an operator: of
        # the moment it was due.
        as_of = max(now, occurrence.due_at)
        async with deps.db.read() as session:
            times = await cycle_times(session, cycle_id, default_tz)
            if isinstance(times, str):
                return _nothing({"stale": times})
            remind_days = settings.form_remind_days
            schedule = planned(times, remind_days, settings.schedule.digest_hour, default_tz)
            if superseded(days, schedule, as_of):
                return _nothing({"stale": "superseded"})
            if days and as_of >= times.deadline:
                return _nothing({"stale": "deadline passed"})
            tell = times.kind is FormKind.BRANCH and (days == 0 or is_last(days, remind_days))
            plan = await load_plan(
                session, cycle_id, today=local_today(as_of, times.timezone, default_tz),
                default_locale=settings.default_locale, default_tz=default_tz, overseers=tell,
            )  # fmt: skip
        if isinstance(plan, str):
            return _nothing({"stale": plan})
        messages: list[Outgoing] = []
        if days:
            messages += reminder_messages(
                deps.catalog, plan, now=as_of, group_locale=settings.default_locale
            )
        if tell:
            messages += overseer_messages(deps.catalog, plan, now=as_of, after_deadline=not days)
        detail = reminder_summary(plan, len(messages))
        if not days:
            detail = {"cycle": cycle_id, "behind": len(plan.behind), "messages": len(messages)}

        async def effects(session: Session) -> dict[str, Any]:
            await queue(session, messages, now)
            return detail

        return effects
