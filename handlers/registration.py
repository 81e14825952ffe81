"""Real-name registration: a private wizard, then the branch's approvers decide."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any, ClassVar

from telegram import ChatPermissions, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from domain.org import STAGE_CHOICES, Stage
from domain.validation import Invalid, parse_phone, parse_real_name
from handlers.common import (
    actor_of,
    deep_link,
    edit_text,
    is_private,
    refuse,
    send_private,
    today,
)
from handlers.wizard import WizardRouter
from services.drafts import DraftView, clear_draft, get_draft, save_draft
from services.errors import ServiceError
from services.groups import binding_of
from services.membership import (
    RegistrationView,
    cancel_registration,
    check_can_decide,
    decide_registration,
    mark_gate_lifted,
    pending_for,
    pending_registration,
    profile,
    registration_branch,
    submit_registration,
)
from services.orgs import units_of
from services.users import locale_of
from ui.callbacks import CallbackData
from ui.deps import BotContext
from ui.errors import error_key
from ui.render import STAGE_KEYS, stage_label

log = logging.getLogger(__name__)

FLOW = "register"
REJECT_FLOW = "reject_registration"
DEEP_LINK_PREFIX = "reg_"


@dataclasses.dataclass(frozen=True)
class Reg(CallbackData):
    """A button of the registration wizard: action and a number (stage index, unit id)."""

    prefix: ClassVar[str] = "reg"
    action: str
    value: int = 0


@dataclasses.dataclass(frozen=True)
class Decide(CallbackData):
    """An approver's 通过 / 拒绝 on a registration."""

    prefix: ClassVar[str] = "appr"
    registration_id: int
    approve: int  # 1 or 0


def registration_link(bot_username: str, org_id: int) -> str:
    """The deep link that starts registration for a branch."""
    return deep_link(bot_username, f"{DEEP_LINK_PREFIX}{org_id}")


def _nav(
    context: BotContext, *, back: bool = True, skip: bool = False
) -> list[InlineKeyboardButton]:
    row = []
    if skip:
        row.append(
            InlineKeyboardButton(context.plain("wizard.skip"), callback_data=Reg("skip").pack())
        )
    if back:
        row.append(
            InlineKeyboardButton(context.plain("wizard.back"), callback_data=Reg("back").pack())
        )
    row.append(InlineKeyboardButton(context.plain("wizard.cancel"), callback_data=Reg("x").pack()))
    return row


async def _ask(
    update: Update, context: BotContext, draft: DraftView, error: str | None = None
) -> None:
    """Send the question for the draft's current step (after an error line, if any)."""
    chat = update.effective_chat
    assert chat is not None
    text = context.t(error) + "\n\n" if error else ""
    step = draft.step
    keyboard: list[list[InlineKeyboardButton]]
    if step == "name":
        text += context.t("reg.ask_name", branch=draft.data["org_name"])
        keyboard = [_nav(context, back=False)]
    elif step == "stage":
        text += context.t("reg.ask_stage")
        buttons = [
            InlineKeyboardButton(stage_label(context, s), callback_data=Reg("st", i).pack())
            for i, s in enumerate(STAGE_CHOICES)
        ]
        keyboard = [buttons[i : i + 2] for i in range(0, len(buttons), 2)] + [_nav(context)]
    elif step == "unit":
        text += context.t("reg.ask_unit")
        units = await units_of(context.deps.db, draft.data["org_id"])
        keyboard = [
            [InlineKeyboardButton(u.name[:60], callback_data=Reg("un", u.id).pack())] for u in units
        ] + [_nav(context)]
    elif step == "phone":
        text += context.t("reg.ask_phone")
        keyboard = [_nav(context, skip=True)]
    else:  # confirm
        text += _summary(context, draft.data)
        keyboard = [
            [InlineKeyboardButton(context.plain("reg.submit"), callback_data=Reg("ok").pack())],
            [
                InlineKeyboardButton(context.plain("reg.redo"), callback_data=Reg("redo").pack()),
                InlineKeyboardButton(context.plain("wizard.cancel"), callback_data=Reg("x").pack()),
            ],
        ]
    await context.bot.send_message(chat.id, text, reply_markup=InlineKeyboardMarkup(keyboard))


def _summary(context: BotContext, data: dict[str, Any]) -> str:
    phone = data.get("phone")
    return context.t(
        "reg.summary",
        branch=data["org_name"],
        name=data["name"],
        stage=stage_label(context, Stage(data["stage"])),
        unit=data.get("unit_name") or context.plain("reg.none"),
        phone=phone or context.plain("reg.none"),
    )


async def begin(update: Update, context: BotContext, org_id: int) -> None:
    """Start (or restart) registration for a branch, opened from its deep link."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    db = context.deps.db
    try:
        branch = await registration_branch(db, org_id)
    except ServiceError:
        await message.reply_text(context.t("reg.bad_link"))
        return
    mine = await profile(db, user.id, today(context))
    if mine is not None:
        await message.reply_text(context.t("reg.already_member", branch=mine.org.name))
        return
    has_units = bool(await units_of(db, org_id))
    draft = await save_draft(
        db,
        user.id,
        FLOW,
        "name",
        {"org_id": org_id, "org_name": branch.name, "has_units": has_units},
        context.deps.clock.now(),
    )
    pending = await pending_registration(db, user.id)
    if pending is not None:
        await message.reply_text(context.t("reg.replacing_pending", branch=pending.org_name))
    await _ask(update, context, draft)


async def register_command(update: Update, context: BotContext) -> None:
    """/register: in a bound group, a link to register; in private, where one stands."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    db = context.deps.db
    if not is_private(update):
        binding = await binding_of(db, message.chat.id)
        if binding is None:
            await message.reply_text(context.t("reg.group_not_bound"))
            return
        button = InlineKeyboardButton(
            context.plain("reg.button"), url=registration_link(context.bot.username, binding.org.id)
        )
        await message.reply_text(
            context.t("reg.group_link", branch=binding.org.name),
            reply_markup=InlineKeyboardMarkup([[button]]),
        )
        return
    mine = await profile(db, user.id, today(context))
    if mine is not None:
        await message.reply_text(context.t("reg.already_member", branch=mine.org.name))
        return
    pending = await pending_registration(db, user.id)
    if pending is not None:
        withdraw = InlineKeyboardButton(
            context.plain("reg.withdraw"), callback_data=Reg("wd").pack()
        )
        await message.reply_text(
            context.t("reg.pending_status", branch=pending.org_name),
            reply_markup=InlineKeyboardMarkup([[withdraw]]),
        )
        return
    await message.reply_text(context.t("reg.need_link"))


async def typed_answer(update: Update, context: BotContext, draft: DraftView) -> None:
    """A typed name or phone for the open registration."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert message.text is not None
    assert user is not None
    data = dict(draft.data)
    now = context.deps.clock.now()
    if draft.step == "name":
        name = parse_real_name(message.text)
        if isinstance(name, Invalid):
            await _ask(update, context, draft, error_key(f"input.{name.code}"))
            return
        data["name"] = name
        await _ask(
            update, context, await save_draft(context.deps.db, user.id, FLOW, "stage", data, now)
        )
    elif draft.step == "phone":
        phone = parse_phone(message.text)
        if isinstance(phone, Invalid):
            await _ask(update, context, draft, error_key(f"input.{phone.code}"))
            return
        data["phone"] = phone
        await _ask(
            update, context, await save_draft(context.deps.db, user.id, FLOW, "confirm", data, now)
        )
    else:
        await message.reply_text(context.t("reg.use_buttons"))


_PREVIOUS = {"stage": "name", "unit": "stage", "phone": "unit", "confirm": "phone"}


async def wizard_button(update: Update, context: BotContext) -> None:
    """A button of the registration wizard; presses that do not fit the current step are stale."""
    query = update.callback_query
    assert query is not None
    press = Reg.unpack(query.data)
    user = query.from_user
    db = context.deps.db
    now = context.deps.clock.now()
    if press is None:
        await refuse(query, context, "stale")
        return
    if press.action == "wd":
        withdrawn = await cancel_registration(db, user.id, now)
        await query.answer()
        await edit_text(query, context.t("reg.withdrawn" if withdrawn else "reg.nothing_pending"))
        return
    draft = await get_draft(db, user.id)
    if draft is None or draft.flow != FLOW:
        await refuse(query, context, "stale")
        return
    data = dict(draft.data)
    step = draft.step
    if press.action == "x":
        await clear_draft(db, user.id, FLOW)
        await query.answer()
        await edit_text(query, context.t("reg.cancelled"))
        return
    if press.action == "back" and step in _PREVIOUS:
        previous = _PREVIOUS[step]
        if previous == "unit" and not data.get("has_units"):
            previous = "stage"
        next_step = previous
    elif press.action == "st" and step == "stage" and 0 <= press.value < len(STAGE_CHOICES):
        data["stage"] = STAGE_CHOICES[press.value]
        next_step = "unit" if data.get("has_units") else "phone"
    elif press.action == "un" and step == "unit":
        unit = next((u for u in await units_of(db, data["org_id"]) if u.id == press.value), None)
        if unit is None:
            await refuse(query, context, "stale")
            return
        data["unit_id"], data["unit_name"] = unit.id, unit.name
        next_step = "phone"
    elif press.action == "skip" and step == "phone":
        data["phone"] = None
        next_step = "confirm"
    elif press.action == "redo" and step == "confirm":
        next_step = "name"
    elif press.action == "ok" and step == "confirm":
        await query.answer()
        await _submit(update, context, data)
        return
    else:
        await refuse(query, context, "stale")
        return
    await query.answer()
    # The answered question loses its buttons so an old press cannot jump steps.
    await query.edit_message_reply_markup(None)
    await _ask(update, context, await save_draft(db, user.id, FLOW, next_step, data, now))


async def _submit(update: Update, context: BotContext, data: dict[str, Any]) -> None:
    query = update.callback_query
    assert query is not None
    user = query.from_user
    db = context.deps.db
    try:
        submitted = await submit_registration(
            db,
            user_id=user.id,
            org_id=data["org_id"],
            name=data["name"],
            stage=Stage(data["stage"]),
            unit_id=data.get("unit_id"),
            phone=data.get("phone"),
            now=context.deps.clock.now(),
            today=today(context),
        )
    except ServiceError as exc:
        await edit_text(query, context.t(error_key(exc.code), **exc.params))
        return
    await clear_draft(db, user.id, FLOW)
    await edit_text(query, context.t("reg.submitted", branch=data["org_name"]))
    approvers = set(submitted.approvers) or set(context.deps.settings.superadmins)
    reached = 0
    for approver in sorted(approvers):
        reached += await _send_request(context, approver, submitted.registration)
    if not reached:
        log.warning("registration %s: no approver reachable", submitted.registration.id)


async def _send_request(context: BotContext, approver: int, reg: RegistrationView) -> bool:
    catalog, locale = context.deps.catalog, await _locale_of(context, approver)
    text = catalog.t(
        locale,
        "reg.request",
        branch=reg.org_name,
        name=reg.name,
        stage=catalog.plain(locale, STAGE_KEYS[reg.stage]),
        unit=reg.unit or catalog.plain(locale, "reg.none"),
        phone=reg.phone or catalog.plain(locale, "reg.none"),
    )
    if reg.match_member_id is not None:
        text += "\n" + catalog.t(locale, "reg.request_matched")
    buttons = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    catalog.plain(locale, "reg.approve"), callback_data=Decide(reg.id, 1).pack()
                ),
                InlineKeyboardButton(
                    catalog.plain(locale, "reg.reject"), callback_data=Decide(reg.id, 0).pack()
                ),
            ]
        ]
    )
    return await send_private(context, approver, text, reply_markup=buttons)


async def _locale_of(context: BotContext, user_id: int) -> str:
    return await locale_of(context.deps.db, user_id, context.deps.settings.default_locale)


async def pending_command(update: Update, context: BotContext) -> None:
    """/pending: the registrations waiting for this admin, each with its buttons."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    if not is_private(update):
        await message.reply_text(context.t("common.use_private"))
        return
    try:
        waiting, total = await pending_for(context.deps.db, actor_of(context, user), today(context))
    except ServiceError as exc:
        await message.reply_text(context.t(error_key(exc.code)))
        return
    if not waiting:
        await message.reply_text(context.t("reg.none_pending"))
        return
    await message.reply_text(context.t("reg.pending_count", count=total))
    for reg in waiting:
        await _send_request(context, user.id, reg)


async def decision_button(update: Update, context: BotContext) -> None:
    """通过 / 拒绝 pressed: re-authorized against the database before anything changes."""
    query = update.callback_query
    assert query is not None
    press = Decide.unpack(query.data)
    if press is None or press.approve not in (0, 1):
        await refuse(query, context, "stale")
        return
    actor = actor_of(context, query.from_user)
    db = context.deps.db
    if not press.approve:
        # Rejection needs a reason; check the right to decide before asking for one.
        try:
            reg = await check_can_decide(db, actor, press.registration_id, today(context))
        except ServiceError as exc:
            await refuse(query, context, exc.code)
            return
        await save_draft(
            db, query.from_user.id, REJECT_FLOW, "reason", {"registration_id": reg.id},
            context.deps.clock.now(),
        )  # fmt: skip
        await query.answer()
        await context.bot.send_message(
            query.from_user.id,
            context.t("reg.ask_reject_reason", name=reg.name),
        )
        return
    try:
        decision = await decide_registration(
            db, actor, press.registration_id, approve=True, reason=None,
            now=context.deps.clock.now(), today=today(context),
        )  # fmt: skip
    except ServiceError as exc:
        await refuse(query, context, exc.code)
        return
    reg = decision.registration
    await query.answer(context.plain("reg.approved_short"))
    await edit_text(query, context.t("reg.approved_by", name=reg.name, branch=reg.org_name,
                                     approver=query.from_user.first_name))  # fmt: skip
    await _tell_applicant(context, reg, "reg.outcome_approved")
    await _lift_gate(context, reg.user_id, decision.restricted_chats)


async def reject_reason(update: Update, context: BotContext, draft: DraftView) -> None:
    """The typed reason for a rejection: decide, then tell the applicant."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert message.text is not None
    assert user is not None
    try:
        decision = await decide_registration(
            context.deps.db, actor_of(context, user), int(draft.data["registration_id"]),
            approve=False, reason=message.text, now=context.deps.clock.now(), today=today(context),
        )  # fmt: skip
    except ServiceError as exc:
        if exc.code.startswith("input."):
            await message.reply_text(context.t(error_key(exc.code)))
            return  # the draft stays: the admin types the reason again
        await clear_draft(context.deps.db, user.id, REJECT_FLOW)
        await message.reply_text(context.t(error_key(exc.code)))
        return
    await clear_draft(context.deps.db, user.id, REJECT_FLOW)
    reg = decision.registration
    await message.reply_text(context.t("reg.rejected_done", name=reg.name))
    await _tell_applicant(context, reg, "reg.outcome_rejected")


async def _tell_applicant(context: BotContext, reg: RegistrationView, key: str) -> None:
    locale = await _locale_of(context, reg.user_id)
    text = context.deps.catalog.t(locale, key, branch=reg.org_name, reason=reg.reason or "")
    if not await send_private(context, reg.user_id, text):
        log.info("applicant %s unreachable for %s", reg.user_id, key)


async def _lift_gate(context: BotContext, user_id: int, chats: tuple[int, ...]) -> None:
    """Give an approved member their voice back in the groups where the gate muted them."""
    for chat_id in chats:
        try:
            chat = await context.bot.get_chat(chat_id)
            permissions = chat.permissions or ChatPermissions.all_permissions()
            await context.bot.restrict_chat_member(chat_id, user_id, permissions)
        except TelegramError as exc:
            log.warning("could not lift the gate for %s in %s: %s", user_id, chat_id, exc)
            continue
        await mark_gate_lifted(context.deps.db, chat_id, user_id, context.deps.clock.now())


def register(app: Application, router: WizardRouter) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("register", register_command))
    app.add_handler(CommandHandler("pending", pending_command))
    app.add_handler(CallbackQueryHandler(wizard_button, pattern=Reg.pattern()))
    app.add_handler(CallbackQueryHandler(decision_button, pattern=Decide.pattern()))
    router.on_text(FLOW, typed_answer)
    router.on_text(REJECT_FLOW, reject_reason)
