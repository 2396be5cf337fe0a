"""A lean WebSocket viewer on a raw asyncio protocol, connecting the way a browser does.

Thousands of these share one client process, so each message must cost the client far less
than it costs the server: no library layers, one pass over the bytes. The handshake offers
permessage-deflate with the parameters a browser sends, and compressed messages are inflated
with the negotiated context takeover. Server frames are unmasked; the pong we send is masked.
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import zlib
from time import monotonic
from typing import cast

BROWSER_EXTENSIONS = "permessage-deflate; client_max_window_bits"
BOARD_PREFIX = b'<hx-partial hx-target="#board"'
ROW_MARKER = b'data-match-id="'
HOME_SCORE = b'class="score home'
DEFLATE_TAIL = b"\x00\x00\xff\xff"
IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)  # Linux 4.2+


def handshake(host: str, port: int, path: str, origin: str, cookie: str | None = None) -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {host}:{port}",
        "Connection: Upgrade",
        "Upgrade: websocket",
        "Sec-WebSocket-Version: 13",
        f"Sec-WebSocket-Key: {key}",
        f"Sec-WebSocket-Extensions: {BROWSER_EXTENSIONS}",
        f"Origin: {origin}",
        "User-Agent: livescores-bench",
        "Cache-Control: no-cache",
    ]
    if cookie:
        lines.append(f"Cookie: {cookie}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def masked_frame(opcode: int, payload: bytes) -> bytes:
    """A client frame: FIN set, masked as RFC 6455 requires (small control payloads only)."""
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + body


def board_scores(message: bytes) -> list[tuple[bytes, int]]:
    """Every (match id, home score) in a message, changed or not."""
    return home_scores(message, only_changed=False)


def home_scores(message: bytes, only_changed: bool = True) -> list[tuple[bytes, int]]:
    """Every (match id, home score) pushed as a goal (the score span marked `changed`)."""
    found: list[tuple[bytes, int]] = []
    start = message.find(ROW_MARKER)
    while start >= 0:
        id_start = start + len(ROW_MARKER)
        id_end = message.find(b'"', id_start)
        span = message.find(HOME_SCORE, id_end)
        close = message.find(b">", span)
        end = message.find(b"<", close)
        if span < 0 or close < 0 or end < 0:
            break
        if not only_changed or b"changed" in message[span:close]:
            found.append((message[id_start:id_end], int(message[close + 1 : end])))
        start = message.find(ROW_MARKER, end)
    return found


class Viewer(asyncio.Protocol):
    """One viewer socket: records when the snapshot came and when each goal's row came."""

    def __init__(self, request: bytes, pause_after_handshake: bool = False, board: bool = True) -> None:
        self.request = request
        self.pause_after_handshake = pause_after_handshake
        # A match page's socket gets that match's row and timeline, never a board snapshot.
        self.board = board
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.upgraded = False
        self.inflater: zlib._Decompress | None = None
        self.reset_inflater = False
        self.parts: list[bytes] = []
        self.compressed = False
        self.deflate = False
        self.messages = 0
        self.pings: list[int] = []  # where in the stream each ping came (bytes received before it)
        self.bytes = 0
        # When this viewer began to connect, its TCP connect completed, and the 101 came.
        self.began_at = 0.0
        self.tcp_at = 0.0
        self.upgraded_at = 0.0
        self.snapshot_at = 0.0
        self.first_size = 0  # the first message, inflated: the page's snapshot
        self.first_frame_bytes = 0  # and its frames as they came, headers included
        self.first_compressed = False
        self.frame_bytes = 0  # the frames of the message being read
        self.kept: list[bytes] | None = None  # every later message, once set to a list
        self.close_code: int | None = None
        self.error: str | None = None
        self.ended: str | None = None  # how the connection ended, once it has
        self.goals: dict[bytes, list[tuple[int, float]]] = {}
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    # -- asyncio.Protocol -----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        self.ended = f"{type(exc).__name__}: {exc}" if exc else "closed"
        self._fail(f"connection lost: {exc}" if exc else "connection closed")
        if not self.lost.done():
            self.lost.set_result(None)

    def data_received(self, data: bytes) -> None:
        now = monotonic()
        self.bytes += len(data)
        if self.buffer:
            data = self.buffer + data
            self.buffer = b""
        if not self.upgraded:
            end = data.find(b"\r\n\r\n")
            if end < 0:
                self.buffer = data
                return
            self._upgrade(data[:end].decode("latin-1"))
            data = data[end + 4 :]
            if self.pause_after_handshake and self.transport is not None:
                self.transport.pause_reading()
        pos, size = 0, len(data)
        while size - pos >= 2:
            first, second = data[pos], data[pos + 1]
            length, header = second & 0x7F, 2
            if length == 126:
                if size - pos < 4:
                    break
                length, header = int.from_bytes(data[pos + 2 : pos + 4], "big"), 4
            elif length == 127:
                if size - pos < 10:
                    break
                length, header = int.from_bytes(data[pos + 2 : pos + 10], "big"), 10
            if size - pos < header + length:
                break
            if first & 0x0F < 8:  # data frames: what a message costs on the wire
                self.frame_bytes = (self.frame_bytes if first & 0x0F == 0 else 0) + header + length
            self._frame(first, data[pos + header : pos + header + length], now)
            pos += header + length
        if pos < size:
            self.buffer = data[pos:]

    # -- WebSocket ------------------------------------------------------------------------

    def _upgrade(self, head: str) -> None:
        status, *headers = head.split("\r\n")
        if " 101 " not in status + " ":
            self._fail(f"handshake refused: {status}")
            if self.transport is not None:
                self.transport.close()
            return
        self.upgraded = True
        self.upgraded_at = monotonic()
        for line in headers:
            name, _, value = line.partition(":")
            if name.strip().lower() == "sec-websocket-extensions" and "permessage-deflate" in value:
                self.deflate = True
                params = {p.strip().split("=")[0] for p in value.split(";")}
                self.reset_inflater = "server_no_context_takeover" in params
                self.inflater = zlib.decompressobj(-15)

    def _frame(self, first: int, payload: bytes, now: float) -> None:
        opcode = first & 0x0F
        if opcode in (1, 2):
            self.compressed = bool(first & 0x40)
            self.parts = [payload]
        elif opcode == 0:
            self.parts.append(payload)
        elif opcode == 8:
            self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            if self.transport is not None:
                self.transport.write(masked_frame(8, payload[:2]))
                self.transport.close()
            return
        elif opcode == 9:
            self.pings.append(self.bytes)
            if self.transport is not None:
                self.transport.write(masked_frame(10, payload))
            return
        else:
            return
        if not first & 0x80:
            return
        message = self.parts[0] if len(self.parts) == 1 else b"".join(self.parts)
        self.parts = []
        if self.compressed and self.inflater is not None:
            message = self.inflater.decompress(message + DEFLATE_TAIL)
            if self.reset_inflater:
                self.inflater = zlib.decompressobj(-15)
        self._message(message, now)

    def _message(self, message: bytes, now: float) -> None:
        self.messages += 1
        if self.kept is not None:
            self.kept.append(message)
        if not self.snapshot_at:
            if not self.first_size:
                self.first_size, self.first_frame_bytes = len(message), self.frame_bytes
                self.first_compressed = self.compressed
            if message.startswith(BOARD_PREFIX) or not self.board:
                self.snapshot_at = now
                if not self.ready.done():
                    self.ready.set_result(None)
            return
        for match_id, score in home_scores(message):
            seen = self.goals.get(match_id)
            if seen is None:
                self.goals[match_id] = [(score, now)]
            else:
                seen.append((score, now))

    def _fail(self, reason: str) -> None:
        if self.error is None and not self.ready.done():
            self.error = reason
            self.ready.set_exception(ConnectionError(reason))


async def open_viewer(
    host: str,
    port: int,
    origin: str,
    source: str | None = None,
    pause_after_handshake: bool = False,
    receive_buffer: int | None = None,
    path: str = "/ws",
    board: bool | None = None,
) -> Viewer:
    """Connect, upgrade and wait for the first message (the board snapshot on `/ws`); raises
    ConnectionError if refused. Paused after the handshake, it returns without waiting."""
    loop = asyncio.get_running_loop()
    began = monotonic()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if receive_buffer:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    try:
        if source:
            # A bind to port 0 makes the kernel pick the port then, by a search that checks
            # each candidate against the sockets already bound: with thousands bound to the
            # same address that search took most of the load generator's core (system time),
            # and how long depended on where it started, so the connect rate swung between
            # runs from 4,800/s to 640/s with the server idle. Left to connect(), the port is
            # chosen by the 4-tuple, in constant time.
            sock.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
            sock.bind((source, 0))
        await loop.sock_connect(sock, (host, port))
    except OSError:
        sock.close()
        raise
    tcp_at = monotonic()
    request = handshake(host, port, path, origin)
    board = "match=" not in path if board is None else board
    _, viewer = await loop.create_connection(lambda: Viewer(request, pause_after_handshake, board), sock=sock)
    viewer.began_at, viewer.tcp_at = began, tcp_at
    if not pause_after_handshake:
        await viewer.ready
    return viewer
