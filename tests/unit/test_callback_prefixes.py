"""Every callback codec has its own prefix: two features sharing one would route each other's
presses to the wrong handler."""

from __future__ import annotations

import importlib
import pkgutil
from collections import defaultdict

import handlers
import ui
from ui.callbacks import CallbackData


def _codecs() -> list[type[CallbackData]]:
    for package in (ui, handlers):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            importlib.import_module(module.name)
    found: list[type[CallbackData]] = []
    todo = list(CallbackData.__subclasses__())
    while todo:
        codec = todo.pop()
        found.append(codec)
        todo.extend(codec.__subclasses__())
    # Codecs the tests define for themselves are not the product's.
    ours = ("ui.", "handlers.")
    return [c for c in found if "prefix" in vars(c) and c.__module__.startswith(ours)]


def test_no_two_codecs_share_a_prefix() -> None:
    owners: dict[str, list[str]] = defaultdict(list)
    for codec in _codecs():
        owners[codec.prefix].append(f"{codec.__module__}.{codec.__qualname__}")
    shared = {prefix: names for prefix, names in owners.items() if len(names) > 1}
    assert len(owners) > 50  # the walk found the codebase's codecs
    assert shared == {}
