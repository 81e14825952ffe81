"""Forms: opening a form to answer it, with what is already known filled in, and the branch
roster a member-picker question chooses from.

Pre-filled answers come, in this order of trust: the person's own earlier answer to this
cycle (changing it), the roster (phone, unit: the 党员信息更新 questions tied to it), and the
previous cycle's answer of the same member or branch ("与上期相同").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.forms import (
    ROSTER_PHONE,
    ROSTER_UNIT,
    FormKind,
    LatePolicy,
    QType,
    Question,
    Timeliness,
    Value,
    answers_from_json,
    may_answer,
    timeliness,
)
from domain.forms_wizard import AnswerDraft, start
from domain.orgs import Status
from services.authz import Actor, roles_in
from services.drafts import keep_draft
from services.errors import ServiceError
from services.forms import FormView, form_view, load_cycle, member_respondent
from services.forms_delivery import ANSWERING_ROLES
from services.notices import notice_branches
from storage.db import Database
from storage.models import FormCycle, FormResponse, Member, Organization, Unit

PICKER_PAGE = 8  # members per page of a member-picker question
SEARCH_MAX = 30  # characters of a typed name filter


@dataclass(frozen=True)
class Header:
    """What every answering screen says at the top: the form, for whom, by when."""

    cycle_id: int
    title: str
    intro: str
    kind: FormKind
    deadline: datetime
    late_policy: LatePolicy
    anonymous: bool
    branch: str  # the branch answered for (branch forms), else ""


@dataclass(frozen=True)
class Opening:
    """A form opened to answer: the saved draft and what the first screen tells."""

    draft: AnswerDraft
    header: Header
    status: str | None  # the earlier answer's status (submitted / returned), None if new
    comment: str | None  # 退回修改: the reviewer's comment
    from_previous: bool  # answers were carried over from the previous cycle
    late: bool  # past the deadline, accepted as 迟报


@dataclass(frozen=True)
class BranchChoice:
    """A branch form for someone who answers for several branches: which one now."""

    cycle_id: int
    title: str
    branches: tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class RosterPage:
    """One page of the branch roster for a member-picker question."""

    members: tuple[tuple[int, str], ...]
    page: int
    pages: int
    query: str


def header_of(form: FormView, cycle: FormCycle, branch: str) -> Header:
    """The screen header of a cycle."""
    return Header(
        cycle.id, form.title, form.intro, form.kind, cycle.deadline, form.late_policy,
        form.anonymous, branch,
    )  # fmt: skip


async def answer_header(db: Database, cycle_id: int, branch_id: int) -> Header:
    """The header of an open answer's screens."""
    async with db.read() as session:
        form_row, cycle = await load_cycle(session, cycle_id)
        branch = await session.get(Organization, branch_id) if branch_id else None
        return header_of(form_view(form_row), cycle, branch.name if branch else "")


async def _officer_branches(
    session: AsyncSession, actor: Actor, form: FormView, today: date
) -> list[Organization]:
    """The audience's branches this person answers branch forms for."""
    branches = await notice_branches(session, form.audience)
    held = await roles_in(session, actor.user_id, [b.id for b in branches], today)
    mine = {org for org, role in held if role in ANSWERING_ROLES}
    return [b for b in branches if b.id in mine]


async def open_answer(
    db: Database, actor: Actor, cycle_id: int, branch_id: int, *, now: datetime, today: date
) -> Opening | BranchChoice:
    """Start (or resume changing) the person's answer to a cycle, saved as their open wizard;
    refused when the form is closed, too late, locked, or not theirs to answer."""
    async with db.read() as session:
        form_row, cycle = await load_cycle(session, cycle_id)
        form = form_view(form_row)
        if form.status != "open":
            raise ServiceError("form.closed")
        if not may_answer(form.late_policy, cycle.deadline, now):
            raise ServiceError("form.too_late")
        member: Member | None = None
        branch_name = ""
        if form.kind is FormKind.MEMBER:
            member = await member_respondent(session, actor.user_id, form.audience)
            if member is None:
                raise ServiceError("form.not_yours")
            respondent, branch_id = f"m:{member.id}", 0
        else:
            mine = await _officer_branches(session, actor, form, today)
            chosen = [b for b in mine if b.id == branch_id] if branch_id else mine
            if not chosen:
                raise ServiceError("form.not_yours")
            if len(chosen) > 1:
                return BranchChoice(cycle.id, form.title, tuple((b.id, b.name) for b in chosen))
            branch_id, branch_name = chosen[0].id, chosen[0].name
            respondent = f"b:{branch_id}"
        existing = await session.scalar(
            select(FormResponse).where(
                FormResponse.cycle_id == cycle.id, FormResponse.respondent == respondent
            )
        )
        if existing is not None and existing.status == "accepted":
            raise ServiceError("form.locked")
        if existing is not None and form.anonymous:
            raise ServiceError("form.anonymous_final")
        prefill: dict[int, Value] = {}
        from_previous = False
        if existing is not None and existing.answers is not None:
            prefill = answers_from_json(form.questions, existing.answers)
        elif not form.anonymous:
            prefill = await _previous_answers(session, form, cycle, respondent)
            from_previous = bool(prefill)
            if member is not None:
                prefill.update(await _roster_answers(session, form.questions, member))
    draft = start(cycle.id, form.questions, prefill, branch_id=branch_id)
    await keep_draft(db, actor.user_id, draft, now)
    return Opening(
        draft, header_of(form, cycle, branch_name),
        existing.status if existing is not None else None,
        existing.review_comment if existing is not None and existing.status == "returned" else None,
        from_previous, timeliness(now, cycle.deadline) is Timeliness.LATE,
    )  # fmt: skip


async def _previous_answers(
    session: AsyncSession, form: FormView, cycle: FormCycle, respondent: str
) -> dict[int, Value]:
    """The same member's or branch's answers to the form's previous cycle."""
    stored = await session.scalar(
        select(FormResponse.answers)
        .join(FormCycle, FormCycle.id == FormResponse.cycle_id)
        .where(
            FormCycle.form_id == form.id,
            FormCycle.id != cycle.id,
            FormCycle.opens_at < cycle.opens_at,
            FormResponse.respondent == respondent,
            FormResponse.nothing_to_report.is_(False),
        )
        .order_by(FormCycle.opens_at.desc())
        .limit(1)
    )
    return {} if stored is None else answers_from_json(form.questions, stored)


async def _roster_answers(
    session: AsyncSession, questions: tuple[Question, ...], member: Member
) -> dict[int, Value]:
    """What the roster says for the questions tied to it (phone, unit)."""
    unit = await session.get(Unit, member.unit_id) if member.unit_id else None
    known = {ROSTER_PHONE: member.phone or "", ROSTER_UNIT: unit.name if unit else ""}
    return {
        i: known[q.roster]
        for i, q in enumerate(questions)
        if q.roster in known and known[q.roster] and q.type in (QType.PHONE, QType.SHORT)
    }


async def _picker_branch(session: AsyncSession, user_id: int, draft: AnswerDraft) -> int | None:
    """The branch whose roster a member-picker question chooses from."""
    if draft.branch_id:
        return draft.branch_id
    form_row, _cycle_row = await load_cycle(session, draft.cycle_id)
    member = await member_respondent(session, user_id, form_view(form_row).audience)
    return member.org_id if member is not None else None


def _roster_query(branch_id: int, query: str) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        Member.org_id == branch_id,
        Member.status == Status.ACTIVE,
    ]
    if query:
        conditions.append(Member.name.contains(query, autoescape=True))
    return conditions


async def roster_page(
    db: Database, user_id: int, draft: AnswerDraft, page: int, query: str = ""
) -> RosterPage:
    """A page of the branch's active members for a member-picker question, by name."""
    query = query.strip()[:SEARCH_MAX]
    async with db.read() as session:
        branch_id = await _picker_branch(session, user_id, draft)
        if branch_id is None:
            raise ServiceError("form.not_yours")
        where = _roster_query(branch_id, query)
        total = int(
            await session.scalar(select(func.count()).select_from(Member).where(*where)) or 0
        )
        pages = max((total + PICKER_PAGE - 1) // PICKER_PAGE, 1)
        page = min(max(page, 0), pages - 1)
        rows = await session.execute(
            select(Member.id, Member.name)
            .where(*where)
            .order_by(Member.name, Member.id)
            .offset(page * PICKER_PAGE)
            .limit(PICKER_PAGE)
        )
        return RosterPage(tuple((i, n) for i, n in rows.all()), page, pages, query)


async def on_roster(db: Database, user_id: int, draft: AnswerDraft, member_id: int) -> bool:
    """Whether a picked member is an active member of the picker's branch (never trust data)."""
    async with db.read() as session:
        branch_id = await _picker_branch(session, user_id, draft)
        picked = await session.get(Member, member_id)
        return (
            branch_id is not None
            and picked is not None
            and picked.org_id == branch_id
            and picked.status == Status.ACTIVE
        )


async def member_names(db: Database, ids: set[int]) -> dict[int, str]:
    """Names of members picked in answers (for showing them back)."""
    if not ids:
        return {}
    async with db.read() as session:
        rows = await session.execute(select(Member.id, Member.name).where(Member.id.in_(ids)))
        return {i: n for i, n in rows.all()}
