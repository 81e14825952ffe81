"""Registration with approval, the roster, one's own record, leaving, moving and forgetting."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from domain.members_registration import RegistrationDraft, ask_reject_reason
from domain.members_wizard import LeftDraft, PhoneDraft, ask_left_reason, ask_phone
from domain.orgs import RegistrationStatus, Role, Stage, Status
from services import audit, members, orgs, orgs_roles
from services.authz import Actor, permissions
from services.drafts import get_draft, keep_draft, open_draft, save_draft
from services.errors import Denied, NotFound, ServiceError
from services.groups import record_presence, record_restriction
from services.members import Decision, Submitted
from services.users import Person, touch_user
from storage.db import Database
from storage.models import ChatPresence, Member, Registration, RoleAssignment, User
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

APPLICANT = BASE_UID + 100
PHONE = "13800138000"


async def submit(
    db: Database,
    clock: FakeClock,
    org_id: int,
    *,
    uid: int = APPLICANT,
    name: str = "王芳",
    phone: str | None = PHONE,
    stage: Stage = Stage.FULL,
    unit_id: int | None = None,
) -> Submitted:
    await person(db, clock, uid, name)
    return await members.submit_registration(
        db, user_id=uid, org_id=org_id, name=name, stage=stage, unit_id=unit_id, phone=phone,
        now=clock.now(), today=today(clock),
    )  # fmt: skip


async def decide(
    db: Database,
    clock: FakeClock,
    actor: Actor,
    registration_id: int,
    *,
    approve: bool = True,
    reason: str | None = None,
) -> Decision:
    return await members.decide_registration(
        db, actor, registration_id, approve=approve, reason=reason, now=clock.now(),
        today=today(clock),
    )  # fmt: skip


async def members_of(db: Database, org_id: int) -> list[Member]:
    async with db.read() as s:
        return list(
            await s.scalars(select(Member).where(Member.org_id == org_id).order_by(Member.id))
        )


async def secretary_of(db: Database, clock: FakeClock, org_id: int, uid: int) -> Actor:
    actor, _ = await linked_member(db, clock, org_id, uid, "书记", role=Role.SECRETARY)
    return actor


# ---------------------------------------------------------------- submitting


async def test_a_registration_reaches_the_branch_approvers(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    secretary = await secretary_of(db, clock, t.branch_a, BASE_UID + 1)
    sent = await submit(db, clock, t.branch_a, name=" 阿依古丽·买买提 ", phone="+86 138-0013-8000")
    reg = sent.registration
    assert (reg.name, reg.phone, reg.status) == (
        "阿依古丽·买买提", PHONE, RegistrationStatus.PENDING,
    )  # fmt: skip
    assert (reg.org_id, reg.org_name, reg.user_id) == (t.branch_a, "甲公司党支部", APPLICANT)
    assert reg.match_member_id is None
    assert sent.approvers == (secretary.user_id,)
    assert sent.replaced is False
    assert await members.pending_registration(db, APPLICANT) == reg
    assert await members.get_registration(db, reg.id) == reg


async def test_the_wizard_files_once_and_ends_with_the_registration(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    await secretary_of(db, clock, t.branch_a, BASE_UID + 1)
    await touch_user(db, Person(id=APPLICANT, first_name="阿依"), clock.now())
    now, day = clock.now(), today(clock)
    draft = RegistrationDraft(step="confirm", org_id=t.branch_a, org_name="甲公司党支部",
                              name="王", stage=Stage.FULL)  # fmt: skip
    # Refused (a one-character name): nothing filed, the answers stay to be corrected.
    await keep_draft(db, APPLICANT, draft, now)
    with pytest.raises(ServiceError) as short:
        await members.submit_registration_draft(db, APPLICANT, now=now, today=day)
    assert short.value.code == "input.name.too_short"
    assert await open_draft(db, APPLICANT, RegistrationDraft) == draft
    await keep_draft(db, APPLICANT, replace(draft, name="王芳", phone=PHONE), now)
    sent = await members.submit_registration_draft(db, APPLICANT, now=now, today=day)
    assert (sent.registration.name, sent.registration.phone) == ("王芳", PHONE)
    # The draft went with the filing: 提交 pressed again files nothing and asks nobody twice.
    assert await get_draft(db, APPLICANT) is None
    with pytest.raises(ServiceError) as again:
        await members.submit_registration_draft(db, APPLICANT, now=now, today=day)
    assert again.value.code == "stale"
    async with db.read() as s:
        filed = await s.scalar(
            select(func.count()).select_from(Registration).where(Registration.user_id == APPLICANT)
        )
    assert filed == 1
    # A draft still asking a question is not filed.
    await keep_draft(db, APPLICANT, replace(draft, step="phone", name="王芳"), now)
    with pytest.raises(ServiceError) as early:
        await members.submit_registration_draft(db, APPLICANT, now=now, today=day)
    assert early.value.code == "stale"


@pytest.mark.parametrize(
    ("name", "phone", "code"),
    [
        ("", PHONE, "input.name.empty"),
        ("王" * 31, PHONE, "input.name.too_long"),
        ("王" * 200, PHONE, "input.name.too_long"),
        ("王芳1", PHONE, "input.name.bad_chars"),
        ("王芳😀", PHONE, "input.name.bad_chars"),
        ("<b>王芳</b>", PHONE, "input.name.bad_chars"),
        ("王", PHONE, "input.name.too_short"),
        ("王芳", "1380013800", "input.phone.invalid"),
        ("王芳", "23800138000", "input.phone.invalid"),
    ],
)
async def test_bad_input_is_refused_with_its_code_and_nothing_is_filed(
    db: Database, clock: FakeClock, name: str, phone: str, code: str
) -> None:
    t = await tree(db, clock)
    with pytest.raises(ServiceError) as err:
        await submit(db, clock, t.branch_a, name=name, phone=phone)
    assert err.value.code == code
    assert await members.pending_registration(db, APPLICANT) is None


async def test_a_phone_is_optional(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    sent = await submit(db, clock, t.branch_a, phone=None)
    assert sent.registration.phone is None


async def test_registering_again_replaces_the_pending_request(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    first = await submit(db, clock, t.branch_a, name="王芳")
    second = await submit(db, clock, t.branch_b, name="王芳芳")
    assert second.replaced is True
    pending = await members.pending_registration(db, APPLICANT)
    assert pending is not None
    assert pending.id == second.registration.id
    assert pending.org_id == t.branch_b
    assert (await members.get_registration(db, first.registration.id)).status == (
        RegistrationStatus.CANCELLED
    )
    async with db.read() as s:
        count = await s.scalar(
            select(func.count())
            .select_from(Registration)
            .where(Registration.user_id == APPLICANT, Registration.status == "pending")
        )
    assert count == 1


async def test_an_active_member_may_not_register_again(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    await linked_member(db, clock, t.branch_a, APPLICANT, "王芳")
    with pytest.raises(ServiceError) as err:
        await submit(db, clock, t.branch_b)
    assert err.value.code == "registration.already_member"
    assert err.value.params == {"branch": "甲公司党支部"}


async def test_the_unit_must_belong_to_the_branch(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    mine = await orgs.add_unit(db, SUPER, t.branch_b, "乙公司", clock.now(), today(clock))
    theirs = await orgs.add_unit(db, SUPER, t.branch_a, "甲公司", clock.now(), today(clock))
    for unit_id in (theirs.id, 999):
        with pytest.raises(ServiceError) as err:
            await submit(db, clock, t.branch_b, unit_id=unit_id)
        assert err.value.code == "registration.bad_unit"
    sent = await submit(db, clock, t.branch_b, unit_id=mine.id)
    assert sent.registration.unit == "乙公司"


async def test_registrations_go_to_branches_only(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    for org_id in (t.committee, 999):
        with pytest.raises(NotFound) as err:
            await submit(db, clock, org_id)
        assert err.value.code == "org.not_found"
        with pytest.raises(NotFound):
            await members.registration_branch(db, org_id)
    assert (await members.registration_branch(db, t.general)).id == t.general
    assert (await members.registration_branch(db, t.branch_a)).name == "甲公司党支部"


async def test_a_pending_registration_may_be_withdrawn(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    sent = await submit(db, clock, t.branch_a)
    assert await members.cancel_registration(db, APPLICANT, clock.now()) is True
    assert await members.cancel_registration(db, APPLICANT, clock.now()) is False
    assert await members.pending_registration(db, APPLICANT) is None
    with pytest.raises(ServiceError) as err:
        await decide(db, clock, SUPER, sent.registration.id)
    assert err.value.code == "registration.already_cancelled"


async def test_a_phone_of_a_registered_member_is_taken(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    await linked_member(db, clock, t.branch_a, BASE_UID + 1, "李明", phone=PHONE)
    with pytest.raises(ServiceError) as err:
        await submit(db, clock, t.branch_a, phone="138 0013 8000")
    assert err.value.code == "registration.phone_taken"
    # The same phone in another branch is no conflict.
    assert (await submit(db, clock, t.branch_b)).registration.phone == PHONE


# ---------------------------------------------------------------- approvers


async def test_approvers_are_the_secretary_deputy_and_organization_member(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    await office(db, clock, t.committee, Role.COMMITTEE_ADMIN,
                 user_id=(await person(db, clock, BASE_UID + 9)).user_id)  # fmt: skip
    expected = []
    for i, role in enumerate(
        (Role.SECRETARY, Role.DEPUTY, Role.ORGANIZATION, Role.PROPAGANDA, Role.DUES_KEEPER)
    ):
        actor, _ = await linked_member(
            db, clock, t.branch_b, BASE_UID + i + 1, f"委员{i}", role=role
        )
        if i < 3:
            expected.append(actor.user_id)
    async with db.read() as s:
        found = await members.approvers_of(s, t.branch_b, today(clock))
    assert sorted(found) == sorted(expected)


async def test_without_branch_approvers_the_committee_admins_above_decide(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    top = await person(db, clock, BASE_UID + 1)
    await office(db, clock, t.committee, Role.COMMITTEE_ADMIN, user_id=top.user_id)
    sub = await person(db, clock, BASE_UID + 2)
    await office(db, clock, t.sub_committee, Role.COMMITTEE_ADMIN, user_id=sub.user_id)
    instructor = await person(db, clock, BASE_UID + 3)
    await office(db, clock, t.sub_committee, Role.INSTRUCTOR, user_id=instructor.user_id)
    elsewhere = await person(db, clock, BASE_UID + 4)
    await office(db, clock, t.other_committee, Role.COMMITTEE_ADMIN, user_id=elsewhere.user_id)
    # A secretary imported without a Telegram account cannot be told anything.
    imported = await member(db, clock, t.branch_a, "导入书记")
    await office(db, clock, t.branch_a, Role.SECRETARY, member_id=imported)
    # A former deputy is nobody's approver any more.
    _, former_member = await linked_member(db, clock, t.branch_a, BASE_UID + 5, "前副书记")
    await office(db, clock, t.branch_a, Role.DEPUTY, member_id=former_member,
                 start_on=today(clock) - timedelta(days=100),
                 end_on=today(clock) - timedelta(days=1))  # fmt: skip

    sent = await submit(db, clock, t.branch_a)
    assert sorted(sent.approvers) == sorted([top.user_id, sub.user_id])
    async with db.read() as s:
        assert await members.approvers_of(s, t.branch_b, today(clock)) == (top.user_id,)
        assert await members.approvers_of(s, t.branch_c, today(clock)) == (elsewhere.user_id,)


async def test_no_approvers_anywhere_gives_an_empty_list(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    sent = await submit(db, clock, t.branch_c)
    assert sent.approvers == ()


# ---------------------------------------------------------------- deciding


async def test_approval_adds_an_active_member(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    secretary = await secretary_of(db, clock, t.branch_a, BASE_UID + 1)
    unit = await orgs.add_unit(db, SUPER, t.branch_a, "甲公司", clock.now(), today(clock))
    sent = await submit(db, clock, t.branch_a, stage=Stage.PROBATIONARY, unit_id=unit.id)
    clock.advance(hours=2)
    decision = await decide(db, clock, secretary, sent.registration.id)

    assert decision.registration.status == RegistrationStatus.APPROVED
    assert decision.restricted_chats == ()
    assert decision.member_id is not None
    async with db.read() as s:
        row = await s.get(Member, decision.member_id)
        reg = await s.get(Registration, sent.registration.id)
    assert row is not None
    assert reg is not None
    assert (row.user_id, row.org_id, row.name, row.phone, row.stage, row.status, row.source) == (
        APPLICANT, t.branch_a, "王芳", PHONE, "probationary", "active", "registration",
    )  # fmt: skip
    assert row.unit_id == unit.id
    assert (reg.decided_by, reg.decided_at, reg.member_id) == (
        secretary.user_id, clock.now(), decision.member_id,
    )  # fmt: skip
    assert await members.my_branch(db, APPLICANT) == t.branch_a
    assert await members.pending_registration(db, APPLICANT) is None
    entries = await audit.recent(db, target_type="member", target_id=str(decision.member_id))
    assert [(e.action, e.actor_id) for e in entries] == [
        ("registration.approve", secretary.user_id)
    ]


async def test_approval_links_an_imported_entry_with_the_same_phone(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    unit = await orgs.add_unit(db, SUPER, t.branch_a, "甲公司", clock.now(), today(clock))
    imported = await member(db, clock, t.branch_a, "王 芳", phone=PHONE, stage=Stage.FULL)
    sent = await submit(db, clock, t.branch_a, name="王芳", stage=Stage.ACTIVIST, unit_id=unit.id)
    assert sent.registration.match_member_id == imported
    decision = await decide(db, clock, SUPER, sent.registration.id)
    assert decision.member_id == imported
    [row] = await members_of(db, t.branch_a)
    # The roster entry is the branch's record: its name and stage stay, gaps are filled.
    assert (row.id, row.user_id, row.name, row.stage, row.unit_id, row.source) == (
        imported, APPLICANT, "王 芳", "full", unit.id, "import",
    )  # fmt: skip
    [entry] = await audit.recent(db, target_type="member", target_id=str(imported))
    assert entry.after is not None
    assert entry.after["linked"] == imported


async def test_approval_links_the_only_imported_entry_with_the_same_name(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    imported = await member(db, clock, t.branch_a, "王芳")
    other = await member(db, clock, t.branch_a, "李明")
    sent = await submit(db, clock, t.branch_a)
    assert sent.registration.match_member_id == imported
    decision = await decide(db, clock, SUPER, sent.registration.id)
    assert decision.member_id == imported
    rows = await members_of(db, t.branch_a)
    assert [(r.id, r.user_id, r.phone) for r in rows] == [
        (imported, APPLICANT, PHONE), (other, None, None),
    ]  # fmt: skip


async def test_two_imported_entries_of_the_same_name_are_not_guessed(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    await member(db, clock, t.branch_a, "王芳")
    await member(db, clock, t.branch_a, "王芳")
    sent = await submit(db, clock, t.branch_a)
    assert sent.registration.match_member_id is None
    decision = await decide(db, clock, SUPER, sent.registration.id)
    rows = await members_of(db, t.branch_a)
    assert len(rows) == 3
    assert [r.id for r in rows if r.user_id == APPLICANT] == [decision.member_id]


async def test_a_same_name_entry_with_another_phone_is_another_person(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    await member(db, clock, t.branch_a, "王芳", phone="13900139000")
    sent = await submit(db, clock, t.branch_a)
    assert sent.registration.match_member_id is None


async def test_an_entry_linked_meanwhile_is_not_linked_twice(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    imported = await member(db, clock, t.branch_a, "王芳")
    sent = await submit(db, clock, t.branch_a, phone=None)
    assert sent.registration.match_member_id == imported
    other = await person(db, clock, BASE_UID + 7)
    async with db.transaction() as s:
        row = await s.get(Member, imported)
        assert row is not None
        row.user_id = other.user_id
    decision = await decide(db, clock, SUPER, sent.registration.id)
    assert decision.member_id != imported
    rows = await members_of(db, t.branch_a)
    assert sorted(r.user_id or 0 for r in rows) == sorted([other.user_id, APPLICANT])


async def test_approving_a_phone_that_became_taken_is_refused(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    first = await submit(db, clock, t.branch_a, uid=BASE_UID + 1, name="王芳")
    second = await submit(db, clock, t.branch_a, uid=BASE_UID + 2, name="李明")
    await decide(db, clock, SUPER, first.registration.id)
    with pytest.raises(ServiceError) as err:
        await decide(db, clock, SUPER, second.registration.id)
    assert err.value.code == "registration.phone_taken"
    assert (await members.get_registration(db, second.registration.id)).status == (
        RegistrationStatus.PENDING
    )
    rejected = await decide(
        db, clock, SUPER, second.registration.id, approve=False, reason="电话重复"
    )
    assert rejected.registration.status == RegistrationStatus.REJECTED


async def test_approving_someone_who_became_a_member_elsewhere_cancels_the_request(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    sent = await submit(db, clock, t.branch_a)
    await member(db, clock, t.branch_b, "王芳", user_id=APPLICANT, phone=PHONE)
    with pytest.raises(ServiceError) as err:
        await decide(db, clock, SUPER, sent.registration.id)
    assert err.value.code == "registration.already_member"
    assert (await members.get_registration(db, sent.registration.id)).status == (
        RegistrationStatus.CANCELLED
    )
    assert len(await members_of(db, t.branch_a)) == 0


@pytest.mark.parametrize(
    ("reason", "code"),
    [(None, "input.reason_empty"), ("  ", "input.reason_empty"),
     ("理" * 201, "input.reason_too_long")],
)  # fmt: skip
async def test_a_rejection_needs_a_reason(
    db: Database, clock: FakeClock, reason: str | None, code: str
) -> None:
    t = await tree(db, clock)
    sent = await submit(db, clock, t.branch_a)
    with pytest.raises(ServiceError) as err:
        await decide(db, clock, SUPER, sent.registration.id, approve=False, reason=reason)
    assert err.value.code == code
    assert (await members.get_registration(db, sent.registration.id)).status == (
        RegistrationStatus.PENDING
    )


async def test_a_rejection_records_its_reason(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    deputy, _ = await linked_member(db, clock, t.branch_a, BASE_UID + 1, "张副", role=Role.DEPUTY)
    sent = await submit(db, clock, t.branch_a)
    decision = await decide(
        db, clock, deputy, sent.registration.id, approve=False, reason=" 不是本支部党员 "
    )
    assert decision.member_id is None
    assert decision.registration.status == RegistrationStatus.REJECTED
    assert decision.registration.reason == "不是本支部党员"
    assert [m.user_id for m in await members_of(db, t.branch_a)] == [deputy.user_id]
    [entry] = await audit.recent(
        db, target_type="registration", target_id=str(sent.registration.id)
    )
    assert (entry.action, entry.actor_id, entry.after) == (
        "registration.reject", deputy.user_id, {"reason": "不是本支部党员"},
    )  # fmt: skip
    # Rejected people may try again.
    again = await submit(db, clock, t.branch_a)
    assert again.replaced is False


async def test_deciding_twice_is_refused(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    approved = await submit(db, clock, t.branch_a, uid=BASE_UID + 1, phone=None)
    rejected = await submit(db, clock, t.branch_a, uid=BASE_UID + 2, phone=None)
    await decide(db, clock, SUPER, approved.registration.id)
    await decide(db, clock, SUPER, rejected.registration.id, approve=False, reason="不认识")
    for reg, code in ((approved, "registration.already_approved"),
                      (rejected, "registration.already_rejected")):  # fmt: skip
        for approve in (True, False):
            with pytest.raises(ServiceError) as err:
                await decide(db, clock, SUPER, reg.registration.id, approve=approve, reason="x")
            assert err.value.code == code
    assert len([m for m in await members_of(db, t.branch_a) if m.user_id]) == 1


async def test_an_unknown_registration_is_not_found(db: Database, clock: FakeClock) -> None:
    with pytest.raises(NotFound) as err:
        await decide(db, clock, SUPER, 999)
    assert err.value.code == "registration.not_found"
    with pytest.raises(NotFound):
        await members.get_registration(db, 999)


async def test_only_approvers_of_that_branch_decide(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    other_secretary = await secretary_of(db, clock, t.branch_b, BASE_UID + 1)
    plain, _ = await linked_member(db, clock, t.branch_a, BASE_UID + 2, "普通党员")
    propaganda, _ = await linked_member(
        db, clock, t.branch_a, BASE_UID + 3, "宣传委员", role=Role.PROPAGANDA
    )
    instructor = await person(db, clock, BASE_UID + 4)
    await office(db, clock, t.committee, Role.INSTRUCTOR, user_id=instructor.user_id)
    other_admin = await person(db, clock, BASE_UID + 5)
    await office(db, clock, t.other_committee, Role.COMMITTEE_ADMIN, user_id=other_admin.user_id)
    stranger = await person(db, clock, BASE_UID + 6)
    sent = await submit(db, clock, t.branch_a)
    for actor in (other_secretary, plain, propaganda, instructor, other_admin, stranger):
        for approve in (True, False):
            with pytest.raises(Denied) as err:
                await decide(db, clock, actor, sent.registration.id, approve=approve, reason="x")
            assert err.value.code == "auth.manage_members"
    assert (await members.get_registration(db, sent.registration.id)).status == (
        RegistrationStatus.PENDING
    )
    admin = await person(db, clock, BASE_UID + 7)
    await office(db, clock, t.committee, Role.COMMITTEE_ADMIN, user_id=admin.user_id)
    decision = await decide(db, clock, admin, sent.registration.id)
    assert decision.registration.status == RegistrationStatus.APPROVED


# ---------------------------------------------------------------- the roster


async def roster_tree(db: Database, clock: FakeClock) -> tuple[Tree, Actor, dict[str, int]]:
    """Branch A with a secretary, a deputy, two plain members, an imported entry and a leaver."""
    t = await tree(db, clock)
    unit = await orgs.add_unit(db, SUPER, t.branch_a, "甲公司", clock.now(), today(clock))
    group = await orgs.add_party_group(db, SUPER, t.branch_a, "一组", clock.now(), today(clock))
    ids: dict[str, int] = {}
    secretary, ids["书记"] = await linked_member(
        db, clock, t.branch_a, BASE_UID + 1, "赵书记", phone="13900000001", role=Role.SECRETARY
    )
    _, ids["副书记"] = await linked_member(
        db, clock, t.branch_a, BASE_UID + 2, "钱副书记", phone="13900000002", role=Role.DEPUTY
    )
    _, ids["阿"] = await linked_member(
        db, clock, t.branch_a, 2**40 + 3, "阿依古丽·买买提", phone="13900000003"
    )
    _, ids["孙"] = await linked_member(db, clock, t.branch_a, BASE_UID + 4, "孙丽")
    ids["导入"] = await member(
        db, clock, t.branch_a, "周导入", phone="13900000005", unit_id=unit.id,
        party_group_id=group.id, stage=Stage.PROBATIONARY,
    )  # fmt: skip
    await member(db, clock, t.branch_a, "吴离开", status=Status.LEFT)
    await member(db, clock, t.branch_b, "郑别支部")
    return t, secretary, ids


async def test_an_admin_sees_the_whole_roster_with_phones_and_activity(
    db: Database, clock: FakeClock
) -> None:
    t, secretary, ids = await roster_tree(db, clock)
    view = await members.roster(db, secretary, t.branch_a, today(clock))
    assert (view.full, view.can_manage, view.org.id) == (True, True, t.branch_a)
    names = [e.name for e in view.entries]
    assert names[:2] == ["赵书记", "钱副书记"]  # office holders first, the secretary on top
    assert sorted(names[2:]) == names[2:]
    assert set(names) == {"赵书记", "钱副书记", "阿依古丽·买买提", "孙丽", "周导入"}
    by_name = {e.name: e for e in view.entries}
    assert by_name["赵书记"].roles == (Role.SECRETARY,)
    assert by_name["赵书记"].phone == "13900000001"
    assert by_name["赵书记"].last_seen == clock.now()
    assert by_name["阿依古丽·买买提"].linked is True
    assert by_name["阿依古丽·买买提"].last_seen == clock.now()  # a 64-bit Telegram id
    imported = by_name["周导入"]
    assert (imported.linked, imported.last_seen, imported.phone) == (False, None, "13900000005")
    assert (imported.unit, imported.party_group) == ("甲公司", "一组")
    assert imported.stage == Stage.PROBATIONARY
    assert imported.member_id == ids["导入"]


async def test_a_plain_member_sees_names_and_roles_but_no_personal_data(
    db: Database, clock: FakeClock
) -> None:
    t, _, _ = await roster_tree(db, clock)
    plain = Actor(user_id=BASE_UID + 4)
    view = await members.roster(db, plain, t.branch_a, today(clock))
    assert (view.full, view.can_manage) == (False, False)
    assert len(view.entries) == 5
    assert view.entries[0].roles == (Role.SECRETARY,)
    assert all(e.phone is None and e.last_seen is None for e in view.entries)


async def test_a_member_with_a_64_bit_id_sees_their_roster(db: Database, clock: FakeClock) -> None:
    t, _, _ = await roster_tree(db, clock)
    view = await members.roster(db, Actor(user_id=2**40 + 3), t.branch_a, today(clock))
    assert "阿依古丽·买买提" in [e.name for e in view.entries]


async def test_an_instructor_sees_the_roster_without_phones(db: Database, clock: FakeClock) -> None:
    t, _, _ = await roster_tree(db, clock)
    instructor = await person(db, clock, BASE_UID + 50)
    await office(db, clock, t.sub_committee, Role.INSTRUCTOR, user_id=instructor.user_id)
    view = await members.roster(db, instructor, t.branch_a, today(clock))
    assert (view.full, view.can_manage) == (True, False)
    assert all(e.phone is None for e in view.entries)
    assert any(e.last_seen is not None for e in view.entries)


async def test_strangers_and_other_branches_may_not_see_a_roster(
    db: Database, clock: FakeClock
) -> None:
    t, _, _ = await roster_tree(db, clock)
    outsider, _ = await linked_member(db, clock, t.branch_b, BASE_UID + 60, "外人")
    other_secretary = await secretary_of(db, clock, t.branch_c, BASE_UID + 61)
    for actor in (Actor(user_id=BASE_UID + 62), outsider, other_secretary):
        with pytest.raises(Denied) as err:
            await members.roster(db, actor, t.branch_a, today(clock))
        assert err.value.code == "auth.view_roster"
    with pytest.raises(NotFound):
        await members.roster(db, SUPER, 999, today(clock))


# ---------------------------------------------------------------- one's own record


async def test_a_profile_shows_ones_own_record(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    unit = await orgs.add_unit(db, SUPER, t.branch_a, "甲公司", clock.now(), today(clock))
    group = await orgs.add_party_group(db, SUPER, t.branch_a, "一组", clock.now(), today(clock))
    assert await members.profile(db, APPLICANT, today(clock)) is None
    sent = await submit(db, clock, t.branch_a, unit_id=unit.id)
    decision = await decide(db, clock, SUPER, sent.registration.id)
    assert decision.member_id is not None
    await orgs_roles.grant_role(
        db, SUPER, t.branch_a, Role.GROUP_LEADER, member_id=decision.member_id,
        party_group_id=group.id, now=clock.now(), today=today(clock),
    )  # fmt: skip
    mine = await members.profile(db, APPLICANT, today(clock))
    assert mine is not None
    assert (mine.member_id, mine.org.id, mine.name, mine.phone, mine.stage) == (
        decision.member_id, t.branch_a, "王芳", PHONE, Stage.FULL,
    )  # fmt: skip
    assert (mine.unit, mine.party_group, mine.roles) == ("甲公司", None, (Role.GROUP_LEADER,))


async def test_members_change_their_own_phone(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    await linked_member(db, clock, t.branch_a, APPLICANT, "王芳", phone=PHONE)
    await linked_member(db, clock, t.branch_a, BASE_UID + 1, "李明", phone="13900139000")
    await member(db, clock, t.branch_b, "别人", phone="13700137000")
    assert await members.update_own_phone(db, APPLICANT, "+86 137-0013-7000", clock.now()) == (
        "13700137000"
    )
    assert await members.update_own_phone(db, APPLICANT, "13700137000", clock.now()) == (
        "13700137000"
    )
    with pytest.raises(ServiceError) as err:
        await members.update_own_phone(db, APPLICANT, "139 0013 9000", clock.now())
    assert err.value.code == "registration.phone_taken"
    with pytest.raises(ServiceError) as err:
        await members.update_own_phone(db, APPLICANT, "12345", clock.now())
    assert err.value.code == "input.phone.invalid"
    mine = await members.profile(db, APPLICANT, today(clock))
    assert mine is not None
    assert mine.phone == "13700137000"
    with pytest.raises(NotFound) as err_nf:
        await members.update_own_phone(db, BASE_UID + 99, PHONE, clock.now())
    assert err_nf.value.code == "member.not_registered"


async def test_members_change_their_own_unit_within_the_branch(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    await linked_member(db, clock, t.branch_b, APPLICANT, "王芳")
    mine = await orgs.add_unit(db, SUPER, t.branch_b, "乙一公司", clock.now(), today(clock))
    theirs = await orgs.add_unit(db, SUPER, t.branch_a, "甲公司", clock.now(), today(clock))
    assert await members.update_own_unit(db, APPLICANT, mine.id, clock.now()) == "乙一公司"
    for unit_id in (theirs.id, 999):
        with pytest.raises(ServiceError) as err:
            await members.update_own_unit(db, APPLICANT, unit_id, clock.now())
        assert err.value.code == "registration.bad_unit"
    profile = await members.profile(db, APPLICANT, today(clock))
    assert profile is not None
    assert profile.unit == "乙一公司"
    with pytest.raises(NotFound):
        await members.update_own_unit(db, BASE_UID + 99, mine.id, clock.now())


# ---------------------------------------------------------------- leaving and moving


async def test_marking_a_member_left_keeps_history_and_ends_offices(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    secretary = await secretary_of(db, clock, t.branch_a, BASE_UID + 1)
    deputy, deputy_member = await linked_member(
        db, clock, t.branch_a, APPLICANT, "王芳", role=Role.DEPUTY
    )
    await members.mark_left(
        db, secretary, deputy_member, " 退休回原籍 ", now=clock.now(), today=today(clock)
    )
    async with db.read() as s:
        row = await s.get(Member, deputy_member)
        assert row is not None
        assert (row.status, row.left_on, row.note, row.name) == (
            "left", today(clock), "退休回原籍", "王芳",
        )  # fmt: skip
        assert await permissions(s, deputy, t.branch_a, today(clock)) == frozenset()
    held = await orgs_roles.roles_of_org(db, t.branch_a, today(clock))
    assert [r.role for r in held] == [Role.SECRETARY]
    assert await members.profile(db, APPLICANT, today(clock)) is None
    names = [
        e.name for e in (await members.roster(db, secretary, t.branch_a, today(clock))).entries
    ]
    assert "王芳" not in names
    [entry] = await audit.recent(db, target_type="member", target_id=str(deputy_member))
    assert (entry.action, entry.actor_id) == ("member.left", secretary.user_id)
    # Whoever left may register again.
    assert (await submit(db, clock, t.branch_a)).registration.status == RegistrationStatus.PENDING


async def test_marking_left_needs_a_reason_rights_and_an_active_entry(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    other_secretary = await secretary_of(db, clock, t.branch_b, BASE_UID + 1)
    plain, _ = await linked_member(db, clock, t.branch_a, BASE_UID + 2, "普通党员")
    target = await member(db, clock, t.branch_a, "王芳")
    with pytest.raises(ServiceError) as err:
        await members.mark_left(db, SUPER, target, "  ", now=clock.now(), today=today(clock))
    assert err.value.code == "input.reason_empty"
    for actor in (other_secretary, plain):
        with pytest.raises(Denied):
            await members.mark_left(db, actor, target, "走了", now=clock.now(), today=today(clock))
    await members.mark_left(db, SUPER, target, "走了", now=clock.now(), today=today(clock))
    for mid in (target, 999):
        with pytest.raises(NotFound) as err_nf:
            await members.mark_left(db, SUPER, mid, "走了", now=clock.now(), today=today(clock))
        assert err_nf.value.code == "member.not_found"


async def test_a_transfer_moves_the_person_and_keeps_the_old_entry(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    admin = await person(db, clock, BASE_UID + 1)
    await office(db, clock, t.committee, Role.COMMITTEE_ADMIN, user_id=admin.user_id)
    mover, old_id = await linked_member(
        db, clock, t.branch_a, APPLICANT, "王芳", phone=PHONE, role=Role.ORGANIZATION
    )
    async with db.transaction() as s:
        row = await s.get(Member, old_id)
        assert row is not None
        row.probationary_on = today(clock) - timedelta(days=800)
        row.full_on = today(clock) - timedelta(days=400)
    new_id = await members.transfer_member(
        db, admin, old_id, t.branch_b, now=clock.now(), today=today(clock)
    )
    async with db.read() as s:
        old = await s.get(Member, old_id)
        new = await s.get(Member, new_id)
        live = await s.scalar(
            select(func.count())
            .select_from(Member)
            .where(Member.user_id == APPLICANT, Member.status == "active")
        )
        mover_perms = await permissions(s, mover, t.branch_a, today(clock))
    assert old is not None
    assert new is not None
    assert (old.status, old.left_on, old.transferred_to, old.org_id) == (
        "transferred", today(clock), new_id, t.branch_a,
    )  # fmt: skip
    assert (new.status, new.org_id, new.user_id, new.name, new.phone, new.source) == (
        "active", t.branch_b, APPLICANT, "王芳", PHONE, "transfer",
    )  # fmt: skip
    assert (new.stage, new.full_on) == ("full", today(clock) - timedelta(days=400))
    assert live == 1
    assert mover_perms == frozenset()
    assert await orgs_roles.roles_of_org(db, t.branch_a, today(clock)) == []
    assert await members.my_branch(db, APPLICANT) == t.branch_b
    [entry] = await audit.recent(db, target_type="member", target_id=str(old_id))
    assert entry.action == "member.transfer"
    assert entry.after == {"org_id": t.branch_b, "member_id": new_id}


async def test_a_transfer_needs_member_rights_on_both_branches(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    secretary_a = await secretary_of(db, clock, t.branch_a, BASE_UID + 1)
    sub_admin = await person(db, clock, BASE_UID + 2)
    await office(db, clock, t.sub_committee, Role.COMMITTEE_ADMIN, user_id=sub_admin.user_id)
    target = await member(db, clock, t.branch_a, "王芳")
    for actor in (secretary_a, sub_admin):
        with pytest.raises(Denied):
            await members.transfer_member(
                db, actor, target, t.branch_b, now=clock.now(), today=today(clock)
            )
    # A secretary who also keeps the roster of the other branch through the committee may.
    await office(db, clock, t.committee, Role.COMMITTEE_ADMIN, user_id=secretary_a.user_id)
    await members.transfer_member(
        db, secretary_a, target, t.branch_b, now=clock.now(), today=today(clock)
    )
    assert [m.status for m in await members_of(db, t.branch_a) if m.id == target] == ["transferred"]


async def test_a_transfer_needs_another_branch(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    target = await member(db, clock, t.branch_a, "王芳")
    for org_id in (t.branch_a, t.committee):
        with pytest.raises(ServiceError) as err:
            await members.transfer_member(
                db, SUPER, target, org_id, now=clock.now(), today=today(clock)
            )
        assert err.value.code == "member.bad_transfer_target"
    with pytest.raises(NotFound):
        await members.transfer_member(db, SUPER, target, 999, now=clock.now(), today=today(clock))
    await members.mark_left(db, SUPER, target, "走了", now=clock.now(), today=today(clock))
    with pytest.raises(NotFound):
        await members.transfer_member(
            db, SUPER, target, t.branch_b, now=clock.now(), today=today(clock)
        )


async def test_a_transfer_onto_a_phone_already_on_the_target_roster_is_refused(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    _, mover = await linked_member(db, clock, t.branch_a, APPLICANT, "王芳", phone=PHONE)
    await linked_member(db, clock, t.branch_b, BASE_UID + 1, "李明", phone=PHONE)
    with pytest.raises(ServiceError) as err:
        await members.transfer_member(
            db, SUPER, mover, t.branch_b, now=clock.now(), today=today(clock)
        )
    assert err.value.code == "registration.phone_taken"
    assert await members.my_branch(db, APPLICANT) == t.branch_a


# ---------------------------------------------------------------- deleting an account


async def test_deleting_an_account_anonymizes_and_ends_everything(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    sent = await submit(db, clock, t.branch_a)
    decision = await decide(db, clock, SUPER, sent.registration.id)
    member_id = decision.member_id
    assert member_id is not None
    await orgs_roles.grant_role(
        db, SUPER, t.branch_a, Role.SECRETARY, member_id=member_id, now=clock.now(),
        today=today(clock),
    )  # fmt: skip
    await office(db, clock, t.committee, Role.INSTRUCTOR, user_id=APPLICANT,
                 start_on=today(clock) - timedelta(days=30),
                 end_on=today(clock) + timedelta(days=300))  # fmt: skip
    await record_presence(db, -100123, APPLICANT, clock.now())
    await save_draft(db, APPLICANT, "registration", "name", {"name": "王芳"}, clock.now())
    await touch_user(db, Person(id=APPLICANT, first_name="王芳", last_name="W", username="wf"),
                     clock.now())  # fmt: skip
    before = await audit.recent(db)

    clock.advance(days=3)
    await members.delete_account(db, APPLICANT, clock.now(), today(clock))

    async with db.read() as s:
        row = await s.get(Member, member_id)
        user = await s.get(User, APPLICANT)
        reg = await s.get(Registration, sent.registration.id)
        live_roles = await s.scalar(
            select(func.count())
            .select_from(RoleAssignment)
            .where(RoleAssignment.end_on.is_(None) | (RoleAssignment.end_on >= today(clock)))
        )
        presence = await s.scalar(select(func.count()).select_from(ChatPresence))
        granted = await permissions(s, Actor(user_id=APPLICANT), t.branch_a, today(clock))
    assert row is not None
    assert user is not None
    assert reg is not None
    assert (row.name, row.phone, row.user_id, row.status, row.left_on) == (
        "", None, None, "deleted", today(clock),
    )  # fmt: skip
    assert (user.first_name, user.last_name, user.username) == ("", None, None)
    assert (reg.name, reg.phone) == ("", None)
    assert live_roles == 0
    assert granted == frozenset()
    assert presence == 0
    assert await get_draft(db, APPLICANT) is None
    assert await members.profile(db, APPLICANT, today(clock)) is None
    assert await orgs_roles.roles_of_org(db, t.branch_a, today(clock)) == []
    after = await audit.recent(db)
    assert after[1:] == before  # nothing was erased from the audit trail
    assert (after[0].action, after[0].actor_id, after[0].after) == (
        "account.delete", APPLICANT, {"members": [member_id]},
    )  # fmt: skip
    names = [e.name for e in (await members.roster(db, SUPER, t.branch_a, today(clock))).entries]
    assert names == []


async def test_deleting_an_account_withdraws_a_pending_registration(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    sent = await submit(db, clock, t.branch_a)
    await members.delete_account(db, APPLICANT, clock.now(), today(clock))
    assert await members.pending_registration(db, APPLICANT) is None
    reg = await members.get_registration(db, sent.registration.id)
    assert (reg.status, reg.name, reg.phone) == (RegistrationStatus.CANCELLED, "", None)


async def test_a_deleted_person_may_register_afresh(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    await linked_member(db, clock, t.branch_a, APPLICANT, "王芳", phone=PHONE)
    await members.delete_account(db, APPLICANT, clock.now(), today(clock))
    sent = await submit(db, clock, t.branch_a)
    assert sent.registration.match_member_id is None  # the anonymized line is nobody's
    decision = await decide(db, clock, SUPER, sent.registration.id)
    assert decision.member_id is not None
    assert await members.my_branch(db, APPLICANT) == t.branch_a


async def test_approval_reports_the_gated_groups_to_lift(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    sent = await submit(db, clock, t.branch_a)
    await record_restriction(db, -1001, APPLICANT, t.branch_a, clock.now())
    await record_restriction(db, -1002, APPLICANT, t.branch_a, clock.now())
    await record_restriction(db, -1003, APPLICANT, t.branch_b, clock.now())
    await members.mark_gate_lifted(db, -1002, APPLICANT, clock.now())
    decision = await decide(db, clock, SUPER, sent.registration.id)
    assert decision.restricted_chats == (-1001,)


# ---------------------------------------------------------------- one-question wizards


async def test_a_typed_reason_takes_its_draft_with_the_change(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    secretary = await secretary_of(db, clock, t.branch_a, BASE_UID + 1)
    target = await member(db, clock, t.branch_a, "王芳")
    draft = ask_left_reason(target)
    await keep_draft(db, secretary.user_id, draft, clock.now())
    with pytest.raises(ServiceError) as err:  # an empty reason: asked again, the draft stays
        await members.mark_left(db, secretary, target, " ", now=clock.now(), today=today(clock),
                                draft=draft)  # fmt: skip
    assert err.value.code == "input.reason_empty"
    assert await open_draft(db, secretary.user_id, LeftDraft) == draft
    await members.mark_left(
        db, secretary, target, "走了", now=clock.now(), today=today(clock), draft=draft
    )
    assert await get_draft(db, secretary.user_id) is None
    with pytest.raises(ServiceError) as err:  # the same text again: nothing open any more
        await members.mark_left(db, secretary, target, "走了", now=clock.now(),
                                today=today(clock), draft=draft)  # fmt: skip
    assert err.value.code == "stale"


async def test_a_new_phone_and_a_rejection_take_their_drafts(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    await linked_member(db, clock, t.branch_a, BASE_UID + 3, "李明")
    phone = ask_phone()
    await keep_draft(db, BASE_UID + 3, phone, clock.now())
    with pytest.raises(ServiceError):
        await members.update_own_phone(db, BASE_UID + 3, "12345", clock.now(), draft=phone)
    assert await open_draft(db, BASE_UID + 3, PhoneDraft) == phone  # typed again
    await members.update_own_phone(db, BASE_UID + 3, "13900139001", clock.now(), draft=phone)
    assert await get_draft(db, BASE_UID + 3) is None

    sent = await submit(db, clock, t.branch_a)
    reject = ask_reject_reason(sent.registration.id)
    await keep_draft(db, SUPER.user_id, reject, clock.now())
    # Another wizard opened meanwhile: the reason is not read against it.
    await keep_draft(db, SUPER.user_id, ask_reject_reason(sent.registration.id + 1), clock.now())
    with pytest.raises(ServiceError) as err:
        await members.decide_registration(
            db, SUPER, sent.registration.id, approve=False, reason="不符合条件",
            now=clock.now(), today=today(clock), draft=reject,
        )  # fmt: skip
    assert err.value.code == "stale"
    assert (await members.get_registration(db, sent.registration.id)).status == (
        RegistrationStatus.PENDING
    )
    await keep_draft(db, SUPER.user_id, reject, clock.now())
    decision = await members.decide_registration(
        db, SUPER, sent.registration.id, approve=False, reason="不符合条件",
        now=clock.now(), today=today(clock), draft=reject,
    )  # fmt: skip
    assert decision.registration.status == RegistrationStatus.REJECTED
    assert await get_draft(db, SUPER.user_id) is None
