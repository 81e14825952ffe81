"""The /ledger wizard as data: branch → period → a typed range, checked without I/O."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from domain.ledger_wizard import STEPS, LedgerDraft, at_branches, for_branch
from domain.wizard import DraftFormatError, Event, Refusal, accepts, apply, dump, load

NOW = datetime(2026, 7, 15, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_a_branch_then_a_typed_range() -> None:
    listing = at_branches()
    assert accepts(STEPS, listing.step) == {"branch", "page", "text", "nof"}
    narrowed = apply(STEPS, listing, Event("text", text=" 第一 "), NOW)
    assert narrowed == LedgerDraft(step="branch", find="第一")  # typing narrows the list
    assert apply(STEPS, narrowed, Event("nof"), NOW) == listing
    picked = apply(STEPS, listing, Event("branch", 42), NOW)
    assert picked == LedgerDraft(step="period", org_id=42, single=False)
    ready = apply(STEPS, picked, Event("text", text="2026年1月1日至2026年6月30日"), NOW)
    assert isinstance(ready, LedgerDraft)
    assert (ready.step, ready.org_id, ready.start, ready.end) == (
        "ready", 42, date(2026, 1, 1), date(2026, 6, 30),
    )  # fmt: skip
    assert accepts(STEPS, ready.step) == frozenset()  # sent: nothing more to answer


def test_back_from_the_period_question_to_the_list() -> None:
    picked = for_branch(42, single=False)
    assert apply(STEPS, picked, Event("back"), NOW) == at_branches()


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("上个月", "range.invalid"),
        ("2026-06-30 2026-01-01", "range.order"),
        ("2026-07-16 2026-07-20", "range.future"),  # starts tomorrow in Beijing
    ],
)
def test_a_bad_range_is_refused_and_the_question_stays(typed: str, code: str) -> None:
    single = for_branch(7, single=True)
    assert apply(STEPS, single, Event("text", text=typed), NOW) == Refusal(code)


def test_today_is_the_local_day() -> None:
    late = datetime(2026, 7, 15, 23, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    ready = apply(STEPS, for_branch(7, single=True), Event("text", text="2026-07-15 2026-07-15"),
                  late)  # fmt: skip
    assert isinstance(ready, LedgerDraft)
    assert ready.start == date(2026, 7, 15)


def test_the_ledger_draft_survives_json_and_older_drafts_do_not_load() -> None:
    ready = apply(STEPS, for_branch(7, single=True), Event("text", text="2026-01-01 2026-06-30"),
                  NOW)  # fmt: skip
    assert isinstance(ready, LedgerDraft)
    assert load(LedgerDraft, dump(ready)) == ready
    with pytest.raises(DraftFormatError):
        load(LedgerDraft, {"org_id": 7, "single": True})  # saved by the previous release
