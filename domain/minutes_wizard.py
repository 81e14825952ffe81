"""The minutes wizard as data: a typed draft and its steps, built for one meeting's form.

Steps: "att" (check the attendance) → "pick" (whom to sign for) → "note" (why) → back to
"att"; then one step per field ("f0", "f1", …), "ph" (photos) and "pre" (the preview).
Saving is not a transition: the save intent takes the draft inside its own transaction
(services.minutes.save_minutes_draft), so the draft disappears exactly when the minutes
are written. Signing for someone (the note step) is a service call too; its transition only
returns to the attendance.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import ClassVar

from domain.minutes import PHOTOS_MAX, FieldSpec, parse_field, text_length
from domain.validation import Invalid
from domain.wizard import STALE, Draft, Event, Refusal, Steps, Transition

ATTENDANCE, PICK, NOTE, PHOTOS, PREVIEW = "att", "pick", "note", "ph", "pre"


@dataclasses.dataclass(frozen=True)
class MinutesDraft(Draft):
    """The minutes being written for one meeting: answers so far, photos, where we are."""

    FLOW: ClassVar[str] = "minutes"
    VERSION: ClassVar[int] = 1

    meeting_id: int = 0
    fields: tuple[tuple[str, str], ...] = ()  # (field value, text), in the order answered
    photos: tuple[str, ...] = ()  # Telegram file ids
    editing: bool = False  # the meeting had minutes when the wizard started
    offset: int = 0  # the page of the pick step
    member_id: int = 0  # whom the note step signs for
    prompt: int = 0  # the photo prompt's message id, edited as photos arrive

    def value(self, field: str) -> str | None:
        """The answer of one field, if any."""
        return dict(self.fields).get(field)

    def answers(self) -> dict[str, str]:
        """Every answer, by field value."""
        return dict(self.fields)

    def with_value(self, field: str, text: str | None) -> MinutesDraft:
        """The draft with one field answered (or emptied, with None)."""
        kept = tuple((k, v) for k, v in self.fields if k != field)
        return dataclasses.replace(self, fields=kept if text is None else (*kept, (field, text)))

    def with_photo(self, file_id: str) -> MinutesDraft | None:
        """The draft with one more photo; None when it has PHOTOS_MAX already."""
        if len(self.photos) >= PHOTOS_MAX:
            return None
        return dataclasses.replace(self, photos=(*self.photos, file_id))


def start(
    meeting_id: int, answers: dict[str, str], photos: tuple[str, ...], editing: bool
) -> MinutesDraft:
    """A new wizard at the attendance step, with the answers it starts from."""
    return MinutesDraft(
        step=ATTENDANCE,
        meeting_id=meeting_id,
        fields=tuple(answers.items()),
        photos=photos,
        editing=editing,
    )


def field_step(index: int) -> str:
    """The step that asks the form's field `index`."""
    return f"f{index}"


def field_index(step: str) -> int | None:
    """Which field a step asks, if it asks one."""
    if step.startswith("f") and step[1:].isdigit():
        return int(step[1:])
    return None


def previous_step(step: str, form: tuple[FieldSpec, ...]) -> str | None:
    """Where 上一步 leads from `step` (None: it has no previous step)."""
    index = field_index(step)
    if index is not None:
        return ATTENDANCE if index == 0 else field_step(index - 1)
    return {
        PHOTOS: field_step(len(form) - 1),
        PREVIEW: PHOTOS,
        PICK: ATTENDANCE,
        NOTE: ATTENDANCE,
    }.get(step)


def _go(step: str, **changes: object) -> Transition[MinutesDraft]:
    def move(draft: MinutesDraft, event: Event, now: datetime) -> MinutesDraft:
        return dataclasses.replace(draft, step=step, **changes)  # type: ignore[arg-type]

    return move


def _page(draft: MinutesDraft, event: Event, now: datetime) -> MinutesDraft:
    return dataclasses.replace(draft, offset=max(0, event.value))


def _pick(draft: MinutesDraft, event: Event, now: datetime) -> MinutesDraft:
    return dataclasses.replace(draft, step=NOTE, member_id=event.value)


def _field_steps(index: int, spec: FieldSpec, after: str) -> dict[str, Transition[MinutesDraft]]:
    key = spec.field.value

    def keep(draft: MinutesDraft, event: Event, now: datetime) -> MinutesDraft | Refusal:
        return dataclasses.replace(draft, step=after) if draft.value(key) else STALE

    def skip(draft: MinutesDraft, event: Event, now: datetime) -> MinutesDraft | Refusal:
        if spec.required:
            return STALE
        return dataclasses.replace(draft.with_value(key, None), step=after)

    def text(draft: MinutesDraft, event: Event, now: datetime) -> MinutesDraft | Refusal:
        typed = event.text or ""
        value = parse_field(spec, typed)
        if isinstance(value, Invalid) and value.code == "text.empty":
            return Refusal("minutes.text_empty")
        if isinstance(value, Invalid):
            length = text_length(typed.strip())
            return Refusal("minutes.text_too_long", {"limit": spec.limit, "length": length})
        return dataclasses.replace(draft.with_value(key, value), step=after)

    back = ATTENDANCE if index == 0 else field_step(index - 1)
    return {"keep": keep, "skip": skip, "text": text, "back": _go(back)}


def steps_for(form: tuple[FieldSpec, ...]) -> Steps[MinutesDraft]:
    """The wizard's step table for a meeting with this form."""
    last = field_step(len(form) - 1) if form else ATTENDANCE
    first = field_step(0) if form else PHOTOS
    table: dict[str, dict[str, Transition[MinutesDraft]]] = {
        ATTENDANCE: {"go": _go(first), "pick": _go(PICK, offset=0)},
        PICK: {"pg": _page, "m": _pick, "back": _go(ATTENDANCE)},
        # Skipping or typing the note signs for the person (a service call), then back.
        NOTE: {
            "skip": _go(ATTENDANCE, member_id=0),
            "text": _go(ATTENDANCE, member_id=0),
            "back": _go(ATTENDANCE),
        },
        PHOTOS: {"done": _go(PREVIEW), "clear": _go(PHOTOS, photos=()), "back": _go(last)},
        PREVIEW: {"redo": _go(ATTENDANCE), "back": _go(PHOTOS)},
    }
    for index, spec in enumerate(form):
        after = field_step(index + 1) if index + 1 < len(form) else PHOTOS
        table[field_step(index)] = _field_steps(index, spec, after)
    return table


def first_problem(form: tuple[FieldSpec, ...], fields: list[str]) -> str:
    """The step of the first of these fields (by the form's order) that needs attention."""
    order = [s.field.value for s in form]
    return field_step(min(order.index(f) for f in fields if f in order))
