"""Spec validation and Telegram's limits, driven through the real python-telegram-bot Bot."""

from __future__ import annotations

import html

import httpx
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChatAdministrators,
    ChatPermissions,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
)
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter

from tests.emulator import Emulator, ManualClock

pytestmark = [
    pytest.mark.asyncio,
    # RetryAfter's message reads the deprecated int retry_after inside PTB itself.
    pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning"),
]


async def raw_call(emu: Emulator, method: str, **params: object) -> httpx.Response:
    """A Bot API call PTB would refuse to build (missing or mistyped parameters)."""
    async with httpx.AsyncClient() as client:
        return await client.post(f"{emu.base_url}{emu.token}/{method}", json=params)


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d)] for t, d in pairs])


async def test_text_limits_count_utf16_after_parsing(emu: Emulator, tg: Bot) -> None:
    alice = emu.user("Alice")
    await alice.start()
    await tg.send_message(alice.id, "x" * 4096)
    await tg.send_message(alice.id, "😀" * 2048)  # 4096 UTF-16 units
    await tg.send_message(alice.id, "<b>" + "y" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await tg.send_message(alice.id, "😀" * 2048 + "z")
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await tg.send_message(alice.id, "<b> </b>", parse_mode="HTML")
    assert emu.take_violations() == [
        "sendMessage: Bad Request: message is too long",
        "sendMessage: Bad Request: message text is empty",
    ]
    assert [len(m.text or "") for m in emu.sent_to(alice)] == [4096, 2048, 4096]


async def test_caption_limit(emu: Emulator, tg: Bot) -> None:
    alice = emu.user("Alice")
    await alice.start()
    await tg.send_document(alice.id, b"data", filename="a.txt", caption="c" * 1024)
    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await tg.send_document(alice.id, b"data", filename="a.txt", caption="c" * 1025)
    assert len(emu.take_violations()) == 1


async def test_callback_data_is_limited_to_64_bytes(emu: Emulator, tg: Bot) -> None:
    alice = emu.user("Alice")
    await alice.start()
    await tg.send_message(alice.id, "ok", reply_markup=keyboard(("a", "x" * 64), ("b", "参" * 21)))
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await tg.send_message(alice.id, "no", reply_markup=keyboard(("a", "x" * 65)))
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await tg.send_message(alice.id, "no", reply_markup=keyboard(("a", "参" * 22)))
    assert len(emu.take_violations()) == 2
    assert emu.last_sent(alice).buttons[1][0].callback_data == "参" * 21


async def test_unescaped_html_fails_and_escaped_names_pass(emu: Emulator, tg: Bot) -> None:
    odd = emu.user("<b>王&芳</b> 🇨🇳", last_name="A&B <C>")
    await odd.start()
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities: unsupported html entity"):
        await tg.send_message(odd.id, f"<b>{odd.full_name}</b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await tg.send_message(odd.id, "Tom & Jerry", parse_mode="HTML")
    assert len(emu.take_violations()) == 2
    sent = await tg.send_message(
        odd.id, f"<b>{html.escape(odd.full_name)}</b> 您好", parse_mode="HTML"
    )
    assert sent.text == f"{odd.full_name} 您好"
    assert sent.entities[0].length == len(odd.full_name.encode("utf-16-le")) // 2
    msg = emu.last_sent(odd)
    assert msg.text == f"{odd.full_name} 您好"
    assert msg.html is not None
    assert msg.html.startswith("<b>&lt;b&gt;")
    # Without parse_mode nothing is parsed, so raw names are fine.
    await tg.send_message(odd.id, odd.full_name)


async def test_markdown_is_refused_by_the_emulator(emu: Emulator, tg: Bot) -> None:
    alice = emu.user("Alice")
    await alice.start()
    with pytest.raises(BadRequest, match=r"(?i)emulator: use HTML"):
        await tg.send_message(alice.id, "*hi*", parse_mode="MarkdownV2")
    assert emu.take_violations() == ["sendMessage: emulator: use HTML, not MarkdownV2"]


async def test_spec_violations_are_rejected(emu: Emulator, tg: Bot) -> None:
    alice = emu.user("Alice")
    await alice.start()
    with pytest.raises(BadRequest, match=r'(?i)unknown method "frobnicate"'):
        await tg.do_api_request("frobnicate")
    missing = await raw_call(emu, "sendMessage", text="x")
    assert missing.status_code == 400
    assert missing.json() == {
        "ok": False,
        "error_code": 400,
        "description": 'Bad Request: parameter "chat_id" is required for method sendMessage',
    }
    with pytest.raises(BadRequest, match=r'(?i)unknown parameter "colour"'):
        await tg.send_message(alice.id, "x", api_kwargs={"colour": "red"})
    with pytest.raises(BadRequest, match=r'(?i)"disable_notification" must be a Boolean'):
        await tg.send_message(alice.id, "x", api_kwargs={"disable_notification": "maybe"})
    mistyped = await raw_call(emu, "getChatMember", chat_id=alice.id, user_id="bob")
    assert '"user_id" must be an Integer' in mistyped.json()["description"]
    with pytest.raises(BadRequest, match=r"(?i)emulator: method sendDice not implemented"):
        await tg.send_dice(alice.id)
    assert len(emu.take_violations()) == 6


async def test_raw_json_and_form_requests_are_understood(emu: Emulator) -> None:
    alice = emu.user("Alice")
    await alice.start()
    url = f"{emu.base_url}{emu.token}"
    async with httpx.AsyncClient() as client:
        ok = await client.post(f"{url}/sendMessage", json={"chat_id": alice.id, "text": "json"})
        form = await client.post(f"{url}/SENDMESSAGE", data={"chat_id": str(alice.id), "text": "f"})
        wrong = await client.post(f"{emu.base_url}1:wrong/getMe")
    assert ok.json()["result"]["text"] == "json"
    assert form.json()["ok"] is True
    assert wrong.status_code == 401
    assert emu.take_violations() == ["request with wrong token '1:wrong'"]


async def test_message_not_modified_is_harmless_but_counted(emu: Emulator, tg: Bot) -> None:
    alice = emu.user("Alice")
    await alice.start()
    kb = keyboard(("a", "a"))
    sent = await tg.send_message(alice.id, "<b>v1</b>", parse_mode="HTML", reply_markup=kb)
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await tg.edit_message_text(
            "<b>v1</b>", alice.id, sent.message_id, parse_mode="HTML", reply_markup=kb
        )
    assert emu.stats["not_modified"] == 1
    # Same text but no markup: the keyboard is removed, which is a modification.
    await tg.edit_message_text("<b>v1</b>", alice.id, sent.message_id, parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await tg.edit_message_reply_markup(alice.id, sent.message_id)
    msg = emu.last_sent(alice)
    assert (msg.edits, msg.buttons, msg.history) == (1, [], ["v1"])
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await tg.edit_message_text("x", alice.id, 999)
    assert emu.take_violations() == ["editMessageText: Bad Request: message to edit not found"]


async def test_flood_fault_raises_retry_after_without_a_violation(emu: Emulator, tg: Bot) -> None:
    alice = emu.user("Alice")
    await alice.start()
    emu.fail_next("sendMessage", kind="429", retry_after=2)
    with pytest.raises(RetryAfter, match="Retry in 2 seconds"):
        await tg.send_message(alice.id, "x")
    await tg.send_message(alice.id, "y")
    assert emu.stats["429"] == 1
    assert [m.text for m in emu.sent_to(alice)] == ["y"]


async def test_flood_limits_follow_the_emulator_clock(
    emu: Emulator, tg: Bot, mclock: ManualClock
) -> None:
    emu.flood_limits = True
    alice = emu.user("Alice")
    await alice.start()
    for text in "123":  # a private chat tolerates a short burst
        await tg.send_message(alice.id, text)
    with pytest.raises(RetryAfter, match="Retry in 3 seconds"):
        await tg.send_message(alice.id, "4")
    mclock.advance(3)
    await tg.send_message(alice.id, "4")
    bob = emu.user("Bob")
    g = emu.group("群", members=[bob], admins=[bob])
    await g.add_bot(by=bob)
    for i in range(20):
        await tg.send_message(g.id, str(i))
        mclock.advance(0.5)
    with pytest.raises(RetryAfter, match="Retry in 50 seconds"):
        await tg.send_message(g.id, "21st")
    mclock.advance(50)
    await tg.send_message(g.id, "21st")
    assert emu.stats["429"] == 2


async def test_chat_migrated_and_forbidden_are_not_violations(emu: Emulator, tg: Bot) -> None:
    alice, bob, never = emu.user("Alice"), emu.user("Bob"), emu.user("Never")
    g = emu.group("支部", members=[alice, bob], admins=[bob])
    await g.add_bot(by=bob)
    old_id = g.id
    new_id = await g.migrate_to_supergroup()
    assert new_id < -1_000_000_000_000
    assert g.id == new_id
    with pytest.raises(ChatMigrated) as migrated:
        await tg.send_message(old_id, "hi")
    assert migrated.value.new_chat_id == new_id
    await tg.send_message(new_id, "hi")
    with pytest.raises(Forbidden, match="bot can't initiate conversation with a user"):
        await tg.send_message(never.id, "hi")
    await alice.start()
    await alice.block_bot()
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await tg.send_message(alice.id, "hi")
    await g.kick_bot(by=bob)
    with pytest.raises(Forbidden, match="bot was kicked from the supergroup chat"):
        await tg.send_message(g.id, "hi")
    other = emu.group("别的群", members=[bob])
    with pytest.raises(Forbidden, match="bot is not a member of the group chat"):
        await tg.send_message(other.id, "hi")
    assert emu.stats["403"] == 4
    assert emu.stats["migrated"] == 1


async def test_commands_are_validated_and_stored_per_scope_and_language(
    emu: Emulator, tg: Bot
) -> None:
    bob = emu.user("Bob")
    g = emu.group("支部", members=[bob], admins=[bob], supergroup=True)
    await g.add_bot(by=bob)
    await tg.set_my_commands([BotCommand("start", "开始"), BotCommand("help", "帮助")])
    await tg.set_my_commands(
        [BotCommand("help", "Help")], scope=BotCommandScopeAllPrivateChats(), language_code="en"
    )
    await tg.set_my_commands(
        [BotCommand("ban", "封禁")], scope=BotCommandScopeChatAdministrators(g.id)
    )
    assert [c["command"] for c in emu.commands()] == ["start", "help"]
    assert emu.commands("all_private_chats", "en") == [{"command": "help", "description": "Help"}]
    assert emu.commands({"type": "chat_administrators", "chat_id": g.id})[0]["command"] == "ban"
    assert emu.commands("all_private_chats") == []  # no fallback between languages
    got = await tg.get_my_commands(scope=BotCommandScopeAllPrivateChats(), language_code="en")
    assert [c.command for c in got] == ["help"]
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await tg.set_my_commands([BotCommand("Start", "x")])
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_DESCRIPTION_INVALID"):
        await tg.set_my_commands([BotCommand("start", "x" * 257)])
    with pytest.raises(BadRequest, match=r"(?i)LANG_CODE_INVALID"):
        await tg.set_my_commands([BotCommand("start", "x")], language_code="zh-hans")
    assert len(emu.take_violations()) == 3


async def test_callback_answers_once_within_the_window(
    emu: Emulator, tg: Bot, mclock: ManualClock
) -> None:
    alice = emu.user("Alice")
    await alice.start()
    await tg.send_message(alice.id, "vote", reply_markup=keyboard(("参加", "rsvp:1:y")))
    msg = emu.last_sent(alice)
    q1 = await alice.press(msg, "参加")
    q2 = await alice.press(msg, "rsvp:1:y")  # by callback_data works too
    q3 = await alice.press_raw(msg, data="forged:1")
    await tg.answer_callback_query(q1, text="已报名", show_alert=True)
    assert emu.callback_answers[q1] == ("已报名", True)
    assert alice.last_alert() == ("已报名", True)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await tg.answer_callback_query(q1)
    with pytest.raises(BadRequest, match=r"(?i)MESSAGE_TOO_LONG"):
        await tg.answer_callback_query(q2, text="x" * 201)
    mclock.advance(16)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await tg.answer_callback_query(q3)
    assert [v.split(":")[0] for v in emu.take_violations()] == ["answerCallbackQuery"] * 3
    assert {q.id for q in emu.unanswered_callbacks()} == {q2, q3}
    kinds = [u["callback_query"]["data"] for u in emu.pending_updates() if "callback_query" in u]
    assert kinds == ["rsvp:1:y", "rsvp:1:y", "forged:1"]


async def test_rights_are_enforced_for_pins_and_restrictions(emu: Emulator, tg: Bot) -> None:
    alice, bob = emu.user("Alice"), emu.user("Bob")
    g = emu.group("支部", members=[alice, bob], admins=[bob], supergroup=True)
    await g.add_bot(by=bob)
    sent = await tg.send_message(g.id, "通知")
    with pytest.raises(BadRequest, match=r"(?i)not enough rights to manage pinned messages"):
        await tg.pin_chat_message(g.id, sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)not enough rights to restrict"):
        await tg.restrict_chat_member(g.id, alice.id, ChatPermissions(can_send_messages=False))
    assert len(emu.take_violations()) == 2
    await g.promote_bot(rights={"can_pin_messages", "can_restrict_members"})
    await tg.pin_chat_message(g.id, sent.message_id)
    assert emu.last_sent(g).pinned
    assert (await tg.get_chat(g.id)).pinned_message is not None
    await tg.restrict_chat_member(g.id, alice.id, ChatPermissions(can_send_messages=False))
    member = await tg.get_chat_member(g.id, alice.id)
    assert member.status == "restricted"
    admins = await tg.get_chat_administrators(g.id)
    assert {a.user.id for a in admins} == {bob.id, emu.bot.id}
    assert await tg.get_chat_member_count(g.id) == 3
