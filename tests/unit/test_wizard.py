"""Typed drafts: transitions by table, and the JSON they are kept as."""

from __future__ import annotations

import dataclasses
import enum
from datetime import UTC, date, datetime
from typing import ClassVar

import pytest

from domain.wizard import (
    STALE,
    Draft,
    DraftFormatError,
    Event,
    Refusal,
    Steps,
    accepts,
    apply,
    dump,
    load,
)

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


class Colour(enum.Enum):
    RED = "r"
    BLUE = "b"


@dataclasses.dataclass(frozen=True)
class Pair:
    a: int
    b: str


@dataclasses.dataclass(frozen=True)
class Sample(Draft):
    FLOW: ClassVar[str] = "sample"
    VERSION: ClassVar[int] = 2

    title: str = ""
    ids: tuple[int, ...] = ()
    colour: Colour | None = None
    when: datetime | None = None
    day: date | None = None
    pair: Pair | None = None
    pin: bool = False


def _title(d: Sample, e: Event, now: datetime) -> Sample | Refusal:
    if not e.text:
        return Refusal("input.text_empty")
    return dataclasses.replace(d, title=e.text, step="ids")


def _add(d: Sample, e: Event, now: datetime) -> Sample | Refusal:
    return dataclasses.replace(d, ids=(*d.ids, e.value))


STEPS: Steps[Sample] = {"title": {"text": _title}, "ids": {"add": _add}}


def test_a_step_applies_only_the_actions_it_lists() -> None:
    draft = Sample(step="title")
    assert apply(STEPS, draft, Event("add", 3), NOW) is STALE
    moved = apply(STEPS, draft, Event("text", text="学习"), NOW)
    assert moved == Sample(step="ids", title="学习")
    assert isinstance(moved, Sample)
    assert apply(STEPS, moved, Event("add", 3), NOW) == Sample(step="ids", title="学习", ids=(3,))
    assert accepts(STEPS, "ids") == {"add"}


def test_a_refusal_leaves_the_draft_as_it_was() -> None:
    assert apply(STEPS, Sample(step="title"), Event("text", text=""), NOW) == Refusal(
        "input.text_empty"
    )


def test_a_draft_survives_its_json_round_trip() -> None:
    draft = Sample(
        step="ids", title="主题党日", ids=(1, 2), colour=Colour.BLUE, when=NOW,
        day=date(2026, 12, 31), pair=Pair(1, "x"), pin=True,
    )  # fmt: skip
    data = dump(draft)
    assert data["_v"] == 2
    assert load(Sample, data) == draft


def test_a_draft_of_another_version_or_shape_is_refused() -> None:
    data = dump(Sample(step="title"))
    with pytest.raises(DraftFormatError):
        load(Sample, {**data, "_v": 1})
    with pytest.raises(DraftFormatError):
        load(Sample, {**data, "ids": "1,2"})
    with pytest.raises(DraftFormatError):
        load(Sample, {**data, "colour": "green"})


def test_naive_times_are_not_kept() -> None:
    with pytest.raises(ValueError, match="aware"):
        dump(Sample(step="t", when=datetime(2026, 1, 1)))
