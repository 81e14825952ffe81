"""Meeting reminders before each meeting: non-responders asked to answer, attendees told
when and where; privately where the bot may write, else by a mention in the branch's group.

Each reminder is an occurrence of the job runner (scheduler.jobs), so it is sent once: its
job_runs row commits with its outbox items, after a restart within the grace period, and
with two processes on one database.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from services.jobs import Effects, Occurrence, Session, effective_timezones
from services.meetings_reminders import (
    JOB,
    Recipient,
    ReminderPlan,
    due_reminders,
    parse_reminder_key,
    reminder_plan,
)
from services.outbox import ButtonRows, enqueue_text
from ui.deps import Deps
from ui.i18n import Catalog, Html
from ui.meetings import TYPE_KEYS, Rsvp
from ui.render import datetime_text, split_message

# Telegram notifies at most 50 mentioned people per message; stay below it.
MENTIONS_PER_MESSAGE = 40


def left_text(catalog: Catalog, locale: str, delta: timedelta) -> str:
    """ "1小时后" / "in 1 h": how long until the meeting starts."""
    minutes = max(1, round(delta.total_seconds() / 60))
    hours, rest = divmod(minutes, 60)
    if hours == 0:
        return catalog.plain(locale, "reminder.left_minutes", minutes=rest)
    if rest == 0:
        return catalog.plain(locale, "reminder.left_hours", hours=hours)
    return catalog.plain(locale, "reminder.left_hours_minutes", hours=hours, minutes=rest)


def _details(catalog: Catalog, locale: str, plan: ReminderPlan, as_of: datetime) -> list[str]:
    types = "、".join(catalog.plain(locale, TYPE_KEYS[t]) for t in plan.types)
    when = datetime_text(catalog, locale, plan.starts_at, ZoneInfo(plan.timezone), as_of)
    return [
        catalog.t(locale, "meeting.card.title", types=types, topic=plan.topic),
        catalog.t(locale, "meeting.card.when", when=when),
        catalog.t(locale, "meeting.card.place", place=plan.place),
    ]


def _answer_buttons(catalog: Catalog, locale: str, meeting_id: int) -> ButtonRows:
    # The group notice's own callback data: the same handler records the answer.
    return [
        [
            (catalog.plain(locale, "meeting.attend"), "cb:" + Rsvp(meeting_id, "a").pack()),
            (catalog.plain(locale, "meeting.leave"), "cb:" + Rsvp(meeting_id, "l").pack()),
        ]
    ]


def private_reminder(
    catalog: Catalog, plan: ReminderPlan, person: Recipient, as_of: datetime, *, ask: bool
) -> tuple[str, ButtonRows]:
    """The private reminder in the person's language: a question with buttons, or the facts."""
    locale = person.locale
    left = left_text(catalog, locale, plan.starts_at - as_of)
    key = "reminder.ask_private" if ask else "reminder.attend_private"
    lines = [catalog.t(locale, key, name=person.name, left=left), ""]
    lines += _details(catalog, locale, plan, as_of)
    buttons = _answer_buttons(catalog, locale, plan.meeting_id) if ask else []
    return "\n".join(lines), buttons


def group_reminders(
    catalog: Catalog, locale: str, plan: ReminderPlan, as_of: datetime
) -> list[tuple[str, ButtonRows]]:
    """The mention messages for the branch's group: everyone the bot cannot write to."""
    people = [("ask", p) for p in plan.unanswered if p.mentionable]
    people += [("attend", p) for p in plan.attending if p.mentionable]
    head = [
        catalog.t(
            locale, "reminder.group", left=left_text(catalog, locale, plan.starts_at - as_of)
        ),
        *_details(catalog, locale, plan, as_of),
        "",
    ]
    messages: list[tuple[str, ButtonRows]] = []
    for start in range(0, len(people), MENTIONS_PER_MESSAGE):
        chunk = people[start : start + MENTIONS_PER_MESSAGE]
        lines = list(head)
        for kind, key in (("ask", "reminder.group_ask"), ("attend", "reminder.group_attend")):
            mentions = " ".join(
                catalog.t(locale, "reminder.mention", user_id=p.user_id, name=p.name)
                for k, p in chunk
                if k == kind
            )
            if mentions:
                lines.append(catalog.t(locale, key, mentions=Html(mentions)))
        asks = any(k == "ask" for k, _ in chunk)
        parts = split_message(lines)
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            buttons = _answer_buttons(catalog, locale, plan.meeting_id) if asks and last else []
            messages.append((part, buttons))
    return messages


class MeetingReminders:
    """Reminders at each configured offset before a meeting (default 24 h and 1 h)."""

    name = JOB
    summary = "before each meeting: non-responders asked to answer, attendees reminded"

    def __init__(self) -> None:
        # The organizations' zones, read once per tick (all its occurrences share `now`):
        # a city-wide theme day puts 2,000 meetings in one tick.
        self._zones: tuple[datetime, dict[int, str]] | None = None

    async def _zones_at(self, session: Session, now: datetime, default: str) -> dict[int, str]:
        if self._zones is None or self._zones[0] != now:
            self._zones = (now, await effective_timezones(session, default))
        return self._zones[1]

    async def due(self, deps: Deps, start: datetime, end: datetime) -> list[Occurrence]:
        """One occurrence per meeting and offset whose moment lies in (start, end]."""
        offsets = deps.settings.schedule.reminder_offsets_minutes
        return [
            Occurrence(r.due_at, self.name, r.key)
            for r in await due_reminders(deps.db, offsets, start, end)
        ]

    async def prepare(self, deps: Deps, occurrence: Occurrence, now: datetime) -> Effects:
        """One meeting's reminder reads a few rows: done inside the run's transaction, so
        what it sees is what it writes against."""

        async def effects(session: Session) -> dict[str, Any] | None:
            return await self.run(deps, session, occurrence, now)

        return effects

    async def run(
        self, deps: Deps, session: Session, occurrence: Occurrence, now: datetime
    ) -> dict[str, Any] | None:
        """Queue the private reminders and the group's mention message for one reminder."""
        parsed = parse_reminder_key(occurrence.key)
        if parsed is None:
            return {"stale": "bad key"}
        meeting_id, offset, starts_at = parsed
        # Late after downtime: speak of the real time left; run ahead by an operator: of
        # the moment it was due.
        as_of = max(now, occurrence.due_at)
        if as_of >= starts_at:
            return {"stale": "started"}
        offsets = deps.settings.schedule.reminder_offsets_minutes
        if any(o < offset and starts_at - timedelta(minutes=o) <= as_of for o in offsets):
            # A nearer reminder is due as well (both fell due during downtime): one is enough.
            return {"stale": "superseded"}
        settings = deps.settings
        plan = await reminder_plan(
            session,
            meeting_id,
            starts_at,
            as_of=as_of,
            default_timezone=settings.timezone.key,
            default_locale=settings.default_locale,
            zones=await self._zones_at(session, now, settings.timezone.key),
        )
        if isinstance(plan, str):
            return {"stale": plan}
        catalog = deps.catalog
        private = mentioned = skipped = 0
        for ask, people in ((True, plan.unanswered), (False, plan.attending)):
            for person in people:
                if person.private:
                    assert person.user_id is not None
                    html, buttons = private_reminder(catalog, plan, person, as_of, ask=ask)
                    enqueue_text(
                        session, chat_id=person.user_id, html=html, now=now, buttons=buttons
                    )
                    private += 1
                elif person.mentionable and plan.group is not None:
                    mentioned += 1
                else:
                    skipped += 1  # no Telegram account known, or no group to mention them in
        if mentioned and plan.group is not None:
            group = plan.group
            for html, buttons in group_reminders(catalog, settings.default_locale, plan, as_of):
                enqueue_text(
                    session,
                    chat_id=group.chat_id,
                    html=html,
                    now=now,
                    is_group=True,
                    thread_id=group.thread_id,
                    buttons=buttons,
                    reply_to=group.reply_to,
                )
        return {"private": private, "mentioned": mentioned, "skipped": skipped}
