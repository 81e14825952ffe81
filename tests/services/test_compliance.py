"""The compliance service: loading many branches, overrides along the ancestry, time zones,
finished periods and the committee's monthly table, on a real database."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from bot.cli_org import add_org_parser, org_command
from bot.config import parse_config
from domain.compliance import MeetingType, PeriodKind, Requirement
from domain.orgs import Level, Role, Status
from services.compliance import (
    branch_contacts,
    committee_admins,
    committee_tables,
    due_within,
    load_calendar,
    load_tree,
    missed_between,
    open_obligations,
    overseers,
    requirements_of,
    set_requirements,
)
from services.errors import Denied, ServiceError
from services.users import Person, touch_user
from storage.db import Database
from storage.models import (
    AuditEntry,
    Meeting,
    MeetingAttendance,
    Member,
    Organization,
    PartyGroup,
)
from tests.conftest import FakeClock
from tests.services.factories import SUPER, Tree, member, office, org, person, tree

M = MeetingType
TZ = "Asia/Shanghai"
START = datetime(2026, 1, 1, 2, 0, tzinfo=UTC)  # the tree exists from New Year's Day


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


async def _set_overrides(db: Database, org_id: int, overrides: dict[str, str | None]) -> None:
    async with db.transaction() as s:
        await s.execute(
            update(Organization).where(Organization.id == org_id).values(requirements=overrides)
        )


async def _set_zone(db: Database, org_id: int, zone: str) -> None:
    async with db.transaction() as s:
        await s.execute(update(Organization).where(Organization.id == org_id).values(timezone=zone))


async def held(
    db: Database,
    org_id: int,
    at: datetime,
    *types: MeetingType,
    status: str = "closed",
    group: int | None = None,
    audience: str = "branch",
    present: list[int] | None = None,
) -> int:
    """A meeting row as the meeting service leaves it, with sign-ins."""
    async with db.transaction() as s:
        row = Meeting(
            org_id=org_id, party_group_id=group, types=[t.value for t in types], starts_at=at,
            place="会议室", topic="学习", audience="party_group" if group else audience,
            status=status, version=1, counts_dirty=False, created_at=at - timedelta(days=3),
            closed_at=at + timedelta(hours=2) if status == "closed" else None,
            cancelled_at=at if status == "cancelled" else None,
        )  # fmt: skip
        s.add(row)
        await s.flush()
        for member_id in present or []:
            s.add(MeetingAttendance(meeting_id=row.id, member_id=member_id, signed_at=at,
                                    signed_by="self"))  # fmt: skip
        return row.id


def only(*kinds: MeetingType) -> dict[str, str | None]:
    """Overrides that leave just these types required (at their default frequency)."""
    return {k.value: None for k in MeetingType if k not in kinds}


# ---- requirements along the ancestry ----


async def test_overrides_apply_along_the_ancestry_nearest_last(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    await _set_overrides(db, t.committee, {"heart_talk": None, "party_lesson": "2/quarter"})
    await _set_overrides(db, t.sub_committee, {"heart_talk": "half_year", "bogus": "month"})
    async with db.read() as s:
        cal = await load_calendar(s, default_tz=TZ, first=date(2026, 1, 1), last=date(2026, 3, 31))
    a, b, c = (cal.branches[i].requirements for i in (t.branch_a, t.branch_b, t.branch_c))
    assert a[M.HEART_TALK] == Requirement(PeriodKind.HALF_YEAR)
    assert a[M.PARTY_LESSON] == Requirement(PeriodKind.QUARTER, 2)
    assert M.HEART_TALK not in b
    assert b[M.PARTY_LESSON] == Requirement(PeriodKind.QUARTER, 2)
    assert c[M.HEART_TALK] == Requirement(PeriodKind.YEAR)  # another committee: defaults
    assert set(cal.branches) == {t.branch_a, t.branch_b, t.branch_c}

    view = await requirements_of(db, SUPER, t.branch_a, clock.now().date(), TZ)
    lines = {line.type: line for line in view.lines}
    assert lines[M.HEART_TALK].source == "软件园两新工委"
    assert lines[M.PARTY_LESSON].source == "高新区综合党委"
    assert lines[M.THEME_DAY].source is None
    assert not any(line.own for line in view.lines)


async def test_setting_frequencies_is_for_committees_audited_and_authorized(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    now, today = clock.now(), clock.now().date()
    view = await set_requirements(
        db, SUPER, t.sub_committee, now=now, today=today, default_tz=TZ,
        changes={M.THEME_DAY: Requirement(PeriodKind.MONTH, 2), M.HEART_TALK: None},
    )  # fmt: skip
    lines = {line.type: line for line in view.lines}
    assert lines[M.THEME_DAY].effective == Requirement(PeriodKind.MONTH, 2)
    assert lines[M.THEME_DAY].own
    assert lines[M.HEART_TALK].effective is None
    view = await set_requirements(
        db, SUPER, t.sub_committee, changes={}, clear=[M.THEME_DAY], now=now, today=today,
        default_tz=TZ,
    )  # fmt: skip
    assert {line.type: line for line in view.lines}[M.THEME_DAY].source is None
    async with db.read() as s:
        stored = await s.scalar(
            select(Organization.requirements).where(Organization.id == t.sub_committee)
        )
        audits = (
            await s.scalars(select(AuditEntry).where(AuditEntry.action == "org.requirements"))
        ).all()
    assert stored == {"heart_talk": None}
    assert len(audits) == 2
    assert audits[0].after == {"theme_day": "2/month", "heart_talk": None}
    with pytest.raises(ServiceError, match=r"requirements\.not_committee"):
        await set_requirements(db, SUPER, t.branch_a, changes={M.THEME_DAY: None}, now=now,
                               today=today, default_tz=TZ)  # fmt: skip
    stranger = await person(db, clock, 5_000_000_777)
    with pytest.raises(Denied):
        await set_requirements(db, stranger, t.committee, changes={M.THEME_DAY: None}, now=now,
                               today=today, default_tz=TZ)  # fmt: skip


# ---- time zones, open obligations, finished periods ----


async def test_meeting_dates_are_counted_in_the_branch_time_zone(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    for committee in (t.committee, t.other_committee):
        await _set_overrides(db, committee, only(M.THEME_DAY))
    await _set_zone(db, t.other_committee, "America/Los_Angeles")
    # 03:00 UTC on 1 December: still 30 November in Los Angeles, already December in China.
    at = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    await held(db, t.branch_b, at, M.THEME_DAY)
    await held(db, t.branch_c, at, M.THEME_DAY)
    async with db.read() as s:
        missed = await missed_between(
            s, since=date(2026, 11, 30), until=date(2026, 11, 30), default_tz=TZ
        )
        tree_ = await load_tree(s, TZ)
    assert tree_.zone(t.branch_c) == "America/Los_Angeles"
    assert tree_.zone(t.branch_a) == TZ
    assert {m.branch_id for m in missed} == {t.branch_a, t.branch_b}
    assert all(o.type is M.THEME_DAY for m in missed for o in m.obligations)
    # Zone by zone, as the jobs ask.
    async with db.read() as s:
        west = await missed_between(
            s, since=date(2026, 11, 30), until=date(2026, 11, 30), default_tz=TZ,
            zone="America/Los_Angeles",
        )  # fmt: skip
    assert west == []


async def test_open_and_due_obligations_as_of_each_branch_today(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    await _set_overrides(db, t.committee, only(M.GENERAL_MEETING, M.THEME_DAY, M.LIFE_MEETING))
    await held(db, t.branch_a, datetime(2026, 12, 2, 6, 0, tzinfo=UTC), M.THEME_DAY)
    await held(db, t.branch_a, datetime(2026, 12, 3, 6, 0, tzinfo=UTC), M.GENERAL_MEETING,
               status="cancelled")  # fmt: skip
    now = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)
    async with db.read() as s:
        open_ = {
            x.branch_id: x
            for x in await open_obligations(s, now=now, default_tz=TZ, org_ids=[t.branch_a])
        }
        due = await due_within(s, now=now, days=7, default_tz=TZ, org_ids=[t.branch_a])
    status = open_[t.branch_a]
    assert status.today == date(2026, 12, 4)
    # The theme day is held; the general meeting (cancelled) is not; the life meeting's
    # year ends this month, so it is listed too.
    assert [(o.type, o.period.kind, o.held) for o in status.obligations] == [
        (M.GENERAL_MEETING, PeriodKind.QUARTER, 0),
        (M.LIFE_MEETING, PeriodKind.YEAR, 0),
    ]
    assert status.obligations[0].days_remaining == 27
    assert due == []  # nothing ends within a week of 4 December
    later = datetime(2026, 12, 24, 1, 0, tzinfo=UTC)
    async with db.read() as s:
        due = await due_within(s, now=later, days=7, default_tz=TZ, org_ids=[t.branch_a])
    assert [(o.type, o.days_remaining) for o in due[0].obligations] == [
        (M.GENERAL_MEETING, 7),
        (M.LIFE_MEETING, 7),
    ]


async def test_history_reports_each_finished_period_once_and_per_party_group(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    await _set_overrides(db, t.committee, only(M.GROUP_MEETING, M.PARTY_LESSON))
    async with db.transaction() as s:
        groups = [PartyGroup(org_id=t.branch_b, name=n) for n in ("第一党小组", "第二党小组")]
        s.add_all(groups)
        await s.flush()
        first, second = groups[0].id, groups[1].id
    for month in (10, 11, 12):
        await held(db, t.branch_b, datetime(2026, month, 10, 6, tzinfo=UTC), M.GROUP_MEETING,
                   group=first)  # fmt: skip
    await held(db, t.branch_b, datetime(2026, 12, 10, 6, tzinfo=UTC), M.PARTY_LESSON)
    async with db.read() as s:
        november = await missed_between(
            s, since=date(2026, 11, 30), until=date(2026, 11, 30), default_tz=TZ,
            org_ids=[t.branch_b],
        )  # fmt: skip
        december = await missed_between(
            s, since=date(2026, 12, 1), until=date(2026, 12, 31), default_tz=TZ,
            org_ids=[t.branch_b],
        )  # fmt: skip
    (nov,) = november
    assert [(o.type, o.party_group_id, o.period.key) for o in nov.obligations] == [
        (M.GROUP_MEETING, second, "2026-11")
    ]
    assert nov.group_names[second] == "第二党小组"
    (dec,) = december
    assert [(o.type, o.party_group_id, o.period.key) for o in dec.obligations] == [
        (M.GROUP_MEETING, second, "2026-12")  # Q4's lesson was held: not missed
    ]


# ---- the committee table ----


async def _attendance_world(db: Database, clock: FakeClock) -> tuple[Tree, dict[str, int]]:
    t = await tree(db, clock)
    await _set_overrides(db, t.committee, only(M.THEME_DAY, M.GENERAL_MEETING))
    people = {}
    for i in range(4):
        people[f"a{i}"] = await member(db, clock, t.branch_b, f"甲{i}")
    # One member joins in November: not expected at October's meeting.
    clock.set(datetime(2026, 11, 2, 2, tzinfo=UTC))
    people["late"] = await member(db, clock, t.branch_b, "迟到")
    people["gone"] = await member(db, clock, t.branch_b, "离开", status=Status.LEFT)
    async with db.transaction() as s:
        await s.execute(
            update(Member).where(Member.id == people["gone"]).values(left_on=date(2026, 11, 5))
        )
    return t, people


async def test_committee_table_counts_obligations_meetings_and_attendance(
    db: Database, clock: FakeClock
) -> None:
    t, p = await _attendance_world(db, clock)
    b = t.branch_b
    # October: theme day with 2 of 4 present. November: theme day + general meeting, 5
    # expected (4 + the newcomer; the one who left on 5 Nov is off), 4 present.
    await held(db, b, datetime(2026, 10, 9, 6, tzinfo=UTC), M.THEME_DAY, present=[p["a0"], p["a1"]])
    await held(
        db, b, datetime(2026, 11, 20, 6, tzinfo=UTC), M.THEME_DAY, M.GENERAL_MEETING,
        present=[p["a0"], p["a1"], p["a2"], p["late"]],
    )  # fmt: skip
    await held(db, b, datetime(2026, 12, 2, 6, tzinfo=UTC), M.THEME_DAY)  # after the month
    # A branch created in December is not in November's table.
    clock.set(datetime(2026, 12, 1, 2, tzinfo=UTC))
    await org(db, clock, "新支部", Level.BRANCH, t.committee)
    async with db.read() as s:
        tables = await committee_tables(
            s, [t.committee, t.sub_committee], month=date(2026, 11, 30), default_tz=TZ
        )
    table = tables[t.committee]
    assert [r.name for r in table.rows] == ["乙公司联合党支部", "甲公司党支部"]
    row = table.rows[0]
    assert row.parent_name == "高新区综合党委"
    # November: its theme day was held (Q4 has not ended): 1 of 1.
    assert (row.month.met, row.month.required) == (1, 1)
    # The year: eleven theme days and three quarters' general meetings were owed; the
    # October and November theme days were held.
    assert (row.year.met, row.year.required) == (2, 14)
    assert row.missed_month == ()
    assert (row.meetings_month, row.meetings_year) == (1, 2)
    assert row.attendance_month == pytest.approx(4 / 5)
    assert row.attendance_year == pytest.approx(6 / 9)
    other = table.rows[1]
    assert [o.type for o in other.missed_month] == [M.THEME_DAY]
    assert other.attendance_year is None  # no meeting, nothing to measure
    assert [r.name for r in tables[t.sub_committee].rows] == ["甲公司党支部"]


# ---- who is told ----


async def test_contacts_fall_back_from_secretary_to_those_who_started_the_bot(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    today = clock.now().date()
    uids = iter(range(5_000_000_100, 5_000_000_200))

    async def officer(branch: int, role: Role, *, started: bool) -> int:
        uid = next(uids)
        await touch_user(db, Person(id=uid, first_name="同志", language_code="en"), clock.now(),
                         started=started)  # fmt: skip
        member_id = await member(db, clock, branch, f"干部{uid % 100}", user_id=uid)
        await office(db, clock, branch, role, member_id=member_id)
        return uid

    await officer(t.branch_a, Role.SECRETARY, started=False)
    deputy = await officer(t.branch_a, Role.DEPUTY, started=True)
    secretary_b = await officer(t.branch_b, Role.SECRETARY, started=True)
    await officer(t.branch_b, Role.ORGANIZATION, started=True)
    admin = await person(db, clock, next(uids))
    await touch_user(db, Person(id=admin.user_id, first_name="管理员"), clock.now(), started=True)
    await office(db, clock, t.committee, Role.COMMITTEE_ADMIN, user_id=admin.user_id)
    sub_admin = next(uids)
    await touch_user(db, Person(id=sub_admin, first_name="分管"), clock.now(), started=True)
    await office(db, clock, t.sub_committee, Role.COMMITTEE_ADMIN, user_id=sub_admin)
    guide = next(uids)
    await touch_user(db, Person(id=guide, first_name="指导员"), clock.now(), started=True)
    await office(db, clock, t.general, Role.INSTRUCTOR, user_id=guide)
    async with db.read() as s:
        contacts = await branch_contacts(s, [t.branch_a, t.branch_b, t.branch_c], today, "zh_CN")
        tree_ = await load_tree(s, TZ)
        seen = await overseers(s, tree_, [t.branch_a, t.branch_b], today, "zh_CN")
        admins = await committee_admins(s, [t.committee, t.other_committee], today, "zh_CN")
    assert contacts[t.branch_a].user_id == deputy
    assert contacts[t.branch_a].locale == "en"
    assert contacts[t.branch_b].user_id == secretary_b
    assert t.branch_c not in contacts
    # branch_a's nearest committee is the sub-committee; its instructor sits on the general
    # branch in between. branch_b sits directly under the top committee.
    assert {r.user_id for r in seen[t.branch_a]} == {sub_admin, guide}
    assert {r.user_id for r in seen[t.branch_b]} == {admin.user_id}
    assert [r.user_id for r in admins[t.committee]] == [admin.user_id]
    assert t.other_committee not in admins


# ---- zhibu org requirements ----


def _cli(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="zhibu")
    add_org_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["org", "requirements", *argv])


async def test_the_cli_shows_sets_and_clears_a_committee_s_frequencies(
    db: Database, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    t = await tree(db, clock)
    cfg = parse_config(
        {"telegram": {"token": "1:x"}, "database": {"url": db.url}}, config_dir=Path("."), env={}
    )
    committee = str(t.committee)
    assert await org_command(cfg, _cli(committee, "--set", "theme_day=2/month",
                                       "--none", "heart_talk")) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "theme_day               2/month       set here" in out
    assert "heart_talk              off           set here" in out
    assert "general_meeting         quarter       default" in out
    assert await org_command(cfg, _cli(str(t.branch_a))) == 0
    assert "theme_day               2/month       set by 高新区综合党委" in capsys.readouterr().out
    assert await org_command(cfg, _cli(committee, "--clear", "theme_day")) == 0
    async with db.read() as s:
        stored = await s.scalar(
            select(Organization.requirements).where(Organization.id == t.committee)
        )
        audits = await s.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "org.requirements")
        )
    assert stored == {"heart_talk": None}
    assert audits == 2
    # Branches take their committee's frequencies; they set none of their own.
    assert await org_command(cfg, _cli(str(t.branch_a), "--none", "theme_day")) == 1
    assert "committees only" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["1", "--set", "theme_day=weekly"],
        ["1", "--set", "theme_day"],
        ["1", "--set", "tea_party=month"],
        ["1", "--clear", "everything"],
        ["x"],
    ],
)
def test_the_cli_refuses_unreadable_frequencies(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        _cli(*argv)
    assert exc.value.code == 2
    assert "usage:" in capsys.readouterr().err
