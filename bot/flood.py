"""One flood gate for every request the bot makes, so neither broadcasts nor crowds trip
Telegram's limits.

Telegram allows about 30 messages per second overall, 20 per minute in one group and about
one per second in one private chat (short bursts tolerated). PTB's AIORateLimiter counts
every request (button answers too) and stops everything on a 429; this gate counts only
what Telegram counts, lets people waiting on an answer go before a broadcast ("bulk"
requests stand aside, and keep a slot free while answers are being sent), and honours
retry_after for the chat it concerns. Besides:
- button answers (answerCallbackQuery) are not counted by Telegram and never wait here;
  each press is answered once, and never after Telegram's window (`PressAnswers`);
- direct replies and edits are retried after a 429, a 5xx or a timeout (a few times);
  a reply that could only go out long after the fact (a group's budget spent by a crowd)
  is given up (`ui.flood.ReplyDropped`) instead of being sent late;
- an edit that would not change the message is not sent, and of several edits of one
  message waiting for budget only the latest goes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import BaseRateLimiter

from ui.flood import ReplyDropped

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
ANSWER = "answerCallbackQuery"

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
    # Retries after a 429, a 5xx or a timeout (broadcast items: after a 429 only; the outbox
    # keeps its own account of the rest).
    max_retries: int = 2
    retry_pause: float = 0.5  # seconds before retrying after a 5xx or a timeout, then more
    # A private chat takes this many messages at once, then one per 1/private_per_second.
    private_burst: int = 3
    # A direct reply that could go out only this many seconds after it was made is given up:
    # the person has moved on, and the chat's budget is better spent on what comes next.
    patience: float = 15.0


class PressAnswers:
    """Which button presses were answered: each once, and never after Telegram's window.

    The update processor registers a press as it arrives and answers it silently after
    `answer_within` seconds if its handler has not; a handler's answer after that (or after
    Telegram's window) is then not sent, and `answerCallbackQuery` reports False to it.
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        answer_within: float = 4.0,
        window: float = 14.0,
    ) -> None:
        self._clock = clock
        self.answer_within = answer_within
        self.window = window  # Telegram's is about 15 s from the press, a little before arrival
        self._pending: dict[str, float] = {}  # query id -> arrival
        self._answered: dict[str, float] = {}  # query id -> when, oldest first

    def arrived(self, query_id: str) -> None:
        """A press arrived and waits for its handler."""
        self._pending[query_id] = self._clock()

    def pending(self, query_id: str) -> bool:
        """Whether an arrived press is still unanswered."""
        return query_id in self._pending

    def claim(self, query_id: str) -> bool:
        """Whether an answer to this press may be sent now (and from now on: no other)."""
        now = self._clock()
        answered = self._answered
        if query_id in answered:
            return False
        arrived = self._pending.pop(query_id, None)
        answered[query_id] = now
        while answered:  # forget answers Telegram can no longer ask about
            oldest = next(iter(answered))
            if now - answered[oldest] < 60.0:
                break
            del answered[oldest]
        return arrived is None or now - arrived <= self.window


class _Shown:
    """What the bot last put in its recent messages (fingerprints), to skip no-op edits."""

    def __init__(self, size: int = 50_000) -> None:
        self._size = size
        self._seen: OrderedDict[tuple[int | str, int], tuple[object, object]] = OrderedDict()

    def get(self, key: tuple[int | str, int]) -> tuple[object, object] | None:
        return self._seen.get(key)

    def put(self, key: tuple[int | str, int], content: object, markup: object) -> None:
        self._seen[key] = (content, markup)
        self._seen.move_to_end(key)
        if len(self._seen) > self._size:
            self._seen.popitem(last=False)


def _markup_of(data: dict[str, Any]) -> object:
    markup = data.get("reply_markup")
    if markup is None:
        return None
    to_json = getattr(markup, "to_json", None)
    return to_json() if to_json is not None else json.dumps(markup, sort_keys=True, default=str)


def _content_of(endpoint: str, data: dict[str, Any]) -> object:
    mode = str(data.get("parse_mode"))
    entities = repr(data.get("entities") or data.get("caption_entities") or None)
    if endpoint == "editMessageCaption":
        return ("caption", data.get("caption"), mode, entities)
    return ("text", data.get("text"), mode, entities)


class _EditLine:
    """Edits of one message waiting for their turn: only the latest is sent."""

    __slots__ = ("latest", "lock", "users")

    def __init__(self) -> None:
        self.latest = 0
        self.lock = asyncio.Lock()
        self.users = 0


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
        self.presses = PressAnswers(clock)
        self._shown = _Shown()
        self._edit_lines: dict[tuple[int | str, int], _EditLine] = {}
        # What was not sent, and why (for logs, benchmarks and tests).
        self.skipped_edits = 0  # would not have changed the message
        self.superseded_edits = 0  # a later edit of the same message went instead
        self.dropped_replies = 0  # would have come too late
        self.late_answers = 0  # presses answered already (or too old) when their handler answered

    async def initialize(self) -> None:
        """Nothing to prepare."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    def _chat_budget(self, is_group: bool) -> tuple[float, int]:
        if is_group:
            return 60.0 * (1 + self.limits.margin), self.limits.group_per_minute
        burst = self.limits.private_burst
        return burst / self.limits.private_per_second * (1 + self.limits.margin), burst

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
        if chat is not None:
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
        self,
        chat: int | str | None,
        counted: bool,
        is_group: bool,
        bulk: bool,
        *,
        give_up_at: float | None = None,
        superseded: Callable[[], bool] | None = None,
    ) -> list[_Window] | None:
        """Wait for budget; the windows the request occupies, or None when an edit was
        superseded meanwhile. ReplyDropped when the wait would pass `give_up_at`."""
        started = self._clock()
        while True:
            wait, only_overall = self._wait_time(chat, counted, is_group, bulk)
            if superseded is not None and superseded():
                return None
            if wait == 0.0:
                break
            if give_up_at is not None:
                now = self._clock()
                if now + (wait or 0.0) > give_up_at:
                    self.dropped_replies += 1
                    raise ReplyDropped(
                        f"reply to {chat} given up: Telegram's budget would delay it "
                        f"{now + (wait or 0.0) - started:.0f} s"
                    )
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
        if endpoint == ANSWER:
            return await self._answer(callback, args, kwargs, data)
        chat = data.get("chat_id")
        chat_key: int | str | None = chat if isinstance(chat, (int, str)) else None
        bulk = bool(rate_limit_args and rate_limit_args.get("bulk"))
        message_id = data.get("message_id")
        if endpoint in GROUP_EDITS and chat_key is not None and isinstance(message_id, int):
            return await self._edit(callback, args, kwargs, endpoint, data, chat_key, bulk)
        result = await self._send(callback, args, kwargs, endpoint, chat_key, bulk)
        if endpoint == "sendMessage" and isinstance(result, dict) and chat_key is not None:
            sent = result.get("message_id")
            if isinstance(sent, int):
                self._shown.put((chat_key, sent), _content_of(endpoint, data), _markup_of(data))
        return result

    async def _answer(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        data: dict[str, Any],
    ) -> Result:
        """A button answer: not counted by Telegram, so it never waits for budget."""
        query_id = data.get("callback_query_id")
        if isinstance(query_id, str) and not self.presses.claim(query_id):
            self.late_answers += 1
            return False  # answered already, or Telegram would refuse it as too old
        for attempt in range(self.limits.max_retries + 1):
            try:
                return await callback(*args, **kwargs)
            except (BadRequest, RetryAfter):
                raise
            except NetworkError:
                if attempt == self.limits.max_retries:
                    raise
            await asyncio.sleep(self.limits.retry_pause)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _edit(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        chat: int | str,
        bulk: bool,
    ) -> Result:
        """An edit: skipped when it changes nothing, superseded by a later edit of the same
        message while waiting; Telegram's "message is not modified" counts as done."""
        key = (chat, data["message_id"])
        markup = _markup_of(data)
        content = None if endpoint == "editMessageReplyMarkup" else _content_of(endpoint, data)
        line = self._edit_lines.get(key)
        if line is None:
            line = self._edit_lines[key] = _EditLine()
        line.latest += 1
        line.users += 1
        ticket = line.latest

        def superseded() -> bool:
            return ticket != line.latest

        try:
            async with line.lock:
                if superseded():
                    self.superseded_edits += 1
                    return True
                shown = self._shown.get(key)
                if shown is not None:
                    if content is None:
                        content = shown[0]  # only the buttons change
                    if shown == (content, markup):
                        self.skipped_edits += 1
                        return True
                try:
                    result = await self._send(
                        callback, args, kwargs, endpoint, chat, bulk, superseded=superseded
                    )
                except BadRequest as exc:
                    if "message is not modified" not in exc.message.lower():
                        raise
                    result = True  # it already shows this: as good as done
                if result is _SUPERSEDED:
                    self.superseded_edits += 1
                    return True
                if content is not None:
                    self._shown.put(key, content, markup)
                return result
        finally:
            line.users -= 1
            if not line.users:
                del self._edit_lines[key]

    async def _send(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        chat_key: int | str | None,
        bulk: bool,
        *,
        superseded: Callable[[], bool] | None = None,
    ) -> Result:
        is_group = (isinstance(chat_key, int) and chat_key < 0) or isinstance(chat_key, str)
        counted = endpoint in SENDS or (endpoint in GROUP_EDITS and is_group)
        # Only a direct reply is given up; what the outbox sends is owed and waits its turn.
        patient = counted and not bulk and endpoint in SENDS
        give_up_at = self._clock() + self.limits.patience if patient else None
        for attempt in range(self.limits.max_retries + 1):
            windows = await self._acquire(
                chat_key, counted, is_group, bulk, give_up_at=give_up_at, superseded=superseded
            )
            if windows is None:
                return _SUPERSEDED
            pause = 0.0
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
            except BadRequest:
                raise  # the request itself is wrong: the same again would fail the same way
            except NetworkError as exc:  # a 5xx, a timeout, a dropped connection
                if bulk or attempt == self.limits.max_retries:
                    raise
                pause = self.limits.retry_pause * (attempt + 1)
                # Not for a chat (getMe at start-up, getUpdates): whoever called says the
                # final failure in one line, so each retry is only worth an INFO.
                level = logging.WARNING if chat_key is not None else logging.INFO
                log.log(level, "%s on %s for %s: retrying in %.1f s", exc, endpoint, chat_key,
                        pause)  # fmt: skip
            finally:
                self._release(windows)
            if pause:
                await asyncio.sleep(pause)
        raise AssertionError("unreachable")  # pragma: no cover


# What _send returns for an edit that a later edit of the same message replaced.
_SUPERSEDED: Result = {"superseded": True}
