"""Dues ledgers against a real database: the 党费交纳登记表 checked cell by cell (workbook
included), the committee's roll-up (due, paid, rate, arrears buckets), and who may have which."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import openpyxl
import pytest
from sqlalchemy import select

from domain.orgs import Role
from services.dues_ledger import (
    branch_register,
    committee_rollup,
    queue_ledger_file,
)
from services.errors import ServiceError
from storage.db import Database
from storage.models import AuditEntry, DuesEntry, DuesExemption, DuesStandard, OutboxItem
from tests.conftest import FakeClock
from tests.services.factories import BASE_UID, linked_member, member, office, person, today, tree
from ui.dues_ledger import register_xlsx, rollup_chart, rollup_text
from ui.i18n import Catalog


def _catalog() -> Catalog:
    from pathlib import Path

    return Catalog.load(Path("bot/locales"), "zh_CN")


async def _entries(db: Database, clock: FakeClock, member_id: int, org_id: int,
                   lines: list[tuple[int | None, int, str]]) -> None:  # fmt: skip
    async with db.transaction() as s:
        for month, amount, kind in lines:
            s.add(DuesEntry(member_id=member_id, org_id=org_id, month=month, amount_fen=amount,
                            kind=kind, to_centre=False, recorded_by=BASE_UID,
                            recorded_at=clock.now()))  # fmt: skip


async def _standard(db: Database, clock: FakeClock, member_id: int, org_id: int, fen: int,
                    from_month: int) -> None:  # fmt: skip
    async with db.transaction() as s:
        s.add(DuesStandard(member_id=member_id, org_id=org_id, category="working", permille=10,
                           amount_fen=fen, from_month=from_month, status="confirmed",
                           declared_at=clock.now()))  # fmt: skip


async def test_register_cell_by_cell(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    keeper, _ = await linked_member(db, clock, t.branch_a, BASE_UID + 1, "组织委员",
                                    role=Role.ORGANIZATION)  # fmt: skip
    admin = await person(db, clock, BASE_UID + 4, "党委")
    await office(db, clock, t.committee, Role.COMMITTEE_ADMIN, user_id=admin.user_id)
    wang = await member(db, clock, t.branch_a, "王芳")
    li = await member(db, clock, t.branch_a, "李娜")
    await _entries(db, clock, wang, t.branch_a, [
        (202601, 8_100, "dues"), (202602, 8_100, "dues"), (202602, -8_100, "correction"),
        (202612, 8_100, "dues"), (202701, 8_100, "dues"), (None, 100_000, "extra"),
        (202512, 8_100, "dues"),
    ])  # fmt: skip
    await _entries(db, clock, li, t.branch_a, [(202603, 2_050, "dues")])
    day = today(clock)
    register = await branch_register(db, keeper, t.branch_a, 2026, day)
    rows = {r.name: r for r in register.rows}
    assert set(rows) == {"王芳", "李娜", "组织委员"}
    assert rows["王芳"].months == (8_100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8_100)
    assert (rows["王芳"].extra_fen, rows["王芳"].total_fen) == (100_000, 116_200)
    assert rows["李娜"].months[2] == 2_050
    assert register.total_fen == 118_250
    with pytest.raises(ServiceError) as totals_only:  # a committee sees totals, not members
        await branch_register(db, admin, t.branch_a, 2026, day)
    assert totals_only.value.code == "auth.view_dues"
    with pytest.raises(ServiceError) as year:
        await branch_register(db, keeper, t.branch_a, 99999, day)
    assert year.value.code == "dues.ledger.bad_year"

    sheet = openpyxl.load_workbook(io.BytesIO(register_xlsx(_catalog(), "zh_CN", register))).active
    assert sheet is not None
    assert sheet.page_setup.orientation == "landscape"
    assert [c.value for c in sheet[2]][:4] == ["序号", "姓名", "1月", "2月"]
    by_name = {sheet.cell(row=r, column=2).value: r for r in range(3, sheet.max_row + 1)}
    wang_row = by_name["王芳"]
    assert sheet.cell(row=wang_row, column=3).value == 81.0  # January
    assert sheet.cell(row=wang_row, column=4).value is None  # February, corrected away
    assert sheet.cell(row=wang_row, column=14).value == 81.0  # December
    assert sheet.cell(row=wang_row, column=15).value == 1000.0  # the extra
    assert sheet.cell(row=wang_row, column=16).value == 1162.0
    total_row = by_name["合计"]
    assert sheet.cell(row=total_row, column=5).value == 20.5  # March: 李娜
    assert sheet.cell(row=total_row, column=16).value == 1182.5

    await queue_ledger_file(db, keeper, t.branch_a, kind="register", year=2026,
                            filename="r.xlsx", data=b"x", caption_html="c", as_photo=False,
                            now=clock.now(), today=day)  # fmt: skip
    async with db.read() as s:
        assert "dues.export" in (await s.scalars(select(AuditEntry.action))).all()
        item = await s.scalar(select(OutboxItem))
        assert item is not None
        assert (item.chat_id, item.purpose) == (keeper.user_id, "file")


async def test_committee_rollup(db: Database, clock: FakeClock) -> None:
    clock.set(datetime(2026, 12, 10, tzinfo=UTC))
    t = await tree(db, clock)
    admin = await person(db, clock, BASE_UID + 4, "党委")
    await office(db, clock, t.committee, Role.COMMITTEE_ADMIN, user_id=admin.user_id)
    paid_up = await member(db, clock, t.branch_a, "甲")
    behind_two = await member(db, clock, t.branch_a, "乙")
    behind_all = await member(db, clock, t.branch_b, "丙")
    for member_id, org_id in ((paid_up, t.branch_a), (behind_two, t.branch_a),
                              (behind_all, t.branch_b)):  # fmt: skip
        await _standard(db, clock, member_id, org_id, 1_000, 202601)
    await _entries(db, clock, paid_up, t.branch_a,
                   [(202600 + m, 1_000, "dues") for m in range(1, 13)])  # fmt: skip
    await _entries(db, clock, behind_two, t.branch_a,
                   [(202600 + m, 1_000, "dues") for m in range(1, 11)])  # fmt: skip
    # A standard that rose in July, paid through August at the old amount; an exemption for
    # March–April: worked out month by month, the same figures as the SQL path would give.
    rose = await member(db, clock, t.branch_b, "丁")
    await _standard(db, clock, rose, t.branch_b, 1_000, 202601)
    await _standard(db, clock, rose, t.branch_b, 2_000, 202607)
    async with db.transaction() as s:
        s.add(DuesExemption(
            member_id=rose, org_id=t.branch_b, amount_fen=0, from_month=202603,
            until_month=202604, reason="病", agreed_on=today(clock), approved_by="党委",
            recorded_by=BASE_UID, recorded_at=clock.now(),
        ))  # fmt: skip
    await _entries(db, clock, rose, t.branch_b,
                   [(202600 + m, 1_000, "dues") for m in (1, 2, 5, 6, 7, 8)])  # fmt: skip
    rollup = await committee_rollup(db, admin, t.committee, 2026, today(clock))
    by = {b.org_id: b for b in rollup.branches}
    assert set(by) == {t.branch_a, t.branch_b}  # the other committee's branch is not in it
    a, b = by[t.branch_a], by[t.branch_b]
    assert (a.members, a.due_fen, a.paid_fen) == (2, 24_000, 22_000)
    assert (a.behind_1_2, a.behind_3_5, a.behind_6) == (1, 0, 0)
    # 丙: 12 months of 1,000 unpaid; 丁: due 4 × 1,000 + 6 × 2,000, paid 4,000 + 2 × 1,000
    # (capped at the due), behind July–December (differences) = 6 months.
    assert (b.members, b.due_fen, b.paid_fen, b.behind_6) == (2, 28_000, 6_000, 2)
    assert rollup.paid_fen == 28_000
    text = rollup_text(_catalog(), "zh_CN", rollup)
    assert text.index("乙公司联合党支部") < text.index("甲公司党支部")  # lowest rate first
    assert rollup_chart(_catalog(), "zh_CN", rollup).startswith(b"\x89PNG")
    outsider = await person(db, clock, BASE_UID + 9, "路人")
    with pytest.raises(ServiceError):
        await committee_rollup(db, outsider, t.committee, 2026, today(clock))
