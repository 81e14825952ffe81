"""请重新申报: on the first working day of January, at the digest hour in each branch's time
zone, every member with a confirmed dues standard is asked privately to declare their income
again (the standard is reviewed once a year). One occurrence per (day, zone); its job_runs row
commits with the outbox items, so nobody is asked twice in a year, across restarts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from domain.workdays import first_working_day
from scheduler.compliance import LocalDaily, parse_key
from services.dues_standards import to_redeclare
from services.jobs import Effects, Occurrence, Session
from services.outbox import add_items, item_values
from ui.deps import Deps
from ui.dues_standards import DuesDeclare, redeclare_text


class DuesDeclareReminder(LocalDaily):
    """The yearly 请重新申报 to members with a confirmed standard."""

    name = "dues-declare"
    summary = "first working day of January, 09:00: members asked to declare their income again"

    def qualifies(self, deps: Deps, day: date) -> bool:
        return day.month == 1 and day == first_working_day(day.year, 1)

    async def plan(
        self, deps: Deps, session: Session, occurrence: Occurrence, now: datetime
    ) -> Effects:
        """One private message with a 申报 button per member of the zone's branches."""
        day, zone, _ = parse_key(occurrence.key)
        people = await to_redeclare(
            session, zone, deps.settings.timezone.key, deps.settings.default_locale
        )
        data = "cb:" + DuesDeclare().pack()
        rows = [
            item_values(
                purpose="text", chat_id=p.user_id, now=now,
                payload={"html": redeclare_text(deps.catalog, p.locale, p.name, day.year),
                         "buttons": [[(deps.catalog.plain(p.locale, "dues.mine.changed"), data)]]},
            )
            for p in people
        ]  # fmt: skip

        async def effects(session: Session) -> dict[str, Any]:
            await add_items(session, rows)
            return {"members": len(rows)}

        return effects
