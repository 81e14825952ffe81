"""The /org menu: superadmins and committee admins build the tree and appoint its offices."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, ClassVar

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from domain.org import KINDS_BY_LEVEL, Kind, Level, Role
from domain.validation import Invalid, clean_text, parse_short_text
from handlers.common import actor_of, edit_text, is_private, today
from handlers.compliance import frequencies_row
from handlers.registration import registration_link
from handlers.wizard import WizardRouter
from services.drafts import DraftView, clear_draft, get_draft, save_draft
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
    creation_target,
    end_office,
    new_org,
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
CREATE_FLOW = "org_create"
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


async def _refuse(query: CallbackQuery, context: BotContext, code: str) -> None:
    await query.answer(context.plain(error_key(code, "org")), show_alert=True)


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


async def open_button(update: Update, context: BotContext) -> None:
    """An organization (or the top list) pressed: re-checked in the database, then shown."""
    query = update.callback_query
    assert query is not None
    press = OpenOrg.unpack(query.data)
    if press is None or press.offset < 0:
        await _refuse(query, context, "stale")
        return
    actor, db = actor_of(context, query.from_user), context.deps.db
    try:
        if press.org_id == 0:
            top = await top_orgs(db, actor, today(context))
            text, markup = render_top(context, top, press.offset)
        else:
            card = await org_card(db, actor, press.org_id, today(context), offset=press.offset)
            text, markup = render_card(context, card)
    except ServiceError as exc:
        await _refuse(query, context, exc.code)
        return
    await query.answer()
    await edit_text(query, text, reply_markup=markup)


# ---- creating an organization: level → kind → typed name → preview ----


def _levels(data: dict[str, Any]) -> list[Level]:
    return [Level(v) for v in data["levels"]]


def _kinds(data: dict[str, Any]) -> tuple[Kind, ...]:
    return KINDS_BY_LEVEL[Level(data["level"])]


def _first_open_step(data: dict[str, Any]) -> str:
    """The next unanswered question; a choice with a single option is made without asking."""
    if "level" not in data:
        levels = _levels(data)
        if len(levels) > 1:
            return "level"
        data["level"] = levels[0]
    if "kind" not in data:
        kinds = _kinds(data)
        if len(kinds) > 1:
            return "kind"
        data["kind"] = kinds[0]
    return "name" if "name" not in data else "confirm"


def _step_back(data: dict[str, Any], step: str) -> str:
    """Forget the answer before `step` and return the step that asks it again."""
    order = ["level", "kind", "name", "confirm"]
    for previous in reversed(order[: order.index(step)]):
        if previous == "name":
            data.pop("name", None)
            return "name"
        if previous == "kind" and len(_kinds(data)) > 1:
            data.pop("kind", None)
            return "kind"
        if previous == "level" and len(_levels(data)) > 1:
            data.pop("kind", None)
            data.pop("level", None)
            return "level"
    return step


def _has_back(data: dict[str, Any], step: str) -> bool:
    return _step_back(dict(data), step) != step


def _wizard_nav(context: BotContext, data: dict[str, Any], step: str) -> list[InlineKeyboardButton]:
    row = []
    if _has_back(data, step):
        row.append(_button(context.plain("wizard.back"), NewOrg("back")))
    row.append(_button(context.plain("wizard.cancel"), NewOrg("x")))
    return row


def render_step(
    context: BotContext, data: dict[str, Any], step: str, error: str = ""
) -> tuple[str, InlineKeyboardMarkup]:
    """The question of one create-wizard step, after an error line when there is one."""
    text = error + "\n\n" if error else ""
    parent = data.get("parent_name") or context.plain("org.top_parent")
    keyboard: Keyboard = []
    if step == "level":
        text += context.t("org.ask_level", parent=parent)
        keyboard = [
            [_button(_level(context, level), NewOrg("lv", i))]
            for i, level in enumerate(_levels(data))
        ]
    elif step == "kind":
        level = Level(data["level"])
        text += context.t("org.ask_kind", level=_level(context, level))
        keyboard = [
            [_button(kind_label(context, kind), NewOrg("kd", i))]
            for i, kind in enumerate(_kinds(data))
        ]
    elif step == "name":
        level = Level(data["level"])
        text += context.t(ASK_NAME_KEYS[level], parent=parent, limit=ORG_NAME_MAX)
    else:
        level = Level(data["level"])
        text += context.t(
            "org.preview",
            parent=parent,
            level=_level(context, level),
            kind=kind_label(context, Kind(data["kind"])),
            name=data["name"],
        )
        keyboard = [[_button(context.plain("org.confirm_create"), NewOrg("ok"))]]
        keyboard.append(
            [
                _button(context.plain("org.edit_name"), NewOrg("back")),
                _button(context.plain("wizard.cancel"), NewOrg("x")),
            ]
        )
        return text, InlineKeyboardMarkup(keyboard)
    keyboard.append(_wizard_nav(context, data, step))
    return text, InlineKeyboardMarkup(keyboard)


async def new_button(update: Update, context: BotContext) -> None:
    """A button of the create wizard; presses that do not fit the current step are stale."""
    query = update.callback_query
    assert query is not None
    press = NewOrg.unpack(query.data)
    user, db, now = query.from_user, context.deps.db, context.deps.clock.now()
    actor = actor_of(context, user)
    if press is None:
        await _refuse(query, context, "stale")
        return
    if press.action == "p":
        parent_id = press.value or None
        try:
            target = await creation_target(db, actor, parent_id, today(context))
        except ServiceError as exc:
            await _refuse(query, context, exc.code)
            return
        data: dict[str, Any] = {
            "parent_id": parent_id,
            "parent_name": target.parent.name if target.parent else None,
            "levels": [level.value for level in target.levels],
        }
        step = _first_open_step(data)
        await save_draft(db, user.id, CREATE_FLOW, step, data, now)
        text, markup = render_step(context, data, step)
        await query.answer()
        await edit_text(query, text, reply_markup=markup)
        return
    draft = await get_draft(db, user.id)
    if draft is None or draft.flow != CREATE_FLOW:
        await _refuse(query, context, "stale")
        return
    data, step = dict(draft.data), draft.step
    if press.action == "x":
        await clear_draft(db, user.id, CREATE_FLOW)
        await query.answer()
        markup = InlineKeyboardMarkup([[_back_to(context, data.get("parent_id"))]])
        await edit_text(query, context.t("org.create_cancelled"), reply_markup=markup)
        return
    if press.action == "ok" and step == "confirm":
        await _create(query, context, data)
        return
    if press.action == "back" and _has_back(data, step):
        step = _step_back(data, step)
    elif press.action == "lv" and step == "level" and 0 <= press.value < len(data["levels"]):
        data["level"] = data["levels"][press.value]
        step = _first_open_step(data)
    elif press.action == "kd" and step == "kind" and 0 <= press.value < len(_kinds(data)):
        data["kind"] = _kinds(data)[press.value].value
        step = _first_open_step(data)
    else:
        await _refuse(query, context, "stale")
        return
    await save_draft(db, user.id, CREATE_FLOW, step, data, now)
    text, markup = render_step(context, data, step)
    await query.answer()
    await edit_text(query, text, reply_markup=markup)


async def _create(query: CallbackQuery, context: BotContext, data: dict[str, Any]) -> None:
    user, db = query.from_user, context.deps.db
    try:
        card = await new_org(
            db,
            actor_of(context, user),
            name=data["name"],
            level=Level(data["level"]),
            kind=Kind(data["kind"]),
            parent_id=data.get("parent_id"),
            now=context.deps.clock.now(),
            today=today(context),
        )
    except ServiceError as exc:
        # Nothing was created and the same answers would fail again: start over.
        await clear_draft(db, user.id, CREATE_FLOW)
        await query.answer()
        markup = InlineKeyboardMarkup([[_back_to(context, data.get("parent_id"))]])
        await edit_text(query, context.t(error_key(exc.code, "org")), reply_markup=markup)
        return
    await clear_draft(db, user.id, CREATE_FLOW)
    await query.answer(context.plain("org.created_short"))
    notice = context.t("org.created", level=_level(context, card.org.level), name=card.org.name)
    text, markup = render_card(context, card, notice)
    await edit_text(query, text, reply_markup=markup)


async def typed_name(update: Update, context: BotContext, draft: DraftView) -> None:
    """The typed name of a new organization: checked, then the preview."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert message.text is not None
    assert user is not None
    data = dict(draft.data)
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
        text, markup = render_step(context, data, "name", error)
        await message.reply_text(text, reply_markup=markup)
        return
    data["name"] = name
    await save_draft(
        context.deps.db, user.id, CREATE_FLOW, "confirm", data, context.deps.clock.now()
    )
    text, markup = render_step(context, data, "confirm")
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


async def holder_button(update: Update, context: BotContext) -> None:
    """设置管理员 / 党建指导员: check the right to appoint, then ask who."""
    query = update.callback_query
    assert query is not None
    press = AskHolder.unpack(query.data)
    role = _holder_role(press.role) if press else None
    if press is None or role is None:
        await _refuse(query, context, "stale")
        return
    user, db = query.from_user, context.deps.db
    try:
        org = await office_target(db, actor_of(context, user), press.org_id, role, today(context))
    except ServiceError as exc:
        await _refuse(query, context, exc.code)
        return
    data = {"org_id": org.id, "org_name": org.name, "role": role.value}
    await save_draft(db, user.id, HOLDER_FLOW, "handle", data, context.deps.clock.now())
    text, markup = _holder_question(context, role, org.name, org.id)
    await query.answer()
    await edit_text(query, text, reply_markup=markup)


async def typed_holder(update: Update, context: BotContext, draft: DraftView) -> None:
    """The typed @username or id of a new committee admin or instructor."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert message.text is not None
    assert user is not None
    db, data = context.deps.db, draft.data
    role, org_id = Role(data["role"]), int(data["org_id"])
    try:
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


async def stop_holder_button(update: Update, context: BotContext) -> None:
    """取消 on the typed question: forget it and show the organization again."""
    query = update.callback_query
    assert query is not None
    press = StopHolder.unpack(query.data)
    if press is None:
        await _refuse(query, context, "stale")
        return
    user, db = query.from_user, context.deps.db
    await clear_draft(db, user.id, HOLDER_FLOW)
    try:
        card = await org_card(db, actor_of(context, user), press.org_id, today(context))
    except ServiceError:
        await query.answer()
        await edit_text(query, context.t("org.holder_cancelled"))
        return
    await query.answer()
    text, markup = render_card(context, card, context.t("org.holder_cancelled"))
    await edit_text(query, text, reply_markup=markup)


async def secretary_list_button(update: Update, context: BotContext) -> None:
    """设置书记: the branch's roster as buttons (re-checked in the database)."""
    query = update.callback_query
    assert query is not None
    press = PickSecretary.unpack(query.data)
    if press is None or press.offset < 0:
        await _refuse(query, context, "stale")
        return
    try:
        result = await candidates(
            context.deps.db, actor_of(context, query.from_user), press.org_id, today(context)
        )
    except ServiceError as exc:
        await _refuse(query, context, exc.code)
        return
    text, markup = render_candidates(context, result, press.offset)
    await query.answer()
    await edit_text(query, text, reply_markup=markup)


async def secretary_button(update: Update, context: BotContext) -> None:
    """A roster member picked as secretary: the previous secretary's term ends."""
    query = update.callback_query
    assert query is not None
    press = SetSecretary.unpack(query.data)
    if press is None:
        await _refuse(query, context, "stale")
        return
    try:
        done = await appoint_secretary(
            context.deps.db, actor_of(context, query.from_user), press.org_id, press.member_id,
            now=context.deps.clock.now(), today=today(context),
        )  # fmt: skip
    except ServiceError as exc:
        await _refuse(query, context, exc.code)
        return
    await query.answer(context.plain("org.appointed_short"))
    notice = context.t(
        "org.appointed",
        holder=done.role.holder,
        name=done.offices.org.name,
        role=role_label(context, Role.SECRETARY),
    )
    text, markup = render_offices(context, done.offices, notice=notice)
    await edit_text(query, text, reply_markup=markup)


async def offices_button(update: Update, context: BotContext) -> None:
    """查看职务: the offices held today, with 卸任 buttons."""
    query = update.callback_query
    assert query is not None
    press = ShowOffices.unpack(query.data)
    if press is None or press.offset < 0:
        await _refuse(query, context, "stale")
        return
    try:
        result = await offices(
            context.deps.db, actor_of(context, query.from_user), press.org_id, today(context)
        )
    except ServiceError as exc:
        await _refuse(query, context, exc.code)
        return
    text, markup = render_offices(context, result, press.offset)
    await query.answer()
    await edit_text(query, text, reply_markup=markup)


async def end_button(update: Update, context: BotContext) -> None:
    """卸任: end the office today (recorded in the audit log) and show the offices again."""
    query = update.callback_query
    assert query is not None
    press = EndOffice.unpack(query.data)
    if press is None:
        await _refuse(query, context, "stale")
        return
    try:
        ended = await end_office(
            context.deps.db, actor_of(context, query.from_user), press.role_id,
            now=context.deps.clock.now(), today=today(context),
        )  # fmt: skip
    except ServiceError as exc:
        await _refuse(query, context, exc.code)
        return
    await query.answer(context.plain("org.ended_short"))
    notice = context.t(
        "org.ended", holder=ended.office.holder, role=role_label(context, ended.office.role)
    )
    text, markup = render_offices(context, ended.offices, notice=notice)
    await edit_text(query, text, reply_markup=markup)


async def gate_button(update: Update, context: BotContext) -> None:
    """群门禁 on or off for a branch."""
    query = update.callback_query
    assert query is not None
    press = ToggleGate.unpack(query.data)
    if press is None or press.enabled not in (0, 1):
        await _refuse(query, context, "stale")
        return
    try:
        card = await switch_gate(
            context.deps.db, actor_of(context, query.from_user), press.org_id,
            bool(press.enabled), now=context.deps.clock.now(), today=today(context),
        )  # fmt: skip
    except ServiceError as exc:
        await _refuse(query, context, exc.code)
        return
    await query.answer(context.plain("org.gate_on_done" if press.enabled else "org.gate_off_done"))
    text, markup = render_card(context, card)
    await edit_text(query, text, reply_markup=markup)


async def link_button(update: Update, context: BotContext) -> None:
    """登记链接: the deep link members open to register with this branch."""
    query = update.callback_query
    assert query is not None
    press = ShowLink.unpack(query.data)
    if press is None:
        await _refuse(query, context, "stale")
        return
    try:
        card = await org_card(
            context.deps.db, actor_of(context, query.from_user), press.org_id, today(context)
        )
    except ServiceError as exc:
        await _refuse(query, context, exc.code)
        return
    if card.org.level == Level.COMMITTEE:
        # Members register with a branch; a committee has no roster of its own.
        await _refuse(query, context, "stale")
        return
    link = registration_link(context.bot.username, card.org.id)
    await query.answer()
    markup = InlineKeyboardMarkup([[_back_to(context, card.org.id)]])
    await edit_text(query, context.t("org.link_text", name=card.org.name, link=link),
                    reply_markup=markup)  # fmt: skip


def register(app: Application, router: WizardRouter) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("org", org_command))
    for data, callback in (
        (OpenOrg, open_button),
        (NewOrg, new_button),
        (AskHolder, holder_button),
        (StopHolder, stop_holder_button),
        (PickSecretary, secretary_list_button),
        (SetSecretary, secretary_button),
        (ShowOffices, offices_button),
        (EndOffice, end_button),
        (ToggleGate, gate_button),
        (ShowLink, link_button),
    ):
        app.add_handler(CallbackQueryHandler(callback, pattern=data.pattern()))
    router.on_text(CREATE_FLOW, typed_name)
    router.on_text(HOLDER_FLOW, typed_holder)
