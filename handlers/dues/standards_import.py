"""批量设置标准: a keeper gets the template, sends the filled sheet, sees the dry run, and
确认导入 sets the standards (each member told in their own language)."""

from __future__ import annotations

import io

from telegram import InputFile, Update
from telegram.ext import Application

from domain.dues import month_of
from domain.dues_import import MAX_ROWS, BulkDraft
from handlers.common import actor_of, today
from handlers.dues.common import MEDIA_STEPS, MenuEntry, menu_entry, presses, sheet_bytes
from handlers.dues.pickers import Chooser, chooser, show
from handlers.press import Press
from handlers.wizard import WizardRouter
from services.authz import Actor
from services.drafts import DraftView, clear_draft
from services.dues import dues_access
from services.dues_import import (
    apply_standards,
    open_standards_import,
    preview_standards,
    start_standards_import,
)
from services.errors import ServiceError
from ui.deps import BotContext
from ui.dues_import import (
    BulkStep,
    done_text,
    member_notes,
    preview,
    standards_template,
    template_name,
)
from ui.errors import error_key

menu_entry(
    MenuEntry(
        "dues.bulk.menu",
        data=lambda a: BulkStep(a.keeps[0].id if len(a.keeps) == 1 else 0, "start"),
        shown=lambda a: bool(a.keeps),
        order=35,
    )
)


@chooser("bulk")
async def _bulk_branches(context: BotContext, actor: Actor, key: int) -> Chooser:
    """批量设置标准 for a keeper of several branches: every one, paged and found by name."""
    access = await dues_access(context.deps.db, actor, today(context))
    if not access.keeps:
        raise ServiceError("auth.keep_dues")
    question = context.t("dues.bulk.pick_branch")
    return Chooser(access.keeps, question, lambda o: o.name, lambda o: BulkStep(o.id, "start"))


@presses.on(BulkStep, action="start")
async def start(press: Press[BulkStep], context: BotContext) -> None:
    """批量设置标准: the template, and the sheet awaited (first the branch, when several)."""
    if press.data.org_id == 0:
        await show(press, context, "bulk", 0)
        return
    branch = await start_standards_import(
        context.deps.db, press.actor, press.data.org_id,
        now=context.deps.clock.now(), today=today(context),
    )  # fmt: skip
    await press.answer()
    catalog, locale = context.deps.catalog, context.locale
    await context.bot.send_document(
        press.user_id,
        InputFile(io.BytesIO(standards_template(catalog, locale)),
                  filename=template_name(catalog, locale)),
        caption=context.t("dues.bulk.ask", branch=branch, limit=MAX_ROWS),
    )  # fmt: skip


@presses.on(BulkStep, action="apply")
async def apply(press: Press[BulkStep], context: BotContext) -> None:
    """确认导入: the previewed standards set, the members told."""
    draft = await open_standards_import(context.deps.db, press.actor)
    if draft is None:
        raise ServiceError("stale")
    catalog = context.deps.catalog
    applied = await apply_standards(
        context.deps.db, press.actor,
        member_notes=member_notes(catalog, (line.key for line in draft.lines)),
        default_locale=catalog.default_locale, now=context.deps.clock.now(),
        today=today(context),
    )  # fmt: skip
    context.deps.outbox.wake()
    await press.edit(done_text(catalog, context.locale, applied))


@presses.on(BulkStep, action="cancel")
async def cancel(press: Press[BulkStep], context: BotContext) -> None:
    """取消: nothing set."""
    await clear_draft(context.deps.db, press.user_id, BulkDraft.FLOW)
    await press.edit(context.t("dues.bulk.cancelled"))


async def sheet_received(update: Update, context: BotContext) -> None:
    """The filled sheet: checked against the branch and shown as a dry run."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    sheet = await sheet_bytes(message, context, send_key="dues.bulk.send_file",
                                too_large_code="dues.bulk.file_too_large")  # fmt: skip
    if sheet is None:
        return
    name, content = sheet
    actor, day = actor_of(context, user), today(context)
    try:
        draft = await preview_standards(
            context.deps.db, actor, name, content,
            this_month=month_of(day), now=context.deps.clock.now(), today=day,
        )  # fmt: skip
        access = await dues_access(context.deps.db, actor, day)
    except ServiceError as exc:
        await message.reply_text(context.t(error_key(exc.code, "dues")))
        return
    branch = next((o.name for o in access.keeps if o.id == draft.org_id), "")
    text, markup = preview(context.deps.catalog, context.locale, branch, draft)
    await message.reply_text(text, reply_markup=markup)


async def typed_instead(update: Update, context: BotContext, _view: DraftView) -> None:
    """Text while the sheet is awaited: ask for the file."""
    message = update.effective_message
    assert message is not None
    await message.reply_text(context.t("dues.bulk.send_file"))


def register(app: Application, router: WizardRouter) -> None:  # type: ignore[type-arg]
    """The typed-text fallback and the sheet, while 批量设置标准 is open."""
    router.on_text(BulkDraft.FLOW, typed_instead)
    MEDIA_STEPS[BulkDraft.FLOW] = sheet_received
