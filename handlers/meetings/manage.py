"""A meeting's manage screen: its state and counts; open sign-in, attendance, close."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from domain.meetings import Status, may_edit
from handlers.common import today
from handlers.meetings.shared import presses, send_parts
from handlers.meetings.signin import attendance_lines
from handlers.press import Press
from services.errors import Denied, ServiceError
from services.meetings import Overview, attendance, close_meeting, open_signin, overview
from ui.callbacks import CallbackData, button
from ui.deps import BotContext
from ui.meetings import (
    Keyboard,
    Manage,
    MeetingList,
    MinutesOpen,
    card_lines,
)

STATUS_KEYS: dict[Status, str] = {
    Status.SCHEDULED: "meeting.status.scheduled",
    Status.OPEN: "meeting.status.open",
    Status.CLOSED: "meeting.status.closed",
    Status.CANCELLED: "meeting.status.cancelled",
}


def screen_text(context: BotContext, state: Overview) -> str:
    """The meeting as its notice shows it, then its status, counts, sign-ins and minutes."""
    view = state.meeting
    lines = card_lines(context, view)
    lines.append("")
    lines.append(context.t("meeting.manage.status", status=context.plain(STATUS_KEYS[view.status])))
    if view.status is Status.CANCELLED and view.cancel_reason:
        lines.append(context.t("meeting.card.cancel_reason", reason=view.cancel_reason))
    counts = state.counts
    lines.append(
        context.t("meeting.counts", attend=counts.attend, leave=counts.leave, silent=counts.silent)
    )
    if view.status in (Status.OPEN, Status.CLOSED):
        lines.append(context.t("meeting.manage.signed", count=state.signed))
        minutes = (
            "meeting.manage.minutes_done" if state.has_minutes else "meeting.manage.minutes_none"
        )
        lines.append(context.t(minutes))
    return "\n".join(lines)


def screen_keyboard(context: BotContext, state: Overview) -> InlineKeyboardMarkup:
    """What the viewer may do with the meeting now."""
    meeting_id, status = state.meeting.id, state.meeting.status

    def keyed(key: str, data: CallbackData) -> InlineKeyboardButton:
        return button(context.plain(key), data)

    attendance_button = keyed("meeting.manage.attendance", Manage("att", meeting_id))
    minutes_button = keyed("meeting.manage.minutes", MinutesOpen("open", meeting_id))
    rows: Keyboard = []
    if status is Status.SCHEDULED:
        rows.append([keyed("meeting.manage.open", Manage("open", meeting_id)), attendance_button])
    elif status in (Status.OPEN, Status.CLOSED):
        rows.append([attendance_button, keyed("meeting.manage.proxy", Manage("pf", meeting_id))])
        second = [minutes_button] if state.writer or state.organizer else []
        if status is Status.OPEN:
            second.insert(0, keyed("meeting.manage.close", Manage("close", meeting_id)))
        if second:
            rows.append(second)
    if state.organizer and may_edit(status):
        rows.append(
            [
                keyed("meeting.manage.edit", Manage("edit", meeting_id)),
                keyed("meeting.manage.cancel", Manage("cx", meeting_id)),
            ]
        )
    rows.append([keyed("meeting.list.back", MeetingList("u", 0))])
    return InlineKeyboardMarkup(rows)


async def show_screen(press: Press[Manage], context: BotContext, meeting_id: int) -> None:
    """Turn the pressed message into the meeting's manage screen."""
    state = await overview(context.deps.db, press.actor, meeting_id, today(context))
    await press.edit(screen_text(context, state), screen_keyboard(context, state))


async def organizer_state(press: Press[Manage], context: BotContext) -> Overview:
    """The meeting, for an organizer who may still change it; refuses anyone else."""
    state = await overview(context.deps.db, press.actor, press.data.meeting_id, today(context))
    if not state.organizer:
        raise Denied("auth.manage_meetings")
    if not may_edit(state.meeting.status):
        cancelled = state.meeting.status is Status.CANCELLED
        raise ServiceError("meeting.cancelled" if cancelled else "meeting.closed")
    return state


@presses.on(Manage, action="scr")
async def screen(press: Press[Manage], context: BotContext) -> None:
    """A meeting of /meetings (or 返回会议): its manage screen."""
    await show_screen(press, context, press.data.meeting_id)


@presses.on(Manage, action="open")
async def start_signin(press: Press[Manage], context: BotContext) -> None:
    """开始签到: the sign-in message goes to the group."""
    await open_signin(
        context.deps.db,
        press.actor,
        press.data.meeting_id,
        now=context.deps.clock.now(),
        today=today(context),
    )
    context.deps.outbox.wake()
    await press.answer("meeting.signin.opened")
    await show_screen(press, context, press.data.meeting_id)


@presses.on(Manage, action="close")
async def ask_close(press: Press[Manage], context: BotContext) -> None:
    """结束会议: asks to confirm (a meeting not in sign-in just shows its screen)."""
    meeting_id = press.data.meeting_id
    state = await overview(context.deps.db, press.actor, meeting_id, today(context))
    if state.meeting.status is not Status.OPEN:
        await show_screen(press, context, meeting_id)
        return
    keyboard = [
        [button(context.plain("meeting.close.yes"), Manage("cl2", meeting_id))],
        [button(context.plain("wizard.back"), Manage("scr", meeting_id))],
    ]
    await press.answer()
    await press.edit(
        context.t("meeting.close.confirm", topic=state.meeting.topic),
        InlineKeyboardMarkup(keyboard),
    )


@presses.on(Manage, action="cl2")
async def close(press: Press[Manage], context: BotContext) -> None:
    """确认结束会议: the summary goes to the group; the organizer gets the names privately."""
    meeting_id = press.data.meeting_id
    closing = await close_meeting(
        context.deps.db,
        press.actor,
        meeting_id,
        now=context.deps.clock.now(),
        today=today(context),
    )
    context.deps.outbox.wake()
    await press.answer("meeting.closed_ok")
    await show_screen(press, context, meeting_id)
    if closing.just_closed:
        lines = [context.t("meeting.close.private_intro")]
        lines += attendance_lines(context, closing.report)
        await send_parts(context, press.user_id, "\n".join(lines))


@presses.on(Manage, action="att")
async def show_attendance(press: Press[Manage], context: BotContext) -> None:
    """出席情况: who came, who was on leave, who was absent (privately)."""
    await press.answer()
    report = await attendance(context.deps.db, press.actor, press.data.meeting_id, today(context))
    await send_parts(context, press.user_id, "\n".join(attendance_lines(context, report)))
