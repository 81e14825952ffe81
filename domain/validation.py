"""Checking what people type: names, phones, dates. Errors are codes, not sentences."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

NAME_MAX = 30
# ASCII only: \d would also take Arabic-Indic and other digits that NFKC leaves alone.
_PHONE_RE = re.compile(r"^1[3-9]\d{9}$", re.ASCII)
# Real names: Han characters, letters (minority and foreign names), the middle dot
# used in transliterated names, spaces and hyphens.
_NAME_CHAR = re.compile(r"[\w·•・\- ]")


@dataclass(frozen=True)
class Invalid:
    """Why an input was refused: a catalog-key suffix such as "name.too_long"."""

    code: str


def clean_text(text: str) -> str:
    """NFC-normalized, control characters removed, whitespace collapsed and trimmed."""
    # Normalize after dropping control characters: a format character such as U+200D
    # blocks composition, so removing it can leave text that NFC would change again.
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch in " \t\n")
    text = unicodedata.normalize("NFC", text)
    return re.sub(r"\s+", " ", text).strip()


def parse_real_name(text: str) -> str | Invalid:
    """A real name as people write it, e.g. "王芳" or "阿依古丽·买买提"."""
    name = clean_text(text)
    if not name:
        return Invalid("name.empty")
    if len(name) > NAME_MAX:
        return Invalid("name.too_long")
    if any(ch.isdigit() for ch in name) or not all(_NAME_CHAR.match(ch) for ch in name):
        return Invalid("name.bad_chars")
    if len(name) < 2 and not name.isascii():
        return Invalid("name.too_short")
    return name


def parse_phone(text: str) -> str | Invalid:
    """A mainland mobile number: 11 digits starting with 1; spaces, dashes and +86 allowed."""
    digits = re.sub(r"[\s\-()（）]", "", unicodedata.normalize("NFKC", text))
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    if not _PHONE_RE.match(digits):
        return Invalid("phone.invalid")
    return digits


def parse_short_text(text: str, limit: int) -> str | Invalid:
    """A one-line free text such as a unit or group name."""
    value = clean_text(text)
    if not value:
        return Invalid("text.empty")
    if len(value) > limit:
        return Invalid("text.too_long")
    return value


_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def parse_date(text: str) -> date | Invalid:
    """A calendar date as secretaries write it: 2024-07-01, 2024/7/1, 2024年7月1日, 20240701."""
    value = clean_text(unicodedata.normalize("NFKC", text))
    for pattern in _DATE_PATTERNS:
        m = pattern.match(value)
        if m:
            try:
                return date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                return Invalid("date.invalid")
    return Invalid("date.invalid")


def mask_phone(phone: str) -> str:
    """138****8000: enough to recognize, not enough to call."""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"
