"""The /form builder's services against a real database, and reading uploaded sheets."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta

import openpyxl
import pytest
from sqlalchemy import func, select

from domain.forms import FormKind, QType, Question, Repeat, ShowIf
from domain.forms_builder import BuildDraft, choose_org, start
from domain.orgs import Level, Role
from domain.pickers import narrow
from services.drafts import keep_draft, open_draft
from services.errors import ServiceError
from services.forms_builder import (
    MAX_FILE_BYTES,
    SAMPLE_ROWS,
    SheetError,
    SheetGuess,
    builder_branches,
    builder_orgs,
    earlier_form,
    earlier_forms,
    publish_built,
    questions_from_table,
)
from services.orgs_roles import grant_role
from storage.db import Database
from storage.models import Form, FormCycle
from tests.conftest import FakeClock
from tests.services.factories import BASE_UID, SUPER, linked_member, org, person, today, tree

QUESTIONS = (
    Question(QType.YES_NO, "是否参加"),
    Question(QType.INTEGER, "人数", unit="人", low="0", show_if=ShowIf(0, (1,))),
)


def ready(org_id: int, name: str, clock: FakeClock, **kw: object) -> BuildDraft:
    draft = choose_org(start(single_org=True), org_id, name, Level.COMMITTEE)
    values: dict[str, object] = {
        "step": "pre",
        "kind": FormKind.MEMBER,
        "title": "十二月志愿活动",
        "intro": "请如实填写。",
        "questions": QUESTIONS,
        "deadline": clock.now() + timedelta(days=3),
    }
    values.update(kw)
    return replace(draft, **values)  # type: ignore[arg-type]


async def test_publishing_twice_is_once_and_takes_the_draft(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    admin, _ = await linked_member(db, clock, t.branch_b, BASE_UID + 1, "组织委员")
    await grant_role(db, SUPER, t.committee, Role.COMMITTEE_ADMIN, user_id=admin.user_id,
                     now=clock.now(), today=today(clock))  # fmt: skip
    await keep_draft(db, admin.user_id, ready(t.committee, "综合党委", clock, repeat=Repeat.MONTHLY,
                                              due_day=5), clock.now())  # fmt: skip
    published = await publish_built(db, admin, now=clock.now(), today=today(clock))
    assert published.form.title == "十二月志愿活动"
    assert published.form.questions == QUESTIONS
    assert (published.form.repeat, published.form.due_day) == (Repeat.MONTHLY, 5)
    assert published.branches >= 2
    with pytest.raises(ServiceError) as again:
        await publish_built(db, admin, now=clock.now(), today=today(clock))
    assert again.value.code == "stale"
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(Form)) == 1
        assert await s.scalar(select(func.count()).select_from(FormCycle)) == 1
    assert await open_draft(db, admin.user_id, BuildDraft) is None
    assert [f.id for f in await earlier_forms(db, admin, 10)] == [published.form.id]
    assert (await earlier_form(db, admin, published.form.id)).questions == QUESTIONS


async def test_a_refusal_keeps_the_draft(db: Database, clock: FakeClock) -> None:
    t = await tree(db, clock)
    secretary, _ = await linked_member(db, clock, t.branch_a, BASE_UID + 2, "陈书记",
                                       role=Role.SECRETARY)  # fmt: skip
    # A branch secretary may not send to the whole committee.
    draft = ready(t.committee, "综合党委", clock)
    await keep_draft(db, secretary.user_id, draft, clock.now())
    with pytest.raises(ServiceError):
        await publish_built(db, secretary, now=clock.now(), today=today(clock))
    assert await open_draft(db, secretary.user_id, BuildDraft) == draft
    # The deadline passed while the preview was open: refused, still kept.
    late = ready(t.branch_a, "甲公司党支部", clock, deadline=clock.now() - timedelta(minutes=1))
    await keep_draft(db, secretary.user_id, late, clock.now())
    with pytest.raises(ServiceError) as past:
        await publish_built(db, secretary, now=clock.now(), today=today(clock))
    assert past.value.code == "form.deadline_past"
    assert await open_draft(db, secretary.user_id, BuildDraft) == late
    # Someone else's form cannot be copied.
    stranger = await person(db, clock, BASE_UID + 3)
    assert await earlier_forms(db, stranger, 10) == []
    assert [o.id for o in await builder_orgs(db, secretary, today(clock))] == [t.branch_a]
    assert await builder_orgs(db, stranger, today(clock)) == []


async def test_every_branch_under_the_organization_is_offered(
    db: Database, clock: FakeClock
) -> None:
    t = await tree(db, clock)
    for i in range(30):
        await org(db, clock, f"第{i:02d}党支部", Level.BRANCH, t.committee)
    branches = await builder_branches(db, SUPER, t.committee, today(clock))
    assert len(branches) == 33  # the tree's three and these thirty, by name
    assert [o.name for o in branches] == sorted(o.name for o in branches)
    assert all(o.level is not Level.COMMITTEE for o in branches)
    # A typed part of a name narrows them the way every picker does (domain.pickers).
    page = narrow(branches, lambda o: o.name, 0, "第17")
    assert [o.name for o in page.items] == ["第17党支部"]
    assert narrow(branches, lambda o: o.name, 0, "%").total == 0  # matched literally


def xlsx(rows: Sequence[Sequence[object]], merges: tuple[str, ...] = ()) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(list(row))
    for cells in merges:
        sheet.merge_cells(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def guessed(result: SheetGuess | SheetError) -> list[tuple[str, QType]]:
    assert isinstance(result, SheetGuess), result
    return [(g.title, g.type) for g in result.questions]


def test_a_two_level_header_with_merged_cells_and_a_title_row() -> None:
    data = xlsx(
        [
            ["2026年党员信息统计表"],
            ["姓名", "联系方式", None, None, "参加次数", "备注"],
            [None, "手机", "邮箱", None, None, None],
            *[["王芳", "13800138000", "a@b.cn", None, 3, "无"] for _ in range(3)],
        ],
        merges=("A1:F1", "B2:C2", "A2:A3", "E2:E3", "F2:F3"),
    )
    result = questions_from_table(data, "表.xlsx")
    assert guessed(result) == [
        ("姓名", QType.SHORT),
        ("手机", QType.PHONE),
        ("邮箱", QType.SHORT),
        ("参加次数", QType.INTEGER),
        ("备注", QType.LONG),
    ]  # the blank fourth column is left out
    assert isinstance(result, SheetGuess)
    assert result.title == "2026年党员信息统计表"


def test_a_merged_header_over_two_data_columns_names_both() -> None:
    data = xlsx([["姓名", "联系方式", None], ["王芳", "13800138000", "13900139000"]], ("B1:C1",))
    assert [t for t, _ in guessed(questions_from_table(data, "a.xlsx"))] == [
        "姓名",
        "联系方式",
        "联系方式（2）",
    ]


def test_csv_in_gbk_and_utf8_with_bom() -> None:
    people = ("王芳,女", "李雷,男", "韩梅梅,女", "张伟,男")
    text = "姓名,性别,,出生日期\n" + "".join(
        f"{p},,1990-01-0{i + 1}\n" for i, p in enumerate(people)
    )
    for data in (text.encode("gbk"), text.encode("utf-8-sig")):
        result = questions_from_table(data, "名单.csv")
        assert guessed(result) == [
            ("姓名", QType.SHORT),
            ("性别", QType.SINGLE),
            ("出生日期", QType.DATE),
        ]
        assert isinstance(result, SheetGuess)
        assert result.questions[1].choices == ("女", "男")


def test_files_that_are_not_tables_are_refused_clearly() -> None:
    def code(data: bytes, name: str) -> str:
        result = questions_from_table(data, name)
        assert isinstance(result, SheetError), result
        return result.code

    assert code(b"x" * (MAX_FILE_BYTES + 1), "a.xlsx") == "form.build.file_too_large"
    assert code(b"   ", "a.csv") == "form.build.file_empty"
    assert code(b"\xd0\xcf\x11\xe0rest", "a.xls") == "form.build.file_old_excel"
    assert code(b"%PDF-1.4", "a.pdf") == "form.build.file_type"
    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    assert code(docx.getvalue(), "a.xlsx") == "form.build.file_type"
    assert code(b"PK\x03\x04broken", "a.xlsx") == "form.build.file_corrupt"
    assert code(xlsx([[None], [None]]), "a.xlsx") == "form.build.file_no_header"
    wide = ",".join(f"列{i}" for i in range(45))
    assert code(wide.encode(), "a.csv") == "form.build.file_too_many_columns"


def test_only_a_sample_of_a_long_sheet_is_read() -> None:
    rows: list[Sequence[object]] = [["人数"], *([i] for i in range(SAMPLE_ROWS * 3))]
    rows.append(["不是数字"])  # beyond the sample: does not change the guess
    assert guessed(questions_from_table(xlsx(rows), "a.xlsx")) == [("人数", QType.INTEGER)]
