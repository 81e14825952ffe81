"""The buttons of /members and /me, and what their screens share."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from domain.orgs import Role
from handlers.press import Presses
from ui.callbacks import CallbackData
from ui.deps import BotContext
from ui.render import role_label

presses = Presses()


@dataclasses.dataclass(frozen=True)
class ShowRoster(CallbackData):
    prefix: ClassVar[str] = "ros"
    org_id: int


@dataclasses.dataclass(frozen=True)
class ExportRoster(CallbackData):
    prefix: ClassVar[str] = "rosx"
    org_id: int


@dataclasses.dataclass(frozen=True)
class MemberPage(CallbackData):
    prefix: ClassVar[str] = "mpg"
    org_id: int
    offset: int


@dataclasses.dataclass(frozen=True)
class PickList(CallbackData):
    """A page of a /members chooser (domain.members_wizard.PICKERS: roster, member, target,
    import, unit, group; `key` is the branch or the member concerned); found 1: still
    narrowed by the part of a name typed for this list (kept in the draft), 0: the whole list
    (显示全部)."""

    prefix: ClassVar[str] = "mls"
    step: str
    key: int
    offset: int
    found: int = 0


@dataclasses.dataclass(frozen=True)
class ShowMember(CallbackData):
    prefix: ClassVar[str] = "mem"
    member_id: int


@dataclasses.dataclass(frozen=True)
class MemberAction(CallbackData):
    """left / role / move on a member card."""

    prefix: ClassVar[str] = "mact"
    member_id: int
    action: str


@dataclasses.dataclass(frozen=True)
class GiveRole(CallbackData):
    """Grant a branch office (index into BRANCH_ROLES), with a party group for group leaders."""

    prefix: ClassVar[str] = "mrole"
    member_id: int
    role: int
    party_group_id: int = 0


@dataclasses.dataclass(frozen=True)
class MoveMember(CallbackData):
    prefix: ClassVar[str] = "mmove"
    member_id: int
    org_id: int


@dataclasses.dataclass(frozen=True)
class MeAction(CallbackData):
    """phone / unit / lang / del / delok / keep on /me."""

    prefix: ClassVar[str] = "me"
    action: str


@dataclasses.dataclass(frozen=True)
class MeUnit(CallbackData):
    prefix: ClassVar[str] = "meu"
    unit_id: int


def roles_text(context: BotContext, roles: tuple[Role, ...]) -> str:
    """Offices held, in words, 、-separated."""
    return "、".join(role_label(context, r) for r in roles)
