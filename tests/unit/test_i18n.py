"""The message catalogs: complete in both languages, safe with user text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.i18n import load_catalog
from ui.i18n import Html, MissingMessage, placeholders

ROOT = Path(__file__).parents[2]
CATALOG = load_catalog("zh_CN")


def test_both_locales_have_the_same_keys() -> None:
    zh, en = CATALOG.messages["zh_CN"], CATALOG.messages["en"]
    assert set(zh) == set(en)
    assert len(zh) > 10


@pytest.mark.parametrize("key", sorted(CATALOG.messages["zh_CN"]))
def test_both_locales_have_the_same_placeholders(key: str) -> None:
    assert placeholders(CATALOG.messages["zh_CN"][key]) == placeholders(CATALOG.messages["en"][key])


def test_chinese_texts_contain_no_english_words() -> None:
    # Commands (/help), placeholders, markup and file extensions are not words.
    for key, text in CATALOG.messages["zh_CN"].items():
        stripped = re.sub(r"/[a-z_]+|\{[a-z_]+\}|<[^>]+>|\.xlsx\b", "", text)
        assert not re.search(r"[A-Za-z]{2,}", stripped), key


def test_user_values_are_escaped_but_markup_is_kept() -> None:
    text = CATALOG.t("en", "start.private", name="<b>Wang & Co</b>")
    assert "&lt;b&gt;Wang &amp; Co&lt;/b&gt;" in text
    assert "<b>zhibu</b>" in text
    assert CATALOG.t("en", "help.line", command="x", description=Html("<i>y</i>")).endswith(
        "<i>y</i>"
    )


def test_plain_text_unescapes_for_buttons_and_alerts() -> None:
    assert CATALOG.plain("en", "lang.self_name") == "English"
    assert CATALOG.plain("zh_CN", "lang.self_name") == "简体中文"


def test_unknown_locale_falls_back_to_default_and_unknown_key_raises() -> None:
    assert CATALOG.t("fr", "lang.self_name") == "简体中文"
    with pytest.raises(MissingMessage):
        CATALOG.t("en", "no.such.key")


def test_every_key_used_in_code_exists() -> None:
    used: set[str] = set()
    for folder in ("handlers", "ui", "bot", "scheduler"):
        for path in (ROOT / folder).rglob("*.py"):
            source = path.read_text(encoding="utf-8")
            used |= set(
                re.findall(r"""(?:\bt|plain)\(\s*(?:[\w.]+,\s*)?"([a-z_]+\.[a-z_.]+)\"""", source)
            )
            used |= set(re.findall(r'_key="([a-z_]+\.[a-z_.]+)"', source))
            used |= set(re.findall(r'Command\("[a-z_]+", "([a-z_]+\.[a-z_.]+)"', source))
    assert used, "the scan found no keys at all"
    missing = sorted(k for k in used if not CATALOG.has(k))
    assert missing == []


def test_every_catalog_key_is_used_somewhere() -> None:
    sources = "".join(
        path.read_text(encoding="utf-8")
        for folder in ("handlers", "ui", "bot", "scheduler")
        for path in (ROOT / folder).rglob("*.py")
    )
    unused = sorted(k for k in CATALOG.messages["zh_CN"] if f'"{k}"' not in sources)
    assert unused == []


def test_no_key_is_defined_twice() -> None:
    # Parts of a feature built side by side append their keys: a key defined twice would
    # silently show one part the other's words.
    for po in (ROOT / "bot" / "locales").glob("*/LC_MESSAGES/zhibu.po"):
        keys = re.findall(r'^msgid "(.+)"$', po.read_text(encoding="utf-8"), re.M)
        twice = sorted({k for k in keys if keys.count(k) > 1})
        assert twice == [], po
