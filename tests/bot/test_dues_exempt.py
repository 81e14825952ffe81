"""Hardship reductions and exemptions through the emulator: the branch keeper picks a member
(typing part of a name), records a reduction with odd and huge texts refused, previews and
confirms once; the member alone is told and sees it in 我的党费; the list and ending early;
a member pressing the keeper's buttons and forged data are refused."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import AuditEntry, DuesExemption, DuesStandard
from tests.bot.conftest import BotUnderTest, delivered
from tests.bot.test_dues_standards import make_world
from tests.bot.test_notices import alert_text, say, tap
from tests.conftest import FakeClock
from tests.emulator import Emulator


async def test_record_a_reduction_and_end_it(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)  # 7 December 2026
    db = bot.deps.db
    chen, wang, li, zhao = (world.people[k] for k in ("chen", "wang", "li", "zhao"))
    async with db.transaction() as s:
        s.add(
            DuesStandard(
                member_id=world.ids["wang"],
                org_id=world.branch,
                category="working",
                permille=15,
                lower_fen=500_000,
                upper_fen=1_000_000,
                amount_fen=8_100,
                from_month=202612,
                status="confirmed",
                declared_at=clock.now(),
            )
        )

    menu = await say(bot, chen, "/dues")
    screen = await tap(bot, chen, menu, "减免党费")
    picker = await tap(bot, chen, screen, "登记减免")
    assert {"王芳", "李娜", "陈组织"} <= {b.text for row in picker.buttons for b in row}
    assert "赵管理" not in str(picker.buttons)  # another branch's member
    too_long = await say(bot, chen, "长" * 30)
    assert "最多 20 个字" in too_long.content
    narrowed = await say(bot, chen, "王")
    assert "姓名含「王」的党员：1 人" in narrowed.content
    kind = await tap(bot, chen, narrowed, "王芳")
    assert "免交还是减交" in kind.content
    await tap(bot, chen, kind, "减交")
    for text in ("半块", "0", "-3", "9" * 4096, "\u202e\u200b"):
        reply = await say(bot, chen, text)
        assert "每月交多少元" in reply.content, text
    first = await say(bot, chen, "0.5")
    until = await tap(bot, chen, first, "本月（2026年12月）")
    assert "最多 12 个月" in until.content
    refused = await say(bot, chen, "2028-01")
    assert "一次最多减免 12 个月" in refused.content
    agreed = await tap(bot, chen, refused, "6 个月（到2027年5月）")
    assert "支部委员会哪天研究同意" in agreed.content
    future = await say(bot, chen, "2027-01-01")
    assert "今天或以前" in future.content
    approver = await tap(bot, chen, future, "今天")
    huge = await say(bot, chen, "批" * 4096)
    assert "60 个字以内" in huge.content
    await say(bot, chen, "街道党工委 李明")
    preview = await say(bot, chen, "大病住院\u202e，收入减少")
    for part in (
        "请核对减免登记",
        "王芳",
        "原标准每月 81.00 元",
        "减为每月 0.50 元",
        "2026年12月至2027年5月",
        "2026-12-07",
        "街道党工委 李明",
        "大病住院，收入减少",
    ):
        assert part in preview.content, part
    assert approver.content  # the approver question was asked
    await delivered(bot)
    before_li = len(emu.sent_to(li))
    done = await tap(bot, chen, preview, "确认登记")
    assert "已登记：王芳" in done.content
    await chen.press_raw(preview, "dhs:ok:0")
    await bot.settle()
    assert "失效" in alert_text(chen)
    async with db.read() as s:
        rows = (await s.scalars(select(DuesExemption))).all()
    assert [(r.amount_fen, r.from_month, r.until_month) for r in rows] == [(50, 202612, 202705)]
    exemption_id = rows[0].id

    await delivered(bot)
    told = emu.last_sent(wang)
    assert "党费减免通知" in told.content
    assert "0.50" in told.content
    assert len(emu.sent_to(li)) == before_li  # nobody else is told
    mine = await tap(bot, wang, await say(bot, wang, "/dues"), "我的党费")
    assert "减免：" in mine.content
    assert "2027年5月" in mine.content

    # The member pressing the keeper's buttons, another branch's keeper, forged bytes.
    for intruder in (wang, zhao):
        own = await say(bot, intruder, "/dues")
        if intruder is wang:
            assert "减免党费" not in str(own.buttons)
        for data in (
            f"dhn:{world.branch}",
            f"dhl:{world.branch}",
            f"dhe:{exemption_id}:ok",
            f"dho:{world.branch}",
        ):
            await intruder.press_raw(own, data)
            await bot.settle()
            assert "党费管理员" in alert_text(intruder), (data, alert_text(intruder))
    for forged in ("dhs:pick:x", "dhe:1", "dhe:99999999:ok", "dhs:" + "p" * 70):
        await chen.press_raw(done, forged)
        await bot.settle()
        alert = alert_text(chen)
        assert "失效" in alert or "没有找到" in alert, forged

    # The list, and ending early: December stays the last month covered.
    listing = await tap(
        bot, chen, await tap(bot, chen, await say(bot, chen, "/dues"), "减免党费"), "减免记录"
    )
    assert "正在执行或尚未开始" in listing.content
    assert "王芳" in listing.content
    ask = await tap(bot, chen, listing, "结束：王芳（2026年12月起）")
    assert "2026年12月是最后一个减免的月份" in ask.content
    ended = await tap(bot, chen, ask, "确认结束")
    assert "已结束" in ended.content
    await chen.press_raw(ask, f"dhe:{exemption_id}:ok")
    await bot.settle()
    assert "已经结束" in alert_text(chen)
    async with db.read() as s:
        until_now = (await s.scalars(select(DuesExemption.until_month))).all()
        actions = (
            await s.scalars(
                select(AuditEntry.action).where(AuditEntry.action.like("dues.exemption.%"))
            )
        ).all()
    assert until_now == [202612]
    assert actions == ["dues.exemption.recorded", "dues.exemption.end"]
    await delivered(bot)
    assert "提前结束" in emu.last_sent(wang).content
