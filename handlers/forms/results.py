"""/forms: the forms someone may see, a cycle's results (totals, committees, branches behind
first), per-question summaries, who has not answered, the chart, the export, and reviewing
one answer (通过 / 退回修改 with a typed comment). Every press is re-authorized by the
service it calls; the respondent's note is queued in the review's own transaction."""

from __future__ import annotations

import asyncio
import tempfile
import zipfile
from pathlib import Path

from telegram import InputFile, Update
from telegram.error import TelegramError
from telegram.ext import Application, CommandHandler

from domain.forms_results import FIND_STEPS, RESULTS_STEPS, FormsFindDraft, ResultsFindDraft
from domain.forms_review import STEPS, ReviewDraft
from domain.forms_review import start as start_review
from domain.locale import negotiate_locale
from domain.wizard import Event, Refusal, apply
from handlers.common import actor_of, is_private, today
from handlers.forms.common import presses
from handlers.press import Press
from handlers.wizard import WizardRouter, typed_draft
from services.drafts import DraftView, clear_draft, keep_draft, open_draft
from services.errors import ServiceError
from services.forms import review_response
from services.forms_admin import close_form
from services.forms_results import (
    AnswerView,
    AttachmentFile,
    answer_view,
    attachment_files,
    branch_answers,
    export_plan,
    export_rows,
    queue_export,
    results_screen,
    visible_forms,
)
from ui.deps import BotContext
from ui.errors import error_key
from ui.forms_results import (
    FormBranch,
    FormChart,
    FormClose,
    FormCycles,
    FormExport,
    FormMissing,
    FormQuestions,
    FormResults,
    FormReview,
    FormsFound,
    FormsList,
    ResultsFound,
    attachment_path,
    attachments_caption,
    attachments_filename,
    completion_chart,
    export_caption,
    export_filename,
    render_answer,
    render_branch,
    render_close_confirm,
    render_cycles,
    render_forms,
    render_missing,
    render_questions,
    render_results,
    review_note,
    write_export,
)

FLOW = ReviewDraft.FLOW
# One ZIP is one upload: Telegram takes documents up to 50 MB from a bot.
ZIP_BYTES_MAX = 45 * 2**20
ZIP_FILES_MAX = 500


async def forms_command(update: Update, context: BotContext) -> None:
    """/forms: the forms the person sent or administers, newest first (private chat only)."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    if not is_private(update):
        await message.reply_text(context.t("form.results.use_private"))
        return
    page = await visible_forms(context.deps.db, actor_of(context, user), today(context))
    text, markup = render_forms(context.deps.catalog, context.locale, page)
    if page.items:
        # Part of a title typed next narrows the list.
        draft = FormsFindDraft(step="find")
        await keep_draft(context.deps.db, user.id, draft, context.deps.clock.now())
    await message.reply_text(text, reply_markup=markup)


@presses.on(FormsList)
async def forms_page(press: Press[FormsList], context: BotContext) -> None:
    """A page of /forms, or 显示全部 after a typed part of a title."""
    await _forms_page(press, context, press.data.page, "")


@presses.on(FormsFound)
async def found_page(press: Press[FormsFound], context: BotContext) -> None:
    """A page of /forms still narrowed by the part of a title typed for it."""
    kept = await open_draft(context.deps.db, press.user_id, FormsFindDraft)
    find = kept.find if isinstance(kept, FormsFindDraft) else ""
    await _forms_page(press, context, press.data.page, find)


async def _forms_page(
    press: Press[FormsList] | Press[FormsFound], context: BotContext, page: int, find: str
) -> None:
    listed = await visible_forms(context.deps.db, press.actor, today(context), page, find)
    draft = FormsFindDraft(step="find", offset=listed.page, find=find)
    await keep_draft(context.deps.db, press.user_id, draft, context.deps.clock.now())
    await press.edit(*render_forms(context.deps.catalog, context.locale, listed))


async def typed_find(update: Update, context: BotContext, _draft: DraftView) -> None:
    """Part of a title typed while /forms is open: the list narrowed to the titles holding it."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    draft = await typed_draft(update, context, FormsFindDraft)
    if draft is None:
        return
    now = context.deps.clock.now()
    found = apply(FIND_STEPS, draft, Event("text", text=message.text or ""), now)
    if isinstance(found, Refusal):
        await message.reply_text(context.t(error_key(found.code, "forms")))
        return
    listed = await visible_forms(context.deps.db, actor_of(context, user), today(context), 0,
                                 found.find)  # fmt: skip
    await keep_draft(context.deps.db, user.id, found, now)
    text, markup = render_forms(context.deps.catalog, context.locale, listed)
    await message.reply_text(text, reply_markup=markup)


@presses.on(FormResults)
async def results(press: Press[FormResults], context: BotContext) -> None:
    """A cycle's results screen, a page of all its branches (also 显示全部)."""
    await _results(press, context, press.data.cycle_id, press.data.page, "")


@presses.on(ResultsFound)
async def results_found(press: Press[ResultsFound], context: BotContext) -> None:
    """A page of a cycle's branches still narrowed by the part of a name typed for it."""
    kept = await open_draft(context.deps.db, press.user_id, ResultsFindDraft)
    find = ""
    if isinstance(kept, ResultsFindDraft) and kept.cycle_id == press.data.cycle_id:
        find = kept.find
    await _results(press, context, press.data.cycle_id, press.data.page, find)


async def _results(
    press: Press[FormResults] | Press[ResultsFound],
    context: BotContext,
    cycle_id: int,
    page: int,
    find: str,
) -> None:
    """The results in place; a draft kept so that a branch's name typed next narrows them."""
    screen = await results_screen(context.deps.db, press.actor, cycle_id, today(context))
    text, markup = render_results(
        context.deps.catalog, context.locale, screen, page, context.deps.settings.timezone,
        context.deps.clock.now(), find,
    )  # fmt: skip
    draft = ResultsFindDraft(step="find", cycle_id=cycle_id, offset=max(0, page), find=find)
    await keep_draft(context.deps.db, press.user_id, draft, context.deps.clock.now())
    await press.edit(text, markup)


async def typed_branch(update: Update, context: BotContext, _draft: DraftView) -> None:
    """Part of a branch's name typed on a cycle's results: its branches narrowed to it."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    draft = await typed_draft(update, context, ResultsFindDraft)
    if draft is None:
        return
    now = context.deps.clock.now()
    found = apply(RESULTS_STEPS, draft, Event("text", text=message.text or ""), now)
    if isinstance(found, Refusal):
        await message.reply_text(context.t(error_key(found.code, "forms")))
        return
    try:
        screen = await results_screen(
            context.deps.db, actor_of(context, user), found.cycle_id, today(context)
        )
    except ServiceError as exc:
        await clear_draft(context.deps.db, user.id, ResultsFindDraft.FLOW)
        await message.reply_text(context.t(error_key(exc.code, "forms")))
        return
    await keep_draft(context.deps.db, user.id, found, now)
    text, markup = render_results(
        context.deps.catalog, context.locale, screen, 0, context.deps.settings.timezone, now,
        found.find,
    )  # fmt: skip
    await message.reply_text(text, reply_markup=markup)


@presses.on(FormCycles)
async def cycles(press: Press[FormCycles], context: BotContext) -> None:
    """往期: pick another cycle of the form."""
    screen = await results_screen(context.deps.db, press.actor, press.data.cycle_id,
                                  today(context))  # fmt: skip
    await press.edit(*render_cycles(context.deps.catalog, context.locale, screen))


@presses.on(FormQuestions)
async def questions(press: Press[FormQuestions], context: BotContext) -> None:
    """各题统计: per-question summaries."""
    screen = await results_screen(context.deps.db, press.actor, press.data.cycle_id,
                                  today(context), tallies=True)  # fmt: skip
    text, markup = render_questions(
        context.deps.catalog, context.locale, screen, press.data.page,
        context.deps.settings.timezone, context.deps.clock.now(),
    )  # fmt: skip
    await press.edit(text, markup)


@presses.on(FormMissing)
async def missing(press: Press[FormMissing], context: BotContext) -> None:
    """未报名单: who has not answered; those the bot cannot reach listed to be phoned."""
    screen = await results_screen(context.deps.db, press.actor, press.data.cycle_id,
                                  today(context), with_missing=True)  # fmt: skip
    await press.edit(*render_missing(context.deps.catalog, context.locale, screen,
                                     press.data.page))  # fmt: skip


@presses.on(FormBranch)
async def branch(press: Press[FormBranch], context: BotContext) -> None:
    """One branch's part: its progress, tallies and answers."""
    data = press.data
    view = await branch_answers(context.deps.db, press.actor, data.cycle_id, data.org_id,
                                today(context), data.page)  # fmt: skip
    text, markup = render_branch(
        context.deps.catalog, context.locale, view, context.deps.settings.timezone,
        context.deps.clock.now(),
    )  # fmt: skip
    await press.edit(text, markup)


async def _show_answer(press: Press[FormReview], context: BotContext, view: AnswerView) -> None:
    text, markup = render_answer(
        context.deps.catalog, context.locale, view, context.deps.settings.timezone,
        context.deps.clock.now(),
    )  # fmt: skip
    await press.edit(text, markup)


def _respondent_locale(context: BotContext, view: AnswerView) -> str:
    default = context.deps.settings.default_locale
    return view.respondent_locale or negotiate_locale(view.respondent_language, default)


@presses.on(FormReview, action="open")
async def open_answer(press: Press[FormReview], context: BotContext) -> None:
    """One answer, to read and review."""
    view = await answer_view(context.deps.db, press.actor, press.data.response_id,
                             today(context))  # fmt: skip
    await _show_answer(press, context, view)


@presses.on(FormReview, action="ok")
async def accept(press: Press[FormReview], context: BotContext) -> None:
    """通过: locks the answer, writes roster fields back, tells the respondent."""
    db, catalog = context.deps.db, context.deps.catalog
    view = await answer_view(db, press.actor, press.data.response_id, today(context))
    html, buttons = review_note(catalog, _respondent_locale(context, view), view, accepted=True)
    await review_response(
        db, press.actor, view.response_id, accept=True, now=context.deps.clock.now(),
        today=today(context), note_html=html, note_buttons=buttons,
    )  # fmt: skip
    context.deps.outbox.wake()
    await press.answer("form.review.accepted")
    await _show_answer(press, context, await answer_view(db, press.actor, view.response_id,
                                                         today(context)))  # fmt: skip


@presses.on(FormReview, action="ret")
async def ask_comment(press: Press[FormReview], context: BotContext) -> None:
    """退回修改: asks for the comment, typed next."""
    view = await answer_view(context.deps.db, press.actor, press.data.response_id,
                             today(context))  # fmt: skip
    if not view.may_review:
        raise ServiceError("auth.denied")
    if view.status == "accepted":
        raise ServiceError("form.locked")
    await keep_draft(context.deps.db, press.user_id, start_review(view.response_id, view.cycle.id),
                     context.deps.clock.now())  # fmt: skip
    await press.answer()
    await context.bot.send_message(
        press.user_id, context.t("form.review.ask_comment", name=view.name or "—")
    )


async def typed_comment(update: Update, context: BotContext, _draft: DraftView) -> None:
    """The 退回修改 comment: checked, then the answer is returned and the respondent told."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    draft = await typed_draft(update, context, ReviewDraft)
    if draft is None:
        return
    now = context.deps.clock.now()
    moved = apply(STEPS, draft, Event("text", text=message.text or ""), now)
    if isinstance(moved, Refusal):
        await message.reply_text(context.t(error_key(moved.code, "forms")))
        return
    db, actor = context.deps.db, actor_of(context, user)
    try:
        view = await answer_view(db, actor, draft.response_id, today(context))
        html, buttons = review_note(
            context.deps.catalog, _respondent_locale(context, view), view, accepted=False,
            comment=moved.comment,
        )  # fmt: skip
        await review_response(
            db, actor, draft.response_id, accept=False, comment=moved.comment, now=now,
            today=today(context), note_html=html, note_buttons=buttons, from_draft=True,
        )  # fmt: skip
    except ServiceError as error:
        await clear_draft(db, user.id, FLOW)
        await message.reply_text(context.t(error_key(error.code, "forms")))
        return
    context.deps.outbox.wake()
    view = await answer_view(db, actor, draft.response_id, today(context))
    text, markup = render_answer(
        context.deps.catalog, context.locale, view, context.deps.settings.timezone, now
    )
    await message.reply_text(context.t("form.review.returned", name=view.name or "—"))
    await message.reply_text(text, reply_markup=markup)


@presses.on(FormChart)
async def chart(press: Press[FormChart], context: BotContext) -> None:
    """图表: completion by branch, as a picture."""
    screen = await results_screen(context.deps.db, press.actor, press.data.cycle_id,
                                  today(context))  # fmt: skip
    await press.answer("form.chart.drawing")
    png = await asyncio.to_thread(completion_chart, context.deps.catalog, context.locale, screen)
    await context.bot.send_photo(
        press.user_id, InputFile(png, filename="chart.png"),
        caption=context.t("form.chart.caption", title=screen.results.form.title),
    )  # fmt: skip


@presses.on(FormExport)
async def export(press: Press[FormExport], context: BotContext) -> None:
    """导出: the answers as a spreadsheet, written in the background and sent through the
    outbox; audited."""
    db, catalog, locale = context.deps.db, context.deps.catalog, context.locale
    plan = await export_plan(db, press.actor, press.data.cycle_id, today(context))
    await press.answer("form.export.working")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.xlsx"
        await write_export(catalog, locale, plan, export_rows(db, plan),
                           context.deps.settings.timezone, path)  # fmt: skip
        data = path.read_bytes()
    await queue_export(
        db, press.actor, plan, filename=export_filename(catalog, locale, plan), data=data,
        caption_html=export_caption(catalog, locale, plan), now=context.deps.clock.now(),
        today=today(context),
    )  # fmt: skip
    context.deps.outbox.wake()
    files = await attachment_files(db, plan)
    if not files:
        return
    archive, added, skipped = await _attachments_zip(context, files)
    if not added:
        return
    await queue_export(
        db, press.actor, plan, filename=attachments_filename(catalog, locale, plan),
        data=archive, caption_html=attachments_caption(catalog, locale, plan, added, skipped),
        now=context.deps.clock.now(), today=today(context),
    )  # fmt: skip
    context.deps.outbox.wake()


async def _attachments_zip(
    context: BotContext, files: list[AttachmentFile]
) -> tuple[bytes, int, int]:
    """The attachments downloaded from Telegram into a ZIP (支部/姓名_题号.ext), as many as
    fit one upload; (the ZIP, files in it, files left out: too big, too many, or gone)."""
    used: set[str] = set()
    added = skipped = size = 0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "attachments.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
            for file in files:
                if added >= ZIP_FILES_MAX:
                    skipped += 1
                    continue
                try:
                    remote = await context.bot.get_file(file.file_id)
                    content = bytes(await remote.download_as_bytearray())
                except TelegramError:
                    skipped += 1  # too big for a bot to download, or no longer there
                    continue
                if size + len(content) > ZIP_BYTES_MAX:
                    skipped += 1
                    continue
                # A photo has no name: its kind shows in Telegram's path ("photos/file_7.jpg").
                last = (remote.file_path or "").rsplit("/", 1)[-1]
                fallback = last.rsplit(".", 1)[-1] if "." in last else (
                    "jpg" if file.kind == "photo" else "bin")  # fmt: skip
                archive.writestr(attachment_path(file, used, fallback), content)
                added += 1
                size += len(content)
        return path.read_bytes(), added, skipped


@presses.on(FormClose, confirm=0)
async def ask_close(press: Press[FormClose], context: BotContext) -> None:
    """结束收集: asked once more, since answers stop for good."""
    screen = await results_screen(context.deps.db, press.actor, press.data.cycle_id,
                                  today(context))  # fmt: skip
    if not screen.may_close:
        raise ServiceError("auth.denied")
    title = screen.results.form.title
    await press.edit(*render_close_confirm(context.deps.catalog, context.locale, title,
                                           press.data.cycle_id))  # fmt: skip


@presses.on(FormClose, confirm=1)
async def close(press: Press[FormClose], context: BotContext) -> None:
    """确定结束: the form takes no more answers; the group cards say so shortly."""
    screen = await results_screen(context.deps.db, press.actor, press.data.cycle_id,
                                  today(context))  # fmt: skip
    closed = await close_form(
        context.deps.db, press.actor, screen.results.form.id, now=context.deps.clock.now(),
        today=today(context),
    )  # fmt: skip
    await press.answer("form.close.done_short")
    await press.edit(context.t("form.close.done", title=closed.title, cards=closed.cards))


def register(app: Application, router: WizardRouter) -> None:  # type: ignore[type-arg]
    """/forms and the typed 退回修改 comment (the buttons go through the shared presses)."""
    app.add_handler(CommandHandler("forms", forms_command))
    router.on_text(FLOW, typed_comment)
    router.on_text(FormsFindDraft.FLOW, typed_find)
    router.on_text(ResultsFindDraft.FLOW, typed_branch)
