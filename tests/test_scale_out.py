"""Several workers behave as one: two apps on one database and one Redis channel, in this
process; then real `hypercorn -w 2` processes with many viewer sockets."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

from quart import Quart
from quart.typing import TestClientProtocol as Client

from livescores import create_app
from livescores.config import Config
from livescores.services import EXTENSION_KEY, Services

from .conftest import REDIS_TEST_URL, private_channel
from .pages import feedback, rows
from .servers import redis_server
from .support import goal, receive_until, sign_in, socket


@asynccontextmanager
async def workers(config: Config, count: int, redis_url: str = REDIS_TEST_URL) -> AsyncIterator[list[Quart]]:
    """`count` apps serving one database and sharing one private channel, as workers do."""
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

                redis.stop()
                await goal(scorer, match.id, "home")
                answer = await receive_until(scorer, lambda m: feedback(m) is not None)
                assert str(feedback(answer)).startswith("ok: Recorded goal")
                health = await viewer_client.get("/healthz")
                body = await health.get_json()
                assert health.status_code == 503
                assert body["status"] == "unavailable" and body["database"] == "ok"
                assert body["bus"].startswith("error: ") and body["sockets"] == 1
                page = await viewer_client.get("/")
                assert page.status_code == 200  # pages still load, from this worker's board
                assert await quiet(viewer, 0.5) == []  # the other worker cannot know yet

                redis.start()
                push = await receive_until(viewer, lambda m: match.id in m, limit=5)
                assert rows(push)[match.id].home_score == 1  # the resync after resubscribing
                health = await viewer_client.get("/healthz")
                assert health.status_code == 200

                await goal(scorer, match.id, "home")
                push = await receive_until(viewer, lambda m: match.id in m)
                assert rows(push)[match.id].home_score == 2
            stored = await services_of(second).store.get_match(match.id)
            assert stored is not None and stored.home_score == 2
