"""Forms (信息报送): /form builds one, members and branches answer in private chat, /forms
shows results. Every button goes through one `Presses("forms")` (handlers.forms.common)."""

from __future__ import annotations

from telegram.ext import Application, MessageHandler, filters

from handlers.forms import answer, builder, chase, results
from handlers.forms.common import media_received, presses
from handlers.wizard import WizardRouter

# Photos and files are looked at before the notice composer (-1) and the roster import (0):
# an open forms wizard takes them (an XLSX to build from, an attachment answered).
MEDIA_GROUP = -4

# Modules whose presses join the shared `presses` when imported (before it is registered).
__all__ = ["answer", "builder", "chase", "register", "results"]


def register(app: Application, router: WizardRouter) -> None:  # type: ignore[type-arg]
    """/form, /forms, the feature's buttons, deep links, files and typed answers."""
    answer.register(app, router)
    builder.register(app, router)
    results.register(app, router)
    presses.register(app)
    app.add_handler(
        MessageHandler(
            filters.ChatType.PRIVATE
            & (filters.PHOTO | filters.Document.ALL)
            & ~filters.UpdateType.EDITED,
            media_received,
        ),
        group=MEDIA_GROUP,
    )
