"""Recording a 谈心谈话 about unpaid dues, as data: who talked, on which day, what came of it.

Steps: "by" → "when" → "outcome" → "ready" (保存 / 取消). Every answer is typed; the day is
checked (not in the future, not before the first unpaid month's year). Saving is the service's
intent (services.dues_remit.record_talk), which takes this draft in its transaction.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import ClassVar

from domain.validation import Invalid, clean_text, parse_date
from domain.wizard import Draft, Event, Refusal, Steps

TALKED_BY_MAX = 60
OUTCOME_MAX = 500


@dataclasses.dataclass(frozen=True)
class TalkDraft(Draft):
    """A talk about one member's dues being written down."""

    FLOW: ClassVar[str] = "dues_talk"
    VERSION: ClassVar[int] = 1

    member_id: int = 0
    org_id: int = 0
    talked_by: str = ""
    held_on: str = ""  # ISO date once given
    outcome: str = ""


def start(member_id: int, org_id: int) -> TalkDraft:
    """Asking who held the talk."""
    return TalkDraft(step="by", member_id=member_id, org_id=org_id)


def _text(text: str | None, limit: int) -> str | Refusal:
    value = clean_text(text or "")
    if not value:
        return Refusal("dues.talk.empty")
    if len(value) > limit:
        return Refusal("dues.talk.too_long", {"limit": limit})
    return value


def take_by(draft: TalkDraft, event: Event, now: datetime) -> TalkDraft | Refusal:
    """Who talked with the member (names, offices)."""
    value = _text(event.text, TALKED_BY_MAX)
    if isinstance(value, Refusal):
        return value
    return dataclasses.replace(draft, step="when", talked_by=value)


def take_when(draft: TalkDraft, event: Event, now: datetime) -> TalkDraft | Refusal:
    """The day of the talk: today or earlier (`now` is local)."""
    day = parse_date(event.text or "")
    if isinstance(day, Invalid):
        return Refusal("dues.talk.date")
    if day > now.date() or day.year < now.year - 1:
        return Refusal("dues.talk.date_range")
    return dataclasses.replace(draft, step="outcome", held_on=day.isoformat())


def take_outcome(draft: TalkDraft, event: Event, now: datetime) -> TalkDraft | Refusal:
    """What came of it."""
    value = _text(event.text, OUTCOME_MAX)
    if isinstance(value, Refusal):
        return value
    return dataclasses.replace(draft, step="ready", outcome=value)


STEPS: Steps[TalkDraft] = {
    "by": {"text": take_by},
    "when": {"text": take_when},
    "outcome": {"text": take_outcome},
}
FLOW_NAME = TalkDraft.FLOW
