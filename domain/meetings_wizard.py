"""The /meeting planner and a meeting's edit as typed drafts, their steps as tables.

A step's transitions are pure: whatever needs the database (is this branch one the person
organizes, is this member on the roster, may they address the whole branch) is checked by
the handler before it applies the event, and checked again by the service that publishes.
The `now` a transition receives is local time (the branch's time zone): typed times are
read relative to it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from domain.compliance import MeetingType
from domain.meetings import (
    AGENDA_MAX,
    LESSON_TYPES,
    PERSON_DETAILS,
    PLACE_MAX,
    REASON_MAX,
    TOPIC_MAX,
    Audience,
    Detail,
    ordered_types,
)
from domain.pickers import paging
from domain.validation import Invalid, parse_short_text
from domain.when import parse_when
from domain.wizard import STALE, Draft, Event, Refusal, Steps, Transition

# ---- /meeting ----

PERSON_STEPS: Mapping[str, str] = {"host": "host_id", "rec": "recorder_id", "lect": "lecturer_id"}
AUDIENCE_ACTIONS: Mapping[str, Audience] = {
    "br": Audience.BRANCH,
    "cm": Audience.COMMITTEE,
    "pg": Audience.PARTY_GROUP,
}


@dataclasses.dataclass(frozen=True)
class MeetingDraft(Draft):
    """What the organizer chose so far in /meeting, and the step they are on."""

    FLOW: ClassVar[str] = "meeting"
    VERSION: ClassVar[int] = 1

    single_org: bool = False  # one branch to choose from: no 返回 to the branch question
    org_id: int = 0
    org_name: str = ""
    types: tuple[MeetingType, ...] = ()
    starts_at: datetime | None = None
    place: str = ""
    topic: str = ""
    agenda: str | None = None
    host_id: int | None = None
    recorder_id: int | None = None
    lecturer_id: int | None = None
    audience: Audience | None = None
    party_group_id: int | None = None
    offset: int = 0  # the first branch or person shown on a picker's page
    find: str = ""  # a typed part of a name narrowing that picker

    @property
    def has_lesson(self) -> bool:
        """A party lesson is among the types: the lecturer is asked."""
        return any(t in LESSON_TYPES for t in self.types)


def start_meeting(
    branches: list[tuple[int, str]], types: tuple[MeetingType, ...] = ()
) -> MeetingDraft:
    """A new plan: straight to the types when the person organizes one branch only."""
    if len(branches) == 1:
        org_id, name = branches[0]
        return MeetingDraft(step="type", single_org=True, org_id=org_id, org_name=name, types=types)
    return MeetingDraft(step="org", types=types)


def _go(step: str) -> Transition[MeetingDraft]:
    def go(draft: MeetingDraft, event: Event, now: datetime) -> MeetingDraft | Refusal:
        return dataclasses.replace(draft, step=step, offset=0, find="")

    return go


def _after_recorder(draft: MeetingDraft) -> str:
    return "lect" if draft.has_lesson else "aud"


def _pick_org(draft: MeetingDraft, event: Event, now: datetime) -> MeetingDraft | Refusal:
    # The handler has checked the branch and passes its name as the event's text.
    return dataclasses.replace(
        draft, step="type", org_id=event.value, org_name=event.text or "", offset=0, find=""
    )


def _back_to_org(draft: MeetingDraft, event: Event, now: datetime) -> MeetingDraft | Refusal:
    return STALE if draft.single_org else dataclasses.replace(draft, step="org", offset=0, find="")


def _toggle_type(draft: MeetingDraft, event: Event, now: datetime) -> MeetingDraft | Refusal:
    kinds = list(MeetingType)
    if not 0 <= event.value < len(kinds):
        return STALE
    kind = kinds[event.value]
    chosen = [t for t in draft.types if t is not kind]
    if kind not in draft.types:
        chosen.append(kind)
    return dataclasses.replace(draft, types=tuple(ordered_types(chosen)))


def _types_done(draft: MeetingDraft, event: Event, now: datetime) -> MeetingDraft | Refusal:
    if not draft.types:
        return Refusal("meeting.no_type")
    return dataclasses.replace(draft, step="when")


def _typed_when(draft: MeetingDraft, event: Event, now: datetime) -> MeetingDraft | Refusal:
    parsed = parse_when(event.text or "", now)
    if isinstance(parsed, Invalid):
        return Refusal("meeting.bad_time")
    if parsed <= now:
        return Refusal("meeting.past")
    return dataclasses.replace(draft, step="cfm", starts_at=parsed)


def _typed(field: str, limit: int, following: str) -> Transition[MeetingDraft]:
    empty, long = f"meeting.{field}_empty", f"meeting.{field}_long"

    def typed(draft: MeetingDraft, event: Event, now: datetime) -> MeetingDraft | Refusal:
        value = parse_short_text(event.text or "", limit)
        if isinstance(value, Invalid):
            return Refusal(empty if value.code == "text.empty" else long)
        changes: dict[str, Any] = {field: value}
        return dataclasses.replace(draft, step=following, **changes)

    return typed


def _skip_agenda(draft: MeetingDraft, event: Event, now: datetime) -> MeetingDraft | Refusal:
    return dataclasses.replace(draft, step="host", agenda=None)


def _pick_person(following: str | None) -> Transition[MeetingDraft]:
    def pick(draft: MeetingDraft, event: Event, now: datetime) -> MeetingDraft | Refusal:
        # value 0: 跳过 (nobody); the handler has checked any other id is on the roster.
        step = following or _after_recorder(draft)
        changes: dict[str, Any] = {PERSON_STEPS[draft.step]: event.value or None}
        return dataclasses.replace(draft, step=step, offset=0, find="", **changes)

    return pick


def _back_from_audience(draft: MeetingDraft, event: Event, now: datetime) -> MeetingDraft | Refusal:
    step = "lect" if draft.has_lesson else "rec"
    return dataclasses.replace(draft, step=step, offset=0, find="")


def _audience(draft: MeetingDraft, event: Event, now: datetime) -> MeetingDraft | Refusal:
    audience = AUDIENCE_ACTIONS[event.action]
    group = event.value if audience is Audience.PARTY_GROUP else None
    return dataclasses.replace(draft, step="pre", audience=audience, party_group_id=group)


_PERSON_ACTIONS: dict[str, Transition[MeetingDraft]] = paging("offset", "find")

# Every step and what it accepts: a press ("pick", "next", …) or a typed "text". 取消 ("x")
# is not here: it ends the wizard from any step, even from an older message.
MEETING_STEPS: Steps[MeetingDraft] = {
    "org": {"pick": _pick_org, **_PERSON_ACTIONS},
    "type": {"t": _toggle_type, "next": _types_done, "back": _back_to_org},
    "when": {"text": _typed_when, "back": _go("type")},
    "cfm": {"ok": _go("place"), "re": _go("when"), "back": _go("when")},
    "place": {"text": _typed("place", PLACE_MAX, "topic"), "back": _go("when")},
    "topic": {"text": _typed("topic", TOPIC_MAX, "agenda"), "back": _go("place")},
    "agenda": {
        "text": _typed("agenda", AGENDA_MAX, "host"),
        "skip": _skip_agenda,
        "back": _go("topic"),
    },
    "host": {**_PERSON_ACTIONS, "pick": _pick_person("rec"), "back": _go("agenda")},
    "rec": {**_PERSON_ACTIONS, "pick": _pick_person(None), "back": _go("host")},
    "lect": {**_PERSON_ACTIONS, "pick": _pick_person("aud"), "back": _go("rec")},
    "aud": {
        **_PERSON_ACTIONS,  # the party groups on the shared picker
        **dict.fromkeys(AUDIENCE_ACTIONS, _audience),
        "back": _back_from_audience,
    },
    # 确认发布 ("ok") is not a transition: it is the publishing intent, which takes the draft.
    "pre": {"redo": _go("type"), "back": _go("aud")},
}
STEPS = MEETING_STEPS

# ---- changing a published meeting, or calling it off ----


@dataclasses.dataclass(frozen=True)
class MeetingEdit(Draft):
    """A change of one detail of a meeting (or its cancellation) being prepared.

    Steps: "person" (picking someone) or "type" (typing a value) → "confirm"; for a
    cancellation (`detail` None): "reason" → "cancel_confirm".
    """

    FLOW: ClassVar[str] = "meeting_edit"
    VERSION: ClassVar[int] = 2  # 2: the person picker keeps a typed part of a name

    meeting_id: int = 0
    detail: Detail | None = None  # None: calling the meeting off
    offset: int = 0
    find: str = ""  # a typed part of a name narrowing the person picker
    chosen: bool = False  # a new value was given (None is a value: nobody, no agenda)
    when: datetime | None = None
    text: str | None = None
    person_id: int | None = None
    reason: str | None = None

    @property
    def value(self) -> str | int | datetime | None:
        """The chosen new value of the detail."""
        if self.detail is Detail.WHEN:
            return self.when
        if self.detail in PERSON_DETAILS:
            return self.person_id
        return self.text


TEXT_LIMITS: Mapping[Detail, int] = {
    Detail.PLACE: PLACE_MAX,
    Detail.TOPIC: TOPIC_MAX,
    Detail.AGENDA: AGENDA_MAX,
}


def start_edit(meeting_id: int, detail: Detail) -> MeetingEdit:
    """Changing one detail: a person is picked, anything else is typed."""
    step = "person" if detail in PERSON_DETAILS else "type"
    return MeetingEdit(step=step, meeting_id=meeting_id, detail=detail)


def start_cancel(meeting_id: int) -> MeetingEdit:
    """Calling the meeting off: a reason may be typed (or the meeting cancelled without)."""
    return MeetingEdit(step="reason", meeting_id=meeting_id)


_EDIT_PICKER: dict[str, Transition[MeetingEdit]] = paging("offset", "find")


def _edit_person(draft: MeetingEdit, event: Event, now: datetime) -> MeetingEdit | Refusal:
    # value 0: 无 (nobody); the handler has checked any other id is on the roster.
    return dataclasses.replace(draft, step="confirm", chosen=True, person_id=event.value or None)


def _edit_text(draft: MeetingEdit, event: Event, now: datetime) -> MeetingEdit | Refusal:
    text = event.text or ""
    if draft.detail is Detail.WHEN:
        parsed = parse_when(text, now)
        if isinstance(parsed, Invalid):
            return Refusal("meeting.bad_time")
        if parsed <= now:
            return Refusal("meeting.past")
        return dataclasses.replace(draft, step="confirm", chosen=True, when=parsed)
    limit = TEXT_LIMITS.get(draft.detail) if draft.detail is not None else None
    if limit is None:
        return STALE
    value = parse_short_text(text, limit)
    if isinstance(value, Invalid):
        if value.code == "text.empty":
            return Refusal("meeting.text_empty")
        return Refusal("meeting.edit_too_long", {"limit": limit})
    return dataclasses.replace(draft, step="confirm", chosen=True, text=value)


def _clear_agenda(draft: MeetingEdit, event: Event, now: datetime) -> MeetingEdit | Refusal:
    if draft.detail is not Detail.AGENDA:
        return STALE
    return dataclasses.replace(draft, step="confirm", chosen=True, text=None)


def _cancel_reason(draft: MeetingEdit, event: Event, now: datetime) -> MeetingEdit | Refusal:
    reason = parse_short_text(event.text or "", REASON_MAX)
    if isinstance(reason, Invalid):
        return Refusal(
            "meeting.text_empty" if reason.code == "text.empty" else "meeting.reason_long"
        )
    return dataclasses.replace(draft, step="cancel_confirm", reason=reason)


# The edit's presses (Manage actions) and typed texts. 确认修改 / 确认取消 are intents that
# take the draft; 取消 ("ex") drops it from any step.
EDIT_STEPS: Steps[MeetingEdit] = {
    # 下一页 / 上一页 ("epg"), a typed part of a name ("text"), 显示全部 ("enof"), a pick ("ep").
    "person": {
        "epg": _EDIT_PICKER["page"],
        "text": _EDIT_PICKER["text"],
        "enof": _EDIT_PICKER["nof"],
        "ep": _edit_person,
    },
    "type": {"text": _edit_text, "eclr": _clear_agenda},
    "confirm": {},
    "reason": {"text": _cancel_reason},
    "cancel_confirm": {},
}

# ---- the one-question flows: a leave reason, the note of a 代签 / 补签 ----


@dataclasses.dataclass(frozen=True)
class LeaveReason(Draft):
    """A member who pressed 请假 is asked why."""

    FLOW: ClassVar[str] = "meeting_leave"
    VERSION: ClassVar[int] = 1

    meeting_id: int = 0


@dataclasses.dataclass(frozen=True)
class SignNote(Draft):
    """The recorder signing someone in is asked for a note."""

    FLOW: ClassVar[str] = "meeting_note"
    VERSION: ClassVar[int] = 1

    meeting_id: int = 0
    member_id: int = 0


@dataclasses.dataclass(frozen=True)
class ProxyFind(Draft):
    """代签/补签's list of members not signed in open: its page and a typed part of a name
    narrowing it (a branch of hundreds had only its first thirty offered)."""

    FLOW: ClassVar[str] = "meeting_proxy_find"
    VERSION: ClassVar[int] = 1

    meeting_id: int = 0
    offset: int = 0
    find: str = ""


PROXY_STEPS: Steps[ProxyFind] = {"find": paging("offset", "find")}
