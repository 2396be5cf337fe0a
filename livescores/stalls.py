"""What holds the event loop up: a watch for finding stalls, off unless asked for.

With `LIVESCORES_STALL_LOG_MS` set, a heartbeat on the loop notes the time every 10 ms, and a
thread of its own looks at it just as often. When the beat is late by more than the threshold,
the thread samples what the loop's thread is running (its Python stack) until the beat comes
again, then logs one line: how long the loop was held, the stacks seen most often, and the
garbage collections that ran meanwhile. Every collection of the oldest generation is logged
too, with how long it took, whether or not it held the loop past the threshold.

It costs a timer a tick and a thread that wakes 100 times a second: for measuring, not for
serving by default.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
import threading
import time
import traceback
from collections import Counter, deque
from pathlib import Path
from types import FrameType
from typing import Any

log = logging.getLogger(__name__)

BEAT_SECONDS = 0.01
STACK_DEPTH = 8  # innermost frames kept of each sample
TOP_STACKS = 2


def describe(frame: FrameType | None, depth: int = STACK_DEPTH) -> str:
    """A stack as one line, outermost first: `file:line function > ... > file:line function`."""
    if frame is None:
        return "?"
    frames = traceback.extract_stack(frame, limit=depth)
    return " > ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in frames)


class StallWatch:
    def __init__(self, threshold_ms: float) -> None:
        self.threshold = threshold_ms / 1000
        self.beat = time.monotonic()
        self.stalls = 0
        self.longest = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._thread: threading.Thread | None = None
        self._loop_thread = threading.get_ident()
        self._schedstat: Path | None = None
        self._running = False
        self._gc_started = 0.0
        # Collections since the last look: (generation, seconds, collected), appended by the
        # loop's thread, taken by the watch's.
        self._collections: deque[tuple[int, float, int]] = deque()

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._schedstat = Path(f"/proc/self/task/{threading.get_native_id()}/schedstat")
        self._running = True
        self._beat()
        gc.callbacks.append(self._on_gc)
        self._thread = threading.Thread(target=self._watch, name="livescores-stall-watch", daemon=True)
        self._thread.start()
        log.info("stalls: logging event-loop stalls over %.0f ms and full collections", self.threshold * 1000)

    def stop(self) -> None:
        self._running = False
        if self._timer is not None:
            self._timer.cancel()
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        if self._thread is not None:
            self._thread.join(1.0)

    def _beat(self) -> None:
        self.beat = time.monotonic()
        if self._running and self._loop is not None:
            self._timer = self._loop.call_later(BEAT_SECONDS, self._beat)

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if threading.get_ident() != self._loop_thread:
            return
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self._collections.append(
                (int(info["generation"]), time.perf_counter() - self._gc_started, info["collected"])
            )

    def _take_collections(self) -> list[tuple[int, float, int]]:
        taken = []
        while self._collections:
            taken.append(self._collections.popleft())
        for generation, seconds, collected in taken:
            if generation == 2:
                log.info("stalls: full collection, %.1f ms, %d collected", seconds * 1000, collected)
        return taken

    def _cpu(self) -> tuple[float, float]:
        """The loop thread's time on a CPU and waiting for one, in seconds (Linux; else zeros):
        a stall with little of the first was the machine's, not the loop's own work."""
        if self._schedstat is None:
            return 0.0, 0.0
        try:
            running, waiting = self._schedstat.read_text().split()[:2]
        except (OSError, ValueError):
            return 0.0, 0.0
        return int(running) / 1e9, int(waiting) / 1e9

    def _watch(self) -> None:
        stacks: Counter[str] = Counter()
        held_since: float | None = None
        cpu_before = cpu_now = self._cpu()
        during: list[tuple[int, float, int]] = []
        while self._running:
            time.sleep(BEAT_SECONDS)
            now, beat = time.monotonic(), self.beat
            late = now - beat - BEAT_SECONDS
            # A collection is noted when it ends, so the one that held the loop up is seen
            # with the beat that follows it.
            during += self._take_collections()
            cpu_before, cpu_now = cpu_now, self._cpu()
            if late > self.threshold:
                if held_since is None:
                    held_since, stacks, cpu_at = beat + BEAT_SECONDS, Counter(), cpu_before
                frame = sys._current_frames().get(self._loop_thread)
                stacks[describe(frame)] += 1
                continue
            if held_since is not None:
                used = (cpu_now[0] - cpu_at[0], cpu_now[1] - cpu_at[1])
                self._report(beat - held_since, stacks, during, used)
                held_since = None
            during = []

    def _report(
        self,
        held: float,
        stacks: Counter[str],
        collections: list[tuple[int, float, int]],
        cpu: tuple[float, float],
    ) -> None:
        self.stalls += 1
        self.longest = max(self.longest, held)
        gcs = ", ".join(f"gen{g} {s * 1000:.0f} ms" for g, s, _ in collections if s * 1000 >= 1) or "none"
        top = " | ".join(f"{count}x {stack}" for stack, count in stacks.most_common(TOP_STACKS))
        log.warning(
            "stalls: loop held %.0f ms (on a CPU %.0f ms, waiting for one %.0f ms); collections: %s; samples: %s",
            held * 1000,
            cpu[0] * 1000,
            cpu[1] * 1000,
            gcs,
            top,
        )
