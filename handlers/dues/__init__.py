"""Party dues (党费): /dues opens a menu; each part of the feature adds its buttons to it and
its presses to the one `Presses("dues")` (handlers.dues.common)."""

from __future__ import annotations

from telegram.ext import Application, CommandHandler

from domain.dues_wizard import DecideDraft, DeclareDraft
from handlers.dues import cycle, menu, standards
from handlers.dues.common import presses
from handlers.wizard import WizardRouter

__all__ = ["cycle", "menu", "register", "standards"]


def register(app: Application, router: WizardRouter) -> None:  # type: ignore[type-arg]
    """/dues, the feature's buttons and typed answers."""
    app.add_handler(CommandHandler("dues", menu.dues_command))
    presses.register(app)
    cycle.register(router)
    router.on_text(DeclareDraft.FLOW, standards.typed_base)
    router.on_text(DecideDraft.FLOW, standards.typed_decision)
