"""Publish/subscribe between workers: in-process by default, Redis when `REDIS_URL` is set.

Each process holds ONE subscription (the hub's listener) and fans out to its own sockets.
Redis pub/sub is at-most-once, so after every (re)subscription the listener is told to
resync from the store rather than trust that nothing was missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Protocol

log = logging.getLogger(__name__)

CHANNEL = "livescores:changes"
RESYNC = "__resync__"  # yielded by listen() whenever messages may have been missed


class Bus(Protocol):
    name: str

    async def publish(self, message: str) -> None: ...

    def listen(self) -> AsyncIterator[str]: ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


class MemoryBus:
    """Fan-out within one process; every listener gets every message in order."""

    name = "memory"

    def __init__(self) -> None:
        self._listeners: set[asyncio.Queue[str]] = set()

    async def publish(self, message: str) -> None:
        for queue in self._listeners:
            queue.put_nowait(message)

    async def listen(self) -> AsyncIterator[str]:
        queue: asyncio.Queue[str] = asyncio.Queue()
        self._listeners.add(queue)
        try:
            yield RESYNC
            while True:
                yield await queue.get()
        finally:
            self._listeners.discard(queue)

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        self._listeners.clear()


class RedisBus:
    name = "redis"

    def __init__(self, url: str, max_backoff: float = 5.0) -> None:
        import redis.asyncio as redis

        self._redis = redis
        self._client = redis.from_url(url, socket_connect_timeout=2, socket_timeout=5, health_check_interval=15)
        self._url = url
        self._max_backoff = max_backoff

    async def publish(self, message: str) -> None:
        await self._client.publish(CHANNEL, message)

    async def listen(self) -> AsyncIterator[str]:
        backoff = 0.1
        while True:
            client = self._redis.from_url(self._url, socket_connect_timeout=2, health_check_interval=15)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(CHANNEL)
                log.info("bus: subscribed to %s", CHANNEL)
                backoff = 0.1
                yield RESYNC
                while True:
                    message = await pubsub.get_message(timeout=30.0)
                    if message is None:
                        await pubsub.ping()
                        continue
                    data = message["data"]
                    yield data.decode() if isinstance(data, bytes) else str(data)
            except (self._redis.RedisError, OSError) as error:
                log.warning("bus: subscription lost (%s); retrying in %.1fs", error, backoff)
            finally:
                await _quietly_close(pubsub, client)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self._max_backoff)

    async def ping(self) -> None:
        await self._client.ping()

    async def close(self) -> None:
        await self._client.aclose()


async def _quietly_close(*closables: object) -> None:
    for closable in closables:
        with contextlib.suppress(Exception):  # the connection is already broken
            await closable.aclose()  # type: ignore[attr-defined]


def open_bus(url: str) -> Bus:
    if url.startswith("memory://"):
        return MemoryBus()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisBus(url)
    raise ValueError(f"Unsupported bus URL {url!r}: use memory:// or redis://")
