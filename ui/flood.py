"""What the flood gate tells handlers: a reply it gave up on because it would come too late."""

from __future__ import annotations

from telegram.error import TelegramError


class ReplyDropped(TelegramError):
    """A direct reply not sent: Telegram's budget for that chat would have made it late.

    What the update did was committed before the reply, so nothing is lost; the error
    handler logs it and says nothing (an apology would wait for the same budget).
    """
