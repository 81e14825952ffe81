"""Migrations are append-only: a landed migration file is never edited again."""

from __future__ import annotations

import pytest

from tests.migration_history import (
    KNOWN_EDITS,
    ROOT,
    VERSIONS,
    first_commit,
    in_git_checkout,
    text_at,
)

pytestmark = pytest.mark.skipif(
    not in_git_checkout(), reason="needs the git history (not available in an sdist)"
)


def _landed() -> list[str]:
    return sorted(
        str(path.relative_to(ROOT)) for path in VERSIONS.glob("*.py") if path.name[0].isdigit()
    )


def test_every_landed_migration_is_as_it_first_landed() -> None:
    edited = []
    for path in _landed():
        commit = first_commit(path)
        if commit is None:
            continue  # not committed yet: still being written
        now = (ROOT / path).read_text(encoding="utf-8")
        baseline = text_at(KNOWN_EDITS.get(path, commit), path)
        if now != baseline:
            edited.append(path)
    assert edited == [], (
        "landed migrations were edited; write a new migration instead "
        "(one that checks what is there, as 0010_repair_0003 does)"
    )


def test_the_known_edits_are_real_and_nothing_else_is_allowed() -> None:
    # An allow-list entry must name an edit that happened, or it would excuse future ones.
    for path, commit in KNOWN_EDITS.items():
        added = first_commit(path)
        assert added is not None
        assert commit != added
        assert text_at(commit, path) != text_at(added, path)
