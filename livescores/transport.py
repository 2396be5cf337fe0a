"""Writing one encoded WebSocket frame straight to many sockets, when the server allows it;
and letting a closed connection's objects go as soon as it is closed.

A broadcast through ASGI costs a chain of coroutines per socket. Server-to-client frames are
unmasked, so without compression the bytes of a message are the same for every socket: they
can be encoded once and written to each socket's transport, as `websockets.broadcast()` does.

Under Hypercorn (HTTP/1.1, asyncio worker, with or without uvloop) the socket's transport is
reachable from the ASGI `send` callable; compat.py finds it, checking every step, and reports
None wherever the layout is not the one it knows (another server, HTTP/2, TLS, another Hypercorn
or Python version), in which case the caller keeps using ASGI `send`. The sockets it writes to
get permessage-deflate without context takeover on the app's side (deflate.py), when they offer
it: a snapshot is compressed once for all of them, a push of a few rows goes uncompressed, and
no socket keeps a compressor.

A connection's objects under Hypercorn are held in reference cycles, so they would be freed
only by a cyclic garbage collection; since the app keeps open sockets out of collections
(gc_policy.py), that collection would have to walk every open socket. `release_when_closed`
has the cycles cut once the connection's task has ended, so that reference counting frees the
connection then and there.
"""

from __future__ import annotations

import time
import weakref
from typing import Any

from . import compat
from .deflate import agree, deflated_frame, frame

WRITE_BUFFER_LIMIT = 256 * 1024  # beyond this a socket is slow: it goes through its outbox instead
PING_FRAME = b"\x89\x00"  # final, ping, unmasked, no payload (the browser's pong is read and dropped)


def text_frame(message: str) -> bytes:
    """An unmasked, uncompressed, final text frame (RFC 6455, section 5.2)."""
    return frame(0x81, message.encode())


class Encoded:
    """A message encoded once for every socket that is sent it: its text, its plain frame, and
    its compressed frame, made on first demand (only sockets that negotiated deflate want it)."""

    __slots__ = ("_deflated", "frame", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.frame = text_frame(text)
        self._deflated: bytes | None = None

    def deflated(self) -> bytes:
        """The compressed frame, or the plain one when compressing would not make it smaller."""
        if self._deflated is None:
            compressed = deflated_frame(self.text.encode())
            self._deflated = compressed if len(compressed) < len(self.frame) else self.frame
        return self._deflated


class DirectWriter:
    """The transport under one Hypercorn WebSocket stream, written to only while it is open."""

    __slots__ = ("__weakref__", "_stream", "_transport", "deflate", "heard", "partial_since")

    def __init__(self, stream: Any, transport: Any, deflate: bool = False) -> None:
        self._stream = stream
        self._transport = transport
        self.deflate = deflate  # whether the socket negotiated permessage-deflate
        # When the peer last sent anything (a pong included), and since when a message of its
        # is only partly received: what the app's watchdog closes silent or stalled sockets by.
        self.heard = time.monotonic()
        self.partial_since: float | None = None
        compat.watch_receiving(stream, self._heard)

    def _heard(self, partial: bool) -> None:
        self.heard = now = time.monotonic()
        if not partial:
            self.partial_since = None
        elif self.partial_since is None:
            self.partial_since = now

    @classmethod
    def find(cls, asgi_send: Any) -> DirectWriter | None:
        """Before accept: the writer for this socket, or None to use ASGI `send` throughout.
        Compression is agreed here: the app's own deflate, or none, never the server's."""
        found = compat.hypercorn_websocket(asgi_send)
        if found is None:
            return None
        agreed = agree(compat.offered_extensions(found.stream))
        if agreed is None:
            compat.decline_compression(found.stream)
        else:
            compat.accept_deflate(found.stream, agreed)
        compat.release_when_closed(found.server, found.transport)
        return cls(found.stream, found.transport, agreed is not None)

    def write(self, frame: bytes) -> bool:
        """Write a whole frame now, or return False and leave it to the ASGI path."""
        stream = self._stream
        if (
            stream.closed
            or stream.state != compat.CONNECTED
            or self._transport.is_closing()
            or self._transport.get_write_buffer_size() > WRITE_BUFFER_LIMIT
        ):
            return False
        self._transport.write(frame)
        return True

    def accepted(self) -> None:
        """After the 101: free what only the handshake needed (see compat.drop_handshake)."""
        compat.drop_handshake(self._stream)

    def frame_limit(self) -> int:
        """The largest message Hypercorn reads into memory before the app sees it."""
        return compat.frame_limit(self._stream)

    def abort(self) -> None:
        """Drop the connection at once, whatever is still waiting to be sent."""
        self._transport.abort()


# Connections whose cycles are already to be cut: an HTTP/1.1 connection serves many requests.
_releasing: weakref.WeakSet[Any] = weakref.WeakSet()


def release_when_closed(asgi_send: Any) -> None:
    """For any request or WebSocket Hypercorn serves: once its connection has ended, cut the
    cycles that would leave the connection's objects to the cyclic garbage collector."""
    found = compat.hypercorn_connection(asgi_send)
    if found is not None and found[0] not in _releasing:
        _releasing.add(found[0])
        compat.release_when_closed(*found)
