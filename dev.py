#!/usr/bin/env python3
"""One entry point for people and CI: set everything up, then run the bot or the tests.

    python3 dev.py run      # create .venv, install zhibu, start the bot (SQLite by default)
    python3 dev.py test     # create .venv, install zhibu with test tools, run the test suite
    python3 dev.py lint     # ruff, mypy and the import contracts
    python3 dev.py bench    # the benchmarks in bench/

Only the Python standard library is used here, so it works on a fresh machine.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".zhibu-installed"


def _python() -> Path:
    return BIN / ("python.exe" if os.name == "nt" else "python")


def ensure_environment(extras: str) -> None:
    """Create .venv and install zhibu[extras] unless pyproject.toml is unchanged since."""
    if sys.version_info < (3, 11):  # noqa: UP036 - this script may be run by an old python3
        sys.exit(f"zhibu needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted and _python().exists():
        return
    if not _python().exists():
        print("dev.py: creating .venv …", flush=True)
        try:
            venv.create(VENV, with_pip=True)
        except (subprocess.CalledProcessError, OSError) as exc:
            sys.exit(
                f"dev.py: cannot create .venv ({exc}); Debian/Ubuntu: apt install python3-venv"
            )
    print(f"dev.py: installing zhibu[{extras}] …", flush=True)
    pip = [str(_python()), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", f"{ROOT}[{extras}]"], check=True)
    STAMP.write_text(wanted)


def run_in_venv(args: list[str]) -> int:
    """Run a command with the virtualenv's executables first on PATH."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("PYTHONHOME", None)
    return subprocess.call(args, cwd=ROOT, env=env)


def main(argv: list[str]) -> int:
    command, rest = (argv[0], argv[1:]) if argv else ("help", [])
    if command == "run":
        ensure_environment("dev")
        config = ["--config", "config.toml"] if (ROOT / "config.toml").exists() else []
        return run_in_venv([str(BIN / "zhibu"), "run", *config, *rest])
    if command == "test":
        ensure_environment("dev")
        return run_in_venv([str(_python()), "-m", "pytest", *rest])
    if command == "lint":
        ensure_environment("dev")
        status = 0
        for tool in (
            ["ruff", "check", "."],
            ["ruff", "format", "--check", "."],
            ["mypy", "."],
            ["lint-imports"],
        ):
            print(f"dev.py: {' '.join(tool)}", flush=True)
            status |= run_in_venv([str(BIN / tool[0]), *tool[1:]])
        return status
    if command == "bench":
        ensure_environment("dev")
        return run_in_venv([str(_python()), "-m", "bench", *rest])
    if command == "zhibu":
        ensure_environment("dev")
        return run_in_venv([str(BIN / "zhibu"), *rest])
    print(__doc__)
    return 0 if command in ("help", "-h", "--help") else 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
