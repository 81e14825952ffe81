"""The outbox worker: claims due items, sends them through the flood gate, records the result.

It runs beside update processing as its own task, so a 2,000-group broadcast never delays
answers to people pressing buttons; those go first through the shared flood gate.
"""

from __future__ import annotations

import asyncio
import base64
import io
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError
from telegram.ext import ExtBot

from scheduler import forms, meetings, members
from services import outbox
from services.chats import migrate_chat
from services.notices import (
    NoticeView,
    finish_if_done,
    get_notice,
    mark_reported,
    notice_for_copy,
    progress,
    report_target,
    reports_due,
)
from services.users import locale_of
from ui.deps import Deps
from ui.i18n import Html
from ui.notices import Receipt, ack_markup, render_notice
from ui.render import datetime_text

log = logging.getLogger(__name__)

# Rows queued as intent, by purpose: each slice's sender renders its own when it is sent
# (notices, older than this registry, are rendered by the worker below).
# Slices whose items are queued as intent: each renders its purposes at send time.
SENDERS: dict[str, Callable[[ExtBot[Any], Deps, outbox.Delivery], Awaitable[int | None]]] = {
    **meetings.SENDERS,
    **forms.SENDERS,
    **members.SENDERS,
}
BULK = {"bulk": True}  # rate_limit_args: broadcasts stand aside for interactive answers


@dataclass(frozen=True)
class OutboxSettings:
    """How hard the worker works; the flood gate decides how fast it may go."""

    concurrency: int = 8
    batch: int = 64
    poll_seconds: float = 1.0
    claim_timeout: timedelta = timedelta(seconds=60)
    report_every_seconds: float = 3.0


class OutboxWorker:
    """One per process; several processes may share a PostgreSQL database."""

    def __init__(
        self, bot: ExtBot[Any], deps: Deps, settings: OutboxSettings | None = None
    ) -> None:
        self.bot = bot
        self.deps = deps
        self.settings = settings or OutboxSettings()
        self.name = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._in_hand: set[asyncio.Task[None]] = set()
        self._freed = asyncio.Event()  # set whenever an item in hand is finished
        self._slots = asyncio.Semaphore(self.settings.concurrency)
        self._chats: dict[int, tuple[asyncio.Lock, int]] = {}  # chat → its line, users
        self._touched: set[int] = set()  # notices with copies sent since the last report
        self._parts: dict[int, list[int]] = {}  # item id → earlier message ids of a long copy
        self.sent = 0

    async def start(self) -> None:
        """Return stale claims of dead workers, then begin working."""
        released = await outbox.release_stale(
            self.deps.db, self.deps.clock.now(), self.settings.claim_timeout
        )
        if released:
            log.warning("outbox: %d items of a stopped worker will be sent again", released)
        self._task = asyncio.create_task(self._run(), name="zhibu-outbox")

    async def stop(self) -> None:
        """Finish the items in hand, then stop (SIGTERM loses nothing)."""
        self._stopping.set()
        self.deps.outbox.wake()
        self._freed.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        reporter = asyncio.create_task(self._report_every_few_seconds(), name="zhibu-reports")
        try:
            await self._claim_and_send()
        finally:
            # Items already claimed are sent before stopping: nothing waits for a restart.
            if self._in_hand:
                await asyncio.gather(*self._in_hand, return_exceptions=True)
            reporter.cancel()
            await asyncio.gather(reporter, return_exceptions=True)
            await self._report_touched()

    async def _claim_and_send(self) -> None:
        # A pipeline, not batch after batch: more items are claimed while half a batch is
        # still in hand, so the flood gate's budget is used without a gap at each batch's
        # end (measured: waiting for a batch's last copies and reporting between batches
        # cost a 2,000-group broadcast 2-5 s, below the 28/s target).
        last_stale_check = 0.0
        loop = asyncio.get_running_loop()
        low_water = max(1, self.settings.batch // 2)
        while not self._stopping.is_set():
            room = self.settings.batch - len(self._in_hand)
            if room < low_water:
                self._freed.clear()
                await self._freed.wait()
                continue
            try:
                batch = await outbox.claim(self.deps.db, self.name, self.deps.clock.now(), room)
            except Exception:
                log.exception("outbox: claiming failed; retrying shortly")
                await self.deps.outbox.wait(self.settings.poll_seconds)
                continue
            for item in batch:
                task = asyncio.create_task(self._in_line(item))
                self._in_hand.add(task)
                task.add_done_callback(self._finished)
            if batch:
                continue
            if not self._in_hand:
                # Idle: final counts now, not at the next tick; and a notice can finish
                # before its sender's progress message is recorded.
                await self._report_touched()
                for notice_id in await reports_due(self.deps.db):
                    await self._report(notice_id)
                if loop.time() - last_stale_check > self.settings.claim_timeout.total_seconds():
                    last_stale_check = loop.time()
                    await outbox.release_stale(
                        self.deps.db, self.deps.clock.now(), self.settings.claim_timeout
                    )
            await self.deps.outbox.wait(self.settings.poll_seconds)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_hand.discard(task)
        self._freed.set()

    async def _in_line(self, item: outbox.Delivery) -> None:
        """Send one item after the earlier items for its chat (a notice's parts, then its
        counter), with at most `concurrency` chats served at once."""
        lock, users = self._chats.get(item.chat_id, (asyncio.Lock(), 0))
        self._chats[item.chat_id] = (lock, users + 1)
        try:
            async with lock, self._slots:
                await self._deliver(item)
        except Exception:
            # Left "sending": release_stale hands it out again after claim_timeout.
            log.exception("outbox item %s could not be recorded", item.id)
        finally:
            lock, users = self._chats[item.chat_id]
            if users == 1:
                del self._chats[item.chat_id]
            else:
                self._chats[item.chat_id] = (lock, users - 1)
            if item.notice_id and item.purpose == "notice":
                self._touched.add(item.notice_id)

    async def _report_every_few_seconds(self) -> None:
        while True:
            await asyncio.sleep(self.settings.report_every_seconds)
            try:
                await self._report_touched()
            except Exception:
                log.exception("outbox: progress reports failed; trying again shortly")

    async def _report_touched(self) -> None:
        touched, self._touched = self._touched, set()
        for notice_id in sorted(touched):
            await self._report(notice_id)

    async def _deliver(self, item: outbox.Delivery) -> None:
        db, now = self.deps.db, self.deps.clock.now
        self._parts.pop(item.id, None)
        try:
            message_id = await self._send(item)
        except ChatMigrated as exc:
            await migrate_chat(db, old_id=item.chat_id, new_id=exc.new_chat_id, title="", now=now())
            await outbox.follow_migration(db, item.id, item.chat_id, exc.new_chat_id)
            self.deps.outbox.wake()
        except Forbidden as exc:
            # Kicked from the group or blocked by the person: retrying cannot help.
            await outbox.mark_final(db, item.id, "unreachable", exc.message)
        except RetryAfter as exc:
            delay = exc.retry_after
            seconds = delay.total_seconds() if isinstance(delay, timedelta) else float(delay)
            await outbox.mark_later(db, item.id, now() + timedelta(seconds=seconds), exc.message)
        except BadRequest as exc:
            if "not modified" in exc.message.lower():
                await outbox.mark_sent(db, item.id, item.target_message_id, now())
            else:
                log.warning("outbox item %s rejected: %s", item.id, exc.message)
                await outbox.mark_final(db, item.id, "failed", exc.message)
        except TelegramError as exc:  # timeouts, 5xx, network: transient
            if not await outbox.mark_retry(db, item, exc.message, now()):
                log.warning("outbox item %s given up after %d attempts", item.id, item.attempts)
        except Exception as exc:
            log.exception("outbox item %s failed unexpectedly", item.id)
            await outbox.mark_retry(db, item, repr(exc), now())
        else:
            parts = self._parts.pop(item.id, None)
            await outbox.mark_sent(db, item.id, message_id, now(), other_parts=parts)
            self.sent += 1

    async def _send(self, item: outbox.Delivery) -> int | None:
        """Perform one item; returns the message id to remember (for edits and recalls)."""
        if item.purpose == "text":
            message = await self.bot.send_message(
                item.chat_id, item.payload["html"], message_thread_id=item.thread_id,
                reply_markup=_keyboard(item.payload.get("buttons")),
                reply_to_message_id=item.target_message_id, allow_sending_without_reply=True,
                rate_limit_args=BULK,
            )  # fmt: skip
            return message.message_id
        if item.purpose == "file":
            return await self._send_file(item)
        if item.purpose == "edit":
            assert item.target_message_id is not None
            await self.bot.edit_message_text(
                item.payload["html"], item.chat_id, item.target_message_id,
                reply_markup=_keyboard(item.payload.get("buttons")), rate_limit_args=BULK,
            )  # fmt: skip
            return item.target_message_id
        sender = SENDERS.get(item.purpose)
        if sender is not None:  # queued as intent: the slice renders it now, from the state
            return await sender(self.bot, self.deps, item)
        assert item.notice_id is not None
        # The notice is read for every item (a recall must stop copies not yet sent), with
        # the counter of the branch's group copy in the same read.
        counted = item.is_group and item.org_id and item.purpose not in ("notice_delete", "nudge")
        notice, counts = await notice_for_copy(
            self.deps.db, item.notice_id, item.org_id if counted else None
        )
        if item.purpose == "notice_delete":
            return await self._delete(item, notice)
        if notice.status == "recalled":
            return None  # a copy queued before the recall: nothing to send any more
        locale = await self._locale(item)
        if item.purpose == "nudge":
            return await self._nudge(item, notice, locale)
        rendered = render_notice(
            self.deps.catalog, locale, notice, tz=self.deps.settings.timezone,
            now=self.deps.clock.now(), counts=counts,
        )  # fmt: skip
        if item.purpose in ("notice_edit", "counter"):
            assert item.target_message_id is not None
            last = rendered.parts[-1] if rendered.parts else (rendered.caption or notice.title)
            if notice.media_kind is not None and len(rendered.parts) == 0:
                await self.bot.edit_message_caption(
                    item.chat_id, item.target_message_id, caption=last,
                    reply_markup=rendered.markup, rate_limit_args=BULK,
                )  # fmt: skip
            else:
                await self.bot.edit_message_text(
                    last, item.chat_id, item.target_message_id, reply_markup=rendered.markup,
                    rate_limit_args=BULK,
                )  # fmt: skip
            return item.target_message_id
        return await self._send_notice(
            item, notice, rendered.caption, rendered.parts, rendered.markup
        )

    async def _send_file(self, item: outbox.Delivery) -> int:
        """A document or photo the bot made, from the bytes stored in the payload."""
        payload = item.payload
        upload = InputFile(
            io.BytesIO(base64.b64decode(payload["data"])), filename=payload["filename"]
        )
        send = self.bot.send_photo if payload.get("as_photo") else self.bot.send_document
        message = await send(
            item.chat_id, upload, caption=payload.get("caption") or None,
            message_thread_id=item.thread_id, rate_limit_args=BULK,
        )  # fmt: skip
        return message.message_id

    async def _send_notice(
        self,
        item: outbox.Delivery,
        notice: NoticeView,
        caption: str | None,
        parts: tuple[str, ...],
        markup: InlineKeyboardMarkup | None,
    ) -> int:
        sent: list[Message] = []
        thread = item.thread_id
        if notice.media_kind is not None and notice.media_file_id is not None:
            keyboard = None if parts else markup
            if notice.media_kind == "photo":
                media = await self.bot.send_photo(
                    item.chat_id, notice.media_file_id, caption=caption,
                    message_thread_id=thread, reply_markup=keyboard, rate_limit_args=BULK,
                )  # fmt: skip
            else:
                media = await self.bot.send_document(
                    item.chat_id, notice.media_file_id, caption=caption,
                    message_thread_id=thread, reply_markup=keyboard, rate_limit_args=BULK,
                )  # fmt: skip
            sent.append(media)
        for index, part in enumerate(parts):
            sent.append(
                await self.bot.send_message(
                    item.chat_id, part, message_thread_id=thread,
                    reply_markup=markup if index == len(parts) - 1 else None,
                    rate_limit_args=BULK,
                )
            )  # fmt: skip
        if notice.pin and item.is_group and sent:
            try:
                await self.bot.pin_chat_message(
                    item.chat_id, sent[0].message_id, disable_notification=True
                )
            except TelegramError as exc:  # a missing right must not make the copy "unsent"
                log.warning("could not pin notice %s in %s: %s", notice.id, item.chat_id, exc)
        # The last part carries the button and the counter: that is the one edits target;
        # the earlier ones are remembered so a recall removes them too.
        self._parts[item.id] = [m.message_id for m in sent[:-1]]
        return sent[-1].message_id

    async def _delete(self, item: outbox.Delivery, notice: NoticeView) -> int | None:
        if item.target_message_id is None:
            return None
        for earlier in item.payload.get("parts", []):
            # Earlier parts of a long notice: best effort, the last part says it was withdrawn.
            try:
                await self.bot.delete_message(item.chat_id, earlier)
            except BadRequest as exc:
                log.info("part %s of notice %s not deleted: %s", earlier, notice.id, exc.message)
        try:
            await self.bot.delete_message(item.chat_id, item.target_message_id)
        except BadRequest:
            # Too old to delete (48 h in groups): say in place that it was withdrawn.
            locale = await self._locale(item)
            text = self.deps.catalog.t(locale, "notice.recalled_text", title=notice.title)
            await self.bot.edit_message_text(
                text, item.chat_id, item.target_message_id, rate_limit_args=BULK
            )
        return item.target_message_id

    async def _nudge(self, item: outbox.Delivery, notice: NoticeView, locale: str) -> int:
        catalog = self.deps.catalog
        deadline = (
            datetime_text(catalog, locale, notice.ack_deadline, self.deps.settings.timezone,
                          self.deps.clock.now())
            if notice.ack_deadline else catalog.plain(locale, "notice.no_deadline")
        )  # fmt: skip
        if item.is_group:
            mentions = " ".join(
                catalog.t(locale, "notice.mention", user_id=p["user_id"], name=p["name"])
                for p in item.payload.get("mentions", [])
            )
            text = catalog.t(locale, "notice.nudge_group", mentions=Html(mentions),
                             title=notice.title, deadline=deadline)  # fmt: skip
            message = await self.bot.send_message(
                item.chat_id, text, reply_to_message_id=item.target_message_id,
                message_thread_id=item.thread_id, allow_sending_without_reply=True,
                rate_limit_args=BULK,
            )  # fmt: skip
        else:
            text = catalog.t(locale, "notice.nudge_private", title=notice.title, deadline=deadline)
            message = await self.bot.send_message(
                item.chat_id, text, reply_markup=ack_markup(catalog, locale, notice),
                rate_limit_args=BULK,
            )  # fmt: skip
        return message.message_id

    async def _locale(self, item: outbox.Delivery) -> str:
        default = self.deps.settings.default_locale
        if item.is_group:
            return default  # one language for a group: the bot's default
        return await locale_of(self.deps.db, item.chat_id, default)

    async def _report(self, notice_id: int) -> None:
        """Show the sender how far the notice has got (the reporter calls it every few
        seconds while copies go out), and the final counts once it is done."""
        state = await progress(self.deps.db, notice_id)
        if state.done:
            await finish_if_done(self.deps.db, notice_id, self.deps.clock.now())
        notice = await get_notice(self.deps.db, notice_id)
        target = await report_target(self.deps.db, notice_id)
        if target is None:
            return
        chat_id, message_id = target
        locale = await locale_of(self.deps.db, chat_id, self.deps.settings.default_locale)
        catalog = self.deps.catalog
        lines = [
            catalog.t(
                locale, "notice.report_done" if state.done else "notice.report_progress",
                title=notice.title, sent=state.sent, total=state.total,
                unreachable=len(state.unreachable), failed=len(state.failed),
            )
        ]  # fmt: skip
        for chat, reason in (*state.unreachable, *state.failed)[:20]:
            label = state.labels.get(chat, str(chat))
            lines.append(catalog.t(locale, "notice.report_problem", chat=label, reason=reason))
        try:
            # The same screen as /receipts: who has not acknowledged, one tap from the report.
            see = catalog.plain(locale, "notice.report_receipts")
            markup = InlineKeyboardMarkup(
                [[InlineKeyboardButton(see, callback_data=Receipt("open", notice_id).pack())]]
            )
            await self.bot.edit_message_text(
                "\n".join(lines), chat_id, message_id, reply_markup=markup
            )
        except BadRequest as exc:
            # Unchanged, or the sender deleted it: either way there is nothing more to show.
            if "not modified" not in exc.message.lower():
                log.info("progress report for notice %s not updated: %s", notice_id, exc.message)
        except TelegramError as exc:
            log.info("progress report for notice %s not updated: %s", notice_id, exc)
            return  # a network failure: the final report is tried again
        if state.done:
            await mark_reported(self.deps.db, notice_id, self.deps.clock.now())


def _keyboard(rows: list[list[list[str]]] | None) -> InlineKeyboardMarkup | None:
    """Buttons stored in a payload: [label, "cb:<data>"] or [label, "url:<link>"]."""
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(label, callback_data=target[3:])
                if target.startswith("cb:")
                else InlineKeyboardButton(label, url=target[4:])
                for label, target in row
            ]
            for row in rows
        ]
    )
