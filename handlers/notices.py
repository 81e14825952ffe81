"""/notice: compose, preview, publish; 收到 presses; /receipts with lists and actions."""

from __future__ import annotations

import dataclasses
import io
from datetime import datetime, timedelta
from typing import Any, ClassVar

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    Update,
)
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from domain.org import STAGE_CHOICES, Level, Stage
from domain.validation import Invalid, parse_short_text
from domain.when import DEFAULT_DEADLINE_TIME, parse_when
from handlers.common import actor_of, edit_text, is_private, today
from handlers.wizard import WizardRouter
from services.authz import Actor
from services.drafts import DraftView, clear_draft, get_draft, save_draft
from services.errors import ServiceError
from services.notice_admin import (
    AudiencePreview,
    ReceiptSummary,
    audience_preview,
    branch_page,
    branch_receipts,
    branches_under,
    notice_for,
    receipt_summary,
)
from services.notices import (
    BODY_MAX,
    CATEGORIES,
    TITLE_MAX,
    Audience,
    NoticeSpec,
    NoticeView,
    Receipts,
    acknowledge,
    edit_notice,
    progress,
    publish_notice,
    queue_nudges,
    recall_notice,
    receipts,
    sendable_orgs,
    sent_notices,
    set_report_message,
)
from services.orgs import OrgView
from ui.callbacks import CallbackData
from ui.deps import BotContext
from ui.errors import error_key
from ui.notices import ACK_KEYS, CATEGORY_KEYS, Ack, render_notice
from ui.render import format_datetime, split_message, stage_label

FLOW = "notice"
EDIT_FLOW = "notice_edit"
PAGE = 8  # buttons per page in pickers
BRANCH_LINES = 10  # branch lines per page on the receipts screen
BUTTON_NAME_MAX = 40
RECENT = 10  # notices listed by /receipts
PROBLEMS_SHOWN = 10
LONG_LIST = 50  # more lines than this: point to the spreadsheet as well
# Photos and files are looked at before group 0, where the roster import takes every
# private document: a notice body must not be mistaken for a roster.
MEDIA_GROUP = -1
DEADLINE_HOUR = 18
DEADLINE_PRESETS = (0, 1, 3)  # today, tomorrow, in three days, at DEADLINE_HOUR

# The wizard's main steps in order; sub-steps return to their parent.
ORDER = ("org", "cat", "title", "body", "aud", "opt", "when", "pre")
PARENT = {"br": "aud", "st": "aud", "pg": "aud", "dl": "opt", "at": "when"}

STATUS_KEYS: dict[str, str] = {
    "scheduled": "notice.status.scheduled",
    "sending": "notice.status.sending",
    "sent": "notice.status.sent",
    "recalled": "notice.status.recalled",
}
BODY_KEYS: dict[str | None, str] = {
    "photo": "notice.current_body.photo",
    "document": "notice.current_body.document",
}
ACK_PROMPT_KEYS: dict[str, str] = {
    "received": "notice.opt.ack_received",
    "studied": "notice.opt.ack_studied",
}


@dataclasses.dataclass(frozen=True)
class NoticeStep(CallbackData):
    """A button of the /notice wizard, tied to the step it was shown for (older ones are stale)."""

    prefix: ClassVar[str] = "nt"
    step: str
    action: str
    value: int = 0


@dataclasses.dataclass(frozen=True)
class Receipt(CallbackData):
    """A /receipts button: an action on one notice with a number (page offset, branch id)."""

    prefix: ClassVar[str] = "rcp"
    action: str
    notice_id: int
    value: int = 0


Keyboard = list[list[InlineKeyboardButton]]


def _short(name: str) -> str:
    return name if len(name) <= BUTTON_NAME_MAX else name[: BUTTON_NAME_MAX - 1] + "…"


def _button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data.pack())


def _mark(context: BotContext, label: str, on: bool) -> str:
    """A toggle's label: ✅ on, ⬜ off."""
    return context.plain("notice.checked" if on else "notice.unchecked", label=label)


def _current(context: BotContext, label: str, on: bool) -> str:
    """A single choice's label: ✅ on the one chosen before, nothing on the others."""
    return context.plain("notice.checked", label=label) if on else label


def _category_label(context: BotContext, category: str) -> str:
    return context.plain(CATEGORY_KEYS.get(category, "notice.category.announcement"))


# ---- dates people type: "2026-12-05 18:00", "12月5日 18:00", "明天 18:00" ----


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


def _from_iso(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


# ---- the wizard: answers live in the drafts table ----


def _audience(data: dict[str, Any]) -> Audience:
    targets = tuple(int(i) for i in data.get("targets", []))
    return Audience(
        org_ids=targets or (int(data["org_id"]),),
        stages=tuple(Stage(s) for s in data.get("stages", [])),
        party_group_id=data.get("party_group_id"),
        private_copies=bool(data.get("private")),
    )


def _ack_label(data: dict[str, Any]) -> str | None:
    if not data.get("ack"):
        return None
    return CATEGORIES.get(data.get("category", "")) or "received"


def _first_step(data: dict[str, Any]) -> str:
    return "cat" if data.get("single_org") else "org"


def _previous(data: dict[str, Any], step: str) -> str | None:
    """The step 上一步 returns to, or None on the first one."""
    if step in PARENT:
        return PARENT[step]
    index = ORDER.index(step)
    if index == 0 or (ORDER[index - 1] == "org" and data.get("single_org")):
        return None
    return ORDER[index - 1]


def _nav(context: BotContext, data: dict[str, Any], step: str) -> list[InlineKeyboardButton]:
    row = []
    if _previous(data, step) is not None:
        row.append(_button(context.plain("wizard.back"), NoticeStep(step, "back")))
    row.append(_button(context.plain("wizard.cancel"), NoticeStep(step, "x")))
    return row


def _preview_view(data: dict[str, Any], sender_id: int, now: datetime) -> NoticeView:
    """The notice as it would be published, for render_notice."""
    audience = _audience(data)
    return NoticeView(
        id=0,
        org_id=int(data["org_id"]),
        sender_id=sender_id,
        category=data["category"],
        title=data["title"],
        body_html=data.get("body", ""),
        media_kind=data.get("media_kind"),
        media_file_id=data.get("media_file_id"),
        pin=bool(data.get("pin")),
        ack_label=_ack_label(data),
        ack_deadline=_from_iso(data.get("deadline")),
        send_at=_from_iso(data.get("send_at")) or now,
        status="preview",
        version=1,
        audience=audience,
    )


async def _roots(context: BotContext, actor: Actor) -> list[OrgView]:
    """The organizations one may send for: the tops of what one may notify."""
    orgs = await sendable_orgs(context.deps.db, actor, today(context))
    ids = {o.id for o in orgs}
    return [o for o in orgs if o.parent_id not in ids]


def _scope_text(context: BotContext, data: dict[str, Any], names: list[str]) -> str:
    if names:
        shown = "、".join(names[:5])
        if len(names) > 5:
            shown = context.plain("notice.aud.more", names=shown, count=len(names))
        return context.t("notice.aud.chosen", count=len(names), names=shown)
    if data.get("org_level") == Level.BRANCH:
        return context.t("notice.aud.this_branch", name=data["org_name"])
    return context.t("notice.aud.everything_under", name=data["org_name"])


def _stages_text(context: BotContext, data: dict[str, Any]) -> str:
    stages = [Stage(s) for s in data.get("stages", [])]
    if not stages:
        return context.plain("notice.aud.all_stages")
    return "、".join(stage_label(context, s) for s in STAGE_CHOICES if s in stages)


def _pager(context: BotContext, step: str, offset: int, total: int) -> list[InlineKeyboardButton]:
    """上一页 / 下一页 for a list shown PAGE items at a time."""
    row = []
    if offset > 0:
        row.append(
            _button(context.plain("common.prev"), NoticeStep(step, "page", max(0, offset - PAGE)))
        )
    if offset + PAGE < total:
        row.append(_button(context.plain("common.next"), NoticeStep(step, "page", offset + PAGE)))
    return row


async def _screen(
    context: BotContext, actor: Actor, data: dict[str, Any], step: str, error: str = ""
) -> tuple[str, InlineKeyboardMarkup]:
    """The question of one step, after an error line when there is one; may tidy `data`."""
    db = context.deps.db
    text = context.t(error) + "\n\n" if error else ""
    keyboard: Keyboard = []
    if step == "org":
        roots = await _roots(context, actor)
        offset = max(0, min(int(data.get("org_offset", 0)), max(len(roots) - 1, 0)))
        offset -= offset % PAGE
        text += context.t("notice.ask_org")
        keyboard = [
            [
                _button(
                    _current(context, _short(o.name), o.id == data.get("org_id")),
                    NoticeStep("org", "pick", o.id),
                )
            ]
            for o in roots[offset : offset + PAGE]
        ]
        if pager := _pager(context, "org", offset, len(roots)):
            keyboard.append(pager)
    elif step == "cat":
        text += context.t("notice.ask_category", org=data["org_name"])
        buttons = [
            _button(
                _current(context, _category_label(context, c), c == data.get("category")),
                NoticeStep("cat", "pick", i),
            )
            for i, c in enumerate(CATEGORIES)
        ]
        keyboard = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    elif step == "title":
        text += context.t("notice.ask_title", limit=TITLE_MAX)
        if data.get("title"):
            text += "\n\n" + context.t("notice.current_title", title=data["title"])
            keyboard = [[_button(context.plain("notice.keep"), NoticeStep("title", "keep"))]]
    elif step == "body":
        text += context.t("notice.ask_body")
        if "body" in data:
            text += "\n\n" + context.t(
                BODY_KEYS.get(data.get("media_kind"), "notice.current_body.text")
            )
            keyboard = [[_button(context.plain("notice.keep"), NoticeStep("body", "keep"))]]
    elif step == "aud":
        lines, keyboard = await _audience_screen(context, actor, data)
        text += lines
    elif step == "br":
        page = await branch_page(
            db,
            actor,
            int(data["org_id"]),
            today(context),
            offset=int(data.get("br_offset", 0)),
            limit=PAGE,
        )
        chosen = set(data.get("targets", []))
        text += context.t("notice.ask_branches", count=len(chosen), total=page.total)
        keyboard = [
            [_button(_mark(context, _short(o.name), o.id in chosen), NoticeStep("br", "tb", o.id))]
            for o in page.items
        ]
        if pager := _pager(context, "br", int(data.get("br_offset", 0)), page.total):
            keyboard.append(pager)
        keyboard.append(
            [
                _button(context.plain("notice.aud.clear"), NoticeStep("br", "clear")),
                _button(context.plain("notice.done"), NoticeStep("br", "done")),
            ]
        )
        return text, InlineKeyboardMarkup(keyboard)
    elif step == "st":
        chosen_stages = set(data.get("stages", []))
        text += context.t("notice.ask_stages")
        buttons = [
            _button(
                _mark(context, stage_label(context, s), s.value in chosen_stages),
                NoticeStep("st", "ts", i),
            )
            for i, s in enumerate(STAGE_CHOICES)
        ]
        keyboard = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
        keyboard.append([_button(context.plain("notice.done"), NoticeStep("st", "done"))])
        return text, InlineKeyboardMarkup(keyboard)
    elif step == "pg":
        preview = await audience_preview(db, actor, _audience(data), today(context))
        text += context.t("notice.ask_party_group")
        current = data.get("party_group_id")
        keyboard = [
            [
                _button(
                    _current(context, context.plain("notice.aud.whole_branch"), current is None),
                    NoticeStep("pg", "pick", 0),
                )
            ]
        ]
        keyboard += [
            [
                _button(
                    _current(context, _short(g.name), g.id == current),
                    NoticeStep("pg", "pick", g.id),
                )
            ]
            for g in preview.party_groups
        ]
    elif step == "opt":
        text += _options_text(context, data)
        keyboard = _options_keyboard(context, data)
    elif step == "dl":
        text += context.t("notice.ask_deadline")
    elif step == "when":
        text += context.t("notice.ask_when")
        keyboard = [
            [
                _button(context.plain("notice.when.now"), NoticeStep("when", "now")),
                _button(context.plain("notice.when.later"), NoticeStep("when", "at")),
            ]
        ]
    elif step == "at":
        text += context.t("notice.ask_send_at")
    keyboard.append(_nav(context, data, step))
    return text, InlineKeyboardMarkup(keyboard)


async def _audience_screen(
    context: BotContext, actor: Actor, data: dict[str, Any]
) -> tuple[str, Keyboard]:
    """Who the notice will reach, and the buttons that change it; forged choices drop out."""
    db = context.deps.db
    names: list[str] = []
    if data.get("targets"):
        chosen = await branches_under(
            db, actor, int(data["org_id"]), list(data["targets"]), today(context)
        )
        data["targets"] = [o.id for o in chosen]
        names = [o.name for o in chosen]
    preview = await audience_preview(db, actor, _audience(data), today(context))
    group = next((g for g in preview.party_groups if g.id == data.get("party_group_id")), None)
    if group is None and data.get("party_group_id") is not None:
        data["party_group_id"] = None  # the audience is no longer that group's branch
        preview = await audience_preview(db, actor, _audience(data), today(context))
    lines = [
        context.t("notice.ask_audience"),
        "",
        _scope_text(context, data, names),
        context.t("notice.aud.stages", stages=_stages_text(context, data)),
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
    if data.get("private"):
        lines.append(context.t("notice.aud.private_on", count=preview.private_copies))
    keyboard: Keyboard = []
    if data.get("org_level") != Level.BRANCH:
        keyboard.append(
            [
                _button(
                    _mark(context, context.plain("notice.aud.all"), not data.get("targets")),
                    NoticeStep("aud", "all"),
                ),
                _button(context.plain("notice.aud.pick"), NoticeStep("aud", "br")),
            ]
        )
    row = [_button(context.plain("notice.aud.by_stage"), NoticeStep("aud", "st"))]
    if preview.single_branch is not None and preview.party_groups:
        row.append(_button(context.plain("notice.aud.by_group"), NoticeStep("aud", "pg")))
    keyboard.append(row)
    keyboard.append(
        [
            _button(
                _mark(context, context.plain("notice.aud.private"), bool(data.get("private"))),
                NoticeStep("aud", "prv"),
            )
        ]
    )
    keyboard.append([_button(context.plain("notice.next"), NoticeStep("aud", "next"))])
    return "\n".join(lines), keyboard


def _deadline_text(context: BotContext, data: dict[str, Any]) -> str:
    deadline = _from_iso(data.get("deadline"))
    if deadline is None:
        return context.plain("notice.opt.no_deadline")
    return format_datetime(context, deadline, context.deps.settings.timezone)


def _options_text(context: BotContext, data: dict[str, Any]) -> str:
    label = _ack_label(data)
    lines = [
        context.t("notice.ask_options"),
        "",
        context.t("notice.opt.pin_on" if data.get("pin") else "notice.opt.pin_off"),
    ]
    if label is None:
        lines.append(context.t("notice.opt.ack_off"))
    else:
        lines.append(
            context.t(
                "notice.opt.ack_on",
                button=context.plain(ACK_KEYS[label]),
                deadline=_deadline_text(context, data),
            )
        )
    return "\n".join(lines)


def _options_keyboard(context: BotContext, data: dict[str, Any]) -> Keyboard:
    label = _ack_label(data) or CATEGORIES.get(data.get("category", "")) or "received"
    keyboard: Keyboard = [
        [
            _button(
                _mark(context, context.plain("notice.opt.pin"), bool(data.get("pin"))),
                NoticeStep("opt", "pin"),
            )
        ],
        [
            _button(
                _mark(context, context.plain(ACK_PROMPT_KEYS[label]), bool(data.get("ack"))),
                NoticeStep("opt", "ack"),
            )
        ],
    ]
    if data.get("ack"):
        local = context.deps.clock.now().astimezone(context.deps.settings.timezone)
        presets = [_button(context.plain("notice.opt.no_deadline"), NoticeStep("opt", "dl", -1))]
        keys = {0: "notice.opt.today", 1: "notice.opt.tomorrow", 3: "notice.opt.in_three_days"}
        for days in DEADLINE_PRESETS:
            if days == 0 and local.hour >= DEADLINE_HOUR:
                continue  # today's 18:00 has passed
            label = context.plain(keys[days], time=f"{DEADLINE_HOUR:02d}:00")
            presets.append(_button(label, NoticeStep("opt", "dl", days)))
        keyboard.append(presets[:2])
        keyboard.append(
            [
                *presets[2:],
                _button(context.plain("notice.opt.other_time"), NoticeStep("opt", "dlt")),
            ]
        )
    keyboard.append([_button(context.plain("notice.next"), NoticeStep("opt", "next"))])
    return keyboard


async def _save(context: BotContext, user_id: int, step: str, data: dict[str, Any]) -> None:
    await save_draft(context.deps.db, user_id, FLOW, step, data, context.deps.clock.now())


async def _ask(
    context: BotContext,
    user_id: int,
    data: dict[str, Any],
    step: str,
    error: str = "",
    query: CallbackQuery | None = None,
) -> None:
    """Send the question of a step as a new message; a pressed `query` is answered and loses
    its buttons only once the question could be built (a refusal must still be answerable)."""
    if step == "pre":
        await _send_preview(context, user_id, data, error, query)
        return
    text, markup = await _screen(context, _actor(context, user_id), data, step, error)
    await _save(context, user_id, step, data)
    if query is not None:
        await query.answer()
        await _drop_buttons(query)
    await context.bot.send_message(user_id, text, reply_markup=markup)


async def _drop_buttons(query: CallbackQuery) -> None:
    """Take the buttons off an answered question, so an old press cannot jump steps."""
    try:
        await query.edit_message_reply_markup(None)
    except BadRequest as exc:
        if "message is not modified" not in exc.message.lower():  # pressed twice
            raise


def _actor(context: BotContext, user_id: int) -> Actor:
    """The actor for a user id, with their superadmin standing from the config."""
    return Actor(user_id=user_id, superadmin=user_id in context.deps.settings.superadmins)


async def notice_command(update: Update, context: BotContext) -> None:
    """/notice: start composing a notice (or offer to continue the unfinished one)."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    if not is_private(update):
        await message.reply_text(context.t("notice.use_private"))
        return
    roots = await _roots(context, actor_of(context, user))
    if not roots:
        await message.reply_text(context.t("notice.not_allowed"))
        return
    draft = await get_draft(context.deps.db, user.id)
    if draft is not None and draft.flow == FLOW:
        title = draft.data.get("title") or context.plain("notice.untitled")
        keyboard = [
            [
                _button(context.plain("notice.resume"), NoticeStep("go", "resume")),
                _button(context.plain("notice.restart"), NoticeStep("go", "new")),
            ]
        ]
        await message.reply_text(
            context.t("notice.unfinished", title=title),
            reply_markup=InlineKeyboardMarkup(keyboard),
        )
        return
    await _begin(context, user.id, roots)


async def _begin(
    context: BotContext, user_id: int, roots: list[OrgView], query: CallbackQuery | None = None
) -> None:
    data: dict[str, Any] = {"single_org": len(roots) == 1}
    if len(roots) == 1:
        _set_org(data, roots[0])
    await _ask(context, user_id, data, _first_step(data), query=query)


def _set_org(data: dict[str, Any], org: OrgView) -> None:
    if data.get("org_id") != org.id:
        # Another organization: the branches chosen under the old one no longer apply.
        data.update(targets=[], party_group_id=None, br_offset=0)
    data.update(org_id=org.id, org_name=org.name, org_level=org.level.value)


async def wizard_button(update: Update, context: BotContext) -> None:
    """A button of the /notice wizard; presses that do not fit the current step are stale."""
    query = update.callback_query
    assert query is not None
    press = NoticeStep.unpack(query.data)
    user = query.from_user
    db = context.deps.db
    if press is None:
        await _refuse(query, context, "stale")
        return
    if press.step == "pre" and press.action == "pvack":
        # The 收到 button on the preview: it only shows what members will press.
        await query.answer(context.plain("notice.preview_ack"), show_alert=True)
        return
    draft = await get_draft(db, user.id)
    if press.step == "go":
        await _resume_or_restart(update, context, press.action, draft)
        return
    if draft is None or draft.flow != FLOW:
        await _refuse(query, context, "stale")
        return
    data, step = dict(draft.data), draft.step
    if press.action == "x":
        await clear_draft(db, user.id, FLOW)
        await query.answer()
        await edit_text(query, context.t("notice.cancelled"))
        return
    if press.step != step:
        await _refuse(query, context, "stale")
        return
    try:
        await _on_button(query, context, press, data, step)
    except ServiceError as exc:
        await _refuse(query, context, exc.code)


async def _resume_or_restart(
    update: Update, context: BotContext, action: str, draft: DraftView | None
) -> None:
    query = update.callback_query
    assert query is not None
    user = query.from_user
    roots = await _roots(context, actor_of(context, user))
    if not roots:
        await _refuse(query, context, "auth.send_notice")
        return
    if action == "resume" and draft is not None and draft.flow == FLOW:
        await _ask(context, user.id, dict(draft.data), draft.step, query=query)
    else:
        await _begin(context, user.id, roots, query)


async def _on_button(
    query: CallbackQuery,
    context: BotContext,
    press: NoticeStep,
    data: dict[str, Any],
    step: str,
) -> None:
    """Apply one press to the answers, then show the step it leads to."""
    user = query.from_user
    actor = actor_of(context, user)
    db = context.deps.db
    tz = context.deps.settings.timezone
    now = context.deps.clock.now()
    action, value = press.action, press.value
    next_step: str | None = None
    if action == "back" and _previous(data, step) is not None:
        next_step = _previous(data, step)
    elif step == "org" and action == "page":
        data["org_offset"] = max(0, value)
        next_step = "org"
    elif step == "org" and action == "pick":
        org = next((o for o in await _roots(context, actor) if o.id == value), None)
        if org is None:
            await _refuse(query, context, "auth.send_notice")
            return
        _set_org(data, org)
        next_step = "cat"
    elif step == "cat" and action == "pick" and 0 <= value < len(CATEGORIES):
        category = list(CATEGORIES)[value]
        if data.get("category") != category:
            data["category"] = category
            # Acknowledgement follows the category unless the sender changes it.
            data["ack"] = CATEGORIES[category] is not None
            if not data["ack"]:
                data["deadline"] = None
        next_step = "title"
    elif step == "title" and action == "keep" and data.get("title"):
        next_step = "body"
    elif step == "body" and action == "keep" and "body" in data:
        next_step = "aud"
    elif step == "aud" and action == "all":
        data.update(targets=[], party_group_id=None)
        next_step = "aud"
    elif step == "aud" and action in ("br", "st", "pg"):
        next_step = action
    elif step == "aud" and action == "prv":
        data["private"] = not data.get("private")
        next_step = "aud"
    elif step == "aud" and action == "next":
        next_step = "opt"
    elif step == "br" and action == "page":
        data["br_offset"] = max(0, value)
        next_step = "br"
    elif step == "br" and action == "tb":
        chosen = list(data.get("targets", []))
        if value in chosen:
            chosen.remove(value)
        else:
            found = await branches_under(db, actor, int(data["org_id"]), [value], today(context))
            if not found:
                await _refuse(query, context, "stale")
                return
            chosen.append(value)
        data.update(targets=chosen, party_group_id=None)
        next_step = "br"
    elif step == "br" and action == "clear":
        data.update(targets=[], party_group_id=None)
        next_step = "br"
    elif step in ("br", "st") and action == "done":
        next_step = "aud"
    elif step == "st" and action == "ts" and 0 <= value < len(STAGE_CHOICES):
        stage = STAGE_CHOICES[value].value
        stages = list(data.get("stages", []))
        data["stages"] = [s for s in stages if s != stage] if stage in stages else [*stages, stage]
        next_step = "st"
    elif step == "pg" and action == "pick":
        preview = await audience_preview(db, actor, _audience(data), today(context))
        if value and value not in {g.id for g in preview.party_groups}:
            await _refuse(query, context, "stale")
            return
        data["party_group_id"] = value or None
        next_step = "aud"
    elif step == "opt" and action == "pin":
        data["pin"] = not data.get("pin")
        next_step = "opt"
    elif step == "opt" and action == "ack":
        data["ack"] = not data.get("ack")
        if not data["ack"]:
            data["deadline"] = None
        next_step = "opt"
    elif step == "opt" and action == "dl" and data.get("ack") and value in (-1, *DEADLINE_PRESETS):
        if value < 0:
            data["deadline"] = None
        else:
            day = now.astimezone(tz).date() + timedelta(days=value)
            deadline = datetime(day.year, day.month, day.day, DEADLINE_HOUR, tzinfo=tz)
            if deadline <= now:
                await _refuse(query, context, "notice.past")
                return
            data["deadline"] = _iso(deadline)
        next_step = "opt"
    elif step == "opt" and action == "dlt" and data.get("ack"):
        next_step = "dl"
    elif step == "opt" and action == "next":
        next_step = "when"
    elif step == "when" and action == "now":
        data["send_at"] = None
        next_step = "pre"
    elif step == "when" and action == "at":
        next_step = "at"
    elif step == "pre" and action == "redo":
        next_step = _first_step(data)
    elif step == "pre" and action == "ok":
        await _publish(query, context, data)
        return
    if next_step is None:
        await _refuse(query, context, "stale")
        return
    if next_step == "pre" or step == "pre":
        # The preview is a series of messages: it and what follows it come below.
        await _ask(context, user.id, data, next_step, query=query)
        return
    text, markup = await _screen(context, actor, data, next_step)
    await _save(context, user.id, next_step, data)
    await query.answer()
    await edit_text(query, text, reply_markup=markup)


async def typed_answer(update: Update, context: BotContext, draft: DraftView) -> None:
    """A typed title, body, deadline or send time for the open /notice wizard."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    data, step = dict(draft.data), draft.step
    try:
        await _on_typed(message, context, user.id, data, step)
    except ServiceError as exc:
        await clear_draft(context.deps.db, user.id, FLOW)
        await message.reply_text(context.t(error_key(exc.code, "notices")))


async def _on_typed(
    message: Message, context: BotContext, user_id: int, data: dict[str, Any], step: str
) -> None:
    text = message.text or ""
    now = context.deps.clock.now()
    local_now = now.astimezone(context.deps.settings.timezone)
    if step == "title":
        title = parse_short_text(text, TITLE_MAX)
        if isinstance(title, Invalid):
            key = "notice.title_empty" if title.code == "text.empty" else "notice.title_too_long"
            await _ask(context, user_id, data, step, error_key(key, "notices"))
            return
        data["title"] = title
        await _ask(context, user_id, data, "body")
    elif step == "body":
        await _take_body(message, context, user_id, data)
    elif step in ("dl", "at"):
        # A deadline typed as a bare date means the end of that working day.
        parsed = parse_when(text, local_now, default_time=DEFAULT_DEADLINE_TIME)
        when = None if isinstance(parsed, Invalid) else parsed
        error = ""
        if when is None:
            error = "notice.error.bad_time"
        elif when <= now:
            error = "notice.error.past"
        elif step == "at":
            deadline = _from_iso(data.get("deadline"))
            if deadline is not None and deadline <= when:
                error = "notice.error.deadline_before_send"
        if error:
            await _ask(context, user_id, data, step, error)
            return
        assert when is not None
        if step == "dl":
            data["deadline"] = _iso(when)
            await _ask(context, user_id, data, "opt")
        else:
            data["send_at"] = _iso(when)
            await _ask(context, user_id, data, "pre")
    elif step == "pre":
        # Re-sending the whole preview for a stray message would bury the buttons.
        await message.reply_text(context.t("notice.error.use_buttons"))
    else:
        await _ask(context, user_id, data, step, "notice.error.use_buttons")


async def _take_body(
    message: Message, context: BotContext, user_id: int, data: dict[str, Any]
) -> None:
    """The sender's message becomes the body: formatted text, or a photo or file with caption."""
    if message.photo:
        data.update(
            media_kind="photo",
            media_file_id=message.photo[-1].file_id,
            body=message.caption_html or "",
        )
    elif message.document:
        data.update(
            media_kind="document",
            media_file_id=message.document.file_id,
            body=message.caption_html or "",
        )
    else:
        # text_html is Telegram's own rendering of the sender's formatting: safe to resend.
        body = message.text_html if message.text else ""
        if not body.strip():
            await _ask(context, user_id, data, "body", "notice.error.body_empty")
            return
        data.update(media_kind=None, media_file_id=None, body=body)
    if len(data["body"]) > BODY_MAX:
        data.pop("body")
        await _ask(context, user_id, data, "body", error_key("notice.body_too_long", "notices"))
        return
    await _ask(context, user_id, data, "aud")


async def media_received(update: Update, context: BotContext) -> None:
    """A private photo or file: the body of an open notice, else left for other features."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    draft = await get_draft(context.deps.db, user.id)
    if draft is None or draft.flow not in (FLOW, EDIT_FLOW):
        return
    if draft.flow == FLOW and draft.step == "body":
        try:
            await _take_body(message, context, user.id, dict(draft.data))
        except ServiceError as exc:
            await clear_draft(context.deps.db, user.id, FLOW)
            await message.reply_text(context.t(error_key(exc.code, "notices")))
    elif draft.flow == FLOW:
        await _ask(context, user.id, dict(draft.data), draft.step, "notice.error.no_media_here")
    else:
        await message.reply_text(context.t("notice.edit.text_only"))
    raise ApplicationHandlerStop


# ---- preview and publishing ----


async def _send_preview(
    context: BotContext,
    user_id: int,
    data: dict[str, Any],
    error: str = "",
    query: CallbackQuery | None = None,
) -> None:
    """Send the notice exactly as members will get it, then the summary with 确认发布."""
    actor = _actor(context, user_id)
    now = context.deps.clock.now()
    tz = context.deps.settings.timezone
    preview = await audience_preview(context.deps.db, actor, _audience(data), today(context))
    await _save(context, user_id, "pre", data)
    if query is not None:
        await query.answer()
        await _drop_buttons(query)
    view = _preview_view(data, user_id, now)
    rendered = render_notice(
        context.deps.catalog,
        context.locale,
        view,
        tz=tz,
        now=now,
        counts=(0, preview.sample_expected),
    )
    markup = None
    if rendered.markup is not None:
        # Same label as members get; pressing it here only explains itself.
        label = rendered.markup.inline_keyboard[0][0].text
        markup = InlineKeyboardMarkup([[_button(label, NoticeStep("pre", "pvack"))]])
    await context.bot.send_message(user_id, context.t("notice.preview_intro"))
    last = len(rendered.parts) - 1
    if view.media_kind is not None and view.media_file_id is not None:
        media_markup = markup if last < 0 else None
        if view.media_kind == "photo":
            await context.bot.send_photo(
                user_id, view.media_file_id, caption=rendered.caption, reply_markup=media_markup
            )
        else:
            await context.bot.send_document(
                user_id, view.media_file_id, caption=rendered.caption, reply_markup=media_markup
            )
    for i, part in enumerate(rendered.parts):
        await context.bot.send_message(user_id, part, reply_markup=markup if i == last else None)
    lines = [context.t(error), ""] if error else []
    lines += _summary_lines(context, data, preview)
    keyboard: Keyboard = []
    if preview.groups or preview.private_copies:
        keyboard.append([_button(context.plain("notice.publish"), NoticeStep("pre", "ok"))])
    else:
        lines += ["", context.t("notice.summary.nobody")]
    keyboard.append(
        [
            _button(context.plain("notice.redo"), NoticeStep("pre", "redo")),
            _button(context.plain("wizard.cancel"), NoticeStep("pre", "x")),
        ]
    )
    for i, part in enumerate(parts := split_message(lines)):
        await context.bot.send_message(
            user_id,
            part,
            reply_markup=InlineKeyboardMarkup(keyboard) if i == len(parts) - 1 else None,
        )


def _summary_lines(
    context: BotContext, data: dict[str, Any], preview: AudiencePreview
) -> list[str]:
    tz = context.deps.settings.timezone
    send_at = _from_iso(data.get("send_at"))
    label = _ack_label(data)
    lines = [
        context.t("notice.summary.title"),
        context.t("notice.summary.org", org=data["org_name"]),
        context.t(
            "notice.summary.reach",
            branches=preview.branches,
            groups=preview.groups,
            private=preview.private_copies,
            people=preview.expected,
        ),
        context.t("notice.aud.stages", stages=_stages_text(context, data)),
        context.t("notice.opt.pin_on" if data.get("pin") else "notice.opt.pin_off"),
    ]
    if label is None:
        lines.append(context.t("notice.opt.ack_off"))
    else:
        lines.append(
            context.t(
                "notice.opt.ack_on",
                button=context.plain(ACK_KEYS[label]),
                deadline=_deadline_text(context, data),
            )
        )
    if send_at is None:
        lines.append(context.t("notice.summary.now"))
    else:
        lines.append(context.t("notice.summary.at", when=format_datetime(context, send_at, tz)))
    if preview.without_group:
        lines.append("")
        lines.append(context.t("notice.summary.without_group", count=len(preview.without_group)))
        lines += [context.t("common.bullet", text=name) for name in preview.without_group]
    return lines


async def _publish(query: CallbackQuery, context: BotContext, data: dict[str, Any]) -> None:
    """确认发布: re-check the times, publish, report progress, wake the outbox worker."""
    user = query.from_user
    db = context.deps.db
    now = context.deps.clock.now()
    send_at = _from_iso(data.get("send_at"))
    deadline = _from_iso(data.get("deadline")) if _ack_label(data) else None
    # The sender may have left the preview open for a while: times may have passed since.
    if send_at is not None and send_at <= now:
        await _ask(context, user.id, data, "when", "notice.error.send_time_passed", query)
        return
    if deadline is not None and deadline <= (send_at or now):
        await _ask(context, user.id, data, "opt", "notice.error.deadline_passed", query)
        return
    spec = NoticeSpec(
        org_id=int(data["org_id"]),
        category=data["category"],
        title=data["title"],
        body_html=data.get("body", ""),
        audience=_audience(data),
        media_kind=data.get("media_kind"),
        media_file_id=data.get("media_file_id"),
        pin=bool(data.get("pin")),
        ack_label=_ack_label(data),
        ack_deadline=deadline,
        send_at=send_at,
    )
    published = await publish_notice(
        db, actor_of(context, user), spec, now=now, today=today(context)
    )
    await clear_draft(db, user.id, FLOW)
    await query.answer(context.plain("notice.published_short"))
    await _drop_buttons(query)
    notice = published.notice
    if notice.status == "scheduled":
        when = format_datetime(context, notice.send_at, context.deps.settings.timezone)
        text = context.t(
            "notice.scheduled", when=when, groups=published.groups, private=published.private_copies
        )
    else:
        text = context.t(
            "notice.sending", groups=published.groups, private=published.private_copies
        )
    report = await context.bot.send_message(user.id, text)
    await set_report_message(db, notice.id, report.chat_id, report.message_id)
    # Woken only now, so the worker finds the progress message it is to keep up to date.
    context.deps.outbox.wake()


# ---- acknowledgements ----


async def ack_button(update: Update, context: BotContext) -> None:
    """收到 / 已学习 pressed on a notice copy: recorded once; the counter updates later."""
    query = update.callback_query
    assert query is not None
    press = Ack.unpack(query.data)
    if press is None:
        await _refuse(query, context, "stale")
        return
    result = await acknowledge(
        context.deps.db, query.from_user.id, press.notice_id, context.deps.clock.now()
    )
    if result.status == "ok":
        await query.answer(
            context.plain(
                "notice.ack.ok", acked=result.branch_count, expected=result.branch_expected
            )
        )
    elif result.status == "already":
        await query.answer(context.plain("notice.ack.already"))
    elif result.status == "closed":
        await query.answer(context.plain("notice.ack.closed"), show_alert=True)
    else:
        await query.answer(context.plain("notice.ack.outside"), show_alert=True)


# ---- /receipts ----


async def _refuse(query: CallbackQuery, context: BotContext, code: str) -> None:
    await query.answer(context.plain(error_key(code, "notices")), show_alert=True)


async def receipts_command(update: Update, context: BotContext) -> None:
    """/receipts: the sender's recent notices, each opening its receipts."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    if not is_private(update):
        await message.reply_text(context.t("notice.use_private"))
        return
    text, markup = await _recent(context, actor_of(context, user))
    await message.reply_text(text, reply_markup=markup)


async def _recent(context: BotContext, actor: Actor) -> tuple[str, InlineKeyboardMarkup | None]:
    notices = await sent_notices(context.deps.db, actor, limit=RECENT)
    if not notices:
        return context.t("notice.receipts.none"), None
    tz = context.deps.settings.timezone
    keyboard = [
        [
            _button(
                context.plain(
                    "notice.receipts.item",
                    title=_short(n.title),
                    when=format_datetime(context, n.send_at, tz),
                ),
                Receipt("open", n.id),
            )
        ]
        for n in notices
    ]
    return context.t("notice.receipts.pick"), InlineKeyboardMarkup(keyboard)


def _reason(context: BotContext, error: str) -> str:
    """A delivery failure in words; Telegram's descriptions are English and technical."""
    low = error.lower()
    if "blocked" in low:
        return context.plain("notice.reason.blocked")
    if "deactivated" in low:
        return context.plain("notice.reason.deactivated")
    if "initiate" in low:
        return context.plain("notice.reason.not_started")
    if "kicked" in low or "not a member" in low or "chat not found" in low:
        return context.plain("notice.reason.removed")
    return context.plain("notice.reason.other")


async def render_receipts(
    context: BotContext, summary: ReceiptSummary, offset: int
) -> tuple[str, InlineKeyboardMarkup]:
    """The receipts screen: totals, delivery, a page of branches, and the actions."""
    notice = summary.notice
    tz = context.deps.settings.timezone
    delivery = await progress(context.deps.db, notice.id)
    lines = [
        context.t(
            "notice.header", category=_category_label(context, notice.category), title=notice.title
        ),
        context.t(
            "notice.receipts.sent_at",
            when=format_datetime(context, notice.send_at, tz),
            status=context.plain(STATUS_KEYS.get(notice.status, "notice.status.sending")),
        ),
    ]
    if notice.ack_label is not None:
        lines.append(context.t("notice.counts", acked=summary.acked, expected=summary.expected))
        if notice.ack_deadline is not None:
            deadline = format_datetime(context, notice.ack_deadline, tz)
            lines.append(context.t("notice.receipts.deadline", deadline=deadline))
    else:
        lines.append(context.t("notice.receipts.no_ack"))
    lines.append(
        context.t(
            "notice.receipts.delivery",
            sent=delivery.sent,
            total=delivery.total,
            pending=delivery.pending,
            bad=len(delivery.unreachable) + len(delivery.failed),
        )
    )
    if summary.problems:
        lines.append(context.t("notice.receipts.problems"))
        for p in summary.problems[:PROBLEMS_SHOWN]:
            where = (
                context.plain("notice.receipts.group_of", name=p.org_name or "?")
                if p.is_group
                else context.plain("notice.receipts.person", name=p.person or "?")
            )
            lines.append(
                context.t("notice.receipts.problem", where=where, reason=_reason(context, p.error))
            )
        if summary.problem_total > PROBLEMS_SHOWN:
            lines.append(context.t("notice.receipts.more_problems", count=summary.problem_total))
    keyboard: Keyboard = []
    branches = summary.branches
    offset = max(0, min(offset, max(len(branches) - 1, 0)))
    offset -= offset % BRANCH_LINES
    page = branches[offset : offset + BRANCH_LINES]
    if notice.ack_label is not None and branches:
        lines.append("")
        if len(branches) > BRANCH_LINES:
            lines.append(
                context.t(
                    "notice.receipts.page",
                    first=offset + 1,
                    last=offset + len(page),
                    total=len(branches),
                )
            )
        for b in page:
            lines.append(
                context.t(
                    "notice.receipts.branch_line", name=b.name, acked=b.acked, expected=b.expected
                )
            )
        names = [
            _button(
                context.plain("notice.receipts.names_of", name=_short(b.name)),
                Receipt("names", notice.id, b.org_id),
            )
            for b in page
        ]
        if len(branches) == 1:
            names = [
                _button(
                    context.plain("notice.receipts.names"),
                    Receipt("names", notice.id, branches[0].org_id),
                )
            ]
        keyboard += [names[i : i + 2] for i in range(0, len(names), 2)]
        pager = []
        if offset > 0:
            pager.append(
                _button(
                    context.plain("common.prev"), Receipt("open", notice.id, offset - BRANCH_LINES)
                )
            )
        if offset + BRANCH_LINES < len(branches):
            pager.append(
                _button(
                    context.plain("common.next"), Receipt("open", notice.id, offset + BRANCH_LINES)
                )
            )
        if pager:
            keyboard.append(pager)
        row = [_button(context.plain("notice.receipts.export"), Receipt("xlsx", notice.id))]
        if notice.status != "recalled":
            row.append(_button(context.plain("notice.receipts.nudge"), Receipt("nudge", notice.id)))
        keyboard.append(row)
    if notice.status != "recalled":
        keyboard.append(
            [
                _button(context.plain("notice.receipts.edit"), Receipt("edit", notice.id)),
                _button(context.plain("notice.receipts.recall"), Receipt("recall", notice.id)),
            ]
        )
    keyboard.append(
        [
            _button(context.plain("notice.receipts.refresh"), Receipt("open", notice.id, offset)),
            _button(context.plain("notice.receipts.back"), Receipt("list", 0)),
        ]
    )
    text = "\n".join(lines)
    return text, InlineKeyboardMarkup(keyboard)


async def receipt_button(update: Update, context: BotContext) -> None:
    """A /receipts button: every press is re-authorized by the service it calls."""
    query = update.callback_query
    assert query is not None
    press = Receipt.unpack(query.data)
    if press is None:
        await _refuse(query, context, "stale")
        return
    try:
        await _on_receipt(query, context, press)
    except ServiceError as exc:
        await _refuse(query, context, exc.code)


async def _on_receipt(query: CallbackQuery, context: BotContext, press: Receipt) -> None:
    user = query.from_user
    actor = actor_of(context, user)
    db = context.deps.db
    now = context.deps.clock.now()
    action, notice_id = press.action, press.notice_id
    if action == "list":
        text, markup = await _recent(context, actor)
        await query.answer()
        await edit_text(query, text, reply_markup=markup)
    elif action == "open":
        summary = await receipt_summary(db, actor, notice_id, today(context))
        text, markup = await render_receipts(context, summary, press.value)
        await query.answer()
        await edit_text(query, text, reply_markup=markup)
    elif action == "names":
        await _send_names(query, context, actor, notice_id, press.value)
    elif action == "xlsx":
        result = await receipts(db, actor, notice_id, today(context))
        await query.answer()
        name = context.plain(
            "notice.export.filename", id=notice_id, date=today(context).isoformat()
        )
        caption = context.t(
            "notice.export.caption",
            title=result.notice.title,
            acked=result.acked,
            expected=result.expected,
        )
        await context.bot.send_document(
            user.id,
            InputFile(io.BytesIO(receipts_xlsx(context, result)), filename=name),
            caption=caption,
        )
    elif action == "nudge":
        private, groups = await queue_nudges(db, actor, notice_id, now=now, today=today(context))
        if private or groups:
            context.deps.outbox.wake()
            await query.answer(
                context.plain("notice.nudged", private=private, groups=groups), show_alert=True
            )
        else:
            await query.answer(context.plain("notice.nudged_nobody"), show_alert=True)
    elif action == "edit":
        notice = await notice_for(db, actor, notice_id, today(context))
        if notice.status == "recalled":
            raise ServiceError("notice.recalled")
        await query.answer()
        keyboard = [
            [
                _button(context.plain("notice.edit.title"), Receipt("etitle", notice_id)),
                _button(context.plain("notice.edit.body"), Receipt("ebody", notice_id)),
            ],
            [_button(context.plain("wizard.cancel"), Receipt("stop", notice_id))],
        ]
        await context.bot.send_message(
            user.id,
            context.t("notice.edit.which", title=notice.title),
            reply_markup=InlineKeyboardMarkup(keyboard),
        )
    elif action in ("etitle", "ebody"):
        notice = await notice_for(db, actor, notice_id, today(context))
        if notice.status == "recalled":
            raise ServiceError("notice.recalled")
        part = "title" if action == "etitle" else "body"
        await save_draft(db, user.id, EDIT_FLOW, part, {"notice_id": notice_id}, now)
        await query.answer()
        key = "notice.edit.ask_title" if part == "title" else "notice.edit.ask_body"
        markup = InlineKeyboardMarkup(
            [[_button(context.plain("wizard.cancel"), Receipt("stop", notice_id))]]
        )
        await edit_text(
            query, context.t(key, title=notice.title, limit=TITLE_MAX), reply_markup=markup
        )
    elif action == "stop":
        await clear_draft(db, user.id, EDIT_FLOW)
        await query.answer()
        await edit_text(query, context.t("notice.edit.cancelled"))
    elif action in ("recall", "recall2"):
        notice = await notice_for(db, actor, notice_id, today(context))
        if notice.status == "recalled":
            raise ServiceError("notice.recalled")
        await query.answer()
        key = "notice.recall.confirm" if action == "recall" else "notice.recall.confirm_again"
        go = "recall2" if action == "recall" else "recall3"
        label = "notice.recall.yes" if action == "recall" else "notice.recall.yes_final"
        keyboard = [
            [
                _button(context.plain(label), Receipt(go, notice_id)),
                _button(context.plain("notice.recall.no"), Receipt("keep", notice_id)),
            ]
        ]
        text = context.t(key, title=notice.title)
        if action == "recall":
            await context.bot.send_message(
                user.id, text, reply_markup=InlineKeyboardMarkup(keyboard)
            )
        else:
            await edit_text(query, text, reply_markup=InlineKeyboardMarkup(keyboard))
    elif action == "recall3":
        copies = await recall_notice(db, actor, notice_id, now=now, today=today(context))
        context.deps.outbox.wake()
        await query.answer()
        await edit_text(query, context.t("notice.recall.done", count=copies))
    elif action == "keep":
        await query.answer()
        await edit_text(query, context.t("notice.recall.kept"))
    else:
        await _refuse(query, context, "stale")


async def _send_names(
    query: CallbackQuery, context: BotContext, actor: Actor, notice_id: int, org_id: int
) -> None:
    """Who in one branch acknowledged (with the time) and who has not, split to fit."""
    result = await branch_receipts(context.deps.db, actor, notice_id, org_id, today(context))
    await query.answer()
    tz = context.deps.settings.timezone
    total = len(result.acked) + len(result.missing)
    lines = [
        context.t(
            "notice.names.title", name=result.org.name, acked=len(result.acked), expected=total
        ),
        "",
        context.t("notice.names.acked", count=len(result.acked)),
    ]
    for p in result.acked:
        assert p.acked_at is not None
        when = format_datetime(context, p.acked_at, tz)
        lines.append(context.t("notice.names.acked_line", name=p.name, when=when))
    lines += ["", context.t("notice.names.missing", count=len(result.missing))]
    for p in result.missing:
        key = "notice.names.missing_line" if p.started else "notice.names.missing_unstarted"
        lines.append(context.t(key, name=p.name))
    markup = None
    if total > LONG_LIST:
        lines += ["", context.t("notice.names.long")]
        markup = InlineKeyboardMarkup(
            [[_button(context.plain("notice.receipts.export"), Receipt("xlsx", notice_id))]]
        )
    parts = split_message(lines)
    for i, part in enumerate(parts):
        await context.bot.send_message(
            query.from_user.id, part, reply_markup=markup if i == len(parts) - 1 else None
        )


def receipts_xlsx(context: BotContext, result: Receipts) -> bytes:
    """One sheet: 支部, 姓名, 状态, 确认时间, one row per person in the audience."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(context.plain("notice.export.sheet"))
    for i, width in enumerate((24, 14, 10, 18), 1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.append(
        [
            context.plain("notice.export.col.branch"),
            context.plain("notice.export.col.name"),
            context.plain("notice.export.col.status"),
            context.plain("notice.export.col.acked_at"),
        ]
    )
    tz = context.deps.settings.timezone
    acked, missing = context.plain("notice.export.acked"), context.plain("notice.export.missing")
    for branch in result.branches:
        for p in (*branch.acked, *branch.missing):
            sheet.append(
                [
                    branch.org.name,
                    p.name,
                    acked if p.acked_at else missing,
                    p.acked_at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if p.acked_at else "",
                ]
            )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def typed_edit(update: Update, context: BotContext, draft: DraftView) -> None:
    """The new title or body typed after 编辑: every copy already sent is updated."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    db = context.deps.db
    notice_id = int(draft.data["notice_id"])
    changes: dict[str, str] = {}
    if draft.step == "title":
        title = parse_short_text(message.text or "", TITLE_MAX)
        if isinstance(title, Invalid):
            key = "notice.title_empty" if title.code == "text.empty" else "notice.title_too_long"
            await message.reply_text(context.t(error_key(key, "notices")))
            return  # the draft stays: the sender types the title again
        changes["title"] = title
    else:
        body = message.text_html if message.text else ""
        if not body.strip():
            await message.reply_text(context.t("notice.error.body_empty"))
            return
        changes["body_html"] = body
    try:
        copies = await edit_notice(
            db,
            actor_of(context, user),
            notice_id,
            now=context.deps.clock.now(),
            today=today(context),
            **changes,
        )
    except ServiceError as exc:
        if exc.code in ("notice.title_too_long", "notice.title_empty", "notice.body_too_long"):
            await message.reply_text(context.t(error_key(exc.code, "notices")))
            return
        await clear_draft(db, user.id, EDIT_FLOW)
        await message.reply_text(context.t(error_key(exc.code, "notices")))
        return
    await clear_draft(db, user.id, EDIT_FLOW)
    if copies:
        context.deps.outbox.wake()
    await message.reply_text(context.t("notice.edited_done", count=copies))


def register(app: Application, router: WizardRouter) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("notice", notice_command))
    app.add_handler(CommandHandler("receipts", receipts_command))
    app.add_handler(CallbackQueryHandler(wizard_button, pattern=NoticeStep.pattern()))
    app.add_handler(CallbackQueryHandler(ack_button, pattern=Ack.pattern()))
    app.add_handler(CallbackQueryHandler(receipt_button, pattern=Receipt.pattern()))
    app.add_handler(
        MessageHandler(
            filters.ChatType.PRIVATE
            & (filters.PHOTO | filters.Document.ALL)
            & ~filters.UpdateType.EDITED,
            media_received,
        ),
        group=MEDIA_GROUP,
    )
    router.on_text(FLOW, typed_answer)
    router.on_text(EDIT_FLOW, typed_edit)
