"""The bus contract, held by the memory and the Redis backend alike, and Redis going away."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import redis.asyncio as redis

from livescores.bus import RESYNC, Bus, MemoryBus, RedisBus, open_bus

from .conftest import REDIS_TEST_URL, private_channel
from .servers import redis_server
from .services import need_redis


@pytest.fixture(params=["memory", "redis"])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[Bus]:
    if request.param == "redis":
        need_redis()
    opened = open_bus("memory://" if request.param == "memory" else REDIS_TEST_URL, private_channel())
    try:
        yield opened
    finally:
        await opened.close()


@asynccontextmanager
async def listening(bus: Bus) -> AsyncIterator[asyncio.Queue[str]]:
    """What one listener hears, from its first RESYNC on."""
    heard: asyncio.Queue[str] = asyncio.Queue()

    async def follow() -> None:
        async for message in bus.listen():
            heard.put_nowait(message)

    task = asyncio.create_task(follow())
    try:
        yield heard
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def next_message(heard: asyncio.Queue[str], wait: float = 5) -> str:
    return await asyncio.wait_for(heard.get(), wait)


async def nothing_more(heard: asyncio.Queue[str], wait: float = 0.3) -> None:
    await asyncio.sleep(wait)
    assert heard.empty(), f"unexpected: {heard.get_nowait()!r}"


async def test_a_listener_starts_with_a_resync(bus: Bus) -> None:
    async with listening(bus) as heard:
        assert await next_message(heard) == RESYNC
        await nothing_more(heard)


async def test_every_listener_gets_every_message_exactly_once_in_order(bus: Bus) -> None:
    sent = [f'{{"n": {n}}}' for n in range(200)]
    async with listening(bus) as first, listening(bus) as second:
        assert await next_message(first) == RESYNC
        assert await next_message(second) == RESYNC
        for message in sent:
            await bus.publish(message)
        for heard in (first, second):
            assert [await next_message(heard) for _ in sent] == sent
            await nothing_more(heard)


async def test_a_message_published_before_listening_is_not_replayed(bus: Bus) -> None:
    await bus.publish("early")
    async with listening(bus) as heard:
        assert await next_message(heard) == RESYNC
        await bus.publish("late")
        assert await next_message(heard) == "late"
        await nothing_more(heard)


async def test_ping_answers_while_the_backend_is_up(bus: Bus) -> None:
    await bus.ping()


async def test_buses_on_other_channels_hear_nothing() -> None:
    need_redis()
    ours, theirs = RedisBus(REDIS_TEST_URL, private_channel()), RedisBus(REDIS_TEST_URL, private_channel())
    try:
        async with listening(ours) as heard:
            assert await next_message(heard) == RESYNC
            await theirs.publish("not for us")
            await ours.publish("for us")
            assert await next_message(heard) == "for us"
            await nothing_more(heard)
    finally:
        await ours.close()
        await theirs.close()


def test_the_bus_is_chosen_by_url() -> None:
    assert isinstance(open_bus("memory://"), MemoryBus)
    chosen = open_bus("redis://127.0.0.1:6379/0", "some:channel")
    assert isinstance(chosen, RedisBus) and chosen.channel == "some:channel"
    for unsupported in ("postgres://x/y", "http://redis", ""):
        with pytest.raises(ValueError, match="Unsupported bus URL"):
            open_bus(unsupported)


async def test_an_idle_subscription_is_kept_alive_and_yields_only_published_messages() -> None:
    need_redis()
    bus = RedisBus(REDIS_TEST_URL, private_channel(), idle_timeout=0.1)
    try:
        async with listening(bus) as heard:
            assert await next_message(heard) == RESYNC
            await asyncio.sleep(0.6)  # several PINGs, and their PONGs, go by
            await bus.publish("after a quiet spell")
            assert await next_message(heard) == "after a quiet spell"
            await nothing_more(heard)
    finally:
        await bus.close()


async def test_a_redis_restart_is_followed_by_a_resync_and_messages_flow_again(tmp_path: Path) -> None:
    with redis_server(tmp_path / "redis") as server:
        bus = RedisBus(server.url, private_channel(), max_backoff=0.5)
        try:
            async with listening(bus) as heard:
                assert await next_message(heard) == RESYNC
                await bus.publish("before")
                assert await next_message(heard) == "before"

                server.stop()
                started = time.monotonic()
                with pytest.raises((redis.ConnectionError, OSError)):
                    await bus.publish("while down")
                assert time.monotonic() - started < 3, "a publish must not hold a scorer up while Redis is down"
                with pytest.raises((redis.ConnectionError, OSError)):
                    await bus.ping()
                # Back at once: quicker than redis-py's own retries, which would resubscribe silently.
                server.start()

                assert await next_message(heard, wait=10) == RESYNC
                await bus.publish("after")
                assert await next_message(heard) == "after"
                await nothing_more(heard)
                await bus.ping()
        finally:
            await bus.close()


async def test_a_listener_keeps_retrying_until_redis_comes_back(tmp_path: Path) -> None:
    with redis_server(tmp_path / "redis") as server:
        bus = RedisBus(server.url, private_channel(), max_backoff=0.3)
        try:
            async with listening(bus) as heard:
                assert await next_message(heard) == RESYNC
                server.stop()
                await asyncio.sleep(1.5)  # several failed reconnections
                assert heard.empty()
                server.start()
                assert await next_message(heard, wait=10) == RESYNC
                await bus.publish("back")
                assert await next_message(heard) == "back"
        finally:
            await bus.close()


async def test_a_dropped_subscription_is_followed_by_a_resync(tmp_path: Path) -> None:
    """Redis drops subscribers itself (a slow one past its output buffer limit, an admin's
    CLIENT KILL) while it stays up: the messages in between are gone, so the listener resyncs."""
    with redis_server(tmp_path / "redis") as server:
        bus = RedisBus(server.url, private_channel(), max_backoff=0.5)
        admin = redis.from_url(server.url)
        try:
            async with listening(bus) as heard:
                assert await next_message(heard) == RESYNC
                assert await admin.client_kill_filter(_type="pubsub") == 1
                assert await next_message(heard) == RESYNC
                await bus.publish("after")
                assert await next_message(heard) == "after"
        finally:
            await admin.aclose()
            await bus.close()
