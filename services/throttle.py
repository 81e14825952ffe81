"""A per-person limit on updates, so one person cannot take everyone's share of the bot.

A token bucket per Telegram user id, in memory: `per_second` updates a second on average,
`burst` at once. Beyond it an update is dropped (the handlers answer a press with a short
"too fast" and tell the person once per episode); everyone else is served as usual. An
episode ends when the person's bucket has filled up again. Nothing here is worth a
database row: a restart forgets who was too fast, which is harmless.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum


class Verdict(Enum):
    """What becomes of one update."""

    PASS = "pass"
    DROP_FIRST = "drop_first"  # dropped, the first of this episode: tell the person
    DROP = "drop"  # dropped, the person was told already


@dataclass(frozen=True)
class ThrottleLimits:
    """How much one person may send (per_second 0: no limit)."""

    per_second: float = 5.0
    burst: int = 10


class _Bucket:
    __slots__ = ("at", "throttled", "tokens")

    def __init__(self, tokens: float, at: float) -> None:
        self.tokens = tokens
        self.at = at
        self.throttled = False


class UserThrottle:
    """Token buckets per user id, and the verdicts of updates not yet handled."""

    def __init__(
        self, limits: ThrottleLimits | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits = limits or ThrottleLimits()
        self._clock = clock
        self._buckets: dict[int, _Bucket] = {}
        self._verdicts: dict[int, Verdict] = {}  # update id -> verdict, until handled
        self._next_sweep = clock() + 60.0
        self.dropped = 0  # updates dropped since start (for logs and tests)

    @property
    def enabled(self) -> bool:
        return self.limits.per_second > 0

    def arrive(self, user_id: int, update_id: int) -> Verdict:
        """Count one update of `user_id`; remember the verdict for the handlers when dropped."""
        if not self.enabled:
            return Verdict.PASS
        now = self._clock()
        limits = self.limits
        bucket = self._buckets.get(user_id)
        if bucket is None:
            bucket = self._buckets[user_id] = _Bucket(float(limits.burst), now)
        else:
            bucket.tokens = min(
                float(limits.burst), bucket.tokens + (now - bucket.at) * limits.per_second
            )
            bucket.at = now
            if bucket.throttled and bucket.tokens >= limits.burst:
                bucket.throttled = False  # quiet long enough: the episode is over
        if now >= self._next_sweep:
            self._sweep(now)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return Verdict.PASS
        verdict = Verdict.DROP if bucket.throttled else Verdict.DROP_FIRST
        bucket.throttled = True
        self.dropped += 1
        self._verdicts[update_id] = verdict
        return verdict

    def take_verdict(self, update_id: int) -> Verdict:
        """The verdict given to an update at arrival (PASS unless it was dropped)."""
        return self._verdicts.pop(update_id, Verdict.PASS)

    def _sweep(self, now: float) -> None:
        # Forget people whose bucket is full again: they are as new.
        self._next_sweep = now + 60.0
        full_after = self.limits.burst / self.limits.per_second
        for user_id, bucket in list(self._buckets.items()):
            if now - bucket.at >= full_after:
                del self._buckets[user_id]
