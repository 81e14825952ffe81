"""The /meeting planner and a meeting's edit as step tables: pure transitions, no I/O."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.compliance import MeetingType
from domain.meetings import Audience, Detail
from domain.meetings_wizard import (
    EDIT_STEPS,
    MEETING_STEPS,
    LeaveReason,
    MeetingDraft,
    MeetingEdit,
    SignNote,
    start_cancel,
    start_edit,
    start_meeting,
)
from domain.wizard import STALE, Draft, DraftFormatError, Event, Refusal, accepts, apply, dump, load

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
LESSON = list(MeetingType).index(MeetingType.PARTY_LESSON)
GENERAL = list(MeetingType).index(MeetingType.GENERAL_MEETING)


def step(draft: MeetingDraft, action: str, value: int = 0, text: str | None = None) -> MeetingDraft:
    result = apply(MEETING_STEPS, draft, Event(action, value, text), NOW)
    assert isinstance(result, MeetingDraft), result
    return result


def refusal(draft: Draft, action: str, value: int = 0, text: str | None = None) -> str:
    steps = MEETING_STEPS if isinstance(draft, MeetingDraft) else EDIT_STEPS
    result = apply(steps, draft, Event(action, value, text), NOW)  # type: ignore[arg-type]
    assert isinstance(result, Refusal), result
    return result.code


def test_one_branch_skips_the_branch_question_and_has_no_way_back_to_it() -> None:
    single = start_meeting([(7, "甲支部")])
    assert (single.step, single.org_id, single.single_org) == ("type", 7, True)
    assert refusal(single, "back") == "stale"
    several = start_meeting([(7, "甲支部"), (8, "乙支部")])
    assert several.step == "org"
    assert accepts(MEETING_STEPS, "org") == {"pick", "page", "text", "nof"}
    picked = step(several, "pick", 8, "乙支部")
    assert (picked.step, picked.org_id, picked.org_name) == ("type", 8, "乙支部")
    assert step(picked, "back").step == "org"


def test_types_toggle_in_canonical_order_and_one_is_needed() -> None:
    draft = start_meeting([(7, "甲支部")])
    assert refusal(draft, "next") == "meeting.no_type"
    draft = step(step(draft, "t", LESSON), "t", GENERAL)
    assert draft.types == (MeetingType.GENERAL_MEETING, MeetingType.PARTY_LESSON)
    assert step(draft, "t", LESSON).types == (MeetingType.GENERAL_MEETING,)
    assert refusal(draft, "t", 99) == "stale"
    assert step(draft, "next").step == "when"


def test_the_time_is_read_in_local_time_confirmed_and_never_in_the_past() -> None:
    draft = dataclasses.replace(
        start_meeting([(7, "甲支部")], (MeetingType.THEME_DAY,)), step="when"
    )
    assert refusal(draft, "text", text="不是时间") == "meeting.bad_time"
    assert refusal(draft, "text", text="2026-11-01 19:30") == "meeting.past"
    confirm = step(draft, "text", text="12月5日 19:30")
    assert confirm.step == "cfm"
    assert confirm.starts_at == datetime(2026, 12, 5, 19, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert step(confirm, "re").step == "when"
    assert step(confirm, "ok").step == "place"
    assert step(step(confirm, "ok"), "back").step == "when"  # back from the place re-asks it


def test_texts_are_cleaned_and_limited() -> None:
    draft = MeetingDraft(step="place")
    assert refusal(draft, "text", text="   ") == "meeting.place_empty"
    assert refusal(draft, "text", text="楼" * 201) == "meeting.place_long"
    topic = step(draft, "text", text=" 三楼  会议室 ")
    assert (topic.step, topic.place) == ("topic", "三楼 会议室")
    agenda = step(topic, "text", text="学习党章")
    assert agenda.step == "agenda"
    assert step(agenda, "skip") == dataclasses.replace(agenda, step="host", agenda=None)


def test_the_lecturer_is_asked_only_for_a_party_lesson() -> None:
    plain = MeetingDraft(step="host", types=(MeetingType.THEME_DAY,))
    rec = step(plain, "pick", 5)
    assert (rec.step, rec.host_id) == ("rec", 5)
    aud = step(rec, "pick", 0)  # 跳过
    assert (aud.step, aud.recorder_id) == ("aud", None)
    assert step(aud, "back").step == "rec"
    lesson = dataclasses.replace(rec, types=(MeetingType.PARTY_LESSON,))
    lect = step(lesson, "pick", 6)
    assert lect.step == "lect"
    assert step(step(lect, "pick", 5), "back").step == "lect"
    assert step(lect, "page", 8).offset == 8
    assert step(step(lect, "page", 8), "pick", 5).offset == 0


def test_the_audience_leads_to_the_preview_and_publishing_is_not_a_transition() -> None:
    aud = MeetingDraft(step="aud", types=(MeetingType.GROUP_MEETING,))
    group = step(aud, "pg", 3)
    assert (group.step, group.audience, group.party_group_id) == ("pre", Audience.PARTY_GROUP, 3)
    branch = step(aud, "br", 3)
    assert (branch.audience, branch.party_group_id) == (Audience.BRANCH, None)
    assert refusal(group, "ok") == "stale"  # 确认发布 is the publishing intent
    assert step(group, "redo").step == "type"
    assert step(group, "back").step == "aud"
    assert refusal(group, "pick", 3) == "stale"  # an old button of another step


def test_an_edit_picks_or_types_then_waits_for_confirmation() -> None:
    person = start_edit(4, Detail.HOST)
    assert person.step == "person"
    assert apply(EDIT_STEPS, person, Event("epg", 8), NOW) == dataclasses.replace(person, offset=8)
    paged = dataclasses.replace(person, offset=8)
    found = apply(EDIT_STEPS, paged, Event("text", text=" 王 "), NOW)
    assert found == dataclasses.replace(person, offset=0, find="王")
    assert apply(EDIT_STEPS, found, Event("enof"), NOW) == person
    assert apply(EDIT_STEPS, person, Event("text", text="  "), NOW) == Refusal("picker.find_empty")
    nobody = apply(EDIT_STEPS, person, Event("ep", 0), NOW)
    assert isinstance(nobody, MeetingEdit)
    assert (nobody.step, nobody.chosen, nobody.value) == ("confirm", True, None)
    assert accepts(EDIT_STEPS, "confirm") == set()  # 确认修改 is the edit intent
    place = start_edit(4, Detail.PLACE)
    assert refusal(place, "text", text="楼" * 201) == "meeting.edit_too_long"
    long = apply(EDIT_STEPS, place, Event("text", text="楼" * 201), NOW)
    assert isinstance(long, Refusal)
    assert long.params == {"limit": 200}
    assert refusal(place, "text", text=" ") == "meeting.text_empty"
    assert refusal(place, "eclr") == "stale"  # only the agenda can be cleared
    cleared = apply(EDIT_STEPS, start_edit(4, Detail.AGENDA), Event("eclr"), NOW)
    assert isinstance(cleared, MeetingEdit)
    assert (cleared.step, cleared.chosen, cleared.value) == ("confirm", True, None)
    when = apply(EDIT_STEPS, start_edit(4, Detail.WHEN), Event("text", text="12月6日 19:30"), NOW)
    assert isinstance(when, MeetingEdit)
    assert when.value == datetime(2026, 12, 6, 19, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert refusal(start_edit(4, Detail.WHEN), "text", text="昨天") in {
        "meeting.past",
        "meeting.bad_time",
    }


def test_a_cancellation_takes_an_optional_reason() -> None:
    ask = start_cancel(4)
    assert (ask.step, ask.detail) == ("reason", None)
    assert refusal(ask, "text", text="因" * 201) == "meeting.reason_long"
    typed = apply(EDIT_STEPS, ask, Event("text", text=" 场地 占用 "), NOW)
    assert isinstance(typed, MeetingEdit)
    assert (typed.step, typed.reason) == ("cancel_confirm", "场地 占用")


@pytest.mark.parametrize(
    "draft",
    [
        MeetingDraft(
            step="pre",
            org_id=7,
            org_name="甲支部",
            types=(MeetingType.GENERAL_MEETING, MeetingType.PARTY_LESSON),
            starts_at=NOW + timedelta(days=2),
            place="三楼",
            topic="学习",
            host_id=5,
            audience=Audience.PARTY_GROUP,
            party_group_id=3,
        ),
        dataclasses.replace(start_edit(4, Detail.WHEN), chosen=True, when=NOW),
        LeaveReason(step="reason", meeting_id=4),
        SignNote(step="note", meeting_id=4, member_id=9),
    ],
)
def test_drafts_survive_their_json(draft: Draft) -> None:
    assert load(type(draft), dump(draft)) == draft


def test_a_draft_of_the_previous_release_is_refused_as_outdated() -> None:
    old = {"single_org": True, "types": ["theme_day"], "org_id": 7, "org_name": "甲支部"}
    with pytest.raises(DraftFormatError):
        load(MeetingDraft, old)
    with pytest.raises(DraftFormatError):
        load(MeetingEdit, {"meeting_id": 4, "detail": "place", "offset": 0})
    with pytest.raises(DraftFormatError):
        load(LeaveReason, {"meeting_id": 4})


def test_unknown_actions_are_stale() -> None:
    assert apply(MEETING_STEPS, MeetingDraft(step="nowhere"), Event("next"), NOW) is STALE
