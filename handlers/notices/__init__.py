"""Notices: the /notice composer (wizard, screens, preview), 收到 presses (acks),
/receipts (receipts) and 编辑 (edit). Every button goes through one `Presses("notices")`."""

from __future__ import annotations

from telegram.ext import Application, CommandHandler, MessageHandler, filters

from domain.notices import ReceiptsFindDraft
from handlers.notices import acks, edit, receipts, wizard
from handlers.notices.common import presses
from handlers.wizard import WizardRouter

# Photos and files are looked at before group 0, where the roster import takes every
# private document: a notice body must not be mistaken for a roster.
MEDIA_GROUP = -1

__all__ = ["acks", "edit", "receipts", "register", "wizard"]


def register(app: Application, router: WizardRouter) -> None:  # type: ignore[type-arg]
    """/notice, /receipts, the feature's buttons, photo and file bodies, typed answers."""
    app.add_handler(CommandHandler("notice", wizard.notice_command))
    app.add_handler(CommandHandler("receipts", receipts.receipts_command))
    presses.register(app)
    app.add_handler(
        MessageHandler(
            filters.ChatType.PRIVATE
            & (filters.PHOTO | filters.Document.ALL)
            & ~filters.UpdateType.EDITED,
            wizard.media_received,
        ),
        group=MEDIA_GROUP,
    )
    router.on_text(wizard.FLOW, wizard.typed_answer)
    router.on_text(edit.FLOW, edit.typed_edit)
    router.on_text(ReceiptsFindDraft.FLOW, receipts.typed_find)
