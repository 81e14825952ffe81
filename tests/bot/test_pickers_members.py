"""The /members choosers and the forms builder's branches on the shared picker: a committee
of 300 branches and a branch of 300 members, the last of each reached by paging and by typing
part of its name; a member pressing an admin's picker button is refused."""

from __future__ import annotations

from sqlalchemy import select

from domain.orgs import Stage, Status
from services.drafts import get_draft
from services.users import Person, touch_user
from storage.models import Member, Organization
from tests.bot.conftest import BotUnderTest
from tests.bot.test_notices import say, tap
from tests.bot.test_pickers import BRANCHES, LAST, World, make_world, named, page_to_end
from tests.conftest import FakeClock
from tests.emulator import Emulator, EmuUser
from tests.emulator.model import EmuMessage

PEOPLE = 300
LAST_MEMBER = f"党员{PEOPLE:03d}"


async def branch_id(bot: BotUnderTest, name: str) -> int:
    async with bot.deps.db.read() as s:
        found = await s.scalar(select(Organization.id).where(Organization.name == name))
    assert found is not None
    return found


async def fill(bot: BotUnderTest, clock: FakeClock, org_id: int) -> None:
    """300 members on the branch's roster at once (党员001 … 党员300)."""
    now = clock.now()
    async with bot.deps.db.transaction() as s:
        s.add_all(
            Member(org_id=org_id, name=f"党员{i:03d}", stage=Stage.FULL, status=Status.ACTIVE,
                   source="admin", created_at=now, updated_at=now)  # fmt: skip
            for i in range(1, PEOPLE + 1)
        )


async def member_org(bot: BotUnderTest, name: str) -> int:
    async with bot.deps.db.read() as s:
        found = await s.scalar(
            select(Member.org_id).where(Member.name == name, Member.status == Status.ACTIVE)
        )
    assert found is not None
    return found


def people_on(screen: EmuMessage) -> list[str]:
    return [t for t in screen.button_texts() if t.startswith("党员")]


async def open_first_branch(bot: BotUnderTest, world: World) -> EmuMessage:
    """/members, narrowed to 第001支部 by typing, and its roster opened."""
    admin = world.admin
    await say(bot, admin, "/members")
    found = await say(bot, admin, "第001")
    assert [t for t in found.button_texts() if "支部" in t] == ["第001支部"]
    roster = await tap(bot, admin, found, "第001支部")
    assert "管理成员" in roster.button_texts()
    return roster


async def test_members_reaches_every_branch_and_the_300th_member(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    admin = world.admin
    await fill(bot, clock, await branch_id(bot, "第001支部"))

    picker = await say(bot, admin, "/members")
    assert "第 1–8 个，共 300 个" in picker.content
    assert "直接发名称中的几个字" in picker.content
    last_page = await page_to_end(bot, admin, picker)
    assert "第 297–300 个，共 300 个" in last_page.content
    roster = await tap(bot, admin, last_page, LAST)
    assert LAST in roster.content
    nothing = await say(bot, admin, "没有这个")  # the branch list's typed part was let go
    assert "第 1–8 个" not in nothing.content

    roster = await open_first_branch(bot, world)
    members = await tap(bot, admin, roster, "管理成员")
    assert "第001支部" in members.content
    assert "第 1–8 个，共 300 个" in members.content
    seen, pages = people_on(members), 1
    while "下一页" in members.button_texts():
        members = await tap(bot, admin, members, "下一页")
        assert len(people_on(members)) <= 8
        seen += people_on(members)
        pages += 1
        assert pages <= PEOPLE
    assert seen == [f"党员{i:03d}" for i in range(1, PEOPLE + 1)]
    assert "第 297–300 个，共 300 个" in members.content
    card = await tap(bot, admin, members, LAST_MEMBER)
    assert LAST_MEMBER in card.content
    assert "组织关系转接" in card.button_texts()

    members = await tap(bot, admin, roster, "管理成员")
    found = await say(bot, admin, "300")
    assert "名称含“300”的共 1 个" in found.content
    assert people_on(found) == [LAST_MEMBER]
    narrowed = await say(bot, admin, "党员29")  # 党员290 … 党员299
    assert "名称含“党员29”的共 10 个" in narrowed.content
    second = await tap(bot, admin, narrowed, "下一页")
    assert people_on(second) == ["党员298", "党员299"]
    first = await tap(bot, admin, second, "上一页")  # still narrowed on its first page
    assert people_on(first)[0] == "党员290"
    everything = await tap(bot, admin, first, "显示全部")
    assert "第 1–8 个，共 300 个" in everything.content
    found = await say(bot, admin, "３００")  # full-width digits find 党员300
    assert people_on(found) == [LAST_MEMBER]
    card = await tap(bot, admin, found, LAST_MEMBER)
    assert LAST_MEMBER in card.content
    # Choosing ended the typed question: text now goes nowhere near the list.
    assert await get_draft(bot.deps.db, admin.id) is None


async def test_transfer_reaches_the_300th_branch(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    admin = world.admin
    await fill(bot, clock, await branch_id(bot, "第001支部"))
    roster = await open_first_branch(bot, world)
    await tap(bot, admin, roster, "管理成员")
    card = await tap(bot, admin, await say(bot, admin, "党员001"), "党员001")
    targets = await tap(bot, admin, card, "组织关系转接")
    assert "党员001" in targets.content
    assert f"第 1–8 个，共 {BRANCHES - 1} 个" in targets.content  # every branch but its own
    last_page = await page_to_end_of(bot, admin, targets, BRANCHES - 1)
    assert named(last_page, LAST)
    done = await tap(bot, admin, last_page, LAST)
    assert "组织关系已转接" in done.content
    assert await member_org(bot, "党员001") == await branch_id(bot, LAST)

    await tap(bot, admin, roster, "管理成员")
    card = await tap(bot, admin, await say(bot, admin, "党员002"), "党员002")
    await tap(bot, admin, card, "组织关系转接")
    found = await say(bot, admin, "第300")
    assert "名称含“第300”的共 1 个" in found.content
    done = await tap(bot, admin, found, LAST)
    assert "组织关系已转接" in done.content
    assert await member_org(bot, "党员002") == await branch_id(bot, LAST)
    assert await get_draft(bot.deps.db, admin.id) is None


async def test_a_member_pressing_an_admins_picker_is_refused(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    admin = world.admin
    first = await branch_id(bot, "第001支部")
    await fill(bot, clock, first)
    member = emu.user("党员甲", language_code="zh-hans")
    await touch_user(bot.deps.db, Person(id=member.id, first_name="党员甲"), clock.now(),
                     started=True)  # fmt: skip
    async with bot.deps.db.transaction() as s:
        s.add(Member(org_id=first, user_id=member.id, name="党员甲", stage=Stage.FULL,
                     status=Status.ACTIVE, source="admin", created_at=clock.now(),
                     updated_at=clock.now()))  # fmt: skip
    await member.start()
    await bot.settle()

    roster = await open_first_branch(bot, world)
    members = await tap(bot, admin, roster, "管理成员")
    card = await tap(bot, admin, members, "党员001")
    targets = await tap(bot, admin, card, "组织关系转接")
    for screen in (members, targets):
        data = screen.button("下一页").callback_data
        assert data is not None
        before = emu.last_sent(member)
        await member.press_raw(before, data=data)
        await bot.settle()
        alert = member.last_alert()
        assert alert is not None
        assert (alert.text or "").startswith("只有本支部")
        assert emu.last_sent(member).content == before.content  # nothing shown or changed
    move = targets.button("第009支部").callback_data
    assert move is not None
    await member.press_raw(emu.last_sent(member), data=move)
    await bot.settle()
    assert member.last_alert() is not None
    assert await member_org(bot, "党员001") == first
    # Text the member types narrows no admin's list.
    await say(bot, member, "300")
    assert "党员300" not in emu.last_sent(member).button_texts()


async def page_to_end_of(
    bot: BotUnderTest, user: EmuUser, screen: EmuMessage, total: int
) -> EmuMessage:
    pages = 1
    while "下一页" in screen.button_texts():
        screen = await tap(bot, user, screen, "下一页")
        pages += 1
        assert pages <= total
    assert pages == -(-total // 8)
    return screen


async def test_import_reaches_the_300th_branch_by_paging_and_by_typing(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    admin = world.admin
    picker = await say(bot, admin, "/import")
    assert "请选择要导入名册的支部" in picker.content
    assert "第 1–8 个，共 300 个" in picker.content
    last_page = await page_to_end(bot, admin, picker)
    template = await tap(bot, admin, last_page, LAST)
    assert template.document is not None
    assert LAST in template.content

    await say(bot, admin, "/import")
    found = await say(bot, admin, "第300")
    assert "名称含“第300”的共 1 个" in found.content
    template = await tap(bot, admin, found, LAST)
    assert template.document is not None
    assert LAST in template.content
