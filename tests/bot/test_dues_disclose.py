"""党费公示 end to end through the emulator: /dues → 党费公示 → a quarter → the preview (chart,
then the post) → 确认发布; the branch group gets the post with 收到 and the chart after it;
a member presses 收到; the period cannot be published twice; members pressing (or forging)
the keeper's buttons are refused; the amounts switch."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from domain.dues import months_between
from domain.orgs import Kind, Level, Role
from services.authz import Actor
from services.groups import bind_chat
from services.orgs import create_org
from storage.models import Acknowledgement, AuditEntry, DuesDisclosure, DuesEntry, DuesStandard
from tests.bot.conftest import BotUnderTest, delivered
from tests.bot.test_meetings_reminders import manual_ticks
from tests.bot.test_notices import RIGHTS, _member, alert_text, say, tap
from tests.conftest import FakeClock
from tests.emulator import Emulator, EmuUser
from tests.emulator.model import EmuChat
from tests.services.factories import office

SUPER = Actor(user_id=0, superadmin=True)


@pytest.fixture(autouse=True)
def in_october(clock: FakeClock) -> None:
    clock.set(datetime(2026, 10, 3, 2, tzinfo=UTC))


async def _world(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> tuple[int, dict[str, EmuUser], EmuChat]:
    db, now, today = bot.deps.db, clock.now(), clock.now().date()
    committee = await create_org(db, SUPER, name="两新工委", level=Level.COMMITTEE,
                                 kind=Kind.TWO_NEW, parent_id=None, now=now,
                                 today=today)  # fmt: skip
    branch = await create_org(db, SUPER, name="第一支部", level=Level.BRANCH,
                              kind=Kind.STANDARD, parent_id=committee.id, now=now,
                              today=today)  # fmt: skip
    names = (("keeper", "刘委员"), ("wang", "王芳"), ("li", "李娜"))
    people = {key: emu.user(name, language_code="zh-hans") for key, name in names}
    keeper_id = await _member(db, clock, branch.id, "刘委员", people["keeper"])
    wang_id = await _member(db, clock, branch.id, "王芳", people["wang"])
    li_id = await _member(db, clock, branch.id, "<李娜>", people["li"])
    for user in people.values():
        await user.start()
    await office(db, clock, branch.id, Role.ORGANIZATION, member_id=keeper_id)
    async with db.transaction() as s:
        for member_id in (wang_id, li_id):
            s.add(DuesStandard(member_id=member_id, org_id=branch.id, category="working",
                               permille=15, amount_fen=8_100, from_month=202601,
                               status="confirmed", declared_at=now))  # fmt: skip
        for member_id, last in ((wang_id, 202606), (li_id, 202612)):
            for month in months_between(202601, last):
                s.add(DuesEntry(member_id=member_id, org_id=branch.id, month=month,
                                amount_fen=8_100, kind="dues", recorded_by=1,
                                recorded_at=now))  # fmt: skip
    group = emu.group("第一支部群", members=list(people.values()), admins=[people["keeper"]],
                      supergroup=True)  # fmt: skip
    await group.add_bot(by=people["keeper"], admin=True, rights=RIGHTS)
    await bind_chat(db, SUPER, group.id, branch.id, make_main=True, now=now, today=today)
    await bot.settle()
    return branch.id, people, group


async def _to_preview(bot: BotUnderTest, keeper: EmuUser) -> None:
    menu = await say(bot, keeper, "/dues")
    screen = await tap(bot, keeper, menu, "📣 党费公示")
    assert "本支部每季度公示一次" in screen.content
    assert "不显示" in screen.content
    assert screen.button_texts()[0] == "2026年第三季度"
    await tap(bot, keeper, screen, "2026年第三季度")


async def test_the_keeper_previews_and_publishes_and_the_group_acknowledges(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    branch, people, group = await _world(emu, bot, clock)
    manual_ticks(bot)
    keeper, wang = people["keeper"], people["wang"]
    await _to_preview(bot, keeper)
    sent = emu.sent_to(keeper)
    chart, preview = sent[-2], sent[-1]
    assert chart.photo is not None
    assert "第三季度" in chart.content
    assert "预览：第一支部关于2026年第三季度党费收缴情况的公示" in preview.content
    assert "王芳　交至6月　欠交 3 个月" in preview.content
    assert "<李娜>　交至12月　预交至12月" in preview.content  # escaped, shown as typed
    assert preview.button_texts() == ["确认发布", "返回", "取消"]
    # A member forging the keeper's buttons, and forged bytes: refused, nothing published.
    own = await say(bot, wang, "/dues")
    for data, words in ((f"dxo:{branch}", "只有支部书记"), (f"dxw:{branch}:1", "组织委员"),
                        ("dxa:ok", "按钮已失效"), ("dxp:x:y", "按钮已失效")):  # fmt: skip
        await wang.press_raw(own, data)
        await bot.settle()
        assert words in alert_text(wang)
    done = await tap(bot, keeper, preview, "确认发布")
    assert "已发布「第一支部关于2026年第三季度党费收缴情况的公示」" in done.content
    await delivered(bot)
    posts = [m for m in emu.sent_to(group) if m.from_bot and (m.photo or "公示" in m.content)]
    assert [bool(m.photo) for m in posts] == [False, True]  # the post, then the chart
    post = posts[0]
    assert "第一支部关于2026年第三季度党费收缴情况的公示" in post.content
    assert "应交党费 486.00 元，实交 243.00 元" in post.content
    assert "81.00" not in post.content  # no member's amount
    assert post.button_texts() == ["收到"]
    await wang.press(post, "收到")
    await bot.settle()
    assert "已确认" in alert_text(wang)
    # The old 确认发布 again, and the same quarter chosen again: nothing twice.
    await keeper.press_raw(preview, "dxa:ok")
    await bot.settle()
    assert "按钮已失效" in alert_text(keeper)
    menu = await say(bot, keeper, "/dues")
    screen = await tap(bot, keeper, menu, "📣 党费公示")
    assert "✓ 2026年第三季度（已发布）" in screen.button_texts()
    again = await tap(bot, keeper, screen, "✓ 2026年第三季度（已发布）")
    assert "已于2026年10月3日发布" in again.content
    async with bot.deps.db.read() as s:
        rows = (await s.scalars(select(DuesDisclosure))).all()
        acks = (await s.scalars(select(Acknowledgement.user_id))).all()
        actions = list((await s.scalars(select(AuditEntry.action))).all())
    assert [r.period_key for r in rows] == ["2026-Q3"]
    assert acks == [wang.id]
    assert actions.count("dues.disclose.publish") == 1
    assert emu.unanswered_callbacks() == []


async def test_the_keeper_switches_amounts_on_and_the_preview_says_so(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    _branch, people, _group = await _world(emu, bot, clock)
    keeper = people["keeper"]
    menu = await say(bot, keeper, "/dues")
    screen = await tap(bot, keeper, menu, "📣 党费公示")
    await keeper.press(screen, "开启：公示每人金额")
    await bot.settle()
    assert "已开启" in alert_text(keeper)
    screen = emu.last_sent(keeper)
    assert "显示每人本期交纳金额" in screen.content
    assert "关闭：不公示每人金额" in screen.button_texts()
    preview = await tap(bot, keeper, screen, "2026年第三季度")
    assert "<李娜>　交至12月　预交至12月　本期 243.00 元" in preview.content
    cancelled = await tap(bot, keeper, preview, "取消")
    assert "已取消" in cancelled.content
    async with bot.deps.db.read() as s:
        audit = (
            await s.scalars(select(AuditEntry).where(AuditEntry.action == "dues.disclose.amounts"))
        ).one()
    assert (audit.actor_id, audit.after) == (keeper.id, {"show_amounts": True})


async def test_members_do_not_see_the_entry(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    _branch, people, _group = await _world(emu, bot, clock)
    menu = await say(bot, people["wang"], "/dues")
    assert "📣 党费公示" not in menu.button_texts()
