"""A stopping worker lets go of its port at once, so that its replacement can bind it meanwhile.

Hypercorn's main process binds the listening socket and hands it to its worker; on SIGTERM
the worker stops accepting and closes its copy, but the main process keeps its own until every
connection has ended and it exits, so the port stays taken and the kernel keeps queueing
connections nobody will accept. With one worker, shutting the socket down (which acts on the
socket itself, whichever process holds it) stops it listening at once: connections then
queued are refused, and a replacement can bind the port while this worker still closes its
sockets (both sides set SO_REUSEADDR, which Hypercorn does). With several workers the socket is
shared by the others, still serving, so it is left alone.

asyncio's loop accepts through a reader callback on the socket, removed before the shutdown.
uvloop accepts through libuv, which would spin on a shut socket still polled, and closes the
socket's file descriptor when its server is closed: so under uvloop the servers Hypercorn made
are closed first, and a copy of the socket made beforehand is shut down. The same goes for
the app's own servers on those sockets (intake.py), under either loop; with several workers
those are closed too, so that this worker accepts no more, and the socket is left alone.

Hypercorn 0.18 has no `reuse_port` setting (it sets SO_REUSEPORT only with more than one
worker), so a replacement cannot share the port with a listening predecessor; letting go of it
is what makes room.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
from typing import TYPE_CHECKING, Any

from . import compat

if TYPE_CHECKING:
    from .intake import Intake

log = logging.getLogger(__name__)

PROBE_INTERVAL = 0.05


def release(workers: int, intake: Intake | None = None) -> list[tuple[str, int]]:
    """Stop accepting; and stop listening on the sockets Hypercorn handed this worker, if it is
    the only one: the addresses let go of (empty when there was nothing to do, or nothing could
    be done)."""
    if intake is not None and intake.servers:
        copies = intake.stop_accepting()
        return _shut(copies, copies=True) if workers == 1 else _close_all(copies)
    if workers != 1:
        return []
    sockets = _handed_sockets()
    if not sockets:
        return []
    loop = asyncio.get_running_loop()
    if hasattr(loop, "_selector"):
        for sock in sockets:
            loop.remove_reader(sock.fileno())  # asyncio's accept callback: a shut socket reads as ready for ever
        return _shut(sockets, copies=False)
    found = _stop_serving(sockets)
    if isinstance(found, str):
        log.info("shutdown: the port is held until this process exits (%s)", found)
        return []
    return _shut(found, copies=True)


def _close_all(copies: list[socket.socket]) -> list[tuple[str, int]]:
    for sock in copies:
        sock.close()
    return []


def _shut(sockets: list[socket.socket], copies: bool) -> list[tuple[str, int]]:
    released: list[tuple[str, int]] = []
    for sock in sockets:
        address = sock.getsockname()
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError as error:
            log.info("shutdown: could not let go of %s (%s)", address, error)
            continue
        finally:
            if copies:
                sock.close()
        released.append((str(address[0]), int(address[1])))
    if released:
        log.info("shutdown: stopped listening on %s", ", ".join(f"{h}:{p}" for h, p in released))
    return released


def _handed_sockets() -> list[socket.socket]:
    """The TCP sockets Hypercorn's main process bound and handed this worker, still open."""
    kwargs = compat.spawn_kwargs() or {}
    sockets: Any = kwargs.get("sockets")
    if sockets is None:
        return []
    return [
        sock
        for sock in [*getattr(sockets, "insecure_sockets", []), *getattr(sockets, "secure_sockets", [])]
        if isinstance(sock, socket.socket) and sock.fileno() >= 0 and sock.family in (socket.AF_INET, socket.AF_INET6)
    ]


def _stop_serving(sockets: list[socket.socket]) -> list[socket.socket] | str:
    """Under a loop that polls the sockets itself (uvloop): close the servers accepting on
    them, and a copy of each socket to shut down, or why not. Shut while still polled, a socket
    would make the loop spin (it reads as ready for ever) until Hypercorn closes them, which it
    does only once its main process tells it to stop, not when this worker alone is signalled.
    Closing a server closes its file descriptor, so the copies are made first; Hypercorn
    closing those servers again finds nothing more to do."""
    found = compat.hypercorn_serving()
    if isinstance(found, str):
        return found
    fds = {sock.fileno() for sock in sockets}
    servers = [server for server in found.servers if fds & compat.server_fds(server)]
    if not servers:
        return "no server accepts on the sockets Hypercorn handed this process"
    return close_keeping_copies(servers)


def copy_of(sock: Any) -> socket.socket:
    """Another descriptor of the same socket: it stays open when the original is closed."""
    return socket.socket(fileno=os.dup(sock.fileno()))


def close_keeping_copies(servers: list[Any]) -> list[socket.socket]:
    """Close these servers (asyncio's or uvloop's), which closes their listening sockets too; a
    copy of each of those sockets, made first, for the caller to shut down or close."""
    copies = [copy_of(listening) for server in servers for listening in server.sockets]
    for server in servers:
        server.close()
    return copies


async def replacement_listening(addresses: list[tuple[str, int]], within: float) -> float | None:
    """Seconds until something listens again on one of `addresses` (a replacement started on the
    same port), or None if nothing did within `within` seconds."""
    started = time.monotonic()
    targets = [(_reachable(host), port) for host, port in addresses]
    while targets and time.monotonic() - started < within:
        for host, port in targets:
            if await _accepts(host, port):
                return time.monotonic() - started
        await asyncio.sleep(PROBE_INTERVAL)
    return None


def _reachable(host: str) -> str:
    """Where to knock for an address bound to every interface."""
    return {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)


async def _accepts(host: str, port: int) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), PROBE_INTERVAL * 4)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


async def sockets_at(host: str, port: int) -> int | None:
    """How many sockets the server now listening at `host:port` says it holds (its /healthz),
    or None when it does not answer that in time."""
    try:
        async with asyncio.timeout(PROBE_INTERVAL * 4):
            reader, writer = await asyncio.open_connection(_reachable(host), port)
            try:
                writer.write(f"GET /healthz HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
                answer = await reader.read()
            finally:
                writer.close()
    except (OSError, TimeoutError):
        return None
    try:
        count = json.loads(answer.partition(b"\r\n\r\n")[2]).get("sockets")
    except (ValueError, AttributeError):
        return None
    return count if isinstance(count, int) else None
