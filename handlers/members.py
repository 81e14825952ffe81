"""Rosters and profiles: /members for branches, /me for oneself, member actions for admins."""

from __future__ import annotations

import dataclasses
import io
from typing import ClassVar

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.ext import Application, CommandHandler

from domain.org import BRANCH_ROLES, Role, Stage
from handlers import lang
from handlers.common import actor_of, is_private, today
from handlers.press import Press, Presses
from handlers.wizard import WizardRouter
from services.authz import Actor
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

presses = Presses()


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
        await _send_roster(context, actor_of(context, user), message.chat_id, choices[0].id)
        return
    buttons = [
        [InlineKeyboardButton(o.name[:60], callback_data=ShowRoster(o.id).pack())]
        for o in choices[:50]
    ]
    await message.reply_text(context.t("members.pick"), reply_markup=InlineKeyboardMarkup(buttons))


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


@presses.on(MemberPage)
async def member_page(press: Press[MemberPage], context: BotContext) -> None:
    """A page of member buttons for admins to pick one to act on."""
    org_id, offset = press.data.org_id, press.data.offset
    if offset < 0:
        await press.refuse("stale")
        return
    result = await roster(context.deps.db, press.actor, org_id, today(context))
    if not result.can_manage:
        await press.refuse("auth.manage_members")
        return
    await press.answer()
    entries = result.entries[offset : offset + PAGE]
    keyboard = [
        [InlineKeyboardButton(e.name[:60] or "?", callback_data=ShowMember(e.member_id).pack())]
        for e in entries
    ]
    nav = []
    if offset > 0:
        nav.append(
            InlineKeyboardButton(
                context.plain("common.prev"),
                callback_data=MemberPage(org_id, max(0, offset - PAGE)).pack(),
            )
        )
    if offset + PAGE < len(result.entries):
        nav.append(
            InlineKeyboardButton(
                context.plain("common.next"),
                callback_data=MemberPage(org_id, offset + PAGE).pack(),
            )
        )
    if nav:
        keyboard.append(nav)
    await context.bot.send_message(
        press.user_id, context.t("members.pick_member", branch=result.org.name),
        reply_markup=InlineKeyboardMarkup(keyboard),
    )  # fmt: skip


@presses.on(ShowMember)
async def show_member(press: Press[ShowMember], context: BotContext) -> None:
    """A member's card with the actions the presser may take."""
    card = await member_card(context.deps.db, press.actor, press.data.member_id, today(context))
    await press.answer()
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
        press.user_id, text, reply_markup=InlineKeyboardMarkup(rows) if rows else None
    )


@presses.on(MemberAction, action="role")
async def choose_role(press: Press[MemberAction], context: BotContext) -> None:
    """设置职务 on a member card: the branch offices as buttons."""
    member_id = press.data.member_id
    card = await member_card(context.deps.db, press.actor, member_id, today(context))
    if not card.can_grant:
        await press.refuse("auth.manage_roles")
        return
    await press.answer()
    buttons = [
        InlineKeyboardButton(role_label(context, r), callback_data=GiveRole(member_id, i).pack())
        for i, r in enumerate(BRANCH_ROLES)
    ]
    keyboard = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    await context.bot.send_message(
        press.user_id,
        context.t("members.pick_role", name=card.entry.name),
        reply_markup=InlineKeyboardMarkup(keyboard),
    )


@presses.on(MemberAction, action="left")
async def ask_left(press: Press[MemberAction], context: BotContext) -> None:
    """标记离开 on a member card: ask why (typed)."""
    member_id = press.data.member_id
    card = await member_card(context.deps.db, press.actor, member_id, today(context))
    if not card.can_manage:
        await press.refuse("auth.manage_members")
        return
    await press.answer()
    await save_draft(
        context.deps.db,
        press.user_id,
        LEFT_FLOW,
        "reason",
        {"member_id": member_id},
        context.deps.clock.now(),
    )
    await context.bot.send_message(
        press.user_id, context.t("members.ask_left_reason", name=card.entry.name)
    )


@presses.on(MemberAction, action="move")
async def choose_target(press: Press[MemberAction], context: BotContext) -> None:
    """组织关系转接 on a member card: the branches they may move to."""
    member_id, db = press.data.member_id, context.deps.db
    card = await member_card(db, press.actor, member_id, today(context))
    targets = await transfer_targets(db, press.actor, member_id, today(context))
    if not targets:
        await press.refuse("member.bad_transfer_target")
        return
    await press.answer()
    keyboard = [
        [InlineKeyboardButton(o.name[:60], callback_data=MoveMember(member_id, o.id).pack())]
        for o in targets[:50]
    ]
    await context.bot.send_message(
        press.user_id,
        context.t("members.pick_target", name=card.entry.name),
        reply_markup=InlineKeyboardMarkup(keyboard),
    )


@presses.on(GiveRole, role=tuple(range(len(BRANCH_ROLES))))
async def give_role(press: Press[GiveRole], context: BotContext) -> None:
    """Grant the picked office (asking for the party group first for group leaders)."""
    data, db = press.data, context.deps.db
    role = BRANCH_ROLES[data.role]
    card = await member_card(db, press.actor, data.member_id, today(context))
    if role == Role.GROUP_LEADER and not data.party_group_id:
        groups = await party_groups_of(db, card.org.id)
        if not groups:
            await press.refuse("role.needs_party_group")
            return
        await press.answer()
        keyboard = [
            [
                InlineKeyboardButton(
                    g.name[:60], callback_data=GiveRole(data.member_id, data.role, g.id).pack()
                )
            ]
            for g in groups
        ]
        await context.bot.send_message(
            press.user_id,
            context.t("members.pick_group"),
            reply_markup=InlineKeyboardMarkup(keyboard),
        )
        return
    granted = await grant_role(
        db, press.actor, card.org.id, role, member_id=data.member_id,
        party_group_id=data.party_group_id or None,
        now=context.deps.clock.now(), today=today(context),
    )  # fmt: skip
    await press.answer()
    await press.edit(
        context.t("members.role_granted", name=granted.holder, role=role_label(context, role))
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


@presses.on(MoveMember)
async def move(press: Press[MoveMember], context: BotContext) -> None:
    """Move a member to the picked branch (组织关系转接)."""
    await transfer_member(
        context.deps.db, press.actor, press.data.member_id, press.data.org_id,
        now=context.deps.clock.now(), today=today(context),
    )  # fmt: skip
    await press.answer()
    await press.edit(context.t("members.moved"))


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


@presses.on(MeAction, action="phone")
async def ask_phone(press: Press[MeAction], context: BotContext) -> None:
    """修改手机号: ask for the new number (typed)."""
    await press.answer()
    await save_draft(
        context.deps.db, press.user_id, PHONE_FLOW, "phone", {}, context.deps.clock.now()
    )
    await context.bot.send_message(press.user_id, context.t("me.ask_phone"))


@presses.on(MeAction, action="unit")
async def choose_unit(press: Press[MeAction], context: BotContext) -> None:
    """修改单位: the branch's units as buttons."""
    db = context.deps.db
    mine = await profile(db, press.user_id, today(context))
    units = await units_of(db, mine.org.id) if mine else []
    if not units:
        await press.refuse("stale")
        return
    await press.answer()
    keyboard = [
        [InlineKeyboardButton(u.name[:60], callback_data=MeUnit(u.id).pack())] for u in units
    ]
    await context.bot.send_message(
        press.user_id, context.t("reg.ask_unit"), reply_markup=InlineKeyboardMarkup(keyboard)
    )


@presses.on(MeAction, action="lang")
async def choose_language(press: Press[MeAction], context: BotContext) -> None:
    """语言: the language buttons."""
    await press.answer()
    await lang.offer_languages(context, press.user_id)


@presses.on(MeAction, action="del")
async def ask_delete(press: Press[MeAction], context: BotContext) -> None:
    """删除我的信息: asked once more before anything is deleted."""
    await press.answer()
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
        press.user_id, context.t("me.delete_warning"), reply_markup=confirm
    )


@presses.on(MeAction, action="delok")
async def delete(press: Press[MeAction], context: BotContext) -> None:
    """确认删除: the account's personal data goes."""
    await delete_account(context.deps.db, press.user_id, context.deps.clock.now(), today(context))
    await press.answer()
    await press.edit(context.t("me.deleted"))


@presses.on(MeAction, action="keep")
async def keep(press: Press[MeAction], context: BotContext) -> None:
    """保留: nothing deleted."""
    await press.answer()
    await press.edit(context.t("me.kept"))


@presses.on(MeUnit)
async def set_unit(press: Press[MeUnit], context: BotContext) -> None:
    """A unit picked from /me."""
    name = await update_own_unit(
        context.deps.db, press.user_id, press.data.unit_id, context.deps.clock.now()
    )
    await press.answer()
    await press.edit(context.t("me.unit_changed", unit=name))


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
    presses.register(app)
    router.on_text(PHONE_FLOW, typed_phone)
    router.on_text(LEFT_FLOW, left_reason)
