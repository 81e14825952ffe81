"""A branch's dues settings (党费设置): which values each one may take, reading a typed value,
and which payment day is in force in a month when the keeper changed it.

A changed payment day takes effect from the next month: the month of the change keeps the day
it began with, so that month's reminder goes once — never twice (moved later after it went),
never skipped (moved to a day already past before it went).
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Iterable
from enum import StrEnum
from typing import ClassVar

from domain.dues import Invalid, Month
from domain.wizard import Draft


class Setting(StrEnum):
    """What the keeper may change."""

    DAY = "day"  # the payment day, 1–28
    AHEAD = "ahead"  # months one may pay in advance, 0–12
    BACK = "back"  # months of arrears one may still pay, 1–12
    EVERY = "every"  # how often to disclose: 3, 6 or 12 months


# Each setting's column in dues_settings, and the audit action its change is recorded as.
COLUMNS = {
    Setting.DAY: "payment_day",
    Setting.AHEAD: "advance_cap",
    Setting.BACK: "arrears_cap",
    Setting.EVERY: "disclosure_months",
}
ACTIONS = {setting: f"dues.settings.{COLUMNS[setting]}" for setting in Setting}
PAYMENT_DAY_ACTION = ACTIONS[Setting.DAY]

DAY_CHOICES = (1, 5, 10, 15, 20, 25)  # the buttons; any day 1–28 may be typed
EVERY_CHOICES = (3, 6, 12)
RANGES = {
    Setting.DAY: (1, 28),  # 28: every month has the day
    Setting.AHEAD: (0, 12),
    Setting.BACK: (1, 12),  # the month just past may always be paid
}
TYPED = (Setting.DAY, Setting.AHEAD, Setting.BACK)
_NUMBER = re.compile(r"[0-9]{1,3}")
_UNITS = ("个月", "日", "号", "月", "天")
MAX_TYPED = 20  # longer than any way of writing a small number


def check(setting: Setting, value: int) -> Invalid | None:
    """Whether the value is one the setting may take."""
    if setting is Setting.EVERY:
        return None if value in EVERY_CHOICES else Invalid("dues.settings.every_invalid")
    low, high = RANGES[setting]
    return None if low <= value <= high else Invalid(f"dues.settings.{setting.value}_range")


def parse(setting: Setting, text: str) -> int | Invalid:
    """A typed value: "10", "１０" (full-width), "10日", "10号", "3个月"; anything else, or
    a number outside the setting's range, refused."""
    if len(text) > MAX_TYPED:
        return Invalid("dues.settings.not_number")
    plain = unicodedata.normalize("NFKC", text).strip()
    for unit in _UNITS:
        if plain.endswith(unit):
            plain = plain[: -len(unit)].strip()
            break
    if not _NUMBER.fullmatch(plain):
        return Invalid("dues.settings.not_number")
    value = int(plain)
    refused = check(setting, value)
    return refused if refused is not None else value


def day_in_force(month: Month, current: int, changes: Iterable[tuple[Month, int]]) -> int:
    """The payment day that applies in `month`: the day the branch had when the month began.

    `changes` are the payment-day changes, oldest first, each as (the local month it was made
    in, the day before it). The first change made in `month` or later tells what the day was
    when the month began; without one, the current day applies."""
    for made_in, before in changes:
        if made_in >= month:
            return before
    return current


@dataclasses.dataclass(frozen=True)
class SettingsDraft(Draft):
    """A keeper asked to type a value: which branch and which setting."""

    FLOW: ClassVar[str] = "dues_settings"
    VERSION: ClassVar[int] = 1

    org_id: int = 0
    what: str = ""


def asking(org_id: int, setting: Setting) -> SettingsDraft:
    """Waiting for a typed value of one setting."""
    return SettingsDraft(step="ask", org_id=org_id, what=setting.value)
