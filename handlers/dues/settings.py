"""⚙️ 党费设置: a branch's keepers see its dues settings and change them — the payment day
(buttons or a typed day), the months one may pay ahead and back, how often to disclose. Every
press and typed answer is re-authorized by its service; the reply comes after the commit."""

from __future__ import annotations

from telegram import Update

from domain.dues import Invalid
from domain.dues_settings import TYPED, Setting, SettingsDraft, parse
from handlers.common import actor_of, today
from handlers.dues.common import MenuEntry, menu_entry, presses
from handlers.dues.pickers import Chooser, chooser, show
from handlers.press import Press
from handlers.wizard import WizardRouter, typed_draft
from services.authz import Actor
from services.drafts import DraftView, clear_draft
from services.dues import dues_access
from services.dues_settings import ask_setting, change_setting, dues_settings
from services.errors import ServiceError
from ui.deps import BotContext
from ui.dues_settings import (
    SettingsAsk,
    SettingsOpen,
    SettingsSet,
    ask_screen,
    settings_screen,
)
from ui.errors import error_key

menu_entry(
    MenuEntry(
        "dues.settings.menu",
        data=lambda a: SettingsOpen(a.keeps[0].id if len(a.keeps) == 1 else 0),
        shown=lambda a: bool(a.keeps),
        order=75,
    )
)


def _setting(what: str) -> Setting:
    try:
        return Setting(what)
    except ValueError:
        raise ServiceError("stale") from None


@chooser("settings")
async def _settings_branches(context: BotContext, actor: Actor, key: int) -> Chooser:
    """党费设置 for a keeper of several branches: every one, paged and found by name."""
    access = await dues_access(context.deps.db, actor, today(context))
    if not access.keeps:
        raise ServiceError("auth.keep_dues")
    question = context.t("dues.settings.choose_branch")
    return Chooser(access.keeps, question, lambda o: o.name, lambda o: SettingsOpen(o.id))


@presses.on(SettingsOpen)
async def open_settings(press: Press[SettingsOpen], context: BotContext) -> None:
    """党费设置: the branch's settings (first the branch, for a keeper of several)."""
    catalog, locale = context.deps.catalog, context.locale
    if press.data.org_id == 0:
        access = await dues_access(context.deps.db, press.actor, today(context))
        if not access.keeps:
            raise ServiceError("auth.keep_dues")
        if len(access.keeps) > 1:
            await show(press, context, "settings", 0)
            return
        org_id = access.keeps[0].id
    else:
        org_id = press.data.org_id
    screen = await dues_settings(context.deps.db, press.actor, org_id,
                                 default_tz=context.deps.settings.timezone.key,
                                 today=today(context))  # fmt: skip
    await clear_draft(context.deps.db, press.user_id, SettingsDraft.FLOW)
    await press.edit(*settings_screen(catalog, locale, screen))


@presses.on(SettingsAsk)
async def ask(press: Press[SettingsAsk], context: BotContext) -> None:
    """改…: the question (a number may also be typed)."""
    setting = _setting(press.data.what)
    screen = await ask_setting(context.deps.db, press.actor, press.data.org_id, setting,
                               now=context.deps.clock.now(), today=today(context))  # fmt: skip
    await press.edit(*ask_screen(context.deps.catalog, context.locale, screen, setting))


@presses.on(SettingsSet)
async def choose(press: Press[SettingsSet], context: BotContext) -> None:
    """A value pressed: saved (audited), then the settings again with what changed."""
    setting = _setting(press.data.what)
    screen = await change_setting(
        context.deps.db, press.actor, press.data.org_id, setting, press.data.value,
        default_tz=context.deps.settings.timezone.key, now=context.deps.clock.now(),
        today=today(context),
    )  # fmt: skip
    await clear_draft(context.deps.db, press.user_id, SettingsDraft.FLOW)
    await press.edit(*settings_screen(context.deps.catalog, context.locale, screen))


async def typed_value(update: Update, context: BotContext, _view: DraftView) -> None:
    """A typed day or number of months: saved and the settings shown, or why not and the
    question again."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    draft = await typed_draft(update, context, SettingsDraft)
    if draft is None:
        return
    catalog, locale, db = context.deps.catalog, context.locale, context.deps.db
    setting = Setting(draft.what) if draft.what in {s.value for s in TYPED} else None
    if setting is None:
        await clear_draft(db, user.id, SettingsDraft.FLOW)
        await message.reply_text(context.t("wizard.outdated"))
        return
    actor = actor_of(context, user)
    value = parse(setting, message.text or "")
    now, day, zone = context.deps.clock.now(), today(context), context.deps.settings.timezone.key
    try:
        if isinstance(value, Invalid):
            # Not a value this setting takes: why, and the question again (draft kept).
            shown = await ask_setting(db, actor, draft.org_id, setting, now=now, today=day)
            text, markup = ask_screen(catalog, locale, shown, setting)
            reason = context.t(error_key(value.code, "dues"))
            await message.reply_text(reason + "\n\n" + text, reply_markup=markup)
            return
        screen = await change_setting(db, actor, draft.org_id, setting, value,
                                      default_tz=zone, now=now, today=day, typed=True)  # fmt: skip
    except ServiceError as exc:
        # No longer theirs to change (or the question was answered already): said, forgotten.
        await clear_draft(db, user.id, SettingsDraft.FLOW)
        await message.reply_text(context.t(error_key(exc.code, "dues"), **exc.params))
        return
    text, markup = settings_screen(catalog, locale, screen)
    await message.reply_text(text, reply_markup=markup)


def register(router: WizardRouter) -> None:
    """The typed answers."""
    router.on_text(SettingsDraft.FLOW, typed_value)
