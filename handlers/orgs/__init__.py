"""The /org menu: superadmins and committee admins build the tree and appoint its offices.

- buttons: the payloads of every /org button and the helpers the screens share;
- card: the list one starts from, an organization's card, the group gate, the sign-up link;
- create: the wizard that creates an organization;
- offices: appointing and ending offices.
"""

from __future__ import annotations

from telegram.ext import Application, CommandHandler

from domain.orgs_wizard import NewOrgDraft, OrgFindDraft, SecretaryFindDraft
from handlers.orgs import create, offices
from handlers.orgs.buttons import (
    AskHolder,
    EndOffice,
    NewOrg,
    OpenOrg,
    PickSecretary,
    SetSecretary,
    ShowLink,
    ShowOffices,
    StopHolder,
    ToggleGate,
    presses,
)
from handlers.orgs.card import org_command, render_card, render_top, typed_find
from handlers.wizard import WizardRouter

__all__ = [
    "AskHolder",
    "EndOffice",
    "NewOrg",
    "OpenOrg",
    "PickSecretary",
    "SetSecretary",
    "ShowLink",
    "ShowOffices",
    "StopHolder",
    "ToggleGate",
    "register",
    "render_card",
    "render_top",
]


def register(app: Application, router: WizardRouter) -> None:  # type: ignore[type-arg]
    """Install /org, every /org button, and the typed name and holder answers."""
    app.add_handler(CommandHandler("org", org_command))
    presses.register(app)
    router.on_text(NewOrgDraft.FLOW, create.typed_name)
    router.on_text(offices.HOLDER_FLOW, offices.typed_holder)
    router.on_text(OrgFindDraft.FLOW, typed_find)
    router.on_text(SecretaryFindDraft.FLOW, offices.typed_candidate)
