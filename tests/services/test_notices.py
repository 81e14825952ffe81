"""Publishing and editing from a typed draft: the draft goes with the intent's commit."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from domain.notices import NoticeDraft, NoticeEditDraft, choose_org, start
from domain.orgs import Level, Role
from services.drafts import keep_draft, open_draft
from services.errors import ServiceError
from services.notices import (
    Audience,
    NoticeSpec,
    auto_nudge_in,
    due_auto_nudges,
    edit_from_draft,
    get_notice,
    publish_draft,
    publish_notice,
)
from services.users import Person, touch_user
from storage.db import Database
from storage.models import Notice, OutboxItem
from tests.conftest import FakeClock
from tests.services.factories import BASE_UID, member, office, person, today, tree

SENDER = BASE_UID + 1


async def _ready(db: Database, clock: FakeClock) -> tuple[int, NoticeDraft]:
    """A committee admin whose /notice draft is on the preview (private copies to one)."""
    orgs = await tree(db, clock)
    actor = await person(db, clock, SENDER, "组织部")
    await office(db, clock, orgs.committee, Role.COMMITTEE_ADMIN, user_id=actor.user_id)
    reader = BASE_UID + 2
    await touch_user(db, Person(id=reader, first_name="芳"), clock.now(), started=True)
    await member(db, clock, orgs.branch_b, "王芳", user_id=reader)
    draft = choose_org(start(single_org=True), orgs.committee, "高新区综合党委", Level.COMMITTEE)
    draft = replace(draft, step="pre", category="meeting", title="支委会", body="请参加",
                    private=True, ack=True)  # fmt: skip
    await keep_draft(db, SENDER, draft, clock.now())
    return orgs.committee, draft


async def _count(db: Database, model: type[object]) -> int:
    async with db.read() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def test_publishing_takes_the_draft_so_a_second_press_is_stale(
    db: Database, clock: FakeClock
) -> None:
    await _ready(db, clock)
    sender = await person(db, clock, SENDER)
    published = await publish_draft(db, sender, now=clock.now(), today=today(clock))
    assert (published.notice.title, published.private_copies) == ("支委会", 1)
    assert await open_draft(db, SENDER, NoticeDraft) is None
    with pytest.raises(ServiceError) as refused:
        await publish_draft(db, sender, now=clock.now(), today=today(clock))
    assert refused.value.code == "stale"
    assert await _count(db, Notice) == 1
    assert await _count(db, OutboxItem) == 1


async def test_a_refused_publish_keeps_the_draft(db: Database, clock: FakeClock) -> None:
    _, draft = await _ready(db, clock)
    sender = await person(db, clock, SENDER)
    late = replace(draft, deadline=clock.now() - timedelta(minutes=1))
    await keep_draft(db, SENDER, late, clock.now())
    with pytest.raises(ServiceError) as refused:
        await publish_draft(db, sender, now=clock.now(), today=today(clock))
    assert refused.value.code == "notice.deadline_passed"
    assert await open_draft(db, SENDER, NoticeDraft) == late
    # Not on the preview (an old button of an earlier step): stale, nothing published.
    await keep_draft(db, SENDER, replace(draft, step="opt"), clock.now())
    with pytest.raises(ServiceError):
        await publish_draft(db, sender, now=clock.now(), today=today(clock))
    # Someone who may not send for the organization: refused, the draft stays theirs.
    stranger = await person(db, clock, BASE_UID + 9)
    await keep_draft(db, stranger.user_id, draft, clock.now())
    with pytest.raises(ServiceError) as denied:
        await publish_draft(db, stranger, now=clock.now(), today=today(clock))
    assert denied.value.code.startswith("auth.")
    assert await open_draft(db, stranger.user_id, NoticeDraft) == draft
    assert await _count(db, Notice) == 0


async def test_an_edit_takes_its_draft_unless_what_was_typed_is_refused(
    db: Database, clock: FakeClock
) -> None:
    committee, _ = await _ready(db, clock)
    sender = await person(db, clock, SENDER)
    spec = NoticeSpec(org_id=committee, category="meeting", title="旧标题", body_html="正文",
                      audience=Audience(org_ids=(committee,)))  # fmt: skip
    notice = (await publish_notice(db, sender, spec, now=clock.now(), today=today(clock))).notice
    await keep_draft(db, SENDER, NoticeEditDraft(step="title", notice_id=notice.id), clock.now())
    with pytest.raises(ServiceError) as refused:
        await edit_from_draft(db, sender, text="长" * 101, now=clock.now(), today=today(clock))
    assert refused.value.code == "notice.title_too_long"
    assert await open_draft(db, SENDER, NoticeEditDraft) is not None
    await edit_from_draft(db, sender, text="新标题", now=clock.now(), today=today(clock))
    assert (await get_notice(db, notice.id)).title == "新标题"
    assert await open_draft(db, SENDER, NoticeEditDraft) is None
    with pytest.raises(ServiceError) as again:
        await edit_from_draft(db, sender, text="再改", now=clock.now(), today=today(clock))
    assert again.value.code == "stale"


async def test_the_automatic_nudge_is_due_six_hours_before_a_delivered_deadline(
    db: Database, clock: FakeClock
) -> None:
    committee, _ = await _ready(db, clock)
    sender = await person(db, clock, SENDER)
    deadline = clock.now() + timedelta(days=1)
    spec = NoticeSpec(org_id=committee, category="meeting", title="支委会", body_html="正文",
                      audience=Audience(org_ids=(committee,), private_copies=True),
                      ack_label="received", ack_deadline=deadline)  # fmt: skip
    notice = (await publish_notice(db, sender, spec, now=clock.now(), today=today(clock))).notice
    lead = timedelta(hours=6)
    window = (deadline - lead - timedelta(hours=1), deadline - lead)
    assert await due_auto_nudges(db, lead, *window) == []  # still being delivered
    async with db.transaction() as s:
        row = await s.get(Notice, notice.id)
        assert row is not None
        row.status = "sent"
    assert await due_auto_nudges(db, lead, *window) == [(deadline - lead, notice.id)]
    assert await due_auto_nudges(db, lead, window[1], window[1] + timedelta(hours=1)) == []
    async with db.transaction() as s:
        summary = await auto_nudge_in(s, notice.id, now=clock.now(), default_timezone="UTC")
    assert summary == {"notice": notice.id, "private": 1, "groups": 0}
    assert await due_auto_nudges(db, lead, *window) == []  # nudged: not again
    async with db.transaction() as s:
        assert await auto_nudge_in(s, notice.id, now=clock.now(), default_timezone="UTC") == {
            "stale": "nudged already"
        }
