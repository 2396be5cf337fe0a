"""Every place the app relies on Hypercorn's, asyncio's or multiprocessing's internals.

The fast path (frames written straight to each socket's transport, see transport.py) walks
Hypercorn's objects from the ASGI `send` callable down to the transport, and answers a
permessage-deflate offer itself, with its inflater in wsproto's parser (see deflate.py); a connection's
objects are freed early by cutting two reference cycles through private attributes; a worker
chains SIGTERM to the handler it displaced, reads what Hypercorn handed its process and finds
the servers Hypercorn's worker made for its listening sockets. None
of that is API, so it is gathered here, checked against the versions it was tested with, and
each lookup reports why it failed instead of raising. Without the fast path pushes still go
out, through ASGI `send`, about 20 times slower: that is logged once per reason, as a WARNING.

`tests/test_compat.py` asserts, against a real Hypercorn on the pinned versions, that every
attribute used here exists: an upgrade that moves one fails in CI, not silently in production.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import signal
import sys
import weakref
from collections import deque
from collections.abc import Callable
from functools import cache, partial
from importlib import metadata
from typing import Any, NamedTuple

from .deflate import Agreement, Inflater

log = logging.getLogger(__name__)

# The releases whose internals this module was written and tested against.
KNOWN_HYPERCORN = ("0.17.", "0.18.")
KNOWN_PYTHON = ((3, 11),)
# What the fast path calls on a transport: asyncio's and uvloop's transports both have these,
# though uvloop's are not subclasses of asyncio.WriteTransport.
TRANSPORT_METHODS = ("write", "is_closing", "get_write_buffer_size", "get_extra_info", "abort", "get_protocol")

try:  # another ASGI server without Hypercorn installed still works, through ASGI send
    from hypercorn.asyncio.lifespan import Lifespan
    from hypercorn.asyncio.run import worker_serve
    from hypercorn.asyncio.tcp_server import TCPServer
    from hypercorn.protocol.h11 import H11Protocol
    from hypercorn.protocol.ws_stream import ASGIWebsocketState, Handshake, WSStream

    HYPERCORN_VERSION: str | None = metadata.version("hypercorn")
    HANDSHAKE: Any = ASGIWebsocketState.HANDSHAKE
    CONNECTED: Any = ASGIWebsocketState.CONNECTED
except ImportError:  # pragma: no cover
    HYPERCORN_VERSION = None
    HANDSHAKE = CONNECTED = object()
    Handshake = object  # type: ignore[misc,assignment]
    worker_serve = None  # type: ignore[assignment]

NOT_HYPERCORN = "not served by Hypercorn"
TLS = "TLS served by Hypercorn itself"
SLOWER = "pushes go through ASGI send, about 20 times slower than written to the transport"
_warned: set[str] = set()
_fallbacks: set[str] = set()


@cache
def version_problem() -> str | None:
    """Why this process's Hypercorn or Python is not one the fast path was tested with, or None."""
    if HYPERCORN_VERSION is None:
        return "Hypercorn is not installed"
    if not HYPERCORN_VERSION.startswith(KNOWN_HYPERCORN):
        return f"Hypercorn {HYPERCORN_VERSION} is not a tested version ({', '.join(KNOWN_HYPERCORN)}x)"
    if sys.version_info[:2] not in KNOWN_PYTHON:
        tested = ", ".join(f"{major}.{minor}" for major, minor in KNOWN_PYTHON)
        return f"Python {sys.version_info.major}.{sys.version_info.minor} is not a tested version ({tested})"
    return None


def fast_path_available() -> bool:
    """Whether this process writes pushes straight to transports: the versions are the tested
    ones and no socket so far had to fall back for want of something this module looks for."""
    return version_problem() is None and not _fallbacks


def fallback_reasons() -> frozenset[str]:
    """Why sockets of this process went through ASGI `send`, for an operator or a health check."""
    reasons = set(_fallbacks)
    if (problem := version_problem()) is not None:
        reasons.add(problem)
    return frozenset(reasons)


def warn_once(reason: str, consequence: str) -> None:
    if reason not in _warned:
        _warned.add(reason)
        log.warning("%s: %s", reason, consequence)


def _fall_back(reason: str) -> None:
    _fallbacks.add(reason)
    warn_once(reason, SLOWER)


def check_server(lifespan_send: Any) -> None:
    """At the worker's start (its lifespan): whether it can write pushes to transports at all.
    When it cannot (an untested version, another server, Hypercorn's trio worker, TLS served by
    Hypercorn itself) that is logged now, once, and the health check says so from the start."""
    if (problem := server_problem(lifespan_send)) is not None:
        _fall_back(problem)


def server_problem(lifespan_send: Any) -> str | None:
    """Why no socket of this worker can be written to directly, or None: see check_server."""
    if (problem := version_problem()) is not None:
        return problem
    lifespan = getattr(lifespan_send, "__self__", None)
    if not isinstance(lifespan, Lifespan):
        # The same reasons as a socket's (hypercorn_websocket), so that each is logged once.
        return "not Hypercorn's asyncio worker" if type(lifespan).__module__.startswith("hypercorn.") else NOT_HYPERCORN
    if getattr(lifespan.config, "ssl_enabled", False):
        return TLS
    return None


def is_write_transport(candidate: object) -> bool:
    return all(callable(getattr(candidate, method, None)) for method in TRANSPORT_METHODS)


class HypercornSocket(NamedTuple):
    """A WebSocket stream of Hypercorn's asyncio worker, its connection and its transport."""

    stream: Any
    server: Any
    transport: Any


def hypercorn_websocket(asgi_send: Any) -> HypercornSocket | None:
    """Before accept: the Hypercorn objects under a WebSocket's ASGI `send`, or None (logged
    once per reason) when the fast path cannot be used for it."""
    if (problem := version_problem()) is not None:
        _fall_back(problem)
        return None
    stream = getattr(asgi_send, "__self__", None)
    if not isinstance(stream, WSStream):
        _fall_back(NOT_HYPERCORN)
        return None
    if getattr(stream, "state", None) != HANDSHAKE or not hasattr(stream, "handshake"):
        _fall_back("Hypercorn's WSStream has no handshake state")
        return None
    if not isinstance(getattr(stream.send, "__self__", None), H11Protocol):
        _fall_back("a WebSocket over HTTP/2")  # its streams share one connection's transport
        return None
    found = _connection(stream)
    if isinstance(found, str):
        _fall_back(found)
        return None
    server, transport = found
    if transport.get_extra_info("sslcontext"):
        _fall_back(TLS)
        return None
    return HypercornSocket(stream, server, transport)


def hypercorn_connection(asgi_send: Any) -> tuple[Any, Any] | None:
    """The TCPServer and transport under any stream Hypercorn serves (a page's request too),
    or None, quietly: this serves only to free connections early."""
    if version_problem() is not None:
        return None
    found = _connection(getattr(asgi_send, "__self__", None))
    return None if isinstance(found, str) else found


def _connection(stream: Any) -> tuple[Any, Any] | str:
    protocol = getattr(getattr(stream, "send", None), "__self__", None)  # H11Protocol, or H2Protocol
    server = getattr(getattr(protocol, "send", None), "__self__", None)
    if not isinstance(server, TCPServer):
        return "not Hypercorn's asyncio worker"  # e.g. its trio worker
    transport = getattr(getattr(server, "writer", None), "transport", None)
    if not is_write_transport(transport):
        return "no transport under Hypercorn's TCPServer.writer"
    return server, transport


def decline_compression(stream: Any) -> None:
    """Frames written to the transport must be the plain ones: no permessage-deflate."""
    stream.handshake.extensions = None


class _HandshakeOver:
    """Stands in for the h11 connection of an accepted WebSocket: frames go to the transport
    without it, and no HTTP message can follow a 101."""

    __slots__ = ()

    def send(self, event: Any) -> bytes:
        raise RuntimeError(f"no HTTP message after a WebSocket handshake: {type(event).__name__}")


HANDSHAKE_OVER = _HandshakeOver()


def protocol_of(stream: Any) -> Any:
    """The H11Protocol (or H2Protocol) a stream sends through."""
    return getattr(getattr(stream, "send", None), "__self__", None)


def drop_handshake(stream: Any) -> None:
    """Once accepted, let go of what only the handshake needed: the h11 connection that parsed
    the request and wrote the 101 (its state and buffers), and the request's headers, which
    the scope (held by the stream as long as the socket) refers to."""
    connection = getattr(protocol_of(stream), "connection", None)  # H11WSConnection
    if connection is not None and hasattr(connection, "h11_connection"):
        connection.h11_connection = HANDSHAKE_OVER
    headers = getattr(stream, "scope", {}).get("headers")
    if isinstance(headers, list):
        headers.clear()
    # Two events nothing waits for on a WebSocket: the protocol's `can_read` (waited for only
    # when h11 pauses between requests, which an upgraded connection never does again) and the
    # app queue's `join()` event. Each holds an empty deque of 760 bytes for its waiters; an
    # empty tuple serves `set()` and `clear()` as well, and a wait would fail loudly.
    for event in (_can_read_event(stream), _queue_join_event(stream)):
        waiters = getattr(event, "_waiters", None)
        if isinstance(event, asyncio.Event) and isinstance(waiters, deque) and not waiters:
            event._waiters = ()  # type: ignore[assignment]


def _can_read_event(stream: Any) -> Any:
    return getattr(getattr(protocol_of(stream), "can_read", None), "_event", None)


def _queue_join_event(stream: Any) -> Any:
    queue = getattr(getattr(stream, "app_put", None), "__self__", None)
    return getattr(queue, "_finished", None) if isinstance(queue, asyncio.Queue) else None


def offered_extensions(stream: Any) -> list[str] | None:
    """Before accept: the client's `Sec-WebSocket-Extensions`, split at its commas."""
    offered = getattr(stream.handshake, "extensions", None)
    return offered if isinstance(offered, list) else None


def accept_deflate(stream: Any, agreed: Agreement) -> None:
    """Before accept: Hypercorn negotiates nothing itself (its permessage-deflate would compress
    every message with a compressor per socket); the app's answer is sent in the handshake
    response, and the app's inflater reads what the client sends compressed."""
    handshake = stream.handshake
    handshake.extensions = None
    handshake.__class__ = _DeflateHandshake
    handshake.agreed = agreed  # one of two shared answers: only the inflater is the socket's own
    handshake.inflater = Inflater(frame_limit(stream), agreed.client_context_takeover)


class _DeflateHandshake(Handshake):
    """Hypercorn's handshake, answering with the app's permessage-deflate and installing its
    inflater in the WebSocket parser (wsproto's) the handshake makes, before any frame is read."""

    agreed: Agreement
    inflater: Inflater

    def accept(self, subprotocol: str | None, additional_headers: Any) -> tuple[int, list[Any], Any]:
        status, headers, connection = super().accept(subprotocol, additional_headers)
        headers.append((b"sec-websocket-extensions", self.agreed.response.encode()))
        protocol: Any = connection._proto
        protocol.extensions = protocol._frame_decoder.extensions = [self.inflater]
        return status, headers, connection


def watch_receiving(stream: Any, heard: Callable[[bool], None]) -> None:
    """After each chunk the peer sends (a pong, a frame, a piece of one), `heard(partial)`,
    with `partial` true while a message is only partly received: Hypercorn answers pings and
    gathers fragments itself, and tells the app neither."""
    stream.handle = _HandleAndTell(stream, heard)


class _HandleAndTell:
    """WSStream.handle, then `heard`. Weak references only: the stream holds this object, and a
    cycle through it would leave a closed connection to the cyclic garbage collector (see
    release_when_closed). A small object with slots rather than a closure: one per open socket."""

    __slots__ = ("_handle", "_heard", "_stream")

    def __init__(self, stream: Any, heard: Callable[[bool], None]) -> None:
        self._handle = type(stream).handle
        self._stream = weakref.ref(stream)
        self._heard = weakref.WeakMethod(heard)

    async def __call__(self, event: Any) -> None:
        found = self._stream()
        if found is None:
            return
        await self._handle(found, event)
        tell = self._heard()
        if tell is not None:
            tell(getattr(found.buffer, "value", None) is not None)


def frame_limit(stream: Any) -> int:
    """The largest message Hypercorn reads into memory before the app sees it."""
    return int(getattr(stream.config, "websocket_max_message_size", 0))


def release_when_closed(server: Any, transport: Any) -> None:
    """Once the connection's task has ended, cut the two cycles that would otherwise leave its
    objects to the cyclic garbage collector: the TCPServer holds its protocol, which holds
    `TCPServer.protocol_send`; asyncio's socket transport holds its own bound read callback."""
    task = getattr(transport.get_protocol(), "_task", None)  # asyncio.start_server's task for the connection
    if isinstance(task, asyncio.Task):
        if not task.done():
            task.add_done_callback(partial(_cut_cycles, server, transport))
    else:
        warn_once(
            "asyncio's StreamReaderProtocol has no _task",
            "closed connections wait for a full garbage collection to be freed",
        )


def _cut_cycles(server: Any, transport: Any, _task: asyncio.Task[Any]) -> None:
    if "protocol" in vars(server):
        del server.protocol
    # Only asyncio's own transport has the cycle (uvloop's are not Python objects with a __dict__).
    if transport.is_closing() and callable(getattr(transport, "_read_ready_cb", None)):
        transport._read_ready_cb = None  # no reads after close()


SignalHandle = asyncio.Handle


def sigterm_handle(loop: asyncio.AbstractEventLoop) -> SignalHandle | None:
    """The handler the loop runs for SIGTERM now (a Hypercorn serving in this process set it),
    or None. uvloop keeps its handlers out of reach: then None, with a warning once."""
    handlers = getattr(loop, "_signal_handlers", None)
    if not isinstance(handlers, dict):
        warn_once(
            f"{type(loop).__name__} shows no signal handlers",
            "a SIGTERM handler the server set on this loop does not run after the app's",
        )
        return None
    found = handlers.get(signal.SIGTERM)
    return found if isinstance(found, asyncio.Handle) else None


def run_handle(handle: SignalHandle) -> None:
    handle._run()


def handle_callback(handle: SignalHandle) -> tuple[Callable[..., object], tuple[Any, ...]]:
    """What a signal handle calls, to install it again as it was."""
    callback: Callable[..., object] = handle._callback  # type: ignore[attr-defined]
    args: tuple[Any, ...] = tuple(handle._args)
    return callback, args


def spawn_kwargs() -> dict[str, Any] | None:
    """The keyword arguments Hypercorn's parent gave this worker process (`config`,
    `shutdown_event`), or None outside a process multiprocessing started."""
    kwargs = getattr(multiprocessing.current_process(), "_kwargs", None)
    return kwargs if isinstance(kwargs, dict) else None


def listening_servers(fds: set[int]) -> list[Any] | str:
    """The servers (asyncio's or uvloop's `Server`) through which Hypercorn's worker in this
    process accepts on any of the file descriptors `fds`, or why they were not found."""
    servers = _hypercorn_servers()
    return servers if isinstance(servers, str) else [server for server in servers if fds & _server_fds(server)]


def _hypercorn_servers() -> list[Any] | str:
    """Hypercorn keeps its servers in a local variable of its `worker_serve` coroutine only."""
    if worker_serve is None:
        return "Hypercorn is not installed"
    for task in asyncio.all_tasks():
        frame = _frame_of(task.get_coro(), worker_serve.__code__)
        if frame is None:
            continue
        servers = frame.f_locals.get("servers")
        return servers if isinstance(servers, list) else "Hypercorn's worker_serve holds no list of servers"
    return "no task of this loop runs Hypercorn's worker_serve"


def _frame_of(coroutine: Any, code: Any) -> Any:
    """The frame of the coroutine running `code` that `coroutine` is, or awaits, if any."""
    for _ in range(20):  # Hypercorn's `serve` awaits worker_serve; a task runs it directly
        if coroutine is None:
            return None
        if getattr(coroutine, "cr_code", None) is code:
            return getattr(coroutine, "cr_frame", None)
        coroutine = getattr(coroutine, "cr_await", None)
    return None


def _server_fds(server: Any) -> set[int]:
    sockets = getattr(server, "sockets", None) or ()
    return {fd for fd in (sock.fileno() for sock in sockets) if fd >= 0}


def _serves_sockets(servers: list[Any] | str) -> bool:
    return isinstance(servers, list) and bool(servers) and all(_server_fds(server) for server in servers)


def _parser_has_extensions() -> bool:
    from wsproto.connection import Connection, ConnectionType

    protocol = getattr(Connection(ConnectionType.SERVER), "_proto", None)
    decoder = getattr(protocol, "_frame_decoder", None)
    return isinstance(getattr(protocol, "extensions", None), list) and isinstance(
        getattr(decoder, "extensions", None), list
    )


def missing_private_attributes(socket: HypercornSocket, loop: asyncio.AbstractEventLoop) -> list[str]:
    """Every private attribute this module relies on that is missing, on a live Hypercorn
    WebSocket (before accept) and its event loop: empty on the tested versions."""
    stream, server, transport = socket
    protocol = transport.get_protocol()
    checks: list[tuple[str, bool]] = [
        ("WSStream.state is HANDSHAKE", getattr(stream, "state", None) == HANDSHAKE),
        ("WSStream.closed", hasattr(stream, "closed")),
        ("WSStream.buffer.value", hasattr(getattr(stream, "buffer", None), "value")),
        ("WSStream.handshake.extensions", hasattr(getattr(stream, "handshake", None), "extensions")),
        ("WSStream.scope.headers", isinstance(getattr(stream, "scope", {}).get("headers"), list)),
        ("H11WSConnection.h11_connection", hasattr(getattr(protocol_of(stream), "connection", None), "h11_connection")),
        ("H11Protocol.can_read._event._waiters", isinstance(getattr(_can_read_event(stream), "_waiters", None), deque)),
        ("app Queue._finished._waiters", isinstance(getattr(_queue_join_event(stream), "_waiters", None), deque)),
        ("WSStream.handshake is a Handshake", isinstance(getattr(stream, "handshake", None), Handshake)),
        ("wsproto Connection._proto._frame_decoder.extensions", _parser_has_extensions()),
        ("WSStream.config.websocket_max_message_size", hasattr(stream.config, "websocket_max_message_size")),
        ("TCPServer.protocol", "protocol" in vars(server)),
        ("StreamReaderProtocol._task", isinstance(getattr(protocol, "_task", None), asyncio.Task)),
        ("Handle._run", callable(getattr(asyncio.Handle, "_run", None))),
        ("Handle._callback", hasattr(asyncio.Handle, "_callback")),
        ("Handle._args", hasattr(asyncio.Handle, "_args")),
        ("multiprocessing.Process._kwargs", hasattr(multiprocessing.Process(), "_kwargs")),
        ("worker_serve's local variable servers", _serves_sockets(_hypercorn_servers())),
    ]
    if type(transport).__module__.startswith("asyncio."):
        checks.append(("_SelectorSocketTransport._read_ready_cb", callable(getattr(transport, "_read_ready_cb", None))))
        checks.append(("loop._signal_handlers", isinstance(getattr(loop, "_signal_handlers", None), dict)))
    return [name for name, present in checks if not present]
