"""Fixtures for the emulator's own tests: an emulator on a manual clock and a real PTB Bot."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from telegram import Bot

from tests.emulator import Emulator, ManualClock

START = 1_800_000_000.0


@pytest.fixture
def mclock() -> ManualClock:
    """The emulator's clock; tests move it with ``advance``."""
    return ManualClock(START)


@pytest_asyncio.fixture
async def emu(mclock: ManualClock) -> AsyncIterator[Emulator]:
    """A running emulator; any unexpected violation fails the test at teardown."""
    emulator = Emulator(clock=mclock)
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()
    assert emulator.violations == [], emulator.violations


@pytest_asyncio.fixture
async def tg(emu: Emulator) -> AsyncIterator[Bot]:
    """A real python-telegram-bot Bot talking to the emulator over HTTP."""
    bot = Bot(emu.token, base_url=emu.base_url, base_file_url=emu.base_file_url)
    async with bot:
        yield bot
