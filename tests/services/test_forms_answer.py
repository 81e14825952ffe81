"""Opening a form to answer it, against a real database: who may, what is pre-filled (the
earlier answer, the roster, the previous cycle), which branch, and the member picker."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from domain.forms import ROSTER_PHONE, ROSTER_UNIT, FormKind, QType, Question, Repeat
from domain.forms_wizard import AnswerDraft, answers_of
from domain.orgs import Role
from services.authz import Actor
from services.drafts import open_draft
from services.errors import ServiceError
from services.forms import FormSpec, publish_form, review_response, submit_response
from services.forms_answer import (
    PICKER_PAGE,
    BranchChoice,
    Opening,
    on_roster,
    open_answer,
    roster_page,
)
from services.forms_delivery import queue_cycle
from services.notices import Audience
from services.orgs import add_unit
from storage.db import Database
from storage.models import Form, FormCycle, Member, OutboxItem, User
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

UPDATE = (
    Question(QType.PHONE, "手机号", roster=ROSTER_PHONE),
    Question(QType.SHORT, "工作单位", roster=ROSTER_UNIT),
    Question(QType.SHORT, "岗位", required=False),
)


def spec(org_id: int, clock: FakeClock, **kw: object) -> FormSpec:
    values: dict[str, object] = {
        "org_id": org_id,
        "kind": FormKind.MEMBER,
        "title": "党员信息更新",
        "intro": "",
        "questions": UPDATE,
        "audience": Audience((org_id,)),
        "deadline": clock.now() + timedelta(days=5),
    }
    values.update(kw)
    return FormSpec(**values)  # type: ignore[arg-type]


async def committee_admin(db: Database, clock: FakeClock, committee: int) -> Actor:
    admin = await person(db, clock, BASE_UID + 99, "组织部")
    await office(db, clock, committee, Role.COMMITTEE_ADMIN, user_id=admin.user_id)
    return admin


async def opened(
    db: Database, actor: Actor, cycle: int, clock: FakeClock, branch: int = 0
) -> Opening:
    result = await open_answer(db, actor, cycle, branch, now=clock.now(), today=today(clock))
    assert isinstance(result, Opening)
    return result


async def test_the_roster_fills_in_what_it_knows_and_an_earlier_answer_comes_back(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    unit = await add_unit(
        db, SUPER, t.branch_a, "甲科技有限公司", now=clock.now(), today=today(clock)
    )
    secretary, _ = await linked_member(
        db, clock, t.branch_a, BASE_UID + 1, "陈书记", role=Role.SECRETARY
    )
    wang, wang_id = await linked_member(
        db, clock, t.branch_a, BASE_UID + 2, "王芳", phone="13812345678"
    )
    async with db.transaction() as s:
        row = await s.get(Member, wang_id)
        assert row is not None
        row.unit_id = unit.id
    cycle = (await publish_form(db, secretary, spec(t.branch_a, clock), now=clock.now(),
                                today=today(clock))).cycle.id  # fmt: skip
    first = await opened(db, wang, cycle, clock)
    assert answers_of(first.draft) == {0: "13812345678", 1: "甲科技有限公司"}
    assert first.status is None
    assert first.draft.current == 0  # the pre-filled answers are confirmed one tap each
    draft = await open_draft(db, wang.user_id, AnswerDraft)
    assert isinstance(draft, AnswerDraft)
    assert draft.cycle_id == cycle
    await submit_response(db, wang, cycle, {0: "13900001111", 1: "乙公司", 2: "会计"},
                          now=clock.now(), today=today(clock))  # fmt: skip
    again = await opened(db, wang, cycle, clock)
    assert answers_of(again.draft) == {0: "13900001111", 1: "乙公司", 2: "会计"}
    assert again.status == "submitted"


async def test_returned_answers_carry_the_comment_and_accepted_ones_are_locked(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    secretary, _ = await linked_member(
        db, clock, t.branch_a, BASE_UID + 1, "陈书记", role=Role.SECRETARY
    )
    wang, _ = await linked_member(db, clock, t.branch_a, BASE_UID + 2, "王芳")
    cycle = (await publish_form(db, secretary, spec(t.branch_a, clock), now=clock.now(),
                                today=today(clock))).cycle.id  # fmt: skip
    taken = await submit_response(db, wang, cycle, {0: "13900001111", 1: "乙公司"},
                                  now=clock.now(), today=today(clock))  # fmt: skip
    await review_response(db, secretary, taken.response_id, accept=False, comment="单位写全称",
                          now=clock.now(), today=today(clock))  # fmt: skip
    returned = await opened(db, wang, cycle, clock)
    assert returned.status == "returned"
    assert returned.comment == "单位写全称"
    await review_response(db, secretary, taken.response_id, accept=True, now=clock.now(),
                          today=today(clock))  # fmt: skip
    with pytest.raises(ServiceError) as locked:
        await opened(db, wang, cycle, clock)
    assert locked.value.code == "form.locked"


async def test_the_previous_cycle_is_offered_again(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    secretary, secretary_id = await linked_member(
        db, clock, t.branch_a, BASE_UID + 1, "陈书记", role=Role.SECRETARY
    )
    async with db.transaction() as s:  # the secretary has started the bot: copies reach them
        await s.execute(update(User).where(User.id == secretary.user_id).values(started=True))
    questions = (Question(QType.INTEGER, "本月组织生活次数"), Question(QType.LONG, "亮点"))
    report = spec(t.committee, clock, kind=FormKind.BRANCH, questions=questions,
                  audience=Audience((t.committee,)), repeat=Repeat.MONTHLY, due_day=5)  # fmt: skip
    published = await publish_form(
        db,
        await committee_admin(db, clock, t.committee),
        report,
        now=clock.now(),
        today=today(clock),
    )
    first = await opened(db, secretary, published.cycle.id, clock, t.branch_a)
    assert not first.from_previous
    assert first.draft.allow_nothing
    await submit_response(db, secretary, published.cycle.id, {0: 3, 1: "主题党日"},
                          now=clock.now(), today=today(clock), branch_id=t.branch_a)  # fmt: skip
    # The next month's cycle, as the cycle job issues it.
    clock.advance(days=31)
    async with db.transaction() as s:
        form = await s.get(Form, published.form.id)
        assert form is not None
        nxt = FormCycle(form_id=form.id, key="next", opens_at=clock.now(),
                        deadline=clock.now() + timedelta(days=5), counts_dirty=False,
                        created_at=clock.now())  # fmt: skip
        s.add(nxt)
        await s.flush()
        await queue_cycle(s, form, nxt, now=clock.now(), today=today(clock))
        next_id = nxt.id
    second = await opened(db, secretary, next_id, clock, t.branch_a)
    assert second.from_previous
    assert answers_of(second.draft) == {0: 3, 1: "主题党日"}
    async with db.read() as s:
        copies = (
            await s.scalars(select(OutboxItem.chat_id).where(OutboxItem.purpose == "form_copy"))
        ).all()
    assert copies.count(secretary.user_id) == 2  # one copy per cycle
    assert secretary_id


async def test_someone_answering_for_two_branches_chooses_one(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    officer, member_a = await linked_member(db, clock, t.branch_a, BASE_UID + 1, "陈信息员",
                                            role=Role.INFO_OFFICER)  # fmt: skip
    await office(db, clock, t.branch_b, Role.INFO_OFFICER, user_id=officer.user_id)
    report = spec(t.committee, clock, kind=FormKind.BRANCH,
                  questions=(Question(QType.INTEGER, "人数"),),
                  audience=Audience((t.committee,)))  # fmt: skip
    cycle = (
        await publish_form(
            db,
            await committee_admin(db, clock, t.committee),
            report,
            now=clock.now(),
            today=today(clock),
        )
    ).cycle.id
    choice = await open_answer(db, officer, cycle, 0, now=clock.now(), today=today(clock))
    assert isinstance(choice, BranchChoice)
    assert {b for b, _ in choice.branches} == {t.branch_a, t.branch_b}
    chosen = await opened(db, officer, cycle, clock, t.branch_b)
    assert chosen.draft.branch_id == t.branch_b
    assert chosen.header.branch == "乙公司联合党支部"
    with pytest.raises(ServiceError) as other:
        await opened(db, officer, cycle, clock, t.branch_c)
    assert other.value.code == "form.not_yours"
    assert member_a


async def test_the_member_picker_pages_searches_and_checks_the_roster(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    secretary, _ = await linked_member(
        db, clock, t.branch_a, BASE_UID + 1, "陈书记", role=Role.SECRETARY
    )
    for n in range(PICKER_PAGE * 2 + 1):
        await member(db, clock, t.branch_a, f"队员{n:02d}")
    outsider = await member(db, clock, t.branch_b, "外支部")
    questions = (Question(QType.MEMBERS, "哪些同志参加"),)
    cycle = (await publish_form(db, secretary, spec(t.branch_a, clock, questions=questions),
                                now=clock.now(), today=today(clock))).cycle.id  # fmt: skip
    draft = (await opened(db, secretary, cycle, clock)).draft
    first = await roster_page(db, secretary.user_id, draft, 0)
    assert (first.page, first.pages, len(first.members)) == (0, 3, PICKER_PAGE)
    last = await roster_page(db, secretary.user_id, draft, 99)
    assert last.page == 2
    found = await roster_page(db, secretary.user_id, draft, 0, "队员1%")
    assert found.members == ()  # a typed % is a character, not a wildcard
    found = await roster_page(db, secretary.user_id, draft, 0, "队员1")
    assert [name for _, name in found.members][:2] == ["队员10", "队员11"]
    assert await on_roster(db, secretary.user_id, draft, found.members[0][0])
    assert not await on_roster(db, secretary.user_id, draft, outsider)
