"""Two `zhibu run` on one PostgreSQL: one active, one standby that takes over after kill -9."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from services.outbox import enqueue_text
from storage.db import Database
from tests.bot.test_process import start_process, write_config
from tests.conftest import FakeClock
from tests.emulator import Emulator

pytestmark = pytest.mark.slow
WAITING = "standby: waiting for the active process"


class Running:
    """A `zhibu run` process with its log lines collected as they come."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stderr is not None
        async for raw in self.proc.stderr:
            self.lines.append(raw.decode(errors="replace").rstrip())

    def said(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
        await self.proc.wait()
        await asyncio.gather(self._reader, return_exceptions=True)


@pytest.fixture
async def processes() -> AsyncIterator[list[Running]]:
    started: list[Running] = []
    yield started
    for running in started:
        await running.stop()


async def until(check: Callable[[], bool], timeout: float, what: str) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.05)
    assert check(), what


async def queue_text(db: Database, chat_id: int, html: str, clock: FakeClock) -> None:
    async with db.transaction() as session:
        enqueue_text(session, chat_id=chat_id, html=html, now=clock.now())


async def test_the_standby_takes_over_after_kill_9_and_nothing_is_sent_twice(
    emu: Emulator, db: Database, tmp_path: Path, clock: FakeClock, processes: list[Running]
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("a standby needs PostgreSQL: on SQLite one process owns the database file")
    config = write_config(tmp_path / "c.toml", emu, db.url, "[ha]\nretry_seconds = 1\n")
    first = Running(await start_process(config))
    processes.append(first)
    await until(lambda: bool(emu.calls("getUpdates")), 30, "the first process never polled")
    second = Running(await start_process(config))
    processes.append(second)
    await until(lambda: second.said(WAITING), 30, "the second process did not wait")
    assert not first.said(WAITING)

    wang = emu.user("王芳")
    await wang.start()
    await until(lambda: bool(emu.sent_to(wang)), 15, "the active process did not answer")
    await queue_text(db, wang.id, "发给王芳的第一条", clock)
    await until(lambda: any("第一条" in m.content for m in emu.sent_to(wang)), 15, "not sent")
    # Only the active process has talked to Telegram: one bot, one flood budget.
    assert len(emu.calls("getMe")) == 1

    first.proc.send_signal(signal.SIGKILL)
    await first.proc.wait()
    killed_at = asyncio.get_running_loop().time()
    await queue_text(db, wang.id, "发给王芳的第二条", clock)
    await until(
        lambda: any("第二条" in m.content for m in emu.sent_to(wang)),
        30,
        "the standby did not take over and send within 30 s",
    )
    assert asyncio.get_running_loop().time() - killed_at < 30
    assert second.said("taking over")
    li = emu.user("李明")
    await li.start()  # the standby now polls and answers
    await until(lambda: bool(emu.sent_to(li)), 15, "the new active process does not poll")
    await emu.settle(quiet=1.5, timeout=10)
    texts = [m.content for m in emu.sent_to(wang)]
    assert sum("第一条" in t for t in texts) == 1
    assert sum("第二条" in t for t in texts) == 1
    assert len(emu.calls("getMe")) == 2

    second.proc.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(second.proc.wait(), 30) == 0


async def test_a_standby_stops_on_sigterm_while_waiting(
    emu: Emulator, db: Database, tmp_path: Path, processes: list[Running]
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("a standby needs PostgreSQL: on SQLite one process owns the database file")
    config = write_config(tmp_path / "c.toml", emu, db.url, "[ha]\nretry_seconds = 1\n")
    active = Running(await start_process(config))
    processes.append(active)
    await until(lambda: bool(emu.calls("getUpdates")), 30, "the first process never polled")
    standby = Running(await start_process(config))
    processes.append(standby)
    await until(lambda: standby.said(WAITING), 30, "the second process did not wait")
    standby.proc.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(standby.proc.wait(), 10) == 0
    assert not any("Traceback" in line for line in standby.lines)
    assert len(emu.calls("getMe")) == 1


async def test_the_active_process_stops_when_its_lock_connection_is_lost(
    emu: Emulator, db: Database, tmp_path: Path, processes: list[Running]
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("a standby needs PostgreSQL: on SQLite one process owns the database file")
    config = write_config(tmp_path / "c.toml", emu, db.url, "[ha]\nretry_seconds = 1\n")
    active = Running(await start_process(config))
    processes.append(active)
    await until(lambda: bool(emu.calls("getUpdates")), 30, "the process never polled")
    async with db.engine.connect() as conn:
        ended = await conn.exec_driver_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'zhibu-active-lock' AND datname = current_database()"
        )
        assert ended.scalar() is True
    # Another process may take the lock from now on: this one stops talking to Telegram.
    assert await asyncio.wait_for(active.proc.wait(), 20) == 1
    assert active.said("lost the database connection holding the active lock")
    assert not any("Traceback" in line for line in active.lines)
