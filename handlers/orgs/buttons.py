"""The /org menu's buttons: their payloads, and the small helpers every screen uses."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import ClassVar

from telegram import InlineKeyboardButton

from domain.orgs import Level
from handlers.press import Presses
from ui.callbacks import CallbackData, button
from ui.deps import BotContext

PAGE = 8
BUTTON_NAME_MAX = 40

LEVEL_KEYS: dict[Level, str] = {
    Level.COMMITTEE: "org.level.committee",
    Level.GENERAL_BRANCH: "org.level.general_branch",
    Level.BRANCH: "org.level.branch",
}

# Every /org button, whichever module handles it; refusals in the /org wording.
presses = Presses("org")


@dataclasses.dataclass(frozen=True)
class OpenOrg(CallbackData):
    """Show an organization's card (org_id 0: the list of one's top organizations), paged."""

    prefix: ClassVar[str] = "o"
    org_id: int
    offset: int = 0


@dataclasses.dataclass(frozen=True)
class NewOrg(CallbackData):
    """A step of the create wizard: p(arent) / lv / kd / back / ok / x, with a number."""

    prefix: ClassVar[str] = "on"
    action: str
    value: int = 0


@dataclasses.dataclass(frozen=True)
class AskHolder(CallbackData):
    """Ask who should become committee admin or instructor of an organization."""

    prefix: ClassVar[str] = "oa"
    org_id: int
    role: str


@dataclasses.dataclass(frozen=True)
class StopHolder(CallbackData):
    """Cancel the typed committee-admin or instructor question."""

    prefix: ClassVar[str] = "ox"
    org_id: int


@dataclasses.dataclass(frozen=True)
class PickSecretary(CallbackData):
    """The branch's roster as buttons, to choose its secretary."""

    prefix: ClassVar[str] = "os"
    org_id: int
    offset: int = 0


@dataclasses.dataclass(frozen=True)
class AllCandidates(CallbackData):
    """显示全部 on the secretary picker narrowed by a typed part of a name."""

    prefix: ClassVar[str] = "osa"
    org_id: int


@dataclasses.dataclass(frozen=True)
class SetSecretary(CallbackData):
    """A roster member picked as the branch's secretary."""

    prefix: ClassVar[str] = "osm"
    org_id: int
    member_id: int


@dataclasses.dataclass(frozen=True)
class ShowOffices(CallbackData):
    """The offices held today, paged."""

    prefix: ClassVar[str] = "or"
    org_id: int
    offset: int = 0


@dataclasses.dataclass(frozen=True)
class EndOffice(CallbackData):
    """卸任 on one office."""

    prefix: ClassVar[str] = "oe"
    role_id: int


@dataclasses.dataclass(frozen=True)
class ToggleGate(CallbackData):
    """Set the group gate of a branch: the wanted state, so a double press changes nothing."""

    prefix: ClassVar[str] = "og"
    org_id: int
    enabled: int


@dataclasses.dataclass(frozen=True)
class ShowLink(CallbackData):
    """The branch's registration deep link."""

    prefix: ClassVar[str] = "ol"
    org_id: int


@dataclasses.dataclass(frozen=True)
class FindOrg(CallbackData):
    """按名称查找 on a long list: ask for part of a name (org 0: one's top organizations)."""

    prefix: ClassVar[str] = "of"
    org_id: int


@dataclasses.dataclass(frozen=True)
class FoundPage(CallbackData):
    """A page of a list narrowed by a typed part of a name (kept in the person's draft)."""

    prefix: ClassVar[str] = "ofp"
    org_id: int
    offset: int


def short_name(name: str) -> str:
    """A name short enough for a button."""
    return name if len(name) <= BUTTON_NAME_MAX else name[: BUTTON_NAME_MAX - 1] + "…"


def level_name(context: BotContext, level: Level) -> str:
    """组织层级 in words."""
    return context.plain(LEVEL_KEYS[level])


def page_start(offset: int, total: int) -> int:
    """The first item of the page holding `offset` (the last page when the list shrank)."""
    return max(0, min(offset, max(total - 1, 0) // PAGE * PAGE))


def pager(
    context: BotContext, offset: int, total: int, page: Callable[[int], CallbackData]
) -> list[InlineKeyboardButton]:
    """上一页 / 下一页 buttons for `total` items shown PAGE at a time."""
    row = []
    if offset > 0:
        row.append(button(context.plain("common.prev"), page(max(0, offset - PAGE))))
    if offset + PAGE < total:
        row.append(button(context.plain("common.next"), page(offset + PAGE)))
    return row


def back_to(context: BotContext, org_id: int | None) -> InlineKeyboardButton:
    """Back to an organization's card, or to one's list when there is none."""
    if org_id:
        return button(context.plain("org.back"), OpenOrg(org_id))
    return button(context.plain("org.back_top"), OpenOrg(0))
