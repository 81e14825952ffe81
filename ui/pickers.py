"""How every long chooser looks: a page of names, 上一页 / 下一页, and what typing does.

One picker for branches, committees, members, meetings and notices (rules in
domain.pickers): the screen says how many there are and which ones are shown, that typing
part of a name narrows the list, and offers 显示全部 once it is narrowed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from telegram import InlineKeyboardButton

from domain.pickers import PAGE, Slice
from ui.callbacks import CallbackData, button
from ui.deps import BotContext

T = TypeVar("T")
Keyboard = list[list[InlineKeyboardButton]]
NAME_MAX = 40  # characters of a name on a button


def short(name: str, limit: int = NAME_MAX) -> str:
    """A name cut to fit on a button."""
    return name if len(name) <= limit else name[: limit - 1] + "…"


def picker_text(context: BotContext, page: Slice[T], size: int = PAGE) -> str:
    """What is shown of the list (narrowed to a typed part, which page) and that typing part
    of a name finds one; empty for a short list nobody narrowed."""
    lines = []
    if page.part:
        key = "picker.found" if page.total else "picker.none"
        lines.append(context.t(key, part=page.part, count=page.total))
    if page.total > size:
        last = page.offset + len(page.items)
        lines.append(context.t("picker.page", first=page.offset + 1, last=last, total=page.total))
    if page.part or page.total > size:
        lines.append(context.t("picker.hint"))
    return "\n".join(lines)


def with_picker_text(context: BotContext, question: str, page: Slice[T], size: int = PAGE) -> str:
    """A question with the picker's lines under it."""
    more = picker_text(context, page, size)
    return question + "\n\n" + more if more else question


def picker_rows(
    context: BotContext,
    page: Slice[T],
    *,
    label: Callable[[T], str],
    pick: Callable[[T], CallbackData],
    turn: Callable[[int], CallbackData],
    everything: CallbackData | None = None,
    size: int = PAGE,
) -> Keyboard:
    """A button per item of the page, then 上一页 / 下一页, then 显示全部 when narrowed."""
    rows: Keyboard = [[button(short(label(item)), pick(item))] for item in page.items]
    pager = []
    if page.offset > 0:
        pager.append(button(context.plain("common.prev"), turn(max(0, page.offset - size))))
    if page.offset + size < page.total:
        pager.append(button(context.plain("common.next"), turn(page.offset + size)))
    if pager:
        rows.append(pager)
    if page.part and everything is not None:
        rows.append([button(context.plain("picker.show_all"), everything)])
    return rows
