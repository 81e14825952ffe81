"""Minutes (会议记录) end to end: the recorder's wizard, photos, a restart, editing, odd input."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.app import build_deps
from storage.models import AuditEntry, MeetingAttendance, MeetingMinutes
from tests.bot.conftest import BotUnderTest, bot_config, start_bot, stop_bot
from tests.bot.test_meetings import Branch, make_branch, manage_screen, meeting_id_of, schedule
from tests.bot.test_notices import alert_text, say, tap
from tests.conftest import FakeClock
from tests.emulator import Emulator, EmuUser
from tests.emulator.model import EmuMessage

JPEG = b"\xff\xd8\xff\xe0" + b"minutes" * 20


async def opened(bot: BotUnderTest, world: Branch) -> EmuMessage:
    """Schedule the meeting, open sign-in and let 王芳 (the recorder) and 刘新 sign in."""
    notice = await schedule(bot, world)
    sec = world.secretary
    screen = await manage_screen(bot, sec, "学习新党章")
    await tap(bot, sec, screen, "开始签到")
    bot.deps.outbox.wake()
    signin: EmuMessage = await bot.emu.wait_for(
        lambda: next((m for m in bot.emu.sent_to(world.group) if "签到已开始" in m.content), None),
        timeout=10,
    )
    for key in ("wang", "pro"):
        await world.people[key].press(signin, "签到")
    await bot.settle()
    return notice


async def minutes_start(bot: BotUnderTest, user: EmuUser) -> EmuMessage:
    """The recorder opens the meeting from /meetings and presses 会议记录."""
    screen = await manage_screen(bot, user, "学习新党章")
    return await tap(bot, user, screen, "📝 会议记录")


@pytest.fixture
def december(clock: FakeClock) -> None:
    from datetime import UTC, datetime

    clock.set(datetime(2026, 12, 1, 1, 30, tzinfo=UTC))


@pytest.mark.usefixtures("december")
async def test_the_recorder_writes_minutes_with_photos_across_a_restart_then_edits_them(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_branch(emu, bot, clock)
    await opened(bot, world)
    wang = world.people["wang"]
    att = await minutes_start(bot, wang)
    assert "核对出席情况" in att.content
    assert "王芳（本人签到）" in att.content
    assert "缺席：张伟" in att.content
    # Correct the attendance: 张伟 was there (代签 while sign-in is open).
    pick = await tap(bot, wang, att, "✍️ 补签")
    assert "张伟" in pick.button_texts()
    assert "王芳" not in pick.button_texts()
    ask_note = await tap(bot, wang, pick, "张伟")
    assert "备注" in ask_note.content
    assert "最多 200 字" in (await say(bot, wang, "注" * 201)).content
    att = await say(bot, wang, "电话确认到会")
    assert "已为 张伟 签到" in att.content
    assert "张伟（代签：电话确认到会）" in att.content
    # The fields of a general meeting and a party lesson, each once, in order.
    ask = await tap(bot, wang, att, "继续")
    assert "第 2/9 步：议题（必填）" in ask.content
    assert "跳过" not in ask.button_texts()
    ask = await say(bot, wang, "一、学习新党章\n二、讨论发展党员")
    assert "讨论情况" in ask.content
    ask = await say(bot, wang, "王芳：要原原本本学。\n\n\n\n李娜：结合工作。")

    db = bot.deps.db
    await stop_bot(bot)
    cfg = bot_config(emu, db.url)
    again = await start_bot(cfg, build_deps(cfg, clock=clock, db=db), emu)
    try:
        # The old button of an earlier step is refused; the open step carries on.
        await wang.press_raw(att, "mn:att:go:0")
        await again.settle()
        assert alert_text(wang)
        ask = await say(again, wang, "同意吸收刘新为预备党员：赞成 4 票，反对 0 票，弃权 0 票。")
        assert "授课人" in ask.content
        assert "陈书记" in ask.content  # the meeting's lecturer, ready to keep
        ask = await tap(again, wang, ask, "保持不变")
        assert "党课主题" in ask.content
        assert "学习新党章" in ask.content
        ask = await tap(again, wang, ask, "保持不变")
        ask = await say(again, wang, "党章的主要内容和新要求。")
        assert "备注" in ask.content
        assert "跳过" in ask.button_texts()
        # 上一步 keeps what was typed.
        back = await tap(again, wang, ask, "上一步")
        assert "党章的主要内容和新要求。" in back.content
        ask = await tap(again, wang, back, "保持不变")
        photos = await tap(again, wang, ask, "跳过")
        assert "已收到 0 张" in photos.content
        await wang.send_photo(JPEG)
        await wang.send_photo(JPEG + b"2")
        await again.settle()
        assert "已收到 2 张" in photos.content  # the prompt is edited in place
        preview = await tap(again, wang, photos, "完成")
        assert "请核对会议记录" in preview.content
        assert "决议事项及表决结果" in preview.content
        assert "会议照片：2 张" in preview.content
        saved = await tap(again, wang, preview, "✅ 保存")
        assert "会议记录已保存" in saved.content
        async with db.read() as s:
            row = await s.scalar(select(MeetingMinutes))
            audit = (await s.scalars(select(AuditEntry.action))).all()
            kinds = (await s.scalars(select(MeetingAttendance.signed_by))).all()
        assert row is not None
        assert row.fields["discussion"] == "王芳：要原原本本学。\n\n李娜：结合工作。"
        assert row.fields["lecturer"] == "陈书记"
        assert "remarks" not in row.fields
        assert len(row.photos) == 2
        assert "minutes.write" in audit
        assert sorted(kinds) == ["proxy", "self", "self"]
        # Viewing: the text, then each photo.
        sent_before = len(emu.calls("sendPhoto"))
        await tap(again, wang, saved, "查看会议记录")
        assert len(emu.calls("sendPhoto")) == sent_before + 2
        last = emu.last_sent(wang)
        assert last.photo is not None
        assert "会议照片 2/2" in last.content
        # Editing later: the saved answers come back, one field is changed.
        att = await tap(again, wang, last, "修改会议记录")
        ask = await tap(again, wang, att, "继续")
        assert "一、学习新党章" in ask.content
        ask = await tap(again, wang, ask, "保持不变")
        ask = await say(again, wang, "大家一致表示要学以致用。")
        for _ in range(4):  # 决议, 授课人, 主题, 内容摘要
            ask = await tap(again, wang, ask, "保持不变")
        photos = await tap(again, wang, ask, "跳过")
        assert "已收到 2 张" in photos.content
        photos = await tap(again, wang, photos, "清空照片，重新发送")
        preview = await tap(again, wang, photos, "完成")
        assert "会议照片：0 张" in preview.content
        assert "会议记录已更新" in (await tap(again, wang, preview, "✅ 保存")).content
        async with db.read() as s:
            row = await s.scalar(select(MeetingMinutes).execution_options(populate_existing=True))
            actions = (await s.scalars(select(AuditEntry.action))).all()
        assert row is not None
        assert row.fields["discussion"] == "大家一致表示要学以致用。"
        assert row.photos == []
        assert "minutes.edit" in actions
    finally:
        await stop_bot(again)
    assert again.errors == []


@pytest.mark.usefixtures("december")
async def test_minutes_refuse_overlong_text_clean_odd_input_and_keep_outsiders_out(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_branch(emu, bot, clock)
    notice = await schedule(bot, world)
    sec, li = world.secretary, world.people["li"]
    meeting_id = meeting_id_of(notice)
    # Before sign-in opens there is nothing to write minutes about.
    screen = await manage_screen(bot, sec, "学习新党章")
    assert "📝 会议记录" not in screen.button_texts()
    await sec.press_raw(screen, f"mo:open:{meeting_id}")
    await bot.settle()
    assert "签到开始后" in alert_text(sec)
    await tap(bot, sec, screen, "开始签到")
    # A member who is neither recorder nor secretary may not open or write them.
    mine = await say(bot, li, "/meetings")
    for data in (f"mo:open:{meeting_id}", f"mo:edit:{meeting_id}"):
        await li.press_raw(mine, data)
        await bot.settle()
        assert "只有本次会议的记录人" in alert_text(li)
    # The secretary may write them.
    att = await minutes_start(bot, sec)
    ask = await tap(bot, sec, att, "继续")
    await sec.send_photo(JPEG)
    await bot.settle()
    assert "现在还不需要照片" in emu.last_sent(sec).content
    too_long = await say(bot, sec, "长" * 2001)
    assert "最多 2000 字，您发来的有 2001 字" in too_long.content
    assert "议题" in too_long.content  # the same question again
    empty = await say(bot, sec, "\u200b\u200b \u202e")
    assert "不能为空" in empty.content
    emoji = await say(bot, sec, "👍" * 1001)  # 2002 UTF-16 units: Telegram's way of counting
    assert "您发来的有 2002 字" in emoji.content
    odd = "<b>议题</b> & <script>\u202e反转\u200b文字\x00\r\n第二行"
    ask = await say(bot, sec, odd)
    assert "讨论情况" in ask.content
    for text in ("讨论", "决议"):
        ask = await say(bot, sec, text)
    for _ in range(2):  # the lecturer and the theme are pre-filled
        ask = await tap(bot, sec, ask, "保持不变")
    ask = await say(bot, sec, "摘要")
    photos = await tap(bot, sec, ask, "跳过")
    await say(bot, sec, "这是文字")
    assert "请发送照片" in emu.last_sent(sec).content
    await sec.send_document("scan.jpg", JPEG)
    await bot.settle()
    assert "以“照片”方式发送" in emu.last_sent(sec).content
    for i in range(10):
        await sec.send_photo(JPEG + bytes([i]))
    await bot.settle()
    assert "已经有 9 张照片了" in emu.last_sent(sec).content
    preview = await tap(bot, sec, photos, "完成")
    assert "<b>议题</b> & <script>反转文字" in preview.content
    assert "会议照片：9 张" in preview.content
    await tap(bot, sec, preview, "✅ 保存")
    async with bot.deps.db.read() as s:
        row = await s.scalar(select(MeetingMinutes))
    assert row is not None
    assert row.fields["topics"] == "<b>议题</b> & <script>反转文字\n第二行"
    assert len(row.photos) == 9
    # 取消 in the middle of an edit leaves the saved minutes alone.
    att = await tap(bot, sec, await minutes_start(bot, sec), "修改会议记录")
    cancelled = await tap(bot, sec, att, "取消")
    assert "没有保存" in cancelled.content
    async with bot.deps.db.read() as s:
        again = await s.scalar(select(MeetingMinutes).execution_options(populate_existing=True))
    assert again is not None
    assert again.fields == row.fields


@pytest.mark.usefixtures("december")
async def test_pressing_save_twice_saves_the_minutes_once(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_branch(emu, bot, clock)
    await schedule(bot, world)
    sec = world.secretary
    await tap(bot, sec, await manage_screen(bot, sec, "学习新党章"), "开始签到")
    ask = await tap(bot, sec, await minutes_start(bot, sec), "继续")
    while "已收到 0 张" not in ask.content:  # every field answered, 备注 too
        ask = await say(bot, sec, "内容")
    preview = await tap(bot, sec, ask, "完成")
    assert "请核对会议记录" in preview.content
    # A double tap: both presses reach the bot before either is answered.
    first = await sec.press(preview, "✅ 保存")
    second = await sec.press_raw(preview, "mn:pre:save:0")
    await bot.settle()
    answers = [emu.callback_answers[first].text, emu.callback_answers[second].text]
    assert sum("已保存" in (text or "") for text in answers) == 1
    assert "这个按钮已失效" in (answers[1] or "")
    saved = [m for m in emu.sent_to(sec) if "会议记录已保存" in m.content]
    assert len(saved) == 1
    # Later still, the old button does nothing either.
    await sec.press_raw(preview, "mn:pre:save:0")
    await bot.settle()
    assert "这个按钮已失效" in alert_text(sec)
    async with bot.deps.db.read() as s:
        actions = (
            await s.scalars(select(AuditEntry.action).where(AuditEntry.action.like("minutes.%")))
        ).all()
        rows = (await s.scalars(select(MeetingMinutes))).all()
    assert actions == ["minutes.write"]
    assert len(rows) == 1
    assert bot.errors == []
