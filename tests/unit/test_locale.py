"""Choosing a language from what Telegram tells us."""

from __future__ import annotations

import pytest

from domain.locale import negotiate_locale


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("zh-hans", "zh_CN"),
        ("zh-hant", "zh_CN"),
        ("zh", "zh_CN"),
        ("en", "en"),
        ("en-US", "en"),
        ("fr", "zh_CN"),
        (None, "zh_CN"),
        ("", "zh_CN"),
    ],
)
def test_telegram_language_codes_map_to_our_locales(code: str | None, expected: str) -> None:
    assert negotiate_locale(code, "zh_CN") == expected


def test_default_locale_is_used_for_unknown_languages() -> None:
    assert negotiate_locale("de", "en") == "en"
