"""Helpers the tests share: scorer sign-in through the real form and socket conversations."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from quart.testing.connections import TestWebsocketConnection as WebSocket
from quart.testing.connections import WebsocketDisconnectError, WebsocketResponseError
from quart.typing import TestClientProtocol as Client

SCORER_TOKEN = "scorer-token-for-tests"
ORIGIN = "http://localhost"


async def sign_in(client: Client, name: str = "Sam", token: str = SCORER_TOKEN) -> None:
    page = await client.get("/signin")
    csrf = csrf_from(await page.get_data(as_text=True))
    response = await client.post("/signin", form={"csrf": csrf, "token": token, "name": name})
    assert response.status_code == 302, await response.get_data(as_text=True)


def csrf_from(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the sign-in form carries a CSRF token"
    return found.group(1)


@asynccontextmanager
async def socket(client: Client, path: str = "/ws") -> AsyncIterator[WebSocket]:
    async with client.websocket(path, headers={"Origin": ORIGIN}) as ws:
        yield ws  # type: ignore[misc]


async def receive_until(ws: WebSocket, predicate: Callable[[str], bool], limit: int = 20) -> str:
    for _ in range(limit):
        message = await asyncio.wait_for(ws.receive(), 5)
        assert isinstance(message, str)
        if predicate(message):
            return message
    raise AssertionError("the expected message never came")


async def goal(ws: WebSocket, match_id: str, side: str = "home", **extra: object) -> None:
    await ws.send(
        json.dumps({"action": "goal", "match": match_id, "side": side, **extra, "headers": {"HX-Request": "true"}})
    )


async def close_code(ws: WebSocket) -> int | None:
    """Read until the server closes the socket; the close code, or the HTTP status of a refusal."""
    try:
        for _ in range(1000):
            await asyncio.wait_for(ws.receive(), 5)
    except WebsocketDisconnectError as error:
        return int(error.args[0])
    except WebsocketResponseError as error:
        return int(error.response.status_code)
    return None
