"""Which updates wait for each other in PerChatUpdateProcessor, and which run side by side."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from telegram import CallbackQuery, Chat, Message, Update, User

from bot.processor import PerChatUpdateProcessor

GROUP = Chat(-100123, Chat.SUPERGROUP, title="支部群")
WHEN = datetime(2026, 11, 22, tzinfo=UTC)


def _person(uid: int) -> User:
    return User(uid, "用户", is_bot=False)


def _press(update_id: int, chat: Chat, uid: int) -> Update:
    message = Message(1, WHEN, chat, from_user=User(1, "bot", is_bot=True))
    query = CallbackQuery(str(update_id), _person(uid), "ci", message=message, data="x")
    return Update(update_id, callback_query=query)


def _text(update_id: int, chat: Chat, uid: int) -> Update:
    return Update(update_id, message=Message(update_id, WHEN, chat, from_user=_person(uid)))


async def _overlaps(first: Update, second: Update) -> bool:
    """Run two updates whose handlers each take a moment; True when they ran at once."""
    processor = PerChatUpdateProcessor()
    running: list[int] = []
    peak = 0

    async def handler() -> None:
        nonlocal peak
        running.append(1)
        peak = max(peak, len(running))
        await asyncio.sleep(0.05)
        running.pop()

    await asyncio.gather(
        processor.do_process_update(first, handler()),
        processor.do_process_update(second, handler()),
    )
    assert processor.idle
    return peak == 2


async def test_presses_of_different_people_in_one_group_run_side_by_side() -> None:
    assert await _overlaps(_press(1, GROUP, 11), _press(2, GROUP, 12))


async def test_one_persons_presses_in_a_group_stay_in_order() -> None:
    assert not await _overlaps(_press(1, GROUP, 11), _press(2, GROUP, 11))


async def test_group_messages_stay_in_the_groups_order() -> None:
    assert not await _overlaps(_text(1, GROUP, 11), _text(2, GROUP, 12))


async def test_a_wizards_typed_answer_and_press_in_private_stay_in_order() -> None:
    private = Chat(11, Chat.PRIVATE)
    assert not await _overlaps(_text(1, private, 11), _press(2, private, 11))


async def test_different_private_chats_run_side_by_side() -> None:
    first, second = Chat(11, Chat.PRIVATE), Chat(12, Chat.PRIVATE)
    assert await _overlaps(_text(1, first, 11), _text(2, second, 12))
