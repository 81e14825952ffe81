"""The 三会一课 calendar end to end: a quarter passes for a branch that holds its meetings and
one that does not, on the fake clock, through the emulator."""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from domain.compliance import MeetingType
from domain.orgs import Kind, Level, Role
from scheduler.jobs import JobRunner
from services.authz import Actor
from services.compliance import set_requirements
from services.orgs import create_org
from services.orgs_roles import grant_role
from services.outbox import enqueue_file
from storage.models import Meeting, MeetingAttendance, Organization, OutboxItem
from tests.bot.conftest import BotUnderTest
from tests.bot.test_notices import _member, alert_text, tap
from tests.conftest import FakeClock
from tests.emulator import Emulator, EmuUser
from tests.emulator.model import EmuMessage

SUPER = Actor(user_id=0, superadmin=True)
M = MeetingType


def at(day: date, hour: int = 9, minute: int = 30) -> datetime:
    """A Beijing time as UTC."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


@dataclass
class City:
    committee: int
    good: int  # holds its meetings
    bad: int  # does not
    good_secretary: EmuUser
    bad_secretary: EmuUser
    admin: EmuUser
    instructor: EmuUser
    good_members: list[int]


async def _user(emu: Emulator, bot: BotUnderTest, name: str) -> EmuUser:
    user = emu.user(name, language_code="zh-hans")
    await user.start()
    await bot.settle()
    return user


async def make_city(emu: Emulator, bot: BotUnderTest, clock: FakeClock) -> City:
    """A committee that requires a general meeting and a party lesson each quarter (and
    nothing else), two branches with secretaries, the committee's admin and an instructor."""
    db, now, today = bot.deps.db, clock.now(), clock.now().date()
    committee = await create_org(
        db, SUPER, name="两新工委", level=Level.COMMITTEE, kind=Kind.TWO_NEW, parent_id=None,
        now=now, today=today,
    )  # fmt: skip
    await set_requirements(
        db, SUPER, committee.id, now=now, today=today, default_tz="Asia/Shanghai",
        changes={k: None for k in M if k not in (M.GENERAL_MEETING, M.PARTY_LESSON)},
    )  # fmt: skip
    ids = []
    for name in ("先锋支部", "落后支部"):
        view = await create_org(db, SUPER, name=name, level=Level.BRANCH, kind=Kind.STANDARD,
                                parent_id=committee.id, now=now, today=today)  # fmt: skip
        ids.append(view.id)
    good, bad = ids
    secretaries = []
    for org_id, name in ((good, "陈书记"), (bad, "李书记")):
        user = emu.user(name, language_code="zh-hans")
        member_id = await _member(db, clock, org_id, name, user)
        await grant_role(db, SUPER, org_id, Role.SECRETARY, member_id=member_id, now=now,
                         today=today)  # fmt: skip
        await user.start()
        secretaries.append(user)
    members = [await _member(db, clock, good, n, None) for n in ("王芳", "张伟", "刘新")]
    admin = await _user(emu, bot, "组织部")
    await grant_role(db, SUPER, committee.id, Role.COMMITTEE_ADMIN, user_id=admin.id, now=now,
                     today=today)  # fmt: skip
    instructor = await _user(emu, bot, "指导员")
    await grant_role(db, SUPER, bad, Role.INSTRUCTOR, user_id=instructor.id, now=now,
                     today=today)  # fmt: skip
    await bot.settle()
    good_secretary, bad_secretary = secretaries
    return City(committee.id, good, bad, good_secretary, bad_secretary, admin, instructor, members)


async def hold_meeting(bot: BotUnderTest, city: City, when: datetime) -> None:
    """The good branch's general meeting with a party lesson, closed, two of four signed in."""
    async with bot.deps.db.transaction() as s:
        row = Meeting(
            org_id=city.good, types=[M.GENERAL_MEETING.value, M.PARTY_LESSON.value],
            starts_at=when, place="会议室", topic="学习党章", audience="branch", status="closed",
            version=1, counts_dirty=False, created_at=when - timedelta(days=5),
            closed_at=when + timedelta(hours=2),
        )  # fmt: skip
        s.add(row)
        await s.flush()
        for member_id in city.good_members[:2]:
            s.add(MeetingAttendance(meeting_id=row.id, member_id=member_id, signed_at=when,
                                    signed_by="self"))  # fmt: skip


async def queued(bot: BotUnderTest, chat_id: int) -> int:
    async with bot.deps.db.read() as s:
        count = await s.scalar(
            select(func.count()).select_from(OutboxItem).where(OutboxItem.chat_id == chat_id)
        )
    return int(count or 0)


async def tick_at(bot: BotUnderTest, clock: FakeClock, runner: JobRunner, when: datetime) -> int:
    clock.set(when)
    ran = await runner.tick()
    bot.deps.outbox.wake()
    return ran


def texts(emu: Emulator, user: EmuUser, needle: str) -> list[EmuMessage]:
    return [m for m in emu.sent_to(user) if needle in m.content]


@pytest.fixture
def october(clock: FakeClock) -> None:
    clock.set(at(date(2026, 10, 1), 8, 0))  # the branches are founded on National Day


@pytest.mark.usefixtures("october")
async def test_a_quarter_with_and_without_the_required_meetings(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    city = await make_city(emu, bot, clock)
    runner = JobRunner(bot.deps)
    everyone = (city.good_secretary, city.bad_secretary, city.admin, city.instructor)

    # 1 October is a holiday: no digest. Q3 and September ended before the branches
    # existed: nothing to report, no table.
    await tick_at(bot, clock, runner, at(date(2026, 10, 1)))
    assert [await queued(bot, u.id) for u in everyone] == [0, 0, 0, 0]

    # 8 October, the first working day: both secretaries get the quarter's obligations.
    await tick_at(bot, clock, runner, at(date(2026, 10, 8)))
    digest = await emu.wait_for(lambda: texts(emu, city.bad_secretary, "本月和本季度"), timeout=10)
    assert "落后支部" in digest[0].content
    assert "支部党员大会（第四季度）：已开 0 次，应开 1 次，还剩 84 天" in digest[0].content
    assert "党课（第四季度）：已开 0 次，应开 1 次，还剩 84 天" in digest[0].content
    assert "支委会" not in digest[0].content  # the committee does not require it
    assert digest[0].button_texts() == ["📅 立即安排：支部党员大会", "📅 立即安排：党课"]
    good_digest = await emu.wait_for(
        lambda: texts(emu, city.good_secretary, "本月和本季度"), timeout=10
    )
    assert "先锋支部" in good_digest[0].content
    assert await runner.tick() == 0  # the same morning again: nothing new

    # 立即安排 opens the /meeting wizard for that branch with the type already ticked.
    wizard = await tap(bot, city.bad_secretary, digest[0], "📅 立即安排：支部党员大会")
    assert "落后支部：请选择会议类型" in wizard.content
    assert "✅ 支部党员大会" in wizard.button_texts()
    assert "⬜ 党课" in wizard.button_texts()
    cancelled = await tap(bot, city.bad_secretary, wizard, "取消")
    assert "已取消" in cancelled.content
    # Someone else's branch, by forged data: a polite refusal.
    forged = good_digest[0]
    await city.good_secretary.press_raw(forged, f"cs:{city.bad}:0")
    await bot.settle()
    assert "只有本支部书记" in alert_text(city.good_secretary)

    # The good branch holds its general meeting with a party lesson on 20 October.
    await hold_meeting(bot, city, at(date(2026, 10, 20), 14, 0))

    # 1 November is a Sunday: no digest (October's table goes to the committee).
    before = await queued(bot, city.bad_secretary.id)
    await tick_at(bot, clock, runner, at(date(2026, 11, 1)))
    assert await queued(bot, city.bad_secretary.id) == before
    # 2 November: only the branch that still owes something hears about it.
    good_before = await queued(bot, city.good_secretary.id)
    await tick_at(bot, clock, runner, at(date(2026, 11, 2)))
    await emu.wait_for(lambda: len(texts(emu, city.bad_secretary, "本月和本季度")) == 2)
    assert "还剩 59 天" in texts(emu, city.bad_secretary, "本月和本季度")[-1].content
    assert await queued(bot, city.good_secretary.id) == good_before

    # 24 December, a week before the quarter ends: a warning, for the bad branch only.
    await tick_at(bot, clock, runner, at(date(2026, 12, 24)))
    warning = await emu.wait_for(lambda: texts(emu, city.bad_secretary, "截止"), timeout=10)
    assert "将于12月31日（周四）截止" in warning[0].content
    assert "支部党员大会（第四季度）：已开 0 次，应开 1 次，还剩 7 天" in warning[0].content
    assert await queued(bot, city.good_secretary.id) == good_before

    # 1 January: the quarter ended. The admin and the instructor hear about the bad
    # branch only; the admin gets December's table and chart.
    await tick_at(bot, clock, runner, at(date(2027, 1, 1)))
    for reader in (city.admin, city.instructor):

        def reported(r: EmuUser = reader) -> list[EmuMessage]:
            return texts(emu, r, "未按期完成")

        report = await emu.wait_for(reported, timeout=10)
        assert len(report) == 1
        assert "落后支部" in report[0].content
        assert "先锋支部" not in report[0].content
        assert "支部党员大会（第四季度）：已开 0 次，应开 1 次" in report[0].content
        assert "党课（第四季度）" in report[0].content
    document = await emu.wait_for(
        lambda: [m for m in emu.sent_to(city.admin) if m.document and "2026年12月" in m.content],
        timeout=15,
    )
    photo = await emu.wait_for(
        lambda: [m for m in emu.sent_to(city.admin) if m.photo and "1月至12月" in m.content],
        timeout=15,
    )
    assert document[-1].document is not None
    # (The emulator's aiohttp hands over non-ASCII upload names percent-encoded.)
    name = unquote(document[-1].document.file_name or "")
    assert name == "三会一课完成情况_两新工委_2026-12.xlsx"
    content = document[-1].document.content
    assert content is not None
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    assert sheet["A1"].value == "两新工委　2026年12月三会一课完成情况"
    assert [c.value for c in sheet[3]][:6] == ["序号", "支部", "上级组织", "本月应完成",
                                              "本月已完成", "本月完成率"]  # fmt: skip
    good_row = [c.value for c in sheet[4]]
    bad_row = [c.value for c in sheet[5]]
    assert good_row[:9] == [1, "先锋支部", "两新工委", 2, 2, 1, 2, 2, 1]
    assert good_row[11] == pytest.approx(2 / 4)  # two of the four on the roster signed in
    assert bad_row[:9] == [2, "落后支部", "两新工委", 2, 0, 0, 2, 0, 0]
    assert bad_row[12] == "支部党员大会、党课"
    assert photo[-1].photo is not None
    png = photo[-1].photo.content
    assert png is not None
    assert png.startswith(b"\x89PNG\r\n\x1a\n")

    # Each only once: ticking again, or a restarted runner, sends nothing more.
    totals = [await queued(bot, u.id) for u in everyone]
    assert await runner.tick() == 0
    assert await runner.tick() == 0
    assert await JobRunner(bot.deps).tick() == 0
    assert [await queued(bot, u.id) for u in everyone] == totals
    files = [m for m in emu.sent_to(city.admin) if m.document or m.photo]
    assert len(files) == 4  # October's and December's tables, each with its chart


async def test_queued_documents_and_photos_are_delivered_once(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    user = await _user(emu, bot, "王芳")
    async with bot.deps.db.transaction() as s:
        enqueue_file(s, chat_id=user.id, filename="表.xlsx", data=b"PK\x03\x04 table",
                     caption_html="<b>报表</b>", as_photo=False, now=clock.now())  # fmt: skip
        enqueue_file(s, chat_id=user.id, filename="chart.png", data=b"\x89PNG\r\n\x1a\n....",
                     caption_html="图表", as_photo=True, now=clock.now())  # fmt: skip
    bot.deps.outbox.wake()
    await emu.wait_for(lambda: len([m for m in emu.sent_to(user) if m.document or m.photo]) == 2)
    doc, pic = [m for m in emu.sent_to(user) if m.document or m.photo]
    assert doc.document is not None
    assert unquote(doc.document.file_name or "") == "表.xlsx"
    assert doc.document.content == b"PK\x03\x04 table"
    assert doc.caption == "报表"
    assert pic.photo is not None
    assert pic.photo.content == b"\x89PNG\r\n\x1a\n...."

    async def statuses() -> list[str]:
        async with bot.deps.db.read() as s:
            return list((await s.scalars(select(OutboxItem.status))).all())

    async with asyncio.timeout(10):
        while await statuses() != ["sent", "sent"]:
            await asyncio.sleep(0.02)


async def test_a_committee_admin_sets_frequencies_from_the_org_card(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    db, now, today = bot.deps.db, clock.now(), clock.now().date()
    east, west = [
        await create_org(
            db,
            SUPER,
            name=name,
            level=Level.COMMITTEE,
            kind=kind,
            parent_id=None,
            now=now,
            today=today,
        )
        for name, kind in (("东区党委", Kind.COMPREHENSIVE), ("西区党委", Kind.INDUSTRY))
    ]
    admin = await _user(emu, bot, "李明")
    await grant_role(db, SUPER, east.id, Role.COMMITTEE_ADMIN, user_id=admin.id, now=now,
                     today=today)  # fmt: skip
    await admin.send("/org")
    await bot.settle()
    menu = emu.last_sent(admin)
    await tap(bot, admin, menu, "东区党委")
    await tap(bot, admin, menu, "📋 会议频次要求")
    assert "东区党委</b> 及下属支部的组织生活要求" in (menu.html or "")
    assert "• 主题党日：每月 1 次" in menu.content
    await tap(bot, admin, menu, "主题党日")
    assert "现在：每月 1 次" in menu.content
    assert "沿用上级要求" not in menu.button_texts()  # nothing of its own to drop yet
    await tap(bot, admin, menu, "每季度 1 次")
    assert "已保存" in menu.content
    assert "• 主题党日：每季度 1 次（本级设定）" in menu.content
    await tap(bot, admin, menu, "谈心谈话")
    await tap(bot, admin, menu, "不要求")
    assert "• 谈心谈话：不要求（本级设定）" in menu.content
    await tap(bot, admin, menu, "主题党日")
    await tap(bot, admin, menu, "沿用上级要求")
    assert "• 主题党日：每月 1 次" in menu.content
    assert "主题党日：每月 1 次（" not in menu.content
    async with db.read() as s:
        stored = await s.scalar(select(Organization.requirements).where(Organization.id == east.id))
    assert stored == {"heart_talk": None}
    # Another committee's frequencies, by forged data: refused, nothing changes.
    before = menu.content
    for forged in (
        f"oq:{west.id}",
        f"oqt:{west.id}:4",
        f"oqs:{west.id}:4:5",
        f"oqs:{east.id}:4:99",
    ):
        await admin.press_raw(menu, forged)
        await bot.settle()
        alert = admin.last_alert()
        assert alert is not None
        assert alert.show_alert, forged
    assert menu.content == before
    async with db.read() as s:
        assert (
            await s.scalar(select(Organization.requirements).where(Organization.id == west.id))
            is None
        )
    # Back to the card.
    await tap(bot, admin, menu, "返回")
    assert "东区党委" in menu.content
