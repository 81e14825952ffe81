"""Configuration: one TOML file parsed once into frozen, validated objects."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.forms_chase import REMIND_DAYS, REMIND_DAYS_MAX
from domain.locale import SUPPORTED_LOCALES
from domain.schedule import ScheduleRules

OFFICIAL_BASE_URL = "https://api.telegram.org/bot"
OFFICIAL_BASE_FILE_URL = "https://api.telegram.org/file/bot"
TOKEN_ENV = "ZHIBU_BOT_TOKEN"
CONFIG_ENV = "ZHIBU_CONFIG"
DATABASE_ENV = "ZHIBU_DATABASE_URL"

# A Telegram token is "<bot id>:<35 url-safe chars>"; the emulator uses shorter secrets,
# so only the shape "<digits>:<non-empty secret>" is enforced.
_TOKEN_RE = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{1,100}$")
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class ConfigError(Exception):
    """A configuration problem, naming the offending key in one line."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


@dataclass(frozen=True)
class WebhookConfig:
    """Where Telegram posts updates and where we listen for them."""

    url: str = ""
    listen: str = "127.0.0.1"
    port: int = 8443
    secret_token: str = field(default="", repr=False)


@dataclass(frozen=True)
class TelegramConfig:
    """How the bot reaches the Bot API."""

    token: str = field(repr=False)
    base_url: str = OFFICIAL_BASE_URL
    base_file_url: str = OFFICIAL_BASE_FILE_URL
    proxy: str = ""
    mode: Literal["polling", "webhook"] = "polling"
    webhook: WebhookConfig = WebhookConfig()


@dataclass(frozen=True)
class DatabaseConfig:
    """Which database holds the bot's records."""

    url: str
    migrate_on_start: bool = True
    echo: bool = False


@dataclass(frozen=True)
class BotConfig:
    """Behaviour of the bot itself."""

    timezone: str = "Asia/Shanghai"
    default_locale: str = "zh_CN"
    superadmins: tuple[int, ...] = ()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class OutboxConfig:
    """How the outbox worker sends what the bot owes people."""

    concurrency: int = 8
    claim_timeout_seconds: int = 60
    messages_per_second: int = 30
    group_messages_per_minute: int = 20
    private_messages_per_second: int = 1


@dataclass(frozen=True)
class LimitsConfig:
    """How much one person may send before the bot drops the rest for a moment."""

    user_updates_per_second: int = 5  # 0: no per-person limit
    user_burst: int = 10


@dataclass(frozen=True)
class LoggingConfig:
    """How much the bot writes to its log."""

    level: str = "INFO"


@dataclass(frozen=True)
class FormsConfig:
    """Forms (信息报送): when those who have not answered are reminded."""

    # Days before a cycle's due day (at the digest hour), latest last.
    remind_days: tuple[int, ...] = REMIND_DAYS


@dataclass(frozen=True)
class HaConfig:
    """A standby: on PostgreSQL one process is active, any other waits to take over."""

    enabled: bool = True  # only on PostgreSQL; SQLite has one process
    retry_seconds: int = 5  # how often a standby asks, and the active checks its lock


@dataclass(frozen=True)
class Config:
    """The whole validated configuration."""

    telegram: TelegramConfig
    database: DatabaseConfig
    bot: BotConfig = BotConfig()
    logging: LoggingConfig = LoggingConfig()
    outbox: OutboxConfig = OutboxConfig()
    schedule: ScheduleRules = field(default_factory=ScheduleRules)
    forms: FormsConfig = FormsConfig()
    ha: HaConfig = HaConfig()
    limits: LimitsConfig = LimitsConfig()
    source: Path | None = None


_ALLOWED: dict[str, set[str]] = {
    "telegram": {"token", "base_url", "base_file_url", "proxy", "mode", "webhook"},
    "telegram.webhook": {"url", "listen", "port", "secret_token"},
    "database": {"url", "migrate_on_start", "echo"},
    "bot": {"timezone", "default_locale", "superadmins"},
    "logging": {"level"},
    "outbox": {
        "concurrency",
        "claim_timeout_seconds",
        "messages_per_second",
        "group_messages_per_minute",
        "private_messages_per_second",
    },
    "schedule": {
        "grace_hours",
        "reminder_offsets_minutes",
        "digest_hour",
        "warn_days_before_end",
        "absence_months",
    },
    "forms": {"remind_days"},
    "ha": {"enabled", "retry_seconds"},
    "limits": {"user_updates_per_second", "user_burst"},
}


def _table(raw: dict[str, Any], name: str) -> dict[str, Any]:
    value = raw.get(name.rsplit(".", 1)[-1], {})
    if not isinstance(value, dict):
        raise ConfigError(name, "must be a table, e.g. [" + name + "]")
    unknown = sorted(set(value) - _ALLOWED[name])
    if unknown:
        raise ConfigError(f"{name}.{unknown[0]}", "unknown key")
    return value


def _get(table: dict[str, Any], section: str, key: str, kind: type, default: Any) -> Any:
    value = table.get(key, default)
    # bool is a subclass of int: a port of `true` must not pass as 1.
    if (kind is int and isinstance(value, bool)) or not isinstance(value, kind):
        raise ConfigError(f"{section}.{key}", f"must be {kind.__name__}, got {value!r}")
    return value


def default_database_url(config_dir: Path) -> str:
    """The embedded default: an SQLite file beside the config file."""
    return f"sqlite+aiosqlite:///{(config_dir / 'zhibu.sqlite3').resolve()}"


def parse_config(
    raw: dict[str, Any],
    *,
    config_dir: Path,
    env: dict[str, str] | None = None,
    need_token: bool = True,
) -> Config:
    """Validate a parsed TOML document into a Config, or raise ConfigError naming the key.

    Commands that never talk to Telegram pass need_token=False: a missing token is then
    no error (a malformed one still is)."""
    env = dict(os.environ) if env is None else env
    sections = {
        "telegram", "database", "bot", "logging", "outbox", "schedule", "forms", "ha", "limits",
    }  # fmt: skip
    unknown = sorted(set(raw) - sections)
    if unknown:
        raise ConfigError(unknown[0], "unknown section")

    tg = _table(raw, "telegram")
    wh = _table(tg, "telegram.webhook")
    token = env.get(TOKEN_ENV) or _get(tg, "telegram", "token", str, "")
    if not token and need_token:
        raise ConfigError("telegram.token", f"missing (set it in the config or in env {TOKEN_ENV})")
    if token and not _TOKEN_RE.match(token):
        raise ConfigError("telegram.token", "does not look like a bot token (123456:ABC...)")
    mode = _get(tg, "telegram", "mode", str, "polling")
    if mode not in ("polling", "webhook"):
        raise ConfigError("telegram.mode", f'must be "polling" or "webhook", got {mode!r}')
    base_url = _get(tg, "telegram", "base_url", str, OFFICIAL_BASE_URL)
    if not base_url.startswith(("http://", "https://")):
        raise ConfigError("telegram.base_url", "must start with http:// or https://")
    base_file_url = _get(tg, "telegram", "base_file_url", str, "")
    if not base_file_url:
        # A self-hosted server or the emulator serves files beside its API: /bot -> /file/bot.
        base_file_url = (
            OFFICIAL_BASE_FILE_URL
            if base_url == OFFICIAL_BASE_URL
            else base_url.rstrip("/").removesuffix("/bot") + "/file/bot"
        )
    port = _get(wh, "telegram.webhook", "port", int, 8443)
    if not 1 <= port <= 65535:
        raise ConfigError("telegram.webhook.port", f"must be 1..65535, got {port}")
    secret = env.get("ZHIBU_WEBHOOK_SECRET") or _get(
        wh, "telegram.webhook", "secret_token", str, ""
    )
    if secret and not _SECRET_RE.match(secret):
        raise ConfigError("telegram.webhook.secret_token", "only A-Z a-z 0-9 _ - allowed, ≤ 256")
    webhook = WebhookConfig(
        url=_get(wh, "telegram.webhook", "url", str, ""),
        listen=_get(wh, "telegram.webhook", "listen", str, "127.0.0.1"),
        port=port,
        secret_token=secret,
    )
    if mode == "webhook":
        # Telegram only posts to https; a self-hosted Bot API server or the emulator may not.
        needs = ("https://",) if base_url == OFFICIAL_BASE_URL else ("https://", "http://")
        if not webhook.url.startswith(needs):
            raise ConfigError("telegram.webhook.url", "webhook mode needs a public https:// URL")

    db = _table(raw, "database")
    url = env.get(DATABASE_ENV) or _get(db, "database", "url", str, "")
    if not url:
        url = default_database_url(config_dir)
    if not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise ConfigError(
            "database.url", "must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
        )

    b = _table(raw, "bot")
    tz = _get(b, "bot", "timezone", str, "Asia/Shanghai")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError("bot.timezone", f"unknown time zone {tz!r}, e.g. Asia/Shanghai") from None
    locale = _get(b, "bot", "default_locale", str, "zh_CN")
    if locale not in SUPPORTED_LOCALES:
        raise ConfigError("bot.default_locale", f"must be one of {', '.join(SUPPORTED_LOCALES)}")
    admins = _get(b, "bot", "superadmins", list, [])
    if not all(isinstance(a, int) and not isinstance(a, bool) and a > 0 for a in admins):
        raise ConfigError("bot.superadmins", "must be a list of Telegram user ids (integers)")

    lg = _table(raw, "logging")
    level = _get(lg, "logging", "level", str, "INFO").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError("logging.level", "must be DEBUG, INFO, WARNING or ERROR")

    ob = _table(raw, "outbox")
    limits = {
        "concurrency": (1, 64, 8),
        "claim_timeout_seconds": (1, 3600, 60),
        "messages_per_second": (1, 1000, 30),
        "group_messages_per_minute": (1, 1000, 20),
        "private_messages_per_second": (1, 1000, 1),
    }
    outbox_values: dict[str, int] = {}
    for key, (low, high, default) in limits.items():
        value = _get(ob, "outbox", key, int, default)
        if not low <= value <= high:
            raise ConfigError(f"outbox.{key}", f"must be {low}..{high}, got {value}")
        outbox_values[key] = value

    schedule = _schedule(_table(raw, "schedule"))
    forms = _forms(_table(raw, "forms"))
    ha = _ha(_table(raw, "ha"))
    user_limits = _limits(_table(raw, "limits"))

    return Config(
        telegram=TelegramConfig(
            token=token,
            base_url=base_url,
            base_file_url=base_file_url,
            proxy=_get(tg, "telegram", "proxy", str, ""),
            mode=mode,
            webhook=webhook,
        ),
        database=DatabaseConfig(
            url=url,
            migrate_on_start=_get(db, "database", "migrate_on_start", bool, True),
            echo=_get(db, "database", "echo", bool, False),
        ),
        bot=BotConfig(timezone=tz, default_locale=locale, superadmins=tuple(admins)),
        logging=LoggingConfig(level=level),
        outbox=OutboxConfig(**outbox_values),
        schedule=schedule,
        forms=forms,
        ha=ha,
        limits=user_limits,
    )


def _ha(table: dict[str, Any]) -> HaConfig:
    retry = _get(table, "ha", "retry_seconds", int, 5)
    if not 1 <= retry <= 60:
        raise ConfigError("ha.retry_seconds", f"must be 1..60, got {retry}")
    return HaConfig(enabled=_get(table, "ha", "enabled", bool, True), retry_seconds=retry)


def _limits(lm: dict[str, Any]) -> LimitsConfig:
    rate = _get(lm, "limits", "user_updates_per_second", int, 5)
    if not 0 <= rate <= 1000:
        raise ConfigError("limits.user_updates_per_second", f"must be 0..1000 (0: off), got {rate}")
    burst = _get(lm, "limits", "user_burst", int, 10)
    if not 1 <= burst <= 10000:
        raise ConfigError("limits.user_burst", f"must be 1..10000, got {burst}")
    return LimitsConfig(user_updates_per_second=rate, user_burst=burst)


def _forms(fm: dict[str, Any]) -> FormsConfig:
    days = _get(fm, "forms", "remind_days", list, list(REMIND_DAYS))
    if not all(
        isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= REMIND_DAYS_MAX for d in days
    ) or len(set(days)) != len(days):
        raise ConfigError(
            "forms.remind_days",
            f"must be a list of different days before the due day, 1..{REMIND_DAYS_MAX}, "
            "e.g. [3, 1]",
        )
    return FormsConfig(remind_days=tuple(sorted(days, reverse=True)))


def _schedule(sc: dict[str, Any]) -> ScheduleRules:
    limits = {
        "grace_hours": (0, 24 * 7, 12),
        "digest_hour": (0, 23, 9),
        "warn_days_before_end": (1, 28, 7),
        "absence_months": (1, 12, 2),
    }
    values: dict[str, int] = {}
    for key, (low, high, default) in limits.items():
        value = _get(sc, "schedule", key, int, default)
        if not low <= value <= high:
            raise ConfigError(f"schedule.{key}", f"must be {low}..{high}, got {value}")
        values[key] = value
    offsets = _get(sc, "schedule", "reminder_offsets_minutes", list, [1440, 60])
    if not all(
        isinstance(o, int) and not isinstance(o, bool) and 1 <= o <= 14 * 1440 for o in offsets
    ) or len(set(offsets)) != len(offsets):
        raise ConfigError(
            "schedule.reminder_offsets_minutes",
            "must be a list of different minutes before the meeting, 1..20160, e.g. [1440, 60]",
        )
    return ScheduleRules(reminder_offsets_minutes=tuple(sorted(offsets, reverse=True)), **values)


def load_config(
    path: Path | None, env: dict[str, str] | None = None, *, need_token: bool = True
) -> Config:
    """Read and validate the config file (or only the environment when there is none)."""
    env = dict(os.environ) if env is None else env
    if path is None and env.get(CONFIG_ENV):
        path = Path(env[CONFIG_ENV])
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            with path.open("rb") as fh:
                raw = tomllib.load(fh)
        except FileNotFoundError:
            raise ConfigError("--config", f"file not found: {path}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError("--config", f"{path} is not valid TOML ({exc})") from None
    config_dir = path.parent if path is not None else Path.cwd()
    cfg = parse_config(raw, config_dir=config_dir, env=env, need_token=need_token)
    return Config(
        telegram=cfg.telegram,
        database=cfg.database,
        bot=cfg.bot,
        logging=cfg.logging,
        outbox=cfg.outbox,
        schedule=cfg.schedule,
        forms=cfg.forms,
        ha=cfg.ha,
        limits=cfg.limits,
        source=path,
    )
