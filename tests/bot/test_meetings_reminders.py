"""Meeting reminders end to end: private or by mention, buttons that work, once across
restarts, downtime within and past the grace period, and two processes on one database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.app import build_deps
from domain.meetings import Answer
from scheduler.jobs import JobRunner
from services.meetings_reminders import JOB, reminder_key
from storage.db import Database
from storage.models import JobRun, MeetingRsvp, Member, OutboxItem
from tests.bot.conftest import BotUnderTest, bot_config, start_bot, stop_bot
from tests.bot.test_meetings import Branch, make_branch, schedule
from tests.bot.test_notices import alert_text, say
from tests.conftest import FakeClock
from tests.emulator import Emulator, EmuUser
from tests.emulator.model import EmuChat, EmuMessage

STARTS = datetime(2026, 12, 5, 11, 30, tzinfo=UTC)  # the meeting `schedule` publishes
GREETING = "同志，您好！"  # every private reminder opens with it


@pytest.fixture(autouse=True)
def december(clock: FakeClock) -> None:
    clock.set(datetime(2026, 12, 1, 1, 30, tzinfo=UTC))


def manual_ticks(bot: BotUnderTest) -> JobRunner:
    """Stop the bot's own 30-second tick, so the test decides when the runner looks."""
    assert bot.app.job_queue is not None
    for job in bot.app.job_queue.get_jobs_by_name("scheduled-jobs"):
        job.schedule_removal()
    return JobRunner(bot.deps)


def reminders(emu: Emulator, chat: EmuUser | EmuChat) -> list[EmuMessage]:
    """The reminders a person (private) or a group received."""
    marker = GREETING if isinstance(chat, EmuUser) else "会议提醒"
    return [m for m in emu.sent_to(chat) if marker in m.content]


async def drain(bot: BotUnderTest) -> None:
    """Wait until no reminder or notice is waiting in the outbox and every send is done."""
    bot.deps.outbox.wake()

    async def empty() -> bool:
        async with bot.deps.db.read() as s:
            waiting = await s.scalar(
                select(func.count())
                .select_from(OutboxItem)
                .where(OutboxItem.status.in_(["pending", "sending"]))
            )
        return waiting == 0

    async with asyncio.timeout(15):
        while not await empty():
            bot.deps.outbox.wake()
            await asyncio.sleep(0.02)
    await bot.settle()


def notice_meeting(notice: EmuMessage) -> int:
    """The meeting id in the notice's 参加 button (rsvp:<id>:a)."""
    return int(str(notice.buttons[0][0].callback_data).split(":")[1])


async def answers(bot: BotUnderTest) -> dict[str, str]:
    async with bot.deps.db.read() as s:
        rows = await s.execute(
            select(Member.name, MeetingRsvp.answer).join(
                MeetingRsvp, MeetingRsvp.member_id == Member.id
            )
        )
        return {name: answer for name, answer in rows.all()}


async def answered(bot: BotUnderTest, world: Branch, notice: EmuMessage) -> None:
    """王芳 attends, 李娜 is on leave (with a reason); the others have not answered."""
    await world.people["wang"].press(notice, "参加")
    await bot.settle()
    await world.people["li"].press(notice, "请假")
    await bot.settle()
    assert "已记录您的请假" in (await say(bot, world.people["li"], "在外地出差")).content


async def runs(db: Database) -> dict[str, str]:
    async with db.read() as s:
        rows = await s.execute(select(JobRun.key, JobRun.outcome).where(JobRun.job == JOB))
        return {key: outcome for key, outcome in rows.all()}


async def test_reminders_go_privately_or_by_mention_with_working_buttons_once(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    runner = manual_ticks(bot)
    world = await make_branch(emu, bot, clock)
    notice = await schedule(bot, world)
    await answered(bot, world, notice)
    sec, pro, wang, li, zhang = (world.secretary, world.people["pro"], world.people["wang"],
                                 world.people["li"], world.people["zhang"])  # fmt: skip

    clock.set(STARTS - timedelta(hours=24) + timedelta(seconds=10))
    assert await runner.tick() == 1
    await drain(bot)
    # The secretary organized it: reminded as one who attends, not asked to answer.
    (own,) = reminders(emu, sec)
    assert "您报名参加的会议将于 24 小时后开始" in own.content
    assert own.button_texts() == []
    # Not answered and started the bot: asked privately, with the group's buttons.
    for person in (pro,):
        (private,) = reminders(emu, person)
        assert "下面的会议将于 24 小时后开始，您还没有回复是否参加" in private.content
        assert "时间：12月5日（周六）19:30" in private.content
        assert "地点：三楼会议室" in private.content
        assert private.button_texts() == ["参加", "请假"]
    # Attending: told when and where; on leave: nothing.
    (reminder,) = reminders(emu, wang)
    assert "您报名参加的会议将于 24 小时后开始，请准时出席" in reminder.content
    assert reminder.button_texts() == []
    assert reminders(emu, li) == []
    # Zhang never started the bot: mentioned in the group, in reply to the notice.
    (mention,) = reminders(emu, world.group)
    assert f'<a href="tg://user?id={zhang.id}">张伟</a>' in (mention.html or "")
    assert "请以下同志点击按钮回复是否参加" in mention.content
    for name in ("陈书记", "王芳", "李娜", "刘新"):
        assert name not in mention.content
    assert mention.reply_to is notice
    assert mention.button_texts() == ["参加", "请假"]

    # The private buttons record the answer like the group's.
    await pro.press(reminders(emu, pro)[0], "参加")
    await bot.settle()
    assert "您将参加" in alert_text(pro)
    assert await answers(bot) == {
        "王芳": Answer.ATTEND, "李娜": Answer.LEAVE, "刘新": Answer.ATTEND,
    }  # fmt: skip

    # Another look a little later, and a restarted runner: nothing new.
    clock.advance(seconds=30)
    assert await runner.tick() == 0
    assert await JobRunner(bot.deps).tick() == 0
    await drain(bot)
    assert [len(reminders(emu, u)) for u in (sec, pro, wang, li)] == [1, 1, 1, 0]
    assert len(reminders(emu, world.group)) == 1


async def test_a_reminder_due_during_downtime_is_sent_once_after_the_restart(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    manual_ticks(bot)
    world = await make_branch(emu, bot, clock)
    notice = await schedule(bot, world)
    await answered(bot, world, notice)
    clock.set(STARTS - timedelta(hours=24) + timedelta(seconds=10))
    await JobRunner(bot.deps).tick()
    await drain(bot)

    # Down from then until 20 minutes after the hour-before reminder was due.
    await stop_bot(bot)
    clock.set(STARTS - timedelta(minutes=40))
    cfg = bot_config(emu, bot.deps.db.url)
    again = await start_bot(cfg, build_deps(cfg, clock=clock, db=bot.deps.db), emu)
    try:
        runner = manual_ticks(again)
        assert await runner.tick() == 1
        await drain(again)
        for person in (world.secretary, world.people["pro"], world.people["wang"]):
            late = [m for m in reminders(emu, person) if "将于 40 分钟后开始" in m.content]
            assert len(late) == 1
            assert len(reminders(emu, person)) == 2  # the day before, and this one
        assert reminders(emu, world.people["li"]) == []
        assert len(reminders(emu, world.group)) == 2
        # The next look, or a second restart, finds it done.
        assert await runner.tick() == 0
        assert await JobRunner(again.deps).tick() == 0
        assert await runs(again.deps.db) == {
            reminder_key(notice_meeting(notice), 1440, STARTS): "done",
            reminder_key(notice_meeting(notice), 60, STARTS): "done",
        }
    finally:
        await stop_bot(again)
    assert again.errors == []


async def test_a_reminder_older_than_the_grace_is_recorded_as_skipped_and_not_sent(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    manual_ticks(bot)
    world = await make_branch(emu, bot, clock)
    notice = await schedule(bot, world)
    meeting = notice_meeting(notice)

    # Down across the day-before reminder until 13 hours after it (the grace is 12 hours).
    await stop_bot(bot)
    clock.set(STARTS - timedelta(hours=24) + timedelta(hours=13))
    cfg = bot_config(emu, bot.deps.db.url)
    again = await start_bot(cfg, build_deps(cfg, clock=clock, db=bot.deps.db), emu)
    try:
        runner = manual_ticks(again)
        assert await runner.tick() == 0
        assert await runs(again.deps.db) == {reminder_key(meeting, 1440, STARTS): "skipped"}
        await drain(again)
        assert reminders(emu, world.secretary) == []
        assert reminders(emu, world.group) == []
        # The hour-before reminder still goes out on time.
        clock.set(STARTS - timedelta(hours=1) + timedelta(seconds=10))
        assert await runner.tick() == 1
        await drain(again)
        (reminder,) = reminders(emu, world.secretary)
        assert "将于 1 小时后开始" in reminder.content
    finally:
        await stop_bot(again)
    assert again.errors == []


async def test_two_processes_on_one_database_send_each_reminder_once(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock, db: Database
) -> None:
    manual_ticks(bot)
    world = await make_branch(emu, bot, clock)
    notice = await schedule(bot, world)
    await answered(bot, world, notice)
    clock.set(STARTS - timedelta(hours=24) + timedelta(seconds=10))
    cfg = bot_config(emu, db.url)
    second = Database(db.url)  # its own connection pool, as another process has
    try:
        ran = await asyncio.gather(
            JobRunner(bot.deps).tick(),
            JobRunner(build_deps(cfg, clock=clock, db=second)).tick(),
        )
    finally:
        await second.dispose()
    assert sorted(ran) == [0, 1]
    await drain(bot)
    counts = [len(reminders(emu, u)) for u in (world.secretary, *world.people.values())]
    # secretary, wang (attends), li (on leave), zhang (mentioned in the group), pro
    assert counts == [1, 1, 0, 0, 1]
    assert len(reminders(emu, world.group)) == 1
