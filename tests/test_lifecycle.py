"""Graceful restarts: every socket closes with 1012, a write under way finishes first, and a
real server signalled as a platform signals it exits in time with nothing acknowledged lost."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sqlite3
import subprocess
import time
import urllib.request
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager
from pathlib import Path

import asyncpg
import pytest
from quart import Quart
from quart.typing import TestClientProtocol as Client
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from livescores import DRAIN_KEY, create_app
from livescores.config import Config
from livescores.lifecycle import Drain
from livescores.services import Services
from livescores.store import Store

from .pages import feedback, rows
from .servers import Server, scorer_cookie, start_server, wait_for_workers
from .support import close_code, goal, receive_until, socket


def drain_of(app: Quart) -> Drain:
    found: Drain = app.extensions[DRAIN_KEY]
    return found


async def test_a_drain_closes_every_socket_with_1012_and_turns_new_ones_away(
    app: Quart, client: Client, scorer_client: Client
) -> None:
    async with socket(client) as viewer, socket(scorer_client) as scorer:
        await viewer.receive()
        await scorer.receive()
        drain_of(app).begin("a test")
        assert await close_code(viewer) == 1012
        assert await close_code(scorer) == 1012
    await asyncio.wait_for(drain_of(app).finished.wait(), 5)
    async with socket(client) as latecomer:
        assert await close_code(latecomer) == 1012


async def test_sigterm_drains_and_still_reaches_the_handler_that_had_it(config: Config) -> None:
    """As under a server that handles SIGTERM with a plain signal handler of its own."""
    received: list[int] = []

    def server_handler(signum: int, _frame: object) -> None:
        received.append(signum)

    original = signal.signal(signal.SIGTERM, server_handler)
    try:
        app = create_app(config)
        async with app.test_app():
            async with socket(app.test_client()) as viewer:
                await viewer.receive()
                os.kill(os.getpid(), signal.SIGTERM)
                assert await close_code(viewer) == 1012
            assert received == [signal.SIGTERM]
        assert signal.getsignal(signal.SIGTERM) is server_handler  # the app's hook went with it
    finally:
        signal.signal(signal.SIGTERM, original)


@asynccontextmanager
async def write_lock_held(database_url: str, match_id: str) -> AsyncIterator[None]:
    """Another connection holds the match (PostgreSQL) or the database (SQLite) for a while."""
    if database_url.startswith("sqlite"):
        # In a thread: waiting for SQLite's lock must not stop the app's event loop.
        path = database_url.split(":///", 1)[1]
        conn = sqlite3.connect(path, isolation_level=None, timeout=10, check_same_thread=False)
        await asyncio.to_thread(conn.execute, "BEGIN IMMEDIATE")
        try:
            yield
        finally:
            await asyncio.to_thread(conn.rollback)
            conn.close()
        return
    pg = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        async with pg.transaction():
            await pg.execute("SELECT 1 FROM matches WHERE id = $1 FOR UPDATE", match_id)
            yield
    finally:
        await pg.close()


async def test_a_write_under_way_finishes_and_is_acknowledged_before_the_close(
    app: Quart, scorer_client: Client, live: Services, database_url: str
) -> None:
    match = live.hub.matches[0]
    async with socket(scorer_client) as scorer:
        await scorer.receive()
        async with write_lock_held(database_url, match.id):
            await goal(scorer, match.id, "home")
            await asyncio.sleep(0.5)  # the goal now waits for the lock inside the store
            drain_of(app).begin("a test")
            await asyncio.sleep(0.3)
            assert live.hub.connections, "the socket stays open while its write is under way"
        answer = await receive_until(scorer, lambda m: feedback(m) is not None)
        assert str(feedback(answer)).startswith("ok: Recorded goal")
        assert await close_code(scorer) == 1012
    stored = await live.store.get_match(match.id)
    assert stored is not None and stored.home_score == match.home_score + 1


# -- real servers -------------------------------------------------------------------------


def receive_close(ws: ClientConnection, timeout: float = 10) -> int | None:
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ws.recv(timeout=max(0.1, deadline - time.monotonic()))
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None
    except TimeoutError:
        return None
    return None


def a_worker_holding_sockets(server: Server) -> int:
    """Asked until one answers that holds some: /healthz reaches either worker."""
    for _ in range(200):
        with urllib.request.urlopen(server.url + "/healthz", timeout=5) as response:
            health = json.loads(response.read())
        if health["sockets"]:
            return int(health["worker"])
    raise AssertionError("no worker holds a socket")


def acknowledged_goal(server: Server, ws: ClientConnection, match_id: str) -> None:
    ws.send(json.dumps({"action": "goal", "match": match_id, "side": "home"}))
    while not str(feedback(str(ws.recv(timeout=5)))).startswith("ok: "):
        pass


@pytest.mark.slow
@pytest.mark.parametrize(
    ("workers", "signalled"),
    [("1", "group"), ("2", "group"), ("2", "parent"), ("0", "parent")],
    ids=[
        "one-worker-group-signalled",
        "two-workers-group-signalled",
        "two-workers-parent-signalled",
        "no-worker-process",  # Hypercorn serves in its main process and hooks SIGTERM there too
    ],
)
def test_sigterm_closes_every_socket_with_1012_and_exits_in_time_keeping_the_goal(
    tmp_path: Path, workers: str, signalled: str
) -> None:
    """Heroku, systemd and honcho signal every process of the group; `kill <pid>` only the parent."""
    server = start_server(tmp_path, "--workers", workers, LIVESCORES_CLOCK_INTERVAL="3600")
    wait_for_workers(server, max(1, int(workers)))
    try:
        with ExitStack() as sockets:
            viewers = [sockets.enter_context(connect(server.ws_url, open_timeout=5)) for _ in range(10)]
            cookie = scorer_cookie(server.url)
            scorer = sockets.enter_context(
                connect(server.ws_url, additional_headers={"Cookie": cookie}, open_timeout=5)
            )
            snapshot = str(scorer.recv(timeout=5))
            for viewer in viewers:
                viewer.recv(timeout=5)
            match_id = next(iter(rows(snapshot)))
            acknowledged_goal(server, scorer, match_id)

            started = time.monotonic()
            if signalled == "group":
                os.killpg(server.process.pid, signal.SIGTERM)
            else:
                server.process.send_signal(signal.SIGTERM)
            codes = [receive_close(ws) for ws in [*viewers, scorer]]
            closed_after = time.monotonic() - started
            returncode = server.process.wait(10)
            exited_after = time.monotonic() - started
    finally:
        if server.process.poll() is None:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait(5)
    assert codes == [1012] * 11, server.log()
    assert returncode == 0, server.log()
    assert closed_after < 3 and exited_after < 10, (closed_after, exited_after)
    log = server.log()
    assert "closing" in log and "sockets with 1012" in log
    draining = set(re.findall(r"\[(\d+)\] INFO livescores.lifecycle: shutdown: [^\n]*; closing", log))
    assert len(draining) == max(1, int(workers)), log  # every worker drained, however it learnt of the shutdown

    async def stored_score() -> int:
        store = Store(f"sqlite+aiosqlite:///{tmp_path / 'livescores.db'}")
        try:
            match = await store.get_match(match_id)
            assert match is not None
            return match.home_score
        finally:
            await store.close()

    assert asyncio.run(stored_score()) == 1
    print(f"sockets closed {closed_after:.2f}s and process exited {exited_after:.2f}s after SIGTERM")


@pytest.mark.slow
def test_a_server_still_stops_on_sigterm_with_no_socket_open(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    started = time.monotonic()
    os.killpg(server.process.pid, signal.SIGTERM)
    try:
        assert server.process.wait(10) == 0
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
        raise
    assert time.monotonic() - started < 5


@pytest.mark.slow
def test_a_worker_signalled_alone_drains_then_ends_and_hypercorn_stops_as_it_does_for_any_lost_worker(
    tmp_path: Path,
) -> None:
    server = start_server(tmp_path, "--workers", "2")
    wait_for_workers(server, 2)
    try:
        with ExitStack() as sockets:
            viewers = [sockets.enter_context(connect(server.ws_url, open_timeout=5)) for _ in range(10)]
            for viewer in viewers:
                viewer.recv(timeout=5)
            worker = a_worker_holding_sockets(server)
            started = time.monotonic()
            os.kill(worker, signal.SIGTERM)
            codes = [receive_close(ws, timeout=15) for ws in viewers]
            server.process.wait(15)
            stopped_after = time.monotonic() - started
    finally:
        if server.process.poll() is None:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait(5)
    log = server.log()
    assert codes == [1012] * 10, log
    assert "nothing stopped this process within 3s of SIGTERM; ending it" in log
    assert stopped_after < 12, stopped_after  # (Hypercorn's exit code does not tell of the lost worker)
