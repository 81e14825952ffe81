"""The emulator: an aiohttp Bot API server plus the world model tests drive.

PTB talks to it over real HTTP (``ApplicationBuilder().base_url(emu.base_url)``); tests play
users (``await alice.send("/start")``) and inspect what the bot did (``emu.sent_to(alice)``).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import itertools
import json
import mimetypes
import socket
import time
import traceback
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from .faults import (
    FAULT_KINDS,
    ApiError,
    Fault,
    FaultKind,
    FloodLimits,
    FloodTracker,
    Hold,
    RequestRecord,
    bad_request,
    too_many_requests,
)
from .formatting import JSONDict, leading_command, user_entities, utf16_len
from .model import (
    CallbackAnswer,
    CallbackQuery,
    CannotSend,
    EmuChat,
    EmuFile,
    EmulatorError,
    EmuMessage,
    EmuUser,
    Member,
    MemberStatus,
    Rights,
    normalize_rights,
)
from .spec import Spec, SpecError, Upload

# Update types a bot gets when allowed_updates was never set or set to [] (Bot API docs).
NOT_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
# Calls that create a message and count against Telegram's flood limits.
FLOOD_METHODS = frozenset(
    {"sendMessage", "sendPhoto", "sendDocument", "copyMessage", "forwardMessage", "sendMediaGroup"}
)
_START_PAYLOAD_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")

Target = EmuChat | EmuUser | int
Handler = Callable[[dict[str, Any]], Awaitable[Any]]


class EmulatorTimeout(AssertionError):
    """A wait_* helper gave up; the message carries a dump of what the emulator saw."""


@dataclass
class PendingUpdate:
    """An update waiting to be fetched and confirmed (getUpdates) or accepted (webhook)."""

    update_id: int
    kind: str
    payload: JSONDict

    def to_api(self) -> JSONDict:
        """The Update object."""
        return {"update_id": self.update_id, self.kind: self.payload}


@dataclass
class Webhook:
    """The bot's webhook registration (setWebhook)."""

    url: str
    secret_token: str | None = None
    max_connections: int = 40
    ip_address: str | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None


class Emulator:
    """A strict, in-process Telegram Bot API server for tests."""

    def __init__(
        self,
        clock: Callable[[], float] | None = None,
        flood_limits: bool = False,
        bot_username: str = "zhibu_test_bot",
        token: str = "123456:TEST-token",
        *,
        bot_name: str = "Zhibu Test Bot",
        privacy_mode: bool = True,
        callback_timeout: float = 15.0,
        webhook_timeout: float = 5.0,
    ) -> None:
        self.spec = Spec.load()
        self.token = token
        self.clock: Callable[[], float] = clock or time.time
        self.flood_limits = flood_limits
        self.flood = FloodTracker(FloodLimits())
        self.privacy_mode = privacy_mode  # BotFather's /setprivacy; groups may override
        self.callback_timeout = callback_timeout
        self.webhook_timeout = webhook_timeout
        self.bot = EmuUser(
            self,
            id=int(token.split(":", 1)[0]),
            first_name=bot_name,
            username=bot_username,
            is_bot=True,
            started=True,
        )

        # Observation
        self.violations: list[str] = []
        self.stats: Counter[str] = Counter()
        self.requests: list[RequestRecord] = []
        self.callback_answers: dict[str, CallbackAnswer] = {}
        self.callbacks: dict[str, CallbackQuery] = {}

        # World
        self.users: dict[int, EmuUser] = {}
        self.chats: dict[int, EmuChat] = {}
        self.migrated: dict[int, int] = {}  # old basic-group id -> supergroup id
        self.messages: dict[tuple[int, int], EmuMessage] = {}
        self.files: dict[str, EmuFile] = {}
        self.my_commands: dict[tuple[tuple[Any, ...], str], list[tuple[str, str]]] = {}
        self.menu_buttons: dict[int | None, JSONDict] = {}
        self.descriptions: dict[str, str] = {}
        self.short_descriptions: dict[str, str] = {}
        self.names: dict[str, str] = {}
        self._msg_ids: dict[int, itertools.count[int]] = {}
        self._user_ids = itertools.count(5_000_000_001)  # > 2**32: catches 32-bit id columns
        self._group_ids = itertools.count(4_100_000_001)
        self._supergroup_ids = itertools.count(2_100_000_001)
        self._file_ids = itertools.count(1)
        self._query_ids = itertools.count(4_700_000_000_000_000_001)

        # Updates and delivery
        self._updates: list[PendingUpdate] = []
        self._delivered = 0
        self._update_ids = itertools.count(700_000_001)
        self.allowed_updates: list[str] | None = None  # None = the default set
        self.webhook: Webhook | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._poll_generation = 0
        self.last_poll: float | None = None  # loop time of the last getUpdates

        # Faults
        self._faults: list[Fault] = []
        self._holds: list[Hold] = []

        # Server
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._changed = asyncio.Event()
        self._stopping = asyncio.Event()
        self._inflight = 0
        self._last_activity = 0.0
        from .methods import BotApi  # local import: methods.py imports this module's types

        api = BotApi(self)
        self._handlers: dict[str, Handler] = {
            name: getattr(api, name)
            for name in self.spec.methods
            if callable(getattr(api, name, None))
        }
        self._handlers["getUpdates"] = self._get_updates
        self._handlers["setWebhook"] = self._set_webhook
        self._handlers["deleteWebhook"] = self._delete_webhook
        self._handlers["getWebhookInfo"] = self._get_webhook_info

    # ================================================================== lifecycle

    async def start(self) -> Emulator:
        """Listen on 127.0.0.1 on a free port."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5, access_log=None)
        await self._runner.setup()
        # Bind the socket ourselves so the random free port is known without private attributes.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        self._changed = asyncio.Event()
        self._stopping = asyncio.Event()
        return self

    async def stop(self) -> None:
        """Release held requests, end long polls and webhook delivery, stop the server."""
        self._stopping.set()
        self._notify()
        for h in self._holds:
            h.release()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._webhook_task
            self._webhook_task = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Emulator:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)``: PTB appends the token and the method."""
        return f"http://127.0.0.1:{self._port}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``ApplicationBuilder().base_file_url(...)``."""
        return f"http://127.0.0.1:{self._port}/file/bot"

    @property
    def bot_username(self) -> str:
        """The bot's @username (without the @)."""
        return self.bot.username or ""

    @property
    def webhook_url(self) -> str | None:
        """The URL registered with setWebhook, or None while the bot polls."""
        return self.webhook.url if self.webhook is not None else None

    def delivered_count(self) -> int:
        """How many distinct updates the bot has confirmed (polling) or accepted (webhook)."""
        return self._delivered

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        return self._port

    def now(self) -> float:
        """Emulator time (the injected clock)."""
        return self.clock()

    # ================================================================== world building

    def user(
        self,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        *,
        id: int | None = None,
    ) -> EmuUser:
        """Create a user (not yet talking to the bot)."""
        uid = id if id is not None else next(self._user_ids)
        if uid in self.users or uid == self.bot.id:
            raise EmulatorError(f"user id {uid} already exists")
        u = EmuUser(self, uid, first_name, last_name, username, language_code)
        self.users[uid] = u
        return u

    def group(
        self,
        title: str,
        members: Iterable[EmuUser] = (),
        admins: Iterable[EmuUser] = (),
        supergroup: bool = False,
        forum: bool = False,
        *,
        username: str | None = None,
        privacy: bool | None = None,
        creator: EmuUser | None = None,
    ) -> EmuChat:
        """Create a group (basic by default) with members; creator = ``creator`` or first admin."""
        admins = list(admins)
        members = list(members)
        supergroup = supergroup or forum
        if supergroup:
            cid = -(1_000_000_000_000 + next(self._supergroup_ids))
        else:
            cid = -next(self._group_ids)
        chat = EmuChat(
            self,
            cid,
            "supergroup" if supergroup else "group",
            title=title,
            username=username,
            is_forum=forum,
            privacy=privacy,
        )
        owner = creator or (admins[0] if admins else (members[0] if members else None))
        for u in [*members, *admins]:
            chat.members.setdefault(u.id, Member("member"))
        for a in admins:
            chat.members[a.id] = Member("administrator", normalize_rights(None))
        if owner is not None:
            chat.members[owner.id] = Member("creator")
        self.chats[cid] = chat
        return chat

    def private_chat(self, user: EmuUser) -> EmuChat:
        """The private chat between ``user`` and the bot."""
        chat = self.chats.get(user.id)
        if chat is None:
            chat = EmuChat(self, user.id, "private", user=user)
            chat.members[user.id] = Member("member")
            chat.members[self.bot.id] = Member("member")
            self.chats[user.id] = chat
        return chat

    def chat(self, target: Target) -> EmuChat:
        """Resolve a chat, a user (their private chat) or an id (old group ids too)."""
        if isinstance(target, EmuChat):
            return target
        if isinstance(target, EmuUser):
            return self.private_chat(target)
        cid = self.migrated.get(target, target)
        if cid in self.chats:
            return self.chats[cid]
        if cid in self.users:
            return self.private_chat(self.users[cid])
        raise EmulatorError(f"no chat with id {target}")

    def store_file(
        self,
        kind: str,
        content: bytes | None,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        url: str | None = None,
    ) -> EmuFile:
        """Store bytes as a Telegram file with a fresh file_id (and a download path)."""
        n = next(self._file_ids)
        if kind not in ("document", "photo"):
            raise ValueError(kind)
        if mime_type is None and file_name:
            mime_type = mimetypes.guess_type(file_name)[0]
        ext = (
            file_name.rsplit(".", 1)[-1]
            if file_name and "." in file_name
            else ("jpg" if kind == "photo" else "bin")
        )
        f = EmuFile(
            file_id=f"EMU{kind[0].upper()}{n:08d}-{'x' * 20}",
            file_unique_id=f"U{kind[0]}{n:06d}",
            kind="photo" if kind == "photo" else "document",
            content=content,
            file_name=file_name,
            mime_type=mime_type,
            url=url,
            file_path=f"{kind}s/file_{n}.{ext}",
        )
        self.files[f.file_id] = f
        return f

    # ================================================================== observation

    def sent_to(self, target: Target, include_deleted: bool = False) -> list[EmuMessage]:
        """Messages the bot sent to a chat/user (in order, current state after edits)."""
        cid = self._target_id(target)
        return [
            m
            for (c, _), m in self.messages.items()
            if c == cid and m.from_bot and not m.service and (include_deleted or not m.deleted)
        ]

    def last_sent(self, target: Target) -> EmuMessage:
        """The bot's most recent (not deleted) message to a chat/user."""
        sent = self.sent_to(target)
        if not sent:
            raise EmulatorError(f"the bot sent nothing to {target!r}\n{self.dump()}")
        return sent[-1]

    def messages_in(self, target: Target) -> list[EmuMessage]:
        """Every message in a chat, from users and bot, including service messages."""
        cid = self._target_id(target)
        return [m for (c, _), m in self.messages.items() if c == cid]

    def calls(self, method: str) -> list[dict[str, Any]]:
        """Parameters of every call of ``method`` (in order)."""
        return [r.params for r in self.requests if r.method.lower() == method.lower()]

    def take_violations(self) -> list[str]:
        """Return and clear the recorded violations (for tests that expect some)."""
        taken, self.violations = self.violations, []
        return taken

    def commands(self, scope: Any = None, language_code: str = "") -> list[dict[str, str]]:
        """What setMyCommands stored for a scope (dict, PTB BotCommandScope, or type name).

        Returns ``[{"command": ..., "description": ...}, ...]`` exactly as getMyCommands would.
        """
        if hasattr(scope, "to_dict"):
            scope = scope.to_dict()
        if isinstance(scope, str):
            scope = {"type": scope}
        key = self.scope_key(scope)
        return [
            {"command": c, "description": d}
            for c, d in self.my_commands.get((key, language_code), [])
        ]

    def scope_key(self, scope: JSONDict | None) -> tuple[Any, ...]:
        """Canonical key of a BotCommandScope (chat ids resolved)."""
        if not scope or scope.get("type") == "default":
            return ("default",)
        kind = scope["type"]
        if "chat_id" in scope:
            cid = scope["chat_id"]
            if isinstance(cid, str) and not cid.startswith("@"):
                cid = int(cid)
            chat = self._find_chat(cid)
            if chat is None:
                raise bad_request("chat not found")
            if "user_id" in scope:
                return (kind, chat.id, int(scope["user_id"]))
            return (kind, chat.id)
        return (kind,)

    def unanswered_callbacks(self) -> list[CallbackQuery]:
        """Callback queries the bot never answered (Telegram shows a spinner to the user)."""
        return [q for q in self.callbacks.values() if q.answer is None]

    async def answer_of(self, query_id: str, timeout: float = 5.0) -> CallbackAnswer:
        """Wait for the bot's answer to a callback query."""
        await self.wait_for(
            lambda: query_id in self.callback_answers,
            timeout,
            what=f"answerCallbackQuery for {query_id}",
        )
        return self.callback_answers[query_id]

    def last_answer_for(self, user: EmuUser) -> CallbackAnswer | None:
        """The answer to ``user``'s most recent answered callback query."""
        for q in reversed(list(self.callbacks.values())):
            if q.user is user and q.answer is not None:
                return q.answer
        return None

    def pending_updates(self) -> list[JSONDict]:
        """Updates not yet confirmed by the bot."""
        return [u.to_api() for u in self._updates]

    def drop_pending_updates(self) -> int:
        """Forget undelivered updates (as deleteWebhook drop_pending_updates does); count them."""
        dropped = len(self._updates)
        self._updates.clear()
        return dropped

    def dump(self, last: int = 25) -> str:
        """Human-readable state for failure messages."""
        recent = [r for r in self.requests if r.method != "getUpdates"][-last:]
        lines = [f"--- last {len(recent)} bot requests (getUpdates omitted):"]
        lines += [f"  {r}" for r in recent] or ["  (none)"]
        lines.append(
            f"--- pending updates: {len(self._updates)}"
            + (
                ""
                if self.last_poll is not None or self.webhook
                else " (the bot never called getUpdates)"
            )
        )
        lines += [f"  {u.update_id} {u.kind}" for u in self._updates[:10]]
        if self.webhook is not None:
            lines.append(
                f"--- webhook {self.webhook.url} last error: {self.webhook.last_error_message}"
            )
        lines.append(f"--- violations: {self.violations or 'none'}")
        return "\n".join(lines)

    # ================================================================== synchronisation

    async def wait_delivered(self, timeout: float = 5.0) -> None:
        """Wait until every queued update was fetched and confirmed (or accepted by the webhook)."""
        await self.wait_for(lambda: not self._updates, timeout, what="all updates to be confirmed")

    async def wait_for(
        self,
        predicate: Callable[[], Any],
        timeout: float = 5.0,
        *,
        what: str | None = None,
    ) -> Any:
        """Poll ``predicate`` until it returns something truthy (returned) or fail with a dump."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                waited_for = what or repr(predicate)
                raise EmulatorTimeout(
                    f"timed out after {timeout}s waiting for {waited_for}\n{self.dump()}"
                )
            await self._wait_change(min(remaining, 0.02))

    async def settle(self, quiet: float = 0.1, timeout: float = 5.0) -> None:
        """Heuristic: updates confirmed, no bot call in flight and none for ``quiet`` seconds."""
        await self.wait_delivered(timeout)
        loop = asyncio.get_running_loop()

        def calm() -> bool:
            return self._inflight == 0 and loop.time() - self._last_activity >= quiet

        await self.wait_for(calm, timeout, what=f"{quiet}s without bot requests")

    def _notify(self) -> None:
        # Wake everyone waiting for "something changed" (long polls, webhook, wait_for).
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_change(self, seconds: float) -> None:
        ev = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ev.wait(), seconds)

    # ================================================================== fault injection

    def fail_next(
        self,
        method: str,
        kind: FaultKind = "500",
        retry_after: int = 1,
        times: int = 1,
        chat_id: int | str | None = None,
        *,
        description: str | None = None,
        executed: bool = False,
        hold_for: float = 60.0,
    ) -> Fault:
        """Make the next ``times`` matching calls fail.

        kinds: "429" (RetryAfter), "500"/"502" (NetworkError), "400"/"403" (with
        ``description``), "network" (connection closed, no answer), "timeout" (no answer until
        the client gives up, at most ``hold_for`` s). ``executed=True`` with timeout/network
        performs the call first and loses only the answer (the duplicate-send hazard).
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}")
        if self.spec.method_name(method) is None:
            raise ValueError(f"unknown Bot API method {method!r}")
        fault = Fault(method, kind, times, retry_after, chat_id, description, executed, hold_for)
        self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        """Drop pending faults and release holds."""
        self._faults.clear()
        for h in self._holds:
            h.release()
        self._holds.clear()

    def hold(self, method: str, chat_id: int | str | None = None) -> Hold:
        """Park the next matching call until ``release()``; ``await h.arrived()`` waits for it."""
        if self.spec.method_name(method) is None:
            raise ValueError(f"unknown Bot API method {method!r}")
        h = Hold(method, chat_id)
        self._holds.append(h)
        return h

    # ================================================================== HTTP

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.startswith("/file/bot"):
            return await self._serve_file(request, path[len("/file/bot") :])
        if not path.startswith("/bot") or "/" not in path[4:]:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        token, method = path[4:].split("/", 1)
        if token != self.token:
            self._violation(f"request with wrong token {token!r}")
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        return await self._api_call(request, method)

    async def _read_params(self, request: web.Request) -> dict[str, str | Upload]:
        params: dict[str, str | Upload] = dict(request.query)
        ctype = request.content_type
        if ctype == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise bad_request("can't parse JSON request body") from None
            if not isinstance(body, dict):
                raise bad_request("request body must be a JSON object")
            for k, v in body.items():
                params[k] = v if isinstance(v, str) else json.dumps(v)
        elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for k, v in form.items():
                if isinstance(v, web.FileField):
                    params[k] = Upload(
                        v.filename or k, v.file.read(), v.content_type or "application/octet-stream"
                    )
                else:
                    params[k] = str(v)
        return params

    async def _api_call(self, request: web.Request, raw_method: str) -> web.StreamResponse:
        loop = asyncio.get_running_loop()
        rec = RequestRecord(raw_method, {}, started=loop.time())
        self.requests.append(rec)
        self.stats["requests"] += 1
        polling = raw_method == "getUpdates"
        if not polling:
            self._inflight += 1
        try:
            try:
                raw = await self._read_params(request)
                rec.params = {k: (str(v) if isinstance(v, Upload) else v) for k, v in raw.items()}
                method = self.spec.method_name(raw_method)
                if method is None:
                    raise bad_request(f'unknown method "{raw_method}"')
                rec.method = method
                self.stats[f"method:{method}"] += 1
                try:
                    params = self.spec.validate_call(method, raw)
                except SpecError as exc:
                    raise bad_request(str(exc)) from None
                rec.params = {
                    k: (str(v) if isinstance(v, Upload) else v) for k, v in params.items()
                }
                await self._apply_holds(method, params)
                fault = self._take_fault(method, params)
                if fault is not None and not (
                    fault.executed and fault.kind in ("timeout", "network")
                ):
                    return await self._fault_response(request, rec, fault)
                handler = self._handlers.get(method)
                if handler is None:
                    raise bad_request(f"emulator: method {method} not implemented")
                if method == "getUpdates":
                    result = await self._get_updates(params, request)
                    if result is None:  # the client went away while long polling
                        rec.status = -1
                        return web.Response(status=204)
                else:
                    result = await handler(params)
                if fault is not None:
                    return await self._fault_response(request, rec, fault)
                self._self_check(method, result)
                rec.status = 200
                return web.json_response({"ok": True, "result": result})
            except ApiError as err:
                rec.status = err.code
                rec.description = err.description
                if err.stat:
                    self.stats[err.stat] += 1
                if err.violation:
                    what = err.violation if isinstance(err.violation, str) else err.description
                    self._violation(f"{rec.method}: {what}")
                return web.json_response(err.body(), status=err.code)
            except Exception as exc:  # noqa: BLE001 - surface emulator bugs as violations
                rec.status = 500
                rec.description = f"emulator bug: {exc!r}"
                self._violation(
                    f"emulator bug in {rec.method}: {traceback.format_exc(limit=-3).strip()}"
                )
                return web.json_response(
                    {"ok": False, "error_code": 500, "description": "Internal Server Error"},
                    status=500,
                )
        finally:
            rec.finished = loop.time()
            if not polling:
                self._inflight -= 1
                self._last_activity = loop.time()
            self._notify()

    async def _apply_holds(self, method: str, params: dict[str, Any]) -> None:
        for h in self._holds:
            if h.matches(method, params):
                h.taken = True
                self.stats["held"] += 1
                await h._park(params, self._stopping)
                self._holds.remove(h)
                if h.fault is not None:
                    self._faults.insert(0, h.fault)
                return

    def _take_fault(self, method: str, params: dict[str, Any]) -> Fault | None:
        for f in self._faults:
            if f.matches(method, params):
                f.times -= 1
                if f.times <= 0:
                    self._faults.remove(f)
                return f
        return None

    async def _fault_response(
        self, request: web.Request, rec: RequestRecord, fault: Fault
    ) -> web.StreamResponse:
        self.stats[f"fault:{fault.kind}"] += 1
        rec.description = f"injected {fault.kind}"
        if fault.kind == "429":
            self.stats["429"] += 1
            rec.status = 429
            return web.json_response(too_many_requests(fault.retry_after).body(), status=429)
        if fault.kind in ("timeout", "network"):
            rec.status = -1  # no answer will ever reach the client
            if fault.kind == "timeout":
                await self._until_client_gone(request, fault.hold_for)
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=500)  # never reaches the client: the socket is closed
        if fault.kind == "502":
            rec.status = 502
            return web.Response(
                status=502,
                text="<html><body>502 Bad Gateway</body></html>",
                content_type="text/html",
            )
        code = int(fault.kind)
        default = {
            500: "Internal Server Error",
            400: "Bad Request: injected failure",
            403: "Forbidden: bot was blocked by the user",
        }[code]
        if code == 403:
            self.stats["403"] += 1
        rec.status = code
        return web.json_response(
            {"ok": False, "error_code": code, "description": fault.description or default},
            status=code,
        )

    async def _until_client_gone(self, request: web.Request, limit: float) -> None:
        # Hang like an overloaded server; httpx closes the socket when its read timeout fires.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        while loop.time() < deadline and not self._stopping.is_set():
            transport = request.transport
            if transport is None or transport.is_closing():
                return
            await asyncio.sleep(0.02)

    async def _serve_file(self, request: web.Request, rest: str) -> web.StreamResponse:
        token, _, file_path = rest.partition("/")
        self.stats["file_downloads"] += 1
        if token != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        for f in self.files.values():
            if f.file_path == file_path and f.content is not None:
                return web.Response(
                    body=f.content, content_type=f.mime_type or "application/octet-stream"
                )
        self._violation(f"download of unknown file path {file_path!r}")
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )

    def _violation(self, text: str) -> None:
        self.violations.append(text)

    def _self_check(self, method: str, result: Any) -> None:
        # The emulator's answers must themselves be valid Bot API objects.
        returns = self.spec.returns.get(method)
        if not returns or (result is True and "Boolean" in returns):
            return
        try:
            self.spec.check(result, returns, f"{method} result")
        except SpecError as exc:
            self._violation(f"emulator bug: {exc}")

    # ================================================================== updates

    def _allowed(self, kind: str) -> bool:
        if self.allowed_updates is None:
            return kind not in NOT_BY_DEFAULT
        return kind in self.allowed_updates

    def emit(self, kind: str, payload: JSONDict) -> int | None:
        """Queue an update of type ``kind`` (dropped, as Telegram does, if not allowed)."""
        if not self._allowed(kind):
            self.stats[f"dropped:{kind}"] += 1
            return None
        upd = PendingUpdate(next(self._update_ids), kind, payload)
        try:
            self.spec.check(upd.to_api(), ("Update",), "update")
        except SpecError as exc:
            self._violation(f"emulator bug: {exc}")
        self._updates.append(upd)
        self.stats["updates"] += 1
        self._notify()
        return upd.update_id

    def _set_allowed(self, allowed: list[str] | None) -> None:
        if allowed is None:
            return  # absent: keep the previous setting
        known = {name for name in self.spec.types["Update"] if name != "update_id"}
        for kind in allowed:
            if kind not in known:
                # Telegram ignores unknown names silently; a typo here means lost updates.
                self._violation(f"allowed_updates: unknown update type {kind!r}")
        self.allowed_updates = list(allowed) if allowed else None

    async def _get_updates(
        self, p: dict[str, Any], request: web.Request | None = None
    ) -> list[JSONDict] | None:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
                violation=True,
                stat="409",
            )
        loop = asyncio.get_running_loop()
        self.last_poll = loop.time()
        self._set_allowed(p.get("allowed_updates"))
        offset = p.get("offset", 0)
        if offset > 0:
            kept = [u for u in self._updates if u.update_id >= offset]
            self._delivered += len(self._updates) - len(kept)
            self._updates = kept
        elif offset < 0:
            self._updates = self._updates[offset:]
        limit = p.get("limit", 100)
        if not 1 <= limit <= 100:
            limit = 100  # Telegram clamps silently
        timeout = max(0, p.get("timeout", 0))
        self._poll_generation += 1
        generation = self._poll_generation
        deadline = loop.time() + timeout
        self._notify()
        while not self._updates and loop.time() < deadline and not self._stopping.is_set():
            await self._wait_change(min(0.25, deadline - loop.time()))
            if request is not None and (
                request.transport is None or request.transport.is_closing()
            ):
                return None  # PTB cancelled this poll (e.g. on shutdown): nobody to answer
            if self._poll_generation != generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure "
                    "that only one bot instance is running",
                    violation=False,
                    stat="409",
                )
            if self.webhook is not None:
                break
        return [u.to_api() for u in self._updates[:limit]]

    async def _set_webhook(self, p: dict[str, Any]) -> bool:
        url: str = p["url"]
        self._set_allowed(p.get("allowed_updates"))
        if p.get("drop_pending_updates"):
            self._updates.clear()
        if not url:
            self.webhook = None
            return True
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if not _is_loopback(parts.hostname):
            # Deliberate: the emulator must never send traffic off this machine.
            raise bad_request("bad webhook: the emulator only delivers to loopback addresses")
        if parts.scheme == "http":
            self.stats["webhook_plain_http"] += 1  # real Telegram requires https; tolerated here
        secret = p.get("secret_token")
        if secret is not None and not (
            1 <= len(secret) <= 256
            and all(c.isascii() and (c.isalnum() or c in "_-") for c in secret)
        ):
            raise bad_request("secret token contains unallowed characters")
        max_conn = p.get("max_connections", 40)
        if not 1 <= max_conn <= 100:
            raise bad_request("bad webhook: max_connections must be between 1 and 100")
        self.webhook = Webhook(url, secret, max_conn, p.get("ip_address"))
        if self._webhook_task is None or self._webhook_task.done():
            self._webhook_task = asyncio.create_task(self._webhook_loop(), name="emu-webhook")
        self._notify()
        return True

    async def _delete_webhook(self, p: dict[str, Any]) -> bool:
        self.webhook = None
        if p.get("drop_pending_updates"):
            self._updates.clear()
        self._notify()
        return True

    async def _get_webhook_info(self, p: dict[str, Any]) -> JSONDict:
        wh = self.webhook
        info: JSONDict = {
            "url": wh.url if wh else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if wh is not None:
            info["max_connections"] = wh.max_connections
            if wh.ip_address:
                info["ip_address"] = wh.ip_address
            if wh.last_error_date is not None:
                info["last_error_date"] = wh.last_error_date
                info["last_error_message"] = wh.last_error_message or ""
        if self.allowed_updates is not None:
            info["allowed_updates"] = list(self.allowed_updates)
        return info

    async def _webhook_loop(self) -> None:
        backoff = 0.05
        async with aiohttp.ClientSession() as session:
            while self.webhook is not None and not self._stopping.is_set():
                if not self._updates:
                    await self._wait_change(0.5)
                    continue
                wh = self.webhook
                upd = self._updates[0]
                headers = {"Content-Type": "application/json"}
                if wh.secret_token:
                    headers["X-Telegram-Bot-Api-Secret-Token"] = wh.secret_token
                error: str | None = None
                try:
                    async with session.post(
                        wh.url,
                        data=json.dumps(upd.to_api()),
                        headers=headers,
                        timeout=aiohttp.ClientTimeout(total=self.webhook_timeout),
                    ) as resp:
                        await resp.read()
                        if not 200 <= resp.status < 300:
                            error = f"Wrong response from the webhook: {resp.status} {resp.reason}"
                except Exception as exc:  # noqa: BLE001 - any failure is a failed delivery
                    error = f"Connection failed: {type(exc).__name__}: {exc}"
                if error is None:
                    if self._updates and self._updates[0] is upd:
                        self._updates.pop(0)
                        self._delivered += 1
                    self.stats["webhook_delivered"] += 1
                    backoff = 0.05
                    self._notify()
                else:
                    wh.last_error_date = int(self.now())
                    wh.last_error_message = error
                    self.stats["webhook_errors"] += 1
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 1.0)

    # ================================================================== internals for the API

    def _target_id(self, target: Target) -> int:
        if isinstance(target, EmuChat):
            return target.id
        if isinstance(target, EmuUser):
            return target.id
        return target

    def _find_chat(self, chat_id: int | str) -> EmuChat | None:
        if isinstance(chat_id, str):
            name = chat_id.lstrip("@").lower()
            for c in self.chats.values():
                if c.type != "private" and c.username and c.username.lower() == name:
                    return c
            return None
        if chat_id in self.chats:
            return self.chats[chat_id]
        if chat_id in self.users:
            return self.private_chat(self.users[chat_id])
        return None

    def new_message(self, chat: EmuChat, sender: EmuUser, **fields: Any) -> EmuMessage:
        """Create and store a message in ``chat`` with the next message id."""
        counter = self._msg_ids.setdefault(chat.id, itertools.count(1))
        msg = EmuMessage(
            chat=chat,
            chat_id=chat.id,
            message_id=next(counter),
            sender=sender,
            date=int(self.now()),
            **fields,
        )
        self.messages[(chat.id, msg.message_id)] = msg
        return msg

    def bot_sees(self, msg: EmuMessage) -> bool:
        """Whether Telegram would deliver this message to the bot (membership + privacy)."""
        chat = msg.chat
        if chat.type == "private":
            return not msg.from_bot
        bot = chat.bot_member
        if not bot.present or msg.from_bot:
            return False
        privacy = self.privacy_mode if chat.privacy is None else chat.privacy
        if bot.is_admin or not privacy or msg.service:
            return True
        if msg.reply_to is not None and msg.reply_to.from_bot and not msg.reply_to.service:
            return True
        cmd = leading_command(msg.text if msg.text is not None else msg.caption)
        if cmd is None:
            return False
        target = cmd[1]
        return target is None or target.lower() == (self.bot.username or "").lower()

    def deliver(self, msg: EmuMessage, kind: str = "message") -> int | None:
        """Queue ``msg`` as an update if the bot would receive it."""
        if not self.bot_sees(msg):
            self.stats["not_visible_to_bot"] += 1
            return None
        return self.emit(kind, msg.to_api())

    def member_update(
        self,
        chat: EmuChat,
        user: EmuUser,
        old: Member,
        new: Member,
        actor: EmuUser,
    ) -> None:
        """Emit my_chat_member (user is the bot) or chat_member (bot must be admin there)."""
        supergroup = chat.type == "supergroup"
        payload: JSONDict = {
            "chat": chat.to_api(),
            "from": actor.to_api(),
            "date": int(self.now()),
            "old_chat_member": old.to_api(user, supergroup=supergroup),
            "new_chat_member": new.to_api(user, supergroup=supergroup),
        }
        if user is self.bot:
            self.emit("my_chat_member", payload)
        elif chat.bot_member.is_admin:
            self.emit("chat_member", payload)

    def flood_check(self, chat: EmuChat) -> None:
        """Raise 429 if one more message to ``chat`` exceeds Telegram's limits; else count it."""
        if not self.flood_limits:
            return
        now = self.now()
        wait = self.flood.retry_after(chat.id, chat.is_group, now)
        if wait is not None:
            raise too_many_requests(wait)
        self.flood.record(chat.id, now)

    # ================================================================== user actions

    async def user_start(self, user: EmuUser, payload: str | None) -> EmuMessage:
        """See EmuUser.start."""
        if payload is not None and not (
            1 <= len(payload) <= 64 and set(payload) <= _START_PAYLOAD_CHARS
        ):
            raise EmulatorError(
                f"a deep-link payload must be 1-64 chars of A-Za-z0-9_-: {payload!r}"
            )
        if user.blocked:
            await self.user_block(user, blocked=False)  # pressing "Restart" unblocks
        text = "/start" if payload is None else f"/start {payload}"
        return await self.user_send(user, None, text=text)

    async def user_send(
        self,
        user: EmuUser,
        chat: EmuChat | None,
        *,
        text: str | None = None,
        caption: str | None = None,
        document: EmuFile | None = None,
        photo: EmuFile | None = None,
        reply_to: EmuMessage | None = None,
        thread_id: int | None = None,
    ) -> EmuMessage:
        """See EmuUser.send."""
        chat = chat or self.private_chat(user)
        media = "documents" if document else ("photos" if photo else None)
        if media is None and not (text and utf16_len(text) <= 4096):
            raise EmulatorError("a user's text message has 1-4096 characters")
        if caption is not None and utf16_len(caption) > 1024:
            raise EmulatorError("a user's caption has at most 1024 characters")
        if chat.type == "private":
            if chat.user is not user:
                raise EmulatorError(f"{user.full_name} can't post in {chat.user}'s private chat")
            if user.blocked:
                raise CannotSend(
                    f"{user.full_name} blocked the bot; unblock_bot() or start() first"
                )
            user.started = True
        else:
            self._check_user_can_post(user, chat, media)
        if reply_to is not None:
            if reply_to.chat is not chat or reply_to.deleted:
                raise EmulatorError("reply_to must be a live message in the same chat")
            if thread_id is None and reply_to.thread_id is not None and chat.is_forum:
                thread_id = reply_to.thread_id
        topic = False
        if thread_id is not None:
            if not chat.is_forum or thread_id not in chat.topics:
                raise EmulatorError(f"no forum topic {thread_id} in {chat.title!r}")
            topic = True
            if reply_to is None:
                # Telegram makes topic messages replies to the topic's creation message.
                reply_to = self.messages.get((chat.id, thread_id))
        msg = self.new_message(
            chat,
            user,
            text=text,
            html=text,
            entities=user_entities(text) if text else [],
            caption=caption,
            caption_html=caption,
            caption_entities=user_entities(caption) if caption else [],
            document=document,
            photo=photo,
            reply_to=reply_to,
            thread_id=thread_id,
            is_topic_message=topic,
        )
        self.deliver(msg)
        return msg

    def _check_user_can_post(self, user: EmuUser, chat: EmuChat, media: str | None) -> None:
        m = chat.member(user)
        if m.status == "restricted" and m.until_date and m.until_date <= self.now():
            # Restrictions end by themselves at until_date.
            m = chat.members[user.id] = Member("member")
        if not m.present:
            raise CannotSend(f"{user.full_name} is not a member of {chat.title!r} ({m.status})")
        if m.is_admin:
            return
        perms = (
            m.permissions
            if m.status == "restricted" and m.permissions is not None
            else chat.permissions
        )
        needed = "can_send_messages" if media is None else f"can_send_{media}"
        if not perms.get(needed, False):
            raise CannotSend(f"{user.full_name} may not post in {chat.title!r} ({needed} is off)")

    async def user_edit(self, user: EmuUser, message: EmuMessage, text: str) -> EmuMessage:
        """See EmuUser.edit."""
        if message.sender is not user or message.text is None or message.deleted:
            raise EmulatorError("a user can only edit their own live text messages")
        message.history.append(message.text)
        message.text = message.html = text
        message.entities = user_entities(text)
        message.edits += 1
        message.edit_date = int(self.now())
        self.deliver(message, "edited_message")
        return message

    async def user_press(self, user: EmuUser, message: EmuMessage, button: str) -> str:
        """See EmuUser.press."""
        b = message.button(button)
        if b.callback_data is None:
            raise EmulatorError(f"button {b.text!r} is not a callback button (url={b.url!r})")
        return await self.user_callback(user, message, b.callback_data)

    async def user_callback(self, user: EmuUser, message: EmuMessage, data: str) -> str:
        """See EmuUser.press_raw."""
        if not message.from_bot or message.deleted:
            raise EmulatorError("callback queries come from live messages of the bot")
        chat = message.chat
        if chat.type == "private" and chat.user is not user:
            raise EmulatorError(f"{user.full_name} can't see a message in another private chat")
        if chat.is_group and not chat.member(user).present:
            raise EmulatorError(f"{user.full_name} is not in {chat.title!r}")
        qid = str(next(self._query_ids))
        q = CallbackQuery(qid, user, message, data, self.now())
        self.callbacks[qid] = q
        self.emit(
            "callback_query",
            {
                "id": qid,
                "from": user.to_api(),
                "message": message.to_api(),
                "chat_instance": str(abs(message.chat_id) * 7919 % 10**19),
                "data": data,
            },
        )
        return qid

    async def user_block(self, user: EmuUser, *, blocked: bool) -> None:
        """See EmuUser.block_bot / unblock_bot."""
        if user.blocked == blocked:
            return
        chat = self.private_chat(user)
        old = Member("kicked" if user.blocked else "member")
        user.blocked = blocked
        new = Member("kicked" if blocked else "member")
        chat.members[self.bot.id] = new
        self.member_update(chat, self.bot, old, new, user)

    # ================================================================== group actions

    def _creator(self, chat: EmuChat) -> EmuUser:
        for uid, m in chat.members.items():
            if m.status == "creator" and uid in self.users:
                return self.users[uid]
        for uid, m in chat.members.items():
            if m.status == "administrator" and uid in self.users:
                return self.users[uid]
        raise EmulatorError(f"{chat.title!r} has no creator or admin to act")

    async def group_add_bot(
        self, chat: EmuChat, by: EmuUser, *, admin: bool, rights: Rights
    ) -> None:
        """See EmuChat.add_bot."""
        if not chat.is_group:
            raise EmulatorError("bots are added to groups only")
        if not chat.member(by).present:
            raise EmulatorError(f"{by.full_name} is not in {chat.title!r}")
        if admin and not chat.member(by).is_admin:
            raise EmulatorError(f"only admins can add the bot as admin; {by.full_name} is not")
        if chat.bot_member.present:
            raise EmulatorError("the bot is already in the group")
        old = chat.bot_member.copy()
        new = Member("administrator", normalize_rights(rights)) if admin else Member("member")
        chat.members[self.bot.id] = new
        self.member_update(chat, self.bot, old, new, by)
        msg = self.new_message(chat, by, service={"new_chat_members": [self.bot.to_api()]})
        self.deliver(msg)

    async def group_set_bot_status(
        self,
        chat: EmuChat,
        status: MemberStatus,
        *,
        rights: Rights = None,
        by: EmuUser | None = None,
    ) -> None:
        """Promote/demote/kick the bot (see EmuChat)."""
        actor = by or self._creator(chat)
        old = chat.bot_member.copy()
        if status != "kicked" and not old.present:
            raise EmulatorError("the bot is not in the group; add_bot() first")
        new = Member(status, normalize_rights(rights) if status == "administrator" else {})
        chat.members[self.bot.id] = new
        self.member_update(chat, self.bot, old, new, actor)

    async def group_join(
        self, chat: EmuChat, user: EmuUser, *, by: EmuUser | None
    ) -> EmuMessage | None:
        """See EmuChat.join."""
        old = chat.member(user).copy()
        if old.present:
            raise EmulatorError(f"{user.full_name} is already in {chat.title!r}")
        if old.status == "kicked":
            raise CannotSend(f"{user.full_name} is banned from {chat.title!r}")
        new = Member("member")
        chat.members[user.id] = new
        actor = by or user
        self.member_update(chat, user, old, new, actor)
        msg = self.new_message(chat, actor, service={"new_chat_members": [user.to_api()]})
        self.deliver(msg)
        return msg

    async def group_leave(self, chat: EmuChat, user: EmuUser) -> EmuMessage | None:
        """See EmuChat.leave."""
        old = chat.member(user).copy()
        if not old.present:
            raise EmulatorError(f"{user.full_name} is not in {chat.title!r}")
        new = Member("left")
        chat.members[user.id] = new
        self.member_update(chat, user, old, new, user)
        msg = self.new_message(chat, user, service={"left_chat_member": user.to_api()})
        self.deliver(msg)
        return msg

    async def group_migrate(self, chat: EmuChat, *, by: EmuUser | None) -> int:
        """See EmuChat.migrate_to_supergroup."""
        if chat.type != "group":
            raise EmulatorError("only basic groups can be migrated")
        actor = by or self._creator(chat)
        old_id = chat.id
        new_id = -(1_000_000_000_000 + next(self._supergroup_ids))
        self.deliver(self.new_message(chat, actor, service={"migrate_to_chat_id": new_id}))
        del self.chats[old_id]
        chat.old_ids.append(old_id)
        chat.id = new_id
        chat.type = "supergroup"
        self.chats[new_id] = chat
        self.migrated[old_id] = new_id
        self.deliver(self.new_message(chat, actor, service={"migrate_from_chat_id": old_id}))
        return new_id

    async def group_create_topic(self, chat: EmuChat, name: str, *, by: EmuUser | None) -> int:
        """See EmuChat.create_topic."""
        if not chat.is_forum:
            raise EmulatorError(f"{chat.title!r} is not a forum supergroup")
        if not 1 <= len(name) <= 128:
            raise EmulatorError("topic names are 1-128 characters")
        actor = by or self._creator(chat)
        msg = self.new_message(
            chat, actor, service={"forum_topic_created": {"name": name, "icon_color": 7322096}}
        )
        msg.thread_id = msg.message_id
        msg.is_topic_message = True
        chat.topics[msg.message_id] = name
        self.deliver(msg)
        return msg.message_id


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
