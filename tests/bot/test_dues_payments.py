"""Payments end to end through the emulator: 我已交纳 with a screenshot, the keeper's 确认 and
退回 with a reason, refusals (own payment, another branch's keeper, forged data, odd input),
and the keeper's month grid."""

from __future__ import annotations

import io
from dataclasses import dataclass

import openpyxl
from sqlalchemy import select

from domain.orgs import Kind, Level, Role, Stage, Status
from services.authz import Actor
from services.orgs import create_org
from services.users import Person, touch_user
from storage.db import Database
from storage.models import (
    DuesClaim,
    DuesEntry,
    DuesStandard,
    Member,
    Organization,
    RoleAssignment,
)
from tests.bot.conftest import BotUnderTest, delivered
from tests.bot.test_notices import say, tap
from tests.conftest import FakeClock
from tests.emulator import Emulator, EmuUser
from tests.emulator.model import EmuMessage
from ui.dues_ledger import LedgerOpen
from ui.dues_payments import Decide, GridOpen, PayStep

SUPER = Actor(user_id=0, superadmin=True)


@dataclass
class World:
    branch: int
    other: int
    keeper: EmuUser
    member: EmuUser
    stranger_keeper: EmuUser
    member_id: int


async def _person(db: Database, clock: FakeClock, org_id: int, user: EmuUser, name: str,
                  role: Role | None = None) -> int:  # fmt: skip
    await touch_user(db, Person(id=user.id, first_name=user.first_name), clock.now(),
                     started=True)  # fmt: skip
    async with db.transaction() as s:
        row = Member(org_id=org_id, user_id=user.id, name=name, stage=Stage.FULL,
                     status=Status.ACTIVE, source="admin", created_at=clock.now(),
                     updated_at=clock.now())  # fmt: skip
        s.add(row)
        await s.flush()
        if role is not None:
            s.add(RoleAssignment(org_id=org_id, role=role, member_id=row.id,
                                 start_on=clock.now().date(), created_at=clock.now()))  # fmt: skip
        return row.id


async def make_world(emu: Emulator, bot: BotUnderTest, clock: FakeClock) -> World:
    db, day = bot.deps.db, clock.now().date()
    committee = await create_org(db, SUPER, name="高新区党委", level=Level.COMMITTEE,
                                 kind=Kind.COMPREHENSIVE, parent_id=None, now=clock.now(),
                                 today=day)  # fmt: skip
    branches = []
    for name in ("第一支部", "第二支部"):
        view = await create_org(db, SUPER, name=name, level=Level.BRANCH, kind=Kind.STANDARD,
                                parent_id=committee.id, now=clock.now(), today=day)  # fmt: skip
        branches.append(view.id)
    keeper = emu.user("组织委员", language_code="zh-hans")
    member = emu.user("芳", language_code="zh-hans")
    stranger = emu.user("乙", language_code="zh-hans")
    await _person(db, clock, branches[0], keeper, "李组织", Role.ORGANIZATION)
    member_id = await _person(db, clock, branches[0], member, "王芳")
    await _person(db, clock, branches[1], stranger, "赵委员", Role.ORGANIZATION)
    for user in (keeper, member, stranger):
        await user.start()
    await bot.settle()
    async with db.transaction() as s:
        s.add(DuesStandard(member_id=member_id, org_id=branches[0], category="working",
                           permille=15, amount_fen=8_100, from_month=202611,
                           status="confirmed", declared_at=clock.now()))  # fmt: skip
    return World(branches[0], branches[1], keeper, member, stranger, member_id)


async def forged(bot: BotUnderTest, user: EmuUser, message: EmuMessage, data: str) -> str:
    await user.press_raw(message, data)
    await bot.settle()
    answer = user.last_alert()
    assert answer is not None, "the press was not answered"
    return answer.text or ""


async def _claim(bot: BotUnderTest, world: World, *, photo: bool, extra: str | None) -> None:
    menu = await say(bot, world.member, "/dues")
    months = await tap(bot, world.member, menu, "我已交纳")
    assert "已选 2 个月，共 162.00 元" in months.content  # November and December
    ahead = await tap(bot, world.member, months, "⬜ 2027-01　81.00 元")
    assert "已选 3 个月" in ahead.content
    extra_step = await tap(bot, world.member, ahead, "下一步")
    if extra is None:
        proof = await tap(bot, world.member, extra_step, "没有多交")
    else:
        wrong = await say(bot, world.member, "一百块\u202e")
        assert "没看懂这个金额" in wrong.content
        proof = await say(bot, world.member, extra)
    if photo:
        await world.member.send_photo(b"\xff\xd8jpeg")
        await bot.settle()
        review = bot.emu.last_sent(world.member)
    else:
        review = await tap(bot, world.member, proof, "不发截图")
    assert "请核对" in review.content
    done = await tap(bot, world.member, review, "提交")
    assert "已提交" in done.content
    await delivered(bot)


async def test_pay_with_proof_then_confirm(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    await _claim(bot, world, photo=True, extra="５０元")
    note = emu.last_sent(world.keeper)
    assert "党费交纳待确认" in note.content
    assert "王芳" in note.content
    assert "293.00" in note.content  # 3 × 81 + 50
    shown = await tap(bot, world.keeper, note, "看转账截图")
    assert shown.photo is not None
    assert "王芳 的转账截图" in (shown.caption or "")
    claim_id = next(iter(await _claims(bot.deps.db)))
    # The member forging the keeper's 确认, and another branch's keeper: refused.
    mine = emu.last_sent(world.member)
    text = await forged(bot, world.member, mine, Decide(claim_id, "ok").pack())
    assert "组织委员或党费管理员" in text
    other = await say(bot, world.stranger_keeper, "/dues")
    text = await forged(bot, world.stranger_keeper, other, Decide(claim_id, "ok").pack())
    assert "组织委员或党费管理员" in text
    for data in ("dpd:abc:ok", "dpd:1:zz", "dp:toggle:x", "dpg:1:2", "dpt:1:202612:0:1:boom"):
        assert "失效" in await forged(bot, world.keeper, note, data)
    await tap(bot, world.keeper, note, "确认")
    assert "已确认" in note.content  # edited in place; a second 确认 is stale
    assert "失效" in await forged(bot, world.keeper, note, Decide(claim_id, "ok").pack())
    await delivered(bot)
    assert "已确认" in emu.last_sent(world.member).content
    async with bot.deps.db.read() as s:
        rows = (await s.execute(select(DuesEntry.month, DuesEntry.amount_fen, DuesEntry.kind)
                                .order_by(DuesEntry.id))).all()  # fmt: skip
    assert [tuple(r) for r in rows] == [
        (202611, 8_100, "dues"), (202612, 8_100, "dues"), (202701, 8_100, "dues"),
        (None, 5_000, "extra"),
    ]  # fmt: skip


async def _claims(db: Database) -> dict[int, str]:
    async with db.read() as s:
        return dict((await s.execute(select(DuesClaim.id, DuesClaim.status))).all())


async def test_reject_with_reason_and_advance_cap(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    menu = await say(bot, world.member, "/dues")
    months = await tap(bot, world.member, menu, "我已交纳")
    # Seven months ahead is beyond the cap (6): not offered, and a forged toggle is refused.
    assert "2027-07" not in str(months.reply_markup)
    assert "不在可选范围" in await forged(bot, world.member, months,
                                         PayStep("toggle", 202707).pack())  # fmt: skip
    await say(bot, world.member, "/cancel")
    await _claim(bot, world, photo=False, extra=None)
    note = emu.last_sent(world.keeper)
    ask = await tap(bot, world.keeper, note, "退回")
    assert "请输入退回" in ask.content
    empty = await say(bot, world.keeper, "\u200b\u200b")
    assert "请写明原因" in empty.content
    done = await say(bot, world.keeper, "金额不符，<b>请核对</b>")
    assert "已退回" in done.content
    await delivered(bot)
    told = emu.last_sent(world.member)
    assert "被退回" in told.content
    assert "<b>请核对</b>" in told.content  # shown as typed, not as markup
    assert set((await _claims(bot.deps.db)).values()) == {"rejected"}


async def test_own_payment_refused_and_the_grid(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    async with bot.deps.db.transaction() as s:  # the keeper has a standard too
        keeper_id = await s.scalar(select(Member.id).where(Member.name == "李组织"))
        s.add(DuesStandard(member_id=keeper_id, org_id=world.branch, category="working",
                           permille=15, amount_fen=5_000, from_month=202612,
                           status="confirmed", declared_at=clock.now()))  # fmt: skip
    menu = await say(bot, world.keeper, "/dues")
    months = await tap(bot, world.keeper, menu, "我已交纳")
    extra = await tap(bot, world.keeper, months, "下一步")
    proof = await tap(bot, world.keeper, extra, "没有多交")
    review = await tap(bot, world.keeper, proof, "不发截图")
    await tap(bot, world.keeper, review, "提交")
    claim_id = max(await _claims(bot.deps.db))
    text = await forged(bot, world.keeper, review, Decide(claim_id, "ok").pack())
    assert "不能确认或退回自己的党费" in text

    menu = await say(bot, world.keeper, "/dues")
    grid = await tap(bot, world.keeper, menu, "登记交费")
    assert "第一支部　2026-12 党费登记" in grid.content
    assert "已交 0/2" in grid.content
    grid = await tap(bot, world.keeper, grid, "✗ 王芳")
    assert "已交 1/2" in grid.content
    ask = await tap(bot, world.keeper, grid, "✓ 王芳")
    assert "要更正为未交吗" in ask.content
    back = await tap(bot, world.keeper, ask, "更正为未交")
    assert "已交 0/2" in back.content
    theirs = await say(bot, world.stranger_keeper, "/dues")
    text = await forged(bot, world.stranger_keeper, theirs,
                        GridOpen(world.branch, 202612, 0).pack())  # fmt: skip
    assert "组织委员或党费管理员" in text
    async with bot.deps.db.read() as s:
        amounts = (await s.scalars(select(DuesEntry.amount_fen).order_by(DuesEntry.id))).all()
    assert list(amounts) == [8_100, -8_100]


async def test_payments_sheet_through_the_grid(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in (["姓名", "月份", "金额"], ["王芳", "2026年11月", 81], ["王芳", "2026-12", "81"],
                ["查无此人", "2026-12", 81]):  # fmt: skip
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    menu = await say(bot, world.keeper, "/dues")
    grid = await tap(bot, world.keeper, menu, "登记交费")
    ask = await tap(bot, world.keeper, grid, "导入交费表")
    assert "请发送交费表" in ask.content
    typed = await say(bot, world.keeper, "好的")
    assert "请发送表格文件" in typed.content
    await world.keeper.send_document("交费.xlsx", out.getvalue())
    await bot.settle()
    preview = emu.last_sent(world.keeper)
    assert "将登记 2 笔，共 162.00 元" in preview.content
    assert "第 4 行（查无此人）：支部名册上没有这个人" in preview.content
    done = await tap(bot, world.keeper, preview, "确认导入")
    assert "已登记 2 笔" in done.content
    async with bot.deps.db.read() as s:
        months = (await s.scalars(select(DuesEntry.month).order_by(DuesEntry.month))).all()
    assert list(months) == [202611, 202612]


async def test_ledgers_register_and_rollup(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    db = bot.deps.db
    admin = emu.user("党委", language_code="zh-hans")
    await touch_user(db, Person(id=admin.id, first_name="党委"), clock.now(), started=True)
    async with db.transaction() as s:
        s.add(DuesEntry(member_id=world.member_id, org_id=world.branch, month=202611,
                        amount_fen=8_100, kind="dues", to_centre=False, recorded_by=1,
                        recorded_at=clock.now()))  # fmt: skip
        committee = await s.scalar(select(Organization.id).where(Organization.name == "高新区党委"))
        s.add(RoleAssignment(org_id=committee, role=Role.COMMITTEE_ADMIN, user_id=admin.id,
                             start_on=clock.now().date(), created_at=clock.now()))  # fmt: skip
    await admin.start()
    await bot.settle()
    menu = await say(bot, world.keeper, "/dues")
    ledgers = await tap(bot, world.keeper, menu, "党费台账")
    assert "第一支部 党费交纳登记表（2026）" in str(ledgers.reply_markup)
    await tap(bot, world.keeper, ledgers, "第一支部 党费交纳登记表（2026）")
    await delivered(bot)
    sent = emu.last_sent(world.keeper)
    assert sent.document is not None
    assert sent.document.file_name == "党费交纳登记表_第一支部_2026.xlsx"
    sheet = openpyxl.load_workbook(io.BytesIO(sent.document.content or b"")).active
    assert sheet is not None
    rows = {sheet.cell(row=r, column=2).value: r for r in range(3, sheet.max_row + 1)}
    assert sheet.cell(row=rows["王芳"], column=13).value == 81.0  # November

    menu = await say(bot, admin, "/dues")
    ledgers = await tap(bot, admin, menu, "党费台账")
    assert "登记表" not in str(ledgers.reply_markup)  # totals only for a committee
    # A committee admin forging a branch register: refused.
    text = await forged(bot, admin, ledgers, LedgerOpen("reg", world.branch, 2026).pack())
    assert "书记、组织委员或党费管理员" in text
    summary = await tap(bot, admin, ledgers, "高新区党委 党费收缴汇总（2026）")
    assert "高新区党委　2026 年党费收缴汇总" in summary.content
    await delivered(bot)
    assert emu.last_sent(admin).photo is not None
