"""Run the fan-out benchmark: the app and the Node `ws` reference under the same load.

    python -m bench --viewers 1000 5000 10000          # broadcast latency and GET / , both servers
    python -m bench --mode writes --viewers 1000       # goals per second, 80 scorer sockets
    python -m bench --mode slow --viewers 1000         # viewers that stop reading: 0, 1, then 10
    python -m bench --mode hostile --viewers 25000     # one address flooding half-sent messages
    python -m bench --mode restart --viewers 19900     # SIGTERM, a replacement on the same port
    python -m bench --smoke                            # 200 viewers, 5 goals (CI)

Exits 1 if any viewer lost or got a duplicated goal, or a page request failed; never because of
a time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
from importlib.metadata import version
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from .board import reference_board
from .hostile import hostile
from .report import failures, table
from .restart import restart
from .run import Options, broadcast, writes
from .servers import Server, start_app, start_node
from .slow import slow
from .viewers import raise_file_limit

SCORER_SOCKETS = 200


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    memory = next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if "MemTotal" in line)
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "memory_gib": round(int(memory) / 1024 / 1024, 1),
        "python": platform.python_version(),
        "hypercorn": version("hypercorn"),
        "quart": version("quart"),
        "node": node,
        "file_limit": raise_file_limit(),
    }


async def one_server(name: str, work: Path, options: Options, mode: str, board: dict[str, object]) -> dict[str, Any]:
    cpus = options.server_cpus
    max_sockets = options.viewers + SCORER_SOCKETS + options.writers + max(options.stalled, default=0)
    server: Server = (
        start_app(work, cpus, max_sockets, options.matches) if name == "app" else start_node(work, cpus, board)
    )

    def start_again() -> Server:
        if name == "app":
            return start_app(work, cpus, max_sockets, port=server.port, database=server.database, wait=False)
        return start_node(work, cpus, board, port=server.port, wait=False)

    try:
        if mode == "restart":
            return await restart(server, options, start_again)
        if mode == "writes":
            return await writes(server, options)
        if mode == "slow":
            return await slow(server, options)
        if mode == "hostile":
            return await hostile(server, options.viewers)
        return await broadcast(server, options)
    except Exception as error:
        raise RuntimeError(f"{name}: {error}\n--- server log (tail) ---\n{server.log()}") from error
    finally:
        server.stop()


async def run_all(args: argparse.Namespace) -> dict[str, Any]:
    board = await reference_board()
    if not args.no_pin and hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, set(range(1, os.cpu_count() or 2)))
    results: dict[str, Any] = {"machine": machine(), "runs": []}
    with tempfile.TemporaryDirectory(prefix="livescores-bench-") as folder:
        for viewers in args.viewers:
            options = Options(
                viewers=viewers,
                goals=args.goals,
                interval=args.interval,
                processes=args.processes,
                concurrency=args.concurrency,
                client_loop=args.client_loop,
                server_cpus=None if args.no_pin else "0",
                client_cpus=None if args.no_pin else "1-" + str(max(1, (os.cpu_count() or 2) - 1)),
                page_rate=args.page_rate if args.mode == "latency" else 0.0,
                stalled=tuple(args.stalled),
                fill_bytes=args.fill_kib * 1024,
                hold=args.hold,
                writers=args.writers if args.mode == "writes" else 0,
                writer_rate=args.writer_rate,
                write_seconds=args.write_seconds,
                py_spy=args.py_spy,
                matches=args.matches,
            )
            run: dict[str, Any] = {"mode": args.mode, "viewers": viewers}
            for name in args.servers:
                print(f"# {args.mode}: {viewers} viewers on {name} ...", file=sys.stderr, flush=True)
                run[name] = await one_server(name, Path(folder), options, args.mode, board)
            results["runs"].append(run)
            print(table(run), flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mode", choices=("latency", "slow", "writes", "hostile", "restart"), default="latency")
    parser.add_argument("--viewers", type=int, nargs="+", default=[1000])
    parser.add_argument("--goals", type=int, default=20)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between goals")
    parser.add_argument("--servers", nargs="+", choices=("app", "node"), default=["app", "node"])
    parser.add_argument("--processes", type=int, default=2, help="viewer processes")
    parser.add_argument("--concurrency", type=int, default=100, help="handshakes in flight")
    parser.add_argument(
        "--client-loop",
        choices=("asyncio", "uvloop"),
        default="uvloop" if find_spec("uvloop") else "asyncio",
        help="event loop of the viewer processes (uvloop when installed: a cheaper client)",
    )
    parser.add_argument("--no-pin", action="store_true", help="do not pin server and clients to separate cores")
    parser.add_argument(
        "--page-rate", type=float, default=20.0, help="latency mode: GET / per second while goals are sent (0: off)"
    )
    parser.add_argument(
        "--stalled",
        type=int,
        nargs="+",
        default=[1, 10],
        help="slow mode: stalled viewers per run (after a run with 0)",
    )
    parser.add_argument(
        "--fill-kib",
        type=int,
        default=512,
        help="slow mode: KiB each stalled socket is sent beyond what the kernel holds for it (the app's limit: 256)",
    )
    parser.add_argument(
        "--hold", type=float, default=20.0, help="slow mode: seconds of goals after the fill (the app's timeout: 10)"
    )
    parser.add_argument("--writers", type=int, default=80, help="writes mode: scorer sockets")
    parser.add_argument("--writer-rate", type=float, default=9.0, help="writes mode: goals/s per scorer socket")
    parser.add_argument("--write-seconds", type=float, default=10.0)
    parser.add_argument("--py-spy", type=Path, default=None, help="profile the app's broadcast (.svg or raw)")
    parser.add_argument(
        "--matches",
        type=int,
        default=0,
        help="matches stored before the app starts (10 today, the rest on other days); 0: the demo draw",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--smoke", action="store_true", help="200 viewers, 5 goals, 200 ms apart")
    args = parser.parse_args()
    if args.mode == "hostile":
        args.servers = ["app"]  # the reference server has no limits to measure
    if args.smoke:
        args.mode, args.viewers, args.goals, args.interval, args.processes = "latency", [200], 5, 0.2, 1
    results = asyncio.run(run_all(args))
    text = json.dumps(results, indent=2)
    if args.json:
        args.json.write_text(text + "\n")
    print(text)
    problems = failures(results)
    for problem in problems:
        print("FAILED:", problem, file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
