"""Form reminders at city scale: one scheduled reminder of a city-wide member form that queues
about 100,000 reminders.

On a generated city (2,000 branches, 150,000 members, each branch's group bound, about one
linked member in ten who never started the bot) a member form goes to every committee; about
one linked member in eight has answered, so some 130,000 have not: about 100,000 are written to
privately, the others are mentioned in their group or are to be called. For each backend:

(a) the reminder occurrence as the job runner runs it (scheduler.forms_reminders): who is
    behind read in set-based queries, every private reminder and group mention rendered, then
    all of them inserted in one transaction (rolled back, so each run starts the same).
    Target < 30 s.
(b) baseline: the same number of outbox rows, prepared beforehand, inserted in one
    transaction by the same bulk insert (services.outbox.add_items), rolled back.

Medians of several runs; the ratio is reported, never asserted.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, update

from bench.city import NOW, backends, generate_city, scratch_database
from bot.app import build_deps
from bot.config import parse_config
from domain.forms import FormKind, LatePolicy, QType, Question, Repeat, question_to_json
from domain.forms_chase import deadline_of, reminder_key
from domain.orgs import Level
from scheduler.forms_reminders import FormReminders
from services.jobs import Occurrence
from services.notices import Audience
from services.outbox import add_items, item_values
from storage.db import Database
from storage.models import ChatBinding, Form, FormCycle, FormResponse, Member, Organization, User

TZ = "Asia/Shanghai"
CHUNK = 5000


async def build(db: Database, branches: int, members: int) -> tuple[int, int]:
    """The city, its groups, a city-wide member form and its answers; (cycle id, behind)."""
    city = await generate_city(db, branches=branches, members=members)
    rng = random.Random(5)
    async with db.transaction() as s:
        committees = list(
            await s.scalars(select(Organization.id).where(Organization.level == Level.COMMITTEE))
        )
        await s.execute(
            insert(ChatBinding),
            [{"chat_id": -1_000_000_000_000 - org, "org_id": org, "purpose": "main",
              "active": True, "bound_at": NOW} for org in city.branches],
        )  # fmt: skip
        # About one linked member in ten never started the bot: mentioned in the group.
        await s.execute(update(User).where(User.id % 10 == 3).values(started=False))
        sender = next(iter(city.secretaries.values()))
        form = Form(
            org_id=committees[0], sender_id=sender, kind=FormKind.MEMBER.value,
            title="党员信息更新", intro="",
            questions=[question_to_json(Question(QType.SHORT, "工作单位"))],
            audience=Audience(tuple(committees)).to_json(), anonymous=False,
            late_policy=LatePolicy.ACCEPT.value, repeat=Repeat.NONE.value, due_day=0,
            template=None, status="open", created_at=NOW - timedelta(days=2),
        )  # fmt: skip
        s.add(form)
        await s.flush()
        cycle = FormCycle(
            form_id=form.id, key="once", opens_at=NOW - timedelta(days=2),
            deadline=deadline_of(date(2026, 11, 25), ZoneInfo(TZ)), counts_dirty=False,
            created_at=NOW - timedelta(days=2),
        )  # fmt: skip
        s.add(cycle)
        await s.flush()
        people = (await s.execute(select(Member.id, Member.org_id, Member.user_id))).all()
        answered = [
            {"cycle_id": cycle.id, "respondent": f"m:{member_id}", "org_id": org_id,
             "member_id": member_id, "user_id": user_id, "answers": {"0": "区政府"},
             "nothing_to_report": False, "status": "submitted", "late": False, "version": 1,
             "first_submitted_at": NOW, "submitted_at": NOW}
            for member_id, org_id, user_id in people
            if user_id is not None and rng.random() < 0.13
        ]  # fmt: skip
        for i in range(0, len(answered), CHUNK):
            await s.execute(insert(FormResponse), answered[i : i + CHUNK])
        total = await s.scalar(select(func.count()).select_from(Member))
        return cycle.id, int(total or 0) - len(answered)


async def _median(runs: int, call: Callable[[], Awaitable[Any]]) -> tuple[float, float]:
    """(median, first) wall time in seconds over `runs` calls."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times[0]


async def _measure(backend: str, db: Database, branches: int, members: int, runs: int) -> None:
    started = time.perf_counter()
    cycle_id, behind = await build(db, branches, members)
    built = time.perf_counter() - started
    cfg = parse_config(
        {"telegram": {"token": "1:x"}, "database": {"url": db.url}}, config_dir=Path("."), env={}
    )
    deps = build_deps(cfg, db=db)
    job = FormReminders()
    due = NOW - timedelta(hours=1)  # 09:00 local on the 22nd: three days before the 25th
    occurrence = Occurrence(due, job.name, reminder_key(cycle_id, 3))
    detail: dict[str, Any] = {}
    parts: dict[str, list[float]] = {"read+render": [], "insert": []}

    async def reminder() -> None:
        t0 = time.perf_counter()
        effects = await job.prepare(deps, occurrence, NOW)
        t1 = time.perf_counter()
        async with db.transaction() as s:
            detail.update(await effects(s) or {})
            await s.rollback()
        parts["read+render"].append(t1 - t0)
        parts["insert"].append(time.perf_counter() - t1)

    ours, first = await _median(runs, reminder)
    count = int(detail.get("messages", 0))
    rows = [
        item_values(purpose="text", chat_id=6_000_000_000 + i, org_id=1, now=NOW,
                    payload={"html": "⏰ 信息报送提醒" + "字" * 80,
                             "buttons": [[["填写", "cb:fo:1:0"]]]})
        for i in range(count)
    ]  # fmt: skip

    async def bare() -> None:
        async with db.transaction() as s:
            await add_items(s, rows)
            await s.rollback()

    base, _ = await _median(runs, bare)
    med = {k: statistics.median(v) for k, v in parts.items()}
    print(
        f"forms_reminders [{backend}]: {branches} branches / {members} members, "
        f"{behind} not answered, built in {built:.1f} s\n"
        f"  (a) one reminder occurrence: {detail.get('private', 0)} private, "
        f"{detail.get('mentioned', 0)} mentioned, {detail.get('unreachable', 0)} to call, "
        f"{count} outbox rows\n"
        f"      read+render+insert  median {ours * 1000:7.0f} ms  (first {first * 1000:.0f} ms)"
        f"  target < 30000 ms\n"
        f"        read+render {med['read+render'] * 1000:.0f} ms, insert "
        f"{med['insert'] * 1000:.0f} ms\n"
        f"  (b) bare bulk insert of {count} outbox rows  median {base * 1000:7.0f} ms\n"
        f"      ratio               {ours / base:7.2f}",
        flush=True,
    )


async def run(*, quick: bool = False) -> None:
    """Print the reminder occurrence's timings per backend."""
    branches, members, runs = (200, 15_000, 3) if quick else (2000, 150_000, 3)
    for backend in backends():
        async with scratch_database(backend) as db:
            await _measure(backend, db, branches, members, runs)
