"""The /members choosers on the shared picker: which branch's roster, which member to act on,
which branch a member moves to. Each pages through the whole list, and part of a name typed
while it is open narrows it (a draft keeps the list, its page and the typed part)."""

from __future__ import annotations

from collections.abc import Callable

from telegram import InlineKeyboardMarkup, Update

from domain.members_wizard import FIND_STEPS, PICKERS, MembersFindDraft, picker_open
from domain.pickers import narrow
from domain.wizard import Event, Refusal, apply
from handlers.common import actor_of, today
from handlers.members.buttons import MoveMember, PickList, ShowMember, ShowRoster, presses
from handlers.press import Press
from handlers.wizard import typed_draft
from services.authz import Actor
from services.drafts import DraftView, clear_draft, keep_draft, open_draft
from services.errors import Denied, ServiceError
from services.members import member_card, roster, roster_choices, transfer_targets
from ui.callbacks import CallbackData
from ui.deps import BotContext
from ui.errors import error_key
from ui.pickers import picker_rows, with_picker_text

FLOW = MembersFindDraft.FLOW


def _turn(step: str, key: int, find: str) -> Callable[[int], CallbackData]:
    """上一页 / 下一页 of a list: still narrowed when a part of a name was typed."""

    def turn(offset: int) -> CallbackData:
        return PickList(step, key, offset, 1 if find else 0)

    return turn


async def screen(
    context: BotContext, actor: Actor, step: str, key: int, offset: int, find: str
) -> tuple[str, InlineKeyboardMarkup]:
    """A page of one chooser, read (and so re-authorized) from the database; refused with a
    ServiceError when the actor may no longer choose from it."""
    db, day = context.deps.db, today(context)
    everything = PickList(step, key, 0, 0)
    turn = _turn(step, key, find)
    if step == "roster":
        choices = await roster_choices(db, actor, day)
        if not choices:
            raise Denied("auth.denied")
        branches = narrow(choices, lambda o: o.name, offset, find)
        rows = picker_rows(
            context, branches, label=lambda o: o.name, pick=lambda o: ShowRoster(o.id),
            turn=turn, everything=everything,
        )  # fmt: skip
        text = with_picker_text(context, context.t("members.pick"), branches)
        return text, InlineKeyboardMarkup(rows)
    if step == "member":
        result = await roster(db, actor, key, day)
        if not result.can_manage:
            raise Denied("auth.manage_members")
        members = narrow(result.entries, lambda e: e.name, offset, find)
        rows = picker_rows(
            context, members, label=lambda e: e.name or "?",
            pick=lambda e: ShowMember(e.member_id), turn=turn,
            everything=everything,
        )  # fmt: skip
        question = context.t("members.pick_member", branch=result.org.name)
        return with_picker_text(context, question, members), InlineKeyboardMarkup(rows)
    card = await member_card(db, actor, key, day)
    targets = await transfer_targets(db, actor, key, day)
    if not targets:
        raise ServiceError("member.bad_transfer_target")
    branches = narrow(targets, lambda o: o.name, offset, find)
    rows = picker_rows(
        context, branches, label=lambda o: o.name, pick=lambda o: MoveMember(key, o.id),
        turn=turn, everything=everything,
    )  # fmt: skip
    question = context.t("members.pick_target", name=card.entry.name)
    return with_picker_text(context, question, branches), InlineKeyboardMarkup(rows)


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
    data, db = press.data, context.deps.db
    if data.offset < 0:
        await press.refuse("stale")
        return
    find = ""
    if data.found:
        kept = await open_draft(db, press.user_id, MembersFindDraft)
        if isinstance(kept, MembersFindDraft) and (kept.step, kept.key) == (data.step, data.key):
            find = kept.find
    text, markup = await screen(context, press.actor, data.step, data.key, data.offset, find)
    draft = picker_open(data.step, data.key, data.offset, find)
    await keep_draft(db, press.user_id, draft, context.deps.clock.now())
    await press.answer()
    await press.edit(text, markup)


async def picked(context: BotContext, user_id: int) -> None:
    """A choice made: the chooser's typed question is let go."""
    await clear_draft(context.deps.db, user_id, FLOW)


async def typed_find(update: Update, context: BotContext, _view: DraftView) -> None:
    """Part of a name typed while a chooser is open: its list narrowed to the names holding it."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    draft = await typed_draft(update, context, MembersFindDraft)
    if draft is None:
        return
    now = context.deps.clock.now()
    found = apply(FIND_STEPS, draft, Event("text", text=message.text or ""), now)
    if isinstance(found, Refusal):
        await message.reply_text(context.t(error_key(found.code)))
        return
    try:
        text, markup = await screen(
            context, actor_of(context, user), found.step, found.key, 0, found.find
        )
    except ServiceError as exc:
        # The right to choose went meanwhile (or the member moved): the question ends.
        await clear_draft(context.deps.db, user.id, FLOW)
        await message.reply_text(context.t(error_key(exc.code)))
        return
    await keep_draft(context.deps.db, user.id, found, now)
    await message.reply_text(text, reply_markup=markup)
