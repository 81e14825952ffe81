"""The /org menu through the emulator: building the tree, offices, gate, forged buttons."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest

from bot.app import build_deps
from domain.orgs import Kind, Level, Permission, Role, Stage, Status
from handlers.orgs import AskHolder, EndOffice, NewOrg, OpenOrg, SetSecretary, ToggleGate
from services.audit import recent
from services.authz import Actor, permissions
from services.orgs import OrgView, create_org, get_org, list_orgs
from services.orgs_roles import grant_role, roles_of_org
from services.users import Person, touch_user
from storage.db import Database
from storage.models import Member
from tests.bot.conftest import BotUnderTest, bot_config, start_bot, stop_bot
from tests.conftest import FakeClock, once
from tests.emulator import Emulator, EmuMessage, EmuUser

SUPER_ID = 4_000_000_001  # below the emulator's own ids, so it never collides
ROOT = Actor(user_id=0, superadmin=True)
DENIED = "您无权管理这个党组织。"


@pytest.fixture
async def bot(emu: Emulator, db: Database, clock: FakeClock) -> AsyncIterator[BotUnderTest]:
    """The bot with one superadmin (SUPER_ID); handler errors fail the test."""
    cfg = bot_config(emu, db.url, superadmins=[SUPER_ID])
    harness = await start_bot(cfg, build_deps(cfg, clock=clock, db=db), emu)
    try:
        yield harness
        if harness.app.running:
            await harness.settle()
    finally:
        await stop_bot(harness)
    assert harness.errors == [], f"handler errors: {harness.errors!r}"


def today(bot: BotUnderTest) -> date:
    return bot.deps.clock.now().astimezone(bot.deps.settings.timezone).date()


async def make_org(
    bot: BotUnderTest, name: str, level: Level, kind: Kind, parent: int | None = None
) -> OrgView:
    now = bot.deps.clock.now()
    return await create_org(
        bot.deps.db, ROOT, name=name, level=level, kind=kind, parent_id=parent,
        now=now, today=today(bot),
    )  # fmt: skip


async def add_member(bot: BotUnderTest, org_id: int, name: str, user_id: int | None = None) -> int:
    now = bot.deps.clock.now()
    async with bot.deps.db.transaction() as session:
        row = Member(
            org_id=org_id, user_id=user_id, name=name, stage=Stage.FULL, status=Status.ACTIVE,
            source="admin", created_at=now, updated_at=now,
        )  # fmt: skip
        session.add(row)
        await session.flush()
        return row.id


async def open_menu(emu: Emulator, bot: BotUnderTest, user: EmuUser) -> EmuMessage:
    await user.start()
    await user.send("/org")
    await bot.settle()
    return emu.last_sent(user)


async def press(bot: BotUnderTest, user: EmuUser, message: EmuMessage, button: str) -> None:
    await user.press(message, button)
    await bot.settle()


async def test_superadmin_creates_a_committee_and_a_branch_under_it(
    emu: Emulator, bot: BotUnderTest
) -> None:
    boss = emu.user("超级管理员", id=SUPER_ID)
    menu = await open_menu(emu, bot, boss)
    assert "还没有任何党组织" in menu.content
    await press(bot, boss, menu, "➕ 新建党委")
    # At the top only a committee fits, so the level question is skipped.
    assert "请选择党委的类型" in menu.content
    assert menu.button_texts() == ["综合党委", "行业党委", "两新工委", "取消"]
    await press(bot, boss, menu, "综合党委")
    assert "请输入党委的名称" in menu.content
    await boss.send("高新区综合党委")
    await bot.settle()
    preview = emu.last_sent(boss)
    assert "级别：党委" in preview.content
    assert "类型：综合党委" in preview.content
    assert "名称：高新区综合党委" in preview.content
    await press(bot, boss, preview, "确认创建")
    assert "✅ 已新建党委“高新区综合党委”" in preview.content
    assert boss.last_alert() is not None
    [committee] = await list_orgs(bot.deps.db)
    assert (committee.level, committee.kind, committee.parent_id) == (
        Level.COMMITTEE,
        Kind.COMPREHENSIVE,
        None,
    )

    card = preview
    await press(bot, boss, card, "➕ 新建下级组织")
    assert "在“高新区综合党委”下新建哪一级组织" in card.content
    assert card.button_texts() == ["党委", "党总支", "党支部", "取消"]
    await press(bot, boss, card, "党支部")
    await press(bot, boss, card, "上一步")  # back to the level question, then forward again
    await press(bot, boss, card, "党支部")
    await press(bot, boss, card, "联合党支部")
    await boss.send("星火科技联合党支部")
    await bot.settle()
    preview = emu.last_sent(boss)
    assert "上级：高新区综合党委" in preview.content
    await press(bot, boss, preview, "确认创建")
    assert "✅ 已新建党支部“星火科技联合党支部”" in preview.content
    assert "党员：0 人" in preview.content
    assert "群门禁：已开启" in preview.content
    assert "设置书记" in preview.button_texts()
    assert "➕ 新建下级组织" not in preview.button_texts()  # nothing goes under a branch

    [branch] = await list_orgs(bot.deps.db, parent_id=committee.id)
    assert (branch.level, branch.kind, branch.name) == (
        Level.BRANCH,
        Kind.JOINT,
        "星火科技联合党支部",
    )
    created = [a for a in await recent(bot.deps.db) if a.action == "org.create"]
    assert {a.actor_id for a in created} == {SUPER_ID}
    assert len(created) == 2

    await press(bot, boss, preview, "返回上级")
    assert "下级组织：1 个" in preview.content
    assert "星火科技联合党支部" in preview.button_texts()


async def test_cancel_at_any_step_creates_nothing(emu: Emulator, bot: BotUnderTest) -> None:
    boss = emu.user("超级管理员", id=SUPER_ID)
    menu = await open_menu(emu, bot, boss)
    await press(bot, boss, menu, "➕ 新建党委")
    await press(bot, boss, menu, "取消")
    assert "已取消新建" in menu.content
    # The wizard's old buttons no longer work.
    await boss.press_raw(menu, NewOrg("kd", 0).pack())
    await bot.settle()
    alert = boss.last_alert()
    assert alert is not None
    assert alert.show_alert

    await boss.send("/org")
    await bot.settle()
    menu = emu.last_sent(boss)
    await press(bot, boss, menu, "➕ 新建党委")
    await press(bot, boss, menu, "行业党委")
    await boss.send("/cancel")
    await bot.settle()
    assert "已取消" in emu.last_sent(boss).content
    await boss.send("某某党委")  # no wizard open any more: not taken as a name
    await bot.settle()
    assert "没有理解" in emu.last_sent(boss).content
    assert await list_orgs(bot.deps.db) == []


async def test_org_needs_rights_and_a_private_chat(emu: Emulator, bot: BotUnderTest) -> None:
    wang = emu.user("王芳")
    menu = await open_menu(emu, bot, wang)
    assert "您没有管理党组织的权限" in menu.content
    assert menu.buttons == []
    group = emu.group("第一支部", members=[wang], admins=[wang])
    await group.add_bot(by=wang)
    await wang.send("/org", chat=group)
    await bot.settle()
    assert "请在私聊中进行" in emu.last_sent(group).content
    # Buttons of the menu do nothing for someone without rights either.
    await wang.press_raw(menu, NewOrg("p", 0).pack())
    await bot.settle()
    alert = wang.last_alert()
    assert alert is not None
    assert alert.text == DENIED
    assert await list_orgs(bot.deps.db) == []


async def test_committee_admin_manages_only_their_subtree(emu: Emulator, bot: BotUnderTest) -> None:
    east = await make_org(bot, "东区党委", Level.COMMITTEE, Kind.COMPREHENSIVE)
    west = await make_org(bot, "西区党委", Level.COMMITTEE, Kind.INDUSTRY)
    mine = await make_org(bot, "东区第一支部", Level.BRANCH, Kind.STANDARD, east.id)
    theirs = await make_org(bot, "西区第一支部", Level.BRANCH, Kind.STANDARD, west.id)
    li = emu.user("李明")
    await li.start()
    await bot.settle()
    now = bot.deps.clock.now()
    await grant_role(
        bot.deps.db, ROOT, east.id, Role.COMMITTEE_ADMIN, user_id=li.id, now=now, today=today(bot)
    )
    western = await grant_role(
        bot.deps.db, ROOT, west.id, Role.INSTRUCTOR, user_id=li.id, now=now, today=today(bot)
    )

    menu = await open_menu(emu, bot, li)
    # Their committee only: not the other one, not the branch below theirs again.
    assert menu.button_texts() == ["东区党委"]
    assert "新建党委" not in menu.content
    await press(bot, li, menu, "东区党委")
    assert "东区第一支部" in menu.button_texts()
    await press(bot, li, menu, "东区第一支部")
    await press(bot, li, menu, "关闭群门禁")
    assert not (await get_org(bot.deps.db, mine.id)).gate_enabled
    before = menu.content

    for forged in (
        OpenOrg(west.id).pack(),
        OpenOrg(theirs.id).pack(),
        ToggleGate(theirs.id, 0).pack(),
        NewOrg("p", west.id).pack(),
        NewOrg("p", 0).pack(),
        AskHolder(west.id, Role.COMMITTEE_ADMIN).pack(),
        EndOffice(western.id).pack(),
    ):
        await li.press_raw(menu, forged)
        await bot.settle()
        alert = li.last_alert()
        assert alert is not None
        assert (alert.text, alert.show_alert) == (DENIED, True), forged
    assert menu.content == before
    assert (await get_org(bot.deps.db, theirs.id)).gate_enabled
    assert [r.id for r in await roles_of_org(bot.deps.db, west.id, today(bot))] == [western.id]
    assert len(await list_orgs(bot.deps.db)) == 4

    # Within their subtree they may build.
    await press(bot, li, menu, "返回上级")
    await press(bot, li, menu, "➕ 新建下级组织")
    await press(bot, li, menu, "党总支")  # one kind only: straight to the name
    assert "请输入党总支的名称" in menu.content
    await li.send("东区商会党总支")
    await bot.settle()
    await press(bot, li, emu.last_sent(li), "确认创建")
    [general] = await list_orgs(bot.deps.db, level=Level.GENERAL_BRANCH)
    assert (general.parent_id, general.kind) == (east.id, Kind.GENERAL)


async def test_secretary_from_the_roster_is_audited_and_may_bind(
    emu: Emulator, bot: BotUnderTest
) -> None:
    committee = await make_org(bot, "园区党委", Level.COMMITTEE, Kind.COMPREHENSIVE)
    branch = await make_org(bot, "园区第一支部", Level.BRANCH, Kind.STANDARD, committee.id)
    wang = emu.user("王芳")
    await wang.start()
    await bot.settle()
    wang_member = await add_member(bot, branch.id, "王芳", user_id=wang.id)
    await add_member(bot, branch.id, "赵强")
    boss = emu.user("超级管理员", id=SUPER_ID)
    menu = await open_menu(emu, bot, boss)
    await press(bot, boss, menu, "园区党委")
    await press(bot, boss, menu, "园区第一支部")
    assert "党员：2 人" in menu.content
    async with bot.deps.db.read() as session:
        assert Permission.BIND_GROUP not in await permissions(
            session, Actor(wang.id), branch.id, today(bot)
        )

    await press(bot, boss, menu, "设置书记")
    assert "现任书记：暂无" in menu.content
    assert menu.button_texts() == ["王芳", "赵强", "返回"]
    await press(bot, boss, menu, "王芳")
    assert "✅ 已任命王芳为“园区第一支部”的书记" in menu.content
    assert "1. 书记：王芳（2026-12-01 起）" in menu.content

    [grant] = [a for a in await recent(bot.deps.db) if a.action == "role.grant"]
    assert grant.actor_id == SUPER_ID
    assert grant.after is not None
    assert grant.after["member_id"] == wang_member
    async with bot.deps.db.read() as session:
        assert Permission.BIND_GROUP in await permissions(
            session, Actor(wang.id), branch.id, today(bot)
        )

    # Pressing a stale roster button of another branch's member changes nothing.
    stranger = await add_member(bot, committee.id, "孙某")
    await boss.press_raw(menu, SetSecretary(branch.id, stranger).pack())
    await bot.settle()
    alert = boss.last_alert()
    assert alert is not None
    assert alert.show_alert

    # 卸任 ends the office at once and is audited; a second press changes nothing.
    await press(bot, boss, menu, "卸任：1. 王芳")
    assert "✅ 已为王芳办理书记卸任" in menu.content
    assert "目前没有登记任何职务" in menu.content
    ended = [a for a in await recent(bot.deps.db) if a.action == "role.end"]
    assert [a.actor_id for a in ended] == [SUPER_ID]
    await boss.press_raw(menu, EndOffice(int(ended[0].target_id)).pack())
    await bot.settle()
    alert = boss.last_alert()
    assert alert is not None
    assert alert.show_alert
    assert len([a for a in await recent(bot.deps.db) if a.action == "role.end"]) == 1
    async with bot.deps.db.read() as session:
        assert Permission.BIND_GROUP not in await permissions(
            session, Actor(wang.id), branch.id, today(bot)
        )


async def test_committee_admin_and_instructor_are_typed_by_username_or_id(
    emu: Emulator, bot: BotUnderTest
) -> None:
    committee = await make_org(bot, "两新工委", Level.COMMITTEE, Kind.TWO_NEW)
    zhang = emu.user("张三", username="Zhang_San")
    zhao = emu.user("赵六")
    await zhang.start()
    await zhao.start()
    await bot.settle()
    boss = emu.user("超级管理员", id=SUPER_ID)
    menu = await open_menu(emu, bot, boss)
    await press(bot, boss, menu, "两新工委")
    await press(bot, boss, menu, "设置管理员")
    assert "对方需要先私聊过我" in menu.content

    await boss.send("@nobody_here")
    await bot.settle()
    assert "没有找到这个人" in emu.last_sent(boss).content
    await boss.send("张三!!")
    await bot.settle()
    assert "格式不对" in emu.last_sent(boss).content
    await boss.send("@zhang_san")
    await bot.settle()
    done = emu.last_sent(boss)
    assert "✅ 已任命张三为“两新工委”的党委管理员" in done.content
    async with bot.deps.db.read() as session:
        granted = await permissions(session, Actor(zhang.id), committee.id, today(bot))
    assert Permission.MANAGE_ORGS in granted

    await press(bot, boss, done, "返回")
    await press(bot, boss, done, "党建指导员")
    await boss.send(str(zhao.id))
    await bot.settle()
    assert "✅ 已任命赵六为“两新工委”的党建指导员" in emu.last_sent(boss).content
    roles = await roles_of_org(bot.deps.db, committee.id, today(bot))
    assert [(r.role, r.user_id) for r in roles] == [
        (Role.COMMITTEE_ADMIN, zhang.id),
        (Role.INSTRUCTOR, zhao.id),
    ]
    # The new committee admin now has the menu.
    menu = await open_menu(emu, bot, zhang)
    assert menu.button_texts() == ["两新工委"]

    # 取消 on the typed question forgets it: a later name is not taken as an answer.
    await press(bot, zhang, menu, "两新工委")
    await press(bot, zhang, menu, "党建指导员")
    await press(bot, zhang, menu, "取消")
    assert "已取消设置" in menu.content
    assert "两新工委" in menu.content
    await zhang.send("@zhang_san")
    await bot.settle()
    assert "没有理解" in emu.last_sent(zhang).content
    assert len(await roles_of_org(bot.deps.db, committee.id, today(bot))) == 2


async def test_gate_toggle_and_registration_link(emu: Emulator, bot: BotUnderTest) -> None:
    committee = await make_org(bot, "园区党委", Level.COMMITTEE, Kind.COMPREHENSIVE)
    branch = await make_org(bot, "园区第一支部", Level.BRANCH, Kind.STANDARD, committee.id)
    boss = emu.user("超级管理员", id=SUPER_ID)
    menu = await open_menu(emu, bot, boss)
    await press(bot, boss, menu, "园区党委")
    assert "关闭群门禁" not in menu.button_texts()  # committees have no group of their own
    await press(bot, boss, menu, "园区第一支部")
    await press(bot, boss, menu, "关闭群门禁")
    alert = boss.last_alert()
    assert alert is not None
    assert alert.text == "已关闭群门禁"
    assert "群门禁：已关闭" in menu.content
    assert not (await get_org(bot.deps.db, branch.id)).gate_enabled
    await boss.press_raw(menu, ToggleGate(branch.id, 0).pack())  # a double press: no change
    await bot.settle()
    await press(bot, boss, menu, "开启群门禁")
    assert (await get_org(bot.deps.db, branch.id)).gate_enabled
    gates = [a for a in await recent(bot.deps.db) if a.action == "org.gate"]
    assert len(gates) == 2

    await press(bot, boss, menu, "登记链接")
    assert f"https://t.me/{emu.bot_username}?start=reg_{branch.id}" in menu.content
    await press(bot, boss, menu, "返回")
    assert "园区第一支部" in menu.content


async def test_hostile_and_overlong_names_get_clear_answers(
    emu: Emulator, bot: BotUnderTest
) -> None:
    boss = emu.user("超级管理员", id=SUPER_ID)
    menu = await open_menu(emu, bot, boss)
    await press(bot, boss, menu, "➕ 新建党委")
    await press(bot, boss, menu, "综合党委")
    await boss.send("长" * 201)
    await bot.settle()
    answer = emu.last_sent(boss)
    assert "最多 100 个字，您输入了 201 个字" in answer.content
    assert "请输入党委的名称" in answer.content  # the same question again
    await boss.send("   ")  # Telegram would not send it; the emulator does: still handled
    await bot.settle()
    assert "名称不能为空" in emu.last_sent(boss).content

    hostile = "<b>星&火</b> 党委 <script>"
    await boss.send(hostile)
    await bot.settle()
    preview = emu.last_sent(boss)
    assert hostile in preview.content  # shown literally, not as markup
    assert preview.html is not None
    assert "&lt;b&gt;星&amp;火&lt;/b&gt;" in preview.html
    await press(bot, boss, preview, "确认创建")
    assert hostile in preview.content
    [created] = await list_orgs(bot.deps.db)
    assert created.name == hostile
    await boss.send("/org")
    await bot.settle()
    assert emu.last_sent(boss).button_texts()[0] == hostile


async def test_children_are_paged(emu: Emulator, bot: BotUnderTest) -> None:
    committee = await make_org(bot, "园区党委", Level.COMMITTEE, Kind.COMPREHENSIVE)
    for i in range(10):
        await make_org(bot, f"第{i:02d}支部", Level.BRANCH, Kind.STANDARD, committee.id)
    boss = emu.user("超级管理员", id=SUPER_ID)
    menu = await open_menu(emu, bot, boss)
    await press(bot, boss, menu, "园区党委")
    assert "下级组织第 1–8 个，共 10 个" in menu.content
    assert [t for t in menu.button_texts() if t.endswith("支部")][-1] == "第07支部"
    assert "上一页" not in menu.button_texts()
    await press(bot, boss, menu, "下一页")
    assert [t for t in menu.button_texts() if t.endswith("支部")] == ["第08支部", "第09支部"]
    assert "下一页" not in menu.button_texts()
    await press(bot, boss, menu, "上一页")
    assert "第00支部" in menu.button_texts()


# ---- `zhibu org …` as an operator runs it ----

ROOT_DIR = Path(__file__).parents[2]


async def _run_process(*argv: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *argv, cwd=ROOT_DIR,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={k: v for k, v in os.environ.items() if not k.startswith("ZHIBU_")},
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def zhibu_org(config: Path, *args: str) -> tuple[int, str, str]:
    """`python -m bot --config CONFIG org ARGS`."""
    return await _run_process("-m", "bot", "--config", str(config), "org", *args)


@once
@pytest.mark.slow
async def test_cli_builds_the_tree_and_appoints_offices(tmp_path: Path, clock: FakeClock) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    config = tmp_path / "c.toml"
    config.write_text(
        f'[telegram]\ntoken = "123456:TEST-token"\n[database]\nurl = "{url}"\n', encoding="utf-8"
    )
    code, _, err = await _run_process("-m", "bot", "db", "upgrade", "--config", str(config))
    assert code == 0, err

    code, out, err = await zhibu_org(
        config, "create", "--level", "committee", "--kind", "comprehensive", "--name", "园区党委"
    )
    assert code == 0, err
    committee = int(out)
    code, out, _ = await zhibu_org(
        config, "create", "--level", "branch", "--kind", "joint", "--name", "星火联合党支部",
        "--parent", str(committee),
    )  # fmt: skip
    branch = int(out)
    code, _, err = await zhibu_org(
        config, "create", "--level", "branch", "--kind", "industry", "--name", "错",
        "--parent", str(committee),
    )  # fmt: skip
    assert (code, err.count("\n")) == (1, 1)
    assert "[org.bad_kind]" in err
    code, _, err = await zhibu_org(
        config, "create", "--level", "party", "--kind", "x", "--name", "y"
    )
    assert code == 2
    assert "--level" in err

    db = Database(url)
    try:
        await touch_user(db, Person(id=777, first_name="张三"), clock.now(), started=True)
        async with db.transaction() as session:
            now = clock.now()
            member = Member(
                org_id=branch, name="王芳", stage=Stage.FULL, status=Status.ACTIVE,
                source="admin", created_at=now, updated_at=now,
            )  # fmt: skip
            session.add(member)
            await session.flush()
            member_id = member.id
    finally:
        await db.dispose()

    code, out, _ = await zhibu_org(config, "list", "--tree")
    assert code == 0
    header, first, second = out.splitlines()
    assert header.split() == ["id", "level", "kind", "parent", "members", "name"]
    assert first.split() == [str(committee), "committee", "comprehensive", "-", "1", "园区党委"]
    assert second.endswith("    星火联合党支部")  # indented under its committee
    assert second.split()[:5] == [str(branch), "branch", "joint", str(committee), "1"]

    code, out, err = await zhibu_org(
        config, "grant", "--org", str(committee), "--user", "777", "--role", "committee_admin"
    )
    assert code == 0, err
    admin_role = int(out.split("\t")[0])
    code, out, _ = await zhibu_org(
        config, "grant", "--org", str(branch), "--member", str(member_id), "--role", "secretary"
    )
    assert code == 0
    assert out.strip().endswith("secretary\t王芳")
    code, _, err = await zhibu_org(
        config, "grant", "--org", str(branch), "--user", "777", "--role", "secretary"
    )
    assert code == 2
    assert "--member" in err
    code, _, err = await zhibu_org(
        config, "grant", "--org", str(committee), "--user", "778", "--role", "instructor"
    )
    assert code == 1
    assert "[user.unknown]" in err

    code, out, _ = await zhibu_org(config, "roles", "--org", str(committee))
    assert out.startswith(f"{admin_role}\tcommittee_admin\t张三\tuser 777\tsince ")
    code, out, _ = await zhibu_org(config, "end-role", str(admin_role))
    assert code == 0
    code, out, _ = await zhibu_org(config, "roles", "--org", str(committee))
    assert (code, out) == (0, "")
    code, _, err = await zhibu_org(config, "roles", "--org", "9999")
    assert code == 1
    assert "[org.not_found]" in err

    code, out, _ = await zhibu_org(
        config, "link", "--org", str(branch), "--bot-username", "zhibu_bot"
    )
    assert out.strip() == f"https://t.me/zhibu_bot?start=reg_{branch}"
    code, _, err = await zhibu_org(config, "link", "--org", str(branch))
    assert code == 2
    assert "--bot-username" in err

    db = Database(url)
    try:
        actions = [(a.action, a.actor_id) for a in await recent(db)]
    finally:
        await db.dispose()
    assert ("org.create", None) in actions
    assert ("role.grant", None) in actions
    assert ("role.end", None) in actions


async def test_pressing_create_twice_creates_one_organization(
    emu: Emulator, bot: BotUnderTest
) -> None:
    boss = emu.user("超级管理员", id=SUPER_ID)
    menu = await open_menu(emu, bot, boss)
    await press(bot, boss, menu, "➕ 新建党委")
    await press(bot, boss, menu, "综合党委")
    await boss.send("高新区综合党委")
    await bot.settle()
    preview = emu.last_sent(boss)
    # A double tap: both presses reach the bot before either is answered.
    first = await boss.press(preview, "确认创建")
    second = await boss.press_raw(preview, NewOrg("ok").pack())
    await bot.settle()
    assert "已创建" in (emu.callback_answers[first].text or "")
    assert "这个按钮已失效" in (emu.callback_answers[second].text or "")
    assert [o.name for o in await list_orgs(bot.deps.db)] == ["高新区综合党委"]
    creations = [
        e for e in await recent(bot.deps.db, target_type="org") if e.action == "org.create"
    ]
    assert len(creations) == 1
