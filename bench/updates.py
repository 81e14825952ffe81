"""End-to-end update throughput: zhibu answering /help vs a bare PTB echo bot, same emulator.

Both bots poll the same strict emulator over real HTTP and answer every update with one
message; the figure is zhibu's updates/s as a fraction of the echo bot's. Flood limits and
the rate limiter are off for both, so the numbers measure our own per-update cost (user
lookup in the database, catalog rendering, per-chat ordering), not Telegram's ceiling.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters

from bot.app import ALLOWED_UPDATES, build_application, build_deps
from bot.config import parse_config
from bot.processor import PerChatUpdateProcessor
from storage import migrate
from storage.db import Database
from tests.emulator import Emulator


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(update.effective_message.text or "")


async def _drive(emu: Emulator, app: Application, n_users: int, per_user: int, label: str) -> float:  # type: ignore[type-arg]
    users = [emu.user(f"{label}{i}", language_code="zh-hans") for i in range(n_users)]
    await app.initialize()
    assert app.updater is not None
    await app.updater.start_polling(allowed_updates=ALLOWED_UPDATES, poll_interval=0, timeout=5)
    await app.start()
    try:
        # Warm-up: each user starts the bot once (first contact writes the user row).
        for u in users:
            await u.start()
        await emu.wait_for(lambda: all(emu.sent_to(u) for u in users), timeout=120)
        baseline = {u.id: len(emu.sent_to(u)) for u in users}
        total = n_users * per_user
        started = time.perf_counter()
        for _ in range(per_user):
            for u in users:
                await u.send("/help")
        await emu.wait_for(
            lambda: sum(len(emu.sent_to(u)) - baseline[u.id] for u in users) >= total,
            timeout=600,
        )
        return total / (time.perf_counter() - started)
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


async def run(*, quick: bool = False) -> None:
    """Print updates/s for zhibu and for the echo bot, and their ratio (median of rounds)."""
    n_users, per_user, rounds = (20, 5, 1) if quick else (100, 10, 3)
    zhibu_rates: list[float] = []
    echo_rates: list[float] = []
    for round_ in range(rounds):
        with tempfile.TemporaryDirectory() as tmp:
            emu = Emulator()
            await emu.start()
            try:
                url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}"
                db = Database(url)
                await migrate.upgrade(db)
                cfg = parse_config(
                    {
                        "telegram": {"token": emu.token, "base_url": emu.base_url},
                        "database": {"url": url},
                    },
                    config_dir=Path(tmp),
                    env={},
                )
                app = build_application(
                    cfg,
                    deps=build_deps(cfg, db=db),
                    processor=PerChatUpdateProcessor(),
                    rate_limiter=False,
                )
                zhibu_rates.append(await _drive(emu, app, n_users, per_user, f"z{round_}-"))
                await db.dispose()
                echo = (
                    ApplicationBuilder()
                    .token(emu.token)
                    .base_url(emu.base_url)
                    .concurrent_updates(True)
                    .build()
                )
                echo.add_handler(MessageHandler(filters.TEXT, _echo))
                echo_rates.append(await _drive(emu, echo, n_users, per_user, f"e{round_}-"))
            finally:
                await emu.stop()
    z, e = statistics.median(zhibu_rates), statistics.median(echo_rates)
    print(
        f"updates: {n_users * per_user} /help updates from {n_users} users, {rounds} round(s)\n"
        f"  zhibu   {z:8.1f} updates/s  (rounds: {', '.join(f'{r:.1f}' for r in zhibu_rates)})\n"
        f"  echo    {e:8.1f} updates/s  (rounds: {', '.join(f'{r:.1f}' for r in echo_rates)})\n"
        f"  ratio   {z / e:8.2f}  (zhibu / bare PTB echo, same emulator)"
    )
