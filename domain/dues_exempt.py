"""Hardship reductions and exemptions (减免党费), as a typed draft and the rules they follow.

A reduction (a lower monthly amount) or an exemption (nothing due) needs the branch
committee's agreement and the upper committee's approval; zhibu records who, when, for which
months and why. Steps: "member" (a paging picker; typing part of a name narrows it) → "kind"
(免交 / 减交) → ("amount", for a reduction) → "from" → "until" → "agreed" (the day the branch
committee agreed) → "approver" (who approved at the upper committee) → "reason" → "confirm";
确认 is the service's intent (services.dues_exempt.record_exemption), which takes the draft.

Caps, and why:
- at most EXEMPT_MONTHS_MAX (12) months in one record: standards are assessed each January
  and hardship is reviewed at least yearly, so a longer hardship is approved again;
- it may start at most BACKDATE_MONTHS_MAX (6) months back: hardship often shows as arrears
  before the committees meet, and six months is the default arrears window; further back
  would quietly rewrite old arrears;
- it may start at most AHEAD_MONTHS_MAX (12) months ahead;
- the branch committee's agreement is dated today or within the last year.
Two records of one member may not cover the same month, and a record needs a confirmed standard
in force at its first month (there is nothing to reduce otherwise, and nothing to return to
when it ends).

Ending early is an audited change of `until_month` (the before and after are in the audit
row): the current month is the last one covered, the standard applies again from the next.
A record whose months have not begun yet is withdrawn instead (audited with what it was).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import ClassVar

from domain.dues import Invalid, Month, add_months, month_of, parse_yuan
from domain.dues_pay import parse_month
from domain.dues_wizard import AMOUNT_MAX_FEN
from domain.validation import Invalid as TextInvalid
from domain.validation import clean_text, parse_date
from domain.wizard import Draft, Event, Refusal, Steps

EXEMPT_MONTHS_MAX = 12
BACKDATE_MONTHS_MAX = 6
AHEAD_MONTHS_MAX = 12
AGREED_DAYS_MAX = 366
APPROVER_MAX = 60  # the column holds 100
REASON_MAX = 200
QUERY_MAX = 20
PAGE_SIZE = 8
SPANS = (3, 6, 12)  # quick choices for "until": this many months from the start
EXEMPT, REDUCE = 0, 1


@dataclasses.dataclass(frozen=True)
class ExemptDraft(Draft):
    """A reduction or exemption being recorded for one member of a branch."""

    FLOW: ClassVar[str] = "dues_exempt"
    VERSION: ClassVar[int] = 1

    org_id: int = 0
    query: str = ""  # typed part of a name narrowing the picker
    page: int = 0
    member_id: int = 0
    member_name: str = ""
    amount_fen: int = -1  # 0: exempt; > 0: reduced to; -1: not chosen yet
    from_month: int = 0
    until_month: int = 0
    agreed_on: str = ""  # ISO date
    approved_by: str = ""
    reason: str = ""


def begin(org_id: int) -> ExemptDraft:
    """The member picker, first page."""
    return ExemptDraft(step="member", org_id=org_id)


def overlaps(a_from: Month, a_until: Month, b_from: Month, b_until: Month) -> bool:
    """Whether two month ranges (both ends included) share a month."""
    return a_from <= b_until and b_from <= a_until


def check_months(from_month: Month, until_month: Month, this_month: Month) -> str | None:
    """Why a span of months may not be recorded (a refusal code), or None."""
    if not add_months(this_month, -BACKDATE_MONTHS_MAX) <= from_month:
        return "dues.exempt.from_range"
    if from_month > add_months(this_month, AHEAD_MONTHS_MAX):
        return "dues.exempt.from_range"
    if until_month < from_month:
        return "dues.exempt.until_before"
    if until_month > add_months(from_month, EXEMPT_MONTHS_MAX - 1):
        return "dues.exempt.too_long"
    return None


def take_query(draft: ExemptDraft, event: Event, now: datetime) -> ExemptDraft | Refusal:
    """Typed part of a name: the picker narrowed to it, from its first page."""
    query = clean_text(event.text or "")
    if len(query) > QUERY_MAX:
        return Refusal("dues.exempt.query_too_long", {"limit": QUERY_MAX})
    return dataclasses.replace(draft, query=query, page=0)


def turn_page(draft: ExemptDraft, event: Event, now: datetime) -> ExemptDraft | Refusal:
    """上一页 / 下一页 (the service clamps a page beyond the last)."""
    if not 0 <= event.value < 10_000:
        return Refusal("stale")
    return dataclasses.replace(draft, page=event.value)


def pick_member(draft: ExemptDraft, event: Event, now: datetime) -> ExemptDraft | Refusal:
    """A member picked (the handler passes the roster name the service checked)."""
    if event.value <= 0 or not event.text:
        return Refusal("stale")
    return dataclasses.replace(draft, step="kind", member_id=event.value,
                               member_name=event.text)  # fmt: skip


def pick_kind(draft: ExemptDraft, event: Event, now: datetime) -> ExemptDraft | Refusal:
    """免交 goes on to the months; 减交 asks the reduced amount."""
    if event.value == EXEMPT:
        return dataclasses.replace(draft, step="from", amount_fen=0)
    if event.value == REDUCE:
        return dataclasses.replace(draft, step="amount", amount_fen=-1)
    return Refusal("stale")


def take_amount(draft: ExemptDraft, event: Event, now: datetime) -> ExemptDraft | Refusal:
    """The reduced monthly amount in yuan (more than nothing: nothing is 免交)."""
    parsed = parse_yuan(event.text or "")
    if isinstance(parsed, Invalid):
        return Refusal(parsed.code)
    if not 0 < parsed <= AMOUNT_MAX_FEN:
        return Refusal("dues.exempt.amount_range")
    return dataclasses.replace(draft, step="from", amount_fen=parsed)


def _from(draft: ExemptDraft, month: Month, now: datetime) -> ExemptDraft | Refusal:
    code = check_months(month, month, month_of(now.date()))
    if code is not None:
        return Refusal(code)
    return dataclasses.replace(draft, step="until", from_month=month, until_month=0)


def take_from(draft: ExemptDraft, event: Event, now: datetime) -> ExemptDraft | Refusal:
    """The first month covered, typed (2026-07, 2026年7月)."""
    parsed = parse_month(event.text or "")
    if isinstance(parsed, Invalid):
        return Refusal("dues.exempt.month_invalid")
    return _from(draft, parsed, now)


def pick_from(draft: ExemptDraft, event: Event, now: datetime) -> ExemptDraft | Refusal:
    """本月 (0) / 下月 (1)."""
    if event.value not in (0, 1):
        return Refusal("stale")
    return _from(draft, add_months(month_of(now.date()), event.value), now)


def _until(draft: ExemptDraft, month: Month, now: datetime) -> ExemptDraft | Refusal:
    code = check_months(draft.from_month, month, month_of(now.date()))
    if code is not None:
        return Refusal(code, {"limit": EXEMPT_MONTHS_MAX})
    return dataclasses.replace(draft, step="agreed", until_month=month)


def take_until(draft: ExemptDraft, event: Event, now: datetime) -> ExemptDraft | Refusal:
    """The last month covered, typed."""
    parsed = parse_month(event.text or "")
    if isinstance(parsed, Invalid):
        return Refusal("dues.exempt.month_invalid")
    return _until(draft, parsed, now)


def pick_span(draft: ExemptDraft, event: Event, now: datetime) -> ExemptDraft | Refusal:
    """3 / 6 / 12 months from the first."""
    if event.value not in SPANS:
        return Refusal("stale")
    return _until(draft, add_months(draft.from_month, event.value - 1), now)


def _agreed(draft: ExemptDraft, day: date, now: datetime) -> ExemptDraft | Refusal:
    if day > now.date() or day < now.date() - timedelta(days=AGREED_DAYS_MAX):
        return Refusal("dues.exempt.agreed_range")
    return dataclasses.replace(draft, step="approver", agreed_on=day.isoformat())


def take_agreed(draft: ExemptDraft, event: Event, now: datetime) -> ExemptDraft | Refusal:
    """The day the branch committee agreed (today or earlier, within a year)."""
    parsed = parse_date(event.text or "")
    if isinstance(parsed, TextInvalid):
        return Refusal("dues.exempt.date_invalid")
    return _agreed(draft, parsed, now)


def agreed_today(draft: ExemptDraft, event: Event, now: datetime) -> ExemptDraft | Refusal:
    """今天."""
    return _agreed(draft, now.date(), now)


def _text(text: str | None, limit: int) -> str | Refusal:
    value = clean_text(text or "")
    if not value:
        return Refusal("dues.exempt.text_empty")
    if len(value) > limit:
        return Refusal("dues.exempt.text_too_long", {"limit": limit})
    return value


def take_approver(draft: ExemptDraft, event: Event, now: datetime) -> ExemptDraft | Refusal:
    """Who approved at the upper committee (name, office, maybe the document)."""
    value = _text(event.text, APPROVER_MAX)
    if isinstance(value, Refusal):
        return value
    return dataclasses.replace(draft, step="reason", approved_by=value)


def take_reason(draft: ExemptDraft, event: Event, now: datetime) -> ExemptDraft | Refusal:
    """Why (a few words), then the preview."""
    value = _text(event.text, REASON_MAX)
    if isinstance(value, Refusal):
        return value
    return dataclasses.replace(draft, step="confirm", reason=value)


def back_to(step: str) -> Callable[[ExemptDraft, Event, datetime], ExemptDraft]:
    """返回 to an earlier question (what was answered there is asked again)."""

    def move(draft: ExemptDraft, event: Event, now: datetime) -> ExemptDraft:
        return dataclasses.replace(draft, step=step)

    return move


def back_from_from(draft: ExemptDraft, event: Event, now: datetime) -> ExemptDraft:
    """返回 from the first month: to the amount for a reduction, else to 免交 / 减交."""
    return dataclasses.replace(draft, step="amount" if draft.amount_fen > 0 else "kind")


EXEMPT_STEPS: Steps[ExemptDraft] = {
    "member": {"text": take_query, "page": turn_page, "pick": pick_member},
    "kind": {"kind": pick_kind, "back": back_to("member")},
    "amount": {"text": take_amount, "back": back_to("kind")},
    "from": {"text": take_from, "month": pick_from, "back": back_from_from},
    "until": {"text": take_until, "span": pick_span, "back": back_to("from")},
    "agreed": {"text": take_agreed, "today": agreed_today, "back": back_to("until")},
    "approver": {"text": take_approver, "back": back_to("agreed")},
    "reason": {"text": take_reason, "back": back_to("approver")},
    "confirm": {"back": back_to("reason")},
}


def check_draft(draft: ExemptDraft, this_month: Month, today: date) -> str | None:
    """Everything a record needs, checked again when it is saved (a refusal code or None)."""
    if draft.step != "confirm" or draft.member_id <= 0 or draft.amount_fen < 0:
        return "stale"
    if not draft.approved_by or not draft.reason or not draft.agreed_on:
        return "stale"
    agreed = date.fromisoformat(draft.agreed_on)
    if agreed > today or agreed < today - timedelta(days=AGREED_DAYS_MAX):
        return "dues.exempt.agreed_range"
    return check_months(draft.from_month, draft.until_month, this_month)


def ending(from_month: Month, until_month: Month, this_month: Month) -> str:
    """What 结束 does to a record: "end" (this month is the last covered), "withdraw" (its
    months have not begun), or "over" (nothing left to end)."""
    if until_month <= this_month:
        return "over"
    if from_month > this_month:
        return "withdraw"
    return "end"
