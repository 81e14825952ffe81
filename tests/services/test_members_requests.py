"""The approvers' copies of a registration: one per approver, and a redraw of each copy
already in a chat once someone decides (the one the decider pressed is theirs to edit)."""

from __future__ import annotations

from sqlalchemy import select

from domain.orgs import Role, Stage
from services import members
from services.members_requests import REDRAW, REQUEST, request_state
from storage.db import Database
from storage.models import OutboxItem
from tests.conftest import FakeClock
from tests.services.factories import BASE_UID, linked_member, person, today, tree

APPLICANT = BASE_UID + 100


async def items(db: Database, purpose: str) -> list[OutboxItem]:
    async with db.read() as s:
        return list(
            await s.scalars(
                select(OutboxItem).where(OutboxItem.purpose == purpose).order_by(OutboxItem.id)
            )
        )


async def test_a_decision_redraws_the_sent_copies_but_the_pressed_one(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    secretary, _ = await linked_member(db, clock, t.branch_a, BASE_UID + 1, "李明",
                                       role=Role.SECRETARY)  # fmt: skip
    deputy, _ = await linked_member(db, clock, t.branch_a, BASE_UID + 2, "王副", role=Role.DEPUTY)
    organizer, _ = await linked_member(db, clock, t.branch_a, BASE_UID + 3, "赵组",
                                       role=Role.ORGANIZATION)  # fmt: skip
    await person(db, clock, APPLICANT, "芳")
    sent = await members.submit_registration(
        db, user_id=APPLICANT, org_id=t.branch_a, name="王芳", stage=Stage.FULL, unit_id=None,
        phone=None, now=clock.now(), today=today(clock),
    )  # fmt: skip
    copies = await items(db, REQUEST)
    assert sorted(c.chat_id for c in copies) == sorted(
        a.user_id for a in (secretary, deputy, organizer)
    )
    assert {c.payload["registration_id"] for c in copies} == {sent.registration.id}
    # The secretary's copy is in the chat, the deputy's is being sent, the organizer's waits.
    by_chat = {c.chat_id: c.id for c in copies}
    async with db.transaction() as s:
        for chat, status, message in ((secretary.user_id, "sent", 11), (deputy.user_id,
                                       "sending", None)):  # fmt: skip
            row = await s.get(OutboxItem, by_chat[chat])
            assert row is not None
            row.status, row.message_id = status, message

    decision = await members.decide_registration(
        db, deputy, sent.registration.id, approve=True, reason=None, now=clock.now(),
        today=today(clock), pressed=(deputy.user_id, 99),
    )  # fmt: skip
    assert decision.member_id is not None
    redraws = await items(db, REDRAW)
    # The sent copy is edited in place; the one in flight learns its message when sent; the
    # waiting one needs nothing (it is rendered decided when it goes out).
    assert [(r.chat_id, r.target_message_id, r.payload["copy"]) for r in redraws] == [
        (secretary.user_id, 11, by_chat[secretary.user_id]),
        (deputy.user_id, None, by_chat[deputy.user_id]),
    ]
    state = await request_state(db, sent.registration.id, organizer.user_id, "zh_CN")
    assert state is not None
    assert (state.status, state.decider) == ("approved", "王副")
    assert state.decided_at is not None


async def test_the_pressed_copy_is_left_to_the_decider(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    secretary, _ = await linked_member(db, clock, t.branch_a, BASE_UID + 1, "李明",
                                       role=Role.SECRETARY)  # fmt: skip
    await person(db, clock, APPLICANT, "芳")
    sent = await members.submit_registration(
        db, user_id=APPLICANT, org_id=t.branch_a, name="王芳", stage=Stage.FULL, unit_id=None,
        phone=None, now=clock.now(), today=today(clock),
    )  # fmt: skip
    [copy] = await items(db, REQUEST)
    async with db.transaction() as s:
        row = await s.get(OutboxItem, copy.id)
        assert row is not None
        row.status, row.message_id = "sent", 7
    await members.decide_registration(
        db, secretary, sent.registration.id, approve=True, reason=None, now=clock.now(),
        today=today(clock), pressed=(secretary.user_id, 7),
    )  # fmt: skip
    assert await items(db, REDRAW) == []
