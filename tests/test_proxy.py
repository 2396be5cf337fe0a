"""The proxy's headers are applied as Hypercorn's own ProxyFixMiddleware applies them."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypercorn.middleware import ProxyFixMiddleware

from livescores import create_app
from livescores.config import Config
from livescores.proxy import WEBSOCKET_SCHEMES, behind_proxy

HEADER_SETS = [
    [],
    [(b"x-forwarded-proto", b"https")],
    [(b"x-forwarded-proto", b"http")],
    [(b"X-Forwarded-For", b"203.0.113.9"), (b"x-forwarded-host", b"scores.example")],
    [(b"x-forwarded-for", b"10.0.0.1, 203.0.113.9"), (b"x-forwarded-for", b"198.51.100.7")],
    [(b"x-forwarded-proto", b"http,https"), (b"x-forwarded-host", b" a.example , b.example ")],
    [(b"x-forwarded-for", b"")],
]


async def seen_by_app(middleware: Any, scope: dict[str, Any]) -> dict[str, Any]:
    seen: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(scope)

    await middleware(app)(scope, None, None)
    return seen[0]


@pytest.mark.parametrize("kind", ["http", "websocket"])
@pytest.mark.parametrize("forwarded", HEADER_SETS)
async def test_forwarded_headers_are_read_as_hypercorn_reads_them(
    kind: str, forwarded: list[tuple[bytes, bytes]]
) -> None:
    scope = {
        "type": kind,
        "scheme": "ws" if kind == "websocket" else "http",
        "path": "/ws",
        "headers": [(b"host", b"127.0.0.1:8000"), (b"origin", b"https://scores.example"), *forwarded],
        "client": ("127.0.0.1", 50000),
        "state": {},
    }
    ours = await seen_by_app(behind_proxy, scope)
    expected = await seen_by_app(lambda app: ProxyFixMiddleware(app, mode="legacy", trusted_hops=1), scope)
    if kind == "websocket":
        expected["scheme"] = WEBSOCKET_SCHEMES.get(expected["scheme"], expected["scheme"])
    assert ours == expected
    assert scope["headers"][0] == (b"host", b"127.0.0.1:8000")  # the server's own scope is left as it was


@pytest.mark.parametrize("trusted", [True, False])
async def test_behind_a_trusted_https_proxy_pages_carry_hsts_and_http_is_redirected(
    config: Config, trusted: bool
) -> None:
    app = create_app(dataclasses.replace(config, trust_proxy_headers=trusted))
    async with app.test_app():
        client = app.test_client()
        host = {"X-Forwarded-Host": "scores.example"}
        secure = await client.get("/", headers={"X-Forwarded-Proto": "https", **host})
        plain = await client.get("/healthz?x=1", headers={"X-Forwarded-Proto": "http", **host})
    assert secure.status_code == 200
    if trusted:
        assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
        assert plain.status_code == 308 and plain.headers["Location"] == "https://scores.example/healthz?x=1"
        assert "Strict-Transport-Security" not in plain.headers  # HSTS is heeded only over https
    else:
        # Anyone can send these headers: without a trusted proxy they change nothing.
        assert "Strict-Transport-Security" not in secure.headers
        assert plain.status_code == 200
