"""党费设置 through the emulator: a branch's keeper changes the payment day (a button), the
months one may pay ahead (typed) and back (odd and huge texts refused with the question
again, then a full-width number), how often to disclose, and finds the amounts switch on the
公示 screen; members and another branch's keeper neither see the button nor get anywhere with
its bytes; forged data is refused; a keeper of two branches chooses one first."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from domain.orgs import Role
from services.dues import settings_of
from storage.models import AuditEntry, RoleAssignment
from tests.bot.conftest import BotUnderTest
from tests.bot.test_dues_standards import make_world
from tests.bot.test_notices import alert_text, say, tap
from tests.conftest import FakeClock
from tests.emulator import Emulator


async def test_a_keeper_changes_each_setting(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    chen, db, branch = world.people["chen"], bot.deps.db, world.branch
    menu = await say(bot, chen, "/dues")
    screen = await tap(bot, chen, menu, "⚙️ 党费设置")
    assert "第一支部 党费设置" in screen.content
    assert "每月 5 日" in screen.content
    assert "最多可以提前交：6 个月" in screen.content
    assert "公示：每季度一次" in screen.content

    ask = await tap(bot, chen, screen, "改缴费日")
    assert "每月几号是缴费日" in ask.content
    assert "✓ 5日" in str(ask.buttons)
    screen = await tap(bot, chen, ask, "10日")
    assert "缴费日已改好" in screen.content
    assert "每月 10 日" in screen.content
    assert "本月仍按每月 5 日提醒，下个月起按每月 10 日" in screen.content

    ask = await tap(bot, chen, screen, "改最多提前交几个月")
    assert "以后几个月" in ask.content  # what it means, in plain words
    screen = await say(bot, chen, "0")
    assert "最多可以提前交：0 个月" in screen.content

    ask = await tap(bot, chen, screen, "改最多补交几个月")
    assert "以前欠的" in ask.content
    for text in ("0", "29", "五", "9" * 4096, "\u202e3", "٣"):
        reply = await say(bot, chen, text)
        assert "欠交的党费最多可以补交几个月" in reply.content, text
        assert "1 到 12" in reply.content or "没看懂" in reply.content, text
    screen = await say(bot, chen, "１２")
    assert "欠交的最多可以补交：12 个月" in screen.content
    after = await say(bot, chen, "7")  # the question was answered: a number is just a text
    assert "补交" not in after.content

    screen = await tap(bot, chen, await say(bot, chen, "/dues"), "⚙️ 党费设置")
    ask = await tap(bot, chen, screen, "改多久公示一次")
    screen = await tap(bot, chen, ask, "每年")
    assert "公示：每年一次" in screen.content

    disclose = await tap(bot, chen, screen, "📣 党费公示（显示金额的开关在这里）")
    assert "开启：公示每人金额" in str(disclose.buttons)

    async with db.read() as s:
        saved = await settings_of(s, branch)
        actions = (await s.scalars(select(AuditEntry.action).where(
            AuditEntry.action.like("dues.settings.%")).order_by(AuditEntry.id))).all()  # fmt: skip
    assert (saved.payment_day, saved.advance_cap, saved.arrears_cap,
            saved.disclosure_months) == (10, 0, 12, 12)  # fmt: skip
    assert actions == ["dues.settings.payment_day", "dues.settings.advance_cap",
                       "dues.settings.arrears_cap", "dues.settings.disclosure_months"]  # fmt: skip

    # Forged bytes: an impossible value, an unknown setting, broken and overlong data.
    screen = await tap(bot, chen, await say(bot, chen, "/dues"), "⚙️ 党费设置")
    await chen.press_raw(screen, f"dstv:{branch}:day:29")
    await bot.settle()
    assert "1 到 28" in alert_text(chen)
    for forged in (f"dstv:{branch}:xx:3", f"dsta:{branch}:zz", "dst:" + "9" * 40, "dsta",
                   f"dstv:{branch}:day:" + "a" * 70, f"dstv:{branch}:every:4"):  # fmt: skip
        await chen.press_raw(screen, forged)
        await bot.settle()
        alert = alert_text(chen)
        assert "失效" in alert or "公示周期只能是" in alert, (forged, alert)
    async with db.read() as s:
        assert (await settings_of(s, branch)).payment_day == 10


async def test_members_and_other_keepers_are_refused(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    wang, zhao, branch = world.people["wang"], world.people["zhao"], world.branch
    own = await say(bot, wang, "/dues")
    assert "党费设置" not in str(own.buttons)
    for intruder in (wang, zhao):
        message = await say(bot, intruder, "/dues")
        for data in (f"dst:{branch}", f"dsta:{branch}:day", f"dstv:{branch}:day:10",
                     f"dstv:{branch}:every:12"):  # fmt: skip
            await intruder.press_raw(message, data)
            await bot.settle()
            assert "只有本支部的组织委员或党费管理员" in alert_text(intruder), data
    await wang.press_raw(own, "dst:0")
    await bot.settle()
    assert "只有本支部的组织委员或党费管理员" in alert_text(wang)
    # 赵 keeps 第二支部: its settings open straight away.
    mine = await tap(bot, zhao, await say(bot, zhao, "/dues"), "⚙️ 党费设置")
    assert "第二支部 党费设置" in mine.content
    async with bot.deps.db.read() as s:
        assert (await settings_of(s, branch)).payment_day == 5
        assert (await s.scalar(select(AuditEntry.id).where(
            AuditEntry.action.like("dues.settings.%")))) is None  # fmt: skip


async def test_a_keeper_of_two_branches_chooses_one(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    chen, db = world.people["chen"], bot.deps.db
    now = clock.now()
    # 陈 also keeps 第二支部's dues (an office held by the account, as an older roll allowed).
    async with db.transaction() as s:
        s.add(RoleAssignment(org_id=world.other, role=Role.DUES_KEEPER.value, user_id=chen.id,
                             start_on=date(2026, 1, 1), created_at=now))  # fmt: skip
    choose = await tap(bot, chen, await say(bot, chen, "/dues"), "⚙️ 党费设置")
    assert "请选择支部" in choose.content
    screen = await tap(bot, chen, choose, "第二支部")
    ask = await tap(bot, chen, screen, "改缴费日")
    screen = await say(bot, chen, "２０号")
    assert "每月 20 日" in screen.content
    async with db.read() as s:
        assert (await settings_of(s, world.other)).payment_day == 20
        assert (await settings_of(s, world.branch)).payment_day == 5
    assert ask.content
