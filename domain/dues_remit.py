"""上缴党费 as data: a branch's keeper says which months they hand to the committee, how much,
on which day, and maybe sends a photo of the receipt; the committee's period presets. Pure.

Steps: "period" → ("overlap" when months were remitted before) → "amount" → "date" → "proof"
→ "review". 确认上缴 at "review" is the service's intent, which takes the draft in its
transaction (a second press finds none).

A period that overlaps an earlier remittance is allowed after a warning, not refused: dues
paid late for months already remitted (a member clearing July's arrears in November) are
handed over later, for those same months. The default amount is then what was collected for
the period less what was already remitted within it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import ClassVar

from domain.dues import Invalid, Month, add_months, is_month, month_of, parse_yuan
from domain.validation import Invalid as BadText
from domain.validation import parse_date
from domain.wizard import Draft, Event, Refusal, Steps

REMIT_PROOF_PREFIX = "drp"  # 看凭证 on a remittance (ui.dues_remit.RemitProof)
REMIT_MAX_FEN = 100_000_000  # 1,000,000 yuan in one remittance of one branch: a typing slip
PAST_SHOWN = 10  # earlier remittances listed on the keeper's screens


def remit_proof_data(remittance_id: int) -> str:
    """The callback data of 看凭证 on a remittance notification (queued by the service)."""
    return f"{REMIT_PROOF_PREFIX}:{remittance_id}"


# ---- periods ----


def quarter_of(month: Month) -> tuple[Month, Month]:
    """The quarter a month falls in: (first month, last month)."""
    first = month // 100 * 100 + (month % 100 - 1) // 3 * 3 + 1
    return first, first + 2


def half_of(month: Month) -> tuple[Month, Month]:
    """The half-year a month falls in."""
    first = month // 100 * 100 + (1 if month % 100 <= 6 else 7)
    return first, first + 5


# Preset codes (short, for callback data) → what the keeper's period screen offers.
KEEPER_PRESETS = ("lq", "tq", "ty")
# The committee's 上缴情况: quarters, halves and years.
COMMITTEE_PRESETS = ("lq", "tq", "lh", "th", "ly", "ty")


def preset(code: str, today: date) -> tuple[Month, Month] | None:
    """A preset period as of today: last full quarter (lq), this quarter so far (tq), last
    full half (lh), this half (th), last year (ly), this year so far (ty)."""
    now = month_of(today)
    if code == "lq":
        return quarter_of(add_months(quarter_of(now)[0], -1))
    if code == "tq":
        return quarter_of(now)[0], now
    if code == "lh":
        return half_of(add_months(half_of(now)[0], -1))
    if code == "th":
        return half_of(now)[0], now
    if code == "ly":
        return (today.year - 1) * 100 + 1, (today.year - 1) * 100 + 12
    if code == "ty":
        return today.year * 100 + 1, now
    return None


_MONTH = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})(?!\d)\s*月?|(?<!\d)(\d{4})(\d{2})(?!\d)")
_BARE_MONTH = re.compile(r"(?:至|到|~|～|—|－|-)\s*(\d{1,2})\s*月")


def parse_period(text: str) -> tuple[Month, Month] | Invalid:
    """Months as keepers type them: "2026-07至2026-09", "2026/7-2026/9", "2026年7月至9月",
    "202607 202609", or one month "2026-09"."""
    value = unicodedata.normalize("NFKC", text).strip()
    if not value or len(value) > 40:
        return Invalid("dues.remit.period")
    months: list[Month] = []
    for found in _MONTH.finditer(value):
        year, month = (found[1], found[2]) if found[1] else (found[3], found[4])
        months.append(int(year) * 100 + int(month))
    if len(months) == 1:
        bare = _BARE_MONTH.search(value[value.find("月") + 1 :]) if "年" in value else None
        if bare is not None:
            months.append(months[0] // 100 * 100 + int(bare[1]))
    if not months or len(months) > 2 or not all(is_month(m) for m in months):
        return Invalid("dues.remit.period")
    first, last = months[0], months[-1]
    if first > last:
        return Invalid("dues.remit.period")
    return first, last


def check_period(first: Month, last: Month, today: date) -> str | None:
    """Why these months cannot be remitted (a code), or None: real months, in order, none
    still to come, at most five years."""
    if not (is_month(first) and is_month(last)) or first > last:
        return "dues.remit.period"
    if last > month_of(today):
        return "dues.remit.period_future"
    if add_months(first, 60) <= last:
        return "dues.remit.period_long"
    return None


def parse_amount(text: str) -> int | Invalid:
    """The amount remitted, typed in yuan: more than 0, at most REMIT_MAX_FEN."""
    fen = parse_yuan(text)
    if isinstance(fen, Invalid):
        return Invalid("dues.remit.amount_invalid")
    if fen <= 0:
        return Invalid("dues.remit.amount")
    if fen > REMIT_MAX_FEN:
        return Invalid("dues.remit.amount_large")
    return fen


def check_paid_on(day: date, first: Month, today: date) -> str | None:
    """The day the money was handed over: not after today, not before the period began."""
    if day > today:
        return "dues.remit.date_future"
    if month_of(day) < first:
        return "dues.remit.date_early"
    return None


@dataclass(frozen=True)
class Span:
    """An earlier remittance of the branch, as the keeper's screens list it."""

    from_month: Month
    until_month: Month
    amount_fen: int
    confirmed: bool


def overlapping(spans: tuple[Span, ...], first: Month, last: Month) -> tuple[Span, ...]:
    """The earlier remittances sharing at least one month with first…last."""
    return tuple(s for s in spans if s.from_month <= last and first <= s.until_month)


def remitted_within(spans: tuple[Span, ...], first: Month, last: Month) -> int:
    """What earlier remittances lying wholly within first…last handed over (fen)."""
    return sum(s.amount_fen for s in spans if first <= s.from_month and s.until_month <= last)


# ---- the keeper's wizard ----


@dataclass(frozen=True)
class RemitDraft(Draft):
    """上缴党费 being filled in for one branch."""

    FLOW: ClassVar[str] = "dues_remit"
    VERSION: ClassVar[int] = 1

    org_id: int = 0
    branch: str = ""
    to_org_id: int = 0
    committee: str = ""
    past: tuple[Span, ...] = ()  # the branch's earlier remittances, newest first
    from_month: Month = 0
    until_month: Month = 0
    collected_fen: int = 0  # the branch's ledger for the period (read by the service)
    amount_fen: int = 0
    paid_on: str = ""  # ISO date once given
    proof_file_id: str = ""

    @property
    def overlaps(self) -> tuple[Span, ...]:
        """Earlier remittances sharing months with the chosen period."""
        return overlapping(self.past, self.from_month, self.until_month)

    @property
    def suggested_fen(self) -> int:
        """The default amount: collected for the period, less what was remitted within it."""
        return max(self.collected_fen - remitted_within(self.past, self.from_month,
                                                        self.until_month), 0)  # fmt: skip


def start(org_id: int, branch: str, to_org_id: int, committee: str,
          past: tuple[Span, ...]) -> RemitDraft:  # fmt: skip
    """Asking for the period."""
    return RemitDraft(step="period", org_id=org_id, branch=branch, to_org_id=to_org_id,
                      committee=committee, past=past)  # fmt: skip


def with_collected(draft: RemitDraft, collected_fen: int) -> RemitDraft:
    """The period's collected total read from the ledger; the amount defaults to it."""
    moved = replace(draft, collected_fen=collected_fen)
    return replace(moved, amount_fen=moved.suggested_fen)


def _chosen(draft: RemitDraft, first: Month, last: Month, now: datetime) -> RemitDraft | Refusal:
    problem = check_period(first, last, now.date())
    if problem is not None:
        return Refusal(problem)
    step = "overlap" if overlapping(draft.past, first, last) else "amount"
    return replace(draft, step=step, from_month=first, until_month=last, collected_fen=0,
                   amount_fen=0)  # fmt: skip


def _pick(draft: RemitDraft, event: Event, now: datetime) -> RemitDraft | Refusal:
    period = preset(event.text or "", now.date())
    if period is None:
        return Refusal("stale")
    return _chosen(draft, *period, now)


def _type_period(draft: RemitDraft, event: Event, now: datetime) -> RemitDraft | Refusal:
    period = parse_period(event.text or "")
    if isinstance(period, Invalid):
        return Refusal(period.code)
    return _chosen(draft, *period, now)


def _go_on(draft: RemitDraft, event: Event, now: datetime) -> RemitDraft | Refusal:
    return replace(draft, step="amount")


def _to_period(draft: RemitDraft, event: Event, now: datetime) -> RemitDraft | Refusal:
    return replace(draft, step="period")


def _keep_amount(draft: RemitDraft, event: Event, now: datetime) -> RemitDraft | Refusal:
    if draft.amount_fen <= 0:
        return Refusal("dues.remit.amount")
    return replace(draft, step="date")


def _type_amount(draft: RemitDraft, event: Event, now: datetime) -> RemitDraft | Refusal:
    fen = parse_amount(event.text or "")
    if isinstance(fen, Invalid):
        return Refusal(fen.code)
    return replace(draft, amount_fen=fen, step="date")


def _paid(draft: RemitDraft, day: date, now: datetime) -> RemitDraft | Refusal:
    problem = check_paid_on(day, draft.from_month, now.date())
    if problem is not None:
        return Refusal(problem)
    return replace(draft, paid_on=day.isoformat(), step="proof")


def _today(draft: RemitDraft, event: Event, now: datetime) -> RemitDraft | Refusal:
    return _paid(draft, now.date(), now)


def _yesterday(draft: RemitDraft, event: Event, now: datetime) -> RemitDraft | Refusal:
    return _paid(draft, now.date() - timedelta(days=1), now)


def _type_date(draft: RemitDraft, event: Event, now: datetime) -> RemitDraft | Refusal:
    day = parse_date(event.text or "")
    if isinstance(day, BadText):
        return Refusal("dues.remit.date")
    return _paid(draft, day, now)


def _to_amount(draft: RemitDraft, event: Event, now: datetime) -> RemitDraft | Refusal:
    return replace(draft, step="amount")


def _take_proof(draft: RemitDraft, event: Event, now: datetime) -> RemitDraft | Refusal:
    file_id = (event.text or "").strip()
    if not file_id or len(file_id) > 200:
        return Refusal("dues.proof.invalid")
    return replace(draft, proof_file_id=file_id, step="review")


def _no_proof(draft: RemitDraft, event: Event, now: datetime) -> RemitDraft | Refusal:
    return replace(draft, proof_file_id="", step="review")


def _to_date(draft: RemitDraft, event: Event, now: datetime) -> RemitDraft | Refusal:
    return replace(draft, step="date")


def _to_proof(draft: RemitDraft, event: Event, now: datetime) -> RemitDraft | Refusal:
    return replace(draft, step="proof")


# Step → action → transition (`now` is local to the branch). A period chosen ("pick" a preset
# code, or typed) leaves collected_fen at 0: the service reads the ledger, then with_collected.
STEPS: Steps[RemitDraft] = {
    "period": {"pick": _pick, "text": _type_period},
    "overlap": {"go": _go_on, "back": _to_period, "pick": _pick, "text": _type_period},
    "amount": {"ok": _keep_amount, "text": _type_amount, "back": _to_period},
    "date": {"today": _today, "yesterday": _yesterday, "text": _type_date, "back": _to_amount},
    "proof": {"photo": _take_proof, "skip": _no_proof, "back": _to_date},
    "review": {"back": _to_proof, "redo": _to_period},
}


# ---- the committee's 上缴情况: narrowing the branches to a typed part of a name ----

NAME_QUERY_MAX = 30


@dataclass(frozen=True)
class FindDraft(Draft):
    """上缴情况 narrowed to branches whose name holds `query` (typed); step "ask" until typed,
    then "shown" while the person pages through the narrowed table."""

    FLOW: ClassVar[str] = "dues_remit_find"
    VERSION: ClassVar[int] = 1

    committee_id: int = 0
    first: Month = 0
    last: Month = 0
    query: str = ""


def parse_query(text: str) -> str | Invalid:
    """A part of a branch name: some characters, not too many."""
    value = " ".join(unicodedata.normalize("NFKC", text).split())
    value = "".join(ch for ch in value if unicodedata.category(ch)[0] != "C")
    if not value:
        return Invalid("dues.board.query_empty")
    if len(value) > NAME_QUERY_MAX:
        return Invalid("dues.board.query_long")
    return value
