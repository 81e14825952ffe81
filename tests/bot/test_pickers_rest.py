"""The remaining choosers on the shared picker: paged to the last item, narrowed by typing
part of a name (meeting edits' person picker, /org 设置书记, …)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from domain.orgs import Kind, Level, Role
from services.drafts import get_draft
from services.groups import binding_of
from services.notices import Audience
from services.orgs import create_org
from services.orgs_roles import grant_role
from services.users import Person, touch_user
from storage.models import Member, Notice, Organization, RoleAssignment
from tests.bot.conftest import BotUnderTest
from tests.bot.test_meetings import december as december  # the fixture, by name
from tests.bot.test_meetings import make_branch, manage_screen, schedule
from tests.bot.test_members import RIGHTS
from tests.bot.test_notices import _member, say, tap
from tests.bot.test_notices import make_world as notices_world
from tests.bot.test_pickers import SUPER, make_world
from tests.conftest import FakeClock
from tests.emulator import Emulator, EmuUser
from tests.emulator.model import EmuMessage

PEOPLE = [f"组员{i:02d}" for i in range(1, 21)]


def names_on(screen: EmuMessage, pool: list[str]) -> list[str]:
    return [t for t in screen.button_texts() if t in pool]


async def all_pages(
    bot: BotUnderTest, user: EmuUser, screen: EmuMessage, pool: list[str]
) -> tuple[EmuMessage, list[str]]:
    """下一页 until there is none; the names seen on the way (at most eight a page)."""
    seen = names_on(screen, pool)
    pages = 1
    while "下一页" in screen.button_texts():
        screen = await tap(bot, user, screen, "下一页")
        assert len(names_on(screen, pool)) <= 8
        seen += names_on(screen, pool)
        pages += 1
        assert pages <= len(pool)  # a pager that never ends is a failure, not a hang
    return screen, seen


@pytest.mark.usefixtures("december")
async def test_meeting_edit_person_picker_pages_and_narrows(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_branch(emu, bot, clock)
    await schedule(bot, world)
    for name in PEOPLE:  # the roster grows to 25 after the meeting was planned
        await _member(bot.deps.db, clock, world.org_id, name, None)
    sec = world.secretary
    screen = await manage_screen(bot, sec, "学习新党章")
    menu = await tap(bot, sec, screen, "修改")
    picker = await tap(bot, sec, menu, "主持人")
    assert "第 1–8 个，共 25 个" in picker.content
    assert "直接发名称中的几个字" in picker.content
    roster = [*PEOPLE, "陈书记", "王芳", "李娜", "张伟", "刘新"]
    last, seen = await all_pages(bot, sec, picker, roster)
    assert sorted(seen) == sorted(roster)
    assert "第 25–25 个，共 25 个" in last.content

    found = await say(bot, sec, "组员1")  # 组员10 … 组员19
    assert "名称含“组员1”的共 10 个" in found.content
    second = await tap(bot, sec, found, "下一页")
    assert names_on(second, PEOPLE) == ["组员18", "组员19"]
    nothing = await say(bot, sec, "没有这个人")
    assert "没有名称含“没有这个人”的" in nothing.content
    everything = await tap(bot, sec, nothing, "显示全部")
    assert "第 1–8 个，共 25 个" in everything.content
    found = await say(bot, sec, "１９")  # full-width digits find 组员19
    assert names_on(found, PEOPLE) == ["组员19"]
    confirm = await tap(bot, sec, found, "组员19")
    assert "组员19" in confirm.content
    done = await tap(bot, sec, confirm, "确认修改")
    assert "已修改" in done.content


async def test_org_secretary_picker_pages_and_narrows(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    admin = world.admin
    async with bot.deps.db.read() as s:
        branch_id = await s.scalar(select(Organization.id).where(Organization.name == "第001支部"))
    assert branch_id is not None
    for name in PEOPLE:
        await _member(bot.deps.db, clock, branch_id, name, None)
    card = await tap(bot, admin, await say(bot, admin, "/org"), "城区党委")
    await tap(bot, admin, card, "🔍 按名称查找")
    card = await tap(bot, admin, await say(bot, admin, "第001"), "第001支部")
    picker = await tap(bot, admin, card, "设置书记")
    assert "第 1–8 个，共 20 个" in picker.content
    last, seen = await all_pages(bot, admin, picker, PEOPLE)
    assert seen == PEOPLE
    assert "第 17–20 个，共 20 个" in last.content

    found = await say(bot, admin, "组员1")  # 组员10 … 组员19
    assert "名称含“组员1”的共 10 个" in found.content
    second = await tap(bot, admin, found, "下一页")
    assert names_on(second, PEOPLE) == ["组员18", "组员19"]
    everything = await tap(bot, admin, second, "显示全部")
    assert "第 1–8 个，共 20 个" in everything.content
    found = await say(bot, admin, "２０")  # full-width digits find 组员20
    assert names_on(found, PEOPLE) == ["组员20"]
    done = await tap(bot, admin, found, "组员20")
    assert "组员20" in done.content
    async with bot.deps.db.read() as s:
        secretary = await s.scalar(
            select(Member.name)
            .join(RoleAssignment, RoleAssignment.member_id == Member.id)
            .where(RoleAssignment.org_id == branch_id, RoleAssignment.role == Role.SECRETARY)
        )
    assert secretary == "组员20"
    # The typed question ended with the appointment: text now goes nowhere near it.
    assert await get_draft(bot.deps.db, admin.id) is None


async def test_receipts_list_of_notices_pages_and_narrows(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await notices_world(emu, bot, clock)
    sender = world.sender
    titles = [f"第{i:02d}号通知" for i in range(1, 24)]  # 23 notices: three pages of ten
    async with bot.deps.db.transaction() as s:  # as sent already: no outbox to drain
        s.add_all(
            Notice(
                org_id=world.committee,
                sender_id=sender.id,
                category="meeting",
                title=title,
                body_html="请准时参加。",
                audience=Audience(org_ids=(world.committee,)).to_json(),
                pin=False,
                ack_label="received",
                send_at=clock.now() + timedelta(minutes=i),
                created_at=clock.now(),
                status="sent",
                version=1,
            )
            for i, title in enumerate(titles)
        )

    def on(screen: EmuMessage) -> list[str]:
        return [t.split(" · ")[0] for t in screen.button_texts() if " · " in t]

    latest = await say(bot, sender, "/receipts")
    assert "第23号通知" in latest.content
    listing = await tap(bot, sender, latest, "其他通知")
    assert "第 1–10 个，共 23 个" in listing.content
    assert "直接发名称中的几个字" in listing.content
    seen, screen = on(listing), listing
    while "下一页" in screen.button_texts():
        screen = await tap(bot, sender, screen, "下一页")
        assert len(on(screen)) <= 10
        seen += on(screen)
        assert len(seen) <= len(titles)
    assert seen == titles[::-1]  # newest first, every one reached
    assert "第 21–23 个，共 23 个" in screen.content
    oldest = await tap(bot, sender, screen, next(t for t in screen.button_texts() if "第01号" in t))
    assert "第01号通知" in oldest.content

    listing = await tap(bot, sender, oldest, "其他通知")
    found = await say(bot, sender, "1号")  # 第01号, 第11号, 第21号
    assert "名称含“1号”的共 3 个" in found.content
    assert on(found) == ["第21号通知", "第11号通知", "第01号通知"]
    nothing = await say(bot, sender, "没有这一条")
    assert "没有名称含“没有这一条”的" in nothing.content
    everything = await tap(bot, sender, nothing, "显示全部")
    assert "第 1–10 个，共 23 个" in everything.content
    found = await say(bot, sender, "０１")  # full-width digits find 第01号通知
    assert on(found) == ["第01号通知"]
    opened = await tap(bot, sender, found, found.button_texts()[0])
    assert "第01号通知" in opened.content
    # Opening a notice let the typed question go: text now goes nowhere near the list.
    assert await get_draft(bot.deps.db, sender.id) is None


async def test_bind_pages_to_the_last_branch(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    """In a group a typed word is everyone's chat, so /bind narrows nothing: paging reaches
    every branch, and the screen says which ones are shown."""

    async def press(screen: EmuMessage, label: str) -> EmuMessage:
        await admin.press(screen, label)
        await bot.settle()
        return emu.last_sent(group)

    db, now, today = bot.deps.db, clock.now(), clock.now().date()
    admin = emu.user("组织部", language_code="zh-hans")
    await touch_user(db, Person(id=admin.id, first_name="组织部"), now, started=True)
    committee = await create_org(db, SUPER, name="城区党委", level=Level.COMMITTEE,
                                 kind=Kind.TWO_NEW, parent_id=None, now=now,
                                 today=today)  # fmt: skip
    await grant_role(db, SUPER, committee.id, Role.COMMITTEE_ADMIN, user_id=admin.id,
                     now=now, today=today)  # fmt: skip
    names = [f"第{i:02d}支部" for i in range(1, 21)]
    async with db.transaction() as s:
        s.add_all(
            Organization(
                parent_id=committee.id,
                level=Level.BRANCH,
                kind=Kind.STANDARD,
                name=name,
                created_at=now,
            )
            for name in names
        )
    group = emu.group("新的群", members=[admin], admins=[admin], supergroup=True)
    await group.add_bot(by=admin, admin=True, rights=RIGHTS)
    await admin.start()
    await admin.send("/bind", chat=group)
    await bot.settle()
    screen = emu.last_sent(group)
    assert "第 1–8 个，共 20 个" in screen.content
    seen, pages = names_on(screen, names), 1
    while "下一页" in screen.button_texts():
        screen = await press(screen, "下一页")
        assert len(names_on(screen, names)) <= 8
        seen += names_on(screen, names)
        pages += 1
        assert pages <= len(names)
    assert seen == names
    assert "第 17–20 个，共 20 个" in screen.content
    back = await press(screen, "上一页")
    assert names_on(back, names)[0] == "第09支部"
    done = await press(await press(back, "下一页"), "第20支部")
    assert "第20支部" in done.content
    binding = await binding_of(db, group.id)
    assert binding is not None
    assert binding.org.name == "第20支部"
