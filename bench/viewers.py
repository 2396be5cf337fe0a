"""One load-generator process: holds its share of the viewer sockets, driven over stdin/stdout.

Commands arrive one per line on stdin (`connect`, `cpu`, `report`, `arrivals ID FIRST LAST`, `watch`,
`restarted SINCE TIMEOUT`, `quit`);
each answer is one JSON line on stdout. Times are `time.monotonic()`, which is the same clock
in every process on the machine, so the coordinator can compare them with its send times.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import resource
import sys
import time
from collections import Counter
from typing import Any

from .reconnect import Watch
from .wsclient import Viewer, open_viewer

# A worker at its socket cap refuses (1013), and with several workers the next try may reach
# another: at 19,900 sockets per worker under a 20,000 file limit the workers' share of the
# accepts decides who is full first.
CONNECT_ATTEMPTS = 10
SLOW_CONNECT = 0.5


def raise_file_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def connect_times(viewers: list[Viewer], started: float) -> dict[str, Any]:
    """How long each viewer's connect took, split at the TCP connect and the 101: a few stalls
    of a second or more (a lost SYN is retried after 1 s) look nothing like a uniformly slow rate."""
    phases = sorted(
        (v.snapshot_at - v.began_at, v.tcp_at - v.began_at, v.upgraded_at - v.tcp_at, v.began_at - started)
        for v in viewers
        if v.began_at
    )
    if not phases:
        return {}
    totals = [p[0] for p in phases]
    slow = [p for p in phases if p[0] > SLOW_CONNECT]

    def at(fraction: float) -> float:
        return round(totals[min(len(totals) - 1, int(fraction * len(totals)))] * 1000, 1)

    return {
        "p50_ms": at(0.5),
        "p99_ms": at(0.99),
        "max_ms": round(totals[-1] * 1000, 1),
        "over_500ms": len(slow),
        "over_1s": sum(1 for p in phases if p[0] > 1.0),
        # The slowest few: total, TCP connect, connect to 101, when it began (ms after the first).
        "slowest": [[round(x * 1000) for x in p] for p in phases[-5:]],
        "slow_tcp": sum(1 for p in slow if p[1] > SLOW_CONNECT),
        "slow_upgrade": sum(1 for p in slow if p[2] > SLOW_CONNECT),
        # Snapshots completed per 100 ms after the first connect: a stall shows as a run of zeros.
        "per_100ms": per_slot([v.snapshot_at - started for v in viewers if v.snapshot_at], 0.1),
    }


def per_slot(times: list[float], slot: float) -> list[int]:
    counts = [0] * (int(max(times, default=0) / slot) + 1)
    for t in times:
        counts[int(t / slot)] += 1
    return counts


class Worker:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.viewers: list[Viewer] = []
        self.errors: Counter[str] = Counter()
        self.watch: Watch | None = None

    async def connect(self) -> dict[str, Any]:
        gate = asyncio.Semaphore(self.args.concurrency)
        started = time.monotonic()
        retries = 0

        async def one() -> None:
            async with gate:
                for attempt in range(CONNECT_ATTEMPTS):
                    try:
                        viewer = await asyncio.wait_for(
                            open_viewer(self.args.host, self.args.port, self.args.origin, self.args.source), 10
                        )
                    except (OSError, TimeoutError) as error:
                        nonlocal retries
                        retries += 1
                        if attempt == CONNECT_ATTEMPTS - 1:
                            self.errors[type(error).__name__ + ": " + str(error)[:80]] += 1
                        await asyncio.sleep(0.05 * attempt)
                        continue
                    self.viewers.append(viewer)
                    return

        await asyncio.gather(*(one() for _ in range(self.args.count)))
        done = max((v.snapshot_at for v in self.viewers), default=time.monotonic())
        gc.collect()
        gc.freeze()
        return {
            "connected": len(self.viewers),
            "failed": self.args.count - len(self.viewers),
            "errors": dict(self.errors.most_common(5)),
            "started": started,
            "done": done,
            "deflate": sum(v.deflate for v in self.viewers),
            "retries": retries,
            "slow": connect_times(self.viewers, started),
        }

    def report(self) -> dict[str, Any]:
        """Per match and score: how many viewers got it and the last arrival."""
        goals: dict[str, dict[int, list[Any]]] = {}
        finals: dict[str, Counter[int]] = {}
        duplicates = regressions = 0
        for viewer in self.viewers:
            for raw_id, seen in viewer.goals.items():
                match_id = raw_id.decode()
                per_score = goals.setdefault(match_id, {})
                previous = -1
                for score, at in seen:
                    if score == previous:
                        duplicates += 1
                    elif score < previous:
                        regressions += 1
                    previous = max(previous, score)
                    entry = per_score.setdefault(score, [0, 0.0, []])
                    entry[0] += 1
                    entry[1] = max(entry[1], at)
                finals.setdefault(match_id, Counter())[previous] += 1
        closed = Counter(str(v.close_code) for v in self.viewers if v.close_code is not None)
        return {
            "viewers": len(self.viewers),
            "goals": goals,
            "finals": {k: dict(v) for k, v in finals.items()},
            "duplicates": duplicates,
            "regressions": regressions,
            "closed": dict(closed),
            "disconnected": sum(1 for v in self.viewers if v.lost.done()),
        }

    def arrivals(self, match_id: str, first: int, last: int) -> dict[str, Any]:
        """Per goal (score first..last): when each viewer first showed that score or a later
        one. A row superseded by a newer one before it was sent counts as arrived with it."""
        raw_id = match_id.encode()
        times: dict[int, list[float]] = {k: [] for k in range(first, last + 1)}
        superseded = duplicates = regressions = 0
        for viewer in self.viewers:
            # Goals before `first` (a fill on the same match) count for the order, not the times.
            shown = -1
            for score, at in viewer.goals.get(raw_id, []):
                if score == shown:
                    duplicates += 1
                elif score < shown:
                    regressions += 1
                for k in range(max(shown + 1, first), min(score, last) + 1):
                    times[k].append(at)
                    superseded += k < score
                shown = max(shown, score)
        return {
            "viewers": len(self.viewers),
            "times": {str(k): v for k, v in times.items()},
            "superseded": superseded,
            "duplicates": duplicates,
            "regressions": regressions,
            "closed": dict(Counter(str(v.close_code) for v in self.viewers if v.close_code is not None)),
        }

    def arm(self) -> dict[str, Any]:
        """From now on every viewer comes back after a close, as htmx would (bench/reconnect.py)."""
        self.watch = Watch(self.viewers, self.args.host, self.args.port, self.args.origin, self.args.source)
        return {"watching": len(self.viewers)}

    async def restarted(self, since: float, within: float) -> dict[str, Any]:
        if self.watch is None:
            return {"error": "not watching"}
        answer = await self.watch.report(since, within)
        self.viewers = self.watch.viewers()
        return answer

    def close(self) -> None:
        for viewer in self.viewers:
            if viewer.transport is not None:
                viewer.transport.abort()


async def serve(args: argparse.Namespace) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    worker = Worker(args)

    def answer(payload: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(payload) + "\n")
        sys.stdout.flush()

    while True:
        line = (await reader.readline()).decode().strip()
        if line in ("", "quit"):
            worker.close()
            await asyncio.sleep(0.1)
            return
        if line == "connect":
            answer(await worker.connect())
        elif line == "cpu":
            answer({"cpu": time.process_time(), "at": time.monotonic()})
        elif line == "bytes":
            viewers = worker.viewers
            answer(
                {
                    "viewers": len(viewers),
                    "bytes": sum(v.bytes for v in viewers),
                    "messages": sum(v.messages for v in viewers),
                }
            )
        elif line == "report":
            answer(worker.report())
        elif line.startswith("arrivals "):
            _, match_id, first, last = line.split()
            answer(worker.arrivals(match_id, int(first), int(last)))
        elif line == "watch":
            answer(worker.arm())
        elif line.startswith("restarted "):
            _, since, timeout = line.split()
            answer(await worker.restarted(float(since), float(timeout)))
        else:
            answer({"error": f"unknown command {line!r}"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--origin", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--source", default=None, help="local address to connect from, e.g. 127.0.0.11")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    args = parser.parse_args()
    raise_file_limit()
    if args.loop == "uvloop":
        import uvloop

        uvloop.run(serve(args))
    else:
        asyncio.run(serve(args))


if __name__ == "__main__":
    main()
