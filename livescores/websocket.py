"""A WebSocket the app serves itself, from its opening handshake to its close.

Under Hypercorn a WebSocket keeps an h11 and a wsproto connection, a stream reader and writer,
an ASGI queue and two tasks: about 15 KB of an idle socket's 20, and most of the time it takes
to accept one. The app's intake (intake.py) accepts the worker's connections and gives each to
an `AppSocket`: one that opens with a handshake for `/ws` stays here; any other is handed to
Hypercorn as it was received. Here a socket is this object, its transport and a frame reader
(frames.py), and it offers the app the ASGI interface a server would (`receive`, `send`), so the
endpoint in socket.py runs unchanged under either. Frames encoded once for many sockets
(transport.py) go straight to its transport through `write`.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import time
import weakref
from collections import deque
from functools import cache
from typing import TYPE_CHECKING, Any

from . import compat, handshake
from .closecodes import INTERNAL_ERROR
from .deflate import Agreement, agree, frame
from .frames import Close, Failure, FrameReader, Message, Ping, close_frame, pong_frame
from .transport import text_frame

if TYPE_CHECKING:
    from .intake import Intake

log = logging.getLogger(__name__)

HEAD_SECONDS = 10.0  # for a new connection's request head to arrive whole
CLOSE_SECONDS = 2.0  # for the client to answer a close before the connection is dropped
WRITE_BUFFER_LIMIT = 256 * 1024  # beyond this a socket is slow: writes wait, pushes go to its outbox
QUEUED_MESSAGES = 8  # read no further while this many of the client's messages wait for the app
NO_STATUS = 1005
ABNORMAL = 1006

# States, in order.
HEAD, HANDSHAKE, OPEN, CLOSING, CLOSED = range(5)

Message_ = dict[str, Any]


@cache
def _close_frame(code: int) -> bytes:
    """The close frame for a code without a reason, made once."""
    return close_frame(code)


class SocketClosed(ConnectionError):
    """What `send` raises once the socket is closed (as ASGI asks of a server)."""


class Deadlines:
    """Sockets to drop unless they have moved on from a state by a deadline (a request head
    still unfinished, a close not answered): one timer for all of them, instead of a timer
    each, which a thousand connects or closes a second would pay for."""

    def __init__(self) -> None:
        # Weak references: a socket closed meanwhile is freed at once, not at its deadline.
        self._due: list[tuple[float, int, weakref.ref[AppSocket], int]] = []
        self._count = 0
        self._timer: asyncio.TimerHandle | None = None

    def add(self, app_socket: AppSocket, state: int, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        self._count += 1
        heapq.heappush(self._due, (deadline, self._count, weakref.ref(app_socket), state))
        if self._timer is None or self._timer.when() > deadline:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = loop.call_at(deadline, self._expire)

    def _expire(self) -> None:
        self._timer = None
        loop = asyncio.get_running_loop()
        now = loop.time()
        due = self._due
        while due and due[0][0] <= now:
            _, _, found, state = heapq.heappop(due)
            app_socket = found()
            if app_socket is not None and app_socket.state == state:
                app_socket.abort()
        if due:
            self._timer = loop.call_at(due[0][0], self._expire)


class AppSocket(asyncio.Protocol):
    """One connection the intake accepted: a WebSocket the app serves, or, once its request
    turns out to be anything else, nothing (handed to Hypercorn)."""

    __slots__ = (
        "__weakref__",
        "_connected",
        "_drained",
        "_head",
        "_messages",
        "_reader",
        "_response",
        "_scope",
        "_waiter",
        "agreed",
        "close_code",
        "heard",
        "intake",
        "partial_since",
        "state",
        "transport",
    )

    def __init__(self, intake: Intake) -> None:
        self.intake = intake
        self.state = HEAD
        self.transport: Any = None
        # Bytes waiting their turn, one kind at a time: the request head as it arrives; then what
        # the client sent after it before the 101; then the 101, until the first frame joins it.
        self._head = b""
        self._scope: dict[str, Any] | None = None
        self._reader: FrameReader | None = None
        self._messages: deque[Message_] | None = None
        self._waiter: asyncio.Future[Message_] | None = None
        self._drained: asyncio.Future[None] | None = None  # while the transport's buffer is full
        self._connected = False  # whether the app was given websocket.connect
        self._response: tuple[int, list[tuple[bytes, bytes]]] | None = None
        self.agreed: Agreement | None = None
        self.close_code: int | None = None
        # When the peer last sent anything (a pong included), and since when a frame or message
        # of its is only partly received: what the endpoint's watchdog closes sockets by.
        self.heard = time.monotonic()
        self.partial_since: float | None = None

    @classmethod
    def of(cls, asgi_send: Any) -> AppSocket | None:
        """The socket under an ASGI `send`, when it is one the app serves itself."""
        found = getattr(asgi_send, "__self__", None)
        return found if isinstance(found, AppSocket) else None

    @property
    def deflate(self) -> bool:
        """Whether the socket negotiated permessage-deflate (the app's own, see deflate.py)."""
        return self.agreed is not None

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.intake.deadlines.add(self, HEAD, HEAD_SECONDS)

    def data_received(self, data: bytes) -> None:
        if self.state >= OPEN:
            self._read(data)
        elif self.state == HEAD:
            self._read_head(data)
        elif self.state == HANDSHAKE:
            # A client must wait for the 101 (RFC 6455, 4.1); what it sends anyway while the app
            # decides is kept, within the head's limit, and read once the socket is open.
            self._head += data
            if len(self._head) > handshake.MAX_HEAD:
                self.transport.abort()

    def eof_received(self) -> bool | None:
        return None  # the transport closes; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is not None:
            compat.drop_read_callback(self.transport)
        was = self.state
        self.state = CLOSED
        self._reader = None
        self._head = b""
        if self.close_code is None:
            self.close_code = ABNORMAL
        if was != HEAD:
            self._deliver({"type": "websocket.disconnect", "code": self.close_code})
        drained, self._drained = self._drained, None
        if drained is not None and not drained.done():
            drained.set_result(None)

    def pause_writing(self) -> None:
        if self._drained is None:
            self._drained = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        drained, self._drained = self._drained, None
        if drained is not None and not drained.done():
            drained.set_result(None)

    # The request head

    def _read_head(self, data: bytes) -> None:
        head = self._head + data if self._head else data
        end = head.find(handshake.HEAD_END)
        if end < 0:
            if len(head) > handshake.MAX_HEAD:
                self._hand_over(head)
            else:
                self._head = head
            return
        self._head = b""
        end += len(handshake.HEAD_END)
        request = handshake.websocket_request(head[:end], self.intake.path)
        if request is None:
            self._hand_over(head)
            return
        self._head = head[end:]  # frames sent before the 101, which a client must not send
        self.state = HANDSHAKE
        self.agreed = agree(request.extensions)
        self._scope = self.intake.scope(request, self.transport)
        task = asyncio.ensure_future(self.intake.app(self._scope, self.receive, self.send))
        task.add_done_callback(self._app_done)

    def _hand_over(self, received: bytes) -> None:
        """Not a handshake the app serves: Hypercorn gets the connection as it was received."""
        transport, self.transport = self.transport, None
        self.state = CLOSED
        protocol = self.intake.server_protocol()
        transport.set_protocol(protocol)
        protocol.connection_made(transport)
        protocol.data_received(received)

    # Frames

    def _read(self, data: bytes) -> None:
        reader = self._reader
        if reader is None:
            return
        self.heard = now = time.monotonic()
        for event in reader.feed(data):
            if isinstance(event, Message):
                if self.state == OPEN:
                    if event.text is not None:
                        self._deliver({"type": "websocket.receive", "text": event.text})
                    else:
                        self._deliver({"type": "websocket.receive", "bytes": event.data})
            elif isinstance(event, Ping):
                if self.state == OPEN:
                    self._send_head()
                    self.transport.write(pong_frame(event.payload))
            elif isinstance(event, Close):
                self._closed_by_peer(event)
            elif isinstance(event, Failure):
                log.debug("socket: %s", event.reason)
                self._end(event.code, event.reason)
        if not reader.partial:
            self.partial_since = None
        elif self.partial_since is None:
            self.partial_since = now

    def _closed_by_peer(self, close: Close) -> None:
        if self.state == OPEN:  # answered with the same code (RFC 6455, 5.5.1)
            self._send_head()
            self.transport.write(_close_frame(close.code) if close.code is not None else frame(0x88, b""))
            self.close_code = close.code if close.code is not None else NO_STATUS
        self._finish()

    def _end(self, code: int, reason: str = "") -> None:
        """Close from this side after a protocol error: the close frame, then the connection."""
        if self.state == OPEN:
            self._send_head()
            self.transport.write(close_frame(code, reason))
            self.close_code = code
        self._finish()

    def _finish(self) -> None:
        self.state = CLOSING if self.state < CLOSING else self.state
        self._reader = None
        self.transport.close()

    def _deliver(self, message: Message_) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(message)
            return
        if self._messages is None:
            self._messages = deque()
        self._messages.append(message)
        if len(self._messages) >= QUEUED_MESSAGES and self.state == OPEN:
            self.transport.pause_reading()

    # What the endpoint uses beside ASGI

    def write(self, frame: bytes) -> bool:
        """Write a whole frame now, or return False (closed, or the client is not keeping up)."""
        if self.state != OPEN or self._drained is not None:
            return False
        if self._head:
            frame, self._head = self._head + frame, b""
        self.transport.write(frame)
        return True

    def _send_head(self) -> None:
        if self._head and self.state >= OPEN and not self.transport.is_closing():
            self.transport.write(self._head)
        self._head = b""

    def abort(self) -> None:
        """Drop the connection at once, whatever is still waiting to be sent."""
        if self.transport is not None and self.state != CLOSED:
            self.transport.abort()

    # ASGI

    async def receive(self) -> Message_:
        if not self._connected:
            self._connected = True
            return {"type": "websocket.connect"}
        messages = self._messages
        if messages:
            message = messages.popleft()
            if len(messages) == QUEUED_MESSAGES - 1 and self.state == OPEN:
                self.transport.resume_reading()
            if not messages:
                self._messages = None
            return message
        if self.state == CLOSED:
            return {"type": "websocket.disconnect", "code": self.close_code or ABNORMAL}
        self._waiter = waiter = asyncio.get_running_loop().create_future()
        try:
            received: Message_ = await waiter
            return received
        finally:
            self._waiter = None

    async def send(self, message: Message_) -> None:
        kind = message["type"]
        if kind == "websocket.send":
            text = message.get("text")
            data = text_frame(text) if text is not None else frame(0x82, bytes(message["bytes"]))
            await self._write_when_ready(data)
        elif kind == "websocket.accept" and self.state == HANDSHAKE:
            self._accept(message)
        elif kind == "websocket.close":
            if self.state == HANDSHAKE:
                self._refuse(403, [], b"")
            elif self.state == OPEN:
                self._send_head()
                self.state = CLOSING
                self.close_code = int(message.get("code") or 1000)
                reason = message.get("reason")
                self.transport.write(close_frame(self.close_code, reason) if reason else _close_frame(self.close_code))
                # The client answers with its close, after which the connection is closed.
                self.intake.deadlines.add(self, CLOSING, CLOSE_SECONDS)
        elif kind == "websocket.http.response.start" and self.state == HANDSHAKE:
            self._response = (int(message["status"]), list(message.get("headers") or []))
        elif kind == "websocket.http.response.body" and self.state == HANDSHAKE and self._response is not None:
            self._refuse(*self._response, bytes(message.get("body", b"")))
        elif self.state == CLOSED:
            raise SocketClosed("the WebSocket is closed")

    def _accept(self, message: Message_) -> None:
        assert self._scope is not None
        early = self._head  # frames sent before the 101
        request_key = next(value for name, value in self._scope["headers"] if name == b"sec-websocket-key")
        extra = tuple((bytes(name), bytes(value)) for name, value in message.get("headers") or ())
        response = self.agreed.response if self.agreed is not None else None
        # Sent with the first frame (the snapshot, as a rule, in the same step): one write
        # instead of two; or on its own at the next turn of the loop.
        self._head = handshake.switching_protocols(request_key, response, message.get("subprotocol"), extra)
        asyncio.get_running_loop().call_soon(self._send_head)
        # The app has read what it needs of the headers: the scope outlives the handshake.
        self._scope["headers"].clear()
        self._scope = None
        self.transport.set_write_buffer_limits(high=WRITE_BUFFER_LIMIT)
        agreed = self.agreed
        self._reader = FrameReader(
            self.intake.frame_limit, agreed is not None, agreed is not None and agreed.client_context_takeover
        )
        self.state = OPEN
        self.heard = time.monotonic()
        if early:
            self._read(early)

    def _refuse(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self.transport.write(handshake.http_response(status, headers, body))
        self.state = CLOSING
        self._scope = None
        self.transport.close()

    async def _write_when_ready(self, data: bytes) -> None:
        while self._drained is not None and self.state == OPEN:
            await asyncio.shield(self._drained)
        if self.state != OPEN:
            raise SocketClosed("the WebSocket is closed")
        self._send_head()
        self.transport.write(data)

    def _app_done(self, task: asyncio.Future[None]) -> None:
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("socket: the app failed", exc_info=error)
        if self.state == HANDSHAKE:
            self._refuse(500, [], b"")
        elif self.state == OPEN:
            self._end(INTERNAL_ERROR)
