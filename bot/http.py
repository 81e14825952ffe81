"""Bot API requests over aiohttp: the same contract as PTB's default, at a fraction of the CPU.

Measured on this project's machine (bench notes in the README): an httpx request costs about
1.2 ms of CPU, an aiohttp one about 0.2 ms. A busy moment — a broadcast of 30 messages a
second while a hundred people a second press buttons, each press one getUpdates share and
one answer — spends most of the bot's single core in the HTTP client, so this is the
difference between keeping up and falling behind. Proxies (socks included) stay with PTB's
httpx-based request, which supports them.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


def _safe(filename: str) -> str:
    """A file name as it may stand in a multipart header: UTF-8 kept, quotes and breaks
    escaped as browsers (and httpx) do, so a name cannot end its header early."""
    return filename.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


_JSON = {"Content-Type": "application/json"}


class AiohttpRequest(BaseRequest):
    """PTB's BaseRequest on one aiohttp ClientSession with a bounded connection pool."""

    __slots__ = ("_connections", "_session", "_timeouts")

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
    ) -> None:
        self._connections = connection_pool_size
        self._timeouts = {"read": read_timeout, "write": write_timeout,
                          "connect": connect_timeout, "pool": pool_timeout}  # fmt: skip
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """The read timeout used when a call does not name one."""
        return self._timeouts["read"]

    async def initialize(self) -> None:
        """Open the connection pool (inside the running event loop)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        """Close the connection pool."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    def _value(self, given: ODVInput[float], name: str) -> float | None:
        return self._timeouts[name] if isinstance(given, DefaultValue) else given

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one request; (HTTP status, body), or TimedOut / NetworkError as PTB expects."""
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        read = self._value(read_timeout, "read")
        write = self._value(write_timeout, "write")
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=self._value(pool_timeout, "pool"),  # waiting for a free connection
            sock_connect=self._value(connect_timeout, "connect"),
            # The whole exchange after connecting: sending the body, then the answer.
            sock_read=None if read is None else read + (write or 0.0),
        )
        data: Any = None
        headers: dict[str, str] | None = None
        if request_data is not None:
            files = request_data.multipart_data
            fields = request_data.json_parameters
            if files:
                form = aiohttp.FormData(quote_fields=False)  # UTF-8 file names as they are
                for name, value in fields.items():
                    form.add_field(name, value)
                for name, (filename, content, mime) in files.items():
                    form.add_field(name, content, filename=_safe(filename), content_type=mime)
                data = form
            else:
                # One JSON body (Telegram takes it): percent-encoding a long message's UTF-8
                # byte by byte, as a form, was a visible share of a reply's CPU.
                data = json.dumps(request_data.parameters, ensure_ascii=False).encode()
                headers = _JSON
        try:
            async with self._session.request(
                method, url, data=data, headers=headers, timeout=timeout
            ) as res:
                return res.status, await res.read()
        except TimeoutError as err:  # asyncio.TimeoutError is TimeoutError since 3.11
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{err.__class__.__name__}: {err}") from err
