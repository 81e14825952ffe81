"""An organization's card and the list one starts from; the group gate and the sign-up link."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from domain.orgs import Level, Role
from domain.orgs_wizard import FIND_STEPS, OrgFindDraft
from domain.pickers import Slice, narrow
from domain.wizard import Event, Refusal, apply
from handlers.common import actor_of, is_private, today
from handlers.compliance import frequencies_row
from handlers.members_registration import registration_link
from handlers.orgs.buttons import (
    PAGE,
    AskHolder,
    FindOrg,
    FoundPage,
    NewOrg,
    OpenOrg,
    PickSecretary,
    ShowLink,
    ShowOffices,
    ToggleGate,
    back_to,
    level_name,
    presses,
)
from handlers.press import Press
from handlers.wizard import typed_draft
from services.authz import Actor
from services.drafts import DraftView, keep_draft, open_draft
from services.errors import Denied
from services.orgs import OrgView
from services.orgs_admin import OrgCard, TopList, org_card, switch_gate, top_orgs
from ui.callbacks import CallbackData, button
from ui.deps import BotContext
from ui.errors import error_key
from ui.pickers import picker_rows, picker_text, with_picker_text
from ui.render import kind_label

Keyboard = list[list[InlineKeyboardButton]]


def render_top(
    context: BotContext, top: TopList, offset: int, find: str = ""
) -> tuple[str, InlineKeyboardMarkup]:
    """The first screen: the organizations one manages (narrowed to names containing `find`),
    and 新建党委 for superadmins."""
    if not top.can_create:
        text = context.t("org.top_admin", count=len(top.orgs))
    elif top.orgs:
        text = context.t("org.top_super", count=len(top.orgs))
    else:
        text = context.t("org.top_empty")
    page = narrow(top.orgs, lambda o: o.name, offset, find)
    keyboard = _list_rows(context, 0, page, len(top.orgs))
    if top.can_create:
        keyboard.append([button(context.plain("org.new_committee"), NewOrg("p", 0))])
    return with_picker_text(context, text, page), InlineKeyboardMarkup(keyboard)


def _list_rows(context: BotContext, org_id: int, page: Slice[OrgView], everything: int) -> Keyboard:
    """The shared picker over children (or the top list), with 按名称查找 on a long list."""

    def turn(offset: int) -> CallbackData:
        return FoundPage(org_id, offset) if page.part else OpenOrg(org_id, offset)

    keyboard = picker_rows(
        context, page, label=lambda o: o.name, pick=lambda o: OpenOrg(o.id), turn=turn,
        everything=OpenOrg(org_id),
    )  # fmt: skip
    if everything > PAGE and not page.part:
        keyboard.append([button(context.plain("picker.find"), FindOrg(org_id))])
    return keyboard


def render_card(
    context: BotContext, card: OrgCard, notice: str = ""
) -> tuple[str, InlineKeyboardMarkup]:
    """An organization's card: numbers, children (paged) and what one can do here."""
    org = card.org
    lines = [notice, ""] if notice else []
    lines.append(
        context.t(
            "org.card",
            name=org.name,
            level=level_name(context, org.level),
            kind=kind_label(context, org.kind),
            children=card.child_count,
        )
    )
    if org.level != Level.COMMITTEE:
        lines.append(context.t("org.card_members", count=card.members))
        lines.append(context.t("org.card_gate_on" if org.gate_enabled else "org.card_gate_off"))
    page = Slice(card.children, card.offset, card.found, card.find)
    if card.find:
        lines.append(picker_text(context, page))
    elif card.child_count > PAGE:
        lines.append(
            context.t(
                "org.card_page",
                first=card.offset + 1,
                last=card.offset + len(card.children),
                total=card.child_count,
            )
        )
    keyboard = _list_rows(context, org.id, page, card.child_count)
    if org.level != Level.BRANCH:
        keyboard.append([button(context.plain("org.new_child"), NewOrg("p", org.id))])
    instructor = button(context.plain("org.set_instructor"), AskHolder(org.id, Role.INSTRUCTOR))
    if org.level == Level.COMMITTEE:
        admin = AskHolder(org.id, Role.COMMITTEE_ADMIN)
        keyboard.append([button(context.plain("org.set_admin"), admin), instructor])
        keeper = AskHolder(org.id, Role.DUES_KEEPER)
        keyboard.append([button(context.plain("org.set_dues_keeper"), keeper)])
        keyboard.append(frequencies_row(context, org.id))
    else:
        secretary = button(context.plain("org.set_secretary"), PickSecretary(org.id))
        keyboard.append([secretary, instructor])
    keyboard.append([button(context.plain("org.offices"), ShowOffices(org.id))])
    if org.level != Level.COMMITTEE:
        gate = (
            button(context.plain("org.gate_turn_off"), ToggleGate(org.id, 0))
            if org.gate_enabled
            else button(context.plain("org.gate_turn_on"), ToggleGate(org.id, 1))
        )
        keyboard.append([button(context.plain("org.link"), ShowLink(org.id)), gate])
    if card.parent is not None:
        keyboard.append([button(context.plain("org.back_up"), OpenOrg(card.parent.id))])
    else:
        keyboard.append([back_to(context, None)])
    return "\n".join(lines), InlineKeyboardMarkup(keyboard)


async def org_command(update: Update, context: BotContext) -> None:
    """/org: the organizations one manages, or a clear refusal."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    if not is_private(update):
        await message.reply_text(context.t("org.use_private"))
        return
    try:
        top = await top_orgs(context.deps.db, actor_of(context, user), today(context))
    except Denied:
        await message.reply_text(context.t("org.not_admin"))
        return
    text, markup = render_top(context, top, 0)
    await message.reply_text(text, reply_markup=markup)


@presses.on(OpenOrg)
async def open_org(press: Press[OpenOrg], context: BotContext) -> None:
    """An organization (or the top list) pressed: re-checked in the database, then shown."""
    org_id, offset = press.data.org_id, press.data.offset
    if offset < 0:
        await press.refuse("stale")
        return
    if org_id == 0:
        top = await top_orgs(context.deps.db, press.actor, today(context))
        text, markup = render_top(context, top, offset)
    else:
        card = await org_card(context.deps.db, press.actor, org_id, today(context), offset=offset)
        text, markup = render_card(context, card)
    await press.answer()
    await press.edit(text, markup)


@presses.on(ToggleGate, enabled=(0, 1))
async def gate(press: Press[ToggleGate], context: BotContext) -> None:
    """群门禁 on or off for a branch."""
    enabled = bool(press.data.enabled)
    card = await switch_gate(
        context.deps.db, press.actor, press.data.org_id, enabled,
        now=context.deps.clock.now(), today=today(context),
    )  # fmt: skip
    await press.answer("org.gate_on_done" if enabled else "org.gate_off_done")
    text, markup = render_card(context, card)
    await press.edit(text, markup)


@presses.on(ShowLink)
async def link(press: Press[ShowLink], context: BotContext) -> None:
    """登记链接: the deep link members open to register with this branch."""
    card = await org_card(context.deps.db, press.actor, press.data.org_id, today(context))
    if card.org.level == Level.COMMITTEE:
        # Members register with a branch; a committee has no roster of its own.
        await press.refuse("stale")
        return
    url = registration_link(context.bot.username, card.org.id)
    await press.answer()
    markup = InlineKeyboardMarkup([[back_to(context, card.org.id)]])
    await press.edit(context.t("org.link_text", name=card.org.name, link=url), markup)


@presses.on(FindOrg)
async def ask_find(press: Press[FindOrg], context: BotContext) -> None:
    """按名称查找: re-checked, then waiting for part of a name."""
    org_id = press.data.org_id
    if org_id:
        await org_card(context.deps.db, press.actor, org_id, today(context))
    else:
        await top_orgs(context.deps.db, press.actor, today(context))
    draft = OrgFindDraft(step="find", org_id=org_id)
    await keep_draft(context.deps.db, press.user_id, draft, context.deps.clock.now())
    await press.answer()
    await context.bot.send_message(press.user_id, context.t("picker.ask_find"))


@presses.on(FoundPage)
async def found_page(press: Press[FoundPage], context: BotContext) -> None:
    """A page of the narrowed list; the typed part is the one kept for this list."""
    found = await open_draft(context.deps.db, press.user_id, OrgFindDraft)
    find = (
        found.find if isinstance(found, OrgFindDraft) and found.org_id == press.data.org_id else ""
    )
    text, markup = await _list_screen(
        context, press.actor, press.data.org_id, press.data.offset, find
    )
    await press.answer()
    await press.edit(text, markup)


async def _list_screen(
    context: BotContext, actor: Actor, org_id: int, offset: int, find: str
) -> tuple[str, InlineKeyboardMarkup]:
    if org_id == 0:
        top = await top_orgs(context.deps.db, actor, today(context))
        return render_top(context, top, offset, find)
    card = await org_card(
        context.deps.db, actor, org_id, today(context), offset=max(0, offset), find=find
    )
    return render_card(context, card)


async def typed_find(update: Update, context: BotContext, _view: DraftView) -> None:
    """Part of a name typed after 按名称查找: the list narrowed to the names containing it."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    draft = await typed_draft(update, context, OrgFindDraft)
    if draft is None:
        return
    found = apply(
        FIND_STEPS, draft, Event("text", text=message.text or ""), context.deps.clock.now()
    )
    if isinstance(found, Refusal):
        await message.reply_text(context.t(error_key(found.code)))
        return
    actor = actor_of(context, user)
    try:
        text, markup = await _list_screen(context, actor, found.org_id, 0, found.find)
    except Denied:
        await message.reply_text(context.t("org.not_admin"))
        return
    await keep_draft(context.deps.db, user.id, found, context.deps.clock.now())
    await message.reply_text(text, reply_markup=markup)
