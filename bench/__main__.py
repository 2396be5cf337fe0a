"""Run the fan-out benchmark: the app and the Node `ws` reference under the same load.

    python -m bench --viewers 1000 5000 10000          # broadcast latency and GET / , both servers
    python -m bench --mode writes --viewers 1000       # goals per second, 80 scorer sockets
    python -m bench --mode slow --viewers 1000         # viewers that stop reading: 0, 1, then 10
    python -m bench --mode hostile --viewers 25000     # one address flooding half-sent messages
    python -m bench --servers app app-uvloop node      # the app with asyncio's loop and uvloop's
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
from dataclasses import replace
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
VIEWERS_PER_PROCESS = 19_000


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
    if name.startswith("app") and options.workers > 1 and options.server_cpus is not None:
        # Several workers are not pinned to the server's one core: workers and load generator
        # share every core, as the kernel schedules them.
        every = f"0-{(os.cpu_count() or 2) - 1}"
        options = replace(options, server_cpus=every, client_cpus=every)
    cpus = options.server_cpus
    max_sockets = options.viewers + SCORER_SOCKETS + options.writers + max(options.stalled, default=0)
    loop = "uvloop" if name == "app-uvloop" else "asyncio"
    server: Server = (
        start_app(
            work,
            cpus,
            max_sockets,
            options.matches,
            _app_env(options),
            options.workers,
            options.redis_url,
            loop=loop,
        )
        if name.startswith("app")
        else start_node(work, cpus, board)
    )

    def start_again() -> Server:
        if name.startswith("app"):
            return start_app(
                work,
                cpus,
                max_sockets,
                env_extra=_app_env(options),
                loop=loop,
                port=server.port,
                database=server.database,
                wait=False,
            )
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


def _app_env(options: Options) -> dict[str, str]:
    """What the bench's options set in the app's environment."""
    # Scorers' room is kept out of the file limit's budget (100 by default): at 19,900 viewers
    # under a limit of 20,000 that would leave 19,812 for viewers. The bench needs its writers'
    # sockets and a few of its own (the timed scorer, the calendar's, slow mode's ten).
    env: dict[str, str] = {"LIVESCORES_MAX_SCORER_SOCKETS": str(options.writers + 12)}
    if options.stall_log_ms > 0:
        env["LIVESCORES_STALL_LOG_MS"] = str(options.stall_log_ms)
    return env


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
                stall_log_ms=args.stall_log_ms,
                workers=args.workers,
                redis_url=args.redis_url if args.bus == "redis" else None,
                idle_seconds=args.idle_seconds,
            )
            # A viewer process holds its share of the sockets under the file limit (20,000 here).
            options = replace(options, processes=max(options.processes, -(-viewers // VIEWERS_PER_PROCESS)))
            run: dict[str, Any] = {"mode": args.mode, "viewers": viewers}
            if args.workers > 1:
                run["workers"], run["bus"] = args.workers, args.bus
            for name in args.servers:
                # Beside N workers, Node `ws` holds what one worker holds: its one process, one core.
                each = replace(options, viewers=viewers // args.workers) if name == "node" else options
                print(f"# {args.mode}: {each.viewers} viewers on {name} ...", file=sys.stderr, flush=True)
                load = os.getloadavg()[0]
                run[name] = await one_server(name, Path(folder), each, args.mode, board)
                # The machine is shared: how busy it was, before and after this server's run.
                run[name]["load_average"] = [round(load, 2), round(os.getloadavg()[0], 2)]
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
    parser.add_argument(
        "--servers",
        nargs="+",
        choices=("app", "app-uvloop", "node"),
        default=["app", "node"],
        help="app-uvloop: the app under `hypercorn -k uvloop`",
    )
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
    parser.add_argument(
        "--stall-log-ms",
        type=float,
        default=0.0,
        help="the app logs event-loop stalls longer than this, with what ran (in the JSON as `stalls`); 0: off",
    )
    parser.add_argument("--workers", type=int, default=1, help="the app's Hypercorn workers (hypercorn -w N)")
    parser.add_argument(
        "--bus", choices=("memory", "redis"), default="memory", help="the bus between the app's workers"
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), help="with --bus redis"
    )
    parser.add_argument(
        "--idle-seconds",
        type=float,
        default=0.0,
        help="latency mode: after the goals, count the bytes an idle socket gets for this long (matches in play)",
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
