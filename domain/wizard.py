"""Wizards as data: a frozen, typed draft, and its steps declared as a table of transitions.

A wizard (the /notice composer, the /meeting planner, a meeting edit) is
- a frozen dataclass deriving from `Draft`: what was answered so far and the `step` the
  person is on, with `FLOW` (its name) and `VERSION` (bumped when its fields change, so a
  draft saved by an older release is discarded politely instead of misread);
- a table `Steps`: for each step, the actions it accepts, each a pure function
  `(draft, event, now) -> draft | Refusal`. The table is the step graph, the way
  python-telegram-bot's ConversationHandler declares `states`, but the draft itself lives in
  the database (services.drafts), so it survives restarts.

`apply(steps, draft, event, now)` is the only way a draft changes. An action the current
step does not list is refused as "stale" (an old button pressed after the wizard moved on).
Handlers turn a press or a typed text into an `Event`, apply it, save the result and render
the new step; the rules stay here, testable without Telegram or a database.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import types
import typing
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, ClassVar, TypeVar, Union, cast


@dataclasses.dataclass(frozen=True)
class Draft:
    """Base of every typed draft: the step the person is on."""

    FLOW: ClassVar[str]
    VERSION: ClassVar[int]

    step: str


@dataclasses.dataclass(frozen=True)
class Event:
    """What the person did: pressed an action (with a small value) or typed a text."""

    action: str
    value: int = 0
    text: str | None = None


@dataclasses.dataclass(frozen=True)
class Refusal:
    """Why an event does not apply; `code` is a refusal code of ui.errors."""

    code: str
    params: Mapping[str, object] = dataclasses.field(default_factory=dict)


D = TypeVar("D", bound=Draft)
T = TypeVar("T")
Transition = Callable[[D, Event, datetime], D | Refusal]
Steps = Mapping[str, Mapping[str, Transition[D]]]

STALE = Refusal("stale")


def apply(steps: Steps[D], draft: D, event: Event, now: datetime) -> D | Refusal:
    """The draft after `event`, or why not (an action the current step does not accept: stale)."""
    transition = steps.get(draft.step, {}).get(event.action)
    if transition is None:
        return STALE
    return transition(draft, event, now)


def accepts(steps: Steps[D], step: str) -> frozenset[str]:
    """The actions a step accepts (for tests and for building its keyboard)."""
    return frozenset(steps.get(step, {}))


# ---- keeping a draft in the database (JSON) ----


class DraftFormatError(ValueError):
    """Stored data that is not a draft of this flow and version (saved by another release)."""


def dump(draft: Draft) -> dict[str, Any]:
    """The draft as JSON-ready data, with its version."""
    data = {f.name: _dump(getattr(draft, f.name)) for f in dataclasses.fields(draft)}
    data["_v"] = type(draft).VERSION
    return data


def load(cls: type[D], data: Mapping[str, Any]) -> D:
    """A draft of `cls` from stored data; DraftFormatError when it is of another version."""
    if data.get("_v") != cls.VERSION:
        raise DraftFormatError(f"{cls.FLOW}: version {data.get('_v')!r}, expected {cls.VERSION}")
    hints = _hints(cast(type, cls))
    values: dict[str, Any] = {}
    try:
        for f in dataclasses.fields(cls):
            if f.name in data:
                values[f.name] = _load(hints[f.name], data[f.name])
        return cls(**values)
    except (TypeError, ValueError, KeyError) as exc:
        raise DraftFormatError(f"{cls.FLOW}: {exc}") from exc


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    """A dataclass's resolved field types, worked out once per class (resolving them for every
    nested item made a 5,000-line draft take over a second to read)."""
    return typing.get_type_hints(cls)


def _dump(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("draft times must be aware")
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (tuple, list, frozenset)):
        return [_dump(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _dump(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"cannot keep {type(value).__name__} in a draft")


def _load(hint: Any, raw: Any) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (Union, types.UnionType):
        if raw is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        if len(options) != 1:
            raise TypeError(f"ambiguous union {hint}")
        return _load(options[0], raw)
    if origin is tuple:
        if not isinstance(raw, list):
            raise TypeError("expected a list")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_load(args[0], v) for v in raw)
        return tuple(_load(a, v) for a, v in zip(args, raw, strict=True))
    if origin is frozenset:
        if not isinstance(raw, list):
            raise TypeError("expected a list")
        return frozenset(_load(args[0], v) for v in raw)
    if isinstance(hint, type):
        if issubclass(hint, enum.Enum):
            return hint(raw)
        if hint is datetime:
            value = datetime.fromisoformat(raw)
            if value.tzinfo is None:
                raise ValueError("draft times must be aware")
            return value
        if hint is date:
            return date.fromisoformat(raw)
        if dataclasses.is_dataclass(hint):
            inner = _hints(hint)
            return hint(**{k: _load(inner[k], v) for k, v in raw.items()})
        if hint is float and isinstance(raw, int) and not isinstance(raw, bool):
            return float(raw)
        if hint in (bool, int, float, str):
            if not isinstance(raw, hint) or (hint is int and isinstance(raw, bool)):
                raise TypeError(f"expected {hint.__name__}, got {type(raw).__name__}")
            return raw
    if hint is Any:
        return raw
    raise TypeError(f"cannot load {hint} from a draft")


def to_data(value: Any) -> dict[str, Any]:
    """A frozen dataclass (a view kept in an outbox row, say) as JSON-ready data."""
    if not dataclasses.is_dataclass(value) or isinstance(value, type):
        raise TypeError("to_data takes a dataclass instance")
    data: dict[str, Any] = _dump(value)
    return data


def from_data(cls: type[T], data: Mapping[str, Any]) -> T:
    """The dataclass `to_data` made; DraftFormatError when the data does not fit."""
    try:
        value: T = _load(cls, dict(data))
    except (TypeError, ValueError, KeyError) as exc:
        raise DraftFormatError(f"{cls.__name__}: {exc}") from exc
    return value
