"""上缴 end to end through the emulator: the keeper's 上缴党费 with odd amounts and a receipt
photo, the committee keeper's note with 确认收到 and 看凭证, a second 确认上缴 refused, members
and another committee's keeper pressing (or forging) buttons, and the committee's 上缴情况
over 60 branches: paging to the last, finding by name, the workbook, confirming from it."""

from __future__ import annotations

import io
from dataclasses import dataclass

import openpyxl
from sqlalchemy import select

from domain.dues import months_between
from domain.orgs import Kind, Level, Role
from services.authz import Actor
from services.orgs import create_org
from storage.models import AuditEntry, DuesEntry, DuesRemittance, DuesStandard
from tests.bot.conftest import BotUnderTest, delivered
from tests.bot.test_notices import _member, alert_text, say, tap
from tests.conftest import FakeClock
from tests.emulator import Emulator, EmuUser
from tests.emulator.model import EmuMessage
from tests.services.factories import office

SUPER = Actor(user_id=0, superadmin=True)


@dataclass
class World:
    committee: int
    branch: int
    keeper: EmuUser
    member: EmuUser
    ckeeper: EmuUser
    stranger: EmuUser


async def _world(emu: Emulator, bot: BotUnderTest, clock: FakeClock, branches: int = 1) -> World:
    db, now, day = bot.deps.db, clock.now(), clock.now().date()
    committee = await create_org(db, SUPER, name="两新工委", level=Level.COMMITTEE,
                                 kind=Kind.TWO_NEW, parent_id=None, now=now,
                                 today=day)  # fmt: skip
    other = await create_org(db, SUPER, name="商贸党委", level=Level.COMMITTEE,
                             kind=Kind.INDUSTRY, parent_id=None, now=now, today=day)  # fmt: skip
    ids = []
    for n in range(1, branches + 1):
        name = "第一支部" if n == 1 else f"第{n:02d}支部"
        view = await create_org(db, SUPER, name=name, level=Level.BRANCH, kind=Kind.STANDARD,
                                parent_id=committee.id, now=now, today=day)  # fmt: skip
        ids.append(view.id)
    people = {key: emu.user(name, language_code="zh-hans")
              for key, name in (("keeper", "组织委员"), ("member", "芳"), ("ckeeper", "会计"),
                                ("stranger", "乙"))}  # fmt: skip
    keeper_id = await _member(db, clock, ids[0], "李组织", people["keeper"])
    wang = await _member(db, clock, ids[0], "王芳", people["member"])
    ck = await _member(db, clock, committee.id, "刘会计", people["ckeeper"])
    sk = await _member(db, clock, other.id, "赵会计", people["stranger"])
    for org_id, role, member_id in ((ids[0], Role.ORGANIZATION, keeper_id),
                                    (committee.id, Role.DUES_KEEPER, ck),
                                    (other.id, Role.DUES_KEEPER, sk)):  # fmt: skip
        await office(db, clock, org_id, role, member_id=member_id)
    for user in people.values():
        await user.start()
    await bot.settle()
    async with db.transaction() as s:
        s.add(DuesStandard(member_id=wang, org_id=ids[0], category="working", permille=15,
                           amount_fen=8_100, from_month=202601, status="confirmed",
                           declared_at=now))  # fmt: skip
        for month in months_between(202607, 202609):
            s.add(DuesEntry(member_id=wang, org_id=ids[0], month=month, amount_fen=8_100,
                            kind="dues", recorded_by=1, recorded_at=now))  # fmt: skip
    return World(committee.id, ids[0], people["keeper"], people["member"], people["ckeeper"],
                 people["stranger"])  # fmt: skip


async def forged(bot: BotUnderTest, user: EmuUser, message: EmuMessage, data: str) -> str:
    await user.press_raw(message, data)
    await bot.settle()
    return alert_text(user)


async def _remit(bot: BotUnderTest, w: World) -> EmuMessage:
    """The keeper walks 上缴党费 to the preview, with odd amounts and a receipt photo."""
    menu = await say(bot, w.keeper, "/dues")
    period = await tap(bot, w.keeper, menu, "💰 上缴党费")
    assert "两新工委" in period.content
    assert "本支部还没有上缴记录" in period.content
    amount = await tap(bot, w.keeper, period, "上季度（2026年7月至2026年9月）")
    assert "243.00 元" in amount.content
    assert "没看懂这个金额" in (await say(bot, w.keeper, "一百块\u202e")).content
    assert "超过 100 万元" in (await say(bot, w.keeper, "99999999")).content
    assert "要大于 0" in (await say(bot, w.keeper, "0")).content
    assert "没看懂" in (await say(bot, w.keeper, "9" * 4000)).content
    when = await say(bot, w.keeper, "２４３元")
    assert "哪天交给党委" in when.content
    proof = await tap(bot, w.keeper, when, "今天")
    assert "凭证" in proof.content
    await w.keeper.send_photo(b"\xff\xd8receipt")
    await bot.settle()
    review = bot.emu.last_sent(w.keeper)
    assert "请核对上缴信息" in review.content
    assert "243.00 元" in review.content
    assert "已附照片" in review.content
    return review


async def test_the_keeper_remits_and_the_committee_keeper_confirms(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    w = await _world(emu, bot, clock)
    review = await _remit(bot, w)
    done = await tap(bot, w.keeper, review, "确认上缴")
    assert "已记录" in done.content
    assert "已通知党委的 1 位党费管理员" in done.content
    assert "⏳ 待确认" in done.content
    # The old 确认上缴 again (a double press, a resent update): nothing twice.
    assert "按钮已失效" in await forged(bot, w.keeper, review, "drm:send:0:")
    await delivered(bot)
    note = emu.last_sent(w.ckeeper)
    assert "第一支部上缴两新工委党费" in note.content
    assert note.button_texts() == ["确认收到", "看凭证"]
    async with bot.deps.db.read() as s:
        row = (await s.scalars(select(DuesRemittance))).one()
    assert row.proof_file_id is not None
    # The photo, shown to the committee; not to a member or another committee's keeper.
    await w.ckeeper.press(note, "看凭证")
    await bot.settle()
    shown = emu.last_sent(w.ckeeper)
    assert shown.photo is not None
    assert "243.00" in (shown.caption or "")
    own = {u.id: await say(bot, u, "/dues") for u in (w.member, w.stranger)}
    assert "只有" in await forged(bot, w.member, own[w.member.id], f"drp:{row.id}")
    assert "只有" in await forged(bot, w.stranger, own[w.stranger.id], f"drp:{row.id}")
    # Another committee's keeper, a member of the branch: 确认收到 refused.
    assert "党费" in await forged(bot, w.stranger, own[w.stranger.id], f"dcc:{row.id}")
    assert "党费" in await forged(bot, w.member, own[w.member.id], f"dcc:{row.id}")
    async with bot.deps.db.read() as s:
        assert (await s.get(DuesRemittance, row.id)).confirmed_at is None  # type: ignore[union-attr]
    await w.ckeeper.press(note, "确认收到")
    await bot.settle()
    assert "已确认收到" in alert_text(w.ckeeper)
    async with bot.deps.db.read() as s:
        actions = list((await s.scalars(select(AuditEntry.action))).all())
    assert actions.count("dues.remit.record") == 1
    assert actions.count("dues.remit.confirm") == 1
    # The keeper's list now says 已确认, and a second remittance of Q3 is warned about.
    menu = await say(bot, w.keeper, "/dues")
    period = await tap(bot, w.keeper, menu, "💰 上缴党费")
    assert "✅ 已确认" in period.content
    warned = await tap(bot, w.keeper, period, "上季度（2026年7月至2026年9月）")
    assert "已经上缴过" in warned.content
    amount = await tap(bot, w.keeper, warned, "继续（补缴）")
    assert "其中已上缴：243.00 元" in amount.content
    assert "上缴 " not in " ".join(amount.button_texts())  # nothing left to default to
    cancelled = await tap(bot, w.keeper, amount, "取消")
    assert "没有记录上缴" in cancelled.content


async def test_members_and_forged_data_are_refused(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    w = await _world(emu, bot, clock)
    menu = await say(bot, w.member, "/dues")
    assert "💰 上缴党费" not in menu.button_texts()
    assert "📊 上缴情况" not in menu.button_texts()
    assert "只有本支部的组织委员或党费管理员" in await forged(
        bot, w.member, menu, f"drm:open:{w.branch}:"
    )
    assert "按钮已失效" in await forged(bot, w.member, menu, "drm:open:abc:")
    assert "按钮已失效" in await forged(bot, w.member, menu, "drm:open:1:" + "x" * 70)
    assert "按钮已失效" in await forged(bot, w.member, menu, "drm:pick:0:lq")  # no draft
    assert "只有党委" in await forged(bot, w.member, menu, f"drb:{w.committee}:202607:202609:0:0")
    theirs = await say(bot, w.stranger, "/dues")
    assert "只有党委" in await forged(bot, w.stranger, theirs,
                                   f"drb:{w.committee}:202607:202609:0:0")  # fmt: skip
    assert "只有党委" in await forged(bot, w.member, menu,
                                   f"dra:{w.committee}:202607:202609:xlsx:0:0")  # fmt: skip
    # The keeper's own wizard: a preset code that is not one is refused, nothing kept.
    keeper_menu = await say(bot, w.keeper, "/dues")
    period = await tap(bot, w.keeper, keeper_menu, "💰 上缴党费")
    assert "按钮已失效" in await forged(bot, w.keeper, period, "drm:pick:0:zz")
    typed = await say(bot, w.keeper, "2027-01至2027-03")
    assert "还没到的月份" in typed.content
    async with bot.deps.db.read() as s:
        assert (await s.scalars(select(DuesRemittance))).all() == []


async def test_the_committee_pages_sixty_branches_finds_exports_and_confirms(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    w = await _world(emu, bot, clock, branches=60)
    db, now, day = bot.deps.db, clock.now(), clock.now().date()
    async with db.transaction() as s:
        s.add(DuesRemittance(org_id=w.branch, to_org_id=w.committee, from_month=202607,
                             until_month=202609, amount_fen=24_300, paid_on=day,
                             proof_file_id=None, recorded_by=w.keeper.id,
                             recorded_at=now))  # fmt: skip
    menu = await say(bot, w.ckeeper, "/dues")
    periods = await tap(bot, w.ckeeper, menu, "📊 上缴情况")
    assert "请选择期间" in periods.content
    board = await tap(bot, w.ckeeper, periods, "上季度（2026年7月至2026年9月）")
    assert "60 个支部" in board.content
    assert "未上缴的支部：59 个" in board.content
    assert "第 1/3 页" in board.content
    assert "1. ⭕ 第02支部" in board.content  # by name: 第02… before 第一支部
    assert "待确认收到（1 笔）" in board.content
    board = await tap(bot, w.ckeeper, board, "下一页 ▶")
    board = await tap(bot, w.ckeeper, board, "下一页 ▶")
    assert "第 3/3 页" in board.content
    assert "60. 第一支部" in board.content
    assert "59. ⭕ 第60支部" in board.content
    assert "下一页 ▶" not in board.button_texts()
    # Find by name, then page back to everything.
    ask = await tap(bot, w.ckeeper, board, "🔎 按名称查找")
    assert "支部名称中的几个字" in ask.content
    assert "太长了" in (await say(bot, w.ckeeper, "支" * 40)).content
    found = await say(bot, w.ckeeper, "第5")
    assert "名称含“第5”的支部" in found.content
    assert "10 个支部" in found.content
    # The workbook of the narrowed table, sent as a document (audited).
    await w.ckeeper.press(found, "📄 导出表格")
    await bot.settle()
    assert "表格正在生成" in alert_text(w.ckeeper)
    await delivered(bot)
    sent = emu.last_sent(w.ckeeper)
    assert sent.document is not None
    assert sent.document.file_name == "上缴情况_两新工委_202607-202609.xlsx"
    sheet = openpyxl.load_workbook(io.BytesIO(sent.document.content or b"")).active
    assert sheet is not None
    names = [sheet.cell(row=r, column=2).value for r in range(3, 14)]
    assert names == [f"第5{n}支部" for n in range(10)] + ["合计"]
    assert sheet.cell(row=3, column=7).value == "未上缴"
    await w.ckeeper.press(found, "显示全部支部")  # the board is edited in place
    await bot.settle()
    assert "60 个支部" in found.content
    # 确认收到 from the board.
    await w.ckeeper.press(found, "确认收到 第一支部 243.00")
    await bot.settle()
    assert "已确认收到" in alert_text(w.ckeeper)
    assert "待确认收到" not in found.content
    assert "已确认 243.00" in found.content
    async with db.read() as s:
        row = (await s.scalars(select(DuesRemittance))).one()
        exports = (await s.scalars(select(AuditEntry).where(AuditEntry.action == "dues.export"))
                   ).all()  # fmt: skip
    assert row.confirmed_by == w.ckeeper.id
    assert len(exports) == 1
