"""/me: one's own record, corrected by oneself; the language; deleting one's data."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from domain.members_wizard import PhoneDraft
from domain.members_wizard import ask_phone as phone_question
from handlers import lang
from handlers.common import is_private, today
from handlers.members.buttons import MeAction, MeUnit, presses, roles_text
from handlers.members.pickers import Items, chooser, picked, show_new
from handlers.press import Press
from handlers.wizard import typed_draft
from services.authz import Actor
from services.drafts import DraftView, clear_draft, keep_draft
from services.errors import NotFound, ServiceError
from services.members import delete_account, profile, update_own_phone, update_own_unit
from services.orgs import units_of
from ui.deps import BotContext
from ui.errors import error_key
from ui.render import stage_label

PHONE_FLOW = PhoneDraft.FLOW


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
        roles=roles_text(context, mine.roles) or context.plain("reg.none"),
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
    await keep_draft(context.deps.db, press.user_id, phone_question(), context.deps.clock.now())
    await context.bot.send_message(press.user_id, context.t("me.ask_phone"))


@chooser("unit")
async def _units(context: BotContext, actor: Actor, key: int) -> Items:
    """修改单位's list: the units of one's own branch, read afresh on every page."""
    db = context.deps.db
    mine = await profile(db, actor.user_id, today(context))
    if mine is None:
        raise NotFound("member.not_registered")
    units = await units_of(db, mine.org.id)
    if not units:
        raise ServiceError("stale")
    return units, context.t("reg.ask_unit"), lambda u: u.name, lambda u: MeUnit(u.id)


@presses.on(MeAction, action="unit")
async def choose_unit(press: Press[MeAction], context: BotContext) -> None:
    """修改单位: the branch's units on the shared picker (paged, narrowed by a typed part of
    a name)."""
    await show_new(context, press.actor, press.user_id, "unit", 0)
    await press.answer()


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
    await picked(context, press.user_id)
    await press.answer()
    await press.edit(context.t("me.unit_changed", unit=name))


async def typed_phone(update: Update, context: BotContext, _view: DraftView) -> None:
    """The new phone number typed after 修改手机号."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert message.text is not None
    assert user is not None
    draft = await typed_draft(update, context, PhoneDraft)
    if draft is None:
        return
    try:
        phone = await update_own_phone(
            context.deps.db, user.id, message.text, context.deps.clock.now(), draft=draft
        )
    except ServiceError as exc:
        if not exc.code.startswith("input."):
            await clear_draft(context.deps.db, user.id, PHONE_FLOW)
        await message.reply_text(context.t(error_key(exc.code)))
        return
    await message.reply_text(context.t("me.phone_changed", phone=phone))
