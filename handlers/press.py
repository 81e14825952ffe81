"""One way to handle a button press: unpack, refuse stale or forged data, run, explain, answer.

A feature declares its buttons as small functions, each chosen by the fields of the pressed
payload (aiogram's `CallbackData.filter(F.action == "ok")` style):

    presses = Presses("meetings")

    @presses.on(Manage, action="close")
    async def close(press: Press[Manage], context: BotContext) -> None:
        result = await close_meeting(context.deps.db, press.actor, press.data.meeting_id, ...)
        await press.edit(render(result))

and `presses.register(app)` installs one CallbackQueryHandler per payload type. The wrapper
does the rest of every press, the same way everywhere:
- data that does not unpack, or that no function claims, is answered with a short alert
  ("this button is out of date"): forged bytes and buttons of an older release end here;
- a `ServiceError` raised by the function becomes the user's message from the one registry
  (`ui.errors`), as an alert;
- a press the function did not answer is answered (silently) before its first edit, or at
  the end: every press is (and bot.processor answers one still waiting after a few seconds).
Authorization is the service's job: it re-reads the presser's roles from the database.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from telegram import CallbackQuery, Chat, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler

from handlers.common import edit_text, not_modified
from services.authz import Actor
from services.errors import ServiceError
from ui.callbacks import CallbackData
from ui.deps import BotContext
from ui.errors import Feature, error_key

log = logging.getLogger(__name__)

P = TypeVar("P", bound=CallbackData)
PressFunction = Callable[["Press[P]", BotContext], Awaitable[None]]


@dataclass
class Press(Generic[P]):
    """A button press being handled: the query, its unpacked payload, whether it is answered."""

    query: CallbackQuery
    data: P
    context: BotContext
    feature: Feature | None = None
    answered: bool = field(default=False)

    @property
    def user_id(self) -> int:
        """The presser's Telegram id."""
        return self.query.from_user.id

    @property
    def actor(self) -> Actor:
        """The presser as services see them (with their superadmin standing)."""
        user_id = self.query.from_user.id
        return Actor(user_id=user_id, superadmin=user_id in self.context.deps.settings.superadmins)

    @property
    def in_private(self) -> bool:
        """Whether the button was pressed in the private chat with the bot."""
        message = self.query.message
        return message is not None and message.chat.type == Chat.PRIVATE

    async def answer(self, key: str | None = None, *, alert: bool = False, **params: Any) -> bool:
        """Answer the press, with a short text from the catalog (an alert if `alert`); False
        when it had been answered already (by the bot, silently, because this took long)."""
        if self.answered:
            return False
        self.answered = True
        text = self.context.plain(key, **params) if key is not None else None
        return bool(await self.query.answer(text, show_alert=alert and text is not None))

    async def refuse(self, code: str, **params: Any) -> None:
        """Answer with an alert explaining a refusal code (stale buttons, service errors)."""
        key = error_key(code, self.feature)
        if not self.answered and await self.answer(key, alert=True, **params):
            return
        # Answered already (the function answered, then its work was refused): say it in the
        # private chat; in a group a refusal meant for one person is not worth a message.
        if self.in_private:
            await self.context.bot.send_message(self.user_id, self.context.t(key, **params))
        else:
            log.info("refusal %s after the press was answered in a group", code)

    async def edit(self, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
        """Replace the pressed message; an identical edit (a double press) is not an error."""
        await self.answer()  # an edit may wait for the chat's budget; the answer never does
        await edit_text(self.query, text, reply_markup=markup)

    async def edit_markup(self, markup: InlineKeyboardMarkup | None) -> None:
        """Replace the pressed message's buttons (None: take them off)."""
        await self.answer()
        try:
            await self.query.edit_message_reply_markup(markup)
        except BadRequest as exc:
            if not not_modified(exc):
                raise

    async def drop_buttons(self) -> None:
        """Take the buttons off the pressed message (it has been acted on)."""
        await self.edit_markup(None)


@dataclass(frozen=True)
class _Route(Generic[P]):
    match: Mapping[str, Collection[object]]
    function: PressFunction[P]

    def claims(self, data: P) -> bool:
        return all(getattr(data, name) in values for name, values in self.match.items())


class Presses:
    """The buttons of one feature: each payload type's presses routed to small functions."""

    def __init__(self, feature: Feature | None = None) -> None:
        self.feature = feature
        self._routes: dict[type[CallbackData], list[_Route[Any]]] = {}

    def on(self, codec: type[P], **match: object) -> Callable[[PressFunction[P]], PressFunction[P]]:
        """Route presses of `codec` whose fields equal `match` (a tuple or set: any of them)."""
        for name in match:
            if name not in codec.__dataclass_fields__:
                raise TypeError(f"{codec.__name__} has no field {name!r}")
        wanted = {
            name: tuple(value) if isinstance(value, (tuple, list, set, frozenset)) else (value,)
            for name, value in match.items()
        }

        def decorate(function: PressFunction[P]) -> PressFunction[P]:
            self._routes.setdefault(codec, []).append(_Route(wanted, function))
            return function

        return decorate

    def codecs(self) -> list[type[CallbackData]]:
        """The payload types this feature answers (for tests and registration)."""
        return list(self._routes)

    async def dispatch(self, codec: type[P], update: Update, context: BotContext) -> None:
        """Handle one press of `codec`: see the module docstring."""
        query = update.callback_query
        if query is None:
            return
        data = codec.unpack(query.data)
        route = next((r for r in self._routes[codec] if data is not None and r.claims(data)), None)
        if data is None or route is None:
            await query.answer(context.plain(error_key("stale")), show_alert=True)
            return
        press: Press[P] = Press(query, data, context, self.feature)
        try:
            await route.function(press, context)
        except ServiceError as exc:
            await press.refuse(exc.code, **exc.params)
            return
        if not press.answered:
            await press.answer()

    def register(self, app: Application, group: int = 0) -> None:  # type: ignore[type-arg]
        """Install one CallbackQueryHandler per payload type, in `group`."""
        for codec in self._routes:
            app.add_handler(
                CallbackQueryHandler(self._handler(codec), pattern=codec.pattern()), group
            )

    def _handler(
        self, codec: type[CallbackData]
    ) -> Callable[[Update, BotContext], Coroutine[Any, Any, None]]:
        async def handle(update: Update, context: BotContext) -> None:
            await self.dispatch(codec, update, context)

        handle.__qualname__ = f"{codec.__name__}.press"
        return handle
