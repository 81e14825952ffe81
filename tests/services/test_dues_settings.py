"""党费设置 against a real database: each setting changed once, audited with before and after,
the row created with the defaults when absent; refusals for a member, a keeper of another
branch, a committee, odd values and a typed answer without its question; and the payment-day
job after a change — the new day from next month, this month's reminder once, never skipped."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import delete, select

from domain.dues_cycle import payment_moment
from domain.dues_settings import Setting, SettingsDraft
from domain.orgs import Level, Role
from scheduler.jobs import JobRunner
from services.authz import Actor
from services.drafts import open_draft
from services.dues import settings_of
from services.dues_reminders import JOB
from services.dues_settings import SettingsScreen, ask_setting, change_setting, dues_settings
from services.errors import ServiceError
from storage.db import Database
from storage.models import AuditEntry, DuesSettings, JobRun, OutboxItem
from tests.conftest import FakeClock
from tests.services.factories import BASE_UID, member, office, org
from tests.services.test_dues_cycle import ZONE, World, deps_for, user, world

TZ = "Asia/Shanghai"


def keeper(w: World) -> Actor:
    return Actor(user_id=w.uids["keeper"])


async def change(db: Database, clock: FakeClock, actor: Actor, org_id: int, setting: Setting,
                 value: int, typed: bool = False) -> SettingsScreen:  # fmt: skip
    now = clock.now()
    return await change_setting(db, actor, org_id, setting, value, default_tz=TZ, now=now,
                                today=now.astimezone(UTC).date(), typed=typed)  # fmt: skip


async def audits(db: Database) -> list[tuple[str, object, object]]:
    async with db.read() as s:
        rows = await s.execute(
            select(AuditEntry.action, AuditEntry.before, AuditEntry.after)
            .where(AuditEntry.action.like("dues.settings.%"))
            .order_by(AuditEntry.id)
        )
        return [(a, b, c) for a, b, c in rows.all()]


async def test_each_setting_changed_and_audited(db: Database, clock: FakeClock) -> None:
    clock.set(datetime(2026, 7, 3, 2, tzinfo=UTC))
    w = await world(db, clock)
    async with db.transaction() as s:  # a branch that never saved settings
        await s.execute(delete(DuesSettings).where(DuesSettings.org_id == w.branch))
    screen = await dues_settings(db, keeper(w), w.branch, default_tz=TZ, today=date(2026, 7, 3))
    assert (screen.org_name, screen.settings.payment_day, screen.day_this_month) == ("甲支部", 5, 5)

    screen = await change(db, clock, keeper(w), w.branch, Setting.AHEAD, 0)
    assert screen.changed is Setting.AHEAD
    async with db.read() as s:
        saved = await settings_of(s, w.branch)
    # The row was created with the defaults, and only the one value changed.
    assert (saved.payment_day, saved.advance_cap, saved.arrears_cap, saved.disclosure_months,
            saved.show_amounts) == (5, 0, 6, 3, False)  # fmt: skip
    await change(db, clock, keeper(w), w.branch, Setting.BACK, 12)
    await change(db, clock, keeper(w), w.branch, Setting.EVERY, 12)
    screen = await change(db, clock, keeper(w), w.branch, Setting.DAY, 20)
    assert (screen.settings.payment_day, screen.day_this_month) == (20, 5)  # from next month
    again = await change(db, clock, keeper(w), w.branch, Setting.DAY, 20)
    assert again.changed is None  # the same value: nothing written, nothing audited
    async with db.read() as s:
        saved = await settings_of(s, w.branch)
        row = await s.get(DuesSettings, w.branch)
        assert row is not None
        assert row.updated_by == w.uids["keeper"]
    assert (saved.payment_day, saved.advance_cap, saved.arrears_cap,
            saved.disclosure_months) == (20, 0, 12, 12)  # fmt: skip
    assert await audits(db) == [
        ("dues.settings.advance_cap", {"advance_cap": 6}, {"advance_cap": 0}),
        ("dues.settings.arrears_cap", {"arrears_cap": 6}, {"arrears_cap": 12}),
        ("dues.settings.disclosure_months", {"disclosure_months": 3}, {"disclosure_months": 12}),
        ("dues.settings.payment_day", {"payment_day": 5}, {"payment_day": 20}),
    ]


async def test_refusals(db: Database, clock: FakeClock) -> None:
    clock.set(datetime(2026, 7, 3, 2, tzinfo=UTC))
    w = await world(db, clock)
    committee = await org(db, clock, "别的党委", Level.COMMITTEE, None)
    other = await org(db, clock, "乙支部", Level.BRANCH, committee)
    other_uid = await user(db, clock, BASE_UID + 50)
    other_keeper = await member(db, clock, other, "乙管理员", user_id=other_uid)
    await office(db, clock, other, Role.DUES_KEEPER, member_id=other_keeper,
                 start_on=date(2026, 1, 1))  # fmt: skip
    today = date(2026, 7, 3)
    for actor in (Actor(user_id=w.uids["wang"]), Actor(user_id=other_uid)):
        with pytest.raises(ServiceError) as refused:
            await change(db, clock, actor, w.branch, Setting.DAY, 10)
        assert refused.value.code == "auth.keep_dues"
        with pytest.raises(ServiceError):
            await dues_settings(db, actor, w.branch, default_tz=TZ, today=today)
        with pytest.raises(ServiceError):
            await ask_setting(db, actor, w.branch, Setting.DAY, now=clock.now(), today=today)
    superadmin = Actor(user_id=0, superadmin=True)
    with pytest.raises(ServiceError) as refused:
        await change(db, clock, superadmin, committee, Setting.DAY, 10)
    assert refused.value.code == "dues.settings.not_branch"
    odd = ((Setting.DAY, 0), (Setting.DAY, 29), (Setting.AHEAD, 13), (Setting.BACK, 0),
           (Setting.EVERY, 4), (Setting.DAY, 10**9))  # fmt: skip
    for setting, value in odd:
        with pytest.raises(ServiceError) as refused:
            await change(db, clock, keeper(w), w.branch, setting, value)
        assert refused.value.code.startswith("dues.settings."), (setting, value)
    # A typed answer counts once, and only for the question that was asked.
    with pytest.raises(ServiceError) as refused:
        await change(db, clock, keeper(w), w.branch, Setting.DAY, 10, typed=True)
    assert refused.value.code == "stale"
    await ask_setting(db, keeper(w), w.branch, Setting.AHEAD, now=clock.now(), today=today)
    with pytest.raises(ServiceError):
        await change(db, clock, keeper(w), w.branch, Setting.DAY, 10, typed=True)
    await ask_setting(db, keeper(w), w.branch, Setting.DAY, now=clock.now(), today=today)
    assert isinstance(await open_draft(db, w.uids["keeper"], SettingsDraft), SettingsDraft)
    await change(db, clock, keeper(w), w.branch, Setting.DAY, 10, typed=True)
    assert await open_draft(db, w.uids["keeper"], SettingsDraft) is None
    with pytest.raises(ServiceError) as refused:
        await change(db, clock, keeper(w), w.branch, Setting.DAY, 12, typed=True)
    assert refused.value.code == "stale"
    async with db.read() as s:
        assert (await settings_of(s, w.branch)).payment_day == 10
    assert [a[0] for a in await audits(db)] == ["dues.settings.payment_day"]


async def _days_run(db: Database, clock: FakeClock, w: World, first: date, last: date
                    ) -> dict[int, list[int]]:  # fmt: skip
    """Every local day from first to last, as the runner would at 09:01: the days of each
    month on which the payment-day reminder went (and reached 王芳)."""
    deps = deps_for(db, clock)
    runner = JobRunner(deps)
    reminded: dict[int, list[int]] = {}
    day = first
    while day <= last:
        at = payment_moment(day.year * 100 + day.month, day.day, 9, ZONE) + timedelta(minutes=1)
        clock.set(at)
        async with db.read() as s:
            before = await s.scalar(select(OutboxItem.id).order_by(OutboxItem.id.desc()).limit(1))
        if await runner.run_at(JOB, at):
            async with db.read() as s:
                new = select(OutboxItem.id).where(
                    OutboxItem.chat_id == w.uids["wang"], OutboxItem.id > (before or 0)
                )
                to_wang = (await s.scalars(new)).all()
            assert len(to_wang) == 1
            reminded.setdefault(day.year * 100 + day.month, []).append(day.day)
        day += timedelta(days=1)
    return reminded


async def test_a_later_day_after_this_months_reminder_does_not_remind_twice(
    db: Database, clock: FakeClock
) -> None:
    clock.set(datetime(2026, 7, 1, tzinfo=UTC))
    w = await world(db, clock)
    reminded = await _days_run(db, clock, w, date(2026, 7, 1), date(2026, 7, 7))
    assert reminded == {202607: [5]}
    screen = await change(db, clock, keeper(w), w.branch, Setting.DAY, 10)  # on 7 July
    assert (screen.settings.payment_day, screen.day_this_month) == (10, 5)
    reminded = await _days_run(db, clock, w, date(2026, 7, 8), date(2026, 8, 31))
    assert reminded == {202608: [10]}  # not again on 10 July; 10 August, not 5 August


async def test_a_day_already_past_before_this_months_reminder_is_not_skipped(
    db: Database, clock: FakeClock
) -> None:
    clock.set(datetime(2026, 7, 1, tzinfo=UTC))
    w = await world(db, clock)
    # Changed on 1 July (local) to the 15th: July keeps the 5th it began with.
    await change(db, clock, keeper(w), w.branch, Setting.DAY, 15)
    reminded = await _days_run(db, clock, w, date(2026, 7, 1), date(2026, 7, 7))
    assert reminded == {202607: [5]}  # July began with the 5th
    reminded = await _days_run(db, clock, w, date(2026, 7, 8), date(2026, 8, 9))
    assert reminded == {}
    # On 9 August, before the 15th: moved back to the 5th, already past. August keeps the
    # 15th; September has the 5th.
    screen = await change(db, clock, keeper(w), w.branch, Setting.DAY, 5)
    assert (screen.settings.payment_day, screen.day_this_month) == (5, 15)
    reminded = await _days_run(db, clock, w, date(2026, 8, 10), date(2026, 9, 30))
    assert reminded == {202608: [15], 202609: [5]}
    async with db.read() as s:
        keys = (await s.scalars(select(JobRun.key).where(JobRun.job == JOB)
                                .order_by(JobRun.due_at))).all()  # fmt: skip
    assert keys == [f"202607@5@{ZONE}", f"202608@15@{ZONE}", f"202609@5@{ZONE}"]


async def test_the_job_reads_a_restarted_runner_the_same(db: Database, clock: FakeClock) -> None:
    """A change, then a fresh runner (a restart) on the new day: still no second reminder."""
    clock.set(datetime(2026, 7, 1, tzinfo=UTC))
    w = await world(db, clock)
    assert await _days_run(db, clock, w, date(2026, 7, 5), date(2026, 7, 5)) == {202607: [5]}
    await change(db, clock, keeper(w), w.branch, Setting.DAY, 6)
    deps = deps_for(db, clock)
    at = payment_moment(202607, 6, 9, ZONE)
    clock.set(at + timedelta(hours=1))
    assert await JobRunner(deps).tick() >= 0
    async with db.read() as s:
        runs = (await s.scalars(select(JobRun.key).where(JobRun.job == JOB))).all()
    assert runs == [f"202607@5@{ZONE}"]
