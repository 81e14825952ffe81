"""The callback-data codec: compact, bounded, and suspicious of what comes back."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ui.callbacks import CallbackData, CallbackDataError, SetLanguage


@dataclasses.dataclass(frozen=True)
class Rsvp(CallbackData):
    prefix: ClassVar[str] = "rsvp"
    meeting_id: int
    answer: str


def test_pack_and_unpack_round_trip() -> None:
    data = Rsvp(meeting_id=42, answer="y").pack()
    assert data == "rsvp:42:y"
    assert Rsvp.unpack(data) == Rsvp(meeting_id=42, answer="y")
    assert SetLanguage.unpack("lang:en") == SetLanguage(locale="en")


@pytest.mark.parametrize(
    "forged",
    [
        None,
        "",
        "rsvp",
        "rsvp:42",
        "rsvp:x:y",
        "rsvp:42:y:z",
        "lang:en",
        "rsvp:42:<b>",
        "rsvp:1e3:y",
    ],
)
def test_malformed_data_unpacks_to_none(forged: str | None) -> None:
    assert Rsvp.unpack(forged) is None


def test_pack_refuses_free_text_and_overlong_payloads() -> None:
    with pytest.raises(CallbackDataError):
        Rsvp(meeting_id=1, answer="王芳").pack()
    with pytest.raises(CallbackDataError):
        Rsvp(meeting_id=1, answer="a" * 60).pack()


@given(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.from_regex(r"[a-z0-9_-]{0,20}", fullmatch=True),
)
def test_any_valid_payload_fits_64_bytes_and_round_trips(meeting_id: int, answer: str) -> None:
    data = Rsvp(meeting_id=meeting_id, answer=answer).pack()
    assert len(data.encode()) <= 64
    assert Rsvp.unpack(data) == Rsvp(meeting_id=meeting_id, answer=answer)


@given(st.text(max_size=80))
def test_unpack_never_raises_on_arbitrary_text(data: str) -> None:
    Rsvp.unpack(data)
    SetLanguage.unpack(data)
