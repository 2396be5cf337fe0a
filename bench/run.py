"""The measurements, each run against one server at a time: broadcast latency (with the page's
load time beside it), and write throughput. The slow-consumer runs are in slow.py."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .calendar_load import Today, first_message, page_size, reach
from .clients import Scorer, ViewerProcesses, open_scorers
from .pages import PageProber, summarise
from .servers import CLOCK_TICKS, Server, scorer_cookie

SETTLE_SECONDS = 3.0


@dataclass(frozen=True)
class Options:
    viewers: int
    goals: int = 20
    interval: float = 0.5
    processes: int = 2
    concurrency: int = 100
    client_loop: str = "asyncio"
    server_cpus: str | None = "0"
    client_cpus: str | None = "1"
    page_rate: float = 0.0
    stalled: tuple[int, ...] = (1, 10)
    fill_bytes: int = 512 * 1024
    hold: float = 20.0
    writers: int = 80
    writer_rate: float = 9.0
    write_seconds: float = 10.0
    py_spy: Path | None = None
    matches: int = 0
    stall_log_ms: float = 0.0  # the app logs event-loop stalls longer than this (0: off)
    workers: int = 1  # the app's Hypercorn workers (`hypercorn -w N`)
    redis_url: str | None = None  # the bus between them; None: each worker's own (memory)
    idle_seconds: float = 0.0  # after the goals: how long to count what reaches an idle socket


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def _merge_goals(reports: list[dict[str, Any]]) -> dict[str, dict[int, list[Any]]]:
    merged: dict[str, dict[int, list[Any]]] = {}
    for report in reports:
        for match_id, per_score in report["goals"].items():
            into = merged.setdefault(match_id, {})
            for score, (count, last, times) in per_score.items():
                entry = into.setdefault(int(score), [0, 0.0, []])
                entry[0] += count
                entry[1] = max(entry[1], last)
                entry[2].extend(times)
    return merged


def _start_profile(server: Server, target: Path, seconds: float) -> subprocess.Popen[bytes]:
    fmt = "flamegraph" if target.suffix == ".svg" else "raw"
    target.parent.mkdir(parents=True, exist_ok=True)
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    command = [py_spy, "record", "--pid", str(server.pid), "--rate", "200", "--nonblocking"]
    command += ["--duration", str(max(1, round(seconds))), "--format", fmt, "--output", str(target)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


async def connect_viewers(server: Server, options: Options) -> tuple[ViewerProcesses, dict[str, Any]]:
    viewers = await ViewerProcesses.start(
        server, options.viewers, options.processes, options.concurrency, options.client_cpus, options.client_loop
    )
    sampler = asyncio.create_task(_sample_connects(server, viewers))
    try:
        answers = await viewers.ask("connect")
    finally:
        sampler.cancel()
    samples = await asyncio.gather(sampler, return_exceptions=True)
    started = min(a["started"] for a in answers)
    done = max(a["done"] for a in answers)
    connected = sum(a["connected"] for a in answers)
    errors: dict[str, int] = {}
    for answer in answers:
        for reason, count in answer["errors"].items():
            errors[reason] = errors.get(reason, 0) + count
    return viewers, {
        "connected": connected,
        "failed": sum(a["failed"] for a in answers),
        "connect_errors": errors,
        "deflate_negotiated": sum(a["deflate"] for a in answers),
        "connect_seconds": round(done - started, 3),
        "connects_per_second": round(connected / (done - started)) if done > started else None,
        "connect_retries": sum(a["retries"] for a in answers),
        "connect_times": [a["slow"] for a in answers],
        "connect_cpu": _connect_cpu(samples[0], started, done) if isinstance(samples[0], list) else None,
    }


def _cpu_of(pid: int, kernel_only: bool = False) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return ((0 if kernel_only else int(fields[11])) + int(fields[12])) / CLOCK_TICKS


async def _sample_connects(server: Server, viewers: ViewerProcesses) -> list[tuple[float, float, float, float, str]]:
    """Every 100 ms while the viewers connect: the server's and the viewer processes' CPU
    seconds, and whatever the server logged meanwhile. The viewer processes cannot be asked
    (they answer one command at a time), so their CPU is read from /proc."""
    samples: list[tuple[float, float, float, float, str]] = []
    log = server.log_path.open("rb")
    log.seek(0, 2)
    try:
        while True:
            client = sum(_cpu_of(p.pid) for p in viewers.processes)
            kernel = sum(_cpu_of(p.pid, kernel_only=True) for p in viewers.processes)
            text = log.read().decode(errors="replace")
            samples.append((time.monotonic(), server.cpu_seconds(), client, kernel, text))
            await asyncio.sleep(0.1)
    except asyncio.CancelledError:
        return samples
    finally:
        log.close()


def _connect_cpu(samples: list[tuple[float, float, float, float, str]], started: float, done: float) -> dict[str, Any]:
    """CPU busy of each side over the connect phase, per 500 ms, and when the server logged a
    full collection."""
    inside = [s for s in samples if started - 0.1 <= s[0] <= done + 0.1]
    if len(inside) < 2:
        return {}
    wall = inside[-1][0] - inside[0][0]
    step = 5
    series = [
        (
            round(b[0] - started, 1),
            round((b[1] - a[1]) / (b[0] - a[0]), 2),
            round((b[2] - a[2]) / (b[0] - a[0]), 2),
            round((b[3] - a[3]) / (b[0] - a[0]), 2),
        )
        for a, b in zip(inside[::step], inside[step::step], strict=False)
    ]
    collections = [
        round(at - started, 2)
        for at, _, _, _, text in samples
        for line in text.splitlines()
        if "gc: full collection" in line
    ]
    return {
        "server_busy": round((inside[-1][1] - inside[0][1]) / wall, 2),
        "client_busy": round((inside[-1][2] - inside[0][2]) / wall, 2),
        "client_kernel_busy": round((inside[-1][3] - inside[0][3]) / wall, 2),
        "per_500ms": series,
        "full_collections_at": collections,
    }


async def broadcast(server: Server, options: Options) -> dict[str, Any]:
    """Connect the viewers, then send goals from one scorer socket and time every arrival; with
    `page_rate`, time `GET /` meanwhile. On a seeded calendar, first what one goal reaches."""
    calendar = await calendar_checks(server) if server.calendar is not None else None
    snapshot = await first_message(server)  # what every (re)connect costs, offering deflate as browsers do
    scorer = (await open_scorers(server, scorer_cookie(server), 1))[0]
    target = scorer.match_ids[0]
    first = 1 + scorer.home_scores.get(target, 0)
    await asyncio.sleep(0.5)
    rss_before = server.rss_kib()
    viewers, result = await connect_viewers(server, options)
    result["first_message"] = snapshot
    pages = (
        await PageProber.start(server, options.page_rate, options.client_cpus, options.client_loop)
        if options.page_rate > 0
        else None
    )
    try:
        await asyncio.sleep(2.0)
        rss_idle = server.rss_kib()
        result["rss_before_mib"] = round(rss_before / 1024, 1)
        result["rss_idle_mib"] = round(rss_idle / 1024, 1)
        connected = result["connected"]
        result["rss_per_socket_kib"] = round((rss_idle - rss_before) / connected, 1) if connected else None

        profile = None
        if options.py_spy is not None and server.name == "app":
            profile = _start_profile(server, options.py_spy, options.goals * options.interval + 1)
            await asyncio.sleep(1.0)
        cpu_server, cpu_clients, wall = server.cpu_seconds(), await viewers.cpu_seconds(), time.monotonic()
        if pages is not None:
            await pages.ask("start")
        sent = await send_goals(scorer, target, options.goals, options.interval)
        # The page is timed while the goals are sent: from the first send to one interval after the last.
        probes = await pages.ask("stop") if pages is not None else None
        await until_settled(viewers, target, first, first + len(sent) - 1)
        wall = time.monotonic() - wall
        cpu_server = server.cpu_seconds() - cpu_server
        result["server_cpu_busy"] = round(cpu_server / wall, 2)
        # What a busy machine changes far less than the times: the server's CPU for each goal's
        # fan-out (and the page loads meanwhile).
        result["server_cpu_ms_per_goal"] = round(cpu_server * 1000 / len(sent), 2) if sent else None
        result["client_cpu_busy"] = round((await viewers.cpu_seconds() - cpu_clients) / wall, 2)
        if profile is not None:
            _, err = profile.communicate(timeout=120)
            result["profile"] = str(options.py_spy) if profile.returncode == 0 else err.decode()[-500:]

        reports = await viewers.ask(f"arrivals {target} {first} {first + len(sent) - 1}")
        result.update(latencies(reports, sent, first))
        if scorer.answered:
            # The scorer's feedback line comes once the goal is stored and its pass handed to
            # every socket: a slow one shows where a slow goal was held up.
            result["scorer_answer_ms"] = [_ms(answer - at) for at, answer in zip(sent, scorer.answered, strict=False)]
        stalls = server.stall_lines()
        if stalls:
            result["stalls"] = stalls
        if len(server.pids) > 1:
            result["workers"] = workers_report(server, scorer, options)
        if options.idle_seconds > 0:
            result["idle"] = await idle_bytes(viewers, options.idle_seconds)
        if probes is not None:
            result["page"] = summarise(probes, options.page_rate, fan_outs(reports, sent, first))
        result["rss_end_mib"] = round(server.rss_kib() / 1024, 1)
        result["server_sockets"] = server.health().get("sockets")
        if calendar is not None:
            result["calendar"] = calendar
    finally:
        if pages is not None:
            await pages.close()
        await viewers.close()
        await scorer.close()
    return result


async def idle_bytes(viewers: ViewerProcesses, seconds: float) -> dict[str, Any]:
    """What reaches a socket while no goal is scored, the matches in play and their clocks
    running: bytes (frames and their headers, pings included) and messages per socket per minute."""
    before = await viewers.ask("bytes")
    started = time.monotonic()
    await asyncio.sleep(seconds)
    after = await viewers.ask("bytes")
    minutes = (time.monotonic() - started) / 60
    count = sum(a["viewers"] for a in after) or 1
    received = sum(a["bytes"] for a in after) - sum(b["bytes"] for b in before)
    messages = sum(a["messages"] for a in after) - sum(b["messages"] for b in before)
    return {
        "seconds": round(minutes * 60, 1),
        "bytes_per_socket_per_minute": round(received / count / minutes, 1),
        "messages_per_socket_per_minute": round(messages / count / minutes, 2),
    }


def workers_report(server: Server, scorer: Scorer, options: Options) -> dict[str, Any]:
    """With several workers: how the viewers spread over them, which one the scorer's socket
    reached (every goal reached the others' viewers through the bus), and the bus's subscribers."""
    report: dict[str, Any] = {
        "count": len(server.pids),
        "sockets_per_worker": server.worker_sockets(),
        "scorer_worker": server.worker_of(scorer.socket.local_address[1]),
    }
    if options.redis_url is not None:
        import redis

        channel = server.extras.get("channel", "")
        client = redis.Redis.from_url(options.redis_url)
        try:
            report["bus"] = "redis"
            report["bus_subscribers"] = int(dict(client.pubsub_numsub(channel)).get(channel.encode(), 0))
        finally:
            client.close()
    return report


async def calendar_checks(server: Server) -> dict[str, Any]:
    """Before the viewers connect: the sizes of `GET /` and of `/ws`'s first message, and which
    sockets one goal reaches, on its own scorer socket."""
    assert server.calendar is not None
    today = Today(**server.calendar["today"])
    result: dict[str, Any] = {
        "stored": server.calendar["stored"],
        "page_bytes": page_size(server),
        "first_message": await first_message(server),
        "rss_mib": round(server.rss_kib() / 1024, 1),
    }
    scorer = (await open_scorers(server, scorer_cookie(server), 1))[0]
    try:
        result["reach"] = await reach(server, scorer, today, server.calendar["other_competition"])
    finally:
        await scorer.close()
    return result


async def send_goals(scorer: Scorer, target: str, goals: int, interval: float) -> list[float]:
    """`goals` goals on one match, `interval` apart; their send times. Returns one interval
    after the last send."""
    sent: list[float] = []
    for _ in range(goals):
        sent.append(await scorer.goal(target))
        await asyncio.sleep(max(0.0, sent[-1] + interval - time.monotonic()))
    return sent


async def until_settled(viewers: ViewerProcesses, target: str, first: int, last: int, limit: float = 90) -> None:
    """Wait until every viewer shows the last goal, or until no arrival at all for 4 seconds."""
    await asyncio.sleep(SETTLE_SECONDS)
    previous = -1
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        reports = await viewers.ask(f"arrivals {target} {first} {last}")
        arrived = sum(len(times) for r in reports for times in r["times"].values())
        if arrived in (previous, sum(r["viewers"] for r in reports) * (last - first + 1)):
            return
        previous = arrived
        await asyncio.sleep(4.0)


def latencies(reports: list[dict[str, Any]], sent: list[float], first: int) -> dict[str, Any]:
    viewers = sum(r["viewers"] for r in reports)
    last: list[float] = []
    typical: list[float] = []
    lost = 0
    for number, at in enumerate(sent, start=first):
        times = [t for r in reports for t in r["times"][str(number)]]
        lost += viewers - len(times)
        if times:
            last.append(max(times) - at)
            typical.append(statistics.median(times) - at)
    return {
        "goals": len(sent),
        "last_viewer_median_ms": _ms(_median(last)),
        "last_viewer_max_ms": _ms(max(last, default=None)),
        # Which goal was slow says more than the max: the first, one in the middle, every tenth.
        "last_viewer_per_goal_ms": [_ms(t) for t in last],
        "typical_viewer_median_ms": _ms(_median(typical)),
        "lost": lost,
        "superseded": sum(r["superseded"] for r in reports),
        "duplicates": sum(r["duplicates"] for r in reports),
        "out_of_order": sum(r["regressions"] for r in reports),
        "closed_by_server": {k: v for r in reports for k, v in r["closed"].items()},
    }


def fan_outs(reports: list[dict[str, Any]], sent: list[float], first: int) -> list[tuple[float, float]]:
    """Per goal: from its send to the last viewer's arrival."""
    windows = []
    for number, at in enumerate(sent, start=first):
        times = [t for r in reports for t in r["times"][str(number)]]
        if times:
            windows.append((at, max(times)))
    return windows


async def writes(server: Server, options: Options) -> dict[str, Any]:
    """Many scorer sockets, each under its rate limit, goals spread over every match."""
    cookie = scorer_cookie(server)
    viewers, result = await connect_viewers(server, options)
    scorers = await open_scorers(server, cookie, options.writers)
    match_ids = scorers[0].match_ids
    try:
        await asyncio.sleep(1.0)
        per_scorer = max(1, round(options.writer_rate * options.write_seconds))
        cpu_server, started = server.cpu_seconds(), time.monotonic()

        async def send_all(index: int, scorer: Scorer) -> None:
            offset = index / options.writers / options.writer_rate
            for n in range(per_scorer):
                due = started + offset + n / options.writer_rate
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                await scorer.goal(match_ids[(index + n) % len(match_ids)])

        await asyncio.gather(*(send_all(i, s) for i, s in enumerate(scorers)))
        sending = time.monotonic() - started
        finals = await _settled_finals(viewers)
        cpu_used = server.cpu_seconds() - cpu_server
        result["server_cpu_busy"] = round(cpu_used / (time.monotonic() - started), 2)
        pushed = sum(best for best, _, _ in finals.values())
        # What a goal costs the server (stored, and pushed to every viewer), whatever else
        # runs on the machine: on a shared machine the rate measures the machine as much.
        result["server_cpu_ms_per_goal"] = round(cpu_used * 1000 / max(1, pushed), 3)
        finished = max((at for _, at, _ in finals.values()), default=started)
        result.update(
            {
                "writers": options.writers,
                "offered_per_second": round(per_scorer * options.writers / sending),
                "sent": per_scorer * options.writers,
                "pushed": pushed,
                "refused_feedback": sum(s.refused for s in scorers),
                "stored": _stored_goals(server),
                "pushed_per_second": round(pushed / (finished - started)) if finished > started else None,
                "seconds_to_last_push": round(finished - started, 2),
                "viewers_behind": sum(behind for _, _, behind in finals.values()),
            }
        )
    finally:
        for scorer in scorers:
            await scorer.close()
        await viewers.close()
    return result


async def _settled_finals(viewers: ViewerProcesses, limit: float = 120) -> dict[str, tuple[int, float, int]]:
    """Per match once nothing moves any more: the highest score seen, when the last viewer got
    it, and how many viewers never got it."""
    deadline = time.monotonic() + limit
    previous: dict[str, tuple[int, float, int]] = {}
    while time.monotonic() < deadline:
        await asyncio.sleep(1.0)
        reports = await viewers.ask("report")
        merged = _merge_goals(reports)
        total = sum(r["viewers"] for r in reports)
        finals: dict[str, tuple[int, float, int]] = {}
        for match_id, per_score in merged.items():
            best = max(per_score)
            count, last, _ = per_score[best]
            finals[match_id] = (best, last, total - count)
        if finals and finals == previous:
            return finals
        previous = finals
    return previous


def _stored_goals(server: Server) -> int | None:
    if server.database is None:
        return None
    with sqlite3.connect(f"file:{server.database}?mode=ro", uri=True) as db:
        row = db.execute("SELECT count(*) FROM events WHERE kind = 'goal'").fetchone()
    return int(row[0])
