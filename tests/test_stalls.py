"""The stall watch: a loop held up is logged with what held it, and full collections with their
time; it is off unless configured."""

from __future__ import annotations

import asyncio
import gc
import logging
import re
import threading
import time

import pytest

from livescores.config import Config
from livescores.stalls import StallWatch


def _hold_the_loop(seconds: float) -> None:
    time.sleep(seconds)


async def _watched(watch: StallWatch, work: object) -> None:
    watch.start()
    try:
        await asyncio.sleep(0.1)
        if callable(work):
            work()
        await asyncio.sleep(0.2)  # the beat comes again, and the stall is reported
    finally:
        watch.stop()


async def test_a_held_loop_is_logged_with_how_long_and_what_held_it(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="livescores.stalls")
    watch = StallWatch(threshold_ms=50)
    await _watched(watch, lambda: _hold_the_loop(0.3))
    stalls = [r.getMessage() for r in caplog.records if "loop held" in r.getMessage()]
    assert len(stalls) == 1, stalls
    held = int(re.search(r"loop held (\d+) ms", stalls[0]).group(1))  # type: ignore[union-attr]
    assert held >= 250  # slept 300 ms: the watch may see it a beat late, never early
    assert "_hold_the_loop" in stalls[0]
    # Sleeping is no work: the loop's thread was off the CPU for most of it.
    on_cpu = int(re.search(r"on a CPU (\d+) ms", stalls[0]).group(1))  # type: ignore[union-attr]
    assert on_cpu < held
    assert watch.stalls == 1 and watch.longest >= 0.25
    assert not any(t.name == "livescores-stall-watch" for t in threading.enumerate())


async def test_full_collections_are_logged_with_their_time(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="livescores.stalls")
    await _watched(StallWatch(threshold_ms=50), gc.collect)
    assert any(re.search(r"full collection, [\d.]+ ms, \d+ collected", r.getMessage()) for r in caplog.records)


async def test_a_loop_that_keeps_its_beat_logs_no_stall(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="livescores.stalls")
    await _watched(StallWatch(threshold_ms=1000), lambda: _hold_the_loop(0.05))
    assert not [r for r in caplog.records if "loop held" in r.getMessage()]


def test_the_watch_is_off_unless_configured() -> None:
    assert Config.from_env({}).stall_log_ms == 0
    assert Config.from_env({"LIVESCORES_STALL_LOG_MS": "50"}).stall_log_ms == 50
    with pytest.raises(ValueError, match="LIVESCORES_STALL_LOG_MS"):
        Config.from_env({"LIVESCORES_STALL_LOG_MS": "soon"})
