"""One flood gate for every request the bot makes, so broadcasts never trip Telegram's limits.

Telegram allows about 30 messages per second overall, 20 per minute in one group and about
one per second in one private chat. PTB's AIORateLimiter counts every request (button
answers too) and stops everything on a 429; this gate counts only what Telegram counts,
keeps one slot a second free for people waiting on an answer while a broadcast runs
("bulk" requests stand aside), and honours retry_after for the chat it concerns.
"""

from __future__ import annotations

import asyncio
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
    bulk_per_second: int = 29  # broadcasts leave the rest for interactive answers
    group_per_minute: int = 20
    private_per_second: int = 1
    # Counted windows are this much longer than Telegram's, so jitter between our clock and
    # the moment a request reaches Telegram never squeezes one request too many into them.
    margin: float = 0.03
    max_retries: int = 2


class FloodGate(BaseRateLimiter[dict[str, Any]]):
    """Sliding-window budgets: overall, per group, per private chat; 429-aware."""

    def __init__(
        self, limits: FloodLimits | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits = limits or FloodLimits()
        self._clock = clock
        self._overall: deque[float] = deque()
        self._chats: dict[int | str, deque[float]] = {}
        self._paused_until: dict[int | str | None, float] = {}
        self.waited = 0.0  # total seconds requests spent waiting (for benchmarks)

    async def initialize(self) -> None:
        """Nothing to prepare."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    def _window(self, chat: int | str, is_group: bool) -> tuple[deque[float], float, int]:
        window = self._chats.setdefault(chat, deque())
        if is_group:
            return window, 60.0 + self.limits.margin * 10, self.limits.group_per_minute
        return window, 1.0 + self.limits.margin, self.limits.private_per_second

    def _wait_time(
        self, chat: int | str | None, counted: bool, is_group: bool, bulk: bool
    ) -> float:
        now = self._clock()
        wait = max(
            self._paused_until.get(None, 0.0) - now,
            self._paused_until.get(chat, 0.0) - now if chat is not None else 0.0,
            0.0,
        )
        if not counted:
            return wait
        span = 1.0 + self.limits.margin
        while self._overall and self._overall[0] <= now - span:
            self._overall.popleft()
        budget = self.limits.bulk_per_second if bulk else self.limits.overall_per_second
        if len(self._overall) >= budget:
            wait = max(wait, self._overall[len(self._overall) - budget] + span - now)
        if chat is not None:
            window, length, limit = self._window(chat, is_group)
            while window and window[0] <= now - length:
                window.popleft()
            # A person's own answers come one per action of theirs (Telegram tolerates
            # such bursts); the one-per-second pace is for what we send unasked.
            if len(window) >= limit and (is_group or bulk):
                wait = max(wait, window[len(window) - limit] + length - now)
        return wait

    async def _acquire(
        self, chat: int | str | None, counted: bool, is_group: bool, bulk: bool
    ) -> None:
        started = self._clock()
        while (wait := self._wait_time(chat, counted, is_group, bulk)) > 0:  # noqa: ASYNC110
            await asyncio.sleep(wait)
        if counted:
            now = self._clock()
            self._overall.append(now)
            if chat is not None:
                self._window(chat, is_group)[0].append(now)
        self.waited += self._clock() - started

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
            await self._acquire(chat_key, counted, is_group, bulk)
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
        raise AssertionError("unreachable")  # pragma: no cover
