"""我已交纳 (a member's claim, with an optional screenshot), the keeper's 确认 / 退回, and the
keeper's month grid (登记交费)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application

from domain.dues import month_of
from domain.dues_pay import ImportDraft, PayDraft, RejectDraft
from domain.dues_pickers import GRID_STEPS, GridFindDraft
from domain.wizard import Event, Refusal, apply
from handlers.common import actor_of, today
from handlers.dues.common import MEDIA_STEPS, MenuEntry, menu_entry, presses, sheet_bytes
from handlers.dues.pickers import Chooser, chooser, show
from handlers.press import Press
from handlers.wizard import WizardRouter, typed_draft
from services.authz import Actor
from services.drafts import DraftView, clear_draft, keep_draft, open_draft
from services.dues import dues_access
from services.dues_payments import (
    apply_payments,
    begin_reject,
    claim_of,
    correct_month,
    decide_claim,
    grid_row,
    month_grid,
    open_payment,
    pay_step,
    preview_payments,
    record_month,
    start_import,
    start_payment,
    submit_claim,
)
from services.errors import ServiceError
from ui.deps import BotContext
from ui.dues_notes import in_every_locale
from ui.dues_payments import (
    Decide,
    GridAll,
    GridOpen,
    GridTap,
    ImportStep,
    PayStep,
    ask_fix_screen,
    decided_text,
    grid_screen,
    import_preview,
    keeper_note,
    member_note,
    month_text,
    pay_screen,
)
from ui.errors import error_key

menu_entry(
    MenuEntry(
        "dues.pay.menu",
        data=lambda a: PayStep("open"),
        shown=lambda a: a.member is not None,
        order=20,
    )
)
menu_entry(
    MenuEntry(
        "dues.grid.menu",
        data=lambda a: GridOpen(a.keeps[0].id if len(a.keeps) == 1 else 0, 0, 0),
        shown=lambda a: bool(a.keeps),
        order=30,
    )
)


# ---- 我已交纳 ----


async def _show(press: Press[PayStep], context: BotContext, draft: PayDraft) -> None:
    text, markup = pay_screen(context.deps.catalog, context.locale, draft)
    await press.edit(text, markup)


@presses.on(PayStep, action="open")
async def open_pay(press: Press[PayStep], context: BotContext) -> None:
    """我已交纳 from /dues: the months owed, arrears and this month already ticked."""
    draft = await start_payment(
        context.deps.db, press.actor, context.deps.clock.now(), today(context)
    )
    await _show(press, context, draft)


@presses.on(PayStep, action=("toggle", "next", "skip", "back", "redo"))
async def step(press: Press[PayStep], context: BotContext) -> None:
    """A month ticked or unticked, or a step forward or back."""
    event = Event(press.data.action, press.data.value)
    draft = await pay_step(context.deps.db, press.actor, event, context.deps.clock.now())
    await _show(press, context, draft)


@presses.on(PayStep, action="cancel")
async def cancel(press: Press[PayStep], context: BotContext) -> None:
    """取消: the draft is dropped."""
    await clear_draft(context.deps.db, press.user_id, PayDraft.FLOW)
    await press.edit(context.t("dues.pay.cancelled"))


@presses.on(PayStep, action="submit")
async def submit(press: Press[PayStep], context: BotContext) -> None:
    """提交: the claim waits for the keeper, who is sent 确认 / 退回."""
    draft = await open_payment(context.deps.db, press.actor)
    if draft is None:
        raise ServiceError("stale")
    catalog = context.deps.catalog
    await submit_claim(
        context.deps.db,
        press.actor,
        now=context.deps.clock.now(),
        today=today(context),
        keeper_notes=in_every_locale(catalog, lambda locale: keeper_note(catalog, locale, draft)),
        default_locale=catalog.default_locale,
    )
    await press.edit(context.t("dues.pay.submitted"))


async def typed_extra(update: Update, context: BotContext, _view: DraftView) -> None:
    """The voluntary extra typed in yuan."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    draft = await typed_draft(update, context, PayDraft)
    if draft is None:
        return
    if draft.step != "extra":
        await message.reply_text(context.t("dues.pay.use_buttons"))
        return
    try:
        moved = await pay_step(
            context.deps.db,
            actor_of(context, user),
            Event("text", text=message.text or ""),
            context.deps.clock.now(),
        )
    except ServiceError as exc:
        await message.reply_text(context.t(error_key(exc.code, "dues")))
        return
    text, markup = pay_screen(context.deps.catalog, context.locale, moved)
    await message.reply_text(text, reply_markup=markup)


async def proof_received(update: Update, context: BotContext) -> None:
    """A photo sent at the screenshot step (a file sent as a document is taken too)."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    draft = await typed_draft(update, context, PayDraft)
    if draft is None:
        return
    if draft.step != "proof":
        await message.reply_text(context.t("dues.pay.use_buttons"))
        return
    file_id = message.photo[-1].file_id if message.photo else None
    if file_id is None and message.document is not None:
        file_id = message.document.file_id
    try:
        moved = await pay_step(
            context.deps.db,
            actor_of(context, user),
            Event("photo", text=file_id or ""),
            context.deps.clock.now(),
        )
    except ServiceError as exc:
        await message.reply_text(context.t(error_key(exc.code, "dues")))
        return
    text, markup = pay_screen(context.deps.catalog, context.locale, moved)
    await message.reply_text(text, reply_markup=markup)


# ---- the keeper decides ----


@presses.on(Decide, action="ok")
async def confirm(press: Press[Decide], context: BotContext) -> None:
    """确认: the months go into the ledger; the member is told."""
    db, day = context.deps.db, today(context)
    claim = await claim_of(db, press.actor, press.data.claim_id, day)
    catalog = context.deps.catalog
    done = await decide_claim(
        db,
        press.actor,
        claim.id,
        accept=True,
        now=context.deps.clock.now(),
        today=day,
        member_notes=in_every_locale(
            catalog, lambda locale: member_note(catalog, locale, claim, accept=True)
        ),
        default_locale=catalog.default_locale,
    )
    await press.edit(decided_text(context.deps.catalog, context.locale, done))


@presses.on(Decide, action="no")
async def reject(press: Press[Decide], context: BotContext) -> None:
    """退回: asks for the reason."""
    claim = await begin_reject(
        context.deps.db,
        press.actor,
        press.data.claim_id,
        now=context.deps.clock.now(),
        today=today(context),
    )
    await press.answer()
    await context.bot.send_message(
        press.user_id, context.t("dues.pay.ask_reason", name=claim.member_name)
    )


@presses.on(Decide, action="proof")
async def see_proof(press: Press[Decide], context: BotContext) -> None:
    """看截图: the member's transfer screenshot, sent to the keeper."""
    claim = await claim_of(context.deps.db, press.actor, press.data.claim_id, today(context))
    if claim.proof_file_id is None:
        raise ServiceError("not_found")
    await press.answer()
    await context.bot.send_photo(
        press.user_id,
        claim.proof_file_id,
        caption=context.plain("dues.pay.proof_caption", name=claim.member_name),
    )


async def typed_reason(update: Update, context: BotContext, _view: DraftView) -> None:
    """The reason a claim is sent back: the member is told, the claim is rejected."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    draft = await typed_draft(update, context, RejectDraft)
    if draft is None:
        return
    actor, day, db = actor_of(context, user), today(context), context.deps.db
    reason = message.text or ""
    try:
        claim = await claim_of(db, actor, draft.claim_id, day)
        catalog = context.deps.catalog
        shown = " ".join(reason.split())[:300]
        done = await decide_claim(
            db,
            actor,
            claim.id,
            accept=False,
            reason=reason,
            now=context.deps.clock.now(),
            today=day,
            member_notes=in_every_locale(
                catalog,
                lambda locale: member_note(catalog, locale, claim, accept=False, reason=shown),
            ),
            default_locale=catalog.default_locale,
        )
    except ServiceError as exc:
        await message.reply_text(context.t(error_key(exc.code, "dues")))
        return
    await message.reply_text(decided_text(context.deps.catalog, context.locale, done))


# ---- the month grid ----


async def _grid(
    press: Press[GridOpen] | Press[GridTap] | Press[GridAll],
    context: BotContext,
    org_id: int,
    month: int,
    page: int,
    *,
    keep: bool = True,
) -> None:
    """The grid in place, still narrowed by the part of a name typed for this branch (`keep`);
    kept in a draft so that a name typed next narrows it."""
    db = context.deps.db
    find = ""
    if keep:
        kept = await open_draft(db, press.user_id, GridFindDraft)
        if isinstance(kept, GridFindDraft) and kept.org_id == org_id:
            find = kept.find
    grid = await month_grid(db, press.actor, org_id, month, page, today(context), find)
    draft = GridFindDraft(step="find", org_id=org_id, month=grid.month, page=grid.page, find=find)
    await keep_draft(db, press.user_id, draft, context.deps.clock.now())
    text, markup = grid_screen(context.deps.catalog, context.locale, grid)
    await press.edit(text, markup)


@presses.on(GridOpen)
async def open_grid(press: Press[GridOpen], context: BotContext) -> None:
    """登记交费: the branch's members for a month (first the branch, when there are several);
    opened from the menu or the branch list (month 0) the whole roster, else as narrowed."""
    month = press.data.month or month_of(today(context))
    if press.data.org_id == 0:
        await show(press, context, "grid", 0)
        return
    await _grid(press, context, press.data.org_id, month, press.data.page,
                keep=press.data.month != 0)  # fmt: skip


@presses.on(GridAll)
async def grid_all(press: Press[GridAll], context: BotContext) -> None:
    """显示全部: the branch's whole roster for the month again."""
    await _grid(press, context, press.data.org_id, press.data.month, 0, keep=False)


async def typed_grid_find(update: Update, context: BotContext, _view: DraftView) -> None:
    """Part of a name typed while the grid is open: its members narrowed to the names holding it."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    draft = await typed_draft(update, context, GridFindDraft)
    if draft is None:
        return
    now = context.deps.clock.now()
    found = apply(GRID_STEPS, draft, Event("text", text=message.text or ""), now)
    if isinstance(found, Refusal):
        await message.reply_text(context.t(error_key(found.code)))
        return
    try:
        grid = await month_grid(context.deps.db, actor_of(context, user), found.org_id,
                                found.month, 0, today(context), found.find)  # fmt: skip
    except ServiceError as exc:
        await clear_draft(context.deps.db, user.id, GridFindDraft.FLOW)
        await message.reply_text(context.t(error_key(exc.code, "dues")))
        return
    await keep_draft(context.deps.db, user.id, found, now)
    text, markup = grid_screen(context.deps.catalog, context.locale, grid)
    await message.reply_text(text, reply_markup=markup)


@chooser("grid")
async def _grid_branches(context: BotContext, actor: Actor, key: int) -> Chooser:
    """登记交费 for a keeper of several branches: every one, paged and found by name."""
    access = await dues_access(context.deps.db, actor, today(context))
    if not access.keeps:
        raise ServiceError("auth.keep_dues")
    return Chooser(access.keeps, context.t("dues.grid.pick_branch"), lambda o: o.name,
                   lambda o: GridOpen(o.id, 0, 0))  # fmt: skip


@presses.on(GridTap, action="pay")
async def tap_pay(press: Press[GridTap], context: BotContext) -> None:
    """A tap on an unpaid member: recorded paid at their due."""
    data = press.data
    row = await record_month(
        context.deps.db,
        press.actor,
        data.member_id,
        data.month,
        now=context.deps.clock.now(),
        today=today(context),
    )
    await press.answer("dues.grid.recorded", name=row.name, month=month_text(data.month))
    await _grid(press, context, data.org_id, data.month, data.page)


@presses.on(GridTap, action="ask")
async def tap_ask(press: Press[GridTap], context: BotContext) -> None:
    """A tap on a paid member: asks whether to correct it to unpaid."""
    data = press.data
    row = await grid_row(context.deps.db, press.actor, data.member_id, data.month, today(context))
    text, markup = ask_fix_screen(
        context.deps.catalog, context.locale, GridOpen(data.org_id, data.month, data.page), row
    )
    await press.edit(text, markup)


@presses.on(GridTap, action="fix")
async def tap_fix(press: Press[GridTap], context: BotContext) -> None:
    """更正为未交: a negative correction entry; back to the grid."""
    data = press.data
    row = await correct_month(
        context.deps.db,
        press.actor,
        data.member_id,
        data.month,
        now=context.deps.clock.now(),
        today=today(context),
    )
    await press.answer("dues.grid.fixed", name=row.name, month=month_text(data.month))
    await _grid(press, context, data.org_id, data.month, data.page)


# ---- a keeper's payments sheet ----


@presses.on(ImportStep, action="start")
async def import_start(press: Press[ImportStep], context: BotContext) -> None:
    """导入交费表: asks for the file."""
    await start_import(context.deps.db, press.actor, press.data.org_id,
                       now=context.deps.clock.now(), today=today(context))  # fmt: skip
    await press.answer()
    await context.bot.send_message(press.user_id, context.t("dues.import.ask"))


@presses.on(ImportStep, action="apply")
async def import_apply(press: Press[ImportStep], context: BotContext) -> None:
    """确认导入: the previewed rows recorded."""
    count = await apply_payments(context.deps.db, press.actor, now=context.deps.clock.now(),
                                 today=today(context))  # fmt: skip
    await press.edit(context.t("dues.import.done", count=count))


@presses.on(ImportStep, action="cancel")
async def import_cancel(press: Press[ImportStep], context: BotContext) -> None:
    """取消: nothing recorded."""
    await clear_draft(context.deps.db, press.user_id, ImportDraft.FLOW)
    await press.edit(context.t("dues.import.cancelled"))


async def sheet_received(update: Update, context: BotContext) -> None:
    """The payments sheet: read against the roster and ledger, previewed."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    sheet = await sheet_bytes(message, context, send_key="dues.import.send_file",
                                too_large_code="dues.import.file_too_large")  # fmt: skip
    if sheet is None:
        return
    name, content = sheet
    try:
        draft = await preview_payments(
            context.deps.db, actor_of(context, user), name,
            content, now=context.deps.clock.now(), today=today(context),
        )  # fmt: skip
    except ServiceError as exc:
        await message.reply_text(context.t(error_key(exc.code, "dues")))
        return
    text, markup = import_preview(context.deps.catalog, context.locale, draft)
    await message.reply_text(text, reply_markup=markup)


async def typed_in_import(update: Update, context: BotContext, _view: DraftView) -> None:
    """Text while a sheet is awaited: ask for the file."""
    message = update.effective_message
    assert message is not None
    await message.reply_text(context.t("dues.import.send_file"))


def register(app: Application, router: WizardRouter) -> None:  # type: ignore[type-arg]
    """Typed answers (the extra, a reason), the screenshot and the payments sheet."""
    router.on_text(PayDraft.FLOW, typed_extra)
    router.on_text(RejectDraft.FLOW, typed_reason)
    router.on_text(ImportDraft.FLOW, typed_in_import)
    router.on_text(GridFindDraft.FLOW, typed_grid_find)
    MEDIA_STEPS[PayDraft.FLOW] = proof_received
    MEDIA_STEPS[ImportDraft.FLOW] = sheet_received
