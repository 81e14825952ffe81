"""The first run through the emulator: anyone can learn their numeric id, newcomers see it."""

from __future__ import annotations

from domain.orgs import Level
from tests.bot.conftest import BotUnderTest
from tests.conftest import FakeClock
from tests.emulator import Emulator
from tests.services.factories import linked_member, org


async def test_myid_tells_anyone_their_id_in_private_and_in_a_group(
    emu: Emulator, bot: BotUnderTest
) -> None:
    stranger = emu.user("陌生人")
    await stranger.send("/myid")
    await bot.settle()
    reply = emu.last_sent(stranger)
    assert f"<code>{stranger.id}</code>" in (reply.html or "")
    assert "数字编号" in reply.content

    john = emu.user("John", language_code="en")
    group = emu.group("第一支部群", members=[john], admins=[john])
    await group.add_bot(by=john)
    await bot.settle()
    await john.send("/myid", chat=group)
    await bot.settle()
    answer = emu.last_sent(group)
    assert str(john.id) in answer.content
    assert str(group.id) in answer.content


async def test_start_shows_the_id_to_someone_who_belongs_nowhere_only(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    operator = emu.user("Operator", language_code="en")
    await operator.start()
    await bot.settle()
    greeting = emu.last_sent(operator).content
    assert greeting.startswith("Hello, Operator!")
    assert f"Your numeric Telegram id is {operator.id}" in greeting

    committee = await org(bot.deps.db, clock, "高新区党委", Level.COMMITTEE, None)
    branch = await org(bot.deps.db, clock, "第一支部", Level.BRANCH, committee)
    wang = emu.user("王芳")
    await linked_member(bot.deps.db, clock, branch, wang.id, "王芳")
    await wang.start()
    await bot.settle()
    assert str(wang.id) not in emu.last_sent(wang).content
