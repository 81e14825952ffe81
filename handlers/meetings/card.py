"""The meeting notice in the group: 参加 / 请假, and the reason of a leave request."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from domain.meetings import Answer
from domain.meetings_wizard import LeaveReason
from handlers.common import deep_link, today
from handlers.meetings.shared import presses, typed_draft
from handlers.press import Press
from services.drafts import DraftView, clear_draft, keep_draft
from services.errors import ServiceError
from services.meetings import answer, give_reason
from ui.deps import BotContext
from ui.errors import error_key
from ui.meetings import CHOICES, Rsvp

LEAVE_LINK = "lv_"  # /start lv_<meeting id>: state the reason of a leave request
# Answers that were not taken, as refusal codes (ui.errors words them).
NOT_TAKEN = {
    "outside": "meeting.outside",
    "cancelled": "meeting.cancelled",
    "closed": "meeting.closed",
}


@presses.on(Rsvp, choice=tuple(CHOICES))
async def rsvp(press: Press[Rsvp], context: BotContext) -> None:
    """参加 / 请假 on a meeting notice: re-authorized on every press; counts update later."""
    meeting_id, choice = press.data.meeting_id, CHOICES[press.data.choice]
    now = context.deps.clock.now()
    result = await answer(
        context.deps.db, press.user_id, meeting_id, choice, now=now, today=today(context)
    )
    if result.status in NOT_TAKEN:
        await press.refuse(NOT_TAKEN[result.status])
    elif choice is Answer.ATTEND:
        await press.answer("meeting.attend_ok")
    elif result.started:
        reason = LeaveReason(step="reason", meeting_id=meeting_id)
        await keep_draft(context.deps.db, press.user_id, reason, now)
        await press.answer("meeting.leave_see_private")
        await context.bot.send_message(press.user_id, context.t("meeting.ask_reason"))
    else:
        # Never started the bot: the alert's link opens it, with the meeting in /start.
        link = deep_link(context.bot.username, f"{LEAVE_LINK}{meeting_id}")
        press.answered = True
        await press.query.answer(context.plain("meeting.leave_open_bot"), show_alert=True, url=link)


async def leave_link(update: Update, context: BotContext) -> None:
    """/start lv_<id>: someone who pressed 请假 before starting the bot states the reason."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    payload = context.args[0] if context.args else ""
    reason = LeaveReason(step="reason", meeting_id=int(payload.removeprefix(LEAVE_LINK)))
    await keep_draft(context.deps.db, user.id, reason, context.deps.clock.now())
    await message.reply_text(context.t("meeting.ask_reason"))
    raise ApplicationHandlerStop


async def typed_reason(update: Update, context: BotContext, view: DraftView) -> None:
    """The reason of a leave request: recorded, and the member is told what happens next."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    leave = await typed_draft(context, user.id, view, LeaveReason)
    if leave is None:
        return
    try:
        meeting = await give_reason(
            context.deps.db,
            user.id,
            leave.meeting_id,
            message.text or "",
            now=context.deps.clock.now(),
            today=today(context),
        )
    except ServiceError as exc:
        if not exc.code.startswith("input."):  # else the draft stays: the reason is retyped
            await clear_draft(context.deps.db, user.id, LeaveReason.FLOW)
        await message.reply_text(context.t(error_key(exc.code, "meetings")))
        return
    await clear_draft(context.deps.db, user.id, LeaveReason.FLOW)
    await message.reply_text(context.t("meeting.leave_recorded", topic=meeting.topic))
