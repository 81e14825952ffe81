"""The flood gate keeps every one of Telegram's windows within budget, however late requests
travel; a broadcast uses the whole budget, yet people waiting on an answer go first."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import pytest

from bot.flood import FloodGate, FloodLimits, PressAnswers
from ui.flood import ReplyDropped


def _most_in_any_second(times: list[float]) -> int:
    times = sorted(times)
    most, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


async def _send(
    gate: FloodGate, chat_id: int, arrivals: list[float], *, bulk: bool, delay: float
) -> None:
    async def call(*_: Any, **__: Any) -> bool:
        await asyncio.sleep(delay)  # the request travels (a busy event loop, the network)
        arrivals.append(time.monotonic())  # the moment Telegram counts it
        await asyncio.sleep(random.uniform(0.0, 0.02))  # the answer travels back
        return True

    await gate.process_request(
        call, (), {}, "sendMessage", {"chat_id": chat_id}, {"bulk": True} if bulk else None
    )


async def test_late_requests_never_crowd_a_window_of_telegrams() -> None:
    # Delays far beyond the margin: a gate timing requests from when it let them through
    # would have Telegram count a second with more than the budget in it.
    rng = random.Random(5)
    gate = FloodGate(FloodLimits(overall_per_second=10))
    arrivals: list[float] = []
    await asyncio.gather(
        *(
            _send(gate, -1000 - i, arrivals, bulk=True, delay=rng.choice([0.0, 0.0, 0.15]))
            for i in range(25)
        )
    )
    assert len(arrivals) == 25
    assert _most_in_any_second(arrivals) <= 10


async def test_a_broadcast_alone_uses_the_whole_budget() -> None:
    gate = FloodGate(FloodLimits(overall_per_second=10))
    bulk: list[float] = []
    started = time.monotonic()
    broadcast = asyncio.gather(
        *(_send(gate, -1000 - i, bulk, bulk=True, delay=0.0) for i in range(15))
    )
    await asyncio.sleep(0.3)
    assert len(bulk) == 10  # nobody is waiting on an answer: no slot is held back
    await broadcast
    assert max(bulk) - started > 1.0  # the other five waited for the window
    assert _most_in_any_second(bulk) <= 10


async def test_an_answer_goes_before_the_broadcast_and_then_keeps_a_slot() -> None:
    gate = FloodGate(FloodLimits(overall_per_second=10))
    bulk: list[float] = []
    answers: list[float] = []
    broadcast = asyncio.gather(
        *(_send(gate, -2000 - i, bulk, bulk=True, delay=0.0) for i in range(40))
    )
    await asyncio.sleep(0.3)  # the broadcast's first second is used up
    first = time.monotonic()
    await _send(gate, 42, answers, bulk=False, delay=0.0)
    # It waited for the first slot to come free, and took it before the broadcast's next.
    assert answers[0] - first < 1.0
    assert not [t for t in bulk if first < t < answers[0]]
    # While people are being answered, the broadcast leaves a slot: the next answer passes.
    await asyncio.sleep(0.5)
    second = time.monotonic()
    await _send(gate, 43, answers, bulk=False, delay=0.0)
    assert answers[1] - second < 0.1
    await broadcast
    assert _most_in_any_second(bulk + answers) <= 10


async def test_a_group_gets_its_per_minute_budget_and_then_waits() -> None:
    gate = FloodGate(FloodLimits(group_per_minute=3))
    arrivals: list[float] = []
    sends = [
        asyncio.ensure_future(_send(gate, -3000, arrivals, bulk=True, delay=0.0)) for _ in range(4)
    ]
    await asyncio.sleep(0.5)
    assert len(arrivals) == 3  # the fourth waits for the group's minute to pass
    for task in sends:
        task.cancel()
    await asyncio.gather(*sends, return_exceptions=True)


async def test_a_private_chat_takes_a_short_burst_then_one_a_second_even_for_answers() -> None:
    gate = FloodGate(FloodLimits(private_burst=3))
    arrivals: list[float] = []
    started = time.monotonic()
    await asyncio.gather(*(_send(gate, 42, arrivals, bulk=False, delay=0.0) for _ in range(4)))
    arrivals.sort()
    assert arrivals[2] - started < 0.5  # the burst goes at once
    assert arrivals[3] - arrivals[0] >= 3.0  # the fourth waits for the three-second window


async def test_a_reply_that_could_only_go_much_later_is_given_up_at_once() -> None:
    gate = FloodGate(FloodLimits(group_per_minute=2, patience=5.0))
    arrivals: list[float] = []
    await _send(gate, -7, arrivals, bulk=False, delay=0.0)
    await _send(gate, -7, arrivals, bulk=False, delay=0.0)
    started = time.monotonic()
    with pytest.raises(ReplyDropped):
        await _send(gate, -7, arrivals, bulk=False, delay=0.0)  # the group's minute is spent
    assert time.monotonic() - started < 0.5
    assert len(arrivals) == 2
    assert gate.dropped_replies == 1


async def test_a_broadcast_item_waits_its_turn_however_long() -> None:
    gate = FloodGate(FloodLimits(group_per_minute=1, patience=0.0))
    arrivals: list[float] = []
    await _send(gate, -7, arrivals, bulk=True, delay=0.0)
    waiting = asyncio.create_task(_send(gate, -7, arrivals, bulk=True, delay=0.0))
    await asyncio.sleep(0.2)
    assert not waiting.done()  # owed by the outbox: never given up
    waiting.cancel()


def test_a_press_is_answered_once_and_never_after_telegrams_window() -> None:
    now = [100.0]
    presses = PressAnswers(clock=lambda: now[0], window=14.0)
    presses.arrived("a")
    presses.arrived("b")
    assert presses.pending("a")
    assert presses.claim("a")
    assert not presses.pending("a")
    assert not presses.claim("a")  # a second answer is not sent
    now[0] += 15.0
    assert not presses.claim("b")  # too old: Telegram would refuse it
    assert presses.claim("never-seen")  # arrived before the gate knew (answered as asked)
