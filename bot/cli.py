"""The `zhibu` command line: write a config, run the bot, migrate the database, check it all.

Each command is one small function in COMMANDS; only `run` and `check-config` (without
--offline) talk to Telegram and so need the token.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from alembic.util import CommandError

from bot import __version__
from bot.cli_db import ACTIONS as BACKUP_ACTIONS
from bot.cli_db import add_backup_parsers, backup_command
from bot.cli_init import add_init_parser, init_command
from bot.cli_jobs import add_jobs_parser, jobs_command, usage_problem
from bot.cli_members import add_members_parser, members_command
from bot.cli_org import add_org_parser, org_command
from bot.config import CONFIG_ENV, TOKEN_ENV, Config, ConfigError, load_config
from bot.logs import setup_logging
from bot.startup import StartupError, prepare_database, reach, schema_problem
from storage import migrate
from storage.db import Database

if TYPE_CHECKING:
    from bot.standby import Leadership

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
    add_init_parser(sub)
    sub.add_parser(
        "run",
        parents=[common],
        help="start the bot (polling or webhook, as configured)",
        description=f"Start the bot. The token comes from the config or env {TOKEN_ENV}. "
        "The database is migrated first unless database.migrate_on_start is false. "
        "SIGINT/SIGTERM finish the update in hand, then stop.",
    )
    check = sub.add_parser(
        "check-config",
        parents=[common],
        help="validate the config, the database and the token, then exit",
        description="Validate the config file, check that the database answers and has this "
        "version's schema, and ask Telegram who the bot is (getMe). "
        "Exit status 0 when all is well, 2 with one line naming the problem otherwise.",
    )
    check.add_argument(
        "--offline",
        action="store_true",
        help="do not talk to Telegram (no token needed)",
    )
    db = sub.add_parser("db", help="database maintenance", description="Database maintenance.")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_sub.add_parser(
        "upgrade",
        parents=[common],
        help="apply all pending schema migrations",
        description="Apply all pending schema migrations (safe to run repeatedly).",
    )
    add_backup_parsers(db_sub, parents=[common])
    add_org_parser(sub, parents=[common])
    add_members_parser(sub, parents=[common])
    add_jobs_parser(sub, parents=[common])
    db_sub.add_parser(
        "current",
        parents=[common],
        help="show the schema revision of the database",
        description="Show the database's schema revision and the newest one this version ships.",
    )
    return parser


def _needs_token(args: argparse.Namespace) -> bool:
    """Only the commands that talk to Telegram need its token."""
    return args.command == "run" or (args.command == "check-config" and not args.offline)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `zhibu` console script and `python -m bot`."""
    args = _parser().parse_args(argv)
    if args.command == "init":  # writes the config: there is none to read yet
        return init_command(args)
    try:
        cfg = load_config(getattr(args, "config", None), need_token=_needs_token(args))
    except ConfigError as exc:
        print(f"zhibu: config error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    setup_logging(cfg.logging.level, cfg.telegram.token)
    try:
        return COMMANDS[args.command](cfg, args)
    except ConfigError as exc:
        print(f"zhibu: config error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except StartupError as exc:
        print(f"zhibu: {exc}", file=sys.stderr)
        return EXIT_CONFIG


def _run_command(cfg: Config, args: argparse.Namespace) -> int:
    """`zhibu run`: the bot until SIGINT/SIGTERM (on PostgreSQL, a second one waits as a
    standby until the active one's lock is free: bot/standby.py)."""
    # Imported when used, as the bot's handlers are (see jobs_command): PTB and aiohttp are
    # half a second that `zhibu org`, `members` and `db` do without.
    from bot.standby import run_as_active

    return run_as_active(cfg, lambda lead: _serve(cfg, lead))


def _serve(cfg: Config, lead: Leadership | None) -> int:
    from bot.serve import serve

    asyncio.run(serve(cfg, lead))
    return 0


def _check_config_command(cfg: Config, args: argparse.Namespace) -> int:
    """`zhibu check-config [--offline]`: config, database and schema, then Telegram."""
    bot = asyncio.run(_check(cfg, offline=args.offline))
    where = cfg.source or "defaults"
    telegram = "Telegram not asked (--offline)" if bot is None else f"Telegram: {bot}"
    print(f"zhibu: config OK ({where}); database ready; {telegram}")
    return 0


async def _check(cfg: Config, *, offline: bool) -> str | None:
    db = Database(cfg.database.url)
    try:
        await reach(db)
        problem = await schema_problem(db)
        if problem is not None:
            raise StartupError(problem)
    finally:
        await db.dispose()
    if offline:
        return None
    from bot.serve import check_telegram

    return await check_telegram(cfg)


def _db_command(cfg: Config, args: argparse.Namespace) -> int:
    """`zhibu db upgrade|current|backup|restore`: the schema and its data, with or without a
    token."""
    if args.db_command in BACKUP_ACTIONS:
        return asyncio.run(backup_command(cfg, args))
    return asyncio.run(_db_action(cfg, args.db_command))


async def _db_action(cfg: Config, action: str) -> int:
    db = Database(cfg.database.url)
    try:
        await reach(db)
        if action == "upgrade":
            before = await migrate.current_revision(db)
            try:
                await migrate.upgrade(db)
            except CommandError as exc:  # e.g. a revision only a newer zhibu knows
                raise StartupError(f"cannot upgrade the database: {exc}") from None
            after = await migrate.current_revision(db)
            print(f"zhibu: database upgraded {before or 'empty'} → {after}")
        else:
            current = await migrate.current_revision(db)
            print(f"database: {current or 'empty'}; newest: {migrate.head_revision()}")
        return 0
    finally:
        await db.dispose()


def _with_schema(
    command: Callable[[Config, argparse.Namespace], Awaitable[int]],
) -> Callable[[Config, argparse.Namespace], int]:
    """A database command that first makes sure the schema is this version's (or says how)."""

    def run(cfg: Config, args: argparse.Namespace) -> int:
        async def both() -> int:
            await prepare_database(cfg, migrate_now=cfg.database.migrate_on_start)
            return await command(cfg, args)

        return asyncio.run(both())

    return run


def _jobs_command(cfg: Config, args: argparse.Namespace) -> int:
    """`zhibu jobs`: a wrong job name or time is said before the database is touched."""
    problem = usage_problem(cfg, args)
    if problem is not None:
        print(problem, file=sys.stderr)
        return EXIT_CONFIG
    return _with_schema(jobs_command)(cfg, args)


COMMANDS: dict[str, Callable[[Config, argparse.Namespace], int]] = {
    "run": _run_command,
    "check-config": _check_config_command,
    "db": _db_command,
    "org": _with_schema(org_command),
    "members": _with_schema(members_command),
    "jobs": _jobs_command,
}
