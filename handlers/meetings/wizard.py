"""/meeting: the planner's questions, its preview and 确认发布 (steps: domain.meetings_wizard)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from domain.compliance import MeetingType
from domain.meetings import GROUP_ONLY_TYPES, Status
from domain.meetings_wizard import (
    AUDIENCE_ACTIONS,
    MEETING_STEPS,
    PERSON_STEPS,
    MeetingDraft,
    start_meeting,
)
from domain.pickers import narrow
from domain.wizard import Event, Refusal, accepts, apply
from handlers.common import actor_of, is_private, today
from handlers.meetings.manage import screen_keyboard
from handlers.meetings.shared import actor_for, local_now, presses, send_parts, typed_draft
from handlers.press import Press
from services.authz import Actor
from services.drafts import DraftView, Outdated, clear_draft, keep_draft, open_draft
from services.errors import ServiceError
from services.meetings import (
    MeetingView,
    PersonRef,
    organizer_branches,
    planning,
    publish_draft,
)
from ui.callbacks import button
from ui.deps import BotContext
from ui.errors import error_key
from ui.meetings import (
    ASK_PERSON_KEYS,
    TYPE_KEYS,
    Keyboard,
    MeetingStep,
    details_lines,
)
from ui.pickers import picker_rows, with_picker_text
from ui.render import format_datetime

Question = Callable[[BotContext, Actor, MeetingDraft], Awaitable[tuple[str, Keyboard]]]


def _mark(context: BotContext, label: str, on: bool) -> str:
    return context.plain("meeting.checked" if on else "meeting.unchecked", label=label)


async def _org(context: BotContext, actor: Actor, draft: MeetingDraft) -> tuple[str, Keyboard]:
    branches = await organizer_branches(context.deps.db, actor, today(context))
    page = narrow(branches, lambda b: b.name, draft.offset, draft.find)
    keyboard = picker_rows(
        context, page, label=lambda b: b.name, pick=lambda b: MeetingStep("org", "pick", b.id),
        turn=lambda offset: MeetingStep("org", "page", offset),
        everything=MeetingStep("org", "nof"),
    )  # fmt: skip
    return with_picker_text(context, context.t("meeting.ask_org"), page), keyboard


async def _types(context: BotContext, actor: Actor, draft: MeetingDraft) -> tuple[str, Keyboard]:
    buttons = [
        button(
            _mark(context, context.plain(TYPE_KEYS[t]), t in draft.types),
            MeetingStep("type", "t", i),
        )
        for i, t in enumerate(MeetingType)
    ]
    keyboard = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    keyboard.append([button(context.plain("meeting.next"), MeetingStep("type", "next"))])
    return context.t("meeting.ask_types", org=draft.org_name), keyboard


async def _confirm_when(
    context: BotContext, actor: Actor, draft: MeetingDraft
) -> tuple[str, Keyboard]:
    assert draft.starts_at is not None  # the "when" step set it
    when = format_datetime(context, draft.starts_at, context.deps.settings.timezone)
    keyboard = [
        [
            button(context.plain("meeting.yes"), MeetingStep("cfm", "ok")),
            button(context.plain("meeting.retype"), MeetingStep("cfm", "re")),
        ]
    ]
    return context.t("meeting.confirm_when", when=when), keyboard


def _typed(key: str, skip: bool = False) -> Question:
    async def ask(context: BotContext, actor: Actor, draft: MeetingDraft) -> tuple[str, Keyboard]:
        keyboard = [[button(context.plain("wizard.skip"), MeetingStep(draft.step, "skip"))]]
        return context.t(key), keyboard if skip else []

    return ask


async def _person(context: BotContext, actor: Actor, draft: MeetingDraft) -> tuple[str, Keyboard]:
    plan = await planning(context.deps.db, actor, draft.org_id, today(context))
    current: int | None = getattr(draft, PERSON_STEPS[draft.step])
    step = draft.step
    page = narrow(plan.roster, lambda p: p.name, draft.offset, draft.find)
    keyboard = picker_rows(
        context, page,
        label=lambda p: _mark(context, p.name, True) if p.id == current else p.name,
        pick=lambda p: MeetingStep(step, "pick", p.id),
        turn=lambda offset: MeetingStep(step, "page", offset),
        everything=MeetingStep(step, "nof"),
    )  # fmt: skip
    keyboard.append([button(context.plain("wizard.skip"), MeetingStep(step, "pick", 0))])
    return with_picker_text(context, context.t(ASK_PERSON_KEYS[step]), page), keyboard


async def _audience(context: BotContext, actor: Actor, draft: MeetingDraft) -> tuple[str, Keyboard]:
    """The whole branch or its committee, or one of its party groups on the shared picker (a
    branch may have dozens): paged, narrowed by a typed part of a name."""
    plan = await planning(context.deps.db, actor, draft.org_id, today(context))
    keyboard: Keyboard = []
    group_only = any(t in GROUP_ONLY_TYPES for t in draft.types)
    if plan.whole_branch and not group_only:
        keyboard.append([button(context.plain("meeting.aud.branch"), MeetingStep("aud", "br"))])
        keyboard.append([button(context.plain("meeting.aud.committee"), MeetingStep("aud", "cm"))])
    page = narrow(plan.party_groups, lambda g: g.name, draft.offset, draft.find)
    keyboard += picker_rows(
        context, page,
        label=lambda g: context.plain("meeting.aud.group", name=g.name),
        pick=lambda g: MeetingStep("aud", "pg", g.id),
        turn=lambda offset: MeetingStep("aud", "page", offset),
        everything=MeetingStep("aud", "nof"),
    )  # fmt: skip
    return with_picker_text(context, context.t("meeting.ask_audience"), page), keyboard


async def _preview(context: BotContext, actor: Actor, draft: MeetingDraft) -> tuple[str, Keyboard]:
    plan = await planning(context.deps.db, actor, draft.org_id, today(context))
    names = {p.id: p.name for p in plan.roster}
    groups = {g.id: g.name for g in plan.party_groups}

    def ref(member_id: int | None) -> PersonRef | None:
        return PersonRef(member_id, names.get(member_id, "?")) if member_id else None

    assert draft.starts_at is not None
    assert draft.audience is not None
    view = MeetingView(
        id=0,
        org_id=draft.org_id,
        org_name=plan.org.name,
        party_group_id=draft.party_group_id,
        party_group_name=groups.get(draft.party_group_id or 0),
        types=draft.types,
        starts_at=draft.starts_at,
        place=draft.place,
        topic=draft.topic,
        agenda=draft.agenda,
        host=ref(draft.host_id),
        recorder=ref(draft.recorder_id),
        lecturer=ref(draft.lecturer_id),
        audience=draft.audience,
        status=Status.SCHEDULED,
        version=1,
    )
    deps = context.deps
    lines = [context.t("meeting.preview_intro"), ""]
    lines += details_lines(
        deps.catalog, context.locale, view, deps.settings.timezone, deps.clock.now()
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
    return "\n".join(lines), keyboard


QUESTIONS: dict[str, Question] = {
    "org": _org,
    "type": _types,
    "when": _typed("meeting.ask_when"),
    "cfm": _confirm_when,
    "place": _typed("meeting.ask_place"),
    "topic": _typed("meeting.ask_topic"),
    "agenda": _typed("meeting.ask_agenda", skip=True),
    "host": _person,
    "rec": _person,
    "lect": _person,
    "aud": _audience,
}


async def _question(
    context: BotContext, actor: Actor, draft: MeetingDraft, error: str = ""
) -> tuple[str, InlineKeyboardMarkup]:
    """The question of the draft's step (after an error line when there is one)."""
    if draft.step == "pre":
        text, keyboard = await _preview(context, actor, draft)
        return text, InlineKeyboardMarkup(keyboard)
    text, keyboard = await QUESTIONS[draft.step](context, actor, draft)
    if error:
        text = context.t(error) + "\n\n" + text
    keyboard.append(_nav(context, draft))
    return text, InlineKeyboardMarkup(keyboard)


def _nav(context: BotContext, draft: MeetingDraft) -> list[InlineKeyboardButton]:
    row = []
    if not isinstance(apply(MEETING_STEPS, draft, Event("back"), local_now(context)), Refusal):
        row.append(button(context.plain("wizard.back"), MeetingStep(draft.step, "back")))
    row.append(button(context.plain("wizard.cancel"), MeetingStep(draft.step, "x")))
    return row


async def _ask(context: BotContext, user_id: int, draft: MeetingDraft, error: str = "") -> None:
    """Keep the draft and send its step's question as a new message."""
    actor = actor_for(context, user_id)
    text, markup = await _question(context, actor, draft, error)
    await keep_draft(context.deps.db, user_id, draft, context.deps.clock.now())
    await send_parts(context, user_id, text, markup)


async def _start(context: BotContext, user_id: int) -> None:
    """A new /meeting for someone who may organize one (else: why not)."""
    actor = actor_for(context, user_id)
    branches = await organizer_branches(context.deps.db, actor, today(context))
    if not branches:
        await context.bot.send_message(user_id, context.t("meeting.not_allowed"))
        return
    await _ask(context, user_id, start_meeting([(b.id, b.name) for b in branches]))


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
    await _ask(context, user.id, start_meeting([(b.id, b.name) for b in branches]))


async def open_wizard_for(
    context: BotContext, user_id: int, org_id: int, org_name: str, types: Sequence[MeetingType]
) -> None:
    """Start /meeting for one branch with these types ticked (a reminder's 立即安排); the
    caller has checked that the person organizes meetings there."""
    await _ask(context, user_id, start_meeting([(org_id, org_name)], tuple(types)))


# ---- presses ----


@presses.on(MeetingStep, action="x")
async def cancel(press: Press[MeetingStep], context: BotContext) -> None:
    """取消: the wizard is dropped, from whichever of its messages."""
    if not await clear_draft(context.deps.db, press.user_id, MeetingDraft.FLOW):
        await press.refuse("stale")
        return
    await press.answer()
    await press.edit(context.t("wizard.cancelled"))


@presses.on(MeetingStep, step="pre", action="ok")
async def publish(press: Press[MeetingStep], context: BotContext) -> None:
    """确认发布: record the meeting, queue the group notice, give the organizer its buttons."""
    published = await publish_draft(
        context.deps.db,
        press.actor,
        now=context.deps.clock.now(),
        today=today(context),
    )
    context.deps.outbox.wake()
    await press.answer("meeting.published_short")
    key = "meeting.published" if published.posted else "meeting.published_no_group"
    await press.edit(context.t(key), screen_keyboard(context, published.screen))


@presses.on(MeetingStep)
async def step(press: Press[MeetingStep], context: BotContext) -> None:
    """Any other button of the wizard: applied to the open draft if it is on that step."""
    found = await open_draft(context.deps.db, press.user_id, MeetingDraft)
    if isinstance(found, Outdated):
        await press.answer("wizard.outdated", alert=True)
        await _start(context, press.user_id)
        return
    if found is None or found.step != press.data.step:
        await press.refuse("stale")
        return
    event = await _checked(context, press.actor, found, press.data)
    result = apply(MEETING_STEPS, found, event, local_now(context))
    if isinstance(result, Refusal):
        await press.refuse(result.code, **result.params)
        return
    if "pre" in (found.step, result.step) or result.step in ("when", "place"):
        # A typed answer or the preview comes next: a new message, this one loses its buttons.
        await press.answer()
        await press.drop_buttons()
        await _ask(context, press.user_id, result)
        return
    text, markup = await _question(context, press.actor, result)
    await keep_draft(context.deps.db, press.user_id, result, context.deps.clock.now())
    await press.edit(text, markup)


async def _checked(
    context: BotContext, actor: Actor, draft: MeetingDraft, data: MeetingStep
) -> Event:
    """The press as an event, after what only the database knows (refused otherwise): the
    branch is one the person organizes, the member is on its roster, the audience is theirs."""
    event = Event(data.action, data.value)
    if draft.step == "org" and data.action == "pick":
        plan = await planning(context.deps.db, actor, data.value, today(context))
        return Event("pick", plan.org.id, plan.org.name)
    if draft.step in PERSON_STEPS and data.action == "pick" and data.value:
        plan = await planning(context.deps.db, actor, draft.org_id, today(context))
        if data.value not in {p.id for p in plan.roster}:
            raise ServiceError("stale")
    if draft.step == "aud" and data.action in AUDIENCE_ACTIONS:
        plan = await planning(context.deps.db, actor, draft.org_id, today(context))
        allowed = (
            data.value in {g.id for g in plan.party_groups}
            if data.action == "pg"
            else plan.whole_branch
        )
        if not allowed:
            raise ServiceError("auth.manage_meetings")
    return event


async def typed_answer(update: Update, context: BotContext, view: DraftView) -> None:
    """A typed time, place, topic or agenda for the open /meeting wizard."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    draft = await typed_draft(context, user.id, view, MeetingDraft)
    if draft is None:
        await _start(context, user.id)
        return
    if "text" not in accepts(MEETING_STEPS, draft.step):
        await message.reply_text(context.t("meeting.error.use_buttons"))
        return
    result = apply(MEETING_STEPS, draft, Event("text", text=message.text or ""), local_now(context))
    if isinstance(result, Refusal):
        await _ask(context, user.id, draft, error_key(result.code, "meetings"))
        return
    await _ask(context, user.id, result)
