"""Append catalog entries to both locales from a TSV-like Python table (developer tool).

Usage: python tools/po_append.py FILE.py  — FILE defines ROWS = [(key, zh, en), ...] and
BLOCK = "name". Keys already present are refused, so nothing is defined twice.
"""

from __future__ import annotations

import re
import runpy
import sys
from pathlib import Path

LOCALES = Path(__file__).resolve().parents[1] / "bot" / "locales"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def main(path: str) -> int:
    table = runpy.run_path(path)
    rows: list[tuple[str, str, str]] = table["ROWS"]
    for locale, index in (("zh_CN", 1), ("en", 2)):
        po = LOCALES / locale / "LC_MESSAGES" / "zhibu.po"
        existing = set(re.findall(r'^msgid "(.+)"$', po.read_text(encoding="utf-8"), re.M))
        clash = [r[0] for r in rows if r[0] in existing]
        if clash:
            print(f"{locale}: already defined: {', '.join(clash)}", file=sys.stderr)
            return 1
        out = [f"\n# --- {table['BLOCK']} ---"]
        for row in rows:
            if "{" in row[index]:
                out.append("#, python-brace-format")
            out += [f'msgid "{row[0]}"', f'msgstr "{_escape(row[index])}"', ""]
        with po.open("a", encoding="utf-8") as fh:
            fh.write("\n".join(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
