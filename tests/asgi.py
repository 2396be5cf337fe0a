"""One HTTP request through the app's whole ASGI stack (middleware included), which Quart's
test client skips: it calls the app's request handling directly."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from quart import Quart


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


async def asgi_get(app: Quart, path: str, headers: dict[str, str] | None = None, stream: bool = False) -> Reply:
    """The whole response; for a stream (`stream=True`), its head and first chunk of body."""
    path, _, query = path.partition("?")
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in {"host": "localhost", **(headers or {})}.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("localhost", 80),
        "extensions": {},
    }
    sent: list[dict[str, Any]] = []
    requested = False
    first_chunk = asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # the client stays until the response is over
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and message.get("body"):
            first_chunk.set()

    if stream:
        task = asyncio.ensure_future(app(scope, receive, send))
        await asyncio.wait_for(first_chunk.wait(), 10)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    else:
        await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    found = {k.decode().lower(): v.decode() for k, v in start.get("headers", [])}
    return Reply(start["status"], found, body)
