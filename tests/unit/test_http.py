"""AiohttpRequest keeps PTB's request contract: JSON bodies, uploads with UTF-8 names, errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from telegram import InputFile
from telegram.error import NetworkError, TimedOut
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.http import AiohttpRequest


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []

    async def form(request: web.Request) -> web.Response:
        fields: dict[str, Any] = {}
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                body = await part.read()  # type: ignore[union-attr]
                fields[part.name or ""] = (part.filename, body)  # type: ignore[union-attr]
        elif request.content_type == "application/json":
            fields = await request.json()
        else:
            fields = dict(await request.post())
        seen.append(fields)
        return web.json_response({"ok": True, "result": True})

    async def slow(_: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.json_response({"ok": True, "result": True})

    app = web.Application()
    app.router.add_post("/form", form)
    app.router.add_post("/slow", slow)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}", seen
    await runner.cleanup()


def _data(**values: Any) -> RequestData:
    return RequestData([RequestParameter.from_input(k, v) for k, v in values.items()])


async def test_fields_are_sent_as_one_json_body(server: tuple[str, list[dict[str, Any]]]) -> None:
    base, seen = server
    request = AiohttpRequest()
    await request.initialize()
    try:
        status, body = await request.do_request(
            f"{base}/form",
            "POST",
            _data(
                chat_id=-100123,
                text="通知：<b>开会</b> 🎉",
                reply_markup={"inline_keyboard": [[{"text": "收到", "callback_data": "n:1"}]]},
            ),
        )
    finally:
        await request.shutdown()
    assert status == 200
    assert b'"ok": true' in body
    assert seen == [
        {
            "chat_id": -100123,
            "text": "通知：<b>开会</b> 🎉",
            "reply_markup": {"inline_keyboard": [[{"text": "收到", "callback_data": "n:1"}]]},
        }
    ]


async def test_uploads_keep_utf8_names_and_escape_quotes(
    server: tuple[str, list[dict[str, Any]]],
) -> None:
    base, seen = server
    request = AiohttpRequest()
    await request.initialize()
    try:
        upload = InputFile(b"PK\x03\x04data", filename='台账_第一支部"2026".xlsx')
        await request.do_request(f"{base}/form", "POST", _data(chat_id=5, document=upload))
    finally:
        await request.shutdown()
    (fields,) = seen
    assert fields["chat_id"] == (None, b"5")
    filename, content = next(v for k, v in fields.items() if k != "chat_id")
    assert content == b"PK\x03\x04data"
    assert filename == "台账_第一支部%222026%22.xlsx"


async def test_a_slow_answer_is_a_timeout_and_a_dead_server_a_network_error(
    server: tuple[str, list[dict[str, Any]]],
) -> None:
    base, _ = server
    request = AiohttpRequest(read_timeout=0.2, write_timeout=0.0)
    await request.initialize()
    try:
        with pytest.raises(TimedOut):
            await request.do_request(f"{base}/slow", "POST")
        with pytest.raises(NetworkError):
            await request.do_request("http://127.0.0.1:9/nothing", "POST")
    finally:
        await request.shutdown()


async def test_a_request_before_initialize_is_refused() -> None:
    with pytest.raises(RuntimeError):
        await AiohttpRequest().do_request("http://127.0.0.1:9/", "POST")
