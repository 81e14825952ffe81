"""Meetings: who is expected, answers, sign-in kinds and the quorum of a general meeting."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from domain.compliance import MeetingType
from domain.orgs import VOTING_STAGES, Stage

# Rules:
# - A meeting is for the whole branch, its committee, or one party group; the audience
#   is fixed when it is published (members who join later are not "expected").
# - Each expected member answers 参加 or 请假 (with a reason); the latest answer counts.
# - Sign-in is by the member (self), for them by the recorder (代签, during the meeting)
#   or afterwards (补签); each member is signed in at most once.
# - A general meeting (支部党员大会) needs more than half of the FULL members present:
#   probationary members attend but neither vote nor count toward the quorum.


class Audience(StrEnum):
    """Who a meeting is for."""

    BRANCH = "branch"  # the whole branch
    COMMITTEE = "committee"  # the branch committee (office holders)
    PARTY_GROUP = "party_group"  # one party group


class Status(StrEnum):
    """Where a meeting stands."""

    SCHEDULED = "scheduled"
    OPEN = "open"  # sign-in is open
    CLOSED = "closed"
    CANCELLED = "cancelled"


class Answer(StrEnum):
    """A member's reply to a meeting notice."""

    ATTEND = "attend"
    LEAVE = "leave"


class SignedBy(StrEnum):
    """How a member came to be signed in."""

    SELF = "self"
    PROXY = "proxy"  # 代签: by the recorder, during the meeting
    LATE = "late"  # 补签: by the recorder, after the fact


class Detail(StrEnum):
    """A detail of a published meeting the organizer may change."""

    WHEN = "when"
    PLACE = "place"
    TOPIC = "topic"
    AGENDA = "agenda"
    HOST = "host"
    RECORDER = "recorder"
    LECTURER = "lecturer"


PERSON_DETAILS = frozenset({Detail.HOST, Detail.RECORDER, Detail.LECTURER})

# Types that only a party group holds, and the one whose quorum the bot computes.
GROUP_ONLY_TYPES = frozenset({MeetingType.GROUP_MEETING})
QUORUM_TYPES = frozenset({MeetingType.GENERAL_MEETING})
LESSON_TYPES = frozenset({MeetingType.PARTY_LESSON})

REASON_MAX = 200
PLACE_MAX = 200
TOPIC_MAX = 100
AGENDA_MAX = 1000
NOTE_MAX = 200


@dataclass(frozen=True)
class Quorum:
    """应到 / 实到 over full members, and whether more than half are present."""

    expected: int
    present: int

    @property
    def reached(self) -> bool:
        """More than half (strictly) of the full members are present."""
        return self.expected > 0 and self.present * 2 > self.expected


def quorum(stages_expected: Iterable[Stage], stages_present: Iterable[Stage]) -> Quorum:
    """The quorum counting full members only (probationary members cannot vote)."""
    expected = sum(1 for s in stages_expected if s in VOTING_STAGES)
    present = sum(1 for s in stages_present if s in VOTING_STAGES)
    return Quorum(expected, present)


def needs_quorum(types: Iterable[MeetingType]) -> bool:
    """Whether any of the meeting's types is one whose decisions need a quorum."""
    return any(t in QUORUM_TYPES for t in types)


def ordered_types(types: Iterable[MeetingType]) -> list[MeetingType]:
    """The meeting's types in the canonical order, without repeats."""
    chosen = set(types)
    return [t for t in MeetingType if t in chosen]


@dataclass(frozen=True)
class Counts:
    """The live counter of a meeting notice: 参加 · 请假 · 未回复."""

    attend: int
    leave: int
    expected: int

    @property
    def silent(self) -> int:
        """Expected members who have not answered (never negative)."""
        return max(0, self.expected - self.attend - self.leave)


@dataclass(frozen=True)
class Summary:
    """The attendance figures posted when a meeting closes: 应到 / 实到 / 请假 / 缺席."""

    expected: int
    present: int
    leave: int
    absent: int
    quorum: Quorum | None  # only for types whose decisions need a quorum


def summarize(
    expected: Iterable[tuple[int, Stage]],
    present: Iterable[int],
    on_leave: Iterable[int],
    types: Iterable[MeetingType],
) -> Summary:
    """Figures over the expected members: who signed in, who asked for leave, who is absent.

    Someone who asked for leave but signed in after all counts as present; 实到 also counts
    people signed in who are no longer expected (they were there).
    """
    roster = dict(expected)
    here = set(present)
    away = {m for m in on_leave if m in roster and m not in here}
    absent = sum(1 for m in roster if m not in here and m not in away)
    result_quorum = None
    if needs_quorum(types):
        result_quorum = quorum(roster.values(), (s for m, s in roster.items() if m in here))
    return Summary(
        expected=len(roster),
        present=len(here),
        leave=len(away),
        absent=absent,
        quorum=result_quorum,
    )


def may_cancel(status: Status) -> bool:
    """A meeting can be called off until it has closed."""
    return status in (Status.SCHEDULED, Status.OPEN)


def may_edit(status: Status) -> bool:
    """Details can change until the meeting has closed or was called off."""
    return status in (Status.SCHEDULED, Status.OPEN)


def may_record(status: Status) -> bool:
    """Minutes are written once sign-in has opened, and kept up after closing."""
    return status in (Status.OPEN, Status.CLOSED)
