"""Forms: delivering a cycle (a card in each branch's group, private copies) and keeping the
cards' counts current.

Everything is queued as intent in the outbox (purposes below, ids in the payload): the
worker renders each card and copy when it sends it, so a card posted late shows the count
of its time, never a stale one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.forms import FormKind
from domain.orgs import Role, Status
from services.authz import active_role_filter
from services.notices import Audience, audience_member_filter, notice_branches
from services.outbox import add_items, item_values, new_item
from storage.db import Database
from storage.models import (
    ChatBinding,
    Form,
    FormCard,
    FormCycle,
    FormResponse,
    Member,
    Organization,
    OutboxItem,
    RoleAssignment,
    User,
)

# Outbox purposes of forms (scheduler/forms.py renders them at send time).
CARD = "form_card"  # payload {"card_id"}: the card in a branch's group
CARD_EDIT = "form_card_edit"  # payload {"card_id"}: its count brought up to date
COPY = "form_copy"  # payload {"cycle_id", "branch_id"}: a private copy with the 填写 button

# Offices that answer a branch form for their branch.
ANSWERING_ROLES = frozenset({Role.SECRETARY, Role.DEPUTY, Role.ORGANIZATION, Role.INFO_OFFICER})

_GONE = ("unreachable", "failed", "cancelled")


@dataclass(frozen=True)
class Delivered:
    """What a cycle's delivery queued."""

    groups: int
    private_copies: int
    branches_without_group: tuple[str, ...]


@dataclass(frozen=True)
class CardState:
    """What a group card shows: the form, the deadline, the branch's count."""

    card_id: int
    cycle_id: int
    org_id: int
    kind: FormKind
    title: str
    deadline: datetime
    answered: int
    expected: int
    closed: bool


@dataclass(frozen=True)
class CopyState:
    """What a private copy shows."""

    cycle_id: int
    branch_id: int
    kind: FormKind
    title: str
    intro: str
    deadline: datetime
    questions: int
    branch: str
    locale: str | None
    language_code: str | None


def officer_rows(branch_ids: Sequence[int], today: date) -> Any:
    """(branch id, user id) of everyone answering branch forms for these branches today."""
    user = func.coalesce(RoleAssignment.user_id, Member.user_id)
    return (
        select(RoleAssignment.org_id, user)
        .outerjoin(Member, Member.id == RoleAssignment.member_id)
        .where(
            RoleAssignment.org_id.in_(list(branch_ids)),
            RoleAssignment.role.in_([r.value for r in ANSWERING_ROLES]),
            *active_role_filter(today),
            user.is_not(None),
            or_(RoleAssignment.member_id.is_(None), Member.status == Status.ACTIVE),
        )
        .distinct()
    )


async def queue_cycle(
    session: AsyncSession, form: Form, cycle: FormCycle, *, now: datetime, today: date
) -> Delivered:
    """Queue a cycle's cards and private copies in the caller's transaction (the intent that
    published the form, or the job that issued the cycle): both commit together or not at all."""
    audience = Audience.from_json(form.audience)
    branches = await notice_branches(session, audience)
    branch_ids = [b.id for b in branches]
    bindings = (
        await session.scalars(
            select(ChatBinding).where(
                ChatBinding.org_id.in_(branch_ids),
                ChatBinding.purpose == "main",
                ChatBinding.active.is_(True),
            )
        )
    ).all()
    bound = {b.org_id for b in bindings}
    cards = [
        FormCard(
            cycle_id=cycle.id,
            org_id=b.org_id,
            chat_id=b.chat_id,
            thread_id=b.topic_id,
            dirty=False,
            created_at=now,
        )
        for b in bindings
    ]
    session.add_all(cards)
    await session.flush()
    posts = [
        new_item(
            purpose=CARD,
            chat_id=card.chat_id,
            org_id=card.org_id,
            thread_id=card.thread_id,
            is_group=True,
            payload={"card_id": card.id},
            now=now,
        )
        for card in cards
    ]
    session.add_all(posts)
    await session.flush()
    for card, post in zip(cards, posts, strict=True):
        card.item_id = post.id
    people = await _copy_recipients(session, form, audience, branch_ids, today)
    await add_items(
        session,
        [
            item_values(
                purpose=COPY,
                chat_id=user_id,
                org_id=branch_id,
                now=now,
                payload={"cycle_id": cycle.id, "branch_id": branch_id},
            )
            for branch_id, user_id in people
        ],
    )
    return Delivered(len(cards), len(people), tuple(b.name for b in branches if b.id not in bound))


async def _copy_recipients(
    session: AsyncSession, form: Form, audience: Audience, branch_ids: list[int], today: date
) -> list[tuple[int, int]]:
    """(branch, user) for each private copy: every member of the audience the bot can write
    to (member forms), or each branch's answering officers (branch forms, one copy per
    branch and person)."""
    reachable = and_(User.started.is_(True), User.blocked_at.is_(None))
    if form.kind == FormKind.BRANCH.value:
        officers = officer_rows(branch_ids, today).subquery()
        rows = await session.execute(
            select(officers.c[0], officers.c[1])
            .join(User, User.id == officers.c[1])
            .where(reachable)
        )
        return [(int(org), int(user)) for org, user in rows.all()]
    if not audience.private_copies:
        return []
    rows = await session.execute(
        select(Member.org_id, Member.user_id)
        .join(User, User.id == Member.user_id)
        .where(Member.org_id.in_(branch_ids), *audience_member_filter(audience), reachable)
    )
    return [(int(org), int(user)) for org, user in rows.all()]


async def mark_card_dirty(session: AsyncSession, cycle_id: int, org_id: int) -> None:
    """An answer from this branch came in: its group card's count is to be re-rendered."""
    await session.execute(
        update(FormCard)
        .where(FormCard.cycle_id == cycle_id, FormCard.org_id == org_id, FormCard.dirty.is_(False))
        .values(dirty=True)
    )


async def branch_count(
    session: AsyncSession, form: Form, cycle_id: int, org_id: int
) -> tuple[int, int]:
    """(answered, expected) of one branch in a cycle."""
    answered = int(
        await session.scalar(
            select(func.count())
            .select_from(FormResponse)
            .where(FormResponse.cycle_id == cycle_id, FormResponse.org_id == org_id)
        )
        or 0
    )
    if form.kind == FormKind.BRANCH.value:
        return answered, 1
    audience = Audience.from_json(form.audience)
    expected = int(
        await session.scalar(
            select(func.count())
            .select_from(Member)
            .where(Member.org_id == org_id, *audience_member_filter(audience))
        )
        or 0
    )
    return answered, expected


async def card_state(db: Database, card_id: int) -> CardState | None:
    """A card as it is to be shown now (None if its form is gone)."""
    async with db.read() as session:
        card = await session.get(FormCard, card_id)
        cycle = None if card is None else await session.get(FormCycle, card.cycle_id)
        form = None if cycle is None else await session.get(Form, cycle.form_id)
        if card is None or cycle is None or form is None:
            return None
        answered, expected = await branch_count(session, form, cycle.id, card.org_id)
        return CardState(
            card.id,
            cycle.id,
            card.org_id,
            FormKind(form.kind),
            form.title,
            cycle.deadline,
            answered,
            expected,
            form.status != "open",
        )


async def copy_state(db: Database, cycle_id: int, branch_id: int, user_id: int) -> CopyState | None:
    """A private copy as it is to be shown now, in the reader's language (None if gone)."""
    async with db.read() as session:
        cycle = await session.get(FormCycle, cycle_id)
        form = None if cycle is None else await session.get(Form, cycle.form_id)
        if cycle is None or form is None or form.status != "open":
            return None
        branch = await session.get(Organization, branch_id)
        user = await session.get(User, user_id)
        return CopyState(
            cycle.id,
            branch_id,
            FormKind(form.kind),
            form.title,
            form.intro,
            cycle.deadline,
            len(form.questions),
            branch.name if branch else "",
            user.locale if user else None,
            user.language_code if user else None,
        )


async def queue_card_updates(db: Database, now: datetime) -> int:
    """The counter sweep: one edit for each card whose branch answered since it was last
    shown, and only once the previous edit has gone out (a burst of answers is one edit)."""
    queued = 0
    async with db.transaction() as session:
        query = select(FormCard).where(FormCard.dirty.is_(True)).limit(500)
        if db.dialect == "postgresql":
            # An answer marking the card dirty again waits for this run, so no mark is lost.
            query = query.with_for_update(skip_locked=True)
        for card in (await session.scalars(query)).all():
            posted = None if card.item_id is None else await session.get(OutboxItem, card.item_id)
            if posted is None or posted.status in _GONE:
                card.dirty = False  # nothing in the group to update
                continue
            if posted.status != "sent" or posted.message_id is None:
                continue  # not posted yet: it goes out with the count of its time
            if card.edit_item_id is not None:
                last = await session.get(OutboxItem, card.edit_item_id)
                if last is not None and last.status in ("pending", "sending"):
                    continue  # stays dirty: a later run shows the count after that edit
            edit = new_item(
                purpose=CARD_EDIT,
                chat_id=card.chat_id,
                org_id=card.org_id,
                is_group=True,
                target_message_id=posted.message_id,
                payload={"card_id": card.id},
                now=now,
            )
            session.add(edit)
            await session.flush()
            card.edit_item_id = edit.id
            card.dirty = False
            queued += 1
    return queued
