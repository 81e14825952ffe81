"""When Telegram misbehaves or a handler fails, the bot says so and keeps running."""

from __future__ import annotations

import asyncio
import re

import pytest
from telegram.error import RetryAfter

from bot.http import AiohttpRequest
from tests.bot.conftest import BotUnderTest
from tests.emulator import Emulator
from tests.emulator.faults import FaultKind


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


@pytest.mark.parametrize("kind", ["502", "500", "network", "429"])
async def test_a_direct_reply_is_retried_after_a_failure_of_telegram(
    emu: Emulator, bot: BotUnderTest, kind: FaultKind
) -> None:
    wang = emu.user("王芳")
    await wang.start()
    await bot.settle()
    emu.fail_next("sendMessage", kind=kind, times=2)
    await wang.send("/help")
    await bot.settle()
    # The member gets the help, not an apology: Telegram's trouble passed within the retries.
    assert "可用命令" in emu.last_sent(wang).content
    assert all("出了问题" not in m.content for m in emu.sent_to(wang))
    assert emu.stats[f"fault:{kind}"] == 2


async def test_a_direct_reply_is_retried_after_a_timeout(emu: Emulator, bot: BotUnderTest) -> None:
    wang = emu.user("王芳")
    await wang.start()
    await bot.settle()
    request = bot.app.bot.request
    assert isinstance(request, AiohttpRequest)
    request._timeouts.update(read=0.5, write=0.0)  # a short wait for the test's sake
    emu.fail_next("sendMessage", kind="timeout", times=1)
    await wang.send("/help")
    await bot.settle()
    assert "可用命令" in emu.last_sent(wang).content
    assert all("出了问题" not in m.content for m in emu.sent_to(wang))
    assert emu.stats["fault:timeout"] == 1


@pytest.mark.parametrize("kind", ["429", "502", "network"])
async def test_an_edit_is_retried_after_a_failure_of_telegram(
    emu: Emulator, bot: BotUnderTest, kind: FaultKind
) -> None:
    wang = emu.user("王芳")
    await wang.start()
    await wang.send("/lang")
    await bot.settle()
    board = emu.last_sent(wang)
    emu.fail_next("editMessageText", kind=kind, times=2)
    await wang.press(board, "English")
    await bot.settle()
    assert "Language set to English" in board.content
    assert bot.errors == []
    assert all("出了问题" not in m.content for m in emu.sent_to(wang))


async def test_telegram_saying_wait_too_long_is_not_apologized_for(
    emu: Emulator, bot: BotUnderTest
) -> None:
    wang = emu.user("王芳")
    await wang.start()
    await bot.settle()
    before = len(emu.sent_to(wang))
    emu.fail_next("sendMessage", kind="429", retry_after=1, times=3)
    await wang.send("/help")
    await bot.settle(timeout=15)
    [error] = bot.take_errors()
    assert isinstance(error, RetryAfter)
    # No apology: it would wait in the same line, and nothing went wrong on our side.
    assert len(emu.sent_to(wang)) == before


async def test_edits_that_change_nothing_are_not_sent_and_only_the_latest_waiting_goes(
    emu: Emulator, bot: BotUnderTest
) -> None:
    wang = emu.user("王芳")
    await wang.start()
    await bot.settle()
    tg = bot.app.bot
    message = await tg.send_message(wang.id, "0")
    shown = emu.last_sent(wang)
    await tg.edit_message_text("1", wang.id, message.message_id)
    await tg.edit_message_text("1", wang.id, message.message_id)  # the same again: not sent
    assert emu.stats["method:editMessageText"] == 1
    # An edit in flight; three more of the same message meanwhile: only the last one goes.
    hold = emu.hold("editMessageText")
    first = asyncio.create_task(tg.edit_message_text("2", wang.id, message.message_id))
    await hold.arrived()
    later = [
        asyncio.create_task(tg.edit_message_text(text, wang.id, message.message_id))
        for text in ("3", "4", "5")
    ]
    await asyncio.sleep(0.05)
    hold.release()
    await asyncio.gather(first, *later)
    assert shown.history == ["0", "1", "2"]
    assert shown.content == "5"
    assert emu.stats["not_modified"] == 0
