"""When Telegram misbehaves or a handler fails, the bot says so and keeps running."""

from __future__ import annotations

import re

from tests.bot.conftest import BotUnderTest
from tests.emulator import Emulator


async def test_a_handler_failure_apologizes_with_a_reference(
    emu: Emulator, bot: BotUnderTest
) -> None:
    wang = emu.user("王芳")
    await wang.start()
    await bot.settle()
    # Telegram failing on every attempt (a 5xx is retried twice): the reply cannot be made.
    emu.fail_next("sendMessage", kind="500", times=3)
    await wang.send("/help")
    await bot.settle()
    [error] = bot.take_errors()
    assert "Internal Server Error" in str(error) or "500" in str(error) or error is not None
    apology = emu.last_sent(wang).content
    assert "出了问题" in apology
    assert re.search(r"编号 [0-9a-f]{8}", apology)
    # Still running: the next command is answered normally.
    await wang.send("/help")
    await bot.settle()
    assert "可用命令" in emu.last_sent(wang).content


async def test_flood_429_is_retried_after_the_wait(emu: Emulator, bot: BotUnderTest) -> None:
    wang = emu.user("王芳")
    emu.fail_next("sendMessage", kind="429", retry_after=1, times=1)
    await wang.start()
    await bot.settle()
    assert "您好" in emu.last_sent(wang).content
    assert bot.errors == []


async def test_a_callback_failure_is_answered_with_an_alert(
    emu: Emulator, bot: BotUnderTest
) -> None:
    wang = emu.user("王芳")
    await wang.start()
    await wang.send("/lang")
    await bot.settle()
    emu.fail_next("editMessageText", kind="500", times=3)
    await wang.press(emu.last_sent(wang), "English")
    await bot.settle()
    assert len(bot.take_errors()) == 1
    # The language was saved before the failing edit: the reply comes after the commit.
    alert = wang.last_alert()
    assert alert is not None
    assert alert.text == "Language set to English"
    # The apology uses the language the update started in.
    assert "出了问题" in emu.last_sent(wang).content


async def test_a_press_answered_too_late_is_kept_and_not_apologized_for(
    emu: Emulator, bot: BotUnderTest
) -> None:
    wang = emu.user("王芳")
    await wang.start()
    await wang.send("/lang")
    await bot.settle()
    emu.callback_timeout = -1.0  # the bot was too busy: Telegram dropped the query meanwhile
    await wang.press(emu.last_sent(wang), "English")
    await bot.settle()
    [error] = bot.take_errors()
    assert "too old" in str(error).lower()
    [violation] = emu.take_violations()
    assert "answered after" in violation
    # What the press did was committed: the next message is in English, with no apology.
    assert all("出了问题" not in m.content for m in emu.sent_to(wang))
    emu.callback_timeout = 15.0
    await wang.send("/help")
    await bot.settle()
    assert "You can use the buttons or the commands" in emu.last_sent(wang).content
