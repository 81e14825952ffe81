"""How 党费设置 looks: the branch's settings with a button to change each, the question for
each setting (buttons, or a typed number), and which branch first for a keeper of several
(prefixes "dst…")."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from domain.dues_settings import DAY_CHOICES, EVERY_CHOICES, RANGES, Setting
from services.dues_settings import SettingsScreen
from ui.callbacks import CallbackData, button
from ui.dues_disclose import EVERY_KEYS, DiscOpen
from ui.i18n import Catalog


@dataclasses.dataclass(frozen=True)
class SettingsOpen(CallbackData):
    """党费设置: a branch's settings (org 0: choose the branch first)."""

    prefix: ClassVar[str] = "dst"
    org_id: int


@dataclasses.dataclass(frozen=True)
class SettingsAsk(CallbackData):
    """改…: the question for one setting ("day", "ahead", "back", "every")."""

    prefix: ClassVar[str] = "dsta"
    org_id: int
    what: str


@dataclasses.dataclass(frozen=True)
class SettingsSet(CallbackData):
    """A value chosen for one setting."""

    prefix: ClassVar[str] = "dstv"
    org_id: int
    what: str
    value: int


ASK_KEYS = {
    Setting.DAY: "dues.settings.ask.day",
    Setting.AHEAD: "dues.settings.ask.ahead",
    Setting.BACK: "dues.settings.ask.back",
    Setting.EVERY: "dues.settings.ask.every",
}
BUTTON_KEYS = {
    Setting.DAY: "dues.settings.button.day",
    Setting.AHEAD: "dues.settings.button.ahead",
    Setting.BACK: "dues.settings.button.back",
    Setting.EVERY: "dues.settings.button.every",
}
SAVED_KEYS = {
    Setting.DAY: "dues.settings.saved.day",
    Setting.AHEAD: "dues.settings.saved.ahead",
    Setting.BACK: "dues.settings.saved.back",
    Setting.EVERY: "dues.settings.saved.every",
}


def _every(catalog: Catalog, locale: str | None, months: int) -> str:
    return catalog.plain(locale, EVERY_KEYS.get(months, EVERY_KEYS[3]))


def settings_screen(
    catalog: Catalog, locale: str | None, screen: SettingsScreen
) -> tuple[str, InlineKeyboardMarkup]:
    """The branch's settings in plain words, a button to change each, and the way to the
    公示 screen for the show-amounts switch."""
    view = screen.settings
    parts: list[str] = []
    if screen.changed is not None:
        parts.append(catalog.t(locale, SAVED_KEYS[screen.changed]))
    body = catalog.t(
        locale, "dues.settings.screen", branch=screen.org_name, day=view.payment_day,
        ahead=view.advance_cap, back=view.arrears_cap,
        every=_every(catalog, locale, view.disclosure_months),
    )  # fmt: skip
    parts.append(body)
    if screen.day_this_month != view.payment_day:
        parts.append(catalog.t(locale, "dues.settings.day_pending", now=screen.day_this_month,
                               day=view.payment_day))  # fmt: skip
    amounts = "dues.disclose.mode_on" if view.show_amounts else "dues.disclose.mode_off"
    parts.append(catalog.t(locale, amounts) + "\n" + catalog.t(locale, "dues.settings.amounts"))
    p = catalog.plain
    org_id = screen.org_id
    rows = [[button(p(locale, BUTTON_KEYS[s]), SettingsAsk(org_id, s.value))] for s in Setting]
    rows.append([button(p(locale, "dues.settings.button.disclose"), DiscOpen(org_id))])
    return "\n\n".join(parts), InlineKeyboardMarkup(rows)


def _mark(label: str, chosen: bool) -> str:
    return f"✓ {label}" if chosen else label


def _grid(buttons: list[InlineKeyboardButton], width: int) -> list[list[InlineKeyboardButton]]:
    return [buttons[i : i + width] for i in range(0, len(buttons), width)]


def ask_screen(
    catalog: Catalog, locale: str | None, screen: SettingsScreen, setting: Setting
) -> tuple[str, InlineKeyboardMarkup]:
    """The question for one setting: what it means, its buttons (✓ the value in force), and,
    for the numbers, that one may type one."""
    view, org_id, p = screen.settings, screen.org_id, catalog.plain
    current = {Setting.DAY: view.payment_day, Setting.AHEAD: view.advance_cap,
               Setting.BACK: view.arrears_cap,
               Setting.EVERY: view.disclosure_months}[setting]  # fmt: skip
    if setting is Setting.EVERY:
        choices = [
            button(_mark(_every(catalog, locale, m), m == current),
                   SettingsSet(org_id, setting.value, m))
            for m in EVERY_CHOICES
        ]  # fmt: skip
        rows = _grid(choices, 3)
        text = catalog.t(locale, ASK_KEYS[setting], branch=screen.org_name,
                         now=_every(catalog, locale, current))  # fmt: skip
    else:
        low, high = RANGES[setting]
        values = list(DAY_CHOICES) if setting is Setting.DAY else list(range(low, high + 1))
        label = "dues.settings.day_label" if setting is Setting.DAY else "dues.settings.months"
        choices = [
            button(_mark(p(locale, label, count=v), v == current),
                   SettingsSet(org_id, setting.value, v))
            for v in values
        ]  # fmt: skip
        rows = _grid(choices, 3 if setting is Setting.DAY else 5)
        text = catalog.t(locale, ASK_KEYS[setting], branch=screen.org_name, now=current,
                         low=low, high=high)  # fmt: skip
    rows.append([button(p(locale, "dues.settings.back_to"), SettingsOpen(org_id))])
    return text, InlineKeyboardMarkup(rows)
