"""Form reminders and 催报 end to end: private reminders with 填写 and the group's mention,
once across a restart; 催报 by the sender, refused to a plain member, twice, or forged."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from bot.app import build_deps
from domain.forms import FormKind, QType, Question
from domain.forms_chase import deadline_of
from scheduler.forms_cycles import FormCycles
from scheduler.forms_reminders import FormReminders
from scheduler.jobs import JobRunner
from services.authz import Actor
from services.forms import FormSpec, publish_form, submit_response
from services.notices import Audience
from storage.models import OutboxItem
from tests.bot.conftest import BotUnderTest, bot_config, start_bot, stop_bot
from tests.bot.test_meetings import Branch, make_branch
from tests.bot.test_notices import alert_text
from tests.conftest import FakeClock
from tests.emulator import Emulator, EmuUser
from tests.emulator.model import EmuChat, EmuMessage
from tests.services.test_forms_chase import SH, THREE_DAYS
from ui.forms import FormChase, FormOpen

MARKER = "信息报送提醒"
ONE_DAY = datetime(2026, 12, 4, 1, 0, 10, tzinfo=UTC)


@pytest.fixture(autouse=True)
def december(clock: FakeClock) -> None:
    clock.set(datetime(2026, 12, 1, 1, 30, tzinfo=UTC))


def reminders(emu: Emulator, chat: EmuUser | EmuChat) -> list[EmuMessage]:
    return [m for m in emu.sent_to(chat) if MARKER in m.content]


async def sent(bot: BotUnderTest) -> None:
    """Wait until every queued text has gone out (cards and copies have their own senders)."""
    bot.deps.outbox.wake()

    async def waiting() -> int:
        async with bot.deps.db.read() as s:
            return int(
                await s.scalar(
                    select(func.count())
                    .select_from(OutboxItem)
                    .where(OutboxItem.purpose == "text",
                           OutboxItem.status.in_(["pending", "sending"]))
                ) or 0
            )  # fmt: skip

    async with asyncio.timeout(15):
        while await waiting():
            bot.deps.outbox.wake()
            await asyncio.sleep(0.02)
    await bot.settle()


async def publish(bot: BotUnderTest, world: Branch) -> int:
    """The secretary's form to the branch, due at the end of the 5th; 王芳 answers at once."""
    db, now = bot.deps.db, bot.deps.clock.now()
    secretary = Actor(world.secretary.id)
    spec = FormSpec(
        org_id=world.org_id, kind=FormKind.MEMBER, title="党员信息更新", intro="",
        questions=(Question(QType.SHORT, "工作单位"),), audience=Audience((world.org_id,)),
        deadline=deadline_of(date(2026, 12, 5), SH),
    )  # fmt: skip
    cycle = (await publish_form(db, secretary, spec, now=now, today=now.date())).cycle.id
    await submit_response(db, Actor(world.people["wang"].id), cycle, {0: "区政府"}, now=now,
                          today=now.date())  # fmt: skip
    return cycle


def jobs(bot: BotUnderTest) -> JobRunner:
    return JobRunner(bot.deps, [FormCycles(), FormReminders()])


async def test_reminders_arrive_once_across_a_restart_and_chase_is_guarded(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_branch(emu, bot, clock)
    cycle = await publish(bot, world)
    sec, wang, li, pro, zhang = (world.secretary, world.people["wang"], world.people["li"],
                                 world.people["pro"], world.people["zhang"])  # fmt: skip

    clock.set(THREE_DAYS)
    assert await jobs(bot).tick() == 1
    await sent(bot)
    for person in (sec, li, pro):
        (private,) = reminders(emu, person)
        assert "《党员信息更新》您还没有填写" in private.content
        assert "截止时间：12月5日（周六）23:59（还有 3 天）" in private.content
        assert private.button_texts() == ["填写"]
        assert private.buttons[0][0].callback_data == FormOpen(cycle, 0).pack()
    assert reminders(emu, wang) == []  # answered
    (mention,) = reminders(emu, world.group)
    assert f'<a href="tg://user?id={zhang.id}">张伟</a>' in (mention.html or "")
    assert "陈书记" not in mention.content
    assert reminders(emu, world.outsider) == []  # another branch, not in the audience

    # Down and up again: the same occurrence is not sent twice.
    await stop_bot(bot)
    cfg = bot_config(emu, bot.deps.db.url)
    again = await start_bot(cfg, build_deps(cfg, clock=clock, db=bot.deps.db), emu)
    try:
        assert await jobs(again).tick() == 0
        clock.set(ONE_DAY)
        assert await jobs(again).tick() == 1
        assert await jobs(again).tick() == 0
        await sent(again)
        assert [len(reminders(emu, p)) for p in (sec, li, pro, wang)] == [2, 2, 2, 0]
        assert "明天截止" in reminders(emu, li)[-1].content
        assert len(reminders(emu, world.group)) == 2

        # 催报 by the sender (here from their own reminder): reminded now, counts told.
        await sec.press_raw(reminders(emu, sec)[-1], FormChase(cycle).pack())
        await again.settle()
        assert alert_text(sec) == "已催报"
        await sent(again)
        (summary,) = [m for m in emu.sent_to(sec) if "已催报" in m.content]
        assert "私信提醒 3 人，在支部群里提醒 1 人" in summary.content
        assert len(reminders(emu, li)) == 3
        assert len(reminders(emu, world.group)) == 3
        # A double press: refused, nothing sent twice.
        await sec.press_raw(reminders(emu, sec)[-1], FormChase(cycle).pack())
        await again.settle()
        assert alert_text(sec) == "刚刚已催报，请稍后再试。"
        # A plain member pressing the same data, and forged data, are refused.
        await li.press_raw(reminders(emu, li)[-1], FormChase(cycle).pack())
        await again.settle()
        assert alert_text(li) == "您没有权限进行这项操作。"
        await li.press_raw(reminders(emu, li)[-1], "fch:x")
        await again.settle()
        assert alert_text(li) == "这个按钮已失效，请重新操作。"
        await li.press_raw(reminders(emu, li)[-1], FormChase(cycle + 999).pack())
        await again.settle()
        assert alert_text(li) == "找不到这张表单，可能已被删除。"
        await sent(again)
        assert len(reminders(emu, li)) == 3
        assert len(reminders(emu, world.group)) == 3
    finally:
        await stop_bot(again)
    assert again.errors == []
