"""pyproject's runtime dependencies are exactly what the code imports (read statically)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).parents[2]
RUNTIME = ("bot", "handlers", "services", "ui", "scheduler", "storage", "domain")
# Declared but never imported by name, each for a reason.
NOT_IMPORTED = {
    "aiosqlite": "the SQLite driver SQLAlchemy loads for a sqlite+aiosqlite:// URL",
    "asyncpg": "the PostgreSQL driver SQLAlchemy loads for a postgresql+asyncpg:// URL",
    "mplfonts": "ships the Chinese font ui/compliance_chart.py finds by path",
}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = (re.split(r"[\[<>=!~ ;]", dep, maxsplit=1)[0] for dep in project["dependencies"])
    return {_normal(name) for name in names}


def imported_modules() -> dict[str, str]:
    """Top-level third-party module → one file importing it, over every runtime package."""
    found: dict[str, str] = {}
    for package in RUNTIME:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in RUNTIME:
                        found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def test_every_runtime_import_is_a_declared_dependency() -> None:
    owners = packages_distributions()
    wanted = declared()
    missing = {
        module: where
        for module, where in imported_modules().items()
        if not {_normal(d) for d in owners.get(module, [module])} & wanted
    }
    assert missing == {}, "imported at runtime but not in [project.dependencies]"


def test_every_declared_dependency_is_used() -> None:
    owners = packages_distributions()
    used = {_normal(d) for module in imported_modules() for d in owners.get(module, [module])}
    unused = declared() - used - set(NOT_IMPORTED)
    assert unused == set(), "declared in [project.dependencies] but never imported"
    assert set(NOT_IMPORTED) <= declared()
