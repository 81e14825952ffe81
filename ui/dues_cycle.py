"""Party dues, the monthly cycle as people read it: the payment-day reminder (private: the
amount is nobody else's business), the keepers' monthly status, and the arrears flags."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from domain.dues import Month, yuan
from domain.dues_cycle import REMIT_CONFIRM_PREFIX, Level, first_unpaid
from services.dues_reminders import Escalation, Officer, Owing, PaymentPlan, Talk
from services.forms_chase import Outgoing
from ui.callbacks import CallbackData
from ui.i18n import Catalog
from ui.render import split_message


@dataclass(frozen=True)
class TalkStart(CallbackData):
    """记录谈话 on an arrears flag: open the talk draft about this member."""

    prefix: ClassVar[str] = "dct"
    member_id: int


@dataclass(frozen=True)
class TalkAct(CallbackData):
    """保存 / 取消 under the talk's preview."""

    prefix: ClassVar[str] = "dca"
    action: str  # "save" | "cancel"


@dataclass(frozen=True)
class RemitConfirm(CallbackData):
    """确认收到 on a remittance notification (domain.dues_cycle.remit_confirm_data)."""

    prefix: ClassVar[str] = REMIT_CONFIRM_PREFIX
    remittance_id: int


def month_text(catalog: Catalog, locale: str, month: Month) -> str:
    """ "2026年12月" / "Dec 2026"."""
    return catalog.plain(locale, "dues.cycle.month", year=month // 100, month=month % 100)


def months_text(catalog: Catalog, locale: str, months: Sequence[Month]) -> str:
    """A run of months: one month, or the first and the last."""
    if not months:
        return ""
    if len(months) == 1:
        return month_text(catalog, locale, months[0])
    return catalog.plain(locale, "dues.cycle.months_range",
                         first=month_text(catalog, locale, months[0]),
                         last=month_text(catalog, locale, months[-1]))  # fmt: skip


def member_reminder(catalog: Catalog, person: Owing) -> str:
    """The private payment-day reminder: how much and which months."""
    s, loc = person.standing, person.locale
    if s.arrears:
        return catalog.t(loc, "dues.cycle.remind_member", name=person.name,
                         count=len(s.arrears), months=months_text(catalog, loc, s.arrears),
                         amount=yuan(s.short_fen))  # fmt: skip
    return catalog.t(loc, "dues.cycle.remind_difference", name=person.name,
                     amount=yuan(s.short_fen))  # fmt: skip


def keeper_status(
    catalog: Catalog, locale: str, plan: PaymentPlan, org_id: int, owing: Sequence[Owing]
) -> list[str]:
    """The keepers' monthly status of one branch: paid n/m, who owes, who must be called."""
    total = plan.with_standard.get(org_id, 0)
    lines = [
        catalog.t(
            locale,
            "dues.cycle.keepers_head",
            branch=plan.branches[org_id].name,
            month=month_text(catalog, locale, plan.month),
            paid=total - len(owing),
            total=total,
            owing=len(owing),
        ),
    ]
    for person in owing:
        s = person.standing
        lines.append(catalog.t(locale, "dues.cycle.keepers_line", name=person.name,
                               count=len(s.arrears), amount=yuan(s.short_fen)))  # fmt: skip
    unreachable = sum(1 for p in owing if not p.private)
    if unreachable:
        lines.append(catalog.t(locale, "dues.cycle.keepers_unreachable", count=unreachable))
    return lines


def _talk_lines(catalog: Catalog, locale: str, talks: Sequence[Talk]) -> list[str]:
    if not talks:
        return [catalog.t(locale, "dues.cycle.no_talks")]
    return [
        catalog.t(
            locale,
            "dues.cycle.talk_line",
            day=t.held_on.isoformat(),
            by=t.talked_by,
            outcome=t.outcome,
        )
        for t in talks
    ]


def escalation_text(
    catalog: Catalog, locale: str, plan: PaymentPlan, escalation: Escalation
) -> str:
    """The flag of one escalation, in the reader's language."""
    person = escalation.member
    behind = person.standing.months_behind
    first = month_text(catalog, locale, first_unpaid(person.standing.as_of, behind))
    params = {"branch": plan.branches[person.org_id].name, "name": person.name,
              "count": behind, "first": first}  # fmt: skip
    if escalation.level is Level.SECRETARY:
        return catalog.t(locale, "dues.cycle.level3", **params)
    if escalation.level is Level.TALK:
        return catalog.t(locale, "dues.cycle.level5", **params)
    lines = [catalog.t(locale, "dues.cycle.level6", **params), ""]
    lines += _talk_lines(catalog, locale, plan.talks.get(person.member_id, []))
    return "\n".join(lines)


def payment_day_messages(catalog: Catalog, plan: PaymentPlan) -> list[Outgoing]:
    """Everything one payment day sends: members' reminders, keepers' status, flags."""
    messages = [
        Outgoing(p.user_id, member_reminder(catalog, p), org_id=p.org_id)
        for p in plan.owing
        if p.private and p.user_id is not None
    ]
    by_branch: dict[int, list[Owing]] = defaultdict(list)
    for person in plan.owing:
        by_branch[person.org_id].append(person)
    officers: dict[int, list[Officer]] = defaultdict(list)
    for officer in plan.officers:
        officers[officer.org_id].append(officer)
    for org_id in plan.branches:
        if not plan.with_standard.get(org_id):
            continue  # no standards confirmed yet: nothing to report
        keepers = {o.user_id: o for o in officers[org_id] if o.role.value in KEEPER_ROLE_VALUES}
        for keeper in keepers.values():
            lines = keeper_status(catalog, keeper.locale, plan, org_id, by_branch[org_id])
            messages += [Outgoing(keeper.user_id, part, org_id=org_id)
                         for part in split_message(lines)]  # fmt: skip
    for escalation in plan.escalations:
        org_id = escalation.member.org_id
        wanted = COMMITTEE_ROLE_VALUES if escalation.level is Level.COMMITTEE else SECRETARY_VALUES
        told: set[int] = set()
        for officer in officers[org_id]:
            if officer.role.value in wanted and officer.user_id not in told:
                told.add(officer.user_id)
                text = escalation_text(catalog, officer.locale, plan, escalation)
                buttons = []
                if escalation.level is not Level.SECRETARY:  # a talk is asked for, or overdue
                    label = catalog.plain(officer.locale, "dues.cycle.talk_button")
                    data = TalkStart(escalation.member.member_id).pack()
                    buttons = [[(label, "cb:" + data)]]
                messages.append(Outgoing(officer.user_id, text, buttons, org_id=org_id))
    return messages


KEEPER_ROLE_VALUES = frozenset({"organization", "dues_keeper"})
SECRETARY_VALUES = frozenset({"secretary"})
COMMITTEE_ROLE_VALUES = frozenset({"secretary", "deputy", "organization"})


def talk_question(catalog: Catalog, locale: str, step: str, name: str) -> str:
    """The talk draft's question for a step."""
    return catalog.t(locale, TALK_QUESTIONS.get(step, "dues.cycle.talk_ask_by"), name=name)


TALK_QUESTIONS = {
    "by": "dues.cycle.talk_ask_by",
    "when": "dues.cycle.talk_ask_when",
    "outcome": "dues.cycle.talk_ask_outcome",
}


def talk_preview(catalog: Catalog, locale: str, name: str, by: str, day: str, outcome: str) -> str:
    """The talk as it will be saved."""
    return catalog.t(locale, "dues.cycle.talk_preview", name=name, by=by, day=day, outcome=outcome)
