"""What the sockets did, for an operator: one line per connection as it ends (who, how long,
how it ended) and one per refused handshake, a summary per interval with the counts, which is
what an operator reads at thousands of sockets; and the rate limit on a scorer's messages."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from typing import TYPE_CHECKING

from .closecodes import (
    GOING_AWAY,
    INTERNAL_ERROR,
    MESSAGE_TOO_BIG,
    POLICY_VIOLATION,
    SERVICE_RESTART,
    TRY_AGAIN_LATER,
)
from .roles import Role

if TYPE_CHECKING:
    from .hub import Hub

log = logging.getLogger("livescores.socket")

SUMMARY_SECONDS = 60.0
CLOSE_REASONS = {
    None: "by client",
    GOING_AWAY: "1001 silent",
    POLICY_VIOLATION: "1008 refused messages",
    MESSAGE_TOO_BIG: "1009 message too big",
    INTERNAL_ERROR: "1011 error",
    SERVICE_RESTART: "1012 restart",
    TRY_AGAIN_LATER: "1013 too slow",
}
# Closes an operator may need to look into: logged as warnings.
ABNORMAL = frozenset({POLICY_VIOLATION, MESSAGE_TOO_BIG, INTERNAL_ERROR, TRY_AGAIN_LATER, GOING_AWAY})
MOST_ORIGINS = 5


class TokenBucket:
    """`rate` messages a second on average, up to `burst` at once."""

    __slots__ = ("capacity", "rate", "stamp", "tokens")

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.capacity = float(burst)
        self.tokens = float(burst)
        self.stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class SocketLog:
    """What the sockets did: one line per connection when it ends (who, how long, how it
    ended) and one per refused handshake, plus a summary line per interval with the counts,
    which is what an operator reads at thousands of sockets. Opens are at DEBUG: the line at
    the end carries the duration, so an open adds nothing but volume."""

    def __init__(self) -> None:
        self.opened = 0
        self.closed: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        self.refused_origins: Counter[str] = Counter()

    def refuse(self, reason: str, origin: str | None = None, client: str = "-") -> None:
        self.refused[reason] += 1
        if origin is not None and (origin in self.refused_origins or len(self.refused_origins) < MOST_ORIGINS):
            self.refused_origins[origin] += 1
        log.info("socket: refused %s (%s, origin %r)", client, reason, origin)

    def open(self, role: Role, open_now: int, client: str = "-") -> None:
        self.opened += 1
        log.debug("socket: %s open as %s (%d open)", client, role, open_now)

    def close(self, role: Role, code: int | None, seconds: float, open_now: int, client: str = "-") -> None:
        reason = CLOSE_REASONS.get(code, str(code))
        self.closed[reason] += 1
        # A restart closes every socket at once: those are counted (and the drain says how long
        # it took), not logged one by one.
        level = logging.WARNING if code in ABNORMAL else logging.DEBUG if code == SERVICE_RESTART else logging.INFO
        log.log(level, "socket: %s %s closed %s after %.1fs (%d open)", client, role, reason, seconds, open_now)

    def summary(self, open_now: int, seconds: float) -> str | None:
        """The line for the interval just ended (and a fresh count), or None if nothing happened."""
        if not (self.opened or self.closed or self.refused):
            return None
        parts = [f"sockets: {open_now} open; in the last {seconds:.0f}s {self.opened} opened"]
        if self.closed:
            parts.append(f"{self.closed.total()} closed ({_counts(self.closed)})")
        if self.refused:
            parts.append(f"{self.refused.total()} refused ({_counts(self.refused)})")
        if self.refused_origins:
            parts.append("refused origins: " + ", ".join(f"{o!r} {n}" for o, n in self.refused_origins.most_common()))
        self.opened = 0
        self.closed, self.refused, self.refused_origins = Counter(), Counter(), Counter()
        return "; ".join(parts)

    async def report(self, hub: Hub, interval: float = SUMMARY_SECONDS) -> None:
        while True:
            await asyncio.sleep(interval)
            line = self.summary(len(hub.connections), interval)
            if line is not None:
                log.info("%s", line)


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{reason} {count}" for reason, count in counter.most_common())
