"""Minutes (会议记录): the recorder's wizard — attendance, each field, photos, preview, save."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any, ClassVar

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    MessageHandler,
    filters,
)

from domain.meetings import NOTE_MAX
from domain.minutes import PHOTOS_MAX, Field, FieldSpec, parse_field, text_length
from domain.validation import Invalid
from handlers.common import actor_of, edit_text, today
from handlers.meetings import attendance_lines, sign_result_text
from handlers.wizard import WizardRouter
from services.authz import Actor
from services.drafts import DraftView, clear_draft, get_draft, save_draft
from services.errors import ServiceError
from services.meetings import sign_for
from services.minutes import Minutes, MinutesState, minutes_state, prefilled, save_minutes
from ui.callbacks import CallbackData
from ui.deps import BotContext
from ui.errors import error_key
from ui.i18n import Html
from ui.meetings import Manage, MinutesOpen, card_lines
from ui.render import format_datetime, split_html

log = logging.getLogger(__name__)

FLOW = "minutes"
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


def _field_step(index: int) -> str:
    return f"f{index}"


def _field_index(step: str) -> int | None:
    if step.startswith("f") and step[1:].isdigit():
        return int(step[1:])
    return None


def _previous(step: str, form: tuple[FieldSpec, ...]) -> str | None:
    index = _field_index(step)
    if index is not None:
        return "att" if index == 0 else _field_step(index - 1)
    if step == "ph":
        return _field_step(len(form) - 1)
    if step == "pre":
        return "ph"
    if step in ("pick", "note"):
        return "att"
    return None


def _nav(context: BotContext, step: str, form: tuple[FieldSpec, ...]) -> list[InlineKeyboardButton]:
    row = []
    if _previous(step, form) is not None:
        row.append(_button(context.plain("wizard.back"), MinutesStep(step, "back")))
    row.append(_button(context.plain("wizard.cancel"), MinutesStep(step, "x")))
    return row


def _not_signed(state: MinutesState) -> list[tuple[int, str]]:
    present = {p.id for p, _, _ in state.attendance.present}
    return [(p.id, p.name) for p in state.attendance.expected if p.id not in present]


def _screen(
    context: BotContext, state: MinutesState, data: dict[str, Any], step: str
) -> tuple[list[str], InlineKeyboardMarkup]:
    """The question of one step: its lines and its buttons."""
    minutes = state.minutes
    form = minutes.form
    total = len(form) + 2  # attendance, the fields, photos
    types_topic = card_lines(context, minutes.meeting)[0]
    keyboard: Keyboard = []
    lines: list[str] = []
    index = _field_index(step)
    if step == "att":
        lines = [context.t("minutes.ask_attendance", n=1, total=total, meeting=Html(types_topic))]
        lines += attendance_lines(context, state.attendance)
        lines += ["", context.t("minutes.attendance_tail")]
        if _not_signed(state):
            keyboard.append([_button(context.plain("minutes.correct"), MinutesStep("att", "pick"))])
        keyboard.append([_button(context.plain("minutes.continue"), MinutesStep("att", "go"))])
    elif step == "pick":
        people = _not_signed(state)
        offset = max(0, min(int(data.get("offset", 0)), max(0, len(people) - 1)))
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
    elif step == "note":
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
        current = data["fields"].get(spec.field.value)
        if current:
            lines.append(context.t("minutes.current"))
            lines += [context.t("minutes.view.text", text=line) for line in current.split("\n")]
            keyboard.append([_button(context.plain("minutes.keep"), MinutesStep(step, "keep"))])
        lines.append(context.t("minutes.type_it", limit=spec.limit))
        if not spec.required:
            keyboard.append([_button(context.plain("wizard.skip"), MinutesStep(step, "skip"))])
    elif step == "ph":
        lines = [
            context.t(
                "minutes.ask_photos",
                n=total,
                total=total,
                max=PHOTOS_MAX,
                count=len(data["photos"]),
            )
        ]
        keyboard.append([_button(context.plain("minutes.photos_done"), MinutesStep("ph", "done"))])
        if data["photos"]:
            keyboard.append(
                [_button(context.plain("minutes.photos_clear"), MinutesStep("ph", "clear"))]
            )
    elif step == "pre":
        lines = [context.t("minutes.preview_intro"), ""]
        lines += minutes_lines(context, minutes, state, data["fields"], len(data["photos"]))
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


async def _drop_buttons(query: CallbackQuery) -> None:
    try:
        await query.edit_message_reply_markup(None)
    except BadRequest as exc:
        if "message is not modified" not in exc.message.lower():
            raise


async def _ask(
    context: BotContext,
    user_id: int,
    data: dict[str, Any],
    step: str,
    *,
    error: str = "",
    query: CallbackQuery | None = None,
    state: MinutesState | None = None,
) -> None:
    """Save the step and send its question as a new message (the pressed one loses its
    buttons); `error` is a line shown above the question."""
    state = state or await _state(context, user_id, int(data["meeting_id"]))
    lines, markup = _screen(context, state, data, step)
    if error:
        lines = [error, "", *lines]
    await save_draft(context.deps.db, user_id, FLOW, step, data, context.deps.clock.now())
    if query is not None:
        await query.answer()
        await _drop_buttons(query)
    sent = await _send(context, user_id, lines, markup)
    if step == "ph":
        # The photo prompt is edited in place as photos arrive (one message, not nine).
        data["prompt"] = sent.message_id
        await save_draft(context.deps.db, user_id, FLOW, step, data, context.deps.clock.now())


async def _start(
    query: CallbackQuery, context: BotContext, meeting_id: int, state: MinutesState
) -> None:
    """Open the wizard at the attendance step: resume an unfinished one for this meeting."""
    user_id = query.from_user.id
    draft = await get_draft(context.deps.db, user_id)
    if draft is not None and draft.flow == FLOW and draft.data.get("meeting_id") == meeting_id:
        await _ask(context, user_id, dict(draft.data), draft.step, query=query, state=state)
        return
    data: dict[str, Any] = {
        "meeting_id": meeting_id,
        "fields": prefilled(state.minutes),
        "photos": list(state.minutes.photos),
        "editing": state.minutes.exists,
    }
    await _ask(context, user_id, data, "att", query=query, state=state)


async def _show(query: CallbackQuery, context: BotContext, state: MinutesState) -> None:
    """The saved minutes as text, then their photos one by one."""
    minutes = state.minutes
    meeting_id = minutes.meeting.id
    user_id = query.from_user.id
    rows: Keyboard = []
    if state.writer:
        rows.append([_button(context.plain("minutes.edit"), MinutesOpen("edit", meeting_id))])
    rows.append([_button(context.plain("meeting.back_to_meeting"), Manage("scr", meeting_id))])
    await query.answer()
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


# ---- handlers ----


async def open_button(update: Update, context: BotContext) -> None:
    """会议记录 on the manage screen: show the minutes, or start writing them."""
    query = update.callback_query
    assert query is not None
    press = MinutesOpen.unpack(query.data)
    if press is None or press.action not in ("open", "edit", "view"):
        await query.answer(context.plain("callback.invalid"), show_alert=True)
        return
    try:
        state = await _state(context, query.from_user.id, press.meeting_id)
        if press.action == "edit" or (press.action == "open" and not state.minutes.exists):
            if not state.writer:
                key = "minutes.error.denied" if state.minutes.exists else "minutes.none_yet"
                await query.answer(context.plain(key), show_alert=True)
                return
            await _start(query, context, press.meeting_id, state)
            return
        if not state.minutes.exists:
            await query.answer(context.plain("minutes.none_yet"), show_alert=True)
            return
        await _show(query, context, state)
    except ServiceError as exc:
        await query.answer(context.plain(error_key(exc.code)), show_alert=True)


async def wizard_button(update: Update, context: BotContext) -> None:
    """A button of the minutes wizard; presses that do not fit the current step are stale."""
    query = update.callback_query
    assert query is not None
    press = MinutesStep.unpack(query.data)
    user_id = query.from_user.id
    draft = await get_draft(context.deps.db, user_id)
    if press is None or draft is None or draft.flow != FLOW:
        await query.answer(context.plain("callback.invalid"), show_alert=True)
        return
    data, step = dict(draft.data), draft.step
    if press.action == "x":
        await clear_draft(context.deps.db, user_id, FLOW)
        await query.answer()
        await edit_text(query, context.t("minutes.cancelled"))
        return
    if press.step != step:
        await query.answer(context.plain("callback.invalid"), show_alert=True)
        return
    try:
        await _on_button(query, context, press, data, step)
    except ServiceError as exc:
        await clear_draft(context.deps.db, user_id, FLOW)
        await query.answer(context.plain(error_key(exc.code)), show_alert=True)


async def _on_button(
    query: CallbackQuery, context: BotContext, press: MinutesStep, data: dict[str, Any], step: str
) -> None:
    user_id = query.from_user.id
    state = await _state(context, user_id, int(data["meeting_id"]))
    form = state.minutes.form
    index = _field_index(step)
    action = press.action
    if action == "back":
        previous = _previous(step, form)
        if previous is None:
            await query.answer(context.plain("callback.invalid"), show_alert=True)
            return
        await _ask(context, user_id, data, previous, query=query, state=state)
    elif step == "att" and action == "go":
        await _ask(context, user_id, data, _field_step(0), query=query, state=state)
    elif step == "att" and action == "pick":
        data["offset"] = 0
        await _ask(context, user_id, data, "pick", query=query, state=state)
    elif step == "pick" and action == "pg":
        data["offset"] = max(0, press.value)
        lines, markup = _screen(context, state, data, "pick")
        await save_draft(context.deps.db, user_id, FLOW, "pick", data, context.deps.clock.now())
        await query.answer()
        await edit_text(query, "\n".join(lines), reply_markup=markup)
    elif step == "pick" and action == "m":
        if press.value not in {m for m, _ in _not_signed(state)}:
            await query.answer(context.plain("callback.invalid"), show_alert=True)
            return
        data["member_id"] = press.value
        await _ask(context, user_id, data, "note", query=query, state=state)
    elif step == "note" and action == "skip":
        await query.answer()
        await _drop_buttons(query)
        await _sign(context, user_id, data, None)
    elif index is not None and action == "keep" and data["fields"].get(form[index].field.value):
        await _ask(context, user_id, data, _after_field(index, form), query=query, state=state)
    elif index is not None and action == "skip" and not form[index].required:
        data["fields"].pop(form[index].field.value, None)
        await _ask(context, user_id, data, _after_field(index, form), query=query, state=state)
    elif step == "ph" and action == "done":
        await _ask(context, user_id, data, "pre", query=query, state=state)
    elif step == "ph" and action == "clear":
        data["photos"] = []
        await _ask(context, user_id, data, "ph", query=query, state=state)
    elif step == "pre" and action == "redo":
        await _ask(context, user_id, data, "att", query=query, state=state)
    elif step == "pre" and action == "save":
        await _save(query, context, data, state)
    else:
        await query.answer(context.plain("callback.invalid"), show_alert=True)


def _after_field(index: int, form: tuple[FieldSpec, ...]) -> str:
    return _field_step(index + 1) if index + 1 < len(form) else "ph"


async def _save(
    query: CallbackQuery, context: BotContext, data: dict[str, Any], state: MinutesState
) -> None:
    user_id = query.from_user.id
    meeting_id = int(data["meeting_id"])
    try:
        await save_minutes(
            context.deps.db,
            actor_of(context, query.from_user),
            meeting_id,
            dict(data["fields"]),
            list(data["photos"]),
            now=context.deps.clock.now(),
            today=today(context),
        )
    except ServiceError as exc:
        fields = exc.params.get("fields")
        if exc.code in ("minutes.missing", "minutes.too_long") and isinstance(fields, list):
            # Back to the first field that needs attention; the answers stay.
            form = [s.field.value for s in state.minutes.form]
            first = min(form.index(f) for f in fields if f in form)
            await _ask(
                context,
                user_id,
                data,
                _field_step(first),
                error=context.t(error_key(exc.code)),
                query=query,
                state=state,
            )
            return
        raise
    await clear_draft(context.deps.db, user_id, FLOW)
    await query.answer(context.plain("minutes.saved_short"))
    await _drop_buttons(query)
    markup = InlineKeyboardMarkup(
        [
            [_button(context.plain("minutes.view"), MinutesOpen("view", meeting_id))],
            [_button(context.plain("meeting.back_to_meeting"), Manage("scr", meeting_id))],
        ]
    )
    key = "minutes.saved_again" if data.get("editing") else "minutes.saved"
    await context.bot.send_message(user_id, context.t(key), reply_markup=markup)


async def _sign(context: BotContext, user_id: int, data: dict[str, Any], note: str | None) -> None:
    """代签 / 补签 from the attendance step, then the attendance again with the result."""
    try:
        result = await sign_for(
            context.deps.db,
            _actor(context, user_id),
            int(data["meeting_id"]),
            int(data.get("member_id", 0)),
            note=note,
            now=context.deps.clock.now(),
            today=today(context),
        )
    except ServiceError as exc:
        if exc.code != "meeting.note_long":
            raise
        error = context.t("meeting.edit.too_long", limit=NOTE_MAX)
        await _ask(context, user_id, data, "note", error=error)
        return
    data.pop("member_id", None)
    await _ask(context, user_id, data, "att", error=sign_result_text(context, result))


async def typed_text(update: Update, context: BotContext, draft: DraftView) -> None:
    """A typed field of the minutes, or the note of a 补签; elsewhere, a hint to the buttons."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    data, step = dict(draft.data), draft.step
    text = message.text or ""
    try:
        if step == "note":
            await _sign(context, user.id, data, text)
            return
        state = await _state(context, user.id, int(data["meeting_id"]))
        form = state.minutes.form
        index = _field_index(step)
        if index is None or index >= len(form):
            key = "minutes.error.send_photos" if step == "ph" else "meeting.error.use_buttons"
            await message.reply_text(context.t(key))
            return
        spec = form[index]
        value = parse_field(spec, text)
        if isinstance(value, Invalid):
            error = (
                context.t("minutes.error.empty")
                if value.code == "text.empty"
                else context.t(
                    "minutes.error.too_long", limit=spec.limit, length=text_length(text.strip())
                )
            )
            await _ask(context, user.id, data, step, error=error, state=state)
            return
        data["fields"][spec.field.value] = value
        await _ask(context, user.id, data, _after_field(index, form), state=state)
    except ServiceError as exc:
        await clear_draft(context.deps.db, user.id, FLOW)
        await message.reply_text(context.t(error_key(exc.code)))


async def media_received(update: Update, context: BotContext) -> None:
    """A private photo while the minutes ask for photos: kept (up to nine); other media and
    other flows are left to the rest of the bot."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    draft = await get_draft(context.deps.db, user.id)
    if draft is None or draft.flow != FLOW:
        return
    if draft.step != "ph":
        await message.reply_text(context.t("minutes.error.photo_not_now"))
        raise ApplicationHandlerStop
    if not message.photo:
        await message.reply_text(context.t("minutes.error.photo_as_photo"))
        raise ApplicationHandlerStop
    data = dict(draft.data)
    photos = list(data["photos"])
    if len(photos) >= PHOTOS_MAX:
        await message.reply_text(context.t("minutes.error.photos_full", max=PHOTOS_MAX))
        raise ApplicationHandlerStop
    photos.append(message.photo[-1].file_id)  # the largest size
    data["photos"] = photos
    await save_draft(context.deps.db, user.id, FLOW, "ph", data, context.deps.clock.now())
    state = await _state(context, user.id, int(data["meeting_id"]))
    lines, markup = _screen(context, state, data, "ph")
    prompt = data.get("prompt")
    if len(photos) < PHOTOS_MAX and isinstance(prompt, int):
        try:
            await context.bot.edit_message_text(
                "\n".join(lines), chat_id=user.id, message_id=prompt, reply_markup=markup
            )
            raise ApplicationHandlerStop
        except BadRequest as exc:  # deleted by the person: ask again below
            log.info("minutes photo prompt not edited: %s", exc.message)
    await _ask(context, user.id, data, "ph", state=state)
    raise ApplicationHandlerStop


def register(app: Application, router: WizardRouter) -> None:  # type: ignore[type-arg]
    """Install the minutes buttons, the typed fields and the photo handler."""
    app.add_handler(CallbackQueryHandler(open_button, pattern=MinutesOpen.pattern()))
    app.add_handler(CallbackQueryHandler(wizard_button, pattern=MinutesStep.pattern()))
    app.add_handler(
        MessageHandler(
            filters.ChatType.PRIVATE
            & (filters.PHOTO | filters.Document.ALL)
            & ~filters.UpdateType.EDITED,
            media_received,
        ),
        group=MEDIA_GROUP,
    )
    router.on_text(FLOW, typed_text)
