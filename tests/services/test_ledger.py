"""The ledger (台账) service: who may read it, its counts, marks, quorum and compliance, and
absence streaks for many branches at once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from fractions import Fraction
from typing import Any

import pytest
from sqlalchemy import event, select, update

from domain.compliance import MeetingType, PeriodKind
from domain.meetings import Answer, Audience, Quorum, SignedBy, Status
from domain.meetings_attendance import Mark
from domain.orgs import Level, Role, Stage
from domain.orgs import Status as MemberStatus
from services.authz import Actor
from services.errors import Denied, NotFound, ServiceError
from services.ledger import (
    AbsenceFlag,
    Ledger,
    Standing,
    absence_streaks,
    branch_absences,
    ledger,
    ledger_branches,
)
from services.orgs import add_party_group
from storage.db import Database
from storage.models import (
    AuditEntry,
    Meeting,
    MeetingAttendance,
    MeetingMinutes,
    MeetingRsvp,
    Member,
    Organization,
)
from tests.conftest import FakeClock
from tests.services.factories import (
    BASE_UID,
    SUPER,
    linked_member,
    member,
    office,
    org,
    person,
    today,
)

M = MeetingType
S = Standing
# The marks of the attendance grid: present, 代签, 补签, leave, absent, not expected.
P, X, L, V, A, N = (
    Mark.PRESENT,
    Mark.PROXY,
    Mark.LATE,
    Mark.LEAVE,
    Mark.ABSENT,
    Mark.NOT_EXPECTED,
)
TZ = "Asia/Shanghai"
SEP_1 = datetime(2026, 9, 1, 1, 0, tzinfo=UTC)
DEC_1 = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai


def utc(month: int, day: int, hour: int = 11, minute: int = 30, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


async def add_meeting(
    db: Database,
    org_id: int,
    at: datetime,
    types: tuple[MeetingType, ...],
    *,
    published: datetime,
    audience: Audience = Audience.BRANCH,
    group: int | None = None,
    status: Status = Status.CLOSED,
    topic: str = "学习",
    host: int | None = None,
    recorder: int | None = None,
    lecturer: int | None = None,
) -> int:
    async with db.transaction() as s:
        row = Meeting(
            org_id=org_id,
            party_group_id=group,
            types=[t.value for t in types],
            starts_at=at,
            place="会议室",
            topic=topic,
            host_id=host,
            recorder_id=recorder,
            lecturer_id=lecturer,
            audience=audience.value,
            status=status.value,
            counts_dirty=False,
            version=1,
            created_at=published,
        )
        s.add(row)
        await s.flush()
        return row.id


async def sign(db: Database, meeting_id: int, member_id: int, by: SignedBy) -> None:
    async with db.transaction() as s:
        s.add(
            MeetingAttendance(
                meeting_id=meeting_id, member_id=member_id, signed_at=utc(12, 1), signed_by=by.value
            )
        )


async def reply(db: Database, meeting_id: int, member_id: int, answer: Answer) -> None:
    reason = "出差" if answer is Answer.LEAVE else None
    async with db.transaction() as s:
        s.add(
            MeetingRsvp(
                meeting_id=meeting_id,
                member_id=member_id,
                answer=answer.value,
                reason=reason,
                answered_at=utc(9, 1),
            )
        )


@dataclass
class Scenario:
    branch: int
    other: int
    committee: int
    secretary: Actor
    groups: dict[str, int]
    people: dict[str, int]
    meetings: dict[str, int]


async def scenario(db: Database, clock: FakeClock) -> Scenario:
    """甲支部 from September to December 2026 (see the comments for who did what)."""
    clock.set(SEP_1)
    committee = await org(db, clock, "两新工委", Level.COMMITTEE, None)
    branch = await org(db, clock, "甲支部", Level.BRANCH, committee)
    other = await org(db, clock, "乙支部", Level.BRANCH, committee)
    now, day = clock.now(), today(clock)
    one = (await add_party_group(db, SUPER, branch, "一组", now, day)).id
    two = (await add_party_group(db, SUPER, branch, "二组", now, day)).id
    secretary, chen = await linked_member(
        db, clock, branch, BASE_UID + 1, "陈书记", role=Role.SECRETARY
    )
    _, wang = await linked_member(db, clock, branch, BASE_UID + 2, "王芳", role=Role.ORGANIZATION)
    async with db.transaction() as s:
        await s.execute(update(Member).where(Member.id == wang).values(party_group_id=one))
    p = {
        "chen": chen,
        "wang": wang,
        "li": await member(db, clock, branch, "李娜", party_group_id=one),
        "zhang": await member(db, clock, branch, "张伟", party_group_id=two),
        "liu": await member(
            db, clock, branch, "刘新", stage=Stage.PROBATIONARY, party_group_id=two
        ),
        "qian": await member(db, clock, branch, "钱某"),
        "sun": await member(db, clock, branch, "孙某"),
    }
    async with db.transaction() as s:  # 孙某 became a full member on 1 November
        await s.execute(
            update(Member).where(Member.id == p["sun"]).values(full_on=date(2026, 11, 1))
        )
    m: dict[str, int] = {}
    # September: a theme day only 张伟 came to.
    m["G"] = await add_meeting(db, branch, utc(9, 20), (M.THEME_DAY,), published=utc(9, 10))
    await sign(db, m["G"], p["zhang"], SignedBy.SELF)
    # 10 October: theme day and general meeting; 李娜 on leave; 刘新 signed in by the recorder.
    m["A"] = await add_meeting(
        db,
        branch,
        utc(10, 10),
        (M.THEME_DAY, M.GENERAL_MEETING),
        published=utc(10, 1),
        topic="发展党员",
        host=chen,
        recorder=wang,
    )
    await sign(db, m["A"], chen, SignedBy.SELF)
    await sign(db, m["A"], wang, SignedBy.SELF)
    await sign(db, m["A"], p["liu"], SignedBy.PROXY)
    await reply(db, m["A"], p["li"], Answer.LEAVE)
    await reply(db, m["A"], wang, Answer.ATTEND)
    async with db.transaction() as s:
        s.add(
            MeetingMinutes(
                meeting_id=m["A"],
                fields={"activity": "重温入党誓词", "topics": "讨论  发展党员\n人选"},
                photos=[],
                written_at=utc(10, 11),
                updated_at=utc(10, 11),
            )
        )
    # 赵强 joins on 20 October, after the general meeting was published.
    clock.set(utc(10, 20))
    p["zhao"] = await member(db, clock, branch, "赵强")
    # 5 November: committee meeting; 王芳 signed in afterwards (补签).
    m["B"] = await add_meeting(
        db,
        branch,
        utc(11, 5),
        (M.COMMITTEE_MEETING,),
        published=utc(11, 1),
        audience=Audience.COMMITTEE,
    )
    await sign(db, m["B"], chen, SignedBy.SELF)
    await sign(db, m["B"], wang, SignedBy.LATE)
    # 钱某 left the branch on 1 November.
    async with db.transaction() as s:
        await s.execute(
            update(Member)
            .where(Member.id == p["qian"])
            .values(status=MemberStatus.LEFT, left_on=date(2026, 11, 1))
        )
    # 12 November: party lesson; 刘新 补签.
    m["C"] = await add_meeting(
        db, branch, utc(11, 12), (M.PARTY_LESSON,), published=utc(11, 2), lecturer=chen
    )
    for key in ("chen", "wang", "li", "zhao"):
        await sign(db, m["C"], p[key], SignedBy.SELF)
    await sign(db, m["C"], p["liu"], SignedBy.LATE)
    # 20 November: 二组's group meeting; 张伟 on leave.
    m["D"] = await add_meeting(
        db,
        branch,
        utc(11, 20),
        (M.GROUP_MEETING,),
        published=utc(11, 13),
        audience=Audience.PARTY_GROUP,
        group=two,
    )
    await reply(db, m["D"], p["zhang"], Answer.LEAVE)
    await sign(db, m["D"], p["liu"], SignedBy.SELF)
    # Called off, and one not held yet: neither is in the register.
    m["E"] = await add_meeting(
        db, branch, utc(11, 25), (M.THEME_DAY,), published=utc(11, 14), status=Status.CANCELLED
    )
    await sign(db, m["E"], chen, SignedBy.SELF)
    m["F"] = await add_meeting(
        db, branch, utc(12, 10), (M.THEME_DAY,), published=utc(11, 28), status=Status.SCHEDULED
    )
    clock.set(DEC_1)
    return Scenario(branch, other, committee, secretary, {"one": one, "two": two}, p, m)


async def q4(db: Database, clock: FakeClock, world: Scenario, actor: Actor | None = None) -> Ledger:
    return await ledger(
        db,
        actor or world.secretary,
        world.branch,
        date(2026, 10, 1),
        date(2026, 12, 31),
        today(clock),
        now=clock.now(),
        default_tz=TZ,
        absence_months=2,
    )


async def test_meeting_rows_count_sign_ins_leave_and_the_full_member_quorum(
    db: Database, clock: FakeClock
) -> None:
    world = await scenario(db, clock)
    result = await q4(db, clock, world)
    assert result.org.name == "甲支部"
    assert result.timezone == TZ
    m = world.meetings
    assert [r.id for r in result.meetings] == [m["A"], m["B"], m["C"], m["D"]]
    a, b, c, d = result.meetings
    assert a.starts_at.isoformat() == "2026-10-10T19:30:00+08:00"
    assert a.types == (M.GENERAL_MEETING, M.THEME_DAY)
    assert (a.topic, a.host, a.recorder, a.lecturer) == ("发展党员", "陈书记", "王芳", None)
    counts = (a.expected, a.present_self, a.present_proxy, a.present_late, a.on_leave, a.absent)
    assert counts == (7, 2, 1, 0, 1, 3)  # 赵强 joined after it was published
    assert a.present == 3
    assert a.rate == Fraction(3, 7)
    # Full members that day: 陈 王 李 张 钱 (孙某 was still probationary, 刘新 is): 2 of 5 came.
    assert a.quorum == Quorum(5, 2)
    assert not a.quorum.reached
    assert a.has_minutes
    assert a.summary == "讨论 发展党员 人选"  # the topics, on one line
    assert (b.expected, b.present_self, b.present_late, b.absent) == (2, 1, 1, 0)
    assert b.audience is Audience.COMMITTEE
    assert b.quorum is None
    assert not b.has_minutes
    assert b.summary is None
    # 钱某 left on 1 November; 赵强 was on the roster when the lesson was published.
    assert (c.expected, c.present_self, c.present_late, c.absent) == (7, 4, 1, 2)
    assert c.lecturer == "陈书记"
    assert (d.expected, d.present_self, d.on_leave, d.absent) == (2, 1, 1, 0)
    assert d.party_group == "二组"


async def test_every_member_has_a_mark_for_every_meeting(db: Database, clock: FakeClock) -> None:
    world = await scenario(db, clock)
    result = await q4(db, clock, world)
    grid = {(r.name, r.stage): r.marks for r in result.members}
    assert grid == {
        ("孙某", Stage.FULL): (A, N, A, N),
        ("张伟", Stage.FULL): (A, N, A, V),
        ("李娜", Stage.FULL): (V, N, P, N),
        ("王芳", Stage.FULL): (P, L, P, N),
        ("赵强", Stage.FULL): (N, N, P, N),  # joined after the general meeting's notice
        ("钱某", Stage.FULL): (A, N, N, N),  # left before the lesson
        ("陈书记", Stage.FULL): (P, P, P, N),
        ("刘新", Stage.PROBATIONARY): (X, N, L, P),
    }
    # Full members first, then probationary; totals over the meetings that expected them.
    assert [r.name for r in result.members][-1] == "刘新"
    totals = {r.name: (r.attended, r.expected) for r in result.members}
    assert totals == {
        "孙某": (0, 2),
        "张伟": (0, 3),
        "李娜": (1, 2),
        "王芳": (3, 3),
        "赵强": (1, 1),
        "钱某": (0, 1),
        "陈书记": (3, 3),
        "刘新": (3, 3),
    }
    assert next(r for r in result.members if r.name == "李娜").rate == Fraction(1, 2)


async def test_compliance_of_the_quarter_with_open_and_exempt_obligations(
    db: Database, clock: FakeClock
) -> None:
    world = await scenario(db, clock)
    result = await q4(db, clock, world)
    rows = [
        (c.type, c.party_group, c.period.key, c.held, c.requirement.count, c.standing)
        for c in result.compliance
    ]
    assert rows == [
        (M.COMMITTEE_MEETING, None, "2026-10", 0, 1, S.UNMET),
        (M.GROUP_MEETING, "一组", "2026-10", 0, 1, S.UNMET),
        (M.GROUP_MEETING, "二组", "2026-10", 0, 1, S.UNMET),
        (M.THEME_DAY, None, "2026-10", 1, 1, S.MET),
        (M.COMMITTEE_MEETING, None, "2026-11", 1, 1, S.MET),
        (M.GROUP_MEETING, "一组", "2026-11", 0, 1, S.UNMET),
        (M.GROUP_MEETING, "二组", "2026-11", 1, 1, S.MET),
        (M.THEME_DAY, None, "2026-11", 0, 1, S.UNMET),  # the one on the 25th was called off
        (M.GENERAL_MEETING, None, "2026-Q4", 1, 1, S.MET),
        (M.COMMITTEE_MEETING, None, "2026-12", 0, 1, S.OPEN),
        (M.GROUP_MEETING, "一组", "2026-12", 0, 1, S.OPEN),
        (M.GROUP_MEETING, "二组", "2026-12", 0, 1, S.OPEN),
        (M.PARTY_LESSON, None, "2026-Q4", 1, 1, S.MET),
        (M.THEME_DAY, None, "2026-12", 0, 1, S.OPEN),
        # Created on 1 September: too little of 2026 was left to owe the yearly ones.
        (M.LIFE_MEETING, None, "2026", 0, 1, S.EXEMPT),
        (M.DEMOCRATIC_EVALUATION, None, "2026", 0, 1, S.EXEMPT),
        (M.HEART_TALK, None, "2026", 0, 1, S.EXEMPT),
    ]
    assert (result.met, result.unmet, result.open) == (5, 5, 4)


async def test_a_meeting_not_closed_is_in_the_register_but_meets_no_obligation(
    db: Database, clock: FakeClock
) -> None:
    world = await scenario(db, clock)
    async with db.transaction() as s:
        await s.execute(
            update(Meeting).where(Meeting.id == world.meetings["D"]).values(status=Status.OPEN)
        )
    result = await q4(db, clock, world)
    assert [m.id for m in result.meetings][-1] == world.meetings["D"]
    assert result.meetings[-1].status is Status.OPEN
    (row,) = [c for c in result.compliance if c.party_group == "二组" and c.period.key == "2026-11"]
    assert (row.held, row.standing) == (0, Standing.UNMET)


async def test_a_committee_override_changes_what_the_branch_owes(
    db: Database, clock: FakeClock
) -> None:
    world = await scenario(db, clock)
    async with db.transaction() as s:
        await s.execute(
            update(Organization)
            .where(Organization.id == world.committee)
            .values(requirements={"theme_day": "off", "party_lesson": "2/quarter", "x": "month"})
        )
    result = await ledger(
        db,
        world.secretary,
        world.branch,
        date(2026, 11, 1),
        date(2026, 11, 30),
        today(clock),
        now=clock.now(),
        default_tz=TZ,
        absence_months=2,
    )
    assert [m.id for m in result.meetings] == [world.meetings[k] for k in "BCD"]
    types = {(c.type, c.party_group, c.period.kind) for c in result.compliance}
    assert types == {
        (M.COMMITTEE_MEETING, None, PeriodKind.MONTH),
        (M.GROUP_MEETING, "一组", PeriodKind.MONTH),
        (M.GROUP_MEETING, "二组", PeriodKind.MONTH),
    }  # November ends no quarter, and the theme day is not required any more
    lesson = await ledger(
        db,
        world.secretary,
        world.branch,
        date(2026, 12, 1),
        date(2026, 12, 31),
        today(clock),
        now=clock.now(),
        default_tz=TZ,
        absence_months=2,
    )
    assert lesson.meetings == ()  # the one on 10 December has not taken place
    (row,) = [c for c in lesson.compliance if c.type is M.PARTY_LESSON]
    assert (row.held, row.requirement.count, row.standing) == (1, 2, Standing.OPEN)


async def test_absence_flags_come_with_the_ledger_and_the_export_is_audited(
    db: Database, clock: FakeClock
) -> None:
    world = await scenario(db, clock)
    result = await q4(db, clock, world)
    p = world.people
    assert result.flags == (
        AbsenceFlag(world.branch, p["sun"], "孙某", 3, 0, None),
        AbsenceFlag(world.branch, p["zhang"], "张伟", 2, 1, date(2026, 9, 20)),
    )
    assert result.absence_months == 2
    async with db.read() as s:
        entry = await s.scalar(select(AuditEntry).where(AuditEntry.action == "ledger.export"))
    assert entry is not None
    assert (entry.actor_id, entry.target_type, entry.target_id) == (
        BASE_UID + 1,
        "org",
        str(world.branch),
    )
    assert entry.after == {"start": "2026-10-01", "end": "2026-12-31", "meetings": 4, "members": 8}


async def test_the_ledger_has_no_phone_numbers(db: Database, clock: FakeClock) -> None:
    world = await scenario(db, clock)
    phones = {f"1380013{member_id:04d}" for member_id in world.people.values()}
    async with db.transaction() as s:
        for member_id in world.people.values():
            await s.execute(
                update(Member).where(Member.id == member_id).values(phone=f"1380013{member_id:04d}")
            )
    text = repr(await q4(db, clock, world))
    assert not any(phone in text for phone in phones)


async def test_readers_are_branch_officers_instructors_and_committee_admins(
    db: Database, clock: FakeClock
) -> None:
    world = await scenario(db, clock)
    day = today(clock)

    async def officer(uid: int, role: Role, org_id: int, **kw: Any) -> Actor:
        if org_id in (world.branch, world.other) and role is not Role.INSTRUCTOR:
            actor, member_id = await linked_member(db, clock, org_id, uid, f"员{uid % 100}")
            await office(db, clock, org_id, role, member_id=member_id, **kw)
            return actor
        actor = await person(db, clock, uid)
        await office(db, clock, org_id, role, user_id=uid, **kw)
        return actor

    allowed = [
        world.secretary,
        SUPER,
        await officer(BASE_UID + 10, Role.DEPUTY, world.branch),
        Actor(BASE_UID + 2),  # 王芳, the organization member
        await officer(BASE_UID + 11, Role.INSTRUCTOR, world.committee),
        await officer(BASE_UID + 12, Role.COMMITTEE_ADMIN, world.committee),
    ]
    refused = [
        await officer(BASE_UID + 20, Role.PROPAGANDA, world.branch),
        await officer(
            BASE_UID + 21, Role.GROUP_LEADER, world.branch, party_group_id=world.groups["one"]
        ),
        await officer(BASE_UID + 22, Role.DUES_KEEPER, world.branch),
        await officer(BASE_UID + 23, Role.SECRETARY, world.other),
        await officer(BASE_UID + 24, Role.DEPUTY, world.branch, end_on=date(2026, 11, 30)),
        await person(db, clock, BASE_UID + 25),
    ]
    for actor in allowed:
        assert (await q4(db, clock, world, actor)).org.id == world.branch
    for actor in refused:
        with pytest.raises(Denied):
            await q4(db, clock, world, actor)
    assert [o.name for o in await ledger_branches(db, allowed[4], day)] == ["乙支部", "甲支部"]
    assert [o.name for o in await ledger_branches(db, world.secretary, day)] == ["甲支部"]
    assert await ledger_branches(db, refused[0], day) == []
    assert len(await ledger_branches(db, SUPER, day)) == 2
    # Only branches have a ledger; a backwards range is refused before anything is read.
    with pytest.raises(NotFound):
        await ledger(
            db,
            SUPER,
            world.committee,
            date(2026, 10, 1),
            date(2026, 10, 31),
            day,
            now=clock.now(),
            default_tz=TZ,
            absence_months=2,
        )
    with pytest.raises(ServiceError):
        await ledger(
            db,
            SUPER,
            world.branch,
            date(2026, 10, 31),
            date(2026, 10, 1),
            day,
            now=clock.now(),
            default_tz=TZ,
            absence_months=2,
        )


async def test_a_deleted_account_keeps_a_nameless_line(db: Database, clock: FakeClock) -> None:
    world = await scenario(db, clock)
    async with db.transaction() as s:
        await s.execute(
            update(Member)
            .where(Member.id == world.people["li"])
            .values(name="", status=MemberStatus.DELETED, left_on=date(2026, 11, 30))
        )
    result = await q4(db, clock, world)
    (row,) = [r for r in result.members if r.member_id == world.people["li"]]
    assert row.name == ""
    assert row.marks == (Mark.LEAVE, Mark.NOT_EXPECTED, Mark.PRESENT, Mark.NOT_EXPECTED)


# ---- absence streaks ----


async def streaks(db: Database, org_ids: list[int], when: date, months: int = 2) -> Any:
    async with db.read() as s:
        return await absence_streaks(s, org_ids, when, months, default_tz=TZ)


async def test_local_months_decide_where_a_meeting_counts(db: Database, clock: FakeClock) -> None:
    clock.set(SEP_1)
    committee = await org(db, clock, "两新工委", Level.COMMITTEE, None)
    branch = await org(db, clock, "丁支部", Level.BRANCH, committee)
    wu = await member(db, clock, branch, "吴用")
    await add_meeting(db, branch, utc(10, 15), (M.THEME_DAY,), published=utc(10, 1))
    # 23:00 on 30 November in Shanghai: November.
    late = await add_meeting(db, branch, utc(11, 30, 15), (M.THEME_DAY,), published=utc(11, 1))
    await sign(db, late, wu, SignedBy.SELF)
    assert await streaks(db, [branch], date(2026, 12, 1), months=1) == {}
    # 01:00 on 1 December in Shanghai: the month not complete yet, so it does not count.
    async with db.transaction() as s:
        await s.execute(update(Meeting).where(Meeting.id == late).values(starts_at=utc(11, 30, 17)))
    found = await streaks(db, [branch], date(2026, 12, 1), months=1)
    assert found == {branch: [AbsenceFlag(branch, wu, "吴用", 1, 0, None)]}
    # The branch's own zone (UTC) puts it back in November.
    async with db.transaction() as s:
        await s.execute(
            update(Organization).where(Organization.id == branch).values(timezone="UTC")
        )
    assert await streaks(db, [branch], date(2026, 12, 1), months=1) == {}


async def test_answers_count_where_the_audience_rule_alone_would_not(
    db: Database, clock: FakeClock
) -> None:
    clock.set(SEP_1)
    committee = await org(db, clock, "两新工委", Level.COMMITTEE, None)
    branch = await org(db, clock, "戊支部", Level.BRANCH, committee)
    first = await add_meeting(db, branch, utc(10, 15), (M.THEME_DAY,), published=utc(10, 1))
    second = await add_meeting(db, branch, utc(11, 15), (M.THEME_DAY,), published=utc(11, 1))
    clock.set(utc(10, 5))
    late = await member(db, clock, branch, "郑新")  # joined after the October notice
    assert await streaks(db, [branch], date(2026, 12, 1), months=1) == {
        branch: [AbsenceFlag(branch, late, "郑新", 1, 0, None)]
    }
    await reply(db, first, late, Answer.LEAVE)  # …but answered it: they were in the audience
    await reply(db, second, late, Answer.ATTEND)  # said yes, never signed in
    assert await branch_absences(db, branch, date(2026, 12, 1), 2, default_tz=TZ) == [
        AbsenceFlag(branch, late, "郑新", 2, 1, None)
    ]


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)


async def test_many_branches_take_the_same_few_queries_as_one(
    db: Database, clock: FakeClock
) -> None:
    clock.set(SEP_1)
    committee = await org(db, clock, "两新工委", Level.COMMITTEE, None)
    branches: list[int] = []
    expected: dict[int, list[AbsenceFlag]] = {}
    for i in range(6):
        branch = await org(db, clock, f"第{i}支部", Level.BRANCH, committee)
        branches.append(branch)
        group = (await add_party_group(db, SUPER, branch, "一组", clock.now(), today(clock))).id
        here = await member(db, clock, branch, f"到会{i}", party_group_id=group)
        away = await member(db, clock, branch, f"缺席{i}", party_group_id=group)
        officer = await member(db, clock, branch, f"支委{i}")
        await office(db, clock, branch, Role.DEPUTY, member_id=officer)
        for month in (9, 10, 11):
            meeting = await add_meeting(
                db,
                branch,
                utc(month, 10),
                (M.GROUP_MEETING,),
                published=utc(month, 1),
                audience=Audience.PARTY_GROUP,
                group=group,
            )
            await sign(db, meeting, here, SignedBy.SELF)
            if month == 10:
                await reply(db, meeting, away, Answer.LEAVE)
        committee_meeting = await add_meeting(
            db,
            branch,
            utc(11, 3),
            (M.COMMITTEE_MEETING,),
            published=utc(11, 1),
            audience=Audience.COMMITTEE,
        )
        await sign(db, committee_meeting, here, SignedBy.LATE)  # answered for: now expected
        expected[branch] = [
            AbsenceFlag(branch, away, f"缺席{i}", 3, 1, None),
            AbsenceFlag(branch, officer, f"支委{i}", 1, 0, None),
        ]
    with statements(db) as one:
        await streaks(db, branches[:1], date(2026, 12, 5), months=1)
    with statements(db) as six:
        found = await streaks(db, branches, date(2026, 12, 5), months=1)
    assert found == expected
    assert len(six) == len(one) <= 8
