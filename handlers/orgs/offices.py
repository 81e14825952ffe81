"""Offices from /org: committee admins and instructors (typed), secretaries (from the
roster), the offices held today and 卸任."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from domain.orgs import Role
from domain.orgs_wizard import SECRETARY_STEPS, HolderDraft, SecretaryFindDraft
from domain.orgs_wizard import ask_holder as holder_question
from domain.pickers import narrow
from domain.wizard import Event, Refusal, apply
from handlers.common import actor_of, today
from handlers.orgs.buttons import (
    PAGE,
    AllCandidates,
    AskHolder,
    EndOffice,
    PickSecretary,
    SetSecretary,
    ShowOffices,
    StopHolder,
    back_to,
    page_start,
    pager,
    presses,
    short_name,
)
from handlers.orgs.card import render_card
from handlers.press import Press
from handlers.wizard import typed_draft
from services.drafts import DraftView, clear_draft, keep_draft, open_draft
from services.errors import ServiceError
from services.orgs_admin import (
    USER_OFFICES,
    Candidates,
    Offices,
    appoint_secretary,
    appoint_user,
    candidates,
    end_office,
    office_target,
    offices,
    org_card,
)
from ui.callbacks import button
from ui.deps import BotContext
from ui.errors import error_key
from ui.pickers import picker_rows, with_picker_text
from ui.render import role_label

Keyboard = list[list[InlineKeyboardButton]]
HOLDER_FLOW = HolderDraft.FLOW
ASK_HOLDER_KEYS: dict[Role, str] = {
    Role.COMMITTEE_ADMIN: "org.ask_holder.committee_admin",
    Role.INSTRUCTOR: "org.ask_holder.instructor",
    Role.DUES_KEEPER: "org.ask_holder.dues_keeper",
}


def render_offices(
    context: BotContext, result: Offices, offset: int = 0, notice: str = ""
) -> tuple[str, InlineKeyboardMarkup]:
    """The offices held today, each with a 卸任 button unless it already ends today."""
    org = result.org
    lines = [notice, ""] if notice else []
    lines.append(context.t("org.offices_title", name=org.name, count=len(result.items)))
    if not result.items:
        lines.append(context.t("org.offices_empty"))
    offset = page_start(offset, len(result.items))
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
            label = context.plain("org.end_office", index=index, holder=short_name(office.holder))
            keyboard.append([button(label, EndOffice(office.id))])
        lines.append(line)
    nav = pager(context, offset, len(result.items), lambda off: ShowOffices(org.id, off))
    if nav:
        keyboard.append(nav)
    keyboard.append([back_to(context, org.id)])
    return "\n".join(lines), InlineKeyboardMarkup(keyboard)


def render_candidates(
    context: BotContext, result: Candidates, offset: int, find: str = ""
) -> tuple[str, InlineKeyboardMarkup]:
    """The branch's roster on the shared picker (paged, narrowed by a typed part of a name),
    to pick its secretary."""
    org = result.org
    current = result.secretary or context.plain("org.nobody")
    if not result.members:
        text = context.t("org.no_members", name=org.name)
        return text, InlineKeyboardMarkup([[back_to(context, org.id)]])
    page = narrow(result.members, lambda m: m.name, offset, find)
    keyboard: Keyboard = picker_rows(
        context, page, label=lambda m: m.name, pick=lambda m: SetSecretary(org.id, m.id),
        turn=lambda off: PickSecretary(org.id, off), everything=AllCandidates(org.id),
    )  # fmt: skip
    keyboard.append([back_to(context, org.id)])
    text = context.t("org.pick_secretary", name=org.name, current=current)
    return with_picker_text(context, text, page), InlineKeyboardMarkup(keyboard)


def _holder_role(raw: str) -> Role | None:
    return next((r for r in USER_OFFICES if r.value == raw), None)


def _holder_question(
    context: BotContext, role: Role, org_name: str, org_id: int, error: str = ""
) -> tuple[str, InlineKeyboardMarkup]:
    text = (error + "\n\n" if error else "") + context.t(ASK_HOLDER_KEYS[role], name=org_name)
    cancel = button(context.plain("wizard.cancel"), StopHolder(org_id))
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
    draft = holder_question(org.id, org.name, role)
    await keep_draft(db, press.user_id, draft, context.deps.clock.now())
    text, markup = _holder_question(context, role, org.name, org.id)
    await press.answer()
    await press.edit(text, markup)


async def typed_holder(update: Update, context: BotContext, _view: DraftView) -> None:
    """The typed @username or id of a new committee admin or instructor."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert message.text is not None
    assert user is not None
    db = context.deps.db
    draft = await typed_draft(update, context, HolderDraft)
    if draft is None:
        return
    role, org_id = draft.role, draft.org_id
    try:
        # The grant takes the draft in its transaction: the same text sent again finds no
        # question open (and granting an office held already changes nothing anyway).
        done = await appoint_user(
            db, actor_of(context, user), org_id, role, message.text,
            now=context.deps.clock.now(), today=today(context), draft=draft,
        )  # fmt: skip
    except ServiceError as exc:
        error = context.t(error_key(exc.code, "org"))
        if exc.code in ("user.unknown", "org.bad_handle"):
            # The draft stays: the admin types the name again or cancels.
            text, markup = _holder_question(context, role, draft.org_name, org_id, error)
            await message.reply_text(text, reply_markup=markup)
            return
        await clear_draft(db, user.id, HOLDER_FLOW)
        await message.reply_text(error)
        return
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
    """设置书记 or another page of it: the branch's roster (re-checked in the database),
    still narrowed by the part of a name typed for this branch."""
    if press.data.offset < 0:
        await press.refuse("stale")
        return
    await _show_candidates(press, context, press.data.org_id, press.data.offset, keep=True)


@presses.on(AllCandidates)
async def all_candidates(press: Press[AllCandidates], context: BotContext) -> None:
    """显示全部: the whole roster again, from its first page."""
    await _show_candidates(press, context, press.data.org_id, 0, keep=False)


async def _show_candidates(
    press: Press[PickSecretary] | Press[AllCandidates],
    context: BotContext,
    org_id: int,
    offset: int,
    *,
    keep: bool,
) -> None:
    db = context.deps.db
    result = await candidates(db, press.actor, org_id, today(context))
    open_ = await open_draft(db, press.user_id, SecretaryFindDraft)
    find = ""
    if keep and isinstance(open_, SecretaryFindDraft) and open_.org_id == org_id:
        find = open_.find
    # Kept so that a typed part of a name narrows this list (and its pages stay narrowed).
    draft = SecretaryFindDraft(step="find", org_id=org_id, offset=offset, find=find)
    await keep_draft(db, press.user_id, draft, context.deps.clock.now())
    text, markup = render_candidates(context, result, offset, find)
    await press.answer()
    await press.edit(text, markup)


async def typed_candidate(update: Update, context: BotContext, _view: DraftView) -> None:
    """Part of a name typed on the secretary picker: the roster narrowed to it."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    draft = await typed_draft(update, context, SecretaryFindDraft)
    if draft is None:
        return
    now = context.deps.clock.now()
    found = apply(SECRETARY_STEPS, draft, Event("text", text=message.text or ""), now)
    if isinstance(found, Refusal):
        await message.reply_text(context.t(error_key(found.code)))
        return
    try:
        result = await candidates(
            context.deps.db, actor_of(context, user), found.org_id, today(context)
        )
    except ServiceError as exc:
        await clear_draft(context.deps.db, user.id, SecretaryFindDraft.FLOW)
        await message.reply_text(context.t(error_key(exc.code, "org")))
        return
    await keep_draft(context.deps.db, user.id, found, now)
    text, markup = render_candidates(context, result, 0, found.find)
    await message.reply_text(text, reply_markup=markup)


@presses.on(SetSecretary)
async def set_secretary(press: Press[SetSecretary], context: BotContext) -> None:
    """A roster member picked as secretary: the previous secretary's term ends."""
    done = await appoint_secretary(
        context.deps.db, press.actor, press.data.org_id, press.data.member_id,
        now=context.deps.clock.now(), today=today(context),
    )  # fmt: skip
    await clear_draft(context.deps.db, press.user_id, SecretaryFindDraft.FLOW)
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
