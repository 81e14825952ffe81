"""批量设置标准, the rules: headers in either language, categories as keepers write them, the
amount from a base or as given (checked where the table fixes it), the month's range,
unknown and ambiguous names, and rows that change nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from domain.dues import NATIONAL, Category, RateTable
from domain.dues_import import (
    BulkDraft,
    Current,
    Plan,
    header_code,
    parse_category,
    plan_standards,
)
from domain.wizard import dump, load

ROSTER = {"王芳": [1], "李明": [2], "张伟": [3, 4], "赵六": [5]}
THIS = 202701


def plan(*rows: dict[str, str], current: dict[int, Current] | None = None,
         table: RateTable = NATIONAL) -> Plan:  # fmt: skip
    numbered = [(n + 2, row) for n, row in enumerate(rows)]
    return plan_standards(numbered, ROSTER, current or {}, table, THIS)


@pytest.mark.parametrize(
    ("cell", "code"),
    [("姓名", "name"), ("Name", "name"), ("类别", "category"), ("月缴金额(元)", "amount"),
     ("月缴金额（元）", "amount"), ("Monthly dues (yuan)", "amount"), ("月收入基数(元)", "base"),
     ("Monthly income base (yuan)", "base"), ("起始月份", "from"), ("From month", "from"),
     (" 基 数 ", "base"), ("备注", "")],
)  # fmt: skip
def test_headers_in_either_language(cell: str, code: str) -> None:
    assert header_code(cell) == code


def _labels(locale: str) -> list[str]:
    po = Path(__file__).parents[2] / "bot" / "locales" / locale / "LC_MESSAGES" / "zhibu.po"
    text = po.read_text(encoding="utf-8")
    return re.findall(r'msgid "dues\.std\.category\.\w+"\nmsgstr "(.+)"', text)


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_every_catalog_label_reads_back(locale: str) -> None:
    labels = _labels(locale)
    assert len(labels) == len(Category)
    assert {parse_category(label) for label in labels} == set(Category)


def test_categories_as_written() -> None:
    assert parse_category("退休") is Category.RETIRED
    assert parse_category(" Self-Employed ") is Category.SELF_EMPLOYED
    assert parse_category("working") is Category.WORKING
    assert parse_category("公务员") is None


def test_base_amount_and_fixed_rules() -> None:
    result = plan(
        {"name": "王芳", "category": "在职", "base": "5,400"},  # 1.5 % → 81.00
        {"name": "李明", "category": "学生", "amount": "0.2"},
        {"name": "赵六", "category": "退休", "amount": "30", "from": "2026年12月"},
    )
    assert result.problems == ()
    first, student, retired = result.lines
    assert (first.amount_fen, first.permille, first.lower_fen, first.upper_fen) == (
        8_100, 15, 500_000, 1_000_000)  # fmt: skip
    assert (first.from_month, first.new) == (THIS, True)
    assert (student.category, student.amount_fen, student.permille) == ("student", 20, 0)
    assert (retired.amount_fen, retired.permille, retired.from_month) == (3_000, 0, 202612)
    assert not any("base" in str(line) for line in result.lines)  # the base is not carried


def test_problems_with_row_numbers() -> None:
    result = plan(
        {"name": "查无此人", "category": "在职", "base": "5000"},
        {"name": "张伟", "category": "在职", "base": "5000"},
        {"name": "王芳", "category": "公务员", "base": "5000"},
        {"name": "李明", "category": "学生", "amount": "1.00"},
        {"name": "赵六", "category": "在职", "base": "5400", "amount": "80"},
        {"name": "", "category": "", "base": ""},  # a blank row is skipped, not a problem
        {"name": "赵六", "category": "在职", "base": "5400"},
    )
    assert [(p.line, p.code) for p in result.problems] == [
        (2, "dues.bulk.unknown"), (3, "dues.bulk.ambiguous"), (4, "dues.bulk.category"),
        (5, "dues.bulk.fixed"), (6, "dues.bulk.mismatch"), (8, "dues.bulk.duplicate"),
    ]  # fmt: skip
    assert result.lines == ()


@pytest.mark.parametrize(
    ("row", "code"),
    [({"category": "在职"}, "dues.bulk.missing"),
     ({"category": "在职", "base": "五千"}, "dues.bulk.base"),
     ({"category": "在职", "amount": "-3"}, "dues.bulk.amount"),
     ({"category": "农民"}, "dues.bulk.farmer_missing"),
     ({"category": "农民", "amount": "2"}, "dues.bulk.farmer_range"),
     ({"category": "在职", "base": "5000", "from": "2025-12"}, "dues.bulk.month"),
     ({"category": "在职", "base": "5000", "from": "2028-02"}, "dues.bulk.month"),
     ({"category": "在职", "base": "5000", "from": "明年"}, "dues.bulk.month")],
)  # fmt: skip
def test_one_problem_each(row: dict[str, str], code: str) -> None:
    result = plan({"name": "王芳", **row})
    assert [p.code for p in result.problems] == [code]


def test_unchanged_changed_and_a_later_standard() -> None:
    in_force = ("working", 8_100, 15, 500_000, 1_000_000, 202601)
    current = {1: Current(((202601, in_force),)),
               2: Current(((202601, ("student", 20, 0, None, None, 202601)),)),
               5: Current(((202601, in_force), (202703, in_force)))}  # fmt: skip
    result = plan(
        {"name": "王芳", "category": "在职", "base": "5400"},  # the same: unchanged
        {"name": "李明", "category": "在职", "amount": "50"},  # changed
        {"name": "赵六", "category": "在职", "base": "5400"},  # a later one would be superseded
        current=current,
    )
    assert result.unchanged == 1
    assert [(line.member_id, line.new) for line in result.lines] == [(2, False), (5, False)]


def test_the_draft_keeps_and_reads_back() -> None:
    result = plan({"name": "王芳", "category": "在职", "base": "12000"},
                  {"name": "谁", "category": "在职"})  # fmt: skip
    draft = BulkDraft("preview", 7, result.lines, result.unchanged, result.problems, 1)
    assert load(BulkDraft, dump(draft)) == draft
    assert (draft.new_count, draft.changed_count) == (1, 0)
    assert draft.lines[0].amount_fen == 24_000  # 2 % of the whole 12,000
