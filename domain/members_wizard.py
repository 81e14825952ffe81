"""The members' one-question wizards as data: a new phone from /me, the reason a member left,
and the /members choosers (which branch, which member, which branch to move to, which unit
from /me, which party group for 党小组长).

Each has a single typed answer; the intent that uses it (services.members) takes the draft in
its own transaction, so the same text sent twice changes nothing twice. A chooser's typed
answer only narrows its list (domain.pickers).
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from domain.pickers import FindDraft, paging
from domain.wizard import Draft, Steps


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


# The /members choosers, by step: "roster" (the branches whose roster one may open), "member"
# (a branch's members, for admins to act on), "target" (branches a member may be moved to),
# "import" (the branches /import may fill), "unit" (one's own branch's units, from /me),
# "group" (the party groups of a member's branch, for 党小组长).
PICKERS = ("roster", "member", "target", "import", "unit", "group")


@dataclasses.dataclass(frozen=True)
class MembersFindDraft(FindDraft):
    """A /members chooser open: the list it is on (its step; `key` is the branch for
    "member", the member moved for "target", the member made 党小组长 for "group"), the page,
    and a typed part of a name."""

    FLOW: ClassVar[str] = "members_find"
    VERSION: ClassVar[int] = 1


FIND_STEPS: Steps[MembersFindDraft] = {step: paging("offset", "find") for step in PICKERS}


def picker_open(step: str, key: int, offset: int = 0, find: str = "") -> MembersFindDraft:
    """A chooser shown: typed text next narrows this list."""
    return MembersFindDraft(step=step, key=key, offset=max(0, offset), find=find)
