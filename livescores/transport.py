"""Writing one encoded WebSocket frame straight to many sockets; and letting a closed page
connection's objects go as soon as it is closed.

A broadcast through ASGI costs a chain of coroutines per socket. Server-to-client frames are
unmasked, so without compression the bytes of a message are the same for every socket: they
can be encoded once and written to each socket's transport, as `websockets.broadcast()` does.
The sockets the app serves itself (websocket.py) take such frames; they get permessage-deflate
without context takeover on the app's side (deflate.py), when they offer it: a snapshot is
compressed once for all of them, a push of a few rows goes uncompressed, and no socket keeps a
compressor. Sockets served by another server (or by Hypercorn, over TLS) go through ASGI `send`.

A page connection's objects under Hypercorn are held in reference cycles, so they would be freed
only by a cyclic garbage collection; since the app keeps open sockets out of collections
(gc_policy.py), that collection would have to walk every open socket. `release_when_closed`
has the cycles cut once the connection's task has ended, so that reference counting frees the
connection then and there.
"""

from __future__ import annotations

import weakref
from typing import Any, Protocol

from . import compat
from .deflate import deflated_frame, frame

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


class FrameWriter(Protocol):
    """A socket frames can be written to straight (websocket.AppSocket)."""

    @property
    def deflate(self) -> bool: ...

    def write(self, frame: bytes) -> bool: ...


# Connections whose cycles are already to be cut: an HTTP/1.1 connection serves many requests.
_releasing: weakref.WeakSet[Any] = weakref.WeakSet()


def release_when_closed(asgi_send: Any) -> None:
    """For any request or WebSocket Hypercorn serves: once its connection has ended, cut the
    cycles that would leave the connection's objects to the cyclic garbage collector."""
    found = compat.hypercorn_connection(asgi_send)
    if found is not None and found[0] not in _releasing:
        _releasing.add(found[0])
        compat.release_when_closed(*found)
