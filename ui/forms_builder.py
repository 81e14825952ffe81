"""How the /form builder looks: its callback codec, the question of each step with its buttons,
and the preview (the form as respondents will see it, then who it reaches)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import ClassVar, TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from domain.forms import (
    ANONYMOUS_MIN,
    CHOICES_MAX,
    COLUMNS_MAX,
    HINT_MAX,
    INTRO_MAX,
    QUESTION_MAX,
    QUESTIONS_MAX,
    TITLE_MAX,
    FormKind,
    LatePolicy,
    QType,
    Question,
    Repeat,
)
from domain.forms_builder import (
    DEADLINE_HOUR,
    DEADLINE_PRESETS,
    DUE_DAY_MAX,
    KINDS,
    QTYPES,
    REPEATS,
    BuildDraft,
    condition_sources,
    condition_width,
    is_branch,
    kinds_allowed,
    previous,
    work_position,
)
from domain.orgs import STAGE_CHOICES
from domain.pickers import Slice, narrow
from services.authz import Actor
from services.forms import Published
from services.forms_builder import audience_of, builder_branches, builder_orgs, earlier_forms
from services.notices_admin import AudiencePreview, audience_preview, branches_under
from ui.callbacks import CallbackData
from ui.deps import BotContext
from ui.forms import TEMPLATES
from ui.pickers import picker_rows, with_picker_text
from ui.render import format_datetime, stage_label

NAME_MAX = 40  # of a name on a button
TEXT_MAX = 3500  # of one screen's text, leaving room for an error line above it

Keyboard = list[list[InlineKeyboardButton]]
T = TypeVar("T")
Screen = tuple[str, Keyboard, BuildDraft]
Render = Callable[[BotContext, Actor, BuildDraft], Awaitable[Screen]]


@dataclass(frozen=True)
class FormBuild(CallbackData):
    """A button of the /form builder, tied to the step it was shown for (older ones are stale)."""

    prefix: ClassVar[str] = "fb"
    step: str
    action: str
    value: int = 0


QTYPE_KEYS: dict[QType, str] = {
    QType.SHORT: "form.build.type.short",
    QType.LONG: "form.build.type.long",
    QType.INTEGER: "form.build.type.int",
    QType.DECIMAL: "form.build.type.dec",
    QType.SINGLE: "form.build.type.one",
    QType.MULTI: "form.build.type.many",
    QType.YES_NO: "form.build.type.yn",
    QType.DATE: "form.build.type.date",
    QType.PHONE: "form.build.type.phone",
    QType.MEMBERS: "form.build.type.members",
    QType.ATTACHMENT: "form.build.type.file",
    QType.ROWS: "form.build.type.rows",
}
# How each type is answered, as the preview's hint line says it.
QTYPE_HINT_KEYS: dict[QType, str] = {
    QType.SHORT: "form.build.hint.short",
    QType.LONG: "form.build.hint.long",
    QType.INTEGER: "form.build.hint.int",
    QType.DECIMAL: "form.build.hint.dec",
    QType.SINGLE: "form.build.hint.one",
    QType.MULTI: "form.build.hint.many",
    QType.YES_NO: "form.build.hint.yn",
    QType.DATE: "form.build.hint.date",
    QType.PHONE: "form.build.hint.phone",
    QType.MEMBERS: "form.build.hint.members",
    QType.ATTACHMENT: "form.build.hint.file",
    QType.ROWS: "form.build.hint.rows",
}
KIND_KEYS: dict[FormKind, str] = {
    FormKind.MEMBER: "form.build.kind.member",
    FormKind.BRANCH: "form.build.kind.branch",
}
REPEAT_KEYS: dict[Repeat, str] = {
    Repeat.NONE: "form.build.repeat.none",
    Repeat.MONTHLY: "form.build.repeat.monthly",
    Repeat.QUARTERLY: "form.build.repeat.quarterly",
    Repeat.YEARLY: "form.build.repeat.yearly",
}
assert set(QTYPE_KEYS) == set(QTYPES) == set(QTYPE_HINT_KEYS)


def today_of(context: BotContext) -> date:
    """Today on the bot's clock, in its time zone."""
    return context.deps.clock.now().astimezone(context.deps.settings.timezone).date()


def short(name: str, limit: int = NAME_MAX) -> str:
    """A name cut to fit on a button."""
    return name if len(name) <= limit else name[: limit - 1] + "…"


def button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data.pack())


def _b(
    context: BotContext, key: str, step: str, action: str, value: int = 0
) -> InlineKeyboardButton:
    return button(context.plain(key), FormBuild(step, action, value))


def mark(context: BotContext, label: str, on: bool) -> str:
    """A toggle's label: ✅ on, ⬜ off."""
    return context.plain("notice.checked" if on else "notice.unchecked", label=label)


def current(context: BotContext, label: str, on: bool) -> str:
    """A single choice's label: ✅ on the one chosen before."""
    return context.plain("notice.checked", label=label) if on else label


async def screen(
    context: BotContext, actor: Actor, draft: BuildDraft, error: str = ""
) -> tuple[str, InlineKeyboardMarkup, BuildDraft]:
    """The question of the draft's step after an error line (catalog key) if any, with 上一步
    and 取消; the draft comes back tidied (choices that no longer apply dropped)."""
    text, keyboard, draft = await SCREENS[draft.step](context, actor, draft)
    row = []
    if previous(draft) is not None:
        row.append(_b(context, "wizard.back", draft.step, "back"))
    row.append(_b(context, "wizard.cancel", draft.step, "x"))
    keyboard.append(row)
    prefix = context.t(error) + "\n\n" if error else ""
    return prefix + text, InlineKeyboardMarkup(keyboard), draft


# ---- how to start ----


def _picker(
    context: BotContext,
    step: str,
    page: Slice[T],
    label: Callable[[T], str],
    pick: Callable[[T], int],
) -> Keyboard:
    """The shared picker's buttons on a builder step: an item (its id), 上一页 / 下一页, and
    显示全部 once a typed part of a name narrowed the list."""
    return picker_rows(
        context, page, label=label, pick=lambda item: FormBuild(step, "pick", pick(item)),
        turn=lambda offset: FormBuild(step, "page", offset), everything=FormBuild(step, "nof"),
    )  # fmt: skip


async def _org(context: BotContext, actor: Actor, draft: BuildDraft) -> Screen:
    orgs = await builder_orgs(context.deps.db, actor, today_of(context))
    page = narrow(orgs, lambda o: o.name, draft.org_offset, draft.org_find)
    keyboard = _picker(
        context, "org", page, lambda o: current(context, o.name, o.id == draft.org_id),
        lambda o: o.id,
    )  # fmt: skip
    text = with_picker_text(context, context.t("form.build.ask_org"), page)
    return text, keyboard, replace(draft, org_offset=page.offset)


async def _start(context: BotContext, actor: Actor, draft: BuildDraft) -> Screen:
    keyboard = [
        [_b(context, "form.build.start.tpl", "start", "tpl")],
        [_b(context, "form.build.start.copy", "start", "copy")],
        [_b(context, "form.build.start.file", "start", "file")],
        [_b(context, "form.build.start.blank", "start", "blank")],
    ]
    return context.t("form.build.ask_start", org=draft.org_name), keyboard, draft


async def _templates(context: BotContext, actor: Actor, draft: BuildDraft) -> Screen:
    allowed = kinds_allowed(draft)
    keyboard = [
        [button(context.plain(t.title), FormBuild("tpl", "pick", i))]
        for i, t in enumerate(TEMPLATES)
        if t.kind in allowed
    ]
    return context.t("form.build.ask_template"), keyboard, draft


async def _copies(context: BotContext, actor: Actor, draft: BuildDraft) -> Screen:
    forms = await earlier_forms(context.deps.db, actor)
    if not forms:
        return context.t("form.build.no_earlier"), [], draft
    page = narrow(forms, lambda f: f.title, draft.copy_offset, draft.copy_find)
    keyboard = _picker(context, "copy", page, lambda f: f.title, lambda f: f.id)
    text = with_picker_text(context, context.t("form.build.ask_copy"), page)
    return text, keyboard, replace(draft, copy_offset=page.offset)


async def _file(context: BotContext, actor: Actor, draft: BuildDraft) -> Screen:
    text = context.t("form.build.ask_file", limit=QUESTIONS_MAX)
    return text, [], draft


async def _guess(context: BotContext, actor: Actor, draft: BuildDraft) -> Screen:
    lines = [context.t("form.build.guessed", count=len(draft.questions)), ""]
    keyboard: Keyboard = []
    for i, q in enumerate(draft.questions):
        label = context.plain(QTYPE_KEYS[q.type])
        lines.append(context.t("form.build.guess_line", n=i + 1, title=q.title, type=label))
        keyboard.append(
            [button(f"{i + 1}. {short(q.title, 20)} · {label}", FormBuild("guess", "ty", i))]
        )
    keyboard.append([_b(context, "form.build.guess_ok", "guess", "ok")])
    return "\n".join(lines), keyboard, draft


def _type_buttons(context: BotContext, step: str, chosen: QType | None) -> Keyboard:
    buttons = [
        button(
            current(context, context.plain(QTYPE_KEYS[q]), q is chosen), FormBuild(step, "pick", i)
        )
        for i, q in enumerate(QTYPES)
    ]
    return [buttons[i : i + 2] for i in range(0, len(buttons), 2)]


async def _guess_type(context: BotContext, actor: Actor, draft: BuildDraft) -> Screen:
    if not 0 <= draft.pick < len(draft.questions):
        return context.t("form.build.ask_type"), [], replace(draft, step="guess")
    q = draft.questions[draft.pick]
    text = context.t("form.build.ask_new_type", n=draft.pick + 1, title=q.title)
    return text, _type_buttons(context, "gt", q.type), draft


# ---- kind, title, intro ----


async def _kind(context: BotContext, actor: Actor, draft: BuildDraft) -> Screen:
    keyboard = [
        [
            button(
                current(context, context.plain(KIND_KEYS[k]), k is draft.kind),
                FormBuild("kind", "pick", KINDS.index(k)),
            )
        ]
        for k in kinds_allowed(draft)
    ]
    key = "form.build.ask_kind" if len(keyboard) > 1 else "form.build.ask_kind_member"
    return context.t(key), keyboard, draft


async def _title(context: BotContext, actor: Actor, draft: BuildDraft) -> Screen:
    text = context.t("form.build.ask_title", limit=TITLE_MAX)
    if not draft.title:
        return text, [], draft
    text += "\n\n" + context.t("form.build.current", value=draft.title)
    return text, [[_b(context, "form.build.keep", "title", "keep")]], draft


async def _intro(context: BotContext, actor: Actor, draft: BuildDraft) -> Screen:
    text = context.t("form.build.ask_intro", limit=INTRO_MAX)
    keyboard: Keyboard = []
    if draft.intro:
        text += "\n\n" + context.t("form.build.current", value=short(draft.intro, 200))
        keyboard.append([_b(context, "form.build.keep", "intro", "keep")])
    keyboard.append([_b(context, "form.build.skip_intro", "intro", "skip")])
    return text, keyboard, draft


# ---- questions ----


def bounds_text(q: Question) -> str:
    """A number question's range as people write it: "0–31", "≥0", "≤500"."""
    if q.low is not None and q.high is not None:
        return f"{q.low}–{q.high}"
    return f"≥{q.low}" if q.low is not None else f"≤{q.high}"


def type_hint(context: BotContext, q: Question) -> str:
    """How a question is answered, in plain words: "请选择：是 / 否", "填写整数（人，0–31）"."""
    if q.type in (QType.SINGLE, QType.MULTI):
        return context.plain(QTYPE_HINT_KEYS[q.type], choices=" / ".join(q.choices))
    if q.type in (QType.INTEGER, QType.DECIMAL):
        extra = []
        if q.unit:
            extra.append(q.unit)
        if q.low is not None or q.high is not None:
            extra.append(bounds_text(q))
        hint = context.plain(QTYPE_HINT_KEYS[q.type])
        return f"{hint}（{'，'.join(extra)}）" if extra else hint
    if q.type is QType.ROWS:
        columns = " | ".join(c.title for c in q.columns)
        return context.plain(QTYPE_HINT_KEYS[q.type], columns=columns)
    return context.plain(QTYPE_HINT_KEYS[q.type])


def condition_text(context: BotContext, q: Question, questions: Sequence[Question]) -> str:
    """ "只在第2题回答“是”时才问", or "" when the question is always asked."""
    cond = q.show_if
    if cond is None or not 0 <= cond.question < len(questions):
        return ""
    source = questions[cond.question]
    if source.type is QType.YES_NO:
        names = [context.plain("form.build.yes" if v else "form.build.no") for v in cond.values]
    else:
        names = [source.choices[v] for v in cond.values if 0 <= v < len(source.choices)]
    return context.plain("form.build.condition", n=cond.question + 1, answers="、".join(names))


def question_lines(
    context: BotContext, index: int, q: Question, questions: Sequence[Question]
) -> list[str]:
    """One question as the answering screen shows it: number, wording, how to answer."""
    required = "form.build.required" if q.required else "form.build.optional"
    lines = [
        context.t("form.build.q_line", n=index + 1, title=q.title, req=context.plain(required)),
        context.t("form.build.q_hint", hint=type_hint(context, q)),
    ]
    if q.hint:
        lines.append(context.t("form.build.q_note", note=q.hint))
    if cond := condition_text(context, q, questions):
        lines.append(context.t("form.build.q_note", note=cond))
    return lines


async def _questions(context: BotContext, actor: Actor, draft: BuildDraft) -> Screen:
    lines = [context.t("form.build.questions", title=draft.title or "", count=len(draft.questions))]
    keyboard: Keyboard = []
    if not draft.questions:
        lines.append(context.t("form.build.no_questions_yet"))
    for i, q in enumerate(draft.questions):
        lines.append("")
        lines += question_lines(context, i, q, draft.questions)
        keyboard.append([button(f"{i + 1}. {short(q.title, 30)}", FormBuild("qs", "pick", i))])
    row = [_b(context, "form.build.add", "qs", "add")]
    if draft.questions:
        row.append(_b(context, "form.build.questions_done", "qs", "next"))
    keyboard.append(row)
    # Telegram's 4,096 characters: whole lines are left off (never half a tag); the buttons
    # below still list every question.
    cut = False
    while len("\n".join(lines)) > TEXT_MAX and len(lines) > 1:
        lines.pop()
        cut = True
    if cut:
        lines.append("…")
    return "\n".join(lines), keyboard, draft


async def _manage(context: BotContext, actor: Actor, draft: BuildDraft) -> Screen:
    if not 0 <= draft.pick < len(draft.questions):
        return await _questions(context, actor, replace(draft, step="qs"))
    q = draft.questions[draft.pick]
    lines = [
        context.t("form.build.ask_manage"),
        "",
        *question_lines(context, draft.pick, q, draft.questions),
    ]
    keyboard: Keyboard = [[_b(context, "form.build.edit", "qm", "edit")]]
    row = []
    if draft.pick > 0:
        row.append(_b(context, "form.build.up", "qm", "up"))
    if draft.pick < len(draft.questions) - 1:
        row.append(_b(context, "form.build.down", "qm", "down"))
    if row:
        keyboard.append(row)
    keyboard.append([_b(context, "form.build.delete", "qm", "del")])
    return "\n".join(lines), keyboard, draft


async def _qtype(context: BotContext, actor: Actor, draft: BuildDraft) -> Screen:
    n = work_position(draft) + 1
    chosen = draft.work.type if draft.work is not None else None
    return context.t("form.build.ask_type", n=n), _type_buttons(context, "qt", chosen), draft


def _work_title(draft: BuildDraft) -> str:
    return draft.work.title if draft.work is not None else ""


async def _wording(context: BotContext, actor: Actor, draft: BuildDraft) -> Screen:
    kind = draft.work.type if draft.work is not None else QType.SHORT
    text = context.t(
        "form.build.ask_wording",
        n=work_position(draft) + 1,
        type=context.plain(QTYPE_KEYS[kind]),
        limit=QUESTION_MAX,
    )
    if not _work_title(draft):
        return text, [], draft
    text += "\n\n" + context.t("form.build.current", value=_work_title(draft))
    return text, [[_b(context, "form.build.keep", "qw", "keep")]], draft


async def _choices(context: BotContext, actor: Actor, draft: BuildDraft) -> Screen:
    text = context.t("form.build.ask_choices", title=_work_title(draft), limit=CHOICES_MAX)
    if draft.work is None or len(draft.work.choices) < 2:
        return text, [], draft
    text += "\n\n" + context.t("form.build.current", value=" / ".join(draft.work.choices))
    return text, [[_b(context, "form.build.keep", "qc", "keep")]], draft


async def _unit(context: BotContext, actor: Actor, draft: BuildDraft) -> Screen:
    text = context.t("form.build.ask_unit", title=_work_title(draft))
    keyboard: Keyboard = []
    if draft.work is not None and draft.work.unit:
        text += "\n\n" + context.t("form.build.current", value=draft.work.unit)
        keyboard.append([_b(context, "form.build.keep", "qu", "keep")])
    keyboard.append([_b(context, "form.build.no_unit", "qu", "skip")])
    return text, keyboard, draft


async def _bounds(context: BotContext, actor: Actor, draft: BuildDraft) -> Screen:
    text = context.t("form.build.ask_bounds", title=_work_title(draft))
    keyboard: Keyboard = []
    work = draft.work
    if work is not None and (work.low is not None or work.high is not None):
        text += "\n\n" + context.t("form.build.current", value=bounds_text(work))
        keyboard.append([_b(context, "form.build.keep", "qb", "keep")])
    keyboard.append([_b(context, "form.build.no_bounds", "qb", "skip")])
    return text, keyboard, draft


async def _columns(context: BotContext, actor: Actor, draft: BuildDraft) -> Screen:
    text = context.t("form.build.ask_columns", title=_work_title(draft), limit=COLUMNS_MAX)
    if draft.work is None or not draft.work.columns:
        return text, [], draft
    shown = "\n".join(
        f"{c.title}:{context.plain(QTYPE_KEYS.get(c.type, 'form.build.type.short'))}"
        for c in draft.work.columns
    )
    text += "\n\n" + context.t("form.build.current", value=shown)
    return text, [[_b(context, "form.build.keep", "qcol", "keep")]], draft


async def _options(context: BotContext, actor: Actor, draft: BuildDraft) -> Screen:
    work = draft.work
    if work is None:
        return await _questions(context, actor, replace(draft, step="qs"))
    lines = [
        context.t("form.build.ask_options"),
        "",
        *question_lines(context, work_position(draft), work, draft.questions),
    ]
    keyboard: Keyboard = [
        [
            button(
                mark(context, context.plain("form.build.required_toggle"), work.required),
                FormBuild("qo", "req"),
            )
        ],
        [_b(context, "form.build.set_hint", "qo", "hint")],
    ]
    if condition_sources(draft):
        row = [_b(context, "form.build.set_condition", "qo", "if")]
        if work.show_if is not None:
            row.append(_b(context, "form.build.no_condition", "qo", "noif"))
        keyboard.append(row)
    keyboard.append(
        [
            _b(context, "form.build.change_type", "qo", "type"),
            _b(context, "form.build.change_wording", "qo", "word"),
        ]
    )
    keyboard.append([_b(context, "form.build.save", "qo", "save")])
    return "\n".join(lines), keyboard, draft


async def _hint(context: BotContext, actor: Actor, draft: BuildDraft) -> Screen:
    text = context.t("form.build.ask_hint", limit=HINT_MAX)
    keyboard: Keyboard = []
    if draft.work is not None and draft.work.hint:
        text += "\n\n" + context.t("form.build.current", value=draft.work.hint)
        keyboard.append([_b(context, "form.build.clear_hint", "qh", "clear")])
    return text, keyboard, draft


async def _condition(context: BotContext, actor: Actor, draft: BuildDraft) -> Screen:
    keyboard = [
        [button(f"{i + 1}. {short(draft.questions[i].title, 30)}", FormBuild("qif", "pick", i))]
        for i in condition_sources(draft)
    ]
    return context.t("form.build.ask_condition"), keyboard, draft


async def _condition_values(context: BotContext, actor: Actor, draft: BuildDraft) -> Screen:
    work = draft.work
    if work is None or work.show_if is None:
        return await _condition(context, actor, replace(draft, step="qif"))
    source = draft.questions[work.show_if.question]
    if source.type is QType.YES_NO:
        labels = [context.plain("form.build.no"), context.plain("form.build.yes")]
    else:
        labels = list(source.choices)
    keyboard: Keyboard = [
        [button(mark(context, short(label), v in work.show_if.values), FormBuild("qifv", "tv", v))]
        for v, label in enumerate(labels[: condition_width(draft)])
    ]
    keyboard.append([_b(context, "form.build.done", "qifv", "done")])
    text = context.t(
        "form.build.ask_condition_values", n=work.show_if.question + 1, title=source.title
    )
    return text, keyboard, draft


# ---- audience ----


def stages_text(context: BotContext, draft: BuildDraft) -> str:
    if not draft.stages:
        return context.plain("notice.aud.all_stages")
    return "、".join(stage_label(context, s) for s in STAGE_CHOICES if s in draft.stages)


async def _audience(context: BotContext, actor: Actor, draft: BuildDraft) -> Screen:
    """Who the form will reach, and the buttons that change it; forged choices drop out."""
    db, day = context.deps.db, today_of(context)
    names: list[str] = []
    if draft.targets and draft.org_id is not None:
        chosen = await branches_under(db, actor, draft.org_id, list(draft.targets), day)
        draft = replace(draft, targets=tuple(o.id for o in chosen))
        names = [o.name for o in chosen]
    preview = await audience_preview(db, actor, audience_of(draft), day)
    group = next((g for g in preview.party_groups if g.id == draft.party_group_id), None)
    if group is None and draft.party_group_id is not None:
        draft = replace(draft, party_group_id=None)
        preview = await audience_preview(db, actor, audience_of(draft), day)
    lines = [
        context.t("form.build.ask_audience"),
        "",
        *audience_lines(context, draft, names, preview, group),
    ]
    keyboard: Keyboard = []
    if not is_branch(draft):
        everything = mark(context, context.plain("notice.aud.all"), not draft.targets)
        keyboard.append(
            [
                button(everything, FormBuild("aud", "all")),
                _b(context, "notice.aud.pick", "aud", "br"),
            ]
        )
    row = [_b(context, "notice.aud.by_stage", "aud", "st")]
    if preview.single_branch is not None and preview.party_groups:
        row.append(_b(context, "notice.aud.by_group", "aud", "pg"))
    keyboard.append(row)
    if draft.kind is FormKind.MEMBER:
        private = mark(context, context.plain("notice.aud.private"), draft.private)
        keyboard.append([button(private, FormBuild("aud", "prv"))])
    keyboard.append([_b(context, "notice.next", "aud", "next")])
    return "\n".join(lines), keyboard, draft


def audience_lines(
    context: BotContext,
    draft: BuildDraft,
    names: Sequence[str],
    preview: AudiencePreview,
    group: object | None = None,
) -> list[str]:
    """Which branches, stages and group; how many branches, groups and respondents."""
    if names:
        shown = "、".join(names[:5])
        if len(names) > 5:
            shown = context.plain("notice.aud.more", names=shown, count=len(names))
        scope = context.t("notice.aud.chosen", count=len(names), names=shown)
    elif is_branch(draft):
        scope = context.t("notice.aud.this_branch", name=draft.org_name)
    else:
        scope = context.t("notice.aud.everything_under", name=draft.org_name)
    lines = [scope, context.t("notice.aud.stages", stages=stages_text(context, draft))]
    name = getattr(group, "name", None)
    if name:
        lines.append(context.t("notice.aud.party_group", name=name))
    people = preview.expected if draft.kind is FormKind.MEMBER else preview.branches
    key = (
        "form.build.reach_members" if draft.kind is FormKind.MEMBER else "form.build.reach_branches"
    )
    lines.append(context.t(key, branches=preview.branches, groups=preview.groups, people=people))
    if draft.kind is FormKind.MEMBER and draft.private:
        lines.append(context.t("notice.aud.private_on", count=preview.private_copies))
    return lines


async def _branches(context: BotContext, actor: Actor, draft: BuildDraft) -> Screen:
    """The audience's branches on the shared picker: each pressed in or out (✅ / ⬜), every
    one reachable by paging or by typing part of its name."""
    assert draft.org_id is not None
    branches = await builder_branches(context.deps.db, actor, draft.org_id, today_of(context))
    page = narrow(branches, lambda o: o.name, draft.br_offset, draft.br_filter)
    keyboard = picker_rows(
        context, page, label=lambda o: mark(context, o.name, o.id in draft.targets),
        pick=lambda o: FormBuild("br", "tb", o.id),
        turn=lambda offset: FormBuild("br", "page", offset), everything=FormBuild("br", "nof"),
    )  # fmt: skip
    keyboard.append(
        [_b(context, "notice.aud.clear", "br", "clear"), _b(context, "notice.done", "br", "done")]
    )
    text = context.t("form.build.ask_branches", count=len(draft.targets), total=len(branches))
    return with_picker_text(context, text, page), keyboard, replace(draft, br_offset=page.offset)


async def _stages(context: BotContext, actor: Actor, draft: BuildDraft) -> Screen:
    buttons = [
        button(mark(context, stage_label(context, s), s in draft.stages), FormBuild("st", "ts", i))
        for i, s in enumerate(STAGE_CHOICES)
    ]
    keyboard = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    keyboard.append([_b(context, "notice.done", "st", "done")])
    return context.t("notice.ask_stages"), keyboard, draft


async def _party_group(context: BotContext, actor: Actor, draft: BuildDraft) -> Screen:
    """The whole branch, or one of its party groups on the shared picker (a branch may have
    dozens): paged, narrowed by a typed part of a name."""
    preview = await audience_preview(context.deps.db, actor, audience_of(draft), today_of(context))
    chosen = draft.party_group_id
    whole = current(context, context.plain("notice.aud.whole_branch"), chosen is None)
    keyboard: Keyboard = [[button(whole, FormBuild("pg", "pick", 0))]]
    page = narrow(preview.party_groups, lambda g: g.name, draft.pg_offset, draft.pg_find)
    keyboard += picker_rows(
        context, page,
        label=lambda g: current(context, g.name, g.id == chosen),
        pick=lambda g: FormBuild("pg", "pick", g.id),
        turn=lambda offset: FormBuild("pg", "page", offset),
        everything=FormBuild("pg", "nof"),
    )  # fmt: skip
    return with_picker_text(context, context.t("notice.ask_party_group"), page), keyboard, draft


# ---- deadline and options ----


def deadline_text(context: BotContext, draft: BuildDraft) -> str:
    if draft.deadline is None:
        return context.plain("form.build.no_deadline_yet")
    return format_datetime(context, draft.deadline, context.deps.settings.timezone)


async def _deadline(context: BotContext, actor: Actor, draft: BuildDraft) -> Screen:
    time = f"{DEADLINE_HOUR:02d}:00"
    keyboard: Keyboard = [
        [
            button(context.plain("form.build.in_days", days=d, time=time), FormBuild("dl", "dl", d))
            for d in DEADLINE_PRESETS
        ],
        [_b(context, "form.build.other_time", "dl", "dlt")],
    ]
    text = context.t("form.build.ask_deadline")
    if draft.deadline is not None and draft.deadline > context.deps.clock.now():
        text += "\n\n" + context.t("form.build.current", value=deadline_text(context, draft))
        keyboard.append([_b(context, "form.build.keep", "dl", "keep")])
    return text, keyboard, draft


async def _typed_deadline(context: BotContext, actor: Actor, draft: BuildDraft) -> Screen:
    return context.t("form.build.ask_deadline_text"), [], draft


def options_lines(context: BotContext, draft: BuildDraft) -> list[str]:
    """Deadline, late answers, repeating, anonymous: as the options and preview show them."""
    lines = [
        context.t("form.build.opt.deadline", deadline=deadline_text(context, draft)),
        context.t(
            "form.build.opt.late_accept"
            if draft.late is LatePolicy.ACCEPT
            else "form.build.opt.late_refuse"
        ),
    ]
    if draft.repeat is Repeat.NONE:
        lines.append(context.t("form.build.opt.once"))
    else:
        lines.append(
            context.t(
                "form.build.opt.repeat",
                repeat=context.plain(REPEAT_KEYS[draft.repeat]),
                day=draft.due_day,
            )
        )
    if draft.kind is FormKind.MEMBER:
        key = "form.build.opt.anonymous_on" if draft.anonymous else "form.build.opt.anonymous_off"
        lines.append(context.t(key, min=ANONYMOUS_MIN))
    return lines


async def _options_screen(context: BotContext, actor: Actor, draft: BuildDraft) -> Screen:
    lines = [context.t("form.build.ask_opt"), "", *options_lines(context, draft)]
    late = mark(
        context, context.plain("form.build.opt.late_toggle"), draft.late is LatePolicy.ACCEPT
    )
    keyboard: Keyboard = [[button(late, FormBuild("opt", "late"))]]
    keyboard.append(
        [
            button(
                current(context, context.plain(REPEAT_KEYS[r]), r is draft.repeat),
                FormBuild("opt", "rep", i),
            )
            for i, r in enumerate(REPEATS)
        ]
    )
    if draft.repeat is not Repeat.NONE:
        keyboard.append([_b(context, "form.build.opt.due_day", "opt", "dd")])
    if draft.kind is FormKind.MEMBER:
        anon = mark(context, context.plain("form.build.opt.anonymous"), draft.anonymous)
        keyboard.append([button(anon, FormBuild("opt", "anon"))])
    keyboard.append([_b(context, "notice.next", "opt", "next")])
    return "\n".join(lines), keyboard, draft


async def _due_day(context: BotContext, actor: Actor, draft: BuildDraft) -> Screen:
    key = REPEAT_KEYS[draft.repeat]
    return (
        context.t("form.build.ask_due_day", repeat=context.plain(key), max=DUE_DAY_MAX),
        [],
        draft,
    )


SCREENS: dict[str, Render] = {
    "org": _org,
    "start": _start,
    "tpl": _templates,
    "copy": _copies,
    "file": _file,
    "guess": _guess,
    "gt": _guess_type,
    "kind": _kind,
    "title": _title,
    "intro": _intro,
    "qs": _questions,
    "qm": _manage,
    "qt": _qtype,
    "qw": _wording,
    "qc": _choices,
    "qu": _unit,
    "qb": _bounds,
    "qcol": _columns,
    "qo": _options,
    "qh": _hint,
    "qif": _condition,
    "qifv": _condition_values,
    "aud": _audience,
    "br": _branches,
    "st": _stages,
    "pg": _party_group,
    "dl": _deadline,
    "dlt": _typed_deadline,
    "opt": _options_screen,
    "dd": _due_day,
}


# ---- the preview and the result ----


def form_text(context: BotContext, draft: BuildDraft) -> list[str]:
    """The form exactly as respondents will see it: title, intro, each numbered question."""
    lines = [context.t("form.build.pv_title", title=draft.title or "")]
    if draft.intro:
        lines += ["", context.t("form.build.pv_intro", intro=draft.intro)]
    for i, q in enumerate(draft.questions):
        lines.append("")
        lines += question_lines(context, i, q, draft.questions)
    return lines


async def preview_messages(
    context: BotContext, actor: Actor, draft: BuildDraft
) -> tuple[list[str], str, InlineKeyboardMarkup]:
    """The form as respondents see it (split to fit), then the summary with 确认发布."""
    db, day = context.deps.db, today_of(context)
    names: list[str] = []
    if draft.targets and draft.org_id is not None:
        names = [
            o.name for o in await branches_under(db, actor, draft.org_id, list(draft.targets), day)
        ]
    preview = await audience_preview(db, actor, audience_of(draft), day)
    parts: list[str] = []
    chunk = context.t("form.build.pv_head")
    for line in form_text(context, draft):
        if len(chunk) + len(line) + 1 > 3800:
            parts.append(chunk)
            chunk = ""
        chunk = f"{chunk}\n{line}" if chunk else line
    parts.append(chunk)
    kind = context.plain(KIND_KEYS[draft.kind or FormKind.MEMBER])
    summary = [
        context.t("form.build.pv_summary", kind=kind, count=len(draft.questions)),
        *audience_lines(context, draft, names, preview),
    ]
    if preview.without_group:
        summary.append(
            context.t(
                "form.build.pv_no_group",
                count=len(preview.without_group),
                names="、".join(preview.without_group[:5]),
            )
        )
    summary += options_lines(context, draft)
    summary += ["", context.t("form.build.pv_confirm")]
    keyboard = [
        [_b(context, "form.build.publish", "pre", "ok")],
        [_b(context, "form.build.redo", "pre", "redo")],
        [_b(context, "wizard.back", "pre", "back"), _b(context, "wizard.cancel", "pre", "x")],
    ]
    return parts, "\n".join(summary), InlineKeyboardMarkup(keyboard)


def published_text(context: BotContext, result: Published) -> str:
    """What was sent: branches, groups carded, private copies, branches without a bound group."""
    delivered = result.delivered
    lines = [
        context.t("form.build.published", title=result.form.title),
        context.t(
            "form.build.published_counts",
            branches=result.branches,
            groups=delivered.groups,
            private=delivered.private_copies,
        ),
    ]
    if delivered.branches_without_group:
        shown = "、".join(delivered.branches_without_group[:10])
        if len(delivered.branches_without_group) > 10:
            shown += "…"
        lines.append(
            context.t(
                "form.build.published_no_group",
                count=len(delivered.branches_without_group),
                names=shown,
            )
        )
    lines.append(
        context.t(
            "form.build.published_deadline",
            deadline=format_datetime(
                context, result.cycle.deadline, context.deps.settings.timezone
            ),
        )
    )
    return "\n".join(lines)
