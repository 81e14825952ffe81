"""The /forms choosers as data: the list of forms (newest first) and a cycle's branches (furthest
behind first), each paged, and part of a name typed while one is open narrows it
(domain.pickers); the draft keeps the page and the typed part."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from domain.pickers import paging
from domain.wizard import Draft, Steps


@dataclasses.dataclass(frozen=True)
class FormsFindDraft(Draft):
    """The /forms list open: its page, and a typed part of a title narrowing it."""

    FLOW: ClassVar[str] = "forms_find"
    VERSION: ClassVar[int] = 1

    offset: int = 0  # the page
    find: str = ""


FIND_STEPS: Steps[FormsFindDraft] = {"find": paging("offset", "find")}


@dataclasses.dataclass(frozen=True)
class ResultsFindDraft(Draft):
    """A cycle's results open: the page of its branches, and a typed part of a branch's name
    narrowing them."""

    FLOW: ClassVar[str] = "forms_results_find"
    VERSION: ClassVar[int] = 1

    cycle_id: int = 0
    offset: int = 0  # the page
    find: str = ""


RESULTS_STEPS: Steps[ResultsFindDraft] = {"find": paging("offset", "find")}
