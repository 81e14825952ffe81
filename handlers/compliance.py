"""三会一课 reminders and reports as people read them; 立即安排 and the frequencies screen.

The texts are rendered for scheduled jobs (no update at hand: catalog and locale passed
in); the buttons are ordinary callbacks, each re-authorized against the database.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import Application

from domain.compliance import MeetingType
from handlers.common import today
from handlers.meetings import open_wizard_for
from handlers.press import Press, Presses
from services.compliance import (
    RequirementsView,
    requirements_of,
    set_requirements,
)
from services.meetings import planning
from ui.callbacks import button
from ui.compliance import (
    FREQUENCY_CHOICES,
    INHERIT,
    TYPES,
    PickFrequency,
    ScheduleNow,
    SetFrequency,
    ShowFrequencies,
    frequency_text,
)
from ui.deps import BotContext
from ui.meetings import TYPE_KEYS

# ---- 立即安排 ----


# Its own presses, in the meetings' words: the button opens the meeting wizard.
schedule_presses = Presses("meetings")


@schedule_presses.on(ScheduleNow, type_index=tuple(range(len(TYPES))))
async def schedule_now(press: Press[ScheduleNow], context: BotContext) -> None:
    """立即安排: the /meeting wizard for that branch with the type ticked (organizers only)."""
    plan = await planning(context.deps.db, press.actor, press.data.org_id, today(context))
    await press.answer()
    await open_wizard_for(
        context, press.user_id, plan.org.id, plan.org.name, [TYPES[press.data.type_index]]
    )


# ---- a committee's frequencies, from /org ----


def frequencies_row(context: BotContext, org_id: int) -> list[InlineKeyboardButton]:
    """The 会议频次要求 button on a committee's /org card."""
    return [button(context.plain("compliance.req.button"), ShowFrequencies(org_id))]


def _back_to_card(context: BotContext, org_id: int) -> InlineKeyboardButton:
    from handlers.orgs import OpenOrg  # the /org menu imports this module: no cycle at import

    return button(context.plain("org.back"), OpenOrg(org_id))


def render_frequencies(
    context: BotContext, view: RequirementsView, notice: str = ""
) -> tuple[str, InlineKeyboardMarkup]:
    """Each meeting type with its frequency and who set it; a button per type to change it."""
    lines = [notice, ""] if notice else []
    lines.append(context.t("compliance.req.title", org=view.org_name))
    for line in view.lines:
        value = frequency_text(context.deps.catalog, context.locale, line.effective)
        label = context.plain(TYPE_KEYS[line.type])
        if line.own:
            key = "compliance.req.line_own"
        elif line.source:
            key = "compliance.req.line_above"
        else:
            key = "compliance.req.line_default"
        lines.append(context.t(key, type=label, value=value, source=line.source or ""))
    lines.append(context.t("compliance.req.hint"))
    buttons = [
        button(context.plain(TYPE_KEYS[line.type]),
                PickFrequency(view.org_id, TYPES.index(line.type)))
        for line in view.lines
    ]  # fmt: skip
    keyboard = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    keyboard.append([_back_to_card(context, view.org_id)])
    return "\n".join(lines), InlineKeyboardMarkup(keyboard)


def render_choices(
    context: BotContext, view: RequirementsView, kind: MeetingType
) -> tuple[str, InlineKeyboardMarkup]:
    """The frequencies one type can be given, and 沿用上级 to drop this committee's own."""
    line = next(x for x in view.lines if x.type is kind)
    catalog, locale = context.deps.catalog, context.locale
    text = context.t(
        "compliance.req.choose", type=context.plain(TYPE_KEYS[kind]), org=view.org_name,
        value=frequency_text(catalog, locale, line.effective),
    )  # fmt: skip
    index = TYPES.index(kind)
    keyboard = [
        [button(frequency_text(catalog, locale, choice), SetFrequency(view.org_id, index, i))]
        for i, choice in enumerate(FREQUENCY_CHOICES)
    ]
    if line.own:
        keyboard.append(
            [button(context.plain("compliance.req.inherit"),
                     SetFrequency(view.org_id, index, INHERIT))]
        )  # fmt: skip
    keyboard.append([button(context.plain("org.back"), ShowFrequencies(view.org_id))])
    return text, InlineKeyboardMarkup(keyboard)


frequency_presses = Presses("compliance")
_TYPE_INDEXES = tuple(range(len(TYPES)))


@frequency_presses.on(ShowFrequencies)
async def show_frequencies(press: Press[ShowFrequencies], context: BotContext) -> None:
    """会议频次要求: each type's frequency (committee admins, superadmins)."""
    view = await _requirements(press, context)
    text, markup = render_frequencies(context, view)
    await press.answer()
    await press.edit(text, markup)


@frequency_presses.on(PickFrequency, type_index=_TYPE_INDEXES)
async def pick_frequency(press: Press[PickFrequency], context: BotContext) -> None:
    """A type pressed: the frequencies it can be given."""
    view = await _requirements(press, context)
    text, markup = render_choices(context, view, TYPES[press.data.type_index])
    await press.answer()
    await press.edit(text, markup)


@frequency_presses.on(SetFrequency, type_index=_TYPE_INDEXES, choice=tuple(range(INHERIT + 1)))
async def set_frequency(press: Press[SetFrequency], context: BotContext) -> None:
    """A frequency (or 沿用上级) chosen: saved, audited, and the list shown again."""
    kind, choice = TYPES[press.data.type_index], press.data.choice
    inherit = choice == INHERIT
    view = await set_requirements(
        context.deps.db, press.actor, press.data.org_id,
        changes={} if inherit else {kind: FREQUENCY_CHOICES[choice]},
        clear=[kind] if inherit else [], now=context.deps.clock.now(), today=today(context),
        default_tz=str(context.deps.settings.timezone),
    )  # fmt: skip
    text, markup = render_frequencies(context, view, context.t("compliance.req.saved"))
    await press.answer()
    await press.edit(text, markup)


async def _requirements(
    press: Press[ShowFrequencies] | Press[PickFrequency], context: BotContext
) -> RequirementsView:
    return await requirements_of(
        context.deps.db, press.actor, press.data.org_id, today(context),
        str(context.deps.settings.timezone),
    )  # fmt: skip


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Install 立即安排 and the committee frequencies screen."""
    schedule_presses.register(app)
    frequency_presses.register(app)
