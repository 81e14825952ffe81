"""Roster files: which column is which and what each row must hold. Errors are codes."""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar

from domain.orgs import BRANCH_ROLES, Role, Stage
from domain.validation import Invalid, parse_date, parse_phone, parse_real_name, parse_short_text
from domain.wizard import Draft, Event, Refusal, Steps

# More than a branch ever has (≤ 50 members) while still covering a whole committee's list.
MAX_ROWS = 5000
TEXT_MAX = 100  # unit and party-group names, as the units / party_groups tables allow
HEADER_SCAN_ROWS = 10  # a title line or two often sits above the header row


class Column(StrEnum):
    """The columns a roster file may have, in template order; values are the English headers."""

    NAME = "name"
    PHONE = "phone"
    STAGE = "stage"
    ROLES = "roles"
    PARTY_GROUP = "party_group"
    UNIT = "unit"
    APPLIED_ON = "applied_on"
    ACTIVIST_ON = "activist_on"
    CANDIDATE_ON = "candidate_on"
    PROBATIONARY_ON = "probationary_on"
    FULL_ON = "full_on"


REQUIRED_COLUMNS: tuple[Column, ...] = (Column.NAME, Column.STAGE)
# In the order a person passes them: a later date may not come before an earlier one.
DATE_COLUMNS: tuple[Column, ...] = (
    Column.APPLIED_ON,
    Column.ACTIVIST_ON,
    Column.CANDIDATE_ON,
    Column.PROBATIONARY_ON,
    Column.FULL_ON,
)

# Chinese headers people use; the first is the one the Chinese template writes.
_ZH_HEADERS: dict[Column, tuple[str, ...]] = {
    Column.NAME: ("姓名",),
    Column.PHONE: ("手机号", "手机", "电话", "手机号码", "联系电话"),
    Column.STAGE: ("阶段", "类别", "党员类别", "人员类别"),
    Column.ROLES: ("职务", "党内职务"),
    Column.PARTY_GROUP: ("党小组", "所在党小组"),
    Column.UNIT: ("单位", "所在单位", "工作单位"),
    Column.APPLIED_ON: ("申请入党日期", "申请入党时间"),
    Column.ACTIVIST_ON: ("积极分子日期", "确定为积极分子日期", "确定为入党积极分子日期"),
    Column.CANDIDATE_ON: ("发展对象日期", "确定为发展对象日期"),
    Column.PROBATIONARY_ON: ("预备党员日期", "入党日期", "入党时间"),
    Column.FULL_ON: ("转正日期", "转正时间"),
}

# The header row each template language writes; the parser accepts every one of them.
TEMPLATE_HEADERS: dict[str, dict[Column, str]] = {
    "zh_CN": {c: _ZH_HEADERS[c][0] for c in Column},
    "en": {c: c.value for c in Column},
}

STAGE_NAMES: dict[Stage, str] = {
    Stage.FULL: "正式党员",
    Stage.PROBATIONARY: "预备党员",
    Stage.ACTIVIST: "入党积极分子",
    Stage.CANDIDATE: "发展对象",
    Stage.APPLICANT: "入党申请人",
    Stage.MASSES: "群众",
}
ROLE_NAMES: dict[Role, str] = {
    Role.SECRETARY: "书记",
    Role.DEPUTY: "副书记",
    Role.ORGANIZATION: "组织委员",
    Role.PROPAGANDA: "宣传委员",
    Role.DISCIPLINE: "纪检委员",
    Role.GROUP_LEADER: "党小组长",
    Role.DUES_KEEPER: "党费管理员",
    Role.INFO_OFFICER: "信息员",
}
# Importable offices only: committee admins and instructors are not branch roster data.
IMPORT_ROLES: tuple[Role, ...] = BRANCH_ROLES

_STAGE_ALIASES: dict[str, Stage] = {
    "中共党员": Stage.FULL,
    "党员": Stage.FULL,
    "中共预备党员": Stage.PROBATIONARY,
    "积极分子": Stage.ACTIVIST,
    "申请人": Stage.APPLICANT,
}
_ROLE_ALIASES: dict[str, Role] = {
    "支部书记": Role.SECRETARY,
    "支部副书记": Role.DEPUTY,
    "小组长": Role.GROUP_LEADER,
}
# The template's example row: skipped on import, so leaving it in the file does no harm.
EXAMPLE_PHONE = "13800138000"
EXAMPLE_NAMES = frozenset({"王芳", "Wang Fang"})

_ROLE_SEPARATORS = re.compile(r"[、,，;；/／\s]+")
_HEADER_NOTE = re.compile(r"[(（][^)）]*[)）]")  # "手机号（选填）" is still 手机号
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")


def _key(text: str) -> str:
    """Headers and choices compared loosely: width, case, spaces, underscores, a trailing *."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _HEADER_NOTE.sub("", text)
    return re.sub(r"[\s_\-*]+", "", text)


_HEADER_LOOKUP: dict[str, Column] = {
    _key(alias): column for column in Column for alias in (*_ZH_HEADERS[column], column.value)
}
_STAGE_LOOKUP: dict[str, Stage] = {
    **{_key(name): stage for stage, name in STAGE_NAMES.items()},
    **{_key(alias): stage for alias, stage in _STAGE_ALIASES.items()},
    **{_key(stage.value): stage for stage in Stage},
}
_ROLE_LOOKUP: dict[str, Role] = {
    **{_key(name): role for role, name in ROLE_NAMES.items()},
    **{_key(alias): role for alias, role in _ROLE_ALIASES.items()},
    **{_key(role.value): role for role in IMPORT_ROLES},
}


@dataclass(frozen=True)
class FileError:
    """Why a whole file was refused, e.g. "file.missing_column" naming the column."""

    code: str
    column: Column | None = None


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one row: a code, and where useful the column, value or other row."""

    code: str
    column: Column | None = None
    value: str = ""
    other_line: int = 0
    other_column: Column | None = None


@dataclass(frozen=True)
class RowError:
    """A row that cannot be imported, with the spreadsheet line number (header is line 1)."""

    line: int
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class RosterRow:
    """One valid roster row. None means the cell was empty: keep what is on record."""

    line: int
    name: str
    stage: Stage
    phone: str | None = None
    roles: tuple[Role, ...] = ()
    party_group: str | None = None
    unit: str | None = None
    dates: Mapping[Column, date] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckedRows:
    """A file's rows after checking: the valid ones, the refused ones, or a file-level error."""

    rows: tuple[RosterRow, ...] = ()
    errors: tuple[RowError, ...] = ()
    file_error: FileError | None = None


def column_of(header: str) -> Column | None:
    """The column a header names, in Chinese or English; None for columns we do not read."""
    return _HEADER_LOOKUP.get(_key(header))


def match_headers(headers: Sequence[str]) -> dict[int, Column] | FileError:
    """Map header positions to columns; unknown headers are ignored, required ones checked."""
    found: dict[int, Column] = {}
    for index, header in enumerate(headers):
        column = column_of(header)
        if column is None:
            continue
        if column in found.values():
            return FileError("file.duplicate_column", column)
        found[index] = column
    for column in REQUIRED_COLUMNS:
        if column not in found.values():
            return FileError("file.missing_column", column)
    return found


def locate_header(first_rows: Sequence[Sequence[str]]) -> tuple[int, dict[int, Column]] | FileError:
    """The index of the header row among the first few rows, and its columns."""
    first_error: FileError | None = None
    for index, row in enumerate(first_rows[:HEADER_SCAN_ROWS]):
        matched = match_headers(row)
        if not isinstance(matched, FileError):
            return index, matched
        # A row naming some of our columns is the header the person meant: report its problem.
        if first_error is None and any(column_of(cell) for cell in row):
            first_error = matched
    return first_error or FileError("file.missing_column", Column.NAME)


def parse_stage(text: str) -> Stage | None:
    """A stage written in Chinese (正式党员, 预备党员, …) or as its English code."""
    return _STAGE_LOOKUP.get(_key(text))


def parse_roles(text: str) -> tuple[tuple[Role, ...], list[str]]:
    """Offices listed in one cell ("书记、组织委员"), and the words that are not offices."""
    roles: list[Role] = []
    unknown: list[str] = []
    for word in _ROLE_SEPARATORS.split(unicodedata.normalize("NFKC", text).strip()):
        if not word:
            continue
        role = _ROLE_LOOKUP.get(_key(word))
        if role is None:
            unknown.append(word)
        elif role not in roles:
            roles.append(role)
    return tuple(roles), unknown


def is_empty(values: Mapping[str, str]) -> bool:
    """A row with nothing in any column we read."""
    return not any(v.strip() for v in values.values())


def is_example(values: Mapping[str, str]) -> bool:
    """The template's example row, left in the file."""
    name = parse_real_name(values.get(Column.NAME.value, ""))
    phone = parse_phone(values.get(Column.PHONE.value, ""))
    return name in EXAMPLE_NAMES and phone == EXAMPLE_PHONE


def parse_row(values: Mapping[str, str], line: int, today: date) -> RosterRow | RowError:
    """Check one row (keys are Column values) and return it cleaned, or every problem found."""

    def cell(column: Column) -> str:
        return (values.get(column.value) or "").strip()

    problems: list[Problem] = []
    name = parse_real_name(cell(Column.NAME))
    if isinstance(name, Invalid):
        problems.append(Problem(name.code, Column.NAME))

    phone: str | None = None
    if raw_phone := cell(Column.PHONE):
        parsed = parse_phone(raw_phone)
        if isinstance(parsed, Invalid):
            # 1.38001E+10: the spreadsheet turned the number into a float and lost digits.
            code = "phone.scientific" if _SCIENTIFIC.match(raw_phone) else parsed.code
            problems.append(Problem(code, Column.PHONE, raw_phone))
        else:
            phone = parsed

    stage: Stage | None = None
    if not (raw_stage := cell(Column.STAGE)):
        problems.append(Problem("stage.empty", Column.STAGE))
    elif (stage := parse_stage(raw_stage)) is None:
        problems.append(Problem("stage.unknown", Column.STAGE, raw_stage))

    roles, unknown_roles = parse_roles(cell(Column.ROLES))
    problems += [Problem("role.unknown", Column.ROLES, word) for word in unknown_roles]

    texts: dict[Column, str | None] = {}
    for column in (Column.PARTY_GROUP, Column.UNIT):
        texts[column] = None
        if raw := cell(column):
            text = parse_short_text(raw, TEXT_MAX)
            if isinstance(text, Invalid):
                problems.append(Problem(text.code, column))
            else:
                texts[column] = text
    if Role.GROUP_LEADER in roles and texts[Column.PARTY_GROUP] is None:
        problems.append(Problem("role.needs_party_group", Column.PARTY_GROUP))

    dates: dict[Column, date] = {}
    for column in DATE_COLUMNS:
        if raw := cell(column):
            day = parse_date(raw)
            if isinstance(day, Invalid):
                problems.append(Problem(day.code, column, raw))
            elif day > today:
                problems.append(Problem("date.future", column, raw))
            else:
                dates[column] = day
    latest: tuple[Column, date] | None = None
    for column in DATE_COLUMNS:
        if column in dates:
            if latest is not None and dates[column] < latest[1]:
                problems.append(Problem("date.order", column, other_column=latest[0]))
            latest = (column, dates[column])

    if problems or isinstance(name, Invalid) or stage is None:
        return RowError(line, tuple(problems))
    return RosterRow(
        line=line,
        name=name,
        stage=stage,
        phone=phone,
        roles=roles,
        party_group=texts[Column.PARTY_GROUP],
        unit=texts[Column.UNIT],
        dates=dates,
    )


def check_rows(rows: Sequence[Mapping[str, str]], first_line: int, today: date) -> CheckedRows:
    """Check every row of a file; rows[0] is on spreadsheet line `first_line`.

    Besides each row on its own: a phone may appear once per file, and two rows of the same
    name need phones to tell them apart (otherwise a second import could not match them).
    """
    numbered = [
        (first_line + i, values)
        for i, values in enumerate(rows)
        if not is_empty(values) and not is_example(values)
    ]
    if len(numbered) > MAX_ROWS:
        return CheckedRows(file_error=FileError("file.too_many_rows"))
    if not numbered:
        return CheckedRows(file_error=FileError("file.no_rows"))
    parsed = [parse_row(values, line, today) for line, values in numbered]

    first_by_phone: dict[str, int] = {}
    by_name: dict[str, list[RosterRow]] = {}
    extra: dict[int, list[Problem]] = {}
    for item in parsed:
        if isinstance(item, RowError):
            continue
        by_name.setdefault(item.name, []).append(item)
        if item.phone is None:
            continue
        if item.phone in first_by_phone:
            extra.setdefault(item.line, []).append(
                Problem("phone.duplicate", Column.PHONE, other_line=first_by_phone[item.phone])
            )
        else:
            first_by_phone[item.phone] = item.line
    for same in by_name.values():
        if len(same) > 1 and any(r.phone is None for r in same):
            for r in same[1:]:
                extra.setdefault(r.line, []).append(
                    Problem("name.duplicate", Column.NAME, other_line=same[0].line)
                )

    valid: list[RosterRow] = []
    errors: list[RowError] = []
    for item in parsed:
        if isinstance(item, RowError):
            errors.append(item)
        elif item.line in extra:
            errors.append(RowError(item.line, tuple(extra[item.line])))
        else:
            valid.append(item)
    return CheckedRows(rows=tuple(valid), errors=tuple(errors))


# ---- the /import session, kept as a typed draft ----

STEP_AWAIT_FILE = "await_file"
STEP_CONFIRM = "confirm"

# One file row as (column code, cell) pairs: the draft keeps only typed, JSON-ready values.
StoredRow = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ImportDraft(Draft):
    """/import for one branch: waiting for its file, or a clean preview waiting for 确认导入."""

    FLOW: ClassVar[str] = "roster_import"
    VERSION: ClassVar[int] = 1

    org_id: int = 0
    token: str = ""  # names the preview its confirm button stands for
    first_line: int = 0  # the file line of rows[0]
    rows: tuple[StoredRow, ...] = ()


def awaiting_file(org_id: int) -> ImportDraft:
    """Waiting for the branch's roster file (a new one, or a corrected one)."""
    return ImportDraft(step=STEP_AWAIT_FILE, org_id=org_id)


def previewed(
    org_id: int, token: str, first_line: int, rows: Sequence[Mapping[str, str]]
) -> ImportDraft:
    """A clean preview of these rows, waiting for the button carrying `token`."""
    stored = tuple(tuple(row.items()) for row in rows)
    return ImportDraft(step=STEP_CONFIRM, org_id=org_id, token=token, first_line=first_line,
                       rows=stored)  # fmt: skip


def confirm(draft: ImportDraft, event: Event, now: datetime) -> ImportDraft | Refusal:
    """确认导入 (the button's token in the event's text): only the preview it was shown with."""
    if not draft.token or event.text != draft.token:
        return Refusal("import.stale")
    return dataclasses.replace(draft, step="applying")


IMPORT_STEPS: Steps[ImportDraft] = {
    STEP_AWAIT_FILE: {},
    STEP_CONFIRM: {"confirm": confirm},
}
