"""The preview (the notice exactly as members get it, then a summary) and 确认发布."""

from __future__ import annotations

from datetime import datetime

from telegram import InlineKeyboardMarkup

from domain.notices import NoticeDraft, ack_label
from handlers.common import today
from handlers.notices.common import Keyboard, button
from handlers.notices.screens import options_lines, stages_text
from handlers.press import Press
from services.authz import Actor
from services.drafts import keep_draft
from services.notices import NoticeView, audience_of, publish_draft, set_report_message
from services.notices_admin import AudiencePreview, audience_preview
from ui.deps import BotContext
from ui.notices import NoticeStep, render_notice
from ui.render import format_datetime, split_message


def _preview_view(draft: NoticeDraft, sender_id: int, now: datetime) -> NoticeView:
    """The notice as it would be published, for render_notice."""
    assert draft.org_id is not None
    return NoticeView(
        id=0,
        org_id=draft.org_id,
        sender_id=sender_id,
        category=draft.category or "announcement",
        title=draft.title or "",
        body_html=draft.body or "",
        media_kind=draft.media_kind,
        media_file_id=draft.media_file_id,
        pin=draft.pin,
        ack_label=ack_label(draft),
        ack_deadline=draft.deadline,
        send_at=draft.send_at or now,
        status="preview",
        version=1,
        audience=audience_of(draft),
    )


async def send_preview(
    context: BotContext,
    actor: Actor,
    draft: NoticeDraft,
    error: str = "",
    press: Press[NoticeStep] | None = None,
) -> None:
    """Send the notice exactly as members will get it, then the summary with 确认发布."""
    user_id = actor.user_id
    now = context.deps.clock.now()
    preview = await audience_preview(context.deps.db, actor, audience_of(draft), today(context))
    await keep_draft(context.deps.db, user_id, draft, now)
    if press is not None:
        await press.answer()
        await press.drop_buttons()
    view = _preview_view(draft, user_id, now)
    rendered = render_notice(
        context.deps.catalog,
        context.locale,
        view,
        tz=context.deps.settings.timezone,
        now=now,
        counts=(0, preview.sample_expected),
    )
    markup = None
    if rendered.markup is not None:
        # Same label as members get; pressing it here only explains itself.
        label = rendered.markup.inline_keyboard[0][0].text
        markup = InlineKeyboardMarkup([[button(label, NoticeStep("pre", "pvack"))]])
    await context.bot.send_message(user_id, context.t("notice.preview_intro"))
    last = len(rendered.parts) - 1
    if view.media_kind is not None and view.media_file_id is not None:
        media_markup = markup if last < 0 else None
        send = context.bot.send_photo if view.media_kind == "photo" else context.bot.send_document
        await send(user_id, view.media_file_id, caption=rendered.caption, reply_markup=media_markup)
    for i, part in enumerate(rendered.parts):
        await context.bot.send_message(user_id, part, reply_markup=markup if i == last else None)
    lines = [context.t(error), ""] if error else []
    lines += _summary_lines(context, draft, preview)
    keyboard: Keyboard = []
    if preview.groups or preview.private_copies:
        keyboard.append([button(context.plain("notice.publish"), NoticeStep("pre", "ok"))])
    else:
        lines += ["", context.t("notice.summary.nobody")]
    keyboard.append(
        [
            button(context.plain("notice.redo"), NoticeStep("pre", "redo")),
            button(context.plain("wizard.cancel"), NoticeStep("pre", "x")),
        ]
    )
    parts = split_message(lines)
    for i, part in enumerate(parts):
        last_part = i == len(parts) - 1
        await context.bot.send_message(
            user_id, part, reply_markup=InlineKeyboardMarkup(keyboard) if last_part else None
        )


def _summary_lines(context: BotContext, draft: NoticeDraft, preview: AudiencePreview) -> list[str]:
    tz = context.deps.settings.timezone
    lines = [
        context.t("notice.summary.title"),
        context.t("notice.summary.org", org=draft.org_name),
        context.t(
            "notice.summary.reach",
            branches=preview.branches,
            groups=preview.groups,
            private=preview.private_copies,
            people=preview.expected,
        ),
        context.t("notice.aud.stages", stages=stages_text(context, draft)),
        *options_lines(context, draft),
    ]
    if draft.send_at is None:
        lines.append(context.t("notice.summary.now"))
    else:
        when = format_datetime(context, draft.send_at, tz)
        lines.append(context.t("notice.summary.at", when=when))
    if preview.without_group:
        lines.append("")
        lines.append(context.t("notice.summary.without_group", count=len(preview.without_group)))
        lines += [context.t("common.bullet", text=name) for name in preview.without_group]
    return lines


async def publish(press: Press[NoticeStep], context: BotContext) -> None:
    """确认发布: one intent (notice, copies, the draft's deletion), then the report."""
    db = context.deps.db
    published = await publish_draft(
        db, press.actor, now=context.deps.clock.now(), today=today(context)
    )
    await press.answer("notice.published_short")
    await press.drop_buttons()
    notice = published.notice
    groups, private = published.groups, published.private_copies
    if notice.status == "scheduled":
        when = format_datetime(context, notice.send_at, context.deps.settings.timezone)
        text = context.t("notice.scheduled", when=when, groups=groups, private=private)
    else:
        text = context.t("notice.sending", groups=groups, private=private)
    report = await context.bot.send_message(press.user_id, text)
    await set_report_message(db, notice.id, report.chat_id, report.message_id)
    # Woken only now, so the worker finds the progress message it is to keep up to date.
    context.deps.outbox.wake()
