"""Pure meeting rules: the full-member quorum, counts and type order."""

from __future__ import annotations

from domain.compliance import MeetingType
from domain.meetings import Counts, needs_quorum, ordered_types, quorum
from domain.orgs import Stage

F, P = Stage.FULL, Stage.PROBATIONARY


def test_quorum_counts_full_members_only() -> None:
    result = quorum([F, F, F, F, P, P, P], [F, F, P, P, P])
    assert (result.expected, result.present) == (4, 2)
    assert not result.reached  # exactly half is not more than half


def test_quorum_needs_strictly_more_than_half() -> None:
    assert quorum([F, F, F], [F, F]).reached
    assert not quorum([F, F], [F]).reached
    assert not quorum([P, P], [P, P]).reached  # no full members: no quorum


def test_only_general_meetings_need_a_quorum() -> None:
    assert needs_quorum([MeetingType.THEME_DAY, MeetingType.GENERAL_MEETING])
    assert not needs_quorum([MeetingType.PARTY_LESSON, MeetingType.COMMITTEE_MEETING])


def test_silent_members_are_never_negative() -> None:
    assert Counts(attend=3, leave=1, expected=10).silent == 6
    assert Counts(attend=3, leave=1, expected=2).silent == 0


def test_types_come_in_canonical_order_without_repeats() -> None:
    chosen = [MeetingType.PARTY_LESSON, MeetingType.GENERAL_MEETING, MeetingType.PARTY_LESSON]
    assert ordered_types(chosen) == [MeetingType.GENERAL_MEETING, MeetingType.PARTY_LESSON]
