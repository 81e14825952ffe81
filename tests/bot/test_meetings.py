"""/meeting, 参加/请假, live counters and sign-in end to end, through the emulator."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from domain.compliance import MeetingType
from domain.meetings import Answer, Audience
from domain.orgs import Kind, Level, Role, Stage
from scheduler.meetings import refresh_counters
from services.authz import Actor
from services.drafts import save_draft
from services.groups import bind_chat
from services.meetings import (
    CARD_EDIT,
    MeetingSpec,
    answer,
    cancel_meeting,
    close_meeting,
    open_signin,
    publish_meeting,
)
from services.orgs import create_org
from services.orgs_roles import grant_role
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
            select(func.count()).select_from(OutboxItem).where(OutboxItem.purpose == CARD_EDIT)
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


# ---- edit, cancel, close, /meetings ----


def meeting_id_of(notice: EmuMessage) -> int:
    return int(str(notice.buttons[0][0].callback_data).split(":")[1])


async def manage_screen(bot: BotUnderTest, user: EmuUser, topic: str) -> EmuMessage:
    """/meetings, then the meeting with this topic: its manage screen."""
    listing = await say(bot, user, "/meetings")
    label = next(t for t in listing.button_texts() if topic in t)
    return await tap(bot, user, listing, label)


async def delivered(bot: BotUnderTest, predicate: object, what: str) -> object:
    bot.deps.outbox.wake()
    return await bot.emu.wait_for(predicate, timeout=10, what=what)  # type: ignore[arg-type]


@pytest.mark.usefixtures("december")
async def test_edit_tells_answerers_privately_and_names_the_others_in_the_group(
    emu: Emulator, mbot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_branch(emu, mbot, clock)
    notice = await schedule(mbot, world)
    wang, li, zhang = world.people["wang"], world.people["li"], world.people["zhang"]
    await wang.press(notice, "参加")
    await zhang.press(notice, "参加")  # never started the bot: no private note possible
    await li.press(notice, "请假")
    await mbot.settle()
    await say(mbot, li, "出差")
    sec = world.secretary
    screen = await manage_screen(mbot, sec, "学习新党章")
    assert "状态：未开始" in screen.content
    assert {"修改", "取消会议", "开始签到"} <= set(screen.button_texts())
    menu = await tap(mbot, sec, screen, "修改")
    assert "主讲人" in menu.button_texts()  # a party lesson is among the types
    ask = await tap(mbot, sec, menu, "地点")
    assert "现在的地点：三楼会议室" in ask.content
    too_long = await say(mbot, sec, "楼" * 201)
    assert "最多 200 字" in too_long.content
    confirm = await say(mbot, sec, "五楼 <党员> 活动室 & 阅览室")
    assert "地点：三楼会议室 → 五楼 <党员> 活动室 & 阅览室" in confirm.content
    assert "已回复的 3 位同志" in confirm.content
    done = await tap(mbot, sec, confirm, "确认修改")
    assert "已私信提醒 2 位同志；1 位" in done.content
    for person in (wang, li):
        note = await delivered(
            mbot,
            lambda p=person: next((m for m in emu.sent_to(p) if "会议有变动" in m.content), None),
            "a private note",
        )
        assert "地点：三楼会议室 → 五楼 <党员> 活动室 & 阅览室" in note.content  # type: ignore[attr-defined]
    assert not emu.sent_to(zhang)
    mention = await delivered(
        mbot,
        lambda: next((m for m in emu.sent_to(world.group) if "请留意" in m.content), None),
        "the mention in the group",
    )
    assert "张伟" in mention.content  # type: ignore[attr-defined]
    assert "王芳" not in mention.content  # type: ignore[attr-defined]
    assert f"tg://user?id={zhang.id}" in (mention.html or "")  # type: ignore[attr-defined]
    assert mention.reply_to is notice  # type: ignore[attr-defined]
    await emu.wait_for(lambda: "五楼 <党员> 活动室" in notice.content, timeout=10)
    assert notice.button_texts() == ["参加", "请假"]
    # The time, through the wizard's own date parser.
    screen = await manage_screen(mbot, sec, "学习新党章")
    ask = await tap(mbot, sec, await tap(mbot, sec, screen, "修改"), "时间")
    assert "没有看懂" in (await say(mbot, sec, "下下下周")).content
    assert "已经过去" in (await say(mbot, sec, "2026-11-01 19:30")).content
    confirm = await say(mbot, sec, "12月6日 19:30")
    assert "12月5日（周六）19:30 → 12月6日（周日）19:30" in confirm.content
    await tap(mbot, sec, confirm, "确认修改")
    await delivered(
        mbot,
        lambda: sum("会议有变动" in m.content for m in emu.sent_to(wang)) == 2,
        "the second note",
    )
    async with mbot.deps.db.read() as s:
        row = await s.scalar(select(Meeting))
    assert row is not None
    assert row.version == 3
    assert row.place == "五楼 <党员> 活动室 & 阅览室"
    assert row.starts_at == datetime(2026, 12, 6, 11, 30, tzinfo=UTC)


@pytest.mark.usefixtures("december")
async def test_cancel_with_a_reason_closes_the_notice_and_old_buttons_say_so(
    emu: Emulator, mbot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_branch(emu, mbot, clock)
    notice = await schedule(mbot, world)
    wang, li = world.people["wang"], world.people["li"]
    await wang.press(notice, "参加")
    await mbot.settle()
    sec = world.secretary
    screen = await manage_screen(mbot, sec, "学习新党章")
    ask = await tap(mbot, sec, screen, "取消会议")
    assert "已回复的 1 位同志" in ask.content
    # 不取消 goes back to the screen, nothing changes.
    back = await tap(mbot, sec, ask, "不取消，返回")
    assert "状态：未开始" in back.content
    ask = await tap(mbot, sec, back, "取消会议")
    confirm = await say(mbot, sec, "上级临时通知，另行安排")
    assert "取消原因：上级临时通知，另行安排" in confirm.content
    done = await tap(mbot, sec, confirm, "确认取消会议")
    assert "会议已取消" in done.content
    await delivered(mbot, lambda: "会议已取消" in notice.content, "the cancelled notice")
    assert "取消原因：上级临时通知，另行安排" in notice.content
    assert notice.buttons == []
    note = await delivered(
        mbot,
        lambda: next((m for m in emu.sent_to(wang) if "会议已取消" in m.content), None),
        "the private note",
    )
    assert "上级临时通知" in note.content  # type: ignore[attr-defined]
    meeting_id = (await _only_meeting(mbot)).id
    await li.press_raw(notice, f"rsvp:{meeting_id}:a")
    await mbot.settle()
    assert "已取消" in alert_text(li)
    # The manage screen shows it as cancelled, with no more edit or cancel buttons.
    screen = await tap(mbot, sec, done, "« 返回会议")
    assert "状态：已取消" in screen.content
    assert "修改" not in screen.button_texts()
    await sec.press_raw(screen, f"mg:cx2:{meeting_id}:0")
    await mbot.settle()
    assert "已取消" in alert_text(sec)
    async with mbot.deps.db.read() as s:
        assert await s.scalar(select(func.count()).select_from(MeetingRsvp)) == 1


async def _only_meeting(bot: BotUnderTest) -> Meeting:
    async with bot.deps.db.read() as s:
        row: Meeting | None = await s.scalar(select(Meeting))
    assert row is not None
    return row


@pytest.mark.usefixtures("december")
async def test_members_and_forged_presses_on_organizer_buttons_are_refused(
    emu: Emulator, mbot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_branch(emu, mbot, clock)
    notice = await schedule(mbot, world)
    meeting_id = meeting_id_of(notice)
    wang = world.people["wang"]  # the recorder: may run sign-in, not change the meeting
    li = world.people["li"]
    mine = await say(mbot, li, "/meetings")
    assert "您近期的会议" in mine.content
    assert "还没有回复" in mine.content
    await world.secretary.send("/meetings", chat=world.group)
    await mbot.settle()
    assert "请私聊" in emu.last_sent(world.group).content
    theirs = await say(mbot, wang, "/meetings")
    for data in (f"mg:edit:{meeting_id}:0", f"mg:cx2:{meeting_id}:0", f"mg:eok:{meeting_id}:0"):
        await li.press_raw(mine, data)
        await mbot.settle()
        assert "只有" in alert_text(li), data
        await wang.press_raw(theirs, data)
        await mbot.settle()
        assert "只有" in alert_text(wang), data
    # Someone outside the branch, pressing forged buttons on the group notice.
    for data in (f"mg:scr:{meeting_id}:0", f"mg:cl2:{meeting_id}:0", f"mo:edit:{meeting_id}"):
        await world.outsider.press_raw(notice, data)
        await mbot.settle()
        assert "只有" in alert_text(world.outsider), data
    ours = await say(mbot, world.secretary, "/meetings")
    for forged in ("mg:edit:x:0", "mg:nope:1:0", f"mg:ed:{meeting_id}:99", "ml:z:0", "mo:x:1"):
        await world.secretary.press_raw(ours, forged)
        await mbot.settle()
        assert alert_text(world.secretary), forged
    # The recorder reaches the meeting through /meetings, without edit or cancel buttons.
    screen = await manage_screen(mbot, wang, "学习新党章")
    assert "开始签到" in screen.button_texts()
    assert "修改" not in screen.button_texts()
    row = await _only_meeting(mbot)
    assert (row.status, row.version) == ("scheduled", 1)


@pytest.mark.usefixtures("december")
async def test_meetings_pages_coming_and_past_meetings(
    emu: Emulator, mbot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_branch(emu, mbot, clock)
    db, now = mbot.deps.db, clock.now()
    secretary = Actor(user_id=world.secretary.id)
    ids = []
    for day in range(2, 14):
        view, _ = await publish_meeting(
            db,
            secretary,
            MeetingSpec(
                org_id=world.org_id,
                types=(MeetingType.THEME_DAY,),
                starts_at=datetime(2026, 12, day, 11, 0, tzinfo=UTC),
                place="活动室",
                topic=f"第{day}次活动",
                audience=Audience.BRANCH,
            ),
            now=now,
            today=now.date(),
        )
        ids.append(view.id)
    for meeting_id in ids[:3]:  # the first three are over: two held, one called off
        await open_signin(db, secretary, meeting_id, now=now, today=now.date())
    for meeting_id in ids[:2]:
        await close_meeting(db, secretary, meeting_id, now=now, today=now.date())
    await cancel_meeting(db, secretary, ids[2], None, now=now, today=now.date())
    sec = world.secretary
    first = await say(mbot, sec, "/meetings")
    assert "共 9 个，第 1–8 个" in first.content
    labels = first.button_texts()
    assert labels[0].endswith("第5次活动")
    assert labels[7].endswith("第12次活动")
    second = await tap(mbot, sec, first, "下一页")
    assert "第 9–9 个" in second.content
    assert second.button_texts()[0].endswith("第13次活动")
    past = await tap(mbot, sec, second, "往期会议 »")
    assert "共 3 个" in past.content
    assert [t.split(" ")[-1] for t in past.button_texts()[:3]] == [
        "第4次活动",
        "第3次活动",
        "第2次活动",
    ]
    assert past.button_texts()[0].startswith("❌")
    screen = await tap(mbot, sec, past, past.button_texts()[1])
    assert "状态：已结束" in screen.content
    assert "📝 会议记录" in screen.button_texts()
    back = await tap(mbot, sec, screen, "« 会议列表")
    assert "待开和进行中的会议" in back.content
    # A member gets their own coming meetings with their answers.
    wang = world.people["wang"]
    await answer(db, wang.id, ids[3], Answer.ATTEND, now=now, today=now.date())
    assert "/meetings — 我的会议" in (await say(mbot, wang, "/help")).content
    mine = await say(mbot, wang, "/meetings")
    assert "您近期的会议" in mine.content
    assert "第5次活动" in mine.content
    assert "您的回复：参加" in mine.content
    assert "您的回复：还没有回复" in mine.content  # the later ones
    assert "第2次活动" not in mine.content
    assert mine.buttons == []


@pytest.mark.usefixtures("december")
async def test_closing_posts_a_summary_without_names_and_counts_full_members_for_quorum(
    emu: Emulator, mbot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_branch(emu, mbot, clock)
    notice = await schedule(mbot, world)
    wang, li, pro = world.people["wang"], world.people["li"], world.people["pro"]
    await li.press(notice, "请假")
    await mbot.settle()
    await say(mbot, li, "出差")
    sec = world.secretary
    screen = await manage_screen(mbot, sec, "学习新党章")
    screen = await tap(mbot, sec, screen, "开始签到")
    assert "状态：签到中" in screen.content
    signin: EmuMessage = await delivered(  # type: ignore[assignment]
        mbot,
        lambda: next((m for m in emu.sent_to(world.group) if "签到已开始" in m.content), None),
        "the sign-in message",
    )
    for person in (wang, pro):
        await person.press(signin, "签到")
    await mbot.settle()
    ask = await tap(mbot, sec, screen, "结束会议")
    assert "不列姓名" in ask.content
    private = (await tap(mbot, sec, ask, "确认结束会议")).content
    screen = ask  # the confirmation became the closed meeting's screen
    assert "状态：已结束" in screen.content
    assert "缺席：张伟" in private
    assert "缺席：陈书记" in private
    assert "请假：李娜（出差）" in private
    summary: EmuMessage = await delivered(  # type: ignore[assignment]
        mbot,
        lambda: next((m for m in emu.sent_to(world.group) if "应到" in m.content), None),
        "the summary",
    )
    assert "应到 5 人，实到 2 人，请假 1 人，缺席 2 人" in summary.content
    # Full members: 陈书记, 王芳, 李娜, 张伟; only 王芳 signed in (刘新 is probationary).
    assert "正式党员应到 4 人，实到 1 人，未过半数" in summary.content
    assert "张伟" not in summary.content
    assert summary.reply_to is notice
    await emu.wait_for(lambda: notice.buttons == [] and signin.buttons == [], timeout=10)
    assert "会议已结束" in notice.content
    assert "签到已结束" in signin.content
    meeting_id = (await _only_meeting(mbot)).id
    await world.people["zhang"].press_raw(signin, f"sgn:{meeting_id}")
    await mbot.settle()
    assert "已结束" in alert_text(world.people["zhang"])
    await wang.press_raw(notice, f"rsvp:{meeting_id}:l")
    await mbot.settle()
    assert "已结束" in alert_text(wang)
    # 补签 after closing still works and counts as late.
    picker = await tap(mbot, sec, screen, "代签/补签")
    ask = await tap(mbot, sec, picker, "张伟")
    assert "已为 张伟 签到" in (await tap(mbot, sec, ask, "跳过")).content
    async with mbot.deps.db.read() as s:
        kinds = (await s.scalars(select(MeetingAttendance.signed_by))).all()
    assert sorted(kinds) == ["late", "self", "self"]


async def to_preview(bot: BotUnderTest, world: Branch) -> EmuMessage:
    """Walk /meeting the short way (a theme day, nobody named) to its preview."""
    sec = world.secretary
    question = await say(bot, sec, "/meeting")
    question = await tap(bot, sec, question, "⬜ 主题党日")
    question = await tap(bot, sec, question, "下一步")
    question = await tap(bot, sec, await say(bot, sec, "12月5日 19:30"), "对")
    await say(bot, sec, "三楼会议室")
    question = await say(bot, sec, "学习新党章")
    for label in ("跳过", "跳过", "跳过"):  # agenda, host, recorder
        question = await tap(bot, sec, question, label)
    preview = await tap(bot, sec, question, "全体党员")
    assert "确认发布" in preview.button_texts()
    return preview


@pytest.mark.usefixtures("december")
async def test_pressing_the_old_publish_button_twice_publishes_once(
    emu: Emulator, mbot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_branch(emu, mbot, clock)
    sec = world.secretary
    preview = await to_preview(mbot, world)
    publish = next(b.callback_data for row in preview.buttons for b in row if b.text == "确认发布")
    first = await sec.press_raw(preview, str(publish))
    second = await sec.press_raw(preview, str(publish))  # a double tap, before any reply
    await mbot.settle()
    answers = [(await emu.answer_of(q)).text or "" for q in (first, second)]
    assert sorted(answers) == ["已发布", "这个按钮已失效，请重新操作。"]
    assert "已发布到支部群" in preview.content
    async with mbot.deps.db.read() as s:
        meetings = await s.scalar(select(func.count()).select_from(Meeting))
        notices = await s.scalar(
            select(func.count()).select_from(OutboxItem).where(OutboxItem.is_group.is_(True))
        )
    assert (meetings, notices) == (1, 1)


@pytest.mark.usefixtures("december")
async def test_a_wizard_left_by_the_previous_release_restarts_politely(
    emu: Emulator, mbot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_branch(emu, mbot, clock)
    sec = world.secretary
    old = {"single_org": True, "types": ["theme_day"], "org_id": world.org_id, "org_name": "x"}
    await save_draft(mbot.deps.db, sec.id, "meeting", "place", old, clock.now())
    question = await say(mbot, sec, "三楼会议室")
    assert "请选择会议类型" in question.content  # started again, from the types
    assert any("旧版本" in m.content for m in emu.sent_to(sec))
    # An old leave-reason question: told, and the text is not taken as a reason.
    await save_draft(
        mbot.deps.db, sec.id, "meeting_leave", "reason", {"meeting_id": 1}, clock.now()
    )
    assert "旧版本" in (await say(mbot, sec, "出差")).content
    async with mbot.deps.db.read() as s:
        assert await s.scalar(select(func.count()).select_from(MeetingRsvp)) == 0


@pytest.mark.usefixtures("december")
async def test_the_group_card_is_rendered_as_the_meeting_stands_when_it_is_sent(
    emu: Emulator, mbot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_branch(emu, mbot, clock)
    db, now, today = mbot.deps.db, clock.now(), clock.now().date()
    secretary = Actor(user_id=world.secretary.id)
    spec = MeetingSpec(
        org_id=world.org_id,
        types=(MeetingType.THEME_DAY,),
        starts_at=datetime(2026, 12, 5, 11, 0, tzinfo=UTC),
        place="活动室",
        topic="送出时渲染",
        audience=Audience.BRANCH,
    )
    view, posted = await publish_meeting(db, secretary, spec, now=now, today=today)
    assert posted
    # Queued as intent; before the worker sends it, an answer comes in and sign-in opens.
    await answer(db, world.people["wang"].id, view.id, Answer.ATTEND, now=now, today=today)
    await open_signin(db, secretary, view.id, now=now, today=today)
    notice: EmuMessage = await delivered(  # type: ignore[assignment]
        mbot,
        lambda: next((m for m in emu.sent_to(world.group) if "送出时渲染" in m.content), None),
        "the notice",
    )
    assert "参加 1 · 请假 0 · 未回复 4" in notice.content
    assert notice.edits == 0
    signin: EmuMessage = await delivered(  # type: ignore[assignment]
        mbot,
        lambda: next((m for m in emu.sent_to(world.group) if "签到已开始" in m.content), None),
        "the sign-in card",
    )
    assert signin.button_texts() == ["签到"]
    await _all_sent(mbot)
    # Called off after both went out: each is edited to the state of when the edit is sent.
    await cancel_meeting(db, secretary, view.id, "改期", now=now, today=today)
    await delivered(mbot, lambda: "会议已取消" in notice.content, "the cancelled notice")
    assert notice.buttons == []
    await emu.wait_for(lambda: signin.buttons == [], timeout=10)


async def _all_sent(bot: BotUnderTest) -> None:
    """Wait until the outbox has recorded every item as sent (message ids known)."""
    for _ in range(100):
        async with bot.deps.db.read() as s:
            waiting = await s.scalar(
                select(func.count()).select_from(OutboxItem).where(OutboxItem.status != "sent")
            )
        if not waiting:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("outbox items still unsent")
