"""Party-group choices of /notice, /form and /meeting, 代签/补签's members and 党费公示's branches
on the shared picker: a branch of 30 party groups (the 30th reached by paging and by typing), a
group of 20 members not signed in, a keeper of 300 branches; forged and stale page presses."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from domain.forms import FormKind, QType, Question
from domain.forms_builder import BuildDraft, choose_org, start
from domain.orgs import Level, Role, Stage, Status
from services.drafts import get_draft, keep_draft, open_draft
from services.users import Person, touch_user
from storage.models import (
    Meeting,
    MeetingAttendance,
    Member,
    Organization,
    PartyGroup,
    RoleAssignment,
)
from tests.bot.conftest import BotUnderTest
from tests.bot.test_meetings import make_branch as meeting_branch
from tests.bot.test_notices import say, tap, to_audience
from tests.bot.test_pickers import BRANCHES, LAST, make_world, page_to_end
from tests.bot.test_pickers_units import GROUPS, LAST_GROUP, listed, page_through, party_branch
from tests.conftest import FakeClock
from tests.emulator import Emulator
from tests.emulator.model import EmuMessage

PEOPLE = 20


def groups_on(screen: EmuMessage) -> list[str]:
    return [t.removeprefix("党小组：") for t in screen.button_texts() if "党小组" in t]


async def test_notice_to_the_30th_party_group(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    branch = await party_branch(emu, bot, clock)
    sec = branch.secretary
    question = await to_audience(bot, sec, "党小组学习", "学习材料见附件。")
    picker = await tap(bot, sec, question, "选择党小组…")
    assert "请选择接收通知的党小组" in picker.content
    assert f"第 1–8 个，共 {GROUPS} 个" in picker.content
    assert "直接发名称中的几个字" in picker.content
    last_page, seen = await page_through(bot, sec, picker, "第", GROUPS)
    assert seen == [f"第{i:02d}党小组" for i in range(1, GROUPS + 1)]
    question = await tap(bot, sec, last_page, LAST_GROUP)
    assert f"党小组：{LAST_GROUP}" in question.content

    picker = await tap(bot, sec, question, "选择党小组…")
    last_page, _ = await page_through(bot, sec, picker, "第", GROUPS)
    assert f"✅ {LAST_GROUP}" in last_page.button_texts()  # the one chosen before
    assert "全体成员" in last_page.button_texts()  # the whole branch stays above every page
    found = await say(bot, sec, "3")  # 第03, 第13, 第23, 第30
    assert "名称含“3”的共 4 个" in found.content
    everything = await tap(bot, sec, found, "显示全部")
    assert f"第 1–8 个，共 {GROUPS} 个" in everything.content
    found = await say(bot, sec, "２９")  # full-width digits find 第29党小组
    assert listed(found, "第") == ["第29党小组"]
    question = await tap(bot, sec, found, "第29党小组")
    assert "党小组：第29党小组" in question.content
    # A page past the end of the picker shows its last page.
    picker = await tap(bot, sec, question, "选择党小组…")
    await sec.press_raw(picker, data="nt:pg:page:99999")
    await bot.settle()
    assert f"第 25–30 个，共 {GROUPS} 个" in emu.last_sent(sec).content


async def test_form_to_the_30th_party_group(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    branch = await party_branch(emu, bot, clock)
    sec, db = branch.secretary, bot.deps.db
    draft = replace(
        choose_org(start(single_org=True), branch.id, branch.name, Level.BRANCH),
        step="qs", kind=FormKind.MEMBER, title="报名表", intro="",
        questions=(Question(QType.SHORT, "姓名"),),
    )  # fmt: skip
    await keep_draft(db, sec.id, draft, clock.now())
    questions = await tap(bot, sec, await say(bot, sec, "/form"), "继续填写")
    audience = await tap(bot, sec, questions, "问题都好了，下一步")
    picker = await tap(bot, sec, audience, "选择党小组…")
    assert f"第 1–8 个，共 {GROUPS} 个" in picker.content
    last_page, seen = await page_through(bot, sec, picker, "第", GROUPS)
    assert seen == [f"第{i:02d}党小组" for i in range(1, GROUPS + 1)]
    audience = await tap(bot, sec, last_page, LAST_GROUP)
    kept = await open_draft(db, sec.id, BuildDraft)
    assert isinstance(kept, BuildDraft)
    async with db.read() as s:
        last = await s.scalar(select(PartyGroup.id).where(PartyGroup.name == LAST_GROUP))
    assert kept.party_group_id == last

    picker = await tap(bot, sec, audience, "选择党小组…")
    found = await say(bot, sec, "第0")  # 第01 … 第09: two pages, still narrowed
    assert "名称含“第0”的共 9 个" in found.content
    second = await tap(bot, sec, found, "下一页")
    assert listed(second, "第") == ["第09党小组"]
    await tap(bot, sec, second, "第09党小组")
    kept = await open_draft(db, sec.id, BuildDraft)
    assert isinstance(kept, BuildDraft)
    async with db.read() as s:
        ninth = await s.scalar(select(PartyGroup.id).where(PartyGroup.name == "第09党小组"))
    assert kept.party_group_id == ninth


@pytest.fixture
def december(clock: FakeClock) -> None:
    clock.set(datetime(2026, 12, 1, 1, 30, tzinfo=UTC))  # 09:30 in Shanghai


@pytest.mark.usefixtures("december")
async def test_meeting_of_the_30th_party_group_and_proxy_sign_in_of_its_20th_member(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await meeting_branch(emu, bot, clock)
    sec, db, now = world.secretary, bot.deps.db, clock.now()
    async with db.transaction() as s:
        groups = [PartyGroup(org_id=world.org_id, name=f"第{i:02d}党小组") for i in range(1, 31)]
        s.add_all(groups)
        await s.flush()
        s.add_all(
            Member(org_id=world.org_id, name=f"组员{i:02d}", stage=Stage.FULL,
                   status=Status.ACTIVE, source="admin", created_at=now, updated_at=now,
                   party_group_id=groups[-1].id)
            for i in range(1, PEOPLE + 1)
        )  # fmt: skip
    question = await say(bot, sec, "/meeting")
    question = await tap(bot, sec, question, "⬜ 党小组会")
    question = await tap(bot, sec, question, "下一步")
    question = await say(bot, sec, "12月5日 19:30")
    question = await tap(bot, sec, question, "对")
    question = await say(bot, sec, "三楼会议室")
    question = await say(bot, sec, "学习新党章")
    question = await tap(bot, sec, question, "跳过")
    # 25 on the roster now: the host and recorder found by typing part of a name.
    question = await tap(bot, sec, await say(bot, sec, "陈"), "陈书记")
    question = await tap(bot, sec, await say(bot, sec, "王"), "王芳")
    assert "参会范围" in question.content
    assert f"第 1–8 个，共 {GROUPS} 个" in question.content
    assert "全体党员" not in question.button_texts()  # a 党小组会 is for one group
    assert {"上一步", "取消"} <= set(question.button_texts())
    seen, screen = groups_on(question), question
    while "下一页" in screen.button_texts():
        screen = await tap(bot, sec, screen, "下一页")
        seen += groups_on(screen)
        assert len(seen) <= GROUPS
    assert seen == [f"第{i:02d}党小组" for i in range(1, GROUPS + 1)]
    found = await say(bot, sec, "30")
    assert "名称含“30”的共 1 个" in found.content
    preview = await tap(bot, sec, found, f"党小组：{LAST_GROUP}")
    assert LAST_GROUP in preview.content
    await tap(bot, sec, preview, "确认发布")
    async with db.read() as s:
        meeting = await s.scalar(select(Meeting))
    assert meeting is not None
    assert meeting.party_group_id == groups[-1].id

    listing = await say(bot, sec, "/meetings")
    label = next(t for t in listing.button_texts() if "学习新党章" in t)
    manage = await tap(bot, sec, await tap(bot, sec, listing, label), "开始签到")
    picker = await tap(bot, sec, manage, "代签/补签")
    assert f"第 1–8 个，共 {PEOPLE} 个" in picker.content
    assert "直接发名称中的几个字" in picker.content
    last_page, seen = await page_through(bot, sec, picker, "组员", PEOPLE)
    assert seen == [f"组员{i:02d}" for i in range(1, PEOPLE + 1)]
    ask = await tap(bot, sec, last_page, f"组员{PEOPLE}")
    assert "备注" in ask.content
    assert f"已为 组员{PEOPLE} 签到" in (await tap(bot, sec, ask, "跳过")).content

    picker = await tap(bot, sec, manage, "代签/补签")
    assert f"共 {PEOPLE - 1} 个" in picker.content  # the one signed in is no longer offered
    found = await say(bot, sec, "组员1")  # 组员10 … 组员19
    assert "名称含“组员1”的共 10 个" in found.content
    second = await tap(bot, sec, found, "下一页")
    assert listed(second, "组员") == ["组员18", "组员19"]
    ask = await tap(bot, sec, second, "组员19")
    assert "已为 组员19 签到" in (await say(bot, sec, "电话确认到会")).content
    async with db.read() as s:
        signed = (await s.scalars(select(MeetingAttendance.member_id))).all()
    assert len(signed) == 2

    # Forged and stale presses: past the end shows the last page; negative, or by a member
    # who may not sign others in, is refused.
    picker = await tap(bot, sec, manage, "代签/补签")
    await sec.press_raw(picker, data=f"mg:pfp:{meeting.id}:99999")
    await bot.settle()
    assert f"第 17–18 个，共 {PEOPLE - 2} 个" in emu.last_sent(sec).content
    await sec.press_raw(picker, data=f"mg:pfp:{meeting.id}:-8")
    await bot.settle()
    alert = sec.last_alert()
    assert alert is not None
    assert alert.show_alert
    li = world.people["li"]  # a member, neither organizer nor recorder
    before = emu.last_sent(li)
    await li.press_raw(before, data=f"mg:pfp:{meeting.id}:8")
    await bot.settle()
    alert = li.last_alert()
    assert alert is not None
    assert alert.show_alert
    assert emu.last_sent(li).content == before.content
    assert await get_draft(db, li.id) is None


async def test_disclosure_reaches_the_300th_branch_of_a_keeper(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    keeper = emu.user("党费管理员", language_code="zh-hans")
    await touch_user(bot.deps.db, Person(id=keeper.id, first_name="党费管理员"), clock.now(),
                     started=True)  # fmt: skip
    async with bot.deps.db.transaction() as s:  # a keeper of every branch (not inherited)
        branches = (
            await s.scalars(select(Organization.id).where(Organization.level == Level.BRANCH))
        ).all()
        s.add_all(
            RoleAssignment(org_id=org_id, role=Role.DUES_KEEPER, user_id=keeper.id,
                           start_on=clock.now().date(), created_at=clock.now())
            for org_id in branches
        )  # fmt: skip
    await keeper.start()
    await bot.settle()
    picker = await tap(bot, keeper, await say(bot, keeper, "/dues"), "📣 党费公示")
    assert "请选择支部" in picker.content
    assert f"第 1–8 个，共 {BRANCHES} 个" in picker.content
    last_page = await page_to_end(bot, keeper, picker)
    screen = await tap(bot, keeper, last_page, LAST)
    assert LAST in screen.content

    picker = await tap(bot, keeper, await say(bot, keeper, "/dues"), "📣 党费公示")
    found = await say(bot, keeper, "第300")
    assert "名称含“第300”的共 1 个" in found.content
    screen = await tap(bot, keeper, found, LAST)
    assert LAST in screen.content
    # Someone who sees no branch's dues pressing the keeper's page button is refused.
    data = picker.button("下一页").callback_data
    assert data is not None
    await world.admin.press_raw(emu.last_sent(world.admin), data=data)
    await bot.settle()
    alert = world.admin.last_alert()
    assert alert is not None
    assert alert.show_alert
