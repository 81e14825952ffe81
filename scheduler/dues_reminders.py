"""The dues payment day: on each branch's payment day (default the 5th) at the digest hour,
local to the branch, every member who owes is reminded privately of their amount and months
(never in a group: amounts are private), the keepers get the month's status, and arrears
escalate — 3 months: the secretary told; 5: asked for a talk; 6: the committee flagged.

One occurrence per payment day and zone ("202612@5@Asia/Shanghai") covers all its branches.
Who owes is read and rendered first; the effects only insert the outbox rows, the job_runs
rows of the escalations and the occurrence's own row, in one transaction: never twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.dues_cycle import parse_payment_key
from services.dues_reminders import (
    JOB,
    branch_days,
    due_days,
    load_payment_plan,
    record_escalations,
)
from services.forms_chase import queue
from services.jobs import Effects, Occurrence, Session
from ui.deps import Deps
from ui.dues_cycle import payment_day_messages


class DuesPaymentDay:
    """Each branch's monthly payment day: reminders, the keepers' status, arrears flags."""

    name = JOB
    summary = "each branch's payment day, 09:00: who owes reminded, keepers told, arrears flagged"

    async def due(self, deps: Deps, start: datetime, end: datetime) -> list[Occurrence]:
        """One occurrence per payment day and time zone in (start, end]."""
        settings = deps.settings
        async with deps.db.read() as session:
            days = await due_days(session, settings.schedule.digest_hour,
                                  settings.timezone.key, start, end)  # fmt: skip
        return [Occurrence(d.at, self.name, d.key) for d in days]

    async def prepare(self, deps: Deps, occurrence: Occurrence, now: datetime) -> Effects:
        """Read who owes in the day's branches and render every message; effects insert."""
        parsed = parse_payment_key(occurrence.key)
        settings = deps.settings
        detail: dict[str, Any]
        if parsed is None:
            detail = {"stale": "bad key"}
            messages: list[Any] = []
            plan = None
        else:
            async with deps.db.read() as session:
                groups = await branch_days(session, settings.timezone.key, parsed.month)
                org_ids = groups.get((parsed.day, parsed.zone), [])
                plan = await load_payment_plan(
                    session, org_ids, parsed.local_date, settings.default_locale
                )
            messages = payment_day_messages(deps.catalog, plan)
            detail = {"branches": len(plan.branches), "owing": len(plan.owing),
                      "unreachable": sum(1 for p in plan.owing if not p.private),
                      "escalations": len(plan.escalations), "messages": len(messages)}  # fmt: skip

        async def effects(session: Session) -> dict[str, Any]:
            await queue(session, messages, now)
            if plan is not None:
                await record_escalations(session, plan.escalations, occurrence.due_at, now)
            return detail

        return effects
