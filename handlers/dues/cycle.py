"""Party dues, the monthly cycle in chat: 记录谈话 on an arrears flag opens a typed draft
(who talked, the day, the outcome; 保存 records it), and 确认收到 on a remittance
notification confirms receipt for the committee. Every press is re-authorized by its service."""

from __future__ import annotations

from datetime import datetime

from telegram import InlineKeyboardMarkup, Update

from domain.dues_talk import FLOW_NAME, STEPS, TalkDraft
from domain.wizard import Event, Refusal, apply
from handlers.common import today
from handlers.dues.common import presses
from handlers.press import Press
from handlers.wizard import WizardRouter, typed_draft
from services.drafts import DraftView, clear_draft, keep_draft
from services.dues_reminders import TalkTarget, member_name, save_talk, start_talk
from services.dues_remit import confirm_remittance
from ui.callbacks import button
from ui.deps import BotContext
from ui.dues_cycle import RemitConfirm, TalkAct, TalkStart, talk_preview, talk_question
from ui.errors import error_key


def _local_now(context: BotContext) -> datetime:
    return context.deps.clock.now().astimezone(context.deps.settings.timezone)


def _preview_markup(context: BotContext) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[button(context.plain("dues.cycle.talk_save"), TalkAct("save")),
          button(context.plain("wizard.cancel"), TalkAct("cancel"))]]
    )  # fmt: skip


@presses.on(TalkStart)
async def talk_start(press: Press[TalkStart], context: BotContext) -> None:
    """记录谈话: re-checked (secretary or keepers of the member's branch), then the first
    question in a new message (the flag stays as it was)."""
    target: TalkTarget = await start_talk(
        context.deps.db, press.actor, press.data.member_id, context.deps.clock.now(),
        today(context),
    )  # fmt: skip
    await press.answer()
    await context.bot.send_message(
        press.user_id, talk_question(context.deps.catalog, context.locale, "by", target.name)
    )


async def typed_talk(update: Update, context: BotContext, _view: DraftView) -> None:
    """A typed answer to the talk draft's current question."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    draft = await typed_draft(update, context, TalkDraft)
    if draft is None:
        return
    name = await member_name(context.deps.db, draft.member_id)
    result = apply(STEPS, draft, Event("text", text=message.text or ""), _local_now(context))
    if isinstance(result, Refusal):
        again = talk_question(context.deps.catalog, context.locale, draft.step, name)
        await message.reply_text(
            context.t(error_key(result.code, "dues"), **result.params) + "\n\n" + again
        )
        return
    await keep_draft(context.deps.db, user.id, result, context.deps.clock.now())
    if result.step == "ready":
        text = talk_preview(context.deps.catalog, context.locale, name, result.talked_by,
                            result.held_on, result.outcome)  # fmt: skip
        await message.reply_text(text, reply_markup=_preview_markup(context))
        return
    await message.reply_text(talk_question(context.deps.catalog, context.locale, result.step,
                                           name))  # fmt: skip


@presses.on(TalkAct, action="save")
async def talk_save(press: Press[TalkAct], context: BotContext) -> None:
    """保存: the talk recorded (once; the draft goes with it)."""
    target = await save_talk(context.deps.db, press.actor, context.deps.clock.now(),
                             today(context))  # fmt: skip
    await press.answer()
    await press.edit(context.t("dues.cycle.talk_saved", name=target.name))


@presses.on(TalkAct, action="cancel")
async def talk_cancel(press: Press[TalkAct], context: BotContext) -> None:
    """取消: the talk draft forgotten."""
    await clear_draft(context.deps.db, press.user_id, FLOW_NAME)
    await press.answer()
    await press.edit(context.t("wizard.cancelled"))


@presses.on(RemitConfirm)
async def remit_confirm(press: Press[RemitConfirm], context: BotContext) -> None:
    """确认收到: receipt confirmed by a keeper of the receiving committee."""
    _view, fresh = await confirm_remittance(
        context.deps.db, press.actor, press.data.remittance_id, context.deps.clock.now(),
        today(context),
    )  # fmt: skip
    await press.answer("dues.cycle.remit_confirmed_alert" if fresh else
                       "dues.cycle.remit_confirmed_before")  # fmt: skip
    await press.drop_buttons()


def register(router: WizardRouter) -> None:
    """The talk draft's typed answers."""
    router.on_text(FLOW_NAME, typed_talk)
