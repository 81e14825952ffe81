"""/receipts: the sender's recent notices; per notice the counts, names, a spreadsheet, a
nudge and a recall (asked twice). Every press is re-authorized by the service it calls."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from telegram import InlineKeyboardMarkup, InputFile, Update

from domain.notices import RECEIPTS_STEPS, ReceiptsFindDraft
from domain.pickers import narrow
from domain.wizard import Event, Refusal, apply
from handlers.common import actor_of, is_private, today
from handlers.notices.common import Keyboard, button, category_label, presses, short
from handlers.press import Press
from handlers.wizard import typed_draft
from services.authz import Actor
from services.drafts import DraftView, clear_draft, keep_draft, open_draft
from services.errors import ServiceError
from services.notices import (
    Receipts,
    progress,
    queue_nudges,
    recall_notice,
    receipts,
    sent_notices,
)
from services.notices_admin import (
    ReceiptSummary,
    branch_receipts,
    notice_for,
    receipt_summary,
)
from ui.deps import BotContext
from ui.errors import error_key
from ui.notices import Receipt
from ui.pickers import picker_rows, with_picker_text
from ui.render import format_datetime, split_message

BRANCH_LINES = 10  # branch lines per page on the receipts screen
RECENT = 10  # notices listed by /receipts
PROBLEMS_SHOWN = 10
LONG_LIST = 50  # more lines than this: point to the spreadsheet as well
MISSING_SHOWN = 60  # names of those who have not acknowledged on the screen itself

STATUS_KEYS: dict[str, str] = {
    "scheduled": "notice.status.scheduled",
    "sending": "notice.status.sending",
    "sent": "notice.status.sent",
    "recalled": "notice.status.recalled",
}


async def receipts_command(update: Update, context: BotContext) -> None:
    """/receipts: the latest notice's receipts with who has not acknowledged, the others one
    tap away."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    if not is_private(update):
        await message.reply_text(context.t("notice.use_private"))
        return
    actor = actor_of(context, user)
    latest = await sent_notices(context.deps.db, actor, limit=1)
    if not latest:
        await message.reply_text(context.t("notice.receipts.none"))
        return
    summary = await receipt_summary(context.deps.db, actor, latest[0].id, today(context))
    text, markup = await render_receipts(context, summary, 0, actor)
    for part, last in _parts(text):
        await message.reply_text(part, reply_markup=markup if last else None)


def _parts(text: str) -> list[tuple[str, bool]]:
    parts = split_message(text.split("\n"))
    return [(p, i == len(parts) - 1) for i, p in enumerate(parts)]


async def _recent(
    context: BotContext, actor: Actor, offset: int = 0, find: str = ""
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The sender's notices, newest first, on the shared picker: a page at a time (every one
    reachable), narrowed by a typed part of a title."""
    notices = await sent_notices(context.deps.db, actor, limit=None)
    if not notices:
        return context.t("notice.receipts.none"), None
    tz = context.deps.settings.timezone
    page = narrow(notices, lambda n: n.title, offset, find, RECENT)
    keyboard = picker_rows(
        context, page,
        label=lambda n: context.plain(
            "notice.receipts.item", title=short(n.title),
            when=format_datetime(context, n.send_at, tz),
        ),
        pick=lambda n: Receipt("open", n.id), turn=lambda off: Receipt("list", 0, off),
        everything=Receipt("all", 0), size=RECENT,
    )  # fmt: skip
    text = with_picker_text(context, context.t("notice.receipts.pick"), page, RECENT)
    return text, InlineKeyboardMarkup(keyboard)


async def _show_recent(
    press: Press[Receipt], context: BotContext, offset: int, *, keep: bool
) -> None:
    """The list of notices on the pressed message, the typed part kept for its pages (kept in
    a draft so that what is typed next narrows it)."""
    db = context.deps.db
    find = ""
    if keep:
        open_ = await open_draft(db, press.user_id, ReceiptsFindDraft)
        if isinstance(open_, ReceiptsFindDraft):
            find = open_.find
    draft = ReceiptsFindDraft(step="find", offset=max(0, offset), find=find)
    await keep_draft(db, press.user_id, draft, context.deps.clock.now())
    text, markup = await _recent(context, press.actor, max(0, offset), find)
    await press.answer()
    await press.edit(text, markup)


async def typed_find(update: Update, context: BotContext, _view: DraftView) -> None:
    """Part of a title typed on the list of notices: the list narrowed to it."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    draft = await typed_draft(update, context, ReceiptsFindDraft)
    if draft is None:
        return
    now = context.deps.clock.now()
    found = apply(RECEIPTS_STEPS, draft, Event("text", text=message.text or ""), now)
    if isinstance(found, Refusal):
        await message.reply_text(context.t(error_key(found.code)))
        return
    await keep_draft(context.deps.db, user.id, found, now)
    text, markup = await _recent(context, actor_of(context, user), 0, found.find)
    await message.reply_text(text, reply_markup=markup)


async def _missing_lines(context: BotContext, actor: Actor, summary: ReceiptSummary) -> list[str]:
    """Who has not acknowledged, branch by branch for a notice to several; a long list is cut
    with the count of the rest (导出 has everyone)."""
    notice = summary.notice
    if notice.ack_label is None or notice.status == "recalled":
        return []
    result = await receipts(context.deps.db, actor, notice.id, today(context))
    missing = sum(len(b.missing) for b in result.branches)
    if not missing:
        return ["", context.t("notice.receipts.all_acked")]
    lines = ["", context.t("notice.receipts.missing_title", count=missing)]
    shown = 0
    several = len(result.branches) > 1
    for b in result.branches:
        if not b.missing or shown >= MISSING_SHOWN:
            continue
        names = [p.name for p in b.missing[: MISSING_SHOWN - shown]]
        shown += len(names)
        joined = "、".join(names)
        if several:
            lines.append(context.t("notice.receipts.missing_branch", name=b.org.name, names=joined))
        else:
            lines.append(context.t("notice.receipts.missing_names", names=joined))
    if missing > shown:
        lines.append(context.t("notice.receipts.missing_more", count=missing - shown))
    return lines


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


async def _head_lines(context: BotContext, summary: ReceiptSummary) -> list[str]:
    """Title, when and status, acknowledgements, delivery and what could not be delivered."""
    notice = summary.notice
    tz = context.deps.settings.timezone
    delivery = await progress(context.deps.db, notice.id)
    category = category_label(context, notice.category)
    status = context.plain(STATUS_KEYS.get(notice.status, "notice.status.sending"))
    when = format_datetime(context, notice.send_at, tz)
    lines = [
        context.t("notice.header", category=category, title=notice.title),
        context.t("notice.receipts.sent_at", when=when, status=status),
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
            reason = _reason(context, p.error)
            lines.append(context.t("notice.receipts.problem", where=where, reason=reason))
        if summary.problem_total > PROBLEMS_SHOWN:
            lines.append(context.t("notice.receipts.more_problems", count=summary.problem_total))
    return lines


def _branch_page(
    context: BotContext, summary: ReceiptSummary, offset: int
) -> tuple[list[str], Keyboard]:
    """A page of branch lines with their 名单 buttons, the pager, 导出 and 催办."""
    notice, branches = summary.notice, summary.branches
    page = branches[offset : offset + BRANCH_LINES]
    lines = [""]
    if len(branches) > BRANCH_LINES:
        last = offset + len(page)
        lines.append(
            context.t("notice.receipts.page", first=offset + 1, last=last, total=len(branches))
        )
    for b in page:
        lines.append(
            context.t(
                "notice.receipts.branch_line", name=b.name, acked=b.acked, expected=b.expected
            )
        )
    names = [
        button(
            context.plain("notice.receipts.names_of", name=short(b.name)),
            Receipt("names", notice.id, b.org_id),
        )
        for b in page
    ]
    if len(branches) == 1:
        only = Receipt("names", notice.id, branches[0].org_id)
        names = [button(context.plain("notice.receipts.names"), only)]
    keyboard: Keyboard = [names[i : i + 2] for i in range(0, len(names), 2)]
    pager = []
    if offset > 0:
        back = Receipt("open", notice.id, offset - BRANCH_LINES)
        pager.append(button(context.plain("common.prev"), back))
    if offset + BRANCH_LINES < len(branches):
        ahead = Receipt("open", notice.id, offset + BRANCH_LINES)
        pager.append(button(context.plain("common.next"), ahead))
    if pager:
        keyboard.append(pager)
    row = [button(context.plain("notice.receipts.export"), Receipt("xlsx", notice.id))]
    if notice.status != "recalled":
        row.append(button(context.plain("notice.receipts.nudge"), Receipt("nudge", notice.id)))
    keyboard.append(row)
    return lines, keyboard


async def render_receipts(
    context: BotContext, summary: ReceiptSummary, offset: int, actor: Actor
) -> tuple[str, InlineKeyboardMarkup]:
    """The receipts screen: totals, delivery, who has not acknowledged, a page of branches,
    and the actions."""
    notice = summary.notice
    lines = await _head_lines(context, summary)
    lines += await _missing_lines(context, actor, summary)
    offset = max(0, min(offset, max(len(summary.branches) - 1, 0)))
    offset -= offset % BRANCH_LINES
    keyboard: Keyboard = []
    if notice.ack_label is not None and summary.branches:
        more, keyboard = _branch_page(context, summary, offset)
        lines += more
    if notice.status != "recalled":
        keyboard.append(
            [
                button(context.plain("notice.receipts.edit"), Receipt("edit", notice.id)),
                button(context.plain("notice.receipts.recall"), Receipt("recall", notice.id)),
            ]
        )
    keyboard.append(
        [
            button(context.plain("notice.receipts.refresh"), Receipt("open", notice.id, offset)),
            button(context.plain("notice.receipts.others"), Receipt("list", 0)),
        ]
    )
    return "\n".join(lines), InlineKeyboardMarkup(keyboard)


@presses.on(Receipt, action="list")
async def recent(press: Press[Receipt], context: BotContext) -> None:
    """其他通知 or another page: the list of notices, still narrowed by what was typed."""
    await _show_recent(press, context, press.data.value, keep=press.data.value > 0)


@presses.on(Receipt, action="all")
async def all_notices(press: Press[Receipt], context: BotContext) -> None:
    """显示全部: every notice again, from the first page."""
    await _show_recent(press, context, 0, keep=False)


@presses.on(Receipt, action="open")
async def open_receipts(press: Press[Receipt], context: BotContext) -> None:
    """One notice's receipts (a page of its branches); the list's typed part is let go."""
    await clear_draft(context.deps.db, press.user_id, ReceiptsFindDraft.FLOW)
    summary = await receipt_summary(
        context.deps.db, press.actor, press.data.notice_id, today(context)
    )
    text, markup = await render_receipts(context, summary, press.data.value, press.actor)
    await press.answer()
    await press.edit(text, markup)


@presses.on(Receipt, action="names")
async def names(press: Press[Receipt], context: BotContext) -> None:
    """Who in one branch acknowledged (with the time) and who has not, split to fit."""
    notice_id = press.data.notice_id
    result = await branch_receipts(
        context.deps.db, press.actor, notice_id, press.data.value, today(context)
    )
    await press.answer()
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
        when = format_datetime(context, p.acked_at, tz) if p.acked_at else ""
        lines.append(context.t("notice.names.acked_line", name=p.name, when=when))
    lines += ["", context.t("notice.names.missing", count=len(result.missing))]
    for p in result.missing:
        key = "notice.names.missing_line" if p.started else "notice.names.missing_unstarted"
        lines.append(context.t(key, name=p.name))
    markup = None
    if total > LONG_LIST:
        lines += ["", context.t("notice.names.long")]
        export = button(context.plain("notice.receipts.export"), Receipt("xlsx", notice_id))
        markup = InlineKeyboardMarkup([[export]])
    parts = split_message(lines)
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        await context.bot.send_message(press.user_id, part, reply_markup=markup if last else None)


@presses.on(Receipt, action="xlsx")
async def export(press: Press[Receipt], context: BotContext) -> None:
    """导出: the receipts as a spreadsheet."""
    notice_id = press.data.notice_id
    result = await receipts(context.deps.db, press.actor, notice_id, today(context))
    await press.answer()
    name = context.plain("notice.export.filename", id=notice_id, date=today(context).isoformat())
    caption = context.t(
        "notice.export.caption",
        title=result.notice.title,
        acked=result.acked,
        expected=result.expected,
    )
    await context.bot.send_document(
        press.user_id,
        InputFile(io.BytesIO(receipts_xlsx(context, result)), filename=name),
        caption=caption,
    )


@presses.on(Receipt, action="nudge")
async def nudge(press: Press[Receipt], context: BotContext) -> None:
    """催办: remind those who have not acknowledged."""
    private, groups = await queue_nudges(
        context.deps.db,
        press.actor,
        press.data.notice_id,
        now=context.deps.clock.now(),
        today=today(context),
    )
    if private or groups:
        context.deps.outbox.wake()
        await press.answer("notice.nudged", alert=True, private=private, groups=groups)
    else:
        await press.answer("notice.nudged_nobody", alert=True)


async def live_title(press: Press[Receipt], context: BotContext) -> str:
    """The notice's title, if the presser may still act on it (not recalled)."""
    notice = await notice_for(context.deps.db, press.actor, press.data.notice_id, today(context))
    if notice.status == "recalled":
        raise ServiceError("notice.recalled")
    return notice.title


@presses.on(Receipt, action=("recall", "recall2"))
async def recall(press: Press[Receipt], context: BotContext) -> None:
    """撤回, asked twice: a new message, then the same one edited."""
    title = await live_title(press, context)
    await press.answer()
    first = press.data.action == "recall"
    key = "notice.recall.confirm" if first else "notice.recall.confirm_again"
    label = "notice.recall.yes" if first else "notice.recall.yes_final"
    notice_id = press.data.notice_id
    keyboard = [
        [
            button(context.plain(label), Receipt("recall2" if first else "recall3", notice_id)),
            button(context.plain("notice.recall.no"), Receipt("keep", notice_id)),
        ]
    ]
    text, markup = context.t(key, title=title), InlineKeyboardMarkup(keyboard)
    if first:
        await context.bot.send_message(press.user_id, text, reply_markup=markup)
    else:
        await press.edit(text, markup)


@presses.on(Receipt, action="recall3")
async def recall_confirmed(press: Press[Receipt], context: BotContext) -> None:
    """The second yes: pending copies cancelled, sent ones deleted."""
    copies = await recall_notice(
        context.deps.db,
        press.actor,
        press.data.notice_id,
        now=context.deps.clock.now(),
        today=today(context),
    )
    context.deps.outbox.wake()
    await press.answer()
    await press.edit(context.t("notice.recall.done", count=copies))


@presses.on(Receipt, action="keep")
async def keep(press: Press[Receipt], context: BotContext) -> None:
    """不撤回."""
    await press.answer()
    await press.edit(context.t("notice.recall.kept"))


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
