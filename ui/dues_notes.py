"""Dues notes for other people, rendered once per language (services.dues_notes picks each
reader's)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from ui.i18n import Catalog

T = TypeVar("T")


def in_every_locale(catalog: Catalog, render: Callable[[str], T]) -> dict[str, T]:
    """`render(locale)` for every locale of the catalog, keyed by locale."""
    return {locale: render(locale) for locale in catalog.locales}
