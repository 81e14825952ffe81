"""Buttons go through handlers.press: no hand-made callback handlers, no payload left unrouted."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType

import handlers
from handlers.press import Presses
from ui.callbacks import CallbackData

# The handler modules whose buttons were moved onto handlers.press (the others follow).
CONVERTED = (
    "handlers.groups",
    "handlers.lang",
    "handlers.ledger",
    "handlers.members",
    "handlers.minutes",
    "handlers.orgs",
    "handlers.members_registration",
    "handlers.members_import",
)


def _modules(name: str) -> list[ModuleType]:
    module = importlib.import_module(name)
    found = [module]
    if hasattr(module, "__path__"):
        for info in pkgutil.iter_modules(module.__path__, name + "."):
            found.append(importlib.import_module(info.name))
    return found


def test_converted_modules_handle_no_callback_query_by_hand() -> None:
    for name in CONVERTED:
        for module in _modules(name):
            source = inspect.getsource(module)
            assert "CallbackQueryHandler" not in source, module.__name__
            assert "callback_query" not in source, module.__name__
            assert "assert query is not None" not in source, module.__name__


def test_every_payload_defined_there_is_routed() -> None:
    routed: set[type[CallbackData]] = set()
    defined: set[type[CallbackData]] = set()
    for info in pkgutil.walk_packages(handlers.__path__, "handlers."):
        for value in vars(importlib.import_module(info.name)).values():
            if isinstance(value, Presses):
                routed.update(value.codecs())
    for name in CONVERTED:
        for module in _modules(name):
            for value in vars(module).values():
                if (
                    inspect.isclass(value)
                    and issubclass(value, CallbackData)
                    and value.__module__ == module.__name__
                ):
                    defined.add(value)
    assert defined  # the scan found the payloads
    assert defined <= routed, sorted(c.__name__ for c in defined - routed)
