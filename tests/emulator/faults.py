"""API errors, request records, injected faults, held requests and flood-limit accounting."""

from __future__ import annotations

import asyncio
import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

from .formatting import JSONDict

FaultKind = Literal["429", "500", "502", "400", "403", "timeout", "network"]
FAULT_KINDS: frozenset[str] = frozenset({"429", "500", "502", "400", "403", "timeout", "network"})


class ApiError(Exception):
    """An error answer of the Bot API (HTTP status, description, optional parameters).

    ``violation``: True records the description as a bot misbehaviour; a string records that
    text instead; False (flood, blocked users, migration...) only counts it in ``stats[stat]``.
    """

    def __init__(
        self,
        code: int,
        description: str,
        *,
        violation: bool | str = True,
        parameters: JSONDict | None = None,
        stat: str | None = None,
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.violation = violation
        self.parameters = parameters
        self.stat = stat

    def body(self) -> JSONDict:
        """The JSON body Telegram sends for this error."""
        out: JSONDict = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            out["parameters"] = self.parameters
        return out


def bad_request(text: str, *, violation: bool | str = True, stat: str | None = None) -> ApiError:
    """HTTP 400 "Bad Request: <text>"."""
    return ApiError(400, f"Bad Request: {text}", violation=violation, stat=stat)


def forbidden(text: str) -> ApiError:
    """HTTP 403 "Forbidden: <text>": a condition the bot must handle, never a violation."""
    return ApiError(403, f"Forbidden: {text}", violation=False, stat="403")


def too_many_requests(retry_after: int, *, stat: str = "429") -> ApiError:
    """HTTP 429 with parameters.retry_after (PTB raises RetryAfter)."""
    return ApiError(
        429,
        f"Too Many Requests: retry after {retry_after}",
        violation=False,
        parameters={"retry_after": retry_after},
        stat=stat,
    )


@dataclass
class RequestRecord:
    """One Bot API call as the emulator saw it."""

    method: str
    params: dict[str, Any]
    status: int = 0  # HTTP status; 0 while in flight, -1 when the connection was dropped
    description: str = ""
    started: float = 0.0  # loop time (real seconds)
    finished: float = 0.0

    def __str__(self) -> str:
        shown = {
            k: (v if len(repr(v)) < 120 else repr(v)[:117] + "...") for k, v in self.params.items()
        }
        tail = f" -> {self.description}" if self.description else ""
        return f"{self.method}({shown}) [{self.status}]{tail}"


@dataclass
class Fault:
    """A scripted failure for the next matching request(s)."""

    method: str
    kind: FaultKind
    times: int = 1
    retry_after: int = 1
    chat_id: int | str | None = None
    description: str | None = None
    executed: bool = False  # timeout/network only: perform the call, then lose the answer
    hold_for: float = 60.0  # timeout only: upper bound on how long the request hangs

    def matches(self, method: str, params: dict[str, Any]) -> bool:
        """Whether this fault applies to a call."""
        if self.times <= 0 or self.method.lower() != method.lower():
            return False
        return self.chat_id is None or params.get("chat_id") == self.chat_id


class Hold:
    """A request parked by ``emu.hold(method)`` until ``release()``."""

    def __init__(self, method: str, chat_id: int | str | None = None) -> None:
        self.method = method
        self.chat_id = chat_id
        self.params: dict[str, Any] | None = None  # the held request's parameters
        self.fault: Fault | None = None
        self._arrived = asyncio.Event()
        self._released = asyncio.Event()
        self.taken = False

    def matches(self, method: str, params: dict[str, Any]) -> bool:
        """Whether this hold wants a call (each hold takes exactly one request)."""
        if self.taken or self.method.lower() != method.lower():
            return False
        return self.chat_id is None or params.get("chat_id") == self.chat_id

    async def arrived(self, timeout: float = 5.0) -> dict[str, Any]:
        """Wait until a matching request is being held; return its parameters."""
        try:
            await asyncio.wait_for(self._arrived.wait(), timeout)
        except TimeoutError:
            raise AssertionError(f"no {self.method} request arrived within {timeout}s") from None
        assert self.params is not None
        return self.params

    @property
    def is_held(self) -> bool:
        """A request is parked right now."""
        return self._arrived.is_set() and not self._released.is_set()

    def release(self, kind: FaultKind | None = None, **fault: Any) -> None:
        """Let the held request proceed (or fail it with an injected fault ``kind``)."""
        if kind is not None:
            self.fault = Fault(self.method, kind, **fault)
        self._released.set()

    async def _park(self, params: dict[str, Any], stopping: asyncio.Event) -> None:
        self.params = params
        self._arrived.set()
        waiters = [
            asyncio.ensure_future(self._released.wait()),
            asyncio.ensure_future(stopping.wait()),
        ]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()


@dataclass
class FloodLimits:
    """Telegram's documented broadcast limits (messages in a sliding window).

    A private chat takes one message a second with short bursts tolerated ("we may allow
    short bursts", Telegram's FAQ): at most `private_burst` messages in any window of
    `private_burst / private_per_second` seconds.
    """

    global_per_second: int = 30
    group_per_minute: int = 20
    private_per_second: int = 1
    private_burst: int = 3


@dataclass
class FloodTracker:
    """Sliding windows of message timestamps on the emulator clock."""

    limits: FloodLimits = field(default_factory=FloodLimits)
    _global: deque[float] = field(default_factory=deque)
    _per_chat: dict[int, deque[float]] = field(default_factory=dict)

    def retry_after(self, chat_id: int, is_group: bool, now: float) -> int | None:
        """Seconds to wait if one more message to ``chat_id`` now would exceed a limit."""
        waits: list[float] = []
        g = _trim(self._global, now, 1.0)
        if len(g) >= self.limits.global_per_second:
            waits.append(g[-self.limits.global_per_second] + 1.0 - now)
        window, limit = (
            (60.0, self.limits.group_per_minute)
            if is_group
            else (
                self.limits.private_burst / self.limits.private_per_second,
                self.limits.private_burst,
            )
        )
        c = _trim(self._per_chat.setdefault(chat_id, deque()), now, window)
        if len(c) >= limit:
            waits.append(c[-limit] + window - now)
        if not waits:
            return None
        return max(1, math.ceil(max(waits)))

    def record(self, chat_id: int, now: float) -> None:
        """Count one message sent to ``chat_id`` at ``now``."""
        self._global.append(now)
        self._per_chat.setdefault(chat_id, deque()).append(now)

    def reset(self) -> None:
        """Forget all history (e.g. after the test moved the clock backwards)."""
        self._global.clear()
        self._per_chat.clear()


def _trim(q: deque[float], now: float, window: float) -> deque[float]:
    while q and q[0] <= now - window:
        q.popleft()
    return q
