"""修改 / 取消会议 from the manage screen: organizers only, re-checked on every press.

The edit is a typed draft (domain.meetings_wizard.MeetingEdit) whose steps are a table;
确认修改 and 确认取消 are intents that take the draft in their own transaction.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from domain.meetings import LESSON_TYPES, PERSON_DETAILS, Detail
from domain.meetings_wizard import (
    EDIT_STEPS,
    TEXT_LIMITS,
    MeetingEdit,
    start_cancel,
    start_edit,
)
from domain.pickers import narrow
from domain.wizard import Event, Refusal, accepts, apply
from handlers.common import today
from handlers.meetings.manage import organizer_state, show_screen
from handlers.meetings.shared import actor_for, local_now, presses, typed_draft
from handlers.press import Press
from services.authz import Actor
from services.drafts import DraftView, Outdated, clear_draft, keep_draft, open_draft
from services.errors import ServiceError
from services.meetings import (
    Changed,
    MeetingView,
    Overview,
    cancel_by_draft,
    edit_by_draft,
    overview,
    planning,
)
from ui.callbacks import button
from ui.deps import BotContext
from ui.errors import error_key
from ui.meetings import Keyboard, Manage
from ui.pickers import picker_rows, with_picker_text
from ui.render import format_datetime

DETAILS: tuple[Detail, ...] = tuple(Detail)
DETAIL_KEYS: dict[Detail, str] = {
    Detail.WHEN: "meeting.detail.when",
    Detail.PLACE: "meeting.detail.place",
    Detail.TOPIC: "meeting.detail.topic",
    Detail.AGENDA: "meeting.detail.agenda",
    Detail.HOST: "meeting.detail.host",
    Detail.RECORDER: "meeting.detail.recorder",
    Detail.LECTURER: "meeting.detail.lecturer",
}
ASK_DETAIL_KEYS: dict[Detail, str] = {
    Detail.WHEN: "meeting.edit.ask_when",
    Detail.PLACE: "meeting.edit.ask_place",
    Detail.TOPIC: "meeting.edit.ask_topic",
    Detail.AGENDA: "meeting.edit.ask_agenda",
}


def _current_value(context: BotContext, view: MeetingView, detail: Detail) -> str:
    none = context.plain("meeting.change.none")
    if detail is Detail.WHEN:
        return format_datetime(context, view.starts_at, context.deps.settings.timezone)
    person = {
        Detail.HOST: view.host,
        Detail.RECORDER: view.recorder,
        Detail.LECTURER: view.lecturer,
    }
    if detail in person:
        found = person[detail]
        return found.name if found is not None else none
    text = {Detail.PLACE: view.place, Detail.TOPIC: view.topic, Detail.AGENDA: view.agenda}
    return text[detail] or none


def _new_value_text(context: BotContext, draft: MeetingEdit, names: dict[int, str]) -> str:
    if draft.detail is Detail.WHEN and draft.when is not None:
        return format_datetime(context, draft.when, context.deps.settings.timezone)
    if draft.detail in PERSON_DETAILS and draft.person_id is not None:
        return names.get(draft.person_id, "?")
    return draft.text if draft.text is not None else context.plain("meeting.change.none")


def _cancel_row(context: BotContext, meeting_id: int) -> list[InlineKeyboardButton]:
    return [button(context.plain("wizard.cancel"), Manage("ex", meeting_id))]


def _back(context: BotContext, meeting_id: int) -> InlineKeyboardMarkup:
    label = context.plain("meeting.back_to_meeting")
    return InlineKeyboardMarkup([[button(label, Manage("scr", meeting_id))]])


async def _person_picker(
    context: BotContext, actor: Actor, state: Overview, draft: MeetingEdit
) -> tuple[str, InlineKeyboardMarkup]:
    """The shared picker over the branch's roster: pages, and a typed part of a name."""
    plan = await planning(context.deps.db, actor, state.meeting.org_id, today(context))
    meeting_id = state.meeting.id
    page = narrow(plan.roster, lambda p: p.name, draft.offset, draft.find)
    keyboard: Keyboard = picker_rows(
        context, page, label=lambda p: p.name, pick=lambda p: Manage("ep", meeting_id, p.id),
        turn=lambda offset: Manage("epg", meeting_id, offset),
        everything=Manage("enof", meeting_id),
    )  # fmt: skip
    keyboard.append([button(context.plain("meeting.edit.nobody"), Manage("ep", meeting_id, 0))])
    keyboard.append(_cancel_row(context, meeting_id))
    assert draft.detail is not None  # a person is picked for a detail
    text = context.t(
        "meeting.edit.ask_person",
        what=context.plain(DETAIL_KEYS[draft.detail]),
        current=_current_value(context, state.meeting, draft.detail),
    )
    return with_picker_text(context, text, page), InlineKeyboardMarkup(keyboard)


def _ask_typed(
    context: BotContext, state: Overview, detail: Detail
) -> tuple[str, InlineKeyboardMarkup]:
    meeting_id = state.meeting.id
    text = context.t(
        ASK_DETAIL_KEYS[detail],
        current=_current_value(context, state.meeting, detail),
        limit=TEXT_LIMITS.get(detail, 0),
    )
    rows = []
    if detail is Detail.AGENDA and state.meeting.agenda:
        label = context.plain("meeting.edit.clear_agenda")
        rows.append([button(label, Manage("eclr", meeting_id))])
    rows.append(_cancel_row(context, meeting_id))
    return text, InlineKeyboardMarkup(rows)


async def _confirm(
    context: BotContext, actor: Actor, user_id: int, draft: MeetingEdit
) -> tuple[str, InlineKeyboardMarkup]:
    """Keep the chosen value and word the preview of the change, with 确认修改 / 取消."""
    state = await overview(context.deps.db, actor, draft.meeting_id, today(context))
    assert draft.detail is not None  # only a detail's change is confirmed here
    names: dict[int, str] = {}
    if draft.detail in PERSON_DETAILS:
        plan = await planning(context.deps.db, actor, state.meeting.org_id, today(context))
        names = {p.id: p.name for p in plan.roster}
    await keep_draft(context.deps.db, user_id, draft, context.deps.clock.now())
    text = context.t(
        "meeting.edit.confirm",
        what=context.plain(DETAIL_KEYS[draft.detail]),
        old=_current_value(context, state.meeting, draft.detail),
        new=_new_value_text(context, draft, names),
        count=state.counts.attend + state.counts.leave,
    )
    yes = button(context.plain("meeting.edit.yes"), Manage("eok", draft.meeting_id))
    return text, InlineKeyboardMarkup([[yes], _cancel_row(context, draft.meeting_id)])


def _sent_text(context: BotContext, result: Changed) -> str:
    if not result.private and not result.mentioned:
        return context.t("meeting.edit.told_none")
    if result.mentioned:
        return context.t(
            "meeting.edit.told_both", private=result.private, mentioned=result.mentioned
        )
    return context.t("meeting.edit.told", private=result.private)


async def _open_edit(press: Press[Manage], context: BotContext) -> MeetingEdit | None:
    """The person's open edit of the pressed meeting; None (refused) if there is none."""
    found = await open_draft(context.deps.db, press.user_id, MeetingEdit)
    if isinstance(found, Outdated):
        await press.answer("wizard.outdated", alert=True)
        return None
    if found is None or found.meeting_id != press.data.meeting_id:
        await press.refuse("stale")
        return None
    return found


async def _applied(press: Press[Manage], context: BotContext, event: Event) -> MeetingEdit | None:
    """The open edit after the press (None: refused)."""
    draft = await _open_edit(press, context)
    if draft is None:
        return None
    result = apply(EDIT_STEPS, draft, event, local_now(context))
    if isinstance(result, Refusal):
        await press.refuse(result.code, **result.params)
        return None
    return result


# ---- presses ----


@presses.on(Manage, action="ex")
async def drop(press: Press[Manage], context: BotContext) -> None:
    """取消 / 不取消，返回: the edit is dropped, back to the manage screen."""
    await clear_draft(context.deps.db, press.user_id, MeetingEdit.FLOW)
    await press.answer()
    await show_screen(press, context, press.data.meeting_id)


@presses.on(Manage, action="edit")
async def which(press: Press[Manage], context: BotContext) -> None:
    """修改: which detail (the lecturer only where a party lesson is among the types)."""
    state = await organizer_state(press, context)
    meeting_id = state.meeting.id
    lesson = any(t in LESSON_TYPES for t in state.meeting.types)
    buttons = [
        button(context.plain(DETAIL_KEYS[d]), Manage("ed", meeting_id, DETAILS.index(d)))
        for d in DETAILS
        if d is not Detail.LECTURER or lesson
    ]
    keyboard = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    keyboard.append([button(context.plain("wizard.back"), Manage("scr", meeting_id))])
    await press.answer()
    await press.edit(
        context.t("meeting.edit.which", topic=state.meeting.topic), InlineKeyboardMarkup(keyboard)
    )


@presses.on(Manage, action="ed", value=tuple(range(len(DETAILS))))
async def detail(press: Press[Manage], context: BotContext) -> None:
    """A detail chosen: the person picker, or the question for a typed value."""
    state = await organizer_state(press, context)
    draft = start_edit(state.meeting.id, DETAILS[press.data.value])
    assert draft.detail is not None  # start_edit always names the detail
    await keep_draft(context.deps.db, press.user_id, draft, context.deps.clock.now())
    if draft.step == "person":
        text, markup = await _person_picker(context, press.actor, state, draft)
    else:
        text, markup = _ask_typed(context, state, draft.detail)
    await press.answer()
    await press.edit(text, markup)


@presses.on(Manage, action=("epg", "enof"))
async def page(press: Press[Manage], context: BotContext) -> None:
    """Paging the person picker, or 显示全部 after a typed part of a name narrowed it."""
    state = await organizer_state(press, context)
    draft = await _applied(press, context, Event(press.data.action, press.data.value))
    if draft is None:
        return
    await keep_draft(context.deps.db, press.user_id, draft, context.deps.clock.now())
    text, markup = await _person_picker(context, press.actor, state, draft)
    await press.answer()
    await press.edit(text, markup)


@presses.on(Manage, action=("ep", "eclr"))
async def chosen(press: Press[Manage], context: BotContext) -> None:
    """A person picked (or 无), or 清空议程: the change is shown for confirmation."""
    state = await organizer_state(press, context)
    if press.data.action == "ep" and press.data.value:
        plan = await planning(context.deps.db, press.actor, state.meeting.org_id, today(context))
        if press.data.value not in {p.id for p in plan.roster}:
            await press.refuse("stale")
            return
    draft = await _applied(press, context, Event(press.data.action, press.data.value))
    if draft is None:
        return
    text, markup = await _confirm(context, press.actor, press.user_id, draft)
    await press.answer()
    await press.edit(text, markup)


@presses.on(Manage, action="eok")
async def save(press: Press[Manage], context: BotContext) -> None:
    """确认修改: the change, its notes and the draft's end commit together."""
    meeting_id = press.data.meeting_id
    result = await edit_by_draft(
        context.deps.db,
        press.actor,
        meeting_id,
        now=context.deps.clock.now(),
        today=today(context),
    )
    context.deps.outbox.wake()
    await press.answer("meeting.edit.done_short")
    text = context.t("meeting.edit.unchanged")
    if result.changed:
        text = context.t("meeting.edit.done") + "\n" + _sent_text(context, result)
    await press.edit(text, _back(context, meeting_id))


@presses.on(Manage, action="cx")
async def ask_cancel(press: Press[Manage], context: BotContext) -> None:
    """取消会议: a reason may be typed, or the meeting called off without one."""
    state = await organizer_state(press, context)
    meeting_id = state.meeting.id
    draft = start_cancel(meeting_id)
    await keep_draft(context.deps.db, press.user_id, draft, context.deps.clock.now())
    keyboard = [
        [button(context.plain("meeting.cancel.no_reason"), Manage("cx2", meeting_id))],
        [button(context.plain("meeting.cancel.keep"), Manage("ex", meeting_id))],
    ]
    await press.answer()
    await press.edit(
        context.t(
            "meeting.cancel.ask",
            topic=state.meeting.topic,
            count=state.counts.attend + state.counts.leave,
        ),
        InlineKeyboardMarkup(keyboard),
    )


@presses.on(Manage, action="cx2")
async def cancel(press: Press[Manage], context: BotContext) -> None:
    """确认取消会议 (value 1: with the typed reason) or 不填原因，直接取消 (value 0)."""
    meeting_id = press.data.meeting_id
    result = await cancel_by_draft(
        context.deps.db,
        press.actor,
        meeting_id,
        with_reason=press.data.value == 1,
        now=context.deps.clock.now(),
        today=today(context),
    )
    context.deps.outbox.wake()
    await press.answer("meeting.cancel.done_short")
    text = context.t("meeting.cancel.done") + "\n" + _sent_text(context, result)
    await press.edit(text, _back(context, meeting_id))


# ---- typed answers ----


async def typed_edit(update: Update, context: BotContext, view: DraftView) -> None:
    """A typed new time, place, topic or agenda, or the reason of a cancellation."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    draft = await typed_draft(context, user.id, view, MeetingEdit)
    if draft is None:
        return
    if "text" not in accepts(EDIT_STEPS, draft.step):
        await message.reply_text(context.t("meeting.error.use_buttons"))
        return
    result = apply(EDIT_STEPS, draft, Event("text", text=message.text or ""), local_now(context))
    if isinstance(result, Refusal):
        cancel_row = InlineKeyboardMarkup([_cancel_row(context, draft.meeting_id)])
        key = error_key(result.code, "meetings")
        await message.reply_text(context.t(key, **result.params), reply_markup=cancel_row)
        return
    try:
        if result.step == "person":  # a typed part of a name: the picker, narrowed
            await keep_draft(context.deps.db, user.id, result, context.deps.clock.now())
            state = await overview(
                context.deps.db, actor_for(context, user.id), result.meeting_id, today(context)
            )
            text, markup = await _person_picker(context, actor_for(context, user.id), state, result)
        elif result.step == "cancel_confirm":
            text, markup = await _confirm_cancel(context, user.id, result)
        else:
            text, markup = await _confirm(context, actor_for(context, user.id), user.id, result)
    except ServiceError as exc:
        await clear_draft(context.deps.db, user.id, MeetingEdit.FLOW)
        text, markup = context.t(error_key(exc.code, "meetings")), None
    await message.reply_text(text, reply_markup=markup)


async def _confirm_cancel(
    context: BotContext, user_id: int, draft: MeetingEdit
) -> tuple[str, InlineKeyboardMarkup]:
    await keep_draft(context.deps.db, user_id, draft, context.deps.clock.now())
    meeting_id = draft.meeting_id
    keyboard = [
        [button(context.plain("meeting.cancel.yes"), Manage("cx2", meeting_id, 1))],
        [button(context.plain("meeting.cancel.keep"), Manage("ex", meeting_id))],
    ]
    text = context.t("meeting.cancel.confirm", reason=draft.reason)
    return text, InlineKeyboardMarkup(keyboard)
