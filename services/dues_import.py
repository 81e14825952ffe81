"""批量设置标准: a keeper sets the branch's dues standards from a sheet. The sheet is read and
checked against the roster, the confirmed standards and the branch's rate table (a dry run
kept as the keeper's draft, nothing written), then 确认导入 writes it all in one transaction.

Bases in the sheet become a bracket and an amount while it is read; they never reach the
database (the draft, the standards, the audit row or a note). Each member whose standard is
set is told privately, in their own language, what it is and from which month — it is their
own amount; members whose row changed nothing are not written to.
"""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import PurePath

import openpyxl
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.dues import Month
from domain.dues_import import (
    MAX_ROWS,
    PROBLEMS_KEPT,
    REQUIRED,
    BulkDraft,
    Current,
    StandardKey,
    StandardLine,
    header_code,
    plan_standards,
)
from domain.members_roster import HEADER_SCAN_ROWS, FileError
from domain.orgs import Permission, Status
from services import audit
from services.authz import Actor, require
from services.drafts import keep_draft, open_draft, take_draft
from services.dues import CONFIRMED, rate_table_for
from services.dues_notes import Localized, in_locale, reader_locales
from services.dues_standards import CHUNK, supersede
from services.errors import NotFound, ServiceError
from services.members_import import (
    BLANK_RUN_LIMIT,
    MAX_FILE_BYTES,
    MAX_UNPACKED_BYTES,
    cell_text,  # the roster's way of reading cells
    decode_text,  # UTF-8, GBK/GB18030 or UTF-16
)
from services.outbox import add_items, item_values
from storage.db import Database
from storage.models import DuesStandard, Member, Organization, User

MAX_COLUMNS = 20
SOURCE = "import"  # the note on standards set from a sheet

Rows = list[tuple[int, dict[str, str]]]
# Why a file cannot be read (domain.members_roster.FileError) → the refusal said.
FILE_CODES = {
    "file.too_large": "dues.bulk.file_too_large",
    "file.no_rows": "dues.bulk.file_no_rows",
    "file.type": "dues.bulk.file_type",
    "file.corrupt": "dues.bulk.file_corrupt",
    "file.old_excel": "dues.bulk.file_old_excel",
    "file.encoding": "dues.bulk.file_encoding",
    "file.missing_column": "dues.bulk.file_missing_column",
    "file.too_many_rows": "dues.bulk.file_too_many_rows",
}


# ---- reading the sheet ----


def read_sheet(
    filename: str,
    content: bytes,
    code_of: Callable[[str], str],
    required: frozenset[str],
    max_rows: int,
) -> Rows | FileError:
    """The data rows of an XLSX (first sheet with the columns) or CSV/TSV (UTF-8, GBK or
    UTF-16), keyed by column code, with the line numbers the spreadsheet shows. The header
    may sit below a title or merged rows (the first HEADER_SCAN_ROWS are searched); a long
    run of blank rows ends the table. Or why the file cannot be read."""
    if len(content) > MAX_FILE_BYTES:
        return FileError("file.too_large")
    if not content.strip():
        return FileError("file.no_rows")
    if content.startswith(b"PK\x03\x04"):
        return _read_xlsx(content, code_of, required, max_rows)
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        return FileError("file.old_excel")
    if PurePath(filename).suffix.lower() not in (".csv", ".txt", ".tsv"):
        return FileError("file.type")
    text = decode_text(content)
    if isinstance(text, FileError):
        return text
    delimiter = max((",", "\t", ";"), key="\n".join(text.splitlines()[:10]).count)
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        table = [[c.strip() for c in row] for row in reader]
    except csv.Error:
        return FileError("file.corrupt")
    return _keyed(iter(table), code_of, required, max_rows)


def _read_xlsx(
    content: bytes, code_of: Callable[[str], str], required: frozenset[str], max_rows: int
) -> Rows | FileError:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            if "xl/workbook.xml" not in archive.namelist():
                return FileError("file.type")  # a .docx or another zip
            if sum(i.file_size for i in archive.infolist()) > MAX_UNPACKED_BYTES:
                return FileError("file.too_large")
    except zipfile.BadZipFile:
        return FileError("file.corrupt")
    try:
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        try:
            first: FileError | None = None
            for sheet in book.worksheets:  # the template's second sheet is its help
                cells = sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS)
                rows = ([cell_text(v) for v in row] for row in cells)
                found = _keyed(rows, code_of, required, max_rows)
                if not isinstance(found, FileError) or found.code != "file.missing_column":
                    return found
                first = first or found
            return first or FileError("file.no_rows")
        finally:
            book.close()
    except Exception:  # noqa: BLE001 - a damaged file makes openpyxl raise nearly anything
        return FileError("file.corrupt")


def _keyed(
    rows: Iterator[list[str]], code_of: Callable[[str], str], required: frozenset[str],
    max_rows: int,
) -> Rows | FileError:  # fmt: skip
    head = list(itertools.islice(rows, HEADER_SCAN_ROWS))
    located = next(
        ((i, codes) for i, codes in enumerate([code_of(c) for c in cells] for cells in head)
         if required <= set(codes)),
        None,
    )  # fmt: skip
    if located is None:
        return FileError("file.missing_column")
    index, codes = located
    found: Rows = []
    blank = 0
    for number, cells in enumerate(itertools.chain(head[index + 1 :], rows), start=index + 2):
        values = {code: cells[i] for i, code in enumerate(codes) if code and i < len(cells)}
        if not any(v.strip() for v in values.values()):
            blank += 1
            if blank >= BLANK_RUN_LIMIT:  # a million formatted empty rows end here
                break
            continue
        blank = 0
        if len(found) >= max_rows:
            return FileError("file.too_many_rows")
        found.append((number, values))
    if not found:
        return FileError("file.no_rows")
    return found


def read_standards(filename: str, content: bytes) -> Rows | FileError:
    """The rows of a 姓名 / 类别 / 月缴金额 / 月收入基数 / 起始月份 sheet."""
    return read_sheet(filename, content, header_code, REQUIRED, MAX_ROWS)


# ---- the intents ----


async def start_standards_import(
    db: Database, actor: Actor, org_id: int, *, now: datetime, today: date
) -> str:
    """批量设置标准 pressed: the keeper is asked for the sheet (kept as their draft); the
    branch's name."""
    async with db.read() as session:
        await require(session, actor, org_id, Permission.KEEP_DUES, today)
        org = await session.get(Organization, org_id)
        if org is None:
            raise NotFound("org.not_found")
        name = org.name
    await keep_draft(db, actor.user_id, BulkDraft("file", org_id), now)
    return name


async def _current(session: AsyncSession, org_id: int) -> dict[int, Current]:
    """The confirmed standards of the branch's active members."""
    rows = await session.execute(
        select(DuesStandard.member_id, DuesStandard.from_month, DuesStandard.category,
               DuesStandard.amount_fen, DuesStandard.permille, DuesStandard.lower_fen,
               DuesStandard.upper_fen)
        .join(Member, Member.id == DuesStandard.member_id)
        .where(Member.org_id == org_id, Member.status == Status.ACTIVE,
               DuesStandard.status == CONFIRMED)
        .order_by(DuesStandard.member_id, DuesStandard.from_month, DuesStandard.id)
    )  # fmt: skip
    spans: dict[int, list[tuple[Month, StandardKey]]] = defaultdict(list)
    for member_id, month, category, amount, permille, lower, upper in rows.all():
        spans[member_id].append((month, (category, amount, permille, lower, upper, month)))
    return {m: Current(tuple(s)) for m, s in spans.items()}


async def preview_standards(
    db: Database,
    actor: Actor,
    filename: str,
    content: bytes,
    *,
    this_month: Month,
    now: datetime,
    today: date,
) -> BulkDraft:
    """The sheet checked against the branch (nothing written): what would be set, what is
    already so, which rows are wrong and why — kept as the draft 确认导入 applies."""
    draft = await open_draft(db, actor.user_id, BulkDraft)
    if not isinstance(draft, BulkDraft):
        raise ServiceError("stale")
    rows = await asyncio.to_thread(read_standards, filename, content)
    if isinstance(rows, FileError):
        raise ServiceError(FILE_CODES.get(rows.code, "dues.bulk.file_corrupt"))
    async with db.read() as session:
        await require(session, actor, draft.org_id, Permission.KEEP_DUES, today)
        roster: dict[str, list[int]] = defaultdict(list)
        names = await session.execute(
            select(Member.id, Member.name).where(
                Member.org_id == draft.org_id, Member.status == Status.ACTIVE
            )
        )
        for member_id, name in names.all():
            roster[" ".join(name.split())].append(member_id)
        current = await _current(session, draft.org_id)
        table = await rate_table_for(session, draft.org_id)
    plan = await asyncio.to_thread(plan_standards, rows, roster, current, table, this_month)
    moved = replace(
        draft, step="preview", lines=plan.lines, unchanged=plan.unchanged,
        problems=plan.problems[:PROBLEMS_KEPT], problem_count=len(plan.problems),
    )  # fmt: skip
    return await keep_draft(db, actor.user_id, moved, now)


async def open_standards_import(db: Database, actor: Actor) -> BulkDraft | None:
    """The keeper's dry run waiting for 确认导入, if any."""
    draft = await open_draft(db, actor.user_id, BulkDraft)
    return draft if isinstance(draft, BulkDraft) and draft.step == "preview" else None


@dataclass(frozen=True)
class Applied:
    """What 确认导入 did: standards set (first ones, changed ones), members told."""

    org_id: int
    new: int
    changed: int
    skipped: int  # lines whose member left the branch meanwhile
    told: int


async def apply_standards(
    db: Database,
    actor: Actor,
    *,
    member_notes: Mapping[StandardKey, Localized[str]],
    default_locale: str,
    now: datetime,
    today: date,
) -> Applied:
    """确认导入: every previewed standard confirmed, superseding the member's confirmed ones
    from its month on; the draft taken in the same transaction (a second press finds none);
    audited once with the counts; each member who uses the bot told in their language."""
    async with db.transaction() as session:
        draft = await take_draft(session, actor.user_id, BulkDraft)
        if draft is None or draft.step != "preview" or not draft.lines:
            raise ServiceError("stale")
        await require(session, actor, draft.org_id, Permission.KEEP_DUES, today)
        if any(line.key not in member_notes for line in draft.lines):
            raise ServiceError("stale")  # the notes were rendered for another preview
        ids = sorted({line.member_id for line in draft.lines})
        users: dict[int, int | None] = {}
        for start in range(0, len(ids), CHUNK):
            found = await session.execute(
                select(Member.id, Member.user_id).where(
                    Member.id.in_(ids[start : start + CHUNK]),
                    Member.org_id == draft.org_id,
                    Member.status == Status.ACTIVE,
                )
            )
            users.update((m, u) for m, u in found.all())
        lines = [line for line in draft.lines if line.member_id in users]
        await supersede(session, {line.member_id: line.from_month for line in lines})
        if lines:
            await session.execute(
                insert(DuesStandard),
                [{"member_id": line.member_id, "org_id": draft.org_id,
                  "category": line.category, "permille": line.permille,
                  "lower_fen": line.lower_fen, "upper_fen": line.upper_fen,
                  "amount_fen": line.amount_fen, "from_month": line.from_month,
                  "status": CONFIRMED, "base_fen": None, "declared_by": actor.user_id,
                  "declared_at": now, "decided_by": actor.user_id, "decided_at": now,
                  "note": SOURCE} for line in lines],
            )  # fmt: skip
        told = await _tell(session, lines, users, member_notes, default_locale, now)
        new = sum(1 for line in lines if line.new)
        applied = Applied(draft.org_id, new, len(lines) - new, len(draft.lines) - len(lines), told)
        audit.record(
            session, at=now, actor_id=actor.user_id, action="dues.standard.import",
            target_type="organization", target_id=draft.org_id,
            after={"new": applied.new, "changed": applied.changed,
                   "unchanged": draft.unchanged, "problems": draft.problem_count,
                   "skipped": applied.skipped, "told": told},
        )  # fmt: skip
        return applied


async def _tell(
    session: AsyncSession,
    lines: list[StandardLine],
    users: Mapping[int, int | None],
    notes: Mapping[StandardKey, Localized[str]],
    default_locale: str,
    now: datetime,
) -> int:
    """Queue each member's note (those who started the bot and did not block it)."""
    wanted = {users[line.member_id]: line for line in lines if users[line.member_id]}
    reachable: set[int] = set()
    ids = sorted(u for u in wanted if u is not None)
    for start in range(0, len(ids), CHUNK):
        found = await session.scalars(
            select(User.id).where(User.id.in_(ids[start : start + CHUNK]),
                                  User.started.is_(True), User.blocked_at.is_(None))
        )  # fmt: skip
        reachable.update(found.all())
    locales = await reader_locales(session, sorted(reachable), default_locale)
    items = [
        item_values(purpose="text", chat_id=uid, now=now,
                    payload={"html": in_locale(notes[line.key], locales[uid], default_locale),
                             "buttons": []})
        for uid, line in wanted.items() if uid in reachable
    ]  # fmt: skip
    await add_items(session, items)
    return len(items)
