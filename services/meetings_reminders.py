"""Meeting reminders: which fall due when, and who is reminded privately or by a mention.

A reminder is one occurrence of the job "meeting-reminders", keyed by the meeting, the
offset and the start time it was computed for ("42@60@2026-12-05T11:30Z"): a meeting moved
to another time gets reminders for the new time, one reminded for a time never is again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.compliance import MeetingType
from domain.locale import negotiate_locale
from domain.meetings import Answer, Audience, Status, ordered_types
from services.jobs import effective_timezones
from services.meetings import audience_filter
from storage.db import Database
from storage.models import ChatBinding, Meeting, MeetingRsvp, Member, OutboxItem, User

JOB = "meeting-reminders"
# Meetings that still take place: sign-in may already be open, closed ones are over.
LIVE = (Status.SCHEDULED.value, Status.OPEN.value)
_KEY_TIME = "%Y-%m-%dT%H:%MZ"


def reminder_key(meeting_id: int, offset_minutes: int, starts_at: datetime) -> str:
    """The occurrence key of one reminder of a meeting at one start time."""
    return f"{meeting_id}@{offset_minutes}@{starts_at.astimezone(UTC):{_KEY_TIME}}"


def parse_reminder_key(key: str) -> tuple[int, int, datetime] | None:
    """(meeting id, offset in minutes, start time) from a key; None when it is not one."""
    parts = key.split("@")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    try:
        starts_at = datetime.strptime(parts[2], _KEY_TIME).replace(tzinfo=UTC)
    except ValueError:
        return None
    return int(parts[0]), int(parts[1]), starts_at


def _minute(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(second=0, microsecond=0)


@dataclass(frozen=True)
class DueReminder:
    """One reminder of one meeting, due `offset_minutes` before its start."""

    meeting_id: int
    offset_minutes: int
    starts_at: datetime
    due_at: datetime

    @property
    def key(self) -> str:
        return reminder_key(self.meeting_id, self.offset_minutes, self.starts_at)


async def due_reminders(
    db: Database, offsets: Iterable[int], start: datetime, end: datetime
) -> list[DueReminder]:
    """Reminders due in (start, end] for meetings that still take place, by due time."""
    due: list[DueReminder] = []
    async with db.read() as session:
        for offset in sorted(set(offsets), reverse=True):
            before = timedelta(minutes=offset)
            # A range on starts_at under an equality on status: ix_meetings_status_starts.
            rows = await session.execute(
                select(Meeting.id, Meeting.starts_at, Meeting.created_at).where(
                    Meeting.status.in_(LIVE),
                    Meeting.starts_at > start + before,
                    Meeting.starts_at <= end + before,
                )
            )
            for meeting_id, starts_at, created_at in rows.all():
                if starts_at - before <= created_at:
                    # Published after this reminder's moment: the notice itself is news
                    # enough, a "please answer" minutes later would only nag.
                    continue
                due.append(DueReminder(meeting_id, offset, starts_at, starts_at - before))
    return sorted(due, key=lambda d: (d.due_at, d.meeting_id))


@dataclass(frozen=True)
class Recipient:
    """Someone in a meeting's audience who gets a reminder, and how they can be reached."""

    member_id: int
    name: str
    user_id: int | None
    locale: str
    private: bool  # started the bot and has not blocked it

    @property
    def mentionable(self) -> bool:
        return not self.private and self.user_id is not None


@dataclass(frozen=True)
class GroupTarget:
    """Where the mentions go: the branch's main group, in the meeting's thread."""

    chat_id: int
    thread_id: int | None
    reply_to: int | None  # the meeting's notice in that group, once it was sent


@dataclass(frozen=True)
class ReminderPlan:
    """What one reminder needs: the meeting, its branch's zone, the group and the people."""

    meeting_id: int
    org_id: int
    types: tuple[MeetingType, ...]
    topic: str
    place: str
    starts_at: datetime
    timezone: str
    group: GroupTarget | None
    unanswered: tuple[Recipient, ...]  # asked to answer 参加 / 请假
    attending: tuple[Recipient, ...]  # told when and where
    on_leave: int  # left alone


async def _group(session: AsyncSession, row: Meeting) -> GroupTarget | None:
    binding = await session.scalar(
        select(ChatBinding).where(
            ChatBinding.org_id == row.org_id,
            ChatBinding.purpose == "main",
            ChatBinding.active.is_(True),
        )
    )
    if binding is None:
        return None
    notice = await session.get(OutboxItem, row.group_item_id) if row.group_item_id else None
    if notice is not None and notice.chat_id == binding.chat_id:
        reply_to = notice.message_id if notice.status == "sent" else None
        return GroupTarget(binding.chat_id, notice.thread_id, reply_to)
    return GroupTarget(binding.chat_id, binding.topic_id, None)


async def reminder_plan(
    session: AsyncSession,
    meeting_id: int,
    starts_at: datetime,
    *,
    as_of: datetime,
    default_timezone: str,
    default_locale: str,
    zones: Mapping[int, str] | None = None,
) -> ReminderPlan | str:
    """Who a reminder of the meeting starting at `starts_at` goes to; a reason string when
    it is no longer due ("gone", "cancelled", "closed", "moved"). `zones` are the
    organizations' effective time zones when the caller already has them."""
    row = await session.get(Meeting, meeting_id)
    if row is None:
        return "gone"
    if row.status not in LIVE:
        return row.status
    if _minute(row.starts_at) != _minute(starts_at):
        return "moved"  # the reminders of the new time are other occurrences
    if zones is None:
        zones = await effective_timezones(session, default_timezone)
    zone = zones.get(row.org_id, default_timezone)
    today: date = as_of.astimezone(ZoneInfo(zone)).date()
    audience = audience_filter(row.org_id, Audience(row.audience), row.party_group_id, today)
    people = (
        await session.execute(
            select(
                Member.id,
                Member.name,
                Member.user_id,
                User.started,
                User.blocked_at,
                User.locale,
                User.language_code,
                MeetingRsvp.answer,
            )
            .outerjoin(User, User.id == Member.user_id)
            .outerjoin(
                MeetingRsvp,
                and_(MeetingRsvp.meeting_id == meeting_id, MeetingRsvp.member_id == Member.id),
            )
            .where(*audience)
            .order_by(Member.name, Member.id)
        )
    ).all()
    unanswered: list[Recipient] = []
    attending: list[Recipient] = []
    on_leave = 0
    for member_id, name, user_id, started, blocked_at, locale, language_code, answer in people:
        if answer == Answer.LEAVE:
            on_leave += 1
            continue
        person = Recipient(
            member_id=member_id,
            name=name,
            user_id=user_id,
            locale=locale or negotiate_locale(language_code, default_locale),
            private=bool(user_id is not None and started and blocked_at is None),
        )
        # The organizer is not asked to answer his own meeting: he is reminded as one who
        # attends (he called it), without 参加 / 请假.
        organizer = user_id is not None and user_id == row.created_by
        (attending if answer == Answer.ATTEND or organizer else unanswered).append(person)
    return ReminderPlan(
        meeting_id=row.id,
        org_id=row.org_id,
        types=tuple(ordered_types(MeetingType(t) for t in row.types)),
        topic=row.topic,
        place=row.place,
        starts_at=row.starts_at,
        timezone=zone,
        group=await _group(session, row),
        unanswered=tuple(unanswered),
        attending=tuple(attending),
        on_leave=on_leave,
    )
