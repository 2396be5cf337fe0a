"""Slow consumers: viewers that stop reading, driven past every buffer between them and the
server, while the other viewers are timed.

Bytes pushed to a socket whose peer does not read pile up first in the kernel (the peer's
receive buffer, then this socket's send queue, which Linux lets grow to `tcp_wmem`'s maximum,
4 MiB by default, about 2.7 MiB of it payload), and only then in the server process: the app
keeps writing to the transport until its buffer holds `WRITE_BUFFER_LIMIT` (256 KiB), then
moves the socket to its coalescing outbox, whose send times out after the outbox timeout (10 s)
and closes the socket with 1013. So the fill is sized in bytes: it goes on until every stalled
socket has been sent `fill_bytes` more than the kernel holds for it (read from /proc/net/tcp).

On the app the stalled viewers and a reading twin of theirs (the witness, which counts the
bytes pushed) show the target match's page (`/ws?match=ID`), because its timeline push grows
with every event: a few hundred goals push megabytes, where board rows (500 bytes a goal, at the
app's few dozen goals a second) would take minutes. Both kinds of socket take the same path
(`Connection.push`: direct write, then outbox). The Node reference has board sockets only and
no limit of its own, so there they are board sockets, and the fill (thousands of rows) comes
before the timed viewers connect, not after: it would otherwise go to all of them too.
"""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from livescores.websocket import WRITE_BUFFER_LIMIT

from .clients import Scorer, ViewerProcesses, open_scorers, open_stalled_viewer
from .run import Options, connect_viewers, latencies, send_goals, until_settled
from .servers import Server, scorer_cookie
from .wsclient import Viewer, open_viewer

STALLED_SOURCE = "127.0.0.9"
WITNESS_SOURCE = "127.0.0.8"
RECEIVE_BUFFER = 4096
SAMPLE_SECONDS = 0.5
FILL_LIMIT_SECONDS = 120.0
RELEASE_SECONDS = 20.0
TCP_STATES = {
    "01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RECV", "04": "FIN_WAIT1", "05": "FIN_WAIT2",
    "06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT", "09": "LAST_ACK", "0A": "LISTEN", "0B": "CLOSING",
}  # fmt: skip


def kernel_send_limit() -> int:
    """The most the kernel queues for one TCP socket (tcp_wmem's maximum)."""
    return int(Path("/proc/sys/net/ipv4/tcp_wmem").read_text().split()[2])


def _proc_address(address: tuple[str, int]) -> str:
    """An IPv4 address as /proc/net/tcp writes it on a little-endian machine: bytes reversed, in hex."""
    return socket.inet_aton(address[0])[::-1].hex().upper() + f":{address[1]:04X}"


def tcp_table() -> dict[tuple[str, str], tuple[str, int, int]]:
    """(local, remote) -> (state, send queue, receive queue) of every IPv4 TCP socket here."""
    table: dict[tuple[str, str], tuple[str, int, int]] = {}
    with open("/proc/net/tcp") as lines:
        next(lines)
        for line in lines:
            fields = line.split()
            send, receive = fields[4].split(":")
            table[(fields[1], fields[2])] = (fields[3], int(send, 16), int(receive, 16))
    return table


@dataclass
class Stalled:
    """One stalled viewer, and where its bytes are: the server's send queue, its own receive queue."""

    viewer: Viewer
    client: str
    server: str
    passed_limit_at: float | None = None

    @classmethod
    def of(cls, viewer: Viewer, server: Server) -> Stalled:
        assert viewer.transport is not None
        client = _proc_address(viewer.transport.get_extra_info("sockname"))
        return cls(viewer, client, _proc_address(("127.0.0.1", server.port)))

    def kernel(self, table: dict[tuple[str, str], tuple[str, int, int]]) -> tuple[str, int]:
        """The server side's TCP state, and the bytes both kernels hold for this socket."""
        server_side = table.get((self.server, self.client))
        client_side = table.get((self.client, self.server))
        state = TCP_STATES.get(server_side[0], server_side[0]) if server_side else "gone"
        return state, (server_side[1] if server_side else 0) + (client_side[2] if client_side else 0)

    def beyond_kernel(self, pushed: int, table: dict[tuple[str, str], tuple[str, int, int]]) -> int:
        """Bytes pushed to this socket that neither kernel holds: held, coalesced or dropped by
        the server process."""
        return pushed - self.viewer.bytes - self.kernel(table)[1]


@dataclass
class Sampler:
    """Every half second: the server's RSS, its socket count, and each stalled socket's queues."""

    server: Server
    stalled: list[Stalled]
    witness: Viewer
    started: float = field(default_factory=time.monotonic)
    others: int | None = None  # the sockets the server holds besides the stalled ones, once known
    samples: list[dict[str, Any]] = field(default_factory=list)
    task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.wait({self.task})

    async def _run(self) -> None:
        while True:
            others = self.others
            sockets = (await asyncio.to_thread(self.server.health)).get("sockets")
            table = tcp_table()
            now = time.monotonic()
            for one in self.stalled:
                if one.passed_limit_at is None and one.beyond_kernel(self.witness.bytes, table) > WRITE_BUFFER_LIMIT:
                    one.passed_limit_at = now
            held = sockets - others if isinstance(sockets, int) and others is not None else None
            self.samples.append(
                {
                    "at": now,
                    "rss_kib": self.server.rss_kib(),
                    "held": held,
                    "others": others,
                    "kernel_bytes": [one.kernel(table)[1] for one in self.stalled],
                }
            )
            await asyncio.sleep(SAMPLE_SECONDS)

    def rss_peak_mib(self, since: float) -> float | None:
        values = [s["rss_kib"] for s in self.samples if s["at"] >= since]
        return round(max(values) / 1024, 1) if values else None

    def drops(self) -> list[float]:
        """When the server let go of stalled sockets: one time per socket, from its count. Only
        samples taken with the same count of other sockets are compared."""
        times: list[float] = []
        previous: dict[str, Any] | None = None
        for sample in self.samples:
            if sample["held"] is None:
                continue
            if previous is not None and previous["others"] == sample["others"] and sample["held"] < previous["held"]:
                times += [sample["at"]] * (previous["held"] - sample["held"])
            previous = sample
        return times

    def held_at(self, moment: float) -> int | None:
        before = [s["held"] for s in self.samples if s["at"] <= moment and s["held"] is not None]
        return before[-1] if before else None


async def fill(
    server: Server,
    fillers: list[Scorer],
    target: str,
    witness: Viewer,
    stalled: list[Stalled],
    need: int,
    beyond: int,
    pace: tuple[int, float],
) -> dict[str, Any]:
    """Goals on the target match until the witness has been pushed `need` bytes and each stalled
    socket `beyond` bytes more than the kernel holds for it. Each filler sends `pace[0]` goals at
    a time, at most one batch every `pace[1]` seconds, and waits for their answers before the
    next batch, so nothing is left queued in the server when the fill ends."""
    started, start_bytes, cpu = time.monotonic(), witness.bytes, server.cpu_seconds()
    done = asyncio.Event()
    accepted = 0

    async def score(filler: Scorer) -> None:
        nonlocal accepted
        while not done.is_set():
            sent = time.monotonic()
            answered = await filler.goals_answered(target, pace[0])
            accepted += answered
            await asyncio.sleep(max(0.0, sent + pace[1] - time.monotonic()))

    tasks = [asyncio.create_task(score(filler)) for filler in fillers]
    reached = False
    try:
        while time.monotonic() - started < FILL_LIMIT_SECONDS and not any(t.done() for t in tasks):
            await asyncio.sleep(0.1)
            table = tcp_table()
            if witness.bytes - start_bytes >= need and all(
                s.beyond_kernel(witness.bytes, table) >= beyond for s in stalled
            ):
                reached = True
                break
    finally:
        done.set()
        await asyncio.gather(*tasks)
    await asyncio.sleep(0.5)  # the last answers' pushes
    table = tcp_table()
    seconds = time.monotonic() - started
    return {
        "reached": reached,
        "seconds": round(seconds, 2),
        "server_cpu_busy": round((server.cpu_seconds() - cpu) / seconds, 2),
        "goals": accepted,
        "pushed_bytes": witness.bytes - start_bytes,
        "beyond_kernel_bytes": [s.beyond_kernel(witness.bytes, table) for s in stalled],
        "kernel_bytes": [s.kernel(table)[1] for s in stalled],
    }


async def _release(stalled: list[Stalled]) -> list[dict[str, Any]]:
    """Let the stalled viewers read again: what did they get, and did the server close them?"""
    for one in stalled:
        transport = one.viewer.transport
        if transport is not None and not transport.is_closing():
            transport.resume_reading()
    deadline = time.monotonic() + RELEASE_SECONDS
    previous = -1
    while time.monotonic() < deadline:
        await asyncio.sleep(1.0)
        received = sum(one.viewer.bytes for one in stalled)
        if all(one.viewer.lost.done() for one in stalled) or received == previous:
            break
        previous = received
    states = [
        {
            "close_code": one.viewer.close_code,
            "connection_ended": one.viewer.ended,
            "bytes_received": one.viewer.bytes,
            "messages": one.viewer.messages,
            # The viewer answers each with a pong, after which check runs saw resets (README).
            "pings_at_bytes": one.viewer.pings,
        }
        for one in stalled
    ]
    for one in stalled:
        if one.viewer.transport is not None:
            one.viewer.transport.abort()
    return states


def _shown_score(viewer: Viewer, match_id: str) -> int:
    return max((score for score, _ in viewer.goals.get(match_id.encode(), [])), default=0)


async def stall_run(server: Server, options: Options, stalled_count: int, index: int) -> dict[str, Any]:
    """One latency run with `stalled_count` stalled viewers (0: the run to compare with)."""
    match_page = server.name == "app"
    fill_first = not match_page
    cookie = scorer_cookie(server)
    scorer = (await open_scorers(server, cookie, 1))[0]
    # A fresh match per run: the same fill from an empty timeline, and a Node snapshot that is not stale.
    target = scorer.match_ids[index]
    path = f"/ws?match={target}" if match_page else "/ws"
    fillers = await open_scorers(server, scorer_cookie(server, "Filler"), 10 if match_page else 4)
    witness = await open_viewer("127.0.0.1", server.port, server.origin, WITNESS_SOURCE, path=path)
    stalled = [
        Stalled.of(await open_stalled_viewer(server, path, STALLED_SOURCE, RECEIVE_BUFFER), server)
        for _ in range(stalled_count)
    ]
    sampler = Sampler(server, stalled, witness)
    sampler.others = 2 + len(fillers)
    viewers: ViewerProcesses | None = None
    # The app's token bucket allows 10 goals a second per socket; the reference has none.
    pace = (1, 1 / 9) if match_page else (50, 0.0)
    need = kernel_send_limit() + options.fill_bytes
    result: dict[str, Any] = {"stalled_viewers": stalled_count, "stalled_path": path.replace(target, "ID")}
    rss_after_fill = filled_at = rss_before_viewers = rss_idle = 0.0
    try:
        sampler.start()
        rss_before_fill = server.rss_kib()
        if fill_first:
            result["fill"] = await fill(server, fillers, target, witness, stalled, need, options.fill_bytes, pace)
            rss_after_fill, filled_at = server.rss_kib(), time.monotonic()
        rss_before_viewers = server.rss_kib()
        sampler.others = None  # unknown while the viewers connect
        viewers, connected = await connect_viewers(server, options)
        result.update(connected)
        sampler.others = 2 + len(fillers) + connected["connected"]
        await asyncio.sleep(2.0)
        rss_idle = server.rss_kib()
        result["rss_idle_mib"] = round(rss_idle / 1024, 1)
        if not fill_first:
            rss_before_fill = server.rss_kib()
            result["fill"] = await fill(server, fillers, target, witness, stalled, need, options.fill_bytes, pace)
            rss_after_fill, filled_at = server.rss_kib(), time.monotonic()

        # Goals keep flowing for the whole hold; the first `goals` of them are timed.
        first = _shown_score(witness, target) + 1
        held_until = time.monotonic() + options.hold
        cpu_server, wall = server.cpu_seconds(), time.monotonic()
        sent = await send_goals(scorer, target, options.goals, options.interval)
        flowing = 0
        while time.monotonic() < held_until:
            await send_goals(scorer, target, 1, options.interval)
            flowing += 1
        result["server_cpu_busy"] = round((server.cpu_seconds() - cpu_server) / (time.monotonic() - wall), 2)
        await until_settled(viewers, target, first, first + len(sent) - 1)
        reports = await viewers.ask(f"arrivals {target} {first} {first + len(sent) - 1}")
        result.update(latencies(reports, sent, first))
        result["goals_after_timed"] = flowing
        rss_hold_end = server.rss_kib()
        table = tcp_table()
        result["server_tcp_at_hold_end"] = [list(one.kernel(table)) for one in stalled]
        await sampler.stop()
        result["stalled"] = await _release(stalled)
        await asyncio.sleep(1.0)
        rss_released = server.rss_kib()
        passed = [one.passed_limit_at for one in stalled]
        drops = sampler.drops()
        result.update(
            {
                "rss_before_fill_mib": round(rss_before_fill / 1024, 1),
                "rss_after_fill_mib": round(rss_after_fill / 1024, 1),
                "rss_peak_mib": sampler.rss_peak_mib(sampler.started),
                "rss_hold_end_mib": round(rss_hold_end / 1024, 1),
                "rss_released_mib": round(rss_released / 1024, 1),
                # Everything but the viewers' own memory, which the Node runs add after the fill.
                "rss_growth_mib": round(
                    (rss_hold_end - rss_before_fill - (rss_idle - rss_before_viewers if fill_first else 0)) / 1024, 1
                ),
                "held_at_first_goal": sampler.held_at(sent[0]) if sent else None,
                "held_at_last_goal": sampler.held_at(sent[-1]) if sent else None,
                "passed_limit_s": [None if at is None else round(at - sampler.started, 1) for at in passed],
                "dropped_by_server_s": [round(at - sampler.started, 1) for at in drops],
                "dropped_after_limit_s": [
                    round(at - min(p for p in passed if p is not None), 1) for at in drops if any(passed)
                ],
                "filled_s": round(filled_at - sampler.started, 1),
                "rss_over_time": _every_second(sampler),
            }
        )
    finally:
        await sampler.stop()
        for one in stalled:
            if one.viewer.transport is not None:
                one.viewer.transport.abort()
        if witness.transport is not None:
            witness.transport.abort()
        if viewers is not None:
            await viewers.close()
        for filler in fillers:
            await filler.close()
        await scorer.close()
    return result


def _every_second(sampler: Sampler) -> list[list[Any]]:
    """[seconds since the stall began, RSS MiB, stalled sockets the server holds], once a second."""
    series: list[list[Any]] = []
    for sample in sampler.samples:
        at = sample["at"] - sampler.started
        if not series or at - series[-1][0] >= 1.0:
            series.append([round(at, 1), round(sample["rss_kib"] / 1024, 1), sample["held"]])
    return series


async def slow(server: Server, options: Options) -> dict[str, Any]:
    """A run without stalled viewers, one per count in `options.stalled`, and one without again,
    each on its own match. The runs without come first and last, so that a server that warms
    up (or a machine whose load drifts) does not favour the runs with stalled viewers."""
    results = {"without_stalled": await stall_run(server, options, 0, 0)}
    for index, count in enumerate(options.stalled, start=1):
        results[f"stalled_{count}"] = await stall_run(server, options, count, index)
    results["without_stalled_again"] = await stall_run(server, options, 0, len(options.stalled) + 1)
    return results
