"""Repeating forms against a real database: each cycle issued once on its opening day, with
its own deadline, delivery and results, across restarts and two runners."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

from sqlalchemy import func, select, update

from domain.forms import FormKind, Repeat
from domain.forms_chase import deadline_of
from scheduler.forms_cycles import FormCycles
from scheduler.jobs import JobRunner
from services.authz import Actor
from services.forms import form_results, submit_response
from services.forms_cycles import JOB, issue_cycle
from services.forms_delivery import COPY
from storage.db import Database
from storage.models import Form, FormCycle, JobRun, OutboxItem
from tests.conftest import FakeClock
from tests.services.test_forms_chase import SH, deps_for, publish, world

JANUARY = datetime(2027, 1, 1, 1, 0, 10, tzinfo=UTC)  # 09:00:10 on 1 January in Shanghai
FEBRUARY = datetime(2027, 2, 1, 1, 0, 10, tzinfo=UTC)


async def cycles(db: Database) -> list[tuple[int, str, datetime]]:
    async with db.read() as s:
        rows = await s.execute(
            select(FormCycle.id, FormCycle.key, FormCycle.deadline).order_by(FormCycle.id)
        )
        return [(i, k, d) for i, k, d in rows.all()]


async def copies(db: Database, cycle_id: int) -> int:
    async with db.read() as s:
        items = (
            await s.scalars(select(OutboxItem.payload).where(OutboxItem.purpose == COPY))
        ).all()
    return sum(1 for p in items if p["cycle_id"] == cycle_id)


async def test_a_monthly_form_issues_each_cycle_once_with_its_deadline_and_results(
    db: Database, clock: FakeClock
) -> None:
    w = await world(db, clock)
    deps = deps_for(db, clock)
    first = await publish(db, clock, w, repeat=Repeat.MONTHLY)
    await submit_response(db, Actor(w.uids["wang"]), first, {0: 3}, now=clock.now(),
                          today=clock.now().date())  # fmt: skip
    runner = JobRunner(deps, [FormCycles()])
    assert await runner.tick() == 0  # nothing opens in December

    clock.set(JANUARY)
    assert await runner.tick() == 1
    assert await runner.tick() == 0
    assert await JobRunner(deps_for(db, clock), [FormCycles()]).tick() == 0  # a restart
    (_, key_1, _), (second, key_2, deadline_2) = await cycles(db)
    assert (key_1, key_2) == ("2026-11", "2026-12")
    assert deadline_2 == deadline_of(date(2027, 1, 5), SH)
    # Delivered like the first: a private copy to everyone reachable in the audience.
    assert await copies(db, second) == await copies(db, first) == 4
    # Results are kept per cycle: 王芳's answer belongs to November's.
    assert (await form_results(db, w.admin, first, clock.now().date())).total.on_time == 1
    fresh = await form_results(db, w.admin, second, clock.now().date())
    assert (fresh.total.on_time, fresh.total.missing) == (0, 8)
    await submit_response(db, Actor(w.uids["wang"]), second, {0: 4}, now=clock.now(),
                          today=clock.now().date())  # fmt: skip
    assert (await form_results(db, w.admin, second, clock.now().date())).total.on_time == 1
    assert (await form_results(db, w.admin, first, clock.now().date())).total.on_time == 1

    clock.set(FEBRUARY)
    assert await runner.tick() == 1
    assert [k for _, k, _ in await cycles(db)] == ["2026-11", "2026-12", "2027-01"]
    async with db.read() as s:
        form_id = await s.scalar(select(FormCycle.form_id).where(FormCycle.id == first))
        keys = (await s.scalars(select(JobRun.key).where(JobRun.job == JOB))).all()
    assert sorted(keys) == [f"{form_id}@2026-12", f"{form_id}@2027-01"]


async def test_two_runners_issue_a_cycle_once_and_the_table_refuses_a_second(
    db: Database, clock: FakeClock
) -> None:
    w = await world(db, clock)
    first = await publish(db, clock, w, kind=FormKind.BRANCH, repeat=Repeat.QUARTERLY)
    async with db.read() as s:
        form_id = await s.scalar(select(FormCycle.form_id).where(FormCycle.id == first))
    assert form_id is not None
    # 1 December is in the fourth quarter: the third is reported; the fourth opens 1 January.
    clock.set(JANUARY)
    one = JobRunner(deps_for(db, clock), [FormCycles()])
    two = JobRunner(deps_for(db, clock), [FormCycles()])
    assert sum(await asyncio.gather(one.tick(), two.tick())) == 1
    assert [k for _, k, _ in await cycles(db)] == ["2026-Q3", "2026-Q4"]
    async with db.transaction() as s:
        again = await issue_cycle(s, form_id, "2026-Q4", at=JANUARY, now=JANUARY,
                                  default_tz="Asia/Shanghai")  # fmt: skip
    assert again == {"stale": "issued"}
    async with db.read() as s:
        count = await s.scalar(select(func.count()).select_from(FormCycle))
    assert count == 2


async def test_closed_and_one_off_forms_get_no_new_cycles(db: Database, clock: FakeClock) -> None:
    w = await world(db, clock)
    await publish(db, clock, w)  # one-off
    await publish(db, clock, w, repeat=Repeat.YEARLY)
    async with db.transaction() as s:
        await s.execute(update(Form).where(Form.repeat == "yearly").values(status="closed"))
    clock.set(JANUARY)
    assert await JobRunner(deps_for(db, clock), [FormCycles()]).tick() == 0
    assert len(await cycles(db)) == 2
