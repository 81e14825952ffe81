"""Dues reads against a real database: who sees what, the rate table in force, and where a
member stands from the ledger (standards, exemptions, entries and corrections)."""

from __future__ import annotations

from datetime import date

from domain.dues import NATIONAL, Bracket, RateTable, table_to_json
from domain.orgs import Permission, Role
from services.authz import permissions
from services.dues import dues_access, rate_table_for, standings
from services.orgs_roles import grant_role
from storage.db import Database
from storage.models import DuesEntry, DuesExemption, DuesSettings, DuesStandard
from tests.conftest import FakeClock
from tests.services.factories import (
    BASE_UID,
    SUPER,
    linked_member,
    office,
    person,
    today,
    tree,
)


async def test_who_keeps_sees_and_totals(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    keeper, _ = await linked_member(db, clock, t.branch_a, BASE_UID + 1, "组织委员",
                                    role=Role.ORGANIZATION)  # fmt: skip
    secretary, _ = await linked_member(db, clock, t.branch_a, BASE_UID + 2, "书记",
                                       role=Role.SECRETARY)  # fmt: skip
    member, member_id = await linked_member(db, clock, t.branch_a, BASE_UID + 3, "王芳")
    admin = await person(db, clock, BASE_UID + 4, "党委")
    await office(db, clock, t.committee, Role.COMMITTEE_ADMIN, user_id=admin.user_id)
    day = today(clock)
    kept = await dues_access(db, keeper, day)
    assert [o.id for o in kept.keeps] == [t.branch_a]
    assert [o.id for o in kept.views] == [t.branch_a]
    seen = await dues_access(db, secretary, day)
    assert (seen.keeps, [o.id for o in seen.views]) == ((), [t.branch_a])
    mine = await dues_access(db, member, day)
    assert mine.member is not None
    assert mine.member.id == member_id
    assert (mine.keeps, mine.views) == ((), ())
    committee = await dues_access(db, admin, day)
    assert committee.keeps == ()
    assert committee.views == ()  # a committee sees totals, never each member's amount
    assert t.committee in {o.id for o in committee.totals}


async def test_a_committee_table_applies_below_it(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    local = RateTable(working=(Bracket(400_000, 5), Bracket(None, 10)))
    async with db.transaction() as s:
        s.add(DuesSettings(org_id=t.sub_committee, payment_day=5, advance_cap=6, arrears_cap=6,
                           show_amounts=False, disclosure_months=3,
                           rate_table=table_to_json(local), updated_at=clock.now()))  # fmt: skip
    async with db.read() as s:
        assert await rate_table_for(s, t.branch_a) == local  # under the sub-committee
        assert await rate_table_for(s, t.branch_b) == NATIONAL


async def test_standing_from_the_ledger(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    _member, member_id = await linked_member(db, clock, t.branch_a, BASE_UID + 3, "王芳")
    now = clock.now()
    async with db.transaction() as s:
        s.add(DuesStandard(member_id=member_id, org_id=t.branch_a, category="working",
                           permille=15, amount_fen=8_100, from_month=202601, status="confirmed",
                           declared_at=now))  # fmt: skip
        s.add(DuesStandard(member_id=member_id, org_id=t.branch_a, category="working",
                           permille=20, amount_fen=23_000, from_month=202601, status="declared",
                           base_fen=1_150_000, declared_at=now))  # fmt: skip
        s.add(DuesExemption(member_id=member_id, org_id=t.branch_a, amount_fen=0,
                            from_month=202605, until_month=202606, reason="大病",
                            agreed_on=date(2026, 4, 20), approved_by="两新工委",
                            recorded_by=BASE_UID, recorded_at=now))  # fmt: skip
        for month in (202601, 202602, 202603, 202604, 202607):
            s.add(DuesEntry(member_id=member_id, org_id=t.branch_a, month=month,
                            amount_fen=8_100, kind="dues", to_centre=False,
                            recorded_by=BASE_UID, recorded_at=now))  # fmt: skip
        wrong = DuesEntry(
            member_id=member_id,
            org_id=t.branch_a,
            month=202608,
            amount_fen=8_100,
            kind="dues",
            to_centre=False,
            recorded_by=BASE_UID,
            recorded_at=now,
        )
        s.add(wrong)
        await s.flush()
        # Recorded by mistake: corrected by a new line, never edited.
        s.add(DuesEntry(member_id=member_id, org_id=t.branch_a, month=202608, amount_fen=-8_100,
                        kind="correction", to_centre=False, corrects_id=wrong.id,
                        recorded_by=BASE_UID, recorded_at=now))  # fmt: skip
        s.add(DuesEntry(member_id=member_id, org_id=t.branch_a, month=None, amount_fen=50_000,
                        kind="extra", to_centre=False, recorded_by=BASE_UID,
                        recorded_at=now))  # fmt: skip
    async with db.read() as s:
        found = await standings(s, [member_id], date(2026, 9, 10))
    now_standing = found[member_id]
    assert now_standing.paid_through == 202607  # May and June exempt, July paid
    assert now_standing.arrears == (202608, 202609)  # the corrected August is owed again
    assert now_standing.short_fen == 2 * 8_100  # the declared (undecided) standard not used


async def test_a_committee_has_its_own_dues_keeper(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    keeper = await person(db, clock, BASE_UID + 7, "党委党费管理员")
    held = await grant_role(db, SUPER, t.committee, Role.DUES_KEEPER, user_id=keeper.user_id,
                            now=clock.now(), today=today(clock))  # fmt: skip
    assert (held.role, held.user_id) == (Role.DUES_KEEPER, keeper.user_id)
    async with db.read() as s:
        granted = await permissions(s, keeper, t.committee, today(clock))
    assert Permission.KEEP_DUES in granted
    async with db.read() as s:  # not inherited: the branches' dues stay with their keepers
        assert Permission.KEEP_DUES not in await permissions(s, keeper, t.branch_a, today(clock))
