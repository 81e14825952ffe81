"""The /form builder as data: its typed draft, its step graph, and the small rules of building.

The builder asks, in order, for the organization one sends for (skipped when there is only
one), how to start (a template, an earlier form, an uploaded sheet, or blank), who answers
(member or branch form), the title and intro, the questions (a list screen with a small
editor per question), the audience, the deadline, the options (late answers, repeating,
anonymous) and shows a preview. What needs the catalog or the database (a template written
out in the sender's language, an earlier form, a sheet's columns, whether a branch is under
the organization) is brought in by the handler through `choose_org`, `from_template`,
`from_form` and `from_guesses`; everything else is a pure transition of STEPS.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import ClassVar

from domain.forms import (
    CHOICE_MAX,
    CHOSEN,
    COLUMNS_MAX,
    HINT_MAX,
    INTRO_MAX,
    QUESTIONS_MAX,
    Column,
    FormKind,
    Guess,
    LatePolicy,
    QType,
    Question,
    Repeat,
    ShowIf,
    check_form,
    check_question_title,
    check_title,
    parse_bounds,
    parse_choices,
)
from domain.orgs import STAGE_CHOICES, Level, Stage
from domain.pickers import paging
from domain.validation import Invalid, clean_text
from domain.when import DEFAULT_DEADLINE_TIME, parse_when
from domain.wizard import STALE, Draft, Event, Refusal, Steps, Transition

# The question types in the order the type picker shows them.
QTYPES: tuple[QType, ...] = (
    QType.SHORT,
    QType.LONG,
    QType.INTEGER,
    QType.DECIMAL,
    QType.SINGLE,
    QType.MULTI,
    QType.YES_NO,
    QType.DATE,
    QType.PHONE,
    QType.MEMBERS,
    QType.ATTACHMENT,
    QType.ROWS,
)
KINDS: tuple[FormKind, ...] = (FormKind.MEMBER, FormKind.BRANCH)
REPEATS: tuple[Repeat, ...] = (Repeat.NONE, Repeat.MONTHLY, Repeat.QUARTERLY, Repeat.YEARLY)
UNIT_MAX = 10
DUE_DAY_MAX = 28  # every month has it
DEADLINE_HOUR = 18
DEADLINE_PRESETS = (3, 7)  # days from today, at DEADLINE_HOUR
# Words a column type may be typed as, in either language ("人数:整数", "Date: date").
COLUMN_WORDS: dict[str, QType] = {
    "文字": QType.SHORT, "文本": QType.SHORT, "text": QType.SHORT,
    "整数": QType.INTEGER, "数字": QType.INTEGER, "人数": QType.INTEGER,
    "number": QType.INTEGER, "integer": QType.INTEGER,
    "小数": QType.DECIMAL, "金额": QType.DECIMAL, "decimal": QType.DECIMAL,
    "amount": QType.DECIMAL,
    "日期": QType.DATE, "date": QType.DATE,
    "电话": QType.PHONE, "手机": QType.PHONE, "phone": QType.PHONE,
    "是否": QType.YES_NO, "是/否": QType.YES_NO, "yes/no": QType.YES_NO, "yesno": QType.YES_NO,
}  # fmt: skip

# Steps answered by typing (the others by buttons; "file" takes an upload); on org, copy, br
# and pg a typed part of a name narrows the list.
TYPED = frozenset(
    {"org", "copy", "title", "intro", "qw", "qc", "qu", "qb", "qcol", "qh", "br", "pg", "dlt",
     "dd"}
)  # fmt: skip


@dataclass(frozen=True)
class BuildDraft(Draft):
    """What the sender answered so far in /form, and the step they are on."""

    FLOW: ClassVar[str] = "form_build"
    VERSION: ClassVar[int] = 2  # 2: the party-group picker's page and typed part

    single_org: bool = False  # one organization only: no org step
    org_id: int | None = None
    org_name: str = ""
    org_level: Level | None = None
    org_offset: int = 0
    org_find: str = ""  # a typed part of an organization's name
    template: str | None = None  # the template code started from, if any
    copy_offset: int = 0  # the page of one's earlier forms, to copy one
    copy_find: str = ""  # a typed part of a title narrowing them
    kind: FormKind | None = None
    title: str | None = None
    intro: str | None = None  # None: not asked yet; "": skipped
    questions: tuple[Question, ...] = ()
    pick: int = 0  # the question the list's 管理 screen (or the type fix after an upload) is on
    work: Question | None = None  # the question being written
    work_index: int = -1  # where it goes: -1 appended, else replacing that one
    targets: tuple[int, ...] = ()  # chosen branches; empty: everything under org_id
    br_offset: int = 0
    br_filter: str = ""  # a typed part of a branch's name (the picker's "find")
    stages: tuple[Stage, ...] = ()
    party_group_id: int | None = None
    pg_offset: int = 0  # the page of the party-group picker
    pg_find: str = ""  # a typed part of a name narrowing it
    private: bool = True  # member forms: a private copy to every member who started the bot
    deadline: datetime | None = None
    late: LatePolicy = LatePolicy.ACCEPT
    repeat: Repeat = Repeat.NONE
    due_day: int = 0
    anonymous: bool = False


def start(single_org: bool) -> BuildDraft:
    """A new draft, on its first step."""
    return BuildDraft(step="start" if single_org else "org", single_org=single_org)


def kinds_allowed(draft: BuildDraft) -> tuple[FormKind, ...]:
    """A committee (or general branch) may ask its branches or their members; a branch asks
    its members only."""
    return (FormKind.MEMBER,) if draft.org_level == Level.BRANCH else KINDS


def is_branch(draft: BuildDraft) -> bool:
    """Whether the form is sent for one branch (no choice of branches then)."""
    return draft.org_level == Level.BRANCH


def choose_org(draft: BuildDraft, org_id: int, name: str, level: Level) -> BuildDraft:
    """Send for this organization; choices made under another one no longer apply."""
    if draft.org_id != org_id:
        draft = replace(draft, targets=(), party_group_id=None, br_offset=0, br_filter="",
                        pg_offset=0, pg_find="")  # fmt: skip
    draft = replace(draft, org_id=org_id, org_name=name, org_level=level, step="start")
    if draft.kind is not None and draft.kind not in kinds_allowed(draft):
        draft = replace(draft, kind=None)
    return draft


def from_template(
    draft: BuildDraft,
    code: str,
    kind: FormKind,
    title: str,
    intro: str,
    questions: Sequence[Question],
    repeat: Repeat,
    due_day: int,
) -> BuildDraft:
    """Start from a template written out in the sender's language."""
    return _started(draft, kind, title, intro, questions, repeat, due_day, False, code)


def from_form(
    draft: BuildDraft,
    kind: FormKind,
    title: str,
    intro: str,
    questions: Sequence[Question],
    repeat: Repeat,
    due_day: int,
    anonymous: bool,
) -> BuildDraft:
    """Start from a copy of an earlier form of the sender's."""
    return _started(draft, kind, title, intro, questions, repeat, due_day, anonymous, None)


def _started(
    draft: BuildDraft,
    kind: FormKind,
    title: str,
    intro: str,
    questions: Sequence[Question],
    repeat: Repeat,
    due_day: int,
    anonymous: bool,
    template: str | None,
) -> BuildDraft:
    allowed = kinds_allowed(draft)
    chosen = kind if kind in allowed else allowed[0]
    return replace(
        draft,
        template=template,
        kind=chosen,
        title=title,
        intro=intro,
        questions=tuple(questions),
        repeat=repeat,
        due_day=due_day if repeat is not Repeat.NONE else 0,
        anonymous=anonymous and chosen is FormKind.MEMBER,
        work=None,
        work_index=-1,
        step="kind",
    )


def from_guesses(draft: BuildDraft, guesses: Sequence[Guess], title: str = "") -> BuildDraft:
    """Questions guessed from an uploaded sheet's header row, shown for the types to be checked."""
    questions = tuple(
        Question(type=g.type, title=g.title, choices=g.choices) for g in guesses[:QUESTIONS_MAX]
    )
    named = check_title(title) if title else None  # a sheet's title row, if it fits as one
    title = named if isinstance(named, str) else ""
    return replace(
        draft,
        template=None,
        kind=None,  # asked once the guesses are checked
        questions=questions,
        title=draft.title or (title or None),
        pick=0,
        work=None,
        work_index=-1,
        step="guess",
    )


def deadline_preset(days: int, now: datetime) -> datetime:
    """DEADLINE_HOUR, `days` days after now's day, in now's time zone."""
    day = now.date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, DEADLINE_HOUR, tzinfo=now.tzinfo)


def needs_details(question: Question) -> bool:
    """Whether the question cannot be asked as it stands (choices or columns missing)."""
    if question.type in (QType.SINGLE, QType.MULTI):
        return len(question.choices) < 2
    return question.type is QType.ROWS and not question.columns


def detail_step(kind: QType) -> str:
    """The step after a question's wording: its choices, unit, columns, or its options."""
    if kind in (QType.SINGLE, QType.MULTI):
        return "qc"
    if kind in (QType.INTEGER, QType.DECIMAL):
        return "qu"
    if kind is QType.ROWS:
        return "qcol"
    return "qo"


def work_position(draft: BuildDraft) -> int:
    """Where the question being written sits in the form."""
    return draft.work_index if draft.work_index >= 0 else len(draft.questions)


def condition_sources(draft: BuildDraft) -> list[int]:
    """Earlier questions the one being written may depend on (single choice, multiple, yes/no)."""
    return [i for i, q in enumerate(draft.questions[: work_position(draft)]) if q.type in CHOSEN]


def parse_columns(text: str) -> tuple[Column, ...] | Invalid:
    """Table columns typed one per line as "名称:类型" (类型 optional: 文字)."""
    lines = [
        line for line in re.split(r"[\n；;]+", unicodedata.normalize("NFC", text)) if line.strip()
    ]
    if not lines:
        return Invalid("form.columns.none")
    if len(lines) > COLUMNS_MAX:
        return Invalid("form.build.columns_too_many")
    columns: list[Column] = []
    for line in lines:
        name, kind_word = _split_column(line)
        title = clean_text(name)
        if not title:
            return Invalid("form.build.column_bad")
        if len(title) > CHOICE_MAX:
            return Invalid("form.build.column_too_long")
        word = clean_text(kind_word).lower().replace(" ", "")
        kind = COLUMN_WORDS.get(word) if word else QType.SHORT
        if kind is None:
            return Invalid("form.build.column_type")
        columns.append(Column(title, kind))
    if len({c.title for c in columns}) != len(columns):
        return Invalid("form.build.column_twice")
    return tuple(columns)


def _split_column(line: str) -> tuple[str, str]:
    parts = re.split(r"[:：]", line, maxsplit=1)
    return (parts[0], parts[1]) if len(parts) == 2 else (parts[0], "")


def without(questions: Sequence[Question], index: int) -> tuple[Question, ...]:
    """The questions with one deleted; conditions on it dropped, later references renumbered."""
    kept: list[Question] = []
    for i, q in enumerate(questions):
        if i == index:
            continue
        cond = q.show_if
        if cond is not None and cond.question == index:
            q = replace(q, show_if=None)
        elif cond is not None and cond.question > index:
            q = replace(q, show_if=ShowIf(cond.question - 1, cond.values))
        kept.append(q)
    return tuple(kept)


def swapped(questions: Sequence[Question], first: int) -> tuple[Question, ...] | Refusal:
    """Questions `first` and `first + 1` change places; refused when one depends on the other."""
    if not 0 <= first < len(questions) - 1:
        return STALE
    second = first + 1
    lower = questions[second]
    if lower.show_if is not None and lower.show_if.question == first:
        return Refusal("form.build.move_condition")
    mapping = {first: second, second: first}
    moved: list[Question] = []
    order = [*range(first), second, first, *range(second + 1, len(questions))]
    for i in order:
        q = questions[i]
        cond = q.show_if
        if cond is not None and cond.question in mapping:
            q = replace(q, show_if=ShowIf(mapping[cond.question], cond.values))
        moved.append(q)
    return tuple(moved)


def publish_problem(draft: BuildDraft, now: datetime) -> Refusal | None:
    """Why the preview cannot be published as it stands (a deadline passed while it was open)."""
    problem = check_form(draft.questions)
    if problem is not None:
        return Refusal(problem.code)
    if draft.deadline is None or draft.deadline <= now:
        return Refusal("form.deadline_past")
    if draft.kind is None or draft.org_id is None or not draft.title:
        return STALE
    return None


# ---- the transitions ----


def _to(step: str) -> Transition[BuildDraft]:
    def go(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
        return replace(draft, step=step)

    return go


def previous(draft: BuildDraft) -> str | None:
    """The step 上一步 returns to, or None on the first one."""
    step = draft.step
    if step == "start":
        return None if draft.single_org else "org"
    if step == "qt":
        # Changing a saved question's type (改答题方式) returns to its options; a new one's
        # type returns to the list.
        return "qo" if draft.work is not None and draft.work_index >= 0 else "qs"
    if step == "qo":
        if draft.work is None or draft.work_index >= 0:
            return "qs"  # a saved question's changes are let go
        detail = detail_step(draft.work.type)
        return "qw" if detail == "qo" else "qb" if detail == "qu" else detail
    return _BACK.get(step)


_BACK: dict[str, str] = {
    "tpl": "start", "copy": "start", "file": "start", "guess": "file", "gt": "guess",
    "kind": "start", "title": "kind", "intro": "title", "qs": "intro", "qm": "qs",
    "qw": "qt", "qc": "qw", "qu": "qw", "qb": "qu", "qcol": "qw", "qh": "qo", "qif": "qo",
    "qifv": "qif", "aud": "qs", "br": "aud", "st": "aud", "pg": "aud", "dl": "aud",
    "dlt": "dl", "opt": "dl", "dd": "opt", "pre": "opt",
}  # fmt: skip


def _back(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    step = previous(draft)
    if step is None:
        return STALE
    if step == "qs":
        draft = replace(draft, work=None, work_index=-1)  # an unsaved question is let go
        if draft.kind is None:
            step = "guess"  # still checking an uploaded sheet's guesses
    if step == "qo" and draft.work is None:
        return STALE
    return replace(draft, step=step)


def _blank(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    return replace(
        draft, template=None, questions=(), title=None, intro=None, repeat=Repeat.NONE,
        due_day=0, anonymous=False, kind=draft.kind or kinds_allowed(draft)[0], step="kind",
    )  # fmt: skip


def _fix_type(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    """On the uploaded sheet's question list: change the type of question `value`."""
    if not 0 <= event.value < len(draft.questions):
        return STALE
    return replace(draft, pick=event.value, step="gt")


def _retype(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    """A new type for the guessed question; one that needs choices or columns asks for them."""
    if not 0 <= event.value < len(QTYPES) or not 0 <= draft.pick < len(draft.questions):
        return STALE
    old = draft.questions[draft.pick]
    kind = QTYPES[event.value]
    question = Question(
        type=kind,
        title=old.title,
        choices=old.choices if kind in (QType.SINGLE, QType.MULTI) else (),
        required=old.required,
    )
    if needs_details(question):
        return replace(draft, work=question, work_index=draft.pick, step=detail_step(kind))
    questions = tuple(question if i == draft.pick else q for i, q in enumerate(draft.questions))
    return replace(draft, questions=_valid_conditions(questions), step="guess")


def _valid_conditions(questions: Sequence[Question]) -> tuple[Question, ...]:
    """Conditions that no longer fit their source question (its type changed) are dropped."""
    fixed: list[Question] = []
    for i, q in enumerate(questions):
        cond = q.show_if
        if cond is not None:
            source = questions[cond.question] if 0 <= cond.question < i else None
            limit = (
                2
                if source and source.type is QType.YES_NO
                else len(source.choices if source else ())
            )
            if source is None or source.type not in CHOSEN or any(v >= limit for v in cond.values):
                q = replace(q, show_if=None)
        fixed.append(q)
    return tuple(fixed)


def _guess_ok(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    if not draft.questions:
        return Refusal("form.no_questions")
    return replace(draft, kind=draft.kind or kinds_allowed(draft)[0], step="kind")


def _kind(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    if not 0 <= event.value < len(KINDS) or KINDS[event.value] not in kinds_allowed(draft):
        return STALE
    kind = KINDS[event.value]
    anonymous = draft.anonymous and kind is FormKind.MEMBER
    return replace(draft, kind=kind, anonymous=anonymous, step="title")


def _title(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    title = check_title(event.text or "")
    if isinstance(title, Invalid):
        return Refusal(title.code)
    return replace(draft, title=title, step="intro")


def _keep_title(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    return STALE if not draft.title else replace(draft, step="intro")


def _intro(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    lines = [
        clean_text(line) for line in unicodedata.normalize("NFC", event.text or "").splitlines()
    ]
    intro = "\n".join(lines).strip()
    if not intro:
        return Refusal("form.build.intro_empty")
    if len(intro) > INTRO_MAX:
        return Refusal("form.intro.too_long")
    return replace(draft, intro=intro, step="qs")


def _skip_intro(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    return replace(draft, intro="", step="qs")


def _keep_intro(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    return STALE if not draft.intro else replace(draft, step="qs")


def _add(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    if len(draft.questions) >= QUESTIONS_MAX:
        return Refusal("form.too_many_questions")
    return replace(draft, work=None, work_index=-1, step="qt")


def _manage(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    if not 0 <= event.value < len(draft.questions):
        return STALE
    return replace(draft, pick=event.value, step="qm")


def _questions_done(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    problem = check_form(draft.questions)
    if problem is not None:
        return Refusal(problem.code)
    return replace(draft, step="aud")


def _picked(draft: BuildDraft) -> bool:
    return 0 <= draft.pick < len(draft.questions)


def _edit(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    if not _picked(draft):
        return STALE
    return replace(draft, work=draft.questions[draft.pick], work_index=draft.pick, step="qo")


def _delete(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    if not _picked(draft):
        return STALE
    return replace(draft, questions=without(draft.questions, draft.pick), step="qs")


def _move(offset: int) -> Transition[BuildDraft]:
    def go(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
        if not _picked(draft):
            return STALE
        first = draft.pick if offset > 0 else draft.pick - 1
        moved = swapped(draft.questions, first)
        if isinstance(moved, Refusal):
            return moved
        return replace(draft, questions=moved, pick=draft.pick + offset, step="qs")

    return go


def _qtype(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    if not 0 <= event.value < len(QTYPES):
        return STALE
    kind = QTYPES[event.value]
    old = draft.work
    if old is None:
        work = Question(type=kind, title="")
    else:
        # A changed type keeps the wording and what still applies to it.
        work = Question(
            type=kind, title=old.title, hint=old.hint, required=old.required,
            choices=old.choices if kind in (QType.SINGLE, QType.MULTI) else (),
            unit=old.unit if kind in (QType.INTEGER, QType.DECIMAL) else "",
            low=old.low if kind in (QType.INTEGER, QType.DECIMAL) else None,
            high=old.high if kind in (QType.INTEGER, QType.DECIMAL) else None,
            columns=old.columns if kind is QType.ROWS else (),
            show_if=old.show_if, roster=old.roster if kind is old.type else "",
        )  # fmt: skip
    return replace(draft, work=work, step="qw")


def _work(draft: BuildDraft) -> Question | Refusal:
    return STALE if draft.work is None else draft.work


def _wording(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    work = _work(draft)
    if isinstance(work, Refusal):
        return work
    title = check_question_title(event.text or "")
    if isinstance(title, Invalid):
        return Refusal(title.code)
    return replace(draft, work=replace(work, title=title), step=detail_step(work.type))


def _keep_wording(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    work = _work(draft)
    if isinstance(work, Refusal) or not work.title:
        return STALE
    return replace(draft, step=detail_step(work.type))


def _choices(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    work = _work(draft)
    if isinstance(work, Refusal):
        return work
    choices = parse_choices(event.text or "")
    if isinstance(choices, Invalid):
        return Refusal(choices.code)
    return replace(draft, work=replace(work, choices=choices), step="qo")


def _keep_details(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    work = _work(draft)
    if isinstance(work, Refusal) or needs_details(work):
        return STALE
    return replace(draft, step="qo")


def _unit(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    work = _work(draft)
    if isinstance(work, Refusal):
        return work
    unit = clean_text(event.text or "")
    if not unit:
        return Refusal("form.build.unit_empty")
    if len(unit) > UNIT_MAX:
        return Refusal("form.build.unit_too_long")
    return replace(draft, work=replace(work, unit=unit), step="qb")


def _no_unit(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    work = _work(draft)
    if isinstance(work, Refusal):
        return work
    return replace(draft, work=replace(work, unit=""), step="qb")


def _bounds(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    work = _work(draft)
    if isinstance(work, Refusal):
        return work
    bounds = parse_bounds(event.text or "")
    if isinstance(bounds, Invalid):
        return Refusal(bounds.code)
    low, high = bounds
    whole = work.type is QType.INTEGER
    if whole and any(b is not None and "." in b for b in (low, high)):
        return Refusal("form.build.bounds_whole")
    return replace(draft, work=replace(work, low=low, high=high), step="qo")


def _no_bounds(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    work = _work(draft)
    if isinstance(work, Refusal):
        return work
    return replace(draft, work=replace(work, low=None, high=None), step="qo")


def _columns(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    work = _work(draft)
    if isinstance(work, Refusal):
        return work
    columns = parse_columns(event.text or "")
    if isinstance(columns, Invalid):
        return Refusal(columns.code)
    return replace(draft, work=replace(work, columns=columns), step="qo")


def _required(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    work = _work(draft)
    if isinstance(work, Refusal):
        return work
    return replace(draft, work=replace(work, required=not work.required))


def _hint(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    work = _work(draft)
    if isinstance(work, Refusal):
        return work
    hint = clean_text(event.text or "")
    if not hint:
        return Refusal("form.build.hint_empty")
    if len(hint) > HINT_MAX:
        return Refusal("form.build.hint_too_long")
    return replace(draft, work=replace(work, hint=hint), step="qo")


def _clear_hint(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    work = _work(draft)
    if isinstance(work, Refusal):
        return work
    return replace(draft, work=replace(work, hint=""), step="qo")


def _to_condition(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    if draft.work is None:
        return STALE
    if not condition_sources(draft):
        return Refusal("form.build.no_condition_source")
    return replace(draft, step="qif")


def _no_condition(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    work = _work(draft)
    if isinstance(work, Refusal):
        return work
    return replace(draft, work=replace(work, show_if=None))


def _condition_source(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    work = _work(draft)
    if isinstance(work, Refusal) or event.value not in condition_sources(draft):
        return STALE
    keep = work.show_if is not None and work.show_if.question == event.value
    values = work.show_if.values if keep and work.show_if is not None else ()
    return replace(draft, work=replace(work, show_if=ShowIf(event.value, values)), step="qifv")


def condition_width(draft: BuildDraft) -> int:
    """How many answers the condition's source question has (yes/no: 2)."""
    work = draft.work
    if work is None or work.show_if is None or work.show_if.question >= len(draft.questions):
        return 0
    source = draft.questions[work.show_if.question]
    return 2 if source.type is QType.YES_NO else len(source.choices)


def _condition_value(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    work = _work(draft)
    if isinstance(work, Refusal) or work.show_if is None:
        return STALE
    if not 0 <= event.value < condition_width(draft):
        return STALE
    values = set(work.show_if.values) ^ {event.value}
    cond = ShowIf(work.show_if.question, tuple(sorted(values)))
    return replace(draft, work=replace(work, show_if=cond))


def _condition_done(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    work = _work(draft)
    if isinstance(work, Refusal) or work.show_if is None:
        return STALE
    if not work.show_if.values:
        return Refusal("form.build.condition_values")
    return replace(draft, step="qo")


def _save(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    """保存这道题: the question goes into the form (appended, or in place of the one edited)."""
    work = _work(draft)
    if isinstance(work, Refusal):
        return work
    if not work.title:
        return Refusal("form.question.empty")
    if needs_details(work):
        return Refusal("form.columns.none" if work.type is QType.ROWS else "form.choices.too_few")
    if draft.work_index >= 0:
        if draft.work_index >= len(draft.questions):
            return STALE
        questions = tuple(
            work if i == draft.work_index else q for i, q in enumerate(draft.questions)
        )
    else:
        if len(draft.questions) >= QUESTIONS_MAX:
            return Refusal("form.too_many_questions")
        questions = (*draft.questions, work)
    # A changed question may no longer fit a later one's condition: that condition goes.
    questions = _valid_conditions(questions)
    problem = check_form(questions)
    if problem is not None:
        return Refusal(problem.code)
    # Fixing a guessed question (before the kind is chosen) returns to the sheet's list.
    step = "guess" if draft.kind is None else "qs"
    return replace(draft, questions=questions, work=None, work_index=-1, step=step)


def _all_branches(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    return replace(draft, targets=(), party_group_id=None)


def _private(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    if draft.kind is not FormKind.MEMBER:
        return STALE
    return replace(draft, private=not draft.private)


def _toggle_branch(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    """Add or remove one branch (the handler checked a new one is under the organization)."""
    if event.value in draft.targets:
        targets = tuple(t for t in draft.targets if t != event.value)
    else:
        targets = (*draft.targets, event.value)
    return replace(draft, targets=targets, party_group_id=None)


def _toggle_stage(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    if not 0 <= event.value < len(STAGE_CHOICES):
        return STALE
    stage = STAGE_CHOICES[event.value]
    if stage in draft.stages:
        return replace(draft, stages=tuple(s for s in draft.stages if s != stage))
    return replace(draft, stages=(*draft.stages, stage))


def _party_group(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    """One party group (value 0: the whole branch); the handler checked it is in the audience.
    The picker opens on its first page, not narrowed, next time."""
    return replace(draft, party_group_id=event.value or None, pg_offset=0, pg_find="", step="aud")


def _deadline_preset(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    if event.value not in DEADLINE_PRESETS:
        return STALE
    return replace(draft, deadline=deadline_preset(event.value, now), step="opt")


def _keep_deadline(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    if draft.deadline is None or draft.deadline <= now:
        return STALE
    return replace(draft, step="opt")


def _typed_deadline(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    # A bare date means the end of that working day.
    when = parse_when(event.text or "", now, default_time=DEFAULT_DEADLINE_TIME)
    if isinstance(when, Invalid):
        return Refusal("form.build.bad_time")
    if when <= now:
        return Refusal("form.deadline_past")
    return replace(draft, deadline=when, step="opt")


def _late(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    late = LatePolicy.REFUSE if draft.late is LatePolicy.ACCEPT else LatePolicy.ACCEPT
    return replace(draft, late=late)


def _repeat(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    if not 0 <= event.value < len(REPEATS):
        return STALE
    repeat = REPEATS[event.value]
    if repeat is Repeat.NONE:
        return replace(draft, repeat=repeat, due_day=0)
    if draft.due_day:
        return replace(draft, repeat=repeat)
    return replace(draft, repeat=repeat, step="dd")  # a repeating form needs its due day


def _to_due_day(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    return STALE if draft.repeat is Repeat.NONE else replace(draft, step="dd")


def _due_day(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    text = (
        unicodedata.normalize("NFKC", event.text or "")
        .strip()
        .removesuffix("日")
        .removesuffix("号")
    )
    if not text.isdigit() or not 1 <= int(text) <= DUE_DAY_MAX:
        return Refusal("form.build.due_day")
    return replace(draft, due_day=int(text), step="opt")


def _anonymous(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    if draft.kind is not FormKind.MEMBER:
        return STALE
    return replace(draft, anonymous=not draft.anonymous)


def _to_preview(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    if draft.repeat is not Repeat.NONE and not draft.due_day:
        return replace(draft, step="dd")
    problem = publish_problem(draft, now)
    return problem if problem is not None else replace(draft, step="pre")


def _redo(draft: BuildDraft, event: Event, now: datetime) -> BuildDraft | Refusal:
    return replace(draft, step="qs")


_STEPS: dict[str, dict[str, Transition[BuildDraft]]] = {
    # "pick" on the org, tpl and copy steps, and the upload on "file", need the catalog or the
    # database: choose_org, from_template, from_form, from_guesses (called by the handler).
    # The org, copy, br and pg steps are the shared picker (domain.pickers): "page", a typed
    # part of a name ("text") and 显示全部 ("nof").
    "org": paging("org_offset", "org_find"),
    "start": {"tpl": _to("tpl"), "copy": _to("copy"), "file": _to("file"), "blank": _blank},
    "tpl": {},
    "copy": paging("copy_offset", "copy_find"),
    "file": {},
    "guess": {"ty": _fix_type, "ok": _guess_ok},
    "gt": {"pick": _retype},
    "kind": {"pick": _kind},
    "title": {"text": _title, "keep": _keep_title},
    "intro": {"text": _intro, "skip": _skip_intro, "keep": _keep_intro},
    "qs": {"add": _add, "pick": _manage, "next": _questions_done},
    "qm": {"edit": _edit, "del": _delete, "up": _move(-1), "down": _move(1)},
    "qt": {"pick": _qtype},
    "qw": {"text": _wording, "keep": _keep_wording},
    "qc": {"text": _choices, "keep": _keep_details},
    "qu": {"text": _unit, "skip": _no_unit, "keep": _to("qb")},
    "qb": {"text": _bounds, "skip": _no_bounds, "keep": _to("qo")},
    "qcol": {"text": _columns, "keep": _keep_details},
    "qo": {
        "req": _required,
        "hint": _to("qh"),
        "if": _to_condition,
        "noif": _no_condition,
        "type": _to("qt"),
        "word": _to("qw"),
        "save": _save,
    },
    "qh": {"text": _hint, "clear": _clear_hint},
    "qif": {"pick": _condition_source},
    "qifv": {"tv": _condition_value, "done": _condition_done},
    "aud": {
        "all": _all_branches,
        "br": _to("br"),
        "st": _to("st"),
        "pg": _to("pg"),
        "prv": _private,
        "next": _to("dl"),
    },
    "br": {
        **paging("br_offset", "br_filter"),
        "tb": _toggle_branch,
        "clear": _all_branches,
        "done": _to("aud"),
    },
    "st": {"ts": _toggle_stage, "done": _to("aud")},
    "pg": {**paging("pg_offset", "pg_find"), "pick": _party_group},
    "dl": {"dl": _deadline_preset, "dlt": _to("dlt"), "keep": _keep_deadline},
    "dlt": {"text": _typed_deadline},
    "opt": {
        "late": _late,
        "rep": _repeat,
        "dd": _to_due_day,
        "anon": _anonymous,
        "next": _to_preview,
    },
    "dd": {"text": _due_day},
    # "ok" (确认发布) is the publishing intent itself: services.forms_builder.publish_built.
    "pre": {"redo": _redo},
}
for _step, _actions in _STEPS.items():
    if _step != "org":
        _actions["back"] = _back

STEPS: Steps[BuildDraft] = _STEPS
