"""A long list to choose from, paged and narrowed by a typed part of a name.

Every chooser of branches, committees, members, meetings or notices works the same way: a
page of names with 上一页 / 下一页, and whatever the person types narrows the list to the
names containing it. Wizards keep the page and the typed part in their draft; these are the
transitions they share (the field names are the draft's own).
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Generic, TypeVar

from domain.validation import clean_text
from domain.wizard import Draft, Event, Refusal, Transition

FIND_MAX = 30  # characters of a typed part kept
PAGE = 8  # names on one page

D = TypeVar("D", bound=Draft)
T = TypeVar("T")


def find_text(text: str) -> str | Refusal:
    """A typed part of a name, tidied and cut; refused when nothing is left."""
    part = clean_text(text)[:FIND_MAX]
    return part if part else Refusal("picker.find_empty")


def folded(text: str) -> str:
    """A name as compared: full-width letters and digits as ordinary ones, any case."""
    return unicodedata.normalize("NFKC", text).casefold()


def matches(name: str, part: str) -> bool:
    """Whether `name` contains the typed `part` (no part: everything matches)."""
    return not part or folded(part) in folded(name)


def page_start(offset: int, total: int, size: int = PAGE) -> int:
    """The first item of the page holding `offset`, inside the list (the last page when past
    its end, so a list that shrank still shows something)."""
    if total <= 0:
        return 0
    offset = max(0, min(offset, total - 1))
    return offset - offset % size


@dataclasses.dataclass(frozen=True)
class Slice(Generic[T]):
    """One page of a (maybe narrowed) list: its items, where it starts, how many in all."""

    items: tuple[T, ...]
    offset: int
    total: int
    part: str = ""


def narrow(
    items: Sequence[T], name: Callable[[T], str], offset: int, part: str, size: int = PAGE
) -> Slice[T]:
    """The page at `offset` of the items whose name contains `part`."""
    kept = [i for i in items if matches(name(i), part)]
    start = page_start(offset, len(kept), size)
    return Slice(tuple(kept[start : start + size]), start, len(kept), part)


def paging(offset_field: str, find_field: str) -> dict[str, Transition[D]]:
    """The picker's own events on a wizard step: "page" (another page), "text" (a typed part
    narrows the list, back to its first page) and "nof" (show everything again)."""

    def page(draft: D, event: Event, now: datetime) -> D | Refusal:
        return dataclasses.replace(draft, **{offset_field: max(0, event.value)})  # type: ignore[arg-type]

    def find(draft: D, event: Event, now: datetime) -> D | Refusal:
        part = find_text(event.text or "")
        if isinstance(part, Refusal):
            return part
        return dataclasses.replace(draft, **{offset_field: 0, find_field: part})  # type: ignore[arg-type]

    def everything(draft: D, event: Event, now: datetime) -> D | Refusal:
        return dataclasses.replace(draft, **{offset_field: 0, find_field: ""})  # type: ignore[arg-type]

    return {"page": page, "text": find, "nof": everything}


@dataclasses.dataclass(frozen=True)
class FindDraft(Draft):
    """A chooser open between presses: which list (its step; `key` is what it carries on,
    such as a branch or a month), the page, and a typed part of a name."""

    key: int = 0
    offset: int = 0
    find: str = ""
