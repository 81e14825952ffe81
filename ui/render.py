"""Shared rendering: labels for codes, long lists split for Telegram, dates in the branch zone."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from domain.orgs import Kind, Role, Stage
from ui.deps import BotContext
from ui.i18n import Catalog

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
    return datetime_text(context.deps.catalog, context.locale, when, tz, context.deps.clock.now())


def datetime_text(
    catalog: Catalog, locale: str, when: datetime, tz: ZoneInfo, now: datetime
) -> str:
    """format_datetime for code that renders outside an update (the outbox worker)."""
    local = when.astimezone(tz)
    key = "format.datetime" if local.year == now.astimezone(tz).year else "format.datetime_year"
    return catalog.plain(
        locale,
        key,
        year=local.year,
        month_name=catalog.plain(locale, MONTH_KEYS[local.month - 1]),
        day=local.day,
        weekday=catalog.plain(locale, WEEKDAY_KEYS[local.weekday()]),
        time=local.strftime("%H:%M"),
    )


_TAG = re.compile(r"<(/?)([a-z-]+)[^>]*>")
_TOKEN = re.compile(r"<[^>]*>|&[#a-zA-Z0-9]+;|.", re.S)


def _apply_tags(text: str, stack: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The tags still open after `text`, given those open before it."""
    stack = list(stack)
    for match in _TAG.finditer(text):
        name = match.group(2)
        if match.group(1):
            for i in range(len(stack) - 1, -1, -1):
                if stack[i][0] == name:
                    del stack[i]
                    break
        else:
            stack.append((name, match.group(0)))
    return stack


def _closing(stack: list[tuple[str, str]]) -> str:
    return "".join(f"</{name}>" for name, _ in reversed(stack))


def _hard_chunks(line: str, size: int) -> list[str]:
    """Cut an over-long line between characters, never inside a tag or an entity."""
    chunks, current = [], ""
    for token in _TOKEN.findall(line):
        if len(current) + len(token) > size and current:
            chunks.append(current)
            current = ""
        current += token
    return [*chunks, current] if current else chunks


def split_html(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split Telegram HTML at line breaks into parts under `limit`; tags open at a cut are
    closed there and reopened in the next part, so every part parses on its own."""
    lines: list[str] = []
    for line in text.split("\n"):
        lines.extend(_hard_chunks(line, limit // 2) if len(line) > limit // 2 else [line])
    parts: list[str] = []
    body: list[str] = []
    prefix = ""
    stack: list[tuple[str, str]] = []
    size = 0
    for line in lines:
        after = _apply_tags(line, stack)
        grown = size + len(line) + (1 if body else 0)
        if body and grown + len(_closing(after)) > limit:
            parts.append(prefix + "\n".join(body) + _closing(stack))
            prefix = "".join(tag for _, tag in stack)
            body, size = [], len(prefix)
            grown = size + len(line)
        body.append(line)
        size = grown
        stack = after
    if body:
        parts.append(prefix + "\n".join(body) + _closing(stack))
    return parts
