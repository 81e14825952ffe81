"""The registration wizard as data: the branch, then name → stage → unit → phone → confirm.

The unit question is the shared picker (domain.pickers): a branch may cover hundreds of
employers, so its units come a page at a time and a typed part of a name narrows them.

Submitting is not a transition: the submit intent takes the draft inside its own transaction
(services.members.submit_registration_draft), so a replayed 提交 files nothing twice.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from domain.orgs import Stage
from domain.pickers import paging
from domain.wizard import Draft, Steps


@dataclasses.dataclass(frozen=True)
class RegistrationDraft(Draft):
    """A registration being filled in for one branch."""

    FLOW: ClassVar[str] = "register"
    VERSION: ClassVar[int] = 2  # 2: the unit picker's page and typed part

    org_id: int = 0
    org_name: str = ""
    has_units: bool = False  # the branch has units to choose from
    name: str | None = None
    stage: Stage | None = None
    unit_id: int | None = None
    unit_name: str | None = None
    unit_offset: int = 0  # the page of the unit picker
    unit_find: str = ""  # a typed part of a name narrowing it
    phone: str | None = None


# The unit step's own events: another page, a typed part of a name, 显示全部.
UNIT_STEPS: Steps[RegistrationDraft] = {"unit": paging("unit_offset", "unit_find")}


PREVIOUS = {"stage": "name", "unit": "stage", "phone": "unit", "confirm": "phone"}


def previous_step(draft: RegistrationDraft) -> str | None:
    """Where 上一步 leads (the unit question only when the branch has units)."""
    previous = PREVIOUS.get(draft.step)
    if previous == "unit" and not draft.has_units:
        return "stage"
    return previous


def after_stage(draft: RegistrationDraft) -> str:
    """The question after the stage: the unit when the branch has units, else the phone."""
    return "unit" if draft.has_units else "phone"


@dataclasses.dataclass(frozen=True)
class RejectDraft(Draft):
    """拒绝 pressed on a registration: waiting for the typed reason (one question)."""

    FLOW: ClassVar[str] = "reject_registration"
    VERSION: ClassVar[int] = 1

    registration_id: int = 0


def ask_reject_reason(registration_id: int) -> RejectDraft:
    """Waiting for why this registration is rejected."""
    return RejectDraft(step="reason", registration_id=registration_id)
