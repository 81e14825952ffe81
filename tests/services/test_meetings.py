"""Meeting services: publishing, answers, counters, sign-in, quorum and who may do what."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from domain.compliance import MeetingType
from domain.locale import negotiate_locale
from domain.meetings import Answer, Audience, Counts, Detail, SignedBy, Status, Summary
from domain.orgs import Level, Role, Stage
from services import meetings as m
from services import orgs
from services.errors import Denied, ServiceError
from services.outbox import ButtonRows
from storage.db import Database
from storage.models import AuditEntry, ChatBinding, Meeting, OutboxItem, User
from tests.conftest import FakeClock
from tests.services.factories import (
    BASE_UID,
    SUPER,
    linked_member,
    member,
    office,
    org,
    today,
)

GROUP_CHAT = -100_123


def render(view: m.MeetingView, counts: Counts) -> tuple[str, ButtonRows]:
    """A stand-in for the handlers' wording: the counts are what the tests look at."""
    return f"{view.topic} {counts.attend}/{counts.leave}/{counts.silent}", [[("ok", "cb:x")]]


def summary(view: m.MeetingView, figures: Summary) -> str:
    quorum = figures.quorum
    tail = f" q{quorum.expected}/{quorum.present}/{quorum.reached}" if quorum else ""
    return f"{figures.expected}/{figures.present}/{figures.leave}/{figures.absent}{tail}"


def note_text(item: OutboxItem) -> str:
    """A change note as a stand-in wording shows it: the reader's language and the place, or
    the people the group note names."""
    change = m.change_of(item.payload)
    if item.purpose == m.NOTE:
        locale = change.locale or negotiate_locale(change.language_code, "zh_CN")
        return f"{locale}:{change.before.place}>{change.after.place}"
    return "@" + ",".join(p.name for p in change.mentions)


async def summary_shown(db: Database, item: OutboxItem, t: date) -> str:
    """A closing summary as the worker renders it when it sends the item (with `summary`)."""
    view, figures = await m.closing_summary(db, item.payload["meeting_id"], t)
    return summary(view, figures)


async def shown(db: Database, item: OutboxItem, t: date) -> str:
    """A card as the outbox worker renders it when it sends the item (here with `render`)."""
    state = await m.card_state(db, item.payload["meeting_id"], t)
    return render(state.meeting, state.counts)[0]


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
        db, secretary, spec(branch_id, clock), now=clock.now(), today=today(clock)
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
    # Intent, not text: rendered from the meeting as it stands when the worker sends it.
    assert (item.purpose, item.payload) == (
        m.CARD,
        {"meeting_id": view.id, "card": "notice", "version": 1},
    )
    assert await shown(db, item, today(clock)) == "学习党章 0/0/2"


async def test_only_organizers_publish_and_group_leaders_only_for_their_group(
    db: Database, clock: FakeClock
) -> None:
    branch_id = await branch(db, clock)
    plain, _ = await linked_member(db, clock, branch_id, BASE_UID + 2, "王芳")
    with pytest.raises(Denied):
        await m.publish_meeting(
            db, plain, spec(branch_id, clock), now=clock.now(), today=today(clock)
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
        now=clock.now(),
        today=today(clock),
    )
    assert view.party_group_name == "第一小组"
    with pytest.raises(ServiceError, match="group_type_needs_group"):
        await m.publish_meeting(
            db,
            SUPER,
            spec(branch_id, clock, types=(MeetingType.GROUP_MEETING,)),
            now=clock.now(),
            today=today(clock),
        )
    with pytest.raises(ServiceError, match="past"):
        await m.publish_meeting(
            db,
            SUPER,
            spec(branch_id, clock, starts_at=clock.now()),
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
        db, SUPER, spec(branch_id, clock), now=clock.now(), today=today(clock)
    )
    t = today(clock)
    ok = await m.answer(db, wang.user_id, view.id, Answer.ATTEND, now=clock.now(), today=t)
    assert ok.status == "ok"
    assert await m.meeting_counts(db, view.id, t) == Counts(1, 0, 3)
    again = await m.answer(db, wang.user_id, view.id, Answer.ATTEND, now=clock.now(), today=t)
    assert again.status == "already"
    assert (
        await m.answer(db, stranger.user_id, view.id, Answer.ATTEND, now=clock.now(), today=t)
    ).status == "outside"
    leave = await m.answer(db, li.user_id, view.id, Answer.LEAVE, now=clock.now(), today=t)
    assert leave.status == "ok"
    assert await m.meeting_counts(db, view.id, t) == Counts(1, 1, 3)
    await m.give_reason(db, li.user_id, view.id, "出差", now=clock.now(), today=t)
    with pytest.raises(ServiceError):
        await m.give_reason(db, li.user_id, view.id, "  ", now=clock.now(), today=t)
    # The group copy is not sent yet: nothing to edit, the counts stay dirty.
    assert await m.queue_counter_updates(db, clock.now()) == 0
    async with db.transaction() as s:
        row = await s.get(Meeting, view.id)
        assert row is not None
        assert row.counts_dirty
        item = await s.get(OutboxItem, row.group_item_id)
        assert item is not None
        item.status, item.message_id = "sent", 77
    assert await m.queue_counter_updates(db, clock.now()) == 1
    # Nothing new: no second edit.
    assert await m.queue_counter_updates(db, clock.now()) == 0
    async with db.read() as s:
        edits = (await s.scalars(select(OutboxItem).where(OutboxItem.purpose == m.CARD_EDIT))).all()
    assert [e.payload["meeting_id"] for e in edits] == [view.id]
    assert await shown(db, edits[0], t) == "学习党章 1/1/1"
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
        now=clock.now(),
        today=today(clock),
    )
    t = today(clock)
    assert (
        await m.sign_in(db, wang.user_id, view.id, now=clock.now(), today=t)
    ).status == "not_open"
    with pytest.raises(Denied):
        await m.open_signin(db, wang, view.id, now=clock.now(), today=t)
    opened = await m.open_signin(db, recorder, view.id, now=clock.now(), today=t)
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


# ---- edit, cancel, close, lists ----


async def started(db: Database, uid: int, locale: str | None = None) -> None:
    async with db.transaction() as s:
        row = await s.get(User, uid)
        assert row is not None
        row.started, row.locale = True, locale


async def sent(db: Database, meeting_id: int, message_id: int = 77) -> None:
    """The outbox posted the notice: Telegram gave it this message id."""
    async with db.transaction() as s:
        row = await s.get(Meeting, meeting_id)
        assert row is not None
        item = await s.get(OutboxItem, row.group_item_id)
        assert item is not None
        item.status, item.message_id = "sent", message_id


async def queued(db: Database, purpose: str) -> list[OutboxItem]:
    async with db.read() as s:
        return list(
            (
                await s.scalars(
                    select(OutboxItem).where(OutboxItem.purpose == purpose).order_by(OutboxItem.id)
                )
            ).all()
        )


async def test_edit_bumps_the_version_rerenders_and_tells_each_answerer_once(
    db: Database, clock: FakeClock
) -> None:
    branch_id = await branch(db, clock)
    secretary, _ = await linked_member(
        db, clock, branch_id, BASE_UID + 20, "书记", role=Role.SECRETARY
    )
    recorder, recorder_member = await linked_member(db, clock, branch_id, BASE_UID + 21, "记录人")
    wang, _ = await linked_member(db, clock, branch_id, BASE_UID + 22, "王芳")
    zhang, _ = await linked_member(db, clock, branch_id, BASE_UID + 23, "张伟")
    await started(db, wang.user_id, "en")
    await started(db, secretary.user_id)
    t, now = today(clock), clock.now()
    view, _ = await m.publish_meeting(
        db, secretary, spec(branch_id, clock, recorder_id=recorder_member), now=now, today=t
    )
    await sent(db, view.id)
    for actor, choice in ((wang, Answer.ATTEND), (zhang, Answer.LEAVE), (secretary, Answer.ATTEND)):
        await m.answer(db, actor.user_id, view.id, choice, now=now, today=t)
    with pytest.raises(Denied):  # the recorder runs sign-in but does not change the meeting
        await m.edit_meeting(db, recorder, view.id, Detail.TOPIC, "改", now=now, today=t)
    result = await m.edit_meeting(
        db, secretary, view.id, Detail.TOPIC, "  学习 新党章 ", now=now, today=t
    )
    assert result.changed
    assert (result.before.topic, result.after.topic) == ("学习党章", "学习 新党章")
    assert (result.private, result.mentioned) == (1, 1)  # the secretary is not told
    assert result.after.version == 2
    [edit] = await queued(db, m.CARD_EDIT)
    assert (edit.target_message_id, edit.payload["version"]) == (77, 2)
    assert await shown(db, edit, t) == "学习 新党章 2/1/1"
    # Intent, not text: each note keeps the meeting before and after, worded when sent.
    private = await queued(db, m.NOTE)
    group = await queued(db, m.GROUP_NOTE)
    assert await queued(db, "text") == []
    assert [(i.chat_id, note_text(i)) for i in private] == [
        (wang.user_id, "en:三楼会议室>三楼会议室")
    ]
    assert [(i.chat_id, note_text(i), i.target_message_id) for i in group] == [
        (GROUP_CHAT, "@张伟", 77)
    ]
    same = await m.edit_meeting(
        db, secretary, view.id, Detail.TOPIC, "学习 新党章", now=now, today=t
    )
    assert not same.changed
    assert same.after.version == 2
    with pytest.raises(ServiceError) as past:
        await m.edit_meeting(db, secretary, view.id, Detail.WHEN, now, now=now, today=t)
    assert past.value.code == "meeting.past"
    elsewhere = await org(db, clock, "乙工委", Level.COMMITTEE, None)
    stranger = await member(
        db, clock, await org(db, clock, "乙支部", Level.BRANCH, elsewhere), "外人"
    )
    with pytest.raises(ServiceError) as person:
        await m.edit_meeting(db, secretary, view.id, Detail.HOST, stranger, now=now, today=t)
    assert person.value.code == "meeting.bad_person"
    later = now + timedelta(days=3)
    moved = await m.edit_meeting(db, secretary, view.id, Detail.WHEN, later, now=now, today=t)
    assert moved.after.starts_at == later
    assert moved.after.version == 3
    async with db.read() as s:
        actions = (await s.scalars(select(AuditEntry.action).order_by(AuditEntry.id))).all()
    assert actions.count("meeting.edit") == 2


async def test_an_edit_before_the_notice_is_sent_rewrites_it_instead(
    db: Database, clock: FakeClock
) -> None:
    branch_id = await branch(db, clock)
    secretary, _ = await linked_member(
        db, clock, branch_id, BASE_UID + 30, "书记", role=Role.SECRETARY
    )
    t, now = today(clock), clock.now()
    view, _ = await m.publish_meeting(db, secretary, spec(branch_id, clock), now=now, today=t)
    await m.edit_meeting(db, secretary, view.id, Detail.TOPIC, "新主题", now=now, today=t)
    assert await queued(db, m.CARD_EDIT) == []
    [notice] = await queued(db, m.CARD)
    assert await shown(db, notice, t) == "新主题 0/0/1"
    assert notice.status == "pending"


async def test_a_card_an_older_release_queued_as_text_goes_out_as_the_meeting_stands(
    db: Database, clock: FakeClock
) -> None:
    branch_id = await branch(db, clock)
    secretary, _ = await linked_member(
        db, clock, branch_id, BASE_UID + 31, "书记", role=Role.SECRETARY
    )
    t, now = today(clock), clock.now()
    view, _ = await m.publish_meeting(db, secretary, spec(branch_id, clock), now=now, today=t)
    async with db.transaction() as s:
        [item] = (await s.scalars(select(OutboxItem))).all()
        item.purpose, item.payload = "text", {"html": "旧的文字", "buttons": []}
    await m.edit_meeting(db, secretary, view.id, Detail.TOPIC, "新主题", now=now, today=t)
    [notice] = await queued(db, m.CARD)
    assert notice.payload["version"] == 2
    assert await shown(db, notice, t) == "新主题 0/0/1"


async def test_cancel_keeps_the_reason_and_refuses_what_follows(
    db: Database, clock: FakeClock
) -> None:
    branch_id = await branch(db, clock)
    secretary, _ = await linked_member(
        db, clock, branch_id, BASE_UID + 40, "书记", role=Role.SECRETARY
    )
    wang, _ = await linked_member(db, clock, branch_id, BASE_UID + 41, "王芳")
    t, now = today(clock), clock.now()
    view, _ = await m.publish_meeting(db, secretary, spec(branch_id, clock), now=now, today=t)
    await sent(db, view.id)
    with pytest.raises(ServiceError) as long:
        await m.cancel_meeting(db, secretary, view.id, "因" * 201, now=now, today=t)
    assert long.value.code == "meeting.reason_long"
    result = await m.cancel_meeting(db, secretary, view.id, " 场地 临时 占用 ", now=now, today=t)
    assert result.after.status is Status.CANCELLED
    assert result.after.cancel_reason == "场地 临时 占用"
    assert (await m.get_meeting(db, view.id)).cancel_reason == "场地 临时 占用"
    assert (
        await m.answer(db, wang.user_id, view.id, Answer.ATTEND, now=now, today=t)
    ).status == "cancelled"
    assert (await m.sign_in(db, wang.user_id, view.id, now=now, today=t)).status == "cancelled"
    for again in (
        m.cancel_meeting(db, secretary, view.id, None, now=now, today=t),
        m.edit_meeting(db, secretary, view.id, Detail.PLACE, "别处", now=now, today=t),
        m.open_signin(db, secretary, view.id, now=now, today=t),
        m.close_meeting(db, secretary, view.id, now=now, today=t),
    ):
        with pytest.raises(ServiceError) as refused:
            await again
        assert refused.value.code == "meeting.cancelled"
    [edit] = await queued(db, m.CARD_EDIT)
    assert edit.target_message_id == 77


async def test_closing_posts_one_summary_and_a_second_close_changes_nothing(
    db: Database, clock: FakeClock
) -> None:
    branch_id = await branch(db, clock)
    secretary, _ = await linked_member(
        db, clock, branch_id, BASE_UID + 50, "书记", role=Role.SECRETARY
    )
    wang, _ = await linked_member(db, clock, branch_id, BASE_UID + 51, "王芳")
    li, _ = await linked_member(db, clock, branch_id, BASE_UID + 52, "李娜")
    await member(db, clock, branch_id, "预备", stage=Stage.PROBATIONARY)
    t, now = today(clock), clock.now()
    view, _ = await m.publish_meeting(db, secretary, spec(branch_id, clock), now=now, today=t)
    await sent(db, view.id)
    await m.answer(db, li.user_id, view.id, Answer.LEAVE, now=now, today=t)
    await m.open_signin(db, secretary, view.id, now=now, today=t)
    for actor in (secretary, wang):
        await m.sign_in(db, actor.user_id, view.id, now=now, today=t)
    closing = await m.close_meeting(db, secretary, view.id, now=now, today=t)
    assert closing.just_closed
    assert closing.posted
    assert [p.name for p in closing.report.absent] == ["预备"]
    again = await m.close_meeting(db, secretary, view.id, now=now, today=t)
    assert not again.just_closed
    summaries = await queued(db, m.SUMMARY)
    # 书记, 王芳, 李娜 are full members: 2 of 3 present is a quorum.
    assert [(await summary_shown(db, i, t), i.target_message_id) for i in summaries] == [
        ("4/2/1/1 q3/2/True", 77)
    ]
    async with db.read() as s:
        row = await s.get(Meeting, view.id)
        assert row is not None
        notice = await s.get(OutboxItem, row.group_item_id)
    assert notice is not None
    # The sign-in message was still pending: it goes out as closed, not edited.
    signin = await queued(db, m.CARD)
    assert signin[1].id == notice.payload["signin_item"]
    assert signin[1].status == "pending"


async def test_counter_edits_of_one_message_wait_and_go_three_seconds_apart(
    db: Database, clock: FakeClock
) -> None:
    branch_id = await branch(db, clock)
    people = [
        (await linked_member(db, clock, branch_id, BASE_UID + 60 + i, f"党员{i}"))[0]
        for i in range(3)
    ]
    t = today(clock)
    view, _ = await m.publish_meeting(db, SUPER, spec(branch_id, clock), now=clock.now(), today=t)
    await sent(db, view.id)
    await m.answer(db, people[0].user_id, view.id, Answer.ATTEND, now=clock.now(), today=t)
    assert await m.queue_counter_updates(db, clock.now()) == 1
    async with db.transaction() as s:
        query = select(OutboxItem).where(OutboxItem.purpose == m.CARD_EDIT)
        [edit] = (await s.scalars(query)).all()
        edit.status, edit.sent_at = "sent", clock.now()
    first_sent = clock.now()
    await m.answer(db, people[1].user_id, view.id, Answer.ATTEND, now=clock.now(), today=t)
    clock.advance(seconds=1)
    assert await m.queue_counter_updates(db, clock.now()) == 1
    # A third press while that edit waits: no second waiting edit, the meeting stays dirty.
    await m.answer(db, people[2].user_id, view.id, Answer.ATTEND, now=clock.now(), today=t)
    assert await m.queue_counter_updates(db, clock.now()) == 0
    edits = await queued(db, m.CARD_EDIT)
    assert [e.payload["meeting_id"] for e in edits] == [view.id, view.id]
    # Each shows the counts of when it is sent: the third answer rides on the waiting edit.
    assert await shown(db, edits[1], t) == "学习党章 3/0/0"
    # Held back until three seconds after the previous edit went out.
    assert edits[1].not_before == first_sent + timedelta(seconds=3)


async def test_lists_show_organizers_their_meetings_and_members_their_own(
    db: Database, clock: FakeClock
) -> None:
    branch_id = await branch(db, clock)
    secretary, _ = await linked_member(
        db, clock, branch_id, BASE_UID + 70, "书记", role=Role.SECRETARY
    )
    wang, wang_member = await linked_member(db, clock, branch_id, BASE_UID + 71, "王芳")
    leader, leader_member = await linked_member(db, clock, branch_id, BASE_UID + 72, "组长")
    group = await orgs.add_party_group(db, SUPER, branch_id, "一组", clock.now(), today(clock))
    await office(db, clock, branch_id, Role.GROUP_LEADER, member_id=leader_member,
                 party_group_id=group.id)  # fmt: skip
    t, now = today(clock), clock.now()
    ids = []
    for day in range(1, 6):
        view, _ = await m.publish_meeting(
            db, secretary,
            spec(branch_id, clock, starts_at=now + timedelta(days=day), topic=f"会{day}",
                 recorder_id=wang_member if day == 2 else None), now=now, today=t,
        )  # fmt: skip
        ids.append(view.id)
    grouped, _ = await m.publish_meeting(
        db, leader,
        spec(branch_id, clock, types=(MeetingType.GROUP_MEETING,), topic="小组会",
             audience=Audience.PARTY_GROUP, party_group_id=group.id,
             starts_at=now + timedelta(days=10)), now=now, today=t,
    )  # fmt: skip
    await m.cancel_meeting(db, secretary, ids[0], None, now=now, today=t)
    page = await m.managed_meetings(db, secretary, past=False, offset=0, limit=3, today=t)
    assert page is not None
    assert (page.total, [i.topic for i in page.items]) == (5, ["会2", "会3", "会4"])
    page = await m.managed_meetings(db, secretary, past=False, offset=3, limit=3, today=t)
    assert page is not None
    assert [i.topic for i in page.items] == ["会5", "小组会"]
    past = await m.managed_meetings(db, secretary, past=True, offset=0, limit=3, today=t)
    assert past is not None
    assert [(i.topic, i.status) for i in past.items] == [("会1", Status.CANCELLED)]
    # A group leader sees their group's meetings; a recorder the ones they record.
    led = await m.managed_meetings(db, leader, past=False, offset=0, limit=10, today=t)
    assert led is not None
    assert [i.id for i in led.items] == [grouped.id]
    recorded = await m.managed_meetings(db, wang, past=False, offset=0, limit=10, today=t)
    assert recorded is not None
    assert [i.topic for i in recorded.items] == ["会2"]
    # Someone who organizes and records nothing gets their own list instead.
    li, _ = await linked_member(db, clock, branch_id, BASE_UID + 73, "李娜")
    assert await m.managed_meetings(db, li, past=False, offset=0, limit=10, today=t) is None
    await m.answer(db, li.user_id, ids[2], Answer.LEAVE, now=now, today=t)
    await m.give_reason(db, li.user_id, ids[2], "出差", now=now, today=t)
    mine = await m.my_meetings(db, li.user_id, now=now, today=t)
    assert [(x.item.topic, x.answer, x.reason) for x in mine] == [
        ("会2", None, None),
        ("会3", Answer.LEAVE, "出差"),
        ("会4", None, None),
        ("会5", None, None),
    ]  # not the cancelled one, not the other group's
    with pytest.raises(Denied):
        await m.overview(db, li, ids[1], t)
    overview = await m.overview(db, wang, ids[1], t)
    assert (overview.organizer, overview.writer) == (False, True)


async def test_a_member_on_leave_hears_of_a_new_time_without_the_leave_hint(
    db: Database, clock: FakeClock
) -> None:
    """After a time change, those who answered hear of it; only those not on leave are told
    how to ask for leave."""
    from pathlib import Path
    from zoneinfo import ZoneInfo

    from ui.i18n import Catalog
    from ui.meetings import private_note

    catalog = Catalog.load(Path("bot/locales"), "zh_CN")
    branch_id = await branch(db, clock)
    secretary, _ = await linked_member(
        db, clock, branch_id, BASE_UID + 30, "书记", role=Role.SECRETARY
    )
    wang, _ = await linked_member(db, clock, branch_id, BASE_UID + 31, "王芳")
    li, _ = await linked_member(db, clock, branch_id, BASE_UID + 32, "李娜")
    await started(db, wang.user_id)
    await started(db, li.user_id)
    t, now = today(clock), clock.now()
    view, _ = await m.publish_meeting(db, secretary, spec(branch_id, clock), now=now, today=t)
    await sent(db, view.id)
    await m.answer(db, wang.user_id, view.id, Answer.ATTEND, now=now, today=t)
    await m.answer(db, li.user_id, view.id, Answer.LEAVE, now=now, today=t)
    later = view.starts_at + timedelta(days=1)
    await m.edit_meeting(db, secretary, view.id, Detail.WHEN, later, now=now, today=t)
    notes = {i.chat_id: m.change_of(i.payload) for i in await queued(db, m.NOTE)}
    tz = ZoneInfo("Asia/Shanghai")
    attending = private_note(catalog, "zh_CN", tz, now, notes[wang.user_id])
    on_leave = private_note(catalog, "zh_CN", tz, now, notes[li.user_id])
    assert "会议有变动" in attending
    assert "会议有变动" in on_leave
    assert "如不能参加" in attending
    assert "如不能参加" not in on_leave
