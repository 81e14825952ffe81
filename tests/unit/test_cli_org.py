"""`zhibu org` arguments: typed ids, levels, kinds and roles; mistakes exit 2 before any change."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from bot.cli_org import add_org_parser, org_command
from bot.config import parse_config
from domain.orgs import Kind, Level, Role


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="zhibu")
    add_org_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["org", *argv])


def test_arguments_are_typed() -> None:
    args = parse(
        "create", "--level", "branch", "--kind", "joint", "--name", "星火", "--parent", "7"
    )
    assert (args.level, args.kind, args.name, args.parent) == (Level.BRANCH, Kind.JOINT, "星火", 7)
    args = parse("grant", "--org", "3", "--user", "5000000001", "--role", "instructor")
    assert (args.org, args.user, args.member, args.role) == (3, 5000000001, None, Role.INSTRUCTOR)
    assert parse("list").tree is False
    assert parse("list", "--tree").tree is True
    assert parse("end-role", "12").role_id == 12


@pytest.mark.parametrize(
    "argv",
    [
        ["create", "--level", "party", "--kind", "standard", "--name", "x"],
        ["create", "--level", "branch", "--kind", "big", "--name", "x"],
        ["create", "--level", "branch", "--kind", "standard"],
        ["create", "--level", "branch", "--kind", "standard", "--name", "x", "--parent", "-1"],
        ["grant", "--org", "1", "--role", "secretary"],
        ["grant", "--org", "1", "--user", "2", "--member", "3", "--role", "secretary"],
        ["grant", "--org", "1", "--user", "2", "--role", "boss"],
        ["end-role", "abc"],
        ["link", "--org", "1"],
        ["nothing"],
    ],
)
def test_bad_arguments_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        parse(*argv)
    assert exc.value.code == 2
    assert "usage:" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "needs"),
    [
        (["grant", "--org", "1", "--user", "2", "--role", "secretary"], "--member"),
        (["grant", "--org", "1", "--member", "2", "--role", "committee_admin"], "--user"),
    ],
)
async def test_the_holder_must_fit_the_office(
    argv: list[str], needs: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # An unreachable database proves the mistake is caught before connecting.
    cfg = parse_config(
        {"telegram": {"token": "1:x"}, "database": {"url": "postgresql+asyncpg://x@127.0.0.1:9/x"}},
        config_dir=Path("."),
        env={},
    )
    assert await org_command(cfg, parse(*argv)) == 2
    assert needs in capsys.readouterr().err
