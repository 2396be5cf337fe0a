"""When the cyclic garbage collector may walk the objects of live sockets.

Each open socket keeps a few hundred container objects alive (the server's connection, stream
and protocol state, tasks, the app's connection). CPython's full collections walk every one
of them, so with thousands of sockets each full collection takes longer, and as sockets keep
arriving full collections keep coming: accepting sockets slows down as sockets accumulate.

`gc.freeze()` moves every tracked object into a permanent generation that collections skip.
So, every `freeze_every` sockets opened, the objects made since the last freeze are collected
once (which walks only those) and the survivors frozen: the collections that run on their own
then see only what was made since, and each object is walked about once on its way in.

Frozen objects are still freed by reference counting, but a frozen reference cycle (a closed
socket's server-side state, typically) stays until it is unfrozen. So once the sockets closed
since the last full collection reach `refresh_fraction` of those open (and at least
`refresh_minimum`, and not within `refresh_interval` seconds of the last), everything is
unfrozen, collected and frozen again. That walk costs time in proportion to what is alive,
once per that many closes, and bounds what closed sockets can leave behind to about that
fraction of the memory the open ones use.
"""

from __future__ import annotations

import gc
import logging
import time

log = logging.getLogger(__name__)


class FreezePolicy:
    def __init__(
        self,
        freeze_every: int = 500,
        refresh_fraction: float = 0.25,
        refresh_minimum: int = 1000,
        refresh_interval: float = 1.0,
    ) -> None:
        self.freeze_every = freeze_every
        self.refresh_fraction = refresh_fraction
        self.refresh_minimum = refresh_minimum
        self.refresh_interval = refresh_interval
        self.opened_since_freeze = 0
        self.closed_since_refresh = 0
        self.freezes = 0
        self.refreshes = 0
        self._refreshed_at = time.monotonic()

    def start(self) -> None:
        """What start-up made lives as long as the process: out of every later collection."""
        self._refresh()

    def opened(self) -> None:
        self.opened_since_freeze += 1
        if self.opened_since_freeze >= self.freeze_every:
            self.freeze()

    def closed(self, still_open: int) -> None:
        self.closed_since_refresh += 1
        if (
            self.closed_since_refresh >= max(self.refresh_minimum, self.refresh_fraction * still_open)
            and time.monotonic() - self._refreshed_at >= self.refresh_interval
        ):
            self._refresh()

    def freeze(self) -> None:
        """Collect what is not frozen yet, and freeze what survived."""
        gc.collect()
        gc.freeze()
        self.opened_since_freeze = 0
        self.freezes += 1

    def _refresh(self) -> None:
        started = time.perf_counter()
        gc.unfreeze()
        found = gc.collect()
        gc.freeze()
        self.opened_since_freeze = self.closed_since_refresh = 0
        self.refreshes += 1
        self._refreshed_at = time.monotonic()
        log.debug(
            "gc: %d unreachable objects collected, %d frozen, in %.1f ms",
            found,
            gc.get_freeze_count(),
            (time.perf_counter() - started) * 1000,
        )
