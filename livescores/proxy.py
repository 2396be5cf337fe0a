"""Honouring a trusted reverse proxy's X-Forwarded-* headers (Heroku's router sets them)."""

from __future__ import annotations

from typing import Any

WEBSOCKET_SCHEMES = {"http": "ws", "https": "wss"}
FORWARDED = {b"x-forwarded-for": "client", b"x-forwarded-proto": "scheme", b"x-forwarded-host": "host"}


def forwarded(scope: dict[str, Any]) -> dict[str, Any]:
    """The scope as the client sent it to the one proxy in front: what Hypercorn's
    ProxyFixMiddleware does in its legacy mode with one trusted hop (the last value of each
    header counts), without its deep copy of every scope, which costs more than the rest of
    a WebSocket's handshake in the app. A WebSocket's scheme is `ws` or `wss`, as routing
    expects, where the proxy says `http` or `https`."""
    found: dict[str, str] = {}
    for name, value in scope["headers"]:
        key = FORWARDED.get(name.lower())
        if key is not None:
            found[key] = value.decode("latin-1").rsplit(",", 1)[-1].strip()
    if not found:
        return scope
    scope = {**scope}
    if "client" in found:
        scope["client"] = (found["client"], 0)
    if "scheme" in found:
        scheme = found["scheme"]
        scope["scheme"] = WEBSOCKET_SCHEMES.get(scheme, scheme) if scope["type"] == "websocket" else scheme
    if "host" in found:
        headers = [(name, value) for name, value in scope["headers"] if name.lower() != b"host"]
        scope["headers"] = [*headers, (b"host", found["host"].encode())]
    return scope


def behind_proxy(asgi_app: Any) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            scope = forwarded(scope)
        await asgi_app(scope, receive, send)

    return app
