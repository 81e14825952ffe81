"""The members' one-question wizards as data: a new phone from /me, the reason a member left.

Each has a single typed answer; the intent that uses it (services.members) takes the draft in
its own transaction, so the same text sent twice changes nothing twice.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from domain.wizard import Draft


@dataclasses.dataclass(frozen=True)
class PhoneDraft(Draft):
    """修改手机号 pressed on /me: waiting for the new number."""

    FLOW: ClassVar[str] = "me_phone"
    VERSION: ClassVar[int] = 1


@dataclasses.dataclass(frozen=True)
class LeftDraft(Draft):
    """标记离开 pressed on a member card: waiting for the reason."""

    FLOW: ClassVar[str] = "member_left"
    VERSION: ClassVar[int] = 1

    member_id: int = 0


def ask_phone() -> PhoneDraft:
    """Waiting for one's new phone number."""
    return PhoneDraft(step="phone")


def ask_left_reason(member_id: int) -> LeftDraft:
    """Waiting for why this member left."""
    return LeftDraft(step="reason", member_id=member_id)
