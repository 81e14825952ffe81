"""The picker events of the unit, party-group and 代签/补签 choosers: another page, a typed part
of a name (back to the first page), 显示全部; drafts keep them across a restart."""

from __future__ import annotations

from datetime import UTC, datetime

from domain import forms_builder, notices
from domain.meetings_wizard import MEETING_STEPS, PROXY_STEPS, MeetingDraft, ProxyFind
from domain.members_registration import UNIT_STEPS, RegistrationDraft
from domain.members_wizard import FIND_STEPS, PICKERS
from domain.orgs import Level
from domain.wizard import STALE, Event, Refusal, accepts, apply, dump, load

NOW = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)


def test_registration_units_page_narrow_and_show_all() -> None:
    draft = RegistrationDraft(step="unit", org_id=7, org_name="联合支部", has_units=True)
    turned = apply(UNIT_STEPS, draft, Event("page", 112), NOW)
    assert isinstance(turned, RegistrationDraft)
    assert turned.unit_offset == 112
    found = apply(UNIT_STEPS, turned, Event("text", text=" 星火 "), NOW)
    assert isinstance(found, RegistrationDraft)
    assert (found.unit_offset, found.unit_find) == (0, "星火")
    assert apply(UNIT_STEPS, found, Event("text", text="  "), NOW) == Refusal("picker.find_empty")
    everything = apply(UNIT_STEPS, found, Event("nof"), NOW)
    assert isinstance(everything, RegistrationDraft)
    assert (everything.unit_offset, everything.unit_find) == (0, "")
    assert load(RegistrationDraft, dump(found)) == found
    # Only on the unit question: a page press on another step is stale.
    assert apply(UNIT_STEPS, RegistrationDraft(step="phone"), Event("page", 8), NOW) == STALE


def test_members_pickers_include_units_and_party_groups() -> None:
    assert {"unit", "group"} <= set(PICKERS)
    for step in ("unit", "group"):
        assert accepts(FIND_STEPS, step) == {"page", "text", "nof"}


def test_notice_and_form_party_groups_page_and_narrow() -> None:
    for module, cls in ((notices, notices.NoticeDraft), (forms_builder, forms_builder.BuildDraft)):
        draft = cls(step="pg")
        assert "pg" in module.TYPED
        assert {"page", "text", "nof", "pick"} <= accepts(module.STEPS, "pg")
        found = apply(module.STEPS, draft, Event("text", text="第3"), NOW)
        assert isinstance(found, cls)
        assert (found.pg_offset, found.pg_find) == (0, "第3")
        turned = apply(module.STEPS, found, Event("page", 8), NOW)
        assert isinstance(turned, cls)
        assert (turned.pg_offset, turned.pg_find) == (8, "第3")
        assert load(cls, dump(turned)) == turned


def test_choosing_another_organization_forgets_the_party_group_picker() -> None:
    draft = notices.NoticeDraft(step="org", org_id=1, pg_offset=8, pg_find="第3")
    chosen = notices.choose_org(draft, 2, "第二支部", Level.BRANCH)
    assert (chosen.pg_offset, chosen.pg_find) == (0, "")
    built = forms_builder.BuildDraft(step="org", org_id=1, pg_offset=8, pg_find="第3")
    chosen_form = forms_builder.choose_org(built, 2, "第二支部", Level.BRANCH)
    assert (chosen_form.pg_offset, chosen_form.pg_find) == (0, "")


def test_meeting_audience_pages_and_narrows_its_party_groups() -> None:
    draft = MeetingDraft(step="aud", org_id=3, org_name="第一支部")
    found = apply(MEETING_STEPS, draft, Event("text", text="30"), NOW)
    assert isinstance(found, MeetingDraft)
    assert (found.step, found.offset, found.find) == ("aud", 0, "30")
    chosen = apply(MEETING_STEPS, found, Event("pg", 42), NOW)
    assert isinstance(chosen, MeetingDraft)
    assert (chosen.step, chosen.party_group_id) == ("pre", 42)


def test_proxy_sign_in_list_pages_and_narrows() -> None:
    draft = ProxyFind(step="find", meeting_id=5)
    found = apply(PROXY_STEPS, draft, Event("text", text="组员1"), NOW)
    assert isinstance(found, ProxyFind)
    assert (found.meeting_id, found.offset, found.find) == (5, 0, "组员1")
    turned = apply(PROXY_STEPS, found, Event("page", 8), NOW)
    assert isinstance(turned, ProxyFind)
    assert (turned.offset, turned.find) == (8, "组员1")
    assert load(ProxyFind, dump(turned)) == turned
