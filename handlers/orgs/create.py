"""Creating an organization from /org: level → kind → typed name → preview → created."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from domain.orgs import Level
from domain.orgs_wizard import NewOrgDraft, begin, choose_kind, choose_level, named, step_back
from domain.validation import Invalid, clean_text, parse_short_text
from handlers.common import today
from handlers.orgs.buttons import NewOrg, back_to, level_name, presses
from handlers.orgs.card import render_card
from handlers.press import Press
from services.drafts import DraftView, clear_draft, keep_draft, open_draft
from services.errors import ServiceError
from services.orgs import ORG_NAME_MAX
from services.orgs_admin import create_from_draft, creation_target
from ui.callbacks import button
from ui.deps import BotContext
from ui.errors import error_key
from ui.render import kind_label

Keyboard = list[list[InlineKeyboardButton]]

# The name question carries an example fitting the level.
ASK_NAME_KEYS: dict[Level, str] = {
    Level.COMMITTEE: "org.ask_name.committee",
    Level.GENERAL_BRANCH: "org.ask_name.general_branch",
    Level.BRANCH: "org.ask_name.branch",
}


def _wizard_nav(context: BotContext, draft: NewOrgDraft) -> list[InlineKeyboardButton]:
    row = []
    if step_back(draft) is not None:
        row.append(button(context.plain("wizard.back"), NewOrg("back")))
    row.append(button(context.plain("wizard.cancel"), NewOrg("x")))
    return row


def render_step(
    context: BotContext, draft: NewOrgDraft, error: str = ""
) -> tuple[str, InlineKeyboardMarkup]:
    """The question of the create wizard's step, after an error line when there is one."""
    text = error + "\n\n" if error else ""
    parent = draft.parent_name or context.plain("org.top_parent")
    keyboard: Keyboard = []
    if draft.step == "level":
        text += context.t("org.ask_level", parent=parent)
        keyboard = [
            [button(level_name(context, level), NewOrg("lv", i))]
            for i, level in enumerate(draft.levels)
        ]
    elif draft.step == "kind":
        assert draft.level is not None
        text += context.t("org.ask_kind", level=level_name(context, draft.level))
        keyboard = [
            [button(kind_label(context, kind), NewOrg("kd", i))]
            for i, kind in enumerate(draft.kinds)
        ]
    elif draft.step == "name":
        assert draft.level is not None
        text += context.t(ASK_NAME_KEYS[draft.level], parent=parent, limit=ORG_NAME_MAX)
    else:
        assert draft.level is not None
        assert draft.kind is not None
        text += context.t(
            "org.preview",
            parent=parent,
            level=level_name(context, draft.level),
            kind=kind_label(context, draft.kind),
            name=draft.name,
        )
        keyboard = [[button(context.plain("org.confirm_create"), NewOrg("ok"))]]
        keyboard.append(
            [
                button(context.plain("org.edit_name"), NewOrg("back")),
                button(context.plain("wizard.cancel"), NewOrg("x")),
            ]
        )
        return text, InlineKeyboardMarkup(keyboard)
    keyboard.append(_wizard_nav(context, draft))
    return text, InlineKeyboardMarkup(keyboard)


async def _show_step(press: Press[NewOrg], context: BotContext, draft: NewOrgDraft) -> None:
    await keep_draft(context.deps.db, press.user_id, draft, context.deps.clock.now())
    text, markup = render_step(context, draft)
    await press.answer()
    await press.edit(text, markup)


@presses.on(NewOrg, action="p")
async def start_new(press: Press[NewOrg], context: BotContext) -> None:
    """新建党委 / 新建下级组织: check the right to create here, then the first question."""
    parent_id = press.data.value or None
    target = await creation_target(context.deps.db, press.actor, parent_id, today(context))
    parent_name = target.parent.name if target.parent else None
    await _show_step(press, context, begin(parent_id, parent_name, target.levels))


async def _open(press: Press[NewOrg], context: BotContext) -> NewOrgDraft | None:
    """The person's create wizard; None (refused as stale) when there is none."""
    draft = await open_draft(context.deps.db, press.user_id, NewOrgDraft)
    if not isinstance(draft, NewOrgDraft):
        await press.refuse("stale")
        return None
    return draft


@presses.on(NewOrg, action="x")
async def cancel_new(press: Press[NewOrg], context: BotContext) -> None:
    """取消: forget the answers, offer the way back."""
    draft = await _open(press, context)
    if draft is None:
        return
    await clear_draft(context.deps.db, press.user_id, NewOrgDraft.FLOW)
    await press.answer()
    markup = InlineKeyboardMarkup([[back_to(context, draft.parent_id)]])
    await press.edit(context.t("org.create_cancelled"), markup)


@presses.on(NewOrg, action=("back", "lv", "kd"))
async def answer_new(press: Press[NewOrg], context: BotContext) -> None:
    """上一步, a level or a kind: the next question (buttons of another step are stale)."""
    draft = await _open(press, context)
    if draft is None:
        return
    action, value = press.data.action, press.data.value
    if action == "back":
        moved = step_back(draft)
    elif action == "lv":
        moved = choose_level(draft, value)
    else:
        moved = choose_kind(draft, value)
    if moved is None:
        await press.refuse("stale")
        return
    await _show_step(press, context, moved)


@presses.on(NewOrg, action="ok")
async def create(press: Press[NewOrg], context: BotContext) -> None:
    """确认创建: the organization is created and the wizard ends, in one transaction."""
    draft = await _open(press, context)
    if draft is None:
        return
    if draft.step != "confirm":
        await press.refuse("stale")
        return
    try:
        card = await create_from_draft(
            context.deps.db, press.actor, now=context.deps.clock.now(), today=today(context)
        )
    except ServiceError as exc:
        if exc.code == "stale":
            raise
        # Nothing was created and the same answers would fail again: start over.
        await clear_draft(context.deps.db, press.user_id, NewOrgDraft.FLOW)
        await press.answer()
        markup = InlineKeyboardMarkup([[back_to(context, draft.parent_id)]])
        await press.edit(context.t(error_key(exc.code, "org")), markup)
        return
    await press.answer("org.created_short")
    notice = context.t("org.created", level=level_name(context, card.org.level), name=card.org.name)
    text, markup = render_card(context, card, notice)
    await press.edit(text, markup)


async def typed_name(update: Update, context: BotContext, _view: DraftView) -> None:
    """The typed name of a new organization: checked, then the preview."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert message.text is not None
    assert user is not None
    draft = await open_draft(context.deps.db, user.id, NewOrgDraft)
    if not isinstance(draft, NewOrgDraft):
        await message.reply_text(context.t("wizard.cancelled"))
        return
    if draft.step != "name":
        await message.reply_text(context.t("org.use_buttons"))
        return
    name = parse_short_text(message.text, ORG_NAME_MAX)
    if isinstance(name, Invalid):
        if name.code == "text.too_long":
            error = context.t(
                "org.error.name_too_long", limit=ORG_NAME_MAX, count=len(clean_text(message.text))
            )
        else:
            error = context.t("org.error.name_empty")
        text, markup = render_step(context, draft, error)
        await message.reply_text(text, reply_markup=markup)
        return
    preview = await keep_draft(
        context.deps.db, user.id, named(draft, name), context.deps.clock.now()
    )
    text, markup = render_step(context, preview)
    await message.reply_text(text, reply_markup=markup)
