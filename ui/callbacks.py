"""Callback data through one codec: `SetLanguage(locale="en").pack()` → "lang:en"."""

from __future__ import annotations

import dataclasses
import re
from typing import Any, ClassVar, Self

from telegram import InlineKeyboardButton

MAX_CALLBACK_BYTES = 64  # Telegram's limit, in UTF-8 bytes
_SAFE_STR = re.compile(r"^[A-Za-z0-9_-]{0,60}$")


class CallbackDataError(ValueError):
    """Callback data that would not fit Telegram's limits or our grammar."""


@dataclasses.dataclass(frozen=True)
class CallbackData:
    """Base for compact, typed callback payloads. Subclasses set `prefix` and int/str fields.

    Only ids and short codes go in; names and free text never do (64-byte limit, privacy).
    The handler must still re-authorize the presser: anyone can forge these bytes.
    """

    prefix: ClassVar[str]

    def pack(self) -> str:
        parts = [self.prefix]
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, str)):
                raise CallbackDataError(f"{f.name}: only int and str fields are allowed")
            if isinstance(value, str) and not _SAFE_STR.match(value):
                raise CallbackDataError(f"{f.name}: {value!r} is not a short code")
            parts.append(str(value))
        data = ":".join(parts)
        if len(data.encode()) > MAX_CALLBACK_BYTES:
            raise CallbackDataError(f"{data!r} is longer than {MAX_CALLBACK_BYTES} bytes")
        return data

    @classmethod
    def pattern(cls) -> re.Pattern[str]:
        """The regex a CallbackQueryHandler uses to route this payload."""
        return re.compile(rf"^{re.escape(cls.prefix)}(:|$)")

    @classmethod
    def unpack(cls, data: str | None) -> Self | None:
        """Parse callback data; None for anything malformed (forged, truncated, outdated)."""
        if not data:
            return None
        parts = data.split(":")
        fields = dataclasses.fields(cls)
        if parts[0] != cls.prefix or len(parts) != len(fields) + 1:
            return None
        values: dict[str, Any] = {}
        for f, raw in zip(fields, parts[1:], strict=True):
            if f.type in (int, "int"):
                if not re.fullmatch(r"-?\d{1,19}", raw):
                    return None
                values[f.name] = int(raw)
            elif _SAFE_STR.match(raw):
                values[f.name] = raw
            else:
                return None
        return cls(**values)


@dataclasses.dataclass(frozen=True)
class SetLanguage(CallbackData):
    """The /lang buttons."""

    prefix: ClassVar[str] = "lang"
    locale: str


def button(text: str, data: CallbackData) -> InlineKeyboardButton:
    """An inline button that sends `data` when pressed."""
    return InlineKeyboardButton(text, callback_data=data.pack())
