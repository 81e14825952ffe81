"""/notice, the 收到 button and /receipts end to end, through the emulator."""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import select, update

from bot.app import build_deps
from domain.notices import NoticeDraft
from domain.orgs import Kind, Level, Role, Stage, Status
from domain.validation import Invalid
from domain.when import parse_when
from scheduler.jobs import JobRunner
from scheduler.notices import NUDGE_JOB, NUDGE_LEAD
from services.authz import Actor
from services.groups import bind_chat
from services.notices import (
    Audience,
    NoticeSpec,
    get_notice,
    progress,
    publish_draft,
    publish_notice,
    queue_nudges,
)
from services.orgs import add_party_group, create_org
from services.orgs_roles import grant_role
from services.users import Person, touch_user
from storage.db import Database
from storage.models import Acknowledgement, Draft, JobRun, Member, Notice, OutboxItem
from tests.bot.conftest import BotUnderTest, bot_config, start_bot, stop_bot
from tests.conftest import FakeClock
from tests.emulator import Emulator, EmuUser
from tests.emulator.model import EmuChat, EmuMessage
from ui.notices import Ack, NoticeStep, render_notice

SUPER = Actor(user_id=0, superadmin=True)
TZ = ZoneInfo("Asia/Shanghai")
RIGHTS = {"can_restrict_members", "can_delete_messages", "can_pin_messages", "can_invite_users"}


@dataclass
class World:
    """A committee (admin: `sender`) with three branches; two have a bound main group."""

    committee: int
    branches: dict[str, int]
    groups: dict[str, EmuChat]
    sender: EmuUser
    people: dict[str, EmuUser]


async def _member(
    db: Database,
    clock: FakeClock,
    org_id: int,
    name: str,
    user: EmuUser | None,
    stage: Stage = Stage.FULL,
    *,
    started: bool = True,
    party_group_id: int | None = None,
) -> int:
    if user is not None:
        await touch_user(db, Person(id=user.id, first_name=user.first_name), clock.now(),
                         started=started)  # fmt: skip
    async with db.transaction() as s:
        row = Member(org_id=org_id, user_id=user.id if user else None, name=name, stage=stage,
                     status=Status.ACTIVE, source="admin", party_group_id=party_group_id,
                     created_at=clock.now(), updated_at=clock.now())  # fmt: skip
        s.add(row)
        await s.flush()
        return row.id


async def make_world(emu: Emulator, bot: BotUnderTest, clock: FakeClock) -> World:
    db, now, today = bot.deps.db, clock.now(), clock.now().date()
    sender = emu.user("组织部", language_code="zh-hans")
    await touch_user(db, Person(id=sender.id, first_name="组织部"), now, started=True)
    committee = await create_org(db, SUPER, name="两新工委", level=Level.COMMITTEE,
                                 kind=Kind.TWO_NEW, parent_id=None, now=now,
                                 today=today)  # fmt: skip
    await grant_role(db, SUPER, committee.id, Role.COMMITTEE_ADMIN, user_id=sender.id,
                     now=now, today=today)  # fmt: skip
    branches: dict[str, int] = {}
    for name in ("第一支部", "第二支部", "第三支部"):
        org = await create_org(db, SUPER, name=name, level=Level.BRANCH, kind=Kind.STANDARD,
                               parent_id=committee.id, now=now, today=today)  # fmt: skip
        branches[name] = org.id
    people = {
        "wang": emu.user("芳", language_code="zh-hans"),
        "zhang": emu.user("伟", language_code="zh-hans"),
        "li": emu.user("娜", language_code="zh-hans"),
        "zhao": emu.user("敏", language_code="zh-hans"),
    }
    await _member(db, clock, branches["第一支部"], "王芳", people["wang"])
    # Zhang never started the bot: no private copy, a mention in the group when nudged.
    await _member(db, clock, branches["第一支部"], "张伟", people["zhang"], Stage.PROBATIONARY,
                  started=False)  # fmt: skip
    await _member(db, clock, branches["第二支部"], "李娜", people["li"])
    await _member(db, clock, branches["第三支部"], "赵敏", people["zhao"])
    for key in ("wang", "li", "zhao"):
        await people[key].start()  # Telegram lets the bot write to them now
    groups: dict[str, EmuChat] = {}
    for name, members in (("第一支部", ["wang", "zhang"]), ("第二支部", ["li"])):
        group = emu.group(f"{name}群", members=[sender, *(people[m] for m in members)],
                          admins=[sender], supergroup=True)  # fmt: skip
        await group.add_bot(by=sender, admin=True, rights=RIGHTS)
        await bind_chat(db, SUPER, group.id, branches[name], make_main=True, now=now,
                        today=today)  # fmt: skip
        groups[name] = group
    await bot.settle()
    return World(committee.id, branches, groups, sender, people)


def alert_text(user: EmuUser) -> str:
    """The text of the bot's answer to the user's last button press."""
    answer = user.last_alert()
    assert answer is not None, "the press was not answered"
    return answer.text or ""


async def say(bot: BotUnderTest, user: EmuUser, text: str) -> EmuMessage:
    """The user writes privately; returns the bot's last message to them after handling."""
    await user.send(text)
    await bot.settle()
    return bot.emu.last_sent(user)


async def tap(bot: BotUnderTest, user: EmuUser, message: EmuMessage, button: str) -> EmuMessage:
    """The user presses a button; returns the bot's last message to them after handling."""
    await user.press(message, button)
    await bot.settle()
    return bot.emu.last_sent(user)


async def to_audience(bot: BotUnderTest, user: EmuUser, title: str, body: str) -> EmuMessage:
    """Walk /notice through category, title and body (one organization: no org step)."""
    question = await say(bot, user, "/notice")
    assert "请选择通知类别" in question.content
    question = await tap(bot, user, question, "会议通知")
    assert "请输入通知标题" in question.content
    question = await say(bot, user, title)
    assert "请发送通知正文" in question.content
    question = await say(bot, user, body)
    assert "请确认接收范围" in question.content
    return question


async def audience_to_preview(bot: BotUnderTest, user: EmuUser, question: EmuMessage) -> None:
    """下一步 through the options, 立即发送."""
    options = await tap(bot, user, question, "下一步")
    assert "请设置发布选项" in options.content
    when = await tap(bot, user, options, "下一步")
    assert "什么时候发送" in when.content
    await tap(bot, user, when, "立即发送")


async def rows(db: Database, notice_id: int, purpose: str = "notice") -> list[OutboxItem]:
    async with db.read() as s:
        return list(
            (
                await s.scalars(
                    select(OutboxItem)
                    .where(OutboxItem.notice_id == notice_id, OutboxItem.purpose == purpose)
                    .order_by(OutboxItem.id)
                )
            ).all()
        )


async def last_notice(db: Database) -> Notice:
    async with db.read() as s:
        row = await s.scalar(select(Notice).order_by(Notice.id.desc()).limit(1))
    assert row is not None
    return row


async def all_sent(bot: BotUnderTest, notice_id: int) -> None:
    """Every copy delivered by the outbox worker."""
    bot.deps.outbox.wake()
    async with asyncio.timeout(10):
        while (await progress(bot.deps.db, notice_id)).pending:
            await asyncio.sleep(0.05)


# ---- the wizard ----


async def test_notice_needs_the_right_and_a_private_chat(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    stranger = emu.user("路人")
    assert "没有发布通知的权限" in (await say(bot, stranger, "/notice")).content
    wang = world.people["wang"]
    await wang.start()
    await bot.settle()
    assert "没有发布通知的权限" in (await say(bot, wang, "/notice")).content
    await world.sender.send("/notice", chat=world.groups["第一支部"])
    await bot.settle()
    assert "请私聊我" in emu.last_sent(world.groups["第一支部"]).content


async def test_the_wizard_publishes_to_every_bound_group_and_private_copies(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    sender, db = world.sender, bot.deps.db
    title = "关于召开<支部大会> & 主题党日的通知"
    question = await to_audience(bot, sender, title, "请各位党员按时参加。")
    assert "两新工委下属全部支部" in question.content
    assert "3 个支部（其中 2 个已绑定群），共 4 人" in question.content
    question = await tap(bot, sender, question, "⬜ 同时私聊发送给成员")
    assert "私聊发送给 3 位" in question.content  # Zhang never started the bot
    options = await tap(bot, sender, question, "下一步")
    assert "请成员点击“收到”确认，截止：不设期限" in options.content
    options = await tap(bot, sender, options, "⬜ 在群内置顶")
    options = await tap(bot, sender, options, "明天 18:00")
    assert "12月2日（周三）18:00" in options.content
    when = await tap(bot, sender, options, "下一步")
    summary = await tap(bot, sender, when, "立即发送")

    assert "3 个支部，2 个群，3 份私聊，共 4 人" in summary.content
    assert "第三支部" in summary.content  # no bound group: named in the warning
    assert "在群内置顶：是" in summary.content
    # The preview is exactly what members get: render_notice of the same notice.
    preview = emu.sent_to(sender)[-2]
    assert "&lt;支部大会&gt; &amp; 主题党日" in (preview.html or "")
    assert f"【会议通知】{title}" in preview.content
    assert "已确认 0 / 2" in preview.content
    assert preview.button_texts() == ["收到"]
    await sender.press(preview, "收到")
    await bot.settle()
    assert "这是预览" in alert_text(sender)

    done = await tap(bot, sender, summary, "✅ 确认发布")
    assert "通知已发布，正在发送" in done.content
    notice = await last_notice(db)
    assert (notice.title, notice.pin, notice.ack_label) == (title, True, "received")
    assert notice.ack_deadline == datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    assert (notice.report_chat_id, notice.report_message_id) == (sender.id, done.message_id)
    expected = render_notice(
        bot.deps.catalog, "zh_CN", await get_notice(db, notice.id), tz=TZ, now=clock.now(),
        counts=(0, 2),
    )  # fmt: skip
    assert preview.html == expected.parts[-1]
    copies = await rows(db, notice.id)
    group_ids = {world.groups["第一支部"].id, world.groups["第二支部"].id}
    assert {c.chat_id for c in copies if c.is_group} == group_ids
    private = {world.people[p].id for p in ("wang", "li", "zhao")}
    assert {c.chat_id for c in copies if not c.is_group} == private
    async with db.read() as s:
        assert await s.get(Draft, sender.id) is None

    # End to end: the outbox worker delivers each copy once, pinned, with its counter.
    await all_sent(bot, notice.id)
    group = world.groups["第一支部"]
    arrived = await emu.wait_for(
        lambda: [m for m in emu.sent_to(group) if "主题党日" in m.content], timeout=10
    )
    assert len(arrived) == 1
    assert arrived[0].pinned
    assert "已确认 0 / 2" in arrived[0].content
    assert arrived[0].button_texts() == ["收到"]
    assert any("主题党日" in m.content for m in emu.sent_to(world.people["zhao"]))


async def test_choosing_branches_and_stages_narrows_the_audience(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    sender, db = world.sender, bot.deps.db
    question = await to_audience(bot, sender, "支部书记培训", "请书记参加。")
    picker = await tap(bot, sender, question, "选择支部…")
    assert "已选 0 个，共 3 个支部" in picker.content
    picker = await tap(bot, sender, picker, "⬜ 第一支部")
    picker = await tap(bot, sender, picker, "⬜ 第二支部")
    picker = await tap(bot, sender, picker, "✅ 第二支部")  # pressed again: unselected
    assert "已选 1 个" in picker.content
    question = await tap(bot, sender, picker, "完成")
    assert "已选 1 个支部（第一支部）" in question.content
    stages = await tap(bot, sender, question, "按身份筛选…")
    stages = await tap(bot, sender, stages, "⬜ 预备党员")
    question = await tap(bot, sender, stages, "完成")
    assert "身份：预备党员" in question.content
    assert "1 个支部（其中 1 个已绑定群），共 1 人" in question.content
    await audience_to_preview(bot, sender, question)
    await tap(bot, sender, emu.last_sent(sender), "✅ 确认发布")
    notice = await last_notice(db)
    assert notice.audience == {"org_ids": [world.branches["第一支部"]],
                               "stages": ["probationary"], "party_group_id": None,
                               "private": False}  # fmt: skip
    assert [c.chat_id for c in await rows(db, notice.id)] == [world.groups["第一支部"].id]


async def test_a_branch_secretary_can_send_to_one_party_group(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    db, now, today = bot.deps.db, clock.now(), clock.now().date()
    committee = await create_org(db, SUPER, name="园区党委", level=Level.COMMITTEE,
                                 kind=Kind.COMPREHENSIVE, parent_id=None, now=now,
                                 today=today)  # fmt: skip
    branch = await create_org(db, SUPER, name="研发支部", level=Level.BRANCH, kind=Kind.STANDARD,
                              parent_id=committee.id, now=now, today=today)  # fmt: skip
    first = await add_party_group(db, SUPER, branch.id, "第一党小组", now, today)
    await add_party_group(db, SUPER, branch.id, "第二党小组", now, today)
    secretary = emu.user("书记")
    member_id = await _member(db, clock, branch.id, "李明", secretary, party_group_id=first.id)
    await _member(db, clock, branch.id, "陈静", emu.user("静"), party_group_id=first.id)
    await _member(db, clock, branch.id, "孙强", emu.user("强"))
    await grant_role(db, SUPER, branch.id, Role.SECRETARY, member_id=member_id, now=now,
                     today=today)  # fmt: skip
    await secretary.start()
    await bot.settle()
    question = await to_audience(bot, secretary, "党小组学习", "学习材料见附件。")
    assert "本支部（研发支部）" in question.content
    assert "选择支部…" not in question.button_texts()
    groups = await tap(bot, secretary, question, "选择党小组…")
    question = await tap(bot, secretary, groups, "第一党小组")
    assert "党小组：第一党小组" in question.content
    assert "共 2 人" in question.content
    await audience_to_preview(bot, secretary, question)
    summary = emu.last_sent(secretary)
    # No bound group and no private copies: nothing could be delivered, so no 确认发布.
    assert "无法送达" in summary.content
    assert "✅ 确认发布" not in summary.button_texts()


async def test_several_organizations_are_offered_and_cancel_works(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    db, now, today, sender = bot.deps.db, clock.now(), clock.now().date(), world.sender
    orgs = {}
    for name in ("园区党委", "别的党委"):
        orgs[name] = await create_org(db, SUPER, name=name, level=Level.COMMITTEE,
                                      kind=Kind.COMPREHENSIVE, parent_id=None, now=now,
                                      today=today)  # fmt: skip
    await grant_role(db, SUPER, orgs["园区党委"].id, Role.COMMITTEE_ADMIN, user_id=sender.id,
                     now=now, today=today)  # fmt: skip
    question = await say(bot, sender, "/notice")
    assert "以哪个组织的名义" in question.content
    assert set(question.button_texts()) == {"两新工委", "园区党委", "取消"}
    await sender.press_raw(question, f"nt:org:pick:{orgs['别的党委'].id}")  # not offered
    await bot.settle()
    assert "没有为这个组织发布" in alert_text(sender)
    question = await tap(bot, sender, question, "园区党委")
    assert "为园区党委发布通知" in question.content
    question = await tap(bot, sender, question, "上一步")
    assert "✅ 园区党委" in question.button_texts()
    question = await tap(bot, sender, question, "✅ 园区党委")
    question = await tap(bot, sender, question, "会议通知")
    cancelled = await tap(bot, sender, question, "取消")
    assert "已取消发布" in cancelled.content
    assert cancelled.buttons == []
    async with db.read() as s:
        assert await s.get(Draft, sender.id) is None
    assert emu.unanswered_callbacks() == []


async def test_files_are_taken_only_as_a_notice_body(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    sender = world.sender
    question = await say(bot, sender, "/notice")
    await tap(bot, sender, question, "会议通知")
    await sender.send_document("名单.xlsx", b"PK not really")
    await bot.settle()
    reply = emu.last_sent(sender)
    assert "这一步不需要图片或文件" in reply.content
    assert "请输入通知标题" in reply.content
    await say(bot, sender, "支委会")
    await sender.send_document("会议议程.pdf", b"%PDF-1.4", caption="议程见附件")
    await bot.settle()
    assert "请确认接收范围" in emu.last_sent(sender).content
    await say(bot, sender, "/cancel")
    # Without an open notice, files go to the other features as before.
    await sender.send_document("名单.xlsx", b"PK not really")
    await bot.settle()
    assert "请确认接收范围" not in emu.last_sent(sender).content
    assert "这一步不需要" not in emu.last_sent(sender).content


async def test_long_lists_of_branches_are_paged(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    db, now, today, sender = bot.deps.db, clock.now(), clock.now().date(), world.sender
    for i in range(9):
        await create_org(db, SUPER, name=f"联合支部{i + 1:02d}", level=Level.BRANCH,
                         kind=Kind.JOINT, parent_id=world.committee, now=now,
                         today=today)  # fmt: skip
    question = await to_audience(bot, sender, "年度评议", "见附件。")
    picker = await tap(bot, sender, question, "选择支部…")
    assert "共 12 个支部" in picker.content
    assert len([t for t in picker.button_texts() if t.startswith("⬜")]) == 8
    picker = await tap(bot, sender, picker, "下一页")
    assert len([t for t in picker.button_texts() if t.startswith("⬜")]) == 4
    picker = await tap(bot, sender, picker, "⬜ 联合支部07")
    assert "✅ 联合支部07" in picker.button_texts()  # the page stays where it was
    picker = await tap(bot, sender, picker, "上一页")
    assert "⬜ 第二支部" in picker.button_texts()
    question = await tap(bot, sender, picker, "完成")
    assert "已选 1 个支部（联合支部07）" in question.content
    question = await tap(bot, sender, question, "⬜ 全部支部")
    assert "两新工委下属全部支部" in question.content

    notice_id = await _publish(world, bot)
    screen = await open_receipts(bot, sender)
    assert "第 1–10 个，共 12 个" in screen.content
    second = await tap(bot, sender, screen, "下一页")
    assert "第 11–12 个，共 12 个" in second.content
    assert f"rcp:open:{notice_id}:10" in [b.callback_data for row in second.buttons for b in row]


async def test_a_scheduled_notice_waits_and_typed_times_are_checked(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    sender, db = world.sender, bot.deps.db
    question = await to_audience(bot, sender, "十二月主题党日", "安排如下。")
    options = await tap(bot, sender, question, "下一步")
    ask = await tap(bot, sender, options, "其他时间…")
    assert "请输入确认截止时间" in ask.content
    options = await say(bot, sender, "12月6日 12:00")
    assert "截止：12月6日（周日）12:00" in options.content
    when = await tap(bot, sender, options, "下一步")
    ask = await tap(bot, sender, when, "定时发送…")
    assert "请输入发送时间" in ask.content
    assert "没有看懂这个时间" in (await say(bot, sender, "下周某天")).content
    assert "已经过去" in (await say(bot, sender, "2026-11-30 09:00")).content
    assert "应早于确认截止时间" in (await say(bot, sender, "12月7日 8:00")).content
    summary = await say(bot, sender, "12月5日 19:30")
    assert "发送时间：12月5日（周六）19:30" in summary.content
    done = await tap(bot, sender, summary, "✅ 确认发布")
    assert "已安排在 12月5日（周六）19:30 发送" in done.content
    notice = await last_notice(db)
    assert notice.status == "scheduled"
    due = datetime(2026, 12, 5, 11, 30, tzinfo=UTC)
    copies = await rows(db, notice.id)
    assert {c.not_before for c in copies} == {due}
    assert {c.status for c in copies} == {"pending"}
    assert notice.ack_deadline == datetime(2026, 12, 6, 4, 0, tzinfo=UTC)


async def test_titles_are_escaped_or_refused_and_formatting_is_kept(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    sender = world.sender
    question = await say(bot, sender, "/notice")
    question = await tap(bot, sender, question, "专题学习")
    refused = await say(bot, sender, "长" * 200)
    assert "不超过 100 字" in refused.content
    assert "请输入通知标题" in refused.content
    question = await say(bot, sender, "学习🇨🇳二十大精神 <b>不是标签</b>")
    assert "请发送通知正文" in question.content
    # The sender formats the body: bold and a link, as Telegram clients send them.
    text = "请认真学习 原文链接"
    message = emu.new_message(
        emu.private_chat(sender), sender, text=text, html=text,
        entities=[{"type": "bold", "offset": 0, "length": 5},
                  {"type": "text_link", "offset": 6, "length": 4, "url": "https://www.12371.cn/"}],
    )  # fmt: skip
    emu.deliver(message)
    await bot.settle()
    question = emu.last_sent(sender)
    assert "请确认接收范围" in question.content
    await audience_to_preview(bot, sender, question)
    preview = emu.sent_to(sender)[-2]
    assert "<b>请认真学习</b>" in (preview.html or "")
    assert '<a href="https://www.12371.cn/">原文链接</a>' in (preview.html or "")
    assert "学习🇨🇳二十大精神 &lt;b&gt;不是标签&lt;/b&gt;" in (preview.html or "")
    assert preview.button_texts() == ["已学习"]  # the study category's button


async def test_a_photo_body_is_previewed_as_members_get_it(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    sender = world.sender
    question = await say(bot, sender, "/notice")
    question = await tap(bot, sender, question, "通知公告")
    await say(bot, sender, "办公地点调整")
    await sender.send_photo(b"\xff\xd8 jpeg", caption="新地址见图")
    await bot.settle()
    question = emu.last_sent(sender)
    assert "请确认接收范围" in question.content
    await audience_to_preview(bot, sender, question)
    photo = next(m for m in reversed(emu.sent_to(sender)) if m.photo is not None and m.from_bot)
    assert "【通知公告】办公地点调整" in (photo.caption or "")
    body = emu.sent_to(sender)[-2]
    assert "新地址见图" in body.content
    assert body.button_texts() == ["收到"]


async def test_the_wizard_survives_a_restart_and_back_keeps_answers(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    sender, db = world.sender, bot.deps.db
    question = await say(bot, sender, "/notice")
    category = question
    question = await tap(bot, sender, question, "工作交办")
    question = await say(bot, sender, "报送年度总结")

    await stop_bot(bot)
    cfg = bot_config(emu, db.url)
    again = await start_bot(cfg, build_deps(cfg, clock=clock, db=db), emu)
    try:
        # An old button of an earlier step is refused; the open step carries on.
        await sender.press_raw(category, "nt:cat:pick:0")
        await again.settle()
        alert = sender.last_alert()
        assert alert is not None
        assert alert.show_alert
        question = await say(again, sender, "请于周五前报送。")
        assert "请确认接收范围" in question.content
        # 上一步 goes back to the body, which is kept.
        body = await tap(again, sender, question, "上一步")
        assert "已有正文（文字）" in body.content
        question = await tap(again, sender, body, "保持不变")
        await audience_to_preview(again, sender, question)
        summary = emu.last_sent(sender)
        # 修改: back to the first step, every answer kept.
        first = await tap(again, sender, summary, "修改")
        assert "✅ 工作交办" in first.button_texts()
        title = await tap(again, sender, first, "✅ 工作交办")
        assert "当前标题：报送年度总结" in title.content
        await tap(again, sender, title, "保持不变")
        question = await tap(again, sender, emu.last_sent(sender), "保持不变")
        await audience_to_preview(again, sender, question)
        done = await tap(again, sender, emu.last_sent(sender), "✅ 确认发布")
        assert "正在发送" in done.content
        assert (await last_notice(db)).title == "报送年度总结"
    finally:
        await stop_bot(again)
    assert again.errors == []


async def test_an_unfinished_notice_can_be_resumed_or_cancelled(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    sender = world.sender
    question = await say(bot, sender, "/notice")
    await tap(bot, sender, question, "会议通知")
    await say(bot, sender, "支委会")
    offer = await say(bot, sender, "/notice")
    assert "尚未发布的通知（支委会）" in offer.content
    resumed = await tap(bot, sender, offer, "继续填写")
    assert "请发送通知正文" in resumed.content
    cancelled = await say(bot, sender, "/cancel")
    assert "已取消" in cancelled.content
    async with bot.deps.db.read() as s:
        assert await s.get(Draft, sender.id) is None


# ---- acknowledgements ----


async def _publish(world: World, bot: BotUnderTest, **kw: object) -> int:
    clock = bot.deps.clock
    fields: dict[str, object] = {"title": "关于召开党员大会的通知", **kw}
    spec = NoticeSpec(
        org_id=world.committee, category="meeting",
        body_html="请准时参加。", audience=Audience(org_ids=(world.committee,)),
        ack_label="received", **fields,  # type: ignore[arg-type]
    )  # fmt: skip
    published = await publish_notice(
        bot.deps.db, Actor(world.sender.id), spec, now=clock.now(), today=clock.now().date()
    )
    bot.deps.outbox.wake()
    return published.notice.id


async def test_acknowledging_counts_once_and_outsiders_are_refused(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    notice_id = await _publish(world, bot)
    await all_sent(bot, notice_id)
    wang, group = world.people["wang"], world.groups["第一支部"]
    copy = await emu.wait_for(
        lambda: next((m for m in emu.sent_to(group) if "党员大会" in m.content), None)
    )
    await wang.press_raw(copy, Ack(notice_id).pack())
    await bot.settle()
    answer = wang.last_alert()
    assert answer is not None
    assert "已确认，谢谢" in (answer.text or "")
    assert "1 / 2" in (answer.text or "")
    await wang.press_raw(copy, Ack(notice_id).pack())
    await bot.settle()
    assert "已经确认过了" in alert_text(wang)

    # A forged press from someone outside the audience changes nothing.
    outsider = emu.user("外人")
    await group.join(outsider)
    await bot.settle()
    await outsider.press_raw(copy, Ack(notice_id).pack())
    await bot.settle()
    refusal = outsider.last_alert()
    assert refusal is not None
    assert refusal.show_alert
    assert "不是发给您的" in (refusal.text or "")
    async with bot.deps.db.read() as s:
        acks = (await s.scalars(select(Acknowledgement.user_id))).all()
    assert acks == [wang.id]
    assert emu.unanswered_callbacks() == []


async def test_a_recalled_notice_answers_that_it_is_withdrawn(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    notice_id = await _publish(world, bot)
    async with bot.deps.db.transaction() as s:
        await s.execute(update(Notice).where(Notice.id == notice_id).values(status="recalled"))
    li = world.people["li"]
    await li.start()
    await bot.settle()
    await li.press_raw(emu.last_sent(li), Ack(notice_id).pack())
    await bot.settle()
    answer = li.last_alert()
    assert answer is not None
    assert answer.show_alert
    assert "已撤回" in (answer.text or "")


# ---- receipts ----


async def open_receipts(bot: BotUnderTest, sender: EmuUser) -> EmuMessage:
    """/receipts opens on the latest notice's receipts."""
    screen = await say(bot, sender, "/receipts")
    assert "其他通知" in screen.button_texts()
    return screen


async def test_receipts_show_counts_names_and_a_spreadsheet(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    db = bot.deps.db
    notice_id = await _publish(world, bot)
    await all_sent(bot, notice_id)
    clock.advance(minutes=5)
    async with db.transaction() as s:
        s.add(Acknowledgement(notice_id=notice_id, user_id=world.people["wang"].id,
                              member_id=None, org_id=world.branches["第一支部"],
                              acked_at=clock.now()))  # fmt: skip
    screen = await open_receipts(bot, world.sender)
    assert "已确认 1 / 4" in screen.content
    assert "第一支部 1/2" in screen.content
    assert "第三支部 0/1" in screen.content
    assert "已发出 2 / 2 份" in screen.content

    names = await tap(bot, world.sender, screen, "📋 第一支部")
    assert "王芳　12月1日（周二）09:35" in names.content
    assert "张伟（未使用机器人" in names.content
    assert names.content.index("已确认") < names.content.index("未确认")

    await world.sender.press(screen, "📊 导出表格")
    await bot.settle()
    document = emu.last_sent(world.sender)
    assert document.document is not None
    assert document.document.content is not None
    sheet = openpyxl.load_workbook(io.BytesIO(document.document.content)).active
    table = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert table[0] == ["支部", "姓名", "状态", "确认时间"]
    assert ["第一支部", "王芳", "已确认", "2026-12-01 09:35"] in table
    assert ["第一支部", "张伟", "未确认", None] in table
    assert len(table) == 5


async def test_receipts_name_copies_that_could_not_be_delivered(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    emu.fail_next("sendMessage", kind="403", chat_id=world.groups["第二支部"].id,
                  description="Forbidden: bot was kicked from the supergroup chat")  # fmt: skip
    notice_id = await _publish(world, bot)
    await all_sent(bot, notice_id)
    screen = await open_receipts(bot, world.sender)
    assert "已发出 1 / 2 份，等待发送 0 份，未能送达 1 份" in screen.content
    assert "第二支部的群：机器人已不在群中" in screen.content


async def test_receipts_refuse_someone_else(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    notice_id = await _publish(world, bot)
    li = world.people["li"]
    assert "还没有发布过通知" in (await say(bot, li, "/receipts")).content
    for action in ("open", "xlsx", "nudge", "recall3", "edit"):
        await li.press_raw(emu.last_sent(li), f"rcp:{action}:{notice_id}:0")
        await bot.settle()
        alert = li.last_alert()
        assert alert is not None
        assert alert.show_alert, action
        assert "没有为这个组织发布或管理通知的权限" in (alert.text or ""), action
    assert (await get_notice(bot.deps.db, notice_id)).status != "recalled"
    assert await rows(bot.deps.db, notice_id, "nudge") == []


async def test_nudge_queues_private_reminders_and_group_mentions(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    notice_id = await _publish(world, bot)
    await all_sent(bot, notice_id)
    screen = await open_receipts(bot, world.sender)
    await world.sender.press(screen, "⏰ 催一催")
    await bot.settle()
    alert = world.sender.last_alert()
    assert alert is not None
    # Wang, Li and Zhao privately; Zhang (never started) by a mention in the first group.
    assert "已提醒 3 人（私聊），1 个群中@提醒" in (alert.text or "")
    nudges = await rows(bot.deps.db, notice_id, "nudge")
    assert len(nudges) == 4
    assert {n.chat_id for n in nudges if n.is_group} == {world.groups["第一支部"].id}


async def test_edit_updates_every_sent_copy(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    sender, db = world.sender, bot.deps.db
    notice_id = await _publish(world, bot)
    await all_sent(bot, notice_id)
    screen = await open_receipts(bot, sender)
    which = await tap(bot, sender, screen, "✏️ 编辑")
    ask = await tap(bot, sender, which, "修改标题")
    assert "请输入新的标题" in ask.content
    assert "不超过 100 字" in (await say(bot, sender, "改" * 150)).content
    done = await say(bot, sender, "关于召开党员大会的通知（更正）")
    assert "已修改，将更新 2 份" in done.content
    notice = await get_notice(db, notice_id)
    assert (notice.title, notice.version) == ("关于召开党员大会的通知（更正）", 2)
    edits = await rows(db, notice_id, "notice_edit")
    assert {e.chat_id for e in edits} == {g.id for g in world.groups.values()}
    group = world.groups["第二支部"]
    await emu.wait_for(
        lambda: any("（更正）" in m.content and "已修改" in m.content for m in emu.sent_to(group)),
        timeout=10,
    )
    which = await tap(bot, sender, screen, "✏️ 编辑")
    await tap(bot, sender, which, "修改正文")
    done = await say(bot, sender, "地点改为三楼会议室。")
    assert "已修改，将更新 2 份" in done.content
    assert (await get_notice(db, notice_id)).body_html == "地点改为三楼会议室。"
    await emu.wait_for(
        lambda: any("三楼会议室" in m.content for m in emu.sent_to(group)), timeout=10
    )


async def test_recall_asks_twice_cancels_pending_and_deletes_sent(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    sender, db = world.sender, bot.deps.db
    sent_id = await _publish(world, bot)
    await all_sent(bot, sent_id)
    screen = await open_receipts(bot, sender)
    first = await tap(bot, sender, screen, "↩️ 撤回")
    assert "确定要撤回" in first.content
    second = await tap(bot, sender, first, "确定撤回")
    assert "请再次确认" in second.content
    done = await tap(bot, sender, second, "确认撤回，删除通知")
    assert "已撤回，将删除 2 份" in done.content
    assert (await get_notice(db, sent_id)).status == "recalled"
    deletes = await rows(db, sent_id, "notice_delete")
    assert {d.chat_id for d in deletes} == {g.id for g in world.groups.values()}
    await emu.wait_for(
        lambda: all(
            all(m.deleted for m in emu.sent_to(g, include_deleted=True) if "党员大会" in m.content)
            for g in world.groups.values()
        ),
        timeout=10,
    )

    # A scheduled notice's copies were never sent: recalling cancels them.
    later = await _publish(world, bot, send_at=clock.now() + timedelta(days=1))
    screen = await say(bot, sender, "/receipts")  # the latest notice: the scheduled one
    assert "已安排" in screen.content
    first = await tap(bot, sender, screen, "↩️ 撤回")
    second = await tap(bot, sender, first, "确定撤回")
    done = await tap(bot, sender, second, "确认撤回，删除通知")
    assert "已撤回，将删除 0 份" in done.content
    assert {c.status for c in await rows(db, later)} == {"cancelled"}
    assert await rows(db, later, "notice_delete") == []
    # Old buttons of a recalled notice still answer, saying so.
    await sender.press(screen, "✏️ 编辑")
    await bot.settle()
    assert "已撤回" in alert_text(sender)


# ---- typed dates ----


NOW = datetime(2026, 12, 1, 9, 30, tzinfo=TZ)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-05 18:00", datetime(2026, 12, 5, 18, 0, tzinfo=TZ)),
        ("2026/12/5 8:05", datetime(2026, 12, 5, 8, 5, tzinfo=TZ)),
        ("2027年1月3日 9点半", datetime(2027, 1, 3, 9, 30, tzinfo=TZ)),
        ("12月5日 18:00", datetime(2026, 12, 5, 18, 0, tzinfo=TZ)),
        ("１２月５日　１８：００", datetime(2026, 12, 5, 18, 0, tzinfo=TZ)),
        ("12-05 18点", datetime(2026, 12, 5, 18, 0, tzinfo=TZ)),
        ("1月5日 18:00", datetime(2027, 1, 5, 18, 0, tzinfo=TZ)),  # January: next year
        ("明天 18:00", datetime(2026, 12, 2, 18, 0, tzinfo=TZ)),
        ("今天 8:00", datetime(2026, 12, 1, 8, 0, tzinfo=TZ)),  # past: refused by the caller
        ("12月5日", None),
        ("2月30日 18:00", None),
        ("12月5日 25:00", None),
        ("下周五", None),
    ],
)
def test_typed_dates(text: str, expected: datetime | None) -> None:
    parsed = parse_when(text, NOW)
    assert (None if isinstance(parsed, Invalid) else parsed) == expected


async def test_group_counters_follow_presses_but_wait_for_the_broadcast_to_finish(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    from scheduler.notices import refresh_counters

    world = await make_world(emu, bot, clock)
    first, second = world.groups["第一支部"], world.groups["第二支部"]
    held = emu.hold("sendMessage", chat_id=second.id)  # the broadcast is still going on
    notice_id = await _publish(world, bot)
    await held.arrived()
    copy = await emu.wait_for(
        lambda: next((m for m in emu.sent_to(first) if "党员大会" in m.content), None)
    )
    await world.people["wang"].press_raw(copy, Ack(notice_id).pack())
    await bot.settle()
    clock.advance(seconds=10)
    # While copies are still going out, they come first: no counter edit yet.
    assert await refresh_counters(bot.deps) == 0
    held.release()
    await all_sent(bot, notice_id)
    # Then one edit for the group that has news; none for the other, none twice.
    assert await refresh_counters(bot.deps) == 1
    assert await refresh_counters(bot.deps) == 0
    bot.deps.outbox.wake()
    await emu.wait_for(lambda: "已确认 1 / 2" in emu.messages[(first.id, copy.message_id)].content)
    clock.advance(seconds=10)
    await world.people["li"].press_raw(
        next(m for m in emu.sent_to(second) if "党员大会" in m.content), Ack(notice_id).pack()
    )
    await bot.settle()
    assert await refresh_counters(bot.deps) == 1  # only the second group's counter


async def test_simultaneous_presses_are_all_recorded_once(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    from services.notices import acknowledge

    world = await make_world(emu, bot, clock)
    notice_id = await _publish(world, bot)
    await all_sent(bot, notice_id)
    wang, zhang, li = (world.people[k].id for k in ("wang", "zhang", "li"))
    # Written together (one transaction on SQLite): a double press is "already" once.
    results = await asyncio.gather(
        *(acknowledge(bot.deps.db, uid, notice_id, clock.now()) for uid in (wang, zhang, wang, li))
    )
    assert sorted(r.status for r in results) == ["already", "ok", "ok", "ok"]
    async with bot.deps.db.read() as s:
        acks = sorted((await s.scalars(select(Acknowledgement.user_id))).all())
        dirty = await s.scalar(select(Notice.counts_dirty).where(Notice.id == notice_id))
    assert acks == sorted([wang, zhang, li])
    assert dirty is True
    again = await acknowledge(bot.deps.db, li, notice_id, clock.now())
    assert again.status == "already"


# ---- one intent, one transaction; typed drafts; the automatic nudge as a job ----


async def test_the_old_preview_button_cannot_publish_a_second_notice(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    sender, db = world.sender, bot.deps.db
    question = await to_audience(bot, sender, "支委会", "请参加。")
    await audience_to_preview(bot, sender, question)
    summary = emu.last_sent(sender)
    done = await tap(bot, sender, summary, "✅ 确认发布")
    assert "通知已发布" in done.content
    # The preview's button again (its buttons were taken off; an old client still shows them).
    await sender.press_raw(summary, NoticeStep("pre", "ok").pack())
    await bot.settle()
    assert "这个按钮已失效" in alert_text(sender)

    # The crash the transaction guards against: published (committed), never replied. The
    # draft went with the commit, so the button left live on the preview is stale.
    question = await to_audience(bot, sender, "党员大会", "请参加。")
    await audience_to_preview(bot, sender, question)
    summary = emu.last_sent(sender)
    await publish_draft(db, Actor(sender.id), now=clock.now(), today=clock.now().date())
    await tap(bot, sender, summary, "✅ 确认发布")
    assert "这个按钮已失效" in alert_text(sender)
    async with db.read() as s:
        titles = list(await s.scalars(select(Notice.title).order_by(Notice.id)))
        assert await s.get(Draft, sender.id) is None
    assert titles == ["支委会", "党员大会"]


async def test_a_draft_of_the_previous_release_is_dropped_politely(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    sender, db = world.sender, bot.deps.db
    question = await say(bot, sender, "/notice")
    await tap(bot, sender, question, "会议通知")  # now on the title step

    async def as_saved_by_the_previous_release() -> None:
        # The previous release kept the answers as a plain dict, without a version.
        async with db.transaction() as s:
            await s.execute(
                update(Draft)
                .where(Draft.user_id == sender.id)
                .values(step="title", data={"single_org": True, "org_id": world.committee,
                                            "category": "meeting", "ack": True})
            )  # fmt: skip

    await as_saved_by_the_previous_release()
    first = await say(bot, sender, "支委会")
    assert "请选择通知类别" in first.content
    assert "旧版本" in emu.sent_to(sender)[-2].content
    async with db.read() as s:
        draft = await s.get(Draft, sender.id)
        assert draft is not None
        assert (draft.step, draft.data["_v"]) == ("cat", NoticeDraft.VERSION)
    # A press of the wizard and /notice meet the old draft the same way.
    await as_saved_by_the_previous_release()
    await sender.press_raw(first, "nt:title:keep")
    await bot.settle()
    assert "旧版本" in emu.sent_to(sender)[-2].content
    assert "请选择通知类别" in emu.last_sent(sender).content
    await as_saved_by_the_previous_release()
    again = await say(bot, sender, "/notice")
    assert "请选择通知类别" in again.content
    assert "旧版本" in emu.sent_to(sender)[-2].content
    assert bot.errors == []


async def _sent(bot: BotUnderTest, notice_id: int) -> None:
    """Delivered, and marked so by the worker."""
    await all_sent(bot, notice_id)
    async with asyncio.timeout(10):
        while (await get_notice(bot.deps.db, notice_id)).status != "sent":
            await asyncio.sleep(0.05)


async def test_the_automatic_nudge_runs_once_six_hours_before_the_deadline(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    db = bot.deps.db
    deadline = clock.now() + timedelta(days=1)
    notice_id = await _publish(world, bot, ack_deadline=deadline)
    by_hand = await _publish(world, bot, ack_deadline=deadline)
    no_deadline = await _publish(world, bot)
    for notice in (notice_id, by_hand, no_deadline):
        await _sent(bot, notice)
    await queue_nudges(db, Actor(world.sender.id), by_hand, now=clock.now(),
                       today=clock.now().date())  # fmt: skip
    runner = JobRunner(bot.deps)
    due = deadline - NUDGE_LEAD
    assert await runner.run_at(NUDGE_JOB, due - timedelta(minutes=1)) == 0
    assert await runner.run_at(NUDGE_JOB, due) == 1
    # Wang, Li and Zhao privately; Zhang (never started) by a mention in the first group.
    assert len(await rows(db, notice_id, "nudge")) == 4
    assert await rows(db, no_deadline, "nudge") == []
    async with db.read() as s:
        run = await s.scalar(select(JobRun).where(JobRun.job == NUDGE_JOB))
    assert run is not None
    assert (run.key, run.due_at, run.detail) == (
        str(notice_id), due, {"notice": notice_id, "private": 3, "groups": 1}
    )  # fmt: skip
    # Once: a later look, and a restarted runner, find it done (its job_runs row), even if
    # the notice's own mark were lost.
    async with db.transaction() as s:
        await s.execute(update(Notice).where(Notice.id == notice_id).values(nudged_at=None))
    assert await runner.run_at(NUDGE_JOB, due + timedelta(minutes=30)) == 0
    assert await JobRunner(bot.deps).run_at(NUDGE_JOB, due + timedelta(hours=1)) == 0
    assert len(await rows(db, notice_id, "nudge")) == 4


async def test_receipts_open_on_the_latest_notice_with_who_has_not_acknowledged(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    """One command: the latest notice, its non-responders per branch, the others a tap away."""
    world = await make_world(emu, bot, clock)
    db, sender = bot.deps.db, world.sender
    older = await _publish(world, bot, title="旧的通知")
    await all_sent(bot, older)
    clock.advance(minutes=5)
    latest = await _publish(world, bot)
    await all_sent(bot, latest)
    async with db.transaction() as s:
        s.add(Acknowledgement(notice_id=latest, user_id=world.people["wang"].id,
                              member_id=None, org_id=world.branches["第一支部"],
                              acked_at=clock.now()))  # fmt: skip
    screen = await say(bot, sender, "/receipts")
    assert "关于召开党员大会的通知" in screen.content
    assert "还有 3 人未确认" in screen.content
    assert "第一支部：张伟" in screen.content
    assert "第二支部：李娜" in screen.content
    assert "第三支部：赵敏" in screen.content
    assert "王芳" not in screen.content.split("未确认")[-1]
    listing = await tap(bot, sender, screen, "其他通知")
    assert "您最近发布的通知" in listing.content
    old = next(t for t in listing.button_texts() if "旧的通知" in t)
    other = await tap(bot, sender, listing, old)
    assert "旧的通知" in other.content
    assert "还有 4 人未确认" in other.content
    # Someone else pressing the same buttons is refused, re-checked against the database.
    li = world.people["li"]
    await li.press_raw(emu.last_sent(li), f"rcp:open:{latest}:0")
    await bot.settle()
    assert "没有为这个组织发布或管理通知的权限" in alert_text(li)


async def test_a_long_list_of_non_responders_is_cut_with_a_count(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    for i in range(70):
        await _member(bot.deps.db, clock, world.branches["第三支部"], f"党员{i:02d}", None)
    notice_id = await _publish(world, bot)
    await all_sent(bot, notice_id)
    screen = await say(bot, world.sender, "/receipts")
    assert "还有 74 人未确认" in screen.content
    assert "另有 14 人未列出" in screen.content
    assert "📊 导出表格" in screen.button_texts()


async def test_the_delivery_report_opens_the_receipts(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    sender = world.sender
    question = await to_audience(bot, sender, "主题党日", "请准时参加。")
    await audience_to_preview(bot, sender, question)
    done = await tap(bot, sender, emu.last_sent(sender), "✅ 确认发布")
    notice = await last_notice(bot.deps.db)
    await all_sent(bot, notice.id)
    await emu.wait_for(lambda: "查看谁未确认" in done.button_texts() or None, timeout=10)
    screen = await tap(bot, sender, done, "查看谁未确认")
    assert "主题党日" in screen.content
    assert "未确认" in screen.content
