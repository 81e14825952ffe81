"""A committee adjusting its local rate table (党费计算标准的本地调整), as a typed draft.

Steps: "table" (the table as edited so far, with a button per bracket, 固定金额, 恢复上级标准,
预览) → a bracket's "upper" bound (not for the open last bracket) → its "rate" → "table";
固定金额: "fixed" (students, the unemployed, subsistence allowance) → "farmer" (the range a
branch may set for farmers) → "table"; 预览: "preview" shows old against new, and 确认 is the
service's intent (services.dues_rates.save_rates), which takes this draft.

Every edit leaves a table that passes `domain.dues.check_table`: brackets are kept as their
upper bounds only, so they are contiguous and never overlap by construction; a bound must lie
between its neighbours, rates stay between 0.1 % and 5 % and never fall in a higher bracket.

Standards already confirmed are NOT recomputed when the table changes: each was confirmed by a
keeper for an amount, and members may have paid ahead on it. The new table applies to
declarations and corrections made after the change (a declaration already being typed keeps
the table it started with). The confirmation screen says so.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Callable
from datetime import datetime
from typing import ClassVar

from domain.dues import (
    BASE_MAX_FEN,
    NATIONAL,
    Bracket,
    Invalid,
    RateTable,
    check_table,
    parse_yuan,
)
from domain.orgs import Permission
from domain.wizard import Draft, Event, Refusal, Steps

# Who may adjust a committee's table: its 党费管理员 (KEEP_DUES in the committee itself) and
# those who run the committee (committee admins: MANAGE_ORGS). Branch keepers hold KEEP_DUES
# on branches only, and services allow committees only, so they cannot.
RATE_PERMISSIONS = frozenset({Permission.KEEP_DUES, Permission.MANAGE_ORGS})

KINDS = ("working", "retired")
# A bracket button's value: kind index × KIND_STEP + bracket index.
KIND_STEP = 10


@dataclasses.dataclass(frozen=True)
class RatesDraft(Draft):
    """A committee's table being edited: what was in force, what applies without a local
    table, and the table as edited so far."""

    FLOW: ClassVar[str] = "dues_rates"
    VERSION: ClassVar[int] = 1

    org_id: int = 0
    org_name: str = ""
    inherited_from: str = ""  # the committee above whose table applies ("": the national)
    before: RateTable = dataclasses.field(default_factory=RateTable)  # in force at the start
    before_local: bool = False  # whether `before` was this committee's own
    inherited: RateTable = dataclasses.field(default_factory=RateTable)  # without its own
    table: RateTable = dataclasses.field(default_factory=RateTable)
    local: bool = False  # the result is this committee's own table (not the inherited one)
    kind: str = ""  # "working" / "retired" while a bracket is edited
    index: int = 0

    @property
    def changed(self) -> bool:
        """Whether saving would change anything."""
        return self.table != self.before or self.local != self.before_local

    def brackets(self) -> tuple[Bracket, ...]:
        """The brackets of the kind being edited."""
        return self.table.retired if self.kind == "retired" else self.table.working


def begin(
    org_id: int,
    org_name: str,
    before: RateTable,
    before_local: bool,
    inherited: RateTable,
    inherited_from: str,
) -> RatesDraft:
    """The table in force, ready to edit."""
    return RatesDraft(step="table", org_id=org_id, org_name=org_name,
                      inherited_from=inherited_from, before=before, before_local=before_local,
                      inherited=inherited, table=before, local=before_local)  # fmt: skip


def parse_rate(text: str) -> int | Invalid:
    """A rate typed as a percentage ("1.5", "1.5%", "１．５％") as ‰ (one decimal at most)."""
    cleaned = unicodedata.normalize("NFKC", text).strip().replace(" ", "").rstrip("%")
    found = re.fullmatch(r"(\d{1,2})(?:\.(\d))?", cleaned, re.ASCII)
    if found is None:
        return Invalid("dues.rates.rate_invalid")
    return int(found.group(1)) * 10 + int(found.group(2) or 0)


def parse_range(text: str) -> tuple[int, int] | Invalid:
    """Two amounts in yuan ("0.2-1", "0.20～1.00", "0.2至1元") as fen, low first."""
    cleaned = unicodedata.normalize("NFKC", text).strip()
    parts = [p for p in re.split(r"\s*(?:-|~|—|–|至|到|,|，|\s)\s*", cleaned) if p]
    if len(parts) != 2:
        return Invalid("dues.rates.range_invalid")
    low, high = parse_yuan(parts[0]), parse_yuan(parts[1])
    if isinstance(low, Invalid) or isinstance(high, Invalid):
        return Invalid("dues.rates.range_invalid")
    return low, high


def _with(draft: RatesDraft, table: RateTable, step: str) -> RatesDraft | Refusal:
    invalid = check_table(table)
    if invalid is not None:
        return Refusal(invalid.code)
    return dataclasses.replace(draft, step=step, table=table, local=True)


def _set_brackets(draft: RatesDraft, brackets: tuple[Bracket, ...]) -> RateTable:
    if draft.kind == "retired":
        return dataclasses.replace(draft.table, retired=brackets)
    return dataclasses.replace(draft.table, working=brackets)


def pick_bracket(draft: RatesDraft, event: Event, now: datetime) -> RatesDraft | Refusal:
    """A bracket's button: its upper bound is asked (the open last one: its rate)."""
    kind_index, index = divmod(event.value, KIND_STEP)
    if not 0 <= kind_index < len(KINDS):
        return Refusal("stale")
    kind = KINDS[kind_index]
    brackets = draft.table.retired if kind == "retired" else draft.table.working
    if not 0 <= index < len(brackets):
        return Refusal("stale")
    step = "rate" if brackets[index].upper_fen is None else "upper"
    return dataclasses.replace(draft, step=step, kind=kind, index=index)


def take_upper(draft: RatesDraft, event: Event, now: datetime) -> RatesDraft | Refusal:
    """The bracket's new upper bound in yuan (the next bracket now starts there)."""
    parsed = parse_yuan(event.text or "")
    if isinstance(parsed, Invalid):
        return Refusal(parsed.code)
    if not 0 < parsed <= BASE_MAX_FEN:
        return Refusal("dues.table.order")
    brackets = list(draft.brackets())
    brackets[draft.index] = dataclasses.replace(brackets[draft.index], upper_fen=parsed)
    return _with(draft, _set_brackets(draft, tuple(brackets)), "rate")


def take_rate(draft: RatesDraft, event: Event, now: datetime) -> RatesDraft | Refusal:
    """The bracket's new rate (a percentage), then back to the table."""
    parsed = parse_rate(event.text or "")
    if isinstance(parsed, Invalid):
        return Refusal(parsed.code)
    brackets = list(draft.brackets())
    brackets[draft.index] = dataclasses.replace(brackets[draft.index], permille=parsed)
    return _with(draft, _set_brackets(draft, tuple(brackets)), "table")


def take_fixed(draft: RatesDraft, event: Event, now: datetime) -> RatesDraft | Refusal:
    """The fixed monthly amount (students, the unemployed, subsistence allowance)."""
    parsed = parse_yuan(event.text or "")
    if isinstance(parsed, Invalid):
        return Refusal(parsed.code)
    return _with(draft, dataclasses.replace(draft.table, fixed_fen=parsed), "farmer")


def take_farmer(draft: RatesDraft, event: Event, now: datetime) -> RatesDraft | Refusal:
    """The range within which a branch sets a farmer's amount."""
    parsed = parse_range(event.text or "")
    if isinstance(parsed, Invalid):
        return Refusal(parsed.code)
    low, high = parsed
    table = dataclasses.replace(draft.table, farmer_low_fen=low, farmer_high_fen=high)
    return _with(draft, table, "table")


def to_step(step: str) -> Callable[[RatesDraft, Event, datetime], RatesDraft]:
    """A move to `step` keeping what was answered (不改 / 返回)."""

    def move(draft: RatesDraft, event: Event, now: datetime) -> RatesDraft:
        return dataclasses.replace(draft, step=step)

    return move


def edit_fixed(draft: RatesDraft, event: Event, now: datetime) -> RatesDraft:
    """固定金额: the fixed amount is asked, then the farmers' range."""
    return dataclasses.replace(draft, step="fixed")


def inherit(draft: RatesDraft, event: Event, now: datetime) -> RatesDraft:
    """恢复上级标准: the committee's own table is dropped; what applies above applies."""
    return dataclasses.replace(draft, table=draft.inherited, local=False)


def preview(draft: RatesDraft, event: Event, now: datetime) -> RatesDraft | Refusal:
    """预览: old against new (nothing changed: nothing to save)."""
    if not draft.changed:
        return Refusal("dues.rates.unchanged")
    return dataclasses.replace(draft, step="preview")


RATES_STEPS: Steps[RatesDraft] = {
    "table": {"bracket": pick_bracket, "fixed": edit_fixed, "inherit": inherit,
              "preview": preview},
    "upper": {"text": take_upper, "keep": to_step("rate"), "back": to_step("table")},
    "rate": {"text": take_rate, "keep": to_step("table"), "back": to_step("table")},
    "fixed": {"text": take_fixed, "keep": to_step("farmer"), "back": to_step("table")},
    "farmer": {"text": take_farmer, "keep": to_step("table"), "back": to_step("table")},
    "preview": {"back": to_step("table")},
}  # fmt: skip


def is_national(table: RateTable) -> bool:
    """Whether a table is the national one."""
    return table == NATIONAL
