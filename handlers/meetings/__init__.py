"""/meeting, /meetings and the meeting buttons: plan and publish with 参加/请假, leave reasons,
manage (sign-in, attendance, close), edit and cancel, 代签/补签.

One module per part (wizard, card, manage, edit, signin, lists); every button goes through
the feature's `presses` (handlers.press), so importing the modules declares them.
"""

from __future__ import annotations

from telegram.ext import Application, CommandHandler, filters

from domain.meetings_wizard import LeaveReason, MeetingDraft, MeetingEdit, ProxyFind, SignNote
from handlers.meetings import card, edit, lists, manage, signin, wizard
from handlers.meetings.card import LEAVE_LINK
from handlers.meetings.shared import presses
from handlers.meetings.signin import attendance_lines, sign_result_text
from handlers.meetings.wizard import open_wizard_for
from handlers.wizard import WizardRouter

__all__ = [
    "attendance_lines",
    "card",
    "edit",
    "lists",
    "manage",
    "open_wizard_for",
    "presses",
    "register",
    "sign_result_text",
    "signin",
    "wizard",
]

# Ahead of group 0, where /start greets: the deep link for a leave reason is ours.
DEEP_LINK_GROUP = -2


def register(app: Application, router: WizardRouter) -> None:  # type: ignore[type-arg]
    """Install /meeting, /meetings, the meeting buttons, the leave-reason deep link and the
    typed answers of the meeting flows."""
    app.add_handler(CommandHandler("meeting", wizard.meeting_command))
    app.add_handler(CommandHandler("meetings", lists.meetings_command))
    presses.register(app)
    app.add_handler(
        CommandHandler(
            "start",
            card.leave_link,
            filters=filters.ChatType.PRIVATE & filters.Regex(rf"^/start {LEAVE_LINK}\d{{1,18}}$"),
        ),
        group=DEEP_LINK_GROUP,
    )
    router.on_text(MeetingDraft.FLOW, wizard.typed_answer)
    router.on_text(LeaveReason.FLOW, card.typed_reason)
    router.on_text(SignNote.FLOW, signin.typed_note)
    router.on_text(ProxyFind.FLOW, signin.typed_find)
    router.on_text(MeetingEdit.FLOW, edit.typed_edit)
