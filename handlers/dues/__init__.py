"""Party dues (党费): /dues opens a menu; each part of the feature adds its buttons to it and
its presses to the one `Presses("dues")` (handlers.dues.common)."""

from __future__ import annotations

from telegram.ext import Application, CommandHandler, MessageHandler, filters

from domain.dues_wizard import DecideDraft, DeclareDraft
from handlers.dues import (
    cycle,
    disclose,
    exempt,
    ledger,
    menu,
    payments,
    pickers,
    rates,
    remit,
    settings,
    standards,
    standards_import,
)
from handlers.dues.common import media_received, presses
from handlers.wizard import WizardRouter

# Photos and files are looked at before the forms wizards (-4), the notice composer (-1) and
# the roster import (0): an open dues wizard takes them (a transfer screenshot, an XLSX).
MEDIA_GROUP = -6

__all__ = [
    "cycle",
    "disclose",
    "exempt",
    "ledger",
    "menu",
    "payments",
    "pickers",
    "rates",
    "register",
    "remit",
    "settings",
    "standards",
    "standards_import",
]


def register(app: Application, router: WizardRouter) -> None:  # type: ignore[type-arg]
    """/dues, the feature's buttons, typed answers, photos and files."""
    app.add_handler(CommandHandler("dues", menu.dues_command))
    payments.register(app, router)
    presses.register(app)
    cycle.register(router)
    rates.register(router)
    exempt.register(router)
    router.on_text(DeclareDraft.FLOW, standards.typed_base)
    router.on_text(DecideDraft.FLOW, standards.typed_decision)
    standards_import.register(app, router)
    remit.register(router)
    settings.register(router)
    pickers.register(router)
    app.add_handler(
        MessageHandler(
            filters.ChatType.PRIVATE
            & (filters.PHOTO | filters.Document.ALL)
            & ~filters.UpdateType.EDITED,
            media_received,
        ),
        group=MEDIA_GROUP,
    )
