"""/ledger end to end through the emulator: the spreadsheet checked cell by cell, the summary
with its absence flags, refusals and forged buttons."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select, update

from domain.compliance import MeetingType
from domain.meetings import Answer, Audience, Status
from domain.orgs import Kind, Level, Role, Stage
from domain.orgs import Status as MemberStatus
from services.authz import Actor
from services.meetings import answer, give_reason, sign_for, sign_in
from services.orgs import add_party_group, create_org
from services.orgs_roles import grant_role
from services.users import Person, touch_user
from storage.db import Database
from storage.models import AuditEntry, Meeting, MeetingMinutes, Member
from tests.bot.conftest import BotUnderTest
from tests.bot.test_notices import RIGHTS, alert_text, say, tap
from tests.conftest import FakeClock
from tests.emulator import Emulator, EmuUser
from tests.emulator.model import EmuMessage

SUPER = Actor(user_id=0, superadmin=True)
M = MeetingType


def utc(month: int, day: int, hour: int = 11, minute: int = 30) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@dataclass
class World:
    committee: int
    branch: int
    other: int
    secretary: EmuUser
    instructor: EmuUser
    people: dict[str, EmuUser]
    ids: dict[str, int]


async def _member(
    db: Database,
    clock: FakeClock,
    org_id: int,
    name: str,
    user: EmuUser | None,
    stage: Stage = Stage.FULL,
    group: int | None = None,
) -> int:
    if user is not None:
        await touch_user(
            db, Person(id=user.id, first_name=user.first_name), clock.now(), started=True
        )
    async with db.transaction() as s:
        row = Member(
            org_id=org_id,
            user_id=user.id if user else None,
            name=name,
            stage=stage,
            status=MemberStatus.ACTIVE,
            source="admin",
            party_group_id=group,
            created_at=clock.now(),
            updated_at=clock.now(),
        )
        s.add(row)
        await s.flush()
        return row.id


async def _meeting(
    db: Database,
    org_id: int,
    at: datetime,
    types: tuple[MeetingType, ...],
    published: datetime,
    **kw: Any,
) -> int:
    values: dict[str, Any] = {"audience": Audience.BRANCH.value, "place": "三楼会议室", **kw}
    async with db.transaction() as s:
        row = Meeting(
            org_id=org_id,
            types=[t.value for t in types],
            starts_at=at,
            status=Status.SCHEDULED.value,
            counts_dirty=False,
            version=1,
            created_at=published,
            **values,
        )
        s.add(row)
        await s.flush()
        return row.id


async def _status(db: Database, meeting_id: int, status: Status) -> None:
    async with db.transaction() as s:
        await s.execute(update(Meeting).where(Meeting.id == meeting_id).values(status=status.value))


async def make_world(emu: Emulator, bot: BotUnderTest, clock: FakeClock) -> World:
    """第一支部 from October to December 2026: three meetings over two months."""
    db = bot.deps.db
    clock.set(utc(10, 1, 1, 0))
    now, today = clock.now(), clock.now().date()
    committee = await create_org(
        db,
        SUPER,
        name="两新工委",
        level=Level.COMMITTEE,
        kind=Kind.TWO_NEW,
        parent_id=None,
        now=now,
        today=today,
    )
    branch = await create_org(
        db,
        SUPER,
        name="第一支部",
        level=Level.BRANCH,
        kind=Kind.STANDARD,
        parent_id=committee.id,
        now=now,
        today=today,
    )
    other = await create_org(
        db,
        SUPER,
        name="第二支部",
        level=Level.BRANCH,
        kind=Kind.STANDARD,
        parent_id=committee.id,
        now=now,
        today=today,
    )
    group = (await add_party_group(db, SUPER, branch.id, "一组", now, today)).id
    people = {
        "chen": emu.user("书记", language_code="zh-hans"),
        "wang": emu.user("芳", language_code="zh-hans"),
        "li": emu.user("娜", language_code="zh-hans"),
        "zhang": emu.user("伟", language_code="zh-hans"),
        "liu": emu.user("新", language_code="zh-hans"),
        "zhao": emu.user("强", language_code="zh-hans"),
    }
    ids = {
        "chen": await _member(db, clock, branch.id, "陈书记", people["chen"]),
        "wang": await _member(db, clock, branch.id, "王芳", people["wang"], group=group),
        "li": await _member(db, clock, branch.id, "李娜", people["li"]),
        "zhang": await _member(db, clock, branch.id, "张伟", people["zhang"]),
        "liu": await _member(
            db, clock, branch.id, "刘<新>", people["liu"], Stage.PROBATIONARY, group=group
        ),
    }
    async with db.transaction() as s:
        await s.execute(update(Member).where(Member.id == ids["wang"]).values(phone="13800138000"))
    await grant_role(
        db, SUPER, branch.id, Role.SECRETARY, member_id=ids["chen"], now=now, today=today
    )
    instructor = emu.user("Alice", language_code="en")
    await touch_user(db, Person(id=instructor.id, first_name="Alice"), now, started=True)
    await grant_role(
        db, SUPER, committee.id, Role.INSTRUCTOR, user_id=instructor.id, now=now, today=today
    )
    for user in (*people.values(), instructor):
        await user.start()
    await bot.settle()
    chen, wang, li, liu = (people[k].id for k in ("chen", "wang", "li", "liu"))
    secretary = Actor(chen)

    async def at(when: datetime) -> dict[str, Any]:
        clock.set(when)
        return {"now": when, "today": when.date()}

    # 15 October: theme day and general meeting. 王芳 says yes, 李娜 asks for leave; 陈书记
    # and 王芳 sign in, 刘新 is signed in by the secretary (代签); 张伟 does not come.
    first = await _meeting(
        db,
        branch.id,
        utc(10, 15),
        (M.THEME_DAY, M.GENERAL_MEETING),
        utc(10, 1, 2),
        topic="学习党章",
        host_id=ids["chen"],
        recorder_id=ids["wang"],
        lecturer_id=None,
    )
    assert (await answer(db, wang, first, Answer.ATTEND, **await at(utc(10, 2)))).status == "ok"
    await answer(db, li, first, Answer.LEAVE, **await at(utc(10, 2)))
    await give_reason(db, li, first, "出差", **await at(utc(10, 2)))
    await _status(db, first, Status.OPEN)
    for user_id in (chen, wang):
        assert (await sign_in(db, user_id, first, **await at(utc(10, 15, 11, 25)))).status == "ok"
    signed = await sign_for(
        db, secretary, first, ids["liu"], note="电话确认", **await at(utc(10, 15, 11, 40))
    )
    assert signed.status == "ok"
    await _status(db, first, Status.CLOSED)
    async with db.transaction() as s:
        s.add(
            MeetingMinutes(
                meeting_id=first,
                fields={"activity": "重温入党誓词", "reflections": "很有收获"},
                photos=[],
                written_at=utc(10, 16),
                updated_at=utc(10, 16),
            )
        )
    # 赵强 joins on 20 October.
    clock.set(utc(10, 20))
    ids["zhao"] = await _member(db, clock, branch.id, "赵强", people["zhao"])
    # 12 November: party lesson; 刘新 signed in afterwards (补签).
    second = await _meeting(
        db,
        branch.id,
        utc(11, 12),
        (M.PARTY_LESSON,),
        utc(11, 1),
        topic="党课：初心",
        lecturer_id=ids["chen"],
    )
    await _status(db, second, Status.OPEN)
    for key in ("chen", "wang", "li", "zhao"):
        assert (await sign_in(db, people[key].id, second, **await at(utc(11, 12)))).status == "ok"
    await _status(db, second, Status.CLOSED)
    late = await sign_for(db, secretary, second, ids["liu"], note=None, **await at(utc(11, 13)))
    assert late.status == "ok"
    # 20 November: 一组's meeting; 刘新 on leave.
    third = await _meeting(
        db,
        branch.id,
        utc(11, 20),
        (M.GROUP_MEETING,),
        utc(11, 13),
        topic="小组学习",
        audience=Audience.PARTY_GROUP.value,
        party_group_id=group,
    )
    await answer(db, liu, third, Answer.LEAVE, **await at(utc(11, 14)))
    await give_reason(db, liu, third, "住院", **await at(utc(11, 14)))
    await _status(db, third, Status.OPEN)
    await sign_in(db, wang, third, **await at(utc(11, 20)))
    await _status(db, third, Status.CLOSED)
    clock.set(datetime(2026, 12, 1, 1, 30, tzinfo=UTC))  # 09:30 on 1 December in Shanghai
    return World(committee.id, branch.id, other.id, people["chen"], instructor, people, ids)


def workbook(message: EmuMessage) -> Any:
    assert message.document is not None
    assert message.document.content is not None
    return load_workbook(io.BytesIO(message.document.content))


def rows(sheet: Any) -> list[list[Any]]:
    return [list(r) for r in sheet.iter_rows(values_only=True)]


async def test_the_secretary_gets_the_quarter_checked_cell_by_cell(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    sec = world.secretary
    question = await say(bot, sec, "/ledger")
    assert "第一支部" in question.content
    assert "2026-01-01 2026-06-30" in question.content
    assert question.button_texts() == ["本月", "上月", "本季度", "上季度", "本年", "上年", "取消"]
    await sec.press(question, "本季度")
    await bot.settle()
    assert question.text == "📊 第一支部：2026年10月1日至2026年12月31日的台账如下。"
    assert question.button_texts() == []
    document, summary = emu.sent_to(sec)[-2:]
    assert document.document is not None
    assert document.document.file_name == "台账_第一支部_2026-10-01_2026-12-31.xlsx"
    assert document.caption == "📊 第一支部 台账（2026年10月1日至2026年12月31日）"
    assert summary.content.splitlines() == [
        "📊 第一支部 台账已导出（2026年10月1日至2026年12月31日）。",
        "本期召开会议 3 次；规定会议已完成 4 项，未完成 4 项，进行中 3 项。",
        "⚠️ 连续 2 个月及以上未参加组织生活的成员（统计到上月底），请及时了解情况：",
        "• 张伟：连续 2 个月未参加；近一年没有参加记录",
    ]
    book = workbook(document)
    assert book.sheetnames == ["会议台账", "党员参会情况", "规定会议完成情况"]

    meetings = book["会议台账"]
    # fmt: off
    assert rows(meetings) == [
        ["第一支部 会议台账（2026年10月1日至2026年12月31日）", *[None] * 20],
        ["序号", "日期", "时间", "会议类型", "会议主题", "地点", "参会范围", "主持人", "记录人",
         "主讲人", "应到", "实到", "本人签到", "代签", "补签", "请假", "缺席", "出席率",
         "正式党员（表决）", "会议记录", "内容摘要"],
        [1, "2026年10月15日（周四）", "19:30", "支部党员大会、主题党日", "学习党章", "三楼会议室",
         "全体党员", "陈书记", "王芳", None, 5, 3, 2, 1, 0, 1, 1, 0.6,
         "应到 4 人，实到 2 人，未过半数", "已记录", "重温入党誓词"],
        [2, "2026年11月12日（周四）", "19:30", "党课", "党课：初心", "三楼会议室", "全体党员",
         None, None, "陈书记", 6, 5, 4, 0, 1, 0, 1, 5 / 6, None, "未记录", None],
        [3, "2026年11月20日（周五）", "19:30", "党小组会", "小组学习", "三楼会议室", "一组",
         None, None, None, 2, 1, 1, 0, 0, 1, 0, 0.5, None, "未记录", None],
    ]
    # fmt: on
    assert [str(r) for r in meetings.merged_cells.ranges] == ["A1:U1"]
    assert meetings.freeze_panes == "A3"
    assert meetings.print_title_rows == "$1:$2"
    assert meetings.page_setup.orientation == "landscape"
    assert int(meetings.page_setup.paperSize) == 9  # A4
    assert meetings["E2"].font.bold
    assert meetings["E3"].alignment.wrap_text
    assert meetings["E3"].border.left.style == "thin"
    assert meetings["R3"].number_format == "0%"
    assert meetings.column_dimensions["E"].width == 22

    attendance = book["党员参会情况"]
    # fmt: off
    assert rows(attendance) == [
        ["第一支部 党员参会情况（2026年10月1日至2026年12月31日）", *[None] * 8],
        ["序号", "姓名", "身份", "10月15日\n党员大会·主题党日", "11月12日\n党课",
         "11月20日\n小组会", "参加", "应参加", "参会率"],
        [1, "张伟", "正式党员", "缺席", "缺席", "—", 0, 2, 0.0],
        [2, "李娜", "正式党员", "请假", "✓", "—", 1, 2, 0.5],
        [3, "王芳", "正式党员", "✓", "✓", "✓", 3, 3, 1.0],
        [4, "赵强", "正式党员", "—", "✓", "—", 1, 1, 1.0],  # joined after the first notice
        [5, "陈书记", "正式党员", "✓", "✓", "—", 2, 2, 1.0],  # not in 一组
        [6, "刘<新>", "预备党员", "代签", "补签", "请假", 2, 3, 2 / 3],
        [None] * 9,
        ["说明：✓ 本人签到；代签 由记录人在会上代为签到；补签 会后补签；请假；缺席；"
         "— 不在参会范围（入册前召开、不属于该党小组或支委会等）。", *[None] * 8],
    ]
    # fmt: on
    assert attendance.freeze_panes == "D3"
    assert attendance["I3"].number_format == "0%"
    assert {str(r) for r in attendance.merged_cells.ranges} == {"A1:I1", "A10:I10"}

    compliance = book["规定会议完成情况"]
    # fmt: off
    assert rows(compliance) == [
        ["第一支部 规定会议完成情况（2026年10月1日至2026年12月31日）", *[None] * 5],
        ["会议类型", "党小组", "周期", "要求", "已召开", "完成情况"],
        ["支委会", None, "2026年10月", "每月 1 次", 0, "✗"],
        ["党小组会", "一组", "2026年10月", "每月 1 次", 0, "✗"],
        ["主题党日", None, "2026年10月", "每月 1 次", 1, "✓"],
        ["支委会", None, "2026年11月", "每月 1 次", 0, "✗"],
        ["党小组会", "一组", "2026年11月", "每月 1 次", 1, "✓"],
        ["主题党日", None, "2026年11月", "每月 1 次", 0, "✗"],
        ["支部党员大会", None, "2026年第4季度", "每季度 1 次", 1, "✓"],
        ["支委会", None, "2026年12月", "每月 1 次", 0, "进行中"],
        ["党小组会", "一组", "2026年12月", "每月 1 次", 0, "进行中"],
        ["党课", None, "2026年第4季度", "每季度 1 次", 1, "✓"],
        ["主题党日", None, "2026年12月", "每月 1 次", 0, "进行中"],
        ["组织生活会", None, "2026年", "每年 1 次", 0, "不要求（新成立）"],
        ["民主评议党员", None, "2026年", "每年 1 次", 0, "不要求（新成立）"],
        ["谈心谈话", None, "2026年", "每年 1 次", 0, "不要求（新成立）"],
    ]
    # fmt: on
    # Nobody's phone is in it (王芳 has one on the roster), and the export is audited.
    cells = [str(v) for ws in book.worksheets for r in rows(ws) for v in r if v is not None]
    assert not [c for c in cells if "13800138000" in c]
    async with bot.deps.db.read() as s:
        entry = await s.scalar(select(AuditEntry).where(AuditEntry.action == "ledger.export"))
    assert entry is not None
    assert entry.actor_id == sec.id


async def test_an_instructor_pages_picks_a_branch_and_types_a_range_in_english(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    alice = world.instructor
    picker = await say(bot, alice, "/ledger")
    assert picker.button_texts() == ["第一支部", "第二支部", "Cancel"]
    # With more branches than fit on a page, the picker pages through them.
    db, now = bot.deps.db, clock.now()
    extra = [f"第十{n}支部" for n in "一二三四五六七八"]
    for name in extra:
        await create_org(
            db,
            SUPER,
            name=name,
            level=Level.BRANCH,
            kind=Kind.STANDARD,
            parent_id=world.committee,
            now=now,
            today=now.date(),
        )
    picker = await say(bot, alice, "/ledger")
    first_page = picker.button_texts()
    assert len(first_page) == 8 + 2
    assert first_page[-2:] == ["Next", "Cancel"]
    second_page = (await tap(bot, alice, picker, "Next")).button_texts()
    assert second_page[-2:] == ["Previous", "Cancel"]
    assert sorted(first_page[:8] + second_page[:-2]) == sorted(["第一支部", "第二支部", *extra])
    await alice.press_raw(picker, "lgp:40")  # past the end: an old or forged page
    await bot.settle()
    assert "no longer works" in alert_text(alice)
    question = await tap(bot, alice, await tap(bot, alice, picker, "Previous"), "第一支部")
    assert question is picker  # the same message turns into the period question
    assert "Choose the period" in question.content
    assert "Back" in question.button_texts()
    question = await tap(bot, alice, question, "Back")
    assert question.button_texts() == first_page
    await tap(bot, alice, question, "第一支部")
    wrong = await say(bot, alice, "2026-11-30 2026-10-01")
    assert "The last day is before the first" in wrong.content
    assert "Last quarter" in wrong.button_texts()  # the question again, with its buttons
    assert "I could not read two dates" in (await say(bot, alice, "October")).content
    assert "still to come" in (await say(bot, alice, "2027-01-01 2027-01-31")).content
    assert "at most one year" in (await say(bot, alice, "2025-01-01 2026-11-30")).content
    summary = await say(bot, alice, "2026-10-01 2026-11-30")
    assert summary.content.splitlines()[:2] == [
        "📊 The ledger of 第一支部 is ready (1 Oct 2026 – 30 Nov 2026).",
        "3 meetings held; required meetings: 2 met, 4 missed, 0 still in progress.",
    ]
    assert "• 张伟: 2 months without attending; no attendance in the past year" in summary.content
    document = emu.sent_to(alice)[-2]
    assert document.document is not None
    assert document.document.file_name == "ledger_第一支部_2026-10-01_2026-11-30.xlsx"
    book = workbook(document)
    assert book.sheetnames == ["Meetings", "Attendance", "Required meetings"]
    sheet = book["Attendance"]
    assert sheet["A1"].value == "第一支部: attendance (1 Oct 2026 – 30 Nov 2026)"
    # fmt: off
    assert [c.value for c in sheet[2]] == [
        "No.", "Name", "Stage", "15 Oct\nGeneral·Theme day", "12 Nov\nLesson", "20 Nov\nGroup",
        "Attended", "Expected", "Rate",
    ]
    assert [c.value for c in sheet[8]] == [
        6, "刘<新>", "Probationary member", "proxy", "late", "leave", 2, 3, 2 / 3,
    ]
    # fmt: on
    first = [c.value for c in book["Meetings"][3]]
    assert first[1:4] == ["Thu 15 Oct 2026", "19:30", "Branch general meeting, Theme party day"]
    assert first[18] == "2 of 4 present, not more than half"
    # The wizard is over: a typed range now goes nowhere.
    assert "/help" in (await say(bot, alice, "2026-10-01 2026-11-30")).content


async def test_members_are_refused_and_forged_buttons_change_nothing(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    li, sec = world.people["li"], world.secretary
    assert "/ledger — 导出会议台账" in (await say(bot, sec, "/help")).content
    assert "/ledger" not in (await say(bot, li, "/help")).content
    refusal = await say(bot, li, "/ledger")
    assert "只有支部书记、副书记、组织委员和上级党组织可以导出台账" in refusal.content
    before = len(emu.sent_to(li))
    for forged in (f"lgr:{world.branch}:tq", f"lgb:{world.branch}", "lgp:0"):
        await li.press_raw(refusal, forged)
        await bot.settle()
        assert "只有支部书记" in alert_text(li)
    assert len(emu.sent_to(li)) == before  # no spreadsheet, no summary
    # The secretary may not read another branch's ledger, nor use a made-up period.
    question = await say(bot, sec, "/ledger")
    await sec.press_raw(question, f"lgr:{world.other}:tm")
    await bot.settle()
    assert "只有支部书记" in alert_text(sec)
    await sec.press_raw(question, f"lgr:{world.branch}:zz")
    await bot.settle()
    assert "按钮已失效" in alert_text(sec)
    await sec.press_raw(question, f"lgr:{world.branch}:tm:1")
    await bot.settle()
    assert "按钮已失效" in alert_text(sec)
    assert question.document is None
    assert emu.last_sent(sec) is question
    # 取消 ends it; in a group the command points to the private chat.
    done = await tap(bot, sec, question, "取消")
    assert "已取消" in done.content
    group = emu.group("第一支部群", members=[sec, li], admins=[sec], supergroup=True)
    await group.add_bot(by=sec, admin=True, rights=RIGHTS)
    await sec.send("/ledger", chat=group)
    await bot.settle()
    assert "请私聊" in emu.last_sent(group).content
    async with bot.deps.db.read() as s:
        assert (
            await s.scalar(select(AuditEntry).where(AuditEntry.action == "ledger.export")) is None
        )
