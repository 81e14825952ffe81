"""Minutes services: who may write them and when, the form they are checked against, audits."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from domain.compliance import MeetingType
from domain.minutes_wizard import MinutesDraft, start
from domain.orgs import Role
from services import meetings as m
from services.drafts import get_draft, keep_draft, open_draft
from services.errors import Denied, ServiceError
from services.minutes import minutes_state, prefilled, save_minutes, save_minutes_draft
from storage.db import Database
from storage.models import AuditEntry
from tests.conftest import FakeClock
from tests.services.factories import BASE_UID, linked_member, today
from tests.services.test_meetings import branch, spec

LESSON = (MeetingType.PARTY_LESSON, MeetingType.COMMITTEE_MEETING)


async def test_who_may_write_and_when(db: Database, clock: FakeClock) -> None:
    branch_id = await branch(db, clock)
    secretary, _ = await linked_member(
        db, clock, branch_id, BASE_UID + 1, "书记", role=Role.SECRETARY
    )
    deputy, _ = await linked_member(db, clock, branch_id, BASE_UID + 2, "副书记", role=Role.DEPUTY)
    organizer, _ = await linked_member(
        db, clock, branch_id, BASE_UID + 3, "组织委员", role=Role.ORGANIZATION
    )
    recorder, recorder_member = await linked_member(db, clock, branch_id, BASE_UID + 4, "记录人")
    member, _ = await linked_member(db, clock, branch_id, BASE_UID + 5, "党员")
    t, now = today(clock), clock.now()
    view, _ = await m.publish_meeting(
        db,
        secretary,
        spec(branch_id, clock, types=LESSON, recorder_id=recorder_member),
        now=now,
        today=t,
    )
    values = {"topics": "议题", "decisions": "决定", "lecturer": "书记", "theme": "主题",
              "summary": "摘要"}  # fmt: skip
    with pytest.raises(ServiceError) as early:
        await save_minutes(db, recorder, view.id, values, [], now=now, today=t)
    assert early.value.code == "minutes.not_yet"
    await m.open_signin(db, recorder, view.id, now=now, today=t)
    for writer in (recorder, secretary, deputy):
        assert (await minutes_state(db, writer, view.id, t)).writer
    # The organization member runs the meeting and may read the minutes, not write them.
    assert not (await minutes_state(db, organizer, view.id, t)).writer
    with pytest.raises(Denied):
        await save_minutes(db, organizer, view.id, values, [], now=now, today=t)
    with pytest.raises(Denied) as outsider:
        await minutes_state(db, member, view.id, t)
    assert outsider.value.code == "auth.minutes"
    saved = await save_minutes(db, recorder, view.id, values, ["photo-1"], now=now, today=t)
    assert saved.exists
    assert saved.written_by == "记录人"
    await m.close_meeting(db, secretary, view.id, now=now, today=t)
    later = now + timedelta(hours=2)
    again = await save_minutes(
        db, deputy, view.id, {**values, "remarks": "补充"}, [], now=later, today=t
    )
    assert (again.written_by, again.written_at, again.updated_at) == ("记录人", now, later)
    assert again.fields["remarks"] == "补充"
    assert again.photos == ()
    async with db.read() as s:
        audits = (
            await s.execute(
                select(AuditEntry.action, AuditEntry.actor_id, AuditEntry.after)
                .where(AuditEntry.action.like("minutes.%"))
                .order_by(AuditEntry.id)
            )
        ).all()
    assert [(a, who) for a, who, _ in audits] == [
        ("minutes.write", recorder.user_id),
        ("minutes.edit", deputy.user_id),
    ]
    assert audits[1][2] == {"fields": ["remarks"], "photos": 0}


async def test_the_form_is_checked_and_starts_from_what_the_meeting_says(
    db: Database, clock: FakeClock
) -> None:
    branch_id = await branch(db, clock)
    secretary, secretary_member = await linked_member(
        db, clock, branch_id, BASE_UID + 11, "书记", role=Role.SECRETARY
    )
    t, now = today(clock), clock.now()
    view, _ = await m.publish_meeting(
        db,
        secretary,
        spec(branch_id, clock, types=LESSON, lecturer_id=secretary_member, agenda="一、学习"),
        now=now,
        today=t,
    )
    await m.open_signin(db, secretary, view.id, now=now, today=t)
    state = await minutes_state(db, secretary, view.id, t)
    assert [s.field.value for s in state.minutes.form] == [
        "topics",
        "decisions",
        "lecturer",
        "theme",
        "summary",
        "remarks",
    ]
    assert prefilled(state.minutes) == {
        "lecturer": "书记",
        "theme": "学习党章",
        "topics": "一、学习",
    }
    assert state.attendance.summary is not None
    with pytest.raises(ServiceError) as missing:
        await save_minutes(db, secretary, view.id, {"topics": "议题"}, [], now=now, today=t)
    assert missing.value.code == "minutes.missing"
    assert missing.value.params["fields"] == ["decisions", "lecturer", "theme", "summary"]
    full = {**prefilled(state.minutes), "decisions": "决定", "summary": "摘要"}
    with pytest.raises(ServiceError) as long:
        await save_minutes(
            db, secretary, view.id, {**full, "summary": "长" * 2001}, [], now=now, today=t
        )
    assert long.value.params["fields"] == ["summary"]
    with pytest.raises(ServiceError) as photos:
        await save_minutes(db, secretary, view.id, full, ["p"] * 10, now=now, today=t)
    assert photos.value.code == "minutes.photos"
    saved = await save_minutes(
        db,
        secretary,
        view.id,
        {**full, "summary": " 第一段\u200b\r\n\r\n\r\n第二段 ", "unknown": "x"},
        [],
        now=now,
        today=t,
    )
    assert saved.fields["summary"] == "第一段\n\n第二段"
    assert "unknown" not in saved.fields
    assert prefilled((await minutes_state(db, secretary, view.id, t)).minutes) == saved.fields
    await m.close_meeting(db, secretary, view.id, now=now, today=t)
    assert (await minutes_state(db, secretary, view.id, t)).minutes.exists


async def test_the_wizard_saves_once_and_ends_with_the_minutes(
    db: Database, clock: FakeClock
) -> None:
    branch_id = await branch(db, clock)
    secretary, _ = await linked_member(
        db, clock, branch_id, BASE_UID + 21, "书记", role=Role.SECRETARY
    )
    t, now = today(clock), clock.now()
    view, _ = await m.publish_meeting(
        db, secretary, spec(branch_id, clock, types=LESSON), now=now, today=t
    )
    await m.open_signin(db, secretary, view.id, now=now, today=t)
    state = await minutes_state(db, secretary, view.id, t)
    uid = secretary.user_id
    # Not answered yet: refused, and the draft stays where it was for the person to finish.
    partial = start(view.id, {"topics": "议题"}, ("photo-1",), editing=False)
    await keep_draft(db, uid, replace(partial, step="pre"), now)
    with pytest.raises(ServiceError) as missing:
        await save_minutes_draft(db, secretary, now=now, today=t)
    assert missing.value.code == "minutes.missing"
    kept = await open_draft(db, uid, MinutesDraft)
    assert isinstance(kept, MinutesDraft)
    assert kept.step == "pre"
    answers = {**prefilled(state.minutes), "topics": "议题", "decisions": "决定",
               "lecturer": "书记", "summary": "摘要"}  # fmt: skip
    await keep_draft(db, uid, start(view.id, answers, ("photo-1",), editing=False), now)
    saved = await save_minutes_draft(db, secretary, now=now, today=t)
    assert saved.minutes.exists
    assert saved.minutes.photos == ("photo-1",)
    assert not saved.editing
    # The draft went with the save: the old 保存 pressed again is stale, nothing saved twice.
    assert await get_draft(db, uid) is None
    with pytest.raises(ServiceError) as again:
        await save_minutes_draft(db, secretary, now=now + timedelta(minutes=1), today=t)
    assert again.value.code == "stale"
    async with db.read() as s:
        writes = (
            await s.scalars(select(AuditEntry.action).where(AuditEntry.action.like("minutes.%")))
        ).all()
    assert writes == ["minutes.write"]


async def test_a_refused_writer_keeps_no_half_save(db: Database, clock: FakeClock) -> None:
    branch_id = await branch(db, clock)
    secretary, _ = await linked_member(
        db, clock, branch_id, BASE_UID + 31, "书记", role=Role.SECRETARY
    )
    member, _ = await linked_member(db, clock, branch_id, BASE_UID + 32, "党员")
    t, now = today(clock), clock.now()
    view, _ = await m.publish_meeting(
        db, secretary, spec(branch_id, clock, types=LESSON), now=now, today=t
    )
    await m.open_signin(db, secretary, view.id, now=now, today=t)
    await keep_draft(db, member.user_id, start(view.id, {}, (), editing=False), now)
    with pytest.raises(Denied):
        await save_minutes_draft(db, member, now=now, today=t)
    # The refusal rolled back: no minutes, and the draft is still there to be dropped.
    assert not (await minutes_state(db, secretary, view.id, t)).minutes.exists
    assert await open_draft(db, member.user_id, MinutesDraft) is not None
