"""A worker that missed changes catches up: changes the bus refused are sent again once it
answers, a resync that finds the database unreachable is tried again, and a board reloaded
from the store shows a goal as a live push does."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis.asyncio as redis
from quart import Quart
from sqlalchemy import text

from livescores import create_app
from livescores.config import Config
from livescores.matches import Event, Match, Side
from livescores.messages import Command
from livescores.services import EXTENSION_KEY, Services

from .conftest import private_channel
from .servers import redis_server


def services_of(app: Quart) -> Services:
    found: Services = app.extensions[EXTENSION_KEY]
    return found


@pytest.fixture
async def unwatched(config: Config) -> AsyncIterator[Quart]:
    """A worker whose store watcher is off: what another process writes reaches it only through
    the bus, or a resync, as on a worker whose bus was down."""
    app = create_app(replace(config, store_poll_seconds=0))
    async with app.test_app():
        # Its first read of the store (after the bus subscribed) is done: what it learns from
        # now on comes through the bus or a resync the test makes.
        scoreboard = app.extensions[EXTENSION_KEY].scoreboard
        await eventually(lambda: scoreboard.resyncs >= 1)
        yield app


async def record_elsewhere(live: Services, match: Match, side: Side, player: str | None = None) -> None:
    """A goal written by another worker or process, straight to the store."""
    await live.store.record(match.id, Event("goal", datetime.now(UTC), side, player, recorded_by="elsewhere"), None)


async def eventually(condition: Callable[[], bool], within: float = 10) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        await asyncio.sleep(0.05)


async def test_a_change_the_bus_refused_is_published_once_it_answers(tmp_path: Path, config: Config) -> None:
    with redis_server(tmp_path / "redis") as server:
        admin = redis.from_url(server.url)
        # Worker A may subscribe but not publish, as if its publishes failed while its
        # subscription and every other worker's stayed up: nothing makes B resync.
        await admin.execute_command("ACL", "SETUSER", "muted", "on", ">pw", "~*", "&*", "+@all", "-publish")
        channel = private_channel()
        muted_url = server.url.replace("redis://", "redis://muted:pw@")
        app_a = create_app(replace(config, bus_url=muted_url, bus_channel=channel))
        app_b = create_app(replace(config, bus_url=server.url, bus_channel=channel))
        try:
            async with app_a.test_app(), app_b.test_app():
                a, b = services_of(app_a), services_of(app_b)
                match = a.hub.matches[0]
                for _ in range(100):  # both subscribed, and their first resyncs done
                    if [count for _, count in await admin.pubsub_numsub(channel)] == [2]:
                        break
                    await asyncio.sleep(0.05)
                await asyncio.sleep(0.5)
                recorded = await a.scoreboard.record(Command(match.id, "goal", "home"), "Sam")
                assert recorded.version == match.version + 1  # stored and acknowledged all the same
                await asyncio.sleep(1.5)
                assert b.hub.rows[match.id].match.version == match.version
                await admin.execute_command("ACL", "SETUSER", "muted", "+publish")
                await eventually(lambda: b.hub.rows[match.id].match.version == recorded.version)
                assert b.hub.rows[match.id].match.home_score == match.home_score + 1
        finally:
            await admin.aclose()


async def test_a_resync_is_retried_until_the_database_answers(unwatched: Quart) -> None:
    live = services_of(unwatched)
    match = live.hub.matches[0]
    await record_elsewhere(live, match, "away")
    async with live.store.engine.begin() as conn:  # the database stops answering for the board
        await conn.execute(text("ALTER TABLE matches RENAME TO matches_away"))
    resync = asyncio.create_task(live.scoreboard._reload_board())
    try:
        await asyncio.sleep(1.0)
        assert not resync.done(), "a failed resync must be tried again, not dropped"
        assert live.hub.rows[match.id].match.version == match.version
        async with live.store.engine.begin() as conn:
            await conn.execute(text("ALTER TABLE matches_away RENAME TO matches"))
        await asyncio.wait_for(resync, 10)
    finally:
        resync.cancel()
    assert live.hub.rows[match.id].match.version == match.version + 1


async def test_a_goal_found_in_the_store_is_pushed_as_a_live_goal(unwatched: Quart) -> None:
    # With the in-process bus, goals written by another process (the simulator, the CLI) reach
    # the pages through a reload from the store: they flash and are announced all the same.
    live = services_of(unwatched)
    match = live.hub.matches[0]
    await record_elsewhere(live, match, "away", player="Kane")
    live.hub.load(await live.store.all_matches())
    push = live.hub.rows[match.id].pushes["viewer"]
    assert 'class="score away changed"' in push
    assert f"Goal: {match.home} {match.home_score}, {match.away} {match.away_score + 1}" in push
    assert "scored by Kane" in push
    assert "changed" not in live.hub.rows[match.id].rows["viewer"]  # the snapshot stays calm


async def test_a_match_from_the_api_agrees_with_its_log_on_a_worker_that_missed_a_change(unwatched: Quart) -> None:
    live = services_of(unwatched)
    match = live.hub.matches[0]
    await record_elsewhere(live, match, "home")
    client = unwatched.test_client()
    body = await (await client.get(f"/api/matches/{match.id}")).get_json()
    assert body["match"]["version"] == len(body["log"]) == match.version + 1
    assert body["match"]["home_score"] == match.home_score + 1
    assert (await client.get("/api/matches/no-such-match")).status_code == 404
    assert (await client.get("/api/matches/../../etc")).status_code == 404
