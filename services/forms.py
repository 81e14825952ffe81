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
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import String, and_, cast, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.forms import (
    ROSTER_PHONE,
    ROSTER_UNIT,
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
from domain.forms_review import ReviewDraft, Sight, check_comment, may_review, roster_changes, sight
from domain.forms_wizard import STEPS as ANSWER_STEPS
from domain.forms_wizard import AnswerDraft, answers_of
from domain.orgs import INHERITED_ROLES, Level, Permission, Role
from domain.orgs import Status as MemberStatus
from domain.validation import Invalid, clean_text
from domain.wizard import Event, Refusal, apply
from services import audit
from services.authz import (
    Actor,
    active_role_filter,
    ancestry,
    descendants,
    held_by,
    require,
    roles_in,
)
from services.drafts import take_draft
from services.errors import NotFound, ServiceError
from services.forms_delivery import ANSWERING_ROLES, Delivered, mark_card_dirty, queue_cycle
from services.notices import Audience, audience_member_filter, notice_branches
from services.orgs import load_org
from services.outbox import ButtonRows, enqueue_text
from storage.db import Database
from storage.models import (
    Form,
    FormAnonymousAnswer,
    FormCycle,
    FormResponse,
    FormResponseVersion,
    Member,
    Organization,
    RoleAssignment,
    Unit,
    User,
)

INTRO_MAX = 1000
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
    # The branches shown, with how much of their answers the reader may see.
    sights: Mapping[int, Sight] = field(default_factory=dict)


@dataclass(frozen=True)
class Outstanding:
    """Somebody (or a branch) expected to answer who has not."""

    org_id: int
    branch: str
    member_id: int | None
    name: str
    user_id: int | None  # None: never registered with the bot, to be called instead
    # False when the bot cannot write to them (never started it, or blocked it): call them.
    reachable: bool = True


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


async def load_cycle(session: AsyncSession, cycle_id: int) -> tuple[Form, FormCycle]:
    """A cycle and its form, or NotFound."""
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


async def member_respondent(
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
    form_row, cycle = await load_cycle(session, cycle_id)
    form = form_view(form_row)
    if form.status != "open":
        raise ServiceError("form.closed")
    if not may_answer(form.late_policy, cycle.deadline, now):
        raise ServiceError("form.too_late")
    member: Member | None = None
    if form.kind is FormKind.MEMBER:
        member = await member_respondent(session, actor.user_id, form.audience)
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
        form_row, cycle = await load_cycle(session, cycle_id)
        form = form_view(form_row)
        if form.anonymous or form.kind is not FormKind.MEMBER:
            return None
        member = await member_respondent(session, user_id, form.audience)
        if member is None:
            return None
        stored = await session.scalar(
            select(FormResponse.answers).where(
                FormResponse.cycle_id == cycle.id, FormResponse.respondent == f"m:{member.id}"
            )
        )
        return None if stored is None else answers_from_json(form.questions, stored)


# ---- reviewing ----


async def branch_sights(
    session: AsyncSession, actor: Actor, form: FormView, branch_ids: Sequence[int], today: date
) -> dict[int, Sight]:
    """How much of each branch's answers the actor may see (domain.forms_review.sight): from
    the offices held in the branch itself and the inherited ones held above it; two reads,
    however many branches."""
    sender = actor.user_id == form.sender_id
    if actor.superadmin or sender:
        return dict.fromkeys(branch_ids, sight((), sender=sender, superadmin=actor.superadmin))
    rows = await session.execute(
        select(RoleAssignment.org_id, RoleAssignment.role)
        .outerjoin(Member, Member.id == RoleAssignment.member_id)
        .where(held_by(actor.user_id), *active_role_filter(today))
    )
    held: dict[int, set[Role]] = defaultdict(set)
    wanted = set(branch_ids)
    for org_id, role in rows.all():
        role = Role(role)
        if role in INHERITED_ROLES:
            for below in await descendants(session, {org_id}) & wanted:
                held[below].add(role)
        elif org_id in wanted:
            held[org_id].add(role)
    return {b: sight(held.get(b, ())) for b in branch_ids}


async def _may_review(
    session: AsyncSession, actor: Actor, form: FormView, org_id: int, today: date
) -> bool:
    level = (await branch_sights(session, actor, form, [org_id], today))[org_id]
    return may_review(level, sender=actor.user_id == form.sender_id)


async def review_response(
    db: Database,
    actor: Actor,
    response_id: int,
    *,
    accept: bool,
    comment: str = "",
    now: datetime,
    today: date,
    note_html: str | None = None,
    note_buttons: ButtonRows | None = None,
    from_draft: bool = False,
) -> str:
    """通过 (accept: locks the answer and, for a 党员信息更新 answer, writes its phone and unit
    to the roster) or 退回修改 (return with a comment: the respondent may resubmit); by the
    sender or an admin of the respondent's branch; audited. `note_html` (rendered by the
    caller in the respondent's language) is queued to the respondent in the same
    transaction; with `from_draft` the reviewer's 退回修改 draft is taken in it too, so a
    second typed comment finds nothing. The new status."""
    note = clean_text(comment)
    async with db.transaction() as session:
        if from_draft:
            draft = await take_draft(session, actor.user_id, ReviewDraft)
            if draft is None or draft.response_id != response_id:
                raise ServiceError("stale")
        if not accept:
            checked = check_comment(note)
            if isinstance(checked, Invalid):
                raise _invalid(checked)
            note = checked
        row = await session.get(FormResponse, response_id, with_for_update=True)
        if row is None:
            raise NotFound("form.not_found")
        form_row, _cycle_row = await load_cycle(session, row.cycle_id)
        form = form_view(form_row)
        if not await _may_review(session, actor, form, row.org_id, today):
            raise ServiceError("auth.denied")
        if row.status == "accepted":
            raise ServiceError("form.locked")
        if form.anonymous:
            raise ServiceError("form.anonymous_review")
        before = row.status
        if accept:
            await _write_back(session, actor, form, row, now=now)
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
        if note_html is not None:
            enqueue_text(
                session, chat_id=row.user_id, html=note_html, now=now, buttons=note_buttons
            )
        return row.status


async def roster_now(session: AsyncSession, member: Member) -> dict[str, str]:
    """The roster fields a 党员信息更新 answer may change, as they stand."""
    unit = await session.get(Unit, member.unit_id) if member.unit_id else None
    return {ROSTER_PHONE: member.phone or "", ROSTER_UNIT: unit.name if unit else ""}


async def _write_back(
    session: AsyncSession, actor: Actor, form: FormView, row: FormResponse, *, now: datetime
) -> None:
    """An accepted member answer tied to roster fields updates the member's entry: the phone
    (checked, unique in the branch) and the unit (matched by name in the branch, created when
    the branch has none of that name); audited with before and after."""
    if form.kind is not FormKind.MEMBER or row.member_id is None or row.answers is None:
        return
    if not any(q.roster for q in form.questions):
        return
    member = await session.get(Member, row.member_id, with_for_update=True)
    if member is None:
        return
    current = await roster_now(session, member)
    changes = roster_changes(
        form.questions, answers_from_json(form.questions, row.answers), current
    )
    if isinstance(changes, Invalid):
        raise _invalid(changes)
    if not changes:
        return
    for change in changes:
        if change.field == ROSTER_PHONE:
            taken = await session.scalar(
                select(Member.id).where(
                    Member.org_id == member.org_id, Member.phone == change.new,
                    Member.status == MemberStatus.ACTIVE, Member.id != member.id,
                )
            )  # fmt: skip
            if taken is not None:
                raise ServiceError("form.roster.phone_taken")
            member.phone = change.new
        elif change.field == ROSTER_UNIT:
            unit_id = await session.scalar(
                select(Unit.id).where(Unit.org_id == member.org_id, Unit.name == change.new)
            )
            if unit_id is None:
                unit = Unit(org_id=member.org_id, name=change.new)
                session.add(unit)
                await session.flush()
                unit_id = unit.id
            member.unit_id = unit_id
    member.updated_at = now
    audit.record(
        session, at=now, actor_id=actor.user_id, action="member.form_update",
        target_type="member", target_id=member.id,
        before={c.field: c.old for c in changes},
        after={**{c.field: c.new for c in changes}, "form_response": row.id},
    )  # fmt: skip


# ---- adding up ----


async def _expected(
    session: AsyncSession, form: FormView, branches: list[Organization] | None = None
) -> tuple[list[Organization], dict[int, int]]:
    """The audience's branches (unless already read) and how many answers each owes
    (members, or 1 per branch)."""
    if branches is None:
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
) -> tuple[list[Organization], dict[int, Sight]]:
    """The audience's branches, and those the actor may see anything of with how much
    (refused when none: a member, or an officer of a branch outside the audience)."""
    branches = await notice_branches(session, form.audience)
    sights = await branch_sights(session, actor, form, [b.id for b in branches], today)
    seen = {b: level for b, level in sights.items() if level >= Sight.AGGREGATES}
    if not seen:
        raise ServiceError("auth.denied")
    return branches, seen


async def form_results(
    db: Database, actor: Actor, cycle_id: int, today: date, *, tallies: bool = True
) -> Results:
    """Progress per branch (on time, late, missing) and each question's tally, per branch and
    in total, over the branches the actor may see: all of them for the sender and the
    sending organization's admins, their own for a branch's officers and the instructors
    guiding it; refused to anybody else. Without `tallies` only the progress (no answer is
    read: the results screen of 150,000 answers stays fast)."""
    async with db.read() as session:
        form_row, cycle = await load_cycle(session, cycle_id)
        form = form_view(form_row)
        audience, seen = await _may_see_results(session, actor, form, today)
        branches, expected = await _expected(session, form, audience)
        branches = [b for b in branches if b.id in seen]
        everything = len(branches) == len(expected)
        done_query = (
            select(FormResponse.org_id, FormResponse.late, func.count())
            .where(FormResponse.cycle_id == cycle.id)
            .group_by(FormResponse.org_id, FormResponse.late)
        )
        done = await session.execute(done_query)
        on_time: dict[int, int] = defaultdict(int)
        late: dict[int, int] = defaultdict(int)
        for org_id, was_late, count in done.all():
            if org_id in seen:
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
        by_branch: dict[int, list[dict[int, Value]]] = defaultdict(list)
        if not tallies:  # progress only (the results screen): no answer is read
            answered = total.on_time + total.late
            hidden = form.anonymous and not shown_for_anonymous(answered)
            return Results(form, cycle_view(cycle), progress, total, (), hidden, seen)
        if form.anonymous:
            query = select(FormAnonymousAnswer.org_id, FormAnonymousAnswer.answers).where(
                FormAnonymousAnswer.cycle_id == cycle.id
            )
            if not everything:
                query = query.where(FormAnonymousAnswer.org_id.in_(list(seen)))
        else:
            query = select(FormResponse.org_id, FormResponse.answers).where(
                FormResponse.cycle_id == cycle.id
            )
            if not everything:
                query = query.where(FormResponse.org_id.in_(list(seen)))
        stored = await session.execute(query)
        for org_id, answers in stored.all():
            by_branch[org_id].append(answers_from_json(form.questions, answers or {}))
    hidden = form.anonymous and not shown_for_anonymous(sum(len(v) for v in by_branch.values()))
    questions = () if hidden else _question_results(form.questions, by_branch)
    return Results(form, cycle_view(cycle), progress, total, questions, hidden, seen)


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
    """Who (member forms) or which branches (branch forms) have not answered, by branch, of
    the branches the actor may see (names of people only where answers may be seen, not
    for an instructor); user_id None for those the bot cannot write to (never started it,
    or blocked it), who are to be called instead."""
    async with db.read() as session:
        form_row, cycle = await load_cycle(session, cycle_id)
        form = form_view(form_row)
        audience, seen = await _may_see_results(session, actor, form, today)
        branches = [b for b in audience if b.id in seen]
        if form.kind is FormKind.BRANCH:
            answered = set(
                (
                    await session.scalars(
                        select(FormResponse.respondent).where(FormResponse.cycle_id == cycle.id)
                    )
                ).all()
            )
            return [
                Outstanding(b.id, b.name, None, b.name, None)
                for b in branches
                if f"b:{b.id}" not in answered
            ]
        names = {b.id: b.name for b in branches if seen[b.id] >= Sight.ANSWERS}
        if not names:
            return []
        reachable = and_(User.started.is_(True), User.blocked_at.is_(None))
        # Looked up per member on the (cycle, respondent) unique index: the answered are
        # never all read.
        answered_query = select(FormResponse.id).where(
            FormResponse.cycle_id == cycle.id,
            FormResponse.respondent == literal("m:") + cast(Member.id, String),
        )
        rows = await session.execute(
            select(Member.id, Member.org_id, Member.name, Member.user_id, reachable)
            .outerjoin(User, User.id == Member.user_id)
            .where(
                Member.org_id.in_(list(names)),
                *audience_member_filter(form.audience),
                ~answered_query.exists(),
            )
            .order_by(Member.org_id, Member.name, Member.id)
        )
        return [
            Outstanding(org_id, names[org_id], member_id, name, user_id, bool(can_write))
            for member_id, org_id, name, user_id, can_write in rows.all()
        ]
