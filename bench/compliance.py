"""三会一课 compliance at city scale: every branch's standing, and the committee's monthly report.

On a generated city (2,000 branches, 150,000 members; the 20 committees of bench.city
gathered under one city committee) with a year of meetings — a realistic mix: monthly
committee meetings and theme days, quarterly general meetings and lessons held on a theme
day, monthly party-group meetings, the yearly ones; a few cancelled or still to come; about
one branch in seven missing much of it; sign-ins for those who came — and for each backend:

(a) compliance of all 2,000 branches as of one date (services.compliance.open_obligations:
    organizations, party groups and meetings read, requirements resolved along the
    ancestry, the domain engine run per branch). Baseline: one bare SELECT of the same
    meeting rows. Target < 2 s.
(b) the monthly committee report of the 2,000-branch city committee: the table
    (services.compliance.committee_tables, attendance included), the XLSX bytes and the
    PNG chart bytes. Baseline: the same bare SELECT of the year's meeting rows.
    Target < 10 s.
(c) for information, the monthly-digest job over all branches: read and render, then the
    inserts in one transaction (rolled back), absence streaks included.

Medians of several runs; ratios are reported, never asserted.
"""

from __future__ import annotations

import random
import statistics
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from sqlalchemy import Text, cast, insert, select, update

from bench.city import NOW, backends, generate_city, scratch_database
from bot.app import build_deps
from bot.config import parse_config
from bot.i18n import load_catalog
from domain.compliance import MeetingType
from domain.orgs import Kind, Level, Role
from scheduler.compliance import MonthlyDigest
from services.compliance import committee_tables, open_obligations
from services.jobs import Occurrence
from storage.db import Database
from storage.models import (
    Meeting,
    MeetingAttendance,
    Member,
    Organization,
    PartyGroup,
    RoleAssignment,
)
from ui.compliance import committee_chart, committee_xlsx

TZ = "Asia/Shanghai"
BEIJING = timedelta(hours=8)
M = MeetingType
REPORT_MONTH = date(2026, 10, 31)  # the report of 1 November, for October
CHUNK = 5000


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, clock_time(hour), UTC) - BEIJING


async def _chunks(db: Database, model: Any, rows: list[dict[str, Any]]) -> None:
    async with db.transaction() as s:
        for i in range(0, len(rows), CHUNK):
            await s.execute(insert(model), rows[i : i + CHUNK])


async def build(db: Database, branches: int, members: int) -> tuple[int, int, int]:
    """The city, its city committee, party groups and a year of meetings with sign-ins;
    (city committee id, meetings, sign-ins)."""
    await generate_city(db, branches=branches, members=members)
    rng = random.Random(11)
    founded = datetime(2020, 1, 1, tzinfo=UTC)
    async with db.transaction() as s:
        city = Organization(level=Level.COMMITTEE, kind=Kind.TWO_NEW, name="市两新工委",
                            gate_enabled=True, created_at=founded)  # fmt: skip
        s.add(city)
        await s.flush()
        await s.execute(
            update(Organization)
            .where(Organization.level == Level.COMMITTEE, Organization.id != city.id)
            .values(parent_id=city.id)
        )
        # bench.city founds everything "now": these branches have existed for years.
        await s.execute(update(Organization).values(created_at=founded))
        city_id = city.id
        branch_ids = list(
            await s.scalars(select(Organization.id).where(Organization.level == Level.BRANCH))
        )
        roster: dict[int, list[int]] = defaultdict(list)
        for member_id, org_id in (await s.execute(select(Member.id, Member.org_id))).all():
            roster[org_id].append(member_id)
        secretaries = dict(
            (await s.execute(
                select(RoleAssignment.org_id, RoleAssignment.member_id)
                .where(RoleAssignment.role == Role.SECRETARY)
            )).all()
        )  # fmt: skip
        # Bigger branches have two or three party groups; members are split among them.
        groups: dict[int, list[int]] = {}
        for org_id in branch_ids:
            size = len(roster[org_id])
            count = 3 if size > 110 else 2 if size > 60 else 0
            if not count:
                continue
            rows = [PartyGroup(org_id=org_id, name=f"第{i + 1}党小组") for i in range(count)]
            s.add_all(rows)
            await s.flush()
            groups[org_id] = [g.id for g in rows]
        members_of_group: dict[int, list[int]] = defaultdict(list)
        for org_id, ids in groups.items():
            for i, member_id in enumerate(roster[org_id]):
                members_of_group[ids[i % len(ids)]].append(member_id)
        for group_id, ids in members_of_group.items():
            await s.execute(
                update(Member).where(Member.id.in_(ids)).values(party_group_id=group_id)
            )

    meetings: list[dict[str, Any]] = []
    signins: list[dict[str, Any]] = []
    next_id = 1
    months = [(2025, 12)] + [(2026, m) for m in range(1, 12)]

    def meeting(org_id: int, day: date, types: list[MeetingType], audience: str,
                people: list[int], turnout: float, group: int | None = None) -> None:  # fmt: skip
        nonlocal next_id
        starts = _at(day, 14 if audience != "committee" else 19)
        status = "closed" if starts < NOW else "scheduled"
        if rng.random() < 0.02:
            status = "cancelled"
        meetings.append({
            "id": next_id, "org_id": org_id, "party_group_id": group,
            "types": [t.value for t in types], "starts_at": starts, "place": "党员活动室",
            "topic": "学习", "audience": audience, "status": status, "version": 1,
            "counts_dirty": False, "created_at": starts - timedelta(days=5),
            "closed_at": starts + timedelta(hours=2) if status == "closed" else None,
            "cancelled_at": starts if status == "cancelled" else None,
        })  # fmt: skip
        if status == "closed":
            for member_id in people:
                if rng.random() < turnout:
                    signins.append({"meeting_id": next_id, "member_id": member_id,
                                    "signed_at": starts, "signed_by": "self"})  # fmt: skip
        next_id += 1

    for org_id in branch_ids:
        weak = rng.random() < 0.15  # a branch that misses much of its calendar
        keep = 0.5 if weak else 0.95
        turnout = rng.uniform(0.4, 0.7) if weak else rng.uniform(0.7, 0.97)
        people = roster[org_id]
        committee = [secretaries.get(org_id) or people[0], *people[1:3]]
        for year, month in months:
            last = 21 if (year, month) == (2026, 11) else 28
            if rng.random() < keep:
                meeting(org_id, date(year, month, rng.randint(1, last)), [M.COMMITTEE_MEETING],
                        "committee", committee, 0.95)  # fmt: skip
            if rng.random() < keep:
                types = [M.THEME_DAY]
                if month % 3 == 2 and rng.random() < keep:  # mid-quarter: meeting and lesson
                    types += [M.GENERAL_MEETING, M.PARTY_LESSON]
                meeting(org_id, date(year, month, rng.randint(1, last)), types, "branch",
                        people, turnout)  # fmt: skip
            for group_id in groups.get(org_id, []):
                if rng.random() < keep:
                    day = date(year, month, rng.randint(1, last))
                    meeting(org_id, day, [M.GROUP_MEETING], "party_group",
                            members_of_group[group_id], turnout, group_id)  # fmt: skip
        if rng.random() < keep:
            types = [M.LIFE_MEETING, M.DEMOCRATIC_EVALUATION]
            meeting(org_id, date(2026, 1, rng.randint(5, 25)), types, "branch", people, turnout)
        if rng.random() < keep:
            meeting(org_id, date(2026, rng.randint(3, 10), 10), [M.HEART_TALK], "committee",
                    committee, 0.95)  # fmt: skip
    await _chunks(db, Meeting, meetings)
    await _chunks(db, MeetingAttendance, signins)
    return city_id, len(meetings), len(signins)


async def _median(runs: int, call: Callable[[], Awaitable[Any]]) -> tuple[float, float]:
    """(median, first) wall time in seconds over `runs` calls."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times[0]


def _bare(db: Database, window: tuple[datetime, datetime]) -> Callable[[], Awaitable[int]]:
    """The baseline: one SELECT of the meeting rows the service reads, fetched as cheaply as
    SQLAlchemy Core allows (no ORM rows, the JSON column as text), and nothing else."""
    query = select(
        Meeting.id, Meeting.org_id, Meeting.party_group_id, cast(Meeting.types, Text),
        Meeting.starts_at, Meeting.audience, Meeting.created_at,
    ).where(
        Meeting.status == "closed", Meeting.cancelled_at.is_(None),
        Meeting.starts_at >= window[0], Meeting.starts_at < window[1],
    )  # fmt: skip

    async def select_rows() -> int:
        async with db.read() as s:
            connection = await s.connection()
            return len((await connection.execute(query)).all())

    return select_rows


async def _measure(backend: str, db: Database, branches: int, members: int, runs: int) -> None:
    started = time.perf_counter()
    city_id, meeting_count, signin_count = await build(db, branches, members)
    built = time.perf_counter() - started
    catalog = load_catalog("zh_CN")
    today_window = (datetime(2025, 12, 31, tzinfo=UTC), NOW + timedelta(days=2))
    year_window = (datetime(2025, 12, 31, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC))
    standing: list[Any] = []
    sizes: dict[str, int] = {}
    parts: dict[str, list[float]] = defaultdict(list)

    async def all_branches() -> None:
        async with db.read() as s:
            standing[:] = await open_obligations(s, now=NOW, default_tz=TZ, keep_empty=True)

    async def report() -> None:
        t0 = time.perf_counter()
        async with db.read() as s:
            tables = await committee_tables(s, [city_id], month=REPORT_MONTH, default_tz=TZ)
        table = tables[city_id]
        t1 = time.perf_counter()
        xlsx = committee_xlsx(catalog, "zh_CN", table)
        t2 = time.perf_counter()
        png = committee_chart(catalog, "zh_CN", table)
        t3 = time.perf_counter()
        parts["table"].append(t1 - t0)
        parts["xlsx"].append(t2 - t1)
        parts["chart"].append(t3 - t2)
        sizes.update(rows=len(table.rows), xlsx=len(xlsx), png=len(png))

    async def digest() -> None:
        # The first-working-day job as the runner runs it, rolled back: open obligations,
        # absence streaks (services.ledger), contacts and 2,000 outbox rows.
        due = datetime(2026, 11, 2, 1, tzinfo=UTC)
        occurrence = Occurrence(due, "monthly-digest", f"2026-11-02@{TZ}")
        effects = await MonthlyDigest().prepare(deps, occurrence, due)
        async with db.transaction() as s:
            detail.update(await effects(s) or {})
            await s.rollback()

    cfg = parse_config(
        {"telegram": {"token": "1:x"}, "database": {"url": db.url}}, config_dir=Path("."), env={}
    )
    deps = build_deps(cfg, db=db)
    detail: dict[str, Any] = {}
    ours_a, first_a = await _median(runs, all_branches)
    base_a, _ = await _median(runs, _bare(db, today_window))
    rows_a = await _bare(db, today_window)()
    owing = sum(1 for s in standing if s.obligations)
    ours_b, first_b = await _median(runs, report)
    base_b, _ = await _median(runs, _bare(db, year_window))
    rows_b = await _bare(db, year_window)()
    ours_c, _ = await _median(max(1, runs // 2), digest)
    med = {k: statistics.median(v) for k, v in parts.items()}
    print(
        f"compliance [{backend}]: {branches} branches / {members} members, "
        f"{meeting_count} meetings, {signin_count} sign-ins, built in {built:.1f} s\n"
        f"  (a) all branches as of {NOW.date()}: {len(standing)} branches, "
        f"{owing} with something open\n"
        f"      compliance service  median {ours_a * 1000:7.0f} ms  "
        f"(first {first_a * 1000:.0f} ms)  target < 2000 ms\n"
        f"      bare SELECT         median {base_a * 1000:7.0f} ms  ({rows_a} rows)\n"
        f"      ratio               {ours_a / base_a:7.2f}\n"
        f"  (b) monthly report, {sizes['rows']} branches of the city committee "
        f"(xlsx {sizes['xlsx'] // 1024} KiB, png {sizes['png'] // 1024} KiB)\n"
        f"      table+xlsx+chart    median {ours_b * 1000:7.0f} ms  "
        f"(first {first_b * 1000:.0f} ms)  target < 10000 ms\n"
        f"        table {med['table'] * 1000:.0f} ms, xlsx {med['xlsx'] * 1000:.0f} ms, "
        f"chart {med['chart'] * 1000:.0f} ms\n"
        f"      bare SELECT         median {base_b * 1000:7.0f} ms  ({rows_b} rows)\n"
        f"      ratio               {ours_b / base_b:7.2f}\n"
        f"  (c) the monthly-digest job (read, render, one insert transaction): median "
        f"{ours_c * 1000:.0f} ms "
        f"({detail.get('sent', 0)} digests queued)",
        flush=True,
    )


async def run(*, quick: bool = False) -> None:
    """Print compliance and committee-report timings per backend."""
    branches, members, runs = (200, 15_000, 3) if quick else (2000, 150_000, 5)
    for backend in backends():
        async with scratch_database(backend) as db:
            await _measure(backend, db, branches, members, runs)
