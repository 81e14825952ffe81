"""The /org create wizard as data: where a new organization goes, its level, kind and name.

Steps: "level" → "kind" → "name" → "confirm"; a question with a single possible answer is
answered without asking. Creating is not a transition: the create intent takes the draft
inside its own transaction (services.orgs_admin.create_from_draft).
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from domain.orgs import KINDS_BY_LEVEL, Kind, Level, Role
from domain.pickers import paging
from domain.wizard import Draft, Steps

ORDER = ("level", "kind", "name", "confirm")


@dataclasses.dataclass(frozen=True)
class NewOrgDraft(Draft):
    """An organization being created: under which parent, and the answers so far."""

    FLOW: ClassVar[str] = "org_create"
    VERSION: ClassVar[int] = 1

    parent_id: int | None = None  # None: a committee at the top
    parent_name: str | None = None
    levels: tuple[Level, ...] = ()  # the levels that may go under the parent
    level: Level | None = None
    kind: Kind | None = None
    name: str | None = None

    @property
    def kinds(self) -> tuple[Kind, ...]:
        """The kinds the chosen level may be."""
        return KINDS_BY_LEVEL[self.level] if self.level is not None else ()


def begin(parent_id: int | None, parent_name: str | None, levels: tuple[Level, ...]) -> NewOrgDraft:
    """A new wizard at its first open question."""
    return first_open(NewOrgDraft(step="level", parent_id=parent_id, parent_name=parent_name,
                                  levels=levels))  # fmt: skip


def first_open(draft: NewOrgDraft) -> NewOrgDraft:
    """At the next unanswered question; a choice with a single option is made without asking."""
    if draft.level is None:
        if len(draft.levels) > 1:
            return dataclasses.replace(draft, step="level")
        draft = dataclasses.replace(draft, level=draft.levels[0])
    if draft.kind is None:
        if len(draft.kinds) > 1:
            return dataclasses.replace(draft, step="kind")
        draft = dataclasses.replace(draft, kind=draft.kinds[0])
    return dataclasses.replace(draft, step="name" if draft.name is None else "confirm")


def step_back(draft: NewOrgDraft) -> NewOrgDraft | None:
    """The answer before the current step forgotten, asked again; None when there is none."""
    for previous in reversed(ORDER[: ORDER.index(draft.step)]):
        if previous == "name":
            return dataclasses.replace(draft, name=None, step="name")
        if previous == "kind" and len(draft.kinds) > 1:
            return dataclasses.replace(draft, kind=None, step="kind")
        if previous == "level" and len(draft.levels) > 1:
            return dataclasses.replace(draft, level=None, kind=None, step="level")
    return None


def choose_level(draft: NewOrgDraft, index: int) -> NewOrgDraft | None:
    """The level at `index` of the offered ones; None for a button of another step."""
    if draft.step != "level" or not 0 <= index < len(draft.levels):
        return None
    return first_open(dataclasses.replace(draft, level=draft.levels[index]))


def choose_kind(draft: NewOrgDraft, index: int) -> NewOrgDraft | None:
    """The kind at `index` of the level's kinds; None for a button of another step."""
    if draft.step != "kind" or not 0 <= index < len(draft.kinds):
        return None
    return first_open(dataclasses.replace(draft, kind=draft.kinds[index]))


def named(draft: NewOrgDraft, name: str) -> NewOrgDraft:
    """The typed (already checked) name given: on to the preview."""
    return dataclasses.replace(draft, name=name, step="confirm")


@dataclasses.dataclass(frozen=True)
class HolderDraft(Draft):
    """设置管理员 / 党建指导员 pressed: waiting for the typed @username or id (one question)."""

    FLOW: ClassVar[str] = "org_holder"
    VERSION: ClassVar[int] = 1

    org_id: int = 0
    org_name: str = ""
    role: Role = Role.COMMITTEE_ADMIN


def ask_holder(org_id: int, org_name: str, role: Role) -> HolderDraft:
    """Waiting for who gets this office in this organization."""
    return HolderDraft(step="handle", org_id=org_id, org_name=org_name, role=role)


@dataclasses.dataclass(frozen=True)
class OrgFindDraft(Draft):
    """按名称查找 pressed on a long list of /org: the typed part of a name narrows the
    children of `org_id` (0: one's top organizations)."""

    FLOW: ClassVar[str] = "org_find"
    VERSION: ClassVar[int] = 1

    org_id: int = 0
    offset: int = 0
    find: str = ""


FIND_STEPS: Steps[OrgFindDraft] = {"find": paging("offset", "find")}


@dataclasses.dataclass(frozen=True)
class SecretaryFindDraft(Draft):
    """设置书记 open on a branch: its roster paged, and a typed part of a name narrows it."""

    FLOW: ClassVar[str] = "org_secretary"
    VERSION: ClassVar[int] = 1

    org_id: int = 0
    offset: int = 0
    find: str = ""


SECRETARY_STEPS: Steps[SecretaryFindDraft] = {"find": paging("offset", "find")}
