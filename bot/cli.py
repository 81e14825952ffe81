"""The `zhibu` command line: run the bot, migrate the database, check the config."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlparse

from bot import __version__
from bot.cli_db import ACTIONS as BACKUP_ACTIONS
from bot.cli_db import add_backup_parsers, backup_command
from bot.cli_jobs import add_jobs_parser, jobs_command
from bot.cli_members import add_members_parser, members_command
from bot.cli_org import add_org_parser, org_command
from bot.config import CONFIG_ENV, TOKEN_ENV, Config, ConfigError, load_config
from bot.logs import setup_logging
from bot.standby import Leadership, run_as_active
from storage import migrate
from storage.db import Database, DatabaseUnavailable

EXIT_CONFIG = 2
log = logging.getLogger("zhibu")


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        type=Path,
        default=argparse.SUPPRESS,
        help=f"path to config.toml (default: env {CONFIG_ENV}, else built-in defaults)",
    )
    parser = argparse.ArgumentParser(
        prog="zhibu",
        description="支部助手 zhibu — Telegram bot for party-branch work.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"zhibu {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    sub.add_parser(
        "run",
        parents=[common],
        help="start the bot (polling or webhook, as configured)",
        description=f"Start the bot. The token comes from the config or env {TOKEN_ENV}. "
        "The database is migrated first unless database.migrate_on_start is false. "
        "SIGINT/SIGTERM finish the update in hand, then stop.",
    )
    sub.add_parser(
        "check-config",
        parents=[common],
        help="validate the config and reach the database, then exit",
        description="Validate the config file and check that the database answers. "
        "Exit status 0 when all is well, 2 with one line naming the problem otherwise.",
    )
    db = sub.add_parser("db", help="database maintenance", description="Database maintenance.")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_sub.add_parser(
        "upgrade",
        parents=[common],
        help="apply all pending schema migrations",
        description="Apply all pending schema migrations (safe to run repeatedly).",
    )
    add_org_parser(sub, parents=[common])
    add_members_parser(sub, parents=[common])
    add_jobs_parser(sub, parents=[common])
    db_sub.add_parser(
        "current",
        parents=[common],
        help="show the schema revision of the database",
        description="Show the database's schema revision and the newest one this version ships.",
    )
    add_backup_parsers(db_sub, parents=[common])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `zhibu` console script and `python -m bot`."""
    args = _parser().parse_args(argv)
    try:
        cfg = load_config(getattr(args, "config", None))
    except ConfigError as exc:
        print(f"zhibu: config error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    setup_logging(cfg.logging.level, cfg.telegram.token)
    try:
        if args.command == "check-config":
            asyncio.run(_check_database(cfg, migrate_now=False))
            print(f"zhibu: config OK ({cfg.source or 'defaults'}); database reachable")
            return 0
        if args.command == "db" and args.db_command in BACKUP_ACTIONS:
            return asyncio.run(backup_command(cfg, args))
        if args.command == "db":
            return asyncio.run(_db_command(cfg, args.db_command))
        if args.command == "org":
            return asyncio.run(org_command(cfg, args))
        if args.command == "members":
            return asyncio.run(members_command(cfg, args))
        if args.command == "jobs":
            return asyncio.run(jobs_command(cfg, args))
        return _run(cfg)
    except ConfigError as exc:
        print(f"zhibu: config error: {exc}", file=sys.stderr)
        return EXIT_CONFIG


async def _check_database(cfg: Config, *, migrate_now: bool) -> None:
    """Reach the database (and migrate it when asked); ConfigError names database.url if not."""
    db = Database(cfg.database.url)
    try:
        try:
            await db.ping()
        except DatabaseUnavailable as exc:
            raise ConfigError("database.url", f"cannot reach the database ({exc})") from None
        if migrate_now:
            await migrate.upgrade(db)
            return
        current, head = await migrate.current_revision(db), migrate.head_revision()
        if current != head:
            log.warning("database schema is at %s, this version needs %s", current, head)
    finally:
        await db.dispose()


async def _db_command(cfg: Config, action: str) -> int:
    db = Database(cfg.database.url)
    try:
        try:
            await db.ping()
        except DatabaseUnavailable as exc:
            raise ConfigError("database.url", f"cannot reach the database ({exc})") from None
        if action == "upgrade":
            before = await migrate.current_revision(db)
            await migrate.upgrade(db)
            after = await migrate.current_revision(db)
            print(f"zhibu: database upgraded {before or 'empty'} → {after}")
        else:
            current = await migrate.current_revision(db)
            print(f"database: {current or 'empty'}; newest: {migrate.head_revision()}")
        return 0
    finally:
        await db.dispose()


def _run(cfg: Config) -> int:
    # On PostgreSQL a second `zhibu run` waits here as a standby (bot/standby.py).
    return run_as_active(cfg, lambda lead: _serve(cfg, lead))


def _serve(cfg: Config, lead: Leadership | None) -> int:
    from telegram.error import InvalidToken, NetworkError

    from bot.app import ALLOWED_UPDATES, build_application

    asyncio.run(_check_database(cfg, migrate_now=cfg.database.migrate_on_start))
    app = build_application(cfg)
    if lead is not None:
        lead.guard(app)  # stops the bot if the active lock's connection is lost
    log.info("starting in %s mode", cfg.telegram.mode)
    if cfg.telegram.mode == "webhook":
        hook = cfg.telegram.webhook
        app.run_webhook(
            listen=hook.listen,
            port=hook.port,
            url_path=urlparse(hook.url).path.lstrip("/"),
            webhook_url=hook.url,
            secret_token=hook.secret_token or None,
            allowed_updates=ALLOWED_UPDATES,
        )
    else:
        try:
            app.run_polling(allowed_updates=ALLOWED_UPDATES)
        except InvalidToken:
            raise ConfigError("telegram.token", "Telegram rejected the token") from None
        except NetworkError as exc:
            raise ConfigError(
                "telegram.base_url", f"cannot reach the Bot API ({exc.message})"
            ) from None
    return 0
