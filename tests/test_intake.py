"""The app's intake under a real Hypercorn: WebSocket handshakes for /ws are served by the app,
every other connection reaches Hypercorn as it was sent, and the app's sockets speak the
protocol's control frames as a server must."""

from __future__ import annotations

import asyncio
import os
import struct
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
import uvloop

from livescores import compat, websocket
from livescores.websocket import AppSocket

from .servers import running_server, scorer_cookie
from .test_hypercorn_socket import Served, app_config, eventually, read_frame, served, serving, upgrade

__all__ = ["served"]  # the fixture

LOOPS: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "asyncio": asyncio.new_event_loop,
    "uvloop": uvloop.new_event_loop,
}


async def exchange(served: Served, request: bytes, close: bool = True) -> bytes:
    """Send `request` on a new connection and read what comes back until the server closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
    try:
        writer.write(request)
        if close:
            return await asyncio.wait_for(reader.read(), 10)
        return await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    finally:
        writer.close()


def masked(first: int, payload: bytes) -> bytes:
    mask = os.urandom(4)
    return bytes([first, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


async def pages_and_a_socket(served: Served) -> tuple[bytes, bytes, bytes, type]:
    health = await exchange(served, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    # Two requests on one kept-alive connection, the second after the first was answered.
    reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    first = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    length = next(int(line[15:]) for line in first.split(b"\r\n") if line.lower().startswith(b"content-length:"))
    await reader.readexactly(length)
    writer.write(b"GET /api/matches HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    second = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    assert first.startswith(b"HTTP/1.1 200")
    async with served.connect() as ws:
        await ws.recv()
        kinds = {type(writer) for writer in served.sockets.writers}
    return health, second, b"", next(iter(kinds))


@pytest.mark.parametrize("loop", LOOPS)
def test_pages_reach_hypercorn_and_sockets_the_app_under_either_loop(loop: str, tmp_path: Path) -> None:
    compat._fallbacks.clear()  # earlier tests' sockets went through Quart's test client

    async def visit() -> tuple[bytes, bytes, bytes, type]:
        async for found in serving(app_config(tmp_path)):
            return await pages_and_a_socket(found)
        raise AssertionError("not served")

    with asyncio.Runner(loop_factory=LOOPS[loop]) as runner:
        health, second, _, kind = runner.run(visit())
    assert health.startswith(b"HTTP/1.1 200") and b'"fast_path":true' in health
    assert second.startswith(b"HTTP/1.1 200") and b"application/json" in second
    assert kind is AppSocket


@pytest.mark.slow
@pytest.mark.parametrize("loop", [(), ("-k", "uvloop")], ids=["asyncio", "uvloop"])
def test_requests_through_the_intake_share_nothing_of_another_requests_context(
    tmp_path: Path, loop: tuple[str, ...]
) -> None:
    # A scorer signs in over one connection; another client's page request, which carries no
    # cookie, must not be answered as the scorer's (nor be sent the scorer's cookie).
    with running_server(tmp_path, *loop) as server:
        for _ in range(100):
            if "serves WebSocket handshakes itself" in server.log():
                break
            time.sleep(0.05)
        assert scorer_cookie(server.url)
        with urllib.request.urlopen(server.url + "/healthz", timeout=10) as response:
            assert response.headers.get("Set-Cookie") is None
        with urllib.request.urlopen(server.url + "/", timeout=10) as response:
            assert b'<button class="team' not in response.read()


async def test_what_the_app_does_not_serve_itself_gets_hypercorns_answer(served: Served) -> None:
    malformed = await exchange(served, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header\r\n\r\n")
    assert malformed.startswith(b"HTTP/1.1 400")
    # A head longer than the app looks into reaches Hypercorn whole, over several reads.
    huge = await exchange(
        served, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Filler: " + b"a" * 20_000 + b"\r\n\r\n"
    )
    assert huge.startswith(b"HTTP/1.1 200") and huge.endswith(b"</html>")
    # A WebSocket handshake elsewhere is the app's routing's (Quart's) to answer, through Hypercorn.
    elsewhere = upgrade(served).replace(b"GET /ws ", b"GET /elsewhere ")
    assert (await exchange(served, elsewhere, close=False)).startswith(b"HTTP/1.1 404")
    assert not served.live.hub.connections


async def test_a_frame_sent_before_the_101_is_read_once_the_socket_is_open(served: Served) -> None:
    # A client must wait for the 101 (RFC 6455, 4.1); one that does not loses nothing.
    reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
    writer.write(upgrade(served) + masked(0x89, b"early"))
    assert (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)).startswith(b"HTTP/1.1 101")
    frames = [await read_frame(reader), await read_frame(reader)]
    assert (0x8A, b"early") in frames
    writer.close()


async def test_a_connection_that_never_finishes_its_request_is_dropped(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(websocket, "HEAD_SECONDS", 0.3)
    reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
    writer.write(b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    assert await asyncio.wait_for(reader.read(), 5) == b""
    writer.close()


async def open_socket(served: Served) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
    writer.write(upgrade(served))
    assert (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)).startswith(b"HTTP/1.1 101")
    first, _ = await read_frame(reader)  # the snapshot
    assert first == 0x81
    return reader, writer


async def test_a_ping_is_answered_and_a_close_echoed_before_the_connection_ends(served: Served) -> None:
    reader, writer = await open_socket(served)
    writer.write(masked(0x89, b"are you there"))
    assert await read_frame(reader) == (0x8A, b"are you there")
    writer.write(masked(0x88, struct.pack("!H", 1001) + b"leaving"))
    first, body = await read_frame(reader)
    assert first == 0x88 and struct.unpack("!H", body[:2])[0] == 1001
    assert await asyncio.wait_for(reader.read(), 5) == b""
    writer.close()
    await eventually(lambda: not served.live.hub.connections and not served.sockets.writers)


async def test_a_client_that_breaks_the_protocol_is_told_why_and_closed(served: Served) -> None:
    reader, writer = await open_socket(served)
    writer.write(bytes([0x81, 0x02]) + b"hi")  # not masked
    first, body = await read_frame(reader)
    assert first == 0x88 and struct.unpack("!H", body[:2])[0] == 1002
    assert await asyncio.wait_for(reader.read(), 5) == b""
    writer.close()
    await eventually(lambda: not served.live.hub.connections)


async def test_a_close_from_the_app_waits_for_the_clients_answer_then_ends(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    reader, writer = await open_socket(served)
    connection = next(iter(served.live.hub.connections))
    connection.stop(1012)
    first, body = await read_frame(reader)
    assert first == 0x88 and struct.unpack("!H", body[:2])[0] == 1012
    writer.write(masked(0x88, body[:2]))
    assert await asyncio.wait_for(reader.read(), 5) == b""
    # A client that never answers is dropped all the same.
    monkeypatch.setattr(websocket, "CLOSE_SECONDS", 0.3)
    reader, writer = await open_socket(served)
    next(iter(served.live.hub.connections)).stop(1012)
    first, _ = await read_frame(reader)
    assert first == 0x88
    assert await asyncio.wait_for(reader.read(), 5) == b""
    writer.close()


async def test_a_client_flooding_messages_is_read_no_faster_than_the_app_handles_them(served: Served) -> None:
    reader, writer = await open_socket(served)
    app_socket = next(iter(served.sockets.writers))
    # Viewers' messages are refused one by one, each with a line of feedback: all are answered.
    writer.write(b"".join(masked(0x81, b'{"action": "goal"}') for _ in range(50)))
    answered = 0
    while answered < 50:
        first, body = await read_frame(reader)
        if first == 0x81 and b"feedback" in body:
            answered += 1
    assert app_socket.state == websocket.OPEN
    writer.close()
