"""Derive the reduced Bot API spec (``botapi.json``) that the emulator validates against.

Run ``python -m tests.emulator.make_spec [path/to/api.json]``. The source is the official
Bot API reference as data (MIT-licensed), normally at ``/work/shared/telegram-bot-api``;
the reduced copy is committed so the test suite runs on a fresh clone without it.

Output format (compact JSON)::

    {"methods": {name: {"fields": [[field, types, required], ...], "returns": [...]}},
     "types":   {name: {"fields": [[field, types, required(, const)], ...]}
                 | {"subtypes": [...]}}}

``const`` (a 4th element, only on ``type``/``status``/``source`` fields of union members such as
``BotCommandScopeChat``) is the discriminator value the docs fix ("always "chat"", "must be
chat"); it is what lets the validator pick the right member of an abstract union type.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

DEFAULT_SOURCE = Path("/work/shared/telegram-bot-api/api.json")
TARGET = Path(__file__).with_name("botapi.json")

# Discriminator wording in the docs: 'always "user"' / 'always “user”' / 'must be default'.
_CONST_RES = (
    re.compile(r'always ["\u201c]([a-z_]+)["\u201d]'),
    re.compile(r"must be ([a-z_]+)\s*$"),
)
_DISCRIMINATORS = frozenset({"type", "status", "source"})


def _field(raw: dict[str, Any]) -> list[Any]:
    out: list[Any] = [raw["name"], list(raw["types"]), bool(raw["required"])]
    if raw["name"] in _DISCRIMINATORS and raw["types"] == ["String"]:
        desc = str(raw.get("description", ""))
        for rx in _CONST_RES:
            m = rx.search(desc)
            if m:
                out.append(m.group(1))
                break
    return out


def reduce(api: dict[str, Any]) -> dict[str, Any]:
    """Return the reduced spec for a full ``api.json`` document."""
    methods = {
        name: {
            "fields": [_field(f) for f in m.get("fields", [])],
            "returns": list(m.get("returns", [])),
        }
        for name, m in sorted(api["methods"].items())
    }
    types: dict[str, Any] = {}
    for name, t in sorted(api["types"].items()):
        if t.get("subtypes"):
            types[name] = {"subtypes": list(t["subtypes"])}
        else:
            types[name] = {"fields": [_field(f) for f in t.get("fields", [])]}
    return {"methods": methods, "types": types}


def main(argv: list[str]) -> int:
    """Write ``botapi.json`` next to this file from the given (or default) ``api.json``."""
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_SOURCE
    api = json.loads(source.read_text(encoding="utf-8"))
    reduced = reduce(api)
    TARGET.write_text(
        json.dumps(reduced, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n",
        encoding="utf-8",
    )
    print(f"wrote {TARGET} ({len(reduced['methods'])} methods, {len(reduced['types'])} types)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
