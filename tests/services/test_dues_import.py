"""批量设置标准 against a real database: the dry run writes nothing, 确认导入 confirms every
standard (superseding the member's from that month), keeps no base, audits once, tells each
member in their language; a second press, a member, another branch's keeper are refused;
a 5,000-row sheet previews quickly."""

from __future__ import annotations

import csv
import io
import time
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select, update

from domain.dues_import import BulkDraft
from domain.orgs import Role
from services.authz import Actor
from services.dues_import import (
    Applied,
    apply_standards,
    open_standards_import,
    preview_standards,
    start_standards_import,
)
from services.errors import ServiceError
from storage.db import Database
from storage.models import AuditEntry, DuesStandard, Member, OutboxItem, User
from tests.conftest import FakeClock
from tests.services.factories import BASE_UID, linked_member, member, today, tree

THIS = 202701


def xlsx(*rows: list[Any], title: str | None = None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    if title is not None:  # a merged title line above the header, as branches make them
        sheet.append([title])
        sheet.merge_cells("A1:E1")
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


HEADER = ["姓名", "类别", "月缴金额(元)", "月收入基数(元)", "起始月份"]


def notes_for(keys: Any) -> dict[Any, dict[str, str]]:
    return {k: {"zh_CN": f"标准 {k[1]}", "en": f"standard {k[1]}"} for k in keys}


async def _preview(db: Database, clock: FakeClock, actor: Actor, org: int, content: bytes,
                   name: str = "标准.xlsx") -> BulkDraft:  # fmt: skip
    await start_standards_import(db, actor, org, now=clock.now(), today=today(clock))
    return await preview_standards(db, actor, name, content, this_month=THIS, now=clock.now(),
                                   today=today(clock))  # fmt: skip


async def _apply(db: Database, clock: FakeClock, actor: Actor) -> Applied:
    draft = await open_standards_import(db, actor)
    keys = [line.key for line in draft.lines] if draft else []
    return await apply_standards(db, actor, member_notes=notes_for(keys), default_locale="zh_CN",
                                 now=clock.now(), today=today(clock))  # fmt: skip


async def test_preview_then_apply(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    keeper, _ = await linked_member(db, clock, t.branch_a, BASE_UID + 1, "组织委员",
                                    role=Role.ORGANIZATION)  # fmt: skip
    _, wang = await linked_member(db, clock, t.branch_a, BASE_UID + 2, "王芳")
    _, li = await linked_member(db, clock, t.branch_a, BASE_UID + 3, "Li Ming")
    zhao = await member(db, clock, t.branch_a, "赵六")  # not using the bot: not told
    async with db.transaction() as s:
        await s.execute(update(User).values(started=True))  # they opened the bot
        await s.execute(update(User).where(User.id == BASE_UID + 3).values(locale="en"))
        s.add(DuesStandard(member_id=wang, org_id=t.branch_a, category="working", permille=10,
                           amount_fen=4_000, from_month=202601, status="confirmed",
                           declared_at=clock.now()))  # fmt: skip
        s.add(DuesStandard(member_id=wang, org_id=t.branch_a, category="working", permille=10,
                           amount_fen=4_500, from_month=202703, status="confirmed",
                           declared_at=clock.now()))  # fmt: skip
    content = xlsx(HEADER, ["王芳", "在职职工", "", "5400", "2027-02"],
                   ["Li Ming", "student", "0.20", "", ""], ["赵六", "退休", "", "4000", ""],
                   ["查无此人", "在职", "", "5000", ""], title="2027年党费标准")  # fmt: skip
    draft = await _preview(db, clock, keeper, t.branch_a, content)
    assert (draft.new_count, draft.changed_count, draft.unchanged) == (2, 1, 0)
    assert [(p.line, p.code) for p in draft.problems] == [(6, "dues.bulk.unknown")]
    async with db.read() as s:  # a dry run: nothing written
        assert await s.scalar(select(func.count()).select_from(DuesStandard)) == 2
    applied = await _apply(db, clock, keeper)
    assert (applied.new, applied.changed, applied.told) == (2, 1, 2)
    async with db.read() as s:
        rows = (await s.execute(
            select(DuesStandard.member_id, DuesStandard.from_month, DuesStandard.amount_fen,
                   DuesStandard.status, DuesStandard.base_fen, DuesStandard.decided_by)
            .order_by(DuesStandard.id))).all()  # fmt: skip
        outbox = await s.execute(select(OutboxItem.chat_id, OutboxItem.payload))
        told: dict[int, Any] = {chat: payload for chat, payload in outbox.all()}
        audits = (await s.execute(select(AuditEntry.action, AuditEntry.after)
                                  .where(AuditEntry.action.like("dues.%")))).all()  # fmt: skip
    assert [tuple(r) for r in rows] == [
        (wang, 202601, 4_000, "confirmed", None, None),  # before 2027-02: still in force
        (wang, 202703, 4_500, "superseded", None, None),  # a later one: superseded
        (wang, 202702, 8_100, "confirmed", None, keeper.user_id),
        (li, THIS, 20, "confirmed", None, keeper.user_id),
        (zhao, THIS, 2_000, "confirmed", None, keeper.user_id),
    ]  # fmt: skip
    assert told[BASE_UID + 2]["html"] == "标准 8100"
    assert told[BASE_UID + 3]["html"] == "standard 20"  # in the member's own language
    assert len(audits) == 1
    assert audits[0][0] == "dues.standard.import"
    assert (audits[0][1]["new"], audits[0][1]["problems"]) == (2, 1)
    assert not any(base in str(audits) for base in ("540000", "400000"))  # no base kept
    # A second 确认导入 finds no draft.
    with pytest.raises(ServiceError) as twice:
        await apply_standards(db, keeper, member_notes={}, default_locale="zh_CN",
                              now=clock.now(), today=today(clock))  # fmt: skip
    assert twice.value.code == "stale"
    # The same sheet again: everything unchanged, nothing to apply.
    again = await _preview(db, clock, keeper, t.branch_a, content)
    assert (again.new_count, again.changed_count, again.unchanged) == (0, 0, 3)


async def test_refusals_and_bad_files(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    keeper, _ = await linked_member(db, clock, t.branch_a, BASE_UID + 1, "组织委员",
                                    role=Role.DUES_KEEPER)  # fmt: skip
    other, _ = await linked_member(db, clock, t.branch_b, BASE_UID + 2, "别的委员",
                                   role=Role.ORGANIZATION)  # fmt: skip
    plain, _ = await linked_member(db, clock, t.branch_a, BASE_UID + 3, "王芳")
    for intruder in (plain, other):
        with pytest.raises(ServiceError) as denied:
            await start_standards_import(db, intruder, t.branch_a, now=clock.now(),
                                         today=today(clock))  # fmt: skip
        assert denied.value.code == "auth.keep_dues"
    with pytest.raises(ServiceError) as no_draft:  # a file before 批量设置标准
        await preview_standards(db, keeper, "a.xlsx", xlsx(HEADER), this_month=THIS,
                                now=clock.now(), today=today(clock))  # fmt: skip
    assert no_draft.value.code == "stale"
    await start_standards_import(db, keeper, t.branch_a, now=clock.now(), today=today(clock))
    cases = [("a.docx", b"PK\x03\x04 not a workbook", "dues.bulk.file_corrupt"),
             ("a.pdf", b"%PDF-1.4", "dues.bulk.file_type"),
             ("a.xls", b"\xd0\xcf\x11\xe0 old", "dues.bulk.file_old_excel"),
             ("a.xlsx", xlsx(["名字"], ["王芳"]), "dues.bulk.file_missing_column"),
             ("a.xlsx", xlsx(HEADER), "dues.bulk.file_no_rows")]  # fmt: skip
    for name, content, code in cases:
        with pytest.raises(ServiceError) as bad:
            await preview_standards(db, keeper, name, content, this_month=THIS,
                                    now=clock.now(), today=today(clock))  # fmt: skip
        assert bad.value.code == code, name
    # A GBK CSV with English headers reads too.
    text = io.StringIO()
    csv.writer(text).writerows([["Name", "Category", "Monthly dues (yuan)"], ["王芳", "学生", ""]])
    gbk = text.getvalue().encode("gbk")
    draft = await preview_standards(db, keeper, "标准.csv", gbk, this_month=THIS,
                                    now=clock.now(), today=today(clock))  # fmt: skip
    assert draft.new_count == 1
    # The keeper lost the office before pressing 确认导入: refused, nothing written.
    async with db.transaction() as s:
        from storage.models import RoleAssignment

        await s.execute(update(RoleAssignment).values(end_on=today(clock).replace(year=2000)))
    with pytest.raises(ServiceError):
        await _apply(db, clock, keeper)
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(DuesStandard)) == 0


async def test_five_thousand_rows_preview_quickly(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    keeper, _ = await linked_member(db, clock, t.branch_a, BASE_UID + 1, "组织委员",
                                    role=Role.ORGANIZATION)  # fmt: skip
    async with db.transaction() as s:
        from domain.orgs import Stage, Status

        await s.run_sync(lambda sync: sync.execute(Member.__table__.insert(), [  # type: ignore[attr-defined]
            {"org_id": t.branch_a, "name": f"党员{n:04d}", "stage": Stage.FULL,
             "status": Status.ACTIVE, "source": "import", "created_at": clock.now(),
             "updated_at": clock.now()} for n in range(5_000)]))  # fmt: skip
    rows = [HEADER] + [[f"党员{n:04d}", "在职", "", str(3_000 + n), "2027-01"]
                       for n in range(5_000)]  # fmt: skip
    content = xlsx(*rows)
    started = time.perf_counter()
    draft = await _preview(db, clock, keeper, t.branch_a, content)
    took = time.perf_counter() - started
    print(f"\n5,000-row standards sheet previewed in {took:.2f} s")
    assert (draft.new_count, draft.problem_count) == (5_000, 0)
    assert took < 10  # well under a few seconds alone; generous for loaded CI cores
    started = time.perf_counter()
    applied = await _apply(db, clock, keeper)
    print(f"5,000 standards applied in {time.perf_counter() - started:.2f} s")
    assert applied.new == 5_000
