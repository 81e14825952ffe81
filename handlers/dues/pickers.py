"""The /dues choosers on the shared picker: which branch (for a keeper of several), which
committee (上缴情况), which register or roll-up (党费台账). Each pages through the whole list,
and part of a name typed while it is open narrows it (a draft keeps which chooser, its page
and the typed part). Each part of the feature registers its list with `chooser`."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, ClassVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from domain.dues_pickers import FIND_STEPS, PICKERS, DuesFindDraft, picker_open
from domain.pickers import narrow
from handlers.dues.common import presses
from handlers.press import Press
from handlers.wizard import WizardRouter, narrowing
from services.authz import Actor
from services.drafts import keep_draft, open_draft
from services.errors import ServiceError
from ui.callbacks import CallbackData
from ui.deps import BotContext
from ui.pickers import picker_rows, with_picker_text

FLOW = DuesFindDraft.FLOW


@dataclasses.dataclass(frozen=True)
class DuesPick(CallbackData):
    """A page of a /dues chooser (domain.dues_pickers.PICKERS) carrying `key` on; found 1:
    still narrowed by the part of a name typed for it (kept in the draft), 0: the whole list
    (显示全部)."""

    prefix: ClassVar[str] = "dpk"
    step: str
    key: int
    offset: int
    found: int = 0


@dataclasses.dataclass(frozen=True)
class Chooser:
    """What a chooser lists (read for this person, so re-authorized), the question above it,
    the name each item is found by, the press it becomes, its label when not just the name,
    and rows kept under the list."""

    items: Sequence[Any]
    question: str
    name: Callable[[Any], str]
    pick: Callable[[Any], CallbackData]
    label: Callable[[Any], str] | None = None
    below: tuple[tuple[InlineKeyboardButton, ...], ...] = ()


ListOf = Callable[[BotContext, Actor, int], Awaitable[Chooser]]
LISTS: dict[str, ListOf] = {}


def chooser(step: str) -> Callable[[ListOf], ListOf]:
    """Register the list the chooser of this step shows (a ServiceError when the person may no
    longer choose from it)."""

    def add(fn: ListOf) -> ListOf:
        assert step in PICKERS, step
        LISTS[step] = fn
        return fn

    return add


async def screen(
    context: BotContext, actor: Actor, step: str, key: int, offset: int, find: str
) -> tuple[str, InlineKeyboardMarkup]:
    """A page of one chooser, narrowed to the names holding `find`, re-read from the database."""
    listed = LISTS.get(step)
    if listed is None:
        raise ServiceError("stale")
    chosen = await listed(context, actor, key)
    page = narrow(chosen.items, chosen.name, offset, find)

    def turn(at: int) -> CallbackData:
        return DuesPick(step, key, at, 1 if find else 0)

    rows = picker_rows(
        context, page, label=chosen.label or chosen.name, pick=chosen.pick, turn=turn,
        everything=DuesPick(step, key, 0, 0),
    )  # fmt: skip
    rows += [list(row) for row in chosen.below]
    return with_picker_text(context, chosen.question, page), InlineKeyboardMarkup(rows)


async def show(
    press: Press[Any], context: BotContext, step: str, key: int, offset: int = 0, find: str = ""
) -> None:
    """A chooser's page in place of the pressed message; typed text next narrows it."""
    if offset < 0:
        await press.refuse("stale")
        return
    text, markup = await screen(context, press.actor, step, key, offset, find)
    draft = picker_open(step, key, offset, find)
    await keep_draft(context.deps.db, press.user_id, draft, context.deps.clock.now())
    await press.answer()
    await press.edit(text, markup)


@presses.on(DuesPick, step=PICKERS, found=(0, 1))
async def pick_page(press: Press[DuesPick], context: BotContext) -> None:
    """Another page of a chooser, or 显示全部: re-checked in the database, shown in place."""
    data = press.data
    find = ""
    if data.found:
        kept = await open_draft(context.deps.db, press.user_id, DuesFindDraft)
        if isinstance(kept, DuesFindDraft) and (kept.step, kept.key) == (data.step, data.key):
            find = kept.find
    await show(press, context, data.step, data.key, data.offset, find)


# Part of a name typed while a chooser is open: its list narrowed to the names holding it.
typed_find = narrowing(DuesFindDraft, FIND_STEPS, screen, "dues")


def register(router: WizardRouter) -> None:
    """The typed part of a name, while a chooser is open."""
    router.on_text(FLOW, typed_find)
