"""When the cyclic garbage collector may walk the objects of open sockets.

Each open socket keeps over a hundred container objects alive (the server's connection,
stream and protocol state, its tasks, the hub's Connection). CPython's full collections walk
all of them, at about a microsecond each once they are spread over the heap: with thousands of
sockets a full collection stops the process for a good part of a second, and as long as
sockets keep arriving full collections keep coming. Accepting sockets got slower as sockets accumulated.

`gc.freeze()` moves every tracked object into a permanent generation that collections skip,
in constant time. So every `freeze_every` sockets opened, everything alive is frozen: the
collections that run on their own see only what was made since, and a socket's objects are
walked once or twice on their way in, never again while it stays open.

Frozen objects are still freed by reference counting when nothing refers to them any more
(transport.py cuts the cycles a closed connection's objects would otherwise be left in), but
a frozen object in a reference cycle stays until it is unfrozen. So after enough closes, when
the sockets closed since the last full collection reach `refresh_factor` times those open (and
at least `refresh_minimum`), everything is unfrozen, collected and frozen again. That is
checked every few seconds (`check`), not as sockets close: a crowd leaving at once is gone,
and its connections torn down, by the time the walk is made. That walk stops the process in proportion to what is
alive, so it is made rarer while it keeps finding (next to) nothing: the factor doubles, up to
`refresh_factor_limit`, after each collection that found less than one object per socket
closed since the last, and goes back to `refresh_factor` after one that found more. Whatever
closed sockets may leave behind is thus bounded by a multiple of what the open ones hold.
"""

from __future__ import annotations

import gc
import logging
import time

log = logging.getLogger(__name__)


class FreezePolicy:
    def __init__(
        self,
        freeze_every: int = 10,
        refresh_factor: float = 0.5,
        refresh_factor_limit: float = 16.0,
        refresh_minimum: int = 1000,
    ) -> None:
        self.freeze_every = freeze_every
        self.base_factor = refresh_factor
        self.factor_limit = refresh_factor_limit
        self.refresh_minimum = refresh_minimum
        self.refresh_factor = refresh_factor
        self.opened_since_freeze = 0
        self.closed_since_refresh = 0
        self.freezes = 0
        self.refreshes = 0
        self.last_found = 0  # unreachable objects the last full collection freed

    def start(self) -> None:
        """What start-up made lives as long as the process: out of every later collection."""
        self.refresh()

    def opened(self) -> None:
        self.opened_since_freeze += 1
        if self.opened_since_freeze >= self.freeze_every:
            self.freeze()

    def closed(self) -> None:
        self.closed_since_refresh += 1

    def check(self, still_open: int) -> bool:
        """Collect everything if enough sockets have closed since the last time; whether it did."""
        if self.closed_since_refresh < max(self.refresh_minimum, self.refresh_factor * still_open):
            return False
        self.refresh()
        return True

    def freeze(self) -> None:
        gc.freeze()
        self.opened_since_freeze = 0
        self.freezes += 1

    def refresh(self) -> None:
        """Unfreeze, collect everything, and freeze what survived."""
        started = time.perf_counter()
        closed = self.closed_since_refresh
        gc.unfreeze()
        self.last_found = gc.collect()
        gc.freeze()
        if self.last_found < closed:
            self.refresh_factor = min(self.refresh_factor * 2, self.factor_limit)
        else:
            self.refresh_factor = self.base_factor
        self.opened_since_freeze = self.closed_since_refresh = 0
        self.refreshes += 1
        log.info(
            "gc: full collection after %d closed sockets: %d unreachable objects, %.0f ms; "
            "the next after %.1f times the open sockets have closed",
            closed,
            self.last_found,
            (time.perf_counter() - started) * 1000,
            self.refresh_factor,
        )
