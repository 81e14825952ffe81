"""Message catalogs: every user-visible sentence is a key with a zh_CN and an en text."""

from __future__ import annotations

import html
import re
import string
from dataclasses import dataclass
from pathlib import Path

from babel.messages.pofile import read_po

DOMAIN = "zhibu"
_FIELD_RE = re.compile(r"{([a-z_][a-z0-9_]*)}")


class Html(str):
    """Text that is already safe HTML (our own markup); everything else gets escaped."""

    __slots__ = ()


def escape(value: object) -> str:
    """HTML-escape user-supplied text for parse_mode=HTML, leaving Html values alone."""
    if isinstance(value, Html):
        return value
    return html.escape(str(value), quote=False)


def placeholders(template: str) -> set[str]:
    """The {names} a catalog text expects."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


class MissingMessage(KeyError):
    """A catalog key that does not exist: a programming error caught by tests."""


@dataclass(frozen=True)
class Catalog:
    """All messages of all locales, loaded once at start-up."""

    messages: dict[str, dict[str, str]]
    default_locale: str

    @classmethod
    def load(cls, directory: Path, default_locale: str) -> Catalog:
        """Read every <locale>/LC_MESSAGES/zhibu.po below `directory`."""
        messages: dict[str, dict[str, str]] = {}
        for po in sorted(directory.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
            locale = po.parent.parent.name
            with po.open("rb") as fh:
                catalog = read_po(fh, locale=locale)
            messages[locale] = {
                str(m.id): str(m.string) for m in catalog if m.id and m.string and not m.fuzzy
            }
        if default_locale not in messages:
            raise FileNotFoundError(f"no catalog for {default_locale} in {directory}")
        return cls(messages=messages, default_locale=default_locale)

    @property
    def locales(self) -> tuple[str, ...]:
        """Every locale with a catalog, the default first."""
        return (self.default_locale, *sorted(set(self.messages) - {self.default_locale}))

    def has(self, key: str) -> bool:
        return key in self.messages[self.default_locale]

    def t(self, locale: str | None, key: str, /, **params: object) -> str:
        """The message `key` in `locale` as safe HTML, with user values escaped."""
        table = (
            self.messages.get(locale or self.default_locale) or self.messages[self.default_locale]
        )
        template = table.get(key) or self.messages[self.default_locale].get(key)
        if template is None:
            raise MissingMessage(key)
        return template.format_map({k: escape(v) for k, v in params.items()})

    def plain(self, locale: str | None, key: str, /, **params: object) -> str:
        """The message `key` as plain text (button labels, alerts, command descriptions)."""
        return html.unescape(self.t(locale, key, **params))
