"""`zhibu init`: write a first config.toml (token, superadmin, database), then say what is next."""

from __future__ import annotations

import argparse
import os
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.config import ConfigError, default_database_url, parse_config

EXIT_OK = 0
EXIT_USAGE = 2
Ask = Callable[[str], str]


def add_init_parser(subparsers: Any) -> None:
    """The `zhibu init` command and its flags (every prompt has one, for scripts)."""
    init = subparsers.add_parser(
        "init",
        help="write a first config.toml (asks for the token, your Telegram id, the database)",
        description="Write a config file with the bot token from @BotFather, your numeric "
        "Telegram id as superadmin and the database, then print the next steps. "
        "Asks for what the flags do not give; refuses to overwrite a file unless --force.",
    )
    init.add_argument(
        "--config",
        type=Path,
        default=Path("config.toml"),
        help="where to write the config (default: ./config.toml)",
    )
    init.add_argument("--token", help="the bot token from @BotFather (123456789:AA…)")
    init.add_argument(
        "--superadmin",
        help="your numeric Telegram id (send /myid to the bot to learn it); empty: none yet",
    )
    init.add_argument(
        "--database",
        help="an SQLite file path, or a URL sqlite+aiosqlite://… / postgresql+asyncpg://… "
        "(default: zhibu.sqlite3 beside the config)",
    )
    init.add_argument("--base-url", help="a self-hosted Bot API server (default: Telegram's)")
    init.add_argument("--proxy", help='a proxy to reach Telegram, e.g. "socks5://127.0.0.1:1080"')
    init.add_argument("--force", action="store_true", help="overwrite an existing config file")


def _database_url(answer: str, config_dir: Path) -> str:
    if not answer:
        return default_database_url(config_dir)
    if "://" in answer:
        return answer
    path = Path(answer).expanduser()
    if not path.is_absolute():
        path = config_dir / path
    return f"sqlite+aiosqlite:///{path.resolve()}"


def _quoted(value: str) -> str:
    """A TOML basic string."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def render_config(
    *, token: str, superadmins: list[int], database_url: str, base_url: str = "", proxy: str = ""
) -> str:
    """The text of a first config.toml; config.example.toml documents every other key."""
    lines = [
        "# zhibu configuration, written by `zhibu init`.",
        "# Every other key (and its default) is described in config.example.toml.",
        "",
        "[telegram]",
        "# From @BotFather. Anyone holding it controls the bot: keep this file private.",
        f"token = {_quoted(token)}",
    ]
    if base_url:
        lines.append(f"base_url = {_quoted(base_url)}")
    if proxy:
        lines.append(f"proxy = {_quoted(proxy)}")
    admins = ", ".join(str(a) for a in superadmins)
    lines += [
        'mode = "polling"',
        "",
        "[database]",
        f"url = {_quoted(database_url)}",
        "",
        "[bot]",
        'timezone = "Asia/Shanghai"',
        'default_locale = "zh_CN"',
        "# Numeric Telegram ids of those who may build committees and branches (/myid tells).",
        f"superadmins = [{admins}]",
        "",
    ]
    return "\n".join(lines)


def _answer(ask: Ask, given: str | None, prompt: str, default: str = "") -> str:
    if given is not None:
        return given.strip()
    shown = f"{prompt} [{default}]: " if default else f"{prompt}: "
    return ask(shown).strip() or default


def _superadmins(answer: str) -> list[int]:
    ids = [part for part in answer.replace(",", " ").split() if part]
    if not all(part.isdigit() and 0 < int(part) < 2**53 for part in ids):
        raise ConfigError("bot.superadmins", f"{answer!r} is not a numeric Telegram id")
    return [int(part) for part in ids]


def _next_steps(path: Path, superadmins: list[int]) -> list[str]:
    config = f"--config {path}"
    third = (
        "3. In Telegram send /start to your bot; then create the committee and the branch: "
        f'zhibu org create {config} --level committee --kind two_new --name "…党委"'
        if superadmins
        else "3. In Telegram send /myid to your bot, put the number into bot.superadmins "
        f"in {path}, and restart the bot"
    )
    return [
        f"1. zhibu db upgrade {config}",
        f"2. zhibu run {config}   (under systemd for good: see the README)",
        third,
    ]


def init_command(args: argparse.Namespace, ask: Ask = input) -> int:
    """Ask for what the flags did not give, validate it as the bot will, write the file."""
    path: Path = args.config
    if path.exists() and not args.force:
        print(f"zhibu init: {path} exists; add --force to overwrite it", file=sys.stderr)
        return EXIT_USAGE
    config_dir = path.parent.resolve()
    try:
        token = _answer(ask, args.token, "Bot token from @BotFather")
        admins = _superadmins(
            _answer(ask, args.superadmin, "Your numeric Telegram id (empty if unknown: /myid)")
        )
        database = _answer(ask, args.database, "Database", str(config_dir / "zhibu.sqlite3"))
    except (EOFError, KeyboardInterrupt):
        print("\nzhibu init: nothing written (give --token, --superadmin, --database)",
              file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    except ConfigError as exc:
        print(f"zhibu init: {exc}", file=sys.stderr)
        return EXIT_USAGE
    text = render_config(
        token=token,
        superadmins=admins,
        database_url=_database_url(database, config_dir),  # checked below before writing
        base_url=args.base_url or "",
        proxy=args.proxy or "",
    )
    try:  # the same checks `zhibu run` makes, before anything is written
        parse_config(tomllib.loads(text), config_dir=config_dir, env={})
    except ConfigError as exc:
        print(f"zhibu init: {exc}", file=sys.stderr)
        return EXIT_USAGE
    url = _database_url(database, config_dir)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if url.startswith("sqlite+aiosqlite:///"):  # SQLite makes the file, not its directory
            Path(url.removeprefix("sqlite+aiosqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        # The token is a password: readable by its owner only.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        print(f"zhibu init: cannot write {path}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    print(f"zhibu: wrote {path}. Next:")
    for line in _next_steps(path, admins):
        print(line)
    return EXIT_OK
