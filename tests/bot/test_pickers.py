"""Pickers that reach everything: a committee of 300 branches, the last one reached in
/meeting, /notice, /ledger and /org by paging and by typing part of its name."""

from __future__ import annotations

from dataclasses import dataclass

from domain.orgs import Kind, Level, Role
from services.authz import Actor
from services.orgs import create_org
from services.orgs_roles import grant_role
from services.users import Person, touch_user
from storage.models import Organization
from tests.bot.conftest import BotUnderTest
from tests.bot.test_notices import say, tap
from tests.conftest import FakeClock
from tests.emulator import Emulator, EmuUser
from tests.emulator.model import EmuMessage

SUPER = Actor(user_id=0, superadmin=True)
BRANCHES = 300
LAST = f"第{BRANCHES:03d}支部"


@dataclass
class World:
    committee: int
    admin: EmuUser


async def make_world(emu: Emulator, bot: BotUnderTest, clock: FakeClock) -> World:
    db, now, today = bot.deps.db, clock.now(), clock.now().date()
    admin = emu.user("组织部", language_code="zh-hans")
    await touch_user(db, Person(id=admin.id, first_name="组织部"), now, started=True)
    committee = await create_org(db, SUPER, name="城区党委", level=Level.COMMITTEE,
                                 kind=Kind.TWO_NEW, parent_id=None, now=now,
                                 today=today)  # fmt: skip
    await grant_role(db, SUPER, committee.id, Role.COMMITTEE_ADMIN, user_id=admin.id,
                     now=now, today=today)  # fmt: skip
    async with db.transaction() as s:  # 300 branches at once, not 300 audited creations
        s.add_all(
            Organization(
                parent_id=committee.id,
                level=Level.BRANCH,
                kind=Kind.STANDARD,
                name=f"第{i:03d}支部",
                created_at=now,
            )
            for i in range(1, BRANCHES + 1)
        )
    await admin.start()
    await bot.settle()
    return World(committee.id, admin)


async def page_to_end(bot: BotUnderTest, user: EmuUser, screen: EmuMessage) -> EmuMessage:
    """下一页 until there is none; every page shows at most eight names."""
    pages = 1
    while "下一页" in screen.button_texts():
        screen = await tap(bot, user, screen, "下一页")
        pages += 1
        assert pages <= BRANCHES  # a pager that never ends is a failure, not a hang
    assert pages == -(-BRANCHES // 8)
    return screen


def named(screen: EmuMessage, name: str) -> bool:
    return any(name in t for t in screen.button_texts())


async def test_meeting_reaches_the_last_branch_by_paging_and_by_typing(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    admin = world.admin
    picker = await say(bot, admin, "/meeting")
    assert "第 1–8 个，共 300 个" in picker.content
    assert "直接发名称中的几个字" in picker.content
    last_page = await page_to_end(bot, admin, picker)
    assert "第 297–300 个，共 300 个" in last_page.content
    assert named(last_page, LAST)
    types = await tap(bot, admin, last_page, LAST)
    assert LAST in types.content  # the types question names the branch chosen

    picker = await say(bot, admin, "/meeting")
    found = await say(bot, admin, "300")
    assert "名称含“300”的共 1 个" in found.content
    assert [t for t in found.button_texts() if "支部" in t] == [LAST]
    nothing = await say(bot, admin, "没有这个")
    assert "没有名称含“没有这个”的" in nothing.content
    everything = await tap(bot, admin, nothing, "显示全部")
    assert "第 1–8 个，共 300 个" in everything.content
    narrowed = await say(bot, admin, "第29")  # 第290 … 第299
    assert "共 10 个" in narrowed.content
    second = await tap(bot, admin, narrowed, "下一页")
    assert named(second, "第299支部")
    types = await tap(bot, admin, second, "第299支部")
    assert "第299支部" in types.content


async def test_notice_reaches_the_last_branch_by_paging_and_by_typing(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    admin = world.admin
    question = await say(bot, admin, "/notice")
    question = await tap(bot, admin, question, "会议通知")
    question = await say(bot, admin, "年度评议")
    question = await say(bot, admin, "见附件。")
    assert "请确认接收范围" in question.content
    picker = await tap(bot, admin, question, "选择支部…")
    assert "共 300 个支部" in picker.content
    last_page = await page_to_end(bot, admin, picker)
    picker = await tap(bot, admin, last_page, f"⬜ {LAST}")
    assert f"✅ {LAST}" in picker.button_texts()
    found = await say(bot, admin, "第001")
    assert "名称含“第001”的共 1 个" in found.content
    found = await tap(bot, admin, found, "⬜ 第001支部")
    assert "✅ 第001支部" in found.button_texts()
    question = await tap(bot, admin, found, "完成")
    assert "已选 2 个支部" in question.content


async def test_ledger_reaches_the_last_branch_by_paging_and_by_typing(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    admin = world.admin
    picker = await say(bot, admin, "/ledger")
    last_page = await page_to_end(bot, admin, picker)
    period = await tap(bot, admin, last_page, LAST)
    assert LAST in period.content
    back = await tap(bot, admin, period, "上一步")
    assert "第 1–8 个，共 300 个" in back.content
    found = await say(bot, admin, "300")
    assert [t for t in found.button_texts() if "支部" in t] == [LAST]
    period = await tap(bot, admin, found, LAST)
    assert LAST in period.content


async def test_org_reaches_the_last_branch_by_paging_and_by_typing(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    admin = world.admin
    top = await say(bot, admin, "/org")
    card = await tap(bot, admin, top, "城区党委")
    assert "共 300 个" in card.content
    last_page = await page_to_end(bot, admin, card)
    branch = await tap(bot, admin, last_page, LAST)
    assert LAST in branch.content

    card = await say(bot, admin, "/org")
    card = await tap(bot, admin, card, "城区党委")
    ask = await tap(bot, admin, card, "🔍 按名称查找")
    assert "请发名称中的几个字" in ask.content
    found = await say(bot, admin, "第2")  # 第200 … 第299
    assert "名称含“第2”的共 100 个" in found.content
    last_page = await page_to_end_of(bot, admin, found, 100)
    assert named(last_page, "第299支部")
    branch = await tap(bot, admin, last_page, "第299支部")
    assert "第299支部" in branch.content
    again = await say(bot, admin, "第2")  # still finding in that list
    assert "名称含“第2”的共 100 个" in again.content
    everything = await tap(bot, admin, again, "显示全部")
    assert "下级组织第 1–8 个，共 300 个" in everything.content


async def page_to_end_of(
    bot: BotUnderTest, user: EmuUser, screen: EmuMessage, total: int
) -> EmuMessage:
    pages = 1
    while "下一页" in screen.button_texts():
        screen = await tap(bot, user, screen, "下一页")
        pages += 1
        assert pages <= total
    assert pages == -(-total // 8)
    return screen
