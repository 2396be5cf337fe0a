"""Viewers that come back after their socket closes exactly as htmx 4.0.1's `hx-ws` brings a page back.

From `static/hx-ws-4.0.1.min.js`: a close with one of `RECONNECT_CODES` schedules the next
attempt; each close adds one to the attempt count and the opening of a socket (its 101) resets
it, so a failed handshake (a refused or reset connection, which the browser reports as a close
with 1006) doubles the next wait. The wait is 500 ms times 2^(attempt - 1), at most 60 s, plus
or minus 30% at random. A viewer is back when a socket begun after the restart delivers its
board snapshot.
"""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from time import monotonic

from .wsclient import IP_BIND_ADDRESS_NO_PORT, Viewer, handshake

RECONNECT_CODES = frozenset({1001, 1005, 1006, 1011, 1012, 1013, 1014})
BASE_DELAY = 0.5
MAX_DELAY = 60.0
JITTER = 0.3
# Chromium gives an opening handshake 240 s (the kernel retries a lost SYN after 1 s, 3 s, 7 s...);
# past this the attempt counts as timed out (and, as in htmx, as failed).
HANDSHAKE_TIMEOUT = 240.0


def htmx_delay(attempt: int, rng: random.Random) -> float:
    """Seconds before attempt number `attempt` (1 for the first after a close)."""
    delay = min(BASE_DELAY * 2 ** (attempt - 1), MAX_DELAY)
    return max(0.0, delay + (2 * rng.random() - 1) * JITTER * delay)


@dataclass
class Seat:
    """One page's socket, followed across closes."""

    viewer: Viewer
    host: str
    port: int
    origin: str
    source: str | None
    rng: random.Random
    attempt: int = 0
    back_at: float = 0.0
    attempts: int = 0
    failed: int = 0  # refused, reset, or closed before the 101
    timed_out: int = 0
    turned_away: int = 0  # a 101, then closed before the snapshot
    gave_up: int | None = None  # a close code htmx does not reconnect on
    first_code: int | None = None  # what the restarting server closed it with (1006: no close frame)
    reasons: dict[str, int] = field(default_factory=dict)

    async def follow(self) -> None:
        """From the current socket's end until a fresh snapshot (or a code htmx gives up on)."""
        await self.viewer.lost
        code = self.first_code = self.viewer.close_code or 1006
        while not self.back_at:
            if code not in RECONNECT_CODES:
                self.gave_up = code
                return
            self.attempt += 1
            await asyncio.sleep(htmx_delay(self.attempt, self.rng))
            self.attempts += 1
            code = await self._attempt()

    async def _attempt(self) -> int:
        """One `new WebSocket(...)`; the close code the page would see if it did not stay open."""
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        viewer: Viewer | None = None
        try:
            async with asyncio.timeout(HANDSHAKE_TIMEOUT):
                if self.source:
                    sock.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
                    sock.bind((self.source, 0))
                began = monotonic()
                await loop.sock_connect(sock, (self.host, self.port))
                tcp_at = monotonic()
                request = handshake(self.host, self.port, "/ws", self.origin)
                _, viewer = await loop.create_connection(lambda: Viewer(request), sock=sock)
                viewer.began_at, viewer.tcp_at = began, tcp_at
                await viewer.ready
        except TimeoutError:
            self.timed_out += 1
            self._note("timed out")
            if viewer is not None and viewer.transport is not None:
                viewer.transport.abort()
            else:
                sock.close()
            return 1006
        except (OSError, ConnectionError) as error:
            if viewer is None:
                sock.close()
            if viewer is not None and viewer.upgraded:
                self.attempt = 0  # the page's socket opened: htmx starts counting again
                self.turned_away += 1
                self._note(f"closed after the 101 with {viewer.close_code or 1006}")
                return viewer.close_code or 1006
            self.failed += 1
            self._note(f"{type(error).__name__}: {error.strerror if isinstance(error, OSError) else error}")
            return 1006
        self.viewer = viewer
        self.attempt = 0
        self.back_at = viewer.snapshot_at
        return 0

    def _note(self, reason: str) -> None:
        self.reasons[reason] = self.reasons.get(reason, 0) + 1


class Watch:
    """Every viewer of a process, armed to come back after the next close."""

    def __init__(self, viewers: list[Viewer], host: str, port: int, origin: str, source: str | None) -> None:
        rng = random.Random()
        self.seats = [Seat(v, host, port, origin, source, rng) for v in viewers]
        self.tasks = [asyncio.create_task(seat.follow()) for seat in self.seats]

    async def report(self, since: float, within: float) -> dict[str, object]:
        """Once every viewer is back (or `within` s of `since`): per viewer, seconds from `since`
        (the SIGTERM) to its fresh snapshot, and what went wrong on the way."""
        _, pending = await asyncio.wait(self.tasks, timeout=max(0.0, since + within - monotonic()))
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        reasons: dict[str, int] = {}
        for seat in self.seats:
            for reason, count in seat.reasons.items():
                reasons[reason] = reasons.get(reason, 0) + count
        return {
            "viewers": len(self.seats),
            "back": [round(seat.back_at - since, 4) for seat in self.seats if seat.back_at],
            "not_back": sum(1 for seat in self.seats if not seat.back_at),
            "gave_up": sum(1 for seat in self.seats if seat.gave_up is not None),
            "attempts": sum(seat.attempts for seat in self.seats),
            "failed_handshakes": sum(seat.failed for seat in self.seats),
            "timed_out_handshakes": sum(seat.timed_out for seat in self.seats),
            "turned_away": sum(seat.turned_away for seat in self.seats),
            "closed_with": _counted(seat.first_code for seat in self.seats),
            "reasons": reasons,
        }

    def viewers(self) -> list[Viewer]:
        return [seat.viewer for seat in self.seats]


def _counted(codes: Iterable[int | None]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for code in codes:
        counts[str(code)] = counts.get(str(code), 0) + 1
    return counts
