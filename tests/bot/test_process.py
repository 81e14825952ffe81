"""`zhibu` as an operator runs it: a real process, real signals, exit codes."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import pytest

from services.users import Person, touch_user
from storage import migrate
from storage.db import Database
from tests.conftest import FakeClock, once
from tests.emulator import Emulator

pytestmark = pytest.mark.slow
ROOT = Path(__file__).parents[2]


def write_config(path: Path, emu: Emulator | None, database_url: str, extra: str = "") -> Path:
    token = emu.token if emu else "123456:TEST-token"
    base = emu.base_url if emu else "http://127.0.0.1:9/bot"
    path.write_text(
        f'[telegram]\ntoken = "{token}"\nbase_url = "{base}"\n{extra}\n'
        f'[database]\nurl = "{database_url}"\n',
        encoding="utf-8",
    )
    return path


async def zhibu(*args: str, timeout: float = 60) -> tuple[int, str, str]:
    """Run `python -m bot ARGS` to completion."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={k: v for k, v in os.environ.items() if not k.startswith("ZHIBU_")},
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def start_process(config: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--config",
        str(config),
        cwd=ROOT,
        stderr=asyncio.subprocess.PIPE,
        env={k: v for k, v in os.environ.items() if not k.startswith("ZHIBU_")},
    )


@once
async def test_version_and_help() -> None:
    code, out, _ = await zhibu("--version")
    assert code == 0
    assert out.startswith("zhibu ")
    for args in (
        ["--help"],
        ["run", "--help"],
        ["db", "upgrade", "--help"],
        ["check-config", "--help"],
    ):
        code, out, _ = await zhibu(*args)
        assert code == 0
        assert "usage:" in out


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ('mode = "carrier-pigeon"', "telegram.mode"),
        ("colour = 1", "telegram.colour"),
        ("proxy = 5", "telegram.proxy"),
    ],
)
@once
async def test_bad_config_exits_2_with_one_line_naming_the_key(
    tmp_path: Path, extra: str, key: str
) -> None:
    config = write_config(tmp_path / "c.toml", None, "sqlite+aiosqlite:///x.sqlite3", extra)
    code, out, err = await zhibu("run", "--config", str(config))
    assert code == 2
    assert out == ""
    [line] = err.strip().splitlines()
    assert key in line
    assert "Traceback" not in err


@once
async def test_missing_token_and_unreachable_database_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[bot]\ntimezone = 'Asia/Shanghai'\n", encoding="utf-8")
    code, _, err = await zhibu("check-config", "--config", str(config))
    assert (code, err.count("\n")) == (2, 1)
    assert "telegram.token" in err
    config = write_config(tmp_path / "d.toml", None, "postgresql+asyncpg://nobody@127.0.0.1:9/none")
    code, _, err = await zhibu("check-config", "--config", str(config))
    assert (code, err.count("\n")) == (2, 1)
    assert "database.url" in err


@once
async def test_db_upgrade_and_check_config(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.sqlite3'}"
    config = write_config(tmp_path / "c.toml", None, url)
    code, out, _ = await zhibu("db", "upgrade", "--config", str(config))
    assert code == 0
    assert f"empty → {migrate.head_revision()}" in out
    code, out, _ = await zhibu("db", "current", "--config", str(config))
    assert f"database: {migrate.head_revision()}" in out
    code, out, _ = await zhibu("check-config", "--offline", "--config", str(config))
    assert code == 0
    assert "config OK" in out


async def test_sigterm_in_the_middle_of_an_update_loses_nothing(
    emu: Emulator, database_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    config = write_config(tmp_path / "c.toml", emu, database_url)
    proc = await start_process(config)
    try:
        await emu.wait_for(lambda: any(r.method == "getUpdates" for r in emu.requests), timeout=30)
        wang, li = emu.user("王芳"), emu.user("李明")
        held = emu.hold("sendMessage")
        await wang.start()
        await held.arrived()
        await li.start()  # queued behind, must be handled too
        await emu.wait_delivered(timeout=10)
        proc.send_signal(signal.SIGTERM)
        await asyncio.sleep(0.3)
        held.release()
        code = await asyncio.wait_for(proc.wait(), 30)
    finally:
        if proc.returncode is None:
            proc.kill()
    assert code == 0
    assert "您好" in emu.last_sent(wang).content
    assert "您好" in emu.last_sent(li).content
    assert emu.pending_updates() == []
    db = Database(database_url)
    try:
        for person in (wang, li):
            view = await touch_user(
                db, Person(id=person.id, first_name=person.first_name), clock.now()
            )
            assert view.started
    finally:
        await db.dispose()


async def test_webhook_mode_receives_updates_with_the_secret(
    emu: Emulator, database_url: str, tmp_path: Path
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = write_config(
        tmp_path / "c.toml",
        emu,
        database_url,
        f'mode = "webhook"\n[telegram.webhook]\nurl = "http://127.0.0.1:{port}/zhibu-hook"\n'
        f'listen = "127.0.0.1"\nport = {port}\nsecret_token = "s3cret_-"\n',
    )
    proc = await start_process(config)
    try:
        await emu.wait_for(lambda: emu.webhook_url is not None, timeout=30)
        wang = emu.user("王芳")
        await wang.start()
        await emu.wait_for(lambda: bool(emu.sent_to(wang)), timeout=15)
        assert "您好" in emu.last_sent(wang).content
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
