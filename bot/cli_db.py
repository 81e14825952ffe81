"""`zhibu db backup FILE` and `zhibu db restore FILE`: the database saved and loaded back."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.config import Config
from storage import backup

EXIT_FAILED = 2  # as for a config error: something the operator has to look at
ACTIONS = frozenset({"backup", "restore"})


def add_backup_parsers(db_sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    """The backup and restore actions under `zhibu db`."""
    made = db_sub.add_parser(
        "backup",
        parents=parents,
        help="write a backup of the database to FILE (safe while the bot runs)",
        description="Write a backup of the database to FILE while the bot keeps running: "
        "SQLite through its online backup API, PostgreSQL through pg_dump --format=custom "
        "(the PostgreSQL client tools must be installed). FILE is replaced only once the "
        "backup is complete. Exit status 0, or 2 with one line saying what went wrong.",
    )
    made.add_argument("file", type=Path, metavar="FILE")
    back = db_sub.add_parser(
        "restore",
        parents=parents,
        help="load a backup made by `zhibu db backup` into the configured database",
        description="Load FILE into the configured database. Stop the bot first. A database "
        "that already holds records is refused unless --force is given (its records are "
        "then replaced). Exit status 0, or 2 with one line saying what went wrong.",
    )
    back.add_argument("file", type=Path, metavar="FILE")
    back.add_argument(
        "--force",
        "--into-nonempty",
        dest="force",
        action="store_true",
        help="replace the records of a database that is not empty",
    )


async def backup_command(cfg: Config, args: argparse.Namespace) -> int:
    """Run `db backup` or `db restore`; one line on stdout, or one on stderr and exit 2."""
    try:
        if args.db_command == "backup":
            summary = await backup.backup(cfg.database.url, args.file)
        else:
            summary = await backup.restore(cfg.database.url, args.file, force=args.force)
    except backup.BackupError as exc:
        print(f"zhibu: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"zhibu: {summary}")
    return 0
