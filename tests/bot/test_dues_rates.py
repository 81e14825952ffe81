"""A committee's local rate table through the emulator: the committee's keeper sees the
national table, edits a bracket (odd and huge texts refused with the question again),
previews old against new, confirms once; members and branch keepers neither see the button
nor get anywhere with its bytes; forged data is refused."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from domain.dues import Bracket
from domain.orgs import Kind, Level, Role
from services.authz import Actor
from services.dues import rate_table_for
from services.orgs import create_org
from services.orgs_roles import grant_role
from services.users import Person, touch_user
from storage.models import AuditEntry
from tests.bot.conftest import BotUnderTest
from tests.bot.test_dues_standards import _member
from tests.bot.test_notices import alert_text, say, tap
from tests.conftest import FakeClock
from tests.emulator import Emulator

SUPER = Actor(user_id=0, superadmin=True)


async def test_a_committee_keeper_adjusts_the_table(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    db = bot.deps.db
    clock.set(datetime(2026, 12, 7, 2, 0, tzinfo=UTC))
    now, today = clock.now(), clock.now().date()
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
    qian, chen, wang = (emu.user(n, language_code="zh-hans") for n in ("钱", "陈", "芳"))
    await touch_user(db, Person(id=qian.id, first_name="钱"), now, started=True)
    await grant_role(
        db, SUPER, committee.id, Role.DUES_KEEPER, user_id=qian.id, now=now, today=today
    )
    chen_id = await _member(db, clock, branch.id, "陈组织", chen)
    await _member(db, clock, branch.id, "王芳", wang)
    await grant_role(
        db, SUPER, branch.id, Role.ORGANIZATION, member_id=chen_id, now=now, today=today
    )
    for user in (qian, chen, wang):
        await user.start()
    await bot.settle()

    menu = await say(bot, qian, "/dues")
    shown = await tap(bot, qian, menu, "党费计算标准")
    assert "全国统一标准" in shown.content
    assert "3000–5000元：交 1%" in shown.content
    table = await tap(bot, qian, shown, "调整")
    assert "预览并保存" not in str(table.buttons)  # nothing changed yet
    question = await tap(bot, qian, table, "改 在职党员 3000–5000元 1%")
    assert "上限" in question.content
    for text in ("9" * 4096, "五千", "3000", "10000", "\u202e6000"):
        reply = await say(bot, qian, text)
        assert "上限" in reply.content, text
        assert "没看懂" in reply.content or "要比上一档大" in reply.content, text
    rate = await say(bot, qian, "6000")
    assert "比例" in rate.content
    bad = await say(bot, qian, "0.3")
    assert "不能比收入低的一档小" in bad.content
    table = await say(bot, qian, "1.2%")
    assert "3000–6000元：交 1.2%" in table.content
    assert "6000–10000元：交 1.5%" in table.content
    # A button of an earlier screen (the bracket question) is stale now.
    await qian.press_raw(question, "drs:keep:0")
    await bot.settle()
    assert "失效" in alert_text(qian)
    preview = await tap(bot, qian, table, "预览并保存")
    assert "原标准" in preview.content
    assert "新标准" in preview.content
    assert "不会自动重算" in preview.content
    done = await tap(bot, qian, preview, "确认保存")
    assert "已保存" in done.content
    await qian.press_raw(preview, "drs:ok:0")
    await bot.settle()
    assert "失效" in alert_text(qian)
    async with db.read() as s:
        assert (await rate_table_for(s, branch.id)).working[1] == Bracket(600_000, 12)
        audits = (
            await s.scalars(select(AuditEntry.action).where(AuditEntry.action.like("dues.rates.%")))
        ).all()
    assert audits == ["dues.rates.changed"]
    again = await tap(bot, qian, await say(bot, qian, "/dues"), "党费计算标准")
    assert "本党委（两新工委）根据当地情况调整" in again.content

    # A plain member and the branch's keeper: no button; its bytes get them nowhere.
    for intruder in (wang, chen):
        own = await say(bot, intruder, "/dues")
        assert "党费计算标准" not in str(own.buttons)
        for data in (f"dro:{committee.id}", f"dre:{committee.id}", f"dro:{branch.id}", "dro:0"):
            await intruder.press_raw(own, data)
            await bot.settle()
            alert = alert_text(intruder)
            assert "党费管理员" in alert or "只有党委" in alert, (data, alert)
    for forged in ("drs:bracket:x", "dro:" + "9" * 40, "dre", "drs:" + "a" * 70):
        await qian.press_raw(again, forged)
        await bot.settle()
        assert "失效" in alert_text(qian), forged
    async with db.read() as s:
        count = len(
            (
                await s.scalars(select(AuditEntry.id).where(AuditEntry.action.like("dues.rates.%")))
            ).all()
        )
    assert count == 1
