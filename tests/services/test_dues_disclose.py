"""党费公示 against a real database: the draft's figures, publishing once as a notice with the
chart after it, the audited amounts switch, the keepers' reminder exactly once, and the
overdue flag in the committee's compliance table."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, date, datetime

import openpyxl
import pytest
from sqlalchemy import func, select

from domain.dues import months_between
from domain.dues_disclose import DisclosureDraft, State
from domain.notices import BODY_MAX
from domain.orgs import Level, Role
from scheduler.jobs import JobRunner
from services.authz import Actor
from services.compliance import committee_tables
from services.drafts import keep_draft, open_draft
from services.dues_disclose import (
    BRANCH_REMINDER_JOB,
    REMINDER_JOB,
    disclosure,
    publish_disclosure,
    set_show_amounts,
)
from services.errors import Denied, ServiceError
from services.notices import Audience, NoticeView, get_notice
from storage.db import Database
from storage.models import (
    AuditEntry,
    ChatBinding,
    DuesDisclosure,
    DuesEntry,
    DuesExemption,
    DuesRemittance,
    DuesStandard,
    JobRun,
    Notice,
    OutboxItem,
)
from tests.conftest import FakeClock
from tests.services.factories import BASE_UID, member, office, org
from tests.services.test_dues_cycle import deps_for, user
from ui.compliance import committee_xlsx, table_caption
from ui.dues_disclose import render_post
from ui.notices import render_notice

GROUP = -100_777_000_111
OCTOBER = datetime(2026, 10, 3, 2, tzinfo=UTC)  # 10:00 in Shanghai


@pytest.fixture(autouse=True)
def in_october(clock: FakeClock) -> None:
    clock.set(OCTOBER)


@dataclass
class World:
    committee: int
    branch: int
    uids: dict[str, int]
    members: dict[str, int]


async def world(db: Database, clock: FakeClock, *, group: bool = True) -> World:
    """甲支部 (bound group): a secretary, a deputy, the organization member who keeps the dues;
    王芳 paid to June, 李娜 ahead to June 2027, 赵强 exempt from July, 孙丽 no standard."""
    committee = await org(db, clock, "两新工委", Level.COMMITTEE, None)
    branch = await org(db, clock, "甲支部", Level.BRANCH, committee)
    names = ("sec", "deputy", "keeper", "wang", "li", "zhao", "sun")
    uids = {name: await user(db, clock, BASE_UID + i) for i, name in enumerate(names, 1)}
    members: dict[str, int] = {}
    for key, name, role in (("sec", "陈书记", Role.SECRETARY), ("deputy", "周副书记", Role.DEPUTY),
                            ("keeper", "刘委员", Role.ORGANIZATION)):  # fmt: skip
        members[key] = await member(db, clock, branch, name, user_id=uids[key])
        await office(db, clock, branch, role, member_id=members[key], start_on=date(2026, 1, 1))
    for key, name in (("wang", "王芳"), ("li", "李娜"), ("zhao", "赵强"), ("sun", "孙丽")):
        members[key] = await member(db, clock, branch, name, user_id=uids[key])
    now = clock.now()
    async with db.transaction() as s:
        if group:
            s.add(ChatBinding(chat_id=GROUP, org_id=branch, purpose="main", active=True,
                              topic_id=None, bound_at=now))  # fmt: skip
        for key in ("wang", "li", "zhao"):
            s.add(DuesStandard(member_id=members[key], org_id=branch, category="working",
                               permille=15, amount_fen=8_100, from_month=202601,
                               status="confirmed", declared_at=now))  # fmt: skip
        s.add(DuesExemption(member_id=members["zhao"], org_id=branch, amount_fen=0,
                            from_month=202607, until_month=202612, reason="困难",
                            agreed_on=date(2026, 6, 20), approved_by="两新工委",
                            recorded_by=uids["keeper"], recorded_at=now))  # fmt: skip
        for key, last in (("wang", 202606), ("li", 202706), ("zhao", 202606)):
            for month in months_between(202601, last):
                s.add(DuesEntry(member_id=members[key], org_id=branch, month=month,
                                amount_fen=8_100, kind="dues", recorded_by=1,
                                recorded_at=now))  # fmt: skip
        s.add(DuesRemittance(org_id=branch, to_org_id=committee, from_month=202607,
                             until_month=202609, amount_fen=20_000, paid_on=date(2026, 10, 2),
                             recorded_by=uids["keeper"], recorded_at=now))  # fmt: skip
    return World(committee, branch, uids, members)


def actor(w: World, key: str) -> Actor:
    return Actor(user_id=w.uids[key])


async def _draft(db: Database, clock: FakeClock, w: World, key: str, period: str = "2026-Q3",
                 show: bool = False) -> None:  # fmt: skip
    draft = DisclosureDraft(step="pre", org_id=w.branch, period_key=period, show_amounts=show)
    await keep_draft(db, w.uids[key], draft, clock.now())


async def test_the_draft_shows_statuses_by_name_and_no_amounts(
    db: Database, clock: FakeClock
) -> None:
    w = await world(db, clock)
    data = await disclosure(db, actor(w, "keeper"), w.branch, "2026-Q3", clock.now().date())
    # By name; 孙丽 (no standard) and the officers without one are not listed.
    assert [line.name for line in data.lines] == ["李娜", "王芳", "赵强"]
    states = {line.name: (line.status.state, line.status.paid_through) for line in data.lines}
    assert states == {"李娜": (State.ADVANCE, 202706), "王芳": (State.ARREARS, 202606),
                      "赵强": (State.EXEMPT, 202609)}  # fmt: skip
    assert data.lines[1].status.owed_months == 3
    assert all(line.paid_fen is None for line in data.lines)
    # Q3: 王芳 and 李娜 owe 81.00 a month (赵强 exempt); only 李娜 paid; 200.00 remitted.
    assert (data.due_fen, data.paid_fen, data.remitted_fen) == (48_600, 24_300, 20_000)
    assert [(m.month, m.due_fen, m.paid_fen) for m in data.months] == [
        (202607, 16_200, 8_100), (202608, 16_200, 8_100), (202609, 16_200, 8_100)
    ]  # fmt: skip
    # The secretary sees it too; a member, the deputy and an outsider do not.
    await disclosure(db, actor(w, "sec"), w.branch, "2026-Q3", clock.now().date())
    for key in ("wang", "deputy"):
        with pytest.raises(Denied):
            await disclosure(db, actor(w, key), w.branch, "2026-Q3", clock.now().date())


async def test_publishing_queues_the_notice_then_the_chart_once(
    db: Database, clock: FakeClock
) -> None:
    w = await world(db, clock)
    deps = deps_for(db, clock)
    keeper, today = actor(w, "keeper"), clock.now().date()
    data = await disclosure(db, keeper, w.branch, "2026-Q3", today)
    post = render_post(deps.catalog, "zh_CN", data)
    assert post.chart_png.startswith(b"\x89PNG")
    # Without the previewed draft (or a draft for another period), nothing is published.
    with pytest.raises(ServiceError, match="stale"):
        await publish_disclosure(db, keeper, post, now=clock.now(), today=today)
    await _draft(db, clock, w, "keeper", "2026-Q2")
    with pytest.raises(ServiceError, match="stale"):
        await publish_disclosure(db, keeper, post, now=clock.now(), today=today)
    await _draft(db, clock, w, "keeper")
    done = await publish_disclosure(db, keeper, post, now=clock.now(), today=today)
    assert done.title == "甲支部关于2026年第三季度党费收缴情况的公示"
    assert (done.groups, done.expected) == (1, 7)
    notice = await get_notice(db, done.notice_id)
    assert (notice.category, notice.ack_label) == ("announcement", "received")
    assert "王芳　交至6月　欠交 3 个月" in notice.body_html
    assert "元" not in notice.body_html.split("\n\n")[1]  # the members' lines
    async with db.read() as s:
        items = (await s.scalars(select(OutboxItem).order_by(OutboxItem.id))).all()
        row = (await s.scalars(select(DuesDisclosure))).one()
        actions = list((await s.scalars(select(AuditEntry.action))).all())
    assert [(i.purpose, i.chat_id) for i in items] == [("notice", GROUP), ("file", GROUP)]
    assert items[1].payload["as_photo"] is True
    assert (row.period_key, row.notice_id, row.show_amounts) == ("2026-Q3", done.notice_id, False)
    assert actions.count("dues.disclose.publish") == 1
    assert actions.count("notice.publish") == 1
    assert await open_draft(db, w.uids["keeper"], DisclosureDraft) is None
    # The same press again, and the secretary publishing the same period: refused.
    with pytest.raises(ServiceError, match="stale"):
        await publish_disclosure(db, keeper, post, now=clock.now(), today=today)
    await _draft(db, clock, w, "sec")
    with pytest.raises(ServiceError, match="already") as refused:
        await publish_disclosure(db, actor(w, "sec"), post, now=clock.now(), today=today)
    assert refused.value.params["published_at"] == clock.now()
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(Notice)) == 1
    assert (await disclosure(db, keeper, w.branch, "2026-Q3", today)).published is not None


async def test_a_member_or_the_deputy_cannot_publish(db: Database, clock: FakeClock) -> None:
    w = await world(db, clock)
    deps = deps_for(db, clock)
    data = await disclosure(db, actor(w, "keeper"), w.branch, "2026-Q3", clock.now().date())
    post = render_post(deps.catalog, "zh_CN", data)
    for key in ("wang", "deputy"):
        await _draft(db, clock, w, key)
        with pytest.raises(Denied):
            await publish_disclosure(db, actor(w, key), post, now=clock.now(),
                                     today=clock.now().date())  # fmt: skip
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(DuesDisclosure)) == 0


async def test_without_a_group_nothing_is_published_and_the_draft_stays(
    db: Database, clock: FakeClock
) -> None:
    w = await world(db, clock, group=False)
    deps = deps_for(db, clock)
    data = await disclosure(db, actor(w, "keeper"), w.branch, "2026-Q3", clock.now().date())
    await _draft(db, clock, w, "keeper")
    with pytest.raises(ServiceError, match="no_group"):
        await publish_disclosure(db, actor(w, "keeper"), render_post(deps.catalog, "zh_CN", data),
                                 now=clock.now(), today=clock.now().date())  # fmt: skip
    assert await open_draft(db, w.uids["keeper"], DisclosureDraft) is not None
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(Notice)) == 0


async def test_amounts_are_switched_by_the_keeper_only_and_audited(
    db: Database, clock: FakeClock
) -> None:
    w = await world(db, clock)
    deps, today, now = deps_for(db, clock), clock.now().date(), clock.now()
    for key in ("wang", "sec"):
        with pytest.raises(Denied):
            await set_show_amounts(db, actor(w, key), w.branch, True, now=now, today=today)
    # A preview without amounts, then the keeper switches them on: that preview is refused.
    before = await disclosure(db, actor(w, "keeper"), w.branch, "2026-Q3", today)
    await _draft(db, clock, w, "keeper", show=False)
    assert await set_show_amounts(db, actor(w, "keeper"), w.branch, True, now=now, today=today)
    with pytest.raises(ServiceError, match="mode_changed"):
        await publish_disclosure(db, actor(w, "keeper"),
                                 render_post(deps.catalog, "zh_CN", before), now=now,
                                 today=today)  # fmt: skip
    data = await disclosure(db, actor(w, "keeper"), w.branch, "2026-Q3", today)
    assert data.show_amounts
    assert {line.name: line.paid_fen for line in data.lines} == {"李娜": 24_300, "王芳": 0,
                                                                 "赵强": 0}  # fmt: skip
    post = render_post(deps.catalog, "zh_CN", data)
    assert "李娜　交至2027年6月　预交至2027年6月　本期 243.00 元" in post.body_html
    await _draft(db, clock, w, "keeper", show=True)
    await publish_disclosure(db, actor(w, "keeper"), post, now=now, today=today)
    # Switching twice to the same value records nothing more.
    assert await set_show_amounts(db, actor(w, "keeper"), w.branch, True, now=now, today=today)
    assert not await set_show_amounts(db, actor(w, "keeper"), w.branch, False, now=now,
                                      today=today)  # fmt: skip
    async with db.read() as s:
        audits = (
            await s.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "dues.disclose.amounts")
                .order_by(AuditEntry.id)
            )
        ).all()
        shown = (await s.scalars(select(DuesDisclosure.show_amounts))).one()
    assert [(a.before, a.after) for a in audits] == [
        ({"show_amounts": False}, {"show_amounts": True}),
        ({"show_amounts": True}, {"show_amounts": False}),
    ]
    assert [a.actor_id for a in audits] == [w.uids["keeper"]] * 2
    assert shown is True


async def test_a_300_member_branch_fits_telegram(db: Database, clock: FakeClock) -> None:
    committee = await org(db, clock, "两新工委", Level.COMMITTEE, None)
    branch = await org(db, clock, "大支部", Level.BRANCH, committee)
    now = clock.now()
    ids = [await member(db, clock, branch, f"党员{i:03d}号同志") for i in range(300)]
    async with db.transaction() as s:
        for member_id in ids:
            s.add(DuesStandard(member_id=member_id, org_id=branch, category="working",
                               permille=15, amount_fen=8_100, from_month=202601,
                               status="confirmed", declared_at=now))  # fmt: skip
    data = await disclosure(db, Actor(0, superadmin=True), branch, "2026", date(2027, 1, 5))
    deps = deps_for(db, clock)
    post = render_post(deps.catalog, "zh_CN", data)
    assert len(post.body_html) <= BODY_MAX
    view = _as_notice(post.title, post.body_html)
    rendered = render_notice(deps.catalog, "zh_CN", view, tz=deps.settings.timezone, now=now,
                             counts=(0, 300))  # fmt: skip
    assert len(rendered.parts) >= 2
    assert all(len(part) <= 4096 for part in rendered.parts)
    text = "".join(rendered.parts)
    assert all(f"党员{i:03d}号同志" in text for i in range(300))


def _as_notice(title: str, body: str) -> NoticeView:
    return NoticeView(1, 1, 1, "announcement", title, body, None, None, False, "received", None,
                      OCTOBER, "sent", 1, Audience((1,)))  # fmt: skip


async def test_the_keeper_is_reminded_once_when_the_quarter_ends(
    db: Database, clock: FakeClock
) -> None:
    w = await world(db, clock)
    other = await org(db, clock, "乙支部", Level.BRANCH, w.committee)  # keeps no dues here
    other_keeper = await user(db, clock, BASE_UID + 50)
    await office(db, clock, other, Role.ORGANIZATION, user_id=other_keeper,
                 start_on=date(2026, 1, 1))  # fmt: skip
    due = datetime(2026, 10, 1, 1, tzinfo=UTC)  # 09:00 in Shanghai
    clock.set(due)
    deps = deps_for(db, clock)
    assert await JobRunner(deps).run_at(REMINDER_JOB, due) == 1
    assert await JobRunner(deps).run_at(REMINDER_JOB, due) == 0  # a second tick, a restart
    async with db.read() as s:
        items = (await s.scalars(select(OutboxItem))).all()
        keys = (await s.scalars(select(JobRun.key).where(JobRun.job == BRANCH_REMINDER_JOB))).all()
    assert [i.chat_id for i in items] == [w.uids["keeper"]]
    assert "2026年第三季度已经结束" in items[0].payload["html"]
    assert items[0].payload["buttons"][0][0][1] == f"cb:dxo:{w.branch}"
    assert keys == [f"{w.branch}:2026-Q3"]
    # Not on another day; not for a branch that published already.
    assert await JobRunner(deps).run_at(REMINDER_JOB, datetime(2026, 11, 1, 1, tzinfo=UTC)) == 0
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(OutboxItem)) == 1


async def test_an_unpublished_disclosure_is_overdue_in_the_compliance_table(
    db: Database, clock: FakeClock
) -> None:
    w = await world(db, clock)
    late = await org(db, clock, "乙支部", Level.BRANCH, w.committee)  # standard from October
    newcomer = await member(db, clock, late, "钱进")
    async with db.transaction() as s:
        s.add(DuesStandard(member_id=newcomer, org_id=late, category="student", permille=0,
                           amount_fen=20, from_month=202610, status="confirmed",
                           declared_at=clock.now()))  # fmt: skip

    async def overdue() -> dict[str, str | None]:
        async with db.read() as s:
            tables = await committee_tables(s, [w.committee], month=date(2026, 10, 31),
                                            default_tz="Asia/Shanghai")  # fmt: skip
        return {
            r.name: r.dues_overdue.key if r.dues_overdue else None for r in tables[w.committee].rows
        }

    assert await overdue() == {"甲支部": "2026-Q3", "乙支部": None}
    # The committee's monthly table says so in its last column and its caption.
    deps = deps_for(db, clock)
    async with db.read() as s:
        table = (await committee_tables(s, [w.committee], month=date(2026, 10, 31),
                                        default_tz="Asia/Shanghai"))[w.committee]  # fmt: skip
    sheet = openpyxl.load_workbook(io.BytesIO(committee_xlsx(deps.catalog, "zh_CN", table))).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[2][-1] == "党费公示逾期"
    assert {r[1]: r[13] for r in rows[3:-1]} == {"甲支部": "2026年第三季度", "乙支部": None}
    assert "党费公示逾期：1 个支部" in table_caption(deps.catalog, "zh_CN", table)
    data = await disclosure(db, actor(w, "keeper"), w.branch, "2026-Q3", clock.now().date())
    await _draft(db, clock, w, "keeper")
    await publish_disclosure(db, actor(w, "keeper"), render_post(deps.catalog, "zh_CN", data),
                             now=clock.now(), today=clock.now().date())  # fmt: skip
    assert await overdue() == {"甲支部": None, "乙支部": None}
