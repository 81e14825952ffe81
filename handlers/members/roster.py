"""/members: a branch's roster as messages, or as a spreadsheet (audited)."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update

from domain.orgs import Stage
from handlers.common import actor_of, is_private, today
from handlers.members.buttons import ExportRoster, MemberPage, ShowRoster, presses, roles_text
from handlers.members.pickers import picked, show_new
from handlers.press import Press
from services.authz import Actor
from services.errors import ServiceError
from services.members import Roster, RosterEntry, roster, roster_choices, roster_export
from ui.deps import BotContext
from ui.errors import error_key
from ui.render import format_datetime, split_message, stage_label


def _line(context: BotContext, index: int, entry: RosterEntry, full: bool) -> str:
    roles = roles_text(context, entry.roles)
    if not full:
        key = "members.line_basic_role" if roles else "members.line_basic"
        return context.t(key, index=index, name=entry.name, roles=roles)
    seen = (
        format_datetime(context, entry.last_seen, context.deps.settings.timezone)
        if entry.last_seen
        else context.plain("members.never")
    )
    return context.t(
        "members.line_full",
        index=index,
        name=entry.name,
        roles=f"（{roles}）" if roles else "",
        stage=stage_label(context, entry.stage),
        phone=entry.phone or context.plain("members.no_phone"),
        linked=context.plain("members.linked" if entry.linked else "members.unlinked"),
        seen=seen,
    )


def render_roster(context: BotContext, result: Roster) -> list[str]:
    """The roster as one or more messages, split between lines."""
    counts: dict[Stage, int] = {}
    for e in result.entries:
        counts[e.stage] = counts.get(e.stage, 0) + 1
    summary = " · ".join(f"{stage_label(context, s)} {n}" for s, n in counts.items())
    head = context.t("members.title", branch=result.org.name, count=len(result.entries))
    lines = [head]
    if result.full and summary:
        lines.append(context.t("members.summary", summary=summary))
    lines += [_line(context, i, e, result.full) for i, e in enumerate(result.entries, 1)]
    if not result.entries:
        lines.append(context.t("members.empty"))
    return split_message(lines)


async def members_command(update: Update, context: BotContext) -> None:
    """/members: the roster of one's branch (or a picker for those who oversee several)."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    if not is_private(update):
        await message.reply_text(context.t("common.use_private"))
        return
    choices = await roster_choices(context.deps.db, actor_of(context, user), today(context))
    if not choices:
        await message.reply_text(context.t("members.none"))
        return
    actor = actor_of(context, user)
    if len(choices) == 1:
        await _send_roster(context, actor, message.chat_id, choices[0].id)
        return
    # Every branch reachable: paged, and part of a name typed next narrows the list.
    await show_new(context, actor, message.chat_id, "roster", 0)


async def _send_roster(context: BotContext, actor: Actor, chat_id: int, org_id: int) -> None:
    try:
        result = await roster(context.deps.db, actor, org_id, today(context))
    except ServiceError as exc:
        await context.bot.send_message(chat_id, context.t(error_key(exc.code)))
        return
    parts = render_roster(context, result)
    markup = None
    if result.full:
        row = [
            InlineKeyboardButton(
                context.plain("members.export"), callback_data=ExportRoster(org_id).pack()
            )
        ]
        if result.can_manage and result.entries:
            row.append(
                InlineKeyboardButton(
                    context.plain("members.manage"), callback_data=MemberPage(org_id, 0).pack()
                )
            )
        markup = InlineKeyboardMarkup([row])
    for i, part in enumerate(parts):
        await context.bot.send_message(
            chat_id, part, reply_markup=markup if i == len(parts) - 1 else None
        )


@presses.on(ShowRoster)
async def pick_roster(press: Press[ShowRoster], context: BotContext) -> None:
    """A branch picked from /members."""
    await picked(context, press.user_id)
    await press.answer()
    await _send_roster(context, press.actor, press.user_id, press.data.org_id)


@presses.on(ExportRoster)
async def export(press: Press[ExportRoster], context: BotContext) -> None:
    """Send the roster as an XLSX file (audited: it holds personal data)."""
    result = await roster_export(
        context.deps.db, press.actor, press.data.org_id,
        now=context.deps.clock.now(), today=today(context),
    )  # fmt: skip
    await press.answer()
    data = roster_xlsx(context, result)
    name = context.plain(
        "members.export_filename", branch=result.org.name, date=today(context).isoformat()
    )
    caption = context.t("members.export_caption", branch=result.org.name, count=len(result.entries))
    await context.bot.send_document(
        press.user_id, InputFile(io.BytesIO(data), filename=name), caption=caption
    )


def roster_xlsx(context: BotContext, result: Roster) -> bytes:
    """The roster as a spreadsheet, with columns a secretary can paste elsewhere."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(context.plain("members.sheet"))
    headers = [
        context.plain("members.col.name"),
        context.plain("members.col.stage"),
        context.plain("members.col.roles"),
        context.plain("members.col.group"),
        context.plain("members.col.unit"),
        context.plain("members.col.phone"),
        context.plain("members.col.linked"),
        context.plain("members.col.seen"),
    ]
    widths = [14, 12, 20, 14, 24, 16, 10, 20]
    for i, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.append(headers)
    tz = context.deps.settings.timezone
    for e in result.entries:
        sheet.append(
            [
                e.name,
                stage_label(context, e.stage),
                roles_text(context, e.roles),
                e.party_group or "",
                e.unit or "",
                e.phone or "",
                context.plain("members.linked" if e.linked else "members.unlinked"),
                e.last_seen.astimezone(tz).strftime("%Y-%m-%d %H:%M") if e.last_seen else "",
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
