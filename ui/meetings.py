"""How a meeting looks: its notice and sign-in message in the group, change notes, wording
of the messages services queue; the meeting callback codecs. Used by handlers and jobs."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import ClassVar
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from domain.compliance import MeetingType
from domain.meetings import Answer, Audience, Counts, SignedBy, Status, Summary
from services.meetings import Card, CardState, Change, MeetingView, PersonRef
from services.outbox import ButtonRows
from ui.callbacks import CallbackData
from ui.deps import BotContext
from ui.i18n import Catalog, Html
from ui.render import datetime_text

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
    """The manage screen's buttons: sign-in, attendance, 代签/补签, close, edit, cancel."""

    prefix: ClassVar[str] = "mg"
    action: str
    meeting_id: int
    value: int = 0


@dataclasses.dataclass(frozen=True)
class MeetingList(CallbackData):
    """/meetings paging: coming (u) or past (p) meetings from an offset."""

    prefix: ClassVar[str] = "ml"
    kind: str
    offset: int


@dataclasses.dataclass(frozen=True)
class MinutesOpen(CallbackData):
    """The minutes of a meeting (会议记录): shown here, handled by handlers.minutes."""

    prefix: ClassVar[str] = "mo"
    action: str
    meeting_id: int


CHOICES = {"a": Answer.ATTEND, "l": Answer.LEAVE}
Keyboard = list[list[InlineKeyboardButton]]


# ---- rendering the group messages (by the outbox worker, as they are sent) ----

# A card of a meeting in its current state: (html, buttons).
GroupRender = Callable[[MeetingView, Counts], tuple[str, ButtonRows]]


def details_lines(
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


def card_lines(context: BotContext, view: MeetingView) -> list[str]:
    """The meeting's details as its notice shows them, in this user's language."""
    return details_lines(
        context.deps.catalog,
        context.locale,
        view,
        context.deps.settings.timezone,
        context.deps.clock.now(),
    )


def group_renderer(catalog: Catalog, locale: str, tz: ZoneInfo, now: datetime) -> GroupRender:
    """The notice in the group: details, live counts and the 参加 / 请假 buttons; once the
    meeting has ended or was called off, says so and has no buttons."""

    def render(view: MeetingView, counts: Counts) -> tuple[str, ButtonRows]:
        lines = details_lines(catalog, locale, view, tz, now)
        if view.status is Status.CANCELLED:
            return "\n".join([*_cancelled_head(catalog, locale, view), "", *lines]), []
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
        if view.status is Status.CLOSED:
            lines.append(catalog.t(locale, "meeting.card.closed"))
            return "\n".join(lines), []
        buttons: ButtonRows = [
            [
                (catalog.plain(locale, "meeting.attend"), "cb:" + Rsvp(view.id, "a").pack()),
                (catalog.plain(locale, "meeting.leave"), "cb:" + Rsvp(view.id, "l").pack()),
            ]
        ]
        return "\n".join(lines), buttons

    return render


def _cancelled_head(catalog: Catalog, locale: str, view: MeetingView) -> list[str]:
    lines = [catalog.t(locale, "meeting.card.cancelled")]
    if view.cancel_reason:
        lines.append(catalog.t(locale, "meeting.card.cancel_reason", reason=view.cancel_reason))
    return lines


def signin_renderer(catalog: Catalog, locale: str, tz: ZoneInfo, now: datetime) -> GroupRender:
    """The sign-in message in the group with its 签到 button (none once it is over)."""

    def render(view: MeetingView, counts: Counts) -> tuple[str, ButtonRows]:
        details = details_lines(catalog, locale, view, tz, now)
        if view.status is Status.CANCELLED:
            return "\n".join([*_cancelled_head(catalog, locale, view), *details]), []
        if view.status is Status.CLOSED:
            return "\n".join([catalog.t(locale, "meeting.signin.ended"), *details]), []
        lines = [catalog.t(locale, "meeting.signin.open"), *details]
        return "\n".join(lines), [
            [(catalog.plain(locale, "meeting.signin.button"), "cb:" + SignIn(view.id).pack())]
        ]

    return render


def _person_name(catalog: Catalog, locale: str, person: PersonRef | None) -> str:
    return person.name if person is not None else catalog.plain(locale, "meeting.change.none")


def change_lines(
    catalog: Catalog,
    locale: str,
    before: MeetingView,
    after: MeetingView,
    tz: ZoneInfo,
    now: datetime,
) -> list[str]:
    """One "what: old → new" line for each detail that differs."""
    none = catalog.plain(locale, "meeting.change.none")
    pairs: list[tuple[str, str, str]] = [
        (
            "meeting.change.when",
            datetime_text(catalog, locale, before.starts_at, tz, now),
            datetime_text(catalog, locale, after.starts_at, tz, now),
        ),
        ("meeting.change.place", before.place, after.place),
        ("meeting.change.topic", before.topic, after.topic),
        ("meeting.change.agenda", before.agenda or none, after.agenda or none),
        (
            "meeting.change.host",
            _person_name(catalog, locale, before.host),
            _person_name(catalog, locale, after.host),
        ),
        (
            "meeting.change.recorder",
            _person_name(catalog, locale, before.recorder),
            _person_name(catalog, locale, after.recorder),
        ),
        (
            "meeting.change.lecturer",
            _person_name(catalog, locale, before.lecturer),
            _person_name(catalog, locale, after.lecturer),
        ),
    ]
    return [catalog.t(locale, key, old=old, new=new) for key, old, new in pairs if old != new]


def _note_body(
    catalog: Catalog,
    locale: str,
    before: MeetingView,
    after: MeetingView,
    tz: ZoneInfo,
    now: datetime,
) -> list[str]:
    types = "、".join(catalog.plain(locale, TYPE_KEYS[t]) for t in after.types)
    when = datetime_text(catalog, locale, after.starts_at, tz, now)
    if after.status is Status.CANCELLED:
        lines = [catalog.t(locale, "meeting.note.cancelled", types=types, topic=after.topic)]
        lines.append(catalog.t(locale, "meeting.note.was_at", when=when, place=after.place))
        if after.cancel_reason:
            lines.append(
                catalog.t(locale, "meeting.card.cancel_reason", reason=after.cancel_reason)
            )
        return lines
    return [
        catalog.t(locale, "meeting.note.changed", types=types, topic=after.topic),
        *change_lines(catalog, locale, before, after, tz, now),
        catalog.t(locale, "meeting.note.now_at", when=when, place=after.place),
    ]


def private_note(catalog: Catalog, locale: str, tz: ZoneInfo, now: datetime, change: Change) -> str:
    """To someone who answered, in their language: what changed (or that it is called off)."""
    lines = _note_body(catalog, locale, change.before, change.after, tz, now)
    if change.after.status is not Status.CANCELLED and not change.on_leave:
        # Someone already on leave is not told to ask for leave again.
        lines.append(catalog.t(locale, "meeting.note.private_tail"))
    return "\n".join(lines)


def group_note(catalog: Catalog, locale: str, tz: ZoneInfo, now: datetime, change: Change) -> str:
    """In the group: the same note, naming those the bot cannot write to."""
    names = " ".join(
        catalog.t(locale, "meeting.mention", user_id=m.user_id, name=m.name)
        if m.user_id is not None
        else catalog.t(locale, "meeting.mention_plain", name=m.name)
        for m in change.mentions
    )
    lines = [catalog.t(locale, "meeting.note.group_head", mentions=Html(names))]
    return "\n".join([*lines, *_note_body(catalog, locale, change.before, change.after, tz, now)])


def summary_text(catalog: Catalog, locale: str, view: MeetingView, figures: Summary) -> str:
    """The attendance summary posted in the group when a meeting closes: counts, no names."""
    types = "、".join(catalog.plain(locale, TYPE_KEYS[t]) for t in view.types)
    lines = [
        catalog.t(locale, "meeting.summary.title", types=types, topic=view.topic),
        catalog.t(
            locale,
            "meeting.summary.counts",
            expected=figures.expected,
            present=figures.present,
            leave=figures.leave,
            absent=figures.absent,
        ),
    ]
    if figures.quorum is not None:
        lines.append(
            catalog.t(
                locale,
                "meeting.att.quorum_yes" if figures.quorum.reached else "meeting.att.quorum_no",
                expected=figures.quorum.expected,
                present=figures.quorum.present,
            )
        )
    lines.append(catalog.t(locale, "meeting.summary.thanks"))
    return "\n".join(lines)


# The renderer of each card the outbox worker sends (services queue them as intent).
CARD_RENDERERS: Mapping[Card, Callable[[Catalog, str, ZoneInfo, datetime], GroupRender]] = {
    Card.NOTICE: group_renderer,
    Card.SIGNIN: signin_renderer,
}


def render_card(
    catalog: Catalog, locale: str, tz: ZoneInfo, now: datetime, card: Card, state: CardState
) -> tuple[str, InlineKeyboardMarkup | None]:
    """One card of a meeting as it stands now, in the group's language, with its buttons."""
    html, rows = CARD_RENDERERS[card](catalog, locale, tz, now)(state.meeting, state.counts)
    if not rows:
        return html, None
    return html, InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=data[3:]) for label, data in row]
            for row in rows
        ]
    )
