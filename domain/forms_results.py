"""The /forms list as data: paged (newest first), and part of a title typed while it is open
narrows it (domain.pickers); the draft keeps the page and the typed part."""

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
