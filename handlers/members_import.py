"""/import: a branch admin gets a template, sends the filled file back, previews, confirms."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Callable, Sequence
from typing import ClassVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.constants import ChatAction
from telegram.ext import Application, CommandHandler, MessageHandler, filters

from domain.members_roster import MAX_ROWS, ROLE_NAMES, TEMPLATE_HEADERS, Column, FileError, Problem
from domain.orgs import Role
from domain.pickers import PAGE
from handlers.common import actor_of, is_private, today
from handlers.members.pickers import Items, chooser, picked, show_new, show_page
from handlers.press import Press, Presses
from handlers.wizard import WizardRouter
from services.authz import Actor
from services.drafts import DraftView, Outdated
from services.errors import Denied, ServiceError
from services.members_import import (
    FLOW,
    MAX_FILE_BYTES,
    ImportPlan,
    choices_text,
    confirm_import,
    end_import_session,
    import_branches,
    open_import_session,
    preview_import,
    roster_template,
    start_import_session,
)
from ui.callbacks import CallbackData
from ui.deps import BotContext
from ui.errors import error_key, file_error_key, row_error_key
from ui.i18n import Html
from ui.render import split_message

MAX_ERROR_LINES = 20
MAX_NAMES = 10  # new units or party groups named in the preview
VALUE_SHOWN = 20  # characters of an offending cell quoted back; the rest is "…"

# (key, **params) -> HTML: context.t in the bot, Catalog.t bound to a locale in the CLI.
Render = Callable[..., str]


@dataclasses.dataclass(frozen=True)
class ImportButton(CallbackData):
    """Import buttons: pick a branch (arg = org id), page the picker, confirm or cancel (token)."""

    prefix: ClassVar[str] = "imp"
    action: str  # "branch" | "page" | "ok" | "cancel"
    arg: str


def _quote(value: str) -> str:
    return value if len(value) <= VALUE_SHOWN else value[:VALUE_SHOWN] + "…"


def _role_name(locale: str, code: str) -> str:
    """An office as the template's language writes it (书记 / secretary)."""
    return code if locale == "en" else ROLE_NAMES.get(Role(code), code)


def _header(locale: str, column: Column | None) -> str:
    headers = TEMPLATE_HEADERS.get(locale, TEMPLATE_HEADERS["zh_CN"])
    return headers[column] if column is not None else ""


def problem_text(tr: Render, locale: str, problem: Problem) -> str:
    """One problem of one row, e.g. "手机号“1390000”不正确，应为 11 位数字…"."""
    key = row_error_key(problem.code)
    stages, roles = choices_text(locale)
    if problem.code == "role.taken" and problem.other_line:
        key = "import.error.role_taken_row"
    return tr(
        key,
        value=_quote(problem.value),
        column=_header(locale, problem.column),
        other=problem.other_line,
        other_column=_header(locale, problem.other_column),
        stages=stages,
        roles=roles,
        role=_role_name(locale, problem.value) if problem.code == "role.taken" else "",
    )


def file_error_text(tr: Render, locale: str, error: FileError) -> str:
    """Why a whole file was refused, naming the column where it matters."""
    return tr(
        file_error_key(error.code),
        column=_header(locale, error.column),
        limit=MAX_ROWS,
        size=MAX_FILE_BYTES // (1024 * 1024),
        ext=".xlsx",
    )


def _names(locale: str, names: Sequence[str]) -> str:
    """A few names in the locale's list style; the rest as "…" (a city may bring hundreds)."""
    shown = "、".join if locale != "en" else ", ".join
    more = "…" if len(names) > MAX_NAMES else ""
    return shown(_quote(n) for n in names[:MAX_NAMES]) + more


def plan_lines(
    tr: Render, locale: str, plan: ImportPlan, max_errors: int | None = MAX_ERROR_LINES
) -> list[str]:
    """The preview: counts, new units and groups, and the first errors with their rows.

    `tr` renders HTML (context.t, or Catalog.t for the command line, which strips it).
    """
    if plan.file_error is not None:
        return [file_error_text(tr, locale, plan.file_error)]
    lines = [
        tr(
            "import.preview",
            branch=plan.org_name,
            created=plan.created,
            updated=plan.updated,
            unchanged=plan.unchanged,
            errors=plan.errors,
        )
    ]
    if plan.new_units:
        lines.append(tr("import.new_units", names=_names(locale, plan.new_units)))
    if plan.new_party_groups:
        lines.append(tr("import.new_groups", names=_names(locale, plan.new_party_groups)))
    problems = [(row.line, p) for row in plan.error_rows for p in row.problems]
    shown = problems if max_errors is None else problems[:max_errors]
    if problems:
        lines.append("")
    for line, problem in shown:
        # Already HTML with the user's text escaped: Html keeps it from being escaped twice.
        text = Html(problem_text(tr, locale, problem))
        lines.append(tr("import.error_line", line=line, problem=text))
    if len(problems) > len(shown):
        lines.append(tr("import.more_errors", count=len(problems) - len(shown)))
    return lines


# ---------------------------------------------------------------- choosing the branch


@chooser("import")
async def _branches(context: BotContext, actor: Actor, key: int) -> Items:
    """The branches one may import into, for the shared picker (/members' choosers)."""
    branches = await import_branches(context.deps.db, actor, today(context))
    if not branches:
        raise Denied("import.not_admin")
    question = context.t("import.choose_branch")
    return branches, question, lambda b: b.name, lambda b: ImportButton("branch", str(b.id))


async def import_command(update: Update, context: BotContext) -> None:
    """/import: the template for one's branch, or a branch picker for those with several."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    if not is_private(update):
        await message.reply_text(context.t("import.private_only"))
        return
    branches = await import_branches(context.deps.db, actor_of(context, user), today(context))
    if not branches:
        await message.reply_text(context.t("import.not_admin"))
    elif len(branches) == 1:
        await _send_template(context, actor_of(context, user), message.chat_id, branches[0].id)
    else:
        # Every branch reachable: paged, and part of a name typed next narrows the list.
        await show_new(context, actor_of(context, user), message.chat_id, "import", 0)


async def _send_template(context: BotContext, actor: Actor, chat_id: int, org_id: int) -> bool:
    """Start waiting for the file and send the template; False when not allowed."""
    try:
        branch = await start_import_session(
            context.deps.db, actor, org_id, context.deps.clock.now(), today(context)
        )
    except ServiceError:
        return False
    filename = context.plain("import.template_name") + ".xlsx"
    await context.bot.send_document(
        chat_id,
        InputFile(io.BytesIO(roster_template(context.locale)), filename=filename),
        caption=context.t("import.template_caption", branch=branch.name, limit=MAX_ROWS),
    )
    return True


# ---------------------------------------------------------------- the file


async def document_received(update: Update, context: BotContext) -> None:
    """A file in private chat: check it against the roster and show what importing would do."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    assert message.document is not None
    db = context.deps.db
    # Checked before downloading: most stray files are not meant for an import at all.
    current = await open_import_session(db, user.id)
    if current is None or isinstance(current, Outdated):
        outdated = isinstance(current, Outdated)
        await message.reply_text(context.t("wizard.outdated" if outdated else "import.no_session"))
        return
    document = message.document
    if document.file_size is not None and document.file_size > MAX_FILE_BYTES:
        await message.reply_text(
            file_error_text(context.t, context.locale, FileError("file.too_large"))
        )
        return
    await context.bot.send_chat_action(message.chat_id, ChatAction.TYPING)
    content = bytes(await (await document.get_file()).download_as_bytearray())
    try:
        preview = await preview_import(
            db, actor_of(context, user), document.file_name or "", content,
            context.deps.clock.now(), today(context),
        )  # fmt: skip
    except Denied:
        await end_import_session(db, user.id)
        await message.reply_text(context.t("import.not_admin"))
        return
    except ServiceError as exc:
        await message.reply_text(context.t(error_key(exc.code, "import")))
        return
    if preview.file_error is not None:
        text = file_error_text(context.t, context.locale, preview.file_error)
        await message.reply_text(text + "\n\n" + context.t("import.fix_and_resend"))
        return
    assert preview.plan is not None
    plan = preview.plan
    if plan.ok and not plan.has_changes:
        await message.reply_text(context.t("import.nothing_to_change", count=plan.unchanged))
        return
    lines = plan_lines(context.t, context.locale, plan)
    if not plan.ok:
        lines += ["", context.t("import.fix_and_resend")]
        await _send_lines(context, message.chat_id, lines)
        return
    lines += ["", context.t("import.confirm_question")]
    buttons = [
        InlineKeyboardButton(
            context.plain("import.button_confirm"),
            callback_data=ImportButton("ok", preview.token).pack(),
        ),
        InlineKeyboardButton(
            context.plain("import.button_cancel"),
            callback_data=ImportButton("cancel", preview.token).pack(),
        ),
    ]
    await _send_lines(context, message.chat_id, lines, InlineKeyboardMarkup([buttons]))


async def _send_lines(
    context: BotContext, chat_id: int, lines: list[str], markup: InlineKeyboardMarkup | None = None
) -> None:
    """Send lines in as few messages as fit Telegram's limit; buttons go on the last one."""
    parts = split_message(lines)
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        await context.bot.send_message(chat_id, part, reply_markup=markup if last else None)


async def text_instead_of_file(update: Update, context: BotContext, _draft: DraftView) -> None:
    """Typed text while we wait for the roster file: say what we are waiting for."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    if isinstance(await open_import_session(context.deps.db, user.id), Outdated):
        await message.reply_text(context.t("wizard.outdated"))
        return
    await message.reply_text(context.t("import.send_file"))


# ---------------------------------------------------------------- buttons


presses = Presses("import")


@presses.on(ImportButton, action="cancel")
async def cancel(press: Press[ImportButton], context: BotContext) -> None:
    """取消 on the preview: the import in progress is forgotten."""
    if not await end_import_session(context.deps.db, press.user_id, press.data.arg):
        await press.refuse("stale")
        return
    await press.answer()
    await press.edit(context.t("import.cancelled"))


@presses.on(ImportButton, action="page")
async def page(press: Press[ImportButton], context: BotContext) -> None:
    """A page button of an older picker: that page on the shared picker, in place."""
    if not press.data.arg.isdigit():
        await press.refuse("stale")
        return
    await show_page(press, context, "import", 0, int(press.data.arg) * PAGE)


@presses.on(ImportButton, action="branch")
async def branch(press: Press[ImportButton], context: BotContext) -> None:
    """A branch picked: its template, and the bot waits for the file."""
    if not press.data.arg.isdigit():
        await press.refuse("stale")
        return
    await picked(context, press.user_id)
    if not await _send_template(context, press.actor, press.user_id, int(press.data.arg)):
        await press.answer("import.not_admin", alert=True)


@presses.on(ImportButton, action="ok")
async def confirm(press: Press[ImportButton], context: BotContext) -> None:
    """确认导入: the previewed roster applied (re-checked against the roster as it is now)."""
    try:
        report = await confirm_import(
            context.deps.db, press.actor, press.data.arg, context.deps.clock.now(), today(context)
        )
    except Denied:
        await press.answer("import.not_admin", alert=True)
        return
    except ServiceError as exc:
        if exc.code in ("import.no_session", "import.stale"):
            # Not this person's pending import (another user, an old preview, already done).
            await press.refuse("stale")
            return
        await press.answer()
        await press.edit(context.t(error_key(exc.code, "import")))
        return
    await press.answer()
    if report.applied:
        await press.edit(context.t("import.done", created=report.created, updated=report.updated))
    elif report.plan.ok:
        await press.edit(context.t("import.nothing_to_change", count=report.plan.unchanged))
    else:
        # The roster changed since the preview: show what now stands in the way.
        await press.edit(context.t("import.changed_since_preview"))
        lines = plan_lines(context.t, context.locale, report.plan)
        lines += ["", context.t("import.fix_and_resend")]
        await _send_lines(context, press.user_id, lines)


def register(app: Application, router: WizardRouter | None = None) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("import", import_command))
    presses.register(app)
    # Every private document comes here: one waiting for a roster is checked, others get a
    # hint (no other flow takes files yet; when one does, route documents by draft flow).
    app.add_handler(
        MessageHandler(
            filters.ChatType.PRIVATE & filters.Document.ALL & ~filters.UpdateType.EDITED,
            document_received,
        )
    )
    if router is not None:
        router.on_text(FLOW, text_instead_of_file)
