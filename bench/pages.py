"""The page prober: `GET /` at a fixed rate while the goals fan out, each on a new connection.

It runs as its own process (`python -m bench.pages`), pinned with the viewer processes, and is
driven over stdin/stdout like them: `start`, `stop` (answers with every probe), `quit`.

A browser arriving at the page opens a new connection, so each probe does: connect, send the
request a browser sends (HTTP/1.1, keep-alive by default), read the headers and exactly
Content-Length bytes of body, then close. The time of a probe runs from just before the
connect to the last byte of the body. Probes start on a fixed schedule whatever the previous
ones are doing (a slow answer does not delay the next request, so it cannot hide a stall),
and the ones still in flight at `stop` are waited for, not dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import socket
import sys
import time
from collections import Counter
from typing import Any

from .servers import Server, pinned
from .wsclient import IP_BIND_ADDRESS_NO_PORT

PROBE_TIMEOUT = 10.0
PAGE_END = b"</html>"


def request(host: str, port: int, path: str = "/") -> bytes:
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {host}:{port}",
        "User-Agent: livescores-bench",
        "Accept: text/html,application/xhtml+xml",
        # The body's size is then the page's own; the app does not compress anyway.
        "Accept-Encoding: identity",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _content_length(head: bytes) -> int | None:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return None


class Prober:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.request = request(args.host, args.port)
        # One per probe: [scheduled, started, ended, body bytes, error or None].
        self.probes: list[list[Any]] = []
        self.in_flight: set[asyncio.Task[None]] = set()
        self.scheduler: asyncio.Task[None] | None = None
        self.cpu = 0.0
        self.wall = 0.0

    def start(self) -> None:
        self.probes = []
        self.cpu, self.wall = time.process_time(), time.monotonic()
        self.scheduler = asyncio.create_task(self._schedule())

    async def stop(self) -> dict[str, Any]:
        if self.scheduler is not None:
            self.scheduler.cancel()
            await asyncio.wait({self.scheduler})
        if self.in_flight:
            await asyncio.wait(self.in_flight)
        return {
            "probes": self.probes,
            "cpu": time.process_time() - self.cpu,
            "wall": time.monotonic() - self.wall,
        }

    async def _schedule(self) -> None:
        first = time.monotonic()
        for n in itertools.count():
            due = first + n / self.args.rate
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            task = asyncio.create_task(self._probe(due))
            self.in_flight.add(task)
            task.add_done_callback(self.in_flight.discard)

    async def _connect(self) -> socket.socket:
        # The port is left to connect() as for the viewers (wsclient.py): a bind to port 0
        # searches the ports the viewers' sockets hold, and that search is inside the timing.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            if self.args.source:
                sock.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
                sock.bind((self.args.source, 0))
            await asyncio.get_running_loop().sock_connect(sock, (self.args.host, self.args.port))
        except BaseException:
            sock.close()
            raise
        return sock

    async def _probe(self, scheduled: float) -> None:
        started = time.monotonic()
        size = 0
        error: str | None = None
        try:
            async with asyncio.timeout(PROBE_TIMEOUT):
                reader, writer = await asyncio.open_connection(sock=await self._connect())
                try:
                    writer.write(self.request)
                    head = await reader.readuntil(b"\r\n\r\n")
                    length = _content_length(head)
                    if length is None:
                        raise ValueError("no Content-Length")
                    body = await reader.readexactly(length)
                finally:
                    writer.close()
            size = len(body)
            status = head.split(b" ", 2)[1].decode("latin-1")
            if status != "200":
                error = f"HTTP {status}"
            elif PAGE_END not in body[-64:]:
                error = "not a whole page"
        except TimeoutError:
            error = f"no whole answer within {PROBE_TIMEOUT:.0f} s"
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, IndexError) as failure:
            error = f"{type(failure).__name__}: {str(failure)[:60]}"
        self.probes.append([scheduled, started, time.monotonic(), size, error])


async def serve(args: argparse.Namespace) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    prober = Prober(args)

    def answer(payload: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(payload) + "\n")
        sys.stdout.flush()

    while True:
        line = (await reader.readline()).decode().strip()
        if line in ("", "quit"):
            if prober.scheduler is not None:
                await prober.stop()
            return
        if line == "start":
            prober.start()
            answer({"started": time.monotonic()})
        elif line == "stop":
            answer(await prober.stop())
        else:
            answer({"error": f"unknown command {line!r}"})


class PageProber:
    """The coordinator's handle on one prober process."""

    def __init__(self, process: asyncio.subprocess.Process, rate: float) -> None:
        self.process = process
        self.rate = rate

    @classmethod
    async def start(cls, server: Server, rate: float, cpus: str | None, loop: str) -> PageProber:
        command = [
            sys.executable, "-m", "bench.pages", "--port", str(server.port), "--rate", str(rate),
            "--source", "127.0.0.7", "--loop", loop,
        ]  # fmt: skip
        process = await asyncio.create_subprocess_exec(
            *pinned(command, cpus), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=1 << 26
        )
        return cls(process, rate)

    async def ask(self, command: str) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(command.encode() + b"\n")
        await self.process.stdin.drain()
        line = await asyncio.wait_for(self.process.stdout.readline(), PROBE_TIMEOUT + 30)
        if not line:
            raise RuntimeError(f"the page prober exited (code {self.process.returncode}) on {command!r}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    async def close(self) -> None:
        if self.process.returncode is None and self.process.stdin is not None:
            self.process.stdin.write(b"quit\n")
            self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), PROBE_TIMEOUT + 10)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


def percentile(values: list[float], share: float) -> float | None:
    """Nearest rank: the smallest value with at least `share` of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def summarise(answer: dict[str, Any], rate: float, fan_outs: list[tuple[float, float]]) -> dict[str, Any]:
    """Count, p50, p99, max and errors of the page times; also over the probes that overlapped a
    fan-out (a goal's send to its last viewer's arrival), where a blocked loop would show."""
    probes = answer["probes"]
    good = [p for p in probes if p[4] is None]
    times = [p[2] - p[1] for p in good]
    overlapping = [p[2] - p[1] for p in good if any(p[1] < end and p[2] > begin for begin, end in fan_outs)]
    wall = answer["wall"]
    return {
        "rate_per_second": rate,
        "count": len(probes),
        "ok": len(good),
        "errors": len(probes) - len(good),
        "error_kinds": dict(Counter(p[4] for p in probes if p[4] is not None).most_common(3)),
        "p50_ms": _ms(percentile(times, 0.5)),
        "p99_ms": _ms(percentile(times, 0.99)),
        "max_ms": _ms(max(times, default=None)),
        "body_bytes": good[0][3] if good else None,
        "during_fan_out": len(overlapping),
        "during_fan_out_max_ms": _ms(max(overlapping, default=None)),
        # The prober's own load: near 1.0, or a late start, would make it the limit, not the server.
        "prober_cpu_busy": round(answer["cpu"] / wall, 3) if wall else None,
        "start_lag_max_ms": _ms(max((p[1] - p[0] for p in probes), default=None)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--rate", type=float, default=20.0, help="requests per second")
    parser.add_argument("--source", default=None, help="local address to connect from, e.g. 127.0.0.7")
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    args = parser.parse_args()
    if args.loop == "uvloop":
        import uvloop

        uvloop.run(serve(args))
    else:
        asyncio.run(serve(args))


if __name__ == "__main__":
    main()
