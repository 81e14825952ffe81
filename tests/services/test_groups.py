"""Telegram groups bound to branches: binding, the gate, presence, losing and migrating."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from domain.orgs import Kind, Level, Role, Stage, Status
from services import audit, groups, members, orgs
from services.authz import Actor
from services.chats import migrate_chat, record_bot_status
from services.errors import Denied, NotFound
from services.groups import GateDecision
from services.users import Person, touch_user
from storage.db import Database
from storage.models import ChatBinding, ChatPresence, GateRestriction
from tests.conftest import FakeClock
from tests.services.factories import (
    BASE_UID,
    SUPER,
    Tree,
    linked_member,
    member,
    office,
    person,
    today,
    tree,
)

MAIN = -1001000000001
EXTRA = -1001000000002
THIRD = -1001000000003
NEWCOMER = BASE_UID + 100


async def bind(
    db: Database,
    clock: FakeClock,
    actor: Actor,
    chat_id: int,
    org_id: int,
    *,
    make_main: bool = False,
) -> groups.BindResult:
    return await groups.bind_chat(
        db, actor, chat_id, org_id, make_main=make_main, now=clock.now(), today=today(clock)
    )


async def secretary(db: Database, clock: FakeClock, org_id: int, uid: int) -> Actor:
    actor, _ = await linked_member(db, clock, org_id, uid, "书记", role=Role.SECRETARY)
    return actor


# ---------------------------------------------------------------- binding


async def test_the_first_group_is_main_and_the_next_is_extra(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    sec = await secretary(db, clock, t.branch_a, BASE_UID + 1)
    first = await bind(db, clock, sec, MAIN, t.branch_a)
    assert (first.binding.main, first.binding.org.id, first.previous_org, first.demoted_main) == (
        True, t.branch_a, None, None,
    )  # fmt: skip
    second = await bind(db, clock, sec, EXTRA, t.branch_a)
    assert (second.binding.main, second.demoted_main) == (False, None)
    main = await groups.binding_of(db, MAIN)
    extra = await groups.binding_of(db, EXTRA)
    assert main is not None
    assert main.main
    assert main.active
    assert extra is not None
    assert not extra.main
    assert await groups.binding_of(db, THIRD) is None
    entries = await audit.recent(db, target_type="chat", target_id=str(EXTRA))
    assert [(e.action, e.actor_id) for e in entries] == [("chat.bind", sec.user_id)]
    assert entries[0].after == {"org_id": t.branch_a, "purpose": "extra", "demoted_main": None}


async def test_making_another_group_main_swaps_the_two(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    sec = await secretary(db, clock, t.branch_a, BASE_UID + 1)
    await bind(db, clock, sec, MAIN, t.branch_a)
    await bind(db, clock, sec, EXTRA, t.branch_a)
    swapped = await bind(db, clock, sec, EXTRA, t.branch_a, make_main=True)
    assert (swapped.binding.main, swapped.demoted_main, swapped.previous_org) == (True, MAIN, None)
    old_main = await groups.binding_of(db, MAIN)
    new_main = await groups.binding_of(db, EXTRA)
    assert old_main is not None
    assert not old_main.main
    assert new_main is not None
    assert new_main.main
    async with db.read() as s:
        mains = await s.scalar(
            select(func.count())
            .select_from(ChatBinding)
            .where(ChatBinding.org_id == t.branch_a, ChatBinding.purpose == "main")
        )
    assert mains == 1


async def test_binding_the_main_group_again_changes_nothing(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    await bind(db, clock, SUPER, MAIN, t.branch_a)
    again = await bind(db, clock, SUPER, MAIN, t.branch_a, make_main=True)
    assert (again.binding.main, again.demoted_main, again.previous_org) == (True, None, None)
    again = await bind(db, clock, SUPER, MAIN, t.branch_a)
    assert again.binding.main is True


async def test_only_group_binders_may_bind(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    deputy, _ = await linked_member(db, clock, t.branch_a, BASE_UID + 1, "张副", role=Role.DEPUTY)
    plain, _ = await linked_member(db, clock, t.branch_a, BASE_UID + 2, "普通党员")
    other = await secretary(db, clock, t.branch_b, BASE_UID + 3)
    stranger = await person(db, clock, BASE_UID + 4)
    for actor in (deputy, plain, other, stranger):
        with pytest.raises(Denied) as err:
            await bind(db, clock, actor, MAIN, t.branch_a)
        assert err.value.code == "auth.bind_group"
    assert await groups.binding_of(db, MAIN) is None


async def test_groups_bind_to_branches_not_committees(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    for org_id in (t.committee, 999):
        with pytest.raises(NotFound):
            await bind(db, clock, SUPER, MAIN, org_id)
    general = await bind(db, clock, SUPER, MAIN, t.general)
    assert general.binding.org.id == t.general


async def test_rebinding_a_group_to_another_branch_reports_the_previous_one(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    admin = await person(db, clock, BASE_UID + 1)
    await office(db, clock, t.committee, Role.COMMITTEE_ADMIN, user_id=admin.user_id)
    await bind(db, clock, admin, MAIN, t.branch_a)
    moved = await bind(db, clock, admin, MAIN, t.branch_b)
    assert moved.previous_org is not None
    assert moved.previous_org.id == t.branch_a
    assert moved.binding.main is True  # branch B had no main group yet
    view = await groups.binding_of(db, MAIN)
    assert view is not None
    assert view.org.id == t.branch_b
    entry = (await audit.recent(db, target_type="chat", target_id=str(MAIN)))[0]
    assert entry.before == {"org_id": t.branch_a, "purpose": "main", "active": True}


async def test_a_lost_group_bound_again_reports_no_previous_branch(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    await bind(db, clock, SUPER, MAIN, t.branch_a)
    await groups.unbind_chat(db, MAIN, clock.now(), today(clock))
    again = await bind(db, clock, SUPER, MAIN, t.branch_b)
    assert again.previous_org is None
    assert again.binding.active is True


async def test_bind_candidates_come_a_page_at_a_time(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    for i in range(5):
        await orgs.create_org(
            db, SUPER, name=f"支部{i:02d}", level=Level.BRANCH, kind=Kind.STANDARD,
            parent_id=t.committee, now=clock.now(), today=today(clock),
        )  # fmt: skip
    admin = await person(db, clock, BASE_UID + 1)
    await office(db, clock, t.committee, Role.COMMITTEE_ADMIN, user_id=admin.user_id)
    first, total = await groups.bind_candidates(db, admin, today(clock), offset=0, limit=4)
    second, total_again = await groups.bind_candidates(db, admin, today(clock), offset=4, limit=4)
    third, _ = await groups.bind_candidates(db, admin, today(clock), offset=8, limit=4)
    # Branches and the general branch under the committee; never a committee; never branch C.
    assert total == total_again == 8
    names = [o.name for o in first + second]
    assert names == sorted(names)
    ids = {o.id for o in first + second}
    assert {t.branch_a, t.branch_b, t.general} <= ids
    assert not {t.committee, t.sub_committee, t.branch_c} & ids
    assert third == []


async def test_a_secretary_may_bind_only_to_their_branch(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    sec = await secretary(db, clock, t.branch_b, BASE_UID + 1)
    page, total = await groups.bind_candidates(db, sec, today(clock), offset=0, limit=10)
    assert ([o.id for o in page], total) == ([t.branch_b], 1)
    stranger = await person(db, clock, BASE_UID + 2)
    assert await groups.bind_candidates(db, stranger, today(clock), offset=0, limit=10) == ([], 0)
    deputy, _ = await linked_member(db, clock, t.branch_a, BASE_UID + 3, "张副", role=Role.DEPUTY)
    assert await groups.bind_candidates(db, deputy, today(clock), offset=0, limit=10) == ([], 0)


async def test_the_superadmin_may_bind_to_every_branch(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    page, total = await groups.bind_candidates(db, SUPER, today(clock), offset=0, limit=2)
    assert total == 4  # three branches and the general branch
    assert len(page) == 2
    all_ids = {o.id for o in (await groups.bind_candidates(db, SUPER, today(clock), offset=0,
                                                          limit=10))[0]}  # fmt: skip
    assert all_ids == {t.general, t.branch_a, t.branch_b, t.branch_c}


# ---------------------------------------------------------------- the gate


async def test_an_unbound_group_has_no_gate(db: Database, clock: FakeClock) -> None:
    assert await groups.gate_check(db, MAIN, NEWCOMER) == GateDecision(None, True, False)


async def gated(db: Database, clock: FakeClock) -> Tree:
    t = await tree(db, clock)
    await bind(db, clock, SUPER, MAIN, t.branch_a)
    return t


async def test_the_gate_holds_back_non_members(db: Database, clock: FakeClock) -> None:
    t = await gated(db, clock)
    assert await groups.gate_check(db, MAIN, NEWCOMER) == GateDecision(t.branch_a, False, False)
    await groups.record_restriction(db, MAIN, NEWCOMER, t.branch_a, clock.now())
    await groups.record_restriction(db, MAIN, NEWCOMER, t.branch_a, clock.now())
    assert await groups.gate_check(db, MAIN, NEWCOMER) == GateDecision(t.branch_a, False, True)
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(GateRestriction)) == 1


async def test_the_gate_lets_active_members_of_the_branch_in(
    db: Database, clock: FakeClock
) -> None:
    t = await gated(db, clock)
    await linked_member(db, clock, t.branch_a, NEWCOMER, "王芳")
    assert await groups.gate_check(db, MAIN, NEWCOMER) == GateDecision(t.branch_a, True, False)


async def test_the_gate_holds_back_members_of_other_branches_and_leavers(
    db: Database, clock: FakeClock
) -> None:
    t = await gated(db, clock)
    await linked_member(db, clock, t.branch_b, NEWCOMER, "王芳")
    assert (await groups.gate_check(db, MAIN, NEWCOMER)).allowed is False
    leaver = BASE_UID + 101
    await person(db, clock, leaver)
    await member(db, clock, t.branch_a, "离开", user_id=leaver, status=Status.LEFT)
    assert (await groups.gate_check(db, MAIN, leaver)).allowed is False


async def test_a_gate_switched_off_lets_everyone_in(db: Database, clock: FakeClock) -> None:
    t = await gated(db, clock)
    sec = await secretary(db, clock, t.branch_a, BASE_UID + 1)
    await orgs.set_gate(db, sec, t.branch_a, False, clock.now(), today(clock))
    assert await groups.gate_check(db, MAIN, NEWCOMER) == GateDecision(None, True, False)
    await orgs.set_gate(db, sec, t.branch_a, True, clock.now(), today(clock))
    assert (await groups.gate_check(db, MAIN, NEWCOMER)).allowed is False


async def test_approval_names_the_groups_to_unmute_and_lifting_is_recorded(
    db: Database, clock: FakeClock
) -> None:
    t = await gated(db, clock)
    await bind(db, clock, SUPER, EXTRA, t.branch_a)
    await bind(db, clock, SUPER, THIRD, t.branch_b)
    await person(db, clock, NEWCOMER, "王芳")
    for chat, org_id in ((MAIN, t.branch_a), (EXTRA, t.branch_a), (THIRD, t.branch_b)):
        await groups.record_restriction(db, chat, NEWCOMER, org_id, clock.now())
    sent = await members.submit_registration(
        db, user_id=NEWCOMER, org_id=t.branch_a, name="王芳", stage=Stage.FULL, unit_id=None,
        phone=None, now=clock.now(), today=today(clock),
    )  # fmt: skip
    decision = await members.decide_registration(
        db, SUPER, sent.registration.id, approve=True, reason=None, now=clock.now(),
        today=today(clock),
    )  # fmt: skip
    assert sorted(decision.restricted_chats) == sorted([MAIN, EXTRA])
    for chat in decision.restricted_chats:
        await members.mark_gate_lifted(db, chat, NEWCOMER, clock.now())
    assert await groups.gate_check(db, MAIN, NEWCOMER) == GateDecision(t.branch_a, True, False)
    third = await groups.gate_check(db, THIRD, NEWCOMER)
    assert (third.allowed, third.already_restricted) == (False, True)
    async with db.read() as s:
        open_rows = await s.scalar(
            select(func.count())
            .select_from(GateRestriction)
            .where(GateRestriction.lifted_at.is_(None))
        )
    assert open_rows == 1


async def test_a_rejection_names_no_groups(db: Database, clock: FakeClock) -> None:
    t = await gated(db, clock)
    await person(db, clock, NEWCOMER, "王芳")
    await groups.record_restriction(db, MAIN, NEWCOMER, t.branch_a, clock.now())
    sent = await members.submit_registration(
        db, user_id=NEWCOMER, org_id=t.branch_a, name="王芳", stage=Stage.FULL, unit_id=None,
        phone=None, now=clock.now(), today=today(clock),
    )  # fmt: skip
    decision = await members.decide_registration(
        db, SUPER, sent.registration.id, approve=False, reason="不认识", now=clock.now(),
        today=today(clock),
    )  # fmt: skip
    assert decision.restricted_chats == ()


# ---------------------------------------------------------------- losing a group


async def test_losing_a_group_deactivates_it_and_names_the_admins_to_tell(
    db: Database, clock: FakeClock
) -> None:
    t = await gated(db, clock)
    sec = await secretary(db, clock, t.branch_a, BASE_UID + 1)
    deputy, _ = await linked_member(db, clock, t.branch_a, BASE_UID + 2, "张副", role=Role.DEPUTY)
    await linked_member(db, clock, t.branch_a, BASE_UID + 3, "宣传", role=Role.PROPAGANDA)
    org, admins = await groups.unbind_chat(db, MAIN, clock.now(), today(clock))
    assert org is not None
    assert org.id == t.branch_a
    assert sorted(admins) == sorted([sec.user_id, deputy.user_id])
    assert await groups.binding_of(db, MAIN) is None
    assert await groups.gate_check(db, MAIN, NEWCOMER) == GateDecision(None, True, False)
    assert await groups.unbind_chat(db, MAIN, clock.now(), today(clock)) == (None, ())
    assert await groups.unbind_chat(db, THIRD, clock.now(), today(clock)) == (None, ())
    entry = (await audit.recent(db, target_type="chat", target_id=str(MAIN)))[0]
    assert (entry.action, entry.actor_id) == ("chat.lost", None)


async def test_losing_a_group_of_a_branch_without_officers_tells_the_committee(
    db: Database, clock: FakeClock
) -> None:
    t = await gated(db, clock)
    admin = await person(db, clock, BASE_UID + 1)
    await office(db, clock, t.sub_committee, Role.COMMITTEE_ADMIN, user_id=admin.user_id)
    _, admins = await groups.unbind_chat(db, MAIN, clock.now(), today(clock))
    assert admins == (admin.user_id,)


# ---------------------------------------------------------------- migration and presence


async def test_a_migrated_group_keeps_its_binding_presence_and_restrictions(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    old_id, new_id = -4000000001, -1004000000001
    await record_bot_status(
        db, chat_id=old_id, chat_type="group", title="甲支部群", is_forum=False,
        bot_status="administrator", now=clock.now(),
    )  # fmt: skip
    await bind(db, clock, SUPER, old_id, t.branch_a)
    registered, _ = await linked_member(db, clock, t.branch_a, BASE_UID + 1, "王芳")
    await person(db, clock, NEWCOMER, "陌生人")
    await groups.record_presence(db, old_id, registered.user_id, clock.now())
    await groups.record_presence(db, old_id, NEWCOMER, clock.now())
    await groups.record_restriction(db, old_id, NEWCOMER, t.branch_a, clock.now())
    # The bot saw someone in the new supergroup before the migration message arrived.
    await groups.record_presence(db, new_id, NEWCOMER, clock.now())

    for _ in range(2):  # Telegram reports the migration in both chats
        await migrate_chat(db, old_id=old_id, new_id=new_id, title="甲支部群", now=clock.now())

    moved = await groups.binding_of(db, new_id)
    assert moved is not None
    assert moved.org.id == t.branch_a
    assert moved.main
    assert await groups.binding_of(db, old_id) is None
    assert await groups.gate_check(db, new_id, NEWCOMER) == GateDecision(t.branch_a, False, True)
    assert (await groups.gate_check(db, new_id, registered.user_id)).allowed is True
    report = await groups.bind_report(db, new_id, t.branch_a)
    assert (report.registered, report.unknown, report.seen) == (("王芳",), ("陌生人",), 2)
    async with db.read() as s:
        left_behind = await s.scalar(
            select(func.count()).select_from(ChatPresence).where(ChatPresence.chat_id == old_id)
        )
        restrictions = (await s.scalars(select(GateRestriction.chat_id))).all()
    assert left_behind == 0
    assert list(restrictions) == [new_id]
    sent = await members.submit_registration(
        db, user_id=NEWCOMER, org_id=t.branch_a, name="陌生人", stage=Stage.MASSES,
        unit_id=None, phone=None, now=clock.now(), today=today(clock),
    )  # fmt: skip
    decision = await members.decide_registration(
        db, SUPER, sent.registration.id, approve=True, reason=None, now=clock.now(),
        today=today(clock),
    )  # fmt: skip
    assert decision.restricted_chats == (new_id,)


async def test_the_bind_report_sorts_people_seen_in_the_group(
    db: Database, clock: FakeClock
) -> None:
    t = await gated(db, clock)
    seen = []
    for uid, name in ((BASE_UID + 1, "赵书记"), (BASE_UID + 2, "钱党员")):
        actor, _ = await linked_member(db, clock, t.branch_a, uid, name)
        seen.append(actor.user_id)
    await touch_user(db, Person(id=BASE_UID + 3, first_name="Li", last_name="Ming"), clock.now())
    await touch_user(db, Person(id=BASE_UID + 4, first_name="阿花"), clock.now())
    elsewhere, _ = await linked_member(db, clock, t.branch_b, BASE_UID + 5, "别支部党员")
    seen += [BASE_UID + 3, BASE_UID + 4, elsewhere.user_id]
    await member(db, clock, t.branch_a, "孙未注册")
    await member(db, clock, t.branch_a, "李未注册")
    await member(db, clock, t.branch_a, "周已离开", status=Status.LEFT)
    gone = BASE_UID + 6
    await touch_user(db, Person(id=gone, first_name="走了"), clock.now())
    for uid in [*seen, gone]:
        await groups.record_presence(db, MAIN, uid, clock.now())
    await groups.record_presence(db, EXTRA, BASE_UID + 4, clock.now())
    await groups.forget_presence(db, MAIN, gone)

    report = await groups.bind_report(db, MAIN, t.branch_a)
    assert report.registered == tuple(sorted(["赵书记", "钱党员"]))
    # People not on this branch's roster, members of other branches included.
    assert report.unknown == tuple(sorted(["Li Ming", "阿花", "别支部党员"]))
    assert report.unlinked == tuple(sorted(["孙未注册", "李未注册"]))
    assert report.seen == 5


async def test_seeing_someone_again_only_refreshes_their_presence(
    db: Database, clock: FakeClock
) -> None:
    t = await gated(db, clock)
    await person(db, clock, NEWCOMER)
    await groups.record_presence(db, MAIN, NEWCOMER, clock.now())
    later = clock.advance(hours=5)
    await groups.record_presence(db, MAIN, NEWCOMER, later)
    async with db.read() as s:
        rows = (await s.execute(select(ChatPresence.user_id, ChatPresence.seen_at))).all()
    assert [tuple(r) for r in rows] == [(NEWCOMER, later)]
    assert (await groups.bind_report(db, MAIN, t.branch_a)).seen == 1


async def test_moving_a_main_group_away_promotes_the_branch_s_extra_group(
    db: Database, clock: FakeClock
) -> None:
    bind_chat, binding_of, create_org = groups.bind_chat, groups.binding_of, orgs.create_org
    superadmin = Actor(user_id=0, superadmin=True)
    today = clock.now().date()
    top = await create_org(db, superadmin, name="党委", level=Level.COMMITTEE,
                           kind=Kind.COMPREHENSIVE, parent_id=None,
                           now=clock.now(), today=today)  # fmt: skip
    a = await create_org(db, superadmin, name="甲支部", level=Level.BRANCH, kind=Kind.STANDARD,
                         parent_id=top.id, now=clock.now(), today=today)  # fmt: skip
    b = await create_org(db, superadmin, name="乙支部", level=Level.BRANCH, kind=Kind.STANDARD,
                         parent_id=top.id, now=clock.now(), today=today)  # fmt: skip
    for chat in (-1001, -1002):
        await bind_chat(db, superadmin, chat, a.id, make_main=False, now=clock.now(), today=today)
    await bind_chat(db, superadmin, -1001, b.id, make_main=False, now=clock.now(), today=today)
    remaining = await binding_of(db, -1002)
    assert remaining is not None
    assert remaining.main
    moved = await binding_of(db, -1001)
    assert moved is not None
    assert moved.org.id == b.id
    assert moved.main
