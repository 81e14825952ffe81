"""The /members, /import, /dues choosers and the forms builder's pickers on the shared picker:
a committee of 300 branches and a branch of 300 members, the last of each reached by paging and
by typing part of its name; a member pressing an admin's picker button is refused."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from domain.forms import FormKind, LatePolicy, QType, Question, Repeat
from domain.forms_builder import BuildDraft, choose_org, start
from domain.orgs import Level, Role, Stage, Status
from services.authz import Actor
from services.drafts import get_draft, keep_draft, open_draft
from services.forms import FormSpec, publish_form
from services.notices import Audience
from services.users import Person, touch_user
from storage.models import Member, Organization, RoleAssignment
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
            Member(
                org_id=org_id,
                name=f"党员{i:03d}",
                stage=Stage.FULL,
                status=Status.ACTIVE,
                source="admin",
                created_at=now,
                updated_at=now,
            )
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
    # A page past the end (the roster shrank, or forged): the last page, not an empty one.
    members = await tap(bot, admin, roster, "管理成员")
    branch = await branch_id(bot, "第001支部")
    await admin.press_raw(members, data=f"mls:member:{branch}:99999:0")
    await bot.settle()
    assert "第 297–300 个，共 300 个" in emu.last_sent(admin).content
    await admin.press_raw(members, data=f"mls:member:{branch}:-8:0")
    await bot.settle()
    alert = admin.last_alert()
    assert alert is not None
    assert alert.show_alert


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


async def test_form_builder_reaches_the_300th_branch_and_toggles_it(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    admin, db = world.admin, bot.deps.db
    draft = replace(
        choose_org(start(single_org=True), world.committee, "城区党委", Level.COMMITTEE),
        step="qs", kind=FormKind.MEMBER, title="报名表", intro="",
        questions=(Question(QType.SHORT, "姓名"),),
    )  # fmt: skip
    await keep_draft(db, admin.id, draft, clock.now())
    questions = await tap(bot, admin, await say(bot, admin, "/form"), "继续填写")
    audience = await tap(bot, admin, questions, "问题都好了，下一步")
    picker = await tap(bot, admin, audience, "选择支部…")
    assert "共 300 个" in picker.content
    assert "第 1–8 个，共 300 个" in picker.content
    assert "直接发名称中的几个字" in picker.content
    last_page = await page_to_end(bot, admin, picker)
    toggled = await tap(bot, admin, last_page, f"⬜ {LAST}")
    assert f"✅ {LAST}" in toggled.button_texts()
    assert "第 297–300 个，共 300 个" in toggled.content  # still on the page it was pressed on
    untoggled = await tap(bot, admin, toggled, f"✅ {LAST}")
    assert f"⬜ {LAST}" in untoggled.button_texts()
    toggled = await tap(bot, admin, untoggled, f"⬜ {LAST}")

    found = await say(bot, admin, "第00")  # 第001 … 第009
    assert "名称含“第00”的共 9 个" in found.content
    second = await tap(bot, admin, found, "下一页")
    assert [t for t in second.button_texts() if "支部" in t] == ["⬜ 第009支部"]
    picked = await tap(bot, admin, second, "⬜ 第009支部")
    assert "✅ 第009支部" in picked.button_texts()
    assert "名称含“第00”的共 9 个" in picked.content  # the list stays narrowed
    found = await say(bot, admin, "３００")  # full-width digits find 第300支部
    assert f"✅ {LAST}" in found.button_texts()
    everything = await tap(bot, admin, found, "显示全部")
    assert "第 1–8 个，共 300 个" in everything.content
    chosen = await tap(bot, admin, everything, "完成")
    assert "已选 2 个支部" in chosen.content
    kept = await open_draft(db, admin.id, BuildDraft)
    assert isinstance(kept, BuildDraft)
    assert set(kept.targets) == {
        await branch_id(bot, LAST), await branch_id(bot, "第009支部"),
    }  # fmt: skip


async def test_form_builder_copies_and_forms_lists_any_earlier_form(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    admin, db = world.admin, bot.deps.db
    titles = [f"第{i:02d}次报名" for i in range(1, 21)]  # twenty: three pages of eight
    reach = Audience((await branch_id(bot, LAST),))  # one branch: little to queue
    for title in titles:
        spec = FormSpec(
            org_id=world.committee, kind=FormKind.MEMBER, title=title, intro="",
            questions=(Question(QType.SHORT, "姓名"),), audience=reach,
            deadline=clock.now() + timedelta(days=2), late_policy=LatePolicy.ACCEPT,
            anonymous=False, repeat=Repeat.NONE,
        )  # fmt: skip
        await publish_form(db, Actor(admin.id), spec, now=clock.now(), today=clock.now().date())
    earlier = await tap(bot, admin, await say(bot, admin, "/form"), "📄 复制以前的表单")
    assert "第 1–8 个，共 20 个" in earlier.content
    seen, screen = [t for t in earlier.button_texts() if t in titles], earlier
    while "下一页" in screen.button_texts():
        screen = await tap(bot, admin, screen, "下一页")
        seen += [t for t in screen.button_texts() if t in titles]
        assert len(seen) <= len(titles)
    assert seen == titles[::-1]  # newest first, every one reached
    found = await say(bot, admin, "01次")
    assert [t for t in found.button_texts() if t in titles] == ["第01次报名"]
    kind = await tap(bot, admin, found, "第01次报名")
    kept = await open_draft(db, admin.id, BuildDraft)
    assert isinstance(kept, BuildDraft)
    assert kept.title == "第01次报名"
    assert kind.button_texts()

    def listed(screen: EmuMessage) -> list[str]:
        return [t.split(" · ")[0] for t in screen.button_texts() if " · " in t]

    listing = await say(bot, admin, "/forms")  # six a page
    assert "直接发名称中的几个字" in listing.content
    seen, screen = listed(listing), listing
    while "下一页" in screen.button_texts():
        screen = await tap(bot, admin, screen, "下一页")
        seen += listed(screen)
        assert len(seen) <= len(titles)
    assert seen == titles[::-1]
    found = await say(bot, admin, "1次")  # 第01次, 第11次
    assert "名称含“1次”的共 2 个" in found.content
    assert listed(found) == ["第11次报名", "第01次报名"]
    nothing = await say(bot, admin, "没有这一份")
    assert "没有名称含“没有这一份”的" in nothing.content
    everything = await tap(bot, admin, nothing, "显示全部")
    assert listed(everything) == titles[::-1][:6]
    found = await say(bot, admin, "第0")  # 第01 … 第09: two pages, still narrowed
    second = await tap(bot, admin, found, "下一页")
    assert listed(second) == ["第03次报名", "第02次报名", "第01次报名"]
    oldest = next(t for t in second.button_texts() if t.startswith("第01次报名"))
    results = await tap(bot, admin, second, oldest)
    assert "第01次报名" in results.content


async def test_dues_ledger_of_a_committee_of_300_branches_pages_and_narrows(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    """党费台账 listed a roll-up per organization at once: 301 buttons, which Telegram refuses."""
    world = await make_world(emu, bot, clock)
    admin, year = world.admin, clock.now().year
    ledger = await tap(bot, admin, await say(bot, admin, "/dues"), "党费台账")
    assert "第 1–8 个，共 301 个" in ledger.content
    assert "下一年 ›" in ledger.button_texts()
    last_page = await page_to_end_of(bot, admin, ledger, BRANCHES + 1)
    assert f"{LAST} 党费收缴汇总（{year}）" in last_page.button_texts()
    assert "下一年 ›" in last_page.button_texts()
    rollup = await tap(bot, admin, last_page, f"{LAST} 党费收缴汇总（{year}）")
    assert LAST in rollup.content

    ledger = await tap(bot, admin, await say(bot, admin, "/dues"), "党费台账")
    found = await say(bot, admin, "３００")
    assert "名称含“３００”的共 1 个" in found.content
    assert found.button_texts()[0] == f"{LAST} 党费收缴汇总（{year}）"
    earlier = await tap(bot, admin, found, "‹ 上一年")
    assert f"党费台账　{year - 1} 年" in earlier.content
    assert "第 1–8 个，共 301 个" in earlier.content


async def test_dues_keeper_of_many_branches_finds_one_to_record(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    keeper = emu.user("党费管理员", language_code="zh-hans")
    await touch_user(bot.deps.db, Person(id=keeper.id, first_name="党费管理员"), clock.now(),
                     started=True)  # fmt: skip
    kept = [f"第{i:03d}支部" for i in range(289, 301)]  # twelve: two pages
    async with bot.deps.db.transaction() as s:
        for name in kept:
            org_id = await s.scalar(select(Organization.id).where(Organization.name == name))
            s.add(RoleAssignment(org_id=org_id, role=Role.DUES_KEEPER, user_id=keeper.id,
                                 start_on=clock.now().date(), created_at=clock.now()))  # fmt: skip
    await keeper.start()
    await bot.settle()
    picker = await tap(bot, keeper, await say(bot, keeper, "/dues"), "登记交费")
    assert "请选择要登记的支部" in picker.content
    assert "第 1–8 个，共 12 个" in picker.content
    last_page = await tap(bot, keeper, picker, "下一页")
    grid = await tap(bot, keeper, last_page, LAST)
    assert LAST in grid.content
    assert "党费登记" in grid.content

    picker = await tap(bot, keeper, await say(bot, keeper, "/dues"), "登记交费")
    found = await say(bot, keeper, "29")  # 第290 … 第299
    assert "名称含“29”的共 10 个" in found.content
    second = await tap(bot, keeper, found, "下一页")
    assert [t for t in second.button_texts() if "支部" in t] == ["第298支部", "第299支部"]
    grid = await tap(bot, keeper, second, "第299支部")
    assert "第299支部" in grid.content
    # Someone who keeps no dues pressing the keeper's page button is refused.
    data = picker.button("下一页").callback_data
    assert data is not None
    await world.admin.press_raw(emu.last_sent(world.admin), data=data)
    await bot.settle()
    alert = world.admin.last_alert()
    assert alert is not None
    assert alert.show_alert
    assert "党费" in (alert.text or "")


async def test_dues_grid_of_300_members_pages_and_narrows(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    first = await branch_id(bot, "第001支部")
    await fill(bot, clock, first)
    keeper = emu.user("党费管理员", language_code="zh-hans")
    await touch_user(bot.deps.db, Person(id=keeper.id, first_name="党费管理员"), clock.now(),
                     started=True)  # fmt: skip
    async with bot.deps.db.transaction() as s:
        s.add(RoleAssignment(org_id=first, role=Role.DUES_KEEPER, user_id=keeper.id,
                             start_on=clock.now().date(), created_at=clock.now()))  # fmt: skip
    await keeper.start()
    await bot.settle()

    def names(screen: EmuMessage) -> list[str]:
        return [t.split(" ", 1)[1] for t in screen.button_texts() if "党员" in t]

    grid = await tap(bot, keeper, await say(bot, keeper, "/dues"), "登记交费")
    assert "第 1–10 个，共 300 个" in grid.content
    assert "直接发名称中的几个字" in grid.content
    pages, screen = 1, grid
    while "下一页" in screen.button_texts():
        screen = await tap(bot, keeper, screen, "下一页")
        pages += 1
        assert pages <= PEOPLE
    assert pages == 30
    assert names(screen)[-1] == LAST_MEMBER

    found = await say(bot, keeper, "党员29")  # 党员290 … 党员299
    assert "名称含“党员29”的共 10 个" in found.content
    assert names(found) == [f"党员{i}" for i in range(290, 300)]
    other = await tap(bot, keeper, found, "下个月 ›")  # another month, still narrowed
    assert names(other) == names(found)
    found = await say(bot, keeper, "３００")  # full-width digits find 党员300
    assert names(found) == [LAST_MEMBER]
    data = found.button("显示全部").callback_data
    assert data is not None
    everything = await tap(bot, keeper, found, "显示全部")
    assert "第 1–10 个，共 300 个" in everything.content
    # Someone who keeps no dues pressing the keeper's 显示全部 is refused.
    await world.admin.press_raw(emu.last_sent(world.admin), data=data)
    await bot.settle()
    alert = world.admin.last_alert()
    assert alert is not None
    assert alert.show_alert


async def test_forms_results_reach_the_300th_branch_by_paging_and_by_typing(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    admin, db = world.admin, bot.deps.db
    spec = FormSpec(
        org_id=world.committee, kind=FormKind.BRANCH, title="年度统计", intro="",
        questions=(Question(QType.SHORT, "情况"),), audience=Audience((world.committee,)),
        deadline=clock.now() + timedelta(days=2), late_policy=LatePolicy.ACCEPT,
        anonymous=False, repeat=Repeat.NONE,
    )  # fmt: skip
    await publish_form(db, Actor(admin.id), spec, now=clock.now(), today=clock.now().date())

    def branches(screen: EmuMessage) -> list[str]:
        return [t.split(" ")[0] for t in screen.button_texts() if "迟报" in t]

    listing = await say(bot, admin, "/forms")
    results = await tap(bot, admin, listing, listing.button_texts()[0])
    assert "年度统计" in results.content
    assert "直接发名称中的几个字" in results.content
    seen, screen, pages = branches(results), results, 1
    while "下一页 ▶" in screen.button_texts():
        screen = await tap(bot, admin, screen, "下一页 ▶")
        seen += branches(screen)
        pages += 1
        assert pages <= BRANCHES
    assert sorted(seen) == [f"第{i:03d}支部" for i in range(1, BRANCHES + 1)]

    found = await say(bot, admin, "第29")  # 第290 … 第299
    assert "名称含“第29”的共 10 个" in found.content
    second = await tap(bot, admin, found, "下一页 ▶")
    assert len(branches(second)) == 2
    assert "名称含“第29”的共 10 个" in second.content  # its pages stay narrowed
    found = await say(bot, admin, "３００")
    assert branches(found) == [LAST]
    one = await tap(bot, admin, found, found.button_texts()[0])
    assert LAST in one.content
    everything = await tap(bot, admin, await say(bot, admin, "第1"), "显示全部")
    assert "名称含" not in everything.content
