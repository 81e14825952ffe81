"""Scheduled 三会一课 work, in each branch's time zone at the digest hour (09:00 by default):

- monthly-digest: on the first working day of the month, each branch's secretary (else
  deputy, else organization member) gets the month's and quarter's open obligations with
  立即安排 buttons, and the members absent for months;
- period-warnings: `warn_days_before_end` days before a month, quarter, half-year or year
  ends with an obligation unmet, the same person is warned;
- period-reports: the day after a period ends, the admins of the overseeing committee and
  the branch's instructors get the branches that missed, one grouped message each;
- committee-monthly: on the 1st, each committee's admins get an XLSX table of all its
  branches and a chart.

Each is a job of scheduler.jobs: an occurrence per (local date, time zone) covers the
branches of that zone (the committee report: one per committee, so each commits its own
files), and its job_runs row commits with its outbox items: never twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from domain.workdays import first_working_day
from services.compliance import (
    BranchStatus,
    OrgTree,
    Recipient,
    branch_contacts,
    committee_admins,
    committee_tables,
    committees_in_zone,
    due_within,
    load_tree,
    missed_between,
    open_obligations,
    overseers,
    zoneinfo,
    zones_in_use,
)
from services.jobs import Effects, Occurrence, Session
from services.ledger import absence_streaks
from services.outbox import ButtonRows, add_items, enqueue_file, item_values
from ui.compliance import (
    chart_caption,
    committee_chart,
    committee_xlsx,
    digest_message,
    report_messages,
    table_caption,
    table_filename,
    warning_message,
)
from ui.deps import Deps

log = logging.getLogger(__name__)


def _default_zone(deps: Deps) -> str:
    return deps.settings.timezone.key


def occurrence_key(day: date, zone: str, committee: int | None = None) -> str:
    """ "2026-12-01@Asia/Shanghai", with "@c42" for one committee's report."""
    key = f"{day.isoformat()}@{zone}"
    return key if committee is None else f"{key}@c{committee}"


def parse_key(key: str) -> tuple[date, str, int | None]:
    """The local date, time zone and committee (if any) of an occurrence key."""
    day, zone, *rest = key.split("@")
    committee = int(rest[0].removeprefix("c")) if rest else None
    return date.fromisoformat(day), zone, committee


class LocalDaily:
    """A job due at the digest hour, local time, on the days `qualifies` accepts, once per
    time zone in use."""

    name = ""
    summary = ""

    def qualifies(self, deps: Deps, day: date) -> bool:
        """Whether the job is due on this local date."""
        raise NotImplementedError

    async def plan(
        self, deps: Deps, session: Session, occurrence: Occurrence, now: datetime
    ) -> Effects:
        """Read (in a read-only session) and render one occurrence; return what to write."""
        raise NotImplementedError

    async def prepare(self, deps: Deps, occurrence: Occurrence, now: datetime) -> Effects:
        """Plan outside the write transaction: only the inserts hold the write lock."""
        async with deps.db.read() as session:
            return await self.plan(deps, session, occurrence, now)

    async def _zones(self, deps: Deps) -> set[str]:
        async with deps.db.read() as session:
            return await zones_in_use(session, _default_zone(deps))

    async def _slots(self, deps: Deps, start: datetime, end: datetime) -> list[tuple[date, str]]:
        """(local date, zone) pairs whose digest hour falls in (start, end]."""
        # Any zone's local date is within a day of the UTC date: look at no database
        # unless one of those days qualifies at all (most ticks of most days).
        first, last = (start - timedelta(days=1)).date(), (end + timedelta(days=1)).date()
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        days = [d for d in days if self.qualifies(deps, d)]
        if not days:
            return []
        default, hour = _default_zone(deps), deps.settings.schedule.digest_hour
        slots = []
        for zone in sorted(await self._zones(deps)):
            tz = zoneinfo(zone, default)
            for day in days:
                at = datetime.combine(day, time(hour), tz)
                if start < at <= end:
                    slots.append((day, zone))
        return slots

    async def due(self, deps: Deps, start: datetime, end: datetime) -> list[Occurrence]:
        """The digest hour of each qualifying local date, per zone, in (start, end]."""
        default = _default_zone(deps)
        hour = deps.settings.schedule.digest_hour
        return [
            Occurrence(
                datetime.combine(day, time(hour), zoneinfo(zone, default)).astimezone(start.tzinfo),
                self.name,
                occurrence_key(day, zone),
            )
            for day, zone in await self._slots(deps, start, end)
        ]


def _insert(rows: list[dict[str, Any]], detail: dict[str, Any]) -> Effects:
    """Effects that insert prepared outbox rows and report `detail`."""

    async def effects(session: Session) -> dict[str, Any]:
        await add_items(session, rows)
        return detail

    return effects


def _text_rows(
    person: Recipient, parts: Sequence[str], buttons: ButtonRows, now: datetime
) -> list[dict[str, Any]]:
    """Outbox rows for a private message in parts; the buttons go with the last part."""
    return [
        item_values(
            purpose="text",
            chat_id=person.user_id,
            now=now,
            payload={"html": part, "buttons": buttons if i == len(parts) - 1 else []},
        )
        for i, part in enumerate(parts)
    ]


class MonthlyDigest(LocalDaily):
    """The first working day's digest to each branch's secretary."""

    name = "monthly-digest"
    summary = "first working day, 09:00: open obligations of the month and quarter to secretaries"

    def qualifies(self, deps: Deps, day: date) -> bool:
        return day == first_working_day(day.year, day.month)

    async def plan(
        self, deps: Deps, session: Session, occurrence: Occurrence, now: datetime
    ) -> Effects:
        """Queue each branch's digest of the zone (open obligations, absent members)."""
        day, zone, _ = parse_key(occurrence.key)
        default = _default_zone(deps)
        statuses = await open_obligations(
            session, now=occurrence.due_at, default_tz=default, zone=zone, keep_empty=True
        )
        ids = [s.branch_id for s in statuses]
        flags = await absence_streaks(
            session, ids, day, deps.settings.schedule.absence_months, default_tz=default
        )
        contacts = await branch_contacts(session, ids, day, deps.settings.default_locale)
        rows: list[dict[str, Any]] = []
        sent = unreachable = quiet = 0
        for status in statuses:
            absent = flags.get(status.branch_id, [])
            if not status.obligations and not absent:
                quiet += 1
                continue
            person = contacts.get(status.branch_id)
            if person is None:
                unreachable += 1
                continue
            parts, buttons = digest_message(deps.catalog, person.locale, status, absent)
            rows += _text_rows(person, parts, buttons, now)
            sent += 1
        return _insert(rows, {"branches": len(statuses), "sent": sent,
                              "unreachable": unreachable, "nothing_open": quiet})  # fmt: skip


class PeriodWarnings(LocalDaily):
    """Days before a period ends: the secretary is told what is still owed."""

    name = "period-warnings"
    summary = "N days before a period ends, 09:00: unmet obligations to the secretary"

    def qualifies(self, deps: Deps, day: date) -> bool:
        end = day + timedelta(days=deps.settings.schedule.warn_days_before_end)
        return (end + timedelta(days=1)).day == 1  # every period ends on a month's last day

    async def plan(
        self, deps: Deps, session: Session, occurrence: Occurrence, now: datetime
    ) -> Effects:
        """Queue a warning for each branch of the zone with obligations due at that end."""
        day, zone, _ = parse_key(occurrence.key)
        days = deps.settings.schedule.warn_days_before_end
        statuses = await due_within(
            session, now=occurrence.due_at, days=days, default_tz=_default_zone(deps),
            zone=zone,
        )  # fmt: skip
        # Only the periods ending exactly then: each period is warned about once.
        chosen = [
            BranchStatus(s.branch_id, s.name, s.zone, s.today,
                         tuple(o for o in s.obligations if o.days_remaining == days),
                         s.group_names)
            for s in statuses
        ]  # fmt: skip
        chosen = [s for s in chosen if s.obligations]
        contacts = await branch_contacts(
            session, [s.branch_id for s in chosen], day, deps.settings.default_locale
        )
        rows: list[dict[str, Any]] = []
        for status in chosen:
            person = contacts.get(status.branch_id)
            if person is not None:
                parts, buttons = warning_message(deps.catalog, person.locale, status)
                rows += _text_rows(person, parts, buttons, now)
        warned = sum(1 for s in chosen if s.branch_id in contacts)
        return _insert(rows, {"branches": len(chosen), "warned": warned,
                              "unreachable": len(chosen) - warned})  # fmt: skip


class PeriodReports(LocalDaily):
    """The day after a period ends: the overseers hear which branches missed."""

    name = "period-reports"
    summary = "the day after a period ends, 09:00: missed obligations to committee and instructors"

    def qualifies(self, deps: Deps, day: date) -> bool:
        return day.day == 1

    async def plan(
        self, deps: Deps, session: Session, occurrence: Occurrence, now: datetime
    ) -> Effects:
        """Queue one grouped report per committee admin or instructor of the zone's branches
        that missed an obligation of a period that ended yesterday."""
        day, zone, _ = parse_key(occurrence.key)
        ended = day - timedelta(days=1)
        default = _default_zone(deps)
        tree = await load_tree(session, default)
        statuses = await missed_between(
            session, since=ended, until=ended, default_tz=default, zone=zone, tree=tree
        )
        readers = await overseers_of(deps, session, tree, statuses, day)
        rows: list[dict[str, Any]] = []
        for person, missed in readers:
            parts = report_messages(deps.catalog, person.locale, missed, ended)
            rows += _text_rows(person, parts, [], now)
        told = {s.branch_id for _, missed in readers for s in missed}
        return _insert(rows, {"missed": len(statuses), "recipients": len(readers),
                              "nobody_to_tell": len(statuses) - len(told)})  # fmt: skip


async def overseers_of(
    deps: Deps, session: Session, tree: OrgTree, statuses: Sequence[BranchStatus], day: date
) -> list[tuple[Recipient, list[BranchStatus]]]:
    """Each overseer with the branches they hear about, in a stable order."""
    readers = await overseers(
        session, tree, [s.branch_id for s in statuses], day, deps.settings.default_locale
    )
    grouped: dict[int, tuple[Recipient, list[BranchStatus]]] = {}
    for status in statuses:
        for person in readers.get(status.branch_id, []):
            grouped.setdefault(person.user_id, (person, []))[1].append(status)
    return [grouped[k] for k in sorted(grouped)]


class CommitteeMonthly(LocalDaily):
    """The 1st of the month: each committee's admins get its table and chart."""

    name = "committee-monthly"
    summary = "the 1st, 09:00: each committee's compliance table (XLSX) and chart to its admins"

    def qualifies(self, deps: Deps, day: date) -> bool:
        return day.day == 1

    async def due(self, deps: Deps, start: datetime, end: datetime) -> list[Occurrence]:
        """One occurrence per committee of each zone: each commits its own files."""
        slots = await self._slots(deps, start, end)
        if not slots:
            return []
        default, hour = _default_zone(deps), deps.settings.schedule.digest_hour
        async with deps.db.read() as session:
            tree = await load_tree(session, default)
        occurrences = []
        for day, zone in slots:
            at = datetime.combine(day, time(hour), zoneinfo(zone, default))
            for committee in committees_in_zone(tree, zone):
                occurrences.append(
                    Occurrence(at.astimezone(start.tzinfo), self.name,
                               occurrence_key(day, zone, committee))
                )  # fmt: skip
        return occurrences

    async def plan(
        self, deps: Deps, session: Session, occurrence: Occurrence, now: datetime
    ) -> Effects:
        """Queue the XLSX and the chart of the month just ended to each admin."""
        day, _, committee = parse_key(occurrence.key)
        assert committee is not None
        admins = (
            await committee_admins(session, [committee], day, deps.settings.default_locale)
        ).get(committee, [])
        if not admins:
            return _insert([], {"admins": 0})
        tables = await committee_tables(
            session, [committee], month=day - timedelta(days=1), default_tz=_default_zone(deps)
        )
        table = tables.get(committee)
        if table is None or not table.rows:
            return _insert([], {"admins": len(admins), "branches": 0})
        files: dict[str, tuple[bytes, bytes]] = {}
        for locale in sorted({a.locale for a in admins}):
            # Drawing takes a moment: off the event loop, so updates keep flowing.
            xlsx = await asyncio.to_thread(committee_xlsx, deps.catalog, locale, table)
            png = await asyncio.to_thread(committee_chart, deps.catalog, locale, table)
            files[locale] = (xlsx, png)
        detail = {"admins": len(admins), "branches": len(table.rows)}

        async def effects(session: Session) -> dict[str, Any]:
            for person in admins:
                xlsx, png = files[person.locale]
                enqueue_file(
                    session, chat_id=person.user_id, now=now, as_photo=False, data=xlsx,
                    filename=table_filename(deps.catalog, person.locale, table),
                    caption_html=table_caption(deps.catalog, person.locale, table),
                )  # fmt: skip
                caption = chart_caption(deps.catalog, person.locale, table)
                enqueue_file(
                    session, chat_id=person.user_id, now=now, as_photo=True, data=png,
                    filename="chart.png", caption_html=caption,
                )  # fmt: skip
            return detail

        return effects


def compliance_jobs() -> list[LocalDaily]:
    """The four 三会一课 jobs, in the order they are looked at."""
    return [MonthlyDigest(), PeriodWarnings(), PeriodReports(), CommitteeMonthly()]
