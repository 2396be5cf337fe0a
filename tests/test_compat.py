"""The internals of Hypercorn, asyncio and multiprocessing that compat.py relies on exist on
the pinned versions, under a real Hypercorn in this process, with asyncio's loop and with
uvloop's (`hypercorn -k uvloop`); the app serves its sockets itself under either, and says so
once when it cannot; the frame limit the app reads is hypercorn.toml's."""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import uvloop
from hypercorn.asyncio import serve
from hypercorn.config import Config as HypercornConfig
from websockets.asyncio.client import connect
from websockets.typing import Origin

from livescores import compat, create_app, socket
from livescores.config import Config

from .servers import ROOT, free_port
from .test_hypercorn_socket import app_config, serving

LOOPS: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "asyncio": asyncio.new_event_loop,
    "uvloop": uvloop.new_event_loop,
}


class Probe:
    """An ASGI app that looks, while serving a page under a Hypercorn that listens, at what
    compat.py relies on."""

    def __init__(self) -> None:
        self.missing: list[str] | None = None
        self.serving: object = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        self.serving = compat.hypercorn_serving()
        self.missing = compat.missing_private_attributes(send, asyncio.get_running_loop())
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})


async def probe_once() -> Probe:
    config = HypercornConfig()
    port = free_port()
    config.bind = [f"127.0.0.1:{port}"]
    probe = Probe()
    stop = asyncio.Event()
    server = asyncio.create_task(serve(probe, config, shutdown_trigger=stop.wait))  # type: ignore[arg-type]
    try:
        for _ in range(100):
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.write(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            assert (await asyncio.wait_for(reader.read(), 5)).startswith(b"HTTP/1.1 200")
            writer.close()
            break
    finally:
        stop.set()
        await asyncio.wait_for(server, 10)
    return probe


@pytest.mark.parametrize("loop", LOOPS)
def test_every_private_attribute_compat_relies_on_exists_on_the_pinned_versions(loop: str) -> None:
    assert compat.version_problem() is None
    with asyncio.Runner(loop_factory=LOOPS[loop]) as runner:
        probe = runner.run(probe_once())
    assert probe.missing == []
    assert isinstance(probe.serving, compat.Serving) and len(probe.serving.servers) == 1


def test_a_server_other_than_hypercorn_is_reported_once(caplog: pytest.LogCaptureFixture) -> None:
    async def not_hypercorns_send(message: dict[str, Any]) -> None:
        pass

    caplog.set_level(logging.WARNING, logger="livescores.compat")
    compat._warned.discard("not served by Hypercorn")
    assert compat.check_server(not_hypercorns_send) == compat.NOT_HYPERCORN
    assert compat.check_server(not_hypercorns_send) == compat.NOT_HYPERCORN
    warnings = [r.getMessage() for r in caplog.records if "not served by Hypercorn" in r.getMessage()]
    assert len(warnings) == 1 and "20 times slower" in warnings[0]
    assert not compat.fast_path_available()
    assert "not served by Hypercorn" in compat.fallback_reasons()


def test_the_frame_limit_the_app_checks_is_the_one_hypercorn_reads_from_hypercorn_toml() -> None:
    served = HypercornConfig.from_toml(ROOT / "hypercorn.toml")
    assert served.websocket_max_message_size == socket.FRAME_LIMIT
    # The app's own, smaller limit is what refuses a message, with 1009, instead of Hypercorn.
    assert socket.FRAME_LIMIT is not None and Config().max_message_bytes < socket.FRAME_LIMIT


async def test_the_health_check_says_whether_the_fast_path_is_on(app: object) -> None:
    from livescores import compat

    client = app.test_client()  # type: ignore[attr-defined]
    body = await (await client.get("/healthz")).get_json()
    assert body["fast_path"] is compat.fast_path_available()


async def health_over(port: int, context: ssl.SSLContext | None = None) -> dict[str, Any]:
    """`GET /healthz` from the real server, over TLS with `context`."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    response = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    body: dict[str, Any] = json.loads(response.split(b"\r\n\r\n", 1)[1])
    return body


def fast_path_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The warnings that say pushes go the slow way (uvloop's has another, on signal handlers)."""
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "livescores.compat" and r.levelno >= logging.WARNING and compat.SLOWER in r.getMessage()
    ]


@pytest.mark.parametrize("loop", LOOPS)
def test_the_app_under_hypercorn_keeps_the_fast_path_and_deflate_with_either_loop(
    loop: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    compat._fallbacks.clear()
    caplog.set_level(logging.WARNING, logger="livescores.compat")

    async def visit() -> tuple[dict[str, Any], str | None, bool]:
        async for served in serving(app_config(tmp_path)):
            async with served.connect() as ws:
                assert ws.response is not None
                agreed = ws.response.headers.get("Sec-WebSocket-Extensions")
                snapshot = str(await asyncio.wait_for(ws.recv(), 5))  # inflated by the client
                direct = all(writer.deflate for writer in served.sockets.writers) and len(served.sockets.writers) == 1
                assert snapshot.startswith('<hx-partial hx-target="#board"')
            return await health_over(served.port), agreed, direct
        raise AssertionError("not served")

    with asyncio.Runner(loop_factory=LOOPS[loop]) as runner:
        health, agreed, direct = runner.run(visit())
    assert health["fast_path"] is True and compat.fast_path_available()
    assert agreed == "permessage-deflate; server_no_context_takeover" and direct
    assert fast_path_warnings(caplog) == []


def test_tls_served_by_hypercorn_turns_the_fast_path_off_with_one_warning_at_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    settings = HypercornConfig.from_toml(ROOT / "hypercorn.toml")
    settings.certfile, settings.keyfile = str(cert), str(key)
    compat._fallbacks.clear()
    compat._warned.discard(compat.TLS)
    caplog.set_level(logging.WARNING, logger="livescores.compat")
    client = ssl.create_default_context()
    client.check_hostname, client.verify_mode = False, ssl.CERT_NONE

    async def visit() -> tuple[list[str], dict[str, Any]]:
        async for served in serving(app_config(tmp_path), settings):
            at_start = fast_path_warnings(caplog)  # before any socket
            url = f"wss://127.0.0.1:{served.port}/ws"
            async with connect(url, ssl=client, origin=Origin(f"https://127.0.0.1:{served.port}")) as ws:
                assert str(await asyncio.wait_for(ws.recv(), 5)).startswith('<hx-partial hx-target="#board"')
                assert not served.sockets.writers  # through ASGI send
            return at_start, await health_over(served.port, client)
        raise AssertionError("not served")

    at_start, health = asyncio.run(visit())
    assert len(at_start) == 1 and at_start[0].startswith(compat.TLS)
    assert fast_path_warnings(caplog) == at_start  # the socket's fallback said nothing more
    assert health["fast_path"] is False


async def test_another_server_turns_the_fast_path_off_at_start_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Quart's test client runs the app's lifespan as any other ASGI server would.
    compat._fallbacks.clear()
    compat._warned.discard(compat.NOT_HYPERCORN)
    caplog.set_level(logging.WARNING, logger="livescores.compat")
    app = create_app(app_config(tmp_path))
    async with app.test_app() as served:
        assert fast_path_warnings(caplog) == [f"{compat.NOT_HYPERCORN}: {compat.SLOWER}"]
        body = await (await served.test_client().get("/healthz")).get_json()
        assert body["fast_path"] is False
