"""Dues standards against a real database: a declaration taken with its draft, the keepers
told, the base dropped when decided, a later confirmation superseding, refusals."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from domain.dues import NATIONAL
from domain.dues_wizard import DECLARE_STEPS, DeclareDraft, begin
from domain.orgs import Role
from domain.wizard import Event, apply
from services.authz import Actor
from services.drafts import keep_draft
from services.dues_notes import Note
from services.dues_standards import (
    decide_declaration,
    declaring,
    keepers_of,
    my_dues,
    submit_declaration,
)
from services.errors import ServiceError
from storage.db import Database
from storage.models import DuesStandard, OutboxItem
from tests.conftest import FakeClock
from tests.services.factories import BASE_UID, linked_member, today, tree

CARD: dict[str, Any] = {"keeper_notes": {"zh_CN": Note("card")}, "default_locale": "zh_CN"}
TOLD: dict[str, Any] = {"member_notes": {"zh_CN": "told"}, "default_locale": "zh_CN"}


async def _declare(db: Database, clock: FakeClock, uid: int, base: str) -> DeclareDraft:
    member_id, org_id, name, table = await declaring(db, _actor(uid))
    draft = begin(member_id, org_id, name, table)
    for event in (Event("category", 0), Event("text", text=base), Event("month", 0)):
        moved = apply(DECLARE_STEPS, draft, event, clock.now())
        assert isinstance(moved, DeclareDraft)
        draft = moved
    await keep_draft(db, uid, draft, clock.now())
    return draft


def _actor(uid: int) -> Actor:
    return Actor(uid)


async def _rows(db: Database) -> list[tuple[str, int | None, int]]:
    async with db.read() as s:
        rows = await s.execute(
            select(DuesStandard.status, DuesStandard.base_fen, DuesStandard.amount_fen)
            .order_by(DuesStandard.id)
        )  # fmt: skip
        return [(a, b, c) for a, b, c in rows.all()]


async def test_declare_decide_and_supersede(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    keeper, _ = await linked_member(db, clock, t.branch_a, BASE_UID + 1, "组织委员",
                                    role=Role.ORGANIZATION)  # fmt: skip
    other_keeper, _ = await linked_member(db, clock, t.branch_b, BASE_UID + 2, "管理员",
                                          role=Role.DUES_KEEPER)  # fmt: skip
    member, member_id = await linked_member(db, clock, t.branch_a, BASE_UID + 3, "王芳")
    day, now = today(clock), clock.now()
    async with db.read() as s:
        assert await keepers_of(s, t.branch_a, day) == [keeper.user_id]
    draft = await _declare(db, clock, member.user_id, "5400")
    assert draft.table == NATIONAL
    result = await submit_declaration(db, member, draft, **CARD,
                                      now=now, today=day)  # fmt: skip
    assert (result.member_id, result.keepers) == (member_id, 1)
    with pytest.raises(ServiceError) as twice:
        await submit_declaration(db, member, draft, **CARD,
                                 now=now, today=day)  # fmt: skip
    assert twice.value.code == "stale"
    assert await _rows(db) == [("declared", 540_000, 8_100)]
    async with db.read() as s:
        assert (await s.scalars(select(OutboxItem.chat_id))).all() == [keeper.user_id]
    mine = await my_dues(db, member, day)
    assert mine.current is None
    assert mine.pending is not None
    assert mine.pending.amount_fen == 8_100

    ref: dict[str, Any] = {"member_id": member_id, "month": draft.from_month, "declared_fen": 8_100}
    for intruder in (member, other_keeper):
        with pytest.raises(ServiceError) as denied:
            await decide_declaration(db, intruder, **ref, confirm=True, **TOLD,
                                     now=now, today=day)  # fmt: skip
        assert denied.value.code == "auth.keep_dues"
    decided = await decide_declaration(db, keeper, **ref, confirm=True, **TOLD,
                                       now=now, today=day)  # fmt: skip
    assert decided.status == "confirmed"
    assert await _rows(db) == [("confirmed", None, 8_100)]
    with pytest.raises(ServiceError) as gone:
        await decide_declaration(db, keeper, **ref, confirm=True, **TOLD,
                                 now=now, today=day)  # fmt: skip
    assert gone.value.code == "dues.declaration.gone"

    # A second declaration, replaced by a third before the keeper decides; then confirmed.
    await submit_declaration(db, member, await _declare(db, clock, member.user_id, "12000"),
                             **CARD, now=now, today=day)  # fmt: skip
    third = await _declare(db, clock, member.user_id, "2000")
    await submit_declaration(db, member, third, **CARD, now=now,
                             today=day)  # fmt: skip
    await decide_declaration(db, keeper, member_id=member_id, month=third.from_month,
                             declared_fen=1_000, confirm=False, reason="不对", **TOLD,
                             now=now, today=day)  # fmt: skip
    assert await _rows(db) == [
        ("confirmed", None, 8_100), ("replaced", None, 24_000), ("rejected", None, 1_000),
    ]  # fmt: skip
    fourth = await _declare(db, clock, member.user_id, "3000")
    await submit_declaration(db, member, fourth, **CARD, now=now,
                             today=day)  # fmt: skip
    await decide_declaration(db, keeper, member_id=member_id, month=fourth.from_month,
                             declared_fen=1_500, confirm=True, **TOLD, now=now,
                             today=day)  # fmt: skip
    rows = await _rows(db)
    assert rows[0] == ("superseded", None, 8_100)
    assert rows[-1] == ("confirmed", None, 1_500)
    assert all(base is None for _status, base, _amount in rows)
    mine = await my_dues(db, member, day)
    assert mine.current is not None
    assert mine.current.amount_fen == 1_500


async def test_not_on_the_roster(db: Database, clock: FakeClock) -> None:
    await tree(db, clock)
    with pytest.raises(ServiceError) as refused:
        await declaring(db, _actor(BASE_UID + 9))
    assert refused.value.code == "dues.not_member"
