"""`zhibu jobs list` and `zhibu jobs run NAME --at TIME` against a real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import _parser, main
from bot.cli_jobs import jobs_command, parse_at
from bot.config import Config, parse_config
from services.meetings_reminders import reminder_key
from storage.db import Database
from tests.conftest import FakeClock
from tests.services.test_meetings_reminders import STARTS, reminder_items, world


def config(db: Database) -> Config:
    return parse_config(
        {"telegram": {"token": "1:x"}, "database": {"url": db.url}}, config_dir=Path("."), env={}
    )


async def zhibu(cfg: Config, clock: FakeClock, *argv: str) -> int:
    return await jobs_command(cfg, _parser().parse_args(["jobs", *argv]), clock=clock)


def test_times_are_read_in_the_bots_zone_unless_they_name_their_own() -> None:
    from zoneinfo import ZoneInfo

    shanghai = ZoneInfo("Asia/Shanghai")
    assert parse_at("2026-12-05 09:00", shanghai) == datetime(2026, 12, 5, 1, 0, tzinfo=UTC)
    assert parse_at("2026-12-05T09:00+01:00", shanghai) == datetime(2026, 12, 5, 8, tzinfo=UTC)
    assert parse_at("2026-12-05T09:00Z", shanghai) == datetime(2026, 12, 5, 9, tzinfo=UTC)
    assert parse_at("next friday", shanghai) is None


async def test_list_then_run_once_for_a_moment(
    db: Database, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    w = await world(db, clock)
    cfg = config(db)
    assert await zhibu(cfg, clock, "list") == 0
    out = capsys.readouterr().out
    assert "times in Asia/Shanghai" in out
    line = next(row for row in out.splitlines() if row.startswith("meeting-reminders "))
    # The next reminder: 24 hours before Saturday 19:30, Shanghai time; it never ran.
    assert "2026-12-04 19:30" in line
    assert reminder_key(w.meeting, 1440, STARTS) in line
    assert "never ran" in line
    assert "meeting-reminders: before each meeting" in out

    assert await zhibu(cfg, clock, "run", "meeting-reminders", "--at", "2026-12-04 19:31") == 0
    out = capsys.readouterr().out
    assert "1 occurrence(s) ran" in out
    assert "the running bot sends them" in out
    queued = len(await reminder_items(db))
    assert queued == 4  # three private reminders and one mention message in the group

    # Again for the same moment (or a little later): nothing more.
    assert await zhibu(cfg, clock, "run", "meeting-reminders", "--at", "2026-12-04 19:40") == 0
    assert "0 occurrence(s) ran" in capsys.readouterr().out
    assert len(await reminder_items(db)) == queued

    assert await zhibu(cfg, clock, "list") == 0
    line = next(
        row for row in capsys.readouterr().out.splitlines() if row.startswith("meeting-reminders ")
    )
    assert "2026-12-05 18:30" in line  # next: the hour-before reminder
    assert "done" in line
    assert reminder_key(w.meeting, 1440, STARTS) in line
    assert "private=3 mentioned=2 skipped=1" in line

    # ISO 8601 with its own offset: the hour-before reminder, 10:30 UTC.
    iso = (STARTS - timedelta(minutes=59)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert await zhibu(cfg, clock, "run", "meeting-reminders", "--at", iso) == 0
    assert "1 occurrence(s) ran" in capsys.readouterr().out


async def test_an_unknown_job_or_time_exits_2_with_one_line(
    db: Database, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = config(db)
    assert await zhibu(cfg, clock, "run", "reminders", "--at", "2026-12-04 19:31") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "no job named 'reminders'; jobs: meeting-reminders" in err
    assert await zhibu(cfg, clock, "run", "meeting-reminders", "--at", "tomorrow") == 2
    assert "is not a time" in capsys.readouterr().err


def test_the_command_line_entry_refuses_an_unknown_job(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "config.toml"
    # The database is never reached: the name is checked first.
    cfg.write_text(
        '[telegram]\ntoken = "123456:ABC"\n[database]\nurl = "postgresql+asyncpg://x@127.0.0.1:9/x"\n',
        encoding="utf-8",
    )
    code = main(["jobs", "run", "nope", "--at", "2026-12-04 19:31", "--config", str(cfg)])
    assert code == 2
    assert "jobs: meeting-reminders" in capsys.readouterr().err
