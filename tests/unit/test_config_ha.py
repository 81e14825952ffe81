"""The [ha] section: a standby on PostgreSQL, on by default, nothing on SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, parse_config
from bot.standby import leadership

TOKEN = "123456:ABCdef_ghi-JKL"
PG = "postgresql+asyncpg://zhibu@127.0.0.1:9/zhibu"


def parse(ha: dict[str, object], url: str = PG) -> object:
    raw = {"telegram": {"token": TOKEN}, "database": {"url": url}, "ha": ha}
    return parse_config(raw, config_dir=Path("/srv/zhibu"), env={})


def test_a_standby_is_automatic_on_postgresql_only() -> None:
    cfg = parse_config({"telegram": {"token": TOKEN}}, config_dir=Path("/srv/zhibu"), env={})
    assert (cfg.ha.enabled, cfg.ha.retry_seconds) == (True, 5)
    assert leadership(cfg) is None  # SQLite: one process owns the file, no lock
    pg = parse({})
    lead = leadership(pg)  # type: ignore[arg-type]
    assert lead is not None
    assert lead.retry_seconds == 5
    lead.release()
    assert leadership(parse({"enabled": False})) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("ha", "key"),
    [
        ({"enabled": "yes"}, "ha.enabled"),
        ({"retry_seconds": 0}, "ha.retry_seconds"),
        ({"retry_seconds": 61}, "ha.retry_seconds"),
        ({"lease": 3}, "ha.lease"),
    ],
)
def test_bad_ha_keys_are_named(ha: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse(ha)
    assert raised.value.key == key
