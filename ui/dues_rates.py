"""How a committee's rate table looks: the table in force and where it comes from, the edit
screens, old against new before 确认, and the reply after saving (prefixes "dr…")."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import ClassVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from domain.dues import Bracket, RateTable, yuan
from domain.dues_rates import KIND_STEP, KINDS, RatesDraft
from services.dues_rates import RatesSaved, RatesView
from ui.callbacks import CallbackData, button
from ui.dues_standards import bracket_text, rate_text
from ui.i18n import Catalog, Html


@dataclasses.dataclass(frozen=True)
class RatesOpen(CallbackData):
    """党费计算标准: a committee's table in force (0: choose the committee first)."""

    prefix: ClassVar[str] = "dro"
    org_id: int


@dataclasses.dataclass(frozen=True)
class RatesEdit(CallbackData):
    """修改: start editing a committee's table."""

    prefix: ClassVar[str] = "dre"
    org_id: int


@dataclasses.dataclass(frozen=True)
class RatesStep(CallbackData):
    """A button while editing: bracket (value), fixed, inherit, preview, keep, back, ok,
    cancel."""

    prefix: ClassVar[str] = "drs"
    action: str
    value: int = 0


KIND_KEYS = {"working": "dues.rates.kind.working", "retired": "dues.rates.kind.retired"}
SHORT_KIND_KEYS = {"working": "dues.rates.kind_short.working",
                   "retired": "dues.rates.kind_short.retired"}  # fmt: skip


def _lower(brackets: Sequence[Bracket], index: int) -> int | None:
    return brackets[index - 1].upper_fen if index > 0 else None


def table_text(catalog: Catalog, locale: str | None, table: RateTable) -> str:
    """A table as lines: each kind's brackets with their rates, then the fixed amounts."""
    lines: list[str] = []
    for kind in KINDS:
        lines.append(catalog.t(locale, KIND_KEYS[kind]))
        brackets = table.retired if kind == "retired" else table.working
        for i, b in enumerate(brackets):
            bracket = bracket_text(catalog, locale, _lower(brackets, i), b.upper_fen)
            lines.append(catalog.t(locale, "dues.rates.line.bracket", bracket=Html(bracket),
                                   rate=rate_text(b.permille)))  # fmt: skip
    lines.append(catalog.t(locale, "dues.rates.line.fixed", amount=yuan(table.fixed_fen)))
    lines.append(catalog.t(locale, "dues.rates.line.farmer", low=yuan(table.farmer_low_fen),
                           high=yuan(table.farmer_high_fen)))  # fmt: skip
    return "\n".join(lines)


def _source(catalog: Catalog, locale: str | None, local: bool, name: str, above: str) -> str:
    if local:
        return catalog.t(locale, "dues.rates.source.own", org=name)
    if above:
        return catalog.t(locale, "dues.rates.source.above", org=above)
    return catalog.t(locale, "dues.rates.source.national")


def rates_screen(
    catalog: Catalog, locale: str | None, view: RatesView
) -> tuple[str, InlineKeyboardMarkup]:
    """The committee's table in force, where it comes from, and 修改."""
    text = catalog.t(locale, "dues.rates.title", org=view.org_name) + "\n" + _source(
        catalog, locale, view.local, view.org_name, view.inherited_source
    ) + "\n\n" + table_text(catalog, locale, view.table) + "\n\n" + catalog.t(
        locale, "dues.rates.explain"
    )  # fmt: skip
    markup = InlineKeyboardMarkup(
        [[button(catalog.plain(locale, "dues.rates.edit"), RatesEdit(view.org_id))]]
    )
    return text, markup


def _row(*buttons: InlineKeyboardButton) -> list[InlineKeyboardButton]:
    return list(buttons)


def draft_screen(
    catalog: Catalog, locale: str | None, draft: RatesDraft
) -> tuple[str, InlineKeyboardMarkup]:
    """The screen of the draft's step, with its buttons."""
    p = catalog.plain
    cancel = button(p(locale, "wizard.cancel"), RatesStep("cancel"))
    back = button(p(locale, "wizard.back"), RatesStep("back"))
    keep = button(p(locale, "dues.rates.keep"), RatesStep("keep"))
    if draft.step == "table":
        return _table_step(catalog, locale, draft)
    if draft.step in ("upper", "rate"):
        brackets = draft.brackets()
        current = brackets[draft.index]
        bracket = bracket_text(catalog, locale, _lower(brackets, draft.index), current.upper_fen)
        head = catalog.t(locale, "dues.rates.editing", kind=Html(catalog.t(
            locale, SHORT_KIND_KEYS[draft.kind])), bracket=Html(bracket))  # fmt: skip
        if draft.step == "upper":
            ask = catalog.t(locale, "dues.rates.ask_upper", now=yuan(current.upper_fen or 0))
        else:
            ask = catalog.t(locale, "dues.rates.ask_rate", now=rate_text(current.permille))
        return head + "\n\n" + ask, InlineKeyboardMarkup([_row(keep, back), _row(cancel)])
    if draft.step == "fixed":
        ask = catalog.t(locale, "dues.rates.ask_fixed", now=yuan(draft.table.fixed_fen))
        return ask, InlineKeyboardMarkup([_row(keep, back), _row(cancel)])
    if draft.step == "farmer":
        ask = catalog.t(locale, "dues.rates.ask_farmer", low=yuan(draft.table.farmer_low_fen),
                        high=yuan(draft.table.farmer_high_fen))  # fmt: skip
        return ask, InlineKeyboardMarkup([_row(keep, back), _row(cancel)])
    return preview_screen(catalog, locale, draft)


def _table_step(
    catalog: Catalog, locale: str | None, draft: RatesDraft
) -> tuple[str, InlineKeyboardMarkup]:
    p = catalog.plain
    source = _source(catalog, locale, draft.local, draft.org_name, draft.inherited_from)
    text = (catalog.t(locale, "dues.rates.editing_title", org=draft.org_name) + "\n" + source
            + "\n\n" + table_text(catalog, locale, draft.table) + "\n\n"
            + catalog.t(locale, "dues.rates.pick"))  # fmt: skip
    rows: list[list[InlineKeyboardButton]] = []
    for kind_index, kind in enumerate(KINDS):
        brackets = draft.table.retired if kind == "retired" else draft.table.working
        for i, b in enumerate(brackets):
            bracket = bracket_text(catalog, locale, _lower(brackets, i), b.upper_fen)
            label = p(locale, "dues.rates.button.bracket", kind=p(locale, SHORT_KIND_KEYS[kind]),
                      bracket=bracket, rate=rate_text(b.permille))  # fmt: skip
            rows.append([button(label, RatesStep("bracket", kind_index * KIND_STEP + i))])
    rows.append([button(p(locale, "dues.rates.button.fixed"), RatesStep("fixed"))])
    if draft.local:
        key = "dues.rates.button.above" if draft.inherited_from else "dues.rates.button.national"
        rows.append([button(p(locale, key), RatesStep("inherit"))])
    if draft.changed:
        rows.append([button(p(locale, "dues.rates.button.preview"), RatesStep("preview"))])
    rows.append([button(p(locale, "wizard.cancel"), RatesStep("cancel"))])
    return text, InlineKeyboardMarkup(rows)


def preview_screen(
    catalog: Catalog, locale: str | None, draft: RatesDraft
) -> tuple[str, InlineKeyboardMarkup]:
    """Old against new, what happens to confirmed standards, and 确认 / 返回."""
    after = _source(catalog, locale, draft.local, draft.org_name, draft.inherited_from)
    text = catalog.t(
        locale, "dues.rates.preview", org=draft.org_name,
        before=Html(table_text(catalog, locale, draft.before)),
        after=Html(table_text(catalog, locale, draft.table)), source=Html(after),
    )  # fmt: skip
    p = catalog.plain
    rows = [
        [button(p(locale, "dues.rates.button.ok"), RatesStep("ok"))],
        [button(p(locale, "wizard.back"), RatesStep("back")),
         button(p(locale, "wizard.cancel"), RatesStep("cancel"))],
    ]  # fmt: skip
    return text, InlineKeyboardMarkup(rows)


def saved_text(catalog: Catalog, locale: str | None, saved: RatesSaved) -> str:
    """The reply after 确认."""
    key = "dues.rates.saved" if saved.local else "dues.rates.saved_inherited"
    return catalog.t(locale, key, org=saved.org_name,
                     table=Html(table_text(catalog, locale, saved.after)))  # fmt: skip
