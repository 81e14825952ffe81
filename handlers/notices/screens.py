"""The question of each /notice step and its buttons (the preview is in preview.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from domain.notices import (
    ACK_LABELS,
    CATEGORIES,
    DEADLINE_HOUR,
    NO_DEADLINE,
    TITLE_MAX,
    NoticeDraft,
    ack_label,
    is_branch,
    offered_ack_label,
    presets_today,
    previous,
)
from domain.orgs import STAGE_CHOICES
from domain.pickers import PAGE, Slice, narrow
from handlers.common import today
from handlers.notices.common import (
    Keyboard,
    button,
    category_label,
    current,
    deadline_text,
    local_now,
    mark,
    short,
)
from services.authz import Actor
from services.notices import audience_of, sendable_orgs
from services.notices_admin import audience_preview, branch_page, branches_under
from services.orgs import OrgView
from ui.deps import BotContext
from ui.notices import ACK_KEYS, NoticeStep
from ui.pickers import picker_rows, with_picker_text
from ui.render import stage_label

BODY_KEYS: dict[str | None, str] = {
    "photo": "notice.current_body.photo",
    "document": "notice.current_body.document",
}
ACK_PROMPT_KEYS: dict[str, str] = {
    "received": "notice.opt.ack_received",
    "studied": "notice.opt.ack_studied",
}
PRESET_KEYS = {0: "notice.opt.today", 1: "notice.opt.tomorrow", 3: "notice.opt.in_three_days"}
assert set(ACK_PROMPT_KEYS) == set(ACK_LABELS)

Screen = tuple[str, Keyboard, NoticeDraft]
Render = Callable[[BotContext, Actor, NoticeDraft], Awaitable[Screen]]


async def roots(context: BotContext, actor: Actor) -> list[OrgView]:
    """The organizations one may send for: the tops of what one may notify."""
    orgs = await sendable_orgs(context.deps.db, actor, today(context))
    ids = {o.id for o in orgs}
    return [o for o in orgs if o.parent_id not in ids]


async def screen(
    context: BotContext, actor: Actor, draft: NoticeDraft, error: str = ""
) -> tuple[str, InlineKeyboardMarkup, NoticeDraft]:
    """The question of the draft's step, after an error line (a catalog key) if any; the
    draft comes back tidied (choices that no longer apply dropped)."""
    text, keyboard, draft = await SCREENS[draft.step](context, actor, draft)
    if draft.step not in ("br", "st"):  # those end with their own 完成 row
        keyboard.append(_nav(context, draft))
    prefix = context.t(error) + "\n\n" if error else ""
    return prefix + text, InlineKeyboardMarkup(keyboard), draft


def _nav(context: BotContext, draft: NoticeDraft) -> list[InlineKeyboardButton]:
    row = []
    if previous(draft, draft.step) is not None:
        row.append(button(context.plain("wizard.back"), NoticeStep(draft.step, "back")))
    row.append(button(context.plain("wizard.cancel"), NoticeStep(draft.step, "x")))
    return row


async def _org(context: BotContext, actor: Actor, draft: NoticeDraft) -> Screen:
    orgs = await roots(context, actor)
    page = narrow(orgs, lambda o: o.name, draft.org_offset, draft.org_find)
    keyboard = picker_rows(
        context, page,
        label=lambda o: current(context, short(o.name), o.id == draft.org_id),
        pick=lambda o: NoticeStep("org", "pick", o.id),
        turn=lambda offset: NoticeStep("org", "page", offset),
        everything=NoticeStep("org", "nof"),
    )  # fmt: skip
    return with_picker_text(context, context.t("notice.ask_org"), page), keyboard, draft


async def _category(context: BotContext, actor: Actor, draft: NoticeDraft) -> Screen:
    buttons = [
        button(
            current(context, category_label(context, c), c == draft.category),
            NoticeStep("cat", "pick", i),
        )
        for i, c in enumerate(CATEGORIES)
    ]
    keyboard = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    return context.t("notice.ask_category", org=draft.org_name), keyboard, draft


async def _title(context: BotContext, actor: Actor, draft: NoticeDraft) -> Screen:
    text = context.t("notice.ask_title", limit=TITLE_MAX)
    if not draft.title:
        return text, [], draft
    text += "\n\n" + context.t("notice.current_title", title=draft.title)
    return text, [[button(context.plain("notice.keep"), NoticeStep("title", "keep"))]], draft


async def _body(context: BotContext, actor: Actor, draft: NoticeDraft) -> Screen:
    text = context.t("notice.ask_body")
    if draft.body is None:
        return text, [], draft
    text += "\n\n" + context.t(BODY_KEYS.get(draft.media_kind, "notice.current_body.text"))
    return text, [[button(context.plain("notice.keep"), NoticeStep("body", "keep"))]], draft


def _scope_text(context: BotContext, draft: NoticeDraft, names: list[str]) -> str:
    if names:
        shown = "、".join(names[:5])
        if len(names) > 5:
            shown = context.plain("notice.aud.more", names=shown, count=len(names))
        return context.t("notice.aud.chosen", count=len(names), names=shown)
    if is_branch(draft):
        return context.t("notice.aud.this_branch", name=draft.org_name)
    return context.t("notice.aud.everything_under", name=draft.org_name)


def stages_text(context: BotContext, draft: NoticeDraft) -> str:
    if not draft.stages:
        return context.plain("notice.aud.all_stages")
    return "、".join(stage_label(context, s) for s in STAGE_CHOICES if s in draft.stages)


async def _audience(context: BotContext, actor: Actor, draft: NoticeDraft) -> Screen:
    """Who the notice will reach, and the buttons that change it; forged choices drop out."""
    db = context.deps.db
    names: list[str] = []
    if draft.targets and draft.org_id is not None:
        chosen = await branches_under(db, actor, draft.org_id, list(draft.targets), today(context))
        draft = replace(draft, targets=tuple(o.id for o in chosen))
        names = [o.name for o in chosen]
    preview = await audience_preview(db, actor, audience_of(draft), today(context))
    group = next((g for g in preview.party_groups if g.id == draft.party_group_id), None)
    if group is None and draft.party_group_id is not None:
        draft = replace(draft, party_group_id=None)  # no longer that group's branch
        preview = await audience_preview(db, actor, audience_of(draft), today(context))
    lines = [
        context.t("notice.ask_audience"),
        "",
        _scope_text(context, draft, names),
        context.t("notice.aud.stages", stages=stages_text(context, draft)),
    ]
    if group is not None:
        lines.append(context.t("notice.aud.party_group", name=group.name))
    lines.append(
        context.t(
            "notice.aud.reach",
            branches=preview.branches,
            groups=preview.groups,
            people=preview.expected,
        )
    )
    if draft.private:
        lines.append(context.t("notice.aud.private_on", count=preview.private_copies))
    keyboard: Keyboard = []
    if not is_branch(draft):
        everything = mark(context, context.plain("notice.aud.all"), not draft.targets)
        keyboard.append(
            [
                button(everything, NoticeStep("aud", "all")),
                button(context.plain("notice.aud.pick"), NoticeStep("aud", "br")),
            ]
        )
    row = [button(context.plain("notice.aud.by_stage"), NoticeStep("aud", "st"))]
    if preview.single_branch is not None and preview.party_groups:
        row.append(button(context.plain("notice.aud.by_group"), NoticeStep("aud", "pg")))
    keyboard.append(row)
    private = mark(context, context.plain("notice.aud.private"), draft.private)
    keyboard.append([button(private, NoticeStep("aud", "prv"))])
    keyboard.append([button(context.plain("notice.next"), NoticeStep("aud", "next"))])
    return "\n".join(lines), keyboard, draft


async def _branches(context: BotContext, actor: Actor, draft: NoticeDraft) -> Screen:
    assert draft.org_id is not None
    found = await branch_page(
        context.deps.db, actor, draft.org_id, today(context),
        offset=draft.br_offset, limit=PAGE, name_part=draft.br_find,
    )  # fmt: skip
    page = Slice(found.items, draft.br_offset, found.total, draft.br_find)
    text = context.t("notice.ask_branches", count=len(draft.targets), total=found.total)
    keyboard = picker_rows(
        context, page,
        label=lambda o: mark(context, short(o.name), o.id in draft.targets),
        pick=lambda o: NoticeStep("br", "tb", o.id),
        turn=lambda offset: NoticeStep("br", "page", offset),
        everything=NoticeStep("br", "nof"),
    )  # fmt: skip
    keyboard.append(
        [
            button(context.plain("notice.aud.clear"), NoticeStep("br", "clear")),
            button(context.plain("notice.done"), NoticeStep("br", "done")),
        ]
    )
    return with_picker_text(context, text, page), keyboard, draft


async def _stages(context: BotContext, actor: Actor, draft: NoticeDraft) -> Screen:
    buttons = [
        button(mark(context, stage_label(context, s), s in draft.stages), NoticeStep("st", "ts", i))
        for i, s in enumerate(STAGE_CHOICES)
    ]
    keyboard = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    keyboard.append([button(context.plain("notice.done"), NoticeStep("st", "done"))])
    return context.t("notice.ask_stages"), keyboard, draft


async def _party_group(context: BotContext, actor: Actor, draft: NoticeDraft) -> Screen:
    """The whole branch, or one of its party groups on the shared picker (a branch may have
    dozens): paged, narrowed by a typed part of a name."""
    preview = await audience_preview(context.deps.db, actor, audience_of(draft), today(context))
    chosen = draft.party_group_id
    whole = current(context, context.plain("notice.aud.whole_branch"), chosen is None)
    keyboard: Keyboard = [[button(whole, NoticeStep("pg", "pick", 0))]]
    page = narrow(preview.party_groups, lambda g: g.name, draft.pg_offset, draft.pg_find)
    keyboard += picker_rows(
        context, page,
        label=lambda g: current(context, g.name, g.id == chosen),
        pick=lambda g: NoticeStep("pg", "pick", g.id),
        turn=lambda offset: NoticeStep("pg", "page", offset),
        everything=NoticeStep("pg", "nof"),
    )  # fmt: skip
    return with_picker_text(context, context.t("notice.ask_party_group"), page), keyboard, draft


def options_lines(context: BotContext, draft: NoticeDraft) -> list[str]:
    """Pinned or not; which acknowledgement button, until when."""
    label = ack_label(draft)
    lines = [context.t("notice.opt.pin_on" if draft.pin else "notice.opt.pin_off")]
    if label is None:
        lines.append(context.t("notice.opt.ack_off"))
    else:
        lines.append(
            context.t(
                "notice.opt.ack_on",
                button=context.plain(ACK_KEYS[label]),
                deadline=deadline_text(context, draft.deadline),
            )
        )
    return lines


async def _options(context: BotContext, actor: Actor, draft: NoticeDraft) -> Screen:
    text = "\n".join([context.t("notice.ask_options"), "", *options_lines(context, draft)])
    pin = mark(context, context.plain("notice.opt.pin"), draft.pin)
    ack = mark(context, context.plain(ACK_PROMPT_KEYS[offered_ack_label(draft)]), draft.ack)
    keyboard: Keyboard = [
        [button(pin, NoticeStep("opt", "pin"))],
        [button(ack, NoticeStep("opt", "ack"))],
    ]
    if draft.ack:
        no_deadline = context.plain("notice.opt.no_deadline")
        presets = [button(no_deadline, NoticeStep("opt", "dl", NO_DEADLINE))]
        for days in presets_today(local_now(context)):
            label = context.plain(PRESET_KEYS[days], time=f"{DEADLINE_HOUR:02d}:00")
            presets.append(button(label, NoticeStep("opt", "dl", days)))
        keyboard.append(presets[:2])
        other = button(context.plain("notice.opt.other_time"), NoticeStep("opt", "dlt"))
        keyboard.append([*presets[2:], other])
    keyboard.append([button(context.plain("notice.next"), NoticeStep("opt", "next"))])
    return text, keyboard, draft


async def _deadline(context: BotContext, actor: Actor, draft: NoticeDraft) -> Screen:
    return context.t("notice.ask_deadline"), [], draft


async def _when(context: BotContext, actor: Actor, draft: NoticeDraft) -> Screen:
    keyboard: Keyboard = [
        [
            button(context.plain("notice.when.now"), NoticeStep("when", "now")),
            button(context.plain("notice.when.later"), NoticeStep("when", "at")),
        ]
    ]
    return context.t("notice.ask_when"), keyboard, draft


async def _send_at(context: BotContext, actor: Actor, draft: NoticeDraft) -> Screen:
    return context.t("notice.ask_send_at"), [], draft


SCREENS: dict[str, Render] = {
    "org": _org,
    "cat": _category,
    "title": _title,
    "body": _body,
    "aud": _audience,
    "br": _branches,
    "st": _stages,
    "pg": _party_group,
    "opt": _options,
    "dl": _deadline,
    "when": _when,
    "at": _send_at,
}
