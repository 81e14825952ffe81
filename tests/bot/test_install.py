"""The README's production install, run as written in a fresh virtualenv.

A real `pip install .` from the index takes 30–40 s here and needs the network, twice over
when CI runs the SQLite and PostgreSQL suites side by side. So by default the new venv sees
the test environment's packages through a .pth file: pip finds every dependency already
satisfied and installs zhibu itself (the build, the package data, the console script are
real). That the dependency list is complete is checked statically by
tests/unit/test_dependencies.py. ZHIBU_TEST_FRESH_INSTALL=1 installs everything for real.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import sysconfig
import venv
from pathlib import Path

import pytest

from storage import migrate
from tests.conftest import once
from tests.emulator import Emulator

pytestmark = pytest.mark.slow
ROOT = Path(__file__).parents[2]
BLOCK = re.compile(r"<!-- install -->\s*```sh\n(.*?)```", re.S)


def readme_install() -> list[str]:
    """The commands of the English install block (comments dropped)."""
    [block] = BLOCK.findall((ROOT / "README.md").read_text(encoding="utf-8"))
    lines = [line.split("  #")[0].strip() for line in block.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


async def sh(command: str, cwd: Path, stdin: str = "") -> tuple[int, str]:
    proc = await asyncio.create_subprocess_shell(
        command,
        cwd=cwd,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={k: v for k, v in os.environ.items() if not k.startswith(("ZHIBU_", "VIRTUAL_ENV"))},
    )
    out, _ = await asyncio.wait_for(proc.communicate(stdin.encode()), 300)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


@once
async def test_the_readme_production_install_works_in_a_fresh_venv(
    emu: Emulator, tmp_path: Path
) -> None:
    source = tmp_path / "zhibu-src"  # a copy: two suites building in one tree would collide
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "__pycache__"),
    )
    prefix, etc, data = tmp_path / "opt", tmp_path / "etc", tmp_path / "var"
    venv_dir = prefix / ".venv"
    commands = readme_install()
    assert commands[0].startswith("python3 -m venv /opt/zhibu/.venv")
    # Made here rather than by `python3 -m venv`, so it is this interpreter's venv.
    venv.create(venv_dir, with_pip=True)
    if not os.environ.get("ZHIBU_TEST_FRESH_INSTALL"):
        site = Path(sysconfig.get_paths(vars={"base": str(venv_dir)})["purelib"])
        (site / "zz_test_environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    for command in commands[1:]:
        command = (
            command.replace("/opt/zhibu", str(prefix))
            .replace("/etc/zhibu", str(etc))
            .replace("/var/lib/zhibu", str(data))
        )
        if " init " in command:  # the prompts, answered by flags; the emulator as Telegram
            command += f" --token {emu.token} --superadmin 1001 --base-url {emu.base_url}"
        cwd = source if " install " in command else tmp_path
        code, out = await sh(command, cwd)
        assert code == 0, f"{command}\n{out}"
        if "--version" in command:
            assert out.startswith("zhibu ")
        if " db upgrade" in command:
            assert str(migrate.head_revision()) in out
        if "check-config" in command:
            assert f"Telegram: @{emu.bot_username}" in out
    code, out = await sh(f"{venv_dir}/bin/python -c 'import bot; print(bot.__file__)'", tmp_path)
    assert out.strip().startswith(str(venv_dir)), out  # the installed copy, not the source tree
    assert (data / "zhibu.sqlite3").exists()
