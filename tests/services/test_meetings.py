"""Meeting services: publishing, answers, counters, sign-in, quorum and who may do what."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from domain.compliance import MeetingType
from domain.meetings import Answer, Audience, Counts, SignedBy, Status
from domain.org import Level, Role, Stage
from services import meetings as m
from services.errors import Denied, ServiceError
from services.outbox import ButtonRows
from storage.db import Database
from storage.models import ChatBinding, Meeting, OutboxItem
from tests.conftest import FakeClock
from tests.services.factories import BASE_UID, SUPER, linked_member, member, office, org, today

GROUP_CHAT = -100_123


def render(view: m.MeetingView, counts: Counts) -> tuple[str, ButtonRows]:
    """A stand-in for the handlers' wording: the counts are what the tests look at."""
    return f"{view.topic} {counts.attend}/{counts.leave}/{counts.silent}", [[("ok", "cb:x")]]


async def branch(db: Database, clock: FakeClock, *, bound: bool = True) -> int:
    committee = await org(db, clock, "两新工委", Level.COMMITTEE, None)
    branch_id = await org(db, clock, "甲支部", Level.BRANCH, committee)
    if bound:
        async with db.transaction() as s:
            s.add(
                ChatBinding(
                    chat_id=GROUP_CHAT,
                    org_id=branch_id,
                    purpose="main",
                    active=True,
                    bound_at=clock.now(),
                )
            )
    return branch_id


def spec(org_id: int, clock: FakeClock, **kw: object) -> m.MeetingSpec:
    values: dict[str, object] = {
        "org_id": org_id,
        "types": (MeetingType.GENERAL_MEETING, MeetingType.PARTY_LESSON),
        "starts_at": clock.now() + timedelta(days=2),
        "place": "三楼会议室",
        "topic": "学习党章",
        "audience": Audience.BRANCH,
    }
    values.update(kw)
    return m.MeetingSpec(**values)  # type: ignore[arg-type]


async def test_publish_posts_once_in_the_main_group_and_remembers_the_item(
    db: Database, clock: FakeClock
) -> None:
    branch_id = await branch(db, clock)
    secretary, _ = await linked_member(
        db, clock, branch_id, BASE_UID + 1, "书记", role=Role.SECRETARY
    )
    await member(db, clock, branch_id, "王芳")
    view, posted = await m.publish_meeting(
        db, secretary, spec(branch_id, clock), render, now=clock.now(), today=today(clock)
    )
    assert posted
    assert view.types == (MeetingType.GENERAL_MEETING, MeetingType.PARTY_LESSON)
    async with db.read() as s:
        row = await s.get(Meeting, view.id)
        assert row is not None
        assert row.group_item_id is not None
        item = await s.get(OutboxItem, row.group_item_id)
    assert item is not None
    assert item.chat_id == GROUP_CHAT
    assert item.is_group
    assert item.payload["html"] == "学习党章 0/0/2"


async def test_only_organizers_publish_and_group_leaders_only_for_their_group(
    db: Database, clock: FakeClock
) -> None:
    branch_id = await branch(db, clock)
    plain, _ = await linked_member(db, clock, branch_id, BASE_UID + 2, "王芳")
    with pytest.raises(Denied):
        await m.publish_meeting(
            db, plain, spec(branch_id, clock), render, now=clock.now(), today=today(clock)
        )
    groups = await m.planning(db, SUPER, branch_id, today(clock))
    assert groups.whole_branch
    from services.orgs import add_party_group

    first = await add_party_group(db, SUPER, branch_id, "第一小组", clock.now(), today(clock))
    second = await add_party_group(db, SUPER, branch_id, "第二小组", clock.now(), today(clock))
    leader, leader_member = await linked_member(db, clock, branch_id, BASE_UID + 3, "组长")
    await office(
        db, clock, branch_id, Role.GROUP_LEADER, member_id=leader_member, party_group_id=first.id
    )
    plan = await m.planning(db, leader, branch_id, today(clock))
    assert not plan.whole_branch
    assert [g.id for g in plan.party_groups] == [first.id]
    for audience, group in ((Audience.BRANCH, None), (Audience.PARTY_GROUP, second.id)):
        with pytest.raises(Denied):
            await m.publish_meeting(
                db,
                leader,
                spec(branch_id, clock, audience=audience, party_group_id=group),
                render,
                now=clock.now(),
                today=today(clock),
            )
    view, _ = await m.publish_meeting(
        db,
        leader,
        spec(
            branch_id,
            clock,
            types=(MeetingType.GROUP_MEETING,),
            audience=Audience.PARTY_GROUP,
            party_group_id=first.id,
        ),
        render,
        now=clock.now(),
        today=today(clock),
    )
    assert view.party_group_name == "第一小组"
    with pytest.raises(ServiceError, match="group_type_needs_group"):
        await m.publish_meeting(
            db,
            SUPER,
            spec(branch_id, clock, types=(MeetingType.GROUP_MEETING,)),
            render,
            now=clock.now(),
            today=today(clock),
        )
    with pytest.raises(ServiceError, match="past"):
        await m.publish_meeting(
            db,
            SUPER,
            spec(branch_id, clock, starts_at=clock.now()),
            render,
            now=clock.now(),
            today=today(clock),
        )


async def test_answers_count_once_outsiders_are_refused_and_counters_batch(
    db: Database, clock: FakeClock
) -> None:
    branch_id = await branch(db, clock)
    wang, _ = await linked_member(db, clock, branch_id, BASE_UID + 4, "王芳")
    li, _ = await linked_member(db, clock, branch_id, BASE_UID + 5, "李娜")
    await member(db, clock, branch_id, "张伟")
    other = await org(
        db, clock, "乙支部", Level.BRANCH, await org(db, clock, "乙工委", Level.COMMITTEE, None)
    )
    stranger, _ = await linked_member(db, clock, other, BASE_UID + 6, "路人")
    view, _ = await m.publish_meeting(
        db, SUPER, spec(branch_id, clock), render, now=clock.now(), today=today(clock)
    )
    t = today(clock)
    ok = await m.answer(db, wang.user_id, view.id, Answer.ATTEND, now=clock.now(), today=t)
    assert ok.status == "ok"
    assert ok.counts == Counts(1, 0, 3)
    again = await m.answer(db, wang.user_id, view.id, Answer.ATTEND, now=clock.now(), today=t)
    assert again.status == "already"
    assert (
        await m.answer(db, stranger.user_id, view.id, Answer.ATTEND, now=clock.now(), today=t)
    ).status == "outside"
    leave = await m.answer(db, li.user_id, view.id, Answer.LEAVE, now=clock.now(), today=t)
    assert leave.counts == Counts(1, 1, 3)
    await m.give_reason(db, li.user_id, view.id, "出差", now=clock.now(), today=t)
    with pytest.raises(ServiceError):
        await m.give_reason(db, li.user_id, view.id, "  ", now=clock.now(), today=t)
    # The group copy is not sent yet: nothing to edit, the counts stay dirty.
    assert await m.queue_counter_updates(db, render, clock.now(), t) == 0
    async with db.transaction() as s:
        row = await s.get(Meeting, view.id)
        assert row is not None
        assert row.counts_dirty
        item = await s.get(OutboxItem, row.group_item_id)
        assert item is not None
        item.status, item.message_id = "sent", 77
    assert await m.queue_counter_updates(db, render, clock.now(), t) == 1
    # Nothing new: no second edit.
    assert await m.queue_counter_updates(db, render, clock.now(), t) == 0
    async with db.read() as s:
        edits = (await s.scalars(select(OutboxItem).where(OutboxItem.purpose == "edit"))).all()
    assert [e.payload["html"] for e in edits] == ["学习党章 1/1/1"]
    assert edits[0].target_message_id == 77


async def test_sign_in_window_proxy_late_and_full_member_quorum(
    db: Database, clock: FakeClock
) -> None:
    branch_id = await branch(db, clock)
    secretary, _ = await linked_member(
        db, clock, branch_id, BASE_UID + 7, "书记", role=Role.SECRETARY
    )
    recorder, recorder_member = await linked_member(db, clock, branch_id, BASE_UID + 8, "记录人")
    wang, _ = await linked_member(db, clock, branch_id, BASE_UID + 9, "王芳")
    probationary = [
        await member(db, clock, branch_id, f"预备{i}", stage=Stage.PROBATIONARY) for i in range(3)
    ]
    absent = await member(db, clock, branch_id, "赵敏")
    other = await org(
        db, clock, "乙支部", Level.BRANCH, await org(db, clock, "乙工委", Level.COMMITTEE, None)
    )
    stranger, _ = await linked_member(db, clock, other, BASE_UID + 10, "路人")
    view, _ = await m.publish_meeting(
        db,
        secretary,
        spec(branch_id, clock, recorder_id=recorder_member),
        render,
        now=clock.now(),
        today=today(clock),
    )
    t = today(clock)
    assert (
        await m.sign_in(db, wang.user_id, view.id, now=clock.now(), today=t)
    ).status == "not_open"
    with pytest.raises(Denied):
        await m.open_signin(db, wang, view.id, render, now=clock.now(), today=t)
    opened = await m.open_signin(db, recorder, view.id, render, now=clock.now(), today=t)
    assert opened.status is Status.OPEN
    assert (
        await m.sign_in(db, stranger.user_id, view.id, now=clock.now(), today=t)
    ).status == "outside"
    for actor in (secretary, recorder, wang):
        assert (
            await m.sign_in(db, actor.user_id, view.id, now=clock.now(), today=t)
        ).status == "ok"
    assert (
        await m.sign_in(db, wang.user_id, view.id, now=clock.now(), today=t)
    ).status == "already"
    for member_id in probationary:
        result = await m.sign_for(
            db, recorder, view.id, member_id, note="电话确认", now=clock.now(), today=t
        )
        assert result.status == "ok"
    with pytest.raises(Denied):
        await m.sign_for(db, wang, view.id, absent, note=None, now=clock.now(), today=t)
    report = await m.attendance(db, secretary, view.id, t)
    # 7 expected, 6 present; but only full members count: 4 expected, 3 present.
    assert (len(report.expected), len(report.present)) == (7, 6)
    assert report.quorum is not None
    assert (report.quorum.expected, report.quorum.present, report.quorum.reached) == (4, 3, True)
    await m.close_meeting(db, secretary, view.id, now=clock.now(), today=t)
    assert (await m.sign_in(db, wang.user_id, view.id, now=clock.now(), today=t)).status == "closed"
    late = await m.sign_for(
        db, recorder, view.id, absent, note="补交记录", now=clock.now(), today=t
    )
    assert late.status == "ok"
    report = await m.attendance(db, secretary, view.id, t)
    kinds = {p.name: (how, note) for p, how, note in report.present}
    assert kinds["赵敏"] == (SignedBy.LATE, "补交记录")
    assert kinds["预备0"] == (SignedBy.PROXY, "电话确认")
    assert kinds["王芳"] == (SignedBy.SELF, None)
