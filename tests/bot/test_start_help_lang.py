"""/start, /help and /lang through the emulator, as people would use them."""

from __future__ import annotations

from sqlalchemy import select

from bot.app import build_deps
from services.chats import get_chat
from storage.models import User
from tests.bot.conftest import BotUnderTest, bot_config, start_bot, stop_bot
from tests.conftest import FakeClock
from tests.emulator import Emulator


async def test_start_in_private_greets_by_name_in_chinese(emu: Emulator, bot: BotUnderTest) -> None:
    wang = emu.user("王芳", language_code="zh-hans")
    await wang.start()
    await bot.settle()
    reply = emu.last_sent(wang)
    assert "王芳，您好" in reply.content
    assert "/help" in reply.content


async def test_start_answers_in_english_for_an_english_app(
    emu: Emulator, bot: BotUnderTest
) -> None:
    john = emu.user("John", language_code="en")
    await john.start()
    await bot.settle()
    assert emu.last_sent(john).content.startswith("Hello, John!")


async def test_other_app_languages_get_the_default_chinese(
    emu: Emulator, bot: BotUnderTest
) -> None:
    pierre = emu.user("Pierre", language_code="fr")
    await pierre.start()
    await bot.settle()
    assert "您好" in emu.last_sent(pierre).content


async def test_hostile_names_are_escaped_and_never_trip_limits(
    emu: Emulator, bot: BotUnderTest
) -> None:
    name = "<b>王&芳</b> 🇨🇳 <script>" + "长" * 200
    odd = emu.user(name, last_name="&amp; <i>", language_code="zh-hans")
    await odd.start()
    await odd.send("/help")
    group = emu.group("第一支部 <测试>", members=[odd], admins=[odd])
    await group.add_bot(by=odd)
    await odd.send("/start", chat=group)
    await bot.settle()
    greeting = emu.sent_to(odd)[0]
    assert name in greeting.content  # shown literally, not interpreted as markup
    assert "&amp; <i>" in greeting.content
    assert name in emu.last_sent(group).content


async def test_help_lists_commands_for_the_chat(emu: Emulator, bot: BotUnderTest) -> None:
    wang = emu.user("王芳")
    group = emu.group("第一支部", members=[wang], admins=[wang])
    await group.add_bot(by=wang)
    await wang.start()
    await wang.send("/help")
    await wang.send("/help", chat=group)
    await bot.settle()
    private, in_group = emu.last_sent(wang).content, emu.last_sent(group).content
    assert "/lang — 切换语言" in private
    assert "/start — 开始使用" in private
    assert "/lang" not in in_group  # a personal setting: offered in private only
    assert "/help — 查看帮助" in in_group


async def test_lang_switches_to_english_and_is_remembered_across_restarts(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    wang = emu.user("王芳", language_code="zh-hans")
    await wang.start()
    await wang.send("/lang")
    await bot.settle()
    chooser = emu.last_sent(wang)
    assert chooser.button_texts() == ["简体中文", "English"]
    await wang.press(chooser, "English")
    await bot.settle()
    assert "Language set to English" in emu.last_sent(wang).content
    assert emu.last_sent(wang).buttons == []
    assert wang.last_alert() is not None

    # A fresh process with the same database still knows the choice.
    await stop_bot(bot)
    cfg = bot_config(emu, bot.deps.db.url)
    again = await start_bot(cfg, build_deps(cfg, clock=clock, db=bot.deps.db), emu)
    try:
        await wang.send("/help")
        await again.settle()
        assert emu.last_sent(wang).content.startswith("Commands")
        await wang.send("/lang")
        await again.settle()
        await wang.press(emu.last_sent(wang), "简体中文")
        await again.settle()
        assert "已切换为简体中文" in emu.last_sent(wang).content
    finally:
        await stop_bot(again)
    assert again.errors == []


async def test_lang_in_a_group_points_to_a_private_chat(emu: Emulator, bot: BotUnderTest) -> None:
    wang = emu.user("王芳")
    group = emu.group("第一支部", members=[wang], admins=[wang])
    await group.add_bot(by=wang)
    await wang.send("/lang", chat=group)
    await bot.settle()
    reply = emu.last_sent(group)
    [button] = reply.buttons[0]
    assert button.url == f"https://t.me/{emu.bot_username}?start=lang"
    # The deep link opens the chooser.
    await wang.start(payload="lang")
    await bot.settle()
    assert emu.last_sent(wang).button_texts() == ["简体中文", "English"]


async def test_forged_or_stale_buttons_change_nothing(emu: Emulator, bot: BotUnderTest) -> None:
    wang = emu.user("王芳")
    await wang.start()
    await wang.send("/lang")
    await bot.settle()
    chooser = emu.last_sent(wang)
    for forged in ("lang:fr", "lang:en:extra", "meeting:42:y", "x" * 64):
        await wang.press_raw(chooser, data=forged)
        await bot.settle()
        alert = wang.last_alert()
        assert alert is not None
        assert alert.text == "这个按钮已失效，请重新操作。"
        assert alert.show_alert
    async with bot.deps.db.read() as s:
        assert (await s.scalar(select(User.locale).where(User.id == wang.id))) is None


async def test_unexpected_private_messages_get_a_hint(emu: Emulator, bot: BotUnderTest) -> None:
    wang = emu.user("王芳")
    await wang.start()
    await wang.send("你好")
    await bot.settle()
    assert "/help" in emu.last_sent(wang).content
    await wang.send("/nosuchcommand")
    await bot.settle()
    assert "不认识这个命令" in emu.last_sent(wang).content


async def test_command_menus_are_published_per_language_and_scope(
    emu: Emulator, bot: BotUnderTest
) -> None:
    default = emu.commands(scope={"type": "default"})
    english = emu.commands(scope={"type": "all_private_chats"}, language_code="en")
    groups = emu.commands(scope={"type": "all_group_chats"}, language_code="zh")
    admins = emu.commands(scope={"type": "all_chat_administrators"}, language_code="zh")
    assert [c["command"] for c in default] == [
        "start", "help", "register", "me", "members", "meetings", "dues", "lang", "cancel",
        "myid",
    ]  # fmt: skip
    assert english[1] == {"command": "help", "description": "Show help"}
    assert [c["command"] for c in groups] == ["start", "help", "register"]
    # Admin commands only where admins see them.
    assert [c["command"] for c in admins] == ["start", "help", "register", "bind"]


async def test_bot_added_to_a_group_introduces_itself_and_is_remembered(
    emu: Emulator, bot: BotUnderTest
) -> None:
    secretary = emu.user("李书记")
    group = emu.group("第二支部", members=[secretary], admins=[secretary])
    await group.add_bot(by=secretary)
    await bot.settle()
    assert "支部助手" in emu.last_sent(group).content
    chat = await get_chat(bot.deps.db, group.id)
    assert chat is not None
    assert chat.active
    await group.kick_bot(by=secretary)
    await bot.settle()
    chat = await get_chat(bot.deps.db, group.id)
    assert chat is not None
    assert not chat.active


async def test_group_migration_is_followed(emu: Emulator, bot: BotUnderTest) -> None:
    secretary = emu.user("李书记")
    group = emu.group("第二支部", members=[secretary], admins=[secretary])
    await group.add_bot(by=secretary, admin=True)
    await bot.settle()
    old_id = group.id
    new_id = await group.migrate_to_supergroup()
    await bot.settle()
    new = await get_chat(bot.deps.db, new_id)
    old = await get_chat(bot.deps.db, old_id)
    assert new is not None
    assert new.active
    assert new.type == "supergroup"
    assert old is not None
    assert old.migrated_to == new_id


async def test_blocking_the_bot_is_recorded(emu: Emulator, bot: BotUnderTest) -> None:
    wang = emu.user("王芳")
    await wang.start()
    await bot.settle()
    await wang.block_bot()
    await bot.settle()
    async with bot.deps.db.read() as s:
        row = await s.get(User, wang.id)
        assert row is not None
        assert row.blocked_at is not None
    await wang.unblock_bot()
    await wang.start()
    await bot.settle()
    async with bot.deps.db.read() as s:
        row = await s.get(User, wang.id, populate_existing=True)
        assert row is not None
        assert row.blocked_at is None
