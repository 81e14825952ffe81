"""`zhibu members import FILE --branch ID [--apply]`: check a roster file, then write it."""

from __future__ import annotations

import argparse
import asyncio
import html
import re
import sys
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.config import Config
from bot.i18n import load_catalog
from domain.members_roster import FileError
from services.authz import Actor
from services.clock import SystemClock
from services.errors import ServiceError
from services.members_import import apply_import, plan_import, read_roster
from storage.db import Database, DatabaseUnavailable

# The command line acts as the system: every permission, and audit entries without an actor.
SYSTEM = Actor(user_id=0, superadmin=True)
EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2
_TAGS = re.compile(r"</?b>")


def add_members_parser(
    subparsers: argparse._SubParsersAction,  # type: ignore[type-arg]
    parents: Sequence[argparse.ArgumentParser] = (),
) -> None:
    """Add `members import` to the `zhibu` command line."""
    members = subparsers.add_parser(
        "members", help="roster maintenance", description="Roster maintenance."
    )
    actions = members.add_subparsers(dest="members_command", metavar="ACTION", required=True)
    importer = actions.add_parser(
        "import",
        parents=list(parents),
        help="import a roster from an XLSX or CSV file (dry run unless --apply)",
        description="Check a roster file (XLSX, or CSV in UTF-8 or GBK) against a branch and "
        "print what importing it would change, row by row. With --apply, write it in one "
        "transaction, and only if no row has an error. Importing the same file again "
        "changes nothing. Exit status 0 when all is well, 1 when the file has errors, "
        "2 when the file or the branch cannot be found.",
    )
    importer.add_argument("file", type=Path, metavar="FILE", help="the .xlsx or .csv roster")
    importer.add_argument(
        "--branch", type=int, required=True, metavar="ID", help="id of the branch to import into"
    )
    importer.add_argument(
        "--apply", action="store_true", help="write the changes (default: only show them)"
    )


def _progress(count: int) -> None:
    # One line rewritten in place: long files show that something is happening.
    print(f"\rreading rows: {count}", end="", file=sys.stderr, flush=True)


def _plain(text: str) -> str:
    return html.unescape(_TAGS.sub("", text))


async def members_command(cfg: Config, args: argparse.Namespace) -> int:
    """Run `zhibu members import`: print the plan, and write it when --apply is given."""
    # Imported when used: the bot's handlers take about a second to import, and `zhibu org`,
    # `db` or `--help` should start without them.
    from handlers.members_import import file_error_text, plan_lines

    path: Path = args.file
    try:
        content = await asyncio.to_thread(path.read_bytes)
    except OSError as exc:
        print(f"zhibu: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    locale = cfg.bot.default_locale
    tr = partial(load_catalog(locale).t, locale)
    roster = await asyncio.to_thread(read_roster, path.name, content, _progress)
    print(file=sys.stderr)
    if isinstance(roster, FileError):
        print(_plain(file_error_text(tr, locale, roster)))
        return EXIT_REFUSED
    now = SystemClock().now()
    today = now.astimezone(ZoneInfo(cfg.bot.timezone)).date()
    db = Database(cfg.database.url)
    try:
        await db.ping()
        plan = await plan_import(db, SYSTEM, args.branch, roster, today)
        for line in plan_lines(tr, locale, plan, max_errors=None):
            print(_plain(line))
        if not plan.ok:
            print("zhibu: nothing written: fix the rows above and run again", file=sys.stderr)
            return EXIT_REFUSED
        if not plan.has_changes:
            print("zhibu: the roster already matches the file; nothing to write")
            return EXIT_OK
        if not args.apply:
            print("zhibu: dry run, nothing written; add --apply to write these changes")
            return EXIT_OK
        print("writing…", file=sys.stderr, flush=True)
        report = await apply_import(db, SYSTEM, args.branch, roster, now, today)
        if not report.applied:  # the roster changed between the plan and the write
            for line in plan_lines(tr, locale, report.plan, max_errors=None):
                print(_plain(line))
            return EXIT_REFUSED
        print(f"zhibu: imported: {report.created} added, {report.updated} updated")
        return EXIT_OK
    except DatabaseUnavailable as exc:
        print(f"zhibu: cannot reach the database ({exc})", file=sys.stderr)
        return EXIT_USAGE
    except ServiceError as exc:
        print(f"zhibu: branch {args.branch}: {exc.code}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        await db.dispose()
