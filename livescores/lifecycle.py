"""How a worker process stops among others without losing a goal or stranding a viewer.

Hypercorn runs the app's after_serving hooks once every connection it serves has ended (or its
graceful_timeout has passed); the sockets the app serves itself (intake.py) are not among
them, so after_serving waits for `finished` first. A live socket never ends by itself, so the
app closes its sockets with 1012 (Service Restart, which htmx reconnects on) as soon as a
shutdown begins.
Two things begin one: SIGTERM reaching the worker (Heroku, systemd and honcho signal every
process of the group, and Hypercorn's parent terminates the workers still running when one
has exited), and the event Hypercorn's parent sets for its workers when it alone was signalled.
Neither replaces Hypercorn's own shutdown, which still stops the listeners and then the app,
and SIGTERM still reaches whatever handled it before the app did.

A drain spares the replacement a stampede. htmx reconnects 500 ms (±30%) after a close, so
sockets all closed at once come back within 300 ms of each other: thousands of handshakes a
new process cannot take that fast overflow its accept queue, and every one dropped or refused
doubles that page's next wait. So a lone worker first lets go of its port (listeners.py), keeps
its sockets open until a replacement listens on that port (at most `restart_wait` seconds),
then closes them at `drain_rate` a second at most, a slice every 250 ms, and no faster than
the replacement takes them back, as its /healthz counts them.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import time
from collections.abc import Callable
from typing import Any

from . import compat, listeners
from .closecodes import SERVICE_RESTART
from .hub import Hub
from .intake import Intake

log = logging.getLogger(__name__)

DRAIN_TIMEOUT = 10.0  # after the last slice is closed; well inside Heroku's 30 s between SIGTERM and SIGKILL
DRAIN_STEP = 0.25  # seconds between slices of sockets closed
IN_FLIGHT = 3000  # closed sockets not yet back at the replacement: well inside its accept queue (4,096)
STOP_GRACE = 3.0  # after draining, how long a signalled worker waits for Hypercorn to stop it


def hypercorn_worker_setting(name: str) -> Any:
    """What Hypercorn handed this worker process when it spawned it (its `config` and
    `shutdown_event`), or None when the app does not run in a Hypercorn worker process."""
    kwargs = compat.spawn_kwargs()
    return kwargs.get(name) if kwargs is not None else None


def hypercorn_worker_count() -> int:
    """How many worker processes the Hypercorn that started this process runs (1 if unknown)."""
    workers = getattr(hypercorn_worker_setting("config"), "workers", None)
    return workers if isinstance(workers, int) and workers > 0 else 1


class Drain:
    """Closes every socket of this worker once, on SIGTERM or when Hypercorn stops the worker."""

    def __init__(
        self,
        hub: Hub,
        restart_wait: float = 2.0,
        drain_rate: int = 4000,
        workers: int = 1,
        intake: Intake | None = None,
    ) -> None:
        self.hub = hub
        self.intake = intake
        self.restart_wait = restart_wait
        self.slice = max(1, round(drain_rate * DRAIN_STEP))
        self.workers = workers
        self.finished = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._fallback: asyncio.Task[None] | None = None
        self._restore: Callable[[], None] | None = None
        self._collecting = False  # whether to collect garbage again once stopped (as in a test's process)

    def install(self) -> None:
        loop = asyncio.get_running_loop()
        previous = compat.sigterm_handle(loop)
        before = signal.getsignal(signal.SIGTERM)

        def on_sigterm() -> None:
            self.begin("SIGTERM")
            # The signal still reaches whoever had it: a Hypercorn serving in this very process,
            # another server's handler, or (a Hypercorn worker's lot) the default, which ends it.
            if previous is not None:
                compat.run_handle(previous)
            elif callable(before):
                before(signal.SIGTERM, None)
            elif before == signal.SIG_DFL and self._fallback is None:
                self._fallback = asyncio.create_task(self._end_unless_stopped(), name="sigterm-fallback")

        try:
            loop.add_signal_handler(signal.SIGTERM, on_sigterm)
        except (RuntimeError, ValueError) as error:  # not the main thread: the server handles signals
            log.info("shutdown: SIGTERM not hooked (%s)", error)
        else:
            self._restore = lambda: _restore_sigterm(loop, previous, before)
        event = hypercorn_worker_setting("shutdown_event")
        if event is not None and callable(getattr(event, "is_set", None)):
            self._watcher = asyncio.create_task(self._watch(event), name="hypercorn-shutdown-watch")

    async def uninstall(self) -> None:
        if self._collecting:
            gc.enable()
            self._collecting = False
        if self._restore is not None:
            self._restore()
            self._restore = None
        for task in (self._fallback, self._watcher, self._task):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    def begin(self, reason: str) -> None:
        if self._task is None:
            log.info("shutdown: %s; closing %d sockets with %d", reason, len(self.hub.connections), SERVICE_RESTART)
            self.hub.closing.set()  # no socket opens from now on
            # Collections would walk every socket still open, again and again as they close,
            # in a process about to exit: its memory goes with it.
            self._collecting = gc.isenabled()
            gc.disable()
            released = listeners.release(self.workers, self.intake)
            self._task = asyncio.create_task(self._drain(released), name="drain")

    async def _drain(self, released: list[tuple[str, int]]) -> None:
        started = time.monotonic()
        if released and self.hub.connections:
            found = await listeners.replacement_listening(released, self.restart_wait)
            if found is None:
                log.info("shutdown: no replacement listened within %.1fs", self.restart_wait)
            else:
                log.info("shutdown: a replacement listened after %.2fs", found)
        await self._close_in_slices(released[0] if released else None)
        self.hub.begin_closing()  # any socket opened meanwhile, and those already stopped again: no matter
        closed = time.monotonic()
        while self.hub.connections and time.monotonic() - closed < DRAIN_TIMEOUT:  # noqa: ASYNC110 - a plain set
            await asyncio.sleep(0.02)
        left = len(self.hub.connections)
        log.info("shutdown: sockets closed in %.2fs (%d still open)", time.monotonic() - started, left)
        self.finished.set()

    async def _close_in_slices(self, replacement: tuple[str, int] | None) -> None:
        """Every open socket stopped with 1012, a slice every DRAIN_STEP: `self.slice` at most,
        and, while a replacement on this port says how many sockets it holds, no more than
        keeps IN_FLIGHT closed sockets not yet back there (a quarter slice at least, so a drain
        whose viewers went elsewhere still ends)."""
        pending = list(self.hub.connections)
        closed, base = 0, None
        while closed < len(pending):
            if closed:
                await asyncio.sleep(DRAIN_STEP)
            allowed = self.slice
            there = await listeners.sockets_at(*replacement) if replacement is not None else None
            if there is not None:
                base = there if base is None else base
                allowed = max(1, self.slice // 4, min(self.slice, IN_FLIGHT - (closed - (there - base))))
            for connection in pending[closed : closed + allowed]:
                connection.stop(SERVICE_RESTART)
            closed += allowed

    async def _end_unless_stopped(self) -> None:
        """A worker signalled on its own: Hypercorn's main process, signalled with it as a rule,
        stops it in the meantime; if not, it ends as SIGTERM would have ended it undrained."""
        await self.finished.wait()
        await asyncio.sleep(STOP_GRACE)
        event = hypercorn_worker_setting("shutdown_event")
        if event is not None and event.is_set():
            return
        log.warning("shutdown: nothing stopped this process within %.0fs of SIGTERM; ending it", STOP_GRACE)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)

    async def _watch(self, event: Any) -> None:
        while not event.is_set():  # noqa: ASYNC110 - a multiprocessing event cannot be awaited
            await asyncio.sleep(0.1)
        self.begin("Hypercorn is stopping this worker")


def _restore_sigterm(loop: asyncio.AbstractEventLoop, previous: compat.SignalHandle | None, before: Any) -> None:
    if previous is not None:
        callback, args = compat.handle_callback(previous)
        loop.add_signal_handler(signal.SIGTERM, callback, *args)
        return
    loop.remove_signal_handler(signal.SIGTERM)
    signal.signal(signal.SIGTERM, before if before is not None else signal.SIG_DFL)
