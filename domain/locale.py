"""Which of our languages a person gets."""

from __future__ import annotations

SUPPORTED_LOCALES: tuple[str, ...] = ("zh_CN", "en")


def negotiate_locale(language_code: str | None, default: str) -> str:
    """Map Telegram's IETF language code (e.g. "zh-hans", "en-US") to a supported locale."""
    if not language_code:
        return default
    primary = language_code.replace("_", "-").split("-")[0].lower()
    if primary == "zh":
        return "zh_CN"
    if primary == "en":
        return "en"
    return default


def is_supported(locale: str) -> bool:
    """True when we have a complete catalog for this locale."""
    return locale in SUPPORTED_LOCALES
