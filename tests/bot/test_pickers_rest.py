"""The remaining choosers on the shared picker: paged to the last item, narrowed by typing
part of a name (meeting edits' person picker, /org 设置书记, …)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from domain.orgs import Role
from services.drafts import get_draft
from storage.models import Member, Organization, RoleAssignment
from tests.bot.conftest import BotUnderTest
from tests.bot.test_meetings import december as december  # the fixture, by name
from tests.bot.test_meetings import make_branch, manage_screen, schedule
from tests.bot.test_notices import _member, say, tap
from tests.bot.test_pickers import make_world
from tests.conftest import FakeClock
from tests.emulator import Emulator, EmuUser
from tests.emulator.model import EmuMessage

PEOPLE = [f"组员{i:02d}" for i in range(1, 21)]


def names_on(screen: EmuMessage, pool: list[str]) -> list[str]:
    return [t for t in screen.button_texts() if t in pool]


async def all_pages(
    bot: BotUnderTest, user: EmuUser, screen: EmuMessage, pool: list[str]
) -> tuple[EmuMessage, list[str]]:
    """下一页 until there is none; the names seen on the way (at most eight a page)."""
    seen = names_on(screen, pool)
    pages = 1
    while "下一页" in screen.button_texts():
        screen = await tap(bot, user, screen, "下一页")
        assert len(names_on(screen, pool)) <= 8
        seen += names_on(screen, pool)
        pages += 1
        assert pages <= len(pool)  # a pager that never ends is a failure, not a hang
    return screen, seen


@pytest.mark.usefixtures("december")
async def test_meeting_edit_person_picker_pages_and_narrows(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_branch(emu, bot, clock)
    await schedule(bot, world)
    for name in PEOPLE:  # the roster grows to 25 after the meeting was planned
        await _member(bot.deps.db, clock, world.org_id, name, None)
    sec = world.secretary
    screen = await manage_screen(bot, sec, "学习新党章")
    menu = await tap(bot, sec, screen, "修改")
    picker = await tap(bot, sec, menu, "主持人")
    assert "第 1–8 个，共 25 个" in picker.content
    assert "直接发名称中的几个字" in picker.content
    roster = [*PEOPLE, "陈书记", "王芳", "李娜", "张伟", "刘新"]
    last, seen = await all_pages(bot, sec, picker, roster)
    assert sorted(seen) == sorted(roster)
    assert "第 25–25 个，共 25 个" in last.content

    found = await say(bot, sec, "组员1")  # 组员10 … 组员19
    assert "名称含“组员1”的共 10 个" in found.content
    second = await tap(bot, sec, found, "下一页")
    assert names_on(second, PEOPLE) == ["组员18", "组员19"]
    nothing = await say(bot, sec, "没有这个人")
    assert "没有名称含“没有这个人”的" in nothing.content
    everything = await tap(bot, sec, nothing, "显示全部")
    assert "第 1–8 个，共 25 个" in everything.content
    found = await say(bot, sec, "１９")  # full-width digits find 组员19
    assert names_on(found, PEOPLE) == ["组员19"]
    confirm = await tap(bot, sec, found, "组员19")
    assert "组员19" in confirm.content
    done = await tap(bot, sec, confirm, "确认修改")
    assert "已修改" in done.content


async def test_org_secretary_picker_pages_and_narrows(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    admin = world.admin
    async with bot.deps.db.read() as s:
        branch_id = await s.scalar(select(Organization.id).where(Organization.name == "第001支部"))
    assert branch_id is not None
    for name in PEOPLE:
        await _member(bot.deps.db, clock, branch_id, name, None)
    card = await tap(bot, admin, await say(bot, admin, "/org"), "城区党委")
    await tap(bot, admin, card, "🔍 按名称查找")
    card = await tap(bot, admin, await say(bot, admin, "第001"), "第001支部")
    picker = await tap(bot, admin, card, "设置书记")
    assert "第 1–8 个，共 20 个" in picker.content
    last, seen = await all_pages(bot, admin, picker, PEOPLE)
    assert seen == PEOPLE
    assert "第 17–20 个，共 20 个" in last.content

    found = await say(bot, admin, "组员1")  # 组员10 … 组员19
    assert "名称含“组员1”的共 10 个" in found.content
    second = await tap(bot, admin, found, "下一页")
    assert names_on(second, PEOPLE) == ["组员18", "组员19"]
    everything = await tap(bot, admin, second, "显示全部")
    assert "第 1–8 个，共 20 个" in everything.content
    found = await say(bot, admin, "２０")  # full-width digits find 组员20
    assert names_on(found, PEOPLE) == ["组员20"]
    done = await tap(bot, admin, found, "组员20")
    assert "组员20" in done.content
    async with bot.deps.db.read() as s:
        secretary = await s.scalar(
            select(Member.name)
            .join(RoleAssignment, RoleAssignment.member_id == Member.id)
            .where(RoleAssignment.org_id == branch_id, RoleAssignment.role == Role.SECRETARY)
        )
    assert secretary == "组员20"
    # The typed question ended with the appointment: text now goes nowhere near it.
    assert await get_draft(bot.deps.db, admin.id) is None
