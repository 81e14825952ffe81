"""The emulator's world: users, chats, members, messages, files and callback queries.

These objects are what tests hold (``alice``, ``g``, ``msg``). Their async methods are thin
wrappers around :class:`tests.emulator.Emulator`, which owns all state changes.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, NamedTuple

from .formatting import JSONDict

if TYPE_CHECKING:
    from .emulator import Emulator

ChatType = Literal["private", "group", "supergroup"]
MemberStatus = Literal["creator", "administrator", "member", "restricted", "left", "kicked"]

# Rights of ChatMemberAdministrator that the spec requires, plus the optional ones we model.
ADMIN_RIGHTS: tuple[str, ...] = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_pin_messages",
    "can_manage_topics",
)
# What an admin gets when a test says admin=True without naming rights (like Telegram's
# default promotion dialog: everything except adding new admins).
DEFAULT_ADMIN_RIGHTS: frozenset[str] = frozenset(ADMIN_RIGHTS) - {"can_promote_members"}

PERMISSIONS: tuple[str, ...] = (
    "can_send_messages",
    "can_send_audios",
    "can_send_documents",
    "can_send_photos",
    "can_send_videos",
    "can_send_video_notes",
    "can_send_voice_notes",
    "can_send_polls",
    "can_send_other_messages",
    "can_add_web_page_previews",
    "can_react_to_messages",
    "can_edit_tag",
    "can_change_info",
    "can_invite_users",
    "can_pin_messages",
    "can_manage_topics",
)

Rights = Iterable[str] | Mapping[str, bool] | None


def normalize_rights(
    rights: Rights, default: Iterable[str] = DEFAULT_ADMIN_RIGHTS
) -> dict[str, bool]:
    """Full admin-rights dict from a set of right names, a mapping, or None (= default set)."""
    if rights is None:
        granted = set(default)
    elif isinstance(rights, Mapping):
        granted = {k for k, v in rights.items() if v}
    else:
        granted = set(rights)
    unknown = granted - set(ADMIN_RIGHTS)
    if unknown:
        raise ValueError(f"unknown admin rights: {sorted(unknown)}")
    return {r: r in granted for r in ADMIN_RIGHTS}


class ManualClock:
    """A test-controlled clock: ``Emulator(clock=ManualClock())`` then ``clock.advance(16)``."""

    def __init__(self, start: float | None = None) -> None:
        self.now = float(start if start is not None else int(time.time()))

    def __call__(self) -> float:
        """Current emulator time (epoch seconds)."""
        return self.now

    def advance(self, seconds: float) -> float:
        """Move time forward and return the new time."""
        self.now += seconds
        return self.now

    def set(self, when: float) -> None:
        """Jump to an absolute time."""
        self.now = float(when)


class EmulatorError(AssertionError):
    """A test drove the emulator into something impossible (e.g. pressing a missing button).

    It subclasses AssertionError so pytest reports it as a test failure with its message.
    """


class CannotSend(EmulatorError):
    """A user tried to post where Telegram would not let them (restricted, not a member...)."""


class Button(NamedTuple):
    """One inline keyboard button as the user sees it."""

    text: str
    callback_data: str | None
    url: str | None


class CallbackAnswer(NamedTuple):
    """What the bot answered to a callback query (answerCallbackQuery)."""

    text: str | None
    show_alert: bool


@dataclass(eq=False)
class EmuFile:
    """A stored file: uploaded by a user or by the bot, or a URL the bot passed."""

    file_id: str
    file_unique_id: str
    kind: Literal["document", "photo"]
    content: bytes | None = field(repr=False)
    file_name: str | None = None
    mime_type: str | None = None
    width: int = 0
    height: int = 0
    url: str | None = None
    file_path: str = ""

    @property
    def size(self) -> int:
        """Size in bytes (0 for URL placeholders the emulator never downloads)."""
        return len(self.content) if self.content is not None else 0

    def document_api(self) -> JSONDict:
        """The Document object."""
        doc: JSONDict = {"file_id": self.file_id, "file_unique_id": self.file_unique_id}
        if self.file_name:
            doc["file_name"] = self.file_name
        if self.mime_type:
            doc["mime_type"] = self.mime_type
        if self.content is not None:
            doc["file_size"] = self.size
        return doc

    def photo_api(self) -> list[JSONDict]:
        """The photo field: a thumbnail-size entry and the full-size one (same bytes)."""
        full: JSONDict = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "width": self.width or 1280,
            "height": self.height or 960,
        }
        if self.content is not None:
            full["file_size"] = self.size
        thumb: JSONDict = {
            "file_id": self.file_id + "-s",
            "file_unique_id": self.file_unique_id + "s",
            "width": 90,
            "height": 68,
        }
        return [thumb, full]


@dataclass(eq=False)
class Member:
    """A chat membership: status plus admin rights or restrictions."""

    status: MemberStatus
    rights: dict[str, bool] = field(default_factory=dict)
    permissions: dict[str, bool] | None = None
    until_date: int = 0
    is_member: bool = True  # for "restricted": still in the chat?

    @property
    def present(self) -> bool:
        """Whether the member is currently in the chat."""
        if self.status == "restricted":
            return self.is_member
        return self.status in ("creator", "administrator", "member")

    @property
    def is_admin(self) -> bool:
        """Creator or administrator."""
        return self.status in ("creator", "administrator")

    def right(self, name: str) -> bool:
        """Whether an admin right is held (the creator holds all)."""
        return self.status == "creator" or (
            self.status == "administrator" and self.rights.get(name, False)
        )

    def copy(self) -> Member:
        """An independent copy (for old/new pairs in ChatMemberUpdated)."""
        return Member(
            self.status,
            dict(self.rights),
            dict(self.permissions) if self.permissions is not None else None,
            self.until_date,
            self.is_member,
        )

    def to_api(self, user: EmuUser, *, supergroup: bool) -> JSONDict:
        """The ChatMember object for ``user``."""
        out: JSONDict = {"status": self.status, "user": user.to_api()}
        if self.status == "creator":
            out["is_anonymous"] = False
        elif self.status == "administrator":
            out["can_be_edited"] = False
            out["is_anonymous"] = False
            for r in ADMIN_RIGHTS:
                if r == "can_manage_topics" and not supergroup:
                    continue
                out[r] = self.rights.get(r, False)
        elif self.status == "restricted":
            out["is_member"] = self.is_member
            perms = self.permissions or {}
            for p in PERMISSIONS:
                out[p] = perms.get(p, False)
            out["until_date"] = self.until_date
        elif self.status == "kicked":
            out["until_date"] = self.until_date
        return out


@dataclass(eq=False, repr=False)
class EmuUser:
    """A Telegram user (or the bot itself) in the emulated world."""

    emu: Emulator = field(repr=False)
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False
    started: bool = False  # has ever written to the bot privately (so the bot may write back)
    blocked: bool = False  # has blocked the bot

    @property
    def full_name(self) -> str:
        """First and last name as Telegram displays them."""
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name

    @property
    def chat(self) -> EmuChat:
        """This user's private chat with the bot."""
        return self.emu.private_chat(self)

    def to_api(self) -> JSONDict:
        """The User object."""
        out: JSONDict = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            out["last_name"] = self.last_name
        if self.username:
            out["username"] = self.username
        if self.language_code and not self.is_bot:
            out["language_code"] = self.language_code
        return out

    async def start(self, payload: str | None = None) -> EmuMessage:
        """Press Start (optionally via a deep link): sends "/start [payload]" privately."""
        return await self.emu.user_start(self, payload)

    async def send(
        self,
        text: str,
        chat: EmuChat | None = None,
        reply_to: EmuMessage | None = None,
        thread_id: int | None = None,
    ) -> EmuMessage:
        """Send a text message (privately to the bot, or into ``chat``); return it."""
        return await self.emu.user_send(
            self, chat, text=text, reply_to=reply_to, thread_id=thread_id
        )

    async def send_document(
        self,
        filename: str,
        content: bytes,
        caption: str | None = None,
        chat: EmuChat | None = None,
        mime_type: str | None = None,
        reply_to: EmuMessage | None = None,
        thread_id: int | None = None,
    ) -> EmuMessage:
        """Send a file as a document; the bot can getFile + download it."""
        f = self.emu.store_file("document", content, file_name=filename, mime_type=mime_type)
        return await self.emu.user_send(
            self, chat, caption=caption, document=f, reply_to=reply_to, thread_id=thread_id
        )

    async def send_photo(
        self,
        content: bytes,
        caption: str | None = None,
        chat: EmuChat | None = None,
        reply_to: EmuMessage | None = None,
        thread_id: int | None = None,
    ) -> EmuMessage:
        """Send a photo."""
        f = self.emu.store_file("photo", content, mime_type="image/jpeg")
        return await self.emu.user_send(
            self, chat, caption=caption, photo=f, reply_to=reply_to, thread_id=thread_id
        )

    async def edit(self, message: EmuMessage, text: str) -> EmuMessage:
        """Edit one of this user's text messages (an edited_message update)."""
        return await self.emu.user_edit(self, message, text)

    async def press(self, message: EmuMessage, button: str) -> str:
        """Press the inline button with this text (or callback_data); return the query id."""
        return await self.emu.user_press(self, message, button)

    async def press_raw(self, message: EmuMessage, data: str) -> str:
        """Send a callback query with arbitrary (forged) data for ``message``; return query id."""
        return await self.emu.user_callback(self, message, data)

    async def block_bot(self) -> None:
        """Block the bot (my_chat_member: member -> kicked)."""
        await self.emu.user_block(self, blocked=True)

    async def unblock_bot(self) -> None:
        """Unblock the bot (my_chat_member: kicked -> member)."""
        await self.emu.user_block(self, blocked=False)

    def last_alert(self) -> CallbackAnswer | None:
        """The bot's answer to this user's most recent answered callback query."""
        return self.emu.last_answer_for(self)

    def __repr__(self) -> str:
        kind = "Bot" if self.is_bot else "User"
        return f"<{kind} {self.id} {self.full_name!r}>"


@dataclass(eq=False, repr=False)
class EmuChat:
    """A private chat, basic group or supergroup (optionally a forum)."""

    emu: Emulator = field(repr=False)
    id: int
    type: ChatType
    title: str | None = None
    username: str | None = None
    is_forum: bool = False
    user: EmuUser | None = None  # the other party of a private chat
    members: dict[int, Member] = field(default_factory=dict, repr=False)
    privacy: bool | None = None  # None: follow Emulator.privacy_mode
    old_ids: list[int] = field(default_factory=list)  # ids before migrations
    topics: dict[int, str] = field(default_factory=dict)
    permissions: dict[str, bool] = field(
        default_factory=lambda: (
            dict.fromkeys(PERMISSIONS, True)
            | {"can_change_info": False, "can_pin_messages": False, "can_manage_topics": False}
        )
    )
    pinned: list[int] = field(default_factory=list)  # pinned message ids, most recent last

    @property
    def is_group(self) -> bool:
        """Group or supergroup."""
        return self.type in ("group", "supergroup")

    @property
    def bot_member(self) -> Member:
        """The bot's membership here (status "left" if never added)."""
        return self.members.get(self.emu.bot.id, Member("left"))

    def member(self, user: EmuUser) -> Member:
        """``user``'s membership here (status "left" if unknown)."""
        return self.members.get(user.id, Member("left"))

    def to_api(self, as_id: int | None = None) -> JSONDict:
        """The Chat object (``as_id``: an id this group had before migrating)."""
        if as_id is not None and as_id != self.id:
            return {"id": as_id, "type": "group", "title": self.title or ""}
        out: JSONDict = {"id": self.id, "type": self.type}
        if self.type == "private":
            assert self.user is not None
            out["first_name"] = self.user.first_name
            if self.user.last_name:
                out["last_name"] = self.user.last_name
            if self.user.username:
                out["username"] = self.user.username
        else:
            out["title"] = self.title or ""
            if self.username:
                out["username"] = self.username
            if self.is_forum:
                out["is_forum"] = True
        return out

    async def add_bot(self, by: EmuUser, admin: bool = False, rights: Rights = None) -> None:
        """``by`` adds the bot (my_chat_member + new_chat_members service message)."""
        await self.emu.group_add_bot(self, by, admin=admin, rights=rights)

    async def promote_bot(self, rights: Rights = None, by: EmuUser | None = None) -> None:
        """Make the bot an administrator with ``rights`` (my_chat_member update)."""
        await self.emu.group_set_bot_status(self, "administrator", rights=rights, by=by)

    async def demote_bot(self, by: EmuUser | None = None) -> None:
        """Make the bot a plain member again (my_chat_member update)."""
        await self.emu.group_set_bot_status(self, "member", by=by)

    async def kick_bot(self, by: EmuUser | None = None) -> None:
        """Remove and ban the bot (my_chat_member: -> kicked)."""
        await self.emu.group_set_bot_status(self, "kicked", by=by)

    async def join(self, user: EmuUser, by: EmuUser | None = None) -> EmuMessage | None:
        """``user`` joins (or is added by ``by``): new_chat_members (+ chat_member update)."""
        return await self.emu.group_join(self, user, by=by)

    async def leave(self, user: EmuUser) -> EmuMessage | None:
        """``user`` leaves: left_chat_member (+ chat_member update)."""
        return await self.emu.group_leave(self, user)

    def set_admin(self, user: EmuUser, rights: Rights = None) -> None:
        """Make ``user`` an administrator silently (setup helper, no updates)."""
        self.members[user.id] = Member("administrator", normalize_rights(rights))

    async def migrate_to_supergroup(self, by: EmuUser | None = None) -> int:
        """Upgrade a basic group; return the new id. This object then IS the supergroup."""
        return await self.emu.group_migrate(self, by=by)

    async def create_topic(self, name: str, by: EmuUser | None = None) -> int:
        """Create a forum topic (forum_topic_created service message); return its thread id."""
        return await self.emu.group_create_topic(self, name, by=by)

    def __repr__(self) -> str:
        name = self.title if self.type != "private" else (self.user and self.user.full_name)
        return f"<Chat {self.id} {self.type} {name!r}>"


@dataclass(eq=False, repr=False)
class EmuMessage:
    """A message in the emulated world, sent by a user or by the bot. Current state after edits."""

    chat: EmuChat = field(repr=False)
    chat_id: int  # id of the chat when the message was sent (survives migration)
    message_id: int
    sender: EmuUser  # the bot's messages have emu.bot here
    date: int
    text: str | None = None  # plain text, tags stripped and entities unescaped
    html: str | None = None  # raw text as sent (HTML source when parse_mode=HTML)
    entities: list[JSONDict] = field(default_factory=list)
    caption: str | None = None
    caption_html: str | None = None
    caption_entities: list[JSONDict] = field(default_factory=list)
    parse_mode: str | None = None
    reply_markup: JSONDict | None = None
    thread_id: int | None = None
    is_topic_message: bool = False
    reply_to: EmuMessage | None = field(default=None, repr=False)
    document: EmuFile | None = None
    photo: EmuFile | None = None
    service: JSONDict = field(default_factory=dict)  # raw service fields (new_chat_members...)
    forward_origin: JSONDict | None = None
    edits: int = 0
    edit_date: int | None = None
    history: list[str | None] = field(default_factory=list, repr=False)  # texts before each edit
    deleted: bool = False
    pinned: bool = False

    @property
    def from_bot(self) -> bool:
        """Whether the bot sent this message."""
        return self.sender.is_bot

    @property
    def buttons(self) -> list[list[Button]]:
        """Inline keyboard rows ([] if none)."""
        markup = self.reply_markup or {}
        return [
            [Button(b["text"], b.get("callback_data"), b.get("url")) for b in row]
            for row in markup.get("inline_keyboard", [])
        ]

    def button_texts(self) -> list[str]:
        """All inline button texts, row by row, flattened."""
        return [b.text for row in self.buttons for b in row]

    def button(self, text_or_data: str) -> Button:
        """The button whose text or callback_data equals the argument (EmulatorError if none)."""
        for row in self.buttons:
            for b in row:
                if b.text == text_or_data or b.callback_data == text_or_data:
                    return b
        raise EmulatorError(
            f"no button {text_or_data!r} on message {self.message_id}; "
            f"buttons: {self.button_texts()}"
        )

    @property
    def content(self) -> str:
        """Text or caption, whichever the message has ('' for service messages)."""
        return self.text if self.text is not None else (self.caption or "")

    def __repr__(self) -> str:
        flags = "".join(
            f" {flag}" for flag, on in (("deleted", self.deleted), ("pinned", self.pinned)) if on
        )
        body = self.content or ",".join(self.service) or ("<document>" if self.document else "")
        if len(body) > 60:
            body = body[:57] + "..."
        return (
            f"<Message {self.chat_id}/{self.message_id} from {self.sender.full_name!r}"
            f" edits={self.edits}{flags} {body!r} buttons={self.button_texts()}>"
        )

    @property
    def reply_keyboard(self) -> list[list[str]]:
        """Texts of a reply (custom) keyboard, if the message carries one."""
        markup = self.reply_markup or {}
        return [
            [b if isinstance(b, str) else b["text"] for b in row]
            for row in markup.get("keyboard", [])
        ]

    def to_api(self, *, with_reply: bool = True) -> JSONDict:
        """The Message object as Telegram would send it."""
        out: JSONDict = {
            "message_id": self.message_id,
            "from": self.sender.to_api(),
            "date": self.date,
            "chat": self.chat.to_api(as_id=self.chat_id),
        }
        if self.thread_id is not None:
            out["message_thread_id"] = self.thread_id
            if self.is_topic_message:
                out["is_topic_message"] = True
        if self.forward_origin is not None:
            out["forward_origin"] = self.forward_origin
        if with_reply and self.reply_to is not None:
            out["reply_to_message"] = self.reply_to.to_api(with_reply=False)
        if self.edit_date is not None:
            out["edit_date"] = self.edit_date
        if self.text is not None:
            out["text"] = self.text
            if self.entities:
                out["entities"] = self.entities
        if self.document is not None:
            out["document"] = self.document.document_api()
        if self.photo is not None:
            out["photo"] = self.photo.photo_api()
        if self.caption is not None:
            out["caption"] = self.caption
            if self.caption_entities:
                out["caption_entities"] = self.caption_entities
        out.update(self.service)
        if self.reply_markup is not None and "inline_keyboard" in self.reply_markup:
            out["reply_markup"] = self.reply_markup  # only inline keyboards are echoed back
        return out


@dataclass(eq=False)
class CallbackQuery:
    """A pressed button (or forged callback) awaiting the bot's answer."""

    id: str
    user: EmuUser
    message: EmuMessage
    data: str
    created: float  # emulator clock
    answer: CallbackAnswer | None = None
    answer_url: str | None = None
