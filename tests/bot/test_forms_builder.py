"""/form, the forms builder, end to end through the emulator."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import timedelta

import openpyxl
from sqlalchemy import select

from bot.app import build_deps
from domain.forms import FormKind, LatePolicy, QType, Question, Repeat, ShowIf
from domain.forms_builder import choose_org, start
from domain.orgs import Kind, Level, Role
from services.authz import Actor
from services.drafts import keep_draft
from services.forms import FormSpec, publish_form
from services.notices import Audience
from services.orgs import create_org
from services.orgs_roles import grant_role
from storage.db import Database
from storage.models import Draft, Form, Member
from tests.bot.conftest import BotUnderTest, bot_config, start_bot, stop_bot
from tests.bot.test_notices import SUPER, World, alert_text, make_world, say, tap
from tests.conftest import FakeClock
from tests.emulator import Emulator, EmuUser
from tests.emulator.model import EmuMessage


async def forms(db: Database) -> list[Form]:
    async with db.read() as s:
        return list((await s.scalars(select(Form).order_by(Form.id))).all())


async def send_file(bot: BotUnderTest, user: EmuUser, name: str, content: bytes) -> EmuMessage:
    await user.send_document(name, content)
    await bot.settle()
    return bot.emu.last_sent(user)


async def publish_from_kind(bot: BotUnderTest, user: EmuUser, kind: EmuMessage) -> EmuMessage:
    """From the kind step with a title and questions in place: through to the published reply."""
    title = await tap(bot, user, kind, kind.button_texts()[0])
    intro = await tap(bot, user, title, "保持不变")
    keep = "保持不变" if "保持不变" in intro.button_texts() else "跳过"
    questions = await tap(bot, user, intro, keep)
    audience = await tap(bot, user, questions, "问题都好了，下一步")
    assert "请确认发给谁填写" in audience.content
    deadline = await tap(bot, user, audience, "下一步")
    options = await tap(bot, user, deadline, "7天后 18:00")
    summary = await tap(bot, user, options, "下一步")
    assert "发送前请确认" in summary.content
    return await tap(bot, user, summary, "✅ 确认发布")


async def test_a_template_is_published_to_the_branches(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    sender = world.sender
    start = await say(bot, sender, "/form")
    assert "为“两新工委”制作表单" in start.content
    templates = await tap(bot, sender, start, "📋 从模板开始")
    kind = await tap(bot, sender, templates, "月度党建工作报表")
    assert kind.button_texts()[:2] == ["党员填写", "✅ 支部填写"]
    title = await tap(bot, sender, kind, "✅ 支部填写")
    assert "月度党建工作报表" in title.content
    intro = await tap(bot, sender, title, "保持不变")
    questions = await tap(bot, sender, intro, "保持不变")
    assert "共 8 题" in questions.content
    assert "只在第5题回答“是”时才问" in questions.content
    audience = await tap(bot, sender, questions, "问题都好了，下一步")
    assert "每个支部填一份，共 3 份" in audience.content
    assert "同时私聊发送给成员" not in audience.content  # a branch form: no private copies
    deadline = await tap(bot, sender, audience, "下一步")
    options = await tap(bot, sender, deadline, "3天后 18:00")
    assert "每月重复发送，每期 5 日前填写" in options.content
    summary = await tap(bot, sender, options, "下一步")
    preview = emu.sent_to(sender)[-2]
    assert "<b>1. " in (preview.html or "")
    assert "第三支部" in summary.content  # no bound group: named in the warning
    done = await tap(bot, sender, summary, "✅ 确认发布")
    assert "已发布" in done.content
    assert "发到 3 个支部：2 个支部群收到表单卡片" in done.content
    [form] = await forms(bot.deps.db)
    assert (form.template, form.kind, form.repeat, form.due_day) == ("monthly_report", "branch",
                                                                     "monthly", 5)  # fmt: skip
    assert len(form.questions) == 8
    # The old 确认发布 again changes nothing.
    await sender.press_raw(summary, "fb:pre:ok:0")
    await bot.settle()
    assert "已失效" in alert_text(sender)
    assert len(await forms(bot.deps.db)) == 1


async def test_a_blank_form_with_several_kinds_of_question(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    sender = world.sender
    start = await say(bot, sender, "/form")
    kind = await tap(bot, sender, start, "✏️ 从空白开始")
    title = await tap(bot, sender, kind, "✅ 党员填写")
    assert "请输入表单标题" in title.content
    intro = await say(bot, sender, "十二月志愿活动报名")
    questions = await tap(bot, sender, intro, "跳过")
    assert "还没有问题" in questions.content

    types = await tap(bot, sender, questions, "➕ 添加问题")
    assert len(types.button_texts()) == 12 + 2  # every type, then 上一步 and 取消
    wording = await tap(bot, sender, types, "是/否")
    assert "第 1 题（是/否）" in wording.content
    options = await say(bot, sender, "是否参加？")
    questions = await tap(bot, sender, options, "✅ 保存这道题")

    wording = await tap(bot, sender, await tap(bot, sender, questions, "➕ 添加问题"), "单选")
    assert "第 2 题（单选）" in wording.content
    choices = await say(bot, sender, "服务时间段")
    assert "“服务时间段”的选项" in choices.content
    refused = await say(bot, sender, "只有一个")
    assert "请至少写两个选项" in refused.content
    assert "每行写一个" in refused.content  # the question again, with its example
    options = await say(bot, sender, "上午\n下午")
    condition = await tap(bot, sender, options, "🔀 只在某题回答某项时才问")
    values = await tap(bot, sender, condition, "1. 是否参加？")
    values = await tap(bot, sender, values, "⬜ 是")
    options = await tap(bot, sender, values, "完成")
    assert "只在第1题回答“是”时才问" in options.content
    questions = await tap(bot, sender, options, "✅ 保存这道题")

    wording = await tap(bot, sender, await tap(bot, sender, questions, "➕ 添加问题"), "整数")
    unit = await say(bot, sender, "同去家属人数")
    assert "单位是什么" in unit.content
    bounds = await say(bot, sender, "人")
    assert "允许填写的范围" in bounds.content
    assert "范围请写成" in (await say(bot, sender, "很多")).content
    options = await say(bot, sender, "0-10")
    options = await tap(bot, sender, options, "✅ 必须回答")
    questions = await tap(bot, sender, options, "✅ 保存这道题")

    wording = await tap(
        bot, sender, await tap(bot, sender, questions, "➕ 添加问题"), "小表格（多行）"
    )
    columns = await say(bot, sender, "家属名单")
    assert "名称:类型" in columns.content
    options = await say(bot, sender, "姓名:文字\n年龄:整数")
    questions = await tap(bot, sender, options, "✅ 保存这道题")
    assert "共 4 题" in questions.content

    audience = await tap(bot, sender, questions, "问题都好了，下一步")
    assert "预计 4 名党员填写" in audience.content
    deadline = await tap(bot, sender, audience, "下一步")
    typed = await tap(bot, sender, deadline, "其他时间（输入）")
    assert "请输入截止时间" in typed.content
    assert "没看懂" in (await say(bot, sender, "胡说八道")).content
    options = await say(bot, sender, "12月20日")
    options = await tap(bot, sender, options, "⬜ 匿名填写")
    assert "至少 5 人填写后才显示" in options.content
    summary = await tap(bot, sender, options, "下一步")
    preview = "\n".join(m.content for m in emu.sent_to(sender)[-3:-1])
    assert "只在第1题回答“是”时才问" in preview
    assert "单选：上午 / 下午" in preview
    assert "逐行填写：姓名 | 年龄" in preview
    done = await tap(bot, sender, summary, "✅ 确认发布")
    assert "已发布" in done.content
    [form] = await forms(bot.deps.db)
    assert form.anonymous
    assert [q["type"] for q in form.questions] == ["yn", "one", "int", "rows"]
    assert form.questions[1]["show_if"] == {"question": 0, "values": [1]}
    assert (form.questions[2]["unit"], form.questions[2]["required"]) == ("人", False)


def sheet() -> bytes:
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["党员信息统计表"])
    ws.append(["姓名", "联系方式", None, None, "参加次数"])
    ws.append([None, "手机", "邮箱", None, None])
    for i in range(4):
        ws.append([f"党员{i}", f"1380013800{i}", "a@b.cn", None, i])
    for cells in ("A1:E1", "B2:C2", "A2:A3", "E2:E3"):
        ws.merge_cells(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def test_an_uploaded_sheet_becomes_questions(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    sender = world.sender
    start = await say(bot, sender, "/form")
    upload = await tap(bot, sender, start, "📊 上传电子表格")
    assert "第一行是表头" in upload.content
    assert "请发送一个电子表格文件" in (await say(bot, sender, "我没有文件")).content
    assert "这不是表格文件" in (await send_file(bot, sender, "a.pdf", b"%PDF-1.4")).content
    guess = await send_file(bot, sender, "统计.xlsx", sheet())
    assert "读出 4 个问题" in guess.content
    assert "2. 手机 —— 手机号码" in guess.content
    retype = await tap(bot, sender, guess, "3. 邮箱 · 一行文字")
    assert "第 3 题“邮箱”应该是什么类型" in retype.content
    choices = await tap(bot, sender, retype, "单选")
    assert "“邮箱”的选项" in choices.content
    options = await say(bot, sender, "单位邮箱、个人邮箱")
    guess = await tap(bot, sender, options, "✅ 保存这道题")
    assert "3. 邮箱 —— 单选" in guess.content
    kind = await tap(bot, sender, guess, "✅ 类型都对，继续")
    done = await publish_from_kind(bot, sender, kind)
    assert "已发布" in done.content
    [form] = await forms(bot.deps.db)
    assert form.title == "党员信息统计表"
    assert [q["title"] for q in form.questions] == ["姓名", "手机", "邮箱", "参加次数"]
    assert [q["type"] for q in form.questions] == ["short", "phone", "one", "int"]


async def test_an_earlier_form_is_copied(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    sender, db = world.sender, bot.deps.db
    questions = (
        Question(QType.YES_NO, "是否参加"),
        Question(QType.SHORT, "备注", required=False, show_if=ShowIf(0, (1,))),
    )
    spec = FormSpec(
        org_id=world.committee, kind=FormKind.MEMBER, title="上次的报名表", intro="请填写",
        questions=questions, audience=Audience((world.committee,)),
        deadline=clock.now() + timedelta(days=2), late_policy=LatePolicy.REFUSE,
        anonymous=True, repeat=Repeat.NONE,
    )  # fmt: skip
    await publish_form(db, Actor(sender.id), spec, now=clock.now(), today=clock.now().date())
    start = await say(bot, sender, "/form")
    earlier = await tap(bot, sender, start, "📄 复制以前的表单")
    kind = await tap(bot, sender, earlier, "上次的报名表")
    done = await publish_from_kind(bot, sender, kind)
    assert "已发布" in done.content
    first, copy = await forms(db)
    assert (copy.title, copy.intro, copy.questions) == (first.title, first.intro, first.questions)
    assert (copy.kind, copy.anonymous) == ("member", True)


async def test_who_may_build_and_forged_buttons(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    wang, sender = world.people["wang"], world.sender
    assert "只有可以发通知的组织管理员" in (await say(bot, wang, "/form")).content
    await sender.send("/form", chat=world.groups["第一支部"])
    await bot.settle()
    assert "私聊" in emu.last_sent(world.groups["第一支部"]).content
    start = await say(bot, sender, "/form")
    for data in ("fb:qs:pick:999", "fb:start:tpl:x", "fb:start", "fb:kind:pick:1"):
        await sender.press_raw(start, data)
        await bot.settle()
        assert "已失效" in alert_text(sender)
    kind = await tap(bot, sender, start, "✏️ 从空白开始")
    # 支部填写 forged for an organization... the committee may; a stale step may not.
    await sender.press_raw(kind, "fb:title:keep:0")
    await bot.settle()
    assert "已失效" in alert_text(sender)
    # A member pressing the sender's buttons cannot: they never see them; a copied payload
    # in their own chat finds no draft of theirs.
    mine = await say(bot, wang, "/start")
    await wang.press_raw(mine, "fb:kind:pick:0")
    await bot.settle()
    assert "已失效" in alert_text(wang)


async def test_long_and_odd_titles(emu: Emulator, bot: BotUnderTest, clock: FakeClock) -> None:
    world = await make_world(emu, bot, clock)
    sender = world.sender
    kind = await tap(bot, sender, await say(bot, sender, "/form"), "✏️ 从空白开始")
    await tap(bot, sender, kind, "✅ 党员填写")
    too_long = await say(bot, sender, "长" * 4096)  # Telegram's longest message
    assert "标题太长了" in too_long.content
    odd = "表单\u200d <b>粗体</b> & 𠮷野家 🇨🇳\u202e"
    intro = await say(bot, sender, odd)
    assert "请输入填写说明" in intro.content
    questions = await tap(bot, sender, intro, "跳过")
    assert "&lt;b&gt;粗体&lt;/b&gt; &amp; 𠮷野家" in (questions.html or "")


async def test_a_restart_keeps_the_draft(emu: Emulator, db: Database, clock: FakeClock) -> None:
    cfg = bot_config(emu, db.url, superadmins=[])
    bot = await start_bot(cfg, build_deps(cfg, clock=clock, db=db), emu)
    try:
        world: World = await make_world(emu, bot, clock)
        sender = world.sender
        kind = await tap(bot, sender, await say(bot, sender, "/form"), "✏️ 从空白开始")
        await tap(bot, sender, kind, "✅ 党员填写")
        intro = await say(bot, sender, "重启前的表单")
    finally:
        await stop_bot(bot)
    bot = await start_bot(cfg, build_deps(cfg, clock=clock, db=db), emu)
    try:
        offer = await say(bot, sender, "/form")
        assert "重启前的表单" in offer.content
        again = await tap(bot, sender, offer, "继续填写")
        assert "请输入填写说明" in again.content
        await sender.press(intro, "跳过")  # the message before the restart: its step is current
        await bot.settle()
        # Edited in place: the message pressed now shows the question list.
        questions = next(m for m in emu.sent_to(sender) if m.message_id == intro.message_id)
        assert "还没有问题" in questions.content
        await sender.press(questions, "取消")
        await bot.settle()
        cancelled = next(m for m in emu.sent_to(sender) if m.message_id == intro.message_id)
        assert "已取消" in cancelled.content
        async with db.read() as s:
            assert await s.get(Draft, sender.id) is None
        await bot.settle()
        assert bot.errors == []
    finally:
        await stop_bot(bot)


async def test_many_branches_are_found_by_name_and_long_lists_fit(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    sender, db, now = world.sender, bot.deps.db, clock.now()
    for i in range(40):
        await create_org(db, SUPER, name=f"第{i:02d}联合支部", level=Level.BRANCH,
                         kind=Kind.STANDARD, parent_id=world.committee, now=now,
                         today=now.date())  # fmt: skip
    long_questions = tuple(Question(QType.SHORT, f"{i}" + "问" * 190) for i in range(40))
    draft = replace(
        choose_org(start(single_org=True), world.committee, "两新工委", Level.COMMITTEE),
        step="qs", kind=FormKind.MEMBER, title="很多问题", intro="", questions=long_questions,
    )  # fmt: skip
    await keep_draft(db, sender.id, draft, now)
    offer = await say(bot, sender, "/form")
    questions = await tap(bot, sender, offer, "继续填写")
    assert len(questions.content) < 4096
    assert questions.content.endswith("…")
    assert len(questions.button_texts()) == 40 + 2 + 2  # every question, 添加/下一步, 上一步/取消
    audience = await tap(bot, sender, questions, "问题都好了，下一步")
    branches = await tap(bot, sender, audience, "选择支部…")
    assert "共 43 个" in branches.content
    found = await say(bot, sender, "第17")
    assert "名称含“第17”" in found.content
    picked = await tap(bot, sender, found, "⬜ 第17联合支部")
    assert "✅ 第17联合支部" in picked.button_texts()
    everything = await tap(bot, sender, picked, "显示全部")
    audience = await tap(bot, sender, everything, "完成")
    assert "已选 1 个支部（第17联合支部）" in audience.content
    deadline = await tap(bot, sender, audience, "下一步")
    options = await tap(bot, sender, deadline, "3天后 18:00")
    summary = await tap(bot, sender, options, "下一步")
    preview = emu.sent_to(sender)[-4:-1]  # 40 long questions: the form in several messages
    assert "预览" in preview[0].content
    assert all(len(m.content) <= 4096 for m in preview)
    done = await tap(bot, sender, summary, "✅ 确认发布")
    assert "发到 1 个支部" in done.content
    [form] = await forms(db)
    assert len(form.audience["org_ids"]) == 1


async def test_a_branch_secretary_sends_member_forms_only(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    wang, db, now = world.people["wang"], bot.deps.db, clock.now()
    async with db.read() as s:
        member_id = await s.scalar(select(Member.id).where(Member.user_id == wang.id))
    await grant_role(db, SUPER, world.branches["第一支部"], Role.SECRETARY, member_id=member_id,
                     now=now, today=now.date())  # fmt: skip
    start = await say(bot, wang, "/form")
    assert "为“第一支部”制作表单" in start.content
    templates = await tap(bot, wang, start, "📋 从模板开始")
    assert templates.button_texts() == ["党员信息更新", "志愿服务报名", "上一步", "取消"]
    kind = await tap(bot, wang, templates, "志愿服务报名")
    assert kind.button_texts() == ["✅ 党员填写", "上一步", "取消"]
    await wang.press_raw(kind, "fb:kind:pick:1")  # 支部填写, forged
    await bot.settle()
    assert "已失效" in alert_text(wang)
    title = await tap(bot, wang, kind, "✅ 党员填写")
    intro = await tap(bot, wang, title, "保持不变")
    questions = await tap(bot, wang, intro, "保持不变")
    audience = await tap(bot, wang, questions, "问题都好了，下一步")
    assert "范围：本支部（第一支部）" in audience.content
    assert "选择支部…" not in audience.button_texts()
    stages = await tap(bot, wang, audience, "按身份筛选…")
    stages = await tap(bot, wang, stages, "⬜ 正式党员")
    audience = await tap(bot, wang, stages, "完成")
    assert "预计 1 名党员填写" in audience.content  # Zhang is probationary
    deadline = await tap(bot, wang, audience, "下一步")
    options = await tap(bot, wang, deadline, "3天后 18:00")
    options = await tap(bot, wang, options, "✅ 截止后仍可补报（标记迟报）")
    assert "截止后不再接受填写" in options.content
    summary = await tap(bot, wang, options, "下一步")
    done = await tap(bot, wang, summary, "✅ 确认发布")
    assert "发到 1 个支部：1 个支部群收到表单卡片，1 人收到私聊通知" in done.content
    [form] = await forms(db)
    assert (form.kind, form.template, form.late_policy) == ("member", "volunteer", "refuse")
    assert form.audience["stages"] == ["full"]
