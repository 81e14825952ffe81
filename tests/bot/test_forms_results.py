"""/forms end to end through the emulator: results, the chart, reviewing with a typed comment
that reaches the respondent, accepting, the export; members see nothing; forged buttons."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import unquote

from openpyxl import load_workbook
from sqlalchemy import select

from domain.forms import Attachment, FormKind, QType, Question
from domain.orgs import Kind, Level, Role, Stage, Status
from services.authz import Actor
from services.forms import FormSpec, publish_form, submit_response
from services.notices import Audience
from services.orgs import create_org
from services.orgs_roles import grant_role
from services.users import Person, touch_user
from storage.db import Database
from storage.models import AuditEntry, FormResponse, Member
from tests.bot.conftest import BotUnderTest
from tests.bot.test_notices import alert_text, say, tap
from tests.conftest import FakeClock
from tests.emulator import Emulator, EmuUser
from tests.emulator.model import EmuMessage
from ui.forms_results import FormClose

SUPER = Actor(user_id=0, superadmin=True)
QUESTIONS = (
    Question(QType.YES_NO, "本月是否参加志愿服务"),
    Question(QType.INTEGER, "服务时长", unit="小时"),
    Question(QType.SINGLE, "服务类型", choices=("社区", "交通", "环保")),
    Question(QType.ATTACHMENT, "服务照片", required=False),
)


@dataclass
class World:
    committee: int
    branches: dict[str, int]
    sender: EmuUser
    people: dict[str, EmuUser]
    cycle: int


async def _member(db: Database, clock: FakeClock, org_id: int, name: str, user: EmuUser) -> int:
    await touch_user(db, Person(id=user.id, first_name=user.first_name), clock.now(),
                     started=True)  # fmt: skip
    async with db.transaction() as s:
        row = Member(org_id=org_id, user_id=user.id, name=name, stage=Stage.FULL,
                     status=Status.ACTIVE, source="admin", created_at=clock.now(),
                     updated_at=clock.now())  # fmt: skip
        s.add(row)
        await s.flush()
        return row.id


async def make_world(emu: Emulator, bot: BotUnderTest, clock: FakeClock) -> World:
    """A committee (admin: the sender) with two branches; a member form sent to both, two of
    three members answered."""
    db, now, today = bot.deps.db, clock.now(), clock.now().date()
    sender = emu.user("组织部", language_code="zh-hans")
    await touch_user(db, Person(id=sender.id, first_name="组织部"), now, started=True)
    committee = await create_org(db, SUPER, name="两新工委", level=Level.COMMITTEE,
                                 kind=Kind.TWO_NEW, parent_id=None, now=now,
                                 today=today)  # fmt: skip
    await grant_role(db, SUPER, committee.id, Role.COMMITTEE_ADMIN, user_id=sender.id,
                     now=now, today=today)  # fmt: skip
    branches: dict[str, int] = {}
    for name in ("第一支部", "第二支部"):
        org = await create_org(db, SUPER, name=name, level=Level.BRANCH, kind=Kind.STANDARD,
                               parent_id=committee.id, now=now, today=today)  # fmt: skip
        branches[name] = org.id
    people = {
        "wang": emu.user("芳", language_code="zh-hans"),
        "zhang": emu.user("伟", language_code="zh-hans"),
        "li": emu.user("娜", language_code="zh-hans"),
    }
    await _member(db, clock, branches["第一支部"], "王芳", people["wang"])
    await _member(db, clock, branches["第一支部"], "张伟", people["zhang"])
    await _member(db, clock, branches["第二支部"], "李娜", people["li"])
    for user in people.values():
        await user.start()
    spec = FormSpec(
        org_id=committee.id, kind=FormKind.MEMBER, title="志愿服务情况", intro="",
        questions=QUESTIONS, audience=Audience((committee.id,)),
        deadline=now + timedelta(days=3),
    )  # fmt: skip
    actor = Actor(sender.id)
    cycle = (await publish_form(db, actor, spec, now=now, today=today)).cycle.id
    photo = emu.store_file("photo", b"\xff\xd8\xff jpeg bytes")
    await submit_response(db, Actor(people["wang"].id), cycle,
                          {0: True, 1: 6, 2: 0, 3: Attachment("photo", photo.file_id)},
                          now=now, today=today)  # fmt: skip
    await submit_response(db, Actor(people["li"].id), cycle, {0: True, 1: 4, 2: 2},
                          now=now, today=today)  # fmt: skip
    await bot.settle()
    return World(committee.id, branches, sender, people, cycle)


async def _response_of(db: Database, user: EmuUser) -> int:
    async with db.read() as s:
        found = await s.scalar(select(FormResponse.id).where(FormResponse.user_id == user.id))
    assert found is not None
    return found


async def _delivered(emu: Emulator, user: EmuUser, text: str) -> EmuMessage:
    found = await emu.wait_for(
        lambda: [m for m in emu.sent_to(user) if text in m.content], timeout=10
    )
    return found[-1]  # type: ignore[no-any-return]


async def edit_by(bot: BotUnderTest, user: EmuUser, message: EmuMessage, button: str) -> EmuMessage:
    """Press a button whose screen replaces the message (edited in place); the message."""
    await user.press(message, button)
    await bot.settle()
    return message


async def test_results_review_return_and_accept(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    w = await make_world(emu, bot, clock)
    sender, wang = w.sender, w.people["wang"]
    listing = await say(bot, sender, "/forms")
    assert "报送结果" in listing.content
    assert listing.button_texts() == ["志愿服务情况 · 已报 2/3 · 迟报 0"]
    results = await tap(bot, sender, listing, listing.button_texts()[0])
    assert "应报 3，已报 2（按时 2，迟报 0），未报 1" in results.content
    assert "完成率 67%" in results.content
    # The branch furthest behind comes first.
    assert results.button_texts()[:2] == ["第一支部 1/2 迟报0 未报1", "第二支部 1/1 迟报0 未报0"]
    questions = await tap(bot, sender, results, "各题统计")
    assert "是 2（100%）" in questions.content
    assert "合计 10小时，平均 5，最小 4，最大 6（2 份）" in questions.content
    results = await tap(bot, sender, questions, "« 返回")
    missing = await tap(bot, sender, results, "未报名单（1）")
    assert "· 第一支部：张伟" in missing.content
    assert "🔔 催报" in missing.button_texts()
    results = await tap(bot, sender, missing, "« 返回")
    # 图表: a picture arrives.
    await sender.press(results, "📈 图表")
    await bot.settle()
    chart = await emu.wait_for(lambda: [m for m in emu.sent_to(sender) if m.photo], timeout=15)
    assert "各支部填报完成情况" in chart[-1].content
    assert (chart[-1].photo.content or b"").startswith(b"\x89PNG")
    # Review: the branch → 王芳's answer → 退回修改 with a typed comment.
    branch = await edit_by(bot, sender, results, "第一支部 1/2 迟报0 未报1")
    assert "第一支部：应报 2，已报 1（迟报 0），未报 1" in branch.content
    answer = await edit_by(bot, sender, branch, "王芳 · 待审核")
    assert "第 1 版" in answer.content
    assert "   是" in answer.content
    assert "   6小时" in answer.content
    assert "   社区" in answer.content
    ask = await tap(bot, sender, answer, "↩️ 退回修改")
    assert "请输入退回给 王芳 的修改意见" in ask.content
    await say(bot, sender, "请写明服务地点")
    assert "已退回给 王芳 修改" in emu.sent_to(sender)[-2].content
    reviewed = emu.last_sent(sender)
    assert "状态：已退回" in reviewed.content
    note = await _delivered(emu, wang, "被退回修改")
    assert "意见：请写明服务地点" in note.content
    assert note.button_texts() == ["修改"]
    assert note.button("修改").callback_data == f"fo:{w.cycle}:0"
    # The comment was taken with the review: another text is no second return.
    assert "我没有理解您的消息" in (await say(bot, sender, "再说一遍")).content
    # 王芳 answers again; 通过 locks it and tells her.
    await submit_response(bot.deps.db, Actor(wang.id), w.cycle, {0: True, 1: 7, 2: 1},
                          now=clock.now(), today=clock.now().date())  # fmt: skip
    accepted = await edit_by(bot, sender, reviewed, "✅ 通过")
    assert "通过" in alert_text(sender)
    assert "状态：已通过" in accepted.content
    assert "第 2 版" in accepted.content
    assert "✅ 通过" not in accepted.button_texts()
    await _delivered(emu, wang, "已审核通过")
    async with bot.deps.db.read() as s:
        actions = (await s.scalars(select(AuditEntry.action))).all()
    assert [a for a in actions if a in ("form.return", "form.accept")] == [
        "form.return",
        "form.accept",
    ]


async def test_export_arrives_as_a_spreadsheet(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    w = await make_world(emu, bot, clock)
    listing = await say(bot, w.sender, "/forms")
    results = await tap(bot, w.sender, listing, listing.button_texts()[0])
    await w.sender.press(results, "📥 导出")
    await bot.settle()
    assert "正在生成表格" in alert_text(w.sender)
    bot.deps.outbox.wake()
    sent = await emu.wait_for(lambda: [m for m in emu.sent_to(w.sender) if m.document], timeout=15)
    document = sent[-1].document
    assert unquote(document.file_name or "") == "志愿服务情况.xlsx"
    book = load_workbook(io.BytesIO(document.content or b""))
    answers = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    assert [r[:2] for r in answers[1:]] == [["第一支部", "王芳"], ["第二支部", "李娜"]]
    totals = [list(r) for r in book.worksheets[-1].iter_rows(values_only=True)]
    assert totals[-1] == ["合计", 3, 2, 0, 1, 0, 2, 10, 1, 0, 1]
    assert answers[1][8] == "图片"
    # The attachments follow as a ZIP: 支部/姓名_题号.ext.
    zipped = await emu.wait_for(
        lambda: [m for m in emu.sent_to(w.sender) if m.document and "附件" in m.content],
        timeout=15,
    )
    archive = zipfile.ZipFile(io.BytesIO(zipped[-1].document.content or b""))
    assert archive.namelist() == ["第一支部/王芳_4.jpg"]
    assert archive.read("第一支部/王芳_4.jpg") == b"\xff\xd8\xff jpeg bytes"
    assert "1 个文件" in zipped[-1].content
    async with bot.deps.db.read() as s:
        audited = (await s.scalars(select(AuditEntry.after).where(
            AuditEntry.action == "form.export"))).all()  # fmt: skip
    assert [a["file"] for a in audited] == ["志愿服务情况.xlsx", "志愿服务情况_附件.zip"]


async def test_members_see_nothing_and_forged_buttons_are_refused(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    w = await make_world(emu, bot, clock)
    li = w.people["li"]
    listing = await say(bot, li, "/forms")
    assert "暂时没有您可以查看的报送" in listing.content
    assert listing.buttons == []
    before = len(emu.sent_to(li))
    wang_answer = await _response_of(bot.deps.db, w.people["wang"])
    for forged in (f"fr:{w.cycle}:0", f"frq:{w.cycle}:0", f"frm:{w.cycle}:0",
                   f"frb:{w.cycle}:{w.branches['第一支部']}:0", f"fra:open:{wang_answer}",
                   f"fra:ok:{wang_answer}", f"fra:ret:{wang_answer}", f"frx:{w.cycle}",
                   f"frg:{w.cycle}", f"frk:{w.cycle}"):  # fmt: skip
        await li.press_raw(listing, forged)
        await bot.settle()
        assert "没有权限" in alert_text(li), forged
    for broken in ("fr:abc:0", "fra:zap:1", "frb:1:2", f"fra:open:{wang_answer}:9"):
        await li.press_raw(listing, broken)
        await bot.settle()
        assert "按钮已失效" in alert_text(li), broken
    assert len(emu.sent_to(li)) == before  # no chart, no file, no prompt
    async with bot.deps.db.read() as s:
        status = await s.scalar(select(FormResponse.status).where(FormResponse.id == wang_answer))
    assert status == "submitted"
    # In a group, /forms points to the private chat.
    group = emu.group("第一支部群", members=[w.sender, li], admins=[w.sender], supergroup=True)
    await group.add_bot(by=w.sender, admin=True)
    await w.sender.send("/forms", chat=group)
    await bot.settle()
    assert "私聊" in emu.last_sent(group).content


async def test_the_sender_stops_the_collection_after_confirming(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    w = await make_world(emu, bot, clock)
    listing = await say(bot, w.sender, "/forms")
    results = await tap(bot, w.sender, listing, listing.button_texts()[0])
    ask = await edit_by(bot, w.sender, results, "⏹ 结束收集")
    assert "确定结束" in ask.content
    back = await edit_by(bot, w.sender, ask, "« 返回")
    assert "⏹ 结束收集" in back.button_texts()
    ask = await edit_by(bot, w.sender, back, "⏹ 结束收集")
    done = await edit_by(bot, w.sender, ask, "确定结束")
    assert "已结束「志愿服务情况」的收集" in done.content
    # Pressing the old confirmation again: already closed.
    await w.sender.press_raw(done, FormClose(w.cycle, 1).pack())
    await bot.settle()
    assert "过期" in alert_text(w.sender) or "失效" in alert_text(w.sender)
    listing = await say(bot, w.sender, "/forms")
    results = await tap(bot, w.sender, listing, listing.button_texts()[0])
    assert "⏹ 结束收集" not in results.button_texts()
    # A member pressing forged close data is refused.
    li = w.people["li"]
    await li.press_raw(await say(bot, li, "/forms"), FormClose(w.cycle, 0).pack())
    await bot.settle()
    assert alert_text(li)
