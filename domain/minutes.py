"""Minutes (会议记录): which fields each meeting type asks for, and what a field may hold."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from domain.compliance import MeetingType
from domain.validation import Invalid

# Rules:
# - Each meeting type asks for its own fields; a meeting held as several types (a theme
#   day that is also the general meeting) asks the union, each field once, in FIELD_ORDER.
# - Every type field is required; 备注 (remarks) is offered to all and optional.
# - Attendance is not a field: it comes from sign-in (签到 / 代签 / 补签) and leave requests.
# - Texts keep their line breaks; lengths count UTF-16 units as Telegram does, so a field
#   always fits a message. Control and invisible formatting characters are dropped.
# - Up to PHOTOS_MAX photos (Telegram file ids) go with the minutes.


class Field(StrEnum):
    """One entry of the minutes form."""

    TOPICS = "topics"  # 议题
    DISCUSSION = "discussion"  # 讨论情况
    RESOLUTIONS = "resolutions"  # 决议事项及表决结果
    DECISIONS = "decisions"  # 决定事项
    CONTENT = "content"  # 会议内容 (party group)
    SPEECHES = "speeches"  # 发言情况
    LECTURER = "lecturer"  # 授课人
    THEME = "theme"  # 党课主题
    SUMMARY = "summary"  # 内容摘要
    ACTIVITY = "activity"  # 活动内容
    REFLECTIONS = "reflections"  # 收获体会
    SELF_REVIEW = "self_review"  # 对照检查、批评与自我批评
    RECTIFICATION = "rectification"  # 整改措施
    EVALUATION = "evaluation"  # 评议情况
    EVALUATION_RESULT = "evaluation_result"  # 评议结果
    TALKS = "talks"  # 谈话情况
    REMARKS = "remarks"  # 备注 (optional)


# The order fields are asked and shown in: the enum's own order.
FIELD_ORDER: Final[tuple[Field, ...]] = tuple(Field)

LONG_MAX: Final = 2000  # a narrative field; with its label it fits one Telegram message
SHORT_MAX: Final = 100
NAME_MAX: Final = 30
PHOTOS_MAX: Final = 9
FILE_ID_MAX: Final = 256

LIMITS: Final[Mapping[Field, int]] = MappingProxyType(
    {f: LONG_MAX for f in Field} | {Field.LECTURER: NAME_MAX, Field.THEME: SHORT_MAX}
)

FIELDS_BY_TYPE: Final[Mapping[MeetingType, tuple[Field, ...]]] = MappingProxyType(
    {
        MeetingType.GENERAL_MEETING: (Field.TOPICS, Field.DISCUSSION, Field.RESOLUTIONS),
        MeetingType.COMMITTEE_MEETING: (Field.TOPICS, Field.DECISIONS),
        MeetingType.GROUP_MEETING: (Field.CONTENT, Field.SPEECHES),
        MeetingType.PARTY_LESSON: (Field.LECTURER, Field.THEME, Field.SUMMARY),
        MeetingType.THEME_DAY: (Field.ACTIVITY, Field.REFLECTIONS),
        MeetingType.LIFE_MEETING: (Field.SELF_REVIEW, Field.RECTIFICATION),
        MeetingType.DEMOCRATIC_EVALUATION: (Field.EVALUATION, Field.EVALUATION_RESULT),
        MeetingType.HEART_TALK: (Field.TALKS,),
    }
)


@dataclass(frozen=True)
class FieldSpec:
    """A field as the form asks it: how long it may be and whether it may stay empty."""

    field: Field
    limit: int
    required: bool


def form_for(types: Iterable[MeetingType]) -> tuple[FieldSpec, ...]:
    """The fields a meeting of these types asks for, each once, in FIELD_ORDER; 备注 last."""
    wanted = {f for t in types for f in FIELDS_BY_TYPE[t]}
    return tuple(
        FieldSpec(f, LIMITS[f], required=f is not Field.REMARKS)
        for f in FIELD_ORDER
        if f in wanted or f is Field.REMARKS
    )


def text_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji may count 2)."""
    return len(text.encode("utf-16-le")) // 2


_LINE_BREAKS = re.compile(r"\r\n|[\r\u2028\u2029\x85\v\f]")
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_RUNS = re.compile(r"\n{3,}")


def clean_minutes_text(text: str) -> str:
    """NFC text with its line breaks kept: control and invisible format characters dropped,
    runs of spaces collapsed, lines trimmed, at most one blank line in a row."""
    text = _LINE_BREAKS.sub("\n", text).replace("\t", " ")
    # Drop control, format (zero-width, bidi overrides), surrogate and unassigned
    # characters before normalizing: a stray U+200D blocks composition.
    text = "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch)[0] != "C")
    text = unicodedata.normalize("NFC", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()


def parse_field(spec: FieldSpec, text: str) -> str | Invalid:
    """A typed field value, cleaned; "text.empty" or "text.too_long" when refused."""
    value = clean_minutes_text(text)
    if spec.field is Field.LECTURER:
        value = " ".join(value.split())  # a name is one line
    if not value:
        return Invalid("text.empty")
    if text_length(value) > spec.limit:
        return Invalid("text.too_long")
    return value


@dataclass(frozen=True)
class Problems:
    """What keeps a set of answers from being saved."""

    missing: tuple[Field, ...] = ()  # required and empty
    invalid: tuple[Field, ...] = ()  # too long
    too_many_photos: bool = False

    def __bool__(self) -> bool:
        return bool(self.missing or self.invalid or self.too_many_photos)


def check_minutes(
    form: Iterable[FieldSpec], values: Mapping[str, str], photos: Iterable[str]
) -> tuple[dict[str, str], Problems]:
    """The cleaned values of the form's fields (empty optional ones and keys of no field of
    this form left out) and the problems that keep them from being saved."""
    specs = {s.field.value: s for s in form}
    cleaned: dict[str, str] = {}
    missing: list[Field] = []
    invalid: list[Field] = []
    for key, spec in specs.items():
        raw = values.get(key)
        parsed = parse_field(spec, raw) if isinstance(raw, str) else Invalid("text.empty")
        if isinstance(parsed, Invalid):
            if parsed.code == "text.too_long":
                invalid.append(spec.field)
            elif spec.required:
                missing.append(spec.field)
            continue
        cleaned[key] = parsed
    pictures = list(photos)
    bad_photos = len(pictures) > PHOTOS_MAX or any(not p or len(p) > FILE_ID_MAX for p in pictures)
    return cleaned, Problems(tuple(missing), tuple(invalid), bad_photos)
