"""确认发布 is one transaction: a real `zhibu` process killed between publishing and replying,
restarted on the same database, cannot publish the notice a second time."""

from __future__ import annotations

import asyncio
import signal
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from domain.notices import choose_org, start
from domain.orgs import Kind, Level, Role, Stage, Status
from services.authz import Actor
from services.drafts import keep_draft
from services.orgs import create_org
from services.orgs_roles import grant_role
from services.users import Person, touch_user
from storage.db import Database
from storage.models import Draft, Member, Notice
from tests.bot.test_process import start_process, write_config
from tests.emulator import Emulator, EmuUser
from tests.emulator.model import EmuMessage

pytestmark = pytest.mark.slow
SUPER = Actor(user_id=0, superadmin=True)


async def _a_branch_and_a_previewable_draft(db: Database, sender: EmuUser, member: EmuUser) -> None:
    """A committee (sender: its admin) and a branch with one member who started the bot, and the
    sender's /notice draft answered up to the preview (a private copy to that member)."""
    now = datetime.now(UTC)
    today = now.date()
    for user in (sender, member):
        await touch_user(db, Person(id=user.id, first_name=user.first_name), now, started=True)
    committee = await create_org(db, SUPER, name="两新工委", level=Level.COMMITTEE,
                                 kind=Kind.TWO_NEW, parent_id=None, now=now,
                                 today=today)  # fmt: skip
    await grant_role(db, SUPER, committee.id, Role.COMMITTEE_ADMIN, user_id=sender.id,
                     now=now, today=today)  # fmt: skip
    branch = await create_org(db, SUPER, name="第一支部", level=Level.BRANCH,
                              kind=Kind.STANDARD, parent_id=committee.id, now=now,
                              today=today)  # fmt: skip
    async with db.transaction() as s:
        s.add(Member(org_id=branch.id, user_id=member.id, name="王芳", stage=Stage.FULL,
                     status=Status.ACTIVE, source="admin", created_at=now,
                     updated_at=now))  # fmt: skip
    draft = choose_org(start(single_org=True), committee.id, committee.name, Level.COMMITTEE)
    draft = replace(draft, step="pre", category="meeting", title="支委会", body="请准时参加。",
                    private=True)  # fmt: skip
    await keep_draft(db, sender.id, draft, now)


async def _notices(db: Database) -> int:
    async with db.read() as s:
        return int(await s.scalar(select(func.count()).select_from(Notice)) or 0)


async def _started(emu: Emulator, polls_before: int) -> None:
    """The process polls for updates (it is up)."""
    await emu.wait_for(
        lambda: sum(r.method == "getUpdates" for r in emu.requests) > polls_before, timeout=30
    )


async def test_killed_between_publish_and_reply_a_second_press_publishes_nothing(
    emu: Emulator, db: Database, database_url: str, tmp_path: Path
) -> None:
    # The db fixture (not a Database of its own): on PostgreSQL it empties the tables after.
    sender, member = emu.user("组织部"), emu.user("芳")
    procs: list[asyncio.subprocess.Process] = []
    try:
        await _a_branch_and_a_previewable_draft(db, sender, member)
        config = write_config(tmp_path / "c.toml", emu, database_url)
        procs.append(await start_process(config))
        await _started(emu, 0)
        await sender.send("/notice")
        offer = await emu.wait_for(
            lambda: next((m for m in emu.sent_to(sender) if "继续填写" in m.button_texts()), None),
            timeout=15,
        )
        await sender.press(offer, "继续填写")

        def summary() -> EmuMessage | None:
            return next((m for m in emu.sent_to(sender) if "✅ 确认发布" in m.button_texts()), None)

        preview: EmuMessage = await emu.wait_for(summary, timeout=15)

        # 确认发布: the notice commits, then the press's answer is parked; the process dies.
        held = emu.hold("answerCallbackQuery")
        await sender.press(preview, "✅ 确认发布")
        await held.arrived(timeout=15)
        assert await _notices(db) == 1
        procs[0].send_signal(signal.SIGKILL)
        await asyncio.wait_for(procs[0].wait(), 30)
        held.release()

        # A new process on the same database; the old preview's button pressed again.
        polls = sum(r.method == "getUpdates" for r in emu.requests)
        procs.append(await start_process(config))
        await _started(emu, polls)
        query_id = await sender.press(preview, "✅ 确认发布")  # its buttons were never taken off
        answer = await emu.answer_of(query_id, timeout=15)
        assert answer.show_alert
        assert "这个按钮已失效" in (answer.text or "")
        assert await _notices(db) == 1
        async with db.read() as s:
            assert await s.get(Draft, sender.id) is None
        procs[1].send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(procs[1].wait(), 30) == 0
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
