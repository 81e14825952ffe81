"""Reading roster files: headers, stages, roles, dates, phones and refusals, without a database."""

from __future__ import annotations

import codecs
import io
import zipfile
from collections.abc import Sequence
from datetime import date, datetime

import openpyxl
import pytest

from domain.members_roster import (
    MAX_ROWS,
    TEMPLATE_HEADERS,
    Column,
    FileError,
    RosterRow,
    RowError,
    check_rows,
    column_of,
    locate_header,
    match_headers,
    parse_roles,
    parse_row,
    parse_stage,
)
from domain.orgs import Role, Stage
from services.members_import import RosterFile, read_roster, roster_template

TODAY = date(2026, 6, 1)
ZH = TEMPLATE_HEADERS["zh_CN"]


def xlsx(rows: Sequence[Sequence[object]], *, header: Sequence[str] | None = None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(header if header is not None else [ZH[c] for c in Column]))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def read(filename: str, content: bytes) -> RosterFile:
    result = read_roster(filename, content)
    assert isinstance(result, RosterFile), result
    return result


def one(values: dict[str, str]) -> RosterRow | RowError:
    return parse_row(values, 2, TODAY)


def codes(result: RosterRow | RowError) -> list[str]:
    assert isinstance(result, RowError), result
    return [p.code for p in result.problems]


# ---------------------------------------------------------------- headers


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("姓名", Column.NAME),
        ("手机号", Column.PHONE),
        ("手机", Column.PHONE),
        ("电话", Column.PHONE),
        ("手机号（选填）", Column.PHONE),
        ("阶段", Column.STAGE),
        ("类别", Column.STAGE),
        ("党员类别", Column.STAGE),
        ("职务", Column.ROLES),
        ("党小组", Column.PARTY_GROUP),
        ("单位", Column.UNIT),
        ("所在单位", Column.UNIT),
        ("申请入党日期", Column.APPLIED_ON),
        ("积极分子日期", Column.ACTIVIST_ON),
        ("确定为积极分子日期", Column.ACTIVIST_ON),
        ("发展对象日期", Column.CANDIDATE_ON),
        ("预备党员日期", Column.PROBATIONARY_ON),
        ("入党日期", Column.PROBATIONARY_ON),
        ("转正日期", Column.FULL_ON),
        (" 姓 名 *", Column.NAME),
        ("name", Column.NAME),
        ("Phone", Column.PHONE),
        ("party_group", Column.PARTY_GROUP),
        ("Party Group", Column.PARTY_GROUP),
        ("full_on", Column.FULL_ON),
    ],
)
def test_headers_are_recognized_in_chinese_and_english(header: str, column: Column) -> None:
    assert column_of(header) == column


def test_template_headers_are_what_the_parser_accepts() -> None:
    for headers in TEMPLATE_HEADERS.values():
        assert {column_of(h) for h in headers.values()} == set(Column)


def test_unknown_columns_are_ignored_and_required_ones_checked() -> None:
    assert match_headers(["序号", "姓名", "阶段", "备注"]) == {1: Column.NAME, 2: Column.STAGE}
    assert match_headers(["姓名", "手机号"]) == FileError("file.missing_column", Column.STAGE)
    assert match_headers(["姓名", "阶段", "手机", "电话"]) == FileError(
        "file.duplicate_column", Column.PHONE
    )


def test_header_may_sit_below_a_title_row() -> None:
    rows = [["第一党支部党员名册", "", ""], ["姓名", "阶段", "手机号"], ["王芳", "正式党员", ""]]
    assert locate_header(rows) == (1, {0: Column.NAME, 1: Column.STAGE, 2: Column.PHONE})
    assert locate_header([["标题"], ["姓名", "手机号"]]) == FileError(
        "file.missing_column", Column.STAGE
    )
    assert locate_header([["随便什么"]]) == FileError("file.missing_column", Column.NAME)


# ---------------------------------------------------------------- values


@pytest.mark.parametrize(
    ("text", "stage"),
    [
        ("正式党员", Stage.FULL),
        ("预备党员", Stage.PROBATIONARY),
        ("入党积极分子", Stage.ACTIVIST),
        ("积极分子", Stage.ACTIVIST),
        ("发展对象", Stage.CANDIDATE),
        ("入党申请人", Stage.APPLICANT),
        ("群众", Stage.MASSES),
        ("中共党员", Stage.FULL),
        ("full", Stage.FULL),
        (" Probationary ", Stage.PROBATIONARY),
        ("ｆｕｌｌ", Stage.FULL),  # full-width letters from a Chinese input method
    ],
)
def test_stages_in_chinese_or_as_codes(text: str, stage: Stage) -> None:
    assert parse_stage(text) == stage


def test_unknown_stage_names_the_value() -> None:
    result = one({"name": "王芳", "stage": "老党员"})
    assert isinstance(result, RowError)
    [problem] = result.problems
    assert (problem.code, problem.column, problem.value) == (
        "stage.unknown",
        Column.STAGE,
        "老党员",
    )
    assert codes(one({"name": "王芳"})) == ["stage.empty"]


@pytest.mark.parametrize(
    "text",
    [
        "书记、组织委员",
        "书记,组织委员",
        "书记，组织委员",
        "书记;组织委员",
        "书记 组织委员",
        "secretary, organization",
    ],
)
def test_several_roles_in_one_cell(text: str) -> None:
    assert parse_roles(text) == ((Role.SECRETARY, Role.ORGANIZATION), [])


def test_roles_are_deduplicated_and_unknown_words_reported() -> None:
    assert parse_roles("书记、书记、主任") == ((Role.SECRETARY,), ["主任"])
    # Committee-level offices are not roster data.
    assert parse_roles("committee_admin") == ((), ["committee_admin"])
    result = one({"name": "王芳", "stage": "正式党员", "roles": "宣传委员、主任"})
    assert codes(result) == ["role.unknown"]


def test_group_leader_needs_a_party_group() -> None:
    assert codes(one({"name": "王芳", "stage": "正式党员", "roles": "党小组长"})) == [
        "role.needs_party_group"
    ]
    row = one({"name": "王芳", "stage": "正式党员", "roles": "党小组长", "party_group": "一组"})
    assert isinstance(row, RosterRow)
    assert row.roles == (Role.GROUP_LEADER,)


def test_dates_in_several_spellings_and_checked() -> None:
    row = one(
        {
            "name": "王芳",
            "stage": "正式党员",
            "applied_on": "2010/3/1",
            "activist_on": "2011年3月1日",
            "probationary_on": "20120701",
            "full_on": "2013-07-01",
        }
    )
    assert isinstance(row, RosterRow)
    assert row.dates == {
        Column.APPLIED_ON: date(2010, 3, 1),
        Column.ACTIVIST_ON: date(2011, 3, 1),
        Column.PROBATIONARY_ON: date(2012, 7, 1),
        Column.FULL_ON: date(2013, 7, 1),
    }
    bad = one({"name": "王芳", "stage": "正式党员", "full_on": "2023-02-30", "applied_on": "明年"})
    assert sorted(codes(bad)) == ["date.invalid", "date.invalid"]
    assert codes(one({"name": "王芳", "stage": "正式党员", "full_on": "2027-01-01"})) == [
        "date.future"
    ]
    backwards = one(
        {
            "name": "王芳",
            "stage": "正式党员",
            "probationary_on": "2020-01-01",
            "full_on": "2019-01-01",
        }
    )
    assert isinstance(backwards, RowError)
    [problem] = backwards.problems
    assert (problem.code, problem.column, problem.other_column) == (
        "date.order",
        Column.FULL_ON,
        Column.PROBATIONARY_ON,
    )


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("王芳😀", "name.bad_chars"),
        ("<b>王芳</b>", "name.bad_chars"),
        ("王&芳", "name.bad_chars"),
        ("长" * 201, "name.too_long"),
        ("王", "name.too_short"),
        ("王芳2", "name.bad_chars"),
    ],
)
def test_bad_names_are_refused(name: str, code: str) -> None:
    assert codes(one({"name": name, "stage": "正式党员"})) == [code]


def test_real_names_pass() -> None:
    for name in ("王芳", "阿依古丽·买买提", "Li Lei", " 王  芳 "):
        row = one({"name": name, "stage": "正式党员"})
        assert isinstance(row, RosterRow), name
    row = one({"name": " 王  芳 ", "stage": "正式党员"})
    assert isinstance(row, RosterRow)
    assert row.name == "王 芳"


@pytest.mark.parametrize(
    ("phone", "result"),
    [
        ("13800138000", "13800138000"),
        ("138-0013-8000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("1380013800", "phone.invalid"),
        ("23800138000", "phone.invalid"),
        ("电话", "phone.invalid"),
        ("1.38001E+10", "phone.scientific"),
    ],
)
def test_phones(phone: str, result: str) -> None:
    row = one({"name": "王芳", "stage": "正式党员", "phone": phone})
    if result.startswith("phone."):
        assert codes(row) == [result]
    else:
        assert isinstance(row, RosterRow)
        assert row.phone == result


def test_every_problem_of_a_row_is_reported_at_once() -> None:
    result = one({"name": "", "stage": "x", "phone": "1", "roles": "主任", "full_on": "x"})
    assert codes(result) == [
        "name.empty",
        "phone.invalid",
        "stage.unknown",
        "role.unknown",
        "date.invalid",
    ]


# ---------------------------------------------------------------- whole files


def test_duplicates_within_the_file() -> None:
    rows = [
        {"name": "王芳", "stage": "正式党员", "phone": "13800000001"},
        {"name": "李明", "stage": "正式党员", "phone": "13800000001"},
        {"name": "张伟", "stage": "正式党员"},
        {"name": "张伟", "stage": "预备党员"},
        {"name": "刘洋", "stage": "正式党员", "phone": "13800000002"},
        {"name": "刘洋", "stage": "正式党员", "phone": "13800000003"},  # two people, told apart
    ]
    checked = check_rows(rows, 2, TODAY)
    assert [(e.line, [(p.code, p.other_line) for p in e.problems]) for e in checked.errors] == [
        (3, [("phone.duplicate", 2)]),
        (5, [("name.duplicate", 4)]),
    ]
    assert [r.line for r in checked.rows] == [2, 4, 6, 7]


def test_empty_rows_are_skipped_but_keep_line_numbers() -> None:
    content = xlsx([["王芳", None, "正式党员"], [], [None, None, None], ["李明", None, "群众"]])
    roster = read("名册.xlsx", content)
    checked = check_rows(roster.rows, roster.first_line, TODAY)
    assert [(r.line, r.name) for r in checked.rows] == [(2, "王芳"), (5, "李明")]


def test_the_templates_example_row_is_skipped() -> None:
    for locale in ("zh_CN", "en"):
        assert read_roster("t.xlsx", roster_template(locale)) == FileError("file.no_rows")
    example = {"name": "王芳", "phone": "13800138000", "stage": "正式党员"}
    assert check_rows([example], 2, TODAY).file_error == FileError("file.no_rows")
    # It does not count against the limit either.
    book = openpyxl.load_workbook(io.BytesIO(roster_template("zh_CN")))
    for i in range(MAX_ROWS):
        book.worksheets[0].append(["张伟", f"139{i:08d}", "群众"])
    out = io.BytesIO()
    book.save(out)
    roster = read("t.xlsx", out.getvalue())
    assert len(check_rows(roster.rows, roster.first_line, TODAY).rows) == MAX_ROWS


def test_template_has_help_sheet_and_headers_in_the_locale() -> None:
    book = openpyxl.load_workbook(io.BytesIO(roster_template("zh_CN")))
    assert book.sheetnames == ["名册", "说明"]
    assert [c.value for c in book["名册"][1]] == [ZH[c] for c in Column]
    help_text = " ".join(str(c.value) for row in book["说明"].iter_rows() for c in row if c.value)
    assert "预备党员" in help_text
    assert "党费管理员" in help_text
    english = openpyxl.load_workbook(io.BytesIO(roster_template("en")))
    assert english.sheetnames == ["Roster", "Help"]
    assert english["Roster"]["A1"].value == "name"


def test_excel_cells_of_every_type_become_text() -> None:
    content = xlsx(
        [
            ["王芳", 13800138001.0, "正式党员", None, None, None, datetime(2010, 3, 1, 0, 0)],
            ["李明", 13800138002, "预备党员", None, None, None, date(2011, 4, 2)],
        ]
    )
    roster = read("r.xlsx", content)
    assert roster.rows[0] == {
        "name": "王芳",
        "phone": "13800138001",
        "stage": "正式党员",
        "applied_on": "2010-03-01",
    }
    assert roster.rows[1]["phone"] == "13800138002"
    assert roster.rows[1]["applied_on"] == "2011-04-02"


def test_wrong_types_get_row_errors_not_a_crash() -> None:
    content = xlsx([[20240101, 3.5, 42, True, None, None, "bad"], [datetime(2020, 1, 1), None, 1]])
    roster = read("r.xlsx", content)
    checked = check_rows(roster.rows, roster.first_line, TODAY)
    assert [sorted({p.code for p in e.problems}) for e in checked.errors] == [
        ["date.invalid", "name.bad_chars", "phone.invalid", "role.unknown", "stage.unknown"],
        ["name.bad_chars", "stage.unknown"],
    ]


def test_xlsx_missing_a_required_column_names_it() -> None:
    content = xlsx([["王芳", "13800138000"]], header=["姓名", "手机号"])
    assert read_roster("r.xlsx", content) == FileError("file.missing_column", Column.STAGE)


def test_csv_in_gbk_utf8_with_bom_and_utf16_and_other_delimiters() -> None:
    text = "姓名,手机号,阶段\n王芳,13800138000,正式党员\n李明,,预备党员\n"
    expected = ({"name": "王芳", "phone": "13800138000", "stage": "正式党员"},)
    for content in (
        text.encode("gbk"),
        text.encode("gb18030"),
        codecs.BOM_UTF8 + text.encode("utf-8"),
        text.encode("utf-16"),
        text.replace(",", "\t").encode("utf-8"),
        text.replace(",", ";").encode("gbk"),
    ):
        roster = read("名册.csv", content)
        assert roster.rows[:1] == expected
        assert roster.rows[1] == {"name": "李明", "stage": "预备党员"}


def test_quoted_csv_fields_may_hold_delimiters_and_line_breaks() -> None:
    text = '姓名,阶段,单位\n王芳,正式党员,"某某科技有限公司,北京分公司"\n李明,群众,"甲\n乙"\n'
    roster = read("r.csv", text.encode())
    assert roster.rows[0]["unit"] == "某某科技有限公司,北京分公司"
    assert roster.rows[1]["unit"] == "甲\n乙"


@pytest.mark.parametrize(
    ("filename", "content", "code"),
    [
        ("r.xlsx", b"PK\x03\x04 not really a zip", "file.corrupt"),
        ("r.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "file.old_excel"),
        ("r.pdf", b"%PDF-1.4 ...", "file.type"),
        ("r.csv", b"", "file.no_rows"),
        ("r.csv", b"\x00\x01\x02binary", "file.corrupt"),
        ("r.csv", "姓名,手机号\n王芳,1\n".encode("gbk"), "file.missing_column"),
        ("r.csv", "姓名,阶段\n".encode(), "file.no_rows"),
        ("r.csv", b"x" * (2 * 1024 * 1024 + 1), "file.too_large"),
    ],
)
def test_unreadable_files_get_a_code(filename: str, content: bytes, code: str) -> None:
    result = read_roster(filename, content)
    assert isinstance(result, FileError)
    assert result.code == code


def test_a_word_document_is_not_a_spreadsheet() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("word/document.xml", "<w:document/>")
    assert read_roster("r.docx", out.getvalue()) == FileError("file.type")


def test_a_zip_bomb_is_refused_before_unpacking() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/sharedStrings.xml", "0" * (80 * 1024 * 1024))
    assert len(out.getvalue()) < 2 * 1024 * 1024
    assert read_roster("r.xlsx", out.getvalue()) == FileError("file.too_large")


def test_more_than_the_row_limit_is_refused() -> None:
    rows = [[f"王{i}", None, "正式党员"] for i in range(MAX_ROWS + 1)]
    assert read_roster("r.xlsx", xlsx(rows)) == FileError("file.too_many_rows")
    many = [{"name": "王芳", "stage": "正式党员"}] * (MAX_ROWS + 1)
    assert check_rows(many, 2, TODAY).file_error == FileError("file.too_many_rows")


def test_exactly_the_row_limit_is_read() -> None:
    text = "姓名,阶段\n" + "王芳,正式党员\n" * MAX_ROWS
    roster = read("r.csv", text.encode())
    assert len(roster.rows) == MAX_ROWS
