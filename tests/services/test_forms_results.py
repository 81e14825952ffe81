"""Forms results against a real database: who sees what, reviewing with roster write-back,
the respondent's note, and the export checked cell by cell."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from bot.i18n import load_catalog
from domain.forms import (
    ROSTER_PHONE,
    ROSTER_UNIT,
    Attachment,
    Column,
    FormKind,
    QType,
    Question,
    Repeat,
    Value,
)
from domain.forms_review import Sight, start
from domain.orgs import Role
from services.authz import Actor
from services.drafts import get_draft, keep_draft
from services.errors import ServiceError
from services.forms import form_results, outstanding, publish_form, review_response, submit_response
from services.forms_results import (
    answer_view,
    branch_answers,
    export_plan,
    export_rows,
    queue_export,
    results_screen,
    visible_forms,
)
from storage.db import Database
from storage.models import AuditEntry, FormCycle, FormResponse, Member, OutboxItem, Unit, User
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
from tests.services.test_forms import spec
from ui.forms_results import render_cycles, render_missing, write_export

TZ = ZoneInfo("Asia/Shanghai")
CATALOG = load_catalog("zh_CN")
REPORT = (
    Question(QType.INTEGER, "参加人数", unit="人"),
    Question(QType.SINGLE, "活动形式", choices=("学习", "志愿服务", "参观")),
    Question(QType.YES_NO, "是否开展主题党日"),
    Question(QType.PHONE, "联系电话", required=False),
    Question(QType.ATTACHMENT, "活动照片", required=False),
    Question(QType.ROWS, "志愿者", required=False,
             columns=(Column("姓名"), Column("时长", QType.DECIMAL))),
    Question(QType.MEMBERS, "参加人员", required=False),
)  # fmt: skip


class World:
    """A committee form over branch_a (3 members) and branch_b (2 members), with a committee
    admin sending it, branch_a's secretary, branch_b's propaganda member, an instructor of
    the committee, and a plain member."""

    def __init__(self, t: Tree, admin: Actor, people: dict[str, Actor], ids: dict[str, int]):
        self.t, self.admin, self.people, self.ids = t, admin, people, ids


async def world(db: Database, clock: FakeClock) -> World:
    t = await tree(db, clock)
    admin = await person(db, clock, BASE_UID + 100, "党委")
    await office(db, clock, t.committee, Role.COMMITTEE_ADMIN, user_id=admin.user_id)
    people: dict[str, Actor] = {}
    ids: dict[str, int] = {}
    uid = BASE_UID
    for key, branch, name, role in (
        ("sec_a", t.branch_a, "陈书记", Role.SECRETARY),
        ("wang", t.branch_a, "王芳", None),
        ("li", t.branch_a, "李雷", None),
        ("prop_b", t.branch_b, "赵宣传", Role.PROPAGANDA),
        ("han", t.branch_b, "韩梅梅", None),
    ):
        uid += 1
        people[key], ids[key] = await linked_member(db, clock, branch, uid, name, role=role)
    people["instructor"] = await person(db, clock, BASE_UID + 90, "指导员")
    await office(db, clock, t.committee, Role.INSTRUCTOR, user_id=BASE_UID + 90)
    return World(t, admin, people, ids)


async def publish(db: Database, clock: FakeClock, w: World, **kw: object) -> int:
    values: dict[str, object] = {"questions": REPORT}
    values.update(kw)
    published = await publish_form(
        db, w.admin, spec(w.t.committee, (w.t.branch_a, w.t.branch_b), clock, **values),
        now=clock.now(), today=today(clock),
    )  # fmt: skip
    return published.cycle.id


async def answer_all(db: Database, clock: FakeClock, w: World, cycle: int) -> None:
    photo = Attachment("photo", "file-1", "活动.jpg")
    answers: dict[str, dict[int, Value]] = {
        "sec_a": {0: 12, 1: 0, 2: True, 3: "13800138000", 4: photo,
                  5: (("王芳", "2.5"), ("李雷", None)), 6: (w.ids["wang"], w.ids["li"])},
        "wang": {0: 8, 1: 1, 2: False},
        "prop_b": {0: 5, 1: 1, 2: True, 3: "13900139000"},
    }  # fmt: skip
    for key, given in answers.items():
        await submit_response(db, w.people[key], cycle, given, now=clock.now(), today=today(clock))
    clock.advance(days=6)  # after the deadline: 迟报
    await submit_response(db, w.people["han"], cycle, {0: 3, 1: 2, 2: True}, now=clock.now(),
                          today=today(clock))  # fmt: skip


async def test_each_reader_sees_only_what_they_may(db: Database, clock: FakeClock) -> None:
    w = await world(db, clock)
    cycle = await publish(db, clock, w)
    await answer_all(db, clock, w, cycle)
    t, day = w.t, today(clock)
    # The sender: every branch, every answer with personal data.
    full = await form_results(db, w.admin, cycle, day)
    assert {b.org_id for b in full.branches} == {t.branch_a, t.branch_b}
    assert full.total.expected == 5
    assert (full.total.on_time, full.total.late) == (3, 1)
    # A branch's secretary: their own branch only, personal data included.
    own = await form_results(db, w.people["sec_a"], cycle, day)
    assert [b.org_id for b in own.branches] == [t.branch_a]
    assert own.questions[0].total.total == Decimal(20)
    assert own.sights == {t.branch_a: Sight.PERSONAL}
    sec_view = await answer_view(db, w.people["sec_a"], await _response(db, w, "sec_a"), day)
    assert sec_view.answers[3] == "13800138000"
    assert sec_view.may_review
    with pytest.raises(ServiceError) as foreign:
        await answer_view(db, w.people["sec_a"], await _response(db, w, "han"), day)
    assert foreign.value.code == "auth.denied"
    # Another officer of a branch: the answers, but no phone or attachment.
    prop_view = await answer_view(db, w.people["prop_b"], await _response(db, w, "han"), day)
    assert set(prop_view.answers) == {0, 1, 2}
    assert not prop_view.may_review
    mine = await answer_view(db, w.people["prop_b"], await _response(db, w, "prop_b"), day)
    assert 3 not in mine.answers
    # An instructor: aggregates of the branches they guide, never one person's answer.
    guided = await form_results(db, w.people["instructor"], cycle, day)
    assert guided.questions[0].total.total == Decimal(28)
    assert await outstanding(db, w.people["instructor"], cycle, day) == []
    hidden_names = await results_screen(db, w.people["instructor"], cycle, day,
                                        with_missing=True)  # fmt: skip
    text, _markup = render_missing(CATALOG, "zh_CN", hidden_names, 0)
    assert "还有 1 份未报；名单只有支部管理员和发布人可以查看" in text
    listing = await branch_answers(db, w.people["instructor"], cycle, t.branch_a, day)
    assert listing.items == ()
    assert listing.tallies[0].total == Decimal(20)
    with pytest.raises(ServiceError) as aggregate_only:
        await answer_view(db, w.people["instructor"], await _response(db, w, "wang"), day)
    assert aggregate_only.value.code == "auth.denied"
    # A member: nothing at all, and /forms is empty for them.
    with pytest.raises(ServiceError) as member_denied:
        await form_results(db, w.people["wang"], cycle, day)
    assert member_denied.value.code == "auth.denied"
    with pytest.raises(ServiceError):
        await branch_answers(db, w.people["wang"], cycle, t.branch_a, day)
    assert (await visible_forms(db, w.people["wang"], day)).items == ()
    # The forms list: the sender and the branch's secretary see it, with their progress.
    listed = (await visible_forms(db, w.admin, day)).items
    assert [(i.answered, i.expected, i.late) for i in listed] == [(4, 5, 1)]
    assert [
        (i.answered, i.expected) for i in (await visible_forms(db, w.people["sec_a"], day)).items
    ] == [(2, 3)]


async def _response(db: Database, w: World, key: str) -> int:
    async with db.read() as s:
        found = await s.scalar(select(FormResponse.id).where(FormResponse.member_id == w.ids[key]))
    assert found is not None
    return found


async def test_results_screen_rolls_up_by_committee_and_lists_whom_to_phone(
    db: Database, clock: FakeClock
) -> None:
    w = await world(db, clock)
    t = w.t
    await member(db, clock, t.branch_b, "未注册")  # never registered: to be phoned
    _blocked, _ = await linked_member(db, clock, t.branch_b, BASE_UID + 60, "屏蔽者")
    async with db.transaction() as s:
        await s.execute(update(User).where(User.id.in_([BASE_UID + 60, BASE_UID + 5]))
                        .values(started=True))  # fmt: skip
        await s.execute(update(User).where(User.id == BASE_UID + 60)
                        .values(blocked_at=clock.now()))  # fmt: skip
    cycle = (
        await publish_form(
            db, w.admin, spec(t.committee, (t.committee,), clock, questions=REPORT[:3]),
            now=clock.now(), today=today(clock),
        )
    ).cycle.id  # fmt: skip
    await submit_response(db, w.people["wang"], cycle, {0: 1, 1: 0, 2: True}, now=clock.now(),
                          today=today(clock))  # fmt: skip
    screen = await results_screen(db, w.admin, cycle, today(clock), with_missing=True)
    # branch_a sits under the sub-committee: its subtree total is the sub-committee's line.
    assert [(c.org_id, c.expected, c.on_time) for c in screen.committees] == [
        (t.sub_committee, 3, 1)
    ]
    assert screen.behind[0].org_id == t.branch_b  # nobody of branch_b answered
    assert {o.name for o in screen.to_call} >= {"未注册", "屏蔽者"}
    assert "韩梅梅" in {o.name for o in screen.to_remind}
    # The instructor is assigned at the committee: every branch below adds to their line;
    # one assigned to branch_b alone has branch_b's figures.
    await person(db, clock, BASE_UID + 91, "二号指导员")
    await office(db, clock, t.branch_b, Role.INSTRUCTOR, user_id=BASE_UID + 91)
    screen = await results_screen(db, w.admin, cycle, today(clock))
    lines = {p.name: (p.expected, p.on_time + p.late) for p in screen.instructors}
    assert lines["指导员"] == (screen.results.total.expected, 1)
    b = next(p for p in screen.results.branches if p.org_id == t.branch_b)
    assert lines["二号指导员"] == (b.expected, b.on_time + b.late)


async def test_returning_and_accepting_queue_the_respondent_note(
    db: Database, clock: FakeClock
) -> None:
    w = await world(db, clock)
    cycle = await publish(db, clock, w)
    await answer_all(db, clock, w, cycle)
    response = await _response(db, w, "wang")
    sec = w.people["sec_a"]
    now, day = clock.now(), today(clock)
    # The comment draft is taken in the review's transaction: once, never twice.
    await keep_draft(db, sec.user_id, start(response, cycle), now)
    with pytest.raises(ServiceError) as empty:
        await review_response(db, sec, response, accept=False, comment=" ", now=now, today=day,
                              from_draft=True)  # fmt: skip
    assert empty.value.code == "form.comment.empty"
    assert await get_draft(db, sec.user_id) is not None  # a refusal keeps it
    buttons = [[("修改", "cb:fo:1:0")]]
    status = await review_response(db, sec, response, accept=False, comment="请补充照片",
                                   now=now, today=day, note_html="退回：请补充照片",
                                   note_buttons=buttons, from_draft=True)  # fmt: skip
    assert status == "returned"
    assert await get_draft(db, sec.user_id) is None
    with pytest.raises(ServiceError) as twice:
        await review_response(db, sec, response, accept=False, comment="请补充照片", now=now,
                              today=day, from_draft=True)  # fmt: skip
    assert twice.value.code == "stale"
    # Not the propaganda member of another branch, not the instructor.
    for outsider in (w.people["prop_b"], w.people["instructor"]):
        with pytest.raises(ServiceError) as denied:
            await review_response(db, outsider, response, accept=True, now=now, today=day)
        assert denied.value.code == "auth.denied"
    await review_response(db, sec, response, accept=True, now=now, today=day,
                          note_html="已通过")  # fmt: skip
    async with db.read() as s:
        notes = (await s.scalars(select(OutboxItem).where(OutboxItem.purpose == "text")
                                 .order_by(OutboxItem.id))).all()  # fmt: skip
    assert [(n.chat_id, n.payload["html"]) for n in notes] == [
        (w.people["wang"].user_id, "退回：请补充照片"),
        (w.people["wang"].user_id, "已通过"),
    ]
    assert notes[0].payload["buttons"] == [[["修改", "cb:fo:1:0"]]]


async def test_an_accepted_member_update_writes_the_roster_back_audited(
    db: Database, clock: FakeClock
) -> None:
    w = await world(db, clock)
    t = w.t
    questions = (
        Question(QType.PHONE, "手机号", roster=ROSTER_PHONE),
        Question(QType.SHORT, "工作单位", roster=ROSTER_UNIT),
    )
    cycle = (
        await publish_form(
            db, w.people["sec_a"],
            spec(t.branch_a, (t.branch_a,), clock, questions=questions, kind=FormKind.MEMBER),
            now=clock.now(), today=today(clock),
        )
    ).cycle.id  # fmt: skip
    await submit_response(db, w.people["wang"], cycle, {0: "13700137000", 1: "软件园甲公司"},
                          now=clock.now(), today=today(clock))  # fmt: skip
    response = await _response(db, w, "wang")
    view = await answer_view(db, w.people["sec_a"], response, today(clock))
    assert [(c.field, c.old, c.new) for c in view.roster] == [
        ("phone", "", "13700137000"),
        ("unit", "", "软件园甲公司"),
    ]
    # The same phone on another member of the branch: refused, nothing written.
    await submit_response(db, w.people["li"], cycle, {0: "13700137000", 1: "软件园甲公司"},
                          now=clock.now(), today=today(clock))  # fmt: skip
    await review_response(db, w.people["sec_a"], response, accept=True, now=clock.now(),
                          today=today(clock))  # fmt: skip
    with pytest.raises(ServiceError) as taken:
        await review_response(db, w.people["sec_a"], await _response(db, w, "li"), accept=True,
                              now=clock.now(), today=today(clock))  # fmt: skip
    assert taken.value.code == "form.roster.phone_taken"
    async with db.read() as s:
        wang = await s.get(Member, w.ids["wang"])
        assert wang is not None
        unit = await s.get(Unit, wang.unit_id)
        entries = (await s.scalars(select(AuditEntry).where(
            AuditEntry.action == "member.form_update"))).all()  # fmt: skip
        units = (await s.scalars(select(Unit))).all()
    assert wang.phone == "13700137000"
    assert unit is not None
    assert (unit.name, unit.org_id) == ("软件园甲公司", t.branch_a)
    assert len(units) == 1  # matched by name the second time, not created twice
    assert [(e.target_id, e.before, e.after) for e in entries] == [
        (str(w.ids["wang"]), {"phone": "", "unit": ""},
         {"phone": "13700137000", "unit": "软件园甲公司", "form_response": response}),
    ]  # fmt: skip


async def _export(db: Database, actor: Actor, cycle: int, day: object, tmp: Path) -> Path:
    plan = await export_plan(db, actor, cycle, day)  # type: ignore[arg-type]
    path = tmp / "out.xlsx"
    await write_export(CATALOG, "zh_CN", plan, export_rows(db, plan), TZ, path)
    return path


def _sheet(path: Path, index: int) -> list[list[object]]:
    book = load_workbook(path)
    return [list(r) for r in book.worksheets[index].iter_rows(values_only=True)]


async def test_the_export_cell_by_cell(db: Database, clock: FakeClock, tmp_path: Path) -> None:
    w = await world(db, clock)
    cycle = await publish(db, clock, w)
    await answer_all(db, clock, w, cycle)
    path = await _export(db, w.admin, cycle, today(clock), tmp_path)
    book = load_workbook(path)
    assert book.sheetnames == ["填报明细", "第6题明细", "分支部汇总"]
    answers = _sheet(path, 0)
    assert answers[0] == ["支部", "姓名", "提交时间", "迟报", "本期无情况", "1. 参加人数",
                          "2. 活动形式", "3. 是否开展主题党日", "4. 联系电话", "5. 活动照片",
                          "6. 志愿者", "7. 参加人员"]  # fmt: skip
    submitted = (clock.now() - timedelta(days=6)).astimezone(TZ).strftime("%Y-%m-%d %H:%M")
    late = clock.now().astimezone(TZ).strftime("%Y-%m-%d %H:%M")
    assert answers[1:] == [
        ["乙公司联合党支部", "赵宣传", submitted, "否", "否", 5, "志愿服务", "是", "13900139000",
         None, None, None],
        ["乙公司联合党支部", "韩梅梅", late, "是", "否", 3, "参观", "是", None, None, None, None],
        ["甲公司党支部", "王芳", submitted, "否", "否", 8, "志愿服务", "否", None, None, None,
         None],
        ["甲公司党支部", "陈书记", submitted, "否", "否", 12, "学习", "是", "13800138000",
         "活动.jpg", 2, "王芳、李雷"],
    ]  # fmt: skip
    assert _sheet(path, 1) == [
        ["支部", "姓名", "行号", "姓名", "时长"],
        ["甲公司党支部", "陈书记", 1, "王芳", "2.5"],
        ["甲公司党支部", "陈书记", 2, "李雷", None],
    ]
    totals = _sheet(path, 2)
    assert totals[0] == ["支部", "应报", "已报", "迟报数", "未报", "1. 参加人数（合计）",
                         "2. 学习", "2. 志愿服务", "2. 参观", "3. 否", "3. 是"]  # fmt: skip
    assert totals[1:] == [
        ["乙公司联合党支部", 2, 2, 1, 0, 8, 0, 1, 1, 0, 2],
        ["甲公司党支部", 3, 2, 0, 1, 20, 1, 1, 0, 1, 1],
        ["合计", 5, 4, 1, 1, 28, 1, 2, 1, 1, 3],
    ]
    branch_rows, total = totals[1:-1], totals[-1]
    for column in range(1, len(total)):
        assert total[column] == sum(r[column] for r in branch_rows)  # type: ignore[misc]
    # A branch's propaganda member: their branch only, and no phone in it.
    path = await _export(db, w.people["prop_b"], cycle, today(clock), tmp_path)
    rows = _sheet(path, 0)
    assert [r[1] for r in rows[1:]] == ["赵宣传", "韩梅梅"]
    assert all(r[8] is None for r in rows[1:])
    # The instructor: only what the answers add up to.
    path = await _export(db, w.people["instructor"], cycle, today(clock), tmp_path)
    assert load_workbook(path).sheetnames == ["分支部汇总"]
    assert _sheet(path, 0)[-1] == ["合计", 5, 4, 1, 1, 28, 1, 2, 1, 1, 3]
    # Sending it is one intent: the file queued to the reader and the audit row.
    plan = await export_plan(db, w.admin, cycle, today(clock))
    await queue_export(db, w.admin, plan, filename="x.xlsx", data=b"xlsx", caption_html="c",
                       now=clock.now(), today=today(clock))  # fmt: skip
    with pytest.raises(ServiceError):
        await export_plan(db, w.people["wang"], cycle, today(clock))
    async with db.read() as s:
        item = await s.scalar(select(OutboxItem).where(OutboxItem.purpose == "file"))
        audited = (await s.scalars(select(AuditEntry.action))).all()
    assert item is not None
    assert item.chat_id == w.admin.user_id
    assert "form.export" in audited


async def test_an_anonymous_export_has_aggregates_only_and_needs_five_answers(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    w = await world(db, clock)
    evaluation = (Question(QType.SINGLE, "评议等次", choices=("优秀", "合格", "不合格")),)
    cycle = await publish(db, clock, w, questions=evaluation, anonymous=True)
    keys = ["sec_a", "wang", "li", "prop_b"]
    for n, key in enumerate(keys):
        await submit_response(db, w.people[key], cycle, {0: n % 2}, now=clock.now(),
                              today=today(clock))  # fmt: skip
    with pytest.raises(ServiceError) as few:
        await export_plan(db, w.admin, cycle, today(clock))
    assert few.value.code == "form.export.too_few"
    await submit_response(db, w.people["han"], cycle, {0: 2}, now=clock.now(), today=today(clock))
    path = await _export(db, w.admin, cycle, today(clock), tmp_path)
    assert load_workbook(path).sheetnames == ["分支部汇总"]
    rows = _sheet(path, 0)
    # Each branch has fewer than five answers: merged into one row, no names anywhere.
    assert rows[1:] == [
        ["其余 2 个支部（每个不足5份，合并统计）", 5, 5, 0, 0, 2, 2, 1],
        ["合计", 5, 5, 0, 0, 2, 2, 1],
    ]


async def test_a_repeating_form_switches_between_its_cycles(db: Database, clock: FakeClock) -> None:
    w = await world(db, clock)
    cycle = await publish(db, clock, w, repeat=Repeat.MONTHLY, due_day=5)
    async with db.transaction() as s:
        later = FormCycle(form_id=(await s.get(FormCycle, cycle)).form_id,  # type: ignore[union-attr]
                          key="2026-12", opens_at=clock.now(), deadline=clock.now(),
                          counts_dirty=False, created_at=clock.now())  # fmt: skip
        s.add(later)
        await s.flush()
        later_id = later.id
    screen = await results_screen(db, w.admin, cycle, today(clock))
    assert [c.key for c in screen.cycles] == ["2026-12", "2026-11"]
    text, markup = render_cycles(CATALOG, "zh_CN", screen)
    assert "各期" in text
    assert markup is not None
    labels = [(b.text, b.callback_data) for row in markup.inline_keyboard for b in row]
    assert labels[:2] == [("（2026-12）", f"fr:{later_id}:0"), ("• （2026-11）", f"fr:{cycle}:0")]
    # The list shows the latest cycle's progress.
    assert [i.cycle_key for i in (await visible_forms(db, w.admin, today(clock))).items] == [
        "2026-12"
    ]
