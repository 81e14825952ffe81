"""The /form builder's intents: where the sender may send, earlier forms to copy, the columns of
an uploaded sheet, and 确认发布 (the form published and the draft taken in one transaction)."""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import PurePath

import openpyxl
from sqlalchemy import select

from domain.forms import QUESTIONS_MAX, FormKind, Guess, guess_question
from domain.forms_builder import BuildDraft, publish_problem
from domain.orgs import Level, Permission
from services.authz import Actor, descendants, require
from services.drafts import take_draft
from services.errors import ServiceError
from services.forms import FormSpec, FormView, Published, form_view, publish_in
from services.notices import Audience, sendable_orgs
from services.orgs import OrgView, load_org, org_view
from storage.db import Database
from storage.models import Form, Organization

MAX_FILE_BYTES = 2 * 1024 * 1024  # a header row and a few sample rows never come near it
MAX_UNPACKED_BYTES = 32 * 1024 * 1024
MAX_COLUMNS = 60
SAMPLE_ROWS = 200  # rows read below the header to guess each column's type
HEADER_ROWS = 5  # blank rows or a title above the header are skipped within these
_XLSX_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls
_TEXT_SUFFIXES = (".csv", ".txt", ".tsv")
_DELIMITERS = (",", "\t", ";", "，")


@dataclass(frozen=True)
class SheetGuess:
    """What an uploaded sheet suggests: one question per column with a header, and a title
    (a one-cell row above the header, such as "2026年党员信息统计表"), if there was one."""

    questions: tuple[Guess, ...]
    title: str = ""


@dataclass(frozen=True)
class SheetError:
    """Why an uploaded file gives no questions; `code` is a refusal code of ui.errors."""

    code: str


# ---- where one may send ----


async def builder_orgs(db: Database, actor: Actor, today: date) -> list[OrgView]:
    """The organizations one may send forms for: the tops of what one may send notices to."""
    orgs = await sendable_orgs(db, actor, today)
    ids = {o.id for o in orgs}
    return [o for o in orgs if o.parent_id not in ids]


async def builder_branches(db: Database, actor: Actor, root_id: int, today: date) -> list[OrgView]:
    """Every live branch under an organization the actor may send to, by name (the builder's
    picker pages through them and narrows them to a typed part of a name)."""
    async with db.read() as session:
        await load_org(session, root_id)
        await require(session, actor, root_id, Permission.SEND_NOTICE, today)
        ids = await descendants(session, {root_id})
        rows = (
            await session.scalars(
                select(Organization)
                .where(
                    Organization.id.in_(ids),
                    Organization.level != Level.COMMITTEE,
                    Organization.archived_at.is_(None),
                )
                .order_by(Organization.name, Organization.id)
            )
        ).all()
        return [org_view(r) for r in rows]


# ---- earlier forms ----


async def earlier_forms(db: Database, actor: Actor, limit: int | None = None) -> list[FormView]:
    """The forms the sender sent, newest first (to copy one); all of them without a limit."""
    async with db.read() as session:
        query = select(Form).where(Form.sender_id == actor.user_id).order_by(Form.id.desc())
        if limit is not None:
            query = query.limit(limit)
        rows = (await session.scalars(query)).all()
        return [form_view(r) for r in rows]


async def earlier_form(db: Database, actor: Actor, form_id: int) -> FormView:
    """One of the sender's own earlier forms (anybody else's is refused as stale)."""
    async with db.read() as session:
        row = await session.get(Form, form_id)
        if row is None or row.sender_id != actor.user_id:
            raise ServiceError("stale")
        return form_view(row)


# ---- publishing ----


def audience_of(draft: BuildDraft) -> Audience:
    """Who the /form draft is for: the chosen branches, else everything under its org."""
    return Audience(
        org_ids=draft.targets or ((draft.org_id,) if draft.org_id is not None else ()),
        stages=draft.stages,
        party_group_id=draft.party_group_id,
        private_copies=draft.private and draft.kind is FormKind.MEMBER,
    )


def built_spec(draft: BuildDraft) -> FormSpec:
    """What the /form draft asks to publish."""
    if draft.org_id is None or draft.kind is None or draft.title is None or draft.deadline is None:
        raise ServiceError("stale")
    return FormSpec(
        org_id=draft.org_id,
        kind=draft.kind,
        title=draft.title,
        intro=draft.intro or "",
        questions=draft.questions,
        audience=audience_of(draft),
        deadline=draft.deadline,
        late_policy=draft.late,
        anonymous=draft.anonymous and draft.kind is FormKind.MEMBER,
        repeat=draft.repeat,
        due_day=draft.due_day,
        template=draft.template,
    )


async def publish_built(db: Database, actor: Actor, *, now: datetime, today: date) -> Published:
    """确认发布: the sender's /form draft becomes a form with its first cycle and deliveries.

    The draft is taken in the same transaction, so the preview's button pressed again (even
    after a crash between the commit and the reply) finds no draft and is refused as stale;
    a refusal (the deadline passed meanwhile, the right was taken away) keeps the draft.
    """
    async with db.transaction() as session:
        draft = await take_draft(session, actor.user_id, BuildDraft)
        if draft is None or draft.step != "pre":
            raise ServiceError("stale")
        problem = publish_problem(draft, now)
        if problem is not None:
            raise ServiceError(problem.code)  # the rollback keeps the draft
        return await publish_in(session, actor, built_spec(draft), now=now, today=today)


# ---- a sheet's header row becomes questions ----


def questions_from_table(data: bytes, filename: str) -> SheetGuess | SheetError:
    """The questions an uploaded XLSX or CSV (UTF-8, UTF-8 with BOM, GBK) suggests: one per
    column with a header, its type guessed from the cells below; or why there are none."""
    if len(data) > MAX_FILE_BYTES:
        return SheetError("form.build.file_too_large")
    if not data.strip():
        return SheetError("form.build.file_empty")
    suffix = PurePath(filename).suffix.lower()
    # Content decides over the name: people rename files.
    if data.startswith(_XLSX_MAGIC):
        rows = _xlsx_rows(data)
    elif data.startswith(_OLE_MAGIC):
        return SheetError("form.build.file_old_excel")
    elif suffix in _TEXT_SUFFIXES:
        rows = _csv_rows(data)
    else:
        return SheetError("form.build.file_type")
    if isinstance(rows, SheetError):
        return rows
    return _guesses(rows)


def _xlsx_rows(data: bytes) -> list[list[object]] | SheetError:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        return SheetError("form.build.file_corrupt")
    if "xl/workbook.xml" not in names:
        return SheetError("form.build.file_type")  # a .docx or another zip, not a table
    if unpacked > MAX_UNPACKED_BYTES:
        return SheetError("form.build.file_too_large")
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            rows: list[list[object]] = []
            # Only the header and a sample are read: a huge sheet costs no more than this.
            for row in sheet.iter_rows(
                values_only=True, max_col=MAX_COLUMNS, max_row=HEADER_ROWS + SAMPLE_ROWS
            ):
                rows.append(list(row))
            return rows
        finally:
            book.close()
    except Exception:  # noqa: BLE001 - a damaged file makes openpyxl raise nearly anything
        return SheetError("form.build.file_corrupt")


def decode_text(data: bytes) -> str | SheetError:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return SheetError("form.build.file_encoding")
    if b"\x00" in data:
        return SheetError("form.build.file_type")
    for encoding in ("utf-8-sig", "gb18030"):  # GB18030 is a superset of GBK and GB2312
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return SheetError("form.build.file_encoding")


def _csv_rows(data: bytes) -> list[list[object]] | SheetError:
    text = decode_text(data)
    if isinstance(text, SheetError):
        return text
    lines = text.splitlines()[: HEADER_ROWS + SAMPLE_ROWS]
    head = "\n".join(lines[:10])
    delimiter = max(_DELIMITERS, key=head.count)
    try:
        reader = csv.reader(io.StringIO("\n".join(lines), newline=""), delimiter=delimiter)
        rows: list[list[object]] = []
        for row in reader:
            cells: list[object] = [cell.strip() or None for cell in row[:MAX_COLUMNS]]
            rows.append(cells)
        return rows
    except csv.Error:
        return SheetError("form.build.file_corrupt")


def _filled(row: list[object]) -> list[int]:
    return [i for i, v in enumerate(row) if v is not None and str(v).strip() != ""]


def _guesses(rows: list[list[object]]) -> SheetGuess | SheetError:
    """Find the header among the first rows (a title row or blank rows may come first; a
    two-level header with merged cells is read as one), then guess each column."""
    start = next((i for i, r in enumerate(rows[:HEADER_ROWS]) if _filled(r)), None)
    if start is None:
        return SheetError("form.build.file_no_header")
    title = ""
    header = list(rows[start])
    below = start + 1
    nxt = rows[below] if below < len(rows) else []
    if len(_filled(header)) == 1 and len(_filled(nxt)) > 1:
        # A title merged across the top ("2026年党员信息统计表"): the header is the next row.
        title = str(header[_filled(header)[0]]).strip()
        header, below = list(nxt), below + 1
        nxt = rows[below] if below < len(rows) else []
    if _is_subheader(header, nxt):
        # Two levels: "联系方式" merged over 手机 and 邮箱, "姓名" merged down over both rows.
        # Merged cells keep their value in the first cell only; the lower row wins.
        width = max(len(header), len(nxt))
        header = [_at(nxt, c) if _text(_at(nxt, c)) else _at(header, c) for c in range(width)]
        below += 1
    data = rows[below:]
    width = max([len(header), *(len(r) for r in data)] if data else [len(header)])
    guesses: list[Guess] = []
    seen: set[str] = set()
    last = ""
    for c in range(width):
        cells = [_at(r, c) for r in data]
        name = _text(_at(header, c))
        if not name:
            if not any(_text(v) for v in cells):
                continue  # a blank column
            # A header cell merged across this column too: named after it, numbered.
            if not last:
                continue
            name = f"{last}（{sum(1 for g in guesses if g.title.startswith(last)) + 1}）"
        else:
            last = name
        guess = guess_question(name, cells)
        if guess is None or guess.title in seen:
            continue
        seen.add(guess.title)
        guesses.append(guess)
    if not guesses:
        return SheetError("form.build.file_no_header")
    if len(guesses) > QUESTIONS_MAX:
        return SheetError("form.build.file_too_many_columns")
    return SheetGuess(tuple(guesses), title[:60])


def _is_subheader(header: list[object], nxt: list[object]) -> bool:
    """Whether the row below the header names the parts of merged header cells: some of its
    cells sit under a blank (merged) header cell, and it is blank under every header cell
    that spans one column only (those are merged downwards over both rows)."""
    filled = set(_filled(nxt))
    if not filled or any(not isinstance(_at(nxt, c), str) for c in filled):
        return False
    named = _filled(header)
    if not any(not _text(_at(header, c)) for c in filled):
        return False
    last = max(named)
    single = [
        c
        for c in named
        if (c == last and not any(x > c for x in filled))
        or (c < last and _text(_at(header, c + 1)))
    ]
    return not any(c in filled for c in single)


def _at(row: list[object], index: int) -> object:
    return row[index] if index < len(row) else None


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()
