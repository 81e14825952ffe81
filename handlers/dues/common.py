"""What the dues handlers share: the one `Presses("dues")`, and the /dues menu's entries,
which each part of the feature adds for the people it serves."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from handlers.press import Presses
from services.dues import DuesAccess
from ui.callbacks import CallbackData

presses = Presses("dues")


@dataclass(frozen=True)
class MenuEntry:
    """One /dues button: its label (catalog key), the press it sends, and who sees it."""

    label_key: str
    data: Callable[[DuesAccess], CallbackData]
    shown: Callable[[DuesAccess], bool]
    order: int = 50


# Filled in by the dues handler modules when imported; /dues shows what applies, by order.
MENU: list[MenuEntry] = []


def menu_entry(entry: MenuEntry) -> None:
    """Add a button to /dues."""
    MENU.append(entry)
    MENU.sort(key=lambda e: (e.order, e.label_key))
