"""`LIVESCORES_TRACEMALLOC`: off by default; when set, SIGUSR2 writes a snapshot that loads."""

from __future__ import annotations

import asyncio
import os
import signal
import tracemalloc
from pathlib import Path

from livescores.config import Config
from livescores.memory_trace import SnapshotOnSignal


def test_tracing_is_off_unless_a_folder_is_given() -> None:
    assert Config.from_env({}).tracemalloc_dir is None
    assert Config.from_env({"LIVESCORES_TRACEMALLOC": "/tmp/traces"}).tracemalloc_dir == "/tmp/traces"


async def test_sigusr2_writes_a_snapshot_into_the_folder(tmp_path: Path) -> None:
    loop = asyncio.get_running_loop()
    folder = tmp_path / "traces"
    tracing_before = tracemalloc.is_tracing()
    try:
        SnapshotOnSignal(folder).install(loop)
        assert tracemalloc.is_tracing()
        os.kill(os.getpid(), signal.SIGUSR2)
        for _ in range(200):
            written = list(folder.glob(f"snapshot-{os.getpid()}-0.tracemalloc"))
            if written:
                break
            await asyncio.sleep(0.05)
        assert written, "no snapshot written"
        snapshot = tracemalloc.Snapshot.load(str(written[0]))
        assert snapshot.traceback_limit > 1
    finally:
        loop.remove_signal_handler(signal.SIGUSR2)
        if not tracing_before:
            tracemalloc.stop()
