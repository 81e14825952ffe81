"""The global error handler: log it, tell the person with a reference, keep running."""

from __future__ import annotations

import json
import logging
import secrets

from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from ui.deps import BotContext
from ui.flood import ReplyDropped

log = logging.getLogger("zhibu.errors")


def _stale_answer(error: object) -> bool:
    # Telegram drops a button press not answered within about 15 s. What the press did
    # was committed before the answer, so nothing is lost: an apology in the group would
    # only add noise at the very moment the bot is busiest.
    return isinstance(error, BadRequest) and "query is too old" in error.message.lower()


async def on_error(update: object, context: BotContext) -> None:
    """Log the failed update with a short reference and apologise to the user in their language."""
    if _stale_answer(context.error):
        log.warning("a button press was answered too late for Telegram: %s", context.error)
        return
    if isinstance(context.error, (RetryAfter, ReplyDropped)):
        # Telegram said "wait" (still, after retries), or the reply would have come too
        # late: what the update did is committed, and an apology would wait in the same
        # line. Not a fault of the bot's, so no traceback either.
        log.warning("a reply was not sent (Telegram's flood limits): %s", context.error)
        return
    ref = secrets.token_hex(4)
    payload = update.to_dict() if isinstance(update, Update) else repr(update)
    log.error(
        "error ref=%s update=%s",
        ref,
        json.dumps(payload, ensure_ascii=False, default=str)[:4000],
        exc_info=context.error,
    )
    if not isinstance(update, Update) or isinstance(context.error, Forbidden):
        return
    # For a button press this is a message, not a callback answer: the handler may already
    # have answered the query, and a query can be answered only once.
    try:
        if update.effective_chat is not None:
            await context.bot.send_message(
                update.effective_chat.id, context.t("error.internal", ref=ref)
            )
    except (NetworkError, TelegramError):
        # The apology itself failed (Telegram down, chat gone): the log line is what remains.
        log.warning("could not tell the user about error ref=%s", ref)
