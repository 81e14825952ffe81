"""Under a crowd: every press answered, nothing over Telegram's budget, one person cannot take
everyone's share, and a newcomer is answered promptly once the crowd stops.

These tests run the bot with its real limits (the per-person limit, private chats paced)
against an emulator that enforces Telegram's flood limits on the real clock, so "no 429"
means the bot kept to the budget, and "no unanswered press" means every answer came within
Telegram's 15-second window (the emulator records a later one as a violation).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator

import pytest

from bot.app import build_deps
from storage.db import Database
from tests.bot.conftest import BotUnderTest, bot_config, start_bot, stop_bot
from tests.conftest import FakeClock
from tests.emulator import Emulator
from tests.emulator.model import EmuMessage, EmuUser
from ui.flood import ReplyDropped

TOO_FAST = "操作太频繁，请稍候"
TOLD = "您操作太频繁了"


@pytest.fixture
async def live_emu() -> AsyncIterator[Emulator]:
    """An emulator on the real clock that answers 429 beyond Telegram's flood limits."""
    emulator = Emulator(clock=time.time, flood_limits=True)
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()
    assert emulator.violations == [], "the bot did something Telegram would reject"


@pytest.fixture
async def real_bot(
    live_emu: Emulator, db: Database, clock: FakeClock
) -> AsyncIterator[BotUnderTest]:
    """The bot with the limits it ships with (per-person limit on, private chats paced)."""
    cfg = bot_config(live_emu, db.url, sections={}, superadmins=[])
    harness = await start_bot(cfg, build_deps(cfg, clock=clock, db=db), live_emu)
    try:
        yield harness
    finally:
        await stop_bot(harness)


def _reply_after(emu: Emulator, user: EmuUser, since: float) -> float | None:
    """Seconds from `since` (loop time) until the emulator had answered a message to `user`."""
    done = [
        r.finished
        for r in emu.requests
        if r.method == "sendMessage" and r.status == 200 and r.params.get("chat_id") == user.id
        and r.finished >= since
    ]  # fmt: skip
    return min(done) - since if done else None


def _errors_other_than_dropped_replies(bot: BotUnderTest) -> list[BaseException]:
    return [e for e in bot.take_errors() if not isinstance(e, ReplyDropped)]


async def test_a_crowd_gets_no_429_every_press_is_answered_and_a_newcomer_is_served(
    live_emu: Emulator, real_bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    emu, bot = live_emu, real_bot
    rng = random.Random(14)
    crowd = [emu.user(f"群众{i}", language_code="zh-hans") for i in range(13)]
    group = emu.group("第一支部群", members=crowd[:6], admins=[crowd[0]], supergroup=True)
    await group.add_bot(by=crowd[0])
    for person in crowd:
        await person.start()
        await person.send("/lang")
    await emu.wait_for(
        lambda: all(any(m.buttons for m in emu.sent_to(p)) for p in crowd), timeout=20
    )
    await crowd[0].send("/help", chat=group)
    await emu.wait_for(lambda: emu.sent_to(group), timeout=10)
    boards: dict[int, EmuMessage] = {
        p.id: next(m for m in emu.sent_to(p) if m.buttons) for p in crowd
    }
    group_reply = emu.sent_to(group)[-1]
    replayed = sorted({b.callback_data for m in boards.values() for row in m.buttons for b in row
                       if b.callback_data})  # fmt: skip
    await bot.settle(timeout=30)
    caplog.set_level(logging.WARNING)
    before = len(emu.callbacks)

    # 900 updates, 25 every 50 ms (up to 500 a second, as fast as this machine lets the
    # emulator make them): commands, junk, presses of replayed and forged buttons, odd
    # documents, in private and in the group.
    junk = ["你好", "x" * 4096, "<b>&amp;</b>", "🇨🇳" * 50, "/nonsense", "\u202e?", " "]
    forged = ["lang:xx", "mg:scr:999999:0", "zz:" + "9" * 60, "dp:1:1", "\u4e00" * 21]
    loop = asyncio.get_running_loop()
    started = loop.time()
    for _ in range(36):
        for _ in range(25):
            person = rng.choice(crowd)
            board = boards[person.id]
            roll = rng.random()
            if roll < 0.35:  # its buttons, pressed again and again after the first one
                await person.press_raw(board, rng.choice(replayed))
            elif roll < 0.5:
                target = group_reply if person in crowd[:6] and rng.random() < 0.5 else board
                await person.press_raw(target, rng.choice(forged))
            elif roll < 0.65:
                await person.send(rng.choice(junk))
            elif roll < 0.75:
                await person.send(rng.choice(["/help", "/start", "/lang", "/meeting"]))
            elif roll < 0.85 and person in crowd[:6]:
                await person.send(
                    rng.choice(["/help", "/lang", "/help@zhibu_test_bot"]), chat=group
                )
            else:
                name = rng.choice(["名册.xlsx", "a\nb.csv", "<x>.pdf", "", "..", "😀" * 30])
                await person.send_document(
                    name or "noname", bytes(rng.randrange(256) for _ in range(64))
                )
        await asyncio.sleep(0.05)
    presses = len(emu.callbacks) - before
    rate = 900 / (loop.time() - started)
    assert presses >= 300, presses
    assert rate >= 100, f"the crowd came at only {rate:.0f} updates a second"

    # A newcomer as soon as the crowd stops: answered within 2 s (the emulator's clock).
    newcomer = emu.user("新来的", language_code="zh-hans")
    asked = loop.time()
    await newcomer.send("/help")
    await emu.wait_for(lambda: _reply_after(emu, newcomer, asked) is not None, timeout=15)
    waited = _reply_after(emu, newcomer, asked)
    assert waited is not None
    assert waited < 2.0, f"the newcomer waited {waited:.1f} s"
    assert "可用命令" in emu.last_sent(newcomer).content

    # The crowd's backlog drains within the test's bounds (stale replies are given up).
    await bot.settle(timeout=40)
    assert emu.stats["429"] == 0
    assert emu.unanswered_callbacks() == []
    assert _errors_other_than_dropped_replies(bot) == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    # Each flooding person was told once that they are too fast, not at every update.
    for person in crowd:
        told = [m for m in emu.sent_to(person) if TOLD in m.content]
        assert len(told) <= 2, person.full_name
    assert sum(1 for p in crowd for m in emu.sent_to(p) if TOLD in m.content) >= 1
    assert emu.stats["not_modified"] == 0


async def test_one_person_too_fast_is_dropped_and_told_once_while_others_are_served(
    live_emu: Emulator, real_bot: BotUnderTest
) -> None:
    emu, bot = live_emu, real_bot
    fast, calm = (
        emu.user("快手", language_code="zh-hans"),
        emu.user("老李", language_code="zh-hans"),
    )
    await fast.start()
    await calm.start()
    await fast.send("/lang")
    board = await emu.wait_for(lambda: next((m for m in emu.sent_to(fast) if m.buttons), None))
    await bot.settle(timeout=10)
    await asyncio.sleep(2.5)  # the start and /lang came from the bucket: let it fill up again
    chinese, english = (board.button(name).callback_data for name in ("简体中文", "English"))
    assert chinese is not None
    assert english is not None
    # The same button again and again (its message loses its buttons after the first).
    queries = [await fast.press_raw(board, chinese) for _ in range(30)]
    await calm.send("/help")
    await bot.settle(timeout=20)
    answers = [emu.callback_answers[q] for q in queries]
    too_fast = [a for a in answers if a.text == TOO_FAST]
    # A burst of 10 is let through; the next ones (about 20) are answered "too fast".
    assert 15 <= len(too_fast) <= 20
    assert all(not a.show_alert for a in too_fast)
    assert len([m for m in emu.sent_to(fast) if TOLD in m.content]) == 1
    assert "可用命令" in emu.last_sent(calm).content
    assert bot.take_errors() == []
    # Once the bucket has filled up again, the person is served (and could be told again).
    await asyncio.sleep(2.5)
    query = await fast.press_raw(board, english)
    assert (await emu.answer_of(query)).text != TOO_FAST
    await bot.settle(timeout=10)
    assert emu.stats["429"] == 0
