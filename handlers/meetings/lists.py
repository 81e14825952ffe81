"""/meetings: an organizer's meetings, coming and past, each opening its manage screen; a
member's own coming meetings with their answers."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update

from domain.meetings import Answer, Status
from handlers.common import actor_of, is_private, today
from handlers.meetings.shared import PAGE, presses
from handlers.press import Press
from services.authz import Actor
from services.meetings import MeetingPage, MyMeeting, managed_meetings, my_meetings
from ui.callbacks import button
from ui.deps import BotContext
from ui.meetings import TYPE_KEYS, Keyboard, Manage, MeetingList
from ui.render import format_datetime

MARK_KEYS: dict[Status, str] = {
    Status.SCHEDULED: "meeting.mark.scheduled",
    Status.OPEN: "meeting.mark.open",
    Status.CLOSED: "meeting.mark.closed",
    Status.CANCELLED: "meeting.mark.cancelled",
}


def _short(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def _list_screen(
    context: BotContext, actor: Actor, past: bool, offset: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The organizer's meetings, one button each; a member gets their own instead."""
    page = await managed_meetings(
        context.deps.db, actor, past=past, offset=offset, limit=PAGE, today=today(context)
    )
    if page is None:
        return await _my_list(context, actor.user_id), None
    if not page.items:
        text = context.t("meeting.list.none_past" if past else "meeting.list.none_upcoming")
    else:
        text = context.t(
            "meeting.list.past" if past else "meeting.list.upcoming",
            total=page.total,
            first=page.offset + 1,
            last=page.offset + len(page.items),
        )
    return text, InlineKeyboardMarkup(_list_keyboard(context, page, past))


def _list_keyboard(context: BotContext, page: MeetingPage, past: bool) -> Keyboard:
    tz = context.deps.settings.timezone
    kind = "p" if past else "u"
    several = len({i.org_name for i in page.items}) > 1
    keyboard: Keyboard = []
    for item in page.items:
        when = format_datetime(context, item.starts_at, tz)
        mark = context.plain(MARK_KEYS[item.status])
        label = (
            context.plain(
                "meeting.list.item_org", mark=mark, when=when, org=_short(item.org_name, 12),
                topic=_short(item.topic),
            )
            if several
            else context.plain("meeting.list.item", mark=mark, when=when, topic=_short(item.topic))
        )  # fmt: skip
        keyboard.append([button(label, Manage("scr", item.id))])
    pager = []
    if page.offset > 0:
        previous = MeetingList(kind, max(0, page.offset - PAGE))
        pager.append(button(context.plain("common.prev"), previous))
    if page.offset + PAGE < page.total:
        pager.append(button(context.plain("common.next"), MeetingList(kind, page.offset + PAGE)))
    if pager:
        keyboard.append(pager)
    switch = "meeting.list.to_upcoming" if past else "meeting.list.to_past"
    keyboard.append([button(context.plain(switch), MeetingList("u" if past else "p", 0))])
    return keyboard


async def _my_list(context: BotContext, user_id: int) -> str:
    now = context.deps.clock.now()
    mine = await my_meetings(context.deps.db, user_id, now=now, today=today(context))
    if not mine:
        return context.t("meeting.mine.none")
    return "\n\n".join([context.t("meeting.mine.title"), *(_mine(context, e) for e in mine)])


def _mine(context: BotContext, entry: MyMeeting) -> str:
    item = entry.item
    if entry.answer is Answer.ATTEND:
        reply = context.plain("meeting.mine.attend")
    elif entry.answer is Answer.LEAVE:
        reason = entry.reason or context.plain("meeting.att.no_reason")
        reply = context.plain("meeting.mine.leave", reason=reason)
    else:
        reply = context.plain("meeting.mine.silent")
    return context.t(
        "meeting.mine.item",
        when=format_datetime(context, item.starts_at, context.deps.settings.timezone),
        types="、".join(context.plain(TYPE_KEYS[t]) for t in item.types),
        topic=item.topic,
        place=entry.place,
        answer=reply,
    )


async def meetings_command(update: Update, context: BotContext) -> None:
    """/meetings: an organizer's meetings (each opening its manage screen); a member's own."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    if not is_private(update):
        await message.reply_text(context.t("meeting.list.use_private"))
        return
    text, markup = await _list_screen(context, actor_of(context, user), False, 0)
    await message.reply_text(text, reply_markup=markup)


@presses.on(MeetingList, kind=("u", "p"))
async def turn(press: Press[MeetingList], context: BotContext) -> None:
    """Paging and switching between coming and past meetings in /meetings."""
    past, offset = press.data.kind == "p", max(0, press.data.offset)
    text, markup = await _list_screen(context, press.actor, past, offset)
    await press.answer()
    await press.edit(text, markup)
