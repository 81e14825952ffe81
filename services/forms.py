"""Forms (信息报送): record a form and its cycles, take answers, review them, add them up.

Who is expected to answer comes from the roster, with the same audience rule as notices:
each active member of the audience (member forms), or each branch of it once (branch forms,
answered by its secretary, deputy, organization member or information officer). So the bot
knows exactly who has not answered, and results add up from branch to committee.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.forms import (
    FormKind,
    LatePolicy,
    Question,
    Repeat,
    Tally,
    Timeliness,
    Value,
    answers_from_json,
    answers_to_json,
    check_form,
    check_title,
    combine,
    cycle_for,
    kept_answers,
    may_answer,
    missing,
    question_from_json,
    question_to_json,
    shown_for_anonymous,
    tally,
    timeliness,
)
from domain.forms_wizard import STEPS as ANSWER_STEPS
from domain.forms_wizard import AnswerDraft, answers_of
from domain.orgs import Level, Permission
from domain.validation import Invalid, clean_text
from domain.wizard import Event, Refusal, apply
from services import audit
from services.authz import Actor, ancestry, permissions, require, roles_in
from services.drafts import take_draft
from services.errors import NotFound, ServiceError
from services.forms_delivery import ANSWERING_ROLES, Delivered, mark_card_dirty, queue_cycle
from services.notices import Audience, audience_member_filter, notice_branches
from services.orgs import load_org
from storage.db import Database
from storage.models import (
    Form,
    FormAnonymousAnswer,
    FormCycle,
    FormResponse,
    FormResponseVersion,
    Member,
    Organization,
)

INTRO_MAX = 1000
COMMENT_MAX = 500
ONCE = "once"  # the key of a one-off form's only cycle


@dataclass(frozen=True)
class FormSpec:
    """Everything the sender chose for a form."""

    org_id: int  # the organization the sender acts for
    kind: FormKind
    title: str
    intro: str
    questions: tuple[Question, ...]
    audience: Audience
    deadline: datetime  # of the first (for a one-off form: the only) cycle
    late_policy: LatePolicy = LatePolicy.ACCEPT
    anonymous: bool = False
    repeat: Repeat = Repeat.NONE
    due_day: int = 0
    template: str | None = None


@dataclass(frozen=True)
class FormView:
    """A form as its screens show it."""

    id: int
    org_id: int
    sender_id: int
    kind: FormKind
    title: str
    intro: str
    questions: tuple[Question, ...]
    audience: Audience
    anonymous: bool
    late_policy: LatePolicy
    repeat: Repeat
    due_day: int
    status: str


@dataclass(frozen=True)
class CycleView:
    """One issue of a form."""

    id: int
    form_id: int
    key: str
    opens_at: datetime
    deadline: datetime


@dataclass(frozen=True)
class Published:
    """A recorded form with its first cycle, how many branches it reaches, what was queued."""

    form: FormView
    cycle: CycleView
    branches: int
    delivered: Delivered


@dataclass(frozen=True)
class Submitted:
    """An answer taken: its version, whether it was late."""

    response_id: int
    version: int
    late: bool
    changed: bool  # an earlier version existed


@dataclass(frozen=True)
class BranchProgress:
    """How far one branch (or a whole committee) is with a cycle."""

    org_id: int
    name: str
    expected: int
    on_time: int
    late: int

    @property
    def missing(self) -> int:
        """Expected answers not (yet) given."""
        return max(self.expected - self.on_time - self.late, 0)


@dataclass(frozen=True)
class QuestionResult:
    """One question's tally over everyone, and per branch (the parts add up to the whole)."""

    index: int
    total: Tally
    per_branch: Mapping[int, Tally]


@dataclass(frozen=True)
class Results:
    """A cycle's progress and what its answers add up to."""

    form: FormView
    cycle: CycleView
    branches: tuple[BranchProgress, ...]
    total: BranchProgress
    questions: tuple[QuestionResult, ...]
    aggregates_hidden: bool  # an anonymous form with too few answers to show anything


@dataclass(frozen=True)
class Outstanding:
    """Somebody (or a branch) expected to answer who has not."""

    org_id: int
    branch: str
    member_id: int | None
    name: str
    user_id: int | None  # None: never started the bot, to be called instead


# ---- recording ----


def _invalid(result: Invalid) -> ServiceError:
    return ServiceError(result.code)


async def publish_form(
    db: Database, actor: Actor, spec: FormSpec, *, now: datetime, today: date
) -> Published:
    """Record the form and its first cycle and queue its delivery; refused unless the sender
    may send to every organization of the audience (the same people who may send notices)."""
    async with db.transaction() as session:
        return await publish_in(session, actor, spec, now=now, today=today)


async def publish_in(
    session: AsyncSession, actor: Actor, spec: FormSpec, *, now: datetime, today: date
) -> Published:
    """publish_form in the caller's transaction (the builder takes its draft in the same one)."""
    title = check_title(spec.title)
    if isinstance(title, Invalid):
        raise _invalid(title)
    intro = "\n".join(clean_text(line) for line in spec.intro.splitlines()).strip()
    if len(intro) > INTRO_MAX:
        raise ServiceError("form.intro.too_long")
    problem = check_form(spec.questions)
    if problem is not None:
        raise _invalid(problem)
    if not spec.audience.org_ids:
        raise ServiceError("form.no_audience")
    if spec.deadline <= now:
        raise ServiceError("form.deadline_past")
    for org_id in {spec.org_id, *spec.audience.org_ids}:
        await load_org(session, org_id)
        await require(session, actor, org_id, Permission.SEND_NOTICE, today)
    branches = await notice_branches(session, spec.audience)
    if not branches:
        raise ServiceError("form.no_audience")
    row = Form(
        org_id=spec.org_id,
        sender_id=actor.user_id,
        kind=spec.kind.value,
        title=title,
        intro=intro,
        questions=[question_to_json(q) for q in spec.questions],
        audience=spec.audience.to_json(),
        anonymous=spec.anonymous,
        late_policy=spec.late_policy.value,
        repeat=spec.repeat.value,
        due_day=spec.due_day,
        template=spec.template,
        status="open",
        created_at=now,
    )
    session.add(row)
    await session.flush()
    key = ONCE if spec.repeat is Repeat.NONE else cycle_for(spec.repeat, spec.due_day, today).key
    cycle = FormCycle(
        form_id=row.id,
        key=key,
        opens_at=now,
        deadline=spec.deadline,
        counts_dirty=False,
        created_at=now,
    )
    session.add(cycle)
    await session.flush()
    delivered = await queue_cycle(session, row, cycle, now=now, today=today)
    audit.record(
        session, at=now, actor_id=actor.user_id, action="form.publish",
        target_type="form", target_id=row.id,
        after={
            "title": title, "kind": spec.kind.value, "branches": len(branches),
            "groups": delivered.groups, "private": delivered.private_copies,
        },
    )  # fmt: skip
    return Published(form_view(row), cycle_view(cycle), len(branches), delivered)


def form_view(row: Form) -> FormView:
    """The stored form as a frozen view."""
    return FormView(
        id=row.id,
        org_id=row.org_id,
        sender_id=row.sender_id,
        kind=FormKind(row.kind),
        title=row.title,
        intro=row.intro,
        questions=tuple(question_from_json(q) for q in row.questions),
        audience=Audience.from_json(row.audience),
        anonymous=row.anonymous,
        late_policy=LatePolicy(row.late_policy),
        repeat=Repeat(row.repeat),
        due_day=row.due_day,
        status=row.status,
    )


def cycle_view(row: FormCycle) -> CycleView:
    """The stored cycle as a frozen view."""
    return CycleView(row.id, row.form_id, row.key, row.opens_at, row.deadline)


async def _cycle(session: AsyncSession, cycle_id: int) -> tuple[Form, FormCycle]:
    cycle = await session.get(FormCycle, cycle_id)
    form = None if cycle is None else await session.get(Form, cycle.form_id)
    if cycle is None or form is None:
        raise NotFound("form.not_found")
    return form, cycle


# ---- who answers ----


async def _in_audience(session: AsyncSession, audience: Audience, org_id: int) -> bool:
    """Whether a branch is one the audience reaches (itself or a committee above it named),
    found by walking up from the branch: a keyed lookup, never a list of the city."""
    org = await session.get(Organization, org_id)
    if org is None or org.level == Level.COMMITTEE or org.archived_at is not None:
        return False
    return bool(set(await ancestry(session, org_id)) & set(audience.org_ids))


async def _member_respondent(
    session: AsyncSession, user_id: int, audience: Audience
) -> Member | None:
    """The person's own roster entry inside the audience (active, right stage and group)."""
    entries = (
        await session.scalars(
            select(Member)
            .where(Member.user_id == user_id, *audience_member_filter(audience))
            .order_by(Member.id)
        )
    ).all()
    for entry in entries:
        if await _in_audience(session, audience, entry.org_id):
            return entry
    return None


async def _branch_respondent(
    session: AsyncSession, user_id: int, org_id: int, audience: Audience, today: date
) -> bool:
    """Whether the person holds an office that answers for this branch, in the audience."""
    if not await _in_audience(session, audience, org_id):
        return False
    held = {role for _org, role in await roles_in(session, user_id, [org_id], today)}
    return bool(held & ANSWERING_ROLES)


# ---- answering ----


async def submit_response(
    db: Database,
    actor: Actor,
    cycle_id: int,
    answers: Mapping[int, Value],
    *,
    now: datetime,
    today: date,
    branch_id: int | None = None,
    nothing_to_report: bool = False,
) -> Submitted:
    """Take a member's (or, for a branch form, a branch officer's) answers to a cycle.

    Hidden questions' answers are dropped, required ones must be there (unless a branch says
    本期无情况), a late answer follows the form's policy, an accepted answer is locked, and
    every earlier version is kept. An anonymous form's answers are stored apart from the
    record of who answered, and cannot be changed once given (changing them would need the
    link that is not kept).
    """
    async with db.transaction() as session:
        return await _take_answers(
            session, actor, cycle_id, answers, now=now, today=today, branch_id=branch_id,
            nothing_to_report=nothing_to_report,
        )  # fmt: skip


async def submit_draft(db: Database, actor: Actor, *, now: datetime, today: date) -> Submitted:
    """提交 on the review screen: the answers are taken and the answering draft ends in one
    transaction, so pressing the old 提交 again finds nothing (stale) and a refusal (too late,
    incomplete) keeps the draft for the person to fix."""
    async with db.transaction() as session:
        draft = await take_draft(session, actor.user_id, AnswerDraft)
        if draft is None or draft.step != "review":
            raise ServiceError("stale")
        ready = apply(ANSWER_STEPS, draft, Event("submit"), now)
        if isinstance(ready, Refusal):
            raise ServiceError(ready.code)
        return await _take_answers(
            session, actor, draft.cycle_id, answers_of(draft), now=now, today=today,
            branch_id=draft.branch_id or None, nothing_to_report=draft.nothing_to_report,
        )  # fmt: skip


async def _take_answers(
    session: AsyncSession,
    actor: Actor,
    cycle_id: int,
    answers: Mapping[int, Value],
    *,
    now: datetime,
    today: date,
    branch_id: int | None,
    nothing_to_report: bool,
) -> Submitted:
    """Take answers to a cycle in the caller's transaction (see submit_response)."""
    form_row, cycle = await _cycle(session, cycle_id)
    form = form_view(form_row)
    if form.status != "open":
        raise ServiceError("form.closed")
    if not may_answer(form.late_policy, cycle.deadline, now):
        raise ServiceError("form.too_late")
    member: Member | None = None
    if form.kind is FormKind.MEMBER:
        member = await _member_respondent(session, actor.user_id, form.audience)
        if member is None:
            raise ServiceError("form.not_yours")
        respondent, org_id = f"m:{member.id}", member.org_id
    else:
        if branch_id is None or not await _branch_respondent(
            session, actor.user_id, branch_id, form.audience, today
        ):
            raise ServiceError("form.not_yours")
        respondent, org_id = f"b:{branch_id}", branch_id
    if nothing_to_report and form.kind is not FormKind.BRANCH:
        raise ServiceError("stale")
    kept = {} if nothing_to_report else kept_answers(form.questions, answers)
    if not nothing_to_report and missing(form.questions, kept):
        raise ServiceError("form.incomplete")
    late = timeliness(now, cycle.deadline) is Timeliness.LATE
    stored = answers_to_json(kept)
    row = await session.scalar(
        select(FormResponse)
        .where(FormResponse.cycle_id == cycle.id, FormResponse.respondent == respondent)
        .with_for_update()
    )
    if row is None:
        row = FormResponse(
            cycle_id=cycle.id, respondent=respondent, org_id=org_id,
            member_id=member.id if member else None, user_id=actor.user_id,
            answers=None if form.anonymous else stored,
            nothing_to_report=nothing_to_report, status="submitted", late=late, version=1,
            first_submitted_at=now, submitted_at=now,
        )  # fmt: skip
        session.add(row)
        await session.flush()
        changed = False
        if form.anonymous:
            session.add(
                FormAnonymousAnswer(
                    id=secrets.token_hex(16), cycle_id=cycle.id, org_id=org_id,
                    answers=stored, submitted_on=today,
                )
            )  # fmt: skip
    else:
        if row.status == "accepted":
            raise ServiceError("form.locked")
        if form.anonymous:
            raise ServiceError("form.anonymous_final")
        row.version += 1
        row.answers = stored
        row.nothing_to_report = nothing_to_report
        row.status = "submitted"
        row.late = row.late or late
        row.user_id = actor.user_id
        row.submitted_at = now
        changed = True
    if not form.anonymous:
        session.add(
            FormResponseVersion(
                response_id=row.id, version=row.version, answers=stored,
                nothing_to_report=nothing_to_report, submitted_at=now,
            )
        )  # fmt: skip
    cycle.counts_dirty = True
    await mark_card_dirty(session, cycle.id, org_id)
    return Submitted(row.id, row.version, late, changed)


async def my_answers(db: Database, user_id: int, cycle_id: int) -> dict[int, Value] | None:
    """The person's own latest answers to a member-form cycle (None if none, or anonymous)."""
    async with db.read() as session:
        form_row, cycle = await _cycle(session, cycle_id)
        form = form_view(form_row)
        if form.anonymous or form.kind is not FormKind.MEMBER:
            return None
        member = await _member_respondent(session, user_id, form.audience)
        if member is None:
            return None
        stored = await session.scalar(
            select(FormResponse.answers).where(
                FormResponse.cycle_id == cycle.id, FormResponse.respondent == f"m:{member.id}"
            )
        )
        return None if stored is None else answers_from_json(form.questions, stored)


# ---- reviewing ----


async def _may_review(
    session: AsyncSession, actor: Actor, form: FormView, org_id: int, today: date
) -> bool:
    if actor.superadmin or actor.user_id == form.sender_id:
        return True
    return Permission.MANAGE_MEMBERS in await permissions(session, actor, org_id, today)


async def review_response(
    db: Database,
    actor: Actor,
    response_id: int,
    *,
    accept: bool,
    comment: str = "",
    now: datetime,
    today: date,
) -> str:
    """通过 (accept: locks the answer) or 退回修改 (return with a comment: the respondent may
    resubmit); by the sender or an admin of the respondent's branch; audited. The new status."""
    note = clean_text(comment)
    if len(note) > COMMENT_MAX:
        raise ServiceError("form.comment.too_long")
    if not accept and not note:
        raise ServiceError("form.comment.empty")
    async with db.transaction() as session:
        row = await session.get(FormResponse, response_id, with_for_update=True)
        if row is None:
            raise NotFound("form.not_found")
        form_row, _cycle_row = await _cycle(session, row.cycle_id)
        form = form_view(form_row)
        if not await _may_review(session, actor, form, row.org_id, today):
            raise ServiceError("auth.denied")
        if row.status == "accepted":
            raise ServiceError("form.locked")
        before = row.status
        row.status = "accepted" if accept else "returned"
        row.review_comment = None if accept else note
        row.reviewed_by = actor.user_id
        row.reviewed_at = now
        audit.record(
            session, at=now, actor_id=actor.user_id,
            action="form.accept" if accept else "form.return",
            target_type="form_response", target_id=row.id,
            before={"status": before}, after={"status": row.status, "comment": row.review_comment},
        )  # fmt: skip
        return row.status


# ---- adding up ----


async def _expected(
    session: AsyncSession, form: FormView
) -> tuple[list[Organization], dict[int, int]]:
    """The audience's branches and how many answers each owes (members, or 1 per branch)."""
    branches = await notice_branches(session, form.audience)
    ids = [b.id for b in branches]
    if form.kind is FormKind.BRANCH:
        return branches, dict.fromkeys(ids, 1)
    counts = dict.fromkeys(ids, 0)
    rows = await session.execute(
        select(Member.org_id, func.count())
        .where(Member.org_id.in_(ids), *audience_member_filter(form.audience))
        .group_by(Member.org_id)
    )
    for org_id, count in rows.all():
        counts[org_id] = count
    return branches, counts


async def _may_see_results(
    session: AsyncSession, actor: Actor, form: FormView, today: date
) -> bool:
    if actor.superadmin or actor.user_id == form.sender_id:
        return True
    return Permission.VIEW_ROSTER in await permissions(session, actor, form.org_id, today)


async def form_results(db: Database, actor: Actor, cycle_id: int, today: date) -> Results:
    """Progress per branch (on time, late, missing) and each question's tally, per branch and
    in total; refused to all but the sender and the admins of the sending organization."""
    async with db.read() as session:
        form_row, cycle = await _cycle(session, cycle_id)
        form = form_view(form_row)
        if not await _may_see_results(session, actor, form, today):
            raise ServiceError("auth.denied")
        branches, expected = await _expected(session, form)
        done = await session.execute(
            select(FormResponse.org_id, FormResponse.late, func.count())
            .where(FormResponse.cycle_id == cycle.id)
            .group_by(FormResponse.org_id, FormResponse.late)
        )
        on_time: dict[int, int] = defaultdict(int)
        late: dict[int, int] = defaultdict(int)
        for org_id, was_late, count in done.all():
            (late if was_late else on_time)[org_id] += count
        progress = tuple(
            BranchProgress(b.id, b.name, expected[b.id], on_time[b.id], late[b.id])
            for b in branches
        )
        total = BranchProgress(
            form.org_id,
            "",
            sum(p.expected for p in progress),
            sum(p.on_time for p in progress),
            sum(p.late for p in progress),
        )
        if form.anonymous:
            stored = await session.execute(
                select(FormAnonymousAnswer.org_id, FormAnonymousAnswer.answers).where(
                    FormAnonymousAnswer.cycle_id == cycle.id
                )
            )
        else:
            stored = await session.execute(
                select(FormResponse.org_id, FormResponse.answers).where(
                    FormResponse.cycle_id == cycle.id
                )
            )
        by_branch: dict[int, list[dict[int, Value]]] = defaultdict(list)
        for org_id, answers in stored.all():
            by_branch[org_id].append(answers_from_json(form.questions, answers or {}))
    hidden = form.anonymous and not shown_for_anonymous(sum(len(v) for v in by_branch.values()))
    questions = () if hidden else _question_results(form.questions, by_branch)
    return Results(form, cycle_view(cycle), progress, total, questions, hidden)


def _question_results(
    questions: Sequence[Question], by_branch: Mapping[int, Sequence[Mapping[int, Value]]]
) -> tuple[QuestionResult, ...]:
    results = []
    for index, question in enumerate(questions):
        parts = {
            org_id: tally(question, [a.get(index) for a in answers])
            for org_id, answers in by_branch.items()
        }
        results.append(QuestionResult(index, combine(parts.values()), parts))
    return tuple(results)


async def outstanding(db: Database, actor: Actor, cycle_id: int, today: date) -> list[Outstanding]:
    """Who (member forms) or which branches (branch forms) have not answered, by branch, for
    the sender and the admins of the sending organization; with whether the bot can write to
    them (those it cannot are to be called)."""
    async with db.read() as session:
        form_row, cycle = await _cycle(session, cycle_id)
        form = form_view(form_row)
        if not await _may_see_results(session, actor, form, today):
            raise ServiceError("auth.denied")
        branches = await notice_branches(session, form.audience)
        names = {b.id: b.name for b in branches}
        answered = set(
            (
                await session.scalars(
                    select(FormResponse.respondent).where(FormResponse.cycle_id == cycle.id)
                )
            ).all()
        )
        if form.kind is FormKind.BRANCH:
            return [
                Outstanding(b.id, b.name, None, b.name, None)
                for b in branches
                if f"b:{b.id}" not in answered
            ]
        rows = await session.execute(
            select(Member.id, Member.org_id, Member.name, Member.user_id)
            .where(Member.org_id.in_(list(names)), *audience_member_filter(form.audience))
            .order_by(Member.org_id, Member.name, Member.id)
        )
        return [
            Outstanding(org_id, names[org_id], member_id, name, user_id)
            for member_id, org_id, name, user_id in rows.all()
            if f"m:{member_id}" not in answered
        ]
