"""Real-name membership end to end: binding, the gate, registration, approval, rosters, /me."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from bot.app import build_deps
from domain.orgs import Kind, Level, Role, Stage, Status
from services import audit
from services.authz import Actor
from services.chats import get_chat
from services.groups import binding_of
from services.orgs import add_unit, create_org
from services.orgs_roles import grant_role
from services.users import Person, touch_user
from storage.db import Database
from storage.models import Member, Registration
from tests.bot.conftest import BotUnderTest, bot_config, delivered, start_bot, stop_bot
from tests.conftest import FakeClock
from tests.emulator import CannotSend, Emulator, EmuUser

SUPER = Actor(user_id=0, superadmin=True)
RIGHTS = {"can_restrict_members", "can_delete_messages", "can_pin_messages", "can_invite_users"}


@dataclass
class Branch:
    id: int
    name: str
    secretary: EmuUser


async def make_branch(
    emu: Emulator,
    db: Database,
    clock: FakeClock,
    name: str = "第一支部",
    *,
    kind: Kind = Kind.STANDARD,
) -> Branch:
    """A committee with a branch whose secretary is a registered member who started the bot."""
    today = clock.now().date()
    committee = await create_org(db, SUPER, name="园区综合党委", level=Level.COMMITTEE,
                                 kind=Kind.COMPREHENSIVE, parent_id=None,
                                 now=clock.now(), today=today)  # fmt: skip
    branch = await create_org(db, SUPER, name=name, level=Level.BRANCH, kind=kind,
                              parent_id=committee.id, now=clock.now(), today=today)  # fmt: skip
    secretary = emu.user("李书记", language_code="zh-hans")
    await touch_user(db, Person(id=secretary.id, first_name=secretary.first_name), clock.now())
    async with db.transaction() as s:
        member = Member(org_id=branch.id, user_id=secretary.id, name="李明", stage=Stage.FULL,
                        status=Status.ACTIVE, source="admin", created_at=clock.now(),
                        updated_at=clock.now())  # fmt: skip
        s.add(member)
        await s.flush()
        member_id = member.id
    await grant_role(db, SUPER, branch.id, Role.SECRETARY, member_id=member_id,
                     now=clock.now(), today=today)  # fmt: skip
    return Branch(branch.id, name, secretary)


async def bound_group(emu: Emulator, bot: BotUnderTest, branch: Branch, *, supergroup: bool = True):  # type: ignore[no-untyped-def]
    group = emu.group(f"{branch.name}群", members=[branch.secretary], admins=[branch.secretary],
                      supergroup=supergroup)  # fmt: skip
    await group.add_bot(by=branch.secretary, admin=True, rights=RIGHTS)
    await branch.secretary.start()
    await branch.secretary.send("/bind", chat=group)
    await bot.settle()
    await branch.secretary.press(emu.last_sent(group), branch.name)
    await bot.settle()
    return group


async def register(
    emu: Emulator,
    bot: BotUnderTest,
    person: EmuUser,
    branch: Branch,
    *,
    name: str = "王芳",
    phone: str | None = "13800138000",
) -> None:
    """Walk the registration wizard with valid answers and submit."""
    await person.start(payload=f"reg_{branch.id}")
    await bot.settle()
    await person.send(name)
    await bot.settle()
    await person.press(emu.last_sent(person), "正式党员")
    await bot.settle()
    if phone is None:
        await person.press(emu.last_sent(person), "跳过")
    else:
        await person.send(phone)
    await bot.settle()
    await person.press(emu.last_sent(person), "✅ 确认提交")
    await bot.settle()
    await delivered(bot)  # the approvers' copies go out through the outbox


async def test_bind_requires_rights_and_reports_what_is_missing(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    branch = await make_branch(emu, bot.deps.db, clock)
    group = emu.group(
        "一支部群", members=[branch.secretary], admins=[branch.secretary], supergroup=True
    )
    await group.add_bot(by=branch.secretary, admin=True, rights={"can_delete_messages"})
    await branch.secretary.send("/bind", chat=group)
    await bot.settle()
    reply = emu.last_sent(group).content
    assert "限制成员" in reply
    assert "置顶消息" in reply
    assert "删除消息" not in reply
    assert await binding_of(bot.deps.db, group.id) is None


async def test_a_stranger_cannot_bind_and_telegram_admin_status_grants_nothing(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    await make_branch(emu, bot.deps.db, clock)
    owner = emu.user("群主")
    group = emu.group("某群", members=[owner], admins=[owner], supergroup=True)
    await group.add_bot(by=owner, admin=True, rights=RIGHTS)
    await owner.send("/bind", chat=group)
    await bot.settle()
    assert "只有支部书记或超级管理员" in emu.last_sent(group).content


async def test_full_registration_through_the_gate_to_approval(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    branch = await make_branch(emu, bot.deps.db, clock)
    group = await bound_group(emu, bot, branch)
    assert "主群" in emu.sent_to(group)[-2].content
    report = emu.last_sent(branch.secretary).content
    assert "群成员核对" in report or "名册中尚未登记" in report

    wang = emu.user("芳芳", language_code="zh-hans")
    await group.join(wang)
    await bot.settle()
    welcome = emu.last_sent(group)
    assert "实名登记" in welcome.content
    [[link]] = welcome.buttons
    assert link.url == f"https://t.me/{emu.bot_username}?start=reg_{branch.id}"
    with pytest.raises(CannotSend):
        await wang.send("大家好", chat=group)

    # The wizard: a bad name and a bad phone are explained and asked again.
    await wang.start(payload=f"reg_{branch.id}")
    await bot.settle()
    assert "请输入您的真实姓名" in emu.last_sent(wang).content
    await wang.send("王芳123")
    await bot.settle()
    assert "不能有数字" in emu.last_sent(wang).content
    await wang.send("王芳")
    await bot.settle()
    await wang.press(emu.last_sent(wang), "预备党员")
    await bot.settle()
    await wang.send("12345")
    await bot.settle()
    assert "手机号应为 11 位数字" in emu.last_sent(wang).content
    await wang.send("138 0013 8000")
    await bot.settle()
    summary = emu.last_sent(wang).content
    assert "王芳" in summary
    assert "预备党员" in summary
    assert "13800138000" in summary
    await wang.press(emu.last_sent(wang), "✅ 确认提交")
    await bot.settle()
    assert "等待支部审核" in emu.last_sent(wang).content
    await delivered(bot)

    request = emu.last_sent(branch.secretary)
    assert "新的实名登记申请" in request.content
    await branch.secretary.press(request, "✅ 通过")
    await bot.settle()
    assert "已通过" in emu.last_sent(branch.secretary).content
    assert "已通过审核" in emu.last_sent(wang).content
    await wang.send("大家好", chat=group)  # the gate lifted: no CannotSend

    async with bot.deps.db.read() as s:
        member = await s.scalar(select(Member).where(Member.user_id == wang.id))
    assert member is not None
    assert (member.name, member.stage, member.phone) == ("王芳", "probationary", "13800138000")
    actions = [e.action for e in await audit.recent(bot.deps.db)]
    assert "registration.approve" in actions
    assert "chat.bind" in actions


async def test_registration_survives_a_restart_in_the_middle(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    branch = await make_branch(emu, bot.deps.db, clock)
    wang = emu.user("芳")
    await wang.start(payload=f"reg_{branch.id}")
    await bot.settle()
    await wang.send("王芳")
    await bot.settle()
    stage_question = emu.last_sent(wang)

    await stop_bot(bot)
    cfg = bot_config(emu, bot.deps.db.url)
    again = await start_bot(cfg, build_deps(cfg, clock=clock, db=bot.deps.db), emu)
    try:
        await wang.press(stage_question, "正式党员")
        await again.settle()
        await wang.press(emu.last_sent(wang), "跳过")
        await again.settle()
        assert "姓名：王芳" in emu.last_sent(wang).content
        await wang.press(emu.last_sent(wang), "✅ 确认提交")
        await again.settle()
        assert "等待支部审核" in emu.last_sent(wang).content
    finally:
        await stop_bot(again)
    assert again.errors == []


async def test_wizard_buttons_from_an_old_step_are_refused(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    branch = await make_branch(emu, bot.deps.db, clock)
    wang = emu.user("芳")
    await wang.start(payload=f"reg_{branch.id}")
    await bot.settle()
    await wang.send("王芳")
    await bot.settle()
    stage_question = emu.last_sent(wang)
    await wang.press(stage_question, "正式党员")
    await bot.settle()
    # Forged: jump straight to submit from the phone step.
    await wang.press_raw(emu.last_sent(wang), data="reg:ok:0")
    await bot.settle()
    alert = wang.last_alert()
    assert alert is not None
    assert alert.show_alert
    async with bot.deps.db.read() as s:
        assert await s.scalar(select(func.count()).select_from(Registration)) == 0


async def test_a_secretary_of_another_branch_cannot_approve(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    a = await make_branch(emu, bot.deps.db, clock, "甲支部")
    b = await make_branch(emu, bot.deps.db, clock, "乙支部")
    await a.secretary.start()
    await b.secretary.start()
    wang = emu.user("芳")
    await register(emu, bot, wang, a)
    request = emu.last_sent(a.secretary)
    data = request.button("✅ 通过").callback_data
    assert data is not None
    # B's secretary forges A's approve button.
    await b.secretary.press_raw(emu.last_sent(b.secretary), data=data)
    await bot.settle()
    alert = b.secretary.last_alert()
    assert alert is not None
    assert "只有本支部书记" in (alert.text or "")
    async with bot.deps.db.read() as s:
        assert (
            await s.scalar(
                select(func.count()).select_from(Member).where(Member.user_id == wang.id)
            )
            == 0
        )


async def test_rejection_asks_for_a_reason_and_tells_the_applicant(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    branch = await make_branch(emu, bot.deps.db, clock)
    await branch.secretary.start()
    wang = emu.user("芳")
    await register(emu, bot, wang, branch)
    await branch.secretary.press(emu.last_sent(branch.secretary), "❌ 拒绝")
    await bot.settle()
    assert "请输入拒绝" in emu.last_sent(branch.secretary).content
    await branch.secretary.send("本支部没有此人 <档案>")
    await bot.settle()
    assert "已拒绝" in emu.last_sent(branch.secretary).content
    outcome = emu.last_sent(wang).content
    assert "未通过" in outcome
    assert "本支部没有此人 <档案>" in outcome


async def test_an_imported_roster_entry_is_linked_not_duplicated(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    branch = await make_branch(emu, bot.deps.db, clock)
    await branch.secretary.start()
    async with bot.deps.db.transaction() as s:
        s.add(Member(org_id=branch.id, user_id=None, name="王芳", phone="13800138000",
                     stage=Stage.FULL, status=Status.ACTIVE, source="import",
                     created_at=clock.now(), updated_at=clock.now()))  # fmt: skip
    wang = emu.user("芳")
    await register(emu, bot, wang, branch, name="王 芳", phone="13800138000")
    request = emu.last_sent(branch.secretary)
    assert "名册中的同名成员相符" in request.content
    await branch.secretary.press(request, "✅ 通过")
    await bot.settle()
    async with bot.deps.db.read() as s:
        rows = (
            await s.scalars(select(Member).where(Member.org_id == branch.id, Member.name == "王芳"))
        ).all()
    assert len(rows) == 1
    assert rows[0].user_id == wang.id


async def test_registering_twice_replaces_the_pending_request(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    branch = await make_branch(emu, bot.deps.db, clock)
    wang = emu.user("芳")
    await register(emu, bot, wang, branch, name="王芳")
    await wang.start(payload=f"reg_{branch.id}")
    await bot.settle()
    assert "继续填写将替换" in emu.sent_to(wang)[-2].content
    await register(emu, bot, wang, branch, name="王芳芳")
    async with bot.deps.db.read() as s:
        pending = (
            await s.scalars(select(Registration.name).where(Registration.status == "pending"))
        ).all()
    assert pending == ["王芳芳"]


async def test_members_view_admin_sees_phones_members_see_names(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    branch = await make_branch(emu, bot.deps.db, clock)
    await branch.secretary.start()
    wang = emu.user("芳")
    await register(emu, bot, wang, branch)
    await branch.secretary.press(emu.last_sent(branch.secretary), "✅ 通过")
    await bot.settle()
    await branch.secretary.send("/members")
    await bot.settle()
    admin_view = emu.last_sent(branch.secretary)
    assert "13800138000" in admin_view.content
    assert "李明（书记）" in admin_view.content
    await wang.send("/members")
    await bot.settle()
    member_view = emu.last_sent(wang).content
    assert "王芳" in member_view
    assert "13800138000" not in member_view
    assert "李明（书记）" in member_view
    # The export is a real spreadsheet and the export is audited.
    await branch.secretary.press(admin_view, "📄 导出表格")
    await bot.settle()
    document = emu.last_sent(branch.secretary).document
    assert document is not None
    assert (document.content or b"")[:2] == b"PK"
    assert "roster.export" in [e.action for e in await audit.recent(bot.deps.db)]


async def test_a_long_roster_is_split_within_telegram_limits(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    branch = await make_branch(emu, bot.deps.db, clock)
    await branch.secretary.start()
    async with bot.deps.db.transaction() as s:
        for i in range(150):
            s.add(Member(org_id=branch.id, name=f"成员{'甲乙丙丁戊'[i % 5]}" + "长" * 25,
                         phone=f"139{i:08d}", stage=Stage.FULL, status=Status.ACTIVE,
                         source="import", created_at=clock.now(),
                         updated_at=clock.now()))  # fmt: skip
    await branch.secretary.send("/members")
    await bot.settle()
    parts = [m for m in emu.sent_to(branch.secretary) if "名册" in m.content or "成员" in m.content]
    assert len(parts) >= 2
    assert all(len(m.content) <= 4096 for m in parts)


async def test_me_shows_edits_and_deletes_the_account(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    branch = await make_branch(emu, bot.deps.db, clock, kind=Kind.JOINT)
    unit = await add_unit(
        bot.deps.db, SUPER, branch.id, "星火科技有限公司", clock.now(), clock.now().date()
    )
    await branch.secretary.start()
    wang = emu.user("芳")
    await wang.start(payload=f"reg_{branch.id}")
    await bot.settle()
    await wang.send("王芳")
    await bot.settle()
    await wang.press(emu.last_sent(wang), "正式党员")
    await bot.settle()
    assert "所在的单位" in emu.last_sent(wang).content
    await wang.press(emu.last_sent(wang), unit.name)
    await bot.settle()
    await wang.press(emu.last_sent(wang), "跳过")
    await bot.settle()
    await wang.press(emu.last_sent(wang), "✅ 确认提交")
    await bot.settle()
    await delivered(bot)
    await branch.secretary.press(emu.last_sent(branch.secretary), "✅ 通过")
    await bot.settle()

    await wang.send("/me")
    await bot.settle()
    card = emu.last_sent(wang)
    assert "星火科技有限公司" in card.content
    await wang.press(card, "修改手机号")
    await bot.settle()
    await wang.send("+86 139-0000-1111")
    await bot.settle()
    assert "13900001111" in emu.last_sent(wang).content

    await wang.send("/me")
    await bot.settle()
    await wang.press(emu.last_sent(wang), "注销账号")
    await bot.settle()
    await wang.press(emu.last_sent(wang), "确认注销")
    await bot.settle()
    assert "已注销" in emu.last_sent(wang).content
    async with bot.deps.db.read() as s:
        row = await s.scalar(
            select(Member).where(Member.org_id == branch.id, Member.status == "deleted")
        )
    assert row is not None
    assert (row.name, row.phone, row.user_id) == ("", None, None)


async def test_migration_moves_the_binding_and_the_gate_follows(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    branch = await make_branch(emu, bot.deps.db, clock)
    group = await bound_group(emu, bot, branch, supergroup=False)
    old_id = group.id
    new_id = await group.migrate_to_supergroup()
    await bot.settle()
    binding = await binding_of(bot.deps.db, new_id)
    assert binding is not None
    assert binding.org.id == branch.id
    assert await binding_of(bot.deps.db, old_id) is None
    stranger = emu.user("路人")
    await group.join(stranger)
    await bot.settle()
    assert "实名登记" in emu.last_sent(group).content
    with pytest.raises(CannotSend):
        await stranger.send("hello", chat=group)


async def test_removing_the_bot_deactivates_the_binding_and_tells_the_secretary(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    branch = await make_branch(emu, bot.deps.db, clock)
    group = await bound_group(emu, bot, branch)
    await group.kick_bot(by=branch.secretary)
    await bot.settle()
    assert await binding_of(bot.deps.db, group.id) is None
    assert "已被移出群" in emu.last_sent(branch.secretary).content
    chat = await get_chat(bot.deps.db, group.id)
    assert chat is not None
    assert not chat.active


async def test_a_superadmin_creates_the_branch_from_the_group_itself(
    emu: Emulator, db: Database, clock: FakeClock
) -> None:
    boss = emu.user("超管")
    cfg = bot_config(emu, db.url, superadmins=[boss.id])
    bot = await start_bot(cfg, build_deps(cfg, clock=clock, db=db), emu)
    try:
        today = clock.now().date()
        for name in ("甲党委", "乙党委"):
            await create_org(db, SUPER, name=name, level=Level.COMMITTEE, kind=Kind.COMPREHENSIVE,
                             parent_id=None, now=clock.now(), today=today)  # fmt: skip
        group = emu.group("星火科技 <联合> 支部", members=[boss], admins=[boss], supergroup=True)
        await group.add_bot(by=boss, admin=True, rights=RIGHTS)
        await boss.send("/bind", chat=group)
        await bot.settle()
        await boss.press(emu.last_sent(group), "➕ 以本群名称新建支部")
        await bot.settle()
        assert "请选择它的上级党组织" in emu.last_sent(group).content
        await boss.press(emu.last_sent(group), "乙党委")
        await bot.settle()
        binding = await binding_of(db, group.id)
        assert binding is not None
        assert binding.main
        assert binding.org.name == "星火科技 <联合> 支部"
        assert any("主群" in m.content for m in emu.sent_to(group))
        # The binder never started the bot: the check list is offered, not lost.
        assert "请私聊我" in emu.last_sent(group).content
    finally:
        await stop_bot(bot)
    assert bot.errors == []
