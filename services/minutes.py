"""Minutes (会议记录): the form a meeting's types ask for, attendance alongside, saved at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.meetings import Status, may_record
from domain.minutes import Field, FieldSpec, check_minutes, form_for
from domain.minutes_wizard import MinutesDraft
from domain.orgs import Status as MemberStatus
from services import audit
from services.authz import Actor
from services.drafts import take_draft
from services.errors import Denied, ServiceError
from services.meetings import (
    Attendance,
    MeetingView,
    attendance_of,
    load_meeting,
    may_write_minutes,
    meeting_view,
    require_runner,
)
from storage.db import Database
from storage.models import Meeting, MeetingMinutes, Member, User
from storage.upsert import upsert


@dataclass(frozen=True)
class Minutes:
    """The minutes of one meeting as they stand (empty when none were written yet)."""

    meeting: MeetingView
    form: tuple[FieldSpec, ...]
    fields: dict[str, str] = field(default_factory=dict)
    photos: tuple[str, ...] = ()
    written_by: str | None = None  # the writer's name on the roster (or in Telegram)
    written_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def exists(self) -> bool:
        return self.written_at is not None


@dataclass(frozen=True)
class MinutesState:
    """What the minutes screen shows: the minutes, the attendance, and whether the viewer
    may write them."""

    minutes: Minutes
    attendance: Attendance
    writer: bool


async def _writer_name(session: AsyncSession, row: Meeting, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    name = await session.scalar(
        select(Member.name)
        .where(Member.user_id == user_id, Member.org_id == row.org_id)
        .order_by(Member.status != MemberStatus.ACTIVE, Member.id)
        .limit(1)
    )
    if name is None:
        name = await session.scalar(select(User.first_name).where(User.id == user_id))
    return name


async def _minutes(session: AsyncSession, row: Meeting) -> Minutes:
    view = await meeting_view(session, row)
    form = form_for(view.types)
    # populate_existing: right after an upsert the identity map holds the old row.
    saved = await session.get(MeetingMinutes, row.id, populate_existing=True)
    if saved is None:
        return Minutes(meeting=view, form=form)
    return Minutes(
        meeting=view,
        form=form,
        fields={k: v for k, v in saved.fields.items() if isinstance(v, str)},
        photos=tuple(p for p in saved.photos if isinstance(p, str)),
        written_by=await _writer_name(session, row, saved.written_by),
        written_at=saved.written_at,
        updated_at=saved.updated_at,
    )


def _check_open(row: Meeting) -> None:
    if not may_record(Status(row.status)):
        raise ServiceError(
            "meeting.cancelled" if row.status == Status.CANCELLED else "minutes.not_yet"
        )


async def minutes_state(db: Database, actor: Actor, meeting_id: int, today: date) -> MinutesState:
    """The minutes with the attendance, for organizers, the recorder and the secretary."""
    async with db.read() as session:
        row = await load_meeting(session, meeting_id)
        writer = await may_write_minutes(session, actor, row, today)
        if not writer:
            try:
                await require_runner(session, actor, row, today)
            except Denied:
                raise Denied("auth.minutes") from None
        _check_open(row)
        return MinutesState(
            minutes=await _minutes(session, row),
            attendance=await attendance_of(session, row, today),
            writer=writer,
        )


def prefilled(minutes: Minutes) -> dict[str, str]:
    """The answers a new form starts with: the saved minutes, else what the meeting already
    says (the lecturer and theme of a lesson, the agenda as the items discussed)."""
    if minutes.exists:
        return dict(minutes.fields)
    view, wanted = minutes.meeting, {s.field for s in minutes.form}
    start: dict[str, str] = {}
    if Field.LECTURER in wanted and view.lecturer is not None:
        start[Field.LECTURER.value] = view.lecturer.name
    if Field.THEME in wanted:
        start[Field.THEME.value] = view.topic
    if Field.TOPICS in wanted and view.agenda:
        start[Field.TOPICS.value] = view.agenda
    return start


async def save_minutes(
    db: Database,
    actor: Actor,
    meeting_id: int,
    values: dict[str, str],
    photos: list[str],
    *,
    now: datetime,
    today: date,
) -> Minutes:
    """Write (or rewrite) the minutes of a meeting in one go, audited."""
    async with db.transaction() as session:
        return await _save(session, actor, meeting_id, values, photos, now=now, today=today)


@dataclass(frozen=True)
class SavedMinutes:
    """Minutes saved from the wizard, and whether it was editing minutes written before."""

    minutes: Minutes
    editing: bool


async def save_minutes_draft(
    db: Database, actor: Actor, *, now: datetime, today: date
) -> SavedMinutes:
    """Save what the person's minutes wizard holds; the wizard ends in the same transaction.

    The draft is taken inside the transaction that writes the minutes and their audit row:
    all three commit together, and a second press of the old 保存 finds no draft ("stale")
    instead of saving twice. A refusal rolls back and leaves the draft as it was.
    """
    async with db.transaction() as session:
        draft = await take_draft(session, actor.user_id, MinutesDraft)
        if draft is None:
            raise ServiceError("stale")
        minutes = await _save(
            session,
            actor,
            draft.meeting_id,
            draft.answers(),
            list(draft.photos),
            now=now,
            today=today,
        )
        return SavedMinutes(minutes, draft.editing)


async def _save(
    session: AsyncSession,
    actor: Actor,
    meeting_id: int,
    values: dict[str, str],
    photos: list[str],
    *,
    now: datetime,
    today: date,
) -> Minutes:
    row = await load_meeting(session, meeting_id, lock=True)
    if not await may_write_minutes(session, actor, row, today):
        raise Denied("auth.minutes")
    _check_open(row)
    form = form_for((await meeting_view(session, row)).types)
    cleaned, problems = check_minutes(form, values, photos)
    if problems.missing:
        raise ServiceError("minutes.missing", fields=[f.value for f in problems.missing])
    if problems.invalid:
        raise ServiceError("minutes.too_long", fields=[f.value for f in problems.invalid])
    if problems.too_many_photos:
        raise ServiceError("minutes.photos")
    before = await session.get(MeetingMinutes, row.id)
    changed = sorted(
        k
        for k in set(cleaned) | set(before.fields if before else {})
        if (before.fields.get(k) if before else None) != cleaned.get(k)
    )
    await upsert(
        session,
        MeetingMinutes.__table__,  # type: ignore[arg-type]
        {
            "meeting_id": row.id,
            "fields": cleaned,
            "photos": list(photos),
            "written_by": before.written_by if before else actor.user_id or None,
            "written_at": before.written_at if before else now,
            "updated_at": now,
        },
        key=["meeting_id"],
        update=["fields", "photos", "updated_at"],
    )
    audit.record(
        session,
        at=now,
        actor_id=actor.user_id or None,
        action="minutes.edit" if before else "minutes.write",
        target_type="meeting",
        target_id=row.id,
        # Which fields changed, not their text: the minutes themselves are the record.
        before={"photos": len(before.photos)} if before else None,
        after={"fields": changed, "photos": len(photos)},
    )
    return await _minutes(session, row)
