"""The dues payment day against a real database: who is reminded (privately, with their
amount), what the keepers see, and arrears escalating once per member and level — across
months, re-runs and a restart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import build_deps
from bot.config import parse_config
from domain.dues import add_months, months_between
from domain.dues_cycle import payment_moment
from domain.dues_talk import STEPS, TalkDraft
from domain.orgs import Level, Role
from domain.wizard import Event, apply
from scheduler.jobs import JobRunner
from services.authz import Actor
from services.drafts import keep_draft, open_draft
from services.dues_reminders import ESCALATION_JOB, JOB, save_talk, start_talk
from services.dues_remit import (
    RemitText,
    committee_remits,
    confirm_remittance,
    record_remittance,
    remit_plan,
)
from services.errors import Denied, ServiceError
from services.users import Person, touch_user
from storage.db import Database
from storage.models import (
    AuditEntry,
    DuesEntry,
    DuesSettings,
    DuesStandard,
    DuesTalk,
    JobRun,
    Organization,
    OutboxItem,
)
from tests.conftest import FakeClock
from tests.services.factories import BASE_UID, member, office, org
from ui.deps import Deps

ZONE = "Asia/Shanghai"


def deps_for(db: Database, clock: FakeClock) -> Deps:
    cfg = parse_config(
        {"telegram": {"token": "1:x"}, "database": {"url": db.url}},
        config_dir=Path("."),
        env={},
    )
    return build_deps(cfg, clock=clock, db=db)


async def user(db: Database, clock: FakeClock, uid: int, *, started: bool = True) -> int:
    await touch_user(db, Person(id=uid, first_name=f"u{uid}", language_code="zh-hans"),
                     clock.now(), started=started)  # fmt: skip
    return uid


@dataclass
class World:
    branch: int
    uids: dict[str, int]
    members: dict[str, int]


async def world(db: Database, clock: FakeClock) -> World:
    """A branch with a secretary, a deputy, an organization member (the keeper), a member
    paid up to June, one paid ahead, and one the bot cannot write to."""
    committee = await org(db, clock, "两新工委", Level.COMMITTEE, None)
    branch = await org(db, clock, "甲支部", Level.BRANCH, committee)
    names = ("sec", "deputy", "keeper", "wang", "li", "hidden")
    uids = {
        name: await user(db, clock, BASE_UID + i, started=name != "hidden")
        for i, name in enumerate(names, 1)
    }
    members = {}
    for name, role in (("sec", Role.SECRETARY), ("deputy", Role.DEPUTY),
                       ("keeper", Role.ORGANIZATION)):  # fmt: skip
        members[name] = await member(db, clock, branch, name, user_id=uids[name])
        await office(db, clock, branch, role, member_id=members[name], start_on=date(2026, 1, 1))
    members["wang"] = await member(db, clock, branch, "王芳", user_id=uids["wang"])
    members["li"] = await member(db, clock, branch, "李娜", user_id=uids["li"])
    members["hidden"] = await member(db, clock, branch, "赵强", user_id=uids["hidden"])
    now = clock.now()
    async with db.transaction() as s:
        s.add(DuesSettings(org_id=branch, payment_day=5, advance_cap=6, arrears_cap=6,
                           show_amounts=False, disclosure_months=3, updated_at=now))  # fmt: skip
        for key in ("wang", "li", "hidden"):
            s.add(DuesStandard(member_id=members[key], org_id=branch, category="working",
                               permille=15, amount_fen=8_100, from_month=202601,
                               status="confirmed", declared_at=now))  # fmt: skip
        paid = {"wang": 202606, "li": 202706, "hidden": 202610}
        for key, last in paid.items():
            for month in months_between(202601, last):
                s.add(DuesEntry(member_id=members[key], org_id=branch, month=month,
                                amount_fen=8_100, kind="dues", recorded_by=1,
                                recorded_at=now))  # fmt: skip
    return World(branch, uids, members)


def day_of(month: int) -> datetime:
    return payment_moment(month, 5, 9, ZONE)


async def outbox(db: Database) -> list[OutboxItem]:
    async with db.read() as s:
        return list((await s.scalars(select(OutboxItem).order_by(OutboxItem.id))).all())


def texts_to(items: list[OutboxItem], uid: int) -> list[str]:
    return [i.payload["html"] for i in items if i.chat_id == uid]


async def test_payment_day_reminds_privately_and_tells_the_keeper(
    db: Database, clock: FakeClock
) -> None:
    w = await world(db, clock)
    clock.set(datetime(2026, 7, 10, tzinfo=UTC))
    deps = deps_for(db, clock)
    assert await JobRunner(deps).run_at(JOB, day_of(202607)) == 1
    items = await outbox(db)
    wang = texts_to(items, w.uids["wang"])
    assert len(wang) == 1
    assert "81.00" in wang[0]
    assert "2026年7月" in wang[0]
    assert texts_to(items, w.uids["li"]) == []  # paid ahead
    assert texts_to(items, w.uids["hidden"]) == []  # paid; and never written to anyway
    assert all(not i.is_group for i in items)  # amounts are private: no group mentions
    (status,) = texts_to(items, w.uids["keeper"])
    assert "已交清 2/3 人" in status
    assert "王芳" in status
    assert texts_to(items, w.uids["sec"]) == []  # one month behind: nobody flagged
    # Again, and after a restart: nothing more.
    assert await JobRunner(deps).run_at(JOB, day_of(202607)) == 0
    assert len(await outbox(db)) == len(items)


async def test_unreachable_members_are_counted_for_the_keeper(
    db: Database, clock: FakeClock
) -> None:
    w = await world(db, clock)
    clock.set(datetime(2026, 11, 10, tzinfo=UTC))
    deps = deps_for(db, clock)
    await JobRunner(deps).run_at(JOB, day_of(202611))
    items = await outbox(db)
    assert texts_to(items, w.uids["hidden"]) == []
    (status,) = texts_to(items, w.uids["keeper"])
    assert "赵强" in status
    assert "1 人没有开通" in status


async def test_arrears_escalate_once_per_level_over_six_months(
    db: Database, clock: FakeClock
) -> None:
    w = await world(db, clock)
    deps = deps_for(db, clock)
    seen: dict[str, int] = {"3": 0, "5": 0, "6": 0}
    for month in months_between(202607, 202612):
        clock.set(day_of(month))
        runner = JobRunner(deps)  # a restart every month
        assert await runner.run_at(JOB, day_of(month)) == 1
        assert await JobRunner(deps).run_at(JOB, day_of(month)) == 0
    items = await outbox(db)
    for text in texts_to(items, w.uids["sec"]):
        if "王芳" not in text:
            continue
        if "【党费预警】" in text:
            seen["6"] += 1
            assert "尚无谈话记录" in text
        elif "谈心谈话" in text:
            seen["5"] += 1
        else:
            seen["3"] += 1
    assert seen == {"3": 1, "5": 1, "6": 1}
    assert sum("【党费预警】" in t for t in texts_to(items, w.uids["deputy"])) == 1
    assert sum("【党费预警】" in t for t in texts_to(items, w.uids["keeper"])) == 1
    # The hidden member fell behind from November: two months, never flagged yet.
    assert not any("赵强" in t for t in texts_to(items, w.uids["sec"]))
    assert len(texts_to(items, w.uids["wang"])) == 6  # a reminder each payment day
    async with db.read() as s:
        keys = set((await s.scalars(select(JobRun.key).where(JobRun.job == ESCALATION_JOB))).all())
    assert keys == {f"dues-arrears:{w.members['wang']}:{n}:202607" for n in (3, 5, 6)}


async def test_a_member_who_pays_and_falls_behind_again_is_flagged_again(
    db: Database, clock: FakeClock
) -> None:
    w = await world(db, clock)
    deps = deps_for(db, clock)
    for month in months_between(202607, 202609):
        clock.set(day_of(month))
        await JobRunner(deps).run_at(JOB, day_of(month))
    async with db.transaction() as s:
        for month in months_between(202607, 202609):  # pays the three months
            s.add(DuesEntry(member_id=w.members["wang"], org_id=w.branch, month=month,
                            amount_fen=8_100, kind="dues", recorded_by=1,
                            recorded_at=clock.now()))  # fmt: skip
        s.add(DuesTalk(member_id=w.members["wang"], org_id=w.branch, held_on=date(2026, 9, 20),
                       talked_by="陈书记", outcome="答应按月交纳", recorded_by=1,
                       recorded_at=clock.now()))  # fmt: skip
    for month in months_between(202610, add_months(202612, 3)):
        clock.set(day_of(month))
        await JobRunner(deps).run_at(JOB, day_of(month))
    async with db.read() as s:
        keys = set((await s.scalars(select(JobRun.key).where(JobRun.job == ESCALATION_JOB))).all())
    wang = w.members["wang"]
    assert keys == {f"dues-arrears:{wang}:3:202607", f"dues-arrears:{wang}:3:202610",
                    f"dues-arrears:{wang}:5:202610", f"dues-arrears:{wang}:6:202610",
                    f"dues-arrears:{w.members['hidden']}:3:202611",
                    f"dues-arrears:{w.members['hidden']}:5:202611"}  # fmt: skip
    flag = [t for t in texts_to(await outbox(db), w.uids["deputy"]) if "王芳" in t]
    assert len(flag) == 1
    assert "答应按月交纳" in flag[0]


# ---- talks and remittances ----


async def test_a_talk_is_recorded_from_its_draft_and_audited(
    db: Database, clock: FakeClock
) -> None:
    w = await world(db, clock)
    sec = Actor(user_id=w.uids["sec"])
    day = clock.now().date()
    with pytest.raises(Denied):  # a member may not record talks
        await start_talk(db, Actor(user_id=w.uids["li"]), w.members["wang"], clock.now(), day)
    target = await start_talk(db, sec, w.members["wang"], clock.now(), day)
    assert target.name == "王芳"
    draft = await open_draft(db, sec.user_id, TalkDraft)
    assert isinstance(draft, TalkDraft)
    for text in ("陈书记、组织委员", "2026-11-30", "家中困难，答应下月补交"):
        result = apply(STEPS, draft, Event("text", text=text), clock.now())
        assert isinstance(result, TalkDraft)
        draft = result
    await keep_draft(db, sec.user_id, draft, clock.now())
    await save_talk(db, sec, clock.now(), day)
    with pytest.raises(ServiceError):  # saved once; the old 保存 finds no draft
        await save_talk(db, sec, clock.now(), day)
    async with db.read() as s:
        talks = (await s.scalars(select(DuesTalk))).all()
        audits = (await s.scalars(select(AuditEntry.action))).all()
    assert [(t.held_on, t.talked_by) for t in talks] == [(date(2026, 11, 30), "陈书记、组织委员")]
    assert "dues.talk.record" in audits


async def test_remittance_recorded_told_confirmed_and_totalled(
    db: Database, clock: FakeClock
) -> None:
    w = await world(db, clock)
    keeper = Actor(user_id=w.uids["keeper"])
    day = date(2026, 12, 7)
    async with db.read() as s:
        committee = (
            await s.scalars(select(Organization.id).where(Organization.level == Level.COMMITTEE))
        ).one()
    c_keeper = await user(db, clock, BASE_UID + 50)
    c_member = await member(db, clock, committee, "党委党费管理员", user_id=c_keeper)
    await office(db, clock, committee, Role.DUES_KEEPER, member_id=c_member,
                 start_on=date(2026, 1, 1))  # fmt: skip
    plan = await remit_plan(db, keeper, w.branch, 202607, 202609, day)
    # wang paid 7 months to June: none in Q3; li and the hidden member paid Q3: 6 × 81.00
    assert (plan.committee, plan.collected_fen) == ("两新工委", 6 * 8_100)
    with pytest.raises(Denied):
        await remit_plan(db, Actor(user_id=w.uids["wang"]), w.branch, 202607, 202609, day)
    texts = {"zh_CN": RemitText("上缴", "确认收到"), "en": RemitText("remit", "Confirm")}
    view = await record_remittance(
        db, keeper, plan, amount_fen=plan.collected_fen, paid_on=date(2026, 10, 8),
        proof_file_id=None, texts=texts, default_locale="zh_CN", now=clock.now(), today=day,
    )  # fmt: skip
    assert view.told == 1
    (item,) = [i for i in await outbox(db) if i.chat_id == c_keeper]
    assert item.payload["buttons"] == [[["确认收到", f"cb:dcc:{view.id}"]]]
    with pytest.raises(Denied):  # the branch's keeper cannot confirm their own remittance
        await confirm_remittance(db, keeper, view.id, clock.now(), day)
    done, fresh = await confirm_remittance(db, Actor(user_id=c_keeper), view.id, clock.now(), day)
    assert (done.confirmed, fresh) == (True, True)
    _, again = await confirm_remittance(db, Actor(user_id=c_keeper), view.id, clock.now(), day)
    assert again is False
    admin = await user(db, clock, BASE_UID + 60)
    await office(db, clock, committee, Role.COMMITTEE_ADMIN, user_id=admin,
                 start_on=date(2026, 1, 1))  # fmt: skip
    (row,) = await committee_remits(db, Actor(user_id=admin), committee, 202607, 202609, day)
    assert (row.due_fen, row.collected_fen, row.remitted_fen, row.confirmed_fen) == (
        9 * 8_100, 6 * 8_100, 6 * 8_100, 6 * 8_100,
    )  # fmt: skip
    async with db.read() as s:
        actions = set((await s.scalars(select(AuditEntry.action))).all())
    assert {"dues.remit.record", "dues.remit.confirm"} <= actions
