"""Meetings: schedule and publish with 参加/请假, answers, live counts, sign-in and quorum."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from domain.compliance import MeetingType
from domain.meetings import (
    AGENDA_MAX,
    GROUP_ONLY_TYPES,
    NOTE_MAX,
    PERSON_DETAILS,
    PLACE_MAX,
    REASON_MAX,
    TOPIC_MAX,
    Answer,
    Audience,
    Counts,
    Detail,
    Quorum,
    SignedBy,
    Status,
    Summary,
    may_cancel,
    may_edit,
    needs_quorum,
    ordered_types,
    quorum,
    summarize,
)
from domain.meetings_wizard import MeetingDraft, MeetingEdit
from domain.orgs import Permission, Role, Stage
from domain.orgs import Status as MemberStatus
from domain.validation import Invalid, parse_short_text
from domain.wizard import from_data, to_data
from services import audit
from services.authz import Actor, active_role_filter, held_by, orgs_with, permissions
from services.drafts import take_draft
from services.errors import Denied, NotFound, ServiceError
from services.orgs import OrgView, load_org, org_view
from services.outbox import new_item
from storage.db import Database
from storage.models import (
    AuditEntry,
    ChatBinding,
    Meeting,
    MeetingAttendance,
    MeetingMinutes,
    MeetingRsvp,
    Member,
    Organization,
    OutboxItem,
    PartyGroup,
    RoleAssignment,
    User,
)

# Offices that make up the branch committee (支委会).
COMMITTEE_ROLES = (Role.SECRETARY, Role.DEPUTY, Role.ORGANIZATION, Role.PROPAGANDA, Role.DISCIPLINE)


@dataclass(frozen=True)
class PersonRef:
    """A roster entry as pickers and renderers show it."""

    id: int
    name: str


@dataclass(frozen=True)
class MeetingSpec:
    """Everything the organizer chose in the /meeting wizard."""

    org_id: int
    types: tuple[MeetingType, ...]
    starts_at: datetime
    place: str
    topic: str
    audience: Audience
    party_group_id: int | None = None
    agenda: str | None = None
    host_id: int | None = None
    recorder_id: int | None = None
    lecturer_id: int | None = None


@dataclass(frozen=True)
class MeetingView:
    """A meeting as renderers need it (names resolved)."""

    id: int
    org_id: int
    org_name: str
    party_group_id: int | None
    party_group_name: str | None
    types: tuple[MeetingType, ...]
    starts_at: datetime
    place: str
    topic: str
    agenda: str | None
    host: PersonRef | None
    recorder: PersonRef | None
    lecturer: PersonRef | None
    audience: Audience
    status: Status
    version: int
    cancel_reason: str | None = None  # as the organizer gave it when calling the meeting off


# The meeting's messages in the group ("cards") are queued as intent, not text: an outbox
# row of CARD (or CARD_EDIT, to show the current state in a posted card) carries the meeting
# id and which card, and the outbox worker renders it when it sends, from `card_state`.
CARD = "meeting_card"
CARD_EDIT = "meeting_redraw"  # outbox purposes are at most 16 characters


class Card(StrEnum):
    """The meeting's messages in the group."""

    NOTICE = "notice"  # details, live counts, 参加 / 请假
    SIGNIN = "signin"  # 签到, while sign-in is open


@dataclass(frozen=True)
class CardState:
    """What a card shows when it is sent: the meeting as it stands and its counts."""

    meeting: MeetingView
    counts: Counts


@dataclass(frozen=True)
class Planning:
    """What an organizer may choose from for one branch."""

    org: OrgView
    whole_branch: bool  # False: a group leader, limited to their groups
    party_groups: tuple[PersonRef, ...]  # id/name of the groups they may address
    roster: tuple[PersonRef, ...]
    has_group: bool  # the branch has a bound main group to post in


@dataclass(frozen=True)
class Mention:
    """Someone to name in a group message; a link when they have a Telegram account."""

    user_id: int | None
    name: str


# What the group and the people who answered are told of a change or a closing is queued as
# intent too, and worded when sent (scheduler.meetings): a NOTE to each person who started
# the bot, in their language; a GROUP_NOTE naming those it cannot write to; the SUMMARY of
# attendance when a meeting closes. A note's row keeps the meeting before and after the
# change (a later change must not rewrite what this one said).
NOTE = "meeting_note"
GROUP_NOTE = "meeting_gnote"
SUMMARY = "meeting_summary"


@dataclass(frozen=True)
class Change:
    """What a note about a change is about: the meeting before and after it, and for whom."""

    before: MeetingView
    after: MeetingView
    locale: str | None = None  # a private note: the reader's chosen language, if any
    language_code: str | None = None  # … else their Telegram language
    mentions: tuple[Mention, ...] = ()  # a group note: who is named
    on_leave: bool = False  # a private note to someone on leave: no "点请假" hint


def change_of(payload: Mapping[str, Any]) -> Change:
    """The change a NOTE or GROUP_NOTE row carries."""
    return from_data(Change, payload["change"])


@dataclass(frozen=True)
class RsvpResult:
    """What an answer press did: ok / already / outside / closed / cancelled."""

    status: str
    started: bool = False  # the presser started the bot: a private question is possible


@dataclass(frozen=True)
class SignResult:
    """What a sign-in did: ok / already / outside / not_open / closed / cancelled."""

    status: str
    member_name: str = ""


@dataclass(frozen=True)
class Attendance:
    """Who was expected and who signed in, with the quorum where it matters."""

    meeting: MeetingView
    expected: tuple[PersonRef, ...]
    present: tuple[tuple[PersonRef, SignedBy, str | None], ...]
    on_leave: tuple[tuple[PersonRef, str | None], ...]
    quorum: Quorum | None  # general meetings only: full members
    absent: tuple[PersonRef, ...] = ()  # expected, neither signed in nor on leave
    summary: Summary | None = None


@dataclass(frozen=True)
class Changed:
    """What an edit or a cancellation did: the meeting before and after, who was told."""

    before: MeetingView
    after: MeetingView
    changed: bool
    private: int = 0  # private notes queued
    mentioned: int = 0  # people named in the group instead


@dataclass(frozen=True)
class Closing:
    """A closed meeting with its attendance; `posted`: the summary went to the group."""

    report: Attendance
    posted: bool
    just_closed: bool


@dataclass(frozen=True)
class Overview:
    """The manage screen of one meeting: state, counts, and what the viewer may do."""

    meeting: MeetingView
    counts: Counts
    signed: int
    has_minutes: bool
    organizer: bool  # may edit, cancel and open sign-in
    writer: bool  # may write the minutes


@dataclass(frozen=True)
class MeetingItem:
    """A meeting in a list."""

    id: int
    org_name: str
    types: tuple[MeetingType, ...]
    topic: str
    starts_at: datetime
    status: Status


@dataclass(frozen=True)
class MeetingPage:
    """One page of a list of meetings."""

    items: tuple[MeetingItem, ...]
    total: int
    offset: int


@dataclass(frozen=True)
class MyMeeting:
    """A member's own upcoming meeting with their answer."""

    item: MeetingItem
    answer: Answer | None
    reason: str | None
    place: str


# ---- reading ----


async def _names(session: AsyncSession, ids: Sequence[int | None]) -> dict[int, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    rows = await session.execute(select(Member.id, Member.name).where(Member.id.in_(wanted)))
    return {member_id: name for member_id, name in rows.all()}


async def _cancel_reason(session: AsyncSession, row: Meeting) -> str | None:
    """The reason given when the meeting was called off (kept in the audit trail)."""
    after = await session.scalar(
        select(AuditEntry.after)
        .where(
            AuditEntry.target_type == "meeting",
            AuditEntry.target_id == str(row.id),
            AuditEntry.action == "meeting.cancel",
        )
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    reason = after.get("reason") if isinstance(after, dict) else None
    return reason if isinstance(reason, str) and reason else None


async def _view(session: AsyncSession, row: Meeting) -> MeetingView:
    # Not load_org: the meetings of a branch archived since must still render.
    org = await session.get(Organization, row.org_id)
    names = await _names(session, [row.host_id, row.recorder_id, row.lecturer_id])
    group = await session.get(PartyGroup, row.party_group_id) if row.party_group_id else None

    def ref(member_id: int | None) -> PersonRef | None:
        return PersonRef(member_id, names.get(member_id, "?")) if member_id else None

    return MeetingView(
        id=row.id,
        org_id=row.org_id,
        org_name=org.name if org is not None else "?",
        party_group_id=row.party_group_id,
        party_group_name=group.name if group else None,
        types=tuple(ordered_types(MeetingType(t) for t in row.types)),
        starts_at=row.starts_at,
        place=row.place,
        topic=row.topic,
        agenda=row.agenda,
        host=ref(row.host_id),
        recorder=ref(row.recorder_id),
        lecturer=ref(row.lecturer_id),
        audience=Audience(row.audience),
        status=Status(row.status),
        version=row.version,
        cancel_reason=(
            await _cancel_reason(session, row) if row.status == Status.CANCELLED else None
        ),
    )


async def _load(session: AsyncSession, meeting_id: int) -> Meeting:
    row = await session.get(Meeting, meeting_id)
    if row is None:
        raise NotFound("meeting.not_found")
    return row


def audience_filter(
    org_id: int, audience: Audience, party_group_id: int | None, today: date
) -> list[ColumnElement[bool]]:
    """Conditions on Member for the people a meeting is for (the live roster)."""
    conditions: list[ColumnElement[bool]] = [
        Member.org_id == org_id,
        Member.status == MemberStatus.ACTIVE,
    ]
    if audience is Audience.PARTY_GROUP:
        conditions.append(Member.party_group_id == party_group_id)
    elif audience is Audience.COMMITTEE:
        committee = select(RoleAssignment.member_id).where(
            RoleAssignment.org_id == org_id,
            RoleAssignment.role.in_([r.value for r in COMMITTEE_ROLES]),
            RoleAssignment.member_id.is_not(None),
            *active_role_filter(today),
        )
        conditions.append(Member.id.in_(committee))
    return conditions


def _meeting_filter(row: Meeting, today: date) -> list[ColumnElement[bool]]:
    return audience_filter(row.org_id, Audience(row.audience), row.party_group_id, today)


async def _counts(session: AsyncSession, row: Meeting, today: date) -> Counts:
    audience = select(Member.id).where(*_meeting_filter(row, today))
    answers = await session.execute(
        select(MeetingRsvp.answer, func.count())
        .where(MeetingRsvp.meeting_id == row.id, MeetingRsvp.member_id.in_(audience))
        .group_by(MeetingRsvp.answer)
    )
    by_answer = {kind: count for kind, count in answers.all()}
    expected = await session.scalar(
        select(func.count()).select_from(Member).where(*_meeting_filter(row, today))
    )
    return Counts(
        attend=int(by_answer.get(Answer.ATTEND.value, 0)),
        leave=int(by_answer.get(Answer.LEAVE.value, 0)),
        expected=int(expected or 0),
    )


async def get_meeting(db: Database, meeting_id: int) -> MeetingView:
    """One meeting with names resolved."""
    async with db.read() as session:
        return await _view(session, await _load(session, meeting_id))


async def meeting_counts(db: Database, meeting_id: int, today: date) -> Counts:
    """参加 · 请假 · 未回复 of a meeting, from the current roster."""
    async with db.read() as session:
        return await _counts(session, await _load(session, meeting_id), today)


# ---- who may organize ----


async def _group_leader_groups(
    session: AsyncSession, actor: Actor, org_id: int, today: date
) -> set[int]:
    rows = await session.scalars(
        select(RoleAssignment.party_group_id)
        .outerjoin(Member, Member.id == RoleAssignment.member_id)
        .where(
            RoleAssignment.org_id == org_id,
            RoleAssignment.role == Role.GROUP_LEADER,
            RoleAssignment.party_group_id.is_not(None),
            held_by(actor.user_id),
            *active_role_filter(today),
        )
    )
    return {g for g in rows.all() if g is not None}


async def _scope(
    session: AsyncSession, actor: Actor, org_id: int, today: date
) -> tuple[bool, set[int]]:
    """(whole branch allowed, party groups allowed); Denied when neither."""
    if Permission.MANAGE_MEETINGS not in await permissions(session, actor, org_id, today):
        raise Denied("auth.manage_meetings")
    leader_of = await _group_leader_groups(session, actor, org_id, today)
    branch_roles = await session.scalar(
        select(func.count())
        .select_from(RoleAssignment)
        .outerjoin(Member, Member.id == RoleAssignment.member_id)
        .where(
            RoleAssignment.org_id == org_id,
            RoleAssignment.role.in_([Role.SECRETARY, Role.DEPUTY, Role.ORGANIZATION]),
            held_by(actor.user_id),
            *active_role_filter(today),
        )
    )
    # Whoever got the permission other than as a group leader (a branch office, a
    # committee admin above, a superadmin) organizes for the whole branch.
    whole = actor.superadmin or bool(branch_roles) or not leader_of
    if whole:
        groups = await session.scalars(select(PartyGroup.id).where(PartyGroup.org_id == org_id))
        return True, set(groups.all())
    return False, leader_of


async def organizer_branches(db: Database, actor: Actor, today: date) -> list[OrgView]:
    """Branches the actor may schedule meetings for, by name."""
    async with db.read() as session:
        ids = await orgs_with(session, actor, Permission.MANAGE_MEETINGS, today)
        # One query, however many branches (a committee may have hundreds).
        rows = await session.scalars(
            select(Organization)
            .where(Organization.id.in_(ids), Organization.archived_at.is_(None))
            .order_by(Organization.name, Organization.id)
        )
        return [org_view(r) for r in rows]


async def planning(db: Database, actor: Actor, org_id: int, today: date) -> Planning:
    """The choices an organizer has for one branch (refused when they have none)."""
    async with db.read() as session:
        org = await load_org(session, org_id)
        whole, groups = await _scope(session, actor, org_id, today)
        group_rows = (
            await session.execute(
                select(PartyGroup.id, PartyGroup.name)
                .where(PartyGroup.id.in_(groups))
                .order_by(PartyGroup.name, PartyGroup.id)
            )
        ).all()
        roster = (
            await session.execute(
                select(Member.id, Member.name)
                .where(Member.org_id == org_id, Member.status == MemberStatus.ACTIVE)
                .order_by(Member.name, Member.id)
            )
        ).all()
        bound = await _main_group(session, org_id)
        return Planning(
            org=org_view(org),
            whole_branch=whole,
            party_groups=tuple(PersonRef(i, n) for i, n in group_rows),
            roster=tuple(PersonRef(i, n) for i, n in roster),
            has_group=bound is not None,
        )


async def _main_group(session: AsyncSession, org_id: int) -> ChatBinding | None:
    return await session.scalar(
        select(ChatBinding).where(
            ChatBinding.org_id == org_id,
            ChatBinding.purpose == "main",
            ChatBinding.active.is_(True),
        )
    )


async def _post_card(
    session: AsyncSession, row: Meeting, card: Card, now: datetime
) -> OutboxItem | None:
    """Queue a meeting card (the notice, the sign-in message) in the branch's main group,
    rendered as the meeting stands when it is sent; None when the branch has no group."""
    binding = await _main_group(session, row.org_id)
    if binding is None:
        return None
    item = new_item(
        purpose=CARD,
        chat_id=binding.chat_id,
        now=now,
        is_group=True,
        thread_id=binding.topic_id,
        payload=_card_payload(row, card),
    )
    session.add(item)
    await session.flush()
    return item


def _card_payload(row: Meeting, card: Card) -> dict[str, object]:
    return {"meeting_id": row.id, "card": card.value, "version": row.version}


async def card_state(db: Database, meeting_id: int, today: date) -> CardState:
    """The meeting and its counts, for rendering one of its cards as it is sent."""
    async with db.read() as session:
        row = await _load(session, meeting_id)
        return CardState(await _view(session, row), await _counts(session, row, today))


# ---- publishing ----


def _text(value: str, limit: int, code: str) -> str:
    cleaned = parse_short_text(value, limit)
    if isinstance(cleaned, Invalid):
        raise ServiceError(f"meeting.{code}_{'empty' if cleaned.code == 'text.empty' else 'long'}")
    return cleaned


async def _check_spec(session: AsyncSession, actor: Actor, spec: MeetingSpec, today: date) -> None:
    whole, groups = await _scope(session, actor, spec.org_id, today)
    if not spec.types:
        raise ServiceError("meeting.no_type")
    if spec.audience is Audience.PARTY_GROUP:
        if spec.party_group_id not in groups:
            raise Denied("auth.manage_meetings")
    elif not whole or spec.party_group_id is not None:
        raise Denied("auth.manage_meetings")
    if any(t in GROUP_ONLY_TYPES for t in spec.types) and spec.audience is not Audience.PARTY_GROUP:
        raise ServiceError("meeting.group_type_needs_group")
    chosen = [spec.host_id, spec.recorder_id, spec.lecturer_id]
    wanted = {i for i in chosen if i is not None}
    if wanted:
        found = await session.scalars(
            select(Member.id).where(
                Member.id.in_(wanted),
                Member.org_id == spec.org_id,
                Member.status == MemberStatus.ACTIVE,
            )
        )
        if set(found.all()) != wanted:
            raise ServiceError("meeting.bad_person")


async def publish_meeting(
    db: Database,
    actor: Actor,
    spec: MeetingSpec,
    *,
    now: datetime,
    today: date,
) -> tuple[MeetingView, bool]:
    """Record the meeting and queue its notice in the branch's main group: (meeting, posted)."""
    async with db.transaction() as session:
        row, item = await _publish(session, actor, spec, now, today)
        return await _view(session, row), item is not None


@dataclass(frozen=True)
class Published:
    """A meeting just published from the wizard: its manage screen, and whether the notice
    went to a group."""

    screen: Overview
    posted: bool


async def publish_draft(db: Database, actor: Actor, *, now: datetime, today: date) -> Published:
    """确认发布: the person's /meeting draft becomes a meeting, its notice queued, and the
    draft is gone in the same commit (a second press of the old button is stale)."""
    async with db.transaction() as session:
        draft = await take_draft(session, actor.user_id, MeetingDraft)
        if draft is None or draft.step != "pre":
            raise ServiceError("stale")
        row, item = await _publish(session, actor, spec_of(draft), now, today)
        return Published(await _overview(session, actor, row, today), item is not None)


def spec_of(draft: MeetingDraft) -> MeetingSpec:
    """The meeting a finished /meeting draft describes; stale if it is not finished."""
    if draft.starts_at is None or draft.audience is None:
        raise ServiceError("stale")
    return MeetingSpec(
        org_id=draft.org_id,
        types=draft.types,
        starts_at=draft.starts_at,
        place=draft.place,
        topic=draft.topic,
        audience=draft.audience,
        party_group_id=draft.party_group_id,
        agenda=draft.agenda,
        host_id=draft.host_id,
        recorder_id=draft.recorder_id,
        lecturer_id=draft.lecturer_id,
    )


async def _publish(
    session: AsyncSession,
    actor: Actor,
    spec: MeetingSpec,
    now: datetime,
    today: date,
) -> tuple[Meeting, OutboxItem | None]:
    if spec.starts_at <= now:
        raise ServiceError("meeting.past")
    place = _text(spec.place, PLACE_MAX, "place")
    topic = _text(spec.topic, TOPIC_MAX, "topic")
    agenda = _text(spec.agenda, AGENDA_MAX, "agenda") if spec.agenda else None
    await load_org(session, spec.org_id)
    await _check_spec(session, actor, spec, today)
    row = Meeting(
        org_id=spec.org_id,
        party_group_id=spec.party_group_id,
        types=[t.value for t in ordered_types(spec.types)],
        starts_at=spec.starts_at,
        place=place,
        topic=topic,
        agenda=agenda,
        host_id=spec.host_id,
        recorder_id=spec.recorder_id,
        lecturer_id=spec.lecturer_id,
        audience=spec.audience.value,
        status=Status.SCHEDULED.value,
        created_by=actor.user_id or None,
        counts_dirty=False,
        version=1,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    item = await _post_card(session, row, Card.NOTICE, now)
    if item is not None:
        row.group_item_id = item.id
    audit.record(
        session,
        at=now,
        actor_id=actor.user_id or None,
        action="meeting.publish",
        target_type="meeting",
        target_id=row.id,
        after={
            "types": row.types,
            "starts_at": spec.starts_at.isoformat(),
            "audience": row.audience,
        },
    )
    return row, item


# ---- answers ----


def _over(row: Meeting) -> str | None:
    """ "closed" / "cancelled" once a meeting takes no more answers or sign-ins."""
    if row.status == Status.CANCELLED:
        return "cancelled"
    if row.status == Status.CLOSED:
        return "closed"
    return None


async def _presser(session: AsyncSession, row: Meeting, user_id: int, today: date) -> Member | None:
    """The presser's roster entry if they are in the meeting's audience."""
    return await session.scalar(
        select(Member).where(Member.user_id == user_id, *_meeting_filter(row, today))
    )


async def answer(
    db: Database, user_id: int, meeting_id: int, choice: Answer, *, now: datetime, today: date
) -> RsvpResult:
    """参加 / 请假 from someone in the audience; the group counter is re-rendered later.

    A press in a busy group waits for the presses before it (one chat's updates run in
    order), so this is kept to three short reads and one write."""
    async with db.transaction() as session:
        row = await session.get(Meeting, meeting_id)
        if row is None:
            return RsvpResult("outside")
        over = _over(row)
        if over is not None:
            return RsvpResult(over)
        found = (
            await session.execute(
                select(Member.id, User.started, User.blocked_at)
                .outerjoin(User, User.id == Member.user_id)
                .where(Member.user_id == user_id, *_meeting_filter(row, today))
                .limit(1)
            )
        ).first()
        if found is None:
            return RsvpResult("outside")
        member_id, started, blocked = found
        reachable = bool(started) and blocked is None
        existing = await session.get(MeetingRsvp, (meeting_id, member_id))
        if existing is not None and existing.answer == choice:
            return RsvpResult("already", started=reachable)
        if existing is None:
            session.add(
                MeetingRsvp(
                    meeting_id=meeting_id,
                    member_id=member_id,
                    answer=choice.value,
                    reason=None,
                    answered_at=now,
                )
            )
        else:
            existing.answer, existing.reason, existing.answered_at = choice.value, None, now
        # Never an edit per press: the periodic job re-renders dirty meetings.
        if not row.counts_dirty:
            row.counts_dirty = True
        return RsvpResult("ok", started=reachable)


async def give_reason(
    db: Database, user_id: int, meeting_id: int, reason: str, *, now: datetime, today: date
) -> MeetingView:
    """The reason of a leave request, typed in private chat (the answer becomes 请假)."""
    text = parse_short_text(reason, REASON_MAX)
    if isinstance(text, Invalid):
        raise ServiceError(
            "input.reason_empty" if text.code == "text.empty" else "input.reason_too_long"
        )
    async with db.transaction() as session:
        row = await _load(session, meeting_id)
        over = _over(row)
        if over is not None:
            raise ServiceError(f"meeting.{over}")
        member = await _presser(session, row, user_id, today)
        if member is None:
            raise Denied("meeting.outside")
        existing = await session.get(MeetingRsvp, (meeting_id, member.id))
        if existing is None:
            session.add(
                MeetingRsvp(
                    meeting_id=meeting_id,
                    member_id=member.id,
                    answer=Answer.LEAVE,
                    reason=text,
                    answered_at=now,
                )
            )
        else:
            existing.answer, existing.reason, existing.answered_at = Answer.LEAVE.value, text, now
        row.counts_dirty = True
        return await _view(session, row)


# ---- the messages in the group ----

# Between two re-renders of one group message: a burst of presses becomes one edit every
# few seconds, well inside Telegram's 20 messages a minute in a group.
COUNTER_GAP = timedelta(seconds=3)
_GONE = ("failed", "unreachable", "cancelled")  # outbox states that never reach the group


async def _locked_item(session: AsyncSession, item_id: int | None) -> OutboxItem | None:
    """An outbox row, locked on PostgreSQL so the worker cannot claim it meanwhile."""
    if item_id is None:
        return None
    return await session.get(OutboxItem, item_id, with_for_update=True, populate_existing=True)


async def _last_edit(session: AsyncSession, posted: OutboxItem) -> OutboxItem | None:
    """The latest edit queued for a group message (its id is kept on the posted row)."""
    last_id = posted.payload.get("last_edit")
    return await session.get(OutboxItem, last_id) if isinstance(last_id, int) else None


async def _replace(
    session: AsyncSession, row: Meeting, item: OutboxItem, card: Card, now: datetime
) -> bool:
    """Show the meeting as it now stands in a card the bot posted or is about to post; False
    while it is being sent, when the caller must come back later."""
    if item.status == "pending":  # not sent yet: it is rendered as the meeting is then
        # (an older release queued it as text: from now on it is intent, like the others)
        item.purpose, item.payload = CARD, {**item.payload, **_card_payload(row, card)}
        return True
    if item.status == "sending":
        return False
    if item.status != "sent" or item.message_id is None:
        return True  # it never reached the group: nothing to show
    # `card` is passed, not read from the row: cards posted by an older release were text.
    last = await _last_edit(session, item)
    edit = new_item(
        purpose=CARD_EDIT,
        chat_id=item.chat_id,
        now=now,
        is_group=item.is_group,
        target_message_id=item.message_id,
        payload=_card_payload(row, card),
    )
    session.add(edit)
    if last is not None and last.status == "sent" and last.sent_at is not None:
        # The outbox holds it until COUNTER_GAP after the previous edit went out.
        edit.not_before = max(now, last.sent_at + COUNTER_GAP)
    await session.flush()
    # Remembered on the posted row, so the counter job finds the last edit by its key.
    item.payload = {**item.payload, "last_edit": edit.id}
    return True


async def _refresh_group(session: AsyncSession, row: Meeting, now: datetime) -> None:
    """Show the notice and the sign-in message in the group as the meeting now stands."""
    posted = await _locked_item(session, row.group_item_id)
    row.counts_dirty = False
    if posted is not None:
        if not await _replace(session, row, posted, Card.NOTICE, now):
            row.counts_dirty = True  # the counter job updates it once it is in the group
        signin_id = posted.payload.get("signin_item")
        signin = await _locked_item(session, signin_id if isinstance(signin_id, int) else None)
        if signin is not None:
            await _replace(session, row, signin, Card.SIGNIN, now)


async def queue_counter_updates(db: Database, now: datetime) -> int:
    """Update the group message of meetings whose counts changed: at most one edit of a
    message waits at a time, and it goes out at least COUNTER_GAP after the previous one."""
    queued = 0
    async with db.transaction() as session:
        query = select(Meeting).where(Meeting.counts_dirty.is_(True))
        if db.dialect == "postgresql":
            # A press marking the meeting dirty again waits for this run, so no mark is lost.
            query = query.with_for_update(skip_locked=True)
        dirty = (await session.scalars(query)).all()
        for row in dirty:
            posted = await _locked_item(session, row.group_item_id)
            if posted is None or posted.status in _GONE:
                row.counts_dirty = False  # nothing in a group to update
                continue
            if posted.status != "sent" or posted.message_id is None:
                continue  # not in the group yet: it goes out with the counts of its time
            last = await _last_edit(session, posted)
            if last is not None and last.status in ("pending", "sending"):
                continue  # stays dirty: a later run renders the counts after that edit
            await _replace(session, row, posted, Card.NOTICE, now)
            row.counts_dirty = False
            queued += 1
    return queued


# ---- who may run a meeting ----


async def _is_recorder(session: AsyncSession, actor: Actor, row: Meeting) -> bool:
    if row.recorder_id is None or not actor.user_id:
        return False
    recorder = await session.get(Member, row.recorder_id)
    return recorder is not None and recorder.user_id == actor.user_id


async def require_organizer(session: AsyncSession, actor: Actor, row: Meeting, today: date) -> None:
    """Only an organizer of the meeting's audience may change or call it off."""
    whole, groups = await _scope(session, actor, row.org_id, today)
    if not whole and row.party_group_id not in groups:
        raise Denied("auth.manage_meetings")


async def _is_organizer(session: AsyncSession, actor: Actor, row: Meeting, today: date) -> bool:
    try:
        await require_organizer(session, actor, row, today)
    except Denied:
        return False
    return True


async def require_runner(session: AsyncSession, actor: Actor, row: Meeting, today: date) -> None:
    """The recorder of this meeting, or an organizer of its audience, may run sign-in."""
    if await _is_recorder(session, actor, row):
        return
    await require_organizer(session, actor, row, today)


async def may_write_minutes(session: AsyncSession, actor: Actor, row: Meeting, today: date) -> bool:
    """The recorder, the branch's secretary or deputy secretary (and superadmins)."""
    if actor.superadmin or await _is_recorder(session, actor, row):
        return True
    held = await session.scalar(
        select(func.count())
        .select_from(RoleAssignment)
        .outerjoin(Member, Member.id == RoleAssignment.member_id)
        .where(
            RoleAssignment.org_id == row.org_id,
            RoleAssignment.role.in_([Role.SECRETARY, Role.DEPUTY]),
            held_by(actor.user_id),
            *active_role_filter(today),
        )
    )
    return bool(held)


async def load_meeting(session: AsyncSession, meeting_id: int, *, lock: bool = False) -> Meeting:
    """The meeting row (locked for the transaction when `lock`), or NotFound."""
    row = await session.get(Meeting, meeting_id, with_for_update=lock or None)
    if row is None:
        raise NotFound("meeting.not_found")
    return row


async def meeting_view(session: AsyncSession, row: Meeting) -> MeetingView:
    """The renderer's view of a meeting row, names resolved."""
    return await _view(session, row)


# ---- sign-in ----


async def open_signin(
    db: Database, actor: Actor, meeting_id: int, *, now: datetime, today: date
) -> MeetingView:
    """Open sign-in and post the 签到 message in the group (when the branch has one)."""
    async with db.transaction() as session:
        row = await load_meeting(session, meeting_id, lock=True)
        await require_runner(session, actor, row, today)
        over = _over(row)
        if over is not None:
            raise ServiceError(f"meeting.{over}")
        if row.status == Status.OPEN:
            return await _view(session, row)
        row.status, row.signin_opened_at = Status.OPEN.value, now
        view = await _view(session, row)
        item = await _post_card(session, row, Card.SIGNIN, now)
        if item is not None:
            posted = await _locked_item(session, row.group_item_id)
            if posted is not None:
                # Found again when the meeting closes, to take the 签到 button off.
                posted.payload = {**posted.payload, "signin_item": item.id}
        audit.record(
            session,
            at=now,
            actor_id=actor.user_id or None,
            action="meeting.signin",
            target_type="meeting",
            target_id=row.id,
        )
        return view


async def sign_in(
    db: Database, user_id: int, meeting_id: int, *, now: datetime, today: date
) -> SignResult:
    """签到 pressed by a member of the audience while sign-in is open."""
    async with db.transaction() as session:
        row = await session.get(Meeting, meeting_id)
        if row is None:
            return SignResult("outside")
        member = await _presser(session, row, user_id, today)
        if member is None:
            return SignResult("outside")
        over = _over(row)
        if over is not None:
            return SignResult(over)
        if row.status != Status.OPEN:
            return SignResult("not_open")
        if await session.get(MeetingAttendance, (meeting_id, member.id)) is not None:
            return SignResult("already", member.name)
        session.add(
            MeetingAttendance(
                meeting_id=meeting_id,
                member_id=member.id,
                signed_at=now,
                signed_by=SignedBy.SELF.value,
                by_user_id=user_id,
            )
        )
        return SignResult("ok", member.name)


async def sign_for(
    db: Database,
    actor: Actor,
    meeting_id: int,
    member_id: int,
    *,
    note: str | None,
    now: datetime,
    today: date,
) -> SignResult:
    """代签 (sign-in open) or 补签 (afterwards) by the recorder or an organizer, with a note."""
    cleaned = None
    if note:
        parsed = parse_short_text(note, NOTE_MAX)
        if isinstance(parsed, Invalid):
            raise ServiceError("meeting.note_long")
        cleaned = parsed
    async with db.transaction() as session:
        row = await _load(session, meeting_id)
        await require_runner(session, actor, row, today)
        if row.status == Status.CANCELLED:
            return SignResult("cancelled")
        if row.status == Status.SCHEDULED:
            return SignResult("not_open")
        member = await session.scalar(
            select(Member).where(Member.id == member_id, *_meeting_filter(row, today))
        )
        if member is None:
            return SignResult("outside")
        if await session.get(MeetingAttendance, (meeting_id, member_id)) is not None:
            return SignResult("already", member.name)
        kind = SignedBy.PROXY if row.status == Status.OPEN else SignedBy.LATE
        session.add(
            MeetingAttendance(
                meeting_id=meeting_id,
                member_id=member_id,
                signed_at=now,
                signed_by=kind.value,
                by_user_id=actor.user_id or None,
                note=cleaned,
            )
        )
        audit.record(
            session,
            at=now,
            actor_id=actor.user_id or None,
            action=f"meeting.{kind}",
            target_type="meeting",
            target_id=row.id,
            after={"member_id": member_id, "note": cleaned},
        )
        return SignResult("ok", member.name)


# ---- attendance and closing ----


async def attendance_of(session: AsyncSession, row: Meeting, today: date) -> Attendance:
    """Attendance of a meeting read in the caller's session (no authorization)."""
    view = await _view(session, row)
    expected = (
        await session.execute(
            select(Member.id, Member.name, Member.stage)
            .where(*_meeting_filter(row, today))
            .order_by(Member.name, Member.id)
        )
    ).all()
    signed = (
        await session.execute(
            select(
                Member.id,
                Member.name,
                Member.stage,
                MeetingAttendance.signed_by,
                MeetingAttendance.note,
            )
            .join(Member, Member.id == MeetingAttendance.member_id)
            .where(MeetingAttendance.meeting_id == row.id)
            .order_by(Member.name, Member.id)
        )
    ).all()
    leaves = (
        await session.execute(
            select(Member.id, Member.name, MeetingRsvp.reason)
            .join(Member, Member.id == MeetingRsvp.member_id)
            .where(MeetingRsvp.meeting_id == row.id, MeetingRsvp.answer == Answer.LEAVE)
            .order_by(Member.name, Member.id)
        )
    ).all()
    present_ids = {s[0] for s in signed}
    leave_ids = {i for i, _, _ in leaves}
    result_quorum = None
    if needs_quorum(view.types):
        # 应到 counts the expected full members; 实到 the full members who signed in.
        result_quorum = quorum(
            (Stage(e[2]) for e in expected),
            (Stage(e[2]) for e in expected if e[0] in present_ids),
        )
    return Attendance(
        meeting=view,
        expected=tuple(PersonRef(i, n) for i, n, _ in expected),
        present=tuple((PersonRef(i, n), SignedBy(by), note) for i, n, _, by, note in signed),
        on_leave=tuple((PersonRef(i, n), r) for i, n, r in leaves if i not in present_ids),
        quorum=result_quorum,
        absent=tuple(
            PersonRef(i, n) for i, n, _ in expected if i not in present_ids and i not in leave_ids
        ),
        summary=summarize(
            ((i, Stage(s)) for i, _, s in expected), present_ids, leave_ids, view.types
        ),
    )


async def attendance(db: Database, actor: Actor, meeting_id: int, today: date) -> Attendance:
    """应到 / 实到 with names, leave reasons, absentees and the full-member quorum of
    general meetings."""
    async with db.read() as session:
        row = await _load(session, meeting_id)
        await require_runner(session, actor, row, today)
        return await attendance_of(session, row, today)


async def closing_summary(
    db: Database, meeting_id: int, today: date
) -> tuple[MeetingView, Summary]:
    """A closed meeting's attendance summary, for its SUMMARY message as it is sent."""
    async with db.read() as session:
        report = await attendance_of(session, await _load(session, meeting_id), today)
    if report.summary is None:  # only a meeting without an audience has none
        raise ServiceError("meeting.not_found")
    return report.meeting, report.summary


async def close_meeting(
    db: Database,
    actor: Actor,
    meeting_id: int,
    *,
    now: datetime,
    today: date,
) -> Closing:
    """End the meeting: the group message shows it ended, a short attendance summary is
    posted in the group; later sign-ins by the recorder are 补签."""
    async with db.transaction() as session:
        row = await load_meeting(session, meeting_id, lock=True)
        await require_runner(session, actor, row, today)
        if row.status == Status.CANCELLED:
            raise ServiceError("meeting.cancelled")
        if row.status == Status.CLOSED:
            return Closing(
                await attendance_of(session, row, today), posted=False, just_closed=False
            )
        row.status, row.closed_at = Status.CLOSED.value, now
        await session.flush()
        report = await attendance_of(session, row, today)
        await _refresh_group(session, row, now)
        binding = await _main_group(session, row.org_id)
        summary = report.summary
        assert summary is not None
        if binding is not None:
            posted = await session.get(OutboxItem, row.group_item_id) if row.group_item_id else None
            reply_to = posted.message_id if posted is not None and posted.status == "sent" else None
            session.add(
                new_item(
                    purpose=SUMMARY, chat_id=binding.chat_id, now=now, is_group=True,
                    thread_id=binding.topic_id, target_message_id=reply_to,
                    payload={"meeting_id": row.id},
                )
            )  # fmt: skip
        audit.record(
            session,
            at=now,
            actor_id=actor.user_id or None,
            action="meeting.close",
            target_type="meeting",
            target_id=row.id,
            after={
                "expected": summary.expected,
                "present": summary.present,
                "leave": summary.leave,
                "absent": summary.absent,
            },
        )
        return Closing(report, posted=binding is not None, just_closed=True)


# ---- changing and calling off ----


async def _tell_answerers(
    session: AsyncSession,
    actor: Actor,
    row: Meeting,
    before: MeetingView,
    after: MeetingView,
    now: datetime,
) -> tuple[int, int]:
    """Everyone who answered hears of the change: privately when they started the bot,
    else named in one message in the group. Returns (private notes, people named)."""
    people = (
        await session.execute(
            select(
                Member.user_id,
                Member.name,
                User.started,
                User.blocked_at,
                User.locale,
                User.language_code,
                MeetingRsvp.answer,
            )
            .join(MeetingRsvp, MeetingRsvp.member_id == Member.id)
            .outerjoin(User, User.id == Member.user_id)
            .where(MeetingRsvp.meeting_id == row.id)
            .order_by(Member.name, Member.id)
        )
    ).all()
    private = 0
    mentions: list[Mention] = []
    for user_id, name, started, blocked, locale, language, answered in people:
        if user_id is not None and user_id == actor.user_id:
            continue  # the organizer knows what they changed
        if user_id is not None and started and blocked is None:
            change = Change(
                before, after, locale=locale, language_code=language,
                on_leave=answered == Answer.LEAVE,
            )  # fmt: skip
            session.add(
                new_item(
                    purpose=NOTE, chat_id=user_id, now=now,
                    payload={"meeting_id": row.id, "change": to_data(change)},
                )
            )  # fmt: skip
            private += 1
        else:
            mentions.append(Mention(user_id, name))
    binding = await _main_group(session, row.org_id) if mentions else None
    if binding is None:
        return private, 0
    posted = await session.get(OutboxItem, row.group_item_id) if row.group_item_id else None
    reply_to = posted.message_id if posted is not None and posted.status == "sent" else None
    # Telegram turns at most 50 mentions of a message into links.
    for start in range(0, len(mentions), MENTIONS_PER_MESSAGE):
        named = tuple(mentions[start : start + MENTIONS_PER_MESSAGE])
        session.add(
            new_item(
                purpose=GROUP_NOTE, chat_id=binding.chat_id, now=now, is_group=True,
                thread_id=binding.topic_id, target_message_id=reply_to,
                payload={"meeting_id": row.id, "change": to_data(Change(before, after,
                                                                        mentions=named))},
            )
        )  # fmt: skip
    return private, len(mentions)


MENTIONS_PER_MESSAGE = 40


async def _person(session: AsyncSession, row: Meeting, member_id: int | None) -> int | None:
    if member_id is None:
        return None
    found = await session.scalar(
        select(Member.id).where(
            Member.id == member_id,
            Member.org_id == row.org_id,
            Member.status == MemberStatus.ACTIVE,
        )
    )
    if found is None:
        raise ServiceError("meeting.bad_person")
    return member_id


def _new_value(detail: Detail, value: object, now: datetime) -> object:
    """The checked new value of a detail (text cleaned, time in the future)."""
    if detail is Detail.WHEN:
        if not isinstance(value, datetime):
            raise ServiceError("meeting.bad_time")
        if value <= now:
            raise ServiceError("meeting.past")
        return value
    if detail is Detail.PLACE:
        return _text(str(value or ""), PLACE_MAX, "place")
    if detail is Detail.TOPIC:
        return _text(str(value or ""), TOPIC_MAX, "topic")
    if detail is Detail.AGENDA:
        return _text(str(value), AGENDA_MAX, "agenda") if value else None
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise ServiceError("meeting.bad_person")
    return value or None


_COLUMNS = {
    Detail.WHEN: "starts_at",
    Detail.PLACE: "place",
    Detail.TOPIC: "topic",
    Detail.AGENDA: "agenda",
    Detail.HOST: "host_id",
    Detail.RECORDER: "recorder_id",
    Detail.LECTURER: "lecturer_id",
}


async def edit_meeting(
    db: Database,
    actor: Actor,
    meeting_id: int,
    detail: Detail,
    value: str | int | datetime | None,
    *,
    now: datetime,
    today: date,
) -> Changed:
    """Change one detail: the group message is re-rendered and everyone who answered is told
    what changed (privately, or named in the group if they never started the bot)."""
    async with db.transaction() as session:
        row = await _changeable(session, actor, meeting_id, today, may_edit)
        return await _edit(session, actor, row, detail, value, now, today)


async def edit_by_draft(
    db: Database, actor: Actor, meeting_id: int, *, now: datetime, today: date
) -> Changed:
    """确认修改: the change prepared in the person's edit draft, which is gone in the same
    commit (a second press of the old button is stale)."""
    async with db.transaction() as session:
        row = await _changeable(session, actor, meeting_id, today, may_edit)
        draft = await take_draft(session, actor.user_id, MeetingEdit)
        if (
            draft is None
            or draft.meeting_id != meeting_id
            or draft.detail is None
            or draft.step != "confirm"
            or not draft.chosen
        ):
            raise ServiceError("stale")
        return await _edit(session, actor, row, draft.detail, draft.value, now, today)


async def _changeable(
    session: AsyncSession,
    actor: Actor,
    meeting_id: int,
    today: date,
    allowed: Callable[[Status], bool],
) -> Meeting:
    """The meeting, locked, for one of its organizers, while it may still change."""
    row = await load_meeting(session, meeting_id, lock=True)
    await require_organizer(session, actor, row, today)
    if not allowed(Status(row.status)):
        raise ServiceError(f"meeting.{_over(row) or 'closed'}")
    return row


async def _edit(
    session: AsyncSession,
    actor: Actor,
    row: Meeting,
    detail: Detail,
    value: str | int | datetime | None,
    now: datetime,
    today: date,
) -> Changed:
    new = _new_value(detail, value, now)
    if detail in PERSON_DETAILS:
        new = await _person(session, row, new if isinstance(new, int) else None)
    column = _COLUMNS[detail]
    before = await _view(session, row)
    old = getattr(row, column)
    if old == new:
        return Changed(before, before, changed=False)
    setattr(row, column, new)
    row.version += 1
    await session.flush()
    after = await _view(session, row)
    await _refresh_group(session, row, now)
    private, mentioned = await _tell_answerers(session, actor, row, before, after, now)
    audit.record(
        session,
        at=now,
        actor_id=actor.user_id or None,
        action="meeting.edit",
        target_type="meeting",
        target_id=row.id,
        before={column: old.isoformat() if isinstance(old, datetime) else old},
        after={
            column: new.isoformat() if isinstance(new, datetime) else new,
            "version": row.version,
        },
    )
    return Changed(before, after, True, private, mentioned)


async def cancel_meeting(
    db: Database,
    actor: Actor,
    meeting_id: int,
    reason: str | None,
    *,
    now: datetime,
    today: date,
) -> Changed:
    """Call the meeting off: the group message shows 已取消 without buttons and everyone who
    answered is told, with the reason when one is given."""
    cleaned = _reason(reason)
    async with db.transaction() as session:
        row = await _changeable(session, actor, meeting_id, today, may_cancel)
        return await _cancel(session, actor, row, cleaned, now, today)


async def cancel_by_draft(
    db: Database,
    actor: Actor,
    meeting_id: int,
    *,
    with_reason: bool,
    now: datetime,
    today: date,
) -> Changed:
    """确认取消 (`with_reason`: the typed reason) or 不填原因，直接取消: the meeting is called off
    and the person's cancel draft is gone in the same commit."""
    async with db.transaction() as session:
        row = await _changeable(session, actor, meeting_id, today, may_cancel)
        draft = await take_draft(session, actor.user_id, MeetingEdit)
        if draft is None or draft.meeting_id != meeting_id or draft.detail is not None:
            raise ServiceError("stale")
        reason = draft.reason if with_reason and draft.step == "cancel_confirm" else None
        return await _cancel(session, actor, row, _reason(reason), now, today)


def _reason(reason: str | None) -> str | None:
    if not reason:
        return None
    parsed = parse_short_text(reason, REASON_MAX)
    if isinstance(parsed, Invalid):
        raise ServiceError("meeting.reason_long")
    return parsed


async def _cancel(
    session: AsyncSession,
    actor: Actor,
    row: Meeting,
    reason: str | None,
    now: datetime,
    today: date,
) -> Changed:
    before = await _view(session, row)
    row.status, row.cancelled_at = Status.CANCELLED.value, now
    row.version += 1
    # The reason lives in the audit entry; written first, so the view below shows it.
    audit.record(
        session,
        at=now,
        actor_id=actor.user_id or None,
        action="meeting.cancel",
        target_type="meeting",
        target_id=row.id,
        before={"status": before.status.value},
        after={"reason": reason, "version": row.version},
    )
    await session.flush()
    after = await _view(session, row)
    await _refresh_group(session, row, now)
    private, mentioned = await _tell_answerers(session, actor, row, before, after, now)
    return Changed(before, after, True, private, mentioned)


# ---- the manage screen and lists ----


async def overview(db: Database, actor: Actor, meeting_id: int, today: date) -> Overview:
    """One meeting for its organizer or recorder: state, counts and what they may do."""
    async with db.read() as session:
        row = await _load(session, meeting_id)
        await require_runner(session, actor, row, today)
        return await _overview(session, actor, row, today)


async def _overview(session: AsyncSession, actor: Actor, row: Meeting, today: date) -> Overview:
    signed = await session.scalar(
        select(func.count())
        .select_from(MeetingAttendance)
        .where(MeetingAttendance.meeting_id == row.id)
    )
    minutes = await session.get(MeetingMinutes, row.id)
    return Overview(
        meeting=await _view(session, row),
        counts=await _counts(session, row, today),
        signed=int(signed or 0),
        has_minutes=minutes is not None,
        organizer=await _is_organizer(session, actor, row, today),
        writer=await may_write_minutes(session, actor, row, today),
    )


def _item(row: Meeting, org_name: str) -> MeetingItem:
    return MeetingItem(
        id=row.id,
        org_name=org_name,
        types=tuple(ordered_types(MeetingType(t) for t in row.types)),
        topic=row.topic,
        starts_at=row.starts_at,
        status=Status(row.status),
    )


async def _managed_filter(
    session: AsyncSession, actor: Actor, today: date
) -> ColumnElement[bool] | None:
    """Meetings the actor organizes or records; None when there are none they could."""
    if actor.superadmin:
        return true()
    recorded = select(Member.id).where(
        Member.user_id == actor.user_id, Member.status == MemberStatus.ACTIVE
    )
    conditions: list[ColumnElement[bool]] = []
    whole: list[int] = []
    led = set(
        (
            await session.scalars(
                select(RoleAssignment.org_id)
                .outerjoin(Member, Member.id == RoleAssignment.member_id)
                .where(
                    RoleAssignment.role == Role.GROUP_LEADER,
                    held_by(actor.user_id),
                    *active_role_filter(today),
                )
            )
        ).all()
    )
    for org_id in await orgs_with(session, actor, Permission.MANAGE_MEETINGS, today):
        if org_id not in led:  # any other office that may organize covers the whole branch
            whole.append(org_id)
            continue
        full, groups = await _scope(session, actor, org_id, today)
        if full:
            whole.append(org_id)
        elif groups:
            conditions.append(
                and_(Meeting.org_id == org_id, Meeting.party_group_id.in_(sorted(groups)))
            )
    if whole:
        conditions.append(Meeting.org_id.in_(whole))
    records = await session.scalar(
        select(func.count()).select_from(Meeting).where(Meeting.recorder_id.in_(recorded))
    )
    if records:
        conditions.append(Meeting.recorder_id.in_(recorded))
    return or_(*conditions) if conditions else None


async def managed_meetings(
    db: Database, actor: Actor, *, past: bool, offset: int, limit: int, today: date
) -> MeetingPage | None:
    """Meetings the actor organizes or records: upcoming soonest first, or finished and
    called-off ones newest first. None when they organize and record nothing."""
    finished = [Status.CLOSED.value, Status.CANCELLED.value]
    async with db.read() as session:
        scope = await _managed_filter(session, actor, today)
        if scope is None:
            return None
        state = Meeting.status.in_(finished) if past else Meeting.status.not_in(finished)
        total = await session.scalar(select(func.count()).select_from(Meeting).where(scope, state))
        order = (
            (Meeting.starts_at.desc(), Meeting.id.desc())
            if past
            else (Meeting.starts_at, Meeting.id)
        )
        offset = max(0, min(offset, max(0, int(total or 0) - 1)))
        rows = (
            await session.execute(
                select(Meeting, Organization.name)
                .join(Organization, Organization.id == Meeting.org_id)
                .where(scope, state)
                .order_by(*order)
                .offset(offset)
                .limit(limit)
            )
        ).all()
        return MeetingPage(
            items=tuple(_item(m, name) for m, name in rows),
            total=int(total or 0),
            offset=offset,
        )


async def my_meetings(
    db: Database, user_id: int, *, now: datetime, today: date, limit: int = 10
) -> list[MyMeeting]:
    """A member's own coming meetings (not yet closed), soonest first, with their answer."""
    async with db.read() as session:
        members = (
            await session.scalars(
                select(Member).where(
                    Member.user_id == user_id, Member.status == MemberStatus.ACTIVE
                )
            )
        ).all()
        found: list[MyMeeting] = []
        for member in members:
            rows = (
                await session.execute(
                    select(Meeting, Organization.name)
                    .join(Organization, Organization.id == Meeting.org_id)
                    .where(
                        Meeting.org_id == member.org_id,
                        Meeting.status.in_([Status.SCHEDULED.value, Status.OPEN.value]),
                        # A meeting that began today is still worth showing.
                        Meeting.starts_at >= now - timedelta(hours=12),
                    )
                    .order_by(Meeting.starts_at, Meeting.id)
                    .limit(limit * 3)
                )
            ).all()
            for row, org_name in rows:
                if await _presser(session, row, user_id, today) is None:
                    continue  # a committee or another group's meeting
                rsvp = await session.get(MeetingRsvp, (row.id, member.id))
                found.append(
                    MyMeeting(
                        item=_item(row, org_name),
                        answer=Answer(rsvp.answer) if rsvp else None,
                        reason=rsvp.reason if rsvp else None,
                        place=row.place,
                    )
                )
        found.sort(key=lambda m: (m.item.starts_at, m.item.id))
        return found[:limit]
