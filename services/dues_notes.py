"""Dues notes queued for other people, each in the reader's own language.

A handler renders a note once per catalog locale (ui.dues_notes.in_every_locale); the intent
picks, for each person it queues the note for, the language they chose in the bot, else the
one their Telegram uses, else the bot's default — the way services.dues_remit does it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.locale import negotiate_locale
from services.outbox import ButtonRows
from storage.models import User

T = TypeVar("T")
CHUNK = 1000  # ids bound in one statement (SQLite and asyncpg cap a statement's parameters)


@dataclass(frozen=True)
class Note:
    """A message an intent queues for someone else, rendered by the caller (the handler) in
    ui; a slot in its button data may be filled in by the intent (a new row's id)."""

    html: str
    buttons: ButtonRows = field(default_factory=list)


# A note in every language the catalog has: locale → the rendered note.
Localized = Mapping[str, T]


async def reader_locales(
    session: AsyncSession, user_ids: Iterable[int], default_locale: str
) -> dict[int, str]:
    """Each person's language: chosen in the bot, else their Telegram's, else the default
    (someone the bot has never seen gets the default)."""
    ids = sorted(set(user_ids))
    found = {uid: default_locale for uid in ids}
    if not ids:
        return found
    for start in range(0, len(ids), CHUNK):
        rows = await session.execute(
            select(User.id, User.locale, User.language_code).where(
                User.id.in_(ids[start : start + CHUNK])
            )
        )
        for uid, locale, language in rows.all():
            found[uid] = locale or negotiate_locale(language, default_locale)
    return found


def in_locale(texts: Localized[T], locale: str, default_locale: str) -> T:
    """The note in the reader's language (the default one when it was not rendered in theirs)."""
    chosen = texts.get(locale)
    if chosen is not None:
        return chosen
    if default_locale in texts:
        return texts[default_locale]
    return next(iter(texts.values()))
