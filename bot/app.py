"""Building the Application: every handler and job is wired here, in one visible order."""

from __future__ import annotations

import logging
from datetime import timedelta
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults

from bot.config import Config
from bot.flood import FloodGate, FloodLimits
from bot.http import AiohttpRequest
from bot.i18n import load_catalog
from bot.processor import PerChatUpdateProcessor
from handlers import (
    chats,
    compliance,
    dues,
    fallback,
    forms,
    groups,
    lang,
    ledger,
    meetings,
    members,
    members_import,
    members_registration,
    middleware,
    minutes,
    notices,
    orgs,
    start,
)
from handlers.commands import publish_commands
from handlers.errors import on_error
from handlers.wizard import WizardRouter
from scheduler.forms import register_jobs as register_form_jobs
from scheduler.jobs import register_jobs as register_scheduled_jobs
from scheduler.meetings import register_jobs as register_meeting_jobs
from scheduler.notices import register_jobs
from scheduler.outbox import OutboxSettings, OutboxWorker
from services.clock import Clock, SystemClock
from services.throttle import ThrottleLimits, UserThrottle
from storage.db import Database
from ui.deps import BotContext, BotData, ChatData, Deps, Settings, UserData

log = logging.getLogger(__name__)

# Which update types we ask Telegram for. chat_member (joins with details) needs to be
# listed explicitly; Telegram leaves it out by default.
ALLOWED_UPDATES: list[str] = [
    Update.MESSAGE,
    Update.EDITED_MESSAGE,
    Update.CALLBACK_QUERY,
    Update.MY_CHAT_MEMBER,
    Update.CHAT_MEMBER,
]


def build_deps(cfg: Config, *, clock: Clock | None = None, db: Database | None = None) -> Deps:
    """The dependencies handlers and jobs use, built once from the config."""
    return Deps(
        db=db or Database(cfg.database.url, echo=cfg.database.echo),
        clock=clock or SystemClock(),
        catalog=load_catalog(cfg.bot.default_locale),
        settings=Settings(
            timezone=ZoneInfo(cfg.bot.timezone),
            default_locale=cfg.bot.default_locale,
            superadmins=frozenset(cfg.bot.superadmins),
            schedule=cfg.schedule,
            form_remind_days=cfg.forms.remind_days,
        ),
        throttle=UserThrottle(
            ThrottleLimits(cfg.limits.user_updates_per_second, cfg.limits.user_burst)
        ),
    )


def wire(app: Application) -> None:  # type: ignore[type-arg]
    """Register handlers. Order is behaviour: within a group the first match wins."""
    middleware.register(app)  # group -100: who is writing, in which language
    router = WizardRouter()  # typed answers go to the open wizard's flow
    start.register(app)
    lang.register(app)
    chats.register(app)
    groups.register(app)
    members_registration.register(app, router)
    members.register(app, router)
    orgs.register(app, router)
    members_import.register(app, router)  # takes private documents: before the fallback
    notices.register(app, router)  # also group -1: a notice's photo or file body
    meetings.register(app, router)  # also group -2: the leave-reason deep link
    compliance.register(app)  # 立即安排 under reminders; committee meeting frequencies
    minutes.register(app, router)  # also group -3: photos for open minutes
    ledger.register(app, router)
    forms.register(app, router)  # also group -4: files for an open forms wizard
    dues.register(app, router)
    router.register(app)  # /cancel and typed answers, after every flow is known
    fallback.register(app)  # last in group 0: stale buttons, messages nobody claimed
    app.add_error_handler(on_error)


def build_application(
    cfg: Config,
    *,
    deps: Deps | None = None,
    processor: PerChatUpdateProcessor | None = None,
    rate_limiter: bool = True,
) -> Application:  # type: ignore[type-arg]
    """The fully wired bot, not yet started."""
    deps = deps or build_deps(cfg)
    processor = processor or PerChatUpdateProcessor()
    processor.throttle = deps.throttle  # the per-person limit is decided as updates arrive
    context_types = ContextTypes(
        context=BotContext, bot_data=BotData, chat_data=ChatData, user_data=UserData
    )
    builder = (
        ApplicationBuilder()
        .token(cfg.telegram.token)
        .base_url(cfg.telegram.base_url)
        .base_file_url(cfg.telegram.base_file_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML, tzinfo=deps.settings.timezone))
        .context_types(context_types)
        .concurrent_updates(processor)
        .post_shutdown(_post_shutdown)
        .arbitrary_callback_data(False)
    )
    if cfg.telegram.proxy:
        builder = builder.proxy(cfg.telegram.proxy).get_updates_proxy(cfg.telegram.proxy)
    else:  # see bot/http.py: the HTTP client was most of the bot's CPU under load
        builder = builder.request(AiohttpRequest()).get_updates_request(
            AiohttpRequest(connection_pool_size=1)
        )
    if rate_limiter:
        # One gate for direct answers and the outbox, counting what Telegram counts.
        gate = FloodGate(
            FloodLimits(
                overall_per_second=cfg.outbox.messages_per_second,
                group_per_minute=cfg.outbox.group_messages_per_minute,
                private_per_second=cfg.outbox.private_messages_per_second,
            )
        )
        processor.presses = gate.presses  # presses still unanswered after a few seconds
        # PTB's builder generics cannot express "rate limiter added later in a branch".
        builder = builder.rate_limiter(gate)  # type: ignore[arg-type]
    app = builder.build()
    app.bot_data.deps = deps
    wire(app)
    register_jobs(app)
    register_meeting_jobs(app)
    register_form_jobs(app)
    register_scheduled_jobs(app)  # reminders, digests, reports: due occurrences, once each
    worker = OutboxWorker(
        app.bot,
        deps,
        OutboxSettings(
            concurrency=cfg.outbox.concurrency,
            claim_timeout=timedelta(seconds=cfg.outbox.claim_timeout_seconds),
        ),
    )

    async def start_worker(application: Application) -> None:  # type: ignore[type-arg]
        await _post_init(application)
        deps.activity.start(deps.db)
        await worker.start()

    async def stop_worker(application: Application) -> None:  # type: ignore[type-arg]
        await worker.stop()
        await deps.activity.stop(deps.db)

    # The worker sends once the bot is up, and finishes its items before HTTP closes.
    app.post_init = start_worker
    app.post_stop = stop_worker
    return app


async def _post_init(app: Application) -> None:  # type: ignore[type-arg]
    deps: Deps = app.bot_data.deps
    await publish_commands(app.bot, deps.catalog)
    log.info("zhibu started as @%s", app.bot.username)


async def _post_shutdown(app: Application) -> None:  # type: ignore[type-arg]
    deps: Deps = app.bot_data.deps
    await deps.db.dispose()
    log.info("zhibu stopped; database closed")
