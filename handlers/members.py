"""Rosters and profiles: /members for branches, /me for oneself, member actions for admins."""

from __future__ import annotations

import dataclasses
import io
from typing import ClassVar

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from domain.org import BRANCH_ROLES, Role, Stage
from handlers import lang
from handlers.common import actor_of, edit_text, is_private, refuse, today
from handlers.wizard import WizardRouter
from services.drafts import DraftView, clear_draft, save_draft
from services.errors import ServiceError
from services.membership import (
    Roster,
    RosterEntry,
    delete_account,
    mark_left,
    member_card,
    profile,
    roster,
    roster_choices,
    roster_export,
    transfer_member,
    transfer_targets,
    update_own_phone,
    update_own_unit,
)
from services.orgs import party_groups_of, units_of
from services.roles import grant_role
from ui.callbacks import CallbackData
from ui.deps import BotContext
from ui.errors import error_key
from ui.render import format_datetime, role_label, split_message, stage_label

PAGE = 8
PHONE_FLOW = "me_phone"
LEFT_FLOW = "member_left"


@dataclasses.dataclass(frozen=True)
class ShowRoster(CallbackData):
    prefix: ClassVar[str] = "ros"
    org_id: int


@dataclasses.dataclass(frozen=True)
class ExportRoster(CallbackData):
    prefix: ClassVar[str] = "rosx"
    org_id: int


@dataclasses.dataclass(frozen=True)
class MemberPage(CallbackData):
    prefix: ClassVar[str] = "mpg"
    org_id: int
    offset: int


@dataclasses.dataclass(frozen=True)
class ShowMember(CallbackData):
    prefix: ClassVar[str] = "mem"
    member_id: int


@dataclasses.dataclass(frozen=True)
class MemberAction(CallbackData):
    """left / role / move on a member card."""

    prefix: ClassVar[str] = "mact"
    member_id: int
    action: str


@dataclasses.dataclass(frozen=True)
class GiveRole(CallbackData):
    """Grant a branch office (index into BRANCH_ROLES), with a party group for group leaders."""

    prefix: ClassVar[str] = "mrole"
    member_id: int
    role: int
    party_group_id: int = 0


@dataclasses.dataclass(frozen=True)
class MoveMember(CallbackData):
    prefix: ClassVar[str] = "mmove"
    member_id: int
    org_id: int


@dataclasses.dataclass(frozen=True)
class MeAction(CallbackData):
    """phone / unit / lang / del / delok / keep on /me."""

    prefix: ClassVar[str] = "me"
    action: str


@dataclasses.dataclass(frozen=True)
class MeUnit(CallbackData):
    prefix: ClassVar[str] = "meu"
    unit_id: int


def _roles_text(context: BotContext, roles: tuple[Role, ...]) -> str:
    return "、".join(role_label(context, r) for r in roles)


def _line(context: BotContext, index: int, entry: RosterEntry, full: bool) -> str:
    roles = _roles_text(context, entry.roles)
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
    if len(choices) == 1:
        await _send_roster(update, context, choices[0].id)
        return
    buttons = [
        [InlineKeyboardButton(o.name[:60], callback_data=ShowRoster(o.id).pack())]
        for o in choices[:50]
    ]
    await message.reply_text(context.t("members.pick"), reply_markup=InlineKeyboardMarkup(buttons))


async def _send_roster(update: Update, context: BotContext, org_id: int) -> None:
    user, chat = update.effective_user, update.effective_chat
    assert user is not None
    assert chat is not None
    try:
        result = await roster(context.deps.db, actor_of(context, user), org_id, today(context))
    except ServiceError as exc:
        await context.bot.send_message(chat.id, context.t(error_key(exc.code)))
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
            chat.id, part, reply_markup=markup if i == len(parts) - 1 else None
        )


async def roster_button(update: Update, context: BotContext) -> None:
    """A branch picked from /members."""
    query = update.callback_query
    assert query is not None
    press = ShowRoster.unpack(query.data)
    if press is None:
        await refuse(query, context, "stale")
        return
    await query.answer()
    await _send_roster(update, context, press.org_id)


async def export_button(update: Update, context: BotContext) -> None:
    """Send the roster as an XLSX file (audited: it holds personal data)."""
    query = update.callback_query
    assert query is not None
    press = ExportRoster.unpack(query.data)
    if press is None:
        await refuse(query, context, "stale")
        return
    try:
        result = await roster_export(
            context.deps.db, actor_of(context, query.from_user), press.org_id,
            now=context.deps.clock.now(), today=today(context),
        )  # fmt: skip
    except ServiceError as exc:
        await refuse(query, context, exc.code)
        return
    await query.answer()
    data = roster_xlsx(context, result)
    name = context.plain(
        "members.export_filename", branch=result.org.name, date=today(context).isoformat()
    )
    caption = context.t("members.export_caption", branch=result.org.name, count=len(result.entries))
    await context.bot.send_document(
        query.from_user.id, InputFile(io.BytesIO(data), filename=name), caption=caption
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
                _roles_text(context, e.roles),
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


async def page_button(update: Update, context: BotContext) -> None:
    """A page of member buttons for admins to pick one to act on."""
    query = update.callback_query
    assert query is not None
    press = MemberPage.unpack(query.data)
    if press is None or press.offset < 0:
        await refuse(query, context, "stale")
        return
    try:
        result = await roster(
            context.deps.db, actor_of(context, query.from_user), press.org_id, today(context)
        )
    except ServiceError as exc:
        await refuse(query, context, exc.code)
        return
    if not result.can_manage:
        await refuse(query, context, "auth.manage_members")
        return
    await query.answer()
    entries = result.entries[press.offset : press.offset + PAGE]
    keyboard = [
        [InlineKeyboardButton(e.name[:60] or "?", callback_data=ShowMember(e.member_id).pack())]
        for e in entries
    ]
    nav = []
    if press.offset > 0:
        nav.append(
            InlineKeyboardButton(
                context.plain("common.prev"),
                callback_data=MemberPage(press.org_id, max(0, press.offset - PAGE)).pack(),
            )
        )
    if press.offset + PAGE < len(result.entries):
        nav.append(
            InlineKeyboardButton(
                context.plain("common.next"),
                callback_data=MemberPage(press.org_id, press.offset + PAGE).pack(),
            )
        )
    if nav:
        keyboard.append(nav)
    await context.bot.send_message(
        query.from_user.id, context.t("members.pick_member", branch=result.org.name),
        reply_markup=InlineKeyboardMarkup(keyboard),
    )  # fmt: skip


async def member_button(update: Update, context: BotContext) -> None:
    """A member's card with the actions the presser may take."""
    query = update.callback_query
    assert query is not None
    press = ShowMember.unpack(query.data)
    if press is None:
        await refuse(query, context, "stale")
        return
    try:
        card = await member_card(
            context.deps.db, actor_of(context, query.from_user), press.member_id, today(context)
        )
    except ServiceError as exc:
        await refuse(query, context, exc.code)
        return
    await query.answer()
    e = card.entry
    text = context.t(
        "members.card",
        name=e.name,
        branch=card.org.name,
        stage=stage_label(context, e.stage),
        roles=_roles_text(context, e.roles) or context.plain("reg.none"),
        group=e.party_group or context.plain("reg.none"),
        unit=e.unit or context.plain("reg.none"),
        phone=e.phone or context.plain("members.no_phone"),
        linked=context.plain("members.linked" if e.linked else "members.unlinked"),
    )
    rows = []
    if card.can_grant:
        rows.append(
            [
                InlineKeyboardButton(
                    context.plain("members.set_role"),
                    callback_data=MemberAction(e.member_id, "role").pack(),
                )
            ]
        )
    if card.can_manage:
        rows.append(
            [
                InlineKeyboardButton(
                    context.plain("members.mark_left"),
                    callback_data=MemberAction(e.member_id, "left").pack(),
                ),
                InlineKeyboardButton(
                    context.plain("members.transfer"),
                    callback_data=MemberAction(e.member_id, "move").pack(),
                ),
            ]
        )
    await context.bot.send_message(
        query.from_user.id, text, reply_markup=InlineKeyboardMarkup(rows) if rows else None
    )


async def action_button(update: Update, context: BotContext) -> None:
    """role / left / move pressed on a member card."""
    query = update.callback_query
    assert query is not None
    press = MemberAction.unpack(query.data)
    if press is None or press.action not in ("role", "left", "move"):
        await refuse(query, context, "stale")
        return
    actor = actor_of(context, query.from_user)
    db = context.deps.db
    try:
        card = await member_card(db, actor, press.member_id, today(context))
        if press.action == "move":
            targets = await transfer_targets(db, actor, press.member_id, today(context))
    except ServiceError as exc:
        await refuse(query, context, exc.code)
        return
    if press.action == "role":
        if not card.can_grant:
            await refuse(query, context, "auth.manage_roles")
            return
        await query.answer()
        buttons = [
            InlineKeyboardButton(
                role_label(context, r), callback_data=GiveRole(press.member_id, i).pack()
            )
            for i, r in enumerate(BRANCH_ROLES)
        ]
        keyboard = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
        await context.bot.send_message(
            query.from_user.id,
            context.t("members.pick_role", name=card.entry.name),
            reply_markup=InlineKeyboardMarkup(keyboard),
        )
    elif press.action == "left":
        if not card.can_manage:
            await refuse(query, context, "auth.manage_members")
            return
        await query.answer()
        await save_draft(
            db,
            query.from_user.id,
            LEFT_FLOW,
            "reason",
            {"member_id": press.member_id},
            context.deps.clock.now(),
        )
        await context.bot.send_message(
            query.from_user.id, context.t("members.ask_left_reason", name=card.entry.name)
        )
    else:
        if not targets:
            await refuse(query, context, "member.bad_transfer_target")
            return
        await query.answer()
        keyboard = [
            [
                InlineKeyboardButton(
                    o.name[:60], callback_data=MoveMember(press.member_id, o.id).pack()
                )
            ]
            for o in targets[:50]
        ]
        await context.bot.send_message(
            query.from_user.id,
            context.t("members.pick_target", name=card.entry.name),
            reply_markup=InlineKeyboardMarkup(keyboard),
        )


async def role_button(update: Update, context: BotContext) -> None:
    """Grant the picked office (asking for the party group first for group leaders)."""
    query = update.callback_query
    assert query is not None
    press = GiveRole.unpack(query.data)
    if press is None or not 0 <= press.role < len(BRANCH_ROLES):
        await refuse(query, context, "stale")
        return
    role = BRANCH_ROLES[press.role]
    actor = actor_of(context, query.from_user)
    db = context.deps.db
    if role == Role.GROUP_LEADER and not press.party_group_id:
        try:
            card = await member_card(db, actor, press.member_id, today(context))
        except ServiceError as exc:
            await refuse(query, context, exc.code)
            return
        groups = await party_groups_of(db, card.org.id)
        if not groups:
            await refuse(query, context, "role.needs_party_group")
            return
        await query.answer()
        keyboard = [
            [
                InlineKeyboardButton(
                    g.name[:60], callback_data=GiveRole(press.member_id, press.role, g.id).pack()
                )
            ]
            for g in groups
        ]
        await context.bot.send_message(
            query.from_user.id,
            context.t("members.pick_group"),
            reply_markup=InlineKeyboardMarkup(keyboard),
        )
        return
    try:
        card = await member_card(db, actor, press.member_id, today(context))
        granted = await grant_role(
            db, actor, card.org.id, role, member_id=press.member_id,
            party_group_id=press.party_group_id or None,
            now=context.deps.clock.now(), today=today(context),
        )  # fmt: skip
    except ServiceError as exc:
        await refuse(query, context, exc.code)
        return
    await query.answer()
    await edit_text(
        query,
        context.t("members.role_granted", name=granted.holder, role=role_label(context, role)),
    )


async def left_reason(update: Update, context: BotContext, draft: DraftView) -> None:
    """The typed reason a member left: take them off the roster."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert message.text is not None
    assert user is not None
    try:
        await mark_left(
            context.deps.db, actor_of(context, user), int(draft.data["member_id"]), message.text,
            now=context.deps.clock.now(), today=today(context),
        )  # fmt: skip
    except ServiceError as exc:
        if not exc.code.startswith("input."):
            await clear_draft(context.deps.db, user.id, LEFT_FLOW)
        await message.reply_text(context.t(error_key(exc.code)))
        return
    await clear_draft(context.deps.db, user.id, LEFT_FLOW)
    await message.reply_text(context.t("members.left_done"))


async def move_button(update: Update, context: BotContext) -> None:
    """Move a member to the picked branch (组织关系转接)."""
    query = update.callback_query
    assert query is not None
    press = MoveMember.unpack(query.data)
    if press is None:
        await refuse(query, context, "stale")
        return
    try:
        await transfer_member(
            context.deps.db, actor_of(context, query.from_user), press.member_id, press.org_id,
            now=context.deps.clock.now(), today=today(context),
        )  # fmt: skip
    except ServiceError as exc:
        await refuse(query, context, exc.code)
        return
    await query.answer()
    await edit_text(query, context.t("members.moved"))


def _profile_keyboard(context: BotContext, has_units: bool) -> InlineKeyboardMarkup:
    row = [
        InlineKeyboardButton(context.plain("me.edit_phone"), callback_data=MeAction("phone").pack())
    ]
    if has_units:
        row.append(
            InlineKeyboardButton(
                context.plain("me.edit_unit"), callback_data=MeAction("unit").pack()
            )
        )
    return InlineKeyboardMarkup(
        [
            row,
            [
                InlineKeyboardButton(
                    context.plain("me.language"), callback_data=MeAction("lang").pack()
                ),
                InlineKeyboardButton(
                    context.plain("me.delete"), callback_data=MeAction("del").pack()
                ),
            ],
        ]
    )


async def me_command(update: Update, context: BotContext) -> None:
    """/me: one's own record, with buttons to correct it."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    if not is_private(update):
        await message.reply_text(context.t("common.use_private"))
        return
    mine = await profile(context.deps.db, user.id, today(context))
    if mine is None:
        keyboard = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        context.plain("me.delete"), callback_data=MeAction("del").pack()
                    )
                ]
            ]
        )
        await message.reply_text(context.t("me.not_registered"), reply_markup=keyboard)
        return
    text = context.t(
        "me.profile",
        name=mine.name,
        branch=mine.org.name,
        stage=stage_label(context, mine.stage),
        roles=_roles_text(context, mine.roles) or context.plain("reg.none"),
        group=mine.party_group or context.plain("reg.none"),
        unit=mine.unit or context.plain("reg.none"),
        phone=mine.phone or context.plain("members.no_phone"),
    )
    has_units = bool(await units_of(context.deps.db, mine.org.id))
    await message.reply_text(text, reply_markup=_profile_keyboard(context, has_units))


async def me_button(update: Update, context: BotContext) -> None:
    """A /me button: edit phone or unit, language, or delete the account (asked twice)."""
    query = update.callback_query
    assert query is not None
    press = MeAction.unpack(query.data)
    user = query.from_user
    db = context.deps.db
    if press is None:
        await refuse(query, context, "stale")
        return
    if press.action == "phone":
        await query.answer()
        await save_draft(db, user.id, PHONE_FLOW, "phone", {}, context.deps.clock.now())
        await context.bot.send_message(user.id, context.t("me.ask_phone"))
    elif press.action == "unit":
        mine = await profile(db, user.id, today(context))
        units = await units_of(db, mine.org.id) if mine else []
        if not units:
            await refuse(query, context, "stale")
            return
        await query.answer()
        keyboard = [
            [InlineKeyboardButton(u.name[:60], callback_data=MeUnit(u.id).pack())] for u in units
        ]
        await context.bot.send_message(
            user.id, context.t("reg.ask_unit"), reply_markup=InlineKeyboardMarkup(keyboard)
        )
    elif press.action == "lang":
        await query.answer()
        await lang.ask_language(update, context)
    elif press.action == "del":
        await query.answer()
        confirm = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        context.plain("me.delete_confirm"), callback_data=MeAction("delok").pack()
                    ),
                    InlineKeyboardButton(
                        context.plain("me.delete_keep"), callback_data=MeAction("keep").pack()
                    ),
                ]
            ]
        )
        await context.bot.send_message(
            user.id, context.t("me.delete_warning"), reply_markup=confirm
        )
    elif press.action == "delok":
        await delete_account(db, user.id, context.deps.clock.now(), today(context))
        await query.answer()
        await edit_text(query, context.t("me.deleted"))
    elif press.action == "keep":
        await query.answer()
        await edit_text(query, context.t("me.kept"))
    else:
        await refuse(query, context, "stale")


async def unit_button(update: Update, context: BotContext) -> None:
    """A unit picked from /me."""
    query = update.callback_query
    assert query is not None
    press = MeUnit.unpack(query.data)
    if press is None:
        await refuse(query, context, "stale")
        return
    try:
        name = await update_own_unit(
            context.deps.db, query.from_user.id, press.unit_id, context.deps.clock.now()
        )
    except ServiceError as exc:
        await refuse(query, context, exc.code)
        return
    await query.answer()
    await edit_text(query, context.t("me.unit_changed", unit=name))


async def typed_phone(update: Update, context: BotContext, draft: DraftView) -> None:
    """The new phone number typed after 修改手机号."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert message.text is not None
    assert user is not None
    try:
        phone = await update_own_phone(
            context.deps.db, user.id, message.text, context.deps.clock.now()
        )
    except ServiceError as exc:
        if not exc.code.startswith("input."):
            await clear_draft(context.deps.db, user.id, PHONE_FLOW)
        await message.reply_text(context.t(error_key(exc.code)))
        return
    await clear_draft(context.deps.db, user.id, PHONE_FLOW)
    await message.reply_text(context.t("me.phone_changed", phone=phone))


def register(app: Application, router: WizardRouter) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("members", members_command))
    app.add_handler(CommandHandler("me", me_command))
    for data, callback in (
        (ShowRoster, roster_button),
        (ExportRoster, export_button),
        (MemberPage, page_button),
        (ShowMember, member_button),
        (MemberAction, action_button),
        (GiveRole, role_button),
        (MoveMember, move_button),
        (MeAction, me_button),
        (MeUnit, unit_button),
    ):
        app.add_handler(CallbackQueryHandler(callback, pattern=data.pattern()))
    router.on_text(PHONE_FLOW, typed_phone)
    router.on_text(LEFT_FLOW, left_reason)
