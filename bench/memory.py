"""What one idle socket costs the app's worker, and where that memory goes.

    python -m bench.memory --viewers 1000 [--json results.json]

Two runs on fresh servers, each connecting the viewers the way `python -m bench` does:

1. RSS per idle socket, as the latency mode measures it: the worker's `VmRSS` growth from
   before the viewers connect to 2 s after, divided by the viewers.
2. With `LIVESCORES_TRACEMALLOC` (see livescores/memory_trace.py): a tracemalloc snapshot
   before and 2 s after, and the difference by allocation site, grouped by the innermost
   frame's module into the layers a socket goes through. Tracing holds memory of its own and
   keeps some objects alive a little longer, so its total is read beside run 1, not instead.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time
import tracemalloc
import urllib.request
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import websockets.sync.client
from websockets.typing import Origin

from .run import Options, _start_profile, connect_viewers
from .servers import Server, start_app

# Innermost frame's path fragment -> layer, first match wins.
LAYERS: tuple[tuple[str, str], ...] = (
    ("/hypercorn/asyncio/", "Hypercorn TCPServer, TaskGroup"),
    ("/asyncio/streams.py", "asyncio StreamReader/Writer and buffers"),
    ("/asyncio/selector_events.py", "asyncio transport"),
    ("/asyncio/", "asyncio tasks, futures, locks, handles"),
    ("/hypercorn/protocol/h11.py", "Hypercorn H11Protocol"),
    ("/hypercorn/protocol/ws_stream.py", "Hypercorn WSStream (scope, handshake)"),
    ("/hypercorn/", "Hypercorn other"),
    ("/h11/", "h11"),
    ("/wsproto/", "wsproto"),
    ("/livescores/", "app"),
    ("/quart/", "Quart"),
)


def layer(filename: str) -> str:
    for fragment, name in LAYERS:
        if fragment in filename:
            return name
    return "other: " + Path(filename).name


def layer_of(traceback: tracemalloc.Traceback) -> str:
    """The innermost frame's layer; for asyncio's tasks, futures and queues, also whose they are
    (the nearest caller outside asyncio)."""
    if not traceback:
        return "unknown"
    name = layer(traceback[-1].filename)
    if name.startswith("asyncio tasks"):
        caller = next((f for f in reversed(traceback) if layer(f.filename) != name), None)
        return f"asyncio tasks, futures, queues of: {layer(caller.filename) if caller else 'asyncio'}"
    return name


async def _connected(server: Server, viewers: int) -> tuple[Any, dict[str, Any]]:
    client_loop = "uvloop" if find_spec("uvloop") else "asyncio"
    options = Options(viewers=viewers, client_loop=client_loop)
    return await connect_viewers(server, options)


async def rss_run(viewers: int, py_spy: Path | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        server = start_app(Path(folder), "0", viewers + 100)
        try:
            _warm_up(server)
            await asyncio.sleep(0.5)
            before = server.rss_kib()
            # Long enough for the connects at a few hundred a second; it stops when the server does.
            profile = _start_profile(server, py_spy, viewers / 200 + 10) if py_spy is not None else None
            clients, result = await _connected(server, viewers)
            if profile is not None:
                profile.send_signal(signal.SIGINT)  # py-spy writes what it has so far
                profile.wait(60)
            try:
                await asyncio.sleep(2.0)
                idle = server.rss_kib()
            finally:
                await clients.close()
        finally:
            server.stop()
    connected = result["connected"]
    return {
        "connected": connected,
        "connects_per_second": result["connects_per_second"],
        "rss_before_mib": round(before / 1024, 1),
        "rss_idle_mib": round(idle / 1024, 1),
        "rss_per_socket_kib": round((idle - before) / connected, 1) if connected else None,
    }


def _snapshot(server: Server, folder: Path, index: int, timeout: float = 60) -> tracemalloc.Snapshot:
    os.kill(server.pid, signal.SIGUSR2)
    path = folder / f"snapshot-{server.pid}-{index}.tracemalloc"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            size = path.stat().st_size
            time.sleep(0.5)
            if size and path.stat().st_size == size:
                return tracemalloc.Snapshot.load(str(path))
        else:
            time.sleep(0.2)
    raise RuntimeError(f"no snapshot at {path}:\n{server.log()}")


def _warm_up(server: Server) -> None:
    """What the first page and socket load once (translations, locale data) is not per socket."""
    with urllib.request.urlopen(server.url + "/", timeout=10) as page:
        page.read()
    ws_url = server.url.replace("http://", "ws://") + "/ws"
    with websockets.sync.client.connect(ws_url, origin=Origin(server.origin), open_timeout=10) as socket:
        socket.recv(timeout=10)


async def trace_run(viewers: int, top: int, keep: Path | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        traces = keep or Path(folder) / "traces"
        server = start_app(Path(folder), "0", viewers + 100, env_extra={"LIVESCORES_TRACEMALLOC": str(traces)})
        try:
            _warm_up(server)
            await asyncio.sleep(0.5)
            before = _snapshot(server, traces, 0)
            clients, result = await _connected(server, viewers)
            try:
                await asyncio.sleep(2.0)
                after = _snapshot(server, traces, 1)
            finally:
                await clients.close()
        finally:
            server.stop()
    connected = result["connected"] or 1
    differences = after.compare_to(before, "traceback")
    layers: dict[str, list[int]] = {}
    for stat in differences:
        name = layer_of(stat.traceback)
        into = layers.setdefault(name, [0, 0])
        into[0] += stat.size_diff
        into[1] += stat.count_diff
    sites = after.compare_to(before, "lineno")
    return {
        "connected": result["connected"],
        "traced_bytes_per_socket": round(sum(s.size_diff for s in differences) / connected),
        "layers": {
            name: {"bytes_per_socket": round(size / connected), "blocks_per_socket": round(count / connected, 2)}
            for name, (size, count) in sorted(layers.items(), key=lambda item: -item[1][0])
        },
        "sites": [
            {
                "site": f"{_short(s.traceback[-1].filename)}:{s.traceback[-1].lineno}",
                "bytes_per_socket": round(s.size_diff / connected),
                "blocks_per_socket": round(s.count_diff / connected, 2),
            }
            for s in sites[:top]
        ],
    }


def _short(filename: str) -> str:
    for marker in ("site-packages/", "lib/python3", "livescores/"):
        if marker in filename:
            tail = filename.split(marker, 1)[1]
            return ("livescores/" + tail) if marker == "livescores/" else tail
    return filename


def report(rss: dict[str, Any] | None, traced: dict[str, Any] | None) -> str:
    lines = []
    if rss is not None:
        lines.append(
            f"RSS: {rss['rss_per_socket_kib']} KiB per idle socket ({rss['connected']} sockets, "
            f"{rss['rss_before_mib']} -> {rss['rss_idle_mib']} MiB; {rss['connects_per_second']} connects/s)"
        )
    if traced is not None:
        lines.append(f"traced: {traced['traced_bytes_per_socket']} B per socket ({traced['connected']} sockets)")
        lines.append(f"{'bytes':>7} {'blocks':>7}  layer")
        for name, figures in traced["layers"].items():
            if abs(figures["bytes_per_socket"]) < 16:
                continue
            lines.append(f"{figures['bytes_per_socket']:>7} {figures['blocks_per_socket']:>7}  {name}")
        lines.append(f"{'bytes':>7} {'blocks':>7}  site")
        for site in traced["sites"]:
            lines.append(f"{site['bytes_per_socket']:>7} {site['blocks_per_socket']:>7}  {site['site']}")
    return "\n".join(lines)


async def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__.split("\n\n")[0])
    parser.add_argument("--viewers", type=int, default=1000)
    parser.add_argument("--top", type=int, default=30, help="allocation sites listed")
    parser.add_argument("--no-rss", action="store_true", help="only the traced run")
    parser.add_argument("--no-trace", action="store_true", help="only the RSS run")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--py-spy", type=Path, default=None, help="profile the worker while the viewers connect")
    parser.add_argument("--snapshots", type=Path, default=None, help="keep the two snapshots in this folder")
    args = parser.parse_args(argv)
    rss = None if args.no_rss else await rss_run(args.viewers, args.py_spy)
    traced = None if args.no_trace else await trace_run(args.viewers, args.top, args.snapshots)
    print(report(rss, traced))
    if args.json is not None:
        args.json.write_text(json.dumps({"viewers": args.viewers, "rss": rss, "traced": traced}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
