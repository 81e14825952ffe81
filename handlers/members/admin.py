"""What admins do to a member from /members: offices, 离开, 组织关系转接."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from domain.members_wizard import LeftDraft, ask_left_reason
from domain.orgs import BRANCH_ROLES, Role
from handlers.common import actor_of, today
from handlers.members.buttons import (
    GiveRole,
    MemberAction,
    MemberPage,
    MoveMember,
    ShowMember,
    presses,
    roles_text,
)
from handlers.members.pickers import Items, chooser, picked, show_new
from handlers.press import Press
from handlers.wizard import typed_draft
from services.authz import Actor
from services.drafts import DraftView, clear_draft, keep_draft
from services.errors import Denied, ServiceError
from services.members import mark_left, member_card, transfer_member
from services.orgs import party_groups_of
from services.orgs_roles import grant_role
from ui.deps import BotContext
from ui.errors import error_key
from ui.render import role_label, stage_label

LEFT_FLOW = LeftDraft.FLOW
GROUP_LEADER = BRANCH_ROLES.index(Role.GROUP_LEADER)


@presses.on(MemberPage)
async def member_page(press: Press[MemberPage], context: BotContext) -> None:
    """管理成员 under a roster: its members on the shared picker (paged, narrowed by a typed
    part of a name), to pick one to act on; re-checked in the database."""
    if press.data.offset < 0:
        await press.refuse("stale")
        return
    data = press.data
    await show_new(context, press.actor, press.user_id, "member", data.org_id, data.offset)
    await press.answer()


@presses.on(ShowMember)
async def show_member(press: Press[ShowMember], context: BotContext) -> None:
    """A member's card with the actions the presser may take."""
    card = await member_card(context.deps.db, press.actor, press.data.member_id, today(context))
    await picked(context, press.user_id)
    await press.answer()
    e = card.entry
    text = context.t(
        "members.card",
        name=e.name,
        branch=card.org.name,
        stage=stage_label(context, e.stage),
        roles=roles_text(context, e.roles) or context.plain("reg.none"),
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
    now = context.deps.clock.now()
    await keep_draft(context.deps.db, press.user_id, ask_left_reason(member_id), now)
    await context.bot.send_message(
        press.user_id, context.t("members.ask_left_reason", name=card.entry.name)
    )


@presses.on(MemberAction, action="move")
async def choose_target(press: Press[MemberAction], context: BotContext) -> None:
    """组织关系转接 on a member card: every branch they may move to, on the shared picker."""
    await show_new(context, press.actor, press.user_id, "target", press.data.member_id)
    await press.answer()


@chooser("group")
async def _party_groups(context: BotContext, actor: Actor, key: int) -> Items:
    """党小组长's list: the party groups of the member's branch, for one who may grant it,
    read afresh on every page (`key` is the member)."""
    db = context.deps.db
    card = await member_card(db, actor, key, today(context))
    if not card.can_grant:
        raise Denied("auth.manage_roles")
    groups = await party_groups_of(db, card.org.id)
    if not groups:
        raise ServiceError("role.needs_party_group")
    question = context.t("members.pick_group")
    return groups, question, lambda g: g.name, lambda g: GiveRole(key, GROUP_LEADER, g.id)


@presses.on(GiveRole, role=tuple(range(len(BRANCH_ROLES))))
async def give_role(press: Press[GiveRole], context: BotContext) -> None:
    """Grant the picked office (asking for the party group first for group leaders)."""
    data, db = press.data, context.deps.db
    role = BRANCH_ROLES[data.role]
    card = await member_card(db, press.actor, data.member_id, today(context))
    if role == Role.GROUP_LEADER and not data.party_group_id:
        # Which group first: the branch's party groups on the shared picker.
        await show_new(context, press.actor, press.user_id, "group", data.member_id)
        await press.answer()
        return
    granted = await grant_role(
        db, press.actor, card.org.id, role, member_id=data.member_id,
        party_group_id=data.party_group_id or None,
        now=context.deps.clock.now(), today=today(context),
    )  # fmt: skip
    if data.party_group_id:
        await picked(context, press.user_id)  # the group chooser's typed question ends
    await press.answer()
    await press.edit(
        context.t("members.role_granted", name=granted.holder, role=role_label(context, role))
    )


async def left_reason(update: Update, context: BotContext, _view: DraftView) -> None:
    """The typed reason a member left: take them off the roster."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert message.text is not None
    assert user is not None
    draft = await typed_draft(update, context, LeftDraft)
    if draft is None:
        return
    try:
        await mark_left(
            context.deps.db, actor_of(context, user), draft.member_id, message.text,
            now=context.deps.clock.now(), today=today(context), draft=draft,
        )  # fmt: skip
    except ServiceError as exc:
        if not exc.code.startswith("input."):
            await clear_draft(context.deps.db, user.id, LEFT_FLOW)
        await message.reply_text(context.t(error_key(exc.code)))
        return
    await message.reply_text(context.t("members.left_done"))


@presses.on(MoveMember)
async def move(press: Press[MoveMember], context: BotContext) -> None:
    """Move a member to the picked branch (组织关系转接)."""
    await transfer_member(
        context.deps.db, press.actor, press.data.member_id, press.data.org_id,
        now=context.deps.clock.now(), today=today(context),
    )  # fmt: skip
    await picked(context, press.user_id)
    await press.answer()
    await press.edit(context.t("members.moved"))
