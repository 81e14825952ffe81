"""Bot API methods the emulator implements, with Telegram's rules and error wording.

Each public coroutine is named exactly like the Bot API method and receives the parameters
already validated and decoded against the spec. It returns the JSON ``result`` or raises
:class:`ApiError`. Methods missing here answer "emulator: method X not implemented".
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .faults import ApiError, bad_request, forbidden
from .formatting import EntityParseError, JSONDict, parse_html, utf16_len
from .model import PERMISSIONS, CallbackAnswer, EmuChat, EmuFile, EmuMessage, EmuUser, Member
from .spec import Upload

if TYPE_CHECKING:
    from .emulator import Emulator

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64  # bytes
CALLBACK_ANSWER_LIMIT = 200
MAX_BUTTONS = 100
DOWNLOAD_LIMIT = 20 * 1024 * 1024
UPLOAD_LIMITS = {"document": 50 * 1024 * 1024, "photo": 10 * 1024 * 1024}
TWO_DAYS = 48 * 3600
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_LANG_RE = re.compile(r"^([a-z]{2})?$")
_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_TOPIC_COLORS = frozenset({7322096, 16766590, 13338331, 9367192, 16749490, 16478047})
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
_QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"


class BotApi:
    """The implemented Bot API methods, bound to one emulator."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu

    # ================================================================== helpers

    def _chat(self, chat_id: int | str) -> EmuChat:
        emu = self.emu
        if isinstance(chat_id, int) and chat_id in emu.migrated:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                violation=False,
                parameters={"migrate_to_chat_id": emu.migrated[chat_id]},
                stat="migrated",
            )
        if isinstance(chat_id, str) and not chat_id.startswith("@"):
            raise bad_request("chat not found")
        chat = emu._find_chat(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def _reachable(self, chat: EmuChat) -> None:
        """403 when the bot can't act in the chat (never a violation: it can't know)."""
        if chat.type == "private":
            user = chat.user
            assert user is not None
            if user.blocked:
                raise forbidden("bot was blocked by the user")
            if not user.started:
                raise forbidden("bot can't initiate conversation with a user")
            return
        kind = "supergroup chat" if chat.type == "supergroup" else "group chat"
        member = chat.bot_member
        if member.status == "kicked":
            raise forbidden(f"bot was kicked from the {kind}")
        if not member.present:
            raise forbidden(f"bot is not a member of the {kind}")

    def _user(self, user_id: int) -> EmuUser:
        if user_id == self.emu.bot.id:
            return self.emu.bot
        user = self.emu.users.get(user_id)
        if user is None:
            raise bad_request("user not found")
        return user

    def _text(
        self, raw: str, parse_mode: str | None, entities: list[JSONDict] | None, *, caption: bool
    ) -> tuple[str, list[JSONDict]]:
        if parse_mode:
            mode = parse_mode.lower()
            if mode == "html":
                try:
                    plain, ents = parse_html(raw)
                except EntityParseError as exc:
                    raise bad_request(f"can't parse entities: {exc}") from None
            elif mode in ("markdown", "markdownv2"):
                raise bad_request(
                    "emulator: use HTML", violation=f"emulator: use HTML, not {parse_mode}"
                )
            else:
                raise bad_request("unsupported parse_mode")
        else:
            plain, ents = raw, list(entities or [])
            size = utf16_len(plain)
            for e in ents:
                if e["offset"] < 0 or e["length"] <= 0 or e["offset"] + e["length"] > size:
                    raise bad_request("can't parse entities: entity is out of the text bounds")
        if caption:
            if utf16_len(plain) > CAPTION_LIMIT:
                raise bad_request("message caption is too long")
        else:
            if not plain.strip():
                raise bad_request("message text is empty")
            if utf16_len(plain) > TEXT_LIMIT:
                raise bad_request("message is too long")
        return plain, ents

    def _caption(self, p: dict[str, Any]) -> dict[str, Any]:
        if "caption" not in p:
            return {}
        plain, ents = self._text(
            p["caption"], p.get("parse_mode"), p.get("caption_entities"), caption=True
        )
        return {
            "caption": plain,
            "caption_html": p["caption"],
            "caption_entities": ents,
            "parse_mode": p.get("parse_mode"),
        }

    def _markup(self, markup: JSONDict | None) -> JSONDict | None:
        if markup is None:
            return None
        rows = markup.get("inline_keyboard")
        if rows is None:
            return markup  # reply keyboards / ForceReply: structurally checked by the spec
        count = 0
        for row in rows:
            for button in row:
                count += 1
                self._button(button)
        if count > MAX_BUTTONS:
            raise bad_request("reply markup is too long")
        return markup

    def _button(self, button: JSONDict) -> None:
        if not button.get("text"):
            raise bad_request("can't parse inline keyboard button: text must be non-empty")
        actions = [a for a in _BUTTON_ACTIONS if a in button]
        if not actions:
            raise bad_request(
                "can't parse inline keyboard button: "
                "Text buttons are unallowed in the inline keyboard"
            )
        if len(actions) > 1:
            raise bad_request(
                f"can't parse inline keyboard button: only one of {actions} may be used"
            )
        data = button.get("callback_data")
        if data is not None and not 1 <= len(data.encode("utf-8")) <= CALLBACK_DATA_LIMIT:
            raise bad_request("BUTTON_DATA_INVALID")
        url = button.get("url")
        if url is not None and not re.match(r"^(https?|tg)://[^\s]+$", url):
            raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")

    def _thread(self, chat: EmuChat, thread_id: int | None) -> int | None:
        if thread_id is None:
            return None
        if chat.is_forum and thread_id in chat.topics:
            return thread_id
        raise bad_request("message thread not found")

    def _reply(self, chat: EmuChat, params: JSONDict | None) -> EmuMessage | None:
        if params is None:
            return None
        if "chat_id" in params and self._chat(params["chat_id"]) is not chat:
            raise bad_request("emulator: replies to other chats are not implemented")
        msg = self.emu.messages.get((chat.id, params["message_id"]))
        if msg is None or msg.deleted or msg.service:
            if params.get("allow_sending_without_reply"):
                return None
            raise bad_request("message to be replied not found")
        return msg

    def _send(self, chat: EmuChat, p: dict[str, Any], **content: Any) -> EmuMessage:
        """Common tail of every send*: topic, reply, markup, reachability, flood, store."""
        thread = self._thread(chat, p.get("message_thread_id"))
        reply = self._reply(chat, p.get("reply_parameters"))
        markup = self._markup(p.get("reply_markup"))
        self._reachable(chat)
        self.emu.flood_check(chat)
        if thread is not None and reply is None:
            reply = self.emu.messages.get((chat.id, thread))  # topic messages reply to the topic
        return self.emu.new_message(
            chat,
            self.emu.bot,
            reply_markup=markup,
            reply_to=reply,
            thread_id=thread,
            is_topic_message=thread is not None,
            **content,
        )

    def _input_file(self, value: Upload | str, kind: str) -> EmuFile:
        emu = self.emu
        if isinstance(value, Upload):
            if len(value.content) > UPLOAD_LIMITS[kind]:
                raise bad_request("Request Entity Too Large")
            if kind == "photo" and not value.content:
                raise bad_request("IMAGE_PROCESS_FAILED")
            mime = None if value.content_type == "application/octet-stream" else value.content_type
            return emu.store_file(kind, value.content, file_name=value.filename, mime_type=mime)
        existing = emu.files.get(value.removesuffix("-s"))
        if existing is not None:
            if existing.kind != kind:
                raise bad_request(
                    f"can't use file of type {existing.kind.title()} as {kind.title()}"
                )
            return existing
        if value.startswith(("http://", "https://")):
            # Telegram would download the URL; the emulator never leaves this machine.
            return emu.store_file(kind, None, url=value, file_name=value.rsplit("/", 1)[-1] or None)
        raise bad_request("wrong file identifier/HTTP URL specified")

    def _target(self, p: dict[str, Any], action: str) -> tuple[EmuChat, EmuMessage]:
        if "inline_message_id" in p:
            raise bad_request("emulator: inline messages are not implemented")
        if "chat_id" not in p or "message_id" not in p:
            raise bad_request("message identifier is not specified")
        chat = self._chat(p["chat_id"])
        msg = self.emu.messages.get((chat.id, p["message_id"]))
        if msg is None or msg.deleted:
            raise bad_request(f"message to {action} not found")
        return chat, msg

    def _editable(self, p: dict[str, Any]) -> tuple[EmuChat, EmuMessage]:
        chat, msg = self._target(p, "edit")
        if not msg.from_bot or msg.service:
            raise bad_request("message can't be edited")
        return chat, msg

    def _not_modified(self, same: bool) -> None:
        if same:
            # Harmless by Telegram's own account: bots must tolerate it, so no violation.
            raise bad_request(_NOT_MODIFIED, violation=False, stat="not_modified")

    def _edit_done(self, chat: EmuChat, msg: EmuMessage) -> JSONDict:
        msg.edits += 1
        msg.edit_date = int(self.emu.now())
        return msg.to_api()

    def _edit_flood(self, chat: EmuChat) -> None:
        self._reachable(chat)
        if chat.is_group:
            self.emu.flood_check(chat)

    def _need_right(self, chat: EmuChat, right: str, error: str) -> None:
        member = chat.bot_member
        if member.right(right):
            return
        if chat.type == "group" and member.status == "member" and chat.permissions.get(right):
            return
        raise bad_request(error)

    def _until(self, until: int | None) -> int:
        # Telegram: until_date closer than 30 s or further than 366 days means "forever" (0).
        if not until:
            return 0
        delta = until - self.emu.now()
        return 0 if delta < 30 or delta > 366 * 86400 else int(until)

    def effective_member(self, chat: EmuChat, user: EmuUser) -> Member:
        """Membership with expired restrictions/bans lifted."""
        m = chat.member(user)
        if m.status in ("restricted", "kicked") and m.until_date and m.until_date <= self.emu.now():
            m = Member("member") if m.status == "restricted" and m.is_member else Member("left")
            chat.members[user.id] = m
        return m

    # ================================================================== bot

    async def getMe(self, p: dict[str, Any]) -> JSONDict:  # noqa: N802 - Bot API method names
        """The bot's User object with bot-only fields."""
        me = self.emu.bot.to_api()
        me.update(
            can_join_groups=True,
            can_read_all_group_messages=not self.emu.privacy_mode,
            supports_inline_queries=False,
            can_connect_to_business=False,
            has_main_web_app=False,
        )
        return me

    async def logOut(self, p: dict[str, Any]) -> bool:  # noqa: N802
        """Accepted and counted; nothing else happens."""
        self.emu.stats["logOut"] += 1
        return True

    async def close(self, p: dict[str, Any]) -> bool:
        """Accepted and counted; nothing else happens."""
        self.emu.stats["close"] += 1
        return True

    async def setMyCommands(self, p: dict[str, Any]) -> bool:  # noqa: N802
        """Store commands per (scope, language_code) after Telegram's checks."""
        commands: list[JSONDict] = p["commands"]
        lang = self._lang(p.get("language_code", ""))
        if len(commands) > 100:
            raise bad_request("too many commands: at most 100 are allowed")
        stored: list[tuple[str, str]] = []
        for c in commands:
            if not _COMMAND_RE.match(c["command"]):
                raise bad_request("BOT_COMMAND_INVALID")
            desc = c["description"]
            if not len(desc.strip()) >= 1 or len(desc) > 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            stored.append((c["command"], desc))
        key = (self.emu.scope_key(p.get("scope")), lang)
        if stored:
            self.emu.my_commands[key] = stored
        else:
            self.emu.my_commands.pop(key, None)
        return True

    async def getMyCommands(self, p: dict[str, Any]) -> list[JSONDict]:  # noqa: N802
        """Exactly the list stored for (scope, language_code) — Telegram does not fall back."""
        key = (self.emu.scope_key(p.get("scope")), self._lang(p.get("language_code", "")))
        return [{"command": c, "description": d} for c, d in self.emu.my_commands.get(key, [])]

    async def deleteMyCommands(self, p: dict[str, Any]) -> bool:  # noqa: N802
        """Forget the commands of (scope, language_code)."""
        key = (self.emu.scope_key(p.get("scope")), self._lang(p.get("language_code", "")))
        self.emu.my_commands.pop(key, None)
        return True

    def _lang(self, code: str) -> str:
        if not _LANG_RE.match(code):
            # Only two-letter ISO 639-1 codes: passing a user's "zh-hans" is a classic bug.
            raise bad_request("LANG_CODE_INVALID")
        return code

    async def setMyDescription(self, p: dict[str, Any]) -> bool:  # noqa: N802
        """Up to 512 characters per language."""
        return self._set_text(self.emu.descriptions, p, "description", 512)

    async def getMyDescription(self, p: dict[str, Any]) -> JSONDict:  # noqa: N802
        """The stored description ('' if none)."""
        return {
            "description": self.emu.descriptions.get(self._lang(p.get("language_code", "")), "")
        }

    async def setMyShortDescription(self, p: dict[str, Any]) -> bool:  # noqa: N802
        """Up to 120 characters per language."""
        return self._set_text(self.emu.short_descriptions, p, "short_description", 120)

    async def getMyShortDescription(self, p: dict[str, Any]) -> JSONDict:  # noqa: N802
        """The stored short description ('' if none)."""
        lang = self._lang(p.get("language_code", ""))
        return {"short_description": self.emu.short_descriptions.get(lang, "")}

    async def setMyName(self, p: dict[str, Any]) -> bool:  # noqa: N802
        """Up to 64 characters per language."""
        return self._set_text(self.emu.names, p, "name", 64)

    async def getMyName(self, p: dict[str, Any]) -> JSONDict:  # noqa: N802
        """The stored name (the bot's first name if none)."""
        lang = self._lang(p.get("language_code", ""))
        return {"name": self.emu.names.get(lang, self.emu.bot.first_name)}

    def _set_text(self, store: dict[str, str], p: dict[str, Any], key: str, limit: int) -> bool:
        lang = self._lang(p.get("language_code", ""))
        value = p.get(key, "")
        if len(value) > limit:
            raise bad_request(f"{key} is too long (at most {limit} characters)")
        if value:
            store[lang] = value
        else:
            store.pop(lang, None)
        return True

    async def setChatMenuButton(self, p: dict[str, Any]) -> bool:  # noqa: N802
        """Store the menu button of a private chat (or the default one)."""
        chat_id = p.get("chat_id")
        if chat_id is not None and self._chat(chat_id).type != "private":
            raise bad_request("menu button can be set only in private chats")
        self.emu.menu_buttons[chat_id] = p.get("menu_button", {"type": "default"})
        return True

    async def getChatMenuButton(self, p: dict[str, Any]) -> JSONDict:  # noqa: N802
        """The stored menu button (default: commands)."""
        return self.emu.menu_buttons.get(p.get("chat_id"), {"type": "commands"})

    # ================================================================== files

    async def getFile(self, p: dict[str, Any]) -> JSONDict:  # noqa: N802
        """File info with a file_path downloadable at base_file_url."""
        f = self.emu.files.get(p["file_id"].removesuffix("-s"))
        if f is None:
            raise bad_request("invalid file_id")
        if f.content is None:
            raise bad_request("emulator: a file sent by URL has no content to download")
        if f.size > DOWNLOAD_LIMIT:
            raise bad_request("file is too big")
        return {
            "file_id": p["file_id"],
            "file_unique_id": f.file_unique_id,
            "file_size": f.size,
            "file_path": f.file_path,
        }

    # ================================================================== sending

    async def sendMessage(self, p: dict[str, Any]) -> JSONDict:  # noqa: N802
        """Send a text message."""
        chat = self._chat(p["chat_id"])
        plain, ents = self._text(p["text"], p.get("parse_mode"), p.get("entities"), caption=False)
        msg = self._send(
            chat, p, text=plain, html=p["text"], entities=ents, parse_mode=p.get("parse_mode")
        )
        return msg.to_api()

    async def sendDocument(self, p: dict[str, Any]) -> JSONDict:  # noqa: N802
        """Send a document (upload, file_id or URL)."""
        chat = self._chat(p["chat_id"])
        caption = self._caption(p)
        f = self._input_file(p["document"], "document")
        return self._send(chat, p, document=f, **caption).to_api()

    async def sendPhoto(self, p: dict[str, Any]) -> JSONDict:  # noqa: N802
        """Send a photo (upload, file_id or URL)."""
        chat = self._chat(p["chat_id"])
        caption = self._caption(p)
        f = self._input_file(p["photo"], "photo")
        return self._send(chat, p, photo=f, **caption).to_api()

    async def sendChatAction(self, p: dict[str, Any]) -> bool:  # noqa: N802
        """'typing...' and friends."""
        chat = self._chat(p["chat_id"])
        if p["action"] not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self._thread(chat, p.get("message_thread_id"))
        self._reachable(chat)
        return True

    def _source(self, p: dict[str, Any], action: str) -> EmuMessage:
        src_chat = self._chat(p["from_chat_id"])
        src = self.emu.messages.get((src_chat.id, p["message_id"]))
        if src is None or src.deleted:
            raise bad_request(f"message to {action} not found")
        if src.service:
            raise bad_request(
                f"message can't be {action}ed" if action != "copy" else "message can't be copied"
            )
        if src_chat.is_group and not src_chat.bot_member.present:
            self._reachable(src_chat)
        return src

    async def copyMessage(self, p: dict[str, Any]) -> JSONDict:  # noqa: N802
        """Copy a message's content (no link to the original)."""
        chat = self._chat(p["chat_id"])
        src = self._source(p, "copy")
        content: dict[str, Any] = {
            "text": src.text,
            "html": src.html,
            "entities": list(src.entities),
            "document": src.document,
            "photo": src.photo,
            "caption": src.caption,
            "caption_html": src.caption_html,
            "caption_entities": list(src.caption_entities),
            "parse_mode": src.parse_mode,
        }
        if src.text is None:
            content.update(self._caption(p))
        msg = self._send(chat, p, **content)
        return {"message_id": msg.message_id}

    async def forwardMessage(self, p: dict[str, Any]) -> JSONDict:  # noqa: N802
        """Forward a message (forward_origin names the original sender)."""
        chat = self._chat(p["chat_id"])
        src = self._source(p, "forward")
        origin: JSONDict = {"type": "user", "date": src.date, "sender_user": src.sender.to_api()}
        msg = self._send(
            chat,
            {k: v for k, v in p.items() if k != "reply_markup"},
            text=src.text,
            html=src.html,
            entities=list(src.entities),
            document=src.document,
            photo=src.photo,
            caption=src.caption,
            caption_html=src.caption_html,
            caption_entities=list(src.caption_entities),
            forward_origin=origin,
        )
        return msg.to_api()

    # ================================================================== editing

    async def editMessageText(self, p: dict[str, Any]) -> JSONDict:  # noqa: N802
        """Edit text (no reply_markup means the keyboard is removed, as in Telegram)."""
        chat, msg = self._editable(p)
        if msg.text is None:
            raise bad_request("there is no text in the message to edit")
        if "text" not in p:
            raise bad_request("message text is empty")
        plain, ents = self._text(p["text"], p.get("parse_mode"), p.get("entities"), caption=False)
        markup = self._markup(p.get("reply_markup"))
        self._not_modified(
            plain == msg.text and ents == msg.entities and markup == msg.reply_markup
        )
        self._edit_flood(chat)
        msg.history.append(msg.text)
        msg.text, msg.html, msg.entities, msg.reply_markup = plain, p["text"], ents, markup
        msg.parse_mode = p.get("parse_mode")
        return self._edit_done(chat, msg)

    async def editMessageCaption(self, p: dict[str, Any]) -> JSONDict:  # noqa: N802
        """Edit a media caption (absent caption removes it; absent markup removes the keyboard)."""
        chat, msg = self._editable(p)
        if msg.document is None and msg.photo is None:
            raise bad_request("there is no caption in the message to edit")
        caption = self._caption(p) or {
            "caption": None,
            "caption_html": None,
            "caption_entities": [],
        }
        markup = self._markup(p.get("reply_markup"))
        self._not_modified(
            caption["caption"] == msg.caption
            and caption["caption_entities"] == msg.caption_entities
            and markup == msg.reply_markup
        )
        self._edit_flood(chat)
        msg.history.append(msg.caption)
        msg.caption, msg.caption_html = caption["caption"], caption["caption_html"]
        msg.caption_entities, msg.reply_markup = caption["caption_entities"], markup
        return self._edit_done(chat, msg)

    async def editMessageReplyMarkup(self, p: dict[str, Any]) -> JSONDict:  # noqa: N802
        """Replace (or, when absent, remove) the inline keyboard."""
        chat, msg = self._editable(p)
        markup = self._markup(p.get("reply_markup"))
        self._not_modified(markup == msg.reply_markup)
        self._edit_flood(chat)
        msg.history.append(msg.content)
        msg.reply_markup = markup
        return self._edit_done(chat, msg)

    async def deleteMessage(self, p: dict[str, Any]) -> bool:  # noqa: N802
        """Delete a message (own ones; others' need can_delete_messages in groups; < 48 h)."""
        chat, msg = self._target(p, "delete")
        self._delete(chat, msg)
        return True

    async def deleteMessages(self, p: dict[str, Any]) -> bool:  # noqa: N802
        """Delete several messages; missing ones are skipped as Telegram does."""
        chat = self._chat(p["chat_id"])
        ids: list[int] = p["message_ids"]
        if not 1 <= len(ids) <= 100:
            raise bad_request("message_ids must contain 1-100 identifiers")
        for mid in ids:
            msg = self.emu.messages.get((chat.id, mid))
            if msg is not None and not msg.deleted:
                self._delete(chat, msg)
        return True

    def _delete(self, chat: EmuChat, msg: EmuMessage) -> None:
        self._reachable(chat)
        if chat.is_group and not msg.from_bot and not chat.bot_member.right("can_delete_messages"):
            raise bad_request("message can't be deleted")
        if self.emu.now() - msg.date > TWO_DAYS:
            raise bad_request("message can't be deleted for everyone")
        msg.deleted = True
        msg.pinned = False
        if msg.message_id in chat.pinned:
            chat.pinned.remove(msg.message_id)

    # ================================================================== callbacks

    async def answerCallbackQuery(self, p: dict[str, Any]) -> bool:  # noqa: N802
        """Answer once, within the window, with at most 200 characters."""
        qid = p["callback_query_id"]
        q = self.emu.callbacks.get(qid)
        if q is None:
            raise bad_request(_QUERY_TOO_OLD, violation=f"unknown callback query id {qid!r}")
        if q.answer is not None:
            raise bad_request(_QUERY_TOO_OLD, violation=f"callback query {qid} answered twice")
        age = self.emu.now() - q.created
        if age > self.emu.callback_timeout:
            raise bad_request(
                _QUERY_TOO_OLD, violation=f"callback query {qid} answered after {age:.1f}s"
            )
        text = p.get("text")
        if text is not None and len(text) > CALLBACK_ANSWER_LIMIT:
            raise bad_request("MESSAGE_TOO_LONG")
        q.answer = self.emu.callback_answers[qid] = CallbackAnswer(text, bool(p.get("show_alert")))
        q.answer_url = p.get("url")
        return True

    # ================================================================== chats and members

    async def getChat(self, p: dict[str, Any]) -> JSONDict:  # noqa: N802
        """ChatFullInfo."""
        chat = self._chat(p["chat_id"])
        if chat.is_group:
            self._reachable(chat)
        info = chat.to_api()
        info.update(
            accent_color_id=0,
            max_reaction_count=11,
            accepted_gift_types={
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        )
        if chat.is_group:
            info["permissions"] = dict(chat.permissions)
        pinned = [self.emu.messages.get((chat.id, mid)) for mid in chat.pinned]
        live = [m for m in pinned if m is not None and not m.deleted]
        if live:
            info["pinned_message"] = live[-1].to_api(with_reply=False)
        return info

    async def getChatMember(self, p: dict[str, Any]) -> JSONDict:  # noqa: N802
        """The ChatMember of a user (ChatMemberLeft if never there)."""
        chat = self._chat(p["chat_id"])
        if chat.is_group:
            self._reachable(chat)
        user = self._user(p["user_id"])
        member = self.effective_member(chat, user)
        return member.to_api(user, supergroup=chat.type == "supergroup")

    async def getChatAdministrators(self, p: dict[str, Any]) -> list[JSONDict]:  # noqa: N802
        """Creator and administrators (the bot too, if it is one)."""
        chat = self._chat(p["chat_id"])
        if not chat.is_group:
            raise bad_request("there are no administrators in the private chat")
        self._reachable(chat)
        out = []
        for uid, m in chat.members.items():
            if m.is_admin:
                out.append(m.to_api(self._user(uid), supergroup=chat.type == "supergroup"))
        return out

    async def getChatMemberCount(self, p: dict[str, Any]) -> int:  # noqa: N802
        """Members currently in the chat (the bot included)."""
        chat = self._chat(p["chat_id"])
        if chat.is_group:
            self._reachable(chat)
        return sum(1 for m in chat.members.values() if m.present)

    async def restrictChatMember(self, p: dict[str, Any]) -> bool:  # noqa: N802
        """Supergroups only; needs can_restrict_members; records permissions and until_date."""
        chat = self._chat(p["chat_id"])
        self._reachable(chat)
        if chat.type != "supergroup":
            raise bad_request("method is available only for supergroups")
        self._need_right(
            chat, "can_restrict_members", "not enough rights to restrict/unrestrict chat member"
        )
        user = self._user(p["user_id"])
        if user.is_bot and user is self.emu.bot:
            raise bad_request("can't restrict self")
        old = self.effective_member(chat, user).copy()
        if old.status == "creator":
            raise bad_request("can't remove chat owner")
        if old.status == "administrator":
            raise bad_request("user is an administrator of the chat")
        given: JSONDict = p["permissions"]
        perms = {k: bool(given.get(k, False)) for k in PERMISSIONS}
        if not p.get("use_independent_chat_permissions", False):
            # Dependent mode (the default): some permissions imply others.
            if perms["can_send_other_messages"] or perms["can_add_web_page_previews"]:
                for k in (
                    "can_send_messages",
                    "can_send_audios",
                    "can_send_documents",
                    "can_send_photos",
                    "can_send_videos",
                    "can_send_video_notes",
                    "can_send_voice_notes",
                ):
                    perms[k] = True
            if perms["can_send_polls"]:
                perms["can_send_messages"] = True
        if all(perms.values()):
            new = Member("member") if old.present else Member("left")
        else:
            new = Member(
                "restricted",
                permissions=perms,
                until_date=self._until(p.get("until_date")),
                is_member=old.present,
            )
        chat.members[user.id] = new
        self.emu.member_update(chat, user, old, new, self.emu.bot)
        return True

    async def banChatMember(self, p: dict[str, Any]) -> bool:  # noqa: N802
        """Ban (kick) a member; needs can_restrict_members."""
        chat = self._chat(p["chat_id"])
        if not chat.is_group:
            raise bad_request("chat member status can't be changed in private chats")
        self._reachable(chat)
        self._need_right(
            chat, "can_restrict_members", "not enough rights to restrict/unrestrict chat member"
        )
        user = self._user(p["user_id"])
        if user is self.emu.bot:
            raise bad_request("can't remove self; use leaveChat")
        old = self.effective_member(chat, user).copy()
        if old.status == "creator":
            raise bad_request("can't remove chat owner")
        if old.status == "administrator":
            raise bad_request("user is an administrator of the chat")
        new = Member("kicked", until_date=self._until(p.get("until_date")))
        chat.members[user.id] = new
        self.emu.member_update(chat, user, old, new, self.emu.bot)
        if old.present:
            self.emu.new_message(chat, self.emu.bot, service={"left_chat_member": user.to_api()})
        return True

    async def unbanChatMember(self, p: dict[str, Any]) -> bool:  # noqa: N802
        """Unban; without only_if_banned a present member is removed (Telegram's semantics)."""
        chat = self._chat(p["chat_id"])
        if not chat.is_group:
            raise bad_request("chat member status can't be changed in private chats")
        self._reachable(chat)
        self._need_right(
            chat, "can_restrict_members", "not enough rights to restrict/unrestrict chat member"
        )
        user = self._user(p["user_id"])
        old = self.effective_member(chat, user).copy()
        if old.status == "kicked" or (old.present and not p.get("only_if_banned")):
            if old.is_admin:
                raise bad_request("user is an administrator of the chat")
            new = Member("left")
            chat.members[user.id] = new
            self.emu.member_update(chat, user, old, new, self.emu.bot)
            if old.present:
                self.emu.new_message(
                    chat, self.emu.bot, service={"left_chat_member": user.to_api()}
                )
        return True

    async def leaveChat(self, p: dict[str, Any]) -> bool:  # noqa: N802
        """The bot leaves a group (my_chat_member: -> left)."""
        chat = self._chat(p["chat_id"])
        if not chat.is_group:
            raise bad_request("chat member status can't be changed in private chats")
        self._reachable(chat)
        old = chat.bot_member.copy()
        new = Member("left")
        chat.members[self.emu.bot.id] = new
        self.emu.member_update(chat, self.emu.bot, old, new, self.emu.bot)
        return True

    async def pinChatMessage(self, p: dict[str, Any]) -> bool:  # noqa: N802
        """Pin; in groups the bot needs can_pin_messages."""
        chat = self._chat(p["chat_id"])
        self._reachable(chat)
        if chat.is_group:
            self._need_right(
                chat, "can_pin_messages", "not enough rights to manage pinned messages in the chat"
            )
        msg = self.emu.messages.get((chat.id, p["message_id"]))
        if msg is None or msg.deleted or msg.service:
            raise bad_request("message to pin not found")
        msg.pinned = True
        if msg.message_id in chat.pinned:
            chat.pinned.remove(msg.message_id)
        chat.pinned.append(msg.message_id)
        self.emu.new_message(
            chat, self.emu.bot, service={"pinned_message": msg.to_api(with_reply=False)}
        )
        return True

    async def unpinChatMessage(self, p: dict[str, Any]) -> bool:  # noqa: N802
        """Unpin one message (the most recent when message_id is absent)."""
        chat = self._chat(p["chat_id"])
        self._reachable(chat)
        if chat.is_group:
            self._need_right(
                chat, "can_pin_messages", "not enough rights to manage pinned messages in the chat"
            )
        mid = p.get("message_id", chat.pinned[-1] if chat.pinned else None)
        if mid is None or mid not in chat.pinned:
            raise bad_request("message to unpin not found")
        chat.pinned.remove(mid)
        msg = self.emu.messages.get((chat.id, mid))
        if msg is not None:
            msg.pinned = False
        return True

    async def unpinAllChatMessages(self, p: dict[str, Any]) -> bool:  # noqa: N802
        """Unpin everything."""
        chat = self._chat(p["chat_id"])
        self._reachable(chat)
        if chat.is_group:
            self._need_right(
                chat, "can_pin_messages", "not enough rights to manage pinned messages in the chat"
            )
        for mid in chat.pinned:
            msg = self.emu.messages.get((chat.id, mid))
            if msg is not None:
                msg.pinned = False
        chat.pinned.clear()
        return True

    async def createForumTopic(self, p: dict[str, Any]) -> JSONDict:  # noqa: N802
        """Create a topic in a forum supergroup (needs can_manage_topics)."""
        chat = self._chat(p["chat_id"])
        self._reachable(chat)
        if not chat.is_forum:
            raise bad_request("the chat is not a forum")
        self._need_right(chat, "can_manage_topics", "not enough rights to create a topic")
        name: str = p["name"]
        if not 1 <= len(name) <= 128:
            raise bad_request("TOPIC_NAME_INVALID")
        color = p.get("icon_color", 7322096)
        if color not in _TOPIC_COLORS:
            raise bad_request("TOPIC_COLOR_INVALID")
        created = {"name": name, "icon_color": color}
        msg = self.emu.new_message(
            chat, self.emu.bot, service={"forum_topic_created": created}, is_topic_message=True
        )
        msg.thread_id = msg.message_id
        chat.topics[msg.message_id] = name
        return {"message_thread_id": msg.message_id, **created}
