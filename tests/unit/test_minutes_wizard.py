"""The minutes wizard's steps as a table: where each action leads, what it refuses."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.compliance import MeetingType
from domain.minutes import PHOTOS_MAX, form_for
from domain.minutes_wizard import (
    MinutesDraft,
    field_index,
    first_problem,
    previous_step,
    start,
    steps_for,
)
from domain.wizard import STALE, Event, Refusal, accepts, apply, dump, load

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
FORM = form_for([MeetingType.PARTY_LESSON])  # lecturer, theme, summary, remarks
STEPS = steps_for(FORM)


def moved(
    draft: MinutesDraft, action: str, value: int = 0, text: str | None = None
) -> MinutesDraft:
    result = apply(STEPS, draft, Event(action, value, text), NOW)
    assert isinstance(result, MinutesDraft), result
    return result


def test_the_steps_run_attendance_fields_photos_preview() -> None:
    draft = start(7, {"theme": "党章"}, (), editing=False)
    assert draft.step == "att"
    draft = moved(draft, "go")
    assert draft.step == "f0"
    draft = moved(draft, "text", text="  陈 书记 \n")
    assert (draft.step, draft.value("lecturer")) == ("f1", "陈 书记")
    draft = moved(draft, "keep")  # the theme was pre-filled
    draft = moved(draft, "text", text="摘要")
    assert draft.step == "f3"
    draft = moved(draft, "skip")  # 备注 is optional
    assert draft.step == "ph"
    assert draft.answers() == {"theme": "党章", "lecturer": "陈 书记", "summary": "摘要"}
    draft = moved(draft, "done")
    assert draft.step == "pre"
    assert accepts(STEPS, "pre") == {"redo", "back"}  # saving is the service's intent
    assert moved(draft, "redo").step == "att"


def test_refusals_keep_the_draft_where_it_is() -> None:
    at_lecturer = moved(start(7, {}, (), editing=False), "go")
    assert apply(STEPS, at_lecturer, Event("keep"), NOW) == STALE  # nothing to keep
    assert apply(STEPS, at_lecturer, Event("skip"), NOW) == STALE  # required
    assert apply(STEPS, at_lecturer, Event("text", text="\u200b "), NOW) == Refusal(
        "minutes.text_empty"
    )
    too_long = apply(STEPS, at_lecturer, Event("text", text="名" * 31), NOW)
    assert too_long == Refusal("minutes.text_too_long", {"limit": 30, "length": 31})
    assert apply(STEPS, at_lecturer, Event("done"), NOW) == STALE  # a button of another step


def test_signing_for_someone_goes_through_pick_and_note_and_back() -> None:
    draft = moved(start(7, {}, (), editing=True), "pick")
    assert (draft.step, draft.offset) == ("pick", 0)
    draft = moved(draft, "pg", 8)
    assert draft.offset == 8
    draft = moved(draft, "m", 42)
    assert (draft.step, draft.member_id) == ("note", 42)
    back = moved(draft, "skip")
    assert (back.step, back.member_id) == ("att", 0)


def test_back_and_the_first_problem() -> None:
    assert previous_step("att", FORM) is None
    assert previous_step("f0", FORM) == "att"
    assert previous_step("ph", FORM) == "f3"
    assert previous_step("pre", FORM) == "ph"
    assert moved(moved(start(7, {}, (), False), "pick"), "back").step == "att"
    assert field_index("f12") == 12
    assert field_index("ph") is None
    assert first_problem(FORM, ["summary", "lecturer"]) == "f0"


def test_photos_up_to_the_limit_and_cleared() -> None:
    draft = start(7, {}, (), editing=False)
    for n in range(PHOTOS_MAX):
        more = draft.with_photo(f"file-{n}")
        assert more is not None
        draft = more
    assert draft.with_photo("one-too-many") is None
    cleared = moved(MinutesDraft(step="ph", photos=draft.photos), "clear")
    assert cleared.photos == ()


def test_the_draft_survives_being_kept_as_json() -> None:
    draft = moved(start(7, {"theme": "党章", "topics": "议题"}, ("a", "b"), True), "pick")
    assert load(MinutesDraft, dump(draft)) == draft
