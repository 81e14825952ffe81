"""Meeting reminders: when each offset falls due, who is asked or told, privately or by mention."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update

from bot.app import build_deps
from bot.config import parse_config
from domain.compliance import MeetingType
from domain.meetings import Answer, Audience, Status
from domain.orgs import Level, Role
from scheduler.jobs import JobRunner
from scheduler.meetings_reminders import MeetingReminders
from services import meetings as m
from services.meetings_reminders import JOB, due_reminders, reminder_key, reminder_plan
from services.users import Person, set_private_chat_status, touch_user
from storage.db import Database
from storage.models import ChatBinding, JobRun, Meeting, Organization, OutboxItem
from tests.conftest import FakeClock
from tests.services.factories import BASE_UID, SUPER, member, office, org, today
from ui.deps import Deps

GROUP_CHAT = -100_777
STARTS = datetime(2026, 12, 5, 11, 30, tzinfo=UTC)  # Saturday 19:30 in Shanghai
DAY_BEFORE = STARTS - timedelta(hours=24)
HOUR_BEFORE = STARTS - timedelta(hours=1)


def deps_for(db: Database, clock: FakeClock, **schedule: Any) -> Deps:
    cfg = parse_config(
        {"telegram": {"token": "1:x"}, "database": {"url": db.url}, "schedule": schedule},
        config_dir=Path("."),
        env={},
    )
    return build_deps(cfg, clock=clock, db=db)


@dataclass
class World:
    branch: int
    committee: int
    meeting: int
    uids: dict[str, int]


async def user(
    db: Database, clock: FakeClock, uid: int, *, started: bool, language: str = "zh-hans"
) -> int:
    await touch_user(db, Person(id=uid, first_name=f"u{uid}", language_code=language),
                     clock.now(), started=started)  # fmt: skip
    return uid


async def world(db: Database, clock: FakeClock, *, bound: bool = True) -> World:
    """A branch of seven: each way of being reminded (or not) once, and a published meeting."""
    committee = await org(db, clock, "两新工委", Level.COMMITTEE, None)
    branch = await org(db, clock, "甲支部", Level.BRANCH, committee)
    if bound:
        async with db.transaction() as s:
            s.add(ChatBinding(chat_id=GROUP_CHAT, org_id=branch, purpose="main", active=True,
                              topic_id=9, bound_at=clock.now()))  # fmt: skip
    uids = {
        "sec": await user(db, clock, BASE_UID + 1, started=True),
        "wang": await user(db, clock, BASE_UID + 2, started=True),
        "li": await user(db, clock, BASE_UID + 3, started=True),
        "zhang": await user(db, clock, BASE_UID + 4, started=False),
        "blocked": await user(db, clock, BASE_UID + 5, started=True),
        "en": await user(db, clock, BASE_UID + 6, started=True, language="en-GB"),
        "late": await user(db, clock, BASE_UID + 7, started=False),
    }
    await set_private_chat_status(db, Person(id=uids["blocked"], first_name="b"), clock.now(),
                                  blocked=True)  # fmt: skip
    sec = await member(db, clock, branch, "陈书记", user_id=uids["sec"])
    await office(db, clock, branch, Role.SECRETARY, member_id=sec)
    await member(db, clock, branch, "王芳", user_id=uids["wang"])
    await member(db, clock, branch, "李娜", user_id=uids["li"])
    await member(db, clock, branch, "张<伟>", user_id=uids["zhang"])
    await member(db, clock, branch, "周屏蔽", user_id=uids["blocked"])
    await member(db, clock, branch, "Emma", user_id=uids["en"])
    await member(db, clock, branch, "赵导入")  # imported, never registered
    view, _ = await m.publish_meeting(
        db, SUPER,
        m.MeetingSpec(org_id=branch, types=(MeetingType.GENERAL_MEETING,), starts_at=STARTS,
                      place="三楼会议室", topic="学习党章", audience=Audience.BRANCH),
        now=clock.now(), today=today(clock),
    )  # fmt: skip
    t = today(clock)
    await m.answer(db, uids["wang"], view.id, Answer.ATTEND, now=clock.now(), today=t)
    await m.answer(db, uids["li"], view.id, Answer.LEAVE, now=clock.now(), today=t)
    return World(branch, committee, view.id, uids)


async def reminder_items(db: Database) -> list[OutboxItem]:
    """Queued texts other than the meetings' own group notices."""
    async with db.read() as s:
        notices = select(Meeting.group_item_id).where(Meeting.group_item_id.is_not(None))
        rows = await s.scalars(
            select(OutboxItem)
            .where(OutboxItem.purpose == "text", OutboxItem.id.not_in(notices))
            .order_by(OutboxItem.id)
        )
        return list(rows.all())


async def outcomes(db: Database) -> dict[str, tuple[str, dict[str, Any] | None]]:
    async with db.read() as s:
        rows = (await s.execute(select(JobRun.key, JobRun.outcome, JobRun.detail))).all()
    return {key: (outcome, detail) for key, outcome, detail in rows}


async def test_each_offset_is_due_once_in_its_window(db: Database, clock: FakeClock) -> None:
    w = await world(db, clock)
    offsets = (1440, 60)
    day = await due_reminders(db, offsets, DAY_BEFORE - timedelta(seconds=30), DAY_BEFORE)
    assert [(d.meeting_id, d.offset_minutes, d.due_at) for d in day] == [
        (w.meeting, 1440, DAY_BEFORE)
    ]
    assert day[0].key == f"{w.meeting}@1440@2026-12-05T11:30Z"
    # (start, end]: a window starting at the moment does not hold it again.
    assert await due_reminders(db, offsets, DAY_BEFORE, DAY_BEFORE + timedelta(hours=1)) == []
    hour = await due_reminders(db, offsets, HOUR_BEFORE - timedelta(minutes=1), HOUR_BEFORE)
    assert [d.offset_minutes for d in hour] == [60]
    both = await due_reminders(db, offsets, DAY_BEFORE - timedelta(days=1), STARTS)
    assert [d.key for d in both] == [
        reminder_key(w.meeting, 1440, STARTS),
        reminder_key(w.meeting, 60, STARTS),
    ]
    # The job's view of it, with configured offsets.
    deps = deps_for(db, clock, reminder_offsets_minutes=[30])
    occurrences = await MeetingReminders().due(deps, DAY_BEFORE - timedelta(days=1), STARTS)
    assert [(o.job, o.key, o.due_at) for o in occurrences] == [
        (JOB, f"{w.meeting}@30@2026-12-05T11:30Z", STARTS - timedelta(minutes=30))
    ]


async def test_a_meeting_published_after_a_reminders_moment_skips_that_reminder(
    db: Database, clock: FakeClock
) -> None:
    clock.set(DAY_BEFORE + timedelta(hours=2))  # 22 h before the meeting
    w = await world(db, clock)
    due = await due_reminders(db, (1440, 60), DAY_BEFORE - timedelta(hours=12), STARTS)
    assert [d.key for d in due] == [reminder_key(w.meeting, 60, STARTS)]


async def test_the_recipients_split_by_answer_and_by_reach(db: Database, clock: FakeClock) -> None:
    w = await world(db, clock)
    async with db.read() as s:
        plan = await reminder_plan(
            s, w.meeting, STARTS, as_of=DAY_BEFORE, default_timezone="Asia/Shanghai",
            default_locale="zh_CN",
        )  # fmt: skip
    assert not isinstance(plan, str)
    assert plan.on_leave == 1
    assert [p.name for p in plan.attending] == ["王芳"]
    ask = {p.name: p for p in plan.unanswered}
    assert set(ask) == {"陈书记", "张<伟>", "周屏蔽", "Emma", "赵导入"}
    assert {n for n, p in ask.items() if p.private} == {"陈书记", "Emma"}
    assert {n for n, p in ask.items() if p.mentionable} == {"张<伟>", "周屏蔽"}
    assert ask["Emma"].locale == "en"
    assert plan.group is not None
    assert (plan.group.chat_id, plan.group.thread_id, plan.group.reply_to) == (GROUP_CHAT, 9, None)

    runner = JobRunner(deps_for(db, clock), [MeetingReminders()])
    assert await runner.run_at(JOB, DAY_BEFORE + timedelta(seconds=20)) == 1
    items = await reminder_items(db)
    private = {i.chat_id: i.payload for i in items if not i.is_group}
    assert set(private) == {w.uids["sec"], w.uids["wang"], w.uids["en"]}
    sec = private[w.uids["sec"]]
    assert "陈书记同志，您好！下面的会议将于 24 小时后开始，您还没有回复" in sec["html"]
    assert "时间：12月5日（周六）19:30" in sec["html"]
    assert "地点：三楼会议室" in sec["html"]
    assert sec["buttons"] == [
        [["参加", f"cb:rsvp:{w.meeting}:a"], ["请假", f"cb:rsvp:{w.meeting}:l"]]
    ]
    attend = private[w.uids["wang"]]
    assert "您报名参加的会议将于 24 小时后开始" in attend["html"]
    assert attend["buttons"] == []
    english = private[w.uids["en"]]
    assert "Hello Emma, the meeting below starts in 24 h" in english["html"]
    assert "Sat 5 Dec 19:30" in english["html"]
    assert english["buttons"][0][0][0] == "Attend"
    (group,) = [i for i in items if i.is_group]
    assert (group.chat_id, group.thread_id) == (GROUP_CHAT, 9)
    html = group.payload["html"]
    assert f'<a href="tg://user?id={w.uids["zhang"]}">张&lt;伟&gt;</a>' in html
    assert f"tg://user?id={w.uids['blocked']}" in html
    for name in ("王芳", "李娜", "赵导入"):  # attending privately, on leave, unreachable
        assert name not in html
    assert group.payload["buttons"][0][0] == ["参加", f"cb:rsvp:{w.meeting}:a"]
    key = reminder_key(w.meeting, 1440, STARTS)
    assert (await outcomes(db))[key] == ("done", {"private": 3, "mentioned": 2, "skipped": 1})
    # Run again for the same moment: nothing.
    assert await runner.run_at(JOB, DAY_BEFORE + timedelta(seconds=50)) == 0
    assert len(await reminder_items(db)) == len(items)


async def test_without_a_group_only_private_reminders_go_out(
    db: Database, clock: FakeClock
) -> None:
    w = await world(db, clock, bound=False)
    runner = JobRunner(deps_for(db, clock), [MeetingReminders()])
    assert await runner.run_at(JOB, DAY_BEFORE) == 1
    assert all(not i.is_group for i in await reminder_items(db))
    key = reminder_key(w.meeting, 1440, STARTS)
    assert (await outcomes(db))[key][1] == {"private": 3, "mentioned": 0, "skipped": 3}


async def test_a_moved_meeting_is_reminded_for_its_new_time_only(
    db: Database, clock: FakeClock
) -> None:
    w = await world(db, clock)
    runner = JobRunner(deps_for(db, clock), [MeetingReminders()])
    assert await runner.run_at(JOB, DAY_BEFORE) == 1
    moved = STARTS + timedelta(hours=3)
    async with db.transaction() as s:
        await s.execute(update(Meeting).where(Meeting.id == w.meeting).values(starts_at=moved))
    # The old moment is not due any more; the new one is, once.
    assert await due_reminders(db, (1440,), DAY_BEFORE - timedelta(hours=1), DAY_BEFORE) == []
    assert await runner.run_at(JOB, moved - timedelta(hours=24)) == 1
    assert await runner.run_at(JOB, moved - timedelta(hours=24)) == 0
    # Moved back to the first time: that reminder already went out.
    async with db.transaction() as s:
        await s.execute(update(Meeting).where(Meeting.id == w.meeting).values(starts_at=STARTS))
    assert await runner.run_at(JOB, DAY_BEFORE) == 0
    # A reminder computed for a time the meeting no longer has sends nothing.
    async with db.read() as s:
        stale = await reminder_plan(
            s, w.meeting, moved, as_of=DAY_BEFORE, default_timezone="UTC", default_locale="zh_CN"
        )
    assert stale == "moved"
    runs = await outcomes(db)
    assert set(runs) == {
        reminder_key(w.meeting, 1440, STARTS),
        reminder_key(w.meeting, 1440, moved),
    }


async def test_cancelled_and_closed_meetings_get_no_reminders(
    db: Database, clock: FakeClock
) -> None:
    w = await world(db, clock)
    for status in (Status.CANCELLED, Status.CLOSED):
        async with db.transaction() as s:
            await s.execute(update(Meeting).where(Meeting.id == w.meeting).values(status=status))
        assert await due_reminders(db, (1440, 60), DAY_BEFORE - timedelta(days=1), STARTS) == []
        async with db.read() as s:
            plan = await reminder_plan(s, w.meeting, STARTS, as_of=DAY_BEFORE,
                                       default_timezone="UTC", default_locale="zh_CN")  # fmt: skip
        assert plan == status.value
    runner = JobRunner(deps_for(db, clock), [MeetingReminders()])
    assert await runner.run_at(JOB, DAY_BEFORE) == 0
    assert await reminder_items(db) == []


async def test_after_downtime_only_the_nearest_reminder_goes_out_and_never_after_the_start(
    db: Database, clock: FakeClock
) -> None:
    w = await world(db, clock)
    # The bot was down from before the day-before reminder until 20 minutes after the
    # hour-before one; both are within the 48-hour grace: only the nearer one speaks.
    clock.set(HOUR_BEFORE + timedelta(minutes=20))
    runner = JobRunner(deps_for(db, clock, grace_hours=48), [MeetingReminders()])
    assert await runner.tick() == 2
    runs = await outcomes(db)
    assert runs[reminder_key(w.meeting, 1440, STARTS)] == ("done", {"stale": "superseded"})
    assert runs[reminder_key(w.meeting, 60, STARTS)][1] == {
        "private": 3, "mentioned": 2, "skipped": 1,
    }  # fmt: skip
    items = await reminder_items(db)
    assert len([i for i in items if not i.is_group]) == 3
    assert all(
        "将于 40 分钟后开始" in i.payload["html"] or "starts in 40 min" in i.payload["html"]
        for i in items
    )
    # Once the meeting has begun, a reminder found late says nothing.
    async with db.transaction() as s:
        await s.execute(delete(JobRun))
    clock.set(STARTS + timedelta(minutes=5))
    assert await JobRunner(deps_for(db, clock, grace_hours=48), [MeetingReminders()]).tick() == 2
    assert all(d == {"stale": "started"} for _, d in (await outcomes(db)).values())
    assert len(await reminder_items(db)) == len(items)


async def test_times_are_in_the_branchs_time_zone(db: Database, clock: FakeClock) -> None:
    w = await world(db, clock)
    async with db.transaction() as s:
        await s.execute(
            update(Organization)
            .where(Organization.id == w.committee)
            .values(timezone="Europe/Berlin")
        )
    runner = JobRunner(deps_for(db, clock), [MeetingReminders()])
    assert await runner.run_at(JOB, DAY_BEFORE) == 1
    private = {i.chat_id: i.payload["html"] for i in await reminder_items(db) if not i.is_group}
    assert "12月5日（周六）12:30" in private[w.uids["sec"]]


async def test_the_organizer_is_not_asked_to_answer_his_own_meeting(
    db: Database, clock: FakeClock
) -> None:
    """The secretary who published the meeting is reminded of it, without 参加 / 请假."""
    w = await world(db, clock)
    async with db.transaction() as s:
        row = await s.get(Meeting, w.meeting)
        assert row is not None
        row.created_by = w.uids["sec"]
    async with db.read() as s:
        plan = await reminder_plan(
            s, w.meeting, STARTS, as_of=DAY_BEFORE, default_timezone="Asia/Shanghai",
            default_locale="zh_CN",
        )  # fmt: skip
    assert not isinstance(plan, str)
    assert "陈书记" not in {p.name for p in plan.unanswered}
    assert "陈书记" in {p.name for p in plan.attending}
    runner = JobRunner(deps_for(db, clock), [MeetingReminders()])
    assert await runner.run_at(JOB, DAY_BEFORE + timedelta(seconds=20)) == 1
    private = {i.chat_id: i.payload for i in await reminder_items(db) if not i.is_group}
    sec = private[w.uids["sec"]]
    assert "您还没有回复" not in sec["html"]
    assert sec["buttons"] == []
