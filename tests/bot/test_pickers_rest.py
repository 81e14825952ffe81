"""The remaining choosers on the shared picker: paged to the last item, narrowed by typing
part of a name (meeting edits' person picker, …)."""

from __future__ import annotations

import pytest

from tests.bot.conftest import BotUnderTest
from tests.bot.test_meetings import december as december  # the fixture, by name
from tests.bot.test_meetings import make_branch, manage_screen, schedule
from tests.bot.test_notices import _member, say, tap
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
