"""The per-person limit: a burst, then a steady pace; an episode is told once."""

from __future__ import annotations

from services.throttle import ThrottleLimits, UserThrottle, Verdict


def test_a_burst_passes_then_the_excess_is_dropped_and_the_first_drop_is_told() -> None:
    now = [0.0]
    throttle = UserThrottle(ThrottleLimits(per_second=5, burst=10), clock=lambda: now[0])
    verdicts = [throttle.arrive(1, update_id) for update_id in range(13)]
    assert verdicts[:10] == [Verdict.PASS] * 10
    assert verdicts[10:] == [Verdict.DROP_FIRST, Verdict.DROP, Verdict.DROP]
    assert throttle.take_verdict(10) is Verdict.DROP_FIRST
    assert throttle.take_verdict(10) is Verdict.PASS  # taken once
    assert throttle.arrive(2, 100) is Verdict.PASS  # someone else is not affected
    now[0] += 0.2  # one more update's worth
    assert throttle.arrive(1, 13) is Verdict.PASS
    assert throttle.arrive(1, 14) is Verdict.DROP  # same episode: not told again
    now[0] += 2.0  # the bucket is full again: the episode is over
    assert throttle.arrive(1, 15) is Verdict.PASS
    for update_id in range(16, 25):
        throttle.arrive(1, update_id)
    assert throttle.arrive(1, 25) is Verdict.DROP_FIRST  # a new episode is told again
    assert throttle.dropped == 5


def test_no_limit_when_turned_off() -> None:
    throttle = UserThrottle(ThrottleLimits(per_second=0, burst=1), clock=lambda: 0.0)
    assert all(throttle.arrive(1, i) is Verdict.PASS for i in range(100))
