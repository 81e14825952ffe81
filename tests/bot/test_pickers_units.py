"""The unit and party-group choosers on the shared picker: a joint branch covering 120 units,
the 120th reached in /me and in registration by paging and by typing part of its name; a
branch of 30 party groups, the 30th made a leader's group; forged and stale page presses."""

from __future__ import annotations

from sqlalchemy import select

from domain.orgs import Kind, Role, Stage, Status
from services.drafts import get_draft
from services.users import Person, touch_user
from storage.models import Member, Organization, PartyGroup, Registration, RoleAssignment, Unit
from tests.bot.conftest import BotUnderTest
from tests.bot.test_members import Branch, make_branch
from tests.bot.test_notices import say, tap
from tests.conftest import FakeClock
from tests.emulator import Emulator, EmuUser
from tests.emulator.model import EmuMessage

UNITS = 120
LAST_UNIT = f"单位{UNITS:03d}"
GROUPS = 30
LAST_GROUP = f"第{GROUPS:02d}党小组"


async def joint_branch(emu: Emulator, bot: BotUnderTest, clock: FakeClock) -> Branch:
    """A joint branch covering 单位001 … 单位120, its secretary started."""
    branch = await make_branch(emu, bot.deps.db, clock, kind=Kind.JOINT)
    async with bot.deps.db.transaction() as s:
        s.add_all(Unit(org_id=branch.id, name=f"单位{i:03d}") for i in range(1, UNITS + 1))
    await branch.secretary.start()
    await bot.settle()
    return branch


async def elsewhere(bot: BotUnderTest, branch: Branch, thing: type[Unit | PartyGroup]) -> int:
    """A unit or party group of another branch under the same committee: its id."""
    async with bot.deps.db.transaction() as s:
        mine = await s.get(Organization, branch.id)
        assert mine is not None
        other = Organization(parent_id=mine.parent_id, level=mine.level, kind=mine.kind,
                             name="第二支部", created_at=mine.created_at)  # fmt: skip
        s.add(other)
        await s.flush()
        row = thing(org_id=other.id, name="别处")
        s.add(row)
        await s.flush()
        return row.id


def listed(screen: EmuMessage, prefix: str) -> list[str]:
    return [t for t in screen.button_texts() if t.startswith(prefix)]


async def page_through(
    bot: BotUnderTest, user: EmuUser, screen: EmuMessage, prefix: str, total: int
) -> tuple[EmuMessage, list[str]]:
    """下一页 until there is none; every item seen once, at most eight a page."""
    seen, pages = listed(screen, prefix), 1
    while "下一页" in screen.button_texts():
        screen = await tap(bot, user, screen, "下一页")
        assert len(listed(screen, prefix)) <= 8
        seen += listed(screen, prefix)
        pages += 1
        assert pages <= total  # a pager that never ends is a failure, not a hang
    assert pages == -(-total // 8)
    return screen, seen


async def unit_of(bot: BotUnderTest, name: str) -> str | None:
    async with bot.deps.db.read() as s:
        unit_id = await s.scalar(
            select(Member.unit_id).where(Member.name == name, Member.status == Status.ACTIVE)
        )
        return await s.scalar(select(Unit.name).where(Unit.id == unit_id)) if unit_id else None


async def test_me_reaches_the_120th_unit_by_paging_and_by_typing(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    branch = await joint_branch(emu, bot, clock)
    sec = branch.secretary
    picker = await tap(bot, sec, await say(bot, sec, "/me"), "修改单位")
    assert "请选择您所在的单位" in picker.content
    assert f"第 1–8 个，共 {UNITS} 个" in picker.content
    assert "直接发名称中的几个字" in picker.content
    last_page, seen = await page_through(bot, sec, picker, "单位", UNITS)
    assert seen == [f"单位{i:03d}" for i in range(1, UNITS + 1)]
    assert f"第 113–120 个，共 {UNITS} 个" in last_page.content
    done = await tap(bot, sec, last_page, LAST_UNIT)
    assert f"单位已改为 {LAST_UNIT}" in done.content
    assert await unit_of(bot, "李明") == LAST_UNIT
    assert await get_draft(bot.deps.db, sec.id) is None  # the typed question ended

    await tap(bot, sec, await say(bot, sec, "/me"), "修改单位")
    found = await say(bot, sec, "11")  # 单位011, 单位110 … 单位119
    assert "名称含“11”的共 11 个" in found.content
    second = await tap(bot, sec, found, "下一页")
    assert listed(second, "单位") == ["单位117", "单位118", "单位119"]  # still narrowed
    everything = await tap(bot, sec, second, "显示全部")
    assert f"第 1–8 个，共 {UNITS} 个" in everything.content
    found = await say(bot, sec, "０９９")  # full-width digits find 单位099
    assert listed(found, "单位") == ["单位099"]
    done = await tap(bot, sec, found, "单位099")
    assert "单位已改为 单位099" in done.content
    assert await unit_of(bot, "李明") == "单位099"


async def test_me_unit_pages_forged_and_stale(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    branch = await joint_branch(emu, bot, clock)
    sec = branch.secretary
    picker = await tap(bot, sec, await say(bot, sec, "/me"), "修改单位")
    page = picker.button("下一页").callback_data
    pick = picker.button("单位001").callback_data
    assert page is not None
    assert pick is not None
    # A page past the end (units removed meanwhile, or forged): the last page, not an empty one.
    await sec.press_raw(picker, data="mls:unit:0:99999:0")
    await bot.settle()
    assert f"第 113–120 个，共 {UNITS} 个" in emu.last_sent(sec).content
    await sec.press_raw(picker, data="mls:unit:0:-8:0")
    await bot.settle()
    alert = sec.last_alert()
    assert alert is not None
    assert alert.show_alert

    # Someone on no roster pressing the member's page button or a unit is refused.
    stranger = emu.user("路人", language_code="zh-hans")
    await touch_user(bot.deps.db, Person(id=stranger.id, first_name="路人"), clock.now(),
                     started=True)  # fmt: skip
    await stranger.start()
    await bot.settle()
    for data in (page, pick):
        before = emu.last_sent(stranger)
        await stranger.press_raw(before, data=data)
        await bot.settle()
        alert = stranger.last_alert()
        assert alert is not None
        assert alert.show_alert
        assert emu.last_sent(stranger).content == before.content
    # A unit of another branch is refused, and changes nothing.
    foreign_id = await elsewhere(bot, branch, Unit)
    await sec.press_raw(picker, data=f"meu:{foreign_id}")
    await bot.settle()
    alert = sec.last_alert()
    assert alert is not None
    assert "不属于这个支部" in (alert.text or "")
    assert await unit_of(bot, "李明") is None


async def walk_to_unit(bot: BotUnderTest, person: EmuUser, branch: Branch, name: str) -> EmuMessage:
    await person.start(payload=f"reg_{branch.id}")
    await bot.settle()
    await say(bot, person, name)
    return await tap(bot, person, bot.emu.last_sent(person), "正式党员")


async def test_registration_reaches_the_120th_unit_by_paging_and_by_typing(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    branch = await joint_branch(emu, bot, clock)
    wang = emu.user("芳", language_code="zh-hans")
    picker = await walk_to_unit(bot, wang, branch, "王芳")
    assert "请选择您所在的单位" in picker.content
    assert f"第 1–8 个，共 {UNITS} 个" in picker.content
    assert "直接发名称中的几个字" in picker.content
    assert {"上一步", "取消"} <= set(picker.button_texts())
    last_page, seen = await page_through(bot, wang, picker, "单位", UNITS)
    assert seen == [f"单位{i:03d}" for i in range(1, UNITS + 1)]
    assert {"上一步", "取消"} <= set(last_page.button_texts())  # kept under every page
    phone = await tap(bot, wang, last_page, LAST_UNIT)
    assert "请输入您的手机号" in phone.content
    summary = await tap(bot, wang, phone, "跳过")
    assert LAST_UNIT in summary.content

    li = emu.user("李", language_code="zh-hans")
    picker = await walk_to_unit(bot, li, branch, "李华")
    found = await say(bot, li, "12")  # 单位012, 单位112, 单位120
    assert "名称含“12”的共 3 个" in found.content
    assert listed(found, "单位") == ["单位012", "单位112", LAST_UNIT]
    nothing = await say(bot, li, "没有这家")
    assert "没有名称含“没有这家”的" in nothing.content
    everything = await tap(bot, li, nothing, "显示全部")
    assert f"第 1–8 个，共 {UNITS} 个" in everything.content
    await say(bot, li, "120")
    found = emu.last_sent(li)
    assert listed(found, "单位") == [LAST_UNIT]
    phone = await tap(bot, li, found, LAST_UNIT)
    assert "请输入您的手机号" in phone.content
    summary = await say(bot, li, "13800138001")
    assert LAST_UNIT in summary.content
    await tap(bot, li, summary, "✅ 确认提交")
    async with bot.deps.db.read() as s:
        unit_id = await s.scalar(select(Registration.unit_id).where(Registration.name == "李华"))
        assert unit_id is not None
        assert await s.scalar(select(Unit.name).where(Unit.id == unit_id)) == LAST_UNIT


async def test_registration_unit_pages_forged_and_stale(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    branch = await joint_branch(emu, bot, clock)
    wang = emu.user("芳", language_code="zh-hans")
    picker = await walk_to_unit(bot, wang, branch, "王芳")
    await wang.press_raw(picker, data="reg:upg:99999")  # past the end: the last page
    await bot.settle()
    assert f"第 113–120 个，共 {UNITS} 个" in emu.last_sent(wang).content
    await wang.press_raw(picker, data="reg:upg:-8")
    await bot.settle()
    alert = wang.last_alert()
    assert alert is not None
    assert alert.show_alert
    # A unit of another branch, forged onto the question, is refused.
    foreign_id = await elsewhere(bot, branch, Unit)
    await wang.press_raw(emu.last_sent(wang), data=f"reg:un:{foreign_id}")
    await bot.settle()
    assert wang.last_alert() is not None
    # Once the unit is answered, the unit question's page buttons are old: refused.
    phone = await tap(bot, wang, await say(bot, wang, "单位001"), "单位001")
    assert "请输入您的手机号" in phone.content
    await wang.press_raw(phone, data="reg:upg:8")
    await bot.settle()
    alert = wang.last_alert()
    assert alert is not None
    assert emu.last_sent(wang).content == phone.content
    # 上一步 back to the units: the whole list again, from the top.
    units = await tap(bot, wang, phone, "上一步")
    assert f"第 1–8 个，共 {UNITS} 个" in units.content
    # Someone with no registration open pressing a page of it is refused.
    stranger = emu.user("路人", language_code="zh-hans")
    await stranger.start()
    await bot.settle()
    await stranger.press_raw(emu.last_sent(stranger), data="reg:upg:8")
    await bot.settle()
    assert stranger.last_alert() is not None


async def party_branch(emu: Emulator, bot: BotUnderTest, clock: FakeClock) -> Branch:
    """A branch with 第01党小组 … 第30党小组 and two more members, its secretary started."""
    branch = await make_branch(emu, bot.deps.db, clock)
    now = clock.now()
    async with bot.deps.db.transaction() as s:
        s.add_all(PartyGroup(org_id=branch.id, name=f"第{i:02d}党小组") for i in range(1, 31))
        s.add_all(
            Member(
                org_id=branch.id,
                name=name,
                stage=Stage.FULL,
                status=Status.ACTIVE,
                source="admin",
                created_at=now,
                updated_at=now,
            )
            for name in ("张伟", "赵敏")
        )
    await branch.secretary.start()
    await bot.settle()
    return branch


async def role_card(bot: BotUnderTest, sec: EmuUser, name: str) -> EmuMessage:
    """/members → 管理成员 → the member → 设置职务: the offices to grant."""
    await say(bot, sec, "/members")
    members = await tap(bot, sec, bot.emu.last_sent(sec), "管理成员")
    card = await tap(bot, sec, members, name)
    return await tap(bot, sec, card, "设置职务")


async def group_led_by(bot: BotUnderTest, name: str) -> str | None:
    async with bot.deps.db.read() as s:
        return await s.scalar(
            select(PartyGroup.name)
            .join(RoleAssignment, RoleAssignment.party_group_id == PartyGroup.id)
            .join(Member, Member.id == RoleAssignment.member_id)
            .where(Member.name == name, RoleAssignment.role == Role.GROUP_LEADER)
        )


async def test_group_leader_of_the_30th_party_group(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    branch = await party_branch(emu, bot, clock)
    sec = branch.secretary
    picker = await tap(bot, sec, await role_card(bot, sec, "张伟"), "党小组长")
    assert "请选择党小组" in picker.content
    assert f"第 1–8 个，共 {GROUPS} 个" in picker.content
    assert "直接发名称中的几个字" in picker.content
    last_page, seen = await page_through(bot, sec, picker, "第", GROUPS)
    assert seen == [f"第{i:02d}党小组" for i in range(1, GROUPS + 1)]
    done = await tap(bot, sec, last_page, LAST_GROUP)
    assert "已设置 张伟 为党小组长" in done.content
    assert await group_led_by(bot, "张伟") == LAST_GROUP
    assert await get_draft(bot.deps.db, sec.id) is None

    await tap(bot, sec, await role_card(bot, sec, "赵敏"), "党小组长")
    found = await say(bot, sec, "3")  # 第03, 第13, 第23, 第30
    assert "名称含“3”的共 4 个" in found.content
    assert listed(found, "第") == ["第03党小组", "第13党小组", "第23党小组", LAST_GROUP]
    done = await tap(bot, sec, found, LAST_GROUP)
    assert "已设置 赵敏 为党小组长" in done.content
    assert await group_led_by(bot, "赵敏") == LAST_GROUP


async def test_group_pages_forged_and_stale(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    branch = await party_branch(emu, bot, clock)
    sec = branch.secretary
    picker = await tap(bot, sec, await role_card(bot, sec, "张伟"), "党小组长")
    page = picker.button("下一页").callback_data
    pick = picker.button("第01党小组").callback_data
    assert page is not None
    assert pick is not None
    member_id = int(page.split(":")[2])
    await sec.press_raw(picker, data=f"mls:group:{member_id}:99999:0")
    await bot.settle()
    assert f"第 25–30 个，共 {GROUPS} 个" in emu.last_sent(sec).content
    await sec.press_raw(picker, data=f"mls:group:{member_id}:-8:0")
    await bot.settle()
    alert = sec.last_alert()
    assert alert is not None
    assert alert.show_alert

    # A member of the branch pressing the secretary's page or group is refused, grants nothing.
    member = emu.user("党员甲", language_code="zh-hans")
    await touch_user(bot.deps.db, Person(id=member.id, first_name="党员甲"), clock.now(),
                     started=True)  # fmt: skip
    async with bot.deps.db.transaction() as s:
        s.add(Member(org_id=branch.id, user_id=member.id, name="党员甲", stage=Stage.FULL,
                     status=Status.ACTIVE, source="admin", created_at=clock.now(),
                     updated_at=clock.now()))  # fmt: skip
    await member.start()
    await bot.settle()
    for data in (page, pick):
        before = emu.last_sent(member)
        await member.press_raw(before, data=data)
        await bot.settle()
        alert = member.last_alert()
        assert alert is not None
        assert alert.show_alert
        assert emu.last_sent(member).content == before.content
    assert await group_led_by(bot, "张伟") is None
    # A group of another branch, forged onto the picker, is refused.
    foreign_id = await elsewhere(bot, branch, PartyGroup)
    await sec.press_raw(picker, data=pick.rsplit(":", 1)[0] + f":{foreign_id}")
    await bot.settle()
    assert sec.last_alert() is not None
    assert await group_led_by(bot, "张伟") is None
