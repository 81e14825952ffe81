"""The /notice composer's rules and step table, without Telegram or a database."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from domain.notices import (
    CATEGORIES,
    NO_DEADLINE,
    ORDER,
    PARENT,
    STEPS,
    TYPED,
    NoticeDraft,
    NoticeEditDraft,
    ack_label,
    choose_org,
    first_step,
    offered_ack_label,
    presets_today,
    previous,
    publish_check,
    start,
    with_body,
)
from domain.orgs import STAGE_CHOICES, Level, Stage
from domain.wizard import STALE, DraftFormatError, Event, Refusal, accepts, apply, dump, load

TZ = ZoneInfo("Asia/Shanghai")
MORNING = datetime(2026, 12, 7, 9, 30, tzinfo=TZ)  # a Monday
EVENING = datetime(2026, 12, 7, 19, 0, tzinfo=TZ)
CAT = {name: i for i, name in enumerate(CATEGORIES)}


def composed(**changes: object) -> NoticeDraft:
    """A draft answered up to the audience, for one committee."""
    draft = choose_org(start(single_org=True), 7, "两新工委", Level.COMMITTEE)
    draft = replace(draft, category="meeting", ack=True, title="支委会", body="请参加", step="aud")
    return replace(draft, **changes)  # type: ignore[arg-type]


def step(
    draft: NoticeDraft, action: str, value: int = 0, *, now: datetime = MORNING
) -> NoticeDraft:
    result = apply(STEPS, draft, Event(action, value), now)
    assert isinstance(result, NoticeDraft), result
    return result


def typed(draft: NoticeDraft, text: str, now: datetime = MORNING) -> NoticeDraft | Refusal:
    return apply(STEPS, draft, Event("text", text=text), now)


def test_every_step_has_a_screen_and_back_where_there_is_a_previous_one() -> None:
    assert set(STEPS) == set(ORDER) | set(PARENT)
    for name in STEPS:
        assert "back" in accepts(STEPS, name)
    for name in TYPED:
        assert name in STEPS
    assert "text" in accepts(STEPS, "title")
    assert "text" not in accepts(STEPS, "aud")


def test_the_order_skips_the_org_step_for_a_single_organization() -> None:
    single, several = start(single_org=True), start(single_org=False)
    assert (single.step, several.step) == ("cat", "org")
    assert first_step(single) == "cat"
    assert first_step(several) == "org"
    assert previous(single, "cat") is None
    assert previous(several, "cat") == "org"
    assert previous(single, "title") == "cat"
    assert previous(single, "pre") == "when"
    assert previous(single, "br") == "aud"
    assert previous(single, "dl") == "opt"
    assert previous(single, "at") == "when"
    # 上一步 on the first step is an old button: stale.
    assert apply(STEPS, single, Event("back"), MORNING) == STALE
    assert step(replace(single, step="title"), "back").step == "cat"


def test_choosing_another_organization_drops_the_branches_chosen_under_the_old_one() -> None:
    draft = composed(targets=(1, 2), party_group_id=5, br_offset=8)
    same = choose_org(draft, 7, "两新工委", Level.COMMITTEE)
    assert (same.targets, same.party_group_id, same.step) == ((1, 2), 5, "cat")
    other = choose_org(draft, 9, "第一支部", Level.BRANCH)
    assert (other.targets, other.party_group_id, other.br_offset) == ((), None, 0)
    assert (other.org_id, other.org_name, other.org_level) == (9, "第一支部", Level.BRANCH)


def test_the_acknowledgement_follows_the_category_until_the_sender_changes_it() -> None:
    draft = replace(start(single_org=True), step="cat")
    study = step(draft, "pick", CAT["study"])
    assert (study.step, study.ack, ack_label(study)) == ("title", True, "studied")
    exchange = step(replace(study, step="cat"), "pick", CAT["exchange"])
    assert (exchange.ack, ack_label(exchange)) == (False, None)
    assert offered_ack_label(exchange) == "received"
    # Switched off by hand, then the same category picked again: stays off.
    off = step(replace(study, step="opt"), "ack")
    again = step(replace(off, step="cat"), "pick", CAT["study"])
    assert again.ack is False
    # A category number that does not exist is a forged button.
    assert apply(STEPS, draft, Event("pick", len(CATEGORIES)), MORNING) == STALE


def test_switching_the_acknowledgement_off_drops_the_deadline() -> None:
    draft = composed(step="opt", deadline=datetime(2026, 12, 8, 18, tzinfo=TZ))
    off = step(draft, "ack")
    assert (off.ack, off.deadline) == (False, None)
    # Without acknowledgement there is no deadline to choose.
    assert apply(STEPS, off, Event("dl", 1), MORNING) == STALE
    assert apply(STEPS, off, Event("dlt"), MORNING) == STALE


def test_deadline_presets_are_at_18_and_today_only_before_18() -> None:
    draft = composed(step="opt")
    assert presets_today(MORNING) == (0, 1, 3)
    assert presets_today(EVENING) == (1, 3)
    today = step(draft, "dl", 0)
    assert today.deadline == datetime(2026, 12, 7, 18, tzinfo=TZ)
    assert today.step == "opt"
    assert step(draft, "dl", 3).deadline == datetime(2026, 12, 10, 18, tzinfo=TZ)
    assert step(today, "dl", NO_DEADLINE).deadline is None
    assert apply(STEPS, draft, Event("dl", 0), EVENING) == Refusal("notice.past")
    assert apply(STEPS, draft, Event("dl", 2), MORNING) == STALE


def test_typed_titles_and_bodies() -> None:
    draft = composed(step="title", title=None)
    assert typed(draft, "  ") == Refusal("notice.title_empty")
    assert typed(draft, "长" * 101) == Refusal("notice.title_too_long")
    titled = typed(draft, " 关于召开 支委会 ")
    assert isinstance(titled, NoticeDraft)
    assert titled.step == "body"
    assert titled.title is not None
    assert titled.title.startswith("关于召开")
    body = replace(draft, step="body", body=None)
    assert apply(STEPS, body, Event("keep"), MORNING) == STALE
    assert with_body(body, " \n") == Refusal("notice.body_empty")
    assert with_body(body, "x" * 20_001) == Refusal("notice.body_too_long")
    photo = with_body(body, "", "photo", "file-1")
    assert isinstance(photo, NoticeDraft)
    assert (photo.step, photo.media_kind, photo.media_file_id, photo.body) == (
        "aud", "photo", "file-1", ""
    )  # fmt: skip
    assert step(replace(photo, step="body"), "keep").step == "aud"


def test_typed_deadline_and_send_time() -> None:
    draft = composed(step="dl")
    assert typed(draft, "whenever") == Refusal("notice.bad_time")
    assert typed(draft, "2026-12-01 10:00") == Refusal("notice.past")
    dated = typed(draft, "2026-12-09")
    assert isinstance(dated, NoticeDraft)
    assert (dated.step, dated.deadline) == ("opt", datetime(2026, 12, 9, 18, tzinfo=TZ))
    at = replace(dated, step="at")
    assert typed(at, "2026-12-09 19:00") == Refusal("notice.deadline_before_send")
    later = typed(at, "2026-12-08 08:00")
    assert isinstance(later, NoticeDraft)
    assert (later.step, later.send_at) == ("pre", datetime(2026, 12, 8, 8, tzinfo=TZ))
    assert step(replace(later, step="when"), "now").send_at is None


def test_audience_choices() -> None:
    draft = composed()
    picked = step(step(step(draft, "br"), "tb", 3), "tb", 4)
    assert (picked.step, picked.targets) == ("br", (3, 4))
    assert step(picked, "tb", 3).targets == (4,)
    grouped = replace(picked, party_group_id=8)
    assert step(grouped, "tb", 5).party_group_id is None  # another audience: no group
    assert step(grouped, "clear").targets == ()
    assert step(picked, "done").step == "aud"
    assert step(step(picked, "page", 8), "page", -5).br_offset == 0
    stages = step(step(step(draft, "st"), "ts", 0), "ts", 1)
    assert stages.stages == (STAGE_CHOICES[0], STAGE_CHOICES[1])
    assert step(stages, "ts", 0).stages == (STAGE_CHOICES[1],)
    assert apply(STEPS, stages, Event("ts", 99), MORNING) == STALE
    group = step(replace(draft, step="pg"), "pick", 8)
    assert (group.step, group.party_group_id) == ("aud", 8)
    assert step(replace(group, step="pg"), "pick", 0).party_group_id is None
    assert step(draft, "prv").private is True
    assert step(replace(draft, targets=(3,), party_group_id=8), "all").targets == ()
    # A button of another step is not accepted here.
    assert apply(STEPS, draft, Event("pin"), MORNING) == STALE


def test_redo_returns_to_the_first_step_keeping_every_answer() -> None:
    draft = composed(step="pre", pin=True)
    redo = step(draft, "redo")
    assert redo == replace(draft, step="cat")
    assert step(draft, "back").step == "when"


def test_publishing_rechecks_the_times() -> None:
    draft = composed(step="pre")
    assert publish_check(draft, MORNING) is None
    past = replace(draft, send_at=datetime(2026, 12, 7, 9, tzinfo=TZ))
    assert publish_check(past, MORNING) == ("when", Refusal("notice.send_time_passed"))
    late = replace(draft, deadline=datetime(2026, 12, 7, 9, tzinfo=TZ))
    assert publish_check(late, MORNING) == ("opt", Refusal("notice.deadline_passed"))
    # Without acknowledgement the deadline does not matter.
    assert publish_check(replace(late, ack=False), MORNING) is None


def test_the_draft_round_trips_and_the_old_dict_drafts_are_refused() -> None:
    draft = composed(
        step="pre",
        stages=(Stage.FULL,),
        targets=(3, 4),
        deadline=datetime(2026, 12, 9, 18, tzinfo=TZ),
        send_at=datetime(2026, 12, 8, 8, tzinfo=TZ),
    )
    assert load(NoticeDraft, dump(draft)) == draft
    old = {"single_org": True, "org_id": 7, "org_name": "两新工委", "category": "meeting"}
    with pytest.raises(DraftFormatError):
        load(NoticeDraft, old)
    edit = NoticeEditDraft(step="title", notice_id=4)
    assert load(NoticeEditDraft, dump(edit)) == edit
    with pytest.raises(DraftFormatError):
        load(NoticeEditDraft, {"notice_id": 4})
