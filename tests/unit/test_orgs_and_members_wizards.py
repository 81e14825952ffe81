"""The /org and members wizards as data: steps, going back, JSON, older drafts refused."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from domain.members_registration import (
    RegistrationDraft,
    RejectDraft,
    after_stage,
    ask_reject_reason,
    previous_step,
)
from domain.members_roster import (
    IMPORT_STEPS,
    STEP_AWAIT_FILE,
    STEP_CONFIRM,
    ImportDraft,
    awaiting_file,
    previewed,
)
from domain.members_wizard import (
    FIND_STEPS,
    PICKERS,
    LeftDraft,
    MembersFindDraft,
    PhoneDraft,
    ask_left_reason,
    ask_phone,
    picker_open,
)
from domain.orgs import KINDS_BY_LEVEL, Kind, Level, Role, Stage
from domain.orgs_wizard import (
    HolderDraft,
    NewOrgDraft,
    ask_holder,
    begin,
    choose_kind,
    choose_level,
    first_open,
    named,
    step_back,
)
from domain.wizard import Draft, DraftFormatError, Event, Refusal, accepts, apply, dump, load

BOTH = (Level.GENERAL_BRANCH, Level.BRANCH)
NOW = datetime(2026, 7, 15, 9, 0, tzinfo=UTC)


def test_a_single_choice_is_made_without_asking() -> None:
    committee = begin(None, None, (Level.COMMITTEE,))
    assert len(KINDS_BY_LEVEL[Level.COMMITTEE]) > 1
    assert (committee.step, committee.level) == ("kind", Level.COMMITTEE)
    assert step_back(committee) is None  # the level was never asked
    general = begin(7, "园区党委", (Level.GENERAL_BRANCH,))
    assert (general.step, general.kind) == ("name", Kind.GENERAL)
    assert step_back(general) is None


def test_level_kind_name_then_back_forgets_one_answer_at_a_time() -> None:
    draft = begin(7, "园区党委", BOTH)
    assert (draft.step, draft.level) == ("level", None)
    assert choose_kind(draft, 0) is None  # a button of another step
    assert choose_level(draft, len(BOTH)) is None  # out of range: forged
    branch = choose_level(draft, BOTH.index(Level.BRANCH))
    assert branch is not None
    assert branch.step == "kind"
    standard = choose_kind(branch, branch.kinds.index(Kind.STANDARD))
    assert standard is not None
    assert standard.step == "name"
    preview = named(standard, "研发支部")
    assert (preview.step, preview.name, preview.kind) == ("confirm", "研发支部", Kind.STANDARD)
    again = step_back(preview)
    assert again is not None
    assert (again.step, again.name) == ("name", None)
    while (earlier := step_back(again)) is not None:
        again = earlier
    assert (again.step, again.level, again.kind) == ("level", None, None)
    assert first_open(again).step == "level"


def test_the_org_draft_survives_json() -> None:
    draft = named(begin(7, "园区党委", BOTH), "研发支部")
    assert load(NewOrgDraft, dump(draft)) == draft


def test_registration_skips_the_unit_question_without_units() -> None:
    plain = RegistrationDraft(step="stage", org_id=3, org_name="支部", stage=Stage.FULL)
    assert after_stage(plain) == "phone"
    assert previous_step(replace(plain, step="phone")) == "stage"
    with_units = replace(plain, has_units=True)
    assert after_stage(with_units) == "unit"
    assert previous_step(replace(with_units, step="phone")) == "unit"
    assert previous_step(replace(plain, step="name")) is None
    assert previous_step(replace(plain, step="confirm")) == "phone"
    assert load(RegistrationDraft, dump(plain)) == plain


def test_the_one_question_drafts_survive_json() -> None:
    drafts: list[Draft] = [
        ask_phone(),
        ask_left_reason(12),
        ask_reject_reason(34),
        ask_holder(5, "园区党委", Role.INSTRUCTOR),
    ]
    for draft in drafts:
        assert load(type(draft), dump(draft)) == draft
    assert ask_left_reason(12) == LeftDraft(step="reason", member_id=12)
    assert ask_holder(5, "园区党委", Role.INSTRUCTOR).role is Role.INSTRUCTOR


@pytest.mark.parametrize(
    ("cls", "old"),
    [
        (PhoneDraft, {}),
        (LeftDraft, {"member_id": 12}),
        (RejectDraft, {"registration_id": 34}),
        (HolderDraft, {"org_id": 5, "org_name": "园区党委", "role": "instructor"}),
        (ImportDraft, {"org_id": 5}),
    ],
)
def test_a_draft_of_the_previous_release_does_not_load(
    cls: type[Draft], old: dict[str, object]
) -> None:
    with pytest.raises(DraftFormatError):
        load(cls, old)  # plain data without a version: dropped politely by open_draft


def test_the_flow_names_stay_those_the_router_knows() -> None:
    flows: list[type[Draft]] = [PhoneDraft, LeftDraft, RejectDraft, HolderDraft, ImportDraft]
    assert [c.FLOW for c in flows] == [
        "me_phone", "member_left", "reject_registration", "org_holder", "roster_import",
    ]  # fmt: skip


def test_the_import_draft_keeps_the_previewed_rows_and_confirms_only_its_token() -> None:
    waiting = awaiting_file(5)
    assert (waiting.step, waiting.rows) == (STEP_AWAIT_FILE, ())
    assert accepts(IMPORT_STEPS, STEP_AWAIT_FILE) == frozenset()
    rows = [{"name": "王芳", "phone": "13800138000"}, {}]
    preview = previewed(5, "ab12cd34", 3, rows)
    assert preview.step == STEP_CONFIRM
    assert [dict(r) for r in preview.rows] == rows  # blank rows stay, so line numbers match
    assert load(ImportDraft, dump(preview)) == preview
    assert apply(IMPORT_STEPS, waiting, Event("confirm", text=""), NOW) == Refusal("stale")
    wrong = apply(IMPORT_STEPS, preview, Event("confirm", text="deadbeef"), NOW)
    assert wrong == Refusal("import.stale")  # an older preview's button
    applying = apply(IMPORT_STEPS, preview, Event("confirm", text="ab12cd34"), NOW)
    assert isinstance(applying, ImportDraft)
    assert applying.rows == preview.rows


def test_members_choosers_page_and_narrow() -> None:
    opened = picker_open("member", 42, offset=-8)
    assert (opened.step, opened.key, opened.offset, opened.find) == ("member", 42, 0, "")
    for step in PICKERS:
        assert accepts(FIND_STEPS, step) == {"page", "text", "nof"}
    turned = apply(FIND_STEPS, opened, Event("page", 16), NOW)
    assert isinstance(turned, MembersFindDraft)
    found = apply(FIND_STEPS, turned, Event("text", text=" 王 "), NOW)
    assert isinstance(found, MembersFindDraft)
    assert (found.key, found.offset, found.find) == (42, 0, "王")
    assert apply(FIND_STEPS, found, Event("text", text=""), NOW) == Refusal("picker.find_empty")
    assert apply(FIND_STEPS, found, Event("nof"), NOW) == replace(found, find="")
    assert load(MembersFindDraft, dump(found)) == found
