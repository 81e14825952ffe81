"""批量设置标准 end to end through the emulator (template, a wrong file, a sheet with problems,
the dry run, 确认导入 once, members told in their language; a member pressing the keeper's
button, forged bytes), and dues notes in each reader's language (an English-speaking keeper,
a Chinese member)."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import openpyxl
from sqlalchemy import select

from domain.orgs import Kind, Level, Role
from services.authz import Actor
from services.orgs import create_org
from services.orgs_roles import grant_role
from storage.models import AuditEntry, DuesStandard
from tests.bot.conftest import BotUnderTest, delivered
from tests.bot.test_dues_payments import forged
from tests.bot.test_dues_standards import _member, declare_working
from tests.bot.test_notices import say, tap
from tests.conftest import FakeClock
from tests.emulator import Emulator, EmuUser
from ui.dues_import import BulkStep

SUPER = Actor(user_id=0, superadmin=True)


async def _world(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock, keeper_language: str
) -> tuple[int, dict[str, EmuUser]]:
    """第一支部: keeper 陈 (in keeper_language), 王芳 (Chinese), Li (English); 第二支部: 赵."""
    db = bot.deps.db
    clock.set(datetime(2026, 12, 7, 2, 0, tzinfo=UTC))
    now, today = clock.now(), clock.now().date()
    committee = await create_org(db, SUPER, name="两新工委", level=Level.COMMITTEE,
                                 kind=Kind.TWO_NEW, parent_id=None, now=now,
                                 today=today)  # fmt: skip
    branch = await create_org(db, SUPER, name="第一支部", level=Level.BRANCH, kind=Kind.STANDARD,
                              parent_id=committee.id, now=now, today=today)  # fmt: skip
    other = await create_org(db, SUPER, name="第二支部", level=Level.BRANCH, kind=Kind.STANDARD,
                             parent_id=committee.id, now=now, today=today)  # fmt: skip
    people = {"chen": emu.user("陈", language_code=keeper_language),
              "wang": emu.user("芳", language_code="zh-hans"),
              "li": emu.user("Li", language_code="en"),
              "zhao": emu.user("强", language_code="zh-hans")}  # fmt: skip
    chen = await _member(db, clock, branch.id, "陈组织", people["chen"])
    await _member(db, clock, branch.id, "王芳", people["wang"])
    await _member(db, clock, branch.id, "Li Na", people["li"])
    zhao = await _member(db, clock, other.id, "赵管理", people["zhao"])
    await grant_role(db, SUPER, branch.id, Role.ORGANIZATION, member_id=chen, now=now,
                     today=today)  # fmt: skip
    await grant_role(db, SUPER, other.id, Role.DUES_KEEPER, member_id=zhao, now=now, today=today)
    for user in people.values():
        await user.start()
    await bot.settle()
    return branch.id, people


def _sheet(*rows: list[object]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def test_bulk_standards_from_a_sheet(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    branch, people = await _world(emu, bot, clock, "zh-hans")
    keeper, wang = people["chen"], people["wang"]
    menu = await say(bot, keeper, "/dues")
    await tap(bot, keeper, menu, "批量设置标准")
    template = emu.last_sent(keeper)
    assert template.document is not None
    assert template.document.file_name == "党费标准批量设置模板.xlsx"
    assert "第一支部" in (template.caption or "")
    sheet = openpyxl.load_workbook(io.BytesIO(template.document.content or b"")).worksheets[0]
    assert [c.value for c in sheet[1]] == ["姓名", "类别", "月缴金额(元)", "月收入基数(元)",
                                          "起始月份"]  # fmt: skip
    typed = await say(bot, keeper, "好的")
    assert "请把填好的表格作为文件发送" in typed.content
    await keeper.send_document("标准.pdf", b"%PDF-1.4 \x00")
    await bot.settle()
    assert "只能导入电子表格文件" in emu.last_sent(keeper).content
    filled = _sheet(["第一支部2027年党费标准"], ["姓名", "类别", "月缴金额(元)", "月收入基数(元)"],
                    ["王芳", "在职职工", "", "5400"], ["Li Na", "学生", "", ""],
                    ["查无此人\u202e", "在职", "", "5000"],
                    ["陈组织", "公务员", "", "5000"])  # fmt: skip
    await keeper.send_document("标准.xlsx", filled)
    await bot.settle()
    preview = emu.last_sent(keeper)
    assert "新设 2 人，变更 0 人，不变 0 人，有问题 2 行" in preview.content
    assert "第 5 行（查无此人" in preview.content
    assert "支部名册上没有这个人" in preview.content
    assert "第 6 行（陈组织）：类别没看懂" in preview.content
    async with bot.deps.db.read() as s:  # a dry run: nothing yet, and never a base
        assert (await s.scalars(select(DuesStandard.id))).all() == []
    # A member forging the keeper's buttons, forged bytes, another branch's keeper: refused.
    mine = await say(bot, wang, "/dues")
    assert "批量设置标准" not in str(mine.reply_markup)
    assert "组织委员或党费管理员" in await forged(bot, wang, mine, BulkStep(branch, "start").pack())
    assert "失效" in await forged(bot, wang, mine, BulkStep(branch, "apply").pack())
    theirs = await say(bot, people["zhao"], "/dues")
    text = await forged(bot, people["zhao"], theirs, BulkStep(branch, "start").pack())
    assert "组织委员或党费管理员" in text
    for data in ("dsb:abc:apply", "dsb:1", "dsb:1:boom"):
        assert "失效" in await forged(bot, keeper, preview, data)
    done = await tap(bot, keeper, preview, "确认导入")
    assert "已保存：新设 2 人，变更 0 人。已私信告知 2 人" in done.content
    assert "失效" in await forged(bot, keeper, done, BulkStep(branch, "apply").pack())
    await delivered(bot)
    told = emu.last_sent(wang).content
    assert "支部为您设定了党费标准" in told
    assert "81.00" in told
    assert "Your branch has set your party dues standard" in emu.last_sent(people["li"]).content
    async with bot.deps.db.read() as s:
        query = select(DuesStandard.amount_fen, DuesStandard.status, DuesStandard.base_fen)
        rows = (await s.execute(query.order_by(DuesStandard.id))).all()
        actions = (await s.scalars(select(AuditEntry.action))).all()
    assert [tuple(r) for r in rows] == [(8_100, "confirmed", None), (20, "confirmed", None)]
    assert actions.count("dues.standard.import") == 1


async def test_dues_notes_in_each_readers_language(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    _branch, people = await _world(emu, bot, clock, "en")
    keeper, wang = people["chen"], people["wang"]
    await declare_working(bot, wang, "5400")
    await delivered(bot)
    card = emu.last_sent(keeper)
    assert "Dues declaration to confirm" in card.content  # the English-speaking keeper
    assert "王芳" in card.content
    done = await tap(bot, keeper, card, "Confirm")
    assert "dues standard confirmed" in done.content
    await delivered(bot)
    assert "您的党费标准已确认" in emu.last_sent(wang).content  # the Chinese member
