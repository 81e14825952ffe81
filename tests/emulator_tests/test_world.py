"""The world model: members and rights, migration, topics, files, deletion, copies."""

from __future__ import annotations

import pytest
from telegram import Bot, ChatPermissions, ReplyParameters
from telegram.error import BadRequest

from tests.emulator import CannotSend, Emulator, EmulatorError, ManualClock

pytestmark = pytest.mark.asyncio


def kinds(emu: Emulator) -> list[str]:
    return [next(k for k in u if k != "update_id") for u in emu.pending_updates()]


async def test_bot_membership_updates(emu: Emulator, tg: Bot) -> None:
    alice, bob = emu.user("Alice"), emu.user("Bob")
    g = emu.group("第一支部", members=[alice, bob], admins=[bob])
    assert g.id < 0
    await g.add_bot(by=bob)
    await g.promote_bot(rights={"can_pin_messages"})
    await g.kick_bot(by=bob)
    updates = [u for u in emu.pending_updates() if "my_chat_member" in u]
    statuses = [
        (
            u["my_chat_member"]["old_chat_member"]["status"],
            u["my_chat_member"]["new_chat_member"]["status"],
        )
        for u in updates
    ]
    assert statuses == [
        ("left", "member"),
        ("member", "administrator"),
        ("administrator", "kicked"),
    ]
    assert updates[0]["my_chat_member"]["from"]["id"] == bob.id
    assert kinds(emu) == ["my_chat_member", "message", "my_chat_member", "my_chat_member"]
    with pytest.raises(EmulatorError, match="add_bot"):
        await g.promote_bot()
    await alice.start()
    await alice.block_bot()
    await alice.unblock_bot()
    private = [
        u["my_chat_member"]["new_chat_member"]["status"]
        for u in emu.pending_updates()
        if "my_chat_member" in u
    ][-2:]
    assert private == ["kicked", "member"]


async def test_restricted_members_cannot_post_until_the_restriction_ends(
    emu: Emulator, tg: Bot, mclock: ManualClock
) -> None:
    alice, bob = emu.user("Alice"), emu.user("Bob")
    g = emu.group("支部", members=[alice, bob], admins=[bob], supergroup=True)
    await g.add_bot(by=bob, admin=True)
    until = int(mclock() + 3600)
    await tg.restrict_chat_member(
        g.id, alice.id, ChatPermissions(can_send_messages=False), until_date=until
    )
    with pytest.raises(CannotSend, match="can_send_messages is off"):
        await alice.send("我要说话", chat=g)
    member = await tg.get_chat_member(g.id, alice.id)
    assert member.status == "restricted"
    mclock.advance(3601)
    await alice.send("现在可以了", chat=g)
    assert (await tg.get_chat_member(g.id, alice.id)).status == "member"
    await tg.ban_chat_member(g.id, alice.id)
    with pytest.raises(CannotSend, match="not a member"):
        await alice.send("x", chat=g)
    with pytest.raises(BadRequest, match=r"(?i)can.t remove chat owner"):
        await tg.ban_chat_member(g.id, bob.id)
    assert len(emu.take_violations()) == 1
    await tg.unban_chat_member(g.id, alice.id)
    await g.join(alice)
    await alice.send("回来了", chat=g)


async def test_migration_produces_service_messages_and_keeps_the_chat_object(
    emu: Emulator, tg: Bot
) -> None:
    bob = emu.user("Bob")
    g = emu.group("支部", members=[bob], admins=[bob])
    await g.add_bot(by=bob)
    await tg.send_message(g.id, "before")
    old_id = g.id
    new_id = await g.migrate_to_supergroup()
    services = [u["message"] for u in emu.pending_updates() if "message" in u][-2:]
    assert services[0]["migrate_to_chat_id"] == new_id
    assert services[0]["chat"]["id"] == old_id
    assert services[1]["migrate_from_chat_id"] == old_id
    assert services[1]["chat"] == {"id": new_id, "type": "supergroup", "title": "支部"}
    await tg.send_message(new_id, "after")
    assert [m.text for m in emu.sent_to(g)] == ["after"]
    assert [m.text for m in emu.sent_to(old_id)] == ["before"]
    assert emu.chat(old_id) is g
    assert (await tg.get_chat(new_id)).type == "supergroup"


async def test_forum_topics(emu: Emulator, tg: Bot) -> None:
    alice, bob = emu.user("Alice"), emu.user("Bob")
    g = emu.group("论坛", members=[alice, bob], admins=[bob], forum=True)
    await g.add_bot(by=bob, admin=True)
    tid = await g.create_topic("通知")
    await alice.send("/ask in topic", chat=g, thread_id=tid)
    update = emu.pending_updates()[-1]["message"]
    assert update["message_thread_id"] == tid
    assert update["is_topic_message"] is True
    sent = await tg.send_message(g.id, "回复", message_thread_id=tid)
    assert sent.message_thread_id == tid
    assert emu.last_sent(g).thread_id == tid
    topic = await tg.create_forum_topic(g.id, "会议")
    assert topic.message_thread_id in g.topics
    with pytest.raises(BadRequest, match=r"(?i)message thread not found"):
        await tg.send_message(g.id, "x", message_thread_id=9999)
    assert len(emu.take_violations()) == 1
    with pytest.raises(EmulatorError, match="no forum topic"):
        await alice.send("x", chat=g, thread_id=9999)


async def test_files_upload_reuse_and_download(emu: Emulator, tg: Bot) -> None:
    alice = emu.user("Alice")
    await alice.start()
    doc = await tg.send_document(alice.id, b"a,b\n1,2\n", filename="名单.csv")
    assert doc.document is not None
    assert doc.document.file_name == "名单.csv"
    assert doc.document.mime_type == "text/csv"
    again = await tg.send_document(alice.id, doc.document.file_id)
    assert again.document is not None
    assert again.document.file_unique_id == doc.document.file_unique_id
    photo = await tg.send_photo(
        alice.id, b"\xff\xd8fakejpeg", caption="<b>照片</b>", parse_mode="HTML"
    )
    assert photo.caption == "照片"
    assert len(photo.photo) == 2
    file = await tg.get_file(photo.photo[-1].file_id)
    assert bytes(await file.download_as_bytearray()) == b"\xff\xd8fakejpeg"
    with pytest.raises(BadRequest, match=r"(?i)can't use file of type photo as document"):
        await tg.send_document(alice.id, photo.photo[-1].file_id)
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await tg.send_document(alice.id, "nonsense")
    assert len(emu.take_violations()) == 2
    sent = await alice.send_document("报告.pdf", b"%PDF-1.4", caption="请审阅")
    assert sent.document is not None
    got = await tg.get_file(sent.document.file_id)
    assert bytes(await got.download_as_bytearray()) == b"%PDF-1.4"


async def test_delete_copy_forward_and_replies(emu: Emulator, tg: Bot, mclock: ManualClock) -> None:
    alice, bob = emu.user("Alice"), emu.user("Bob")
    await alice.start()
    g = emu.group("支部", members=[alice, bob], admins=[bob], supergroup=True)
    await g.add_bot(by=bob)
    said = await alice.send("/report 内容", chat=g)
    copy = await tg.copy_message(alice.id, g.id, said.message_id)
    assert emu.last_sent(alice).text == "/report 内容"
    fwd = await tg.forward_message(alice.id, g.id, said.message_id)
    assert fwd.forward_origin is not None
    assert copy.message_id + 1 == fwd.message_id
    with pytest.raises(BadRequest, match=r"(?i)message can't be deleted"):
        await tg.delete_message(g.id, said.message_id)  # someone else's, bot not admin
    reply = await tg.send_message(g.id, "收到", reply_parameters=ReplyParameters(said.message_id))
    assert reply.reply_to_message is not None
    with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
        await tg.send_message(g.id, "x", reply_parameters=ReplyParameters(999))
    await tg.send_message(
        g.id, "ok", reply_parameters=ReplyParameters(999, allow_sending_without_reply=True)
    )
    await tg.delete_message(g.id, reply.message_id)
    assert [m.text for m in emu.sent_to(g)] == ["ok"]
    assert emu.sent_to(g, include_deleted=True)[0].deleted
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await tg.delete_message(g.id, reply.message_id)
    mclock.advance(49 * 3600)
    with pytest.raises(BadRequest, match=r"(?i)can't be deleted for everyone"):
        await tg.delete_message(g.id, emu.last_sent(g).message_id)
    assert len(emu.take_violations()) == 4
