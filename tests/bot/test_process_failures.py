"""What an operator can get wrong, as they would meet it: `zhibu` as a process, one line on
stderr, exit status 2, never a traceback; and a stop signal honoured in every state."""

from __future__ import annotations

import asyncio
import signal
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage import migrate
from tests.bot.test_process import start_process, write_config, zhibu
from tests.conftest import once
from tests.emulator import Emulator

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def webhook(port: int) -> str:
    return (
        f'mode = "webhook"\n[telegram.webhook]\nurl = "http://127.0.0.1:{port}/zhibu-hook"\n'
        f'listen = "127.0.0.1"\nport = {port}\n'
    )


def the_one_line(code: int, err: str) -> str:
    """The operator's line: exit 2, no traceback, nothing logged as an error, one `zhibu:` line."""
    assert code == 2, err
    assert "Traceback" not in err, err
    assert " ERROR " not in err, err
    assert " WARNING " not in err, err
    lines = [line for line in err.splitlines() if line.startswith("zhibu:")]
    assert len(lines) == 1, err
    assert err.rstrip().endswith(lines[0])
    return lines[0]


@pytest.fixture
async def silent_server() -> AsyncIterator[int]:
    """A TCP port that accepts connections and never says a word (a hung PostgreSQL)."""
    held: list[asyncio.StreamWriter] = []

    async def accept(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        for writer in held:
            writer.close()
        server.close()


@once
async def test_database_commands_need_no_token_and_name_the_missing_upgrade(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.sqlite3'}"
    manual = tmp_path / "manual.toml"
    manual.write_text(f'[database]\nurl = "{url}"\nmigrate_on_start = false\n', encoding="utf-8")
    code, out, err = await zhibu("org", "list", "--config", str(manual))
    assert "zhibu db upgrade" in the_one_line(code, err)
    code, out, err = await zhibu("check-config", "--offline", "--config", str(manual))
    assert "zhibu db upgrade" in the_one_line(code, err)
    assert "OK" not in out

    # With migrate_on_start (the default) the first command brings the schema up to date.
    auto = tmp_path / "auto.toml"
    auto.write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
    code, out, err = await zhibu(
        "org", "create", "--level", "committee", "--kind", "two_new", "--name", "两新工委",
        "--config", str(auto),
    )  # fmt: skip
    assert (code, out.strip()) == (0, "1"), err
    code, out, _ = await zhibu("db", "current", "--config", str(manual))
    assert out.startswith(f"database: {migrate.head_revision()}")
    code, out, err = await zhibu("check-config", "--offline", "--config", str(manual))
    assert code == 0, err
    assert "config OK" in out


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_telegram_unreachable_is_one_line_with_the_proxy_hint(
    tmp_path: Path, database_url: str, mode: str
) -> None:
    nobody = free_port()
    config = tmp_path / "c.toml"
    config.write_text(
        f'[telegram]\ntoken = "123456:TEST-token"\nbase_url = "http://127.0.0.1:{nobody}/bot"\n'
        + (webhook(free_port()) if mode == "webhook" else "")
        + f'\n[database]\nurl = "{database_url}"\n',
        encoding="utf-8",
    )
    code, _, err = await zhibu("run", "--config", str(config))
    line = the_one_line(code, err)
    assert "cannot reach the Bot API" in line
    assert "telegram.proxy" in line


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_a_rejected_token_is_one_line(
    emu: Emulator, tmp_path: Path, database_url: str, mode: str
) -> None:
    config = write_config(
        tmp_path / "c.toml", emu, database_url, webhook(free_port()) if mode == "webhook" else ""
    )
    config.write_text(config.read_text().replace(emu.token, "123456:WRONG-token"))
    code, _, err = await zhibu("run", "--config", str(config))
    emu.take_violations()  # the wrong token is the point
    line = the_one_line(code, err)
    assert "telegram.token" in line
    assert "rejected" in line
    assert "WRONG" not in err


async def test_a_taken_webhook_port_is_one_line(
    emu: Emulator, tmp_path: Path, database_url: str
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = write_config(tmp_path / "c.toml", emu, database_url, webhook(port))
        code, _, err = await zhibu("run", "--config", str(config))
    line = the_one_line(code, err)
    assert f"telegram.webhook.port: 127.0.0.1:{port} is in use" in line
    assert emu.webhook_url is None  # Telegram was not told of a webhook nobody serves


@once
@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_postgresql_refusing_or_silent_is_one_line_within_seconds(
    emu: Emulator, tmp_path: Path, silent_server: int, mode: str
) -> None:
    extra = webhook(free_port()) if mode == "webhook" else ""
    refused = write_config(
        tmp_path / "r.toml", emu, f"postgresql+asyncpg://zhibu@127.0.0.1:{free_port()}/zhibu", extra
    )
    code, _, err = await zhibu("run", "--config", str(refused))
    assert "database.url: cannot reach the database" in the_one_line(code, err)

    silent = write_config(
        tmp_path / "s.toml",
        emu,
        f"postgresql+asyncpg://zhibu@127.0.0.1:{silent_server}/zhibu",
        extra,
    )
    started = time.monotonic()
    code, _, err = await zhibu("run", "--config", str(silent))
    line = the_one_line(code, err)
    assert "no answer within 5 s" in line
    # 5 s of waiting plus the interpreter's start on a loaded machine; asyncpg's own is 60 s.
    assert time.monotonic() - started < 40


async def stop(proc: asyncio.subprocess.Process, within: float) -> tuple[int, str]:
    """SIGTERM, then the exit code and stderr; the stop must take less than `within` s."""
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        code = await asyncio.wait_for(proc.wait(), within)
    finally:
        if proc.returncode is None:
            proc.kill()
    assert time.monotonic() - started < within
    assert proc.stderr is not None
    err = (await proc.stderr.read()).decode()
    assert "Traceback" not in err, err
    assert "Task was destroyed" not in err, err
    assert " ERROR " not in err, err
    assert " WARNING " not in err, err
    return code, err


async def test_sigterm_while_polling_idle_after_the_first_job_tick(
    emu: Emulator, database_url: str, tmp_path: Path
) -> None:
    proc = await start_process(write_config(tmp_path / "c.toml", emu, database_url))
    try:
        await emu.wait_for(lambda: bool(emu.calls("getUpdates")), timeout=60)
        # Not a race: the scheduler's first tick comes 3 s after the start; waiting past it
        # puts the process in the state where a stop used to take 10 s and log tracebacks.
        await asyncio.sleep(4)
        wang = emu.user("王芳")
        await wang.start()
        await emu.wait_for(lambda: bool(emu.sent_to(wang)), timeout=30)
    finally:
        code, err = await stop(proc, within=8)
    assert code == 0
    assert "zhibu stopped" in err


async def test_sigterm_while_starting(emu: Emulator, database_url: str, tmp_path: Path) -> None:
    held = emu.hold("setMyCommands")
    proc = await start_process(write_config(tmp_path / "c.toml", emu, database_url))
    try:
        await held.arrived(timeout=60)
    finally:
        code, err = await stop(proc, within=8)
        held.release()
    assert code == 0
    assert "stopped while starting" in err


async def test_sigterm_in_webhook_mode(emu: Emulator, database_url: str, tmp_path: Path) -> None:
    port = free_port()
    proc = await start_process(write_config(tmp_path / "c.toml", emu, database_url, webhook(port)))
    try:
        await emu.wait_for(lambda: emu.webhook_url is not None, timeout=60)
        wang = emu.user("王芳")
        await wang.start()
        await emu.wait_for(lambda: bool(emu.sent_to(wang)), timeout=30)
    finally:
        code, _ = await stop(proc, within=8)
    assert code == 0
