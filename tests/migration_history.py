"""The migrations as git remembers them: where each file first landed and what it said then."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).parents[1]
VERSIONS = ROOT / "storage" / "migrations" / "versions"

# Edits made to migrations after they landed, before this guard existed. Each is a known
# fault: the file's content at that commit is accepted instead of the first one, and a
# later migration repairs the databases made with the first version.
#   0003_notices.py: deb2abb added notices.report_done_at to the already-committed 0003;
#   0010_repair_0003.py adds the column to databases created before that edit.
KNOWN_EDITS: dict[str, str] = {
    "storage/migrations/versions/0003_notices.py": "deb2abb5061443fcbfea2734745eb0b9a2aba07b",
}


def in_git_checkout() -> bool:
    """True when the source tree is a git checkout with its history (not an sdist)."""
    if shutil.which("git") is None:
        return False
    try:
        out = _git("rev-parse", "--show-toplevel")
    except subprocess.CalledProcessError:
        return False
    return Path(out.strip()).resolve() == ROOT.resolve()


def first_commit(path: str) -> str | None:
    """The commit that added the file on this branch's own line (None if never committed).

    --first-parent: a migration merged in from a feature branch lands with the merge commit,
    so the lead may re-chain its down_revision while merging, before it has landed.
    """
    out = _git("log", "--first-parent", "--diff-filter=A", "--format=%H", "--", path)
    commits = out.split()
    return commits[-1] if commits else None


def text_at(commit: str, path: str) -> str:
    """The file's content at a commit."""
    return _git("show", f"{commit}:{path}")


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
