"""Rosters and profiles: /members for branches, /me for oneself, member actions for admins.

- buttons: the payloads of every button here and what the screens share;
- roster: /members, the roster as messages and as a spreadsheet;
- admin: offices, 离开 and 组织关系转接 for a member;
- pickers: which branch, which member, which branch to move to (paged, narrowed by typing);
- me: /me.
"""

from __future__ import annotations

from telegram.ext import Application, CommandHandler

from handlers.members import admin, me, pickers
from handlers.members.buttons import presses
from handlers.members.roster import members_command, render_roster, roster_xlsx
from handlers.wizard import WizardRouter

__all__ = ["register", "render_roster", "roster_xlsx"]


def register(app: Application, router: WizardRouter) -> None:  # type: ignore[type-arg]
    """Install /members, /me, their buttons and typed answers."""
    app.add_handler(CommandHandler("members", members_command))
    app.add_handler(CommandHandler("me", me.me_command))
    presses.register(app)
    router.on_text(me.PHONE_FLOW, me.typed_phone)
    router.on_text(admin.LEFT_FLOW, admin.left_reason)
    router.on_text(pickers.FLOW, pickers.typed_find)
