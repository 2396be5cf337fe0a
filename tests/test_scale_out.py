"""Several workers behave as one: two apps on one database and one Redis channel, in this
process; then real `hypercorn -w 2` processes with many viewer sockets."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import re
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import pytest
from quart import Quart
from quart.typing import TestClientProtocol as Client
from redis.asyncio import Redis
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from livescores import create_app
from livescores.config import Config
from livescores.services import EXTENSION_KEY, Services

from .conftest import REDIS_TEST_URL, private_channel
from .pages import Row, feedback, rows
from .servers import Server, redis_server, running_server, scorer_cookie, start_server, wait_for_workers
from .services import need_redis
from .support import goal, receive_until, sign_in, socket


@asynccontextmanager
async def workers(config: Config, count: int, redis_url: str = REDIS_TEST_URL) -> AsyncIterator[list[Quart]]:
    """`count` apps serving one database and sharing one private channel, as workers do."""
    if redis_url == REDIS_TEST_URL:
        need_redis()
    shared = dataclasses.replace(config, bus_url=redis_url, bus_channel=private_channel())
    async with AsyncExitStack() as stack:
        apps = []
        for _ in range(count):
            app = create_app(shared)
            await stack.enter_async_context(app.test_app())
            apps.append(app)
        yield apps


def services_of(app: Quart) -> Services:
    found: Services = app.extensions[EXTENSION_KEY]
    return found


async def scorer_of(app: Quart) -> Client:
    client = app.test_client()
    await sign_in(client)
    return client


def versions_of(match_id: str, messages: list[str]) -> list[int]:
    return [rows(message)[match_id].version for message in messages if match_id in rows(message)]


async def quiet(ws: object, wait: float = 0.3) -> list[str]:
    """Whatever else arrives on a socket within `wait` seconds."""
    extra = []
    try:
        while True:
            extra.append(await asyncio.wait_for(ws.receive(), wait))  # type: ignore[attr-defined]
    except TimeoutError:
        return extra


async def test_a_goal_through_one_worker_reaches_the_viewers_of_another_once(config: Config) -> None:
    async with workers(config, 2) as (first, second):
        match = services_of(first).hub.matches[2]
        scorer_client = await scorer_of(first)
        async with socket(scorer_client) as scorer, socket(second.test_client()) as viewer:
            await scorer.receive()
            await viewer.receive()
            await goal(scorer, match.id, "away")
            push = await receive_until(viewer, lambda m: match.id in m)
            assert (rows(push)[match.id].away_score, rows(push)[match.id].version) == (1, match.version + 1)
            assert await quiet(viewer) == []
            # The scorer's own worker shows it once, and ignores its echo from the bus.
            assert versions_of(match.id, await quiet(scorer)) == [match.version + 1]
        for app in (first, second):
            shown = services_of(app).hub.rows[match.id].match
            assert (shown.away_score, shown.version) == (1, match.version + 1)


async def test_concurrent_goals_through_both_workers_on_one_match_each_count_once(config: Config) -> None:
    async with workers(config, 2) as apps:
        match = services_of(apps[0]).hub.matches[4]

        async def ten_goals(app: Quart, name: str) -> None:
            client = app.test_client()
            await sign_in(client, name=name)
            async with socket(client) as ws:
                await ws.receive()
                for _ in range(10):
                    await goal(ws, match.id, "home")
                acknowledged = 0
                while acknowledged < 10:
                    acknowledged += str(feedback(str(await asyncio.wait_for(ws.receive(), 10)))).startswith("ok: ")

        await asyncio.gather(*(ten_goals(apps[n % 2], f"scorer{n}") for n in range(6)))
        stored = await services_of(apps[0]).store.get_match(match.id)
        assert stored is not None and stored.home_score == 60 and stored.version == match.version + 60
        for app in apps:
            await asyncio.sleep(0)
            for _ in range(50):
                if services_of(app).hub.rows[match.id].match.version == stored.version:
                    break
                await asyncio.sleep(0.1)
            assert services_of(app).hub.rows[match.id].match == stored


async def test_scoring_works_while_redis_is_down_and_every_worker_catches_up(config: Config, tmp_path: Path) -> None:
    with redis_server(tmp_path / "redis") as redis:
        async with workers(config, 2, redis.url) as (first, second):
            match = services_of(first).hub.matches[1]
            scorer_client = await scorer_of(first)
            viewer_client = second.test_client()
            async with socket(scorer_client) as scorer, socket(viewer_client) as viewer:
                await scorer.receive()
                await viewer.receive()
                health = await viewer_client.get("/healthz")
                assert health.status_code == 200 and (await health.get_json())["bus"] == "ok"
                # Each worker has read the store once it subscribed: what it learns from now on comes by the bus.
                await eventually(lambda: all(services_of(w).scoreboard.resyncs >= 1 for w in (first, second)))

                redis.stop()
                await goal(scorer, match.id, "home")
                answer = await receive_until(scorer, lambda m: feedback(m) is not None)
                assert str(feedback(answer)).startswith("ok: Recorded goal")
                # /healthz answers from the worker's own checks, made every few seconds.
                for _ in range(50):
                    health = await viewer_client.get("/healthz")
                    if health.status_code == 503:
                        break
                    await asyncio.sleep(0.2)
                body = await health.get_json()
                assert health.status_code == 503
                assert body["status"] == "unavailable" and body["database"] == "ok"
                assert body["bus"].startswith("error: ") and body["sockets"] == 1 and body["worker"] == os.getpid()
                page = await viewer_client.get("/")
                assert page.status_code == 200  # pages still load, from this worker's board
                assert await quiet(viewer, 0.5) == []  # the other worker cannot know yet

                redis.start()
                push = await receive_until(viewer, lambda m: match.id in m, limit=5)
                assert rows(push)[match.id].home_score == 1  # the resync after resubscribing
                for _ in range(50):
                    health = await viewer_client.get("/healthz")
                    if health.status_code == 200:
                        break
                    await asyncio.sleep(0.2)
                assert health.status_code == 200

                await goal(scorer, match.id, "home")
                push = await receive_until(viewer, lambda m: match.id in m)
                assert rows(push)[match.id].home_score == 2
            stored = await services_of(second).store.get_match(match.id)
            assert stored is not None and stored.home_score == 2


# -- real processes -----------------------------------------------------------------------


class Viewer:
    """A socket on a real server and everything it has received, read as a browser's board."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.messages: list[str] = []
        self.board: dict[str, Row] = {}
        self.closed: int | None = None
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for message in self.ws:
                self.messages.append(str(message))
                for match_id, row in rows(str(message)).items():
                    if match_id not in self.board or row.version > self.board[match_id].version:
                        self.board[match_id] = row
        except ConnectionClosed as closed:
            self.closed = closed.rcvd.code if closed.rcvd else None

    def versions(self, match_id: str) -> list[int]:
        return versions_of(match_id, self.messages[1:])

    async def close(self) -> None:
        self._reader.cancel()
        await self.ws.close()


async def eventually(condition: Callable[[], bool], within: float = 10) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        await asyncio.sleep(0.05)


@asynccontextmanager
async def viewers(server: Server, count: int, workers: int = 2) -> AsyncIterator[list[Viewer]]:
    """At least `count` viewers, and more (up to 4x) until `workers` worker processes hold some:
    the kernel may hand a run of connections to one worker."""
    opened: list[Viewer] = []
    while len(opened) < count or (
        len(await asyncio.to_thread(workers_holding_sockets, server)) < workers and len(opened) < 4 * count
    ):
        batch = await asyncio.gather(*(connect(server.ws_url, open_timeout=10) for _ in range(10)))
        opened += [Viewer(ws) for ws in batch]
        await asyncio.sleep(0.05)
    try:
        await eventually(lambda: all(viewer.board for viewer in opened))
        yield opened
    finally:
        await asyncio.gather(*(viewer.close() for viewer in opened))


async def scorer(server: Server, name: str) -> ClientConnection:
    cookie = await asyncio.to_thread(scorer_cookie, server.url, name)
    ws = await connect(server.ws_url, additional_headers={"Cookie": cookie}, open_timeout=10)
    await asyncio.wait_for(ws.recv(), 5)
    return ws


async def score(ws: ClientConnection, match_id: str, side: str = "home") -> str:
    """Send a goal and wait for its acknowledgement; the feedback it got."""
    await ws.send(json.dumps({"action": "goal", "match": match_id, "side": side}))
    while True:
        note = feedback(str(await asyncio.wait_for(ws.recv(), 10)))
        if note is not None:
            return note


def worker_pids(server: Server, line: str) -> Counter[str]:
    return Counter(re.findall(r"\[(\d+)\] [A-Z]+ [\w.]+: " + re.escape(line), server.log()))


def recorded_by(server: Server, name: str) -> str:
    found = re.findall(r"\[(\d+)\] INFO [\w.]+: event: goal \w+ v\d+ by " + re.escape(name) + r"\b", server.log())
    assert found, f"no goal by {name} in the log"
    return found[-1]


@pytest.mark.slow
async def test_two_worker_processes_on_redis_and_postgres_behave_as_one(tmp_path: Path, postgres_url: str) -> None:
    need_redis()
    channel = private_channel()
    server = await asyncio.to_thread(
        start_server,
        tmp_path,
        "--workers",
        "2",
        DATABASE_URL=postgres_url,
        REDIS_URL=REDIS_TEST_URL,
        LIVESCORES_CHANNEL=channel,
        LIVESCORES_CLOCK_INTERVAL="3600",
    )
    try:
        await asyncio.to_thread(wait_for_workers, server, 2)
        redis = Redis.from_url(REDIS_TEST_URL)
        try:
            subscribers: list[int] = []
            for _ in range(100):  # the second worker may still be starting
                subscribers = [count for _, count in await redis.pubsub_numsub(channel)]
                if subscribers != [1]:
                    break
                await asyncio.sleep(0.1)
            assert subscribers == [2]  # one subscription per worker process
        finally:
            await redis.aclose()
        async with viewers(server, 50) as crowd:
            per_worker = await asyncio.to_thread(sockets_per_worker, server)
            assert len(per_worker) == 2 and all(per_worker.values()), per_worker  # spread over both workers
            assert sum(per_worker.values()) == len(crowd), per_worker
            first, second, third = list(crowd[0].board)[:3]
            before = crowd[0].board[first].version

            # One goal through one socket: every viewer, on either worker, gets it exactly once.
            started = time.monotonic()
            sam = await scorer(server, "sam")
            assert (await score(sam, first)).startswith("ok: ")
            await eventually(lambda: all(first in v.board and v.board[first].version > before for v in crowd))
            reached_all = time.monotonic() - started
            await asyncio.sleep(1)
            assert all(v.versions(first) == [before + 1] for v in crowd), [v.versions(first) for v in crowd]

            # Scorers on both workers at once, all on one match: each goal counts once, in order.
            scorers = {recorded_by(server, "sam"): sam}
            for n in range(30):
                if len(scorers) == 2:
                    break
                candidate = await scorer(server, f"scorer{n}")
                assert (await score(candidate, second)).startswith("ok: ")
                scorers.setdefault(recorded_by(server, f"scorer{n}"), candidate)
            assert len(scorers) == 2, "no scorer socket landed on the second worker"

            async def goals(ws: ClientConnection, count: int) -> None:
                for _ in range(count):
                    assert (await score(ws, third)).startswith("ok: ")

            base = crowd[0].board[third]
            started = time.monotonic()
            await asyncio.gather(*(goals(ws, 15) for ws in scorers.values()))
            final = base.version + 30
            await eventually(lambda: all(v.board[third].version == final for v in crowd))
            thirty_goals = time.monotonic() - started
            await asyncio.sleep(0.5)
            for viewer in crowd:
                seen = viewer.versions(third)
                assert seen == sorted(set(seen)) and seen[-1] == final, seen  # never twice, never back
                assert viewer.board[third].home_score == base.home_score + 30
            crowd_size = len(crowd)
        # Each worker logs every socket it held once, as it ends, with the client's address.
        closed_line = re.compile(
            r"\[(\d+)\] INFO livescores\.socket: socket: 127\.0\.0\.1:\d+ viewer closed by client after "
        )
        await eventually(lambda: len(closed_line.findall(server.log())) == crowd_size)
        assert len(set(closed_line.findall(server.log()))) == 2
        assert "MISCONFIGURED" not in server.log()
        assert list(worker_pids(server, "bus: subscribed to").values()) == [1, 1]  # and never lost
    finally:
        await asyncio.to_thread(server.stop)
    print(f"one goal reached 50 viewers on 2 workers in {reached_all * 1000:.0f} ms; 30 goals from scorers on")
    print(f"both workers, one match, acknowledged and on all 50 boards in {thirty_goals * 1000:.0f} ms")


@pytest.mark.slow
async def test_a_goal_scored_while_redis_restarts_reaches_every_viewer(tmp_path: Path, postgres_url: str) -> None:
    with redis_server(tmp_path / "redis") as redis:
        server = await asyncio.to_thread(
            start_server,
            tmp_path,
            "--workers",
            "2",
            DATABASE_URL=postgres_url,
            REDIS_URL=redis.url,
            LIVESCORES_CLOCK_INTERVAL="3600",
        )
        try:
            await asyncio.to_thread(wait_for_workers, server, 2)
            async with viewers(server, 20) as crowd:
                assert len(await asyncio.to_thread(workers_holding_sockets, server)) == 2
                match_id = next(iter(crowd[0].board))
                before = crowd[0].board[match_id]
                sam = await scorer(server, "sam")

                redis.stop()
                assert (await score(sam, match_id)).startswith("ok: Recorded goal")  # scoring goes on
                # /healthz answers from the state each worker refreshes every few seconds.
                await eventually(lambda: bus_down(server.url), 10)
                assert (await asyncio.to_thread(http_get, server.url + "/"))[0] == 200
                behind = [v for v in crowd if v.board[match_id].version == before.version]
                assert behind, "viewers on the other worker cannot see the goal while Redis is down"

                redis.start()
                await eventually(lambda: all(v.board[match_id].version == before.version + 1 for v in crowd), 15)
                assert all(v.board[match_id].home_score == before.home_score + 1 for v in crowd)
                # The scorer's worker showed the goal itself; it may still be backing off.
                await eventually(lambda: sorted(worker_pids(server, "bus: subscribed to").values()) == [2, 2])

                assert (await score(sam, match_id)).startswith("ok: ")
                await eventually(lambda: all(v.board[match_id].version == before.version + 2 for v in crowd))
                for viewer in crowd:
                    assert viewer.versions(match_id) == sorted(set(viewer.versions(match_id)))
                await eventually(lambda: http_get(server.url + "/healthz")[0] == 200, 10)
        finally:
            await asyncio.to_thread(server.stop)


def sockets_per_worker(server: Server) -> dict[int, int]:
    """Ask /healthz until both workers have answered: how many sockets each holds."""
    seen: dict[int, int] = {}
    for _ in range(200):
        status, body = http_get(server.url + "/healthz")
        assert status == 200, body
        health = json.loads(body)
        seen[health["worker"]] = health["sockets"]
        if len(seen) == 2:
            break
    return seen


def workers_holding_sockets(server: Server) -> set[int]:
    return {worker for worker, sockets in sockets_per_worker(server).items() if sockets}


def bus_down(url: str) -> bool:
    status, body = http_get(url + "/healthz")
    return status == 503 and json.loads(body)["bus"].startswith("error: ")


def http_get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.mark.slow
def test_several_workers_without_a_shared_bus_are_reported_at_start_up(tmp_path: Path) -> None:
    with running_server(tmp_path, "--workers", "2") as server:
        wait_for_workers(server, 2)
        warnings = worker_pids(server, "MISCONFIGURED: 2 workers share no bus")
    assert len(warnings) == 2, server.log()


async def test_a_resync_that_read_the_store_before_a_local_write_does_not_undo_it(
    client: Client, live: Services
) -> None:
    """The listener's resync may read the board just before this worker records a goal and
    apply it just after: the board keeps the newer version and viewers see the goal once."""
    match = live.hub.matches[0]
    read_before = await live.store.all_matches()
    async with socket(client) as viewer:
        await viewer.receive()
        newer = dataclasses.replace(match, version=match.version + 1, home_score=match.home_score + 1)
        live.hub.apply(newer, "home")
        live.hub.load(read_before)
        assert live.hub.rows[match.id].match == newer
        assert versions_of(match.id, await quiet(viewer)) == [newer.version]


async def test_the_number_watching_counts_the_viewers_of_every_worker(config: Config) -> None:
    async with workers(dataclasses.replace(config, viewer_count_seconds=0.1), 2) as (first, second):
        async with socket(first.test_client()) as one, socket(second.test_client()) as other:
            for ws in (one, other):
                await ws.receive()
                told = await receive_until(ws, lambda m: ">2 watching</hx-partial>" in m, limit=50)
                assert 'hx-target="#viewers"' in told
        assert services_of(first).hub.watching_here == 0
