"""The organization tree, units and party groups, offices and what they allow."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from domain.orgs import COMMITTEE_PERMISSIONS, Kind, Level, Permission, Role, Status
from domain.orgs_wizard import HolderDraft, NewOrgDraft, ask_holder, begin, choose_kind, named
from services import audit, orgs, orgs_roles
from services.authz import Actor, orgs_with, permissions
from services.drafts import keep_draft, open_draft
from services.errors import Denied, NotFound, ServiceError
from services.orgs_admin import appoint_user, create_from_draft
from services.users import Person, touch_user
from storage.db import Database
from storage.models import RoleAssignment, Unit
from tests.conftest import FakeClock
from tests.services.factories import (
    BASE_UID,
    SUPER,
    linked_member,
    member,
    office,
    person,
    today,
    tree,
)

P = Permission


async def perms(db: Database, actor: Actor, org_id: int, clock: FakeClock) -> frozenset[Permission]:
    async with db.read() as s:
        return await permissions(s, actor, org_id, today(clock))


async def committee_admin(db: Database, clock: FakeClock, org_id: int, uid: int) -> Actor:
    actor = await person(db, clock, uid, "管理员")
    await orgs_roles.grant_role(
        db, SUPER, org_id, Role.COMMITTEE_ADMIN, user_id=uid, now=clock.now(), today=today(clock)
    )
    return actor


# ---------------------------------------------------------------- creating organizations


async def test_the_create_wizard_creates_once_and_ends_with_it(
    db: Database, clock: FakeClock
) -> None:
    admin = Actor(user_id=(await person(db, clock, BASE_UID + 90, "超管")).user_id, superadmin=True)
    now, t = clock.now(), today(clock)
    asking_kind = begin(None, None, (Level.COMMITTEE,))
    assert asking_kind.step == "kind"  # the only level is chosen without asking
    chosen = choose_kind(asking_kind, asking_kind.kinds.index(Kind.COMPREHENSIVE))
    assert chosen is not None
    assert chosen.step == "name"
    draft = named(chosen, "")
    # Refused (an empty name): nothing created, the draft stays for the person to fix.
    await keep_draft(db, admin.user_id, draft, now)
    with pytest.raises(ServiceError) as empty:
        await create_from_draft(db, admin, now=now, today=t)
    assert empty.value.code == "org.text.empty"
    assert await open_draft(db, admin.user_id, NewOrgDraft) == draft
    await keep_draft(db, admin.user_id, named(draft, "开发区党委"), now)
    card = await create_from_draft(db, admin, now=now, today=t)
    assert (card.org.name, card.org.level) == ("开发区党委", Level.COMMITTEE)
    # The draft went with the organization: 确认创建 pressed again creates no twin.
    assert await open_draft(db, admin.user_id, NewOrgDraft) is None
    with pytest.raises(ServiceError) as again:
        await create_from_draft(db, admin, now=now, today=t)
    assert again.value.code == "stale"
    assert [o.name for o in await orgs.list_orgs(db)].count("开发区党委") == 1
    # A draft still asking a question is not created either.
    await keep_draft(db, admin.user_id, begin(None, None, (Level.COMMITTEE,)), now)
    with pytest.raises(ServiceError) as early:
        await create_from_draft(db, admin, now=now, today=t)
    assert early.value.code == "stale"


async def test_superadmin_creates_a_top_level_committee(db: Database, clock: FakeClock) -> None:
    view = await orgs.create_org(
        db, SUPER, name="  高新区  综合党委 ", level=Level.COMMITTEE, kind=Kind.COMPREHENSIVE,
        parent_id=None, now=clock.now(), today=today(clock),
    )  # fmt: skip
    assert view.name == "高新区 综合党委"
    assert (view.level, view.kind, view.parent_id) == (Level.COMMITTEE, Kind.COMPREHENSIVE, None)
    assert view.gate_enabled is True
    assert await orgs.get_org(db, view.id) == view
    [entry] = await audit.recent(db, target_type="org", target_id=str(view.id))
    assert entry.action == "org.create"
    assert entry.actor_id is None  # the superadmin is no Telegram user
    assert entry.after is not None
    assert entry.after["name"] == "高新区 综合党委"


async def test_committee_admin_creates_branches_anywhere_below(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    admin = await committee_admin(db, clock, t.committee, BASE_UID + 1)
    view = await orgs.create_org(
        db, admin, name="丁公司党支部", level=Level.BRANCH, kind=Kind.STANDARD,
        parent_id=t.general, now=clock.now(), today=today(clock),
    )  # fmt: skip
    assert view.parent_id == t.general
    [entry] = await audit.recent(db, target_type="org", target_id=str(view.id))
    assert entry.actor_id == admin.user_id


async def test_committee_admin_may_not_create_top_level_committees(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    admin = await committee_admin(db, clock, t.committee, BASE_UID + 1)
    with pytest.raises(Denied) as err:
        await orgs.create_org(
            db, admin, name="新党委", level=Level.COMMITTEE, kind=Kind.INDUSTRY,
            parent_id=None, now=clock.now(), today=today(clock),
        )  # fmt: skip
    assert err.value.code == "auth.manage_orgs"


async def test_committee_admin_may_not_create_under_another_committee(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    admin = await committee_admin(db, clock, t.committee, BASE_UID + 1)
    with pytest.raises(Denied):
        await orgs.create_org(
            db, admin, name="戊公司党支部", level=Level.BRANCH, kind=Kind.STANDARD,
            parent_id=t.other_committee, now=clock.now(), today=today(clock),
        )  # fmt: skip


async def test_strangers_and_secretaries_may_not_create_organizations(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    stranger = await person(db, clock, BASE_UID + 2)
    secretary, _ = await linked_member(
        db, clock, t.branch_b, BASE_UID + 3, "李书记", role=Role.SECRETARY
    )
    for actor in (stranger, secretary):
        with pytest.raises(Denied):
            await orgs.create_org(
                db, actor, name="某支部", level=Level.BRANCH, kind=Kind.STANDARD,
                parent_id=t.committee, now=clock.now(), today=today(clock),
            )  # fmt: skip
    assert await orgs.count_orgs(db, Level.BRANCH) == 3


@pytest.mark.parametrize(
    ("level", "kind", "parent"),
    [
        (Level.COMMITTEE, Kind.COMPREHENSIVE, "branch"),
        (Level.COMMITTEE, Kind.COMPREHENSIVE, "general"),
        (Level.BRANCH, Kind.STANDARD, "branch"),
        (Level.BRANCH, Kind.STANDARD, None),
        (Level.GENERAL_BRANCH, Kind.GENERAL, "general"),
        (Level.GENERAL_BRANCH, Kind.GENERAL, None),
    ],
)
async def test_organizations_must_sit_under_an_allowed_parent(
    db: Database, clock: FakeClock, level: Level, kind: Kind, parent: str | None
) -> None:
    t = await tree(db, clock)
    parent_id = {"branch": t.branch_a, "general": t.general, None: None}[parent]
    with pytest.raises(ServiceError) as err:
        await orgs.create_org(
            db, SUPER, name="错位组织", level=level, kind=kind, parent_id=parent_id,
            now=clock.now(), today=today(clock),
        )  # fmt: skip
    assert err.value.code == "org.bad_parent"


async def test_a_kind_must_match_its_level(db: Database, clock: FakeClock) -> None:
    with pytest.raises(ServiceError) as err:
        await orgs.create_org(
            db, SUPER, name="某党委", level=Level.COMMITTEE, kind=Kind.JOINT,
            parent_id=None, now=clock.now(), today=today(clock),
        )  # fmt: skip
    assert err.value.code == "org.bad_kind"


@pytest.mark.parametrize(
    ("name", "code"),
    [("", "org.text.empty"), (" \u200b ", "org.text.empty"), ("党" * 101, "org.text.too_long")],
)
async def test_organization_names_are_validated(
    db: Database, clock: FakeClock, name: str, code: str
) -> None:
    with pytest.raises(ServiceError) as err:
        await orgs.create_org(
            db, SUPER, name=name, level=Level.COMMITTEE, kind=Kind.COMPREHENSIVE,
            parent_id=None, now=clock.now(), today=today(clock),
        )  # fmt: skip
    assert err.value.code == code
    assert await orgs.count_orgs(db, Level.COMMITTEE) == 0


async def test_an_unknown_parent_is_not_found(db: Database, clock: FakeClock) -> None:
    with pytest.raises(NotFound) as err:
        await orgs.create_org(
            db, SUPER, name="某支部", level=Level.BRANCH, kind=Kind.STANDARD,
            parent_id=999, now=clock.now(), today=today(clock),
        )  # fmt: skip
    assert err.value.code == "org.not_found"


async def test_listing_organizations_by_parent_and_level(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    children = await orgs.list_orgs(db, parent_id=t.committee)
    assert {o.id for o in children} == {t.sub_committee, t.branch_b}
    branches = await orgs.list_orgs(db, level=Level.BRANCH)
    assert [o.id for o in branches] == sorted(
        [t.branch_a, t.branch_b, t.branch_c], key=lambda i: {o.id: o.name for o in branches}[i]
    )
    assert await orgs.count_orgs(db, Level.COMMITTEE) == 3
    got = await orgs.get_orgs(db, [t.branch_c, 999, t.branch_a])
    assert [o.id for o in got] == [t.branch_c, t.branch_a]
    with pytest.raises(NotFound):
        await orgs.get_org(db, 999)


# ---------------------------------------------------------------- units and party groups


async def test_adding_a_unit_twice_returns_the_same_unit(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    first = await orgs.add_unit(
        db, SUPER, t.branch_b, "某某科技有限公司", clock.now(), today(clock)
    )
    again = await orgs.add_unit(
        db, SUPER, t.branch_b, " 某某科技有限公司  ", clock.now(), today(clock)
    )
    assert again == first
    other = await orgs.add_unit(
        db, SUPER, t.branch_b, "某某物流有限公司", clock.now(), today(clock)
    )
    assert [u.name for u in await orgs.units_of(db, t.branch_b)] == sorted(
        ["某某科技有限公司", "某某物流有限公司"]
    )
    assert other.id != first.id
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(Unit)) == 2
    created = [e for e in await audit.recent(db) if e.action == "unit.create"]
    assert len(created) == 2


async def test_the_same_unit_name_may_exist_in_two_branches(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    a = await orgs.add_unit(db, SUPER, t.branch_a, "某某科技", clock.now(), today(clock))
    b = await orgs.add_unit(db, SUPER, t.branch_b, "某某科技", clock.now(), today(clock))
    assert a.id != b.id


async def test_adding_a_party_group_twice_returns_the_same_group(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    deputy, _ = await linked_member(db, clock, t.branch_a, BASE_UID + 1, "张副", role=Role.DEPUTY)
    first = await orgs.add_party_group(
        db, deputy, t.branch_a, "第一党小组", clock.now(), today(clock)
    )
    again = await orgs.add_party_group(
        db, deputy, t.branch_a, "第一党小组", clock.now(), today(clock)
    )
    assert again == first
    assert await orgs.party_groups_of(db, t.branch_a) == [first]
    [entry] = [e for e in await audit.recent(db) if e.action == "party_group.create"]
    assert entry.actor_id == deputy.user_id


async def test_units_and_groups_need_member_management_rights(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    stranger = await person(db, clock, BASE_UID + 1)
    propaganda, _ = await linked_member(
        db, clock, t.branch_a, BASE_UID + 2, "宣传", role=Role.PROPAGANDA
    )
    for actor in (stranger, propaganda):
        with pytest.raises(Denied):
            await orgs.add_unit(db, actor, t.branch_a, "某公司", clock.now(), today(clock))
        with pytest.raises(Denied):
            await orgs.add_party_group(db, actor, t.branch_a, "一组", clock.now(), today(clock))
    with pytest.raises(ServiceError) as err:
        await orgs.add_unit(db, SUPER, t.branch_a, "  ", clock.now(), today(clock))
    assert err.value.code == "org.text.empty"


# ---------------------------------------------------------------- granting offices


async def test_a_branch_office_goes_to_an_active_roster_member_of_that_branch(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    wang = await member(db, clock, t.branch_a, "王芳")
    view = await orgs_roles.grant_role(
        db, SUPER, t.branch_a, Role.DEPUTY, member_id=wang, now=clock.now(), today=today(clock)
    )
    assert (view.role, view.holder, view.member_id, view.user_id) == (
        Role.DEPUTY, "王芳", wang, None,
    )  # fmt: skip
    assert view.start_on == today(clock)
    assert [r.id for r in await orgs_roles.roles_of_org(db, t.branch_a, today(clock))] == [view.id]


async def test_a_branch_office_refuses_outsiders_leavers_and_nobody(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    elsewhere = await member(db, clock, t.branch_b, "外支部")
    gone = await member(db, clock, t.branch_a, "已离开", status=Status.LEFT)
    uid = BASE_UID + 1
    await person(db, clock, uid)
    for kwargs in ({"member_id": elsewhere}, {"member_id": gone}, {"member_id": 999},
                   {"user_id": uid}, {}):  # fmt: skip
        with pytest.raises(NotFound) as err:
            await orgs_roles.grant_role(
                db, SUPER, t.branch_a, Role.ORGANIZATION, now=clock.now(), today=today(clock),
                **kwargs,
            )  # fmt: skip
        assert err.value.code == "member.not_found"
    assert await orgs_roles.roles_of_org(db, t.branch_a, today(clock)) == []


async def test_branch_offices_are_not_for_committees(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    with pytest.raises(ServiceError) as err:
        await orgs_roles.grant_role(
            db, SUPER, t.committee, Role.SECRETARY, member_id=1, now=clock.now(),
            today=today(clock),
        )  # fmt: skip
    assert err.value.code == "role.not_for_committee"


async def test_committee_offices_need_a_known_user(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    with pytest.raises(NotFound) as err:
        await orgs_roles.grant_role(
            db, SUPER, t.committee, Role.INSTRUCTOR, user_id=BASE_UID + 404, now=clock.now(),
            today=today(clock),
        )  # fmt: skip
    assert err.value.code == "user.unknown"


async def test_a_new_secretary_ends_the_old_ones_term_yesterday(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    old, old_member = await linked_member(db, clock, t.branch_a, BASE_UID + 1, "老书记")
    await office(
        db, clock, t.branch_a, Role.SECRETARY, member_id=old_member,
        start_on=today(clock) - timedelta(days=3 * 365),
    )  # fmt: skip
    new, new_member = await linked_member(db, clock, t.branch_a, BASE_UID + 2, "新书记")
    assert P.BIND_GROUP in await perms(db, old, t.branch_a, clock)
    assert P.BIND_GROUP not in await perms(db, new, t.branch_a, clock)

    granted = await orgs_roles.grant_role(
        db, old, t.branch_a, Role.SECRETARY, member_id=new_member, now=clock.now(),
        today=today(clock),
    )  # fmt: skip

    held = await orgs_roles.roles_of_org(db, t.branch_a, today(clock))
    assert [(r.role, r.member_id) for r in held] == [(Role.SECRETARY, new_member)]
    async with db.read() as s:
        ended = await s.scalar(
            select(RoleAssignment.end_on).where(RoleAssignment.member_id == old_member)
        )
    assert ended == today(clock) - timedelta(days=1)
    assert P.BIND_GROUP not in await perms(db, old, t.branch_a, clock)
    assert P.MANAGE_ROLES not in await perms(db, old, t.branch_a, clock)
    assert P.BIND_GROUP in await perms(db, new, t.branch_a, clock)
    actions = [(e.action, e.target_id) for e in await audit.recent(db, target_type="role")]
    assert ("role.grant", str(granted.id)) in actions
    assert [a for a, _ in actions].count("role.end") == 1


async def test_granting_the_same_office_twice_changes_nothing(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    wang = await member(db, clock, t.branch_a, "王芳")
    first = await orgs_roles.grant_role(
        db, SUPER, t.branch_a, Role.SECRETARY, member_id=wang, now=clock.now(), today=today(clock)
    )
    again = await orgs_roles.grant_role(
        db, SUPER, t.branch_a, Role.SECRETARY, member_id=wang, now=clock.now(), today=today(clock)
    )
    assert again == first
    assert len(await orgs_roles.roles_of_org(db, t.branch_a, today(clock))) == 1
    assert [e.action for e in await audit.recent(db, target_type="role")] == ["role.grant"]


async def test_a_branch_may_have_several_deputies(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    for name in ("甲", "乙"):
        mid = await member(db, clock, t.branch_a, f"{name}副书记")
        await orgs_roles.grant_role(
            db, SUPER, t.branch_a, Role.DEPUTY, member_id=mid, now=clock.now(), today=today(clock)
        )
    held = await orgs_roles.roles_of_org(db, t.branch_a, today(clock))
    assert [r.role for r in held] == [Role.DEPUTY, Role.DEPUTY]


async def test_a_group_leader_needs_a_party_group_of_that_branch(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    wang = await member(db, clock, t.branch_a, "王芳")
    mine = await orgs.add_party_group(
        db, SUPER, t.branch_a, "第一党小组", clock.now(), today(clock)
    )
    theirs = await orgs.add_party_group(
        db, SUPER, t.branch_b, "第一党小组", clock.now(), today(clock)
    )
    for group_id in (None, theirs.id, 999):
        with pytest.raises(ServiceError) as err:
            await orgs_roles.grant_role(
                db, SUPER, t.branch_a, Role.GROUP_LEADER, member_id=wang,
                party_group_id=group_id, now=clock.now(), today=today(clock),
            )  # fmt: skip
        assert err.value.code == "role.needs_party_group"
    view = await orgs_roles.grant_role(
        db, SUPER, t.branch_a, Role.GROUP_LEADER, member_id=wang, party_group_id=mine.id,
        now=clock.now(), today=today(clock),
    )  # fmt: skip
    assert view.party_group == "第一党小组"
    [held] = await orgs_roles.roles_of_org(db, t.branch_a, today(clock))
    assert held.party_group == "第一党小组"


async def test_each_party_group_may_have_its_own_leader(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    wang = await member(db, clock, t.branch_a, "王芳")
    li = await member(db, clock, t.branch_a, "李明")
    for name, mid in (("一组", wang), ("二组", li)):
        group = await orgs.add_party_group(db, SUPER, t.branch_a, name, clock.now(), today(clock))
        await orgs_roles.grant_role(
            db, SUPER, t.branch_a, Role.GROUP_LEADER, member_id=mid, party_group_id=group.id,
            now=clock.now(), today=today(clock),
        )  # fmt: skip
    held = await orgs_roles.roles_of_org(db, t.branch_a, today(clock))
    assert sorted((r.holder, r.party_group) for r in held) == [("李明", "二组"), ("王芳", "一组")]


async def test_party_groups_are_dropped_from_offices_other_than_group_leader(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    wang = await member(db, clock, t.branch_a, "王芳")
    group = await orgs.add_party_group(db, SUPER, t.branch_a, "一组", clock.now(), today(clock))
    view = await orgs_roles.grant_role(
        db, SUPER, t.branch_a, Role.DEPUTY, member_id=wang, party_group_id=group.id,
        now=clock.now(), today=today(clock),
    )  # fmt: skip
    assert view.party_group is None


async def test_committee_admin_reaches_down_to_grandchild_branches(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    admin = await committee_admin(db, clock, t.committee, BASE_UID + 1)
    for org_id in (t.committee, t.sub_committee, t.general, t.branch_a, t.branch_b):
        assert await perms(db, admin, org_id, clock) == COMMITTEE_PERMISSIONS, org_id
    for org_id in (t.other_committee, t.branch_c):
        assert await perms(db, admin, org_id, clock) == frozenset(), org_id
    [view] = await orgs_roles.roles_of_org(db, t.committee, today(clock))
    assert (view.role, view.user_id, view.holder) == (Role.COMMITTEE_ADMIN, admin.user_id, "管理员")


async def test_committee_admin_of_a_sub_committee_does_not_reach_up(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    admin = await committee_admin(db, clock, t.sub_committee, BASE_UID + 1)
    assert await perms(db, admin, t.branch_a, clock) == COMMITTEE_PERMISSIONS
    assert await perms(db, admin, t.committee, clock) == frozenset()
    assert await perms(db, admin, t.branch_b, clock) == frozenset()
    async with db.read() as s:
        assert await orgs_with(s, admin, P.MANAGE_MEMBERS, today(clock)) == [t.branch_a]


async def test_instructor_views_rosters_below_but_not_personal_data(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    uid = BASE_UID + 1
    instructor = await person(db, clock, uid, "指导员")
    await orgs_roles.grant_role(
        db, SUPER, t.sub_committee, Role.INSTRUCTOR, user_id=uid, now=clock.now(),
        today=today(clock),
    )  # fmt: skip
    granted = await perms(db, instructor, t.branch_a, clock)
    assert granted == {P.VIEW_ROSTER}
    assert await perms(db, instructor, t.branch_b, clock) == frozenset()
    async with db.read() as s:
        assert await orgs_with(s, instructor, P.VIEW_ROSTER, today(clock)) == [t.branch_a]
        assert await orgs_with(s, instructor, P.VIEW_PERSONAL, today(clock)) == []


async def test_branch_offices_do_not_reach_down_or_sideways(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    uid = BASE_UID + 1
    actor = await person(db, clock, uid)
    # A secretary office held on the general branch gives nothing in the branch below it.
    general_member = await member(db, clock, t.general, "总支书记", user_id=uid)
    await office(db, clock, t.general, Role.SECRETARY, member_id=general_member)
    assert P.BIND_GROUP in await perms(db, actor, t.general, clock)
    assert await perms(db, actor, t.branch_a, clock) == frozenset()


async def test_offices_count_only_between_their_start_and_end(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    day = today(clock)
    past = await person(db, clock, BASE_UID + 1)
    await office(db, clock, t.committee, Role.COMMITTEE_ADMIN, user_id=past.user_id,
                 start_on=day - timedelta(days=400), end_on=day - timedelta(days=1))  # fmt: skip
    future = await person(db, clock, BASE_UID + 2)
    await office(db, clock, t.committee, Role.COMMITTEE_ADMIN, user_id=future.user_id,
                 start_on=day + timedelta(days=1))  # fmt: skip
    last_day = await person(db, clock, BASE_UID + 3)
    await office(db, clock, t.committee, Role.COMMITTEE_ADMIN, user_id=last_day.user_id,
                 start_on=day - timedelta(days=30), end_on=day)  # fmt: skip
    assert await perms(db, past, t.branch_a, clock) == frozenset()
    assert await perms(db, future, t.branch_a, clock) == frozenset()
    assert await perms(db, last_day, t.branch_a, clock) == COMMITTEE_PERMISSIONS
    held = await orgs_roles.roles_of_org(db, t.committee, day)
    assert [r.user_id for r in held] == [last_day.user_id]
    async with db.read() as s:
        assert await orgs_with(s, past, P.VIEW_ROSTER, day) == []


async def test_an_office_of_an_unlinked_or_departed_roster_entry_empowers_nobody(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    imported = await member(db, clock, t.branch_a, "导入书记")
    await office(db, clock, t.branch_a, Role.SECRETARY, member_id=imported)
    uid = BASE_UID + 1
    actor = await person(db, clock, uid)
    left = await member(db, clock, t.branch_a, "离开", user_id=uid, status=Status.LEFT)
    await office(db, clock, t.branch_a, Role.DEPUTY, member_id=left)
    assert await perms(db, actor, t.branch_a, clock) == frozenset()


async def test_only_role_managers_grant_offices(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    deputy, _ = await linked_member(db, clock, t.branch_a, BASE_UID + 1, "张副", role=Role.DEPUTY)
    stranger = await person(db, clock, BASE_UID + 2)
    other_secretary, _ = await linked_member(
        db, clock, t.branch_b, BASE_UID + 3, "乙书记", role=Role.SECRETARY
    )
    wang = await member(db, clock, t.branch_a, "王芳")
    for actor in (deputy, stranger, other_secretary):
        with pytest.raises(Denied) as err:
            await orgs_roles.grant_role(
                db, actor, t.branch_a, Role.ORGANIZATION, member_id=wang, now=clock.now(),
                today=today(clock),
            )  # fmt: skip
        assert err.value.code == "auth.manage_roles"


async def test_a_secretary_may_not_make_someone_committee_admin_of_the_branch_above(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    secretary, _ = await linked_member(
        db, clock, t.branch_a, BASE_UID + 1, "书记", role=Role.SECRETARY
    )
    with pytest.raises(Denied):
        await orgs_roles.grant_role(
            db, secretary, t.general, Role.COMMITTEE_ADMIN, user_id=secretary.user_id,
            now=clock.now(), today=today(clock),
        )  # fmt: skip


# ---------------------------------------------------------------- ending offices


async def test_ending_an_office_takes_its_rights_away_today(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    uid = BASE_UID + 1
    actor = await person(db, clock, uid)
    role_id = await office(
        db, clock, t.committee, Role.COMMITTEE_ADMIN, user_id=uid,
        start_on=today(clock) - timedelta(days=100),
    )  # fmt: skip
    await orgs_roles.end_role(db, SUPER, role_id, now=clock.now(), today=today(clock))
    assert await perms(db, actor, t.branch_a, clock) == frozenset()
    assert await orgs_roles.roles_of_org(db, t.committee, today(clock)) == []
    [entry] = await audit.recent(db, target_type="role", target_id=str(role_id))
    assert entry.action == "role.end"
    assert entry.after == {"end_on": str(today(clock) - timedelta(days=1))}


async def test_ending_an_office_granted_today_takes_its_rights_away_today(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    admin = await committee_admin(db, clock, t.committee, BASE_UID + 1)
    [view] = await orgs_roles.roles_of_org(db, t.committee, today(clock))
    await orgs_roles.end_role(db, SUPER, view.id, now=clock.now(), today=today(clock))
    assert await perms(db, admin, t.branch_a, clock) == frozenset()
    assert await orgs_roles.roles_of_org(db, t.committee, today(clock)) == []


async def test_an_ended_or_unknown_office_cannot_be_ended(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    uid = BASE_UID + 1
    await person(db, clock, uid)
    role_id = await office(
        db, clock, t.committee, Role.INSTRUCTOR, user_id=uid,
        start_on=today(clock) - timedelta(days=10),
    )  # fmt: skip
    await orgs_roles.end_role(db, SUPER, role_id, now=clock.now(), today=today(clock))
    for rid in (role_id, 999):
        with pytest.raises(NotFound) as err:
            await orgs_roles.end_role(db, SUPER, rid, now=clock.now(), today=today(clock))
        assert err.value.code == "role.not_found"


async def test_only_role_managers_end_offices(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    deputy, _ = await linked_member(db, clock, t.branch_a, BASE_UID + 1, "张副", role=Role.DEPUTY)
    wang = await member(db, clock, t.branch_a, "王芳")
    role_id = await office(db, clock, t.branch_a, Role.ORGANIZATION, member_id=wang)
    with pytest.raises(Denied):
        await orgs_roles.end_role(db, deputy, role_id, now=clock.now(), today=today(clock))
    assert len(await orgs_roles.roles_of_org(db, t.branch_a, today(clock))) == 2


# ---------------------------------------------------------------- the gate switch and audit


async def test_the_gate_is_switched_by_group_binders_and_audited(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    deputy, _ = await linked_member(db, clock, t.branch_a, BASE_UID + 1, "张副", role=Role.DEPUTY)
    secretary, _ = await linked_member(
        db, clock, t.branch_a, BASE_UID + 2, "书记", role=Role.SECRETARY
    )
    with pytest.raises(Denied) as err:
        await orgs.set_gate(db, deputy, t.branch_a, False, clock.now(), today(clock))
    assert err.value.code == "auth.bind_group"
    view = await orgs.set_gate(db, secretary, t.branch_a, False, clock.now(), today(clock))
    assert view.gate_enabled is False
    again = await orgs.set_gate(db, secretary, t.branch_a, False, clock.now(), today(clock))
    assert again.gate_enabled is False
    entry = (await audit.recent(db, target_type="org", target_id=str(t.branch_a)))[0]
    assert (entry.action, entry.actor_id) == ("org.gate", secretary.user_id)
    assert (entry.before, entry.after) == ({"gate_enabled": True}, {"gate_enabled": False})


async def test_the_superadmin_may_switch_the_gate(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    view = await orgs.set_gate(db, SUPER, t.branch_a, False, clock.now(), today(clock))
    assert view.gate_enabled is False
    assert (await orgs.get_org(db, t.branch_a)).gate_enabled is False
    entries = await audit.recent(db, target_type="org", target_id=str(t.branch_a))
    assert entries[0].action == "org.gate"
    assert entries[0].actor_id is None


async def test_every_admin_change_leaves_an_audit_entry(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    admin = await committee_admin(db, clock, t.committee, BASE_UID + 1)
    wang = await member(db, clock, t.branch_a, "王芳")
    await orgs.add_unit(db, admin, t.branch_a, "某公司", clock.now(), today(clock))
    group = await orgs.add_party_group(db, admin, t.branch_a, "一组", clock.now(), today(clock))
    view = await orgs_roles.grant_role(
        db, admin, t.branch_a, Role.GROUP_LEADER, member_id=wang, party_group_id=group.id,
        now=clock.now(), today=today(clock),
    )  # fmt: skip
    await orgs_roles.end_role(db, admin, view.id, now=clock.now(), today=today(clock))
    await orgs.set_gate(db, admin, t.branch_a, False, clock.now(), today(clock))
    mine = [e.action for e in reversed(await audit.recent(db)) if e.actor_id == admin.user_id]
    assert mine == ["unit.create", "party_group.create", "role.grant", "role.end", "org.gate"]
    created = [e for e in await audit.recent(db) if e.action == "org.create"]
    assert len(created) == 7  # the whole tree


async def test_a_typed_holder_takes_its_draft_with_the_office(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    admin = await committee_admin(db, clock, t.committee, BASE_UID + 1)
    await touch_user(db, Person(id=BASE_UID + 2, first_name="新指导员"), clock.now(), started=True)
    draft = ask_holder(t.committee, "党委", Role.INSTRUCTOR)
    await keep_draft(db, admin.user_id, draft, clock.now())
    with pytest.raises(NotFound):  # a name typed wrong: the question stays open
        await appoint_user(db, admin, t.committee, Role.INSTRUCTOR, "@nobody_here",
                           now=clock.now(), today=today(clock), draft=draft)  # fmt: skip
    assert await open_draft(db, admin.user_id, HolderDraft) == draft
    done = await appoint_user(db, admin, t.committee, Role.INSTRUCTOR, str(BASE_UID + 2),
                              now=clock.now(), today=today(clock), draft=draft)  # fmt: skip
    assert done.role.role == Role.INSTRUCTOR
    assert await open_draft(db, admin.user_id, HolderDraft) is None
    with pytest.raises(ServiceError) as err:  # the same text again
        await appoint_user(db, admin, t.committee, Role.INSTRUCTOR, str(BASE_UID + 2),
                           now=clock.now(), today=today(clock), draft=draft)  # fmt: skip
    assert err.value.code == "stale"
