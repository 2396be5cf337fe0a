"""Publish/subscribe between workers: in-process by default, Redis when `REDIS_URL` is set.

Each process holds ONE subscription (the hub's listener) and fans out to its own sockets.
Redis pub/sub is at-most-once, so after every (re)subscription the listener is told to
resync from the store rather than trust that nothing was missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator
from typing import Any, Protocol

log = logging.getLogger(__name__)

CHANNEL = "livescores:changes"  # the default; LIVESCORES_CHANNEL separates apps sharing one Redis
RESYNC = "__resync__"  # yielded by listen() whenever messages may have been missed


class Bus(Protocol):
    name: str  # for logs: what it is, never what to do
    # Whether other processes receive what it publishes: if not, a worker shows its own changes
    # and no one else's, so it need not publish them, and looks in the store for other writers.
    shared: bool

    async def publish(self, message: str) -> None: ...

    def listen(self) -> AsyncIterator[str]: ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


class MemoryBus:
    """Fan-out within one process; every listener gets every message in order."""

    name = "memory"
    shared = False

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
    """Redis pub/sub: publishes on a shared client, listens on a connection of its own."""

    name = "redis"
    shared = True

    def __init__(
        self,
        url: str,
        channel: str = CHANNEL,
        verify_tls: bool = True,
        max_backoff: float = 3.0,
        idle_timeout: float = 15.0,
    ) -> None:
        import redis.asyncio as redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        self._redis = redis
        self._url = url
        self.channel = channel
        self._max_backoff = max_backoff
        self._idle_timeout = idle_timeout
        # Heroku Data for Redis serves TLS with a self-signed certificate.
        self._tls: dict[str, Any] = {} if verify_tls or not url.startswith("rediss://") else {"ssl_cert_reqs": None}
        # One immediate retry replaces a pooled connection that died with a restarted server;
        # more would hold a scorer's acknowledgement hostage to a Redis that is down.
        self._client = redis.from_url(
            url, socket_connect_timeout=2, socket_timeout=5, retry=Retry(NoBackoff(), 1), **self._tls
        )
        # Never retried: with a retry policy redis-py reconnects and resubscribes by itself, and
        # the messages lost in between would never be resynced.
        self._no_retry = Retry(NoBackoff(), 0)

    async def publish(self, message: str) -> None:
        await self._client.publish(self.channel, message)

    async def listen(self) -> AsyncIterator[str]:
        backoff = 0.1
        while True:
            client = self._redis.from_url(self._url, socket_connect_timeout=2, retry=self._no_retry, **self._tls)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                log.info("bus: subscribed to %s", self.channel)
                backoff = 0.1
                yield RESYNC
                async for data in self._messages(pubsub):
                    yield data
            except (self._redis.RedisError, OSError) as error:
                log.warning("bus: subscription lost (%s); retrying in %.1fs", error or type(error).__name__, backoff)
            finally:
                await _quietly_close(pubsub, client)
            await asyncio.sleep(backoff * random.uniform(0.5, 1.0))
            backoff = min(backoff * 2, self._max_backoff)

    async def _messages(self, pubsub: Any) -> AsyncIterator[str]:
        """Published messages until the connection fails; a silent connection must answer a PING."""
        awaiting_pong = False
        while True:
            message = await pubsub.get_message(timeout=self._idle_timeout)
            if message is None:
                if awaiting_pong:
                    raise self._redis.ConnectionError("no answer to PING")
                await pubsub.ping()
                awaiting_pong = True
                continue
            awaiting_pong = False
            if message["type"] == "message":
                data = message["data"]
                yield data.decode() if isinstance(data, bytes) else str(data)

    async def ping(self) -> None:
        await self._client.ping()

    async def close(self) -> None:
        await self._client.aclose()


async def _quietly_close(*closables: object) -> None:
    for closable in closables:
        with contextlib.suppress(Exception):  # the connection is already broken
            await closable.aclose()  # type: ignore[attr-defined]


def open_bus(url: str, channel: str = CHANNEL, verify_tls: bool = True) -> Bus:
    """The one place a bus is chosen: by the scheme of its URL."""
    if url.startswith("memory://"):
        return MemoryBus()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisBus(url, channel, verify_tls)
    raise ValueError(f"Unsupported bus URL {url!r}: use memory:// or redis://")
