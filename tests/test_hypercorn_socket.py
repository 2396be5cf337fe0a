"""`/ws` under a real Hypercorn in this process, configured by hypercorn.toml: the direct-write
path a browser gets (frames written to the transport, snapshots compressed once for every
socket that offers permessage-deflate, pushes of rows uncompressed), refusals as HTTP
statuses, Hypercorn's frame limit, the app's pings, a reader that stalls, and connections that
are freed as soon as they close. (Quart's test client, which the other socket tests use, goes
through the ASGI `send` fallback instead.)"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gc
import json
import logging
import os
import socket
import struct
import zlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from hypercorn.asyncio import serve
from hypercorn.asyncio.tcp_server import TCPServer
from hypercorn.config import Config as HypercornConfig
from quart import Quart
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Origin

from livescores import SOCKETS_KEY, create_app
from livescores.config import Config
from livescores.hub import Connection
from livescores.services import EXTENSION_KEY, Services
from livescores.socket import CLOSE_SECONDS, LiveSocketEndpoint

from .pages import feedback, rows
from .servers import ROOT, free_port
from .support import SCORER_TOKEN, sign_in


@dataclass
class Served:
    app: Quart
    port: int

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def origin(self) -> Origin:
        return Origin(f"http://127.0.0.1:{self.port}")

    @property
    def live(self) -> Services:
        found: Services = self.app.extensions[EXTENSION_KEY]
        return found

    @property
    def sockets(self) -> LiveSocketEndpoint:
        found: LiveSocketEndpoint = self.app.extensions[SOCKETS_KEY]
        return found

    def connect(self, path: str = "", **kwargs: Any) -> connect:
        return connect(self.url + path, origin=self.origin, open_timeout=5, **kwargs)

    async def scorer_cookie(self) -> str:
        client = self.app.test_client()
        await sign_in(client)
        jar = client.cookie_jar
        assert jar is not None
        return "; ".join(f"{c.name}={c.value}" for c in jar if c.name == "livescores_scorer")


def app_config(tmp_path: Path, **changes: object) -> Config:
    config = Config(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'livescores.db'}",
        scorer_token=SCORER_TOKEN,
        secret_key="secret-for-tests",
        clock_interval_seconds=3600,
        viewer_count_seconds=3600,
        demo="draw",
    )
    return replace(config, **changes)  # type: ignore[arg-type]


async def serving(config: Config, settings: HypercornConfig | None = None) -> AsyncIterator[Served]:
    app = create_app(config)
    settings = settings or HypercornConfig.from_toml(ROOT / "hypercorn.toml")
    port = free_port()
    settings.bind = [f"127.0.0.1:{port}"]
    stop = asyncio.Event()
    server = asyncio.create_task(serve(app, settings, shutdown_trigger=stop.wait))  # type: ignore[arg-type]
    for _ in range(200):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        break
    await asyncio.sleep(0.1)  # the probe's connection winds down
    while EXTENSION_KEY not in app.extensions:  # noqa: ASYNC110 - set by the app's start-up
        await asyncio.sleep(0.01)
    endpoint: LiveSocketEndpoint = app.extensions[SOCKETS_KEY]
    for _ in range(500):  # the app serves its sockets itself from now on, unless over TLS
        if endpoint.intake.servers or settings.ssl_enabled:
            break
        await asyncio.sleep(0.01)
    try:
        yield Served(app, port)
    finally:
        stop.set()
        await asyncio.wait_for(server, 15)


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    async for found in serving(app_config(tmp_path)):
        yield found


@pytest.fixture
async def impatient(tmp_path: Path) -> AsyncIterator[Served]:
    """A server that gives a socket half a second to take what is sent to it."""
    async for found in serving(app_config(tmp_path, outbox_timeout_seconds=0.5)):
        yield found


async def test_a_browser_socket_is_written_to_directly_with_the_apps_own_deflate(served: Served) -> None:
    cookie = await served.scorer_cookie()
    # Both offer permessage-deflate, as browsers do, and compress what they send with it.
    async with served.connect() as viewer, served.connect(additional_headers={"Cookie": cookie}) as scorer:
        for ws in (viewer, scorer):
            assert ws.response is not None
            assert ws.response.headers["Sec-WebSocket-Extensions"] == "permessage-deflate; server_no_context_takeover"
            snapshot = str(await asyncio.wait_for(ws.recv(), 5))
            assert len(rows(snapshot)) == 10
        assert len(served.sockets.writers) == 2
        assert all(writer.deflate for writer in served.sockets.writers)
        assert "hx-ws:send" in snapshot  # the cookie made it a scorer's
        match = served.live.hub.matches[0]
        # Two compressed commands: the second may refer back to the first (the client keeps its
        # context, as it did not offer to drop it), and both must read as sent.
        for score in (1, 2):
            await scorer.send(json.dumps({"action": "goal", "match": match.id, "side": "away"}))
            while match.id not in (pushed := rows(str(await asyncio.wait_for(viewer.recv(), 5)))):
                pass
            assert pushed[match.id].away_score == score
            while (note := feedback(str(await asyncio.wait_for(scorer.recv(), 5)))) is None:
                pass
            assert note.startswith("ok: Recorded goal")
    await eventually(lambda: not served.sockets.writers and not served.live.hub.connections)


async def test_refusals_are_http_statuses_before_the_handshake(served: Served) -> None:
    refusals = [
        ("", {"origin": Origin("http://evil.example")}, 403),
        ("?match=nope", {}, 404),
        ("?match=not%20an%20id", {}, 404),
    ]
    for path, options, status in refusals:
        with pytest.raises(InvalidStatus) as refused:
            await connect(served.url + path, open_timeout=5, **({"origin": served.origin} | options))  # type: ignore[arg-type]
        assert refused.value.response.status_code == status, path
    assert not served.live.hub.connections


async def test_a_message_beyond_hypercorns_frame_limit_closes_with_1009(served: Served) -> None:
    cookie = await served.scorer_cookie()
    # Uncompressed: a compressed message too big is refused as it is inflated (see below).
    async with served.connect(additional_headers={"Cookie": cookie}, max_size=None, compression=None) as scorer:
        await scorer.recv()
        await scorer.send("x" * 70_000)  # hypercorn.toml reads frames up to 64 KiB
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(scorer.recv(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


async def test_every_socket_written_to_directly_is_pinged(served: Served) -> None:
    reader, writer = await raw_socket(served)
    try:
        assert served.sockets.ping(list(served.sockets.writers)) == 1
        assert await asyncio.wait_for(reader.readexactly(2), 5) == b"\x89\x00"
    finally:
        writer.close()


@pytest.fixture
async def pinging(tmp_path: Path) -> AsyncIterator[Served]:
    """A server that pings every socket once a second (a third of its 3 s silence allowed)."""
    async for found in serving(app_config(tmp_path, ping_timeout_seconds=3.0)):
        yield found


async def test_pings_go_out_a_share_at_a_time_and_reach_every_socket(pinging: Served) -> None:
    """Thousands of pongs at once would hold the loop up: each socket is pinged once per
    interval, but not all in the same moment."""
    sockets = [await raw_socket(pinging) for _ in range(20)]
    loop = asyncio.get_running_loop()
    try:
        # Each socket's first ping comes within two intervals (it may join after a round began).
        first = await asyncio.gather(
            *(asyncio.wait_for(reader.readexactly(2), 5) for reader, _ in sockets), return_exceptions=False
        )
        assert first == [b"\x89\x00"] * 20
        arrived = []
        for reader, _ in sockets:  # the next round: each gets one more, at its own step of the second
            assert await asyncio.wait_for(reader.readexactly(2), 5) == b"\x89\x00"
            arrived.append(loop.time())
        # Twenty sockets fall in ten steps of a tenth of a second each: spread over most of a second.
        assert max(arrived) - min(arrived) >= 0.4
    finally:
        for _, writer in sockets:
            writer.close()


async def test_connections_are_freed_when_they_close_without_a_cyclic_collection(served: Served) -> None:
    gc.collect()
    gc.disable()  # whatever is still there afterwards was left to the cyclic collector
    try:
        async with served.connect() as ws:
            await ws.recv()
        clients = {ws.local_address}
        # A page's request; and a socket whose client is gone before its snapshot could be written.
        for request in (b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", upgrade(served)):
            reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
            clients.add(writer.get_extra_info("sockname"))
            writer.write(request)
            if request.startswith(b"GET /healthz"):
                assert (await reader.read()).startswith(b"HTTP/1.1 200")
            writer.close()
        await eventually(lambda: not served.live.hub.connections)
        await asyncio.sleep(0.3)  # Hypercorn's side of the connections winds down
        left = [o for o in gc.get_objects() if isinstance(o, TCPServer | asyncio.Transport) and peer_of(o) in clients]
        left += [o for o in gc.get_objects() if isinstance(o, Connection)]
    finally:
        gc.enable()
    assert left == []


def peer_of(server_side: object) -> object:
    transport = server_side.writer.transport if isinstance(server_side, TCPServer) else server_side
    peer = transport.get_extra_info("peername")  # type: ignore[attr-defined]
    return tuple(peer) if peer else None


async def test_a_socket_that_stops_reading_is_closed_with_1013_and_dropped(
    impatient: Served, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "livescores.socket")
    reader, writer = await raw_socket(impatient, receive_buffer=4096)
    connection = next(iter(impatient.live.hub.connections))
    fragment = "<p>" + "x" * 100_000 + "</p>"
    pushes = 200  # far more than the socket buffers hold: it falls back to its outbox
    for n in range(pushes):
        connection.push(f"row:{n}", fragment)
    await eventually(lambda: not impatient.live.hub.connections, within=10)
    assert any("closed 1013 too slow" in record.getMessage() for record in caplog.records)
    await eventually(lambda: not impatient.sockets.writers)
    # It was dropped, not left waiting to take a close frame behind megabytes it will not read:
    # what it can still read is what the kernel had taken before (a few MB at most).
    await asyncio.sleep(CLOSE_SECONDS + 0.5)
    received = 0
    with contextlib.suppress(ConnectionResetError):
        while chunk := await asyncio.wait_for(reader.read(1 << 16), 5):
            received += len(chunk)
    assert received < pushes * len(fragment) / 2
    writer.close()


async def raw_socket(
    served: Served, receive_buffer: int | None = None
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A client that upgrades without offering compression and reads up to the snapshot."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if receive_buffer:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", served.port))
    reader, writer = await asyncio.open_connection(sock=sock)
    writer.write(upgrade(served))
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert head.startswith(b"HTTP/1.1 101")
    first, length = await asyncio.wait_for(reader.readexactly(2), 5)
    assert first == 0x81 and length & 0x7F == 126, "the snapshot, one text frame of a few KB"
    (size,) = struct.unpack("!H", await reader.readexactly(2))
    assert (await reader.readexactly(size)).startswith(b'<hx-partial hx-target="#board"')
    return reader, writer


def upgrade(served: Served) -> bytes:
    """A browser's upgrade request to /ws, offering no compression."""
    key = base64.b64encode(os.urandom(16)).decode()
    return (
        f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{served.port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\nOrigin: {served.origin}\r\n\r\n"
    ).encode()


async def eventually(condition: Callable[[], object], within: float = 5) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "the condition never held"
        await asyncio.sleep(0.02)


async def test_without_its_settings_file_the_app_still_reads_no_message_beyond_its_frame_limit(
    tmp_path: Path,
) -> None:
    # Plain `hypercorn livescores:app` would read messages of up to 16 MiB; the sockets the app
    # serves itself read at most hypercorn.toml's limit all the same.
    async for served in serving(app_config(tmp_path), HypercornConfig()):
        async with served.connect() as ws:
            await ws.recv()
            await ws.send("x" * 70_000)
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


OFFER = "permessage-deflate; client_max_window_bits"


async def deflate_socket(served: Served, offer: str = OFFER) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, str]:
    """A raw client that upgrades offering `offer`; its reader, writer and the response's head."""
    reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
    request = upgrade(served).removesuffix(b"\r\n") + f"Sec-WebSocket-Extensions: {offer}\r\n\r\n".encode()
    writer.write(request)
    head = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)).decode("latin-1")
    assert head.startswith("HTTP/1.1 101")
    return reader, writer, head


def extensions_of(head: str) -> str | None:
    for line in head.split("\r\n"):
        name, _, value = line.partition(":")
        if name.strip().lower() == "sec-websocket-extensions":
            return value.strip()
    return None


async def read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """The first byte (FIN, RSV, opcode) and the payload of the next server frame."""
    first, length = await asyncio.wait_for(reader.readexactly(2), 5)
    if length == 126:
        (length,) = struct.unpack("!H", await reader.readexactly(2))
    elif length == 127:
        (length,) = struct.unpack("!Q", await reader.readexactly(8))
    return first, await asyncio.wait_for(reader.readexactly(length), 5)


def client_frame(payload: bytes, compressed: bool) -> bytes:
    """A final, masked text frame, with RSV1 set when its payload is compressed."""
    mask = os.urandom(4)
    length = len(payload)
    header = bytes([0xC1 if compressed else 0x81])
    header += bytes([0x80 | length]) if length < 126 else bytes([0x80 | 126]) + struct.pack("!H", length)
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def compress(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return (compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)).removesuffix(b"\x00\x00\xff\xff")


def inflate(payload: bytes) -> bytes:
    return zlib.decompressobj(-15).decompress(payload + b"\x00\x00\xff\xff")


async def test_a_snapshot_is_compressed_once_for_every_socket_and_a_row_push_is_not(served: Served) -> None:
    first_reader, first_writer, head = await deflate_socket(served)
    second_reader, second_writer, _ = await deflate_socket(served, OFFER + "; client_no_context_takeover")
    try:
        assert extensions_of(head) == "permessage-deflate; server_no_context_takeover"
        first, snapshot = await read_frame(first_reader)
        second, other = await read_frame(second_reader)
        assert first == second == 0xC1  # final, RSV1 (compressed), text
        assert snapshot == other  # the same bytes for both: no context of either socket in them
        html = served.live.hub.snapshot("viewer").encode()
        assert inflate(snapshot) == html and html.startswith(b'<hx-partial hx-target="#board"')
        assert len(snapshot) < len(html) / 3
        # A goal: its row goes uncompressed (RSV1 clear) to both.
        match = served.live.hub.matches[0]
        async with served.connect(additional_headers={"Cookie": await served.scorer_cookie()}) as scorer:
            await scorer.recv()
            await scorer.send(json.dumps({"action": "goal", "match": match.id, "side": "home"}))
            for reader in (first_reader, second_reader):
                first, push = await read_frame(reader)
                assert first == 0x81
                assert rows(push.decode())[match.id].home_score == 1
    finally:
        first_writer.close()
        second_writer.close()


async def test_what_a_client_sends_compressed_is_inflated_with_or_without_its_context(served: Served) -> None:
    for offer, agreed in [
        (OFFER, "permessage-deflate; server_no_context_takeover"),
        (
            OFFER + "; client_no_context_takeover",
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
        ),
    ]:
        reader, writer, head = await deflate_socket(served, offer)
        try:
            assert extensions_of(head) == agreed
            await read_frame(reader)  # the snapshot
            command = json.dumps({"action": "goal", "match": served.live.hub.matches[0].id, "side": "home"})
            # A viewer's command, compressed, then the same uncompressed: each is read and refused.
            for compressed in (True, False):
                payload = compress(command.encode()) if compressed else command.encode()
                writer.write(client_frame(payload, compressed))
                first, message = await read_frame(reader)
                assert first == 0x81
                assert (
                    feedback(message.decode())
                    == "error: Only signed-in scorers can record events. Nothing was changed."
                )
        finally:
            writer.close()


@pytest.mark.parametrize(
    ("payload", "code"),
    [(compress(b"x" * 200_000), 1009), (b"\xff\xfe not deflate at all", 1007)],
    ids=["inflates beyond the frame limit", "not deflate"],
)
async def test_a_compressed_message_too_big_or_broken_ends_the_connection(
    served: Served, payload: bytes, code: int
) -> None:
    reader, writer, _ = await deflate_socket(served)
    try:
        await read_frame(reader)
        assert len(served.live.hub.connections) == 1
        writer.write(client_frame(payload, compressed=True))
        # A close frame says why, then the connection ends.
        opcode, body = await read_frame(reader)
        assert opcode & 0x0F == 0x8 and struct.unpack("!H", body[:2])[0] == code
        assert await asyncio.wait_for(reader.read(), 5) == b""
        await eventually(lambda: not served.live.hub.connections)
    finally:
        writer.close()


async def test_offers_the_app_cannot_keep_are_declined(served: Served) -> None:
    for offer in ("permessage-deflate; server_max_window_bits=10", "x-webkit-deflate-frame"):
        reader, writer, head = await deflate_socket(served, offer)
        try:
            assert extensions_of(head) is None
            first, _ = await read_frame(reader)
            assert first == 0x81
        finally:
            writer.close()
