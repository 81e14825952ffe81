"""Dues standards end to end through the emulator: 我的党费, declaring (wrong amounts, odd
Unicode), the keeper's 确认 / 更正 / 退回 with the base gone from the database afterwards,
and presses by people who may not decide (a member, another branch's keeper, forged bytes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from domain.orgs import Kind, Level, Role, Stage
from domain.orgs import Status as MemberStatus
from domain.workdays import first_working_day
from scheduler.jobs import JobRunner
from services.authz import Actor
from services.orgs import create_org
from services.orgs_roles import grant_role
from services.users import Person, touch_user
from storage.db import Database
from storage.models import AuditEntry, DuesEntry, DuesStandard, Member
from tests.bot.conftest import BotUnderTest, delivered
from tests.bot.test_notices import alert_text, say, tap
from tests.conftest import FakeClock
from tests.emulator import Emulator, EmuUser
from tests.emulator.model import EmuMessage

SUPER = Actor(user_id=0, superadmin=True)


@dataclass
class World:
    branch: int
    other: int
    people: dict[str, EmuUser]
    ids: dict[str, int]


async def _member(db: Database, clock: FakeClock, org_id: int, name: str, user: EmuUser) -> int:
    await touch_user(db, Person(id=user.id, first_name=user.first_name), clock.now(), started=True)
    async with db.transaction() as s:
        row = Member(org_id=org_id, user_id=user.id, name=name, stage=Stage.FULL,
                     status=MemberStatus.ACTIVE, source="admin", created_at=clock.now(),
                     updated_at=clock.now())  # fmt: skip
        s.add(row)
        await s.flush()
        return row.id


async def make_world(emu: Emulator, bot: BotUnderTest, clock: FakeClock) -> World:
    """第一支部 (组织委员 陈) and 第二支部 (党费管理员 赵), December 2026."""
    db = bot.deps.db
    clock.set(datetime(2026, 12, 7, 2, 0, tzinfo=UTC))
    now, today = clock.now(), clock.now().date()
    when: dict[str, Any] = {"now": now, "today": today}
    committee = await create_org(db, SUPER, name="两新工委", level=Level.COMMITTEE,
                                 kind=Kind.TWO_NEW, parent_id=None, **when)  # fmt: skip
    branch = await create_org(db, SUPER, name="第一支部", level=Level.BRANCH,
                              kind=Kind.STANDARD, parent_id=committee.id, **when)  # fmt: skip
    other = await create_org(db, SUPER, name="第二支部", level=Level.BRANCH,
                             kind=Kind.STANDARD, parent_id=committee.id, **when)  # fmt: skip
    names = (("chen", "陈"), ("wang", "芳"), ("li", "娜"), ("zhao", "强"))
    people = {k: emu.user(n, language_code="zh-hans") for k, n in names}
    ids = {
        "chen": await _member(db, clock, branch.id, "陈组织", people["chen"]),
        "wang": await _member(db, clock, branch.id, "王芳", people["wang"]),
        "li": await _member(db, clock, branch.id, "李娜", people["li"]),
        "zhao": await _member(db, clock, other.id, "赵管理", people["zhao"]),
    }
    await grant_role(db, SUPER, branch.id, Role.ORGANIZATION, member_id=ids["chen"], now=now,
                     today=today)  # fmt: skip
    await grant_role(db, SUPER, other.id, Role.DUES_KEEPER, member_id=ids["zhao"], now=now,
                     today=today)  # fmt: skip
    for user in people.values():
        await user.start()
    await bot.settle()
    return World(branch.id, other.id, people, ids)


async def declare_working(bot: BotUnderTest, user: EmuUser, base: str) -> EmuMessage:
    """/dues → 我的党费 → 申报 → 在职职工 → the base → 本月 → 提交."""
    menu = await say(bot, user, "/dues")
    mine = await tap(bot, user, menu, "我的党费")
    button = "申报" if "还没有确定" in mine.content else "我的收入变了"
    question = await tap(bot, user, mine, button)
    question = await tap(bot, user, question, "在职职工")
    assert "工资收入" in question.content
    months = await say(bot, user, base)
    summary = await tap(bot, user, months, "本月（2026年12月）")
    assert "请核对您的申报" in summary.content
    return await tap(bot, user, summary, "提交")


async def bases(db: Database) -> list[tuple[str, int | None]]:
    async with db.read() as s:
        rows = await s.execute(select(DuesStandard.status, DuesStandard.base_fen)
                               .order_by(DuesStandard.id))  # fmt: skip
        return [(status, base) for status, base in rows.all()]


async def test_declare_confirm_and_the_base_is_gone(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    wang, chen = world.people["wang"], world.people["chen"]
    menu = await say(bot, wang, "/dues")
    mine = await tap(bot, wang, menu, "我的党费")
    assert "还没有确定" in mine.content
    question = await tap(bot, wang, mine, "申报")
    question = await tap(bot, wang, question, "在职职工")
    # Wrong amounts: words, negative, huge, odd Unicode; the question is asked again.
    for text in ("五千", "-5", "99999999999", "5400\u200b\u202e", "０"):
        reply = await say(bot, wang, text)
        assert "工资收入" in reply.content, text
        assert "没看懂" in reply.content or "不对" in reply.content, text
    months = await say(bot, wang, "５,４００元")
    assert "5400.00 × 1.5% = 81.00" in months.content
    assert "5000–10000元" in months.content
    summary = await tap(bot, wang, months, "下月（2027年1月）")
    back = await tap(bot, wang, summary, "上一步")
    summary = await tap(bot, wang, back, "本月（2026年12月）")
    sent = await tap(bot, wang, summary, "提交")
    assert "已提交" in sent.content
    assert await bases(bot.deps.db) == [("declared", 540_000)]
    # The old 提交 pressed again: nothing happens twice.
    await wang.press_raw(summary, "dss:ok")
    await bot.settle()
    assert "失效" in alert_text(wang)
    assert len(await bases(bot.deps.db)) == 1

    await delivered(bot)
    card = emu.last_sent(chen)
    assert "王芳" in card.content
    assert "81.00" in card.content
    assert "5400" not in card.content  # the base never goes into a message that outlives it
    assert not emu.sent_to(world.people["zhao"])[1:]  # another branch's keeper is not told

    # 我的党费 shows the pending declaration.
    menu = await say(bot, wang, "/dues")
    mine = await tap(bot, wang, menu, "我的党费")
    assert "待支部确认的申报" in mine.content
    assert "5400" not in mine.content

    # Keeper's button data pressed by the member, another branch's keeper, forged bytes.
    data = card.button("确认").callback_data
    assert data is not None
    for intruder in (wang, world.people["zhao"]):
        own = await say(bot, intruder, "/dues")
        await intruder.press_raw(own, data)
        await bot.settle()
        assert "只有本支部的组织委员或党费管理员" in alert_text(intruder)
    for forged in ("dsd:1:x:1:c", "dsd:99999:202612:8100:c", "dsd:" + "9" * 60, "dsc:99"):
        await chen.press_raw(card, forged)
        await bot.settle()
        assert "失效" in alert_text(chen) or "已经处理" in alert_text(chen), forged

    done = await tap(bot, chen, card, "确认")
    assert "已确认王芳的党费标准" in done.content
    assert "81.00" in done.content
    assert await bases(bot.deps.db) == [("confirmed", None)]
    await chen.press_raw(card, data)
    await bot.settle()
    assert "已经处理" in alert_text(chen)
    await delivered(bot)
    told = emu.last_sent(wang)
    assert "您的党费标准已确认" in told.content
    assert "81.00" in told.content
    async with bot.deps.db.read() as s:
        audits = (await s.scalars(select(AuditEntry).where(
            AuditEntry.action == "dues.standard.confirmed"))).all()  # fmt: skip
    assert len(audits) == 1
    assert "5400" not in str(audits[0].before) + str(audits[0].after)
    assert "540000" not in str(audits[0].before) + str(audits[0].after)

    # 我的党费 after: standard with bracket and rate, arrears for December.
    async with bot.deps.db.transaction() as s:
        s.add(DuesEntry(member_id=world.ids["wang"], org_id=world.branch, month=202701,
                        amount_fen=8_100, kind="dues", to_centre=False,
                        recorded_by=chen.id, recorded_at=clock.now()))  # fmt: skip
    menu = await say(bot, wang, "/dues")
    mine = await tap(bot, wang, menu, "我的党费")
    for part in ("在职职工", "5000–10000元", "1.5%", "81.00 元", "欠交 1 个月", "2026年12月",
                 "已预交 1 个月", "近12个月交纳"):  # fmt: skip
        assert part in mine.content, part
    assert "5400" not in mine.content

    # A rise later: a new declaration confirmed from the same month supersedes the old one.
    sent = await declare_working(bot, wang, "12000")
    await delivered(bot)
    await tap(bot, chen, emu.last_sent(chen), "确认")
    assert await bases(bot.deps.db) == [("superseded", None), ("confirmed", None)]


async def test_correct_and_reject(emu: Emulator, bot: BotUnderTest, clock: FakeClock) -> None:
    world = await make_world(emu, bot, clock)
    wang, li, chen = world.people["wang"], world.people["li"], world.people["chen"]
    await declare_working(bot, wang, "5400")
    await delivered(bot)
    card = emu.last_sent(chen)
    ask = await tap(bot, chen, card, "更正")
    assert "正确的每月党费" in ask.content
    for wrong in ("八十一", "-5", "0", "1e9"):
        reply = await say(bot, chen, wrong)
        assert "没看懂" in reply.content or "不对" in reply.content, wrong
    done = await say(bot, chen, "基数 3000")
    assert "已更正并确认王芳的党费标准" in done.content
    assert "15.00" in done.content
    assert await bases(bot.deps.db) == [("confirmed", None)]
    await delivered(bot)
    assert "更正并确认" in emu.last_sent(wang).content

    await declare_working(bot, li, "8000")
    await delivered(bot)
    card = emu.last_sent(chen)
    ask = await tap(bot, chen, card, "退回")
    assert "原因" in ask.content
    empty = await say(bot, chen, "   ")
    assert "请写明原因" in empty.content
    done = await say(bot, chen, "收入<b>填错了</b>")
    assert "已退回李娜的申报" in done.content
    assert "<b>填错了</b>" in done.content  # escaped
    assert await bases(bot.deps.db) == [("confirmed", None), ("rejected", None)]
    await delivered(bot)
    assert "被退回" in emu.last_sent(li).content


async def test_menu_entry_needs_a_roster_entry(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    await make_world(emu, bot, clock)
    stranger = emu.user("路人")
    await stranger.start()
    reply = await say(bot, stranger, "/dues")
    assert "我的党费" not in str(reply.reply_markup)
    assert any(c["command"] == "dues" for c in emu.commands(
        {"type": "all_private_chats"}, "zh"))  # fmt: skip


async def test_january_reminder_once_across_a_restart(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    wang, li = world.people["wang"], world.people["li"]
    async with bot.deps.db.transaction() as s:
        s.add(DuesStandard(member_id=world.ids["wang"], org_id=world.branch, category="working",
                           permille=15, amount_fen=8_100, from_month=202606, status="confirmed",
                           declared_at=clock.now()))  # fmt: skip
    day = first_working_day(2027, 1)
    zone = bot.deps.settings.timezone
    when = datetime.combine(day, time(bot.deps.settings.schedule.digest_hour), zone)
    assert await JobRunner(bot.deps).run_at("dues-declare", when - timedelta(days=1)) == 0
    clock.set(when.astimezone(UTC) + timedelta(minutes=1))
    assert await JobRunner(bot.deps).run_at("dues-declare", clock.now()) == 1
    # A restart: a new runner finds the occurrence already ran.
    assert await JobRunner(bot.deps).run_at("dues-declare", clock.now()) == 0
    await delivered(bot)
    asked = [m for m in emu.sent_to(wang) if "请重新申报党费" in m.content]
    assert len(asked) == 1
    assert "2027" in asked[0].content
    assert not [m for m in emu.sent_to(li) if "请重新申报党费" in m.content]
    question = await tap(bot, wang, asked[0], "我的收入变了")
    assert "请选择您的情况" in question.content
