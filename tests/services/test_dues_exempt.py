"""Hardship reductions and exemptions against a real database: recorded once with its draft,
audited, the member told privately, standings and 我的党费 honour it, overlaps and amounts not
below the standard refused, ending early and withdrawing audited with before and after, the
picker's paging and search, and keepers of other branches refused."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from domain.dues_exempt import EXEMPT_STEPS, PAGE_SIZE, REDUCE, ExemptDraft
from domain.orgs import Role
from domain.wizard import Event, apply
from services.authz import Actor
from services.drafts import keep_draft
from services.dues import standings
from services.dues_exempt import (
    branch_exemptions,
    candidates,
    end_exemption,
    pick,
    record_exemption,
    start_exemption,
)
from services.dues_standards import my_dues
from services.errors import ServiceError
from storage.db import Database
from storage.models import AuditEntry, DuesExemption, DuesStandard, OutboxItem
from tests.conftest import FakeClock
from tests.services.factories import BASE_UID, linked_member, member, today, tree


async def _standard(db: Database, clock: FakeClock, member_id: int, org_id: int) -> None:
    async with db.transaction() as s:
        s.add(
            DuesStandard(
                member_id=member_id,
                org_id=org_id,
                category="working",
                permille=15,
                lower_fen=500_000,
                upper_fen=1_000_000,
                amount_fen=8_100,
                from_month=202609,
                status="confirmed",
                declared_at=clock.now(),
            )
        )


async def _draft(
    db: Database, clock: FakeClock, keeper: Actor, org_id: int, member_id: int, *events: Event
) -> ExemptDraft:
    draft = await start_exemption(db, keeper, org_id, clock.now(), today(clock))
    name = await pick(db, keeper, org_id, member_id, today(clock))
    for event in (Event("pick", member_id, name), *events):
        moved = apply(EXEMPT_STEPS, draft, event, clock.now())
        assert isinstance(moved, ExemptDraft), moved
        draft = moved
    await keep_draft(db, keeper.user_id, draft, clock.now())
    return draft


def _rest(span: int = 3) -> tuple[Event, ...]:
    return (
        Event("span", span),
        Event("today"),
        Event("text", text="街道党工委 李明"),
        Event("text", text="大病住院"),
    )


EXEMPT_NOW = (Event("kind", 0), Event("month", 0))


async def _audit(db: Database) -> list[tuple[str, object, object]]:
    async with db.read() as s:
        rows = await s.execute(
            select(AuditEntry.action, AuditEntry.before, AuditEntry.after)
            .where(AuditEntry.action.like("dues.exemption.%"))
            .order_by(AuditEntry.id)
        )
        return [(a, b, c) for a, b, c in rows.all()]


async def test_record_list_end_and_what_the_member_sees(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    keeper, _ = await linked_member(
        db, clock, t.branch_a, BASE_UID + 1, "组织委员", role=Role.ORGANIZATION
    )
    wang, wang_id = await linked_member(db, clock, t.branch_a, BASE_UID + 2, "王芳")
    await _standard(db, clock, wang_id, t.branch_a)
    day, now = today(clock), clock.now()  # 1 December 2026
    await _draft(db, clock, keeper, t.branch_a, wang_id, *EXEMPT_NOW, *_rest())
    view = await record_exemption(db, keeper, member_html="told", now=now, today=day)
    assert (view.name, view.amount_fen, view.from_month, view.until_month) == (
        "王芳",
        0,
        202612,
        202702,
    )
    with pytest.raises(ServiceError) as twice:
        await record_exemption(db, keeper, member_html="told", now=now, today=day)
    assert twice.value.code == "stale"
    async with db.read() as s:
        assert (await s.scalars(select(OutboxItem.chat_id))).all() == [wang.user_id]
        stand = (await standings(s, [wang_id], day))[wang_id]
    assert stand.arrears == (202609, 202610, 202611)  # December is exempt, not owed
    mine = await my_dues(db, wang, day)
    assert mine.exemption is not None
    assert mine.exemption.until_month == 202702
    [(action, before, after)] = await _audit(db)
    assert action == "dues.exemption.recorded"
    assert before is None
    assert isinstance(after, dict)
    assert after["approved_by"] == "街道党工委 李明"

    # An overlapping record is refused; a reduction not below the standard too.
    await _draft(
        db,
        clock,
        keeper,
        t.branch_a,
        wang_id,
        Event("kind", 0),
        Event("text", text="2027-02"),
        *_rest(),
    )
    with pytest.raises(ServiceError) as overlap:
        await record_exemption(db, keeper, member_html="told", now=now, today=day)
    assert overlap.value.code == "dues.exempt.overlap"
    await _draft(
        db,
        clock,
        keeper,
        t.branch_a,
        wang_id,
        Event("kind", REDUCE),
        Event("text", text="81"),
        Event("text", text="2027-03"),
        *_rest(),
    )
    with pytest.raises(ServiceError) as not_lower:
        await record_exemption(db, keeper, member_html="told", now=now, today=day)
    assert not_lower.value.code == "dues.exempt.not_lower"
    await _draft(
        db,
        clock,
        keeper,
        t.branch_a,
        wang_id,
        Event("kind", REDUCE),
        Event("text", text="20"),
        Event("text", text="2027-03"),
        *_rest(),
    )
    later = await record_exemption(db, keeper, member_html="told", now=now, today=day)

    listed = await branch_exemptions(db, keeper, t.branch_a, day)
    assert [v.id for v in listed.current] == [later.id, view.id]
    assert listed.past == ()

    # Ending early: December stays the last month covered; the audit has before and after.
    done, before = await end_exemption(db, keeper, view.id, member_html="ended", now=now, today=day)
    assert (done, before.until_month) == ("end", 202702)
    with pytest.raises(ServiceError) as again:
        await end_exemption(db, keeper, view.id, member_html="ended", now=now, today=day)
    assert again.value.code == "dues.exempt.over"
    # One not begun yet is withdrawn (the audit keeps what it was).
    done, _ = await end_exemption(db, keeper, later.id, member_html="gone", now=now, today=day)
    assert done == "withdraw"
    async with db.read() as s:
        rows = (await s.execute(select(DuesExemption.id, DuesExemption.until_month))).all()
        told = (await s.scalars(select(OutboxItem.chat_id))).all()
    assert [tuple(r) for r in rows] == [(view.id, 202612)]
    assert told == [wang.user_id] * 4
    actions = await _audit(db)
    assert [a for a, _b, _c in actions] == [
        "dues.exemption.recorded",
        "dues.exemption.recorded",
        "dues.exemption.end",
        "dues.exemption.withdraw",
    ]
    assert actions[2][1] == {
        "member_id": wang_id,
        "amount_fen": 0,
        "from_month": 202612,
        "until_month": 202702,
    }
    assert isinstance(actions[2][2], dict)
    assert actions[2][2]["until_month"] == 202612
    assert actions[3][2] is None
    # A month later the ended record is past and 我的党费 no longer shows it.
    clock.set(datetime(2027, 1, 3, 2, 0, tzinfo=UTC))
    assert (await my_dues(db, wang, today(clock))).exemption is None
    assert len((await branch_exemptions(db, keeper, t.branch_a, today(clock))).past) == 1


async def test_picker_pages_and_search(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    keeper, _ = await linked_member(
        db, clock, t.branch_a, BASE_UID + 1, "组织委员", role=Role.ORGANIZATION
    )
    for i in range(PAGE_SIZE + 3):
        await member(db, clock, t.branch_a, f"张{i:02d}")
    await member(db, clock, t.branch_a, "李100%")
    await member(db, clock, t.branch_b, "张外支部")
    day = today(clock)
    first = await candidates(db, keeper, t.branch_a, "", 0, day)
    assert (first.total, first.pages, len(first.members)) == (PAGE_SIZE + 5, 2, PAGE_SIZE)
    last = await candidates(db, keeper, t.branch_a, "", 99, day)  # clamped to the last page
    assert last.page == 1
    assert len(last.members) == 5
    found = await candidates(db, keeper, t.branch_a, "张", 0, day)
    assert found.total == PAGE_SIZE + 3  # not the other branch's 张
    assert [m.name for m in (await candidates(db, keeper, t.branch_a, "%", 0, day)).members] == [
        "李100%"
    ]
    assert (await candidates(db, keeper, t.branch_a, "_", 0, day)).total == 0


async def test_other_branches_and_members_are_refused(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    keeper, _ = await linked_member(
        db, clock, t.branch_a, BASE_UID + 1, "组织委员", role=Role.ORGANIZATION
    )
    other_keeper, _ = await linked_member(
        db, clock, t.branch_b, BASE_UID + 2, "管理员", role=Role.DUES_KEEPER
    )
    wang, wang_id = await linked_member(db, clock, t.branch_a, BASE_UID + 3, "王芳")
    outsider = await member(db, clock, t.branch_b, "外人")
    day, now = today(clock), clock.now()
    # Without a confirmed standard there is nothing to reduce (nor to return to afterwards).
    await _draft(db, clock, keeper, t.branch_a, wang_id, *EXEMPT_NOW, *_rest())
    with pytest.raises(ServiceError) as no_standard:
        await record_exemption(db, keeper, member_html="x", now=now, today=day)
    assert no_standard.value.code == "dues.exempt.no_standard"
    await _standard(db, clock, wang_id, t.branch_a)
    for actor in (other_keeper, wang):
        with pytest.raises(ServiceError) as denied:
            await start_exemption(db, actor, t.branch_a, now, day)
        assert denied.value.code == "auth.keep_dues"
        with pytest.raises(ServiceError):
            await branch_exemptions(db, actor, t.branch_a, day)
    with pytest.raises(ServiceError) as stranger:
        await pick(db, keeper, t.branch_a, outsider, day)
    assert stranger.value.code == "dues.member.not_found"
    await _draft(db, clock, keeper, t.branch_a, wang_id, *EXEMPT_NOW, *_rest())
    view = await record_exemption(db, keeper, member_html="x", now=now, today=day)
    with pytest.raises(ServiceError) as foreign:
        await end_exemption(db, other_keeper, view.id, member_html="x", now=now, today=day)
    assert foreign.value.code == "auth.keep_dues"
    with pytest.raises(ServiceError) as missing:
        await end_exemption(db, keeper, 999_999, member_html="x", now=now, today=day)
    assert missing.value.code == "dues.exempt.not_found"
    # A draft kept past its caps (saved a long while later) is refused when confirmed.
    await _draft(
        db,
        clock,
        keeper,
        t.branch_a,
        wang_id,
        Event("kind", 0),
        Event("text", text="2027-06"),
        *_rest(),
    )
    later = date(2027, 12, 20)
    with pytest.raises(ServiceError) as aged:
        await record_exemption(db, keeper, member_html="x", now=now, today=later)
    assert aged.value.code == "dues.exempt.agreed_range"
