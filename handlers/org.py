"""The /org menu: superadmins and committee admins build the tree and appoint its offices."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import ClassVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CommandHandler

from domain.org import Level, Role
from domain.org_wizard import NewOrgDraft, begin, choose_kind, choose_level, named, step_back
from domain.validation import Invalid, clean_text, parse_short_text
from handlers.common import actor_of, is_private, today
from handlers.compliance import frequencies_row
from handlers.press import Press, Presses
from handlers.registration import registration_link
from handlers.wizard import WizardRouter
from services.drafts import DraftView, clear_draft, keep_draft, open_draft, save_draft
from services.errors import Denied, ServiceError
from services.org_admin import (
    USER_OFFICES,
    Candidates,
    Offices,
    OrgCard,
    TopList,
    appoint_secretary,
    appoint_user,
    candidates,
    create_from_draft,
    creation_target,
    end_office,
    office_target,
    offices,
    org_card,
    switch_gate,
    top_orgs,
)
from services.orgs import ORG_NAME_MAX
from ui.callbacks import CallbackData
from ui.deps import BotContext
from ui.errors import error_key
from ui.render import kind_label, role_label

PAGE = 8
BUTTON_NAME_MAX = 40
HOLDER_FLOW = "org_holder"

LEVEL_KEYS: dict[Level, str] = {
    Level.COMMITTEE: "org.level.committee",
    Level.GENERAL_BRANCH: "org.level.general_branch",
    Level.BRANCH: "org.level.branch",
}
# The name question carries an example fitting the level.
ASK_NAME_KEYS: dict[Level, str] = {
    Level.COMMITTEE: "org.ask_name.committee",
    Level.GENERAL_BRANCH: "org.ask_name.general_branch",
    Level.BRANCH: "org.ask_name.branch",
}
ASK_HOLDER_KEYS: dict[Role, str] = {
    Role.COMMITTEE_ADMIN: "org.ask_holder.committee_admin",
    Role.INSTRUCTOR: "org.ask_holder.instructor",
}


@dataclasses.dataclass(frozen=True)
class OpenOrg(CallbackData):
    """Show an organization's card (org_id 0: the list of one's top organizations), paged."""

    prefix: ClassVar[str] = "o"
    org_id: int
    offset: int = 0


@dataclasses.dataclass(frozen=True)
class NewOrg(CallbackData):
    """A step of the create wizard: p(arent) / lv / kd / back / ok / x, with a number."""

    prefix: ClassVar[str] = "on"
    action: str
    value: int = 0


@dataclasses.dataclass(frozen=True)
class AskHolder(CallbackData):
    """Ask who should become committee admin or instructor of an organization."""

    prefix: ClassVar[str] = "oa"
    org_id: int
    role: str


@dataclasses.dataclass(frozen=True)
class StopHolder(CallbackData):
    """Cancel the typed committee-admin or instructor question."""

    prefix: ClassVar[str] = "ox"
    org_id: int


@dataclasses.dataclass(frozen=True)
class PickSecretary(CallbackData):
    """The branch's roster as buttons, to choose its secretary."""

    prefix: ClassVar[str] = "os"
    org_id: int
    offset: int = 0


@dataclasses.dataclass(frozen=True)
class SetSecretary(CallbackData):
    """A roster member picked as the branch's secretary."""

    prefix: ClassVar[str] = "osm"
    org_id: int
    member_id: int


@dataclasses.dataclass(frozen=True)
class ShowOffices(CallbackData):
    """The offices held today, paged."""

    prefix: ClassVar[str] = "or"
    org_id: int
    offset: int = 0


@dataclasses.dataclass(frozen=True)
class EndOffice(CallbackData):
    """卸任 on one office."""

    prefix: ClassVar[str] = "oe"
    role_id: int


@dataclasses.dataclass(frozen=True)
class ToggleGate(CallbackData):
    """Set the group gate of a branch: the wanted state, so a double press changes nothing."""

    prefix: ClassVar[str] = "og"
    org_id: int
    enabled: int


@dataclasses.dataclass(frozen=True)
class ShowLink(CallbackData):
    """The branch's registration deep link."""

    prefix: ClassVar[str] = "ol"
    org_id: int


Keyboard = list[list[InlineKeyboardButton]]


def _short(name: str) -> str:
    return name if len(name) <= BUTTON_NAME_MAX else name[: BUTTON_NAME_MAX - 1] + "…"


def _button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data.pack())


def _level(context: BotContext, level: Level) -> str:
    return context.plain(LEVEL_KEYS[level])


def _page_start(offset: int, total: int) -> int:
    """The first item of the page holding `offset` (the last page when the list shrank)."""
    return max(0, min(offset, max(total - 1, 0) // PAGE * PAGE))


def _pager(
    context: BotContext, offset: int, total: int, page: Callable[[int], CallbackData]
) -> list[InlineKeyboardButton]:
    """上一页 / 下一页 buttons for `total` items shown PAGE at a time."""
    row = []
    if offset > 0:
        row.append(_button(context.plain("common.prev"), page(max(0, offset - PAGE))))
    if offset + PAGE < total:
        row.append(_button(context.plain("common.next"), page(offset + PAGE)))
    return row


def _back_to(context: BotContext, org_id: int | None) -> InlineKeyboardButton:
    """Back to an organization's card, or to one's list when there is none."""
    if org_id:
        return _button(context.plain("org.back"), OpenOrg(org_id))
    return _button(context.plain("org.back_top"), OpenOrg(0))


def render_top(context: BotContext, top: TopList, offset: int) -> tuple[str, InlineKeyboardMarkup]:
    """The first screen: the organizations one manages, and 新建党委 for superadmins."""
    if not top.can_create:
        text = context.t("org.top_admin", count=len(top.orgs))
    elif top.orgs:
        text = context.t("org.top_super", count=len(top.orgs))
    else:
        text = context.t("org.top_empty")
    offset = _page_start(offset, len(top.orgs))
    page = top.orgs[offset : offset + PAGE]
    keyboard: Keyboard = [[_button(_short(o.name), OpenOrg(o.id))] for o in page]
    nav = _pager(context, offset, len(top.orgs), lambda off: OpenOrg(0, off))
    if nav:
        keyboard.append(nav)
    if top.can_create:
        keyboard.append([_button(context.plain("org.new_committee"), NewOrg("p", 0))])
    return text, InlineKeyboardMarkup(keyboard)


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
            level=_level(context, org.level),
            kind=kind_label(context, org.kind),
            children=card.child_count,
        )
    )
    if org.level != Level.COMMITTEE:
        lines.append(context.t("org.card_members", count=card.members))
        lines.append(context.t("org.card_gate_on" if org.gate_enabled else "org.card_gate_off"))
    if card.child_count > PAGE:
        lines.append(
            context.t(
                "org.card_page",
                first=card.offset + 1,
                last=card.offset + len(card.children),
                total=card.child_count,
            )
        )
    keyboard: Keyboard = [[_button(_short(c.name), OpenOrg(c.id))] for c in card.children]
    nav = _pager(context, card.offset, card.child_count, lambda off: OpenOrg(org.id, off))
    if nav:
        keyboard.append(nav)
    if org.level != Level.BRANCH:
        keyboard.append([_button(context.plain("org.new_child"), NewOrg("p", org.id))])
    instructor = _button(context.plain("org.set_instructor"), AskHolder(org.id, Role.INSTRUCTOR))
    if org.level == Level.COMMITTEE:
        admin = AskHolder(org.id, Role.COMMITTEE_ADMIN)
        keyboard.append([_button(context.plain("org.set_admin"), admin), instructor])
        keyboard.append(frequencies_row(context, org.id))
    else:
        secretary = _button(context.plain("org.set_secretary"), PickSecretary(org.id))
        keyboard.append([secretary, instructor])
    keyboard.append([_button(context.plain("org.offices"), ShowOffices(org.id))])
    if org.level != Level.COMMITTEE:
        gate = (
            _button(context.plain("org.gate_turn_off"), ToggleGate(org.id, 0))
            if org.gate_enabled
            else _button(context.plain("org.gate_turn_on"), ToggleGate(org.id, 1))
        )
        keyboard.append([_button(context.plain("org.link"), ShowLink(org.id)), gate])
    if card.parent is not None:
        keyboard.append([_button(context.plain("org.back_up"), OpenOrg(card.parent.id))])
    else:
        keyboard.append([_back_to(context, None)])
    return "\n".join(lines), InlineKeyboardMarkup(keyboard)


def render_offices(
    context: BotContext, result: Offices, offset: int = 0, notice: str = ""
) -> tuple[str, InlineKeyboardMarkup]:
    """The offices held today, each with a 卸任 button unless it already ends today."""
    org = result.org
    lines = [notice, ""] if notice else []
    lines.append(context.t("org.offices_title", name=org.name, count=len(result.items)))
    if not result.items:
        lines.append(context.t("org.offices_empty"))
    offset = _page_start(offset, len(result.items))
    keyboard: Keyboard = []
    for index, office in enumerate(result.items[offset : offset + PAGE], offset + 1):
        role = role_label(context, office.role)
        if office.party_group:
            role = context.plain("org.role_in_group", role=role, group=office.party_group)
        line = context.t(
            "org.office_line",
            index=index,
            role=role,
            holder=office.holder,
            since=office.start_on.isoformat(),
        )
        if office.ending:
            line += context.t("org.office_ending")
        else:
            label = context.plain("org.end_office", index=index, holder=_short(office.holder))
            keyboard.append([_button(label, EndOffice(office.id))])
        lines.append(line)
    nav = _pager(context, offset, len(result.items), lambda off: ShowOffices(org.id, off))
    if nav:
        keyboard.append(nav)
    keyboard.append([_back_to(context, org.id)])
    return "\n".join(lines), InlineKeyboardMarkup(keyboard)


def render_candidates(
    context: BotContext, result: Candidates, offset: int
) -> tuple[str, InlineKeyboardMarkup]:
    """The branch's roster as buttons, to pick its secretary."""
    org = result.org
    current = result.secretary or context.plain("org.nobody")
    if result.members:
        text = context.t("org.pick_secretary", name=org.name, current=current)
    else:
        text = context.t("org.no_members", name=org.name)
    offset = _page_start(offset, len(result.members))
    keyboard: Keyboard = [
        [_button(_short(m.name), SetSecretary(org.id, m.id))]
        for m in result.members[offset : offset + PAGE]
    ]
    nav = _pager(context, offset, len(result.members), lambda off: PickSecretary(org.id, off))
    if nav:
        keyboard.append(nav)
    keyboard.append([_back_to(context, org.id)])
    return text, InlineKeyboardMarkup(keyboard)


presses = Presses("org")


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


# ---- creating an organization: level → kind → typed name → preview ----


def _wizard_nav(context: BotContext, draft: NewOrgDraft) -> list[InlineKeyboardButton]:
    row = []
    if step_back(draft) is not None:
        row.append(_button(context.plain("wizard.back"), NewOrg("back")))
    row.append(_button(context.plain("wizard.cancel"), NewOrg("x")))
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
            [_button(_level(context, level), NewOrg("lv", i))]
            for i, level in enumerate(draft.levels)
        ]
    elif draft.step == "kind":
        assert draft.level is not None
        text += context.t("org.ask_kind", level=_level(context, draft.level))
        keyboard = [
            [_button(kind_label(context, kind), NewOrg("kd", i))]
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
            level=_level(context, draft.level),
            kind=kind_label(context, draft.kind),
            name=draft.name,
        )
        keyboard = [[_button(context.plain("org.confirm_create"), NewOrg("ok"))]]
        keyboard.append(
            [
                _button(context.plain("org.edit_name"), NewOrg("back")),
                _button(context.plain("wizard.cancel"), NewOrg("x")),
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
    markup = InlineKeyboardMarkup([[_back_to(context, draft.parent_id)]])
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
        markup = InlineKeyboardMarkup([[_back_to(context, draft.parent_id)]])
        await press.edit(context.t(error_key(exc.code, "org")), markup)
        return
    await press.answer("org.created_short")
    notice = context.t("org.created", level=_level(context, card.org.level), name=card.org.name)
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


# ---- offices: committee admins and instructors (typed), secretaries (from the roster) ----


def _holder_role(raw: str) -> Role | None:
    return next((r for r in USER_OFFICES if r.value == raw), None)


def _holder_question(
    context: BotContext, role: Role, org_name: str, org_id: int, error: str = ""
) -> tuple[str, InlineKeyboardMarkup]:
    text = (error + "\n\n" if error else "") + context.t(ASK_HOLDER_KEYS[role], name=org_name)
    cancel = _button(context.plain("wizard.cancel"), StopHolder(org_id))
    return text, InlineKeyboardMarkup([[cancel]])


@presses.on(AskHolder)
async def ask_holder(press: Press[AskHolder], context: BotContext) -> None:
    """设置管理员 / 党建指导员: check the right to appoint, then ask who."""
    role = _holder_role(press.data.role)
    if role is None:
        await press.refuse("stale")
        return
    db = context.deps.db
    org = await office_target(db, press.actor, press.data.org_id, role, today(context))
    data = {"org_id": org.id, "org_name": org.name, "role": role.value}
    await save_draft(db, press.user_id, HOLDER_FLOW, "handle", data, context.deps.clock.now())
    text, markup = _holder_question(context, role, org.name, org.id)
    await press.answer()
    await press.edit(text, markup)


async def typed_holder(update: Update, context: BotContext, draft: DraftView) -> None:
    """The typed @username or id of a new committee admin or instructor."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert message.text is not None
    assert user is not None
    db, data = context.deps.db, draft.data
    role, org_id = Role(data["role"]), int(data["org_id"])
    try:
        # Granting the same office to the same person again changes nothing (grant_role
        # returns the office held), so a replayed message cannot appoint twice.
        done = await appoint_user(
            db, actor_of(context, user), org_id, role, message.text,
            now=context.deps.clock.now(), today=today(context),
        )  # fmt: skip
    except ServiceError as exc:
        error = context.t(error_key(exc.code, "org"))
        if exc.code in ("user.unknown", "org.bad_handle"):
            # The draft stays: the admin types the name again or cancels.
            text, markup = _holder_question(context, role, data["org_name"], org_id, error)
            await message.reply_text(text, reply_markup=markup)
            return
        await clear_draft(db, user.id, HOLDER_FLOW)
        await message.reply_text(error)
        return
    await clear_draft(db, user.id, HOLDER_FLOW)
    notice = context.t(
        "org.appointed",
        holder=done.role.holder,
        name=done.offices.org.name,
        role=role_label(context, role),
    )
    text, markup = render_offices(context, done.offices, notice=notice)
    await message.reply_text(text, reply_markup=markup)


@presses.on(StopHolder)
async def stop_holder(press: Press[StopHolder], context: BotContext) -> None:
    """取消 on the typed question: forget it and show the organization again."""
    db = context.deps.db
    await clear_draft(db, press.user_id, HOLDER_FLOW)
    cancelled = context.t("org.holder_cancelled")
    try:
        card = await org_card(db, press.actor, press.data.org_id, today(context))
    except ServiceError:
        await press.answer()
        await press.edit(cancelled)
        return
    await press.answer()
    text, markup = render_card(context, card, cancelled)
    await press.edit(text, markup)


@presses.on(PickSecretary)
async def pick_secretary(press: Press[PickSecretary], context: BotContext) -> None:
    """设置书记: the branch's roster as buttons (re-checked in the database)."""
    if press.data.offset < 0:
        await press.refuse("stale")
        return
    result = await candidates(context.deps.db, press.actor, press.data.org_id, today(context))
    text, markup = render_candidates(context, result, press.data.offset)
    await press.answer()
    await press.edit(text, markup)


@presses.on(SetSecretary)
async def set_secretary(press: Press[SetSecretary], context: BotContext) -> None:
    """A roster member picked as secretary: the previous secretary's term ends."""
    done = await appoint_secretary(
        context.deps.db, press.actor, press.data.org_id, press.data.member_id,
        now=context.deps.clock.now(), today=today(context),
    )  # fmt: skip
    await press.answer("org.appointed_short")
    notice = context.t(
        "org.appointed",
        holder=done.role.holder,
        name=done.offices.org.name,
        role=role_label(context, Role.SECRETARY),
    )
    text, markup = render_offices(context, done.offices, notice=notice)
    await press.edit(text, markup)


@presses.on(ShowOffices)
async def show_offices(press: Press[ShowOffices], context: BotContext) -> None:
    """查看职务: the offices held today, with 卸任 buttons."""
    if press.data.offset < 0:
        await press.refuse("stale")
        return
    result = await offices(context.deps.db, press.actor, press.data.org_id, today(context))
    text, markup = render_offices(context, result, press.data.offset)
    await press.answer()
    await press.edit(text, markup)


@presses.on(EndOffice)
async def end(press: Press[EndOffice], context: BotContext) -> None:
    """卸任: end the office today (recorded in the audit log) and show the offices again."""
    ended = await end_office(
        context.deps.db, press.actor, press.data.role_id,
        now=context.deps.clock.now(), today=today(context),
    )  # fmt: skip
    await press.answer("org.ended_short")
    notice = context.t(
        "org.ended", holder=ended.office.holder, role=role_label(context, ended.office.role)
    )
    text, markup = render_offices(context, ended.offices, notice=notice)
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
    markup = InlineKeyboardMarkup([[_back_to(context, card.org.id)]])
    await press.edit(context.t("org.link_text", name=card.org.name, link=url), markup)


def register(app: Application, router: WizardRouter) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("org", org_command))
    presses.register(app)
    router.on_text(NewOrgDraft.FLOW, typed_name)
    router.on_text(HOLDER_FLOW, typed_holder)
