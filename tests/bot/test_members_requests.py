"""Every approver's copy of a registration request says who decided it, once one has."""

from __future__ import annotations

from sqlalchemy import func, select

from domain.orgs import Role, Stage, Status
from services.orgs_roles import grant_role
from services.users import Person, touch_user
from storage.models import Member, Registration
from tests.bot.conftest import BotUnderTest, delivered
from tests.bot.test_members import SUPER, Branch, make_branch, register
from tests.conftest import FakeClock
from tests.emulator import Emulator, EmuUser


async def add_deputy(emu: Emulator, bot: BotUnderTest, clock: FakeClock, branch: Branch) -> EmuUser:
    """A second approver of the branch (the deputy secretary, 王副书记 on the roster)."""
    db = bot.deps.db
    deputy = emu.user("老王", language_code="zh-hans")
    await touch_user(db, Person(id=deputy.id, first_name=deputy.first_name), clock.now())
    async with db.transaction() as s:
        member = Member(org_id=branch.id, user_id=deputy.id, name="王副", stage=Stage.FULL,
                        status=Status.ACTIVE, source="admin", created_at=clock.now(),
                        updated_at=clock.now())  # fmt: skip
        s.add(member)
        await s.flush()
        member_id = member.id
    await grant_role(db, SUPER, branch.id, Role.DEPUTY, member_id=member_id,
                     now=clock.now(), today=clock.now().date())  # fmt: skip
    await deputy.start()
    return deputy


async def two_approvers(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> tuple[Branch, EmuUser, EmuUser]:
    branch = await make_branch(emu, bot.deps.db, clock)
    await branch.secretary.start()
    deputy = await add_deputy(emu, bot, clock, branch)
    applicant = emu.user("芳芳", language_code="zh-hans")
    await register(emu, bot, applicant, branch, name="王芳")
    return branch, deputy, applicant


async def test_an_approval_shows_on_the_other_approvers_copy_without_buttons(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    branch, deputy, applicant = await two_approvers(emu, bot, clock)
    mine, theirs = emu.last_sent(branch.secretary), emu.last_sent(deputy)
    for copy in (mine, theirs):
        assert "新的实名登记申请" in copy.content
        assert copy.button_texts() == ["✅ 通过", "❌ 拒绝"]
    old_data = theirs.button("✅ 通过").callback_data
    assert old_data is not None

    await branch.secretary.press(mine, "✅ 通过")
    await bot.settle()
    await delivered(bot)
    assert "已通过" in mine.content
    assert "审核人" in mine.content
    # The deputy's copy now names who approved it and when, and has no buttons left.
    assert "王芳" in theirs.content
    assert "✅ 已由 李明 于 12月1日（周二）09:30 通过" in theirs.content
    assert theirs.button_texts() == []
    assert "已通过审核" in emu.last_sent(applicant).content

    # The old button, pressed anyway (a stale screen): told who decided, nothing changes.
    await deputy.press_raw(theirs, data=old_data)
    await bot.settle()
    alert = deputy.last_alert()
    assert alert is not None
    assert "已由 李明 处理" in (alert.text or "")
    async with bot.deps.db.read() as s:
        members = await s.scalar(
            select(func.count()).select_from(Member).where(Member.user_id == applicant.id)
        )
        decided_by = await s.scalar(select(Registration.decided_by))
    assert members == 1
    assert decided_by == branch.secretary.id


async def test_a_rejection_redraws_every_copy_the_deciders_too(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    branch, deputy, applicant = await two_approvers(emu, bot, clock)
    mine, theirs = emu.last_sent(branch.secretary), emu.last_sent(deputy)
    old_data = mine.button("✅ 通过").callback_data
    assert old_data is not None

    await deputy.press(theirs, "❌ 拒绝")
    await bot.settle()
    await deputy.send("不是本单位职工")
    await bot.settle()
    await delivered(bot)
    for copy in (mine, theirs):
        assert "❌ 已由 王副 于 12月1日（周二）09:30 拒绝" in copy.content
        assert copy.button_texts() == []
    assert "未通过" in emu.last_sent(applicant).content

    await branch.secretary.press_raw(mine, data=old_data)
    await bot.settle()
    alert = branch.secretary.last_alert()
    assert alert is not None
    assert "已由 王副 处理" in (alert.text or "")
    async with bot.deps.db.read() as s:
        assert await s.scalar(select(Registration.status)) == "rejected"
        assert await s.scalar(select(func.count()).select_from(Member)) == 2  # the approvers


async def test_pending_copies_and_a_withdrawal_are_redrawn_too(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    branch, deputy, applicant = await two_approvers(emu, bot, clock)
    first = emu.last_sent(branch.secretary)
    await branch.secretary.send("/pending")
    await bot.settle()
    await delivered(bot)
    again = emu.last_sent(branch.secretary)
    assert again.message_id != first.message_id
    assert again.button_texts() == ["✅ 通过", "❌ 拒绝"]

    await applicant.send("/register")
    await bot.settle()
    await applicant.press(emu.last_sent(applicant), "撤回申请")
    await bot.settle()
    await delivered(bot)
    for copy in (first, again, emu.last_sent(deputy)):
        assert "申请人已撤回" in copy.content
        assert copy.button_texts() == []
