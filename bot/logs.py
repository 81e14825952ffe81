"""Logging set-up: one line per event, never the bot token."""

from __future__ import annotations

import logging


class _RedactToken(logging.Filter):
    """Replace the bot token wherever it would appear (httpx logs request URLs)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self._token = token

    def filter(self, record: logging.LogRecord) -> bool:
        if self._token:
            message = record.getMessage()
            if self._token in message:
                record.msg = message.replace(self._token, "<token>")
                record.args = None
        return True


def setup_logging(level: str, token: str) -> None:
    """Log to stderr at `level`, with the token redacted and chatty libraries quieted."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_RedactToken(token))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request URL, which contains the token, at INFO.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # Two lines per database opened; `zhibu` itself says when the schema was upgraded.
    logging.getLogger("alembic").setLevel(logging.WARNING)
