"""Minutes (会议记录): the recorder's wizard — attendance, each field, photos, preview, save."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import replace
from typing import Any, ClassVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import Application, ApplicationHandlerStop, MessageHandler, filters

from domain.meetings import NOTE_MAX
from domain.minutes import PHOTOS_MAX, Field, FieldSpec
from domain.minutes_wizard import (
    ATTENDANCE,
    NOTE,
    PHOTOS,
    PICK,
    PREVIEW,
    MinutesDraft,
    field_index,
    first_problem,
    previous_step,
    start,
    steps_for,
)
from domain.wizard import Event, Refusal, apply
from handlers.common import today
from handlers.meetings import attendance_lines, sign_result_text
from handlers.press import Press, Presses
from handlers.wizard import WizardRouter
from services.authz import Actor
from services.drafts import DraftView, clear_draft, keep_draft, open_draft
from services.errors import ServiceError
from services.meetings import sign_for
from services.minutes import (
    Minutes,
    MinutesState,
    minutes_state,
    prefilled,
    save_minutes_draft,
)
from ui.callbacks import CallbackData
from ui.deps import BotContext
from ui.errors import error_key
from ui.i18n import Html
from ui.meetings import Manage, MinutesOpen, card_lines
from ui.render import format_datetime, split_html

log = logging.getLogger(__name__)

PAGE = 8
# Before the notice wizard's media handler (-1): a photo for open minutes is ours.
MEDIA_GROUP = -3
# Each part of a long text stays under Telegram's 4096 UTF-16 units even if every
# character needs two of them.
PART_LIMIT = 1900

FIELD_KEYS: dict[Field, str] = {
    Field.TOPICS: "minutes.field.topics",
    Field.DISCUSSION: "minutes.field.discussion",
    Field.RESOLUTIONS: "minutes.field.resolutions",
    Field.DECISIONS: "minutes.field.decisions",
    Field.CONTENT: "minutes.field.content",
    Field.SPEECHES: "minutes.field.speeches",
    Field.LECTURER: "minutes.field.lecturer",
    Field.THEME: "minutes.field.theme",
    Field.SUMMARY: "minutes.field.summary",
    Field.ACTIVITY: "minutes.field.activity",
    Field.REFLECTIONS: "minutes.field.reflections",
    Field.SELF_REVIEW: "minutes.field.self_review",
    Field.RECTIFICATION: "minutes.field.rectification",
    Field.EVALUATION: "minutes.field.evaluation",
    Field.EVALUATION_RESULT: "minutes.field.evaluation_result",
    Field.TALKS: "minutes.field.talks",
    Field.REMARKS: "minutes.field.remarks",
}
HINT_KEYS: dict[Field, str] = {
    Field.TOPICS: "minutes.hint.topics",
    Field.DISCUSSION: "minutes.hint.discussion",
    Field.RESOLUTIONS: "minutes.hint.resolutions",
    Field.DECISIONS: "minutes.hint.decisions",
    Field.CONTENT: "minutes.hint.content",
    Field.SPEECHES: "minutes.hint.speeches",
    Field.LECTURER: "minutes.hint.lecturer",
    Field.THEME: "minutes.hint.theme",
    Field.SUMMARY: "minutes.hint.summary",
    Field.ACTIVITY: "minutes.hint.activity",
    Field.REFLECTIONS: "minutes.hint.reflections",
    Field.SELF_REVIEW: "minutes.hint.self_review",
    Field.RECTIFICATION: "minutes.hint.rectification",
    Field.EVALUATION: "minutes.hint.evaluation",
    Field.EVALUATION_RESULT: "minutes.hint.evaluation_result",
    Field.TALKS: "minutes.hint.talks",
    Field.REMARKS: "minutes.hint.remarks",
}


@dataclasses.dataclass(frozen=True)
class MinutesStep(CallbackData):
    """A button of the minutes wizard, tied to the step it was shown for."""

    prefix: ClassVar[str] = "mn"
    step: str
    action: str
    value: int = 0


Keyboard = list[list[InlineKeyboardButton]]


def _button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data.pack())


# ---- rendering ----


def _label(context: BotContext, spec: FieldSpec | Field) -> str:
    return context.plain(FIELD_KEYS[spec.field if isinstance(spec, FieldSpec) else spec])


def minutes_lines(
    context: BotContext,
    minutes: Minutes,
    state: MinutesState,
    fields: dict[str, str],
    photos: int,
) -> list[str]:
    """The minutes as people read them: the meeting, the attendance, each field, photos."""
    lines = [context.t("minutes.title"), *card_lines(context, minutes.meeting), ""]
    lines += attendance_lines(context, state.attendance)
    for spec in minutes.form:
        text = fields.get(spec.field.value)
        if text:
            lines += ["", context.t("minutes.view.field", label=_label(context, spec))]
            lines += [context.t("minutes.view.text", text=line) for line in text.split("\n")]
    lines += ["", context.t("minutes.view.photos", count=photos)]
    if minutes.written_at is not None:
        tz = context.deps.settings.timezone
        lines.append(
            context.t(
                "minutes.view.written",
                name=minutes.written_by or "?",
                when=format_datetime(context, minutes.updated_at or minutes.written_at, tz),
            )
        )
    return lines


async def _send(
    context: BotContext, user_id: int, lines: list[str], markup: InlineKeyboardMarkup | None
) -> Message:
    """Send lines as few messages as fit; the buttons go with the last one."""
    parts = split_html("\n".join(lines), PART_LIMIT)
    sent: Message | None = None
    for i, part in enumerate(parts):
        sent = await context.bot.send_message(
            user_id, part, reply_markup=markup if i == len(parts) - 1 else None
        )
    assert sent is not None
    return sent


# ---- the wizard's steps ----


def _nav(context: BotContext, step: str, form: tuple[FieldSpec, ...]) -> list[InlineKeyboardButton]:
    row = []
    if previous_step(step, form) is not None:
        row.append(_button(context.plain("wizard.back"), MinutesStep(step, "back")))
    row.append(_button(context.plain("wizard.cancel"), MinutesStep(step, "x")))
    return row


def _not_signed(state: MinutesState) -> list[tuple[int, str]]:
    present = {p.id for p, _, _ in state.attendance.present}
    return [(p.id, p.name) for p in state.attendance.expected if p.id not in present]


def _screen(
    context: BotContext, state: MinutesState, draft: MinutesDraft
) -> tuple[list[str], InlineKeyboardMarkup]:
    """The question of the draft's step: its lines and its buttons."""
    minutes = state.minutes
    form = minutes.form
    step = draft.step
    total = len(form) + 2  # attendance, the fields, photos
    types_topic = card_lines(context, minutes.meeting)[0]
    keyboard: Keyboard = []
    lines: list[str] = []
    index = field_index(step)
    if step == ATTENDANCE:
        lines = [context.t("minutes.ask_attendance", n=1, total=total, meeting=Html(types_topic))]
        lines += attendance_lines(context, state.attendance)
        lines += ["", context.t("minutes.attendance_tail")]
        if _not_signed(state):
            keyboard.append([_button(context.plain("minutes.correct"), MinutesStep("att", "pick"))])
        keyboard.append([_button(context.plain("minutes.continue"), MinutesStep("att", "go"))])
    elif step == PICK:
        people = _not_signed(state)
        offset = max(0, min(draft.offset, max(0, len(people) - 1)))
        lines = [context.t("minutes.ask_pick")]
        keyboard = [
            [_button(name, MinutesStep("pick", "m", member_id))]
            for member_id, name in people[offset : offset + PAGE]
        ]
        pager = []
        if offset > 0:
            pager.append(
                _button(
                    context.plain("common.prev"), MinutesStep("pick", "pg", max(0, offset - PAGE))
                )
            )
        if offset + PAGE < len(people):
            pager.append(
                _button(context.plain("common.next"), MinutesStep("pick", "pg", offset + PAGE))
            )
        if pager:
            keyboard.append(pager)
    elif step == NOTE:
        lines = [context.t("meeting.proxy.ask_note")]
        keyboard = [[_button(context.plain("wizard.skip"), MinutesStep("note", "skip"))]]
    elif index is not None and index < len(form):
        spec = form[index]
        need = "minutes.required" if spec.required else "minutes.optional"
        lines = [
            context.t(
                "minutes.ask_field",
                n=index + 2,
                total=total,
                label=_label(context, spec),
                need=context.plain(need),
            ),
            context.t(HINT_KEYS[spec.field]),
        ]
        current = draft.value(spec.field.value)
        if current:
            lines.append(context.t("minutes.current"))
            lines += [context.t("minutes.view.text", text=line) for line in current.split("\n")]
            keyboard.append([_button(context.plain("minutes.keep"), MinutesStep(step, "keep"))])
        lines.append(context.t("minutes.type_it", limit=spec.limit))
        if not spec.required:
            keyboard.append([_button(context.plain("wizard.skip"), MinutesStep(step, "skip"))])
    elif step == PHOTOS:
        lines = [
            context.t(
                "minutes.ask_photos",
                n=total,
                total=total,
                max=PHOTOS_MAX,
                count=len(draft.photos),
            )
        ]
        keyboard.append([_button(context.plain("minutes.photos_done"), MinutesStep("ph", "done"))])
        if draft.photos:
            keyboard.append(
                [_button(context.plain("minutes.photos_clear"), MinutesStep("ph", "clear"))]
            )
    elif step == PREVIEW:
        lines = [context.t("minutes.preview_intro"), ""]
        lines += minutes_lines(context, minutes, state, draft.answers(), len(draft.photos))
        keyboard = [
            [_button(context.plain("minutes.save"), MinutesStep("pre", "save"))],
            [_button(context.plain("minutes.redo"), MinutesStep("pre", "redo"))],
        ]
    keyboard.append(_nav(context, step, form))
    return lines, InlineKeyboardMarkup(keyboard)


def _actor(context: BotContext, user_id: int) -> Actor:
    return Actor(user_id=user_id, superadmin=user_id in context.deps.settings.superadmins)


async def _state(context: BotContext, user_id: int, meeting_id: int) -> MinutesState:
    """The minutes as they stand, re-authorized: every step asks the database again."""
    return await minutes_state(
        context.deps.db, _actor(context, user_id), meeting_id, today(context)
    )


async def _ask(
    context: BotContext,
    user_id: int,
    draft: MinutesDraft,
    *,
    error: str = "",
    press: Press[Any] | None = None,
    state: MinutesState | None = None,
) -> None:
    """Keep the draft and send its step's question as a new message (the pressed one loses
    its buttons); `error` is a line shown above the question."""
    state = state or await _state(context, user_id, draft.meeting_id)
    lines, markup = _screen(context, state, draft)
    if error:
        lines = [error, "", *lines]
    now = context.deps.clock.now()
    await keep_draft(context.deps.db, user_id, draft, now)
    if press is not None:
        await press.answer()
        await press.drop_buttons()
    sent = await _send(context, user_id, lines, markup)
    if draft.step == PHOTOS:
        # The photo prompt is edited in place as photos arrive (one message, not nine).
        await keep_draft(context.deps.db, user_id, replace(draft, prompt=sent.message_id), now)


async def _start(press: Press[MinutesOpen], context: BotContext, state: MinutesState) -> None:
    """Open the wizard at the attendance step: resume an unfinished one for this meeting."""
    meeting_id = press.data.meeting_id
    draft = await open_draft(context.deps.db, press.user_id, MinutesDraft)
    if not isinstance(draft, MinutesDraft) or draft.meeting_id != meeting_id:
        minutes = state.minutes
        draft = start(meeting_id, prefilled(minutes), minutes.photos, minutes.exists)
    await _ask(context, press.user_id, draft, press=press, state=state)


async def _show(press: Press[MinutesOpen], context: BotContext, state: MinutesState) -> None:
    """The saved minutes as text, then their photos one by one."""
    minutes = state.minutes
    meeting_id = minutes.meeting.id
    user_id = press.user_id
    rows: Keyboard = []
    if state.writer:
        rows.append([_button(context.plain("minutes.edit"), MinutesOpen("edit", meeting_id))])
    rows.append([_button(context.plain("meeting.back_to_meeting"), Manage("scr", meeting_id))])
    await press.answer()
    lines = minutes_lines(context, minutes, state, minutes.fields, len(minutes.photos))
    photos = minutes.photos
    await _send(context, user_id, lines, None if photos else InlineKeyboardMarkup(rows))
    failed = 0
    for number, file_id in enumerate(photos, 1):
        try:
            await context.bot.send_photo(
                user_id,
                file_id,
                caption=context.t("minutes.photo_caption", n=number, total=len(photos)),
                reply_markup=InlineKeyboardMarkup(rows) if number == len(photos) else None,
            )
        except BadRequest as exc:  # a file Telegram no longer has: say so, show the rest
            log.info("minutes photo of meeting %s not shown: %s", meeting_id, exc.message)
            failed += 1
    if failed:
        await context.bot.send_message(
            user_id,
            context.t("minutes.photos_missing", count=failed),
            reply_markup=InlineKeyboardMarkup(rows),
        )


# ---- buttons ----

presses = Presses("minutes")


@presses.on(MinutesOpen, action=("open", "edit", "view"))
async def open_minutes(press: Press[MinutesOpen], context: BotContext) -> None:
    """会议记录 on the manage screen: show the minutes, or start writing them."""
    state = await _state(context, press.user_id, press.data.meeting_id)
    action = press.data.action
    if action == "edit" or (action == "open" and not state.minutes.exists):
        if not state.writer:
            key = "minutes.error.denied" if state.minutes.exists else "minutes.none_yet"
            await press.answer(key, alert=True)
            return
        await _start(press, context, state)
        return
    if not state.minutes.exists:
        await press.answer("minutes.none_yet", alert=True)
        return
    await _show(press, context, state)


async def _current(press: Press[MinutesStep], context: BotContext) -> MinutesDraft | None:
    """The open minutes wizard this button belongs to; None (refused as stale) otherwise."""
    draft = await open_draft(context.deps.db, press.user_id, MinutesDraft)
    if not isinstance(draft, MinutesDraft) or press.data.step != draft.step:
        await press.refuse("stale")
        return None
    return draft


@presses.on(MinutesStep, action="x")
async def cancel(press: Press[MinutesStep], context: BotContext) -> None:
    """取消: the wizard is dropped; saved minutes stay as they were."""
    if not await clear_draft(context.deps.db, press.user_id, MinutesDraft.FLOW):
        await press.refuse("stale")
        return
    await press.answer()
    await press.edit(context.t("minutes.cancelled"))


@presses.on(MinutesStep, step=PREVIEW, action="save")
async def save(press: Press[MinutesStep], context: BotContext) -> None:
    """✅ 保存: the minutes, their audit and the end of the wizard, in one transaction."""
    draft = await _current(press, context)
    if draft is None:
        return
    try:
        saved = await save_minutes_draft(
            context.deps.db, press.actor, now=context.deps.clock.now(), today=today(context)
        )
    except ServiceError as exc:
        fields = exc.params.get("fields")
        if exc.code in ("minutes.missing", "minutes.too_long") and isinstance(fields, list):
            # Back to the first field that needs attention; the answers stay.
            state = await _state(context, press.user_id, draft.meeting_id)
            step = first_problem(state.minutes.form, fields)
            error = context.t(error_key(exc.code, "minutes"))
            await _ask(context, press.user_id, replace(draft, step=step), error=error, press=press)
            return
        if exc.code != "stale":
            await clear_draft(context.deps.db, press.user_id, MinutesDraft.FLOW)
        raise
    meeting_id = saved.minutes.meeting.id
    await press.answer("minutes.saved_short")
    await press.drop_buttons()
    markup = InlineKeyboardMarkup(
        [
            [_button(context.plain("minutes.view"), MinutesOpen("view", meeting_id))],
            [_button(context.plain("meeting.back_to_meeting"), Manage("scr", meeting_id))],
        ]
    )
    key = "minutes.saved_again" if saved.editing else "minutes.saved"
    await context.bot.send_message(press.user_id, context.t(key), reply_markup=markup)


@presses.on(MinutesStep, step=PICK, action="pg")
async def page(press: Press[MinutesStep], context: BotContext) -> None:
    """‹ › on the list of people to sign for: the same message, another page."""
    draft = await _current(press, context)
    if draft is None:
        return
    state = await _state(context, press.user_id, draft.meeting_id)
    moved = await _apply(press, context, draft, state, Event("pg", press.data.value))
    if moved is None:
        return
    lines, markup = _screen(context, state, moved)
    await keep_draft(context.deps.db, press.user_id, moved, context.deps.clock.now())
    await press.answer()
    await press.edit("\n".join(lines), markup)


@presses.on(MinutesStep, step=PICK, action="m")
async def pick(press: Press[MinutesStep], context: BotContext) -> None:
    """A name on the list: ask why they are signed for."""
    draft = await _current(press, context)
    if draft is None:
        return
    state = await _state(context, press.user_id, draft.meeting_id)
    if press.data.value not in {m for m, _ in _not_signed(state)}:
        await press.refuse("stale")
        return
    await _move(press, context, draft, state)


@presses.on(MinutesStep, step=NOTE, action="skip")
async def sign_without_note(press: Press[MinutesStep], context: BotContext) -> None:
    """跳过 the note: sign for the person without one."""
    draft = await _current(press, context)
    if draft is None:
        return
    await press.answer()
    await press.drop_buttons()
    await _sign(context, press.user_id, draft, None)


@presses.on(MinutesStep)
async def move(press: Press[MinutesStep], context: BotContext) -> None:
    """Any other button of the wizard: the step table says where it leads."""
    draft = await _current(press, context)
    if draft is None:
        return
    state = await _state(context, press.user_id, draft.meeting_id)
    await _move(press, context, draft, state)


async def _apply(
    press: Press[MinutesStep],
    context: BotContext,
    draft: MinutesDraft,
    state: MinutesState,
    event: Event,
) -> MinutesDraft | None:
    """The draft after a pressed action; None (refused, the draft dropped on a service
    refusal) when it does not apply."""
    moved = apply(steps_for(state.minutes.form), draft, event, context.deps.clock.now())
    if isinstance(moved, Refusal):
        await press.refuse(moved.code, **moved.params)
        return None
    return moved


async def _move(
    press: Press[MinutesStep], context: BotContext, draft: MinutesDraft, state: MinutesState
) -> None:
    event = Event(press.data.action, press.data.value)
    moved = await _apply(press, context, draft, state, event)
    if moved is not None:
        await _ask(context, press.user_id, moved, press=press, state=state)


# ---- typed answers and photos ----


async def _sign(context: BotContext, user_id: int, draft: MinutesDraft, note: str | None) -> None:
    """代签 / 补签 from the attendance step, then the attendance again with the result."""
    try:
        result = await sign_for(
            context.deps.db,
            _actor(context, user_id),
            draft.meeting_id,
            draft.member_id,
            note=note,
            now=context.deps.clock.now(),
            today=today(context),
        )
    except ServiceError as exc:
        if exc.code != "meeting.note_long":
            raise
        error = context.t("meeting.edit.too_long", limit=NOTE_MAX)
        await _ask(context, user_id, draft, error=error)
        return
    back = replace(draft, step=ATTENDANCE, member_id=0)
    await _ask(context, user_id, back, error=sign_result_text(context, result))


async def typed_text(update: Update, context: BotContext, _view: DraftView) -> None:
    """A typed field of the minutes, or the note of a 补签; elsewhere, a hint to the buttons."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    draft = await open_draft(context.deps.db, user.id, MinutesDraft)
    if not isinstance(draft, MinutesDraft):
        await message.reply_text(context.t("wizard.cancelled"))
        return
    text = message.text or ""
    try:
        if draft.step == NOTE:
            await _sign(context, user.id, draft, text)
            return
        state = await _state(context, user.id, draft.meeting_id)
        index = field_index(draft.step)
        if index is None or index >= len(state.minutes.form):
            hint = (
                "minutes.error.send_photos" if draft.step == PHOTOS else "meeting.error.use_buttons"
            )
            await message.reply_text(context.t(hint))
            return
        moved = apply(
            steps_for(state.minutes.form), draft, Event("text", text=text), context.deps.clock.now()
        )
        if isinstance(moved, Refusal):
            error = context.t(error_key(moved.code, "minutes"), **moved.params)
            await _ask(context, user.id, draft, error=error, state=state)
            return
        await _ask(context, user.id, moved, state=state)
    except ServiceError as exc:
        await clear_draft(context.deps.db, user.id, MinutesDraft.FLOW)
        await message.reply_text(context.t(error_key(exc.code, "minutes")))


async def media_received(update: Update, context: BotContext) -> None:
    """A private photo while the minutes ask for photos: kept (up to nine); other media and
    other flows are left to the rest of the bot."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    draft = await open_draft(context.deps.db, user.id, MinutesDraft)
    if not isinstance(draft, MinutesDraft):
        return
    if draft.step != PHOTOS:
        await message.reply_text(context.t("minutes.error.photo_not_now"))
        raise ApplicationHandlerStop
    if not message.photo:
        await message.reply_text(context.t("minutes.error.photo_as_photo"))
        raise ApplicationHandlerStop
    more = draft.with_photo(message.photo[-1].file_id)  # the largest size
    if more is None:
        await message.reply_text(context.t("minutes.error.photos_full", max=PHOTOS_MAX))
        raise ApplicationHandlerStop
    await keep_draft(context.deps.db, user.id, more, context.deps.clock.now())
    state = await _state(context, user.id, more.meeting_id)
    lines, markup = _screen(context, state, more)
    if len(more.photos) < PHOTOS_MAX and more.prompt:
        try:
            await context.bot.edit_message_text(
                "\n".join(lines), chat_id=user.id, message_id=more.prompt, reply_markup=markup
            )
            raise ApplicationHandlerStop
        except BadRequest as exc:  # deleted by the person: ask again below
            log.info("minutes photo prompt not edited: %s", exc.message)
    await _ask(context, user.id, more, state=state)
    raise ApplicationHandlerStop


def register(app: Application, router: WizardRouter) -> None:  # type: ignore[type-arg]
    """Install the minutes buttons, the typed fields and the photo handler."""
    presses.register(app)
    app.add_handler(
        MessageHandler(
            filters.ChatType.PRIVATE
            & (filters.PHOTO | filters.Document.ALL)
            & ~filters.UpdateType.EDITED,
            media_received,
        ),
        group=MEDIA_GROUP,
    )
    router.on_text(MinutesDraft.FLOW, typed_text)
