"""Forms results at city scale: the results screen and the XLSX export of one member form.

On a generated city (2,000 branches, 150,000 members; the 20 committees of bench.city
gathered under one city committee whose admin sent the form) with every member's answer
to a seven-question form (yes/no, a count, a single and a multiple choice, a short text,
a phone, an amount), for each backend:

(a) the results screen of the cycle as /forms shows it: services.forms_results.
    results_screen (progress of 2,000 branches counted in the database, the committee
    roll-up, the cycles) and its rendering. Baseline: a bare SELECT of the cycle's answer
    rows (org_id, answers JSON), which the screen no longer needs to read. Target < 1 s.
    For information, the 各题统计 screen, which reads and tallies every answer.
(b) the export: export_plan, the rows streamed from the database and written by
    ui.forms_results.ExportWriter (write_only) to a temporary file. Baseline: openpyxl
    write_only writing the same number of rows and cells from ready values, no database.
    Target < 60 s, peak memory < 500 MB (tracemalloc, in a separate run: tracing slows
    the code down, so the timings are taken without it).

Medians of several runs; ratios are reported, never asserted.
"""

from __future__ import annotations

import random
import resource
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from sqlalchemy import insert, select, update

from bench.city import NOW, TODAY, backends, generate_city, scratch_database
from bot.i18n import load_catalog
from domain.forms import QType, Question, question_to_json
from domain.orgs import Kind, Level, Role
from services.authz import Actor
from services.forms_results import export_plan, export_rows, results_screen
from storage.db import Database
from storage.models import (
    Form,
    FormCycle,
    FormResponse,
    Member,
    Organization,
    RoleAssignment,
    User,
)
from ui.forms_results import render_results, write_export

TZ = ZoneInfo("Asia/Shanghai")
ADMIN = 5_900_000_000
CHUNK = 5000
QUESTIONS = (
    Question(QType.YES_NO, "本月是否参加志愿服务"),
    Question(QType.INTEGER, "服务时长", unit="小时", low="0"),
    Question(QType.SINGLE, "服务类型", choices=("社区", "交通", "环保", "助老")),
    Question(QType.MULTI, "学习方式", choices=("学习强国", "读书班", "专题党课", "线上")),
    Question(QType.SHORT, "工作单位"),
    Question(QType.PHONE, "联系电话", required=False),
    Question(QType.DECIMAL, "交纳党费", unit="元", required=False),
)


async def build(db: Database, branches: int, members: int) -> tuple[int, int]:
    """The city under one committee, its admin, the form and every member's answer;
    (cycle id, answers)."""
    await generate_city(db, branches=branches, members=members)
    rng = random.Random(5)
    async with db.transaction() as s:
        city = Organization(level=Level.COMMITTEE, kind=Kind.TWO_NEW, name="市两新工委",
                            gate_enabled=True, created_at=NOW)  # fmt: skip
        s.add(city)
        await s.flush()
        await s.execute(
            update(Organization)
            .where(Organization.level == Level.COMMITTEE, Organization.id != city.id)
            .values(parent_id=city.id)
        )
        s.add(User(id=ADMIN, first_name="组织部", started=True, created_at=NOW,
                   last_seen_at=NOW))  # fmt: skip
        await s.flush()
        s.add(RoleAssignment(org_id=city.id, role=Role.COMMITTEE_ADMIN, user_id=ADMIN,
                             start_on=TODAY - timedelta(days=30), created_at=NOW))  # fmt: skip
        form = Form(
            org_id=city.id, sender_id=ADMIN, kind="member", title="志愿服务与学习情况",
            intro="", questions=[question_to_json(q) for q in QUESTIONS],
            audience={"org_ids": [city.id], "stages": [], "party_group_id": None,
                      "private": False},
            anonymous=False, late_policy="accept", repeat="none", due_day=0, template=None,
            status="open", created_at=NOW - timedelta(days=10),
        )  # fmt: skip
        s.add(form)
        await s.flush()
        cycle = FormCycle(form_id=form.id, key="once", opens_at=NOW - timedelta(days=10),
                          deadline=NOW - timedelta(days=2), counts_dirty=False,
                          created_at=NOW - timedelta(days=10))  # fmt: skip
        s.add(cycle)
        await s.flush()
        cycle_id = cycle.id
        roster = (
            await s.execute(select(Member.id, Member.org_id, Member.user_id, Member.phone))
        ).all()
    rows: list[dict[str, Any]] = []
    for member_id, org_id, user_id, phone in roster:
        late = rng.random() < 0.08
        at = NOW - timedelta(days=1 if late else rng.randint(3, 9), minutes=rng.randint(0, 600))
        answers: dict[str, Any] = {
            "0": rng.random() < 0.7,
            "1": rng.randint(0, 40),
            "2": rng.randrange(4),
            "3": sorted(rng.sample(range(4), rng.randint(1, 3))),
            "4": f"第{rng.randint(1, 300)}有限公司",
        }
        if rng.random() < 0.6:
            answers["5"] = phone
        if rng.random() < 0.8:
            answers["6"] = f"{rng.randint(5, 300)}.{rng.randint(0, 99):02d}"
        rows.append({
            "cycle_id": cycle_id, "respondent": f"m:{member_id}", "org_id": org_id,
            "member_id": member_id, "user_id": user_id or ADMIN, "answers": answers,
            "nothing_to_report": False, "status": "submitted", "late": late, "version": 1,
            "first_submitted_at": at, "submitted_at": at,
        })  # fmt: skip
    async with db.transaction() as s:
        for i in range(0, len(rows), CHUNK):
            await s.execute(insert(FormResponse), rows[i : i + CHUNK])
    return cycle_id, len(rows)


async def _median(runs: int, fn: Callable[[], Awaitable[Any]]) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        await fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times[0]


async def _measure(backend: str, db: Database, branches: int, members: int, runs: int) -> None:
    t0 = time.perf_counter()
    cycle_id, answers = await build(db, branches, members)
    built = time.perf_counter() - t0
    catalog = load_catalog("zh_CN")
    admin = Actor(ADMIN)
    sizes: dict[str, int] = {}

    async def screen() -> None:
        shown = await results_screen(db, admin, cycle_id, TODAY)
        text, _markup = render_results(catalog, "zh_CN", shown, 0, TZ, NOW)
        sizes["branches"] = len(shown.results.branches)
        sizes["text"] = len(text)

    async def per_question() -> None:
        shown = await results_screen(db, admin, cycle_id, TODAY, tallies=True)
        sizes["questions"] = len(shown.results.questions)

    async def bare_select() -> None:
        async with db.read() as s:
            rows = (
                await s.execute(
                    select(FormResponse.org_id, FormResponse.answers).where(
                        FormResponse.cycle_id == cycle_id
                    )
                )
            ).all()
        sizes["bare_rows"] = len(rows)

    tmp = Path(tempfile.mkdtemp())

    async def export() -> None:
        plan = await export_plan(db, admin, cycle_id, TODAY)
        path = tmp / "export.xlsx"
        sizes["rows"] = await write_export(catalog, "zh_CN", plan, export_rows(db, plan), TZ,
                                           path)  # fmt: skip
        sizes["xlsx"] = path.stat().st_size

    async def bare_export() -> None:
        # The same rows and cells, ready-made: what openpyxl alone costs.
        book = Workbook(write_only=True)
        sheet = book.create_sheet("answers")
        row = ["第1支部", "王芳", "2026-11-20 10:00", "否", "否", "是", 12, "社区",
               "学习强国、线上", "第12有限公司", "13812345678", 120.5]  # fmt: skip
        for _ in range(answers):
            sheet.append(row)
        totals = book.create_sheet("totals")
        for n in range(branches):
            totals.append([f"第{n}支部", *range(15)])
        book.save(tmp / "bare.xlsx")

    ours_a, first_a = await _median(runs, screen)
    base_a, _ = await _median(runs, bare_select)
    ours_q, _ = await _median(max(1, runs // 2), per_question)
    export_runs = max(1, runs // 2)
    ours_b, first_b = await _median(export_runs, export)
    base_b, _ = await _median(export_runs, bare_export)
    tracemalloc.start()
    await export()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(
        f"forms_results [{backend}]: {branches} branches / {answers} answers, "
        f"built in {built:.1f} s\n"
        f"  (a) results screen ({sizes['branches']} branches, {sizes['text']} characters)\n"
        f"      results_screen+render median {ours_a * 1000:7.0f} ms  "
        f"(first {first_a * 1000:.0f} ms)  target < 1000 ms\n"
        f"      bare SELECT               median {base_a * 1000:7.0f} ms  "
        f"({sizes['bare_rows']} rows)\n"
        f"      ratio                     {ours_a / base_a:7.2f}\n"
        f"      (各题统计, every answer read and tallied: median {ours_q * 1000:.0f} ms, "
        f"{ours_q / base_a:.2f} × the bare SELECT)\n"
        f"  (b) XLSX export ({sizes['rows']} answers, {sizes['xlsx'] // 1024} KiB)\n"
        f"      export_plan+rows+writer   median {ours_b:7.1f} s  "
        f"(first {first_b:.1f} s)  target < 60 s\n"
        f"      openpyxl alone            median {base_b:7.1f} s\n"
        f"      ratio                     {ours_b / base_b:7.2f}\n"
        f"      peak traced memory        {peak / 2**20:7.0f} MB  target < 500 MB "
        f"(process max RSS so far {rss} MB, the city generation included)",
        flush=True,
    )


async def run(*, quick: bool = False) -> None:
    """Print the results-screen and export timings per backend."""
    branches, members, runs = (200, 15_000, 3) if quick else (2000, 150_000, 5)
    for backend in backends():
        async with scratch_database(backend) as db:
            await _measure(backend, db, branches, members, runs)
