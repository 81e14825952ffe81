"""The /ledger wizard as data: a branch (when one may see several), then a period.

Steps: "branch" → "period" → "ready". A named period (本月, 上季度…) is a button that sends the
ledger at once; a typed range ("2026-01-01 2026-06-30") is the one typed answer, checked here.
Reading the ledger changes nothing, so the wizard is simply forgotten once it is sent.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import ClassVar

from domain.meetings_attendance import parse_range
from domain.pickers import paging
from domain.validation import Invalid
from domain.wizard import Draft, Event, Refusal, Steps


@dataclasses.dataclass(frozen=True)
class LedgerDraft(Draft):
    """Which branch's ledger, and (once typed) for which days."""

    FLOW: ClassVar[str] = "ledger"
    VERSION: ClassVar[int] = 1

    org_id: int = 0
    single: bool = False  # the only branch this person may see: no way back to a list
    start: date | None = None
    end: date | None = None
    offset: int = 0  # the page of the branch list last shown
    find: str = ""  # a typed part of a branch's name narrowing the list


def at_branches(find: str = "") -> LedgerDraft:
    """Picking a branch from the list (narrowed to names containing `find`)."""
    return LedgerDraft(step="branch", find=find)


def for_branch(org_id: int, *, single: bool) -> LedgerDraft:
    """A branch chosen (or the only one): asking for the period."""
    return LedgerDraft(step="period", org_id=org_id, single=single)


def pick_branch(draft: LedgerDraft, event: Event, now: datetime) -> LedgerDraft:
    """A branch button (its id in the event's value): ask for that branch's period."""
    return for_branch(event.value, single=False)


def back_to_branches(draft: LedgerDraft, event: Event, now: datetime) -> LedgerDraft:
    """返回 from the period question, or another page of the list (still narrowed)."""
    return at_branches(draft.find)


def take_range(draft: LedgerDraft, event: Event, now: datetime) -> LedgerDraft | Refusal:
    """A typed range of days, none of them after today (`now` is local time)."""
    parsed = parse_range(event.text or "")
    if not isinstance(parsed, Invalid) and parsed[0] > now.date():
        parsed = Invalid("range.future")
    if isinstance(parsed, Invalid):
        return Refusal(parsed.code)
    start, end = parsed
    return dataclasses.replace(draft, step="ready", start=start, end=end)


STEPS: Steps[LedgerDraft] = {
    # The page is the button's own (LedgerPage); a typed part of a name narrows the list.
    "branch": {**paging("offset", "find"), "branch": pick_branch, "page": back_to_branches},
    "period": {"text": take_range, "back": back_to_branches},
}
