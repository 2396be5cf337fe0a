"""The app accepts its worker's connections itself, in front of Hypercorn.

Once Hypercorn's worker listens, the intake opens its own server on each of the worker's
(plain, not TLS) listening sockets and closes Hypercorn's, so that every new connection comes
to an `AppSocket` (websocket.py) first. A WebSocket handshake for `/ws` is served there; any
other request is handed over, bytes and all, to the very handler Hypercorn's server would have
run, so pages, feeds and the API are served as before. Under asyncio's loop and uvloop alike.

Hypercorn keeps its servers and that handler in local variables of its worker's coroutine:
compat.py finds them, and when it cannot, nothing changes and the worker says so once (the
fast path is off: sockets then go through Hypercorn and ASGI).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from . import compat, listeners
from .handshake import WebSocketRequest
from .websocket import AppSocket, Deadlines

log = logging.getLogger(__name__)

READ_LIMIT = 2**16  # the stream limit asyncio.start_server gives Hypercorn's connections
WAIT_SECONDS = 10.0  # for Hypercorn to listen once the app has started
POLL_SECONDS = 0.005

App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


class Intake:
    """This worker's own servers on Hypercorn's listening sockets."""

    def __init__(self, app: App, path: str, frame_limit: int = 65536) -> None:
        self.app = app
        self.path = path  # the root path and /ws: the handshakes served here
        self.frame_limit = frame_limit
        self.servers: list[asyncio.Server] = []
        self.deadlines = Deadlines()
        self._server_callback: Callable[..., Any] | None = None
        self._root_path = ""

    async def take_over(self, wait: float = WAIT_SECONDS) -> str | None:
        """Serve the worker's listening sockets from here once Hypercorn listens on them:
        None when done, otherwise why not (and nothing was changed)."""
        deadline = time.monotonic() + wait
        while True:
            found = compat.hypercorn_serving()
            if not isinstance(found, str) or time.monotonic() > deadline:
                break
            await asyncio.sleep(POLL_SECONDS)
        if isinstance(found, str):
            return found
        config = found.config
        if getattr(config, "ssl_enabled", False):
            return compat.TLS
        self._server_callback = found.server_callback
        self._root_path = str(getattr(config, "root_path", "") or "")
        self.path = self._root_path + self.path
        self.frame_limit = min(self.frame_limit, int(getattr(config, "websocket_max_message_size", self.frame_limit)))
        loop = asyncio.get_running_loop()
        backlog = int(getattr(config, "backlog", 100))
        for server in found.servers:
            for listening in list(server.sockets):
                # Closing Hypercorn's server closes its socket: the intake serves a copy of it.
                copy = listeners.copy_of(listening)
                self.servers.append(await loop.create_server(partial(AppSocket, self), sock=copy, backlog=backlog))
            server.close()
        log.info("sockets: the app serves WebSocket handshakes itself on %d listening sockets", len(self.servers))
        return None

    def stop_accepting(self) -> list[socket.socket]:
        """Close the intake's servers; a copy of each listening socket, made first (closing a
        server closes its socket), for the caller to shut down or close."""
        copies = listeners.close_keeping_copies(self.servers)
        self.servers = []
        return copies

    def server_protocol(self) -> asyncio.Protocol:
        """What Hypercorn's server makes for each connection it accepts."""
        assert self._server_callback is not None
        return asyncio.StreamReaderProtocol(asyncio.StreamReader(limit=READ_LIMIT), self._server_callback)

    def scope(self, request: WebSocketRequest, transport: asyncio.BaseTransport) -> dict[str, Any]:
        """The ASGI scope of a handshake served here, as Hypercorn would make it."""
        return {
            "type": "websocket",
            "asgi": {"spec_version": "2.3", "version": "3.0"},
            "scheme": "ws",
            "http_version": "1.1",
            "path": request.path,
            "raw_path": request.raw_path,
            "query_string": request.query_string,
            "root_path": self._root_path,
            "headers": request.headers,
            "client": _address(transport.get_extra_info("peername")),
            "server": _address(transport.get_extra_info("sockname")),
            "subprotocols": request.subprotocols,
            "extensions": {"websocket.http.response": {}},
            "state": {},
        }


def _address(found: Any) -> tuple[str, int] | None:
    if isinstance(found, tuple) and len(found) >= 2:
        return str(found[0]), int(found[1])
    return None
