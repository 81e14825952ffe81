"""Updates from different chats run in parallel; updates from one chat stay in order.

Two things happen as an update arrives, before it waits in its chat's line: the per-person
limit drops the excess of someone sending too fast (such an update runs at once, out of
line: the handlers only answer it), and a button press gets a deadline, after which it is
answered silently if its handler has not answered it (it may be waiting behind the same
person's earlier updates), so no button spins on anyone's phone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

from telegram import CallbackQuery, Update
from telegram.error import TelegramError
from telegram.ext import BaseUpdateProcessor

from bot.flood import PressAnswers
from services.throttle import UserThrottle, Verdict

log = logging.getLogger(__name__)
_UNBOUNDED = 1 << 30


def _ordering_key(update: object) -> object:
    """Updates sharing a key are processed one after another, in arrival order."""
    if isinstance(update, Update):
        chat, user = update.effective_chat, update.effective_user
        if (
            update.callback_query is not None
            and chat is not None
            and user is not None
            and chat.type != chat.PRIVATE  # a wizard's typed and pressed steps stay in order
        ):
            # Button presses of different people in one group are independent (each is
            # re-checked against the database): when a notice lands, a branch's members
            # press within a second of each other, and queueing them behind each other in
            # the group's line made the fifth wait for the four before it.
            return ("press", chat.id, user.id)
        if update.effective_chat is not None:
            return ("chat", update.effective_chat.id)
        if update.effective_user is not None:
            return ("user", update.effective_user.id)
    return ("global", None)


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Concurrency across chats without reordering a person's wizard steps.

    PTB's default processes one update at a time (one slow reply stalls everybody), and
    `concurrent_updates(True)` loses per-chat order. This keeps order per chat and knows
    when it is idle, which graceful shutdown and the tests rely on.
    """

    # An update spends most of its time waiting (database, Telegram), not computing: with
    # 64 at a time, 100 presses a second during a broadcast queued for seconds before
    # starting (measured: p50 6.7 s on SQLite, 0.5 s with 256).
    def __init__(self, max_concurrent_updates: int = 256) -> None:
        # PTB's bound is taken before the chat's line: updates waiting behind a chat's
        # earlier ones (a crowd's) then held every slot, and a newcomer's /help waited for
        # the crowd's backlog. Ours is taken in line (PTB's is left wide open).
        super().__init__(_UNBOUNDED)
        self._slots = asyncio.Semaphore(max_concurrent_updates)
        self._locks: dict[object, tuple[asyncio.Lock, int]] = {}
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.processed = 0
        self.throttle: UserThrottle | None = None  # the per-person limit, set by the app
        self.presses: PressAnswers | None = None  # the flood gate's record of press answers
        self._late_answers: set[asyncio.Task[None]] = set()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        self._in_flight += 1
        self._idle.clear()
        try:
            if isinstance(update, Update) and self._dropped(update):
                await coroutine  # out of line: the handlers only answer it
                return
            await self._in_line(update, coroutine)
        finally:
            self._in_flight -= 1
            self.processed += 1
            if self._in_flight == 0:
                self._idle.set()

    async def _in_line(self, update: object, coroutine: Awaitable[Any]) -> None:
        query = update.callback_query if isinstance(update, Update) else None
        timer = self._watch(query) if query is not None else None
        key = _ordering_key(update)
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock, self._slots:
                await coroutine
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)
            if timer is not None:
                timer.cancel()
                assert query is not None
                self._answer_if_pending(query)  # its handler did not answer: do it now

    def _dropped(self, update: Update) -> bool:
        """Whether the per-person limit drops this update (its verdict waits for the handlers)."""
        if self.throttle is None:
            return False
        # Only what a person sends is limited; membership changes always count.
        if (
            update.message is None
            and update.callback_query is None
            and (update.edited_message is None)
        ):
            return False
        user = update.effective_user
        if user is None or user.is_bot:
            return False
        return self.throttle.arrive(user.id, update.update_id) is not Verdict.PASS

    def _watch(self, query: CallbackQuery) -> asyncio.TimerHandle | None:
        presses = self.presses
        if presses is None:
            return None
        presses.arrived(query.id)
        loop = asyncio.get_running_loop()
        return loop.call_later(presses.answer_within, self._answer_if_pending, query)

    def _answer_if_pending(self, query: CallbackQuery) -> None:
        if self.presses is None or not self.presses.pending(query.id):
            return
        task = asyncio.get_running_loop().create_task(self._answer(query))
        self._late_answers.add(task)
        task.add_done_callback(self._late_answers.discard)

    async def _answer(self, query: CallbackQuery) -> None:
        try:
            await query.answer()
        except TelegramError as exc:
            log.warning("could not answer a press in time: %s", exc)

    @property
    def idle(self) -> bool:
        return self._in_flight == 0

    async def wait_idle(self) -> None:
        """Return once no update is being processed."""
        await self._idle.wait()

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Finish the answers to presses in hand (PTB waits for in-flight updates first)."""
        if self._late_answers:
            await asyncio.gather(*self._late_answers, return_exceptions=True)
