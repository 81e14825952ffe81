"""Wizards left open by the previous release (plain answers, no version): the person is told
politely that the answers cannot be used, the old draft is gone, and nothing is changed."""

from __future__ import annotations

import pytest

from services.drafts import get_draft, save_draft
from tests.bot.conftest import BotUnderTest
from tests.bot.test_notices import say
from tests.conftest import FakeClock
from tests.emulator import Emulator

OUTDATED = "您之前填写的内容来自旧版本"

# What the previous release kept for each one-question wizard and for /ledger and /import.
OLD_DRAFTS = [
    ("ledger", "period", {"org_id": 1, "single": True}, "2026-01-01 2026-06-30"),
    ("org_holder", "handle", {"org_id": 1, "org_name": "党委", "role": "instructor"}, "@wang"),
    ("member_left", "reason", {"member_id": 1}, "退休"),
    ("me_phone", "phone", {}, "13800138000"),
    ("reject_registration", "reason", {"registration_id": 1}, "不符合条件"),
    ("roster_import", "await_file", {"org_id": 1}, "名册在哪里发"),
    ("form_answer", "q", {"cycle_id": 1, "current": 0}, "35"),
]


@pytest.mark.parametrize(("flow", "step", "data", "typed"), OLD_DRAFTS)
async def test_an_answer_to_an_old_draft_is_met_politely(
    emu: Emulator,
    bot: BotUnderTest,
    clock: FakeClock,
    flow: str,
    step: str,
    data: dict[str, object],
    typed: str,
) -> None:
    wang = emu.user("王芳")
    await wang.start()
    await bot.settle()
    await save_draft(bot.deps.db, wang.id, flow, step, data, clock.now())
    reply = await say(bot, wang, typed)
    assert OUTDATED in reply.content
    assert await get_draft(bot.deps.db, wang.id) is None
    assert bot.take_errors() == []
