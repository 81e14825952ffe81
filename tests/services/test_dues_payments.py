"""Payments against a real database: 我已交纳 → 确认 / 退回, self-confirmation refused, the
difference after a standard rose, and the keeper's month grid with corrections."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select

from domain.orgs import Role
from domain.wizard import Event
from services.authz import Actor
from services.dues import paid_of
from services.dues_payments import (
    Note,
    apply_payments,
    begin_reject,
    correct_month,
    decide_claim,
    month_grid,
    pay_step,
    preview_payments,
    record_month,
    start_import,
    start_payment,
    submit_claim,
)
from services.errors import ServiceError
from storage.db import Database
from storage.models import AuditEntry, DuesClaim, DuesEntry, DuesStandard, OutboxItem
from tests.conftest import FakeClock
from tests.services.factories import BASE_UID, linked_member, today, tree

KEEPER_NOTE = Note("claim", [[("确认", "cb:dpd:{claim}:ok")]])
MEMBER_NOTE = Note("decided")
TO_KEEPERS: dict[str, Any] = {"keeper_notes": {"zh_CN": KEEPER_NOTE}, "default_locale": "zh_CN"}
TO_MEMBER: dict[str, Any] = {"member_notes": {"zh_CN": MEMBER_NOTE}, "default_locale": "zh_CN"}


async def _standard(db: Database, clock: FakeClock, member_id: int, org_id: int, fen: int,
                    from_month: int) -> None:  # fmt: skip
    async with db.transaction() as s:
        s.add(DuesStandard(member_id=member_id, org_id=org_id, category="working", permille=15,
                           amount_fen=fen, from_month=from_month, status="confirmed",
                           declared_at=clock.now()))  # fmt: skip


async def _setup(db: Database, clock: FakeClock) -> tuple[Actor, Actor, int, int]:
    t = await tree(db, clock)
    keeper, _ = await linked_member(db, clock, t.branch_a, BASE_UID + 1, "组织委员",
                                    role=Role.ORGANIZATION)  # fmt: skip
    member, member_id = await linked_member(db, clock, t.branch_a, BASE_UID + 3, "王芳")
    await _standard(db, clock, member_id, t.branch_a, 8_100, 202610)
    return keeper, member, member_id, t.branch_a


async def _claim(db: Database, clock: FakeClock, member: Actor, extra: str = "") -> int:
    now, day = clock.now(), today(clock)
    draft = await start_payment(db, member, now, day)
    assert draft.chosen == (202610, 202611, 202612)  # arrears and this month
    await pay_step(db, member, Event("toggle", 202701), now)  # one month ahead
    await pay_step(db, member, Event("next"), now)
    if extra:
        await pay_step(db, member, Event("text", text=extra), now)
    else:
        await pay_step(db, member, Event("skip"), now)
    await pay_step(db, member, Event("photo", text="file-123"), now)
    view = await submit_claim(db, member, now=now, today=day, **TO_KEEPERS)
    return view.id


async def test_pay_then_confirm(db: Database, clock: FakeClock) -> None:
    keeper, member, _member_id, _branch = await _setup(db, clock)
    claim_id = await _claim(db, clock, member, extra="１,０００元")
    async with db.read() as s:
        claim = await s.get(DuesClaim, claim_id)
        assert claim is not None
        assert (claim.amount_fen, claim.extra_fen, claim.status) == (4 * 8_100, 100_000, "pending")
        assert claim.proof_file_id == "file-123"
        notes = await s.scalars(select(OutboxItem).where(OutboxItem.chat_id == keeper.user_id))
        buttons = [n.payload["buttons"] for n in notes.all()]
        assert buttons == [[[["确认", f"cb:dpd:{claim_id}:ok"]]]]
    with pytest.raises(ServiceError) as own:  # a second 提交 finds no draft
        await submit_claim(db, member, now=clock.now(), today=today(clock), **TO_KEEPERS)
    assert own.value.code == "stale"
    await decide_claim(db, keeper, claim_id, accept=True, now=clock.now(), today=today(clock),
                       **TO_MEMBER)  # fmt: skip
    async with db.read() as s:
        entries = (await s.scalars(select(DuesEntry).order_by(DuesEntry.id))).all()
        assert [(e.month, e.amount_fen, e.kind, e.to_centre) for e in entries] == [
            (202610, 8_100, "dues", False), (202611, 8_100, "dues", False),
            (202612, 8_100, "dues", False), (202701, 8_100, "dues", False),
            (None, 100_000, "extra", True),
        ]  # fmt: skip
        audit = (await s.scalars(select(AuditEntry.action))).all()
        assert "dues.claim.confirm" in audit
        told = await s.scalar(select(OutboxItem).where(OutboxItem.chat_id == member.user_id))
        assert told is not None
    with pytest.raises(ServiceError) as twice:
        await decide_claim(db, keeper, claim_id, accept=True, now=clock.now(),
                           today=today(clock), **TO_MEMBER)  # fmt: skip
    assert twice.value.code == "stale"


async def test_reject_with_reason_and_refusals(db: Database, clock: FakeClock) -> None:
    keeper, member, _member_id, _branch = await _setup(db, clock)
    claim_id = await _claim(db, clock, member)
    now, day = clock.now(), today(clock)
    with pytest.raises(ServiceError) as own:  # the member cannot decide their own claim
        await decide_claim(db, member, claim_id, accept=True, now=now, today=day,
                           **TO_MEMBER)  # fmt: skip
    assert own.value.code in ("auth.keep_dues", "dues.claim.own")
    with pytest.raises(ServiceError) as no_draft:  # 退回 needs the reason typed after the press
        await decide_claim(db, keeper, claim_id, accept=False, reason="x", now=now, today=day,
                           **TO_MEMBER)  # fmt: skip
    assert no_draft.value.code == "stale"
    await begin_reject(db, keeper, claim_id, now=now, today=day)
    with pytest.raises(ServiceError) as empty:
        await decide_claim(db, keeper, claim_id, accept=False, reason=" \u200b ", now=now,
                           today=day, **TO_MEMBER)  # fmt: skip
    assert empty.value.code == "dues.reason.empty"
    view = await decide_claim(db, keeper, claim_id, accept=False, reason="金额不符", now=now,
                              today=day, **TO_MEMBER)  # fmt: skip
    assert (view.status, view.reason) == ("rejected", "金额不符")
    async with db.read() as s:
        assert (await s.scalars(select(DuesEntry))).all() == []


async def test_a_keeper_may_not_confirm_their_own(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    keeper, keeper_id = await linked_member(db, clock, t.branch_a, BASE_UID + 1, "组织委员",
                                            role=Role.ORGANIZATION)  # fmt: skip
    await _standard(db, clock, keeper_id, t.branch_a, 8_100, 202612)
    now, day = clock.now(), today(clock)
    await start_payment(db, keeper, now, day)
    await pay_step(db, keeper, Event("next"), now)
    await pay_step(db, keeper, Event("skip"), now)
    await pay_step(db, keeper, Event("skip"), now)
    view = await submit_claim(db, keeper, now=now, today=day, **TO_KEEPERS)
    with pytest.raises(ServiceError) as own:
        await decide_claim(db, keeper, view.id, accept=True, now=now, today=day,
                           **TO_MEMBER)  # fmt: skip
    assert own.value.code == "dues.claim.own"


async def test_months_refused(db: Database, clock: FakeClock) -> None:
    _keeper, member, _member_id, _branch = await _setup(db, clock)
    now, day = clock.now(), today(clock)
    await start_payment(db, member, now, day)
    with pytest.raises(ServiceError) as far:  # beyond the advance cap (6 months)
        await pay_step(db, member, Event("toggle", 202707), now)
    assert far.value.code == "dues.months.not_owed"
    for month in (202610, 202611, 202612):
        await pay_step(db, member, Event("toggle", month), now)
    with pytest.raises(ServiceError) as none:
        await pay_step(db, member, Event("next"), now)
    assert none.value.code == "dues.months.none"
    await pay_step(db, member, Event("toggle", 202612), now)
    await pay_step(db, member, Event("next"), now)
    for typed, code in (("abc", "dues.amount.invalid"), ("-5", "dues.amount.invalid"),
                        ("99999999", "dues.extra.too_large")):  # fmt: skip
        with pytest.raises(ServiceError) as wrong:
            await pay_step(db, member, Event("text", text=typed), now)
        assert wrong.value.code == code


async def test_no_standard_declare_first(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    member, _ = await linked_member(db, clock, t.branch_a, BASE_UID + 3, "王芳")
    with pytest.raises(ServiceError) as first:
        await start_payment(db, member, clock.now(), today(clock))
    assert first.value.code == "dues.pay.no_standard"


async def test_a_rise_after_paying_ahead_owes_the_difference(
    db: Database, clock: FakeClock
) -> None:
    keeper, member, member_id, branch = await _setup(db, clock)
    now, day = clock.now(), today(clock)
    for month in (202610, 202611, 202612, 202701, 202702):
        await record_month(db, keeper, member_id, month, now=now, today=day)
    await _standard(db, clock, member_id, branch, 10_000, 202701)  # rose from January
    draft = await start_payment(db, member, now, day)
    assert [(m.month, m.owed_fen) for m in draft.offered][:2] == [(202701, 1_900),
                                                                 (202702, 1_900)]  # fmt: skip
    assert draft.chosen == ()  # nothing owed up to this month
    await pay_step(db, member, Event("toggle", 202701), now)
    await pay_step(db, member, Event("toggle", 202702), now)
    await pay_step(db, member, Event("next"), now)
    await pay_step(db, member, Event("skip"), now)
    await pay_step(db, member, Event("skip"), now)
    view = await submit_claim(db, member, now=now, today=day, **TO_KEEPERS)
    assert view.amount_fen == 3_800
    await decide_claim(db, keeper, view.id, accept=True, now=now, today=day,
                       **TO_MEMBER)  # fmt: skip
    async with db.read() as s:
        paid = (await paid_of(s, [member_id]))[member_id]
    assert paid[202701] == paid[202702] == 10_000


async def test_month_grid_record_and_correct(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    keeper, keeper_id = await linked_member(db, clock, t.branch_a, BASE_UID + 1, "组织委员",
                                    role=Role.ORGANIZATION)  # fmt: skip
    other_keeper, _ = await linked_member(db, clock, t.branch_b, BASE_UID + 2, "乙组织委员",
                                          role=Role.ORGANIZATION)  # fmt: skip
    _member, member_id = await linked_member(db, clock, t.branch_a, BASE_UID + 3, "王芳")
    await _standard(db, clock, member_id, t.branch_a, 8_100, 202601)
    now, day = clock.now(), today(clock)
    with pytest.raises(ServiceError) as elsewhere:
        await record_month(db, other_keeper, member_id, 202612, now=now, today=day)
    assert elsewhere.value.code == "auth.keep_dues"
    row = await record_month(db, keeper, member_id, 202612, now=now, today=day)
    assert row.state == "paid"
    with pytest.raises(ServiceError) as again:
        await record_month(db, keeper, member_id, 202612, now=now, today=day)
    assert again.value.code == "dues.grid.already_paid"
    with pytest.raises(ServiceError) as no_standard:
        await record_month(db, keeper, keeper_id, 202612, now=now, today=day)
    assert no_standard.value.code == "dues.grid.no_standard"
    grid = await month_grid(db, keeper, t.branch_a, 202612, 0, day)
    states = {r.name: r.state for r in grid.rows}
    assert states == {"王芳": "paid", "组织委员": "none"}
    fixed = await correct_month(db, keeper, member_id, 202612, now=now, today=day)
    assert fixed.state == "unpaid"
    async with db.read() as s:
        entries = (await s.scalars(select(DuesEntry).order_by(DuesEntry.id))).all()
        assert [(e.amount_fen, e.kind, e.corrects_id) for e in entries] == [
            (8_100, "dues", None), (-8_100, "correction", entries[0].id)
        ]  # fmt: skip
        actions = (await s.scalars(select(AuditEntry.action))).all()
        assert {"dues.record", "dues.correct"} <= set(actions)


def _sheet(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def test_payments_sheet_preview_then_apply(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    keeper, _ = await linked_member(db, clock, t.branch_a, BASE_UID + 1, "组织委员",
                                    role=Role.ORGANIZATION)  # fmt: skip
    other_keeper, _ = await linked_member(db, clock, t.branch_b, BASE_UID + 2, "乙组织委员",
                                          role=Role.ORGANIZATION)  # fmt: skip
    _m, wang = await linked_member(db, clock, t.branch_a, BASE_UID + 3, "王芳")
    now, day = clock.now(), today(clock)
    with pytest.raises(ServiceError) as elsewhere:
        await start_import(db, other_keeper, t.branch_a, now=now, today=day)
    assert elsewhere.value.code == "auth.keep_dues"
    await start_import(db, keeper, t.branch_a, now=now, today=day)
    with pytest.raises(ServiceError) as not_a_sheet:
        await preview_payments(db, keeper, "a.pdf", b"%PDF-1.4", now=now, today=day)
    assert not_a_sheet.value.code == "dues.import.file_type"
    with pytest.raises(ServiceError) as columns:
        await preview_payments(db, keeper, "a.xlsx", _sheet([["姓名", "金额"], ["王芳", 81]]),
                               now=now, today=day)  # fmt: skip
    assert columns.value.code == "dues.import.file_missing_column"
    content = _sheet([
        ["党费交纳表"],
        ["姓名", "月份", "金额"],
        ["王芳", "2026-09", 81],
        ["王芳", datetime(2026, 10, 1), "81.00"],
        ["赵六", "2026年9月", 81],
    ])  # fmt: skip
    draft = await preview_payments(db, keeper, "交费.xlsx", content, now=now, today=day)
    assert [(x.line, x.month, x.amount_fen) for x in draft.lines] == [
        (3, 202609, 8_100), (4, 202610, 8_100)
    ]  # fmt: skip
    assert [(p.line, p.code) for p in draft.problems] == [(5, "dues.import.unknown")]
    async with db.read() as s:
        assert (await s.scalars(select(DuesEntry))).all() == []  # a preview records nothing
    assert await apply_payments(db, keeper, now=now, today=day) == 2
    with pytest.raises(ServiceError) as twice:
        await apply_payments(db, keeper, now=now, today=day)
    assert twice.value.code == "stale"
    async with db.read() as s:
        assert (await paid_of(s, [wang]))[wang] == {202609: 8_100, 202610: 8_100}
        assert "dues.import" in (await s.scalars(select(AuditEntry.action))).all()
