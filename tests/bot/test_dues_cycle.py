"""The dues cycle end to end through the emulator: the payment day's private reminder, an
arrears flag whose 记录谈话 walks the talk draft to a saved record, the committee keeper's
确认收到, and members pressing (or forging) keepers' buttons."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from domain.dues_cycle import payment_moment
from domain.orgs import Kind, Level, Role
from scheduler.jobs import JobRunner
from services.authz import Actor
from services.dues_reminders import JOB
from services.dues_remit import RemitText, record_remittance, remit_plan
from services.orgs import create_org
from storage.models import AuditEntry, DuesRemittance, DuesStandard, DuesTalk
from tests.bot.conftest import BotUnderTest
from tests.bot.test_meetings_reminders import drain, manual_ticks
from tests.bot.test_notices import _member, alert_text, say, tap
from tests.conftest import FakeClock
from tests.emulator import Emulator, EmuUser
from tests.services.factories import office

SUPER = Actor(user_id=0, superadmin=True)
NOVEMBER = payment_moment(202611, 5, 9, "Asia/Shanghai")


@pytest.fixture(autouse=True)
def payment_day(clock: FakeClock) -> None:
    clock.set(NOVEMBER)


async def _world(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> tuple[int, int, dict[str, EmuUser], int]:
    db, now, today = bot.deps.db, clock.now(), clock.now().date()
    committee = await create_org(
        db, SUPER, name="两新工委", level=Level.COMMITTEE, kind=Kind.TWO_NEW, parent_id=None,
        now=now, today=today,
    )  # fmt: skip
    branch = await create_org(db, SUPER, name="第一支部", level=Level.BRANCH,
                              kind=Kind.STANDARD, parent_id=committee.id, now=now,
                              today=today)  # fmt: skip
    names = (("sec", "陈书记"), ("wang", "王芳"), ("ckeeper", "党委"))
    people = {key: emu.user(name, language_code="zh-hans") for key, name in names}
    sec_id = await _member(db, clock, branch.id, "陈书记", people["sec"])
    wang_id = await _member(db, clock, branch.id, "王芳", people["wang"])
    ck_id = await _member(db, clock, committee.id, "刘会计", people["ckeeper"])
    for user in people.values():
        await user.start()
    for org_id, role, member_id in ((branch.id, Role.SECRETARY, sec_id),
                                    (branch.id, Role.ORGANIZATION, sec_id),
                                    (committee.id, Role.DUES_KEEPER, ck_id)):  # fmt: skip
        # Written directly: /org does not yet offer a 党费管理员 on a committee.
        await office(db, clock, org_id, role, member_id=member_id)
    async with db.transaction() as s:
        s.add(DuesStandard(member_id=wang_id, org_id=branch.id, category="student",
                           permille=0, amount_fen=20, from_month=202607, status="confirmed",
                           declared_at=now))  # fmt: skip
    return committee.id, branch.id, people, wang_id


async def test_the_flag_s_button_records_a_talk_and_members_are_refused(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    _committee, _branch, people, wang_id = await _world(emu, bot, clock)
    runner = manual_ticks(bot)
    assert await runner.run_at(JOB, NOVEMBER) == 1
    await drain(bot)
    sec, wang = people["sec"], people["wang"]
    reminder = emu.last_sent(wang)
    assert "1.00" in reminder.content  # 5 months × 0.20, privately
    flag = next(m for m in emu.sent_to(sec) if "谈心谈话" in m.content)
    assert flag.button_texts() == ["记录谈话"]
    # A member forging the secretary's button, and forged bytes: refused, nothing opened.
    await wang.press_raw(reminder, f"dct:{wang_id}")
    await bot.settle()
    assert "只有支部书记" in alert_text(wang)
    await wang.press_raw(reminder, "dct:abc")
    await bot.settle()
    assert "按钮已失效" in alert_text(wang)
    question = await tap(bot, sec, flag, "记录谈话")
    assert "谈话人" in question.content
    assert "日期" in (await say(bot, sec, "陈书记")).content
    assert "不能晚于今天" in (await say(bot, sec, "2027-01-01")).content
    assert "谈话情况" in (await say(bot, sec, "2026-11-04")).content
    preview = await say(bot, sec, "答应本月补交")
    assert "答应本月补交" in preview.content
    done = await tap(bot, sec, preview, "保存")
    assert "已记录" in done.content
    await sec.press_raw(preview, "dca:save")  # the old 保存 again: nothing twice
    await bot.settle()
    assert "按钮已失效" in alert_text(sec)
    async with bot.deps.db.read() as s:
        talks = (await s.scalars(select(DuesTalk))).all()
        actions = (await s.scalars(select(AuditEntry.action))).all()
    assert [(t.held_on, t.outcome) for t in talks] == [(date(2026, 11, 4), "答应本月补交")]
    assert list(actions).count("dues.talk.record") == 1
    assert await JobRunner(bot.deps).run_at(JOB, NOVEMBER) == 0  # a restart: never twice


async def test_the_committee_keeper_confirms_a_remittance_a_member_cannot(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    _committee, branch, people, _wang = await _world(emu, bot, clock)
    manual_ticks(bot)
    db, today = bot.deps.db, clock.now().date()
    keeper = Actor(user_id=people["sec"].id)
    plan = await remit_plan(db, keeper, branch, 202607, 202609, today)
    await record_remittance(
        db, keeper, plan, amount_fen=60, paid_on=date(2026, 10, 8), proof_file_id=None,
        texts={"zh_CN": RemitText("第一支部上缴党费 0.60 元", "确认收到")},
        default_locale="zh_CN", now=clock.now(), today=today,
    )  # fmt: skip
    await drain(bot)
    ckeeper, wang = people["ckeeper"], people["wang"]
    notice = emu.last_sent(ckeeper)
    assert notice.button_texts() == ["确认收到"]
    async with db.read() as s:
        remit_id = (await s.scalars(select(DuesRemittance.id))).one()
    await wang.send("/dues")
    await bot.settle()
    await wang.press_raw(emu.last_sent(wang), f"dcc:{remit_id}")
    await bot.settle()
    assert "党费" in alert_text(wang)
    await ckeeper.press(notice, "确认收到")
    await bot.settle()
    assert "已确认收到" in alert_text(ckeeper)
    async with db.read() as s:
        row = (await s.scalars(select(DuesRemittance))).one()
    assert row.confirmed_by == ckeeper.id
