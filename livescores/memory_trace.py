"""Where the worker's memory goes, for the bench: with `LIVESCORES_TRACEMALLOC` set to a folder,
the worker traces its allocations from start-up and, on each SIGUSR2, writes a tracemalloc
snapshot there (`snapshot-<pid>-<n>.tracemalloc`). Off by default: tracing slows every
allocation and holds memory of its own."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import tracemalloc
from pathlib import Path

log = logging.getLogger(__name__)

FRAMES = 12  # deep enough to see which library and which of the app's calls made an object


class SnapshotOnSignal:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.taken = 0

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if not tracemalloc.is_tracing():
            tracemalloc.start(FRAMES)
        loop.add_signal_handler(signal.SIGUSR2, self.take)
        log.info("tracemalloc: tracing; SIGUSR2 writes a snapshot into %s", self.folder)

    def take(self) -> Path:
        path = self.folder / f"snapshot-{os.getpid()}-{self.taken}.tracemalloc"
        tracemalloc.take_snapshot().dump(str(path))
        self.taken += 1
        log.info("tracemalloc: snapshot written to %s", path)
        return path
