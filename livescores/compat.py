"""Every place the app relies on Hypercorn's, asyncio's or multiprocessing's internals.

The fast path (the app accepting connections and serving its WebSockets itself, see intake.py)
finds the servers Hypercorn's worker made for its listening sockets, and the handler they run
for each connection; a page connection's objects are freed early by cutting two reference
cycles through private attributes; a worker chains SIGTERM to the handler it displaced and
reads what Hypercorn handed its process. None of that is API, so it is gathered here, checked
against the versions it was tested with, and each lookup reports why it failed instead of
raising. Without the fast path sockets are served by Hypercorn and pushes go out through ASGI
`send`, about 20 times slower: that is logged once per reason, as a WARNING.

`tests/test_compat.py` asserts, against a real Hypercorn on the pinned versions, that every
attribute used here exists: an upgrade that moves one fails in CI, not silently in production.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import signal
import sys
from collections.abc import Callable
from functools import cache, partial
from importlib import metadata
from typing import Any, NamedTuple

log = logging.getLogger(__name__)

# The releases whose internals this module was written and tested against.
KNOWN_HYPERCORN = ("0.17.", "0.18.")
KNOWN_PYTHON = ((3, 11),)
# What is called on a page connection's transport: asyncio's and uvloop's transports both have
# these, though uvloop's are not subclasses of asyncio.WriteTransport.
TRANSPORT_METHODS = ("is_closing", "get_protocol")

try:  # another ASGI server without Hypercorn installed still works, through ASGI send
    from hypercorn.asyncio.lifespan import Lifespan
    from hypercorn.asyncio.run import worker_serve
    from hypercorn.asyncio.tcp_server import TCPServer

    HYPERCORN_VERSION: str | None = metadata.version("hypercorn")
except ImportError:  # pragma: no cover
    HYPERCORN_VERSION = None
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


def fall_back(reason: str) -> None:
    _fallbacks.add(reason)
    warn_once(reason, SLOWER)


def check_server(lifespan_send: Any) -> str | None:
    """At the worker's start (its lifespan): whether it can serve its WebSockets itself.
    When it cannot (an untested version, another server, Hypercorn's trio worker, TLS served by
    Hypercorn itself) that is logged now, once, and the health check says so from the start."""
    if (problem := server_problem(lifespan_send)) is not None:
        fall_back(problem)
    return problem


def server_problem(lifespan_send: Any) -> str | None:
    """Why this worker cannot serve its WebSockets itself, or None: see check_server."""
    if (problem := version_problem()) is not None:
        return problem
    lifespan = getattr(lifespan_send, "__self__", None)
    if not isinstance(lifespan, Lifespan):
        return "not Hypercorn's asyncio worker" if type(lifespan).__module__.startswith("hypercorn.") else NOT_HYPERCORN
    if getattr(lifespan.config, "ssl_enabled", False):
        return TLS
    return None


def is_write_transport(candidate: object) -> bool:
    return all(callable(getattr(candidate, method, None)) for method in TRANSPORT_METHODS)


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
    drop_read_callback(transport)


def drop_read_callback(transport: Any) -> None:
    """A closed asyncio socket transport holds its own bound read callback: a cycle that would
    leave it to the cyclic garbage collector. Only asyncio's own transport has it (uvloop's are
    not Python objects with a __dict__)."""
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


class Serving(NamedTuple):
    """What Hypercorn's worker serves with: its servers (once all listen), the handler it runs
    for each connection they accept, and its configuration."""

    servers: list[Any]
    server_callback: Callable[..., Any]
    config: Any


def hypercorn_serving() -> Serving | str:
    """Hypercorn's servers in this process, once it listens on every socket it was given, or
    why they are not (yet) found. Hypercorn keeps them in local variables of its worker's
    coroutine (`worker_serve`) only."""
    frame = _worker_serve_frame()
    if isinstance(frame, str):
        return frame
    found = frame.f_locals
    servers, callback, config, sockets = (
        found.get(name) for name in ("servers", "_server_callback", "config", "sockets")
    )
    if not isinstance(servers, list) or not callable(callback) or sockets is None:
        return "Hypercorn's worker_serve holds no servers and connection handler"
    expected = len(getattr(sockets, "secure_sockets", ())) + len(getattr(sockets, "insecure_sockets", ()))
    if not expected or len(servers) < expected or not all(server_fds(server) for server in servers):
        return "Hypercorn's worker does not listen yet"
    return Serving(servers, callback, config)


def _worker_serve_frame() -> Any:
    if worker_serve is None:
        return "Hypercorn is not installed"
    for task in asyncio.all_tasks():
        frame = _frame_of(task.get_coro(), worker_serve.__code__)
        if frame is not None:
            return frame
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


def server_fds(server: Any) -> set[int]:
    sockets = getattr(server, "sockets", None) or ()
    return {fd for fd in (sock.fileno() for sock in sockets) if fd >= 0}


def missing_private_attributes(page_send: Any, loop: asyncio.AbstractEventLoop) -> list[str]:
    """Every private attribute this module relies on that is missing, in a Hypercorn worker
    that listens, serving a page (whose ASGI `send` is given) on its event loop: empty on the
    tested versions."""
    serving = hypercorn_serving()
    connection = hypercorn_connection(page_send)
    protocol = connection[1].get_protocol() if connection is not None else None
    checks: list[tuple[str, bool]] = [
        ("worker_serve's servers, _server_callback, config and sockets", not isinstance(serving, str)),
        ("HTTPStream.send -> H11Protocol.send -> TCPServer.writer.transport", connection is not None),
        ("TCPServer.protocol", connection is not None and "protocol" in vars(connection[0])),
        ("StreamReaderProtocol._task", isinstance(getattr(protocol, "_task", None), asyncio.Task)),
        ("Handle._run", callable(getattr(asyncio.Handle, "_run", None))),
        ("Handle._callback", hasattr(asyncio.Handle, "_callback")),
        ("Handle._args", hasattr(asyncio.Handle, "_args")),
        ("multiprocessing.Process._kwargs", hasattr(multiprocessing.Process(), "_kwargs")),
    ]
    if connection is not None and type(connection[1]).__module__.startswith("asyncio."):
        checks.append(
            ("_SelectorSocketTransport._read_ready_cb", callable(getattr(connection[1], "_read_ready_cb", None)))
        )
        checks.append(("loop._signal_handlers", isinstance(getattr(loop, "_signal_handlers", None), dict)))
    return [name for name, present in checks if not present]
