"""Finishing a meeting wizard is one transaction: the change, its messages and the draft's end.

A second press of the old 确认发布 / 确认修改 / 确认取消 button finds no draft and is refused
as stale, creating nothing (also after a crash between the commit and the reply).
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from domain.compliance import MeetingType
from domain.meetings import Audience, Detail, Status
from domain.meetings_wizard import MeetingDraft, MeetingEdit, start_cancel
from domain.orgs import Role
from services import meetings as m
from services.drafts import get_draft, keep_draft
from services.errors import ServiceError
from storage.db import Database
from storage.models import AuditEntry, Meeting, OutboxItem
from tests.conftest import FakeClock
from tests.services.factories import BASE_UID, linked_member, today
from tests.services.test_meetings import branch, spec


async def _count(db: Database, model: type[Meeting] | type[OutboxItem] | type[AuditEntry]) -> int:
    async with db.read() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


def _finished(org_id: int, clock: FakeClock) -> MeetingDraft:
    return MeetingDraft(
        step="pre",
        single_org=True,
        org_id=org_id,
        org_name="甲支部",
        types=(MeetingType.GENERAL_MEETING,),
        starts_at=clock.now() + timedelta(days=2),
        place="三楼会议室",
        topic="学习党章",
        audience=Audience.BRANCH,
    )


async def test_publishing_takes_the_draft_so_a_second_press_publishes_nothing(
    db: Database, clock: FakeClock
) -> None:
    branch_id = await branch(db, clock)
    secretary, _ = await linked_member(
        db, clock, branch_id, BASE_UID + 1, "书记", role=Role.SECRETARY
    )
    t, now = today(clock), clock.now()
    await keep_draft(db, secretary.user_id, _finished(branch_id, clock), now)
    published = await m.publish_draft(db, secretary, now=now, today=t)
    assert published.posted
    assert published.screen.organizer
    assert published.screen.meeting.topic == "学习党章"
    assert await get_draft(db, secretary.user_id) is None
    with pytest.raises(ServiceError) as again:
        await m.publish_draft(db, secretary, now=now, today=t)
    assert again.value.code == "stale"
    assert await _count(db, Meeting) == 1
    assert await _count(db, OutboxItem) == 1


async def test_a_refused_publish_keeps_the_draft_and_an_unfinished_one_is_stale(
    db: Database, clock: FakeClock
) -> None:
    branch_id = await branch(db, clock)
    secretary, _ = await linked_member(
        db, clock, branch_id, BASE_UID + 2, "书记", role=Role.SECRETARY
    )
    t, now = today(clock), clock.now()
    late = dataclasses.replace(_finished(branch_id, clock), starts_at=now - timedelta(hours=1))
    await keep_draft(db, secretary.user_id, late, now)
    with pytest.raises(ServiceError) as past:
        await m.publish_draft(db, secretary, now=now, today=t)
    assert past.value.code == "meeting.past"
    kept = await get_draft(db, secretary.user_id)  # rolled back with the refusal
    assert kept is not None
    assert kept.step == "pre"
    await keep_draft(db, secretary.user_id, dataclasses.replace(late, step="aud"), now)
    with pytest.raises(ServiceError) as early:
        await m.publish_draft(db, secretary, now=now, today=t)
    assert early.value.code == "stale"
    assert await _count(db, Meeting) == 0


async def test_an_edit_takes_its_draft_so_a_second_press_changes_nothing(
    db: Database, clock: FakeClock
) -> None:
    branch_id = await branch(db, clock)
    secretary, _ = await linked_member(
        db, clock, branch_id, BASE_UID + 3, "书记", role=Role.SECRETARY
    )
    t, now = today(clock), clock.now()
    view, _ = await m.publish_meeting(db, secretary, spec(branch_id, clock), now=now, today=t)
    other, _ = await m.publish_meeting(
        db, secretary, spec(branch_id, clock, topic="另一个"), now=now, today=t
    )
    edit = MeetingEdit(
        step="confirm", meeting_id=view.id, detail=Detail.TOPIC, chosen=True, text="新主题"
    )
    await keep_draft(db, secretary.user_id, edit, now)
    with pytest.raises(ServiceError) as elsewhere:  # the draft is for another meeting
        await m.edit_by_draft(db, secretary, other.id, now=now, today=t)
    assert elsewhere.value.code == "stale"
    assert await get_draft(db, secretary.user_id) is not None
    result = await m.edit_by_draft(db, secretary, view.id, now=now, today=t)
    assert (result.changed, result.after.topic, result.after.version) == (True, "新主题", 2)
    assert await get_draft(db, secretary.user_id) is None
    with pytest.raises(ServiceError) as again:
        await m.edit_by_draft(db, secretary, view.id, now=now, today=t)
    assert again.value.code == "stale"
    async with db.read() as s:
        row = await s.get(Meeting, view.id)
        edits = await s.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "meeting.edit")
        )
    assert row is not None
    assert row.version == 2
    assert edits == 1


async def test_cancelling_takes_its_draft_and_needs_one(db: Database, clock: FakeClock) -> None:
    branch_id = await branch(db, clock)
    secretary, _ = await linked_member(
        db, clock, branch_id, BASE_UID + 4, "书记", role=Role.SECRETARY
    )
    t, now = today(clock), clock.now()
    view, _ = await m.publish_meeting(db, secretary, spec(branch_id, clock), now=now, today=t)
    with pytest.raises(ServiceError) as no_draft:
        await m.cancel_by_draft(db, secretary, view.id, with_reason=False, now=now, today=t)
    assert no_draft.value.code == "stale"
    assert (await m.get_meeting(db, view.id)).status is Status.SCHEDULED
    typed = dataclasses.replace(start_cancel(view.id), step="cancel_confirm", reason="场地占用")
    await keep_draft(db, secretary.user_id, typed, now)
    result = await m.cancel_by_draft(db, secretary, view.id, with_reason=True, now=now, today=t)
    assert result.after.cancel_reason == "场地占用"
    assert await get_draft(db, secretary.user_id) is None
    with pytest.raises(ServiceError) as again:
        await m.cancel_by_draft(db, secretary, view.id, with_reason=True, now=now, today=t)
    assert again.value.code == "meeting.cancelled"
