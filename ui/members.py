"""How a registration request looks in an approver's chat: pending with 通过 / 拒绝, or, once
decided, who decided it and when, without buttons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardMarkup

from domain.orgs import RegistrationStatus
from services.members_requests import RequestState
from ui.callbacks import CallbackData, button
from ui.i18n import Catalog
from ui.render import STAGE_KEYS, datetime_text


@dataclass(frozen=True)
class Decide(CallbackData):
    """An approver's 通过 / 拒绝 on a registration."""

    prefix: ClassVar[str] = "appr"
    registration_id: int
    approve: int  # 1 or 0


_DECIDED = {
    RegistrationStatus.APPROVED: "reg.copy.approved_by",
    RegistrationStatus.REJECTED: "reg.copy.rejected_by",
}


def render_request(
    catalog: Catalog, locale: str, tz: ZoneInfo, now: datetime, state: RequestState
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The request's details; 通过 / 拒绝 while it waits, else how it ended (no buttons)."""
    none = catalog.plain(locale, "reg.none")
    text = catalog.t(
        locale, "reg.request", branch=state.org_name, name=state.name,
        stage=catalog.plain(locale, STAGE_KEYS[state.stage]), unit=state.unit or none,
        phone=state.phone or none,
    )  # fmt: skip
    if state.matched:
        text += "\n" + catalog.t(locale, "reg.request_matched")
    if state.status == RegistrationStatus.PENDING:
        markup = InlineKeyboardMarkup(
            [[button(catalog.plain(locale, "reg.approve"), Decide(state.registration_id, 1)),
              button(catalog.plain(locale, "reg.reject"), Decide(state.registration_id, 0))]]
        )  # fmt: skip
        return text, markup
    key = _DECIDED.get(state.status)
    if key is None:  # withdrawn by the applicant, or replaced by a newer request
        return text + "\n\n" + catalog.t(locale, "reg.copy.withdrawn"), None
    when = (
        datetime_text(catalog, locale, state.decided_at, tz, now)
        if state.decided_at is not None
        else ""
    )
    who = state.decider or catalog.plain(locale, "reg.copy.someone")
    return text + "\n\n" + catalog.t(locale, key, by=who, when=when), None
