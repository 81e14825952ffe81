"""公示提醒: on the first day after a disclosure period ends (1 January, April, July, October),
at the digest hour in each branch's time zone, the keepers of every branch that keeps dues in
zhibu and whose period (quarterly by default, or half-yearly, yearly) has just ended are
reminded privately to publish its 党费收缴情况公示, with a button to the 公示 screen.

One occurrence per (day, zone); each branch's period is also recorded under its own key
(services.dues_disclose.BRANCH_REMINDER_JOB) in the same transaction: once per branch and
period, across restarts, even if the branch's time zone changes that day.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from domain.dues_disclose import is_reminder_day
from scheduler.compliance import LocalDaily, parse_key
from services.dues_disclose import REMINDER_JOB, record_reminded, reminders_due
from services.jobs import Effects, Occurrence, Session
from services.outbox import add_items, item_values
from ui.deps import Deps
from ui.dues_disclose import DiscOpen, reminder_text


class DuesDiscloseReminder(LocalDaily):
    """The keepers reminded that a branch's dues disclosure is due."""

    name = REMINDER_JOB
    summary = "1 Jan/Apr/Jul/Oct, 09:00: keepers reminded to publish the dues disclosure"

    def qualifies(self, deps: Deps, day: date) -> bool:
        return is_reminder_day(day)

    async def plan(
        self, deps: Deps, session: Session, occurrence: Occurrence, now: datetime
    ) -> Effects:
        """One private message with a 去公示 button per keeper of each branch due."""
        day, zone, _ = parse_key(occurrence.key)
        settings = deps.settings
        due = await reminders_due(session, zone, settings.timezone.key, day,
                                  settings.default_locale)  # fmt: skip
        catalog = deps.catalog
        rows = [
            item_values(
                purpose="text", chat_id=r.user_id, org_id=r.org_id, now=now,
                payload={"html": reminder_text(catalog, r.locale, r.org_name, r.period),
                         "buttons": [[(catalog.plain(r.locale, "dues.disclose.go"),
                                       "cb:" + DiscOpen(r.org_id).pack())]]},
            )
            for r in due
        ]  # fmt: skip
        detail = {"branches": len({r.org_id for r in due}), "keepers": len(rows)}

        async def effects(session: Session) -> dict[str, Any]:
            await add_items(session, rows)
            await record_reminded(session, due, occurrence.due_at, now)
            return detail

        return effects
