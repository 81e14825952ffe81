"""How a notice looks in a group and in a private chat; also used by the outbox worker."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import ClassVar
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from services.notices import NoticeView
from ui.callbacks import CallbackData
from ui.i18n import Catalog, Html
from ui.render import datetime_text, split_html

CATEGORY_KEYS: dict[str, str] = {
    "meeting": "notice.category.meeting",
    "reporting": "notice.category.reporting",
    "study": "notice.category.study",
    "integrity": "notice.category.integrity",
    "assignment": "notice.category.assignment",
    "exchange": "notice.category.exchange",
    "announcement": "notice.category.announcement",
}
ACK_KEYS: dict[str, str] = {"received": "notice.ack.received", "studied": "notice.ack.studied"}


@dataclasses.dataclass(frozen=True)
class Ack(CallbackData):
    """The acknowledgement button on every copy of a notice."""

    prefix: ClassVar[str] = "ack"
    notice_id: int


@dataclasses.dataclass(frozen=True)
class NoticeStep(CallbackData):
    """A button of the /notice wizard, tied to the step it was shown for (older ones are stale)."""

    prefix: ClassVar[str] = "nt"
    step: str
    action: str
    value: int = 0


@dataclasses.dataclass(frozen=True)
class Receipt(CallbackData):
    """A /receipts button: an action on one notice with a number (page offset, branch id)."""

    prefix: ClassVar[str] = "rcp"
    action: str
    notice_id: int
    value: int = 0


@dataclasses.dataclass(frozen=True)
class RenderedNotice:
    """What to send: optional media with caption, then text parts; the button goes last."""

    caption: str | None
    parts: tuple[str, ...]
    markup: InlineKeyboardMarkup | None


def ack_markup(catalog: Catalog, locale: str, notice: NoticeView) -> InlineKeyboardMarkup | None:
    """The 收到 / 已学习 button, if the notice asks for acknowledgement."""
    if notice.ack_label is None or notice.status == "recalled":
        return None
    label = catalog.plain(locale, ACK_KEYS[notice.ack_label])
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=Ack(notice.id).pack())]]
    )


def render_notice(
    catalog: Catalog,
    locale: str,
    notice: NoticeView,
    *,
    tz: ZoneInfo,
    now: datetime,
    counts: tuple[int, int] | None = None,
) -> RenderedNotice:
    """The notice as Telegram HTML, split to fit; counts (acknowledged, expected) for groups."""
    header = catalog.t(
        locale,
        "notice.header",
        category=catalog.plain(
            locale, CATEGORY_KEYS.get(notice.category, "notice.category.announcement")
        ),
        title=notice.title,
    )
    footer: list[str] = []
    if notice.ack_label is not None and notice.ack_deadline is not None:
        deadline = datetime_text(catalog, locale, notice.ack_deadline, tz, now)
        footer.append(catalog.t(locale, "notice.deadline", deadline=deadline))
    if counts is not None and notice.ack_label is not None:
        footer.append(catalog.t(locale, "notice.counts", acked=counts[0], expected=counts[1]))
    if notice.version > 1:
        footer.append(catalog.t(locale, "notice.edited"))
    # body_html was produced by Telegram's own entity rendering of the sender's message.
    body = Html(notice.body_html)
    text = "\n\n".join(
        p for p in (header if notice.media_kind is None else "", body, "\n".join(footer)) if p
    )
    # The title is capped at 100 characters, so the header always fits a caption.
    caption = header if notice.media_kind is not None else None
    parts = tuple(split_html(text)) if text else ()
    return RenderedNotice(caption=caption, parts=parts, markup=ack_markup(catalog, locale, notice))
