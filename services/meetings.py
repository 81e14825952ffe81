"""Meetings: schedule and publish with 参加/请假, answers, live counts, sign-in and quorum."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.compliance import MeetingType
from domain.meetings import (
    AGENDA_MAX,
    GROUP_ONLY_TYPES,
    NOTE_MAX,
    PLACE_MAX,
    REASON_MAX,
    TOPIC_MAX,
    Answer,
    Audience,
    Counts,
    Quorum,
    SignedBy,
    Status,
    needs_quorum,
    ordered_types,
    quorum,
)
from domain.org import Permission, Role, Stage
from domain.org import Status as MemberStatus
from domain.validation import Invalid, parse_short_text
from services import audit
from services.authz import Actor, active_role_filter, held_by, orgs_with, permissions
from services.errors import Denied, NotFound, ServiceError
from services.orgs import OrgView, load_org, org_view
from services.outbox import ButtonRows, enqueue_edit, enqueue_text
from storage.db import Database
from storage.models import (
    ChatBinding,
    Meeting,
    MeetingAttendance,
    MeetingRsvp,
    Member,
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


# Renders the group message of a meeting with its counts: (html, buttons). Handlers own
# the wording; services call it inside the transaction so the text commits with the intent.
GroupRender = Callable[[MeetingView, Counts], tuple[str, ButtonRows]]


@dataclass(frozen=True)
class Planning:
    """What an organizer may choose from for one branch."""

    org: OrgView
    whole_branch: bool  # False: a group leader, limited to their groups
    party_groups: tuple[PersonRef, ...]  # id/name of the groups they may address
    roster: tuple[PersonRef, ...]
    has_group: bool  # the branch has a bound main group to post in


@dataclass(frozen=True)
class RsvpResult:
    """What an answer press did: ok / already / outside / closed, with the new counts."""

    status: str
    counts: Counts | None = None
    started: bool = False  # the presser started the bot: a private question is possible


@dataclass(frozen=True)
class SignResult:
    """What a sign-in did: ok / already / outside / not_open / closed."""

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


# ---- reading ----


async def _names(session: AsyncSession, ids: Sequence[int | None]) -> dict[int, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    rows = await session.execute(select(Member.id, Member.name).where(Member.id.in_(wanted)))
    return {member_id: name for member_id, name in rows.all()}


async def _view(session: AsyncSession, row: Meeting) -> MeetingView:
    org = await load_org(session, row.org_id)
    names = await _names(session, [row.host_id, row.recorder_id, row.lecturer_id])
    group = await session.get(PartyGroup, row.party_group_id) if row.party_group_id else None

    def ref(member_id: int | None) -> PersonRef | None:
        return PersonRef(member_id, names.get(member_id, "?")) if member_id else None

    return MeetingView(
        id=row.id,
        org_id=row.org_id,
        org_name=org.name,
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
    )


async def _load(session: AsyncSession, meeting_id: int) -> Meeting:
    row = await session.get(Meeting, meeting_id)
    if row is None:
        raise NotFound("meeting.not_found")
    return row


def _audience_filter(
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
    return _audience_filter(row.org_id, Audience(row.audience), row.party_group_id, today)


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
        return [org_view(await load_org(session, i)) for i in ids]


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
    render: GroupRender,
    *,
    now: datetime,
    today: date,
) -> tuple[MeetingView, bool]:
    """Record the meeting and queue its notice in the branch's main group: (meeting, posted)."""
    if spec.starts_at <= now:
        raise ServiceError("meeting.past")
    place = _text(spec.place, PLACE_MAX, "place")
    topic = _text(spec.topic, TOPIC_MAX, "topic")
    agenda = _text(spec.agenda, AGENDA_MAX, "agenda") if spec.agenda else None
    async with db.transaction() as session:
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
        view = await _view(session, row)
        binding = await _main_group(session, spec.org_id)
        if binding is not None:
            html, buttons = render(view, await _counts(session, row, today))
            item = enqueue_text(
                session,
                chat_id=binding.chat_id,
                html=html,
                now=now,
                is_group=True,
                thread_id=binding.topic_id,
                buttons=buttons,
            )
            await session.flush()
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
        return view, binding is not None


# ---- answers ----


async def _presser(session: AsyncSession, row: Meeting, user_id: int, today: date) -> Member | None:
    """The presser's roster entry if they are in the meeting's audience."""
    return await session.scalar(
        select(Member).where(Member.user_id == user_id, *_meeting_filter(row, today))
    )


async def answer(
    db: Database, user_id: int, meeting_id: int, choice: Answer, *, now: datetime, today: date
) -> RsvpResult:
    """参加 / 请假 from someone in the audience; the group counter is re-rendered later."""
    async with db.transaction() as session:
        row = await session.get(Meeting, meeting_id)
        if row is None:
            return RsvpResult("outside")
        if row.status in (Status.CLOSED, Status.CANCELLED):
            return RsvpResult("closed")
        member = await _presser(session, row, user_id, today)
        if member is None:
            return RsvpResult("outside")
        existing = await session.get(MeetingRsvp, (meeting_id, member.id))
        started = bool(
            await session.scalar(
                select(User.started).where(User.id == user_id, User.blocked_at.is_(None))
            )
        )
        if existing is not None and existing.answer == choice:
            return RsvpResult("already", await _counts(session, row, today), started)
        if existing is None:
            session.add(
                MeetingRsvp(
                    meeting_id=meeting_id,
                    member_id=member.id,
                    answer=choice.value,
                    reason=None,
                    answered_at=now,
                )
            )
        else:
            existing.answer, existing.reason, existing.answered_at = choice.value, None, now
        # Never an edit per press: the periodic job re-renders dirty meetings.
        row.counts_dirty = True
        await session.flush()
        return RsvpResult("ok", await _counts(session, row, today), started)


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
        if row.status in (Status.CLOSED, Status.CANCELLED):
            raise ServiceError("meeting.closed")
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


async def queue_counter_updates(
    db: Database, render: GroupRender, now: datetime, today: date
) -> int:
    """Re-render the group message of meetings whose counts changed: at most one pending edit."""
    queued = 0
    async with db.transaction() as session:
        dirty = (await session.scalars(select(Meeting).where(Meeting.counts_dirty.is_(True)))).all()
        for row in dirty:
            posted = await session.get(OutboxItem, row.group_item_id) if row.group_item_id else None
            if posted is None:
                row.counts_dirty = False  # nothing in a group to update
                continue
            if posted.status != "sent" or posted.message_id is None:
                continue  # not in the group yet: it goes out with the counts of its time
            waiting = await session.scalar(
                select(OutboxItem.id).where(
                    OutboxItem.purpose == "edit",
                    OutboxItem.chat_id == posted.chat_id,
                    OutboxItem.target_message_id == posted.message_id,
                    OutboxItem.status.in_(["pending", "sending"]),
                )
            )
            if waiting is not None:
                continue  # stays dirty: the next run renders the counts after that edit
            html, buttons = render(await _view(session, row), await _counts(session, row, today))
            enqueue_edit(
                session,
                chat_id=posted.chat_id,
                message_id=posted.message_id,
                html=html,
                now=now,
                is_group=True,
                buttons=buttons,
            )
            row.counts_dirty = False
            queued += 1
    return queued


# ---- sign-in ----


async def _may_run(session: AsyncSession, actor: Actor, row: Meeting, today: date) -> None:
    """The recorder of this meeting, or an organizer of its audience, may run sign-in."""
    if row.recorder_id is not None:
        recorder = await session.get(Member, row.recorder_id)
        if recorder is not None and recorder.user_id == actor.user_id:
            return
    whole, groups = await _scope(session, actor, row.org_id, today)
    if not whole and row.party_group_id not in groups:
        raise Denied("auth.manage_meetings")


async def open_signin(
    db: Database, actor: Actor, meeting_id: int, render: GroupRender, *, now: datetime, today: date
) -> MeetingView:
    """Open sign-in and post the 签到 message in the group (when the branch has one)."""
    async with db.transaction() as session:
        row = await _load(session, meeting_id)
        await _may_run(session, actor, row, today)
        if row.status in (Status.CLOSED, Status.CANCELLED):
            raise ServiceError("meeting.closed")
        if row.status == Status.OPEN:
            return await _view(session, row)
        row.status, row.signin_opened_at = Status.OPEN.value, now
        view = await _view(session, row)
        binding = await _main_group(session, row.org_id)
        if binding is not None:
            html, buttons = render(view, await _counts(session, row, today))
            enqueue_text(
                session,
                chat_id=binding.chat_id,
                html=html,
                now=now,
                is_group=True,
                thread_id=binding.topic_id,
                buttons=buttons,
            )
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
        if row.status in (Status.CLOSED, Status.CANCELLED):
            return SignResult("closed")
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
        await _may_run(session, actor, row, today)
        if row.status == Status.CANCELLED:
            return SignResult("closed")
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


async def close_meeting(
    db: Database, actor: Actor, meeting_id: int, *, now: datetime, today: date
) -> MeetingView:
    """End sign-in: later sign-ins by the recorder are 补签."""
    async with db.transaction() as session:
        row = await _load(session, meeting_id)
        await _may_run(session, actor, row, today)
        if row.status == Status.CANCELLED:
            raise ServiceError("meeting.closed")
        if row.status != Status.CLOSED:
            row.status, row.closed_at = Status.CLOSED.value, now
        return await _view(session, row)


async def attendance(db: Database, actor: Actor, meeting_id: int, today: date) -> Attendance:
    """应到 / 实到 with names, leave reasons, and the full-member quorum of general meetings."""
    async with db.read() as session:
        row = await _load(session, meeting_id)
        await _may_run(session, actor, row, today)
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
                .where(MeetingAttendance.meeting_id == meeting_id)
                .order_by(Member.name, Member.id)
            )
        ).all()
        leaves = (
            await session.execute(
                select(Member.id, Member.name, MeetingRsvp.reason)
                .join(Member, Member.id == MeetingRsvp.member_id)
                .where(MeetingRsvp.meeting_id == meeting_id, MeetingRsvp.answer == Answer.LEAVE)
                .order_by(Member.name, Member.id)
            )
        ).all()
        present_ids = {s[0] for s in signed}
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
        )
