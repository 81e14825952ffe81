"""Config validation: every mistake names its key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_config, parse_config

TOKEN = "123456:TEST-token"


def parse(raw: dict[str, object], **env: str) -> object:
    return parse_config(raw, config_dir=Path("/srv/zhibu"), env=env)


def test_minimal_config_gets_documented_defaults() -> None:
    cfg = parse_config({"telegram": {"token": TOKEN}}, config_dir=Path("/srv/zhibu"), env={})
    assert cfg.telegram.mode == "polling"
    assert cfg.telegram.base_url == "https://api.telegram.org/bot"
    assert cfg.database.url == "sqlite+aiosqlite:////srv/zhibu/zhibu.sqlite3"
    assert cfg.bot.timezone == "Asia/Shanghai"
    assert cfg.bot.default_locale == "zh_CN"
    assert cfg.bot.superadmins == ()
    assert cfg.schedule.reminder_offsets_minutes == (1440, 60)
    assert cfg.schedule.grace_hours == 12


def test_reminder_offsets_are_kept_earliest_first() -> None:
    cfg = parse_config(
        {"telegram": {"token": TOKEN}, "schedule": {"reminder_offsets_minutes": [30, 2880]}},
        config_dir=Path("/srv/zhibu"),
        env={},
    )
    assert cfg.schedule.reminder_offsets_minutes == (2880, 30)


def test_token_from_environment_wins_and_is_not_in_repr() -> None:
    cfg = parse_config(
        {"telegram": {"token": "1:config"}},
        config_dir=Path("."),
        env={"ZHIBU_BOT_TOKEN": TOKEN},
    )
    assert cfg.telegram.token == TOKEN
    assert TOKEN not in repr(cfg)


def test_self_hosted_base_url_derives_file_url() -> None:
    cfg = parse_config(
        {"telegram": {"token": TOKEN, "base_url": "http://127.0.0.1:8081/bot"}},
        config_dir=Path("."),
        env={},
    )
    assert cfg.telegram.base_file_url == "http://127.0.0.1:8081/file/bot"


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({}, "telegram.token"),
        ({"telegram": {"token": "not-a-token"}}, "telegram.token"),
        ({"telegram": {"token": TOKEN, "mode": "push"}}, "telegram.mode"),
        ({"telegram": {"token": TOKEN, "tokn": "x"}}, "telegram.tokn"),
        ({"telegram": {"token": TOKEN}, "extra": {}}, "extra"),
        ({"telegram": {"token": TOKEN, "base_url": "ftp://x"}}, "telegram.base_url"),
        ({"telegram": {"token": TOKEN, "webhook": {"port": "80"}}}, "telegram.webhook.port"),
        ({"telegram": {"token": TOKEN, "webhook": {"port": True}}}, "telegram.webhook.port"),
        ({"telegram": {"token": TOKEN, "webhook": {"port": 70000}}}, "telegram.webhook.port"),
        ({"telegram": {"token": TOKEN, "mode": "webhook"}}, "telegram.webhook.url"),
        ({"telegram": {"token": TOKEN}, "database": {"url": "mysql://x"}}, "database.url"),
        ({"telegram": {"token": TOKEN}, "bot": {"timezone": "Mars/Base"}}, "bot.timezone"),
        ({"telegram": {"token": TOKEN}, "bot": {"default_locale": "fr"}}, "bot.default_locale"),
        ({"telegram": {"token": TOKEN}, "bot": {"superadmins": ["alice"]}}, "bot.superadmins"),
        ({"telegram": {"token": TOKEN}, "bot": {"superadmins": 5}}, "bot.superadmins"),
        ({"telegram": {"token": TOKEN}, "bot": []}, "bot"),
        ({"telegram": {"token": TOKEN}, "logging": {"level": "LOUD"}}, "logging.level"),
        ({"telegram": {"token": TOKEN}, "outbox": {"concurrency": 0}}, "outbox.concurrency"),
        ({"telegram": {"token": TOKEN}, "outbox": {"speed": 1}}, "outbox.speed"),
        ({"telegram": {"token": TOKEN}, "schedule": {"digest_hour": 24}}, "schedule.digest_hour"),
        ({"telegram": {"token": TOKEN}, "schedule": {"grace_hours": -1}}, "schedule.grace_hours"),
        (
            {"telegram": {"token": TOKEN}, "schedule": {"reminder_offsets_minutes": [60, 60]}},
            "schedule.reminder_offsets_minutes",
        ),
        (
            {"telegram": {"token": TOKEN}, "schedule": {"reminder_offsets_minutes": ["1h"]}},
            "schedule.reminder_offsets_minutes",
        ),
    ],
)
def test_bad_config_names_the_key(raw: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse(raw)
    assert err.value.key == key
    assert "\n" not in str(err.value)


def test_unreadable_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[telegram\ntoken = 1", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path, env={})
    assert err.value.key == "--config"


def test_example_config_is_valid_with_a_token() -> None:
    example = Path(__file__).parents[2] / "config.example.toml"
    cfg = load_config(example, env={"ZHIBU_BOT_TOKEN": TOKEN})
    assert cfg.telegram.token == TOKEN
    assert cfg.database.url.endswith("zhibu.sqlite3")
