"""The /members choosers on the shared picker: which branch's roster, which member to act on,
which branch a member moves to (and /import's branch, registered by members_import; /me's
unit, by me; 党小组长's party group, by admin). Each pages through the whole list, and part
of a name typed while it is open narrows it (a draft keeps the list, its page and the typed
part)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from telegram import InlineKeyboardMarkup

from domain.members_wizard import FIND_STEPS, PICKERS, MembersFindDraft, picker_open
from domain.pickers import narrow
from handlers.common import today
from handlers.members.buttons import MoveMember, PickList, ShowMember, ShowRoster, presses
from handlers.press import Press
from handlers.wizard import narrowing
from services.authz import Actor
from services.drafts import clear_draft, keep_draft, open_draft
from services.errors import Denied, ServiceError
from services.members import member_card, roster, roster_choices, transfer_targets
from ui.callbacks import CallbackData
from ui.deps import BotContext
from ui.pickers import picker_rows, with_picker_text

FLOW = MembersFindDraft.FLOW


def _turn(step: str, key: int, find: str) -> Callable[[int], CallbackData]:
    """上一页 / 下一页 of a list: still narrowed when a part of a name was typed."""

    def turn(offset: int) -> CallbackData:
        return PickList(step, key, offset, 1 if find else 0)

    return turn


# A chooser's list, by step: (what to pick from, the question, the button an item becomes),
# read from the database for this actor (so re-authorized), or a ServiceError when they may no
# longer choose from it. Other /members modules add theirs (members_import: "import", me:
# "unit", admin: "group").
Items = tuple[Sequence[Any], str, Callable[[Any], str], Callable[[Any], CallbackData]]
ListOf = Callable[[BotContext, Actor, int], Awaitable[Items]]
LISTS: dict[str, ListOf] = {}


def chooser(step: str) -> Callable[[ListOf], ListOf]:
    """Register the list a chooser of this step shows."""

    def add(fn: ListOf) -> ListOf:
        assert step in PICKERS, step
        LISTS[step] = fn
        return fn

    return add


@chooser("roster")
async def _branches(context: BotContext, actor: Actor, key: int) -> Items:
    choices = await roster_choices(context.deps.db, actor, today(context))
    if not choices:
        raise Denied("auth.denied")
    return choices, context.t("members.pick"), lambda o: o.name, lambda o: ShowRoster(o.id)


@chooser("member")
async def _members(context: BotContext, actor: Actor, key: int) -> Items:
    result = await roster(context.deps.db, actor, key, today(context))
    if not result.can_manage:
        raise Denied("auth.manage_members")
    question = context.t("members.pick_member", branch=result.org.name)
    return result.entries, question, lambda e: e.name or "?", lambda e: ShowMember(e.member_id)


@chooser("target")
async def _targets(context: BotContext, actor: Actor, key: int) -> Items:
    db, day = context.deps.db, today(context)
    card = await member_card(db, actor, key, day)
    targets = await transfer_targets(db, actor, key, day)
    if not targets:
        raise ServiceError("member.bad_transfer_target")
    question = context.t("members.pick_target", name=card.entry.name)
    return targets, question, lambda o: o.name, lambda o: MoveMember(key, o.id)


async def screen(
    context: BotContext, actor: Actor, step: str, key: int, offset: int, find: str
) -> tuple[str, InlineKeyboardMarkup]:
    """A page of one chooser, narrowed to the names holding `find`, re-read from the database."""
    chosen = LISTS.get(step)
    if chosen is None:
        raise ServiceError("stale")
    items, question, name, pick = await chosen(context, actor, key)
    page = narrow(items, name, offset, find)
    rows = picker_rows(
        context, page, label=name, pick=pick, turn=_turn(step, key, find),
        everything=PickList(step, key, 0, 0),
    )  # fmt: skip
    return with_picker_text(context, question, page), InlineKeyboardMarkup(rows)


async def show_new(
    context: BotContext, actor: Actor, chat_id: int, step: str, key: int, offset: int = 0
) -> None:
    """A chooser as a new message (the screen it was opened from stays); typed text next
    narrows it."""
    text, markup = await screen(context, actor, step, key, offset, "")
    draft = picker_open(step, key, offset)
    await keep_draft(context.deps.db, actor.user_id, draft, context.deps.clock.now())
    await context.bot.send_message(chat_id, text, reply_markup=markup)


@presses.on(PickList, step=PICKERS, found=(0, 1))
async def pick_list(press: Press[PickList], context: BotContext) -> None:
    """Another page of a chooser, or 显示全部: re-checked in the database, shown in place."""
    data = press.data
    await show_page(press, context, data.step, data.key, data.offset, found=bool(data.found))


async def show_page(
    press: Press[Any], context: BotContext, step: str, key: int, offset: int, *, found: bool = False
) -> None:
    """A chooser's page in place of the pressed one; `found`: still narrowed by the part of a
    name typed for this list."""
    db = context.deps.db
    if offset < 0:
        await press.refuse("stale")
        return
    find = ""
    if found:
        kept = await open_draft(db, press.user_id, MembersFindDraft)
        if isinstance(kept, MembersFindDraft) and (kept.step, kept.key) == (step, key):
            find = kept.find
    text, markup = await screen(context, press.actor, step, key, offset, find)
    await keep_draft(
        db, press.user_id, picker_open(step, key, offset, find), context.deps.clock.now()
    )
    await press.answer()
    await press.edit(text, markup)


async def picked(context: BotContext, user_id: int) -> None:
    """A choice made: the chooser's typed question is let go."""
    await clear_draft(context.deps.db, user_id, FLOW)


# Part of a name typed while a chooser is open: its list narrowed to the names holding it.
typed_find = narrowing(MembersFindDraft, FIND_STEPS, screen)
