"""Update throughput: zhibu answering /help beside a bare PTB echo bot and a do-nothing bot.

Three bots poll one strict emulator over real HTTP, one after another, in alternating order:

- **nothing**: a PTB Application with no handler at all. It fetches updates (getUpdates) and
  does nothing else; it shows how fast the emulator hands out updates, which must be well
  above the other two, or the figure would measure the emulator.
- **echo**: bare python-telegram-bot (its default HTTP client and processor, 256 at a time)
  answering every message with its own text: one sendMessage per update.
- **zhibu**: the real bot (`build_application`: middleware, per-person limit, flood gate,
  per-chat processor, aiohttp, the catalog) answering /help, on a fresh database.

Two loads of 1,000 `/help`, queued at once: (a) from 100 returning people (each already
said /start, so the bot knows them), ten each; (b) from 1,000 people the bot has never seen.
The emulator runs in a process of its own, with its flood model off, and the bot's flood
gate and per-person limit are set far above the load: only CPU counts. Each run reports
updates/s (emulator's clock: from queueing to the last reply, or to the last update
fetched for the do-nothing bot), the bot process's CPU per update, and the emulator
process's CPU share (below 1.0: it was not what held the bot back). Figures are medians
of the rounds; ratios compare bots of the same run, never runs of different days.

`ZHIBU_BENCH_ROUNDS` sets the rounds (5), `ZHIBU_BENCH_BOTS` and `ZHIBU_BENCH_LOADS` (comma
separated) narrow a run; `ZHIBU_BENCH_PG_URL` adds zhibu on PostgreSQL;
`ZHIBU_BENCH_PYSPY=/path/to/py-spy` samples zhibu's process during each burst and prints
its CPU per update by layer (from `py-spy record --format raw`).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters

from bench.city import backends, scratch_database
from bot.app import ALLOWED_UPDATES, build_application, build_deps
from bot.config import parse_config
from bot.flood import FloodGate, FloodLimits
from bot.http import AiohttpRequest

LOADS = {"a": (100, 10, "returning"), "b": (1000, 1, "new")}
BOTS = ("nothing", "echo", "echo-aio", "zhibu")
FAR_ABOVE = 1_000_000  # a budget no run comes near


# ---------------------------------------------------------------- the emulator process


async def _telegram(conn: Connection) -> None:
    from tests.emulator import Emulator  # only this process needs the emulator

    loop = asyncio.get_running_loop()
    emu = Emulator(flood_limits=False)
    await emu.start()
    conn.send({"token": emu.token, "base_url": emu.base_url})
    try:
        while True:
            command, arg = await loop.run_in_executor(None, conn.recv)
            if command == "stop":
                conn.send({"violations": emu.take_violations()})
                return
            try:
                conn.send(await _serve(emu, command, arg))
            except Exception as exc:  # tell the bot's side instead of leaving it waiting
                conn.send({"error": f"{command}: {exc!r}"})
                raise
    finally:
        await emu.stop()


async def _serve(emu: Any, command: str, arg: Any) -> Any:
    if command == "users":
        prefix, n = arg
        return [emu.user(f"{prefix}{i}", language_code="zh-hans").id for i in range(n)]
    if command == "warm":  # each says /start and is answered (or fetched, by "nothing")
        ids, replies = arg
        await _burst(emu, ids, 1, replies, "/start")
        return "warm"
    if command == "burst":
        ids, per_user, replies = arg
        return await _burst(emu, ids, per_user, replies, "/help")
    raise ValueError(command)


async def _burst(emu: Any, ids: list[int], per_user: int, replies: bool, text: str) -> Any:
    """Queue every message at once; wait for as many replies (or fetched updates)."""
    loop = asyncio.get_running_loop()
    users = [emu.users[i] for i in ids]
    total = len(users) * per_user
    first = len(emu.requests)
    fetched = emu.delivered_count() + len(emu.pending_updates())
    cpu, started = time.process_time(), loop.time()
    for _ in range(per_user):
        for user in users:
            await user.send(text)  # nothing awaited inside: the bot sees them all at once
    seen = first
    done: list[float] = []

    def finished() -> bool:
        nonlocal seen
        if not replies:
            return bool(emu.delivered_count() >= fetched + total)
        records = emu.requests
        while seen < len(records) and records[seen].status != 0:
            r = records[seen]
            if r.method == "sendMessage" and r.status == 200:
                done.append(r.finished)
            seen += 1
        return len(done) >= total

    await emu.wait_for(finished, timeout=600, what=f"{total} answers")
    ended = max(done) if replies else loop.time()
    wall = ended - started
    return {"seconds": wall, "emu_cpu": (time.process_time() - cpu) / wall}


def _telegram_process(conn: Connection) -> None:
    asyncio.run(_telegram(conn))


# ---------------------------------------------------------------- the bots


async def _echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(update.effective_message.text or "")


@asynccontextmanager
async def _running(app: Application) -> AsyncIterator[None]:  # type: ignore[type-arg]
    """Polling as `zhibu run` polls (post_init and post_stop included)."""
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    assert app.updater is not None
    await app.updater.start_polling(allowed_updates=ALLOWED_UPDATES, poll_interval=0, timeout=5)
    await app.start()
    try:
        yield
    finally:
        await app.updater.stop()
        await app.stop()
        if app.post_stop is not None:
            await app.post_stop(app)
        await app.shutdown()


def _bare(world: dict[str, Any], bot: str) -> Application:  # type: ignore[type-arg]
    builder = (
        ApplicationBuilder()
        .token(world["token"])
        .base_url(world["base_url"])
        .concurrent_updates(True)
    )
    if bot == "echo-aio":  # zhibu's HTTP client: what is left is the per-update work
        builder = builder.request(AiohttpRequest()).get_updates_request(
            AiohttpRequest(connection_pool_size=1)
        )
    app = builder.build()
    if bot != "nothing":
        app.add_handler(MessageHandler(filters.TEXT, _echo))
    return app


def _zhibu(world: dict[str, Any], url: str, db: Any) -> Application:  # type: ignore[type-arg]
    cfg = parse_config(
        {
            "telegram": {"token": world["token"], "base_url": world["base_url"]},
            "database": {"url": url},
            # The per-person limit stays on (its cost counts), far above ten updates each.
            "limits": {"user_updates_per_second": 1000, "user_burst": 10000},
        },
        config_dir=Path(tempfile.gettempdir()),
        env={},
    )
    app = build_application(cfg, deps=build_deps(cfg, db=db))
    gate = app.bot.rate_limiter
    assert isinstance(gate, FloodGate)
    # The gate stays in the path (its cost counts) with budgets no run comes near.
    gate.limits = FloodLimits(
        overall_per_second=FAR_ABOVE,
        group_per_minute=FAR_ABOVE,
        private_per_second=FAR_ABOVE,
        private_burst=FAR_ABOVE,
    )
    return app


# ---------------------------------------------------------------- layers (py-spy)

# (layer, path fragments of a frame's file), first match wins, looked up from the leaf up;
# a frame of the standard library or of a general library is charged to the nearest caller
# that belongs to a layer (json.dumps in a request is HTTP, re.match in a filter is PTB).
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("middleware", ("handlers/middleware.py", "services/users.py", "services/throttle.py",
                    "services/activity.py")),
    ("processor+gate", ("bot/processor.py", "bot/flood.py")),
    ("catalog", ("ui/i18n.py", "/babel/", "handlers/commands.py")),
    ("handler", ("handlers/", "services/", "domain/", "ui/")),
    ("database", ("/sqlalchemy/", "/aiosqlite/", "/asyncpg/", "storage/", "sqlite3")),
    ("HTTP", ("/aiohttp/", "bot/http.py", "/httpx/", "/httpcore/", "/yarl/", "/multidict/",
              "/telegram/request/", "/h11/", "/anyio/")),
    ("PTB objects", ("/telegram/_", "/telegram/_utils/")),
    ("PTB dispatch", ("/telegram/ext/",)),
)  # fmt: skip
EVENT_LOOP = "event loop"


def _layer_of(stack: list[str]) -> str:
    for frame in reversed(stack):
        for layer, parts in LAYERS:
            if any(p in frame for p in parts):
                return layer
    return EVENT_LOOP if any("asyncio" in f for f in stack) else "other"


@dataclass
class Samples:
    """py-spy samples by layer, summed over runs."""

    by_layer: Counter[str] = field(default_factory=Counter)
    rate: int = 0

    def add(self, raw: Path) -> None:
        for line in raw.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if stack and count.isdigit():
                self.by_layer[_layer_of(stack.split(";"))] += int(count)


@asynccontextmanager
async def _sampled(pyspy: str | None, into: Samples, label: str) -> AsyncIterator[None]:
    if pyspy is None:
        yield
        return
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "raw.txt"
        into.rate = 250
        spy = await asyncio.create_subprocess_exec(
            pyspy, "record", "--pid", str(os.getpid()), "--format", "raw", "--output", str(out),
            "--rate", str(into.rate), "--nonblocking", "--full-filenames",
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        await asyncio.sleep(1.0)  # it attaches
        try:
            yield
        finally:
            spy.send_signal(signal.SIGINT)
            await asyncio.wait_for(spy.wait(), 30)
            _collect(out, into, label)


def _collect(out: Path, into: Samples, label: str) -> None:
    if not out.exists():
        return
    into.add(out)
    keep = os.environ.get("ZHIBU_BENCH_PYSPY_RAW")  # a folder for the stacks themselves
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(out, Path(keep) / f"{label}.txt")


# ---------------------------------------------------------------- the runs


@dataclass
class Figures:
    rates: dict[str, list[float]] = field(default_factory=dict)
    cpu_ms: dict[str, list[float]] = field(default_factory=dict)
    emu_cpu: dict[str, list[float]] = field(default_factory=dict)
    layers: dict[str, Samples] = field(default_factory=dict)

    def add(self, bot: str, seconds: float, cpu: float, emu_cpu: float, n: int) -> None:
        self.rates.setdefault(bot, []).append(n / seconds)
        self.cpu_ms.setdefault(bot, []).append(cpu / n * 1000)
        self.emu_cpu.setdefault(bot, []).append(emu_cpu)


async def _one(
    ask: Callable[[str, Any], Any],
    world: dict[str, Any],
    bot: str,
    backend: str,
    load: str,
    label: str,
    out: Figures,
    pyspy: str | None,
) -> None:
    n_users, per_user, kind = LOADS[load]
    replies = bot != "nothing"
    ids = await ask("users", (f"{label}-", n_users))
    warm = await ask("users", (f"{label}-warm-", 10))  # connections open, code paths warm
    async with _app_for(bot, backend, world) as app, _running(app):
        await ask("warm", (warm, replies))
        if kind == "returning":
            await ask("warm", (ids, replies))
        samples = out.layers.setdefault(bot, Samples())
        async with _sampled(pyspy if bot != "nothing" else None, samples, label):
            cpu = time.process_time()
            result = await ask("burst", (ids, per_user, replies))
            cpu = time.process_time() - cpu
    out.add(bot, result["seconds"], cpu, result["emu_cpu"], n_users * per_user)


@asynccontextmanager
async def _app_for(bot: str, backend: str, world: dict[str, Any]) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    if bot != "zhibu":
        yield _bare(world, bot)
        return
    async with scratch_database(backend) as db:
        yield _zhibu(world, db.url, db)


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _report(load: str, backend: str, rounds: int, out: Figures) -> None:
    n_users, per_user, kind = LOADS[load]
    print(
        f"updates ({load}): {n_users * per_user} /help from {n_users} {kind} people, "
        f"zhibu on {backend}, {rounds} round(s), medians"
    )
    for bot in out.rates:
        rounds_ = ", ".join(f"{r:.0f}" for r in out.rates[bot])
        print(
            f"  {bot:8} {_median(out.rates[bot]):7.1f} updates/s  "
            f"cpu {_median(out.cpu_ms[bot]):5.2f} ms/update  "
            f"emulator cpu share {_median(out.emu_cpu[bot]):4.2f}  (rounds: {rounds_})"
        )
    zhibu = out.rates.get("zhibu")
    for base in ("echo", "echo-aio"):
        echo = out.rates.get(base)
        if not (echo and zhibu):
            continue
        paired = ", ".join(f"{z / e:.2f}" for z, e in zip(zhibu, echo, strict=False))
        cpu = _median(out.cpu_ms[base]) / _median(out.cpu_ms["zhibu"])
        print(
            f"  ratio zhibu / {base:8} {_median(zhibu) / _median(echo):5.2f} updates/s "
            f"(per round: {paired}); {cpu:.2f} by CPU per update"
        )
    nothing = out.rates.get("nothing")
    others = [_median(out.rates[b]) for b in out.rates if b != "nothing"]
    if nothing and others:
        faster = _median(nothing) > max(others)
        print(f"  do-nothing bot faster than every other: {'yes' if faster else 'NO'}")
    for bot, samples in out.layers.items():
        total = sum(samples.by_layer.values())
        if not total:
            continue
        # Shares of the samples, applied to the CPU time measured (py-spy's own idea of
        # "busy" counts some waiting threads; the process's CPU time does not).
        cpu = _median(out.cpu_ms[bot])
        shares = ", ".join(
            f"{layer} {count / total * cpu:.2f}" for layer, count in samples.by_layer.most_common()
        )
        print(f"  {bot:8} cpu ms/update by layer (py-spy shares): {shares}")


async def run(*, quick: bool = False) -> None:
    """Print updates/s and CPU per update of the three bots for loads (a) and (b)."""
    rounds = 1 if quick else int(os.environ.get("ZHIBU_BENCH_ROUNDS", "5"))
    pyspy = os.environ.get("ZHIBU_BENCH_PYSPY") or None
    loop = asyncio.get_running_loop()
    context = multiprocessing.get_context("spawn")
    conn, child_conn = context.Pipe()
    telegram = context.Process(target=_telegram_process, args=(child_conn,), daemon=True)
    telegram.start()

    def receive() -> Any:
        while not conn.poll(0.5):
            if not telegram.is_alive():
                raise RuntimeError("the emulator process died")
        answer = conn.recv()
        if isinstance(answer, dict) and "error" in answer:
            raise RuntimeError(f"emulator process: {answer['error']}")
        return answer

    async def ask(command: str, arg: Any = None) -> Any:
        conn.send((command, arg))
        return await loop.run_in_executor(None, receive)

    try:
        world = await loop.run_in_executor(None, receive)
        bots = tuple(os.environ.get("ZHIBU_BENCH_BOTS", ",".join(BOTS)).split(","))
        for backend in backends():
            for load in os.environ.get("ZHIBU_BENCH_LOADS", ",".join(LOADS)).split(","):
                out = Figures()
                for round_ in range(rounds):
                    turn = round_ % len(bots)
                    order = bots[turn:] + bots[:turn]  # alternate who goes first
                    for bot in order:
                        label = f"{backend[0]}{load}{round_}{bot[0]}"
                        await _one(ask, world, bot, backend, load, label, out, pyspy)
                _report(load, backend, rounds, out)
        violations = (await ask("stop"))["violations"]
        if violations:
            print(f"  emulator violations: {len(violations)}: {violations[:3]}")
    finally:
        await loop.run_in_executor(None, telegram.join, 10)
        if telegram.is_alive():
            telegram.terminate()
