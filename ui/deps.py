"""The typed context every handler receives: `context.deps` instead of string keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from telegram.ext import Application, CallbackContext, ExtBot

from domain.forms_chase import REMIND_DAYS
from domain.locale import negotiate_locale
from domain.schedule import ScheduleRules
from services.activity import ActivityLog
from services.clock import Clock
from services.outbox import Wakeup
from services.throttle import UserThrottle
from services.users import UserView
from storage.db import Database
from ui.i18n import Catalog


@dataclass(frozen=True)
class Settings:
    """The parts of the configuration handlers need."""

    timezone: ZoneInfo
    default_locale: str
    superadmins: frozenset[int] = frozenset()
    schedule: ScheduleRules = field(default_factory=ScheduleRules)
    # Form reminders: days before a cycle's due day (bot.config's [forms] remind_days).
    form_remind_days: tuple[int, ...] = REMIND_DAYS


@dataclass(frozen=True)
class Deps:
    """What handlers and jobs depend on, built once by the composition root."""

    db: Database
    clock: Clock
    catalog: Catalog
    settings: Settings
    outbox: Wakeup = field(default_factory=Wakeup)
    activity: ActivityLog = field(default_factory=ActivityLog)  # last-seen refreshes, batched
    throttle: UserThrottle = field(default_factory=UserThrottle)  # per-person update limit


@dataclass
class BotData:
    """Application-wide state: only the dependencies, never per-user data."""

    deps: Deps | None = None


@dataclass
class ChatData:
    """Unused: chat state lives in the database."""


@dataclass
class UserData:
    """Unused: user state lives in the database."""

    extra: dict[str, object] = field(default_factory=dict)


class BotContext(CallbackContext[ExtBot[None], UserData, ChatData, BotData]):
    """A CallbackContext with our dependencies and the current user's profile."""

    def __init__(
        self,
        application: Application,  # type: ignore[type-arg]
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)
        # Filled by the middleware in handler group -100 before any feature handler runs.
        self.profile: UserView | None = None

    @property
    def deps(self) -> Deps:
        deps = self.bot_data.deps
        if deps is None:
            raise RuntimeError("dependencies not wired: use bot.app.build_application")
        return deps

    @property
    def locale(self) -> str:
        """The language to answer this update's user in."""
        default = self.deps.settings.default_locale
        if self.profile is None:
            return default
        return self.profile.locale or negotiate_locale(self.profile.language_code, default)

    def t(self, key: str, /, **params: object) -> str:
        """A catalog message in this user's language, as safe HTML."""
        return self.deps.catalog.t(self.locale, key, **params)

    def plain(self, key: str, /, **params: object) -> str:
        """A catalog message in this user's language, as plain text."""
        return self.deps.catalog.plain(self.locale, key, **params)
