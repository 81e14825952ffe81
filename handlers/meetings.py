"""/meeting: schedule, preview, publish with 参加/请假; leave reasons; sign-in and quorum."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

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
    PLACE_MAX,
    TOPIC_MAX,
    Answer,
    Audience,
    Counts,
    SignedBy,
    Status,
    ordered_types,
)
from domain.validation import Invalid, parse_short_text
from domain.when import parse_when
from handlers.callbacks import CallbackData
from handlers.common import actor_of, deep_link, edit_text, error_key, is_private, today
from handlers.context import BotContext
from handlers.i18n import Catalog
from handlers.render import datetime_text, format_datetime, split_message
from handlers.wizard import WizardRouter
from services.authz import Actor
from services.drafts import DraftView, clear_draft, get_draft, save_draft
from services.errors import ServiceError
from services.meetings import (
    GroupRender,
    MeetingSpec,
    MeetingView,
    PersonRef,
    answer,
    attendance,
    close_meeting,
    give_reason,
    open_signin,
    organizer_branches,
    planning,
    publish_meeting,
    sign_for,
    sign_in,
)
from services.outbox import ButtonRows

FLOW = "meeting"
LEAVE_FLOW = "meeting_leave"
NOTE_FLOW = "meeting_note"
LEAVE_LINK = "lv_"  # /start lv_<meeting id>: state the reason of a leave request
PAGE = 8
# Ahead of group 0, where /start greets: the deep link for a leave reason is ours.
DEEP_LINK_GROUP = -2

TYPE_KEYS: dict[MeetingType, str] = {
    MeetingType.GENERAL_MEETING: "meeting.type.general_meeting",
    MeetingType.COMMITTEE_MEETING: "meeting.type.committee_meeting",
    MeetingType.GROUP_MEETING: "meeting.type.group_meeting",
    MeetingType.PARTY_LESSON: "meeting.type.party_lesson",
    MeetingType.THEME_DAY: "meeting.type.theme_day",
    MeetingType.LIFE_MEETING: "meeting.type.life_meeting",
    MeetingType.DEMOCRATIC_EVALUATION: "meeting.type.democratic_evaluation",
    MeetingType.HEART_TALK: "meeting.type.heart_talk",
}
ASK_PERSON_KEYS = {"host": "meeting.ask_host", "rec": "meeting.ask_rec", "lect": "meeting.ask_lect"}
SIGNED_KEYS: dict[SignedBy, str] = {
    SignedBy.SELF: "meeting.signed.self",
    SignedBy.PROXY: "meeting.signed.proxy",
    SignedBy.LATE: "meeting.signed.late",
}
ERRORS: dict[str, str] = {
    "auth.manage_meetings": "meeting.error.denied",
    "meeting.not_found": "meeting.error.not_found",
    "meeting.closed": "meeting.error.closed",
    "meeting.past": "meeting.error.past",
    "meeting.no_type": "meeting.error.no_type",
    "meeting.group_type_needs_group": "meeting.error.group_type",
    "meeting.bad_person": "callback.invalid",
    "meeting.outside": "meeting.error.outside",
    "meeting.note_long": "meeting.error.too_long",
    "meeting.place_empty": "meeting.error.empty",
    "meeting.place_long": "meeting.error.too_long",
    "meeting.topic_empty": "meeting.error.empty",
    "meeting.topic_long": "meeting.error.too_long",
    "meeting.agenda_empty": "meeting.error.empty",
    "meeting.agenda_long": "meeting.error.too_long",
}


def meeting_error_key(code: str) -> str:
    """The catalog key explaining a refusal of this feature."""
    return ERRORS.get(code) or error_key(code)


@dataclasses.dataclass(frozen=True)
class MeetingStep(CallbackData):
    """A /meeting wizard button, tied to the step it was shown for (older ones are stale)."""

    prefix: ClassVar[str] = "mt"
    step: str
    action: str
    value: int = 0


@dataclasses.dataclass(frozen=True)
class Rsvp(CallbackData):
    """参加 (a) / 请假 (l) on a meeting notice in the group."""

    prefix: ClassVar[str] = "rsvp"
    meeting_id: int
    choice: str


@dataclasses.dataclass(frozen=True)
class SignIn(CallbackData):
    """签到 on the sign-in message in the group."""

    prefix: ClassVar[str] = "sgn"
    meeting_id: int


@dataclasses.dataclass(frozen=True)
class Manage(CallbackData):
    """The organizer's private buttons: open sign-in, attendance, 代签/补签, close."""

    prefix: ClassVar[str] = "mg"
    action: str
    meeting_id: int
    value: int = 0


CHOICES = {"a": Answer.ATTEND, "l": Answer.LEAVE}
Keyboard = list[list[InlineKeyboardButton]]


def _button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data.pack())


# ---- rendering the group messages (also used by the counter job) ----


def _details(
    catalog: Catalog, locale: str, view: MeetingView, tz: ZoneInfo, now: datetime
) -> list[str]:
    types = "、".join(catalog.plain(locale, TYPE_KEYS[t]) for t in view.types)
    lines = [
        catalog.t(locale, "meeting.card.title", types=types, topic=view.topic),
        catalog.t(
            locale,
            "meeting.card.when",
            when=datetime_text(catalog, locale, view.starts_at, tz, now),
        ),
        catalog.t(locale, "meeting.card.place", place=view.place),
    ]
    if view.party_group_name:
        lines.append(catalog.t(locale, "meeting.card.group", name=view.party_group_name))
    elif view.audience is Audience.COMMITTEE:
        lines.append(catalog.t(locale, "meeting.card.committee"))
    for key, person in (
        ("meeting.card.host", view.host),
        ("meeting.card.recorder", view.recorder),
        ("meeting.card.lecturer", view.lecturer),
    ):
        if person is not None:
            lines.append(catalog.t(locale, key, name=person.name))
    if view.agenda:
        lines.append(catalog.t(locale, "meeting.card.agenda", agenda=view.agenda))
    return lines


def group_renderer(catalog: Catalog, locale: str, tz: ZoneInfo, now: datetime) -> GroupRender:
    """The notice in the group: details, live counts and the 参加 / 请假 buttons."""

    def render(view: MeetingView, counts: Counts) -> tuple[str, ButtonRows]:
        lines = _details(catalog, locale, view, tz, now)
        lines.append("")
        lines.append(
            catalog.t(
                locale,
                "meeting.counts",
                attend=counts.attend,
                leave=counts.leave,
                silent=counts.silent,
            )
        )
        buttons: ButtonRows = [
            [
                (catalog.plain(locale, "meeting.attend"), "cb:" + Rsvp(view.id, "a").pack()),
                (catalog.plain(locale, "meeting.leave"), "cb:" + Rsvp(view.id, "l").pack()),
            ]
        ]
        return "\n".join(lines), buttons

    return render


def signin_renderer(catalog: Catalog, locale: str, tz: ZoneInfo, now: datetime) -> GroupRender:
    """The sign-in message in the group with its 签到 button."""

    def render(view: MeetingView, counts: Counts) -> tuple[str, ButtonRows]:
        lines = [
            catalog.t(locale, "meeting.signin.open"),
            *_details(catalog, locale, view, tz, now),
        ]
        return "\n".join(lines), [
            [(catalog.plain(locale, "meeting.signin.button"), "cb:" + SignIn(view.id).pack())]
        ]

    return render


def _group_locale(context: BotContext) -> str:
    return context.deps.settings.default_locale


def _renderer(context: BotContext, signin: bool = False) -> GroupRender:
    make = signin_renderer if signin else group_renderer
    return make(
        context.deps.catalog,
        _group_locale(context),
        context.deps.settings.timezone,
        context.deps.clock.now(),
    )


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
        row.append(_button(context.plain("wizard.back"), MeetingStep(step, "back")))
    row.append(_button(context.plain("wizard.cancel"), MeetingStep(step, "x")))
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
            _button(
                _mark(context, p.name, True) if p.id == current else p.name,
                MeetingStep(step, "pick", p.id),
            )
        ]
        for p in people[offset : offset + PAGE]
    ]
    pager = []
    if offset > 0:
        pager.append(
            _button(context.plain("common.prev"), MeetingStep(step, "page", max(0, offset - PAGE)))
        )
    if offset + PAGE < len(people):
        pager.append(
            _button(context.plain("common.next"), MeetingStep(step, "page", offset + PAGE))
        )
    if pager:
        keyboard.append(pager)
    keyboard.append([_button(context.plain("wizard.skip"), MeetingStep(step, "pick", 0))])
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
            [_button(b.name, MeetingStep("org", "pick", b.id))] for b in branches[: PAGE * 3]
        ]
    elif step == "type":
        chosen = set(data.get("types", []))
        text += context.t("meeting.ask_types", org=data["org_name"])
        buttons = [
            _button(
                _mark(context, context.plain(TYPE_KEYS[t]), t.value in chosen),
                MeetingStep("type", "t", i),
            )
            for i, t in enumerate(MeetingType)
        ]
        keyboard = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
        keyboard.append([_button(context.plain("meeting.next"), MeetingStep("type", "next"))])
    elif step == "when":
        text += context.t("meeting.ask_when")
    elif step == "cfm":
        when = _when(data)
        assert when is not None
        text += context.t("meeting.confirm_when", when=format_datetime(context, when, tz))
        keyboard = [
            [
                _button(context.plain("meeting.yes"), MeetingStep("cfm", "ok")),
                _button(context.plain("meeting.retype"), MeetingStep("cfm", "re")),
            ]
        ]
    elif step == "place":
        text += context.t("meeting.ask_place")
    elif step == "topic":
        text += context.t("meeting.ask_topic")
    elif step == "agenda":
        text += context.t("meeting.ask_agenda")
        keyboard = [[_button(context.plain("wizard.skip"), MeetingStep("agenda", "skip"))]]
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
            keyboard.append(
                [_button(context.plain("meeting.aud.branch"), MeetingStep("aud", "br"))]
            )
            keyboard.append(
                [_button(context.plain("meeting.aud.committee"), MeetingStep("aud", "cm"))]
            )
        keyboard += [
            [
                _button(
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
    lines += _details(
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
        [_button(context.plain("meeting.publish"), MeetingStep("pre", "ok"))],
        [
            _button(context.plain("meeting.redo"), MeetingStep("pre", "redo")),
            _button(context.plain("wizard.cancel"), MeetingStep("pre", "x")),
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
    view, posted = await publish_meeting(
        db,
        actor_of(context, user),
        _spec(data),
        _renderer(context),
        now=context.deps.clock.now(),
        today=today(context),
    )
    await clear_draft(db, user.id, FLOW)
    context.deps.outbox.wake()
    await query.answer(context.plain("meeting.published_short"))
    await edit_text(
        query,
        context.t("meeting.published" if posted else "meeting.published_no_group"),
        reply_markup=_manage_keyboard(context, view.id),
    )


def _manage_keyboard(context: BotContext, meeting_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                _button(context.plain("meeting.manage.open"), Manage("open", meeting_id)),
                _button(context.plain("meeting.manage.attendance"), Manage("att", meeting_id)),
            ],
            [
                _button(context.plain("meeting.manage.proxy"), Manage("pf", meeting_id)),
                _button(context.plain("meeting.manage.close"), Manage("close", meeting_id)),
            ],
        ]
    )


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
            await message.reply_text(context.t(meeting_error_key(exc.code)))
            return  # the draft stays: the member types the reason again
        await clear_draft(context.deps.db, user.id, LEAVE_FLOW)
        await message.reply_text(context.t(meeting_error_key(exc.code)))
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
    alert = {"outside": "meeting.error.outside", "not_open": "meeting.signin.not_open"}
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
    user = query.from_user
    actor = actor_of(context, user)
    db, now = context.deps.db, context.deps.clock.now()
    try:
        if press.action == "open":
            await open_signin(
                db,
                actor,
                press.meeting_id,
                _renderer(context, signin=True),
                now=now,
                today=today(context),
            )
            context.deps.outbox.wake()
            await query.answer(context.plain("meeting.signin.opened"))
        elif press.action == "close":
            await close_meeting(db, actor, press.meeting_id, now=now, today=today(context))
            await query.answer(context.plain("meeting.closed_ok"))
        elif press.action == "att":
            await query.answer()
            for part in await _attendance_text(context, actor, press.meeting_id):
                await context.bot.send_message(user.id, part)
        elif press.action == "pf":
            report = await attendance(db, actor, press.meeting_id, today(context))
            signed = {p.id for p, _, _ in report.present}
            keyboard = [
                [_button(p.name, Manage("sf", press.meeting_id, p.id))]
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
            await attendance(db, actor, press.meeting_id, today(context))  # authorizes
            await save_draft(
                db,
                user.id,
                NOTE_FLOW,
                "note",
                {"meeting_id": press.meeting_id, "member_id": press.value},
                now,
            )
            await query.answer()
            await context.bot.send_message(
                user.id,
                context.t("meeting.proxy.ask_note"),
                reply_markup=InlineKeyboardMarkup(
                    [
                        [
                            _button(
                                context.plain("wizard.skip"),
                                Manage("nn", press.meeting_id, press.value),
                            )
                        ]
                    ]
                ),
            )
        elif press.action == "nn":
            await clear_draft(db, user.id, NOTE_FLOW)
            await query.answer()
            await _sign_for(context, actor, user.id, press.meeting_id, press.value, None)
        else:
            await _refuse(query, context, "stale")
    except ServiceError as exc:
        await _refuse(query, context, exc.code)


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
        await message.reply_text(context.t(meeting_error_key(exc.code)))


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
    keys = {
        "ok": "meeting.proxy.done",
        "already": "meeting.signin.already_other",
        "outside": "meeting.error.outside",
        "not_open": "meeting.signin.not_open",
    }
    await context.bot.send_message(
        chat_id, context.t(keys.get(result.status, "meeting.error.closed"), name=result.member_name)
    )


async def _attendance_text(context: BotContext, actor: Actor, meeting_id: int) -> list[str]:
    report = await attendance(context.deps.db, actor, meeting_id, today(context))
    lines = [
        context.t("meeting.att.title", topic=report.meeting.topic),
        context.t("meeting.att.counts", expected=len(report.expected), present=len(report.present)),
    ]
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
    return split_message(lines)


async def _refuse(query: CallbackQuery, context: BotContext, code: str) -> None:
    await query.answer(context.plain(meeting_error_key(code)), show_alert=True)


def register(app: Application, router: WizardRouter) -> None:  # type: ignore[type-arg]
    """Install /meeting, the group buttons, the organizer's buttons and the typed answers."""
    app.add_handler(CommandHandler("meeting", meeting_command))
    app.add_handler(CallbackQueryHandler(wizard_button, pattern=MeetingStep.pattern()))
    app.add_handler(CallbackQueryHandler(rsvp_button, pattern=Rsvp.pattern()))
    app.add_handler(CallbackQueryHandler(signin_button, pattern=SignIn.pattern()))
    app.add_handler(CallbackQueryHandler(manage_button, pattern=Manage.pattern()))
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
