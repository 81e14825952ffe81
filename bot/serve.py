"""`zhibu run`: start the bot, stop it on SIGINT/SIGTERM, and say in one line why it cannot start.

PTB's `run_polling`/`run_webhook` log a chained traceback for a failed start and close the
loop under tasks still pending; here the whole life of the bot is one `asyncio.run`, each
step that meets the outside world (the database, Telegram, the webhook's port) turns its
failure into a StartupError naming what to change, and a stop signal is honoured in every
state, including while it is still starting.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import signal
import socket
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from telegram import Bot
from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError
from telegram.ext import Application
from telegram.request import BaseRequest, HTTPXRequest

from bot.config import OFFICIAL_BASE_URL, Config
from bot.http import AiohttpRequest
from bot.startup import StartupError, prepare_database

if TYPE_CHECKING:
    from bot.standby import Leadership

log = logging.getLogger("zhibu")


def _unreachable(cfg: Config, exc: NetworkError) -> StartupError:
    host = urlparse(cfg.telegram.base_url).netloc or cfg.telegram.base_url
    if cfg.telegram.proxy:
        hint = "check telegram.proxy, or set telegram.base_url to a self-hosted Bot API server"
    elif cfg.telegram.base_url == OFFICIAL_BASE_URL:
        hint = (
            'where Telegram is blocked, set telegram.proxy (e.g. "socks5://127.0.0.1:1080") '
            "or telegram.base_url to a self-hosted Bot API server"
        )
    else:
        hint = "check telegram.base_url, or set telegram.proxy"
    return StartupError(f"cannot reach the Bot API at {host} ({exc.message}); {hint}")


def telegram_failure(cfg: Config, exc: TelegramError) -> StartupError:
    """The one line an operator reads for a Telegram error met while starting."""
    if isinstance(exc, InvalidToken):
        return StartupError(
            "telegram.token: Telegram rejected the token; copy it again from @BotFather"
        )
    if isinstance(exc, NetworkError) and not isinstance(exc, BadRequest):
        return _unreachable(cfg, exc)
    if isinstance(exc, BadRequest) and cfg.telegram.mode == "webhook":
        return StartupError(f"telegram.webhook.url: Telegram refused the webhook ({exc.message})")
    return StartupError(f"Telegram refused to start the bot ({exc.message})")


def _requests(cfg: Config) -> tuple[BaseRequest, BaseRequest]:
    if cfg.telegram.proxy:  # aiohttp takes no SOCKS proxy; httpx does
        return HTTPXRequest(proxy=cfg.telegram.proxy), HTTPXRequest(proxy=cfg.telegram.proxy)
    return AiohttpRequest(), AiohttpRequest(connection_pool_size=1)


async def check_telegram(cfg: Config) -> str:
    """Ask Telegram who the bot is (getMe): its @username, or StartupError."""
    request, updates = _requests(cfg)
    bot = Bot(
        cfg.telegram.token,
        base_url=cfg.telegram.base_url,
        base_file_url=cfg.telegram.base_file_url,
        request=request,
        get_updates_request=updates,
    )
    try:
        await bot.initialize()
        return f"@{bot.username}"
    except TelegramError as exc:
        raise telegram_failure(cfg, exc) from None
    finally:
        await asyncio.gather(request.shutdown(), updates.shutdown())


def _port_free(listen: str, port: int) -> None:
    """StartupError unless the webhook's port can be bound (checked before telling Telegram)."""
    family = socket.AF_INET6 if ":" in listen else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As the webhook server binds: a port in TIME_WAIT after a restart is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((listen, port))
        except OSError as exc:
            raise _port_problem(listen, port, exc) from None


def _port_problem(listen: str, port: int, exc: OSError) -> StartupError:
    if exc.errno == errno.EADDRINUSE:
        why = "is in use by another program (another zhibu?)"
    elif exc.errno == errno.EACCES:
        why = "needs privileges: use a port above 1023 behind the reverse proxy"
    else:
        why = f"cannot be listened on ({exc.strerror})"
    return StartupError(f"telegram.webhook.port: {listen}:{port} {why}")


async def _start(app: Application, cfg: Config) -> None:  # type: ignore[type-arg]
    """Initialize, start receiving updates, start handling them (PTB's own order)."""
    from bot.app import ALLOWED_UPDATES

    hook = cfg.telegram.webhook
    if cfg.telegram.mode == "webhook":
        _port_free(hook.listen, hook.port)
    try:
        await app.initialize()
        if app.post_init:
            await app.post_init(app)
        assert app.updater is not None
        if cfg.telegram.mode == "webhook":
            try:
                await app.updater.start_webhook(
                    listen=hook.listen,
                    port=hook.port,
                    url_path=urlparse(hook.url).path.lstrip("/"),
                    webhook_url=hook.url,
                    secret_token=hook.secret_token or None,
                    allowed_updates=ALLOWED_UPDATES,
                )
            except OSError as exc:  # taken between the probe and the bind
                raise _port_problem(hook.listen, hook.port, exc) from None
        else:
            await app.updater.start_polling(allowed_updates=ALLOWED_UPDATES)
        await app.start()
    except TelegramError as exc:
        raise telegram_failure(cfg, exc) from None


async def _stop(app: Application) -> None:  # type: ignore[type-arg]
    """Undo whatever part of _start happened, finishing the updates in hand."""
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()  # waits for the updates being handled
        if app.post_stop:
            await app.post_stop(app)
    # A failed initialize leaves the HTTP sessions open and shutdown() would skip them.
    requests: tuple[BaseRequest, ...] = app.bot._request  # no public handle
    await app.shutdown()
    await asyncio.gather(*(request.shutdown() for request in requests))
    if app.post_shutdown:
        await app.post_shutdown(app)


async def serve(cfg: Config, lead: Leadership | None = None) -> None:
    """Run the bot until SIGINT or SIGTERM (or, as the active process of a pair, until its
    lock is lost); StartupError for what the operator must fix."""
    from bot.app import build_application

    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    waiting = asyncio.create_task(stopping.wait())
    try:
        preparing = asyncio.create_task(
            prepare_database(cfg, migrate_now=cfg.database.migrate_on_start)
        )
        if not await _unless_stopped(preparing, waiting):
            return
        app = build_application(cfg)
        if lead is not None:
            lead.guard(app, stopping.set)
        log.info("starting in %s mode", cfg.telegram.mode)
        try:
            if await _unless_stopped(asyncio.create_task(_start(app, cfg)), waiting):
                await waiting
                log.info("stopping: finishing the updates in hand")
        finally:
            await _stop(app)
    finally:
        waiting.cancel()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def _unless_stopped(work: asyncio.Task[None], stop: asyncio.Task[bool]) -> bool:
    """Wait for `work` unless a stop signal comes first (then cancel it): True if it finished."""
    await asyncio.wait({work, stop}, return_when=asyncio.FIRST_COMPLETED)
    if work.done():
        work.result()  # its StartupError, if any
        return True
    work.cancel()
    await asyncio.gather(work, return_exceptions=True)
    log.info("stopped while starting")
    return False
