"""A one-process deploy: SIGTERM to a lone Hypercorn worker, its replacement on the same port.

The stopping worker lets go of the port at once, keeps its sockets open until the replacement
listens there, then closes every one with 1012, and what it acknowledged is in the replacement's
first snapshot.
"""

from __future__ import annotations

import gc
import os
import signal
import socket
import time
from contextlib import ExitStack
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from livescores import DRAIN_KEY, create_app
from livescores.config import Config

from .pages import rows
from .servers import scorer_cookie, start_server
from .test_lifecycle import a_worker_holding_sockets, acknowledged_goal, receive_close

VIEWERS = 20


def bind_once(port: int) -> bool:
    """Whether a new server could bind the port now (with SO_REUSEADDR, as Hypercorn binds)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("LIVESCORES_DRAIN_RATE", "0", "LIVESCORES_DRAIN_RATE=0 is below 1."),
        ("LIVESCORES_DRAIN_RATE", "fast", "LIVESCORES_DRAIN_RATE='fast' is not a whole number."),
        ("LIVESCORES_RESTART_WAIT", "-1", "LIVESCORES_RESTART_WAIT=-1.0 is below 0."),
    ],
)
def test_a_drain_setting_out_of_range_stops_the_start_naming_it(name: str, value: str, reason: str) -> None:
    with pytest.raises(ValueError) as refused:
        Config.from_env({name: value})
    assert str(refused.value) == reason


def test_the_drain_settings_are_read() -> None:
    config = Config.from_env({"LIVESCORES_DRAIN_RATE": "1000", "LIVESCORES_RESTART_WAIT": "0"})
    assert (config.drain_rate, config.restart_wait_seconds) == (1000, 0.0)
    assert (Config.from_env({}).drain_rate, Config.from_env({}).restart_wait_seconds) == (4000, 2.0)


async def test_a_drain_stops_garbage_collection_until_the_app_has_stopped(config: Config) -> None:
    """A worker that drains is about to exit; a process that goes on (a test's) collects again."""
    app = create_app(config)
    async with app.test_app():
        app.extensions[DRAIN_KEY].begin("a test")
        assert not gc.isenabled()
    assert gc.isenabled()


def still_open(ws: ClientConnection, seconds: float) -> bool:
    """Whether the socket stays open for `seconds`, whatever it is pushed meanwhile."""
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            ws.recv(timeout=max(0.01, deadline - time.monotonic()))
    except TimeoutError:
        return True
    except ConnectionClosed:
        return False
    return True


def cpu_seconds(pid: int) -> float:
    """The CPU time a process and its children (Hypercorn's workers) have used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    used = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            used += cpu_seconds(int(child))
    return used


@pytest.mark.slow
@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_after_sigterm_the_port_is_free_at_once_and_every_socket_closes_with_1012_once_a_replacement_listens(
    tmp_path: Path, loop: str
) -> None:
    old = start_server(tmp_path, "-k", loop, LIVESCORES_CLOCK_INTERVAL="3600", LIVESCORES_RESTART_WAIT="20")
    port = int(old.url.rsplit(":", 1)[1])
    replacement = None
    try:
        with ExitStack() as sockets:
            viewers = [sockets.enter_context(connect(old.ws_url, open_timeout=5)) for _ in range(VIEWERS)]
            for viewer in viewers:
                viewer.recv(timeout=5)
            cookie = scorer_cookie(old.url)
            scorer = sockets.enter_context(connect(old.ws_url, additional_headers={"Cookie": cookie}, open_timeout=5))
            match_id = next(iter(rows(str(scorer.recv(timeout=5)))))
            acknowledged_goal(old, scorer, match_id)

            os.killpg(old.process.pid, signal.SIGTERM)
            signalled = time.monotonic()
            while not bind_once(port):
                assert time.monotonic() - signalled < 1.0, "the port was still taken a second after SIGTERM"
                time.sleep(0.01)
            assert old.process.poll() is None, "the port came free only when the old server had exited"
            before = cpu_seconds(old.process.pid)
            assert still_open(viewers[0], 1.0), "the sockets are kept while no replacement listens"
            # A shut socket its loop still polled would read as ready for ever: a core spent.
            assert cpu_seconds(old.process.pid) - before < 0.3, "the stopping server spun while it waited"

            replacement = start_server(tmp_path, "-k", loop, port=port, LIVESCORES_CLOCK_INTERVAL="3600")
            codes = [receive_close(ws, timeout=15) for ws in viewers]
            assert old.process.wait(20) == 0, old.log()
    except BaseException:
        if replacement is not None:
            replacement.stop()
        raise
    finally:
        if old.process.poll() is None:
            os.killpg(old.process.pid, signal.SIGKILL)
            old.process.wait(5)
    try:
        assert codes == [1012] * VIEWERS, old.log()
        log = old.log()
        assert "stopped listening on 127.0.0.1:" in log and "a replacement listened after" in log, log
        assert "Traceback" not in log, log  # Hypercorn closing again the servers let go of raised nothing
        with connect(replacement.ws_url, open_timeout=5) as back:
            snapshot = rows(str(back.recv(timeout=5)))
        assert snapshot[match_id].home_score == 1, "the goal acknowledged before the restart is on the new board"
    except ConnectionClosed as closed:
        raise AssertionError(f"the replacement closed a new socket: {closed}\n{replacement.log()}") from closed
    finally:
        replacement.stop()


@pytest.mark.slow
@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_a_lone_worker_signalled_alone_lets_go_of_its_port_and_waits_without_spinning(
    tmp_path: Path, loop: str
) -> None:
    """Hypercorn's main process, not signalled, does not stop the worker's servers meanwhile:
    the worker's own release must leave no shut socket polled."""
    server = start_server(tmp_path, "-k", loop, LIVESCORES_CLOCK_INTERVAL="3600", LIVESCORES_RESTART_WAIT="20")
    port = int(server.url.rsplit(":", 1)[1])
    try:
        with connect(server.ws_url, open_timeout=5) as viewer:
            viewer.recv(timeout=5)
            worker = a_worker_holding_sockets(server)
            os.kill(worker, signal.SIGTERM)
            signalled = time.monotonic()
            while not bind_once(port):
                assert time.monotonic() - signalled < 1.0, "the port was still taken a second after SIGTERM"
                time.sleep(0.01)
            time.sleep(0.2)
            before = cpu_seconds(worker)
            assert still_open(viewer, 1.0), "the socket is kept while no replacement listens"
            assert cpu_seconds(worker) - before < 0.3, f"the stopping worker spun while it waited\n{server.log()}"
    finally:
        server.kill()
    assert "Traceback" not in server.log(), server.log()
