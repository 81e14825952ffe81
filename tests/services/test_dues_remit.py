"""上缴 against a real database: the keeper's draft walked to one recorded remittance (twice is
once), who may remit, confirm and look, the committee's totals checked against the month by
month rule, and a page of 60 branches."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import pytest
from sqlalchemy import select

from domain.dues import Period, due_for, months_between
from domain.dues_remit import RemitDraft
from domain.orgs import Level, Role, Status
from domain.wizard import Event
from services.authz import Actor
from services.drafts import open_draft
from services.dues import periods_of
from services.dues_remit import (
    PAGE_SIZE,
    RemitText,
    branch_remittances,
    committee_remits,
    confirm_remittance,
    finish_remittance,
    open_remit,
    queue_remits_file,
    remit_board,
    remit_committees,
    remit_step,
    remittance_of,
    start_remit,
)
from services.errors import Denied, ServiceError
from services.users import Person, touch_user
from storage.db import Database
from storage.models import (
    AuditEntry,
    DuesEntry,
    DuesExemption,
    DuesRemittance,
    DuesStandard,
    Member,
    OutboxItem,
)
from tests.conftest import FakeClock
from tests.services.factories import BASE_UID, member, office, org, person

TEXTS = {"zh_CN": RemitText("上缴", "确认收到", "看凭证"), "en": RemitText("remit", "OK", "See")}


@dataclass
class World:
    committee: int
    other_committee: int
    branch: int
    keeper: Actor
    member: Actor
    c_keeper: Actor
    c_admin: Actor
    stranger_keeper: Actor


async def world(db: Database, clock: FakeClock) -> World:
    committee = await org(db, clock, "两新工委", Level.COMMITTEE, None)
    other = await org(db, clock, "商贸党委", Level.COMMITTEE, None)
    branch = await org(db, clock, "甲支部", Level.BRANCH, committee)
    actors = {}
    for i, key in enumerate(("keeper", "member", "ckeeper", "cadmin", "stranger"), 1):
        uid = BASE_UID + i
        await touch_user(db, Person(id=uid, first_name=key, language_code="zh-hans"),
                         clock.now(), started=True)  # fmt: skip
        actors[key] = Actor(user_id=uid)
    keeper_id = await member(db, clock, branch, "李组织", user_id=actors["keeper"].user_id)
    await office(db, clock, branch, Role.ORGANIZATION, member_id=keeper_id)
    wang = await member(db, clock, branch, "王芳", user_id=actors["member"].user_id)
    ck = await member(db, clock, committee, "刘会计", user_id=actors["ckeeper"].user_id)
    await office(db, clock, committee, Role.DUES_KEEPER, member_id=ck)
    await office(db, clock, committee, Role.COMMITTEE_ADMIN, user_id=actors["cadmin"].user_id)
    sk = await member(db, clock, other, "赵会计", user_id=actors["stranger"].user_id)
    await office(db, clock, other, Role.DUES_KEEPER, member_id=sk)
    now = clock.now()
    async with db.transaction() as s:
        s.add(DuesStandard(member_id=wang, org_id=branch, category="working", permille=15,
                           amount_fen=8_100, from_month=202601, status="confirmed",
                           declared_at=now))  # fmt: skip
        for month in months_between(202607, 202609):
            s.add(DuesEntry(member_id=wang, org_id=branch, month=month, amount_fen=8_100,
                            kind="dues", recorded_by=1, recorded_at=now))  # fmt: skip
    return World(committee, other, branch, actors["keeper"], actors["member"],
                 actors["ckeeper"], actors["cadmin"], actors["stranger"])  # fmt: skip


async def _to_review(db: Database, clock: FakeClock, w: World, *events: Event) -> RemitDraft:
    day = clock.now().date()
    await start_remit(db, w.keeper, w.branch, clock.now(), day)
    draft = None
    for event in events:
        draft = await remit_step(db, w.keeper, event, clock.now(), day)
    assert draft is not None
    return draft


async def test_the_keeper_records_a_remittance_once_and_the_committee_is_told(
    db: Database, clock: FakeClock
) -> None:
    w = await world(db, clock)
    day = clock.now().date()
    draft = await _to_review(db, clock, w, Event("pick", text="lq"))
    assert (draft.step, draft.collected_fen, draft.amount_fen) == ("amount", 24_300, 24_300)
    assert draft.committee == "两新工委"
    draft = await remit_step(db, w.keeper, Event("text", text="243"), clock.now(), day)
    draft = await remit_step(db, w.keeper, Event("today"), clock.now(), day)
    draft = await remit_step(db, w.keeper, Event("photo", text="AgAD-receipt"), clock.now(), day)
    assert draft.step == "review"
    view = await finish_remittance(db, w.keeper, draft, texts=TEXTS, default_locale="zh_CN",
                                   now=clock.now(), today=day)  # fmt: skip
    assert (view.amount_fen, view.told, view.proof_file_id) == (24_300, 1, "AgAD-receipt")
    assert await open_remit(db, w.keeper) is None  # the draft went with it
    with pytest.raises(ServiceError) as second:  # the old 确认上缴 again
        await finish_remittance(db, w.keeper, draft, texts=TEXTS, default_locale="zh_CN",
                                now=clock.now(), today=day)  # fmt: skip
    assert second.value.code == "stale"
    async with db.read() as s:
        rows = (await s.scalars(select(DuesRemittance))).all()
        items = (await s.scalars(select(OutboxItem))).all()
        actions = (await s.scalars(select(AuditEntry.action))).all()
    assert len(rows) == 1
    assert [i.chat_id for i in items] == [w.c_keeper.user_id]
    assert items[0].payload["buttons"] == [[["确认收到", f"cb:dcc:{view.id}"],
                                            ["看凭证", f"cb:drp:{view.id}"]]]  # fmt: skip
    assert list(actions).count("dues.remit.record") == 1
    # The committee sees the photo; a member of the branch, another committee do not.
    assert (await remittance_of(db, w.c_admin, view.id, day)).proof_file_id == "AgAD-receipt"
    assert (await remittance_of(db, w.keeper, view.id, day)).branch == "甲支部"
    for outsider in (w.member, w.stranger_keeper):
        with pytest.raises(Denied):
            await remittance_of(db, outsider, view.id, day)
    (listed,) = await branch_remittances(db, w.keeper, w.branch, day)
    assert (listed.id, listed.confirmed, listed.committee) == (view.id, False, "两新工委")


async def test_a_draft_changed_after_the_preview_is_not_recorded(
    db: Database, clock: FakeClock
) -> None:
    w = await world(db, clock)
    day = clock.now().date()
    shown = await _to_review(db, clock, w, Event("pick", text="lq"), Event("ok"),
                             Event("yesterday"), Event("skip"))  # fmt: skip
    await remit_step(db, w.keeper, Event("back"), clock.now(), day)  # another tab moved on
    with pytest.raises(ServiceError):
        await finish_remittance(db, w.keeper, shown, texts=TEXTS, default_locale="zh_CN",
                                now=clock.now(), today=day)  # fmt: skip
    forged = replace(shown, amount_fen=1)
    with pytest.raises(ServiceError):
        await finish_remittance(db, w.keeper, forged, texts=TEXTS, default_locale="zh_CN",
                                now=clock.now(), today=day)  # fmt: skip
    async with db.read() as s:
        assert (await s.scalars(select(DuesRemittance))).all() == []


async def test_an_overlap_is_warned_and_the_default_is_what_is_left(
    db: Database, clock: FakeClock
) -> None:
    w = await world(db, clock)
    day = clock.now().date()
    first = await _to_review(db, clock, w, Event("pick", text="lq"), Event("text", text="100"),
                             Event("today"), Event("skip"))  # fmt: skip
    await finish_remittance(db, w.keeper, first, texts=TEXTS, default_locale="zh_CN",
                            now=clock.now(), today=day)  # fmt: skip
    again = await _to_review(db, clock, w, Event("pick", text="lq"))
    assert again.step == "overlap"
    assert [s.amount_fen for s in again.overlaps] == [10_000]
    again = await remit_step(db, w.keeper, Event("go"), clock.now(), day)
    assert (again.step, again.amount_fen) == ("amount", 14_300)


async def test_who_may_remit_confirm_and_see(db: Database, clock: FakeClock) -> None:
    w = await world(db, clock)
    day = clock.now().date()
    for outsider in (w.member, w.c_keeper, w.stranger_keeper):
        with pytest.raises(Denied):
            await start_remit(db, outsider, w.branch, clock.now(), day)
    draft = await _to_review(db, clock, w, Event("pick", text="lq"), Event("ok"),
                             Event("today"), Event("skip"))  # fmt: skip
    view = await finish_remittance(db, w.keeper, draft, texts=TEXTS, default_locale="zh_CN",
                                   now=clock.now(), today=day)  # fmt: skip
    for wrong in (w.stranger_keeper, w.keeper, w.member, w.c_admin):
        with pytest.raises(Denied):
            await confirm_remittance(db, wrong, view.id, clock.now(), day)
    with pytest.raises(ServiceError):
        await confirm_remittance(db, w.c_keeper, view.id + 99, clock.now(), day)
    _, fresh = await confirm_remittance(db, w.c_keeper, view.id, clock.now(), day)
    assert fresh
    assert (await branch_remittances(db, w.keeper, w.branch, day))[0].confirmed
    assert await remit_committees(db, w.member, day) == []
    assert await remit_committees(db, w.c_keeper, day) == [(w.committee, "两新工委")]
    with pytest.raises(ServiceError) as denied:
        await remit_board(db, w.stranger_keeper, w.committee, 202607, 202609, page=0, query="",
                          today=day)  # fmt: skip
    assert denied.value.code == "dues.board.denied"
    with pytest.raises(ServiceError):
        await queue_remits_file(db, w.member, w.committee, first=202607, last=202609,
                                filename="x.xlsx", data=b"x", caption_html="x",
                                now=clock.now(), today=day)  # fmt: skip


async def test_committee_totals_match_the_month_by_month_rule(
    db: Database, clock: FakeClock
) -> None:
    """Simple standards summed by the database, changed standards and exemptions month by
    month: both agree with domain.dues.due_for over every member."""
    committee = await org(db, clock, "党委", Level.COMMITTEE, None)
    general = await org(db, clock, "总支", Level.GENERAL_BRANCH, committee)
    a = await org(db, clock, "甲支部", Level.BRANCH, committee)
    b = await org(db, clock, "乙支部", Level.BRANCH, general)
    now = clock.now()
    plans: list[tuple[int, list[tuple[int, int]], list[tuple[int, int, int]], Status]] = [
        (a, [(202601, 8_100)], [], Status.ACTIVE),
        (a, [(202608, 2_000)], [], Status.ACTIVE),  # starts within the period
        (a, [(202610, 5_000)], [], Status.ACTIVE),  # starts after it
        (a, [(202601, 5_000), (202608, 9_000)], [], Status.ACTIVE),  # rose in August
        (b, [(202601, 6_000)], [(202608, 202608, 0)], Status.ACTIVE),  # exempt one month
        (b, [(202601, 3_000)], [(202605, 202612, 1_000)], Status.ACTIVE),  # reduced
        (b, [(202601, 7_000)], [], Status.LEFT),  # not counted
        (b, [(202607, 0)], [], Status.ACTIVE),
    ]
    ids = []
    for number, (branch, standards, exemptions, status) in enumerate(plans):
        member_id = await member(db, clock, branch, f"党员{number}", status=status)
        ids.append(member_id)
        async with db.transaction() as s:
            for start, amount in standards:
                s.add(DuesStandard(member_id=member_id, org_id=branch, category="working",
                                   permille=10, amount_fen=amount, from_month=start,
                                   status="confirmed", declared_at=now))  # fmt: skip
            s.add(DuesStandard(member_id=member_id, org_id=branch, category="working",
                               permille=10, amount_fen=99_999, from_month=202601,
                               status="pending", declared_at=now))  # fmt: skip
            for first, until, amount in exemptions:
                s.add(DuesExemption(member_id=member_id, org_id=branch, from_month=first,
                                    until_month=until, amount_fen=amount, reason="困难",
                                    agreed_on=date(2026, 1, 1), approved_by="党委",
                                    recorded_by=1, recorded_at=now))  # fmt: skip
    async with db.transaction() as s:
        s.add(DuesEntry(member_id=ids[0], org_id=a, month=202607, amount_fen=8_100,
                        kind="dues", recorded_by=1, recorded_at=now))  # fmt: skip
        s.add(DuesEntry(member_id=ids[0], org_id=a, month=202607, amount_fen=-8_100,
                        kind="correction", recorded_by=1, recorded_at=now))  # fmt: skip
        s.add(DuesEntry(member_id=ids[4], org_id=b, month=202609, amount_fen=6_000,
                        kind="dues", recorded_by=1, recorded_at=now))  # fmt: skip
        s.add(DuesEntry(member_id=ids[4], org_id=b, month=None, amount_fen=100_000,
                        kind="extra", recorded_by=1, recorded_at=now))  # fmt: skip
        s.add(DuesEntry(member_id=ids[4], org_id=b, month=202610, amount_fen=6_000,
                        kind="dues", recorded_by=1, recorded_at=now))  # fmt: skip
    async with db.read() as s:
        periods = await periods_of(s, ids)
        active = select(Member.id, Member.org_id).where(Member.status == Status.ACTIVE)
        branch_of = dict((await s.execute(active)).all())
    expected = {a: 0, b: 0}
    for member_id, spans in periods.items():
        if member_id in branch_of:
            expected[branch_of[member_id]] += sum(
                due_for(list[Period](spans), m) or 0 for m in months_between(202607, 202609)
            )
    rows = await committee_remits(db, Actor(user_id=0, superadmin=True), committee, 202607,
                                  202609, clock.now().date())  # fmt: skip
    got = {r.org_id: (r.due_fen, r.collected_fen) for r in rows}
    assert got == {a: (expected[a], 0), b: (expected[b], 6_000)}
    assert expected[a] == 3 * 8_100 + 2 * 2_000 + 5_000 + 2 * 9_000


async def test_sixty_branches_page_by_page_and_by_name(db: Database, clock: FakeClock) -> None:
    committee = await org(db, clock, "城区党委", Level.COMMITTEE, None)
    branches = [await org(db, clock, f"第{n:02d}支部", Level.BRANCH, committee)
                for n in range(1, 61)]  # fmt: skip
    keeper = await person(db, clock, BASE_UID + 70)
    ck = await member(db, clock, committee, "刘会计", user_id=keeper.user_id)
    await office(db, clock, committee, Role.DUES_KEEPER, member_id=ck)
    now, day = clock.now(), clock.now().date()
    async with db.transaction() as s:
        for n, branch in enumerate(branches):
            if n % 3 == 0:
                s.add(DuesRemittance(org_id=branch, to_org_id=committee, from_month=202607,
                                     until_month=202609, amount_fen=1_000 + n, paid_on=day,
                                     recorded_by=1, recorded_at=now,
                                     confirmed_by=1 if n % 2 else None,
                                     confirmed_at=now if n % 2 else None))  # fmt: skip
    board, lines = await remit_board(db, keeper, committee, 202607, 202609, page=99, query="",
                                     today=day)  # fmt: skip
    assert (board.page, board.pages, board.branches, len(lines)) == (2, 3, 60, 60)
    assert [r.name for r in board.rows][-1] == "第60支部"
    assert len(board.rows) == PAGE_SIZE
    assert board.none_remitted == 40
    assert board.remitted_fen == sum(1_000 + n for n in range(0, 60, 3))
    assert board.confirmed_fen == sum(1_000 + n for n in range(0, 60, 3) if n % 2)
    assert (board.can_confirm, board.pending_count, len(board.pending)) == (True, 10, 5)
    narrowed, lines = await remit_board(db, keeper, committee, 202607, 202609, page=0,
                                        query="第5", today=day)  # fmt: skip
    assert [r.name for r in narrowed.rows] == [f"第5{n}支部" for n in range(10)]
    assert (narrowed.pages, narrowed.branches) == (1, 10)
    # Remittances outside the period are not counted in it.
    year, _ = await remit_board(db, keeper, committee, 202610, 202612, page=0, query="",
                                today=day)  # fmt: skip
    assert (year.remitted_fen, year.none_remitted, year.pending_count) == (0, 60, 0)
    item = await queue_remits_file(db, keeper, committee, first=202607, last=202609,
                                   filename="上缴.xlsx", data=b"PK", caption_html="上缴",
                                   now=now, today=day)  # fmt: skip
    async with db.read() as s:
        audit = (await s.scalars(select(AuditEntry).where(AuditEntry.action == "dues.export"))
                 ).one()  # fmt: skip
        assert (await s.get(OutboxItem, item)) is not None
    assert audit.after is not None
    assert audit.after["ledger"] == "remits"


async def test_the_draft_survives_a_restart(db: Database, clock: FakeClock) -> None:
    w = await world(db, clock)
    await _to_review(db, clock, w, Event("pick", text="tq"))
    kept = await open_draft(db, w.keeper.user_id, RemitDraft)
    assert isinstance(kept, RemitDraft)
    assert (kept.from_month, kept.until_month, kept.step) == (202610, 202612, "amount")
