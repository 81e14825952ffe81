"""Forms against a real database: who answers, versions, late answers, anonymity, totals."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from domain.forms import Column, FormKind, LatePolicy, QType, Question, ShowIf
from domain.forms_wizard import STEPS, AnswerDraft, start
from domain.orgs import Role, Stage
from domain.wizard import Event, apply
from services.authz import Actor
from services.drafts import keep_draft, open_draft
from services.errors import ServiceError
from services.forms import (
    FormSpec,
    form_results,
    my_answers,
    outstanding,
    publish_form,
    review_response,
    submit_draft,
    submit_response,
)
from services.notices import Audience
from storage.db import Database
from storage.models import AuditEntry, FormAnonymousAnswer, FormResponse, FormResponseVersion
from tests.conftest import FakeClock
from tests.services.factories import (
    BASE_UID,
    Tree,
    linked_member,
    member,
    office,
    person,
    today,
    tree,
)

NOW = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)
QUESTIONS = (
    Question(QType.YES_NO, "本月是否开展主题党日"),
    Question(QType.INTEGER, "参加人数", unit="人", show_if=ShowIf(0, (1,))),
    Question(QType.SINGLE, "活动形式", choices=("学习", "志愿服务", "参观")),
    Question(QType.LONG, "心得", required=False),
)


def spec(org_id: int, targets: tuple[int, ...], clock: FakeClock, **kw: object) -> FormSpec:
    values: dict[str, object] = {
        "org_id": org_id,
        "kind": FormKind.MEMBER,
        "title": "十二月主题党日",
        "intro": "请在截止前填写。",
        "questions": QUESTIONS,
        "audience": Audience(targets),
        "deadline": clock.now() + timedelta(days=5),
    }
    values.update(kw)
    return FormSpec(**values)  # type: ignore[arg-type]


async def setup(db: Database, clock: FakeClock) -> tuple[Tree, Actor, list[Actor]]:
    t = await tree(db, clock)
    secretary, _ = await linked_member(db, clock, t.branch_a, BASE_UID + 1, "陈书记",
                                       role=Role.SECRETARY)  # fmt: skip
    members = [secretary]
    for i, name in enumerate(["王芳", "李雷", "韩梅梅"], start=2):
        actor, _ = await linked_member(db, clock, t.branch_a, BASE_UID + i, name)
        members.append(actor)
    return t, secretary, members


async def test_a_member_form_is_answered_changed_and_every_version_kept(
    db: Database, clock: FakeClock
) -> None:
    t, secretary, members = await setup(db, clock)
    published = await publish_form(
        db, secretary, spec(t.branch_a, (t.branch_a,), clock), now=clock.now(), today=today(clock)
    )
    assert published.branches == 1
    cycle = published.cycle.id
    first = await submit_response(
        db, members[1], cycle, {0: True, 1: 12, 2: 0}, now=clock.now(), today=today(clock)
    )
    assert (first.version, first.late, first.changed) == (1, False, False)
    # Changing the first answer to "no" drops the count it no longer asks for.
    second = await submit_response(
        db, members[1], cycle, {0: False, 1: 12, 2: 1}, now=clock.now(), today=today(clock)
    )
    assert (second.version, second.changed) == (2, True)
    assert await my_answers(db, members[1].user_id, cycle) == {0: False, 2: 1}
    async with db.read() as s:
        versions = (await s.scalars(select(FormResponseVersion.answers))).all()
    assert versions == [{"0": True, "1": 12, "2": 0}, {"0": False, "2": 1}]


async def test_required_answers_and_outsiders_are_refused(db: Database, clock: FakeClock) -> None:
    t, secretary, members = await setup(db, clock)
    cycle = (
        await publish_form(db, secretary, spec(t.branch_a, (t.branch_a,), clock),
                           now=clock.now(), today=today(clock))
    ).cycle.id  # fmt: skip
    with pytest.raises(ServiceError) as missing:
        await submit_response(db, members[2], cycle, {0: True, 2: 0}, now=clock.now(),
                              today=today(clock))  # fmt: skip
    assert missing.value.code == "form.incomplete"
    outsider, _ = await linked_member(db, clock, t.branch_b, BASE_UID + 50, "赵六")
    with pytest.raises(ServiceError) as foreign:
        await submit_response(db, outsider, cycle, {0: False, 2: 0}, now=clock.now(),
                              today=today(clock))  # fmt: skip
    assert foreign.value.code == "form.not_yours"


async def test_only_those_who_may_send_notices_may_send_forms(
    db: Database, clock: FakeClock
) -> None:
    t, _secretary, members = await setup(db, clock)
    with pytest.raises(ServiceError) as denied:
        await publish_form(db, members[1], spec(t.branch_a, (t.branch_a,), clock),
                           now=clock.now(), today=today(clock))  # fmt: skip
    assert denied.value.code == "auth.send_notice"
    bad = spec(t.branch_a, (t.branch_a,), clock, questions=())
    with pytest.raises(ServiceError) as empty:
        await publish_form(db, _secretary, bad, now=clock.now(), today=today(clock))
    assert empty.value.code == "form.no_questions"


async def test_late_answers_are_marked_or_refused(db: Database, clock: FakeClock) -> None:
    t, secretary, members = await setup(db, clock)
    accepting = (
        await publish_form(db, secretary, spec(t.branch_a, (t.branch_a,), clock),
                           now=clock.now(), today=today(clock))
    ).cycle.id  # fmt: skip
    refusing = (
        await publish_form(
            db, secretary,
            spec(t.branch_a, (t.branch_a,), clock, late_policy=LatePolicy.REFUSE),
            now=clock.now(), today=today(clock),
        )
    ).cycle.id  # fmt: skip
    clock.advance(days=6)
    late = await submit_response(db, members[1], accepting, {0: False, 2: 2}, now=clock.now(),
                                 today=today(clock))  # fmt: skip
    assert late.late
    with pytest.raises(ServiceError) as refused:
        await submit_response(db, members[1], refusing, {0: False, 2: 2}, now=clock.now(),
                              today=today(clock))  # fmt: skip
    assert refused.value.code == "form.too_late"


async def test_returned_answers_can_be_resubmitted_and_accepted_ones_are_locked(
    db: Database, clock: FakeClock
) -> None:
    t, secretary, members = await setup(db, clock)
    cycle = (
        await publish_form(db, secretary, spec(t.branch_a, (t.branch_a,), clock),
                           now=clock.now(), today=today(clock))
    ).cycle.id  # fmt: skip
    taken = await submit_response(db, members[1], cycle, {0: False, 2: 0}, now=clock.now(),
                                  today=today(clock))  # fmt: skip
    with pytest.raises(ServiceError) as by_member:
        await review_response(db, members[2], taken.response_id, accept=True,
                              now=clock.now(), today=today(clock))  # fmt: skip
    assert by_member.value.code == "auth.denied"
    with pytest.raises(ServiceError) as no_comment:
        await review_response(db, secretary, taken.response_id, accept=False,
                              now=clock.now(), today=today(clock))  # fmt: skip
    assert no_comment.value.code == "form.comment.empty"
    returned = await review_response(db, secretary, taken.response_id, accept=False,
                                     comment="请补充活动形式", now=clock.now(),
                                     today=today(clock))  # fmt: skip
    assert returned == "returned"
    again = await submit_response(db, members[1], cycle, {0: False, 2: 1}, now=clock.now(),
                                  today=today(clock))  # fmt: skip
    assert again.version == 2
    assert await review_response(db, secretary, taken.response_id, accept=True,
                                 now=clock.now(), today=today(clock)) == "accepted"  # fmt: skip
    with pytest.raises(ServiceError) as locked:
        await submit_response(db, members[1], cycle, {0: True, 1: 3, 2: 1}, now=clock.now(),
                              today=today(clock))  # fmt: skip
    assert locked.value.code == "form.locked"
    async with db.read() as s:
        actions = (await s.scalars(select(AuditEntry.action).order_by(AuditEntry.id))).all()
    assert [a for a in actions if a.startswith("form.")] == [
        "form.publish",
        "form.return",
        "form.accept",
    ]


async def test_an_anonymous_form_keeps_answers_apart_from_who_gave_them(
    db: Database, clock: FakeClock
) -> None:
    t, secretary, members = await setup(db, clock)
    for i in range(2):
        await linked_member(db, clock, t.branch_a, BASE_UID + 10 + i, f"党员{i}")
    evaluation = (Question(QType.SINGLE, "评议等次", choices=("优秀", "合格", "不合格")),)
    cycle = (
        await publish_form(
            db, secretary,
            spec(t.branch_a, (t.branch_a,), clock, questions=evaluation, anonymous=True),
            now=clock.now(), today=today(clock),
        )
    ).cycle.id  # fmt: skip
    voters = [*members, Actor(BASE_UID + 10), Actor(BASE_UID + 11)]
    for n, voter in enumerate(voters[:4]):
        await submit_response(db, voter, cycle, {0: n % 2}, now=clock.now(), today=today(clock))
        clock.advance(minutes=3)
    # Four answers: too few to show anything that could be traced back.
    hidden = await form_results(db, secretary, cycle, today(clock))
    assert hidden.aggregates_hidden
    assert hidden.questions == ()
    assert hidden.total.on_time == 4
    await submit_response(db, voters[4], cycle, {0: 2}, now=clock.now(), today=today(clock))
    shown = await form_results(db, secretary, cycle, today(clock))
    assert not shown.aggregates_hidden
    assert shown.questions[0].total.counts == (2, 2, 1)
    with pytest.raises(ServiceError) as final:
        await submit_response(db, voters[0], cycle, {0: 2}, now=clock.now(), today=today(clock))
    assert final.value.code == "form.anonymous_final"
    async with db.read() as s:
        responses = (await s.scalars(select(FormResponse))).all()
        kept = (await s.scalars(select(FormAnonymousAnswer))).all()
        versions = (await s.scalars(select(FormResponseVersion))).all()
    assert all(r.answers is None for r in responses)
    assert versions == []
    # Nothing in the stored answers leads back to a response: no member, no user, no time.
    assert {c for row in kept for c in vars(row) if not c.startswith("_")} == {
        "id",
        "cycle_id",
        "org_id",
        "answers",
        "submitted_on",
    }
    assert sorted(r.answers["0"] for r in kept) == [0, 0, 1, 1, 2]


async def test_a_branch_form_is_answered_once_per_branch_by_its_officers(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    admin = await person(db, clock, BASE_UID + 100, "党委")
    await office(db, clock, t.committee, Role.COMMITTEE_ADMIN, user_id=admin.user_id)
    sec_a, _ = await linked_member(db, clock, t.branch_a, BASE_UID + 1, "甲书记",
                                   role=Role.SECRETARY)  # fmt: skip
    info_b, _ = await linked_member(db, clock, t.branch_b, BASE_UID + 2, "乙信息员",
                                    role=Role.INFO_OFFICER)  # fmt: skip
    plain, _ = await linked_member(db, clock, t.branch_b, BASE_UID + 3, "乙党员")
    report = (
        Question(QType.INTEGER, "本月发展党员数", unit="人"),
        Question(QType.DECIMAL, "党费收缴", unit="元"),
        Question(QType.ROWS, "志愿服务", required=False,
                 columns=(Column("姓名"), Column("时长", QType.DECIMAL))),
    )  # fmt: skip
    published = await publish_form(
        db, admin,
        spec(t.committee, (t.committee,), clock, kind=FormKind.BRANCH, questions=report),
        now=clock.now(), today=today(clock),
    )  # fmt: skip
    cycle = published.cycle.id
    assert published.branches == 3  # the general branch answers too
    await submit_response(db, sec_a, cycle, {0: 2, 1: "150.5", 2: (("王芳", "2"),)},
                          now=clock.now(), today=today(clock), branch_id=t.branch_a)  # fmt: skip
    with pytest.raises(ServiceError) as not_officer:
        await submit_response(db, plain, cycle, {0: 1, 1: "1"}, now=clock.now(),
                              today=today(clock), branch_id=t.branch_b)  # fmt: skip
    assert not_officer.value.code == "form.not_yours"
    with pytest.raises(ServiceError) as other_branch:
        await submit_response(db, sec_a, cycle, {0: 1, 1: "1"}, now=clock.now(),
                              today=today(clock), branch_id=t.branch_b)  # fmt: skip
    assert other_branch.value.code == "form.not_yours"
    missing_before = await outstanding(db, admin, cycle, today(clock))
    assert {o.org_id for o in missing_before} == {t.general, t.branch_b}
    # 本期无情况: a valid answer, never confused with not reporting.
    await submit_response(db, info_b, cycle, {}, now=clock.now(), today=today(clock),
                          branch_id=t.branch_b, nothing_to_report=True)  # fmt: skip
    assert [o.org_id for o in await outstanding(db, admin, cycle, today(clock))] == [t.general]
    results = await form_results(db, admin, cycle, today(clock))
    assert (results.total.expected, results.total.missing) == (3, 1)
    money = results.questions[1]
    assert money.total.total == Decimal("150.5")
    assert money.per_branch[t.branch_a].total == Decimal("150.5")


async def test_results_add_up_and_list_who_has_not_answered(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    admin = await person(db, clock, BASE_UID + 100, "党委")
    await office(db, clock, t.committee, Role.COMMITTEE_ADMIN, user_id=admin.user_id)
    people: dict[int, list[Actor]] = {t.branch_a: [], t.branch_b: []}
    uid = BASE_UID + 200
    for branch, count in ((t.branch_a, 3), (t.branch_b, 4)):
        for _ in range(count):
            uid += 1
            actor, _ = await linked_member(db, clock, branch, uid, f"党员{uid % 1000}")
            people[branch].append(actor)
    await member(db, clock, t.branch_b, "未注册", stage=Stage.FULL)  # never started the bot
    await member(db, clock, t.branch_b, "积极分子", stage=Stage.ACTIVIST)  # not in the audience
    audience = Audience((t.committee,), stages=(Stage.FULL, Stage.PROBATIONARY))
    study = (Question(QType.INTEGER, "学习时长", unit="小时"),)
    cycle = (
        await publish_form(db, admin, spec(t.committee, (t.committee,), clock, questions=study,
                                           audience=audience),
                           now=clock.now(), today=today(clock))
    ).cycle.id  # fmt: skip
    for hours, actor in enumerate([*people[t.branch_a][:2], *people[t.branch_b][:3]], start=1):
        await submit_response(db, actor, cycle, {0: hours}, now=clock.now(), today=today(clock))
    results = await form_results(db, admin, cycle, today(clock))
    by_branch = {b.org_id: b for b in results.branches}
    assert (by_branch[t.branch_a].expected, by_branch[t.branch_a].on_time) == (3, 2)
    assert (by_branch[t.branch_b].expected, by_branch[t.branch_b].missing) == (5, 2)
    studied = results.questions[0]
    assert studied.total.total == Decimal(15)
    parts = [p.total or Decimal(0) for p in studied.per_branch.values()]
    assert sum(parts, Decimal(0)) == studied.total.total
    missing = await outstanding(db, admin, cycle, today(clock))
    assert len(missing) == 3
    assert [m.name for m in missing if m.user_id is None] == ["未注册"]
    with pytest.raises(ServiceError) as denied:
        await form_results(db, people[t.branch_a][0], cycle, today(clock))
    assert denied.value.code == "auth.denied"


def answering(draft: AnswerDraft, action: str, value: int = 0) -> AnswerDraft:
    """The answering draft after one press, as the handler would apply it."""
    moved = apply(STEPS, draft, Event(action, value), NOW)
    assert isinstance(moved, AnswerDraft), moved
    return moved


async def test_submitting_from_the_answering_draft_happens_once(
    db: Database, clock: FakeClock
) -> None:
    t, secretary, members = await setup(db, clock)
    published = await publish_form(
        db, secretary, spec(t.branch_a, (t.branch_a,), clock), now=clock.now(), today=today(clock)
    )
    cycle, member = published.cycle.id, members[1]
    draft = answering(start(cycle, published.form.questions), "pick", 0)  # 否: no count asked
    await keep_draft(db, member.user_id, draft, clock.now())
    # Not at the review yet: the old 提交 of another screen is stale, and the draft stays.
    with pytest.raises(ServiceError) as early:
        await submit_draft(db, member, now=clock.now(), today=today(clock))
    assert early.value.code == "stale"
    draft = answering(answering(draft, "pick", 1), "skip")  # 志愿服务; 心得 is optional
    assert draft.step == "review"
    await keep_draft(db, member.user_id, draft, clock.now())
    taken = await submit_draft(db, member, now=clock.now(), today=today(clock))
    assert (taken.version, taken.changed) == (1, False)
    assert await my_answers(db, member.user_id, cycle) == {0: False, 2: 1}
    assert await open_draft(db, member.user_id, AnswerDraft) is None
    with pytest.raises(ServiceError) as again:
        await submit_draft(db, member, now=clock.now(), today=today(clock))
    assert again.value.code == "stale"


async def test_a_refused_submission_keeps_the_answering_draft(
    db: Database, clock: FakeClock
) -> None:
    t, secretary, members = await setup(db, clock)
    published = await publish_form(
        db, secretary,
        spec(t.branch_a, (t.branch_a,), clock, late_policy=LatePolicy.REFUSE),
        now=clock.now(), today=today(clock),
    )  # fmt: skip
    review = start(published.cycle.id, published.form.questions, {0: False, 2: 0})
    review = replace(review, step="review")
    await keep_draft(db, members[1].user_id, review, clock.now())
    clock.advance(days=6)
    with pytest.raises(ServiceError) as late:
        await submit_draft(db, members[1], now=clock.now(), today=today(clock))
    assert late.value.code == "form.too_late"
    assert await open_draft(db, members[1].user_id, AnswerDraft) == review
