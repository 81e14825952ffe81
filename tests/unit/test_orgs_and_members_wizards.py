"""The /org create wizard and the registration wizard as data: steps, going back, JSON."""

from __future__ import annotations

from dataclasses import replace

from domain.members_registration import RegistrationDraft, after_stage, previous_step
from domain.orgs import KINDS_BY_LEVEL, Kind, Level, Stage
from domain.orgs_wizard import (
    NewOrgDraft,
    begin,
    choose_kind,
    choose_level,
    first_open,
    named,
    step_back,
)
from domain.wizard import dump, load

BOTH = (Level.GENERAL_BRANCH, Level.BRANCH)


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
