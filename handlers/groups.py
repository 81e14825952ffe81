"""Branch groups: /bind, who is in them, and the gate for people not yet approved."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any, ClassVar

from telegram import (
    Chat,
    ChatMember,
    ChatMemberAdministrator,
    ChatPermissions,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
    User,
)
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from handlers.common import actor_of, display_name, send_private, today
from handlers.members_registration import registration_link
from handlers.press import Press, Presses
from services.authz import Actor
from services.groups import (
    BindResult,
    bind_candidates,
    bind_chat,
    bind_report,
    binding_of,
    branch_parents,
    create_and_bind,
    forget_presence,
    gate_check,
    record_presence,
    record_restriction,
)
from ui.callbacks import CallbackData
from ui.deps import BotContext
from ui.render import split_message

log = logging.getLogger(__name__)

PAGE = 8

presses = Presses()

# The rights the bot needs as a group admin, and the catalog key naming each.
NEEDED_RIGHTS: dict[str, str] = {
    "can_restrict_members": "bind.right.restrict",
    "can_delete_messages": "bind.right.delete",
    "can_pin_messages": "bind.right.pin",
    "can_invite_users": "bind.right.invite",
}


@dataclasses.dataclass(frozen=True)
class Bind(CallbackData):
    """Bind this group to an organization (main=1 makes it the main group)."""

    prefix: ClassVar[str] = "bind"
    org_id: int
    main: int = 0


@dataclasses.dataclass(frozen=True)
class BindNew(CallbackData):
    """Create a branch named after this group (parent 0: first choose the parent)."""

    prefix: ClassVar[str] = "bindn"
    parent_id: int
    offset: int


@dataclasses.dataclass(frozen=True)
class BindPage(CallbackData):
    """Another page of the branches one may bind to."""

    prefix: ClassVar[str] = "bindp"
    offset: int


def _is_group(chat: Chat | None) -> bool:
    return chat is not None and chat.type in (Chat.GROUP, Chat.SUPERGROUP)


async def missing_rights(context: BotContext, chat_id: int) -> list[str]:
    """Catalog keys of the admin rights the bot lacks in a group (all of them if not admin)."""
    me = await context.bot.get_chat_member(chat_id, context.bot.id)
    if me.status == ChatMember.OWNER:
        return []
    if not isinstance(me, ChatMemberAdministrator):
        return ["bind.right.admin", *NEEDED_RIGHTS.values()]
    return [key for right, key in NEEDED_RIGHTS.items() if not getattr(me, right, False)]


async def bind_command(update: Update, context: BotContext) -> None:
    """/bind in a group: check the bot's rights, then offer the branches to bind to."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    if not _is_group(message.chat):
        await message.reply_text(context.t("bind.use_in_group"))
        return
    await _offer(context, message.chat, actor_of(context, user), offset=0)


async def _offer(
    context: BotContext, chat: Chat, actor: Actor, *, offset: int, press: Press[Any] | None = None
) -> None:
    """The branches one may bind this group to (a page of them): a new message, or the
    pressed one edited."""
    orgs, total = await bind_candidates(
        context.deps.db, actor, today(context), offset=offset, limit=PAGE
    )
    _, parents = await branch_parents(context.deps.db, actor, today(context), offset=0, limit=1)
    if total == 0 and parents == 0:
        await context.bot.send_message(chat.id, context.t("bind.not_allowed"))
        return
    missing = await missing_rights(context, chat.id)
    if missing:
        rights = "\n".join("• " + context.t(key) for key in missing)
        await context.bot.send_message(chat.id, context.t("bind.missing_rights", rights=rights))
        return
    current = await binding_of(context.deps.db, chat.id)
    lines = []
    if current is not None:
        key = "bind.current_main" if current.main else "bind.current_extra"
        lines.append(context.t(key, branch=current.org.name))
    lines.append(context.t("bind.choose"))
    if total > PAGE:
        # Which page of how many: paging reaches every branch. No typed narrowing here, as in
        # the other pickers: in a group a typed word would be everyone's chat, not an answer.
        last = offset + len(orgs)
        lines.append(context.t("picker.page", first=offset + 1, last=last, total=total))
    keyboard = [[InlineKeyboardButton(o.name[:60], callback_data=Bind(o.id).pack())] for o in orgs]
    nav = []
    if offset > 0:
        nav.append(
            InlineKeyboardButton(
                context.plain("common.prev"), callback_data=BindPage(max(0, offset - PAGE)).pack()
            )
        )
    if offset + PAGE < total:
        nav.append(
            InlineKeyboardButton(
                context.plain("common.next"), callback_data=BindPage(offset + PAGE).pack()
            )
        )
    if nav:
        keyboard.append(nav)
    if parents:
        new = InlineKeyboardButton(context.plain("bind.create"), callback_data=BindNew(0, 0).pack())
        keyboard.append([new])
    markup = InlineKeyboardMarkup(keyboard)
    if press is not None:
        await press.edit("\n".join(lines), markup)
    else:
        await context.bot.send_message(chat.id, "\n".join(lines), reply_markup=markup)


def _group(press: Press[Any]) -> Chat | None:
    """The group the button was pressed in (None in a private chat)."""
    message = press.query.message
    return message.chat if message is not None and _is_group(message.chat) else None


@presses.on(BindPage)
async def page(press: Press[BindPage], context: BotContext) -> None:
    """Show another page of branches (same permission check as /bind)."""
    message = press.query.message
    if press.data.offset < 0 or message is None:
        await press.refuse("stale")
        return
    await press.answer()
    await _offer(context, message.chat, press.actor, offset=press.data.offset, press=press)


@presses.on(Bind)
async def bind(press: Press[Bind], context: BotContext) -> None:
    """A branch picked: bind (re-authorized in the service), then report to the presser."""
    chat = _group(press)
    if chat is None:
        await press.refuse("stale")
        return
    result = await bind_chat(
        context.deps.db, press.actor, chat.id, press.data.org_id,
        make_main=bool(press.data.main), now=context.deps.clock.now(), today=today(context),
    )  # fmt: skip
    await press.answer()
    await _bound(context, press, chat, result)


@presses.on(BindNew)
async def new_branch(press: Press[BindNew], context: BotContext) -> None:
    """以本群名称新建支部: pick the parent committee (if several), create, bind as main."""
    chat, offset = _group(press), press.data.offset
    if chat is None or offset < 0:
        await press.refuse("stale")
        return
    parent_id = press.data.parent_id
    if not parent_id:
        parents, total = await branch_parents(
            context.deps.db, press.actor, today(context), offset=offset, limit=PAGE
        )
        if total == 0:
            await press.refuse("auth.manage_orgs")
            return
        if total > 1:
            await press.answer()
            keyboard = [
                [InlineKeyboardButton(o.name[:60], callback_data=BindNew(o.id, 0).pack())]
                for o in parents
            ]
            nav = []
            if offset > 0:
                back = BindNew(0, max(0, offset - PAGE)).pack()
                nav.append(InlineKeyboardButton(context.plain("common.prev"), callback_data=back))
            if offset + PAGE < total:
                more = BindNew(0, offset + PAGE).pack()
                nav.append(InlineKeyboardButton(context.plain("common.next"), callback_data=more))
            if nav:
                keyboard.append(nav)
            await press.edit(
                context.t("bind.pick_parent", name=chat.title or ""),
                InlineKeyboardMarkup(keyboard),
            )
            return
        parent_id = parents[0].id
    result = await create_and_bind(
        context.deps.db, press.actor, chat.id, parent_id=parent_id, name=chat.title or "",
        now=context.deps.clock.now(), today=today(context),
    )  # fmt: skip
    await press.answer()
    await _bound(context, press, chat, result)


async def _bound(context: BotContext, press: Press[Any], chat: Chat, result: BindResult) -> None:
    """Say what the binding did, invite registration, and report the group's people."""
    binding = result.binding
    key = "bind.done_main" if binding.main else "bind.done_extra"
    markup = None
    if not binding.main:
        markup = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        context.plain("bind.make_main"),
                        callback_data=Bind(binding.org.id, 1).pack(),
                    )
                ]
            ]
        )
    text = context.t(key, branch=binding.org.name)
    if result.previous_org is not None:
        text += "\n" + context.t("bind.moved_from", branch=result.previous_org.name)
    if chat.type == Chat.GROUP:
        text += "\n" + context.t("bind.basic_group_gate")
    await press.edit(text, markup)
    button = InlineKeyboardButton(
        context.plain("reg.button"), url=registration_link(context.bot.username, binding.org.id)
    )
    await context.bot.send_message(
        chat.id, context.t("bind.register_prompt", branch=binding.org.name),
        reply_markup=InlineKeyboardMarkup([[button]]),
    )  # fmt: skip
    await _send_report(context, press.query.from_user, chat.id, binding.org.id, binding.org.name)


async def _send_report(
    context: BotContext, user: User, chat_id: int, org_id: int, branch: str
) -> None:
    """Tell the binder privately who in the group is registered, on the roster, or unknown."""
    report = await bind_report(context.deps.db, chat_id, org_id)
    none = context.plain("reg.none")

    def bullets(names: tuple[str, ...]) -> list[str]:
        return [context.t("common.bullet", text=name or none) for name in names]

    lines = [
        context.t("bind.report_title", branch=branch, seen=report.seen),
        context.t("bind.report_registered", count=len(report.registered)),
        *bullets(report.registered),
        context.t("bind.report_unlinked", count=len(report.unlinked)),
        *bullets(report.unlinked),
        context.t("bind.report_unknown", count=len(report.unknown)),
        *bullets(report.unknown),
        context.t("bind.report_note"),
    ]
    for index, part in enumerate(split_message(lines)):
        if not await send_private(context, user.id, part):
            if index == 0:
                await context.bot.send_message(chat_id, context.t("bind.report_private"))
            return


async def member_joined(update: Update, context: BotContext) -> None:
    """Someone joined a bound group: members pass; others are muted and sent to register."""
    message = update.effective_message
    assert message is not None
    for user in message.new_chat_members or ():
        if not user.is_bot:
            await _gate(context, message.chat, user)


async def chat_member_changed(update: Update, context: BotContext) -> None:
    """A join reported as a chat_member update (when join messages are hidden)."""
    change = update.chat_member
    assert change is not None
    joined = change.new_chat_member.status in (ChatMember.MEMBER, ChatMember.RESTRICTED) and (
        change.old_chat_member.status in (ChatMember.LEFT, ChatMember.BANNED)
    )
    user = change.new_chat_member.user
    if joined and not user.is_bot:
        await _gate(context, change.chat, user)
    elif change.new_chat_member.status in (ChatMember.LEFT, ChatMember.BANNED):
        await forget_presence(context.deps.db, change.chat.id, user.id)


async def _gate(context: BotContext, chat: Chat, user: User) -> None:
    db, now = context.deps.db, context.deps.clock.now()
    await record_presence(db, chat.id, user.id, now)
    decision = await gate_check(db, chat.id, user.id)
    if decision.org_id is None or decision.allowed or decision.already_restricted:
        return
    try:
        await context.bot.restrict_chat_member(chat.id, user.id, ChatPermissions.no_permissions())
    except TelegramError as exc:
        # Usually missing rights or a basic group; the invitation below still helps.
        log.warning("gate could not restrict %s in %s: %s", user.id, chat.id, exc)
    else:
        await record_restriction(db, chat.id, user.id, decision.org_id, now)
    button = InlineKeyboardButton(
        context.plain("reg.button"), url=registration_link(context.bot.username, decision.org_id)
    )
    await context.bot.send_message(
        chat.id,
        context.t("gate.welcome", name=display_name(user.first_name, user.last_name)),
        reply_markup=InlineKeyboardMarkup([[button]]),
    )


async def member_left(update: Update, context: BotContext) -> None:
    """Someone left a group: they are no longer counted as present."""
    message = update.effective_message
    assert message is not None
    left = message.left_chat_member
    if left is not None and not left.is_bot:
        await forget_presence(context.deps.db, message.chat.id, left.id)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("bind", bind_command))
    presses.register(app)
    app.add_handler(MessageHandler(filters.StatusUpdate.NEW_CHAT_MEMBERS, member_joined))
    app.add_handler(MessageHandler(filters.StatusUpdate.LEFT_CHAT_MEMBER, member_left))
    app.add_handler(ChatMemberHandler(chat_member_changed, ChatMemberHandler.CHAT_MEMBER))
