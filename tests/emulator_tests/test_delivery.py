"""Update delivery (getUpdates, webhook, a real Application), faults and holds."""

from __future__ import annotations

import asyncio
import html
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Conflict, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from tests.emulator import Emulator, EmulatorTimeout

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning"),
]


async def test_get_updates_offsets_and_long_polling(emu: Emulator, tg: Bot) -> None:
    alice = emu.user("Alice")
    await alice.start()
    await alice.send("a")
    first = await tg.get_updates()
    assert [u.message.text for u in first if u.message] == ["/start", "a"]
    assert len(await tg.get_updates()) == 2  # not confirmed yet: fetched again
    assert emu.delivered_count() == 0
    rest = await tg.get_updates(offset=first[0].update_id + 1)
    assert [u.message.text for u in rest if u.message] == ["a"]
    assert emu.delivered_count() == 1
    await alice.send("b")
    await alice.send("c")
    last = await tg.get_updates(offset=-1)  # negative: only the newest, older ones forgotten
    assert [u.message.text for u in last if u.message] == ["c"]
    assert len(emu.pending_updates()) == 1
    poll = asyncio.create_task(tg.get_updates(offset=last[0].update_id + 1, timeout=5))
    await asyncio.sleep(0.1)
    assert not poll.done()
    started = asyncio.get_running_loop().time()
    await alice.send("d")
    got = await asyncio.wait_for(poll, 2)
    assert [u.message.text for u in got if u.message] == ["d"]
    assert asyncio.get_running_loop().time() - started < 1  # answered as soon as it arrived
    await tg.get_updates(offset=got[0].update_id + 1)
    await emu.wait_delivered(timeout=1)


async def test_wait_helpers_fail_with_a_dump(emu: Emulator) -> None:
    alice = emu.user("Alice")
    await alice.start()
    with pytest.raises(EmulatorTimeout, match="the bot never called getUpdates"):
        await emu.wait_delivered(timeout=0.05)
    with pytest.raises(EmulatorTimeout, match="waiting for a reply"):
        await emu.wait_for(lambda: emu.sent_to(alice), timeout=0.05, what="a reply")


async def test_privacy_mode_in_groups(emu: Emulator, tg: Bot) -> None:
    alice, bob, carol = emu.user("Alice"), emu.user("Bob"), emu.user("Carol")
    g = emu.group("支部", members=[alice, bob], admins=[bob])
    await g.add_bot(by=bob)
    await tg.send_message(g.id, "投票")
    from_bot = emu.last_sent(g)
    await alice.send("大家好", chat=g)
    await alice.send("/vote", chat=g)
    await alice.send("/vote@other_bot", chat=g)
    await alice.send("/vote@Zhibu_Test_Bot 1", chat=g)
    await alice.send("好的", chat=g, reply_to=from_bot)
    await g.join(carol)
    await alice.send("私聊")
    seen = [u["message"].get("text", "<service>") for u in emu.pending_updates() if "message" in u]
    assert seen == ["<service>", "/vote", "/vote@Zhibu_Test_Bot 1", "好的", "<service>", "私聊"]
    assert emu.stats["not_visible_to_bot"] == 2
    await g.promote_bot(rights={"can_pin_messages"})
    await alice.send("管理员能看到", chat=g)
    assert emu.pending_updates()[-1]["message"]["text"] == "管理员能看到"


async def test_allowed_updates_persist_and_filter(emu: Emulator, tg: Bot) -> None:
    bob, carol, dave = emu.user("Bob"), emu.user("Carol"), emu.user("Dave")
    g = emu.group("支部", members=[bob], admins=[bob], supergroup=True)
    await g.add_bot(by=bob, admin=True)
    await g.join(carol)
    kinds = [next(k for k in u if k != "update_id") for u in emu.pending_updates()]
    assert kinds == ["my_chat_member", "message", "message"]  # chat_member not by default
    assert emu.stats["dropped:chat_member"] == 1
    await tg.get_updates(allowed_updates=["message", "chat_member"])
    await g.join(dave)
    assert "chat_member" in emu.pending_updates()[-2]
    await tg.get_updates()  # absent: the previous setting stays
    assert emu.allowed_updates == ["message", "chat_member"]
    await bob.start()
    msg = await tg.send_message(
        bob.id,
        "x",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("b", callback_data="b")]]),
    )
    await bob.press(emu.last_sent(bob), "b")
    assert emu.stats["dropped:callback_query"] == 1
    await tg.get_updates(allowed_updates=[])  # empty: back to the default set
    assert emu.allowed_updates is None
    assert msg.message_id == emu.last_sent(bob).message_id


async def test_every_update_parses_in_ptb(emu: Emulator, tg: Bot) -> None:
    alice, bob = emu.user("Alice", "Li", "alice", "zh-hans"), emu.user("Bob")
    g = emu.group("论坛", members=[alice, bob], admins=[bob], forum=True)
    await tg.get_updates(allowed_updates=list(Update.ALL_TYPES))
    await g.add_bot(by=bob, admin=True)
    tid = await g.create_topic("通知")
    await alice.send("hi", chat=g, thread_id=tid)
    await alice.send_photo(b"\xff\xd8jpeg", caption="/cmd pic", chat=g)
    await g.leave(alice)
    await alice.start("deep-link_1")
    sent = await alice.send("typo")
    await alice.edit(sent, "fixed")
    await tg.send_message(
        alice.id,
        "k",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("b", callback_data="b")]]),
    )
    await alice.press(emu.last_sent(alice), "b")
    await alice.block_bot()
    await g.kick_bot(by=bob)
    updates = await tg.get_updates()
    kinds = [next(k for k in u.to_dict() if k != "update_id") for u in updates]
    assert set(kinds) == {
        "my_chat_member",
        "message",
        "chat_member",
        "edited_message",
        "callback_query",
    }
    topic_msg = next(u.message for u in updates if u.message and u.message.text == "hi")
    assert topic_msg.message_thread_id == tid
    assert topic_msg.is_topic_message
    assert topic_msg.reply_to_message is not None
    assert topic_msg.reply_to_message.forum_topic_created is not None
    start = next(
        u.message
        for u in updates
        if u.message and u.message.text and u.message.text.startswith("/start")
    )
    assert start.text == "/start deep-link_1"
    assert start.entities[0].type == "bot_command"
    assert start.from_user is not None
    assert start.from_user.language_code == "zh-hans"
    assert emu.violations == []  # includes the emulator's own spec self-check


async def test_webhook_delivery_with_secret_and_retry(emu: Emulator, tg: Bot) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []
    statuses = [500]

    async def hook(request: web.Request) -> web.Response:
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response(status=statuses.pop(0) if statuses else 200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    try:
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
        await tg.set_webhook(url, secret_token="s3cr3t-token")
        assert emu.webhook_url == url
        with pytest.raises(Conflict, match="webhook is active"):
            await tg.get_updates()
        assert len(emu.take_violations()) == 1
        alice = emu.user("Alice")
        await alice.start()
        await emu.wait_delivered(timeout=3)
        assert [secret for secret, _ in received] == ["s3cr3t-token"] * 2  # retried after 500
        assert received[0][1] == received[1][1]
        assert received[1][1]["message"]["text"] == "/start"
        info = await tg.get_webhook_info()
        assert info.url == url
        assert info.pending_update_count == 0
        assert "500" in (info.last_error_message or "")
        assert emu.delivered_count() == 1
        with pytest.raises(BadRequest, match=r"(?i)only delivers to loopback"):
            await tg.set_webhook("https://example.com/hook")
        assert len(emu.take_violations()) == 1
        await tg.delete_webhook()
        assert emu.webhook_url is None
        assert await tg.get_updates() == ()
    finally:
        await runner.cleanup()


async def test_faults_and_holds(emu: Emulator, tg: Bot) -> None:
    alice, bob = emu.user("Alice"), emu.user("Bob")
    await alice.start()
    await bob.start()
    emu.fail_next("sendMessage", kind="500")
    with pytest.raises(NetworkError, match="Internal Server Error"):
        await tg.send_message(alice.id, "1")
    emu.fail_next("sendMessage", kind="502")
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await tg.send_message(alice.id, "2")
    emu.fail_next("sendMessage", kind="network")
    with pytest.raises(NetworkError):
        await tg.send_message(alice.id, "3")
    emu.fail_next("sendMessage", kind="403", chat_id=bob.id)
    await tg.send_message(alice.id, "only bob fails")
    with pytest.raises(Forbidden, match="blocked"):
        await tg.send_message(bob.id, "4")
    assert [m.text for m in emu.sent_to(alice)] == ["only bob fails"]

    held = emu.hold("sendMessage", chat_id=alice.id)
    task = asyncio.create_task(tg.send_message(alice.id, "held"))
    params = await held.arrived()
    assert params["text"] == "held"
    assert held.is_held
    await asyncio.sleep(0.05)
    assert not task.done()
    held.release()
    assert (await task).text == "held"
    held = emu.hold("sendMessage")
    task = asyncio.create_task(tg.send_message(alice.id, "x"))
    await held.arrived()
    held.release("429", retry_after=3)
    with pytest.raises(RetryAfter):
        await task
    assert emu.stats["fault:429"] == 1


async def test_timeouts_with_and_without_execution(emu: Emulator) -> None:
    alice = emu.user("Alice")
    await alice.start()
    bot = Bot(emu.token, base_url=emu.base_url, request=HTTPXRequest(read_timeout=0.3))
    async with bot:
        emu.fail_next("sendMessage", kind="timeout")
        with pytest.raises(TimedOut):
            await bot.send_message(alice.id, "lost")
        emu.fail_next("sendMessage", kind="timeout", executed=True)
        with pytest.raises(TimedOut):
            await bot.send_message(alice.id, "sent anyway")
    assert [m.text for m in emu.sent_to(alice)] == ["sent anyway"]
    assert [r.status for r in emu.requests if r.method == "sendMessage"] == [-1, -1]


@pytest_asyncio.fixture
async def app(emu: Emulator) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """A real PTB Application polling the emulator, with a few handlers."""

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        assert update.effective_user is not None
        await update.effective_message.reply_html(
            f"您好，<b>{html.escape(update.effective_user.full_name)}</b>",
            reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("参加", callback_data="j")]]),
        )

    async def press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("已报名", show_alert=True)
        await query.edit_message_text("已报名 ✅")

    async def document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        assert message.document is not None
        data = await (await message.document.get_file()).download_as_bytearray()
        await message.reply_document(
            bytes(data[::-1]), filename="reversed.bin", caption=f"{len(data)} bytes"
        )

    application = (
        ApplicationBuilder()
        .token(emu.token)
        .base_url(emu.base_url)
        .base_file_url(emu.base_file_url)
        .build()
    )
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CallbackQueryHandler(press))
    application.add_handler(MessageHandler(filters.Document.ALL, document))
    errors: list[object] = []

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        errors.append(context.error)

    application.add_error_handler(on_error)
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=2)
        try:
            yield application
        finally:
            await application.updater.stop()
            await application.stop()
    assert errors == []


async def test_application_round_trip(
    emu: Emulator, app: Application[Any, Any, Any, Any, Any, Any]
) -> None:
    alice = emu.user("<王&芳>")
    await alice.start()
    greeting = await emu.wait_for(lambda: emu.sent_to(alice) and emu.last_sent(alice))
    assert greeting.text == "您好，<王&芳>"
    assert greeting.button_texts() == ["参加"]
    qid = await alice.press(greeting, "参加")
    assert await emu.answer_of(qid) == ("已报名", True)
    await emu.wait_for(lambda: greeting.edits == 1)
    assert greeting.text == "已报名 ✅"
    assert greeting.buttons == []
    payload = bytes(range(256)) * 40
    await alice.send_document("名单.csv", payload, caption="请查收")
    reply = await emu.wait_for(lambda: emu.last_sent(alice).document and emu.last_sent(alice))
    assert reply.caption == f"{len(payload)} bytes"
    assert reply.document is not None
    assert reply.document.content == payload[::-1]
    await emu.settle()
    assert emu.pending_updates() == []
    assert emu.delivered_count() == 3
