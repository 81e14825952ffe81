"""/ledger: a branch's register (台账) for a period as an XLSX, with the absence flags."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Sequence
from datetime import date, datetime
from typing import ClassVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message, Update
from telegram.ext import Application, CommandHandler

from domain.ledger_wizard import STEPS, LedgerDraft, at_branches, back_to_branches, for_branch
from domain.ledger_wizard import pick_branch as to_period
from domain.meetings_attendance import NamedPeriod, named_period
from domain.pickers import narrow
from domain.wizard import Event, Refusal, apply
from handlers.common import actor_of, is_private, today
from handlers.press import Press, Presses
from handlers.wizard import WizardRouter, typed_draft
from services.authz import Actor
from services.drafts import DraftView, clear_draft, keep_draft, open_draft
from services.errors import ServiceError
from services.ledger import (
    AbsenceFlag,
    Ledger,
    ledger,
    ledger_branch,
    ledger_branches,
)
from services.orgs import OrgView
from ui.callbacks import CallbackData
from ui.deps import BotContext
from ui.errors import error_key
from ui.i18n import Html
from ui.ledger import day_text, ledger_xlsx, period_text, safe_name
from ui.pickers import picker_rows, with_picker_text
from ui.render import split_message

FLOW = LedgerDraft.FLOW

presses = Presses("ledger")

PERIOD_BUTTONS: dict[NamedPeriod, str] = {
    NamedPeriod.THIS_MONTH: "ledger.period_button.tm",
    NamedPeriod.LAST_MONTH: "ledger.period_button.lm",
    NamedPeriod.THIS_QUARTER: "ledger.period_button.tq",
    NamedPeriod.LAST_QUARTER: "ledger.period_button.lq",
    NamedPeriod.THIS_YEAR: "ledger.period_button.ty",
    NamedPeriod.LAST_YEAR: "ledger.period_button.ly",
}


@dataclasses.dataclass(frozen=True)
class LedgerPage(CallbackData):
    """A page of the branch picker."""

    prefix: ClassVar[str] = "lgp"
    offset: int


@dataclasses.dataclass(frozen=True)
class LedgerAll(CallbackData):
    """显示全部: the branch list no longer narrowed by a typed part of a name."""

    prefix: ClassVar[str] = "lga"


@dataclasses.dataclass(frozen=True)
class LedgerBranch(CallbackData):
    """A branch picked: ask for the period."""

    prefix: ClassVar[str] = "lgb"
    org_id: int


@dataclasses.dataclass(frozen=True)
class LedgerPeriod(CallbackData):
    """A period button (a NamedPeriod code) for a branch: send the ledger."""

    prefix: ClassVar[str] = "lgr"
    org_id: int
    period: str


@dataclasses.dataclass(frozen=True)
class LedgerCancel(CallbackData):
    """取消 in the /ledger wizard."""

    prefix: ClassVar[str] = "lgx"


def _button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data.pack())


# ---- the conversation ----


async def ledger_command(update: Update, context: BotContext) -> None:
    """/ledger: pick a branch (when one may see several), then a period."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    if not is_private(update):
        await message.reply_text(context.t("common.use_private"))
        return
    branches = await ledger_branches(context.deps.db, actor_of(context, user), today(context))
    if not branches:
        await message.reply_text(context.t("ledger.denied"))
        return
    now = context.deps.clock.now()
    if len(branches) == 1:
        org = branches[0]
        await keep_draft(context.deps.db, user.id, for_branch(org.id, single=True), now)
        text, markup = _period_question(context, org, single=True)
        await message.reply_text(text, reply_markup=markup)
        return
    await keep_draft(context.deps.db, user.id, at_branches(), now)
    text, markup = _branch_page(context, branches, 0)
    await message.reply_text(text, reply_markup=markup)


def _branch_page(
    context: BotContext, branches: Sequence[OrgView], offset: int, find: str = ""
) -> tuple[str, InlineKeyboardMarkup]:
    page = narrow(branches, lambda o: o.name, offset, find)
    keyboard = picker_rows(
        context, page, label=lambda o: o.name, pick=lambda o: LedgerBranch(o.id),
        turn=LedgerPage, everything=LedgerAll(),
    )  # fmt: skip
    keyboard.append([_button(context.plain("wizard.cancel"), LedgerCancel())])
    text = with_picker_text(context, context.t("ledger.pick_branch", count=len(branches)), page)
    return text, InlineKeyboardMarkup(keyboard)


def _period_question(
    context: BotContext, org: OrgView, *, single: bool, error: str = ""
) -> tuple[str, InlineKeyboardMarkup]:
    buttons = [
        _button(context.plain(k), LedgerPeriod(org.id, p)) for p, k in PERIOD_BUTTONS.items()
    ]
    keyboard = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    nav = [] if single else [_button(context.plain("wizard.back"), LedgerPage(0))]
    keyboard.append([*nav, _button(context.plain("wizard.cancel"), LedgerCancel())])
    text = context.t("ledger.ask_period", branch=org.name)
    if error:
        text = context.t(error) + "\n\n" + text
    return text, InlineKeyboardMarkup(keyboard)


@presses.on(LedgerPage)
async def branch_page(press: Press[LedgerPage], context: BotContext) -> None:
    """Another page of branches (or back from the period question), still narrowed."""
    await _show_branches(press, context, press.data.offset, keep_find=True)


@presses.on(LedgerAll)
async def all_branches(press: Press[LedgerAll], context: BotContext) -> None:
    """显示全部: every branch again, from the first page."""
    await _show_branches(press, context, 0, keep_find=False)


async def _show_branches(
    press: Press[LedgerPage] | Press[LedgerAll], context: BotContext, offset: int, keep_find: bool
) -> None:
    branches = await ledger_branches(context.deps.db, press.actor, today(context))
    if not branches:
        await press.refuse("auth.ledger")
        return
    if not 0 <= offset < len(branches):
        await press.refuse("stale")
        return
    find = ""
    if keep_find:
        found = await open_draft(context.deps.db, press.user_id, LedgerDraft)
        find = found.find if isinstance(found, LedgerDraft) else ""
    # The list's buttons work whatever step the wizard was left at (an older message's 返回).
    draft = back_to_branches(at_branches(find), Event("page", offset), _local_now(context))
    await keep_draft(context.deps.db, press.user_id, draft, context.deps.clock.now())
    await press.answer()
    text, markup = _branch_page(context, branches, offset, find)
    await press.edit(text, markup)


@presses.on(LedgerBranch)
async def pick_branch(press: Press[LedgerBranch], context: BotContext) -> None:
    """A branch picked: re-checked, then the period question."""
    org = await ledger_branch(context.deps.db, press.actor, press.data.org_id, today(context))
    draft = to_period(at_branches(), Event("branch", org.id), _local_now(context))
    await keep_draft(context.deps.db, press.user_id, draft, context.deps.clock.now())
    await press.answer()
    text, markup = _period_question(context, org, single=False)
    await press.edit(text, markup)


@presses.on(LedgerPeriod, period=tuple(NamedPeriod))
async def pick_period(press: Press[LedgerPeriod], context: BotContext) -> None:
    """本月 / 上月 / … pressed: send the ledger of that period."""
    period = named_period(NamedPeriod(press.data.period), today(context))
    result = await _read(context, press.actor, press.data.org_id, period.start, period.end)
    await press.answer()
    span = period_text(context.deps.catalog, context.locale, result.start, result.end)
    await press.edit(context.t("ledger.sending", branch=result.org.name, range=span))
    await _deliver(context, press.user_id, result)


@presses.on(LedgerCancel)
async def cancel(press: Press[LedgerCancel], context: BotContext) -> None:
    """取消: forget the /ledger wizard."""
    await clear_draft(context.deps.db, press.user_id, FLOW)
    await press.answer()
    await press.edit(context.t("wizard.cancelled"))


async def typed_range(update: Update, context: BotContext, _view: DraftView) -> None:
    """A typed period, e.g. "2026-01-01 2026-06-30"."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    draft = await typed_draft(update, context, LedgerDraft)
    if draft is None:
        return
    if draft.step == "branch":
        await _typed_find(message, context, draft)
        return
    if draft.step != "period":
        await message.reply_text(context.t("ledger.use_buttons"))
        return
    actor = actor_of(context, user)
    try:
        org = await ledger_branch(context.deps.db, actor, draft.org_id, today(context))
    except ServiceError as exc:
        await clear_draft(context.deps.db, user.id, FLOW)
        await message.reply_text(context.t(error_key(exc.code)))
        return
    ready = apply(STEPS, draft, Event("text", text=message.text or ""), _local_now(context))
    if isinstance(ready, Refusal):
        text, markup = _period_question(
            context, org, single=draft.single, error=error_key(ready.code)
        )
        await message.reply_text(text, reply_markup=markup)
        return
    assert ready.start is not None
    assert ready.end is not None
    try:
        result = await _read(context, actor, draft.org_id, ready.start, ready.end)
    except ServiceError as exc:
        await message.reply_text(context.t(error_key(exc.code)))
        return
    await _deliver(context, user.id, result)


async def _typed_find(message: Message, context: BotContext, draft: LedgerDraft) -> None:
    """A typed part of a branch's name: the list narrowed to the names containing it."""
    user = message.from_user
    assert user is not None
    branches = await ledger_branches(context.deps.db, actor_of(context, user), today(context))
    if not branches:
        await clear_draft(context.deps.db, user.id, FLOW)
        await message.reply_text(context.t("ledger.denied"))
        return
    found = apply(STEPS, draft, Event("text", text=message.text or ""), _local_now(context))
    if isinstance(found, Refusal):
        await message.reply_text(context.t(error_key(found.code)))
        return
    await keep_draft(context.deps.db, user.id, found, context.deps.clock.now())
    text, markup = _branch_page(context, branches, 0, found.find)
    await message.reply_text(text, reply_markup=markup)


def _local_now(context: BotContext) -> datetime:
    """Now in the bot's time zone (a typed range may not start after today there)."""
    return context.deps.clock.now().astimezone(context.deps.settings.timezone)


async def _read(context: BotContext, actor: Actor, org_id: int, start: date, end: date) -> Ledger:
    """The service call: re-authorized, audited."""
    return await ledger(
        context.deps.db,
        actor,
        org_id,
        start,
        end,
        today(context),
        now=context.deps.clock.now(),
        default_tz=context.deps.settings.timezone.key,
        absence_months=context.deps.settings.schedule.absence_months,
    )


async def _deliver(context: BotContext, user_id: int, result: Ledger) -> None:
    """The spreadsheet, then the counts and the absence flags in a message."""
    await clear_draft(context.deps.db, user_id, FLOW)
    catalog, locale = context.deps.catalog, context.locale
    span = period_text(catalog, locale, result.start, result.end)
    name = context.plain(
        "ledger.filename",
        branch=safe_name(result.org.name),
        start=result.start.isoformat(),
        end=result.end.isoformat(),
    )
    await context.bot.send_document(
        user_id,
        InputFile(io.BytesIO(ledger_xlsx(catalog, locale, result)), filename=name),
        caption=context.t("ledger.caption", branch=result.org.name, range=span),
    )
    for part in split_message(summary_lines(context, result, span)):
        await context.bot.send_message(user_id, part)


def summary_lines(context: BotContext, result: Ledger, span: str) -> list[str]:
    """What the ledger says in a few lines: meetings, obligations, and who keeps missing."""
    lines = [
        context.t(
            "ledger.summary",
            branch=result.org.name,
            range=span,
            meetings=len(result.meetings),
            met=result.met,
            unmet=result.unmet,
            open=result.open,
        )
    ]
    if not result.flags:
        lines.append(context.t("ledger.no_flags", months=result.absence_months))
        return lines
    lines.append(context.t("ledger.flags_title", months=result.absence_months))
    lines += [_flag_line(context, f) for f in result.flags]
    return lines


def _flag_line(context: BotContext, flag: AbsenceFlag) -> str:
    catalog, locale = context.deps.catalog, context.locale
    leaves = context.t("ledger.flag_leaves", count=flag.leaves) if flag.leaves else ""
    last = (
        context.t("ledger.flag_last", date=day_text(catalog, locale, flag.last_attended))
        if flag.last_attended
        else context.t("ledger.flag_never")
    )
    return context.t(
        "ledger.flag",
        name=flag.name or context.plain("ledger.anonymous"),
        months=flag.months,
        leaves=Html(leaves),
        last=Html(last),
    )


def register(app: Application, router: WizardRouter) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("ledger", ledger_command))
    presses.register(app)
    router.on_text(FLOW, typed_range)
