"""One active `zhibu run` per PostgreSQL database; any other waits as a standby and takes over.

The active process holds a session-level advisory lock on a connection of its own. The
server releases it when that connection ends, however the process ended (kill -9, a
crash, a machine switched off once TCP keepalives notice). A standby asks for the lock
every few seconds and starts the bot once it has it; only then does it talk to Telegram.
The active process checks its lock connection as often and stops the bot if it is gone,
since a standby may take the lock from then on.

SQLite needs none of this: one process owns the file.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future
from types import FrameType
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url
from telegram.ext import Application

from bot.config import Config, ConfigError
from storage.db import PG_CONNECT_TIMEOUT_SECONDS, unreachable_reason

log = logging.getLogger("zhibu")

EXIT_LOST = 1
LOCK_KEY = 0x7A686962  # "zhib": advisory locks are per database, so one key is enough
# The server notices a lock holder that vanished without closing its connection (a
# machine switched off, a cable pulled) after idle + interval * count = 25 s.
_KEEPALIVE = {"tcp_keepalives_idle": "10", "tcp_keepalives_interval": "5",
              "tcp_keepalives_count": "3", "application_name": "zhibu-active-lock"}  # fmt: skip


class Leadership:
    """The advisory lock and the connection holding it, kept on a thread of their own so it
    outlives the event loops the CLI and the bot run one after the other."""

    def __init__(self, url: str, *, retry_seconds: float) -> None:
        self.dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.retry_seconds = retry_seconds
        self.lost = False
        self._conn: Any = None
        self._watching: Future[None] | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="zhibu-lock")
        self._thread.daemon = True
        self._thread.start()

    def wait_until_active(self) -> bool:
        """Block until this process holds the lock (True), or SIGTERM/SIGINT came first."""
        stop = threading.Event()

        def _stop(_sig: int, _frame: FrameType | None) -> None:
            stop.set()

        before = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        acquired: Future[bool] = asyncio.run_coroutine_threadsafe(self._acquire(), self._loop)
        try:
            while not acquired.done():
                if stop.wait(0.2):
                    acquired.cancel()
                    log.info("standby: stopped before taking over")
                    return False
            return acquired.result()
        finally:
            for sig, handler in before.items():
                signal.signal(sig, handler)

    def guard(self, app: Application, stop: Callable[[], object]) -> None:  # type: ignore[type-arg]
        """Stop the bot (gracefully, through `stop` on its loop) if the lock's connection is
        lost while it runs."""
        inner_init = app.post_init

        async def post_init(application: Application) -> None:  # type: ignore[type-arg]
            loop = asyncio.get_running_loop()
            self._watching = asyncio.run_coroutine_threadsafe(
                self._watch(lambda: loop.call_soon_threadsafe(stop)), self._loop
            )
            if inner_init is not None:
                await inner_init(application)

        app.post_init = post_init

    def release(self) -> None:
        """Close the lock's connection (the standby takes over) and its thread."""

        async def _close() -> None:
            if self._watching is not None:
                self._watching.cancel()  # the bot has stopped: nothing left to guard
            if self._conn is not None and not self._conn.is_closed():
                await self._conn.close(timeout=5)

        try:
            asyncio.run_coroutine_threadsafe(_close(), self._loop).result(timeout=10)
        except Exception:
            log.warning("could not close the lock connection cleanly", exc_info=True)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    async def _connect(self) -> Any:
        return await asyncpg.connect(
            self.dsn, timeout=PG_CONNECT_TIMEOUT_SECONDS, server_settings=_KEEPALIVE
        )

    async def _acquire(self) -> bool:
        said_waiting = said_unreachable = False
        first = True
        while True:
            try:
                if self._conn is None or self._conn.is_closed():
                    self._conn = await self._connect()
                if await self._conn.fetchval("SELECT pg_try_advisory_lock($1)", LOCK_KEY):
                    if said_waiting:
                        log.info("standby: the active process is gone; taking over")
                    return True
                if not said_waiting:
                    log.info("standby: waiting for the active process")
                    said_waiting = True
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                if first:
                    raise ConfigError(
                        "database.url", f"cannot reach the database ({unreachable_reason(exc)})"
                    ) from None
                if not said_unreachable:
                    log.warning("standby: database unreachable (%s); trying again", _one_line(exc))
                    said_unreachable = True
                await self._drop()
            first = False
            await asyncio.sleep(self.retry_seconds)

    async def _watch(self, on_lost: Callable[[], object]) -> None:
        while True:
            await asyncio.sleep(self.retry_seconds)
            try:
                await self._conn.fetchval("SELECT 1", timeout=self.retry_seconds)
            except Exception as exc:  # noqa: BLE001 - any failure means the lock may be gone
                self.lost = True
                log.error(
                    "lost the database connection holding the active lock (%s); stopping so "
                    "that the standby can take over",
                    _one_line(exc),
                )
                await self._drop()
                on_lost()
                return

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.terminate()


def leadership(cfg: Config) -> Leadership | None:
    """The lock to take before running, or None where there is none (SQLite, or disabled)."""
    if not cfg.ha.enabled or make_url(cfg.database.url).get_backend_name() != "postgresql":
        return None
    return Leadership(cfg.database.url, retry_seconds=cfg.ha.retry_seconds)


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"


def run_as_active(cfg: Config, serve: Callable[[Leadership | None], int]) -> int:
    """Wait as a standby until this process may be the active one, then run the bot; exit
    status 1 if the lock was lost while running (systemd restarts it, as a standby)."""
    lead = leadership(cfg)
    if lead is None:
        return serve(None)
    try:
        if not lead.wait_until_active():
            return 0
        code = serve(lead)
    finally:
        lead.release()
    if lead.lost:
        print(
            "zhibu: lost the database connection holding the active lock; stopped", file=sys.stderr
        )
        return EXIT_LOST
    return code
