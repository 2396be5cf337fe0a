"""Store write throughput: goals committed per second by `Store.record` alone, no server.

    python -m bench.store                                        # SQLite, this tree beside 198f062
    python -m bench.store --rate 500                             # CPU and latency at the target rate
    python -m bench.store --database postgresql+asyncpg://127.0.0.1:5432/test
    python -m bench.store --against none --rounds 3 --seconds 2  # this tree only

Each round opens a `Store` on a fresh database (a SQLite file in a temporary folder, or a
scratch PostgreSQL database made beside the given one and dropped afterwards) holding the demo
draw, every match kicked off. Then `--writers` coroutines record goals, each as soon as its
previous one returned (or at its share of `--rate`), for `--seconds`; every acknowledged goal
must be in the store afterwards. The code of `--against` (a git revision of
`livescores/store.py`, loaded as a module of its own) runs in the same rounds, alternating with
this tree's, so both see the same machine load. Prints per code the medians over rounds of:
goals per second, the p50 and p99 latency of one `record` call, and the process's CPU time
(event loop and SQLite thread together) per goal.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import itertools
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

import livescores.store
from livescores.fixtures import demo_draw
from livescores.matches import Event

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_AGAINST = "198f062"


@dataclass
class Round:
    goals: int
    seconds: float
    cpu_seconds: float = 0.0  # of the whole process, both threads: what the writes cost the server
    latencies: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.goals / self.seconds

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def store_module_at(revision: str) -> ModuleType:
    """`livescores/store.py` as it was at a revision, importable beside today's: its relative
    imports resolve in the `livescores` package."""
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{revision}:livescores/store.py"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    name = f"livescores._store_at_{revision.replace('-', '_').replace('~', '_').replace('^', '_')}"
    spec = importlib.util.spec_from_loader(name, loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "livescores"
    sys.modules[name] = module
    exec(compile(source, f"{revision}:livescores/store.py", "exec"), module.__dict__)
    return module


@asynccontextmanager
async def scratch_database(database: str | None, folder: Path) -> AsyncIterator[str]:
    """A fresh, empty database of the kind asked for, removed afterwards."""
    if database is None or make_url(database).get_backend_name() == "sqlite":
        yield f"sqlite+aiosqlite:///{folder / f'store-{secrets.token_hex(4)}.db'}"  # removed with the folder
        return
    url = make_url(database)
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"livescores_bench_{secrets.token_hex(6)}"
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


async def one_round(module: ModuleType, url: str, writers: int, seconds: float, rate: float) -> Round:
    store: Any = module.Store(url)
    try:
        await store.migrate()
        kick_off = Event("kick_off", datetime.now(UTC), recorded_by="bench")
        await store.add_matches_if_empty(demo_draw(), opening=[kick_off])
        match_ids = [match.id for match in await store.all_matches()]
        result = Round(goals=0, seconds=0.0)

        async def writer(number: int, start: float, deadline: float) -> None:
            sides = itertools.cycle(("home", "away"))
            match_id = match_ids[number % len(match_ids)]
            for n in itertools.count():
                if rate:  # each writer its share of the rate, evenly spread; late ones catch up
                    due = start + (number + n * writers) / rate
                    if due >= deadline:
                        return
                    await asyncio.sleep(max(0.0, due - time.perf_counter()))
                elif time.perf_counter() >= deadline:
                    return
                started = time.perf_counter()
                await store.record(match_id, Event("goal", datetime.now(UTC), side=next(sides)))
                result.latencies.append(time.perf_counter() - started)
                result.goals += 1

        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(writer(n, started, started + seconds) for n in range(writers)))
        result.seconds = time.perf_counter() - started
        result.cpu_seconds = time.process_time() - cpu
        stored = sum(m.home_score + m.away_score for m in await store.all_matches())
        if stored != result.goals:
            raise AssertionError(f"{result.goals} goals acknowledged but {stored} stored")
        return result
    finally:
        await store.close()


def summary(rounds: list[Round]) -> tuple[float, float, float, float]:
    return (
        statistics.median(r.rate for r in rounds),
        statistics.median(r.percentile(0.50) for r in rounds) * 1000,
        statistics.median(r.percentile(0.99) for r in rounds) * 1000,
        statistics.median(r.cpu_seconds / max(1, r.goals) for r in rounds) * 1e6,
    )


async def run(args: argparse.Namespace) -> None:
    codes: dict[str, ModuleType] = {}
    if args.against != "none":
        codes[args.against] = store_module_at(args.against)
    codes["this tree"] = livescores.store
    rounds: dict[str, list[Round]] = {label: [] for label in codes}
    kind = "sqlite" if args.database is None else make_url(args.database).get_backend_name()
    offered = f"{args.rate:g} goals/s offered" if args.rate else "as fast as they can"
    print(f"# {kind}: {args.writers} writers, {offered}, {args.seconds:g} s per round, {args.rounds} rounds")
    with tempfile.TemporaryDirectory(prefix="livescores-store-bench-") as folder:
        for number in range(args.rounds):
            # Alternate which code goes first, so neither always meets a warmer or a colder machine.
            order = list(codes.items()) if number % 2 == 0 else list(reversed(codes.items()))
            for label, module in order:
                async with scratch_database(args.database, Path(folder)) as url:
                    done = await one_round(module, url, args.writers, args.seconds, args.rate)
                rounds[label].append(done)
                print(
                    f"  round {number + 1} {label:>10}: {done.rate:7.0f} goals/s, "
                    f"p50 {done.percentile(0.5) * 1000:6.1f} ms, p99 {done.percentile(0.99) * 1000:6.1f} ms, "
                    f"{done.cpu_seconds / max(1, done.goals) * 1e6:5.0f} µs CPU/goal",
                    file=sys.stderr,
                    flush=True,
                )
    print(
        f"{'code':>10}  {'goals/s':>8}  {'p50 ms':>7}  {'p99 ms':>7}  {'CPU µs/goal':>11}"
        f"   ({kind}, medians of {args.rounds} rounds)"
    )
    for label, done in rounds.items():
        rate, p50, p99, cpu = summary(done)
        print(f"{label:>10}  {rate:8.0f}  {p50:7.1f}  {p99:7.1f}  {cpu:11.0f}")
    if len(codes) == 2:
        before, after = (summary(done) for done in rounds.values())
        ratios = [a / b for a, b in zip(after, before, strict=True)]
        print(f"{'after/before':>10}  {ratios[0]:7.2f}x  {ratios[1]:6.2f}x  {ratios[2]:6.2f}x  {ratios[3]:10.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.store", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default=None, help="a PostgreSQL URL to make scratch databases beside")
    parser.add_argument("--writers", type=int, default=80)
    parser.add_argument("--rate", type=float, default=0, help="goals/s offered by all writers; 0: each writer flat out")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--against", default=DEFAULT_AGAINST, help="git revision to compare with, or none")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
