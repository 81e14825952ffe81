"""The command menu: which commands exist, for whom, with catalog-key descriptions."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import (
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeDefault,
)
from telegram._botcommandscope import BotCommandScope
from telegram.ext import ExtBot

from ui.i18n import Catalog


@dataclass(frozen=True)
class Command:
    """One slash command and the catalog key of its description."""

    name: str
    description_key: str
    admin: bool = False
    private_only: bool = False


# Order is the order people see in the menu: the everyday commands first.
COMMANDS: tuple[Command, ...] = (
    Command("start", "cmd.start"),
    Command("help", "cmd.help"),
    Command("register", "cmd.register"),
    Command("me", "cmd.me", private_only=True),
    Command("members", "cmd.members", private_only=True),
    Command("meetings", "cmd.meetings", private_only=True),
    Command("dues", "cmd.dues", private_only=True),
    Command("lang", "cmd.lang", private_only=True),
    Command("cancel", "cmd.cancel", private_only=True),
    Command("myid", "cmd.myid", private_only=True),  # works in groups too; menus stay short
    Command("notice", "cmd.notice", admin=True, private_only=True),
    Command("meeting", "cmd.meeting", admin=True, private_only=True),
    Command("form", "cmd.form", admin=True, private_only=True),
    Command("receipts", "cmd.receipts", admin=True, private_only=True),
    Command("forms", "cmd.forms", admin=True, private_only=True),
    Command("ledger", "cmd.ledger", admin=True, private_only=True),
    Command("pending", "cmd.pending", admin=True, private_only=True),
    Command("import", "cmd.import", admin=True, private_only=True),
    Command("org", "cmd.org", admin=True, private_only=True),
    Command("bind", "cmd.bind", admin=True),
)


def visible(*, admin: bool, private: bool) -> list[Command]:
    """The commands a person sees in one kind of chat."""
    return [c for c in COMMANDS if (admin or not c.admin) and (private or not c.private_only)]


def _menu(catalog: Catalog, locale: str, commands: list[Command]) -> list[BotCommand]:
    return [BotCommand(c.name, catalog.plain(locale, c.description_key)) for c in commands]


def _language_code(locale: str) -> str:
    # setMyCommands takes a two-letter ISO 639-1 code; "zh" covers zh-hans and zh-hant.
    return locale.split("_")[0]


async def publish_commands(bot: ExtBot[None], catalog: Catalog) -> None:
    """Set the command menu per language and scope: admins see admin commands, members don't."""
    scopes: list[tuple[BotCommandScope, bool, bool]] = [
        (BotCommandScopeDefault(), False, True),
        (BotCommandScopeAllPrivateChats(), False, True),
        (BotCommandScopeAllGroupChats(), False, False),
        (BotCommandScopeAllChatAdministrators(), True, False),
    ]
    for scope, admin, private in scopes:
        commands = visible(admin=admin, private=private)
        # The default language (no code) is what people with other app languages see.
        await bot.set_my_commands(_menu(catalog, catalog.default_locale, commands), scope=scope)
        for locale in catalog.locales:
            await bot.set_my_commands(
                _menu(catalog, locale, commands),
                scope=scope,
                language_code=_language_code(locale),
            )
