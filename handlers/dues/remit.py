"""上缴: the branch keeper's 上缴党费 (period, amount, day, receipt photo, 确认上缴) and the
committee's 上缴情况 (branches by page, totals, find by name, 确认收到, the workbook). Every
press is re-authorized by its service."""

from __future__ import annotations

import asyncio
from datetime import datetime

from telegram import Update

from domain.dues import Invalid, yuan
from domain.dues_remit import FindDraft, RemitDraft, parse_query
from domain.wizard import Event
from handlers.common import actor_of, today
from handlers.dues.common import MEDIA_STEPS, MenuEntry, menu_entry, presses
from handlers.dues.pickers import Chooser, chooser, show
from handlers.press import Press
from handlers.wizard import WizardRouter, typed_draft
from services.authz import Actor
from services.drafts import DraftView, clear_draft, keep_draft, open_draft
from services.dues import dues_access
from services.dues_remit import (
    branch_remittances,
    confirm_remittance,
    finish_remittance,
    open_remit,
    queue_remits_file,
    remit_board,
    remit_committees,
    remit_step,
    remittance_of,
    start_remit,
)
from services.errors import ServiceError
from ui.deps import BotContext
from ui.dues_remit import (
    BoardAct,
    BoardAt,
    RemitProof,
    RemitStep,
    board_caption,
    board_filename,
    board_screen,
    board_xlsx,
    done_text,
    periods_screen,
    remit_notes,
    remit_screen,
)
from ui.errors import error_key

menu_entry(
    MenuEntry(
        "dues.remit.menu",
        data=lambda a: RemitStep("open", a.keeps[0].id if len(a.keeps) == 1 else 0),
        shown=lambda a: bool(a.keeps),
        order=40,
    )
)
menu_entry(
    MenuEntry(
        "dues.board.menu",
        data=lambda a: BoardAt(0, 0, 0, 0),
        shown=lambda a: bool(a.totals),
        order=65,
    )
)


def _local_now(context: BotContext) -> datetime:
    return context.deps.clock.now().astimezone(context.deps.settings.timezone)


# ---- the keeper's 上缴党费 ----


async def _show(press: Press[RemitStep], context: BotContext, draft: RemitDraft) -> None:
    text, markup = remit_screen(context.deps.catalog, context.locale, draft, today(context))
    await press.edit(text, markup)


@chooser("remit")
async def _remit_branches(context: BotContext, actor: Actor, key: int) -> Chooser:
    """上缴党费 for a keeper of several branches: every one, paged and found by name."""
    access = await dues_access(context.deps.db, actor, today(context))
    if not access.keeps:
        raise ServiceError("auth.keep_dues")
    question = context.t("dues.remit.pick_branch")
    return Chooser(access.keeps, question, lambda o: o.name, lambda o: RemitStep("open", o.id))


@chooser("board")
async def _board_committees(context: BotContext, actor: Actor, key: int) -> Chooser:
    """上缴情况 for someone who sees several committees: every one, paged and found by name."""
    committees = await remit_committees(context.deps.db, actor, today(context))
    if not committees:
        raise ServiceError("auth.denied")
    question = context.t("dues.board.pick_committee")
    return Chooser(committees, question, lambda c: c[1], lambda c: BoardAt(c[0], 0, 0, 0))


@presses.on(RemitStep, action="open")
async def open_remit_screen(press: Press[RemitStep], context: BotContext) -> None:
    """上缴党费 from /dues: the period question (first the branch, when there are several)."""
    if press.data.org_id == 0:
        await show(press, context, "remit", 0)
        return
    draft = await start_remit(context.deps.db, press.actor, press.data.org_id,
                              _local_now(context), today(context))  # fmt: skip
    await _show(press, context, draft)


@presses.on(RemitStep, action=("pick", "go", "ok", "today", "yesterday", "skip", "back", "redo"))
async def remit_press(press: Press[RemitStep], context: BotContext) -> None:
    """A preset period, a step forward or back."""
    event = Event(press.data.action, text=press.data.code or None)
    draft = await remit_step(context.deps.db, press.actor, event, _local_now(context),
                             today(context))  # fmt: skip
    await _show(press, context, draft)


@presses.on(RemitStep, action="cancel")
async def remit_cancel(press: Press[RemitStep], context: BotContext) -> None:
    """取消: nothing recorded."""
    await clear_draft(context.deps.db, press.user_id, RemitDraft.FLOW)
    await press.edit(context.t("dues.remit.cancelled"))


@presses.on(RemitStep, action="send")
async def remit_send(press: Press[RemitStep], context: BotContext) -> None:
    """确认上缴: recorded once (the draft goes with it); the committee's keepers are told."""
    db = context.deps.db
    draft = await open_remit(db, press.actor)
    if draft is None:
        raise ServiceError("stale")
    view = await finish_remittance(
        db, press.actor, draft, texts=remit_notes(context.deps.catalog, draft),
        default_locale=context.deps.catalog.default_locale, now=context.deps.clock.now(),
        today=today(context),
    )  # fmt: skip
    context.deps.outbox.wake()
    past = await branch_remittances(db, press.actor, view.org_id, today(context))
    await press.edit(done_text(context.deps.catalog, context.locale, view, past))


async def _reply_step(update: Update, context: BotContext, event: Event) -> None:
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    try:
        moved = await remit_step(context.deps.db, actor_of(context, user), event,
                                 _local_now(context), today(context))  # fmt: skip
    except ServiceError as exc:
        await message.reply_text(context.t(error_key(exc.code, "dues"), **exc.params))
        return
    text, markup = remit_screen(context.deps.catalog, context.locale, moved, today(context))
    await message.reply_text(text, reply_markup=markup)


async def typed_remit(update: Update, context: BotContext, _view: DraftView) -> None:
    """A typed period, amount or day."""
    message = update.effective_message
    assert message is not None
    draft = await typed_draft(update, context, RemitDraft)
    if draft is None:
        return
    if draft.step in ("proof", "review"):
        await message.reply_text(context.t("dues.remit.use_buttons"))
        return
    await _reply_step(update, context, Event("text", text=(message.text or "")[:200]))


async def proof_received(update: Update, context: BotContext) -> None:
    """A photo of the receipt (a file sent as a document is taken too)."""
    message = update.effective_message
    assert message is not None
    draft = await typed_draft(update, context, RemitDraft)
    if draft is None:
        return
    if draft.step != "proof":
        await message.reply_text(context.t("dues.remit.use_buttons"))
        return
    file_id = message.photo[-1].file_id if message.photo else None
    if file_id is None and message.document is not None:
        file_id = message.document.file_id
    await _reply_step(update, context, Event("photo", text=file_id or ""))


@presses.on(RemitProof)
async def see_proof(press: Press[RemitProof], context: BotContext) -> None:
    """看凭证: the receipt photo, for the branch's keepers and those who see the committee."""
    view = await remittance_of(context.deps.db, press.actor, press.data.remittance_id,
                               today(context))  # fmt: skip
    if view.proof_file_id is None:
        raise ServiceError("not_found")
    await press.answer()
    await context.bot.send_photo(
        press.user_id, view.proof_file_id,
        caption=context.plain("dues.remit.proof_caption", branch=view.branch,
                              amount=yuan(view.amount_fen)),
    )  # fmt: skip


# ---- the committee's 上缴情况 ----


async def _query(context: BotContext, actor: Actor, data: BoardAt | BoardAct) -> str:
    """The typed part of a name the board is narrowed to (when the press says so)."""
    if not data.filtered:
        return ""
    draft = await open_draft(context.deps.db, actor.user_id, FindDraft)
    if not isinstance(draft, FindDraft):
        return ""
    same = (draft.committee_id, draft.first, draft.last) == (data.committee_id, data.first,
                                                            data.last)  # fmt: skip
    return draft.query if same else ""


@presses.on(BoardAt)
async def open_board(press: Press[BoardAt], context: BotContext) -> None:
    """上缴情况: the committee, the period, then a page of branches."""
    data, db, day = press.data, context.deps.db, today(context)
    catalog, locale = context.deps.catalog, context.locale
    if data.committee_id == 0:
        committees = await remit_committees(db, press.actor, day)
        if not committees:
            await press.edit(context.t("dues.board.no_committee"))
            return
        if len(committees) > 1:
            await show(press, context, "board", 0)
            return
        data = BoardAt(committees[0][0], 0, 0, 0)
    if data.first == 0:
        committees = await remit_committees(db, press.actor, day)
        name = dict(committees).get(data.committee_id)
        if name is None:
            raise ServiceError("dues.board.denied")
        text, markup = periods_screen(catalog, locale, data.committee_id, name, day)
        await press.edit(text, markup)
        return
    board, _lines = await remit_board(
        db, press.actor, data.committee_id, data.first, data.last, page=data.page,
        query=await _query(context, press.actor, data), today=day,
    )  # fmt: skip
    text, markup = board_screen(catalog, locale, board)
    await press.edit(text, markup)


@presses.on(BoardAct, action="ok")
async def board_confirm(press: Press[BoardAct], context: BotContext) -> None:
    """确认收到 from the board: confirmed by a keeper of the committee; the page again."""
    data, db, day = press.data, context.deps.db, today(context)
    _view, fresh = await confirm_remittance(db, press.actor, data.remittance_id,
                                            context.deps.clock.now(), day)  # fmt: skip
    await press.answer("dues.cycle.remit_confirmed_alert" if fresh else
                       "dues.cycle.remit_confirmed_before")  # fmt: skip
    board, _lines = await remit_board(
        db, press.actor, data.committee_id, data.first, data.last, page=0,
        query=await _query(context, press.actor, data), today=day,
    )  # fmt: skip
    text, markup = board_screen(context.deps.catalog, context.locale, board)
    await press.edit(text, markup)


@presses.on(BoardAct, action="find")
async def board_find(press: Press[BoardAct], context: BotContext) -> None:
    """按名称查找: asks for a part of a branch's name."""
    data = press.data
    draft = FindDraft(step="ask", committee_id=data.committee_id, first=data.first,
                      last=data.last)  # fmt: skip
    await keep_draft(context.deps.db, press.user_id, draft, context.deps.clock.now())
    await press.answer()
    await context.bot.send_message(press.user_id, context.t("dues.board.ask_query"))


async def typed_query(update: Update, context: BotContext, _view: DraftView) -> None:
    """The typed part of a name: the first page of the branches that hold it."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    draft = await typed_draft(update, context, FindDraft)
    if draft is None:
        return
    query = parse_query((message.text or "")[:200])
    if isinstance(query, Invalid):
        await message.reply_text(context.t(error_key(query.code, "dues")))
        return
    try:
        board, _lines = await remit_board(
            context.deps.db, actor_of(context, user), draft.committee_id, draft.first,
            draft.last, page=0, query=query, today=today(context),
        )  # fmt: skip
    except ServiceError as exc:
        await message.reply_text(context.t(error_key(exc.code, "dues")))
        return
    shown = FindDraft(step="shown", committee_id=draft.committee_id, first=draft.first,
                      last=draft.last, query=query)  # fmt: skip
    await keep_draft(context.deps.db, user.id, shown, context.deps.clock.now())
    text, markup = board_screen(context.deps.catalog, context.locale, board)
    await message.reply_text(text, reply_markup=markup)


@presses.on(BoardAct, action="xlsx")
async def board_file(press: Press[BoardAct], context: BotContext) -> None:
    """导出表格: the whole (narrowed) table as a workbook, sent through the outbox (audited)."""
    data, db, day = press.data, context.deps.db, today(context)
    catalog, locale = context.deps.catalog, context.locale
    board, lines = await remit_board(
        db, press.actor, data.committee_id, data.first, data.last, page=0,
        query=await _query(context, press.actor, data), today=day,
    )  # fmt: skip
    content = await asyncio.to_thread(board_xlsx, catalog, locale, board, lines)
    await queue_remits_file(
        db, press.actor, data.committee_id, first=data.first, last=data.last,
        filename=board_filename(catalog, locale, board), data=content,
        caption_html=board_caption(catalog, locale, board), now=context.deps.clock.now(),
        today=day,
    )  # fmt: skip
    context.deps.outbox.wake()
    await press.answer("dues.board.sending")


def register(router: WizardRouter) -> None:
    """Typed answers (period, amount, day; a part of a name) and the receipt photo."""
    router.on_text(RemitDraft.FLOW, typed_remit)
    router.on_text(FindDraft.FLOW, typed_query)
    MEDIA_STEPS[RemitDraft.FLOW] = proof_received
