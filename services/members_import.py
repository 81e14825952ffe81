"""Roster import: read an XLSX or CSV roster, preview what it would change, then apply it."""

from __future__ import annotations

import asyncio
import codecs
import csv
import io
import itertools
import secrets
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from functools import lru_cache
from pathlib import PurePath
from typing import Any

import openpyxl
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.members_roster import (
    DATE_COLUMNS,
    HEADER_SCAN_ROWS,
    IMPORT_ROLES,
    IMPORT_STEPS,
    MAX_ROWS,
    REQUIRED_COLUMNS,
    ROLE_NAMES,
    STAGE_NAMES,
    TEMPLATE_HEADERS,
    CheckedRows,
    Column,
    FileError,
    ImportDraft,
    Problem,
    RosterRow,
    awaiting_file,
    check_rows,
    is_empty,
    is_example,
    locate_header,
    previewed,
)
from domain.orgs import (
    SINGLE_HOLDER_ROLES,
    STAGE_CHOICES,
    Level,
    Permission,
    Role,
    Stage,
    Status,
)
from domain.wizard import Event, Refusal, apply
from services import audit
from services.authz import Actor, active_role_filter, orgs_with, permissions, require
from services.drafts import Outdated, clear_draft, keep_draft, keep_draft_in, open_draft, take_draft
from services.errors import ServiceError
from services.orgs import load_org
from storage.db import Database
from storage.models import AuditEntry, Member, Organization, PartyGroup, RoleAssignment, Unit

MAX_FILE_BYTES = 2 * 1024 * 1024  # a 5,000-row roster is ~300 KB as XLSX, ~500 KB as CSV
# An XLSX is a zip: a small upload can inflate enormously, so cap what it may unpack to.
MAX_UNPACKED_BYTES = 64 * 1024 * 1024
MAX_COLUMNS = 60
# A run of this many blank lines ends the table: spreadsheets often carry a million
# formatted but empty rows, and reading them all would take minutes.
BLANK_RUN_LIMIT = 1000
PROGRESS_EVERY = 500
FLOW = ImportDraft.FLOW
SOURCE = "import"

_XLSX_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the pre-2007 .xls / .et binary format
_TEXT_SUFFIXES = frozenset({".csv", ".txt", ".tsv"})
_DELIMITERS = (",", "\t", ";")


# ---------------------------------------------------------------- reading files


@dataclass(frozen=True)
class RosterFile:
    """The data rows of a roster file keyed by column code; rows[0] is on `first_line`.

    Blank rows stay in place (as {}) so that row numbers match what the spreadsheet shows.
    """

    first_line: int
    rows: tuple[dict[str, str], ...]


def read_roster(
    filename: str, content: bytes, progress: Callable[[int], None] | None = None
) -> RosterFile | FileError:
    """Read an XLSX or CSV roster (UTF-8, GBK/GB18030 or UTF-16), or say why it cannot be read."""
    if len(content) > MAX_FILE_BYTES:
        return FileError("file.too_large")
    if not content.strip():
        return FileError("file.no_rows")
    suffix = PurePath(filename).suffix.lower()
    # Content decides over the name: people rename files, and Telegram keeps whatever name.
    if content.startswith(_XLSX_MAGIC):
        return _read_xlsx(content, progress)
    if content.startswith(_OLE_MAGIC):
        return FileError("file.old_excel")
    if suffix in _TEXT_SUFFIXES:
        return _read_csv(content, progress)
    return FileError("file.type")


def _read_xlsx(content: bytes, progress: Callable[[int], None] | None) -> RosterFile | FileError:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        return FileError("file.corrupt")
    if "xl/workbook.xml" not in names:
        return FileError("file.type")  # a .docx or some other zip, not a spreadsheet
    if unpacked > MAX_UNPACKED_BYTES:
        return FileError("file.too_large")
    try:
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        try:
            first_error: FileError | None = None
            # The roster is normally the first sheet; a second one may be our help sheet.
            for sheet in book.worksheets:
                rows = (
                    [cell_text(v) for v in row]
                    for row in sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS)
                )
                result = _table(rows, progress)
                if not isinstance(result, FileError) or result.code != "file.missing_column":
                    return result
                first_error = first_error or result
            return first_error or FileError("file.no_rows")
        finally:
            book.close()
    except Exception:  # noqa: BLE001 - a damaged file makes openpyxl raise nearly anything
        return FileError("file.corrupt")


def cell_text(value: object) -> str:
    """A cell as text: numbers without ".0" (phones), dates as 2024-07-01."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))  # 13800138000.0 → "13800138000"
    return str(value).strip()


def decode_text(content: bytes) -> str | FileError:
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode text" export.
        try:
            return content.decode("utf-16")
        except UnicodeDecodeError:
            return FileError("file.encoding")
    if b"\x00" in content:
        return FileError("file.corrupt")
    for encoding in ("utf-8-sig", "gb18030"):  # GB18030 is a superset of GBK and GB2312
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    return FileError("file.encoding")


def _read_csv(content: bytes, progress: Callable[[int], None] | None) -> RosterFile | FileError:
    text = decode_text(content)
    if isinstance(text, FileError):
        return text
    head = "\n".join(text.splitlines()[:10])
    delimiter = max(_DELIMITERS, key=head.count)
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        rows = [[cell.strip() for cell in row] for row in reader]
    except csv.Error:
        return FileError("file.corrupt")
    return _table(iter(rows), progress)


def _table(
    rows: Iterator[list[str]], progress: Callable[[int], None] | None
) -> RosterFile | FileError:
    """Find the header among the first rows, then key every data row by column code."""
    head: list[list[str]] = []
    for row in rows:
        head.append(row)
        if len(head) >= HEADER_SCAN_ROWS:
            break
    located = locate_header(head)
    if isinstance(located, FileError):
        return located
    header_index, columns = located

    def keyed(row: list[str]) -> dict[str, str]:
        return {
            columns[i].value: cell
            for i, cell in enumerate(row)
            if i in columns and cell and not cell.isspace()
        }

    data: list[dict[str, str]] = []
    filled = blank_run = 0
    for row in itertools.chain(head[header_index + 1 :], rows):
        values = keyed(row)
        if is_empty(values):
            blank_run += 1
            if blank_run >= BLANK_RUN_LIMIT:
                break
        elif not is_example(values):  # the template's example row does not use up the limit
            blank_run = 0
            filled += 1
            if filled > MAX_ROWS:
                return FileError("file.too_many_rows")
            if progress is not None and filled % PROGRESS_EVERY == 0:
                progress(filled)
        data.append(values)
    while data and not data[-1]:
        data.pop()
    if not filled:
        return FileError("file.no_rows")
    if progress is not None:
        progress(filled)
    return RosterFile(first_line=header_index + 2, rows=tuple(data))


# ---------------------------------------------------------------- planning


class Outcome(StrEnum):
    """What importing one row does."""

    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    ERROR = "error"


@dataclass(frozen=True)
class RowPlan:
    """One row's outcome: the fields it changes, or why it cannot be imported."""

    line: int
    outcome: Outcome
    name: str = ""
    changes: tuple[str, ...] = ()  # e.g. ("stage", "full_on", "roles")
    problems: tuple[Problem, ...] = ()
    member_id: int | None = None


@dataclass(frozen=True)
class ImportPlan:
    """What an import would do to a branch's roster, row by row, before anything is written."""

    org_id: int
    org_name: str
    rows: tuple[RowPlan, ...] = ()
    file_error: FileError | None = None
    new_units: tuple[str, ...] = ()
    new_party_groups: tuple[str, ...] = ()

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.rows if r.outcome == outcome)

    @property
    def created(self) -> int:
        return self.count(Outcome.CREATE)

    @property
    def updated(self) -> int:
        return self.count(Outcome.UPDATE)

    @property
    def unchanged(self) -> int:
        return self.count(Outcome.UNCHANGED)

    @property
    def errors(self) -> int:
        return self.count(Outcome.ERROR)

    @property
    def error_rows(self) -> tuple[RowPlan, ...]:
        return tuple(r for r in self.rows if r.outcome == Outcome.ERROR)

    @property
    def ok(self) -> bool:
        """Nothing stands in the way: no file error and no refused row."""
        return self.file_error is None and self.errors == 0

    @property
    def has_changes(self) -> bool:
        return self.created + self.updated > 0


@dataclass(frozen=True)
class ImportReport:
    """The result of applying an import: what was written, or the plan that prevented it."""

    plan: ImportPlan
    applied: bool

    @property
    def created(self) -> int:
        return self.plan.created if self.applied else 0

    @property
    def updated(self) -> int:
        return self.plan.updated if self.applied else 0


_RoleKey = tuple[Role, str | None]  # an office and, for 党小组长, the party group's name


@dataclass
class _Existing:
    """A live roster entry as the planner compares it: names instead of unit/group ids."""

    id: int
    name: str
    phone: str | None
    values: dict[str, Any]
    roles: set[_RoleKey]


@dataclass
class _Branch:
    """Everything about a branch the planner needs, loaded with a handful of queries."""

    members: list[_Existing]
    by_phone: dict[str, _Existing]
    by_name: dict[str, list[_Existing]]
    units: dict[str, int]
    groups: dict[str, int]
    # Who holds each single-holder office now: member ids (None for an office held by user).
    single_holders: dict[Role, set[int | None]]


@dataclass
class _Action:
    """A change to write: the row, its target (None: a new entry) and field values."""

    row: RosterRow
    target: _Existing | None
    before: dict[str, Any]
    after: dict[str, Any]
    new_roles: list[_RoleKey]


@dataclass(frozen=True)
class _Planned:
    plan: ImportPlan
    actions: tuple[_Action, ...]
    units: Mapping[str, int]  # the branch's existing units and party groups by name
    groups: Mapping[str, int]


_FIELDS = ("phone", "stage", "unit", "party_group", *(c.value for c in DATE_COLUMNS))


async def _load_branch(session: AsyncSession, org_id: int, today: date) -> _Branch:
    unit_rows = await session.execute(select(Unit.name, Unit.id).where(Unit.org_id == org_id))
    group_rows = await session.execute(
        select(PartyGroup.name, PartyGroup.id).where(PartyGroup.org_id == org_id)
    )
    units: dict[str, int] = {n: i for n, i in unit_rows.all()}
    groups: dict[str, int] = {n: i for n, i in group_rows.all()}
    unit_names = {i: n for n, i in units.items()}
    group_names = {i: n for n, i in groups.items()}
    date_attrs = [getattr(Member, c.value) for c in DATE_COLUMNS]
    rows = await session.execute(
        select(
            Member.id,
            Member.name,
            Member.phone,
            Member.stage,
            Member.unit_id,
            Member.party_group_id,
            *date_attrs,
        ).where(Member.org_id == org_id, Member.status == Status.ACTIVE)
    )
    members: dict[int, _Existing] = {}
    for member_id, name, phone, stage, unit_id, group_id, *dates in rows.all():
        values: dict[str, Any] = {
            "phone": phone,
            "stage": stage,
            "unit": unit_names.get(unit_id),
            "party_group": group_names.get(group_id),
        }
        values.update({c.value: d for c, d in zip(DATE_COLUMNS, dates, strict=True)})
        members[member_id] = _Existing(member_id, name, phone, values, set())
    single: dict[Role, set[int | None]] = {}
    held = await session.execute(
        select(RoleAssignment.member_id, RoleAssignment.role, RoleAssignment.party_group_id).where(
            RoleAssignment.org_id == org_id, *active_role_filter(today)
        )
    )
    for member_id, role_code, group_id in held.all():
        role = Role(role_code)
        if member_id is not None and member_id not in members:
            continue  # an office of someone no longer on the roster confers nothing (authz)
        if role in SINGLE_HOLDER_ROLES:
            single.setdefault(role, set()).add(member_id)
        if member_id is not None:
            group = group_names.get(group_id or 0) if role == Role.GROUP_LEADER else None
            members[member_id].roles.add((role, group))
    by_name: dict[str, list[_Existing]] = {}
    for m in members.values():
        by_name.setdefault(m.name, []).append(m)
    return _Branch(
        members=list(members.values()),
        by_phone={m.phone: m for m in members.values() if m.phone},
        by_name=by_name,
        units=units,
        groups=groups,
        single_holders=single,
    )


def _desired(row: RosterRow) -> dict[str, Any]:
    """The fields a row sets; empty cells are absent (they keep what is on record)."""
    values: dict[str, Any] = {"stage": row.stage.value}
    if row.phone is not None:
        values["phone"] = row.phone
    if row.unit is not None:
        values["unit"] = row.unit
    if row.party_group is not None:
        values["party_group"] = row.party_group
    values.update({c.value: d for c, d in row.dates.items()})
    return values


def _match(branch: _Branch, row: RosterRow) -> tuple[_Existing | None, list[Problem]]:
    """The roster entry a row is about: same phone, else the only entry of that name."""
    if row.phone is not None and (by_phone := branch.by_phone.get(row.phone)) is not None:
        if by_phone.name != row.name:
            return None, [Problem("phone.taken", Column.PHONE, by_phone.name)]
        return by_phone, []
    same_name = branch.by_name.get(row.name, [])
    if row.phone is None and len(same_name) > 1:
        return None, [Problem("name.ambiguous", Column.NAME)]
    # A different phone on record means a different person who happens to share the name.
    if len(same_name) == 1 and (row.phone is None or same_name[0].phone is None):
        return same_name[0], []
    return None, []


def _plan(
    org: Organization, branch: _Branch, checked: CheckedRows, can_manage_roles: bool
) -> _Planned:
    plans: list[RowPlan] = [
        RowPlan(line=e.line, outcome=Outcome.ERROR, problems=e.problems) for e in checked.errors
    ]
    actions: list[_Action] = []
    claimed: dict[int, int] = {}  # member id → the line that already claimed it
    single_claims: dict[Role, int] = {}
    for row in checked.rows:
        target, problems = _match(branch, row)
        if target is not None and target.id in claimed:
            problems.append(Problem("row.same_member", other_line=claimed[target.id]))
        held = target.roles if target is not None else set()
        wanted = [(r, row.party_group if r == Role.GROUP_LEADER else None) for r in row.roles]
        new_roles = [key for key in wanted if key not in held]
        if new_roles and not can_manage_roles:
            # Offices carry permissions: only those who may assign offices may import them.
            problems.append(Problem("role.not_allowed", Column.ROLES))
        for role, _group in new_roles:
            if role not in SINGLE_HOLDER_ROLES:
                continue
            others = branch.single_holders.get(role, set()) - {target.id if target else None}
            if others:
                problems.append(Problem("role.taken", Column.ROLES, role.value))
            elif role in single_claims:
                problems.append(
                    Problem("role.taken", Column.ROLES, role.value, single_claims[role])
                )
            else:
                single_claims[role] = row.line
        if problems:
            plans.append(RowPlan(row.line, Outcome.ERROR, row.name, problems=tuple(problems)))
            continue
        desired = _desired(row)
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        if target is None:
            after = {"name": row.name, **desired}
        else:
            claimed[target.id] = row.line
            for name, value in desired.items():
                if target.values[name] != value:
                    before[name], after[name] = target.values[name], value
        if new_roles:
            after["roles"] = [role.value for role, _ in new_roles]
        if target is None:
            outcome = Outcome.CREATE
        else:
            outcome = Outcome.UPDATE if after else Outcome.UNCHANGED
        plans.append(
            RowPlan(
                line=row.line,
                outcome=outcome,
                name=row.name,
                changes=tuple(k for k in after if k != "name"),
                member_id=target.id if target is not None else None,
            )
        )
        if outcome != Outcome.UNCHANGED:
            actions.append(_Action(row, target, before, after, new_roles))
    new_units = _new_names((a.after.get("unit") for a in actions), branch.units)
    new_groups = _new_names(
        itertools.chain.from_iterable(
            [a.after.get("party_group"), *(g for _, g in a.new_roles)] for a in actions
        ),
        branch.groups,
    )
    plan = ImportPlan(
        org_id=org.id,
        org_name=org.name,
        rows=tuple(sorted(plans, key=lambda p: p.line)),
        new_units=new_units,
        new_party_groups=new_groups,
    )
    return _Planned(plan, tuple(actions), branch.units, branch.groups)


def _new_names(names: Iterable[str | None], existing: Mapping[str, int]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(n for n in names if n is not None and n not in existing))


async def _branch_org(session: AsyncSession, org_id: int, *, lock: bool = False) -> Organization:
    if lock:
        # Serializes imports into one branch on PostgreSQL (SQLite's BEGIN IMMEDIATE already
        # does): two admins confirming at once must not both create the same people.
        await session.execute(
            select(Organization.id).where(Organization.id == org_id).with_for_update()
        )
    org = await load_org(session, org_id)
    if org.level != Level.BRANCH:
        raise ServiceError("import.not_branch")
    return org


async def _plan_in(
    session: AsyncSession, actor: Actor, org: Organization, roster: RosterFile, today: date
) -> _Planned:
    checked = check_rows(roster.rows, roster.first_line, today)
    if checked.file_error is not None:
        return _Planned(ImportPlan(org.id, org.name, file_error=checked.file_error), (), {}, {})
    can_manage_roles = Permission.MANAGE_ROLES in await permissions(session, actor, org.id, today)
    branch = await _load_branch(session, org.id, today)
    return _plan(org, branch, checked, can_manage_roles)


async def plan_import(
    db: Database, actor: Actor, org_id: int, roster: RosterFile, today: date
) -> ImportPlan:
    """What importing this roster into the branch would change; nothing is written."""
    async with db.read() as session:
        org = await _branch_org(session, org_id)
        await require(session, actor, org_id, Permission.MANAGE_MEMBERS, today)
        return (await _plan_in(session, actor, org, roster, today)).plan


async def apply_import(
    db: Database, actor: Actor, org_id: int, roster: RosterFile, now: datetime, today: date
) -> ImportReport:
    """Write the roster into the branch in one transaction, only if every row is valid."""
    try:
        async with db.transaction() as session:
            return await _apply_in(session, actor, org_id, roster, now, today)
    except IntegrityError as exc:
        # Someone registered with one of these phones between our reading and writing.
        raise ServiceError("import.conflict") from exc


async def _apply_in(
    session: AsyncSession,
    actor: Actor,
    org_id: int,
    roster: RosterFile,
    now: datetime,
    today: date,
) -> ImportReport:
    # Re-planned inside the writing transaction: what was previewed may be out of date.
    org = await _branch_org(session, org_id, lock=True)
    await require(session, actor, org_id, Permission.MANAGE_MEMBERS, today)
    planned = await _plan_in(session, actor, org, roster, today)
    plan = planned.plan
    if not plan.ok or not plan.has_changes:
        return ImportReport(plan, applied=False)
    await _write(session, actor, org_id, planned, now, today)
    return ImportReport(plan, applied=True)


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


async def _insert_named(
    session: AsyncSession, model: type[Unit] | type[PartyGroup], org_id: int, names: Sequence[str]
) -> dict[str, int]:
    if not names:
        return {}
    rows = await session.execute(
        insert(model).returning(model.name, model.id),
        [{"org_id": org_id, "name": n} for n in names],
    )
    return {name: new_id for name, new_id in rows}


async def _write(
    session: AsyncSession,
    actor: Actor,
    org_id: int,
    planned: _Planned,
    now: datetime,
    today: date,
) -> None:
    """Bulk-write the planned changes: a few statements, however many rows."""
    plan = planned.plan
    unit_ids = {**planned.units, **await _insert_named(session, Unit, org_id, plan.new_units)}
    group_ids = {
        **planned.groups,
        **await _insert_named(session, PartyGroup, org_id, plan.new_party_groups),
    }

    def columns(after: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in after.items():
            if name == "unit":
                out["unit_id"] = unit_ids[value]
            elif name == "party_group":
                out["party_group_id"] = group_ids[value]
            elif name in _FIELDS:
                out[name] = value
        return out

    creates = [a for a in planned.actions if a.target is None]
    blank = {
        f: None for f in ("phone", "unit_id", "party_group_id", *(c.value for c in DATE_COLUMNS))
    }
    # render_nulls keeps every row in one batch (by default rows are grouped by which
    # values are None). RETURNING rows are matched back by (name, phone), which check_rows
    # makes unique among new entries: asking for parameter order costs seconds on SQLite.
    new_ids: dict[tuple[str, str | None], int] = {}
    if creates:
        returned = await session.execute(
            insert(Member)
            .returning(Member.name, Member.phone, Member.id)
            .execution_options(render_nulls=True),
            [
                {
                    **blank,
                    **columns(a.after),
                    "org_id": org_id,
                    "name": a.row.name,
                    "status": Status.ACTIVE.value,
                    "source": SOURCE,
                    "created_at": now,
                    "updated_at": now,
                }
                for a in creates
            ],
        )
        new_ids = {(name, phone): new_id for name, phone, new_id in returned}
    if len(new_ids) != len(creates):
        raise ServiceError("import.conflict")  # cannot happen after check_rows; never guess
    member_ids = {id(a): new_ids[a.row.name, a.row.phone] for a in creates}
    changed = [
        {"id": a.target.id, **columns(a.after), "updated_at": now}
        for a in planned.actions
        if a.target is not None and set(a.after) - {"roles"}
    ]
    if changed:
        await session.execute(update(Member), changed)

    roles: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    actor_id = actor.user_id or None
    for action in planned.actions:
        member_id = action.target.id if action.target is not None else member_ids[id(action)]
        roles += [
            {
                "org_id": org_id,
                "role": role.value,
                "member_id": member_id,
                "user_id": None,
                "party_group_id": group_ids[group] if group is not None else None,
                "start_on": today,
                "end_on": None,
                "created_at": now,
            }
            for role, group in action.new_roles
        ]
        entries.append(
            {
                "at": now,
                "actor_id": actor_id,
                "action": "member.update" if action.target is not None else "member.create",
                "target_type": "member",
                "target_id": str(member_id),
                "before": {k: _json(v) for k, v in action.before.items()} or None,
                "after": {**{k: _json(v) for k, v in action.after.items()}, "source": SOURCE},
            }
        )
    if roles:
        await session.execute(insert(RoleAssignment), roles)
    # One statement for thousands of entries; audit.record (one ORM object each) would be
    # several times slower here. The import as a whole gets its own entry below.
    await session.execute(insert(AuditEntry), entries)
    audit.record(
        session,
        at=now,
        actor_id=actor_id,
        action="roster.import",
        target_type="org",
        target_id=org_id,
        after={
            "created": plan.created,
            "updated": plan.updated,
            "unchanged": plan.unchanged,
            "units": list(plan.new_units),
            "party_groups": list(plan.new_party_groups),
        },
    )


# ---------------------------------------------------------------- the chat flow


@dataclass(frozen=True)
class BranchChoice:
    """A branch the person may import into."""

    id: int
    name: str


@dataclass(frozen=True)
class ImportSession:
    """Where a person is in the import flow (kept in the drafts table, survives restarts)."""

    org_id: int
    step: str
    token: str


@dataclass(frozen=True)
class ImportPreview:
    """A checked upload: the plan (or the file's problem) and, when confirmable, a token."""

    branch: BranchChoice
    plan: ImportPlan | None
    file_error: FileError | None
    token: str = ""  # set when the admin may confirm; the confirm button carries it


async def import_branches(db: Database, actor: Actor, today: date) -> list[BranchChoice]:
    """The branches whose roster this person may import, by name."""
    async with db.read() as session:
        ids = await orgs_with(session, actor, Permission.MANAGE_MEMBERS, today)
        if not ids:
            return []
        rows = await session.execute(
            select(Organization.id, Organization.name).where(Organization.id.in_(ids))
        )
        names = dict(rows.all())
    return [BranchChoice(i, names[i]) for i in ids if i in names]


async def start_import_session(
    db: Database, actor: Actor, org_id: int, now: datetime, today: date
) -> BranchChoice:
    """Begin waiting for this person's roster file for the branch (replaces any other draft)."""
    async with db.read() as session:
        org = await _branch_org(session, org_id)
        await require(session, actor, org_id, Permission.MANAGE_MEMBERS, today)
        branch = BranchChoice(org.id, org.name)
    await keep_draft(db, actor.user_id, awaiting_file(org_id), now)
    return branch


async def open_import_session(db: Database, user_id: int) -> ImportSession | Outdated | None:
    """The person's import in progress; Outdated (and dropped) when an older release kept it."""
    draft = await open_draft(db, user_id, ImportDraft)
    if draft is None or isinstance(draft, Outdated):
        return draft
    return ImportSession(draft.org_id, draft.step, draft.token)


async def import_session(db: Database, user_id: int) -> ImportSession | None:
    """The person's import in progress, if any (one saved by an older release is dropped)."""
    current = await open_import_session(db, user_id)
    return None if isinstance(current, Outdated) else current


async def end_import_session(db: Database, user_id: int, token: str | None = None) -> bool:
    """Forget the person's import in progress (only the preview with this token, when given)."""
    if token is not None:
        current = await import_session(db, user_id)
        if current is None or not token or current.token != token:
            return False
    return await clear_draft(db, user_id, FLOW)


async def preview_import(
    db: Database, actor: Actor, filename: str, content: bytes, now: datetime, today: date
) -> ImportPreview:
    """Check an uploaded roster against the branch; keep it for confirmation if it is clean."""
    current = await import_session(db, actor.user_id)
    if current is None:
        raise ServiceError("import.no_session")
    # Parsing 5,000 rows takes a moment: keep the event loop free for other chats.
    roster = await asyncio.to_thread(read_roster, filename, content)
    async with db.read() as session:
        org = await _branch_org(session, current.org_id)
        await require(session, actor, org.id, Permission.MANAGE_MEMBERS, today)
        branch = BranchChoice(org.id, org.name)
        plan = None if isinstance(roster, FileError) else (
            await _plan_in(session, actor, org, roster, today)).plan  # fmt: skip
    token = ""
    if plan is not None and plan.ok and not plan.has_changes:
        await clear_draft(db, actor.user_id, FLOW)
    elif plan is not None and plan.ok:
        assert isinstance(roster, RosterFile)
        token = secrets.token_hex(4)
        draft = previewed(org.id, token, roster.first_line, roster.rows)
        await keep_draft(db, actor.user_id, draft, now)
    else:
        # Waiting for a corrected file; an earlier clean preview is no longer the one.
        await keep_draft(db, actor.user_id, awaiting_file(org.id), now)
    file_error = roster if isinstance(roster, FileError) else (plan.file_error if plan else None)
    return ImportPreview(branch, plan, file_error, token)


async def confirm_import(
    db: Database, actor: Actor, token: str, now: datetime, today: date
) -> ImportReport:
    """Apply the previewed roster the confirm button stands for, then end the flow."""
    try:
        async with db.transaction() as session:
            # Taken inside this transaction: gone exactly when the roster is written, so
            # the same button pressed again finds nothing (refused, never applied twice).
            draft = await take_draft(session, actor.user_id, ImportDraft)
            if draft is None or isinstance(
                apply(IMPORT_STEPS, draft, Event("confirm", text=token), now), Refusal
            ):
                raise ServiceError("import.stale")
            roster = RosterFile(draft.first_line, tuple(dict(row) for row in draft.rows))
            report = await _apply_in(session, actor, draft.org_id, roster, now, today)
            if not (report.applied or report.plan.ok):
                # Back to waiting for a corrected file; the stored rows are of no more use.
                await keep_draft_in(session, actor.user_id, awaiting_file(draft.org_id), now)
            return report
    except IntegrityError as exc:
        raise ServiceError("import.conflict") from exc


# ---------------------------------------------------------------- the template

# The template is a file format, not chat text: its headers and choices must be exactly what
# the parser accepts, so they come from domain.members_roster, and the help sheet lives beside them.
_TEMPLATE_TEXT: dict[str, dict[str, Any]] = {
    "zh_CN": {
        "sheets": ("名册", "说明"),
        "help_header": ("列名", "是否必填", "填写说明"),
        "required": "必填",
        "optional": "选填",
        "example": {
            Column.NAME: "王芳",
            Column.PHONE: "13800138000",
            Column.STAGE: STAGE_NAMES[Stage.FULL],
            Column.ROLES: "组织委员、党小组长",
            Column.PARTY_GROUP: "第一党小组",
            Column.UNIT: "某某科技有限公司",
        },
        "columns": {
            Column.NAME: "本人的真实姓名，不超过 30 个字。",
            Column.PHONE: "11 位手机号，例如 13800138000。已在名册中的人按手机号对应，"
            "重复导入不会重复登记；同名的人请务必填写手机号。",
            Column.STAGE: "可填：{stages}。",
            Column.ROLES: "可填：{roles}；多个职务用顿号分隔，例如“书记、组织委员”。"
            "填写党小组长时，请同时填写党小组。",
            Column.PARTY_GROUP: "所在党小组的名称；名册中还没有的党小组会自动建立。",
            Column.UNIT: "所在单位（企业或组织）的名称；还没有的单位会自动建立。",
            Column.APPLIED_ON: "日期，例如 2024-07-01 或 2024年7月1日。以下日期列相同。",
            Column.ACTIVIST_ON: "确定为入党积极分子的日期。",
            Column.CANDIDATE_ON: "确定为发展对象的日期。",
            Column.PROBATIONARY_ON: "接收为预备党员（入党）的日期。",
            Column.FULL_ON: "转为正式党员的日期。",
        },
        "notes": (
            "第 1 行是列名，请不要修改；第 2 行是示例（王芳），导入时会自动忽略，可以保留或删除。",
            "每个文件最多 {max_rows} 人。留空的格子表示不修改名册中已有的内容。",
            "已在名册中的人按手机号对应（没有手机号时按姓名），只更新有变化的内容。",
            "导入前我会先列出将要新增和更新的人数以及有误的行，您确认后才会写入。",
        ),
    },
    "en": {
        "sheets": ("Roster", "Help"),
        "help_header": ("Column", "Required", "How to fill it in"),
        "required": "required",
        "optional": "optional",
        "example": {
            Column.NAME: "Wang Fang",
            Column.PHONE: "13800138000",
            Column.STAGE: Stage.FULL.value,
            Column.ROLES: f"{Role.ORGANIZATION.value}, {Role.GROUP_LEADER.value}",
            Column.PARTY_GROUP: "Group 1",
            Column.UNIT: "Example Technology Co., Ltd.",
        },
        "columns": {
            Column.NAME: "The person's real name, at most 30 characters.",
            Column.PHONE: "11-digit mobile number, e.g. 13800138000. People already on the "
            "roster are matched by phone, so importing again creates no duplicates; people "
            "who share a name must have a phone.",
            Column.STAGE: "One of: {stages}.",
            Column.ROLES: "Any of: {roles}; separate several with commas. A group_leader "
            "also needs the party_group column.",
            Column.PARTY_GROUP: "The party group's name; groups not yet on record are created.",
            Column.UNIT: "The employer's name; units not yet on record are created.",
            Column.APPLIED_ON: "A date such as 2024-07-01. The same for every date column.",
            Column.ACTIVIST_ON: "When the person became an activist.",
            Column.CANDIDATE_ON: "When the person became a candidate.",
            Column.PROBATIONARY_ON: "When the person became a probationary member.",
            Column.FULL_ON: "When the person became a full member.",
        },
        "notes": (
            "Row 1 holds the column names: keep them. Row 2 is an example (Wang Fang) that the "
            "import skips: keep it or delete it.",
            "At most {max_rows} people per file. An empty cell keeps what the roster has.",
            "People already on the roster are matched by phone (by name when there is no "
            "phone); only what differs is updated.",
            "Before anything is written you see how many people would be added and updated, "
            "and which rows need fixing; nothing changes until you confirm.",
        ),
    },
}
_EXAMPLE_DATES = (
    date(2015, 3, 1),
    date(2016, 3, 1),
    date(2017, 3, 1),
    date(2017, 7, 1),
    date(2018, 7, 1),
)


def choices_text(locale: str) -> tuple[str, str]:
    """The stage and role values people may write, as the template's language shows them."""
    if locale == "en":
        return (
            ", ".join(s.value for s in STAGE_CHOICES),
            ", ".join(r.value for r in IMPORT_ROLES),
        )
    return "、".join(STAGE_NAMES[s] for s in STAGE_CHOICES), "、".join(
        ROLE_NAMES[r] for r in IMPORT_ROLES
    )


@lru_cache(maxsize=4)
def roster_template(locale: str = "zh_CN") -> bytes:
    """An XLSX to fill in: header row, an example row, and a help sheet listing allowed values."""
    lang = locale if locale in _TEMPLATE_TEXT else "zh_CN"
    text = _TEMPLATE_TEXT[lang]
    headers = TEMPLATE_HEADERS[lang]
    stages, roles = choices_text(lang)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = text["sheets"][0]
    columns = list(Column)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="FDE9D9")
    sheet.append([headers[c] for c in columns])
    example = dict(text["example"])
    example.update(zip(DATE_COLUMNS, _EXAMPLE_DATES, strict=True))
    sheet.append([example.get(c) for c in columns])
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        header = sheet.cell(row=1, column=index)
        header.font = bold
        if column in REQUIRED_COLUMNS:
            header.fill = fill
        dimension = sheet.column_dimensions[letter]
        # Chinese characters are about two columns wide.
        width = sum(2 if ord(ch) > 0x2E80 else 1 for ch in headers[column])
        dimension.width = max(width + 4, 14 if column != Column.UNIT else 24)
        if column == Column.PHONE:
            dimension.number_format = "@"  # text: a long number would turn into 1.38E+10
            sheet.cell(row=2, column=index).number_format = "@"
        elif column in DATE_COLUMNS:
            dimension.number_format = "yyyy-mm-dd"
            sheet.cell(row=2, column=index).number_format = "yyyy-mm-dd"
    stage_letter = get_column_letter(columns.index(Column.STAGE) + 1)
    choices = ",".join(s.value if lang == "en" else STAGE_NAMES[s] for s in STAGE_CHOICES)
    # A drop-down that suggests without refusing: the English codes are accepted too.
    validation = DataValidation(
        type="list", formula1=f'"{choices}"', allow_blank=True, showErrorMessage=False
    )
    validation.add(f"{stage_letter}2:{stage_letter}{MAX_ROWS + 1}")
    sheet.add_data_validation(validation)
    sheet.freeze_panes = "A2"

    help_sheet = book.create_sheet(text["sheets"][1])
    help_sheet.append(list(text["help_header"]))
    for cell in help_sheet[1]:
        cell.font = bold
    for column in columns:
        required = text["required"] if column in REQUIRED_COLUMNS else text["optional"]
        note = text["columns"][column].format(stages=stages, roles=roles)
        help_sheet.append([headers[column], required, note])
    help_sheet.append([])
    for note in text["notes"]:
        help_sheet.append([note.format(max_rows=MAX_ROWS)])
    help_sheet.column_dimensions["A"].width = 18
    help_sheet.column_dimensions["B"].width = 10
    help_sheet.column_dimensions["C"].width = 90
    for row in help_sheet.iter_rows(min_row=2):
        row[-1].alignment = Alignment(wrap_text=True, vertical="top")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
