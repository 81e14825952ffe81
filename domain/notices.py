"""The /notice composer as data: its typed draft, its step graph, and the rules of a notice.

The composer asks, in order (ORDER), for the organization one sends for (skipped when there
is only one), a category, a title, a body, the audience, the options (pin, acknowledgement,
deadline), when to send, and shows a preview. Three sub-steps return to their parent
(PARENT): picking branches, stages or a party group returns to the audience; typing a
deadline returns to the options; typing a send time goes on to the preview.

Transitions are pure. They receive `now` in the sender's time zone (the deadline presets
and typed times are read on the sender's clock). What needs the database (is this
organization one the sender may send for, is this branch under it, is this party group in
the audience) is checked by the handler before the event is applied; the organization pick,
which also brings the organization's name and level, is `choose_org`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import ClassVar

from domain.orgs import STAGE_CHOICES, Level, Stage
from domain.pickers import paging
from domain.validation import Invalid, parse_short_text
from domain.when import DEFAULT_DEADLINE_TIME, parse_when
from domain.wizard import STALE, Draft, Event, Refusal, Steps, Transition

TITLE_MAX = 100
BODY_MAX = 20_000  # HTML; the outbox worker splits it into Telegram-sized messages
# The categories of the QQ-group practice; each has a default acknowledgement button.
CATEGORIES: dict[str, str | None] = {
    "meeting": "received",  # 会议通知
    "reporting": "received",  # 信息报送
    "study": "studied",  # 专题学习
    "integrity": "studied",  # 廉政教育
    "assignment": "received",  # 工作交办
    "exchange": None,  # 业务交流
    "announcement": "received",  # 通知公告
}
ACK_LABELS = ("received", "studied")
MEDIA_KINDS = ("photo", "document")

DEADLINE_HOUR = 18
DEADLINE_PRESETS = (0, 1, 3)  # today, tomorrow, in three days, at DEADLINE_HOUR
NO_DEADLINE = -1  # the "no deadline" preset

# The main steps in order; sub-steps return to their parent.
ORDER = ("org", "cat", "title", "body", "aud", "opt", "when", "pre")
PARENT = {"br": "aud", "st": "aud", "pg": "aud", "dl": "opt", "at": "when"}
# Steps answered by typing (the others by buttons).
TYPED = ("org", "title", "body", "br", "pg", "dl", "at")  # org, br, pg: a part of a name narrows


@dataclass(frozen=True)
class NoticeDraft(Draft):
    """What the sender answered so far in /notice, and the step they are on."""

    FLOW: ClassVar[str] = "notice"
    VERSION: ClassVar[int] = 2  # 2: the party-group picker's page and typed part

    single_org: bool = False  # the sender may send for one organization only: no org step
    org_id: int | None = None
    org_name: str = ""
    org_level: Level | None = None
    org_offset: int = 0  # the page of the organization picker
    org_find: str = ""  # a typed part of a name narrowing it
    category: str | None = None
    title: str | None = None
    body: str | None = None  # Telegram HTML; None: not given yet
    media_kind: str | None = None  # "photo" or "document", with media_file_id
    media_file_id: str | None = None
    targets: tuple[int, ...] = ()  # chosen branches; empty: everything under org_id
    br_offset: int = 0  # the page of the branch picker
    br_find: str = ""  # a typed part of a name narrowing it
    stages: tuple[Stage, ...] = ()  # empty: every stage
    party_group_id: int | None = None
    pg_offset: int = 0  # the page of the party-group picker
    pg_find: str = ""  # a typed part of a name narrowing it
    private: bool = False  # also a private copy to every member who started the bot
    pin: bool = False
    ack: bool = False  # ask for acknowledgement
    deadline: datetime | None = None
    send_at: datetime | None = None  # None: as soon as it is published


def start(single_org: bool) -> NoticeDraft:
    """A new draft, on its first step."""
    return NoticeDraft(step="cat" if single_org else "org", single_org=single_org)


def first_step(draft: NoticeDraft) -> str:
    """Where 修改 returns to: the first question the sender is asked."""
    return "cat" if draft.single_org else "org"


def previous(draft: NoticeDraft, step: str) -> str | None:
    """The step 上一步 returns to, or None on the first one."""
    if step in PARENT:
        return PARENT[step]
    index = ORDER.index(step)
    if index == 0 or (ORDER[index - 1] == "org" and draft.single_org):
        return None
    return ORDER[index - 1]


def ack_label(draft: NoticeDraft) -> str | None:
    """The acknowledgement button the notice will carry: the category's, when asked for."""
    if not draft.ack:
        return None
    return CATEGORIES.get(draft.category or "") or "received"


def offered_ack_label(draft: NoticeDraft) -> str:
    """The acknowledgement the options step offers to switch on."""
    return ack_label(draft) or CATEGORIES.get(draft.category or "") or "received"


def is_branch(draft: NoticeDraft) -> bool:
    """Whether the notice is sent for one branch (no choice of branches then)."""
    return draft.org_level == Level.BRANCH


def choose_org(draft: NoticeDraft, org_id: int, name: str, level: Level) -> NoticeDraft:
    """Send for this organization; branches chosen under another one no longer apply."""
    if draft.org_id != org_id:
        draft = replace(draft, targets=(), party_group_id=None, br_offset=0, br_find="",
                        pg_offset=0, pg_find="")  # fmt: skip
    return replace(draft, org_id=org_id, org_name=name, org_level=level, step="cat")


def deadline_preset(days: int, now: datetime) -> datetime:
    """DEADLINE_HOUR, `days` days after now's day, in now's time zone."""
    day = now.date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, DEADLINE_HOUR, tzinfo=now.tzinfo)


def presets_today(now: datetime) -> tuple[int, ...]:
    """The deadline presets still ahead: today's 18:00 only before it has passed."""
    return tuple(d for d in DEADLINE_PRESETS if d != 0 or now.hour < DEADLINE_HOUR)


def with_body(
    draft: NoticeDraft, body: str, media_kind: str | None = None, media_file_id: str | None = None
) -> NoticeDraft | Refusal:
    """The sender's message as the body: text (not blank), or media with an optional caption."""
    if media_kind is None and not body.strip():
        return Refusal("notice.body_empty")
    if len(body) > BODY_MAX:
        return Refusal("notice.body_too_long")
    return replace(draft, body=body, media_kind=media_kind, media_file_id=media_file_id, step="aud")


def publish_check(draft: NoticeDraft, now: datetime) -> tuple[str, Refusal] | None:
    """Why the preview cannot be published any more (the step to return to and the refusal):
    the sender may have left it open while the chosen times passed."""
    if draft.send_at is not None and draft.send_at <= now:
        return "when", Refusal("notice.send_time_passed")
    deadline = draft.deadline if ack_label(draft) else None
    if deadline is not None and deadline <= (draft.send_at or now):
        return "opt", Refusal("notice.deadline_passed")
    return None


# ---- the transitions ----


def _to(step: str) -> Transition[NoticeDraft]:
    def go(draft: NoticeDraft, event: Event, now: datetime) -> NoticeDraft | Refusal:
        return replace(draft, step=step)

    return go


def _back(draft: NoticeDraft, event: Event, now: datetime) -> NoticeDraft | Refusal:
    step = previous(draft, draft.step)
    return STALE if step is None else replace(draft, step=step)


def _category(draft: NoticeDraft, event: Event, now: datetime) -> NoticeDraft | Refusal:
    if not 0 <= event.value < len(CATEGORIES):
        return STALE
    category = list(CATEGORIES)[event.value]
    if draft.category != category:
        # Acknowledgement follows the category unless the sender changes it afterwards.
        ack = CATEGORIES[category] is not None
        draft = replace(draft, category=category, ack=ack, deadline=draft.deadline if ack else None)
    return replace(draft, step="title")


def _title(draft: NoticeDraft, event: Event, now: datetime) -> NoticeDraft | Refusal:
    title = parse_short_text(event.text or "", TITLE_MAX)
    if isinstance(title, Invalid):
        return Refusal(
            "notice.title_empty" if title.code == "text.empty" else "notice.title_too_long"
        )
    return replace(draft, title=title, step="body")


def _keep_title(draft: NoticeDraft, event: Event, now: datetime) -> NoticeDraft | Refusal:
    return STALE if not draft.title else replace(draft, step="body")


def _keep_body(draft: NoticeDraft, event: Event, now: datetime) -> NoticeDraft | Refusal:
    return STALE if draft.body is None else replace(draft, step="aud")


def _all_branches(draft: NoticeDraft, event: Event, now: datetime) -> NoticeDraft | Refusal:
    return replace(draft, targets=(), party_group_id=None)


def _private(draft: NoticeDraft, event: Event, now: datetime) -> NoticeDraft | Refusal:
    return replace(draft, private=not draft.private)


def _toggle_branch(draft: NoticeDraft, event: Event, now: datetime) -> NoticeDraft | Refusal:
    """Add or remove one branch (the handler checked a new one is under the organization)."""
    if event.value in draft.targets:
        targets = tuple(t for t in draft.targets if t != event.value)
    else:
        targets = (*draft.targets, event.value)
    return replace(draft, targets=targets, party_group_id=None)


def _toggle_stage(draft: NoticeDraft, event: Event, now: datetime) -> NoticeDraft | Refusal:
    if not 0 <= event.value < len(STAGE_CHOICES):
        return STALE
    stage = STAGE_CHOICES[event.value]
    if stage in draft.stages:
        return replace(draft, stages=tuple(s for s in draft.stages if s != stage))
    return replace(draft, stages=(*draft.stages, stage))


def _party_group(draft: NoticeDraft, event: Event, now: datetime) -> NoticeDraft | Refusal:
    """One party group (value 0: the whole branch); the handler checked it is in the audience.
    The picker opens on its first page, not narrowed, next time."""
    return replace(draft, party_group_id=event.value or None, pg_offset=0, pg_find="", step="aud")


def _pin(draft: NoticeDraft, event: Event, now: datetime) -> NoticeDraft | Refusal:
    return replace(draft, pin=not draft.pin)


def _ack(draft: NoticeDraft, event: Event, now: datetime) -> NoticeDraft | Refusal:
    ack = not draft.ack
    return replace(draft, ack=ack, deadline=draft.deadline if ack else None)


def _deadline_preset(draft: NoticeDraft, event: Event, now: datetime) -> NoticeDraft | Refusal:
    if not draft.ack or event.value not in (NO_DEADLINE, *DEADLINE_PRESETS):
        return STALE
    if event.value == NO_DEADLINE:
        return replace(draft, deadline=None)
    deadline = deadline_preset(event.value, now)
    if deadline <= now:
        return Refusal("notice.past")
    return replace(draft, deadline=deadline)


def _type_deadline(draft: NoticeDraft, event: Event, now: datetime) -> NoticeDraft | Refusal:
    return replace(draft, step="dl") if draft.ack else STALE


def _typed_time(draft: NoticeDraft, event: Event, now: datetime) -> datetime | Refusal:
    # A bare date means the end of that working day.
    when = parse_when(event.text or "", now, default_time=DEFAULT_DEADLINE_TIME)
    if isinstance(when, Invalid):
        return Refusal("notice.bad_time")
    if when <= now:
        return Refusal("notice.past")
    return when


def _deadline(draft: NoticeDraft, event: Event, now: datetime) -> NoticeDraft | Refusal:
    when = _typed_time(draft, event, now)
    if isinstance(when, Refusal):
        return when
    return replace(draft, deadline=when, step="opt")


def _send_now(draft: NoticeDraft, event: Event, now: datetime) -> NoticeDraft | Refusal:
    return replace(draft, send_at=None, step="pre")


def _send_at(draft: NoticeDraft, event: Event, now: datetime) -> NoticeDraft | Refusal:
    when = _typed_time(draft, event, now)
    if isinstance(when, Refusal):
        return when
    if draft.deadline is not None and draft.deadline <= when:
        return Refusal("notice.deadline_before_send")
    return replace(draft, send_at=when, step="pre")


def _redo(draft: NoticeDraft, event: Event, now: datetime) -> NoticeDraft | Refusal:
    return replace(draft, step=first_step(draft))


_STEPS: dict[str, dict[str, Transition[NoticeDraft]]] = {
    # "pick" on the org step is choose_org: it needs the organization's name and level.
    "org": paging("org_offset", "org_find"),
    "cat": {"pick": _category},
    "title": {"text": _title, "keep": _keep_title},
    # The body is with_body: a photo or a file carries more than an event does.
    "body": {"keep": _keep_body},
    "aud": {
        "all": _all_branches,
        "br": _to("br"),
        "st": _to("st"),
        "pg": _to("pg"),
        "prv": _private,
        "next": _to("opt"),
    },
    "br": {
        **paging("br_offset", "br_find"),
        "tb": _toggle_branch,
        "clear": _all_branches,
        "done": _to("aud"),
    },
    "st": {"ts": _toggle_stage, "done": _to("aud")},
    "pg": {**paging("pg_offset", "pg_find"), "pick": _party_group},
    "opt": {
        "pin": _pin,
        "ack": _ack,
        "dl": _deadline_preset,
        "dlt": _type_deadline,
        "next": _to("when"),
    },
    "dl": {"text": _deadline},
    "when": {"now": _send_now, "at": _to("at")},
    "at": {"text": _send_at},
    # "ok" (确认发布) is the publishing intent itself: services.notices.publish_draft.
    "pre": {"redo": _redo},
}
for _actions in _STEPS.values():
    _actions["back"] = _back

STEPS: Steps[NoticeDraft] = _STEPS


@dataclass(frozen=True)
class NoticeEditDraft(Draft):
    """编辑 on a published notice: which notice, and whether the title or the body (step)."""

    FLOW: ClassVar[str] = "notice_edit"
    VERSION: ClassVar[int] = 1

    notice_id: int = 0


@dataclass(frozen=True)
class ReceiptsFindDraft(Draft):
    """The /receipts list of notices open: paged, and a typed part of a title narrows it."""

    FLOW: ClassVar[str] = "notice_receipts"
    VERSION: ClassVar[int] = 1

    offset: int = 0
    find: str = ""


RECEIPTS_STEPS: Steps[ReceiptsFindDraft] = {"find": paging("offset", "find")}
