"""Writing one encoded WebSocket frame straight to many sockets, when the server allows it;
and letting a closed connection's objects go as soon as it is closed.

A broadcast through ASGI costs a chain of coroutines per socket. Server-to-client frames are
unmasked, so without compression the bytes of a message are the same for every socket: they
can be encoded once and written to each socket's transport, as `websockets.broadcast()` does.

Under Hypercorn (HTTP/1.1, asyncio worker) the socket's transport is reachable from the ASGI
`send` callable; this module finds it, checking every step, and reports None wherever the
layout is not the one it knows (another server, HTTP/2, another Hypercorn version), in which
case the caller keeps using ASGI `send`. It also declines permessage-deflate for the sockets
it can write to: the app's fragments are a few hundred bytes, and each socket's zlib state
would cost more than 100 KB.

A connection's objects under Hypercorn are held in two reference cycles (its TCPServer holds
its protocol, which holds `TCPServer.protocol_send`; on Python 3.11 asyncio's socket transport
holds its own bound read callback), so they are freed only by a cyclic garbage collection.
Since the app keeps open sockets out of collections (gc_policy.py), that collection would
have to walk every open socket. `release_when_closed` cuts both cycles once the connection's
task has ended, so that reference counting frees the connection then and there.
"""

from __future__ import annotations

import asyncio
import struct
import weakref
from functools import partial
from importlib import metadata
from typing import Any

# The Hypercorn releases whose internals this module was written and tested against.
KNOWN_HYPERCORN = ("0.17.", "0.18.")
WRITE_BUFFER_LIMIT = 256 * 1024  # beyond this a socket is slow: it goes through its outbox instead
PING_FRAME = b"\x89\x00"  # final, ping, unmasked, no payload (the browser's pong is read and dropped)

try:  # another ASGI server without Hypercorn installed still works, through ASGI send
    from hypercorn.asyncio.tcp_server import TCPServer
    from hypercorn.protocol.h11 import H11Protocol
    from hypercorn.protocol.ws_stream import ASGIWebsocketState, WSStream

    HYPERCORN_VERSION: str | None = metadata.version("hypercorn")
except ImportError:  # pragma: no cover
    HYPERCORN_VERSION = None


def text_frame(message: str) -> bytes:
    """An unmasked, uncompressed, final text frame (RFC 6455, section 5.2)."""
    payload = message.encode()
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x81, length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", 0x81, 126, length)
    else:
        header = struct.pack("!BBQ", 0x81, 127, length)
    return header + payload


class DirectWriter:
    """The transport under one Hypercorn WebSocket stream, written to only while it is open."""

    __slots__ = ("_stream", "_transport")

    def __init__(self, stream: Any, transport: asyncio.WriteTransport) -> None:
        self._stream = stream
        self._transport = transport

    @classmethod
    def find(cls, asgi_send: Any) -> DirectWriter | None:
        """Before accept: the writer for this socket, or None to use ASGI `send` throughout."""
        if HYPERCORN_VERSION is None or not HYPERCORN_VERSION.startswith(KNOWN_HYPERCORN):
            return None
        stream = getattr(asgi_send, "__self__", None)
        if not isinstance(stream, WSStream) or stream.state != ASGIWebsocketState.HANDSHAKE:
            return None
        if not isinstance(getattr(stream.send, "__self__", None), H11Protocol):
            return None  # HTTP/2 multiplexes streams on one connection
        found = _connection(stream)
        if found is None:
            return None
        server, transport = found
        if transport.get_extra_info("sslcontext"):
            return None
        # Decline compression: the frames written here must be the plain ones.
        stream.handshake.extensions = None
        _release_when_closed(server, transport)
        return cls(stream, transport)

    def write(self, frame: bytes) -> bool:
        """Write a whole frame now, or return False and leave it to the ASGI path."""
        stream = self._stream
        if (
            stream.closed
            or stream.state != ASGIWebsocketState.CONNECTED
            or self._transport.is_closing()
            or self._transport.get_write_buffer_size() > WRITE_BUFFER_LIMIT
        ):
            return False
        self._transport.write(frame)
        return True

    def frame_limit(self) -> int:
        """The largest message Hypercorn reads into memory before the app sees it."""
        return int(getattr(self._stream.config, "websocket_max_message_size", 0))

    def abort(self) -> None:
        """Drop the connection at once, whatever is still waiting to be sent."""
        self._transport.abort()


# Connections whose cycles are already to be cut: an HTTP/1.1 connection serves many requests.
_releasing: weakref.WeakSet[Any] = weakref.WeakSet()


def release_when_closed(asgi_send: Any) -> None:
    """For any request or WebSocket Hypercorn serves: once its connection has ended, cut the
    cycles that would leave the connection's objects to the cyclic garbage collector."""
    if HYPERCORN_VERSION is None or not HYPERCORN_VERSION.startswith(KNOWN_HYPERCORN):
        return
    found = _connection(getattr(asgi_send, "__self__", None))
    if found is not None and found[0] not in _releasing:
        _releasing.add(found[0])
        _release_when_closed(*found)


def _connection(stream: Any) -> tuple[Any, asyncio.WriteTransport] | None:
    """The TCPServer and transport under a Hypercorn stream (asyncio worker), or None."""
    protocol = getattr(getattr(stream, "send", None), "__self__", None)  # H11Protocol, or H2Protocol
    server = getattr(getattr(protocol, "send", None), "__self__", None)
    if not isinstance(server, TCPServer):
        return None  # e.g. the trio worker, or not Hypercorn at all
    transport = getattr(getattr(server, "writer", None), "transport", None)
    if not isinstance(transport, asyncio.WriteTransport):
        return None
    return server, transport


def _release_when_closed(server: Any, transport: asyncio.WriteTransport) -> None:
    task = getattr(transport.get_protocol(), "_task", None)  # asyncio.start_server's task for the connection
    if isinstance(task, asyncio.Task) and not task.done():
        task.add_done_callback(partial(_cut_cycles, server, transport))


def _cut_cycles(server: Any, transport: asyncio.WriteTransport, _task: asyncio.Task[Any]) -> None:
    if "protocol" in vars(server):
        del server.protocol
    if transport.is_closing() and callable(getattr(transport, "_read_ready_cb", None)):
        transport._read_ready_cb = None  # type: ignore[attr-defined]  # no reads after close()
