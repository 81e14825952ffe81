"""A committee's local rate table against a real database: who may adjust it, the nearest
committee's table applies below, saving takes the draft once and is audited, confirmed
standards are left alone, a concurrent change is refused, reset goes back to the table above."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from domain.dues import NATIONAL, Bracket, table_to_json
from domain.dues_rates import RATES_STEPS, RatesDraft
from domain.orgs import Role
from domain.wizard import Event, apply
from services.authz import Actor
from services.drafts import keep_draft
from services.dues import dues_access, rate_table_for
from services.dues_rates import rates_of, save_rates, start_rates
from services.errors import ServiceError
from storage.db import Database
from storage.models import AuditEntry, DuesSettings, DuesStandard
from tests.conftest import FakeClock
from tests.services.factories import BASE_UID, Tree, linked_member, office, person, today, tree


async def _edit(
    db: Database, clock: FakeClock, actor: Actor, org_id: int, *events: Event
) -> RatesDraft:
    draft, _view = await start_rates(db, actor, org_id, clock.now(), today(clock))
    for event in events:
        moved = apply(RATES_STEPS, draft, event, clock.now())
        assert isinstance(moved, RatesDraft), moved
        draft = moved
    await keep_draft(db, actor.user_id, draft, clock.now())
    return draft


RAISE_SECOND = (
    Event("bracket", 1),
    Event("text", text="6000"),
    Event("text", text="1.2"),
    Event("preview"),
)


async def _keeper(db: Database, clock: FakeClock, org_id: int, uid: int) -> Actor:
    actor = await person(db, clock, uid, "管理员")
    await office(db, clock, org_id, Role.DUES_KEEPER, user_id=uid)
    return actor


async def _audits(db: Database) -> list[tuple[str, dict | None, dict | None]]:  # type: ignore[type-arg]
    async with db.read() as s:
        rows = await s.execute(
            select(AuditEntry.action, AuditEntry.before, AuditEntry.after)
            .where(AuditEntry.action.like("dues.rates.%"))
            .order_by(AuditEntry.id)
        )
        return [(a, b, c) for a, b, c in rows.all()]


async def test_a_committee_keeper_adjusts_and_branches_below_use_it(
    db: Database, clock: FakeClock
) -> None:
    t: Tree = await tree(db, clock)
    keeper = await _keeper(db, clock, t.sub_committee, BASE_UID + 1)
    _, member_id = await linked_member(db, clock, t.branch_a, BASE_UID + 2, "王芳")
    async with db.transaction() as s:  # a standard the keeper confirmed before the change
        s.add(
            DuesStandard(
                member_id=member_id,
                org_id=t.branch_a,
                category="working",
                permille=15,
                lower_fen=500_000,
                upper_fen=1_000_000,
                amount_fen=8_100,
                from_month=202612,
                status="confirmed",
                declared_at=clock.now(),
            )
        )
    view = await rates_of(db, keeper, t.sub_committee, today(clock))
    assert (view.local, view.source, view.table) == (False, "", NATIONAL)
    access = await dues_access(db, keeper, today(clock))
    assert [o.id for o in access.rates] == [t.sub_committee]

    await _edit(db, clock, keeper, t.sub_committee, *RAISE_SECOND)
    saved = await save_rates(db, keeper, clock.now(), today(clock))
    assert saved.local
    assert saved.after.working[1] == Bracket(600_000, 12)
    with pytest.raises(ServiceError) as twice:
        await save_rates(db, keeper, clock.now(), today(clock))
    assert twice.value.code == "stale"

    async with db.read() as s:
        assert (await rate_table_for(s, t.branch_a)).working[1] == Bracket(600_000, 12)
        assert await rate_table_for(s, t.branch_b) == NATIONAL  # not below the sub-committee
        row = await s.get(DuesSettings, t.sub_committee)
        assert row is not None
        assert row.updated_by == keeper.user_id
        amounts = (await s.scalars(select(DuesStandard.amount_fen))).all()
    assert amounts == [8_100]  # confirmed standards are not recomputed
    [(action, before, after)] = await _audits(db)
    assert action == "dues.rates.changed"
    assert before == {"rate_table": None}
    assert after == {"rate_table": table_to_json(saved.after)}


async def test_the_table_above_applies_and_reset_returns_to_it(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    admin = await person(db, clock, BASE_UID + 1, "管理员")
    await office(db, clock, t.committee, Role.COMMITTEE_ADMIN, user_id=admin.user_id)
    keeper = await _keeper(db, clock, t.sub_committee, BASE_UID + 2)
    await _edit(
        db,
        clock,
        admin,
        t.committee,
        Event("fixed"),
        Event("text", text="0.3"),
        Event("keep"),
        Event("preview"),
    )
    await save_rates(db, admin, clock.now(), today(clock))
    view = await rates_of(db, keeper, t.sub_committee, today(clock))
    assert (view.local, view.source, view.table.fixed_fen) == (False, "高新区综合党委", 30)
    # The admin of the committee above reaches the sub-committee too (an inherited office).
    assert (await rates_of(db, admin, t.sub_committee, today(clock))).table.fixed_fen == 30

    draft = await _edit(db, clock, keeper, t.sub_committee, *RAISE_SECOND)
    assert draft.before.fixed_fen == 30  # edits start from the table in force
    await save_rates(db, keeper, clock.now(), today(clock))
    own = await rates_of(db, keeper, t.sub_committee, today(clock))
    assert own.local
    assert own.table.fixed_fen == 30
    assert own.source == "软件园两新工委"

    await _edit(db, clock, keeper, t.sub_committee, Event("inherit"), Event("preview"))
    reset = await save_rates(db, keeper, clock.now(), today(clock))
    assert not reset.local
    async with db.read() as s:
        row = await s.get(DuesSettings, t.sub_committee)
        assert row is not None
        assert row.rate_table is None
        assert await rate_table_for(s, t.branch_a) == dataclasses.replace(NATIONAL, fixed_fen=30)
    assert [a for a, _b, _c in await _audits(db)] == [
        "dues.rates.changed",
        "dues.rates.changed",
        "dues.rates.inherited",
    ]


async def test_a_change_made_meanwhile_is_not_overwritten(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    first = await _keeper(db, clock, t.sub_committee, BASE_UID + 1)
    second = await _keeper(db, clock, t.sub_committee, BASE_UID + 2)
    await _edit(db, clock, first, t.sub_committee, *RAISE_SECOND)
    await _edit(
        db,
        clock,
        second,
        t.sub_committee,
        Event("fixed"),
        Event("text", text="0.5"),
        Event("keep"),
        Event("preview"),
    )
    await save_rates(db, first, clock.now(), today(clock))
    with pytest.raises(ServiceError) as changed:
        await save_rates(db, second, clock.now(), today(clock))
    assert changed.value.code == "dues.rates.changed"
    assert len(await _audits(db)) == 1


async def test_who_may_not_adjust(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    branch_keeper, _ = await linked_member(
        db, clock, t.branch_a, BASE_UID + 1, "组织委员", role=Role.ORGANIZATION
    )
    plain, _ = await linked_member(db, clock, t.branch_a, BASE_UID + 2, "王芳")
    stranger = await _keeper(db, clock, t.other_committee, BASE_UID + 3)
    instructor = await person(db, clock, BASE_UID + 4, "指导员")
    await office(db, clock, t.sub_committee, Role.INSTRUCTOR, user_id=instructor.user_id)
    day = today(clock)
    for actor in (branch_keeper, plain, stranger, instructor):
        with pytest.raises(ServiceError) as denied:
            await start_rates(db, actor, t.sub_committee, clock.now(), day)
        assert denied.value.code == "auth.keep_dues"
        assert (await dues_access(db, actor, day)).rates == () or actor is stranger
    with pytest.raises(ServiceError) as branch:
        await rates_of(db, branch_keeper, t.branch_a, day)
    assert branch.value.code == "dues.rates.not_committee"
    with pytest.raises(ServiceError) as gone:
        await rates_of(db, stranger, 999_999, day)
    assert gone.value.code == "org.not_found"
    assert [o.id for o in (await dues_access(db, stranger, day)).rates] == [t.other_committee]
    assert await _audits(db) == []
