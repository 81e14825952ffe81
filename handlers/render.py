"""Shared rendering: labels for codes, long lists split for Telegram, dates in the branch zone."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from domain.org import Kind, Role, Stage
from handlers.context import BotContext

# Telegram allows 4096 characters; leave room for entities expanding after parsing.
MESSAGE_LIMIT = 3800

STAGE_KEYS: dict[Stage, str] = {
    Stage.APPLICANT: "stage.applicant",
    Stage.ACTIVIST: "stage.activist",
    Stage.CANDIDATE: "stage.candidate",
    Stage.PROBATIONARY: "stage.probationary",
    Stage.FULL: "stage.full",
    Stage.MASSES: "stage.masses",
}
ROLE_KEYS: dict[Role, str] = {
    Role.SECRETARY: "role.secretary",
    Role.DEPUTY: "role.deputy",
    Role.ORGANIZATION: "role.organization",
    Role.PROPAGANDA: "role.propaganda",
    Role.DISCIPLINE: "role.discipline",
    Role.GROUP_LEADER: "role.group_leader",
    Role.INSTRUCTOR: "role.instructor",
    Role.DUES_KEEPER: "role.dues_keeper",
    Role.INFO_OFFICER: "role.info_officer",
    Role.COMMITTEE_ADMIN: "role.committee_admin",
}
KIND_KEYS: dict[Kind, str] = {
    Kind.COMPREHENSIVE: "kind.comprehensive",
    Kind.INDUSTRY: "kind.industry",
    Kind.TWO_NEW: "kind.two_new",
    Kind.GENERAL: "kind.general",
    Kind.STANDARD: "kind.standard",
    Kind.JOINT: "kind.joint",
    Kind.FUNCTIONAL: "kind.functional",
    Kind.GUIDANCE_STATION: "kind.guidance_station",
}


WEEKDAY_KEYS = (
    "weekday.mon", "weekday.tue", "weekday.wed", "weekday.thu",
    "weekday.fri", "weekday.sat", "weekday.sun",
)  # fmt: skip
MONTH_KEYS = (
    "month.jan", "month.feb", "month.mar", "month.apr", "month.may", "month.jun",
    "month.jul", "month.aug", "month.sep", "month.oct", "month.nov", "month.dec",
)  # fmt: skip


def stage_label(context: BotContext, stage: Stage) -> str:
    return context.plain(STAGE_KEYS[stage])


def role_label(context: BotContext, role: Role) -> str:
    return context.plain(ROLE_KEYS[role])


def kind_label(context: BotContext, kind: Kind) -> str:
    return context.plain(KIND_KEYS[kind])


def split_message(lines: Iterable[str], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Join lines into as few messages as fit, breaking only between lines.

    A single line longer than the limit (it should not happen: names are capped) is cut
    at a character boundary, never inside an HTML tag we produce, since lines carry at
    most simple <b>…</b> pairs that are kept whole by the callers.
    """
    messages: list[str] = []
    current = ""
    for line in lines:
        while len(line) > limit:
            head, line = line[:limit], line[limit:]
            if current:
                messages.append(current)
                current = ""
            messages.append(head)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            messages.append(current)
            current = line
        else:
            current = candidate
    if current:
        messages.append(current)
    return messages


def format_datetime(context: BotContext, when: datetime, tz: ZoneInfo) -> str:
    """ "12月5日（周六）19:30" / "Sat 5 Dec 19:30", with the year when it is not this year."""
    local = when.astimezone(tz)
    this_year = context.deps.clock.now().astimezone(tz).year
    weekday = context.plain(WEEKDAY_KEYS[local.weekday()])
    key = "format.datetime" if local.year == this_year else "format.datetime_year"
    return context.plain(
        key,
        year=local.year,
        month_name=context.plain(MONTH_KEYS[local.month - 1]),
        day=local.day,
        weekday=weekday,
        time=local.strftime("%H:%M"),
    )
