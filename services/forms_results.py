"""Forms results (/forms): the forms someone may look at, a cycle's progress rolled up by
committee, one branch's answers, one answer to review, and the export's rows.

What a reader sees of each branch follows domain.forms_review.sight: the sender everything,
a branch's admins their own branch (personal data included), its other officers the
answers without personal data, an instructor only what they add up to.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.forms import (
    Attachment,
    FormKind,
    QType,
    Tally,
    Value,
    answers_from_json,
    shown_for_anonymous,
    tally,
)
from domain.forms_review import RosterChange, Sight, may_review, roster_changes, shown_answers
from domain.orgs import Level, Permission, Role
from domain.pickers import matches
from domain.validation import Invalid
from services import audit
from services.authz import Actor, active_role_filter, orgs_with
from services.errors import NotFound, ServiceError
from services.forms import (
    BranchProgress,
    CycleView,
    FormView,
    Outstanding,
    Results,
    branch_sights,
    cycle_view,
    form_results,
    form_view,
    outstanding,
    roster_now,
)
from services.forms_admin import may_close
from services.notices import audience_member_filter, notice_branches
from services.outbox import enqueue_file
from storage.db import Database
from storage.models import (
    Form,
    FormAnonymousAnswer,
    FormCycle,
    FormResponse,
    Member,
    Organization,
    RoleAssignment,
    User,
)

FORMS_PAGE = 6  # forms per /forms page
CANDIDATES = 200  # the newest forms looked at for /forms
ANSWERS_PAGE = 10  # answers per page of a branch
CHUNK = 2000  # export rows read at a time
IN_LIST_MAX = 500  # branches named in the query; beyond, rows of others are skipped as read


# ---- /forms: the forms someone may see ----


@dataclass(frozen=True)
class FormItem:
    """A form in the /forms list, with its latest cycle's progress over what the reader sees."""

    form_id: int
    title: str
    kind: FormKind
    cycle_id: int
    cycle_key: str
    deadline: datetime
    expected: int
    answered: int
    late: int


@dataclass(frozen=True)
class FormsPage:
    """One page of /forms, newest first."""

    items: tuple[FormItem, ...]
    page: int
    pages: int
    total: int = 0  # forms listed, on every page
    find: str = ""  # the typed part of a title they were narrowed to


async def _reach(session: AsyncSession, actor: Actor, today: date) -> set[int]:
    """The organizations the actor administers or guides, and every organization above them:
    a form sent from any of those may reach a branch of theirs."""
    mine = set(await orgs_with(session, actor, Permission.VIEW_ROSTER, today, level=None))
    if not mine:
        return set()
    parents = dict((await session.execute(select(Organization.id, Organization.parent_id))).all())
    reach = set(mine)
    for org_id in mine:
        current = parents.get(org_id)
        while current is not None and current not in reach:
            reach.add(current)
            current = parents.get(current)
    return reach


async def visible_forms(
    db: Database, actor: Actor, today: date, page: int = 0, find: str = ""
) -> FormsPage:
    """The forms the actor sent, or that reach organizations they administer, newest first
    (narrowed to titles holding `find`, as every picker narrows: domain.pickers); each with
    its latest cycle's progress over the branches the actor may see."""
    async with db.read() as session:
        query = select(Form).order_by(Form.id.desc())
        reach: set[int] = set()
        if not actor.superadmin:
            reach = await _reach(session, actor, today)
            wanted = Form.sender_id == actor.user_id
            if reach:
                wanted = or_(wanted, Form.org_id.in_(list(reach)))
            query = query.where(wanted)
        if find:
            # Titles only, then the newest that hold the typed part: older forms than the
            # newest CANDIDATES are found too.
            titles = await session.execute(query.with_only_columns(Form.id, Form.title))
            ids = [i for i, title in titles.all() if matches(title, find)][:CANDIDATES]
            query = select(Form).where(Form.id.in_(ids)).order_by(Form.id.desc())
        rows = list((await session.scalars(query.limit(CANDIDATES))).all())
        shown: list[tuple[FormView, dict[int, Sight], list[Organization]]] = []
        for row in rows:
            form = form_view(row)
            mine = actor.superadmin or form.sender_id == actor.user_id
            if not mine and not reach & ({form.org_id} | set(form.audience.org_ids)):
                continue
            branches = await notice_branches(session, form.audience)
            sights = await branch_sights(session, actor, form, [b.id for b in branches], today)
            seen = {b: s for b, s in sights.items() if s >= Sight.AGGREGATES}
            if seen or form.sender_id == actor.user_id or actor.superadmin:
                shown.append((form, seen, branches))
        pages = max(1, -(-len(shown) // FORMS_PAGE))
        page = min(max(page, 0), pages - 1)
        items = []
        for form, seen, branches in shown[page * FORMS_PAGE : (page + 1) * FORMS_PAGE]:
            cycle = await session.scalar(
                select(FormCycle)
                .where(FormCycle.form_id == form.id)
                .order_by(FormCycle.id.desc())
                .limit(1)
            )
            if cycle is None:
                continue
            progress = await _progress(
                session, form, cycle.id, [b for b in branches if b.id in seen]
            )
            items.append(
                FormItem(
                    form.id, form.title, form.kind, cycle.id, cycle.key, cycle.deadline,
                    sum(p.expected for p in progress), sum(p.on_time + p.late for p in progress),
                    sum(p.late for p in progress),
                )
            )  # fmt: skip
        return FormsPage(tuple(items), page, pages, len(shown), find)


async def _progress(
    session: AsyncSession, form: FormView, cycle_id: int, branches: Sequence[Organization]
) -> list[BranchProgress]:
    """Expected, on time and late answers of these branches."""
    ids = [b.id for b in branches]
    if not ids:
        return []
    if form.kind is FormKind.BRANCH:
        expected = dict.fromkeys(ids, 1)
    else:
        expected = dict.fromkeys(ids, 0)
        counted = await session.execute(
            select(Member.org_id, func.count())
            .where(Member.org_id.in_(ids), *audience_member_filter(form.audience))
            .group_by(Member.org_id)
        )
        expected.update(dict(counted.all()))
    done = await session.execute(
        select(FormResponse.org_id, FormResponse.late, func.count())
        .where(FormResponse.cycle_id == cycle_id, FormResponse.org_id.in_(ids))
        .group_by(FormResponse.org_id, FormResponse.late)
    )
    on_time: dict[int, int] = defaultdict(int)
    late: dict[int, int] = defaultdict(int)
    for org_id, was_late, count in done.all():
        (late if was_late else on_time)[org_id] += count
    return [
        BranchProgress(b.id, b.name, expected[b.id], on_time[b.id], late[b.id]) for b in branches
    ]


# ---- a cycle's results screen ----


@dataclass(frozen=True)
class ResultsScreen:
    """A cycle's results as the screen shows them: totals, committees' subtree totals,
    branches furthest behind first, who has not answered, the form's other cycles."""

    results: Results
    committees: tuple[BranchProgress, ...]
    behind: tuple[BranchProgress, ...]
    outstanding: tuple[Outstanding, ...]  # empty unless asked for
    cycles: tuple[CycleView, ...]  # newest first
    may_close: bool = False  # the reader may stop the collection (结束收集), still open
    instructors: tuple[BranchProgress, ...] = ()  # per party-building instructor (org_id: user)

    @property
    def to_call(self) -> tuple[Outstanding, ...]:
        """Those the bot cannot write to: to be phoned (请电话联系)."""
        return tuple(o for o in self.outstanding if o.user_id is None or not o.reachable)

    @property
    def to_remind(self) -> tuple[Outstanding, ...]:
        """Those a reminder reaches."""
        return tuple(o for o in self.outstanding if o.user_id is not None and o.reachable)


def behind_first(branches: Sequence[BranchProgress]) -> list[BranchProgress]:
    """Branches with answers missing first (the largest missing share first), then the rest
    by name: the ones to chase are on the first page."""

    def key(p: BranchProgress) -> tuple[int, float, str, int]:
        share = p.missing / p.expected if p.expected else 0.0
        return (0 if p.missing else 1, -share, p.name, p.org_id)

    return sorted(branches, key=key)


def by_instructor(
    branches: Sequence[BranchProgress],
    parents: Mapping[int, int | None],
    assigned: Sequence[tuple[int, int, str]],
) -> list[BranchProgress]:
    """Totals of the branches each party-building instructor guides (assigned to the branch or
    to an organization above it: the office is inherited downwards), by name."""
    guides: dict[int, set[int]] = {}  # org → instructors assigned there
    names: dict[int, str] = {}
    for user_id, org_id, name in assigned:
        guides.setdefault(org_id, set()).add(user_id)
        names[user_id] = name
    totals: dict[int, list[int]] = {}
    for p in branches:
        node: int | None = p.org_id
        mine: set[int] = set()
        seen: set[int] = set()
        while node is not None and node not in seen:
            seen.add(node)
            mine |= guides.get(node, set())
            node = parents.get(node)
        for user_id in mine:
            entry = totals.setdefault(user_id, [0, 0, 0])
            entry[0] += p.expected
            entry[1] += p.on_time
            entry[2] += p.late
    return sorted(
        (BranchProgress(user, names[user], *counts) for user, counts in totals.items()),
        key=lambda p: (p.name, p.org_id),
    )


def rollup(
    branches: Sequence[BranchProgress],
    parents: Mapping[int, int | None],
    names: Mapping[int, str],
    levels: Mapping[int, str],
    top: int,
) -> list[BranchProgress]:
    """Subtree totals of the committees and general branches right below `top` (the sending
    organization): each branch counts once, in the one of them it sits under."""
    totals: dict[int, list[int]] = {}
    for p in branches:
        node: int | None = p.org_id
        under: int | None = None
        seen: set[int] = set()
        while node is not None and node not in seen:
            seen.add(node)
            parent = parents.get(node)
            if parent == top:
                under = node
                break
            node = parent
        if under is None or under == p.org_id or levels.get(under) == Level.BRANCH:
            continue
        entry = totals.setdefault(under, [0, 0, 0])
        entry[0] += p.expected
        entry[1] += p.on_time
        entry[2] += p.late
    return sorted(
        (BranchProgress(org, names.get(org, ""), *counts) for org, counts in totals.items()),
        key=lambda p: (p.name, p.org_id),
    )


async def results_screen(
    db: Database,
    actor: Actor,
    cycle_id: int,
    today: date,
    *,
    tallies: bool = False,
    with_missing: bool = False,
) -> ResultsScreen:
    """Everything the results screen of a cycle shows, over the branches the actor may see;
    the per-question tallies (which read every answer) and the names of who has not
    answered only when asked for."""
    results = await form_results(db, actor, cycle_id, today, tallies=tallies)
    missing = await outstanding(db, actor, cycle_id, today) if with_missing else []
    async with db.read() as session:
        tree = (
            await session.execute(
                select(Organization.id, Organization.parent_id, Organization.name,
                       Organization.level)
            )
        ).all()  # fmt: skip
        cycles = (
            await session.scalars(
                select(FormCycle)
                .where(FormCycle.form_id == results.form.id)
                .order_by(FormCycle.id.desc())
            )
        ).all()
        assigned = [
            (int(user_id), int(org_id), member or first or "")
            for user_id, org_id, first, member in (
                await session.execute(
                    select(
                        func.coalesce(RoleAssignment.user_id, Member.user_id),
                        RoleAssignment.org_id, User.first_name, Member.name,
                    )
                    .outerjoin(Member, Member.id == RoleAssignment.member_id)
                    .outerjoin(
                        User, User.id == func.coalesce(RoleAssignment.user_id, Member.user_id)
                    )
                    .where(RoleAssignment.role == Role.INSTRUCTOR, *active_role_filter(today))
                )
            ).all()
            if user_id is not None
        ]  # fmt: skip
        form_row = await session.get(Form, results.form.id)
        closable = (
            form_row is not None
            and form_row.status == "open"
            and await may_close(session, actor, form_row, today)
        )
    parents = {org: parent for org, parent, _n, _l in tree}
    names = {org: name for org, _p, name, _l in tree}
    levels = {org: str(level) for org, _p, _n, level in tree}
    return ResultsScreen(
        results=results,
        committees=tuple(rollup(results.branches, parents, names, levels, results.form.org_id)),
        behind=tuple(behind_first(results.branches)),
        outstanding=tuple(missing),
        cycles=tuple(cycle_view(c) for c in cycles),
        may_close=closable,
        instructors=tuple(by_instructor(results.branches, parents, assigned)),
    )


# ---- one branch: its tallies and its answers ----


@dataclass(frozen=True)
class AnswerItem:
    """One submitted answer in a branch's list."""

    response_id: int
    name: str
    status: str
    late: bool
    nothing_to_report: bool


@dataclass(frozen=True)
class BranchAnswers:
    """A branch's part of a cycle: its progress, its tallies, and (where they may be read)
    its answers one by one, paged."""

    form: FormView
    cycle: CycleView
    progress: BranchProgress
    tallies: tuple[Tally, ...]
    aggregates_hidden: bool
    items: tuple[AnswerItem, ...]
    sight: Sight
    page: int
    pages: int


async def _form_cycle(session: AsyncSession, cycle_id: int) -> tuple[FormView, CycleView]:
    cycle = await session.get(FormCycle, cycle_id)
    form = None if cycle is None else await session.get(Form, cycle.form_id)
    if cycle is None or form is None:
        raise NotFound("form.not_found")
    return form_view(form), cycle_view(cycle)


async def _branch_sight(
    session: AsyncSession, actor: Actor, form: FormView, org_id: int, today: date
) -> Sight:
    """How much of this branch the actor may see; NONE also for a branch outside the form."""
    if org_id not in {b.id for b in await notice_branches(session, form.audience)}:
        return Sight.NONE
    return (await branch_sights(session, actor, form, [org_id], today))[org_id]


async def branch_answers(
    db: Database, actor: Actor, cycle_id: int, org_id: int, today: date, page: int = 0
) -> BranchAnswers:
    """One branch's progress, tallies and answers (the list only for those who may read
    answers: not for an instructor, never for an anonymous form)."""
    async with db.read() as session:
        form, cycle = await _form_cycle(session, cycle_id)
        level = await _branch_sight(session, actor, form, org_id, today)
        if level < Sight.AGGREGATES:
            raise ServiceError("auth.denied")
        branch = await session.get(Organization, org_id)
        assert branch is not None
        progress = (await _progress(session, form, cycle_id, [branch]))[0]
        if form.anonymous:
            stored = (
                await session.scalars(
                    select(FormAnonymousAnswer.answers).where(
                        FormAnonymousAnswer.cycle_id == cycle_id,
                        FormAnonymousAnswer.org_id == org_id,
                    )
                )
            ).all()
        else:
            stored = (
                await session.scalars(
                    select(FormResponse.answers).where(
                        FormResponse.cycle_id == cycle_id, FormResponse.org_id == org_id
                    )
                )
            ).all()
        parsed = [answers_from_json(form.questions, a or {}) for a in stored]
        hidden = form.anonymous and not shown_for_anonymous(len(parsed))
        tallies = (
            ()
            if hidden
            else tuple(tally(q, [a.get(i) for a in parsed]) for i, q in enumerate(form.questions))
        )
        items: list[AnswerItem] = []
        total = 0
        if level >= Sight.ANSWERS and not form.anonymous:
            base = (
                select(FormResponse.id, Member.name, User.first_name, FormResponse.status,
                       FormResponse.late, FormResponse.nothing_to_report)
                .outerjoin(Member, Member.id == FormResponse.member_id)
                .outerjoin(User, User.id == FormResponse.user_id)
                .where(FormResponse.cycle_id == cycle_id, FormResponse.org_id == org_id)
            )  # fmt: skip
            total = int(
                await session.scalar(select(func.count()).select_from(base.subquery())) or 0
            )
            rows = await session.execute(
                base.order_by(Member.name, FormResponse.id)
                .offset(max(page, 0) * ANSWERS_PAGE)
                .limit(ANSWERS_PAGE)
            )
            items = [
                AnswerItem(rid, member_name or user_name or "", status, late, nothing)
                for rid, member_name, user_name, status, late, nothing in rows.all()
            ]
        pages = max(1, -(-total // ANSWERS_PAGE))
    return BranchAnswers(form, cycle, progress, tallies, hidden, tuple(items), level,
                         min(max(page, 0), pages - 1), pages)  # fmt: skip


# ---- one answer, to review ----


@dataclass(frozen=True)
class AnswerView:
    """One answer as its reviewer reads it: all shown answers, version, 迟报, 本期无情况,
    where it stands, and what approving it would change on the roster."""

    response_id: int
    form: FormView
    cycle: CycleView
    org_id: int
    branch: str
    name: str
    status: str
    version: int
    late: bool
    nothing_to_report: bool
    submitted_at: datetime
    review_comment: str | None
    answers: Mapping[int, Value]
    member_names: Mapping[int, str]  # member ids picked in the answers → names
    roster: tuple[RosterChange, ...]
    roster_problem: str | None  # why the roster cannot be written back (a refusal code)
    may_review: bool
    respondent_id: int
    respondent_locale: str | None
    respondent_language: str | None


async def answer_view(db: Database, actor: Actor, response_id: int, today: date) -> AnswerView:
    """One answer for its reviewer: refused unless the actor may read the branch's answers;
    personal data only for those who may see it."""
    async with db.read() as session:
        row = await session.get(FormResponse, response_id)
        if row is None:
            raise NotFound("form.not_found")
        form, cycle = await _form_cycle(session, row.cycle_id)
        if form.anonymous:
            raise ServiceError("auth.denied")
        sender = actor.user_id == form.sender_id
        level = (await branch_sights(session, actor, form, [row.org_id], today))[row.org_id]
        if level < Sight.ANSWERS:
            raise ServiceError("auth.denied")
        all_answers = answers_from_json(form.questions, row.answers or {})
        shown = shown_answers(form.questions, all_answers, level)
        picked = {
            int(v)
            for i, value in shown.items()
            if form.questions[i].type is QType.MEMBERS and isinstance(value, tuple)
            for v in value
            if isinstance(v, int)
        }
        member_names: dict[int, str] = {}
        if picked:
            member_names = dict(
                (
                    await session.execute(
                        select(Member.id, Member.name).where(
                            Member.id.in_(picked), Member.org_id == row.org_id
                        )
                    )
                ).all()
            )
        member = await session.get(Member, row.member_id) if row.member_id else None
        user = await session.get(User, row.user_id)
        branch = await session.get(Organization, row.org_id)
        changes: tuple[RosterChange, ...] = ()
        problem: str | None = None
        if (
            form.kind is FormKind.MEMBER
            and member is not None
            and any(q.roster for q in form.questions)
        ):
            found = roster_changes(form.questions, all_answers, await roster_now(session, member))
            if isinstance(found, Invalid):
                problem = found.code
            else:
                changes = tuple(found)
    return AnswerView(
        response_id=row.id, form=form, cycle=cycle, org_id=row.org_id,
        branch=branch.name if branch else "",
        name=member.name if member else (user.first_name if user else ""),
        status=row.status, version=row.version, late=row.late,
        nothing_to_report=row.nothing_to_report, submitted_at=row.submitted_at,
        review_comment=row.review_comment, answers=shown, member_names=member_names,
        roster=changes if level >= Sight.PERSONAL else (),
        roster_problem=problem if level >= Sight.PERSONAL else None,
        may_review=may_review(level, sender=sender),
        respondent_id=row.user_id,
        respondent_locale=user.locale if user else None,
        respondent_language=user.language_code if user else None,
    )  # fmt: skip


# ---- export ----


@dataclass(frozen=True)
class ExportRow:
    """One answer as the export writes it (no name for an anonymous form)."""

    org_id: int
    branch: str
    name: str
    submitted_at: datetime | None
    late: bool
    nothing_to_report: bool
    answers: Mapping[int, Value]


@dataclass(frozen=True)
class ExportPlan:
    """What an export covers: the branches the reader may see, with their progress, and
    whether individual answers (and personal data) go in, or only what they add up to."""

    form: FormView
    cycle: CycleView
    branches: tuple[BranchProgress, ...]
    sights: Mapping[int, Sight]
    individual: bool  # answers one by one (not for anonymous forms or instructors)
    member_names: Mapping[int, str]  # for member-pick questions
    answers: int  # how many rows the export will have


async def export_plan(db: Database, actor: Actor, cycle_id: int, today: date) -> ExportPlan:
    """What the actor's export of a cycle contains; an anonymous form's refused below the
    anonymity threshold (nothing could be shown)."""
    results = await form_results(db, actor, cycle_id, today, tallies=False)
    form = results.form
    if form.anonymous and results.aggregates_hidden:
        raise ServiceError("form.export.too_few")
    seen = [b.org_id for b in results.branches]
    individual = not form.anonymous and any(
        results.sights.get(b, Sight.NONE) >= Sight.ANSWERS for b in seen
    )
    names: dict[int, str] = {}
    if individual and any(q.type is QType.MEMBERS for q in form.questions):
        async with db.read() as session:
            names = dict(
                (
                    await session.execute(
                        select(Member.id, Member.name).where(Member.org_id.in_(seen))
                    )
                ).all()
            )
    return ExportPlan(
        form=form, cycle=results.cycle, branches=results.branches, sights=results.sights,
        individual=individual, member_names=names,
        answers=results.total.on_time + results.total.late,
    )  # fmt: skip


async def export_rows(db: Database, plan: ExportPlan) -> AsyncIterator[list[ExportRow]]:
    """The answers of the plan's branches in chunks, by branch name then person (one branch's
    rows together, which the export's subtotals rely on): streamed,
    so 150,000 answers never sit in memory at once. Personal data is left out for branches
    where the reader may not see it, names for anonymous forms."""
    form = plan.form
    branch_names = {b.org_id: b.name for b in plan.branches}
    seen = list(branch_names)
    query: Any
    if form.anonymous:
        query = (
            select(FormAnonymousAnswer.org_id, FormAnonymousAnswer.answers)
            .join(Organization, Organization.id == FormAnonymousAnswer.org_id)
            .where(FormAnonymousAnswer.cycle_id == plan.cycle.id)
            .order_by(Organization.name, FormAnonymousAnswer.org_id)
        )
    else:
        query = (
            select(FormResponse.org_id, FormResponse.answers, Member.name, User.first_name,
                   FormResponse.submitted_at, FormResponse.late, FormResponse.nothing_to_report)
            .outerjoin(Member, Member.id == FormResponse.member_id)
            .outerjoin(User, User.id == FormResponse.user_id)
            .join(Organization, Organization.id == FormResponse.org_id)
            .where(FormResponse.cycle_id == plan.cycle.id)
            .order_by(Organization.name, FormResponse.org_id, Member.name, FormResponse.id)
        )  # fmt: skip
    if len(seen) <= IN_LIST_MAX:  # else every row is read and the others skipped here
        query = query.where(
            (FormAnonymousAnswer.org_id if form.anonymous else FormResponse.org_id).in_(seen)
        )
    async with db.read() as session:
        result = await session.stream(query.execution_options(yield_per=CHUNK))
        async for part in result.partitions(CHUNK):
            rows: list[ExportRow] = []
            for values in part:
                org_id = values[0]
                if org_id not in branch_names:
                    continue
                answers = answers_from_json(form.questions, values[1] or {})
                if form.anonymous:
                    rows.append(ExportRow(org_id, branch_names[org_id], "", None, False, False,
                                          answers))  # fmt: skip
                    continue
                level = plan.sights.get(org_id, Sight.NONE)
                rows.append(
                    ExportRow(
                        org_id, branch_names[org_id],
                        (values[2] or values[3] or "") if level >= Sight.ANSWERS else "",
                        values[4], bool(values[5]), bool(values[6]),
                        shown_answers(form.questions, answers, level)
                        if level >= Sight.ANSWERS
                        else answers,
                    )
                )  # fmt: skip
            yield rows


async def queue_export(
    db: Database,
    actor: Actor,
    plan: ExportPlan,
    *,
    filename: str,
    data: bytes,
    caption_html: str,
    now: datetime,
    today: date,
) -> int:
    """Send the written workbook to the actor through the outbox, audited as form.export, in
    one transaction (re-authorized: the reader must still see the branches). The item id."""
    async with db.transaction() as session:
        sights = await branch_sights(
            session, actor, plan.form, [b.org_id for b in plan.branches], today
        )
        if all(s < Sight.AGGREGATES for s in sights.values()) and not (
            actor.superadmin or actor.user_id == plan.form.sender_id
        ):
            raise ServiceError("auth.denied")
        item = enqueue_file(
            session, chat_id=actor.user_id, filename=filename, data=data,
            caption_html=caption_html, as_photo=False, now=now,
        )  # fmt: skip
        audit.record(
            session, at=now, actor_id=actor.user_id, action="form.export",
            target_type="form_cycle", target_id=plan.cycle.id,
            after={"form": plan.form.id, "file": filename, "branches": len(plan.branches),
                   "answers": plan.answers, "individual": plan.individual},
        )  # fmt: skip
        await session.flush()
        return item.id


@dataclass(frozen=True)
class AttachmentFile:
    """An attachment answered, to be put in the export's ZIP as 支部/姓名_题号.ext."""

    branch: str
    name: str
    number: int  # the question's number, from 1
    file_id: str
    kind: str  # photo / document
    filename: str  # as sent, may be empty (photos have none)


async def attachment_files(db: Database, plan: ExportPlan) -> list[AttachmentFile]:
    """The attachments of the plan's answers, for the branches whose personal data the
    reader may see (never for an anonymous form), by branch and person."""
    form = plan.form
    asked = [i for i, q in enumerate(form.questions) if q.type is QType.ATTACHMENT]
    personal = [b.org_id for b in plan.branches if plan.sights.get(b.org_id) == Sight.PERSONAL]
    if form.anonymous or not asked or not personal:
        return []
    found: list[AttachmentFile] = []
    branch_names = {b.org_id: b.name for b in plan.branches}
    async with db.read() as session:
        result = await session.stream(
            select(FormResponse.org_id, FormResponse.answers, Member.name, User.first_name)
            .outerjoin(Member, Member.id == FormResponse.member_id)
            .outerjoin(User, User.id == FormResponse.user_id)
            .join(Organization, Organization.id == FormResponse.org_id)
            .where(FormResponse.cycle_id == plan.cycle.id, FormResponse.org_id.in_(personal))
            .order_by(Organization.name, FormResponse.org_id, Member.name, FormResponse.id)
            .execution_options(yield_per=CHUNK)
        )
        async for org_id, stored, member_name, user_name in result:
            answers = answers_from_json(form.questions, stored or {})
            for index in asked:
                value = answers.get(index)
                if isinstance(value, Attachment):
                    found.append(
                        AttachmentFile(branch_names[org_id], member_name or user_name or "",
                                       index + 1, value.file_id, value.kind, value.name)
                    )  # fmt: skip
    return found
