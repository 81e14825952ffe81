"""Where the message catalogs live and how they are loaded."""

from __future__ import annotations

from pathlib import Path

from ui.i18n import Catalog

LOCALES_DIR = Path(__file__).with_name("locales")


def load_catalog(default_locale: str) -> Catalog:
    """Load every shipped catalog (zh_CN and en)."""
    return Catalog.load(LOCALES_DIR, default_locale)
