"""签到 in the group; 代签 / 补签 by the recorder, with an optional note; the attendance list."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update

from domain.meetings_wizard import PROXY_STEPS, ProxyFind, SignNote
from domain.pickers import narrow
from domain.wizard import Event, Refusal, apply
from handlers.common import today
from handlers.meetings.shared import actor_for, presses, typed_draft
from handlers.press import Press
from services.authz import Actor
from services.drafts import DraftView, clear_draft, keep_draft, open_draft
from services.errors import ServiceError
from services.meetings import Attendance, SignResult, attendance, sign_for, sign_in
from ui.callbacks import button
from ui.deps import BotContext
from ui.errors import error_key
from ui.meetings import SIGNED_KEYS, Manage, SignIn
from ui.pickers import picker_rows, with_picker_text

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


async def _proxy_screen(
    context: BotContext, actor: Actor, meeting_id: int, offset: int, find: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The expected members not signed in yet on the shared picker (paged, narrowed by a
    typed part of a name), re-read and re-authorized in the database."""
    report = await attendance(context.deps.db, actor, meeting_id, today(context))
    signed = {p.id for p, _, _ in report.present}
    waiting = [p for p in report.expected if p.id not in signed]
    if not waiting:
        return context.t("meeting.proxy.nobody"), None
    page = narrow(waiting, lambda p: p.name, offset, find)
    rows = picker_rows(
        context, page, label=lambda p: p.name, pick=lambda p: Manage("sf", meeting_id, p.id),
        turn=lambda at: Manage("pff" if find else "pfp", meeting_id, at),
        everything=Manage("pfp", meeting_id, 0),
    )  # fmt: skip
    question = with_picker_text(context, context.t("meeting.proxy.ask"), page)
    return question, InlineKeyboardMarkup(rows)


@presses.on(Manage, action="pf")
async def pick_for(press: Press[Manage], context: BotContext) -> None:
    """代签/补签: the expected members not signed in yet, on the shared picker (privately);
    part of a name typed next narrows the list."""
    meeting_id = press.data.meeting_id
    text, markup = await _proxy_screen(context, press.actor, meeting_id, 0, "")
    if markup is not None:
        draft = ProxyFind(step="find", meeting_id=meeting_id)
        await keep_draft(context.deps.db, press.user_id, draft, context.deps.clock.now())
    await press.answer()
    await context.bot.send_message(press.user_id, text, reply_markup=markup)


@presses.on(Manage, action=("pfp", "pff"))
async def proxy_page(press: Press[Manage], context: BotContext) -> None:
    """上一页 / 下一页 (pff: still narrowed by the typed part) or 显示全部 of 代签/补签's list,
    re-read in place; a page past the end shows the last one, a negative one is refused."""
    data, db = press.data, context.deps.db
    if data.value < 0:
        await press.refuse("stale")
        return
    find = ""
    if data.action == "pff":
        kept = await open_draft(db, press.user_id, ProxyFind)
        if isinstance(kept, ProxyFind) and kept.meeting_id == data.meeting_id:
            find = kept.find
    text, markup = await _proxy_screen(context, press.actor, data.meeting_id, data.value, find)
    if markup is not None:
        draft = ProxyFind(step="find", meeting_id=data.meeting_id, offset=data.value, find=find)
        await keep_draft(db, press.user_id, draft, context.deps.clock.now())
    await press.answer()
    await press.edit(text, markup)


async def typed_find(update: Update, context: BotContext, view: DraftView) -> None:
    """Part of a name typed while 代签/补签's list is open: the list narrowed to it."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    draft = await typed_draft(context, user.id, view, ProxyFind)
    if draft is None:
        return
    now = context.deps.clock.now()
    found = apply(PROXY_STEPS, draft, Event("text", text=message.text or ""), now)
    if isinstance(found, Refusal):
        await message.reply_text(context.t(error_key(found.code)))
        return
    try:
        text, markup = await _proxy_screen(
            context, actor_for(context, user.id), found.meeting_id, 0, found.find
        )
    except ServiceError as exc:
        # The right to sign others in went meanwhile: the question ends.
        await clear_draft(context.deps.db, user.id, ProxyFind.FLOW)
        await message.reply_text(context.t(error_key(exc.code, "meetings")))
        return
    await keep_draft(context.deps.db, user.id, found, now)
    await message.reply_text(text, reply_markup=markup)


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
