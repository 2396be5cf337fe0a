"""Restart mode: a one-process deploy with every viewer connected, as the viewers live it.

N viewers connect; then the server is sent SIGTERM (the app's whole process group, as Heroku,
systemd and honcho signal it; Node's one process) and, from that instant, its replacement is
started on the same port the way a one-process deploy starts it: again and again until one
start can bind the port. Every viewer comes back the way htmx 4.0.1 brings a page back
(bench/reconnect.py). Reported: per viewer, the time from the SIGTERM to its fresh snapshot
(p50, p99, max); handshakes that failed or timed out; the kernel's listen-queue overflows
meanwhile (`ListenOverflows` of /proc/net/netstat, which counts the whole machine); when the
old process exited; and how many starts the replacement took.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import statistics
import threading
import time
import urllib.error
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .run import Options, _start_profile, connect_viewers
from .servers import Server

BACK_TIMEOUT = 120.0  # seconds after the SIGTERM a viewer may take to come back
START_TIMEOUT = 60.0  # seconds a started replacement may take to answer /healthz


def netstat(name: str) -> int:
    """One TcpExt counter of this network namespace."""
    lines = [line.split() for line in Path("/proc/net/netstat").read_text().splitlines() if line.startswith("TcpExt:")]
    names, values = lines[0], lines[1]
    return int(values[names.index(name)])


def _exited(process_wait: Callable[[], object], started: float) -> asyncio.Future[float]:
    """Seconds from `started` until the process ends, watched from a thread."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[float] = loop.create_future()

    def watch() -> None:
        process_wait()
        at = time.monotonic() - started
        loop.call_soon_threadsafe(lambda: future.done() or future.set_result(at))

    threading.Thread(target=watch, daemon=True).start()
    return future


async def replace(start: Callable[[], Server], old_pid: int, started: float) -> tuple[Server, int, float]:
    """Start the replacement until one start binds the port and answers; how many starts it took
    and when the one that stayed began to answer (seconds after `started`). An answer from the
    old process (`old_pid`, still serving) does not count."""
    tries = 0
    while True:
        tries += 1
        server = await asyncio.to_thread(start)
        deadline = time.monotonic() + START_TIMEOUT
        while server.process.poll() is None and time.monotonic() < deadline:
            try:
                health = await asyncio.to_thread(server.health)
            except (OSError, ValueError):
                health = {}
            if health.get("worker") in (None, old_pid):
                await asyncio.sleep(0.02)
                continue
            server.pid = int(str(health["worker"]))
            return server, tries, time.monotonic() - started
        if server.process.poll() is None:
            raise RuntimeError(f"the replacement did not answer within {START_TIMEOUT:.0f}s:\n{server.log()}")
        if "in use" not in server.log():
            raise RuntimeError(f"the replacement exited with {server.process.returncode}:\n{server.log()}")


async def restart(server: Server, options: Options, start_again: Callable[[], Server]) -> dict[str, Any]:
    """Viewers connected, a SIGTERM, a replacement on the same port: how the viewers come back."""
    viewers, result = await connect_viewers(server, options)
    replacement: Server | None = None
    try:
        await viewers.ask("watch")
        await asyncio.sleep(1.0)
        overflows, drops = netstat("ListenOverflows"), netstat("ListenDrops")
        profile = None
        if options.py_spy is not None and server.name == "app":
            profile = _start_profile(server, options.py_spy, 15)
            await asyncio.sleep(1.0)
        started = time.monotonic()
        if server.name == "app":
            os.killpg(server.process.pid, signal.SIGTERM)
        else:
            server.process.send_signal(signal.SIGTERM)
        exited = _exited(server.process.wait, started)
        draining = asyncio.create_task(_cpu_until_exit(server))
        sampling = asyncio.create_task(_cpus_busy(started))
        replacing = asyncio.create_task(replace(start_again, server.pid, started))
        answers = await viewers.ask(f"restarted {started} {BACK_TIMEOUT}")
        replacement, tries, answering = await replacing
        old_exit = await asyncio.wait_for(exited, 60)
        drain_cpu = await draining
        sampling.cancel()
        cpus_busy = await sampling
        if profile is not None:
            _, err = await asyncio.to_thread(profile.communicate, None, 120)
            result["profile"] = str(options.py_spy) if profile.returncode == 0 else err.decode()[-500:]
        back = sorted(t for answer in answers for t in answer["back"])
        result.update(
            {
                "back": len(back),
                "lost": sum(a["not_back"] for a in answers),
                "back_p50_s": _at(back, 0.5),
                "back_p99_s": _at(back, 0.99),
                "back_max_s": round(back[-1], 3) if back else None,
                "back_mean_s": round(statistics.fmean(back), 3) if back else None,
                "back_per_second": _per_second(back),
                "failed_handshakes": sum(a["failed_handshakes"] for a in answers),
                "timed_out_handshakes": sum(a["timed_out_handshakes"] for a in answers),
                "turned_away": sum(a["turned_away"] for a in answers),
                "attempts": sum(a["attempts"] for a in answers),
                "gave_up": sum(a["gave_up"] for a in answers),
                "closed_with": _summed(a["closed_with"] for a in answers),
                "attempt_outcomes": _summed(a["reasons"] for a in answers),
                "listen_overflows": netstat("ListenOverflows") - overflows,
                "listen_drops": netstat("ListenDrops") - drops,
                "old_exit_s": round(old_exit, 3),
                "old_exit_code": server.process.returncode,
                "old_cpu_after_sigterm_s": round(drain_cpu, 3),
                "cpus_busy_per_500ms": cpus_busy,
                "old_shutdown_log": [
                    line
                    for line in server.log_path.read_text(errors="replace").splitlines()
                    if "shutdown:" in line or "gc:" in line
                ][-8:],
                "replacement_starts": tries,
                "replacement_answering_s": round(answering, 3),
                "replacement_sockets": _sockets(replacement),
            }
        )
    finally:
        await viewers.close()
        if replacement is not None:
            replacement.stop()
    return result


def _cpu_ticks() -> list[tuple[int, int]]:
    """Per CPU: (busy, total) jiffies since boot, from /proc/stat."""
    found = []
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("cpu") and line[3:4].isdigit():
            values = [int(v) for v in line.split()[1:]]
            idle = values[3] + values[4]
            found.append((sum(values) - idle, sum(values)))
    return found


async def _cpus_busy(started: float) -> list[list[float]]:
    """Every 500 ms after `started`: each CPU's busy fraction (the servers run on CPU 0)."""
    series: list[list[float]] = []
    before = _cpu_ticks()
    try:
        while True:
            await asyncio.sleep(0.5)
            now = _cpu_ticks()
            series.append(
                [round(time.monotonic() - started, 1)]
                + [round((b - a) / max(1, t - u), 2) for (a, u), (b, t) in zip(before, now, strict=True)]
            )
            before = now
    except asyncio.CancelledError:
        return series


async def _cpu_until_exit(server: Server) -> float:
    """CPU seconds the serving process spends from now until it exits (sampled every 20 ms)."""
    first = last = server.cpu_seconds()
    while True:
        await asyncio.sleep(0.02)
        try:
            last = server.cpu_seconds()
        except (OSError, IndexError):
            return last - first


def _sockets(server: Server) -> object:
    """The replacement's open sockets as its /healthz counts them (a 503 still says)."""
    try:
        return server.health().get("sockets")
    except urllib.error.HTTPError as error:
        body: dict[str, object] = json.loads(error.read() or b"{}")
        return body.get("sockets")
    except (OSError, ValueError) as error:
        return str(error)


def _at(ordered: list[float], fraction: float) -> float | None:
    return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 3) if ordered else None


def _per_second(ordered: list[float]) -> list[int]:
    """How many viewers came back in each second after the SIGTERM."""
    counts = [0] * (int(ordered[-1]) + 1 if ordered else 0)
    for t in ordered:
        counts[int(t)] += 1
    return counts


def _summed(parts: Any) -> dict[str, int]:
    total: dict[str, int] = {}
    for part in parts:
        for key, count in part.items():
            total[key] = total.get(key, 0) + count
    return total
