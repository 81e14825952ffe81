"""One flood gate for every request the bot makes, so broadcasts never trip Telegram's limits.

Telegram allows about 30 messages per second overall, 20 per minute in one group and about
one per second in one private chat. PTB's AIORateLimiter counts every request (button
answers too) and stops everything on a 429; this gate counts only what Telegram counts,
lets people waiting on an answer go before a broadcast ("bulk" requests stand aside, and
keep a slot free while answers are being sent), and honours retry_after for the chat it
concerns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

SENDS = frozenset(
    {
        "sendMessage", "sendPhoto", "sendDocument", "sendVideo", "sendAudio", "sendVoice",
        "sendAnimation", "sendMediaGroup", "sendLocation", "sendContact", "sendPoll",
        "sendSticker", "copyMessage", "copyMessages", "forwardMessage", "forwardMessages",
    }
)  # fmt: skip
# Edits count toward a group's per-minute budget (they re-render for every member).
GROUP_EDITS = frozenset({"editMessageText", "editMessageCaption", "editMessageReplyMarkup"})

Result = bool | dict[str, Any] | list[dict[str, Any]]


@dataclass(frozen=True)
class FloodLimits:
    """The budgets, configurable because local deployments (a self-hosted server) differ."""

    overall_per_second: int = 30
    # While people were answered this recently, broadcasts leave them one slot a second.
    interactive_seconds: float = 10.0
    group_per_minute: int = 20
    private_per_second: int = 1
    # Windows are this much longer than Telegram's (seconds per second of window), against
    # clock granularity; jitter between us and Telegram is handled by how requests are
    # counted (see FloodGate), so it need not be wide.
    margin: float = 0.005
    max_retries: int = 2


class _Window:
    """The requests counted against one budget: those in flight, and when the others ended.

    A request occupies its budget from the moment it is let through until a window's
    length after its answer arrived. Telegram counts it at some moment in between, so
    however late the event loop sends a request or the network delivers it, no window
    of Telegram's can ever hold more than the budget: timing requests from when they were
    let through instead, as rate limiters usually do, trips 429s as soon as the process
    is busy enough to delay one request by more than the margin.
    """

    __slots__ = ("ended", "in_flight")

    def __init__(self) -> None:
        self.in_flight = 0
        self.ended: deque[float] = deque()  # answer times, oldest first

    def wait(self, now: float, length: float, limit: int) -> float | None:
        """Seconds until one more request fits; None while only an answer can make room."""
        ended = self.ended
        while ended and ended[0] <= now - length:
            ended.popleft()
        excess = self.in_flight + len(ended) - limit
        if excess < 0:
            return 0.0
        if excess >= len(ended):
            return None
        return ended[excess] + length - now

    @property
    def idle(self) -> bool:
        return not self.in_flight and not self.ended


class FloodGate(BaseRateLimiter[dict[str, Any]]):
    """Sliding-window budgets: overall, per group, per private chat; 429-aware."""

    def __init__(
        self, limits: FloodLimits | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits = limits or FloodLimits()
        self._clock = clock
        self._overall = _Window()
        self._chats: dict[int | str, _Window] = {}
        self._paused_until: dict[int | str | None, float] = {}
        self._answered = asyncio.Event()  # replaced by a fresh one at every answer
        self._next_sweep = clock() + 60.0
        self.waited = 0.0  # total seconds requests spent waiting (for benchmarks)
        self._answers_waiting = 0  # interactive requests held only by the overall budget
        self._last_answer = float("-inf")  # when an interactive request was last counted

    async def initialize(self) -> None:
        """Nothing to prepare."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    def _chat_budget(self, is_group: bool) -> tuple[float, int]:
        if is_group:
            return 60.0 * (1 + self.limits.margin), self.limits.group_per_minute
        return 1.0 + self.limits.margin, self.limits.private_per_second

    def _wait_time(
        self, chat: int | str | None, counted: bool, is_group: bool, bulk: bool
    ) -> tuple[float | None, bool]:
        """Seconds until the request may go (None: when an answer makes room), and whether
        only the overall budget holds it (an interactive request then goes first)."""
        now = self._clock()
        wait: float | None = max(
            self._paused_until.get(None, 0.0) - now,
            self._paused_until.get(chat, 0.0) - now if chat is not None else 0.0,
            0.0,
        )
        if not counted:
            return wait, False
        waits = [wait]
        # A person's own answers come one per action of theirs (Telegram tolerates such
        # bursts); the one-per-second pace is for what we send unasked.
        if chat is not None and (is_group or bulk):
            window = self._chats.get(chat)
            if window is not None:
                waits.append(window.wait(now, *self._chat_budget(is_group)))
        budget = self.limits.overall_per_second
        if bulk and now - self._last_answer < self.limits.interactive_seconds:
            budget -= 1  # someone is being answered: the next answer need not queue
        overall = self._overall.wait(now, 1.0 + self.limits.margin, budget)
        if bulk and self._answers_waiting and overall == 0.0:
            overall = None  # a freed slot goes to the person waiting, not the broadcast
        only_overall = all(w == 0.0 for w in waits) and overall != 0.0
        waits.append(overall)
        if None in waits:
            return None, only_overall
        return max(w for w in waits if w is not None), only_overall

    async def _acquire(
        self, chat: int | str | None, counted: bool, is_group: bool, bulk: bool
    ) -> list[_Window]:
        started = self._clock()
        while True:
            wait, only_overall = self._wait_time(chat, counted, is_group, bulk)
            if wait == 0.0:
                break
            first_in_line = only_overall and counted and not bulk
            self._answers_waiting += first_in_line
            try:
                if wait is None:  # room comes with an answer to a request in flight
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._answered.wait(), 1.0)
                else:
                    await asyncio.sleep(wait)
            finally:
                self._answers_waiting -= first_in_line
        self.waited += self._clock() - started
        if not counted:
            return []
        if not bulk:
            self._last_answer = self._clock()
        windows = [self._overall]
        if chat is not None:
            windows.append(self._chats.setdefault(chat, _Window()))
        for window in windows:
            window.in_flight += 1
        return windows

    def _release(self, windows: list[_Window]) -> None:
        now = self._clock()
        for window in windows:
            window.in_flight -= 1
            window.ended.append(now)
        answered, self._answered = self._answered, asyncio.Event()
        answered.set()
        if now >= self._next_sweep:  # forget chats whose windows have passed
            self._next_sweep = now + 60.0
            length = self._chat_budget(True)[0]
            for key, window in list(self._chats.items()):
                window.wait(now, length, 1)
                if window.idle:
                    del self._chats[key]

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> Result:
        chat = data.get("chat_id")
        chat_key: int | str | None = chat if isinstance(chat, (int, str)) else None
        is_group = (isinstance(chat, int) and chat < 0) or isinstance(chat, str)
        counted = endpoint in SENDS or (endpoint in GROUP_EDITS and is_group)
        bulk = bool(rate_limit_args and rate_limit_args.get("bulk"))
        for attempt in range(self.limits.max_retries + 1):
            windows = await self._acquire(chat_key, counted, is_group, bulk)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                seconds = exc.retry_after
                delay = (
                    seconds.total_seconds() if hasattr(seconds, "total_seconds") else float(seconds)
                )
                # A 429 concerns the chat it names; without a chat it concerns everything.
                self._paused_until[chat_key] = self._clock() + delay
                log.warning("429 on %s for %s: waiting %.1f s", endpoint, chat_key, delay)
                if attempt == self.limits.max_retries:
                    raise
            finally:
                self._release(windows)
        raise AssertionError("unreachable")  # pragma: no cover
