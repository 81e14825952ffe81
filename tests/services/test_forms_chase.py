"""Form reminders and 催报 against a real database: who is reminded how, once per cycle and
offset, overseers told of branches behind, and who may chase whom how often."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from bot.app import build_deps
from bot.config import parse_config
from domain.forms import FormKind, QType, Question, Repeat
from domain.forms_chase import deadline_of
from domain.orgs import Level, Role
from scheduler.forms_reminders import FormReminders
from scheduler.jobs import JobRunner
from services.authz import Actor
from services.errors import ServiceError
from services.forms import FormSpec, publish_form, submit_response
from services.forms_chase import JOB, Chased, chase_plan, commit_chase
from services.notices import Audience
from services.users import Person, set_private_chat_status, touch_user
from storage.db import Database
from storage.models import ChatBinding, Form, JobRun, OutboxItem
from tests.conftest import FakeClock
from tests.services.factories import BASE_UID, member, office, org, today
from ui.deps import Deps
from ui.forms import FormOpen
from ui.forms_chase import reminder_messages

SH = ZoneInfo("Asia/Shanghai")
GROUP_A = -100_501
NOW = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai, the 1st
DEADLINE = deadline_of(date(2026, 12, 5), SH)
THREE_DAYS = datetime(2026, 12, 2, 1, 0, 10, tzinfo=UTC)  # 09:00:10 on the 2nd, local
ONE_DAY = datetime(2026, 12, 4, 1, 0, 10, tzinfo=UTC)
AFTER = datetime(2026, 12, 6, 1, 0, 10, tzinfo=UTC)
QUESTIONS = (Question(QType.INTEGER, "本月开展活动次数", unit="次"),)


def deps_for(db: Database, clock: FakeClock, **forms: Any) -> Deps:
    cfg = parse_config(
        {"telegram": {"token": "1:x"}, "database": {"url": db.url}, "forms": forms},
        config_dir=Path("."),
        env={},
    )
    return build_deps(cfg, clock=clock, db=db)


async def user(db: Database, clock: FakeClock, uid: int, *, started: bool,
               language: str = "zh-hans") -> int:  # fmt: skip
    await touch_user(db, Person(id=uid, first_name=f"u{uid}", language_code=language),
                     clock.now(), started=started)  # fmt: skip
    return uid


@dataclass
class World:
    committee: int
    branch_a: int  # bound to GROUP_A
    branch_b: int  # no group
    admin: Actor  # committee admin: sends the forms
    uids: dict[str, int]


async def world(db: Database, clock: FakeClock) -> World:
    """A committee with two branches; in each, every way of being reached (or not) once."""
    committee = await org(db, clock, "两新工委", Level.COMMITTEE, None)
    branch_a = await org(db, clock, "甲支部", Level.BRANCH, committee)
    branch_b = await org(db, clock, "乙支部", Level.BRANCH, committee)
    async with db.transaction() as s:
        s.add(ChatBinding(chat_id=GROUP_A, org_id=branch_a, purpose="main", active=True,
                          topic_id=None, bound_at=clock.now()))  # fmt: skip
    uids = {
        "admin": await user(db, clock, BASE_UID + 100, started=True),
        "sec_a": await user(db, clock, BASE_UID + 1, started=True),
        "wang": await user(db, clock, BASE_UID + 2, started=True),
        "zhang": await user(db, clock, BASE_UID + 3, started=False),
        "blocked": await user(db, clock, BASE_UID + 4, started=True),
        "emma": await user(db, clock, BASE_UID + 5, started=True, language="en-GB"),
        "sec_b": await user(db, clock, BASE_UID + 6, started=True),
        "liu": await user(db, clock, BASE_UID + 7, started=False),
    }
    await set_private_chat_status(db, Person(id=uids["blocked"], first_name="b"), clock.now(),
                                  blocked=True)  # fmt: skip
    await office(db, clock, committee, Role.COMMITTEE_ADMIN, user_id=uids["admin"])
    sec_a = await member(db, clock, branch_a, "陈书记", user_id=uids["sec_a"])
    await office(db, clock, branch_a, Role.SECRETARY, member_id=sec_a)
    await member(db, clock, branch_a, "王芳", user_id=uids["wang"])
    await member(db, clock, branch_a, "张<伟>", user_id=uids["zhang"])
    await member(db, clock, branch_a, "周屏蔽", user_id=uids["blocked"])
    await member(db, clock, branch_a, "Emma", user_id=uids["emma"])
    await member(db, clock, branch_a, "赵导入")  # imported, never registered
    sec_b = await member(db, clock, branch_b, "乙书记", user_id=uids["sec_b"])
    await office(db, clock, branch_b, Role.SECRETARY, member_id=sec_b)
    await member(db, clock, branch_b, "刘未开", user_id=uids["liu"])
    return World(committee, branch_a, branch_b, Actor(uids["admin"]), uids)


async def publish(db: Database, clock: FakeClock, w: World, kind: FormKind = FormKind.MEMBER,
                  repeat: Repeat = Repeat.NONE) -> int:  # fmt: skip
    """A form of the committee to both branches, due at the end of the 5th; its cycle id."""
    spec = FormSpec(
        org_id=w.committee, kind=kind, title="十二月报表", intro="", questions=QUESTIONS,
        audience=Audience((w.committee,), private_copies=True), deadline=DEADLINE, repeat=repeat,
        due_day=5 if repeat is not Repeat.NONE else 0,
    )  # fmt: skip
    published = await publish_form(db, w.admin, spec, now=clock.now(), today=today(clock))
    return published.cycle.id


async def texts(db: Database, since: int = 0) -> list[OutboxItem]:
    """Queued texts (reminders, lists) after the item `since`."""
    async with db.read() as s:
        rows = await s.scalars(
            select(OutboxItem)
            .where(OutboxItem.purpose == "text", OutboxItem.id > since)
            .order_by(OutboxItem.id)
        )
        return list(rows.all())


async def last_item(db: Database) -> int:
    async with db.read() as s:
        return int(await s.scalar(select(OutboxItem.id).order_by(OutboxItem.id.desc())) or 0)


def private_to(items: list[OutboxItem]) -> dict[int, list[OutboxItem]]:
    found: dict[int, list[OutboxItem]] = {}
    for item in items:
        if not item.is_group:
            found.setdefault(item.chat_id, []).append(item)
    return found


async def runs(db: Database) -> dict[str, str]:
    async with db.read() as s:
        rows = await s.execute(select(JobRun.key, JobRun.outcome).where(JobRun.job == JOB))
        return dict(rows.all())


async def chase(deps: Deps, actor: Actor, cycle_id: int) -> Chased:
    """A 催报 press as the handler does it: plan, render, commit."""
    now = deps.clock.now()
    plan = await chase_plan(deps.db, actor, cycle_id, today=now.date(),
                            default_locale="zh_CN", default_tz="Asia/Shanghai")  # fmt: skip
    messages = reminder_messages(deps.catalog, plan, now=now, group_locale="zh_CN")
    return await commit_chase(deps.db, actor, plan, messages, now=now, today=now.date())


@pytest.fixture(autouse=True)
def december(clock: FakeClock) -> None:
    clock.set(NOW)


async def test_member_reminders_go_privately_or_by_mention_once_per_offset(
    db: Database, clock: FakeClock
) -> None:
    w = await world(db, clock)
    deps = deps_for(db, clock)
    cycle = await publish(db, clock, w)
    await submit_response(db, Actor(w.uids["wang"]), cycle, {0: 2}, now=clock.now(),
                          today=today(clock))  # fmt: skip
    before = await last_item(db)

    clock.set(THREE_DAYS)
    runner = JobRunner(deps, [FormReminders()])
    assert await runner.tick() == 1
    items = await texts(db, before)
    private = private_to(items)
    # Not answered and reachable: each once, in their language, with 填写 for this cycle.
    assert set(private) == {w.uids["sec_a"], w.uids["emma"], w.uids["sec_b"]}
    (sec,) = private[w.uids["sec_a"]]
    assert "陈书记同志，您好！《十二月报表》您还没有填写" in sec.payload["html"]
    assert "还有 3 天" in sec.payload["html"]
    assert sec.payload["buttons"] == [[["填写", "cb:" + FormOpen(cycle, 0).pack()]]]
    (emma,) = private[w.uids["emma"]]
    assert "You have not filled in" in emma.payload["html"]
    assert emma.payload["buttons"][0][0][0] == "Fill in"
    # Those the bot cannot write to: one mention message in their branch's group.
    (group,) = [i for i in items if i.is_group]
    assert group.chat_id == GROUP_A
    html = group.payload["html"]
    assert f'<a href="tg://user?id={w.uids["zhang"]}">张&lt;伟&gt;</a>' in html
    assert f"tg://user?id={w.uids['blocked']}" in html
    for name in ("王芳", "陈书记", "赵导入", "刘未开"):
        assert name not in html
    # Running again, or after a restart, sends nothing more.
    assert await runner.tick() == 0
    assert await JobRunner(deps_for(db, clock), [FormReminders()]).tick() == 0
    assert len(await texts(db, before)) == len(items)

    clock.set(ONE_DAY)
    assert await runner.tick() == 1
    again = private_to(await texts(db, before))
    assert len(again[w.uids["sec_a"]]) == 2
    assert "明天截止" in again[w.uids["sec_a"]][1].payload["html"]
    assert w.uids["wang"] not in again
    assert await runs(db) == {f"{cycle}@3d": "done", f"{cycle}@1d": "done"}


async def test_configured_offsets_and_a_closed_form_is_not_reminded(
    db: Database, clock: FakeClock
) -> None:
    w = await world(db, clock)
    cycle = await publish(db, clock, w)
    deps = deps_for(db, clock, remind_days=[2])
    assert deps.settings.form_remind_days == (2,)
    clock.set(THREE_DAYS)
    assert await JobRunner(deps, [FormReminders()]).tick() == 0
    async with db.transaction() as s:
        await s.execute(update(Form).values(status="closed"))
    clock.set(datetime(2026, 12, 3, 1, 0, 10, tzinfo=UTC))
    assert await JobRunner(deps, [FormReminders()]).tick() == 0
    assert await texts(db) == []
    assert await runs(db) == {}
    del cycle


async def test_branch_form_reminds_officers_and_tells_the_committee_of_branches_behind(
    db: Database, clock: FakeClock
) -> None:
    w = await world(db, clock)
    # 乙支部's only officer never started the bot; 甲支部's information officer has.
    await office(db, clock, w.branch_b, Role.INFO_OFFICER, user_id=w.uids["liu"])
    deps = deps_for(db, clock)
    cycle = await publish(db, clock, w, kind=FormKind.BRANCH)
    before = await last_item(db)

    clock.set(THREE_DAYS)
    runner = JobRunner(deps, [FormReminders()])
    assert await runner.tick() == 1
    private = private_to(await texts(db, before))
    assert set(private) == {w.uids["sec_a"], w.uids["sec_b"]}
    (sec_a,) = private[w.uids["sec_a"]]
    assert "甲支部还没有报送《十二月报表》" in sec_a.payload["html"]
    assert sec_a.payload["buttons"][0][0][1] == "cb:" + FormOpen(cycle, w.branch_a).pack()
    assert private[w.uids["sec_b"]][0].payload["buttons"][0][0][1] == (
        "cb:" + FormOpen(cycle, w.branch_b).pack()
    )
    # Not the last reminder: the committee hears nothing yet.
    assert w.uids["admin"] not in private

    await submit_response(db, Actor(w.uids["sec_a"]), cycle, {0: 1}, now=clock.now(),
                          today=today(clock), branch_id=w.branch_a)  # fmt: skip
    mark = await last_item(db)
    clock.set(ONE_DAY)
    assert await runner.tick() == 1
    private = private_to(await texts(db, mark))
    assert set(private) == {w.uids["sec_b"], w.uids["admin"]}
    (listing,) = private[w.uids["admin"]]
    assert "还有 1 个支部没有报送" in listing.payload["html"]
    assert "1. 乙支部" in listing.payload["html"]
    assert "甲支部" not in listing.payload["html"]

    mark = await last_item(db)
    clock.set(AFTER)
    assert await runner.tick() == 1
    after = await texts(db, mark)
    assert [i.chat_id for i in after] == [w.uids["admin"]]
    assert "已于" in after[0].payload["html"]
    assert "乙支部" in after[0].payload["html"]
    assert await runner.tick() == 0
    assert set(await runs(db)) == {f"{cycle}@3d", f"{cycle}@1d", f"{cycle}@after"}


async def test_chase_by_the_sender_reports_counts_and_whom_to_call_and_not_twice(
    db: Database, clock: FakeClock
) -> None:
    w = await world(db, clock)
    deps = deps_for(db, clock)
    cycle = await publish(db, clock, w)
    before = await last_item(db)
    chased = await chase(deps, w.admin, cycle)
    # 陈书记, 王芳, Emma, 乙书记 privately; 张伟 and 周屏蔽 in 甲支部's group; 赵导入 has no
    # account, 刘未开 no group: to be called.
    assert (chased.private, chased.mentioned) == (4, 2)
    assert sorted(p.name for p in chased.unreachable) == ["刘未开", "赵导入"]
    queued = await texts(db, before)
    assert len([i for i in queued if not i.is_group]) == 4
    assert len([i for i in queued if i.is_group]) == 1

    # A double press (or another admin a minute later) queues nothing.
    clock.advance(minutes=1)
    with pytest.raises(ServiceError) as twice:
        await chase(deps, w.admin, cycle)
    assert twice.value.code == "form.chase.recent"
    assert len(await texts(db, before)) == len(queued)
    # Past the cooldown: allowed again.
    clock.advance(minutes=10)
    assert (await chase(deps, w.admin, cycle)).private == 4


async def test_who_may_chase_and_a_branch_admin_chases_only_their_branch(
    db: Database, clock: FakeClock
) -> None:
    w = await world(db, clock)
    deps = deps_for(db, clock)
    cycle = await publish(db, clock, w)
    with pytest.raises(ServiceError) as plain:
        await chase(deps, Actor(w.uids["wang"]), cycle)
    assert plain.value.code == "auth.denied"

    before = await last_item(db)
    chased = await chase(deps, Actor(w.uids["sec_b"]), cycle)
    assert (chased.private, chased.mentioned) == (1, 0)  # 乙书记 themself
    assert [p.name for p in chased.unreachable] == ["刘未开"]
    assert {i.chat_id for i in await texts(db, before)} == {w.uids["sec_b"]}
    # 甲支部's secretary may chase their own branch right after: other people.
    assert (await chase(deps, Actor(w.uids["sec_a"]), cycle)).private == 3
    # The sender's chase would reach those just chased.
    with pytest.raises(ServiceError) as overlap:
        await chase(deps, w.admin, cycle)
    assert overlap.value.code == "form.chase.recent"
    # A closed form is not chased.
    async with db.transaction() as s:
        await s.execute(update(Form).values(status="closed"))
    clock.advance(minutes=11)
    with pytest.raises(ServiceError) as closed:
        await chase(deps, w.admin, cycle)
    assert closed.value.code == "form.closed"
    with pytest.raises(ServiceError) as gone:
        await chase(deps, w.admin, cycle + 999)
    assert gone.value.code == "form.not_found"
