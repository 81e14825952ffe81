"""/meeting, 参加/请假, live counters and sign-in end to end, through the emulator."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from domain.org import Kind, Level, Role, Stage
from scheduler.meetings import refresh_counters
from services.authz import Actor
from services.groups import bind_chat
from services.orgs import create_org
from services.roles import grant_role
from storage.models import Meeting, MeetingAttendance, MeetingRsvp, OutboxItem
from tests.bot.conftest import BotUnderTest
from tests.bot.test_notices import RIGHTS, _member, alert_text, say, tap
from tests.conftest import FakeClock
from tests.emulator import Emulator, EmuUser
from tests.emulator.model import EmuChat, EmuMessage

SUPER = Actor(user_id=0, superadmin=True)


@pytest.fixture
def mbot(bot: BotUnderTest) -> BotUnderTest:
    """The standard bot (meetings are wired in bot.app)."""
    return bot


@dataclass
class Branch:
    org_id: int
    group: EmuChat
    secretary: EmuUser
    people: dict[str, EmuUser]
    outsider: EmuUser


async def make_branch(emu: Emulator, bot: BotUnderTest, clock: FakeClock) -> Branch:
    """A branch with a secretary, full and probationary members and a bound group."""
    db, now, today = bot.deps.db, clock.now(), clock.now().date()
    committee = await create_org(
        db,
        SUPER,
        name="两新工委",
        level=Level.COMMITTEE,
        kind=Kind.TWO_NEW,
        parent_id=None,
        now=now,
        today=today,
    )
    branch = await create_org(
        db,
        SUPER,
        name="第一支部",
        level=Level.BRANCH,
        kind=Kind.STANDARD,
        parent_id=committee.id,
        now=now,
        today=today,
    )
    other = await create_org(
        db,
        SUPER,
        name="第二支部",
        level=Level.BRANCH,
        kind=Kind.STANDARD,
        parent_id=committee.id,
        now=now,
        today=today,
    )
    secretary = emu.user("书记", language_code="zh-hans")
    secretary_id = await _member(db, clock, branch.id, "陈书记", secretary)
    await grant_role(
        db, SUPER, branch.id, Role.SECRETARY, member_id=secretary_id, now=now, today=today
    )
    people = {
        "wang": emu.user("芳", language_code="zh-hans"),
        "li": emu.user("娜", language_code="zh-hans"),
        "zhang": emu.user("伟", language_code="zh-hans"),
        "pro": emu.user("新", language_code="zh-hans"),
    }
    await _member(db, clock, branch.id, "王芳", people["wang"])
    await _member(db, clock, branch.id, "李娜", people["li"])
    # Zhang never started the bot: a leave reason needs the deep link.
    await _member(db, clock, branch.id, "张伟", people["zhang"], started=False)
    await _member(db, clock, branch.id, "刘新", people["pro"], Stage.PROBATIONARY)
    outsider = emu.user("外人", language_code="zh-hans")
    await _member(db, clock, other.id, "外支部", outsider)
    for key in ("wang", "li", "pro"):
        await people[key].start()
    await secretary.start()
    group = emu.group(
        "第一支部群",
        members=[secretary, outsider, *people.values()],
        admins=[secretary],
        supergroup=True,
    )
    await group.add_bot(by=secretary, admin=True, rights=RIGHTS)
    await bind_chat(db, SUPER, group.id, branch.id, make_main=True, now=now, today=today)
    await bot.settle()
    return Branch(branch.id, group, secretary, people, outsider)


async def schedule(bot: BotUnderTest, world: Branch) -> EmuMessage:
    """Walk /meeting to the published notice in the group; returns the group message."""
    sec = world.secretary
    question = await say(bot, sec, "/meeting")
    assert "请选择会议类型" in question.content
    question = await tap(bot, sec, question, "⬜ 支部党员大会")
    question = await tap(bot, sec, question, "⬜ 党课")
    assert "✅ 支部党员大会" in question.content or "✅ 支部党员大会" in question.button_texts()
    question = await tap(bot, sec, question, "下一步")
    assert "请输入会议时间" in question.content
    question = await say(bot, sec, "不是时间")
    assert "没有看懂" in question.content
    question = await say(bot, sec, "12月5日 19:30")
    assert "12月5日（周六）19:30" in question.content
    assert "对吗" in question.content
    question = await tap(bot, sec, question, "重新输入")
    assert "请输入会议时间" in question.content
    question = await say(bot, sec, "12月5日 19:30")
    question = await tap(bot, sec, question, "对")
    assert "会议地点" in question.content
    question = await say(bot, sec, "三楼会议室")
    question = await say(bot, sec, "学习新党章")
    assert "议程" in question.content
    question = await tap(bot, sec, question, "跳过")
    assert "主持人" in question.content
    question = await tap(bot, sec, question, "陈书记")
    assert "记录人" in question.content
    question = await tap(bot, sec, question, "王芳")
    assert "主讲人" in question.content  # a party lesson is among the types
    question = await tap(bot, sec, question, "陈书记")
    assert "参会范围" in question.content
    preview = await tap(bot, sec, question, "全体党员")
    assert "学习新党章" in preview.content
    assert "主讲人：陈书记" in preview.content
    done = await tap(bot, sec, preview, "确认发布")
    assert "已发布到支部群" in done.content
    bot.deps.outbox.wake()
    notice: EmuMessage = await bot.emu.wait_for(
        lambda: next((m for m in bot.emu.sent_to(world.group) if "学习新党章" in m.content), None),
        timeout=10,
    )
    assert "参加 0 · 请假 0 · 未回复 5" in notice.content
    assert notice.button_texts() == ["参加", "请假"]
    return notice


@pytest.fixture
def december(clock: FakeClock) -> None:
    clock.set(datetime(2026, 12, 1, 1, 30, tzinfo=UTC))  # 09:30 in Shanghai


@pytest.mark.usefixtures("december")
async def test_organizers_only_and_the_wizard_confirms_the_time(
    emu: Emulator, mbot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_branch(emu, mbot, clock)
    assert "只有支部书记" in (await say(mbot, world.people["wang"], "/meeting")).content
    await schedule(mbot, world)
    async with mbot.deps.db.read() as s:
        row = await s.scalar(select(Meeting))
    assert row is not None
    assert row.types == ["general_meeting", "party_lesson"]
    assert row.starts_at == datetime(2026, 12, 5, 11, 30, tzinfo=UTC)


@pytest.mark.usefixtures("december")
async def test_answers_leave_with_reason_forgery_and_batched_counter(
    emu: Emulator, mbot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_branch(emu, mbot, clock)
    notice = await schedule(mbot, world)
    wang, li, zhang = world.people["wang"], world.people["li"], world.people["zhang"]
    await wang.press(notice, "参加")
    await mbot.settle()
    assert "您将参加" in alert_text(wang)
    await li.press(notice, "请假")
    await mbot.settle()
    assert "私聊" in alert_text(li)
    assert "请假原因" in emu.last_sent(li).content
    reply = await say(mbot, li, "在外地出差")
    assert "已记录您的请假" in reply.content
    await zhang.press(notice, "请假")
    await mbot.settle()
    assert "开始" in alert_text(zhang)
    meeting_id = str(notice.buttons[0][0].callback_data).split(":")[1]
    url = next(q.answer_url for q in reversed(list(emu.callbacks.values())) if q.user is zhang)
    assert url == f"https://t.me/{emu.bot.username}?start=lv_{meeting_id}"
    await zhang.start(f"lv_{meeting_id}")
    await mbot.settle()
    assert "请假原因" in emu.last_sent(zhang).content
    assert "已记录您的请假" in (await say(mbot, zhang, "家中有事")).content
    # A forged press from someone outside the branch changes nothing.
    await world.outsider.press_raw(notice, f"rsvp:{meeting_id}:a")
    await mbot.settle()
    assert "不是面向您的" in alert_text(world.outsider)
    async with mbot.deps.db.read() as s:
        answers = {(r.answer, r.reason) for r in (await s.scalars(select(MeetingRsvp))).all()}
    assert answers == {("attend", None), ("leave", "在外地出差"), ("leave", "家中有事")}
    # Four presses, no edits yet: the counter is re-rendered by the periodic job, once.
    assert notice.edits == 0
    assert await refresh_counters(mbot.deps) == 1
    await emu.wait_for(lambda: notice.edits == 1, timeout=10)
    assert "参加 1 · 请假 2 · 未回复 2" in notice.content
    assert await refresh_counters(mbot.deps) == 0
    async with mbot.deps.db.read() as s:
        edits = await s.scalar(
            select(func.count()).select_from(OutboxItem).where(OutboxItem.purpose == "edit")
        )
    assert edits == 1


@pytest.mark.usefixtures("december")
async def test_sign_in_refuses_outsiders_and_shows_the_full_member_quorum(
    emu: Emulator, mbot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_branch(emu, mbot, clock)
    await schedule(mbot, world)
    sec = world.secretary
    manage = next(m for m in reversed(emu.sent_to(sec)) if "开始签到" in m.button_texts())
    await sec.press(manage, "开始签到")
    await mbot.settle()
    mbot.deps.outbox.wake()
    signin: EmuMessage = await emu.wait_for(
        lambda: next((m for m in emu.sent_to(world.group) if "签到已开始" in m.content), None),
        timeout=10,
    )
    await world.outsider.press(signin, "签到")
    await mbot.settle()
    assert "不是面向您的" in alert_text(world.outsider)
    for key in ("wang", "pro"):
        await world.people[key].press(signin, "签到")
        await mbot.settle()
        assert "签到成功" in alert_text(world.people[key])
    await sec.press(signin, "签到")
    await mbot.settle()
    # 代签 for Li with a note, by the secretary.
    await sec.press(manage, "代签/补签")
    await mbot.settle()
    picker = emu.last_sent(sec)
    assert "李娜" in picker.button_texts()
    assert "王芳" not in picker.button_texts()
    ask = await tap(mbot, sec, picker, "李娜")
    assert "备注" in ask.content
    assert "已为 李娜 签到" in (await say(mbot, sec, "电话确认到会")).content
    await sec.press(manage, "出席情况")
    await mbot.settle()
    report = emu.last_sent(sec).content
    assert "应到 5 人，实到 4 人" in report
    # Full members: 陈书记, 王芳, 李娜, 张伟 expected; three of them present; 刘新 is probationary.
    assert "正式党员应到 4 人，实到 3 人，已过半数" in report
    assert "李娜（代签：电话确认到会）" in report
    async with mbot.deps.db.read() as s:
        assert await s.scalar(select(func.count()).select_from(MeetingAttendance)) == 4
