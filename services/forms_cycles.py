"""Forms: each new cycle of a repeating form, issued once on its opening day.

A monthly form published in December has its "2026-11" cycle from the start
(services.forms.publish_in); the job "form-cycles" issues "2026-12" on 1 January at the
digest hour, local time of the sending organization, with its deadline at the end of the
due day, and queues its delivery (cards, private copies) in the same transaction. The
occurrence key is the form and the cycle ("7@2026-12"): the job_runs row and the unique
(form_id, key) of form_cycles both keep a cycle from being issued twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.forms import Repeat
from domain.forms_chase import cycle_from_key, cycles_opening, deadline_of
from services import audit
from services.compliance import zoneinfo
from services.forms_delivery import queue_cycle
from services.jobs import effective_timezones
from storage.db import Database
from storage.models import Form, FormCycle

JOB = "form-cycles"


@dataclass(frozen=True)
class DueCycle:
    """A cycle of a form to be issued at `at` (UTC)."""

    form_id: int
    cycle_key: str
    at: datetime

    @property
    def key(self) -> str:
        """The occurrence key: "7@2026-12"."""
        return f"{self.form_id}@{self.cycle_key}"


def parse_cycle_key(key: str) -> tuple[int, str] | None:
    """(form id, cycle key) of an occurrence key; None when it is not one."""
    form, _, cycle = key.partition("@")
    return (int(form), cycle) if form.isdigit() and cycle else None


async def due_cycles(
    db: Database, *, default_tz: str, hour: int, start: datetime, end: datetime
) -> list[DueCycle]:
    """The cycles of open repeating forms whose opening moment lies in (start, end]."""
    async with db.read() as session:
        rows = (
            await session.execute(
                select(Form.id, Form.org_id, Form.repeat, Form.due_day, func.max(FormCycle.key))
                .join(FormCycle, FormCycle.form_id == Form.id)
                .where(Form.status == "open", Form.repeat != Repeat.NONE.value)
                .group_by(Form.id, Form.org_id, Form.repeat, Form.due_day)
            )
        ).all()
        zones = await effective_timezones(session, default_tz) if rows else {}
    due: list[DueCycle] = []
    for form_id, org_id, repeat_value, due_day, latest_key in rows:
        repeat = Repeat(repeat_value)
        latest = cycle_from_key(repeat, due_day, latest_key)
        if latest is None:
            continue
        zone = zoneinfo(zones.get(org_id, default_tz), default_tz)
        for at, cycle in cycles_opening(repeat, due_day, latest, zone, hour, start, end):
            due.append(DueCycle(form_id, cycle.key, at.astimezone(UTC)))
    return sorted(due, key=lambda d: (d.at, d.form_id))


async def issue_cycle(
    session: AsyncSession, form_id: int, cycle_key: str, *, at: datetime, now: datetime,
    default_tz: str,
) -> dict[str, Any]:  # fmt: skip
    """Inside a job run's transaction: record the cycle (deadline the end of its due day,
    local time) and queue its delivery; a summary for `zhibu jobs list`."""
    form = await session.get(Form, form_id)
    if form is None or form.status != "open":
        return {"stale": "closed"}
    cycle = cycle_from_key(Repeat(form.repeat), form.due_day, cycle_key)
    if cycle is None:
        return {"stale": "bad key"}
    issued = await session.scalar(
        select(FormCycle.id).where(FormCycle.form_id == form_id, FormCycle.key == cycle_key)
    )
    if issued is not None:
        return {"stale": "issued"}
    zones = await effective_timezones(session, default_tz)
    zone = zoneinfo(zones.get(form.org_id, default_tz), default_tz)
    row = FormCycle(
        form_id=form_id,
        key=cycle_key,
        opens_at=at,
        deadline=deadline_of(cycle.due, zone).astimezone(UTC),
        counts_dirty=False,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    delivered = await queue_cycle(session, form, row, now=now, today=cycle.opens)
    audit.record(
        session, at=now, actor_id=None, action="form.cycle", target_type="form",
        target_id=form_id, after={"cycle": cycle_key, "groups": delivered.groups,
                                  "private": delivered.private_copies},
    )  # fmt: skip
    return {
        "form": form_id,
        "cycle": cycle_key,
        "cycle_id": row.id,
        "groups": delivered.groups,
        "private": delivered.private_copies,
    }
