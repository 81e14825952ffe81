"""签到 in the group; 代签 / 补签 by the recorder, with an optional note; the attendance list."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update

from domain.meetings_wizard import SignNote
from handlers.common import today
from handlers.meetings.shared import actor_for, presses, typed_draft
from handlers.press import Press
from services.drafts import DraftView, clear_draft, keep_draft
from services.errors import ServiceError
from services.meetings import Attendance, SignResult, attendance, sign_for, sign_in
from ui.callbacks import button
from ui.deps import BotContext
from ui.errors import error_key
from ui.meetings import SIGNED_KEYS, Manage, SignIn

# Sign-ins that did not happen, as refusal codes (ui.errors words them).
NOT_SIGNED = {
    "outside": "meeting.outside",
    "not_open": "meeting.not_open",
    "cancelled": "meeting.cancelled",
    "closed": "meeting.closed",
}


@presses.on(SignIn)
async def sign(press: Press[SignIn], context: BotContext) -> None:
    """签到 pressed in the group: only members of the audience, only while sign-in is open."""
    result = await sign_in(
        context.deps.db,
        press.user_id,
        press.data.meeting_id,
        now=context.deps.clock.now(),
        today=today(context),
    )
    if result.status == "ok":
        await press.answer("meeting.signin.ok", name=result.member_name)
    elif result.status == "already":
        await press.answer("meeting.signin.already", name=result.member_name)
    else:
        await press.refuse(NOT_SIGNED.get(result.status, "meeting.closed"))


@presses.on(Manage, action="pf")
async def pick_for(press: Press[Manage], context: BotContext) -> None:
    """代签/补签: the expected members not signed in yet, one button each (privately)."""
    meeting_id = press.data.meeting_id
    report = await attendance(context.deps.db, press.actor, meeting_id, today(context))
    signed = {p.id for p, _, _ in report.present}
    keyboard = [
        [button(p.name, Manage("sf", meeting_id, p.id))]
        for p in report.expected
        if p.id not in signed
    ][:30]
    await press.answer()
    await context.bot.send_message(
        press.user_id,
        context.t("meeting.proxy.ask" if keyboard else "meeting.proxy.nobody"),
        reply_markup=InlineKeyboardMarkup(keyboard) if keyboard else None,
    )


@presses.on(Manage, action="sf")
async def ask_note(press: Press[Manage], context: BotContext) -> None:
    """A member picked for 代签/补签: asks for a note (or 跳过)."""
    meeting_id, member_id = press.data.meeting_id, press.data.value
    await attendance(context.deps.db, press.actor, meeting_id, today(context))  # authorizes
    note = SignNote(step="note", meeting_id=meeting_id, member_id=member_id)
    await keep_draft(context.deps.db, press.user_id, note, context.deps.clock.now())
    await press.answer()
    skip = button(context.plain("wizard.skip"), Manage("nn", meeting_id, member_id))
    await context.bot.send_message(
        press.user_id,
        context.t("meeting.proxy.ask_note"),
        reply_markup=InlineKeyboardMarkup([[skip]]),
    )


@presses.on(Manage, action="nn")
async def sign_without_note(press: Press[Manage], context: BotContext) -> None:
    """跳过 the note: the member is signed in."""
    await clear_draft(context.deps.db, press.user_id, SignNote.FLOW)
    await press.answer()
    await _sign_for(context, press.user_id, press.data.meeting_id, press.data.value, None)


async def typed_note(update: Update, context: BotContext, view: DraftView) -> None:
    """The note of a 代签 / 补签, then the member is signed in."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    note = await typed_draft(context, user.id, view, SignNote)
    if note is None:
        return
    await clear_draft(context.deps.db, user.id, SignNote.FLOW)
    try:
        await _sign_for(context, user.id, note.meeting_id, note.member_id, message.text or "")
    except ServiceError as exc:
        await message.reply_text(context.t(error_key(exc.code, "meetings")))


async def _sign_for(
    context: BotContext, user_id: int, meeting_id: int, member_id: int, note: str | None
) -> None:
    result = await sign_for(
        context.deps.db,
        actor_for(context, user_id),
        meeting_id,
        member_id,
        note=note,
        now=context.deps.clock.now(),
        today=today(context),
    )
    await context.bot.send_message(user_id, sign_result_text(context, result))


def sign_result_text(context: BotContext, result: SignResult) -> str:
    """What a 代签 / 补签 did, in words."""
    if result.status == "ok":
        return context.t("meeting.proxy.done", name=result.member_name)
    if result.status == "already":
        return context.t("meeting.signin.already_other", name=result.member_name)
    code = NOT_SIGNED.get(result.status, "meeting.closed")
    return context.t(error_key(code, "meetings"), name=result.member_name)


def attendance_lines(context: BotContext, report: Attendance) -> list[str]:
    """应到 / 实到, the quorum where it matters, then who came (and how), who was on leave
    (and why) and who was absent: for organizers and the recorder only."""
    lines = [
        context.t("meeting.att.title", topic=report.meeting.topic),
        context.t("meeting.att.counts", expected=len(report.expected), present=len(report.present)),
    ]
    if report.summary is not None:
        lines.append(
            context.t(
                "meeting.att.leave_absent",
                leave=report.summary.leave,
                absent=report.summary.absent,
            )
        )
    if report.quorum is not None:
        lines.append(
            context.t(
                "meeting.att.quorum_yes" if report.quorum.reached else "meeting.att.quorum_no",
                expected=report.quorum.expected,
                present=report.quorum.present,
            )
        )
    for person, how, note in report.present:
        lines.append(
            context.t(
                "meeting.att.present_note" if note else "meeting.att.present",
                name=person.name,
                how=context.plain(SIGNED_KEYS[how]),
                note=note or "",
            )
        )
    for person, reason in report.on_leave:
        no_reason = context.plain("meeting.att.no_reason")
        lines.append(context.t("meeting.att.leave", name=person.name, reason=reason or no_reason))
    for person in report.absent:
        lines.append(context.t("meeting.att.absent", name=person.name))
    return lines
