"""The delivery engine end to end: the real bot's outbox worker against the strict emulator."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from domain.orgs import Kind, Level, Role, Stage, Status
from services.authz import Actor
from services.groups import bind_chat
from services.notices import (
    Audience,
    NoticeSpec,
    Progress,
    progress,
    publish_notice,
    recall_notice,
    set_report_message,
)
from services.orgs import create_org
from services.orgs_roles import grant_role
from services.outbox import enqueue_edit, enqueue_text, new_item, sent_message_id
from services.users import Person, touch_user
from storage.db import Database
from storage.models import ChatBinding, Member, OutboxItem
from tests.bot.conftest import BotUnderTest
from tests.conftest import FakeClock
from tests.emulator import Emulator, EmuUser
from tests.emulator.model import EmuChat

SUPER = Actor(user_id=0, superadmin=True)
ROOT = Path(__file__).parents[2]


async def city(
    emu: Emulator, db: Database, clock: FakeClock, n: int
) -> tuple[EmuUser, int, list[EmuChat]]:
    """A committee with n branches, each with a bound main group the bot is in."""
    today = clock.now().date()
    sender = emu.user("组织部", language_code="zh-hans")
    await touch_user(db, Person(id=sender.id, first_name="组织部"), clock.now(), started=True)
    committee = await create_org(db, SUPER, name="两新工委", level=Level.COMMITTEE,
                                 kind=Kind.TWO_NEW, parent_id=None, now=clock.now(),
                                 today=today)  # fmt: skip
    await grant_role(db, SUPER, committee.id, Role.COMMITTEE_ADMIN, user_id=sender.id,
                     now=clock.now(), today=today)  # fmt: skip
    groups = []
    for i in range(n):
        branch = await create_org(db, SUPER, name=f"第{i + 1:02d}支部", level=Level.BRANCH,
                                  kind=Kind.STANDARD, parent_id=committee.id, now=clock.now(),
                                  today=today)  # fmt: skip
        group = emu.group(
            f"第{i + 1:02d}支部群", members=[sender], admins=[sender], supergroup=True
        )
        await group.add_bot(by=sender, admin=True)
        await bind_chat(
            db, SUPER, group.id, branch.id, make_main=True, now=clock.now(), today=today
        )
        groups.append(group)
    return sender, committee.id, groups


def notice_spec(org_id: int, title: str = "关于开展主题党日活动的通知", **kw: object) -> NoticeSpec:
    return NoticeSpec(
        org_id=org_id,
        category="meeting",
        title=title,
        body_html="请各支部<b>按时</b>组织。",
        audience=Audience(org_ids=(org_id,)),
        ack_label="received",
        **kw,  # type: ignore[arg-type]
    )


def copies(emu: Emulator, group: EmuChat | EmuUser, title: str) -> int:
    return sum(1 for m in emu.sent_to(group) if title in m.content)


async def settled_progress(bot: BotUnderTest, notice_id: int) -> Progress:
    """The delivery state once nothing of the notice is waiting any more."""
    async with asyncio.timeout(10):
        while (state := await progress(bot.deps.db, notice_id)).pending:
            await asyncio.sleep(0.05)
    return state


async def publish(bot: BotUnderTest, sender: EmuUser, spec: NoticeSpec) -> int:
    clock = bot.deps.clock
    published = await publish_notice(
        bot.deps.db, Actor(sender.id), spec, now=clock.now(), today=clock.now().date()
    )
    bot.deps.outbox.wake()
    return published.notice.id


async def test_a_broadcast_reaches_every_group_once_and_is_recorded(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    sender, committee, groups = await city(emu, bot.deps.db, clock, 12)
    await bot.settle()
    notice_id = await publish(bot, sender, notice_spec(committee))
    await emu.wait_for(lambda: all(copies(emu, g, "主题党日") == 1 for g in groups), timeout=20)
    state = await settled_progress(bot, notice_id)
    assert (state.sent, state.total, state.pending) == (12, 12, 0)
    message = next(m for m in emu.sent_to(groups[0]) if "主题党日" in m.content)
    assert "已确认 0 / 0" in message.content or "已确认" in message.content
    assert message.button_texts() == ["收到"]


async def test_a_scheduled_notice_waits_for_its_time(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    sender, committee, groups = await city(emu, bot.deps.db, clock, 2)
    await bot.settle()
    await publish(bot, sender, notice_spec(committee, send_at=clock.now() + timedelta(hours=2)))
    await asyncio.sleep(1.5)
    assert copies(emu, groups[0], "主题党日") == 0
    clock.advance(hours=2, seconds=1)
    bot.deps.outbox.wake()
    await emu.wait_for(lambda: all(copies(emu, g, "主题党日") == 1 for g in groups), timeout=10)


async def test_403_marks_a_group_unreachable_and_is_not_retried(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    sender, committee, groups = await city(emu, bot.deps.db, clock, 3)
    await bot.settle()
    emu.fail_next("sendMessage", kind="403", chat_id=groups[1].id,
                  description="Forbidden: bot was kicked from the supergroup chat")  # fmt: skip
    notice_id = await publish(bot, sender, notice_spec(committee))
    await emu.wait_for(lambda: copies(emu, groups[0], "主题党日") == 1, timeout=10)
    await emu.wait_for(lambda: copies(emu, groups[2], "主题党日") == 1, timeout=10)
    state = await settled_progress(bot, notice_id)
    assert [chat for chat, _ in state.unreachable] == [groups[1].id]
    assert "kicked" in state.unreachable[0][1]
    sends_to_kicked = [
        p
        for p in emu.calls("sendMessage")
        if p.get("chat_id") == groups[1].id and "主题党日" in p.get("text", "")
    ]
    assert len(sends_to_kicked) == 1


async def test_429_and_timeouts_are_retried_until_delivered_once(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    sender, committee, groups = await city(emu, bot.deps.db, clock, 2)
    await bot.settle()
    emu.fail_next("sendMessage", kind="429", retry_after=1, chat_id=groups[0].id)
    emu.fail_next("sendMessage", kind="502", chat_id=groups[1].id)
    await publish(bot, sender, notice_spec(committee))
    await emu.wait_for(lambda: copies(emu, groups[0], "主题党日") == 1, timeout=10)
    # The 502 is retried after a back-off measured on the bot's clock.
    await asyncio.sleep(0.5)
    clock.advance(seconds=3)
    bot.deps.outbox.wake()
    await emu.wait_for(lambda: copies(emu, groups[1], "主题党日") == 1, timeout=10)
    await asyncio.sleep(0.5)
    assert all(copies(emu, g, "主题党日") == 1 for g in groups)


async def test_a_migrated_group_gets_the_copy_at_its_new_id(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    sender, _, _ = await city(emu, bot.deps.db, clock, 1)
    await bot.settle()
    basic = emu.group("老群", members=[sender], admins=[sender])
    await basic.add_bot(by=sender, admin=True)
    await bot.settle()
    old_id = basic.id
    # The group moves while a copy addressed to its old id is waiting.
    async with bot.deps.db.transaction() as s:
        s.add(new_item(purpose="text", chat_id=old_id, is_group=True, now=clock.now(),
                       not_before=clock.now() + timedelta(minutes=1),
                       payload={"html": "迁移测试"}))  # fmt: skip
    await basic.migrate_to_supergroup(by=sender)
    await bot.settle()
    async with bot.deps.db.transaction() as s:  # and one the bot did not learn about in time
        s.add(new_item(purpose="text", chat_id=old_id, is_group=True, now=clock.now(),
                       payload={"html": "旧号码"}))  # fmt: skip
    clock.advance(minutes=2)
    bot.deps.outbox.wake()
    await emu.wait_for(
        lambda: {"迁移测试", "旧号码"} <= {m.content for m in emu.sent_to(basic.id)}, timeout=10
    )


async def test_private_copies_go_to_members_who_started_the_bot(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    sender, committee, groups = await city(emu, bot.deps.db, clock, 1)
    wang, li = emu.user("王芳"), emu.user("李明")
    await wang.start()
    await bot.settle()
    await touch_user(bot.deps.db, Person(id=li.id, first_name="李明"), clock.now())
    async with bot.deps.db.transaction() as s:
        branch_id = await s.scalar(
            select(ChatBinding.org_id).where(ChatBinding.chat_id == groups[0].id)
        )
        for person, name in ((wang, "王芳"), (li, "李明")):
            s.add(Member(org_id=branch_id, user_id=person.id, name=name, stage=Stage.FULL,
                         status=Status.ACTIVE, source="admin", created_at=clock.now(),
                         updated_at=clock.now()))  # fmt: skip
    spec = notice_spec(committee)
    spec = NoticeSpec(**{**spec.__dict__, "audience": Audience((committee,), private_copies=True)})
    await publish(bot, sender, spec)
    await emu.wait_for(lambda: copies(emu, wang, "主题党日") == 1, timeout=10)
    assert copies(emu, li, "主题党日") == 0  # never started the bot: no private copy


def write_config(path: Path, emu: Emulator, url: str) -> Path:
    path.write_text(
        f'[telegram]\ntoken = "{emu.token}"\nbase_url = "{emu.base_url}"\n'
        f'[database]\nurl = "{url}"\n'
        "[outbox]\nconcurrency = 1\nclaim_timeout_seconds = 1\n",
        encoding="utf-8",
    )
    return path


async def start(config: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "--config", str(config), cwd=ROOT,
        stderr=asyncio.subprocess.DEVNULL,
        env={k: v for k, v in os.environ.items() if not k.startswith("ZHIBU_")},
    )  # fmt: skip


@pytest.mark.slow
async def test_kill_9_mid_broadcast_then_restart_delivers_each_copy_exactly_once(
    emu: Emulator, db: Database, database_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    clock.set(datetime.now(UTC))  # the bot process runs on the real clock
    real_now = clock.now()
    sender, committee, groups = await city(emu, db, clock, 10)
    # No greetings from joining: the only sendMessage calls are the notice's copies, so the
    # hold below catches one of them with nothing else in flight (concurrency 1).
    emu.drop_pending_updates()
    await publish_notice(db, Actor(sender.id), notice_spec(committee), now=real_now,
                         today=real_now.date())  # fmt: skip
    config = write_config(tmp_path / "c.toml", emu, database_url)
    held = emu.hold("sendMessage", chat_id=groups[4].id)
    first = await start(config)
    try:
        await held.arrived(timeout=30)
        first.kill()  # SIGKILL: no shutdown code runs at all
        await first.wait()
    finally:
        if first.returncode is None:
            first.kill()
    # The request in flight never reached Telegram: the connection died with the process.
    held.release("network")
    before = [copies(emu, g, "主题党日") for g in groups]
    assert before[4] == 0
    assert max(before) == 1

    second = await start(config)
    try:
        await emu.wait_for(lambda: all(copies(emu, g, "主题党日") >= 1 for g in groups), timeout=60)
        second.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(second.wait(), 30) == 0
    finally:
        if second.returncode is None:
            second.kill()
    assert [copies(emu, g, "主题党日") for g in groups] == [1] * 10
    async with db.read() as s:
        statuses = (
            await s.execute(select(OutboxItem.status, func.count()).group_by(OutboxItem.status))
        ).all()
    assert dict(statuses) == {"sent": 10}


async def test_a_timed_out_send_is_retried_after_its_back_off(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    sender, committee, groups = await city(emu, bot.deps.db, clock, 1)
    await bot.settle()
    # Telegram never answers (and never performed it): PTB gives up after its read timeout.
    emu.fail_next("sendMessage", kind="timeout", chat_id=groups[0].id)
    notice_id = await publish(bot, sender, notice_spec(committee))
    async with asyncio.timeout(20):
        while (await progress(bot.deps.db, notice_id)).sent == 0:
            clock.advance(seconds=3)  # past the back-off, on the bot's clock
            bot.deps.outbox.wake()
            await asyncio.sleep(0.5)
    assert copies(emu, groups[0], "主题党日") == 1


async def test_the_sender_gets_final_counts_even_if_delivery_beat_the_report_message(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    sender, committee, _ = await city(emu, bot.deps.db, clock, 2)
    await sender.start()
    await bot.settle()
    notice_id = await publish(bot, sender, notice_spec(committee))
    await settled_progress(bot, notice_id)
    # Only now does the progress message exist (the handler was slow to record it).
    message = await bot.app.bot.send_message(sender.id, "正在发送……")
    await set_report_message(bot.deps.db, notice_id, sender.id, message.message_id)
    bot.deps.outbox.wake()
    await emu.wait_for(lambda: "发送完成" in emu.last_sent(sender).content, timeout=10)
    assert "已送达 2 / 2" in emu.last_sent(sender).content


async def test_a_long_notice_goes_out_in_parts_and_a_recall_removes_them_all(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    sender, committee, groups = await city(emu, bot.deps.db, clock, 1)
    await bot.settle()
    body = "\n".join(f"第{i}条：<b>学习要点</b>" + "内容" * 40 for i in range(120))
    spec = NoticeSpec(**{**notice_spec(committee).__dict__, "body_html": body})
    notice_id = await publish(bot, sender, spec)
    await settled_progress(bot, notice_id)
    parts = [m for m in emu.sent_to(groups[0]) if "学习要点" in m.content]
    assert len(parts) >= 3
    assert parts[-1].button_texts() == ["收到"]
    assert all(p.buttons == [] for p in parts[:-1])
    today = clock.now().date()
    await recall_notice(bot.deps.db, Actor(sender.id), notice_id, now=clock.now(), today=today)
    bot.deps.outbox.wake()
    await emu.wait_for(
        lambda: not [m for m in emu.sent_to(groups[0]) if "学习要点" in m.content], timeout=10
    )


async def test_queued_text_with_buttons_and_a_later_edit(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    _, _, groups = await city(emu, bot.deps.db, clock, 1)
    await bot.settle()
    async with bot.deps.db.transaction() as s:
        buttons = [[("参加", "cb:lang:en"), ("说明", "url:https://example.org")]]
        item = enqueue_text(s, chat_id=groups[0].id, html="<b>集中学习提醒</b>",
                            now=clock.now(), is_group=True, buttons=buttons)  # fmt: skip
        await s.flush()
        item_id = item.id
    bot.deps.outbox.wake()
    await emu.wait_for(lambda: emu.last_sent(groups[0]).content == "集中学习提醒")
    message = emu.last_sent(groups[0])
    assert message.button_texts() == ["参加", "说明"]
    async with asyncio.timeout(5):
        while (message_id := await sent_message_id(bot.deps.db, item_id)) is None:
            await asyncio.sleep(0.02)
    assert message_id == message.message_id
    async with bot.deps.db.transaction() as s:
        enqueue_edit(s, chat_id=groups[0].id, message_id=message_id, html="集中学习提醒（已结束）",
                     now=clock.now(), is_group=True)  # fmt: skip
    bot.deps.outbox.wake()
    await emu.wait_for(lambda: emu.last_sent(groups[0]).content == "集中学习提醒（已结束）")
