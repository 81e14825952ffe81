"""我的党费, declaring one's dues, and the keeper's 确认 / 更正 / 退回 on a declaration."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from telegram import InlineKeyboardMarkup, Update

from domain.dues import Invalid as DuesInvalid
from domain.dues_wizard import (
    DECLARE_STEPS,
    DecideDraft,
    DeclareDraft,
    begin,
    check_reason,
    parse_correction,
)
from domain.wizard import Event, Refusal, apply
from handlers.common import actor_of, today
from handlers.dues.common import MenuEntry, menu_entry, presses
from handlers.press import Press
from handlers.wizard import typed_draft
from services.drafts import DraftView, Outdated, clear_draft, keep_draft, open_draft
from services.dues_notes import Note
from services.dues_standards import (
    StandardView,
    corrected_standard,
    decide_declaration,
    declaring,
    keeper_buttons,
    my_dues,
    review_target,
    start_decision,
    submit_declaration,
)
from services.errors import ServiceError
from ui.callbacks import CallbackData, button
from ui.deps import BotContext
from ui.dues_notes import in_every_locale
from ui.dues_standards import (
    DECIDE_BUTTONS,
    DECIDE_QUESTIONS,
    DuesCategory,
    DuesDecide,
    DuesDeclare,
    DuesDeclareStep,
    DuesFrom,
    DuesMine,
    ask_base,
    ask_category,
    ask_month,
    category_buttons,
    decision_text,
    keeper_card,
    member_told,
    month_buttons,
    render_mine,
    summary,
)
from ui.errors import error_key

menu_entry(
    MenuEntry("dues.menu.mine", data=lambda _a: DuesMine(), shown=lambda a: a.member is not None,
              order=10)
)  # fmt: skip


def _local_now(context: BotContext) -> datetime:
    """Now in the bot's time zone (本月 is this month there)."""
    return context.deps.clock.now().astimezone(context.deps.settings.timezone)


def _keyboard(
    rows: Sequence[Sequence[tuple[str, CallbackData]]],
) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[button(text, data) for text, data in row] for row in rows])


# ---- 我的党费 ----


@presses.on(DuesMine)
async def mine(press: Press[DuesMine], context: BotContext) -> None:
    """我的党费: the member's own standard and standing, with 申报."""
    result = await my_dues(context.deps.db, press.actor, today(context))
    await press.answer()
    label = "dues.mine.declare" if result.current is None else "dues.mine.changed"
    markup = _keyboard([[(context.plain(label), DuesDeclare())]])
    await press.edit(render_mine(context.deps.catalog, context.locale, result), markup)


# ---- declaring ----


def _step_screen(context: BotContext, draft: DeclareDraft) -> tuple[str, InlineKeyboardMarkup]:
    catalog, locale = context.deps.catalog, context.locale
    cancel = (context.plain("wizard.cancel"), DuesDeclareStep("cancel"))
    back = (context.plain("wizard.back"), DuesDeclareStep("back"))
    if draft.step == "category":
        buttons = category_buttons(catalog, locale)
        rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
        return ask_category(catalog, locale), _keyboard([*rows, [cancel]])
    if draft.step == "base":
        return ask_base(catalog, locale, draft), _keyboard([[back, cancel]])
    if draft.step == "month":
        months = month_buttons(catalog, locale, _local_now(context))
        rows = [[m] for m in months]
        return ask_month(catalog, locale, draft), _keyboard([*rows, [back, cancel]])
    submit = (context.plain("dues.declare.submit"), DuesDeclareStep("ok"))
    return summary(catalog, locale, draft), _keyboard([[submit], [back, cancel]])


async def _open(press: Press[DuesDeclareStep] | Press[DuesCategory] | Press[DuesFrom],
                context: BotContext) -> DeclareDraft | None:  # fmt: skip
    draft = await open_draft(context.deps.db, press.user_id, DeclareDraft)
    if isinstance(draft, Outdated):
        await press.answer("wizard.outdated", alert=True)
        return None
    if draft is None:
        await press.refuse("stale")
        return None
    return draft


async def _move(
    press: Press[DuesDeclareStep] | Press[DuesCategory] | Press[DuesFrom],
    context: BotContext,
    event: Event,
) -> None:
    draft = await _open(press, context)
    if draft is None:
        return
    moved = apply(DECLARE_STEPS, draft, event, _local_now(context))
    if isinstance(moved, Refusal):
        await press.refuse(moved.code)
        return
    await keep_draft(context.deps.db, press.user_id, moved, context.deps.clock.now())
    await press.answer()
    text, markup = _step_screen(context, moved)
    await press.edit(text, markup)


@presses.on(DuesDeclare)
async def declare(press: Press[DuesDeclare], context: BotContext) -> None:
    """申报: which category."""
    member_id, org_id, name, table = await declaring(context.deps.db, press.actor)
    draft = begin(member_id, org_id, name, table)
    await keep_draft(context.deps.db, press.user_id, draft, context.deps.clock.now())
    await press.answer()
    text, markup = _step_screen(context, draft)
    await press.edit(text, markup)


@presses.on(DuesCategory)
async def pick_category(press: Press[DuesCategory], context: BotContext) -> None:
    """A category: the base question, or straight to the month."""
    await _move(press, context, Event("category", press.data.index))


@presses.on(DuesFrom)
async def pick_month(press: Press[DuesFrom], context: BotContext) -> None:
    """From which month: the summary to submit."""
    await _move(press, context, Event("month", press.data.which))


@presses.on(DuesDeclareStep, action="back")
async def back(press: Press[DuesDeclareStep], context: BotContext) -> None:
    """返回 one question."""
    await _move(press, context, Event("back"))


@presses.on(DuesDeclareStep, action="cancel")
async def cancel(press: Press[DuesDeclareStep], context: BotContext) -> None:
    """取消: forget the declaration."""
    await clear_draft(context.deps.db, press.user_id, DeclareDraft.FLOW)
    await press.answer()
    await press.edit(context.t("wizard.cancelled"))


@presses.on(DuesDeclareStep, action="ok")
async def submit(press: Press[DuesDeclareStep], context: BotContext) -> None:
    """提交: recorded for the keepers to confirm; they are told."""
    draft = await _open(press, context)
    if draft is None:
        return
    catalog = context.deps.catalog
    datas = tuple(DuesDecide(draft.member_id, draft.from_month, draft.amount_fen, a).pack()
                  for a in ("c", "e", "r"))  # fmt: skip

    def card(locale: str) -> Note:  # each keeper reads it in their own language
        labels = tuple(catalog.plain(locale, DECIDE_BUTTONS[a]) for a in ("c", "e", "r"))
        return Note(keeper_card(catalog, locale, draft.name, draft),
                    keeper_buttons((labels[0], labels[1], labels[2]),
                                   (datas[0], datas[1], datas[2])))  # fmt: skip

    result = await submit_declaration(
        context.deps.db, press.actor, draft, keeper_notes=in_every_locale(catalog, card),
        default_locale=catalog.default_locale, now=context.deps.clock.now(),
        today=today(context),
    )  # fmt: skip
    context.deps.outbox.wake()
    await press.answer()
    key = "dues.declare.sent" if result.keepers else "dues.declare.sent_no_keeper"
    await press.edit(context.t(key, branch=result.org_name))


async def typed_base(update: Update, context: BotContext, _view: DraftView) -> None:
    """A typed base (a based category): the bracket, rate and amount, then the month."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    draft = await typed_draft(update, context, DeclareDraft)
    if draft is None:
        return
    moved = apply(DECLARE_STEPS, draft, Event("text", text=message.text or ""),
                  _local_now(context))  # fmt: skip
    if isinstance(moved, Refusal):
        text, markup = _step_screen(context, draft)
        if moved.code != "stale":
            text = context.t(error_key(moved.code)) + "\n\n" + text
        await message.reply_text(text, reply_markup=markup)
        return
    await keep_draft(context.deps.db, user.id, moved, context.deps.clock.now())
    text, markup = _step_screen(context, moved)
    await message.reply_text(text, reply_markup=markup)


# ---- the keeper decides ----


def _told(
    context: BotContext, view: StandardView, *, corrected: bool, reason: str | None
) -> dict[str, str]:
    """What the member is told, in every language (they read their own)."""
    catalog = context.deps.catalog
    return in_every_locale(
        catalog,
        lambda locale: member_told(catalog, locale, view, corrected=corrected, reason=reason),
    )


@presses.on(DuesDecide, action="c")
async def confirm(press: Press[DuesDecide], context: BotContext) -> None:
    """确认: the declared standard applies; the member is told."""
    data = press.data
    _name, view = await review_target(context.deps.db, press.actor, data.member_id, data.month,
                                      data.amount, today(context))  # fmt: skip
    decision = await decide_declaration(
        context.deps.db, press.actor, member_id=data.member_id, month=data.month,
        declared_fen=data.amount, confirm=True,
        member_notes=_told(context, view, corrected=False, reason=None),
        default_locale=context.deps.catalog.default_locale, now=context.deps.clock.now(),
        today=today(context),
    )  # fmt: skip
    context.deps.outbox.wake()
    await press.answer()
    await press.edit(decision_text(context.deps.catalog, context.locale, decision))


@presses.on(DuesDecide, action=("e", "r"))
async def ask_decision(press: Press[DuesDecide], context: BotContext) -> None:
    """更正 / 退回: the keeper types the right amount (or base), or the reason."""
    data = press.data
    step = "amount" if data.action == "e" else "reason"
    draft = DecideDraft(step=step, member_id=data.member_id, month=data.month,
                        declared_fen=data.amount)  # fmt: skip
    name, _view = await start_decision(context.deps.db, press.actor, draft, today(context),
                                       context.deps.clock.now())  # fmt: skip
    await press.answer()
    await press.edit_markup(None)
    await context.bot.send_message(press.user_id, context.t(DECIDE_QUESTIONS[step], name=name))


async def typed_decision(update: Update, context: BotContext, _view: DraftView) -> None:
    """The keeper's corrected amount (or base), or the reason for sending it back."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    draft = await typed_draft(update, context, DecideDraft)
    if draft is None:
        return
    actor, text = actor_of(context, user), message.text or ""
    try:
        if draft.step == "amount":
            correction = parse_correction(text)
            if isinstance(correction, DuesInvalid):
                raise ServiceError(correction.code)
            view = await corrected_standard(context.deps.db, actor, draft, correction,
                                            today(context))  # fmt: skip
            decision = await decide_declaration(
                context.deps.db, actor, member_id=draft.member_id, month=draft.month,
                declared_fen=draft.declared_fen, confirm=True, corrected=view, draft=draft,
                member_notes=_told(context, view, corrected=True, reason=None),
                default_locale=context.deps.catalog.default_locale,
                now=context.deps.clock.now(), today=today(context),
            )  # fmt: skip
        else:
            reason = check_reason(text)
            if isinstance(reason, DuesInvalid):
                raise ServiceError(reason.code)
            _name, view = await review_target(
                context.deps.db,
                actor,
                draft.member_id,
                draft.month,
                draft.declared_fen,
                today(context),
            )
            decision = await decide_declaration(
                context.deps.db, actor, member_id=draft.member_id, month=draft.month,
                declared_fen=draft.declared_fen, confirm=False, reason=reason, draft=draft,
                member_notes=_told(context, view, corrected=False, reason=reason),
                default_locale=context.deps.catalog.default_locale,
                now=context.deps.clock.now(), today=today(context),
            )  # fmt: skip
    except ServiceError as exc:
        await message.reply_text(context.t(error_key(exc.code, presses.feature), **exc.params))
        return
    context.deps.outbox.wake()
    await message.reply_text(decision_text(context.deps.catalog, context.locale, decision))
