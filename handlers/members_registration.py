"""Real-name registration: a private wizard, then the branch's approvers decide."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import replace
from typing import ClassVar

from telegram import ChatPermissions, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import Application, CommandHandler

from domain.members_registration import (
    UNIT_STEPS,
    RegistrationDraft,
    RejectDraft,
    after_stage,
    previous_step,
)
from domain.members_registration import ask_reject_reason as reject_question
from domain.orgs import STAGE_CHOICES
from domain.pickers import narrow
from domain.validation import Invalid, parse_phone, parse_real_name
from domain.wizard import Event, Refusal, apply
from handlers.common import actor_of, deep_link, is_private, send_private, today
from handlers.press import Press, Presses
from handlers.wizard import WizardRouter, typed_draft
from services.drafts import DraftView, clear_draft, keep_draft, open_draft
from services.errors import ServiceError
from services.groups import binding_of
from services.members import (
    RegistrationView,
    cancel_registration,
    check_can_decide,
    decide_registration,
    mark_gate_lifted,
    pending_registration,
    profile,
    registration_branch,
    send_pending,
    submit_registration_draft,
)
from services.orgs import units_of
from services.users import locale_of
from ui.callbacks import CallbackData
from ui.deps import BotContext
from ui.errors import error_key
from ui.members import Decide
from ui.pickers import picker_rows, with_picker_text
from ui.render import stage_label

log = logging.getLogger(__name__)

REJECT_FLOW = RejectDraft.FLOW
DEEP_LINK_PREFIX = "reg_"

presses = Presses()


@dataclasses.dataclass(frozen=True)
class Reg(CallbackData):
    """A button of the registration wizard: action and a number (stage index, unit id, the
    first unit of a page for "upg")."""

    prefix: ClassVar[str] = "reg"
    action: str
    value: int = 0


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
    context: BotContext, chat_id: int, draft: RegistrationDraft, error: str | None = None
) -> None:
    """Send the question for the draft's current step (after an error line, if any)."""
    text, markup = await _question(context, draft, error)
    await context.bot.send_message(chat_id, text, reply_markup=markup)


async def _question(
    context: BotContext, draft: RegistrationDraft, error: str | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    """The question of the draft's current step and its buttons."""
    text = context.t(error) + "\n\n" if error else ""
    step = draft.step
    keyboard: list[list[InlineKeyboardButton]]
    if step == "name":
        text += context.t("reg.ask_name", branch=draft.org_name)
        keyboard = [_nav(context, back=False)]
    elif step == "stage":
        text += context.t("reg.ask_stage")
        buttons = [
            InlineKeyboardButton(stage_label(context, s), callback_data=Reg("st", i).pack())
            for i, s in enumerate(STAGE_CHOICES)
        ]
        keyboard = [buttons[i : i + 2] for i in range(0, len(buttons), 2)] + [_nav(context)]
    elif step == "unit":
        # The shared picker: a joint branch may cover hundreds of employers.
        units = await units_of(context.deps.db, draft.org_id)
        page = narrow(units, lambda u: u.name, draft.unit_offset, draft.unit_find)
        text += with_picker_text(context, context.t("reg.ask_unit"), page)
        keyboard = picker_rows(
            context, page, label=lambda u: u.name, pick=lambda u: Reg("un", u.id),
            turn=lambda offset: Reg("upg", offset), everything=Reg("uall"),
        )  # fmt: skip
        keyboard.append(_nav(context))
    elif step == "phone":
        text += context.t("reg.ask_phone")
        keyboard = [_nav(context, skip=True)]
    else:  # confirm
        text += _summary(context, draft)
        keyboard = [
            [InlineKeyboardButton(context.plain("reg.submit"), callback_data=Reg("ok").pack())],
            [
                InlineKeyboardButton(context.plain("reg.redo"), callback_data=Reg("redo").pack()),
                InlineKeyboardButton(context.plain("wizard.cancel"), callback_data=Reg("x").pack()),
            ],
        ]
    return text, InlineKeyboardMarkup(keyboard)


def _summary(context: BotContext, draft: RegistrationDraft) -> str:
    assert draft.stage is not None
    return context.t(
        "reg.summary",
        branch=draft.org_name,
        name=draft.name,
        stage=stage_label(context, draft.stage),
        unit=draft.unit_name or context.plain("reg.none"),
        phone=draft.phone or context.plain("reg.none"),
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
    draft = RegistrationDraft(step="name", org_id=org_id, org_name=branch.name, has_units=has_units)
    await keep_draft(db, user.id, draft, context.deps.clock.now())
    pending = await pending_registration(db, user.id)
    if pending is not None:
        await message.reply_text(context.t("reg.replacing_pending", branch=pending.org_name))
    await _ask(context, message.chat_id, draft)


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


async def typed_answer(update: Update, context: BotContext, _view: DraftView) -> None:
    """A typed name or phone for the open registration."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert message.text is not None
    assert user is not None
    db, now, chat_id = context.deps.db, context.deps.clock.now(), message.chat_id
    draft = await open_draft(db, user.id, RegistrationDraft)
    if not isinstance(draft, RegistrationDraft):
        await message.reply_text(context.t("reg.need_link"))
        return
    if draft.step == "name":
        name = parse_real_name(message.text)
        if isinstance(name, Invalid):
            await _ask(context, chat_id, draft, error_key(f"input.{name.code}"))
            return
        named = replace(draft, name=name, step="stage")
        await _ask(context, chat_id, await keep_draft(db, user.id, named, now))
    elif draft.step == "phone":
        phone = parse_phone(message.text)
        if isinstance(phone, Invalid):
            await _ask(context, chat_id, draft, error_key(f"input.{phone.code}"))
            return
        done = replace(draft, phone=phone, step="confirm")
        await _ask(context, chat_id, await keep_draft(db, user.id, done, now))
    elif draft.step == "unit":
        # Part of a unit's name: the list narrowed to the units holding it.
        found = apply(UNIT_STEPS, draft, Event("text", text=message.text), now)
        if isinstance(found, Refusal):
            await message.reply_text(context.t(error_key(found.code)))
            return
        await _ask(context, chat_id, await keep_draft(db, user.id, found, now))
    else:
        await message.reply_text(context.t("reg.use_buttons"))


@presses.on(Reg, action="wd")
async def withdraw(press: Press[Reg], context: BotContext) -> None:
    """撤回申请: the pending registration is cancelled."""
    withdrawn = await cancel_registration(context.deps.db, press.user_id, context.deps.clock.now())
    context.deps.outbox.wake()  # the approvers' copies say it was withdrawn
    await press.answer()
    await press.edit(context.t("reg.withdrawn" if withdrawn else "reg.nothing_pending"))


async def _open(press: Press[Reg], context: BotContext) -> RegistrationDraft | None:
    """The person's registration wizard; None (refused as stale) when there is none."""
    draft = await open_draft(context.deps.db, press.user_id, RegistrationDraft)
    if not isinstance(draft, RegistrationDraft):
        await press.refuse("stale")
        return None
    return draft


@presses.on(Reg, action="x")
async def cancel(press: Press[Reg], context: BotContext) -> None:
    """取消: the answers are forgotten."""
    if await _open(press, context) is None:
        return
    await clear_draft(context.deps.db, press.user_id, RegistrationDraft.FLOW)
    await press.answer()
    await press.edit(context.t("reg.cancelled"))


@presses.on(Reg, action=("back", "st", "un", "skip", "redo"))
async def answer(press: Press[Reg], context: BotContext) -> None:
    """A choice, 跳过, 上一步 or 重新填写: the next question (buttons of another step are stale)."""
    draft = await _open(press, context)
    if draft is None:
        return
    moved = await _moved(context, draft, press.data.action, press.data.value)
    if moved is None:
        await press.refuse("stale")
        return
    await press.answer()
    # The answered question loses its buttons so an old press cannot jump steps.
    await press.drop_buttons()
    await keep_draft(context.deps.db, press.user_id, moved, context.deps.clock.now())
    await _ask(context, press.user_id, moved)


@presses.on(Reg, action=("upg", "uall"))
async def unit_page(press: Press[Reg], context: BotContext) -> None:
    """上一页 / 下一页 or 显示全部 on the unit question: the units read again, in place (a page
    past the end shows the last one; a forged negative one is refused)."""
    draft = await _open(press, context)
    if draft is None:
        return
    data = press.data
    if data.value < 0:
        await press.refuse("stale")
        return
    event = Event("page", data.value) if data.action == "upg" else Event("nof")
    moved = apply(UNIT_STEPS, draft, event, context.deps.clock.now())
    if isinstance(moved, Refusal):
        await press.refuse(moved.code)
        return
    await keep_draft(context.deps.db, press.user_id, moved, context.deps.clock.now())
    text, markup = await _question(context, moved)
    await press.answer()
    await press.edit(text, markup)


async def _moved(
    context: BotContext, draft: RegistrationDraft, action: str, value: int
) -> RegistrationDraft | None:
    """The draft after a pressed answer; None when the button does not fit its step."""
    step = draft.step
    if action == "back":
        previous = previous_step(draft)
        return replace(draft, step=previous) if previous is not None else None
    if action == "st" and step == "stage" and 0 <= value < len(STAGE_CHOICES):
        chosen = replace(draft, stage=STAGE_CHOICES[value])
        return replace(chosen, step=after_stage(chosen))
    if action == "un" and step == "unit":
        units = await units_of(context.deps.db, draft.org_id)
        unit = next((u for u in units if u.id == value), None)
        if unit is None:
            return None
        return replace(
            draft, unit_id=unit.id, unit_name=unit.name, unit_offset=0, unit_find="", step="phone"
        )
    if action == "skip" and step == "phone":
        return replace(draft, phone=None, step="confirm")
    if action == "redo" and step == "confirm":
        return replace(draft, step="name")
    return None


@presses.on(Reg, action="ok")
async def submit(press: Press[Reg], context: BotContext) -> None:
    """提交: filed for the approvers and the wizard ended, in one transaction."""
    draft = await _open(press, context)
    if draft is None:
        return
    if draft.step != "confirm":
        await press.refuse("stale")
        return
    await press.answer()
    try:
        submitted = await submit_registration_draft(
            context.deps.db, press.user_id, now=context.deps.clock.now(), today=today(context),
            fallback=tuple(context.deps.settings.superadmins),
        )  # fmt: skip
    except ServiceError as exc:
        if exc.code == "stale":
            raise
        await press.edit(context.t(error_key(exc.code), **exc.params))
        return
    await press.edit(context.t("reg.submitted", branch=draft.org_name))
    # Each approver's copy went into the outbox with the registration.
    context.deps.outbox.wake()
    if not submitted.approvers and not context.deps.settings.superadmins:
        log.warning("registration %s: nobody to approve it", submitted.registration.id)


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
        queued, total = await send_pending(
            context.deps.db, actor_of(context, user), context.deps.clock.now(), today(context)
        )
    except ServiceError as exc:
        await message.reply_text(context.t(error_key(exc.code)))
        return
    if not queued:
        await message.reply_text(context.t("reg.none_pending"))
        return
    await message.reply_text(context.t("reg.pending_count", count=total))
    context.deps.outbox.wake()  # the copies follow, each with its buttons


@presses.on(Decide, approve=0)
async def ask_reject_reason(press: Press[Decide], context: BotContext) -> None:
    """拒绝: check the right to decide, then ask for the reason (typed)."""
    db = context.deps.db
    reg = await check_can_decide(db, press.actor, press.data.registration_id, today(context))
    await keep_draft(db, press.user_id, reject_question(reg.id), context.deps.clock.now())
    await press.answer()
    await context.bot.send_message(press.user_id, context.t("reg.ask_reject_reason", name=reg.name))


@presses.on(Decide, approve=1)
async def approve(press: Press[Decide], context: BotContext) -> None:
    """通过: re-authorized against the database, approved, the applicant told and let in; the
    other approvers' copies are redrawn to say who approved it."""
    pressed = press.query.message
    decision = await decide_registration(
        context.deps.db, press.actor, press.data.registration_id, approve=True, reason=None,
        now=context.deps.clock.now(), today=today(context),
        pressed=(pressed.chat.id, pressed.message_id) if pressed is not None else None,
    )  # fmt: skip
    context.deps.outbox.wake()
    reg = decision.registration
    await press.answer("reg.approved_short")
    await press.edit(context.t("reg.approved_by", name=reg.name, branch=reg.org_name,
                               approver=press.query.from_user.first_name))  # fmt: skip
    await _tell_applicant(context, reg, "reg.outcome_approved")
    await _lift_gate(context, reg.user_id, decision.restricted_chats)


async def reject_reason(update: Update, context: BotContext, _view: DraftView) -> None:
    """The typed reason for a rejection: decide, then tell the applicant."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert message.text is not None
    assert user is not None
    draft = await typed_draft(update, context, RejectDraft)
    if draft is None:
        return
    try:
        decision = await decide_registration(
            context.deps.db, actor_of(context, user), draft.registration_id,
            approve=False, reason=message.text, now=context.deps.clock.now(), today=today(context),
            draft=draft,
        )  # fmt: skip
    except ServiceError as exc:
        if exc.code.startswith("input."):
            await message.reply_text(context.t(error_key(exc.code)))
            return  # the draft stays: the admin types the reason again
        await clear_draft(context.deps.db, user.id, REJECT_FLOW)
        await message.reply_text(context.t(error_key(exc.code)))
        return
    context.deps.outbox.wake()  # every copy, the decider's too, now says it was rejected
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
    presses.register(app)
    router.on_text(RegistrationDraft.FLOW, typed_answer)
    router.on_text(REJECT_FLOW, reject_reason)
