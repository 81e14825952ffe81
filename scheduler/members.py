"""The approvers' copies of a registration request, rendered as they are sent: pending with
通过 / 拒绝, or showing who decided (services queue them as intent, and a redraw of every
copy when one approver decides)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import ExtBot

from services.members_requests import REDRAW, REQUEST, copy_message_id, request_state
from services.outbox import Delivery
from ui.deps import Deps
from ui.members import render_request

BULK = {"bulk": True}  # rate_limit_args: copies stand aside for interactive answers
COPY_IN_FLIGHT = timedelta(seconds=2)  # a redraw waits this long for its copy to be sent


async def send_request(bot: ExtBot[Any], deps: Deps, item: Delivery) -> int | None:
    """Send an approver their copy of a request, or show the decision in a sent copy."""
    target = item.target_message_id
    if item.purpose == REDRAW and target is None:
        # Queued while its copy was being sent: edit that copy once Telegram has it.
        status, target = await copy_message_id(deps.db, int(item.payload["copy"]))
        if status == "sending":
            raise RetryAfter(COPY_IN_FLIGHT)  # the worker puts it back for two seconds
        if target is None:
            return None  # the copy never reached the approver: nothing to edit
    state = await request_state(
        deps.db, int(item.payload["registration_id"]), item.chat_id,
        deps.settings.default_locale,
    )  # fmt: skip
    if state is None:
        return None
    html, markup = render_request(
        deps.catalog, state.locale, deps.settings.timezone, deps.clock.now(), state
    )
    if item.purpose == REDRAW:
        assert target is not None
        await bot.edit_message_text(
            html, item.chat_id, target, reply_markup=markup, rate_limit_args=BULK
        )
        return target
    message = await bot.send_message(item.chat_id, html, reply_markup=markup, rate_limit_args=BULK)
    return message.message_id


# The outbox items of registrations the worker hands here, by purpose.
SENDERS: dict[str, Callable[[ExtBot[Any], Deps, Delivery], Awaitable[int | None]]] = {
    REQUEST: send_request,
    REDRAW: send_request,
}
