"""/meeting: schedule, preview, publish with 参加/请假; leave reasons; sign-in and quorum."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    filters,
)

from domain.compliance import MeetingType
from domain.meetings import (
    AGENDA_MAX,
    GROUP_ONLY_TYPES,
    LESSON_TYPES,
    PERSON_DETAILS,
    PLACE_MAX,
    REASON_MAX,
    TOPIC_MAX,
    Answer,
    Audience,
    Detail,
    Status,
    may_edit,
    ordered_types,
)
from domain.validation import Invalid, parse_short_text
from domain.when import parse_when
from handlers.common import actor_of, deep_link, edit_text, is_private, today
from handlers.wizard import WizardRouter
from services.authz import Actor
from services.drafts import DraftView, clear_draft, get_draft, save_draft
from services.errors import ServiceError
from services.meetings import (
    Attendance,
    Changed,
    MeetingSpec,
    MeetingView,
    Overview,
    PersonRef,
    SignResult,
    answer,
    attendance,
    cancel_meeting,
    close_meeting,
    edit_meeting,
    give_reason,
    managed_meetings,
    my_meetings,
    open_signin,
    organizer_branches,
    overview,
    planning,
    publish_meeting,
    sign_for,
    sign_in,
)
from ui.callbacks import CallbackData, button
from ui.deps import BotContext
from ui.errors import error_key
from ui.meetings import (
    ASK_PERSON_KEYS,
    CHOICES,
    SIGNED_KEYS,
    TYPE_KEYS,
    Keyboard,
    Manage,
    MeetingList,
    MeetingStep,
    MinutesOpen,
    Rsvp,
    SignIn,
    card_lines,
    details_lines,
    group_render,
    wording,
)
from ui.render import format_datetime, split_message

FLOW = "meeting"
LEAVE_FLOW = "meeting_leave"
NOTE_FLOW = "meeting_note"
EDIT_FLOW = "meeting_edit"
LEAVE_LINK = "lv_"  # /start lv_<meeting id>: state the reason of a leave request
PAGE = 8
# Ahead of group 0, where /start greets: the deep link for a leave reason is ours.
DEEP_LINK_GROUP = -2


# ---- the wizard ----

ORDER = (
    "org",
    "type",
    "when",
    "cfm",
    "place",
    "topic",
    "agenda",
    "host",
    "rec",
    "lect",
    "aud",
    "pre",
)


def _types(data: dict[str, Any]) -> list[MeetingType]:
    return ordered_types(MeetingType(t) for t in data.get("types", []))


def _next(data: dict[str, Any], step: str) -> str:
    """The step after `step`, skipping the lecturer unless a lesson is among the types."""
    index = ORDER.index(step) + 1
    following = ORDER[index]
    if following == "lect" and not any(t in LESSON_TYPES for t in _types(data)):
        following = "aud"
    return following


def _previous(data: dict[str, Any], step: str) -> str | None:
    index = ORDER.index(step)
    while index > 0:
        index -= 1
        candidate = ORDER[index]
        if candidate == "org" and data.get("single_org"):
            return None
        if candidate == "cfm":
            continue  # back from the place re-asks the time itself
        if candidate == "lect" and not any(t in LESSON_TYPES for t in _types(data)):
            continue
        return candidate
    return None


def _nav(context: BotContext, data: dict[str, Any], step: str) -> list[InlineKeyboardButton]:
    row = []
    if _previous(data, step) is not None:
        row.append(button(context.plain("wizard.back"), MeetingStep(step, "back")))
    row.append(button(context.plain("wizard.cancel"), MeetingStep(step, "x")))
    return row


def _mark(context: BotContext, label: str, on: bool) -> str:
    return context.plain("meeting.checked" if on else "meeting.unchecked", label=label)


def _when(data: dict[str, Any]) -> datetime | None:
    value = data.get("starts_at")
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _roster_keyboard(
    context: BotContext, step: str, people: Sequence[PersonRef], offset: int, current: int | None
) -> Keyboard:
    keyboard = [
        [
            button(
                _mark(context, p.name, True) if p.id == current else p.name,
                MeetingStep(step, "pick", p.id),
            )
        ]
        for p in people[offset : offset + PAGE]
    ]
    pager = []
    if offset > 0:
        pager.append(
            button(context.plain("common.prev"), MeetingStep(step, "page", max(0, offset - PAGE)))
        )
    if offset + PAGE < len(people):
        pager.append(button(context.plain("common.next"), MeetingStep(step, "page", offset + PAGE)))
    if pager:
        keyboard.append(pager)
    keyboard.append([button(context.plain("wizard.skip"), MeetingStep(step, "pick", 0))])
    return keyboard


PERSON_FIELDS = {"host": "host_id", "rec": "recorder_id", "lect": "lecturer_id"}


async def _screen(
    context: BotContext, actor: Actor, data: dict[str, Any], step: str, error: str = ""
) -> tuple[str, InlineKeyboardMarkup]:
    """The question of one step (after an error line when there is one)."""
    text = context.t(error) + "\n\n" if error else ""
    keyboard: Keyboard = []
    tz = context.deps.settings.timezone
    if step == "org":
        branches = await organizer_branches(context.deps.db, actor, today(context))
        text += context.t("meeting.ask_org")
        keyboard = [
            [button(b.name, MeetingStep("org", "pick", b.id))] for b in branches[: PAGE * 3]
        ]
    elif step == "type":
        chosen = set(data.get("types", []))
        text += context.t("meeting.ask_types", org=data["org_name"])
        buttons = [
            button(
                _mark(context, context.plain(TYPE_KEYS[t]), t.value in chosen),
                MeetingStep("type", "t", i),
            )
            for i, t in enumerate(MeetingType)
        ]
        keyboard = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
        keyboard.append([button(context.plain("meeting.next"), MeetingStep("type", "next"))])
    elif step == "when":
        text += context.t("meeting.ask_when")
    elif step == "cfm":
        when = _when(data)
        assert when is not None
        text += context.t("meeting.confirm_when", when=format_datetime(context, when, tz))
        keyboard = [
            [
                button(context.plain("meeting.yes"), MeetingStep("cfm", "ok")),
                button(context.plain("meeting.retype"), MeetingStep("cfm", "re")),
            ]
        ]
    elif step == "place":
        text += context.t("meeting.ask_place")
    elif step == "topic":
        text += context.t("meeting.ask_topic")
    elif step == "agenda":
        text += context.t("meeting.ask_agenda")
        keyboard = [[button(context.plain("wizard.skip"), MeetingStep("agenda", "skip"))]]
    elif step in PERSON_FIELDS:
        plan = await planning(context.deps.db, actor, int(data["org_id"]), today(context))
        text += context.t(ASK_PERSON_KEYS[step])
        keyboard = _roster_keyboard(
            context, step, plan.roster, int(data.get("offset", 0)), data.get(PERSON_FIELDS[step])
        )
    elif step == "aud":
        plan = await planning(context.deps.db, actor, int(data["org_id"]), today(context))
        text += context.t("meeting.ask_audience")
        group_only = any(t in GROUP_ONLY_TYPES for t in _types(data))
        if plan.whole_branch and not group_only:
            keyboard.append([button(context.plain("meeting.aud.branch"), MeetingStep("aud", "br"))])
            keyboard.append(
                [button(context.plain("meeting.aud.committee"), MeetingStep("aud", "cm"))]
            )
        keyboard += [
            [
                button(
                    context.plain("meeting.aud.group", name=g.name), MeetingStep("aud", "pg", g.id)
                )
            ]
            for g in plan.party_groups
        ]
    keyboard.append(_nav(context, data, step))
    return text, InlineKeyboardMarkup(keyboard)


async def _drop_buttons(query: CallbackQuery) -> None:
    """Take the buttons off an answered question, so an old press cannot jump steps."""
    try:
        await query.edit_message_reply_markup(None)
    except BadRequest as exc:
        if "message is not modified" not in exc.message.lower():  # pressed twice
            raise


async def _ask(
    context: BotContext,
    user_id: int,
    data: dict[str, Any],
    step: str,
    error: str = "",
    query: CallbackQuery | None = None,
) -> None:
    """Save the step and send its question as a new message (the pressed one loses its buttons)."""
    actor = Actor(user_id=user_id, superadmin=user_id in context.deps.settings.superadmins)
    if step == "pre":
        text, markup = await _preview(context, actor, data)
    else:
        text, markup = await _screen(context, actor, data, step, error)
    await save_draft(context.deps.db, user_id, FLOW, step, data, context.deps.clock.now())
    if query is not None:
        await query.answer()
        await _drop_buttons(query)
    for i, part in enumerate(parts := split_message(text.split("\n"))):
        await context.bot.send_message(
            user_id, part, reply_markup=markup if i == len(parts) - 1 else None
        )


def _spec(data: dict[str, Any]) -> MeetingSpec:
    when = _when(data)
    assert when is not None
    return MeetingSpec(
        org_id=int(data["org_id"]),
        types=tuple(_types(data)),
        starts_at=when,
        place=data["place"],
        topic=data["topic"],
        audience=Audience(data["audience"]),
        party_group_id=data.get("party_group_id"),
        agenda=data.get("agenda"),
        host_id=data.get("host_id"),
        recorder_id=data.get("recorder_id"),
        lecturer_id=data.get("lecturer_id"),
    )


async def _preview(
    context: BotContext, actor: Actor, data: dict[str, Any]
) -> tuple[str, InlineKeyboardMarkup]:
    plan = await planning(context.deps.db, actor, int(data["org_id"]), today(context))
    names = {p.id: p.name for p in plan.roster}
    groups = {g.id: g.name for g in plan.party_groups}

    def ref(key: str) -> PersonRef | None:
        member_id = data.get(key)
        return PersonRef(member_id, names.get(member_id, "?")) if member_id else None

    spec = _spec(data)
    view = MeetingView(
        id=0,
        org_id=spec.org_id,
        org_name=plan.org.name,
        party_group_id=spec.party_group_id,
        party_group_name=groups.get(spec.party_group_id or 0),
        types=spec.types,
        starts_at=spec.starts_at,
        place=spec.place,
        topic=spec.topic,
        agenda=spec.agenda,
        host=ref("host_id"),
        recorder=ref("recorder_id"),
        lecturer=ref("lecturer_id"),
        audience=spec.audience,
        status=Status.SCHEDULED,
        version=1,
    )
    lines = [context.t("meeting.preview_intro"), ""]
    lines += details_lines(
        context.deps.catalog,
        context.locale,
        view,
        context.deps.settings.timezone,
        context.deps.clock.now(),
    )
    lines.append("")
    lines.append(
        context.t("meeting.preview_group" if plan.has_group else "meeting.preview_no_group")
    )
    keyboard = [
        [button(context.plain("meeting.publish"), MeetingStep("pre", "ok"))],
        [
            button(context.plain("meeting.redo"), MeetingStep("pre", "redo")),
            button(context.plain("wizard.cancel"), MeetingStep("pre", "x")),
        ],
    ]
    return "\n".join(lines), InlineKeyboardMarkup(keyboard)


async def meeting_command(update: Update, context: BotContext) -> None:
    """/meeting: schedule a meeting (private chat; organizers only)."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    if not is_private(update):
        await message.reply_text(context.t("meeting.use_private"))
        return
    branches = await organizer_branches(context.deps.db, actor_of(context, user), today(context))
    if not branches:
        await message.reply_text(context.t("meeting.not_allowed"))
        return
    data: dict[str, Any] = {"single_org": len(branches) == 1, "types": []}
    if len(branches) == 1:
        data.update(org_id=branches[0].id, org_name=branches[0].name)
    await _ask(context, user.id, data, "type" if len(branches) == 1 else "org")


async def wizard_button(update: Update, context: BotContext) -> None:
    """A button of the /meeting wizard; presses that do not fit the current step are stale."""
    query = update.callback_query
    assert query is not None
    press = MeetingStep.unpack(query.data)
    user = query.from_user
    draft = await get_draft(context.deps.db, user.id)
    if press is None or draft is None or draft.flow != FLOW:
        await _refuse(query, context, "stale")
        return
    data, step = dict(draft.data), draft.step
    if press.action == "x":
        await clear_draft(context.deps.db, user.id, FLOW)
        await query.answer()
        await edit_text(query, context.t("wizard.cancelled"))
        return
    if press.step != step:
        await _refuse(query, context, "stale")
        return
    try:
        await _on_button(query, context, press, data, step)
    except ServiceError as exc:
        await _refuse(query, context, exc.code)


async def _on_button(
    query: CallbackQuery, context: BotContext, press: MeetingStep, data: dict[str, Any], step: str
) -> None:
    user = query.from_user
    actor = actor_of(context, user)
    action, value = press.action, press.value
    next_step: str | None = None
    if action == "back":
        next_step = _previous(data, step)
    elif step == "org" and action == "pick":
        plan = await planning(context.deps.db, actor, value, today(context))
        data.update(org_id=plan.org.id, org_name=plan.org.name)
        next_step = "type"
    elif step == "type" and action == "t" and 0 <= value < len(MeetingType):
        kind = list(MeetingType)[value].value
        chosen = list(data.get("types", []))
        data["types"] = [t for t in chosen if t != kind] if kind in chosen else [*chosen, kind]
        next_step = "type"
    elif step == "type" and action == "next":
        if not data.get("types"):
            await _refuse(query, context, "meeting.no_type")
            return
        next_step = "when"
    elif step == "cfm" and action == "ok":
        next_step = "place"
    elif step == "cfm" and action == "re":
        next_step = "when"
    elif step == "agenda" and action == "skip":
        data["agenda"] = None
        next_step = "host"
    elif step in PERSON_FIELDS and action == "page":
        data["offset"] = max(0, value)
        next_step = step
    elif step in PERSON_FIELDS and action == "pick":
        plan = await planning(context.deps.db, actor, int(data["org_id"]), today(context))
        if value and value not in {p.id for p in plan.roster}:
            await _refuse(query, context, "stale")
            return
        data[PERSON_FIELDS[step]] = value or None
        data["offset"] = 0
        next_step = _next(data, step)
    elif step == "aud" and action in ("br", "cm", "pg"):
        plan = await planning(context.deps.db, actor, int(data["org_id"]), today(context))
        if action == "pg" and value not in {g.id for g in plan.party_groups}:
            await _refuse(query, context, "auth.manage_meetings")
            return
        if action != "pg" and not plan.whole_branch:
            await _refuse(query, context, "auth.manage_meetings")
            return
        audience = {"br": Audience.BRANCH, "cm": Audience.COMMITTEE, "pg": Audience.PARTY_GROUP}[
            action
        ]
        data.update(audience=audience.value, party_group_id=value if action == "pg" else None)
        next_step = "pre"
    elif step == "pre" and action == "redo":
        next_step = "type"
    elif step == "pre" and action == "ok":
        await _publish(query, context, data)
        return
    if next_step is None:
        await _refuse(query, context, "stale")
        return
    if next_step == "pre" or step == "pre" or next_step in ("when", "place"):
        await _ask(context, user.id, data, next_step, query=query)
        return
    text, markup = await _screen(context, actor, data, next_step)
    await save_draft(context.deps.db, user.id, FLOW, next_step, data, context.deps.clock.now())
    await query.answer()
    await edit_text(query, text, reply_markup=markup)


async def typed_answer(update: Update, context: BotContext, draft: DraftView) -> None:
    """A typed time, place, topic or agenda for the open /meeting wizard."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    data, step = dict(draft.data), draft.step
    text = message.text or ""
    now = context.deps.clock.now()
    limits = {"place": PLACE_MAX, "topic": TOPIC_MAX, "agenda": AGENDA_MAX}
    if step == "when":
        parsed = parse_when(text, now.astimezone(context.deps.settings.timezone))
        if isinstance(parsed, Invalid):
            await _ask(context, user.id, data, "when", "meeting.error.bad_time")
        elif parsed <= now:
            await _ask(context, user.id, data, "when", "meeting.error.past")
        else:
            data["starts_at"] = parsed.isoformat()
            await _ask(context, user.id, data, "cfm")
    elif step in limits:
        value = parse_short_text(text, limits[step])
        if isinstance(value, Invalid):
            key = "meeting.error.empty" if value.code == "text.empty" else "meeting.error.too_long"
            await _ask(context, user.id, data, step, key)
            return
        data[step] = value
        await _ask(context, user.id, data, _next(data, step))
    else:
        await message.reply_text(context.t("meeting.error.use_buttons"))


async def _publish(query: CallbackQuery, context: BotContext, data: dict[str, Any]) -> None:
    """确认发布: record the meeting, queue the group notice, give the organizer its buttons."""
    user = query.from_user
    db = context.deps.db
    actor = actor_of(context, user)
    view, posted = await publish_meeting(
        db,
        actor,
        _spec(data),
        group_render(context),
        now=context.deps.clock.now(),
        today=today(context),
    )
    await clear_draft(db, user.id, FLOW)
    context.deps.outbox.wake()
    await query.answer(context.plain("meeting.published_short"))
    state = await overview(db, actor, view.id, today(context))
    await edit_text(
        query,
        context.t("meeting.published" if posted else "meeting.published_no_group"),
        reply_markup=_screen_keyboard(context, state),
    )


# ---- the manage screen ----

STATUS_KEYS: dict[Status, str] = {
    Status.SCHEDULED: "meeting.status.scheduled",
    Status.OPEN: "meeting.status.open",
    Status.CLOSED: "meeting.status.closed",
    Status.CANCELLED: "meeting.status.cancelled",
}
MARK_KEYS: dict[Status, str] = {
    Status.SCHEDULED: "meeting.mark.scheduled",
    Status.OPEN: "meeting.mark.open",
    Status.CLOSED: "meeting.mark.closed",
    Status.CANCELLED: "meeting.mark.cancelled",
}
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
    Detail.HOST: "meeting.edit.ask_person",
    Detail.RECORDER: "meeting.edit.ask_person",
    Detail.LECTURER: "meeting.edit.ask_person",
}
TEXT_LIMITS: dict[Detail, int] = {
    Detail.PLACE: PLACE_MAX,
    Detail.TOPIC: TOPIC_MAX,
    Detail.AGENDA: AGENDA_MAX,
}


def _screen_text(context: BotContext, state: Overview) -> str:
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
        lines.append(
            context.t(
                "meeting.manage.minutes_done"
                if state.has_minutes
                else "meeting.manage.minutes_none"
            )
        )
    return "\n".join(lines)


def _screen_keyboard(context: BotContext, state: Overview) -> InlineKeyboardMarkup:
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


async def show_screen(query: CallbackQuery, context: BotContext, meeting_id: int) -> None:
    """Turn the pressed message into the meeting's manage screen."""
    state = await overview(
        context.deps.db, actor_of(context, query.from_user), meeting_id, today(context)
    )
    await edit_text(
        query, _screen_text(context, state), reply_markup=_screen_keyboard(context, state)
    )


async def _organizer_state(
    query: CallbackQuery, context: BotContext, meeting_id: int
) -> Overview | None:
    """The meeting for an organizer who may still change it; refuses anyone else."""
    state = await overview(
        context.deps.db, actor_of(context, query.from_user), meeting_id, today(context)
    )
    if not state.organizer:
        await _refuse(query, context, "auth.manage_meetings")
        return None
    if not may_edit(state.meeting.status):
        code = "meeting.cancelled" if state.meeting.status is Status.CANCELLED else "meeting.closed"
        await _refuse(query, context, code)
        return None
    return state


# ---- answers in the group ----


async def rsvp_button(update: Update, context: BotContext) -> None:
    """参加 / 请假 on a meeting notice: re-authorized on every press; counts update later."""
    query = update.callback_query
    assert query is not None
    press = Rsvp.unpack(query.data)
    if press is None or press.choice not in CHOICES:
        await _refuse(query, context, "stale")
        return
    user = query.from_user
    choice = CHOICES[press.choice]
    result = await answer(
        context.deps.db,
        user.id,
        press.meeting_id,
        choice,
        now=context.deps.clock.now(),
        today=today(context),
    )
    if result.status == "outside":
        await query.answer(context.plain("meeting.error.outside"), show_alert=True)
        return
    if result.status == "cancelled":
        await query.answer(context.plain("meeting.error.cancelled"), show_alert=True)
        return
    if result.status == "closed":
        await query.answer(context.plain("meeting.error.closed"), show_alert=True)
        return
    if choice is Answer.ATTEND:
        await query.answer(context.plain("meeting.attend_ok"))
        return
    if result.started:
        await save_draft(
            context.deps.db,
            user.id,
            LEAVE_FLOW,
            "reason",
            {"meeting_id": press.meeting_id},
            context.deps.clock.now(),
        )
        await query.answer(context.plain("meeting.leave_see_private"))
        await context.bot.send_message(user.id, context.t("meeting.ask_reason"))
        return
    link = deep_link(context.bot.username, f"{LEAVE_LINK}{press.meeting_id}")
    await query.answer(context.plain("meeting.leave_open_bot"), show_alert=True, url=link)


async def leave_link(update: Update, context: BotContext) -> None:
    """/start lv_<id>: someone who pressed 请假 before starting the bot states the reason."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    payload = context.args[0] if context.args else ""
    meeting_id = int(payload.removeprefix(LEAVE_LINK))
    await save_draft(
        context.deps.db,
        user.id,
        LEAVE_FLOW,
        "reason",
        {"meeting_id": meeting_id},
        context.deps.clock.now(),
    )
    await message.reply_text(context.t("meeting.ask_reason"))
    raise ApplicationHandlerStop


async def typed_reason(update: Update, context: BotContext, draft: DraftView) -> None:
    """The reason of a leave request: recorded, and the member is told what happens next."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    try:
        view = await give_reason(
            context.deps.db,
            user.id,
            int(draft.data["meeting_id"]),
            message.text or "",
            now=context.deps.clock.now(),
            today=today(context),
        )
    except ServiceError as exc:
        if exc.code.startswith("input."):
            await message.reply_text(context.t(error_key(exc.code)))
            return  # the draft stays: the member types the reason again
        await clear_draft(context.deps.db, user.id, LEAVE_FLOW)
        await message.reply_text(context.t(error_key(exc.code)))
        return
    await clear_draft(context.deps.db, user.id, LEAVE_FLOW)
    await message.reply_text(context.t("meeting.leave_recorded", topic=view.topic))


# ---- sign-in ----


async def signin_button(update: Update, context: BotContext) -> None:
    """签到 pressed in the group: only members of the audience, only while sign-in is open."""
    query = update.callback_query
    assert query is not None
    press = SignIn.unpack(query.data)
    if press is None:
        await _refuse(query, context, "stale")
        return
    result = await sign_in(
        context.deps.db,
        query.from_user.id,
        press.meeting_id,
        now=context.deps.clock.now(),
        today=today(context),
    )
    keys = {"ok": "meeting.signin.ok", "already": "meeting.signin.already"}
    if result.status in keys:
        await query.answer(context.plain(keys[result.status], name=result.member_name))
        return
    alert = {
        "outside": "meeting.error.outside",
        "not_open": "meeting.signin.not_open",
        "cancelled": "meeting.error.cancelled",
    }
    await query.answer(
        context.plain(alert.get(result.status, "meeting.error.closed")), show_alert=True
    )


async def manage_button(update: Update, context: BotContext) -> None:
    """The organizer's buttons: every press re-authorized by the service."""
    query = update.callback_query
    assert query is not None
    press = Manage.unpack(query.data)
    if press is None:
        await _refuse(query, context, "stale")
        return
    try:
        if press.action in EDIT_ACTIONS:
            await _on_edit(query, context, press)
        else:
            await _on_manage(query, context, press)
    except ServiceError as exc:
        await _refuse(query, context, exc.code)


async def _on_manage(query: CallbackQuery, context: BotContext, press: Manage) -> None:
    user = query.from_user
    actor = actor_of(context, user)
    db, now = context.deps.db, context.deps.clock.now()
    meeting_id = press.meeting_id
    if press.action == "scr":
        await show_screen(query, context, meeting_id)
        await query.answer()
    elif press.action == "open":
        await open_signin(
            db, actor, meeting_id, group_render(context, signin=True), now=now, today=today(context)
        )
        context.deps.outbox.wake()
        await query.answer(context.plain("meeting.signin.opened"))
        await show_screen(query, context, meeting_id)
    elif press.action == "close":
        state = await overview(db, actor, meeting_id, today(context))
        if state.meeting.status is not Status.OPEN:
            await show_screen(query, context, meeting_id)
            await query.answer()
            return
        await query.answer()
        await edit_text(
            query,
            context.t("meeting.close.confirm", topic=state.meeting.topic),
            reply_markup=InlineKeyboardMarkup(
                [
                    [button(context.plain("meeting.close.yes"), Manage("cl2", meeting_id))],
                    [button(context.plain("wizard.back"), Manage("scr", meeting_id))],
                ]
            ),
        )
    elif press.action == "cl2":
        closing = await close_meeting(
            db, actor, meeting_id, wording(context), now=now, today=today(context)
        )
        context.deps.outbox.wake()
        await query.answer(context.plain("meeting.closed_ok"))
        await show_screen(query, context, meeting_id)
        if closing.just_closed:
            lines = [context.t("meeting.close.private_intro")]
            lines += attendance_lines(context, closing.report)
            for part in split_message(lines):
                await context.bot.send_message(user.id, part)
    elif press.action == "att":
        await query.answer()
        report = await attendance(db, actor, meeting_id, today(context))
        for part in split_message(attendance_lines(context, report)):
            await context.bot.send_message(user.id, part)
    elif press.action == "pf":
        report = await attendance(db, actor, meeting_id, today(context))
        signed = {p.id for p, _, _ in report.present}
        keyboard = [
            [button(p.name, Manage("sf", meeting_id, p.id))]
            for p in report.expected
            if p.id not in signed
        ][:30]
        await query.answer()
        await context.bot.send_message(
            user.id,
            context.t("meeting.proxy.ask" if keyboard else "meeting.proxy.nobody"),
            reply_markup=InlineKeyboardMarkup(keyboard) if keyboard else None,
        )
    elif press.action == "sf":
        await attendance(db, actor, meeting_id, today(context))  # authorizes
        await save_draft(
            db,
            user.id,
            NOTE_FLOW,
            "note",
            {"meeting_id": meeting_id, "member_id": press.value},
            now,
        )
        await query.answer()
        await context.bot.send_message(
            user.id,
            context.t("meeting.proxy.ask_note"),
            reply_markup=InlineKeyboardMarkup(
                [[button(context.plain("wizard.skip"), Manage("nn", meeting_id, press.value))]]
            ),
        )
    elif press.action == "nn":
        await clear_draft(db, user.id, NOTE_FLOW)
        await query.answer()
        await _sign_for(context, actor, user.id, meeting_id, press.value, None)
    else:
        await _refuse(query, context, "stale")


# ---- changing and calling off ----

EDIT_ACTIONS = frozenset({"edit", "ed", "ep", "epg", "eclr", "eok", "ex", "cx", "cx2"})


def _edit_draft(draft: DraftView | None, meeting_id: int) -> dict[str, Any] | None:
    """The open edit of this meeting, if the person has one."""
    if draft is None or draft.flow != EDIT_FLOW or draft.data.get("meeting_id") != meeting_id:
        return None
    return dict(draft.data)


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


def _new_value_text(context: BotContext, data: dict[str, Any], names: dict[int, str]) -> str:
    detail, value = Detail(data["detail"]), data.get("value")
    if value is None:
        return context.plain("meeting.change.none")
    if detail is Detail.WHEN:
        when = datetime.fromisoformat(str(value))
        return format_datetime(context, when, context.deps.settings.timezone)
    if detail in PERSON_DETAILS:
        return names.get(int(value), "?")
    return str(value)


def _edit_cancel_row(context: BotContext, meeting_id: int) -> list[InlineKeyboardButton]:
    return [button(context.plain("wizard.cancel"), Manage("ex", meeting_id))]


async def _person_picker(
    context: BotContext, actor: Actor, state: Overview, detail: Detail, offset: int
) -> tuple[str, InlineKeyboardMarkup]:
    plan = await planning(context.deps.db, actor, state.meeting.org_id, today(context))
    meeting_id = state.meeting.id
    people = plan.roster
    offset = max(0, min(offset, max(0, len(people) - 1)))
    keyboard: Keyboard = [
        [button(p.name, Manage("ep", meeting_id, p.id))] for p in people[offset : offset + PAGE]
    ]
    pager = []
    if offset > 0:
        pager.append(
            button(context.plain("common.prev"), Manage("epg", meeting_id, max(0, offset - PAGE)))
        )
    if offset + PAGE < len(people):
        pager.append(button(context.plain("common.next"), Manage("epg", meeting_id, offset + PAGE)))
    if pager:
        keyboard.append(pager)
    keyboard.append([button(context.plain("meeting.edit.nobody"), Manage("ep", meeting_id, 0))])
    keyboard.append(_edit_cancel_row(context, meeting_id))
    text = context.t(
        "meeting.edit.ask_person",
        what=context.plain(DETAIL_KEYS[detail]),
        current=_current_value(context, state.meeting, detail),
    )
    return text, InlineKeyboardMarkup(keyboard)


async def _confirm_edit(
    context: BotContext, actor: Actor, user_id: int, data: dict[str, Any]
) -> tuple[str, InlineKeyboardMarkup]:
    """Save the chosen value and word the preview of the change, with 确认修改 / 取消."""
    meeting_id = int(data["meeting_id"])
    state = await overview(context.deps.db, actor, meeting_id, today(context))
    names: dict[int, str] = {}
    detail = Detail(data["detail"])
    if detail in PERSON_DETAILS:
        plan = await planning(context.deps.db, actor, state.meeting.org_id, today(context))
        names = {p.id: p.name for p in plan.roster}
    await save_draft(context.deps.db, user_id, EDIT_FLOW, "confirm", data, context.deps.clock.now())
    text = context.t(
        "meeting.edit.confirm",
        what=context.plain(DETAIL_KEYS[detail]),
        old=_current_value(context, state.meeting, detail),
        new=_new_value_text(context, data, names),
        count=state.counts.attend + state.counts.leave,
    )
    markup = InlineKeyboardMarkup(
        [
            [button(context.plain("meeting.edit.yes"), Manage("eok", meeting_id))],
            _edit_cancel_row(context, meeting_id),
        ]
    )
    return text, markup


def _sent_text(context: BotContext, result: Changed) -> str:
    if not result.private and not result.mentioned:
        return context.t("meeting.edit.told_none")
    if result.mentioned:
        return context.t(
            "meeting.edit.told_both", private=result.private, mentioned=result.mentioned
        )
    return context.t("meeting.edit.told", private=result.private)


async def _on_edit(query: CallbackQuery, context: BotContext, press: Manage) -> None:
    """修改 / 取消会议 from the manage screen: organizers only, re-checked on every press."""
    user = query.from_user
    actor = actor_of(context, user)
    db, now = context.deps.db, context.deps.clock.now()
    meeting_id, action = press.meeting_id, press.action
    if action == "ex":
        await clear_draft(db, user.id, EDIT_FLOW)
        await query.answer()
        await show_screen(query, context, meeting_id)
        return
    state = await _organizer_state(query, context, meeting_id)
    if state is None:
        return
    lesson = any(t in LESSON_TYPES for t in state.meeting.types)
    draft = _edit_draft(await get_draft(db, user.id), meeting_id)
    if action == "edit":
        details = [d for d in DETAILS if d is not Detail.LECTURER or lesson]
        buttons = [
            button(context.plain(DETAIL_KEYS[d]), Manage("ed", meeting_id, DETAILS.index(d)))
            for d in details
        ]
        keyboard = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
        keyboard.append([button(context.plain("wizard.back"), Manage("scr", meeting_id))])
        await query.answer()
        await edit_text(
            query,
            context.t("meeting.edit.which", topic=state.meeting.topic),
            reply_markup=InlineKeyboardMarkup(keyboard),
        )
    elif action == "ed" and 0 <= press.value < len(DETAILS):
        detail = DETAILS[press.value]
        data: dict[str, Any] = {"meeting_id": meeting_id, "detail": detail.value, "offset": 0}
        if detail in PERSON_DETAILS:
            await save_draft(db, user.id, EDIT_FLOW, "person", data, now)
            text, markup = await _person_picker(context, actor, state, detail, 0)
        else:
            await save_draft(db, user.id, EDIT_FLOW, "type", data, now)
            text = context.t(
                ASK_DETAIL_KEYS[detail],
                current=_current_value(context, state.meeting, detail),
                limit=TEXT_LIMITS.get(detail, 0),
            )
            rows = []
            if detail is Detail.AGENDA and state.meeting.agenda:
                rows.append(
                    [button(context.plain("meeting.edit.clear_agenda"), Manage("eclr", meeting_id))]
                )
            rows.append(_edit_cancel_row(context, meeting_id))
            markup = InlineKeyboardMarkup(rows)
        await query.answer()
        await edit_text(query, text, reply_markup=markup)
    elif action == "epg" and draft is not None and draft.get("detail") in PERSON_DETAILS:
        draft["offset"] = max(0, press.value)
        await save_draft(db, user.id, EDIT_FLOW, "person", draft, now)
        text, markup = await _person_picker(
            context, actor, state, Detail(draft["detail"]), press.value
        )
        await query.answer()
        await edit_text(query, text, reply_markup=markup)
    elif action == "ep" and draft is not None and draft.get("detail") in PERSON_DETAILS:
        if press.value:
            plan = await planning(db, actor, state.meeting.org_id, today(context))
            if press.value not in {p.id for p in plan.roster}:
                await _refuse(query, context, "stale")
                return
        draft["value"] = press.value or None
        text, markup = await _confirm_edit(context, actor, user.id, draft)
        await query.answer()
        await edit_text(query, text, reply_markup=markup)
    elif action == "eclr" and draft is not None and draft.get("detail") == Detail.AGENDA:
        draft["value"] = None
        text, markup = await _confirm_edit(context, actor, user.id, draft)
        await query.answer()
        await edit_text(query, text, reply_markup=markup)
    elif action == "eok" and draft is not None and "value" in draft:
        detail = Detail(draft["detail"])
        value: str | int | datetime | None = draft["value"]
        if detail is Detail.WHEN and isinstance(value, str):
            value = datetime.fromisoformat(value)
        result = await edit_meeting(
            db, actor, meeting_id, detail, value, wording(context), now=now, today=today(context)
        )
        await clear_draft(db, user.id, EDIT_FLOW)
        context.deps.outbox.wake()
        await query.answer(context.plain("meeting.edit.done_short"))
        text = context.t("meeting.edit.unchanged")
        if result.changed:
            text = context.t("meeting.edit.done") + "\n" + _sent_text(context, result)
        await edit_text(
            query,
            text,
            reply_markup=InlineKeyboardMarkup(
                [[button(context.plain("meeting.back_to_meeting"), Manage("scr", meeting_id))]]
            ),
        )
    elif action == "cx":
        await save_draft(
            db, user.id, EDIT_FLOW, "reason", {"meeting_id": meeting_id, "detail": "cancel"}, now
        )
        await query.answer()
        await edit_text(
            query,
            context.t(
                "meeting.cancel.ask",
                topic=state.meeting.topic,
                count=state.counts.attend + state.counts.leave,
            ),
            reply_markup=InlineKeyboardMarkup(
                [
                    [button(context.plain("meeting.cancel.no_reason"), Manage("cx2", meeting_id))],
                    [button(context.plain("meeting.cancel.keep"), Manage("ex", meeting_id))],
                ]
            ),
        )
    elif action == "cx2":
        # value 1: the confirmation of a typed reason; 0: "cancel without a reason".
        typed = draft is not None and draft.get("detail") == "cancel" and press.value == 1
        reason = draft.get("reason") if draft is not None and typed else None
        result = await cancel_meeting(
            db,
            actor,
            meeting_id,
            reason if isinstance(reason, str) else None,
            wording(context),
            now=now,
            today=today(context),
        )
        await clear_draft(db, user.id, EDIT_FLOW)
        context.deps.outbox.wake()
        await query.answer(context.plain("meeting.cancel.done_short"))
        await edit_text(
            query,
            context.t("meeting.cancel.done") + "\n" + _sent_text(context, result),
            reply_markup=InlineKeyboardMarkup(
                [[button(context.plain("meeting.back_to_meeting"), Manage("scr", meeting_id))]]
            ),
        )
    else:
        await _refuse(query, context, "stale")


async def typed_edit(update: Update, context: BotContext, draft: DraftView) -> None:
    """A typed new time, place, topic or agenda, or the reason of a cancellation."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    data = dict(draft.data)
    meeting_id = int(data["meeting_id"])
    actor = actor_of(context, user)
    text = message.text or ""
    now = context.deps.clock.now()
    cancel_row = InlineKeyboardMarkup([_edit_cancel_row(context, meeting_id)])
    try:
        if draft.step == "reason":
            reason = parse_short_text(text, REASON_MAX)
            if isinstance(reason, Invalid):
                await message.reply_text(
                    context.t(
                        "meeting.error.empty"
                        if reason.code == "text.empty"
                        else "meeting.error.too_long"
                    ),
                    reply_markup=cancel_row,
                )
                return
            data["reason"] = reason
            await save_draft(context.deps.db, user.id, EDIT_FLOW, "cancel_confirm", data, now)
            await message.reply_text(
                context.t("meeting.cancel.confirm", reason=reason),
                reply_markup=InlineKeyboardMarkup(
                    [
                        [button(context.plain("meeting.cancel.yes"), Manage("cx2", meeting_id, 1))],
                        [button(context.plain("meeting.cancel.keep"), Manage("ex", meeting_id))],
                    ]
                ),
            )
            return
        if draft.step != "type":
            await message.reply_text(context.t("meeting.error.use_buttons"))
            return
        detail = Detail(data["detail"])
        if detail is Detail.WHEN:
            parsed = parse_when(text, now.astimezone(context.deps.settings.timezone))
            if isinstance(parsed, Invalid) or parsed <= now:
                key = (
                    "meeting.error.bad_time"
                    if isinstance(parsed, Invalid)
                    else "meeting.error.past"
                )
                await message.reply_text(context.t(key), reply_markup=cancel_row)
                return
            data["value"] = parsed.isoformat()
        else:
            value = parse_short_text(text, TEXT_LIMITS[detail])
            if isinstance(value, Invalid):
                limit = TEXT_LIMITS[detail]
                error = (
                    context.t("meeting.error.empty")
                    if value.code == "text.empty"
                    else context.t("meeting.edit.too_long", limit=limit)
                )
                await message.reply_text(error, reply_markup=cancel_row)
                return
            data["value"] = value
        reply, markup = await _confirm_edit(context, actor, user.id, data)
        await message.reply_text(reply, reply_markup=markup)
    except ServiceError as exc:
        await clear_draft(context.deps.db, user.id, EDIT_FLOW)
        await message.reply_text(context.t(error_key(exc.code)))


async def typed_note(update: Update, context: BotContext, draft: DraftView) -> None:
    """The note of a 代签 / 补签, then the member is signed in."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    await clear_draft(context.deps.db, user.id, NOTE_FLOW)
    try:
        await _sign_for(
            context,
            actor_of(context, user),
            user.id,
            int(draft.data["meeting_id"]),
            int(draft.data["member_id"]),
            message.text or "",
        )
    except ServiceError as exc:
        await message.reply_text(context.t(error_key(exc.code)))


async def _sign_for(
    context: BotContext,
    actor: Actor,
    chat_id: int,
    meeting_id: int,
    member_id: int,
    note: str | None,
) -> None:
    result = await sign_for(
        context.deps.db,
        actor,
        meeting_id,
        member_id,
        note=note,
        now=context.deps.clock.now(),
        today=today(context),
    )
    await context.bot.send_message(chat_id, sign_result_text(context, result))


def sign_result_text(context: BotContext, result: SignResult) -> str:
    """What a 代签 / 补签 did, in words."""
    keys = {
        "ok": "meeting.proxy.done",
        "already": "meeting.signin.already_other",
        "outside": "meeting.error.outside",
        "not_open": "meeting.signin.not_open",
        "cancelled": "meeting.error.cancelled",
    }
    return context.t(keys.get(result.status, "meeting.error.closed"), name=result.member_name)


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
        label = context.plain(SIGNED_KEYS[how])
        lines.append(
            context.t(
                "meeting.att.present_note" if note else "meeting.att.present",
                name=person.name,
                how=label,
                note=note or "",
            )
        )
    for person, reason in report.on_leave:
        lines.append(
            context.t(
                "meeting.att.leave",
                name=person.name,
                reason=reason or context.plain("meeting.att.no_reason"),
            )
        )
    for person in report.absent:
        lines.append(context.t("meeting.att.absent", name=person.name))
    return lines


async def _refuse(query: CallbackQuery, context: BotContext, code: str) -> None:
    await query.answer(context.plain(error_key(code)), show_alert=True)


# ---- /meetings ----


def _short(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def _list_screen(
    context: BotContext, actor: Actor, past: bool, offset: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The organizer's meetings, one button each; a member gets their own instead."""
    page = await managed_meetings(
        context.deps.db, actor, past=past, offset=offset, limit=PAGE, today=today(context)
    )
    if page is None:
        return await _my_list(context, actor.user_id), None
    tz = context.deps.settings.timezone
    kind = "p" if past else "u"
    several = len({i.org_name for i in page.items}) > 1
    keyboard: Keyboard = []
    for item in page.items:
        when = format_datetime(context, item.starts_at, tz)
        mark = context.plain(MARK_KEYS[item.status])
        label = (
            context.plain(
                "meeting.list.item_org", mark=mark, when=when, org=_short(item.org_name, 12),
                topic=_short(item.topic),
            )
            if several
            else context.plain("meeting.list.item", mark=mark, when=when, topic=_short(item.topic))
        )  # fmt: skip
        keyboard.append([button(label, Manage("scr", item.id))])
    pager = []
    if page.offset > 0:
        pager.append(
            button(context.plain("common.prev"), MeetingList(kind, max(0, page.offset - PAGE)))
        )
    if page.offset + PAGE < page.total:
        pager.append(button(context.plain("common.next"), MeetingList(kind, page.offset + PAGE)))
    if pager:
        keyboard.append(pager)
    switch = "meeting.list.to_upcoming" if past else "meeting.list.to_past"
    keyboard.append([button(context.plain(switch), MeetingList("u" if past else "p", 0))])
    if not page.items:
        text = context.t("meeting.list.none_past" if past else "meeting.list.none_upcoming")
    else:
        text = context.t(
            "meeting.list.past" if past else "meeting.list.upcoming",
            total=page.total,
            first=page.offset + 1,
            last=page.offset + len(page.items),
        )
    return text, InlineKeyboardMarkup(keyboard)


async def _my_list(context: BotContext, user_id: int) -> str:
    now = context.deps.clock.now()
    mine = await my_meetings(context.deps.db, user_id, now=now, today=today(context))
    if not mine:
        return context.t("meeting.mine.none")
    tz = context.deps.settings.timezone
    lines = [context.t("meeting.mine.title")]
    for entry in mine:
        item = entry.item
        types = "、".join(context.plain(TYPE_KEYS[t]) for t in item.types)
        if entry.answer is Answer.ATTEND:
            reply = context.plain("meeting.mine.attend")
        elif entry.answer is Answer.LEAVE:
            reply = context.plain(
                "meeting.mine.leave",
                reason=entry.reason or context.plain("meeting.att.no_reason"),
            )
        else:
            reply = context.plain("meeting.mine.silent")
        lines.append(
            context.t(
                "meeting.mine.item",
                when=format_datetime(context, item.starts_at, tz),
                types=types,
                topic=item.topic,
                place=entry.place,
                answer=reply,
            )
        )
    return "\n\n".join(lines)


async def meetings_command(update: Update, context: BotContext) -> None:
    """/meetings: an organizer's meetings (each opening its manage screen); a member's own."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    if not is_private(update):
        await message.reply_text(context.t("meeting.list.use_private"))
        return
    text, markup = await _list_screen(context, actor_of(context, user), False, 0)
    await message.reply_text(text, reply_markup=markup)


async def list_button(update: Update, context: BotContext) -> None:
    """Paging and switching between coming and past meetings in /meetings."""
    query = update.callback_query
    assert query is not None
    press = MeetingList.unpack(query.data)
    if press is None or press.kind not in ("u", "p"):
        await _refuse(query, context, "stale")
        return
    text, markup = await _list_screen(
        context, actor_of(context, query.from_user), press.kind == "p", max(0, press.offset)
    )
    await query.answer()
    await edit_text(query, text, reply_markup=markup)


def register(app: Application, router: WizardRouter) -> None:  # type: ignore[type-arg]
    """Install /meeting, /meetings, the group buttons, the organizer's buttons and the
    typed answers."""
    app.add_handler(CommandHandler("meeting", meeting_command))
    app.add_handler(CommandHandler("meetings", meetings_command))
    app.add_handler(CallbackQueryHandler(wizard_button, pattern=MeetingStep.pattern()))
    app.add_handler(CallbackQueryHandler(rsvp_button, pattern=Rsvp.pattern()))
    app.add_handler(CallbackQueryHandler(signin_button, pattern=SignIn.pattern()))
    app.add_handler(CallbackQueryHandler(manage_button, pattern=Manage.pattern()))
    app.add_handler(CallbackQueryHandler(list_button, pattern=MeetingList.pattern()))
    app.add_handler(
        CommandHandler(
            "start",
            leave_link,
            filters=filters.ChatType.PRIVATE & filters.Regex(rf"^/start {LEAVE_LINK}\d{{1,18}}$"),
        ),
        group=DEEP_LINK_GROUP,
    )
    router.on_text(FLOW, typed_answer)
    router.on_text(LEAVE_FLOW, typed_reason)
    router.on_text(NOTE_FLOW, typed_note)
    router.on_text(EDIT_FLOW, typed_edit)


async def open_wizard_for(
    context: BotContext, user_id: int, org_id: int, org_name: str, types: Sequence[MeetingType]
) -> None:
    """Start /meeting for one branch with these types ticked (a reminder's 立即安排); the
    caller has checked that the person organizes meetings there."""
    data: dict[str, Any] = {"single_org": True, "types": [t.value for t in types],
                            "org_id": org_id, "org_name": org_name}  # fmt: skip
    await _ask(context, user_id, data, "type")
