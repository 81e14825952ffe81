"""End-to-end fixtures: the real Application, polling the emulator over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from telegram.ext import Application

from bot.app import ALLOWED_UPDATES, build_application, build_deps
from bot.config import Config, parse_config
from bot.processor import PerChatUpdateProcessor
from scheduler.jobs import SCHEDULED_JOBS
from storage.db import Database
from storage.models import OutboxItem
from tests.conftest import FakeClock
from tests.emulator import Emulator
from ui.deps import Deps


@pytest.fixture
async def emu(clock: FakeClock) -> AsyncIterator[Emulator]:
    """A strict Bot API emulator on the test's clock; any violation fails the test."""
    emulator = Emulator(clock=lambda: clock.now().timestamp())
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()
    assert emulator.violations == [], "the bot did something Telegram would reject"


# Tests act faster than people: the per-person limit and the private chats' pace (which the
# emulator does not enforce unless asked) would only slow them down; tests/bot/test_crowd.py
# runs the real ones against an emulator that enforces Telegram's limits.
UNHURRIED = {
    "outbox": {"private_messages_per_second": 1000},
    "limits": {"user_updates_per_second": 0},
}


def bot_config(
    emu: Emulator,
    database_url: str,
    *,
    sections: dict[str, dict[str, object]] | None = None,
    **bot: object,
) -> Config:
    """A config that points the bot at the emulator and the test database."""
    return parse_config(
        {
            "telegram": {
                "token": emu.token,
                "base_url": emu.base_url,
                "base_file_url": emu.base_file_url,
            },
            "database": {"url": database_url},
            "bot": dict(bot),
            **(UNHURRIED if sections is None else sections),
        },
        config_dir=Path("."),
        env={},
    )


class BotUnderTest:
    """A running bot plus the means to wait until it has handled everything sent so far."""

    def __init__(self, app: Application, processor: PerChatUpdateProcessor, emu: Emulator) -> None:  # type: ignore[type-arg]
        self.app = app
        self.processor = processor
        self.emu = emu
        self.errors: list[BaseException] = []
        # Updates delivered to an earlier bot on the same emulator are not ours to wait for.
        self.delivered_before = emu.delivered_count()

    @property
    def deps(self) -> Deps:
        deps: Deps | None = self.app.bot_data.deps
        assert deps is not None
        return deps

    async def settle(self, timeout: float = 10) -> None:
        """Wait until every update the emulator queued has been fetched and fully handled."""
        async with asyncio.timeout(timeout):
            await self.emu.wait_delivered(timeout=timeout)
            while self.processor.processed < self.emu.delivered_count() - self.delivered_before:
                await asyncio.sleep(0.002)
            await self.processor.wait_idle()

    def take_errors(self) -> list[BaseException]:
        """Return and forget handler errors a test provoked on purpose."""
        errors, self.errors[:] = list(self.errors), []
        return errors


COUNTER_SWEEPS = ("meeting-counters", "notice-counters", "form-counters")


async def start_bot(
    cfg: Config, deps: Deps, emu: Emulator, *, scheduled_jobs: bool = False
) -> BotUnderTest:
    """Build and start the bot the way `zhibu run` does, but inside the test's event loop.

    The job runner's real-time tick (reminders, digests, reports) is off unless asked for:
    a test drives scheduled work itself (`JobRunner(bot.deps).tick()`), so a digest falling
    due on a loaded machine never lands in the middle of a wizard the test is reading.
    """
    processor = PerChatUpdateProcessor()
    app = build_application(cfg, deps=deps, processor=processor)
    if not scheduled_jobs:
        assert app.job_queue is not None
        # The group-counter sweeps too: one firing on the real clock between two steps of a
        # test would send an edit the test did not ask for, and the next edit would then wait
        # COUNTER_GAP on the FakeClock, which never moves by itself. Tests sweep explicitly.
        for name in (SCHEDULED_JOBS, *COUNTER_SWEEPS):
            for job in app.job_queue.get_jobs_by_name(name):
                job.schedule_removal()
    harness = BotUnderTest(app, processor, emu)

    async def record(_update: object, context: object) -> None:
        harness.errors.append(getattr(context, "error", None) or RuntimeError("unknown"))

    app.add_error_handler(record)
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    assert app.updater is not None
    await app.updater.start_polling(allowed_updates=ALLOWED_UPDATES, poll_interval=0, timeout=5)
    await app.start()
    return harness


async def stop_bot(harness: BotUnderTest) -> None:
    """Stop like SIGTERM would: finish what is in hand, then close."""
    app = harness.app
    if not app._initialized:  # already stopped by the test itself
        return
    assert app.updater is not None
    if app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
        if app.post_stop is not None:
            await app.post_stop(app)
    await app.shutdown()
    if app.post_shutdown is not None:
        await app.post_shutdown(app)


@pytest.fixture
async def bot(emu: Emulator, db: Database, clock: FakeClock) -> AsyncIterator[BotUnderTest]:
    """The bot, running against the emulator and the test database; handler errors fail the test."""
    cfg = bot_config(emu, db.url, superadmins=[])
    harness = await start_bot(cfg, build_deps(cfg, clock=clock, db=db), emu)
    try:
        yield harness
        if harness.app.running:
            await harness.settle()
    finally:
        await stop_bot(harness)
    assert harness.errors == [], f"handler errors: {harness.errors!r}"


async def delivered(bot: BotUnderTest) -> None:
    """Wait until everything queued so far has left the outbox, then for the bot to settle."""
    bot.deps.outbox.wake()
    async with asyncio.timeout(10):
        while True:
            async with bot.deps.db.read() as s:
                left = await s.scalar(
                    select(func.count())
                    .select_from(OutboxItem)
                    .where(OutboxItem.status.in_(("pending", "sending")))
                )
            if not left:
                break
            await asyncio.sleep(0.05)
    await bot.settle()
