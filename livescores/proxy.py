"""Honouring a trusted reverse proxy's X-Forwarded-* headers (Heroku's router sets them)."""

from __future__ import annotations

from typing import Any

from hypercorn.middleware import ProxyFixMiddleware

WEBSOCKET_SCHEMES = {"http": "ws", "https": "wss"}


class _WebsocketScheme:
    """ProxyFixMiddleware writes `https` into WebSocket scopes too; routing needs `wss` there."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket" and scope.get("scheme") in WEBSOCKET_SCHEMES:
            scope = {**scope, "scheme": WEBSOCKET_SCHEMES[scope["scheme"]]}
        await self.app(scope, receive, send)


def behind_proxy(asgi_app: Any) -> Any:
    return ProxyFixMiddleware(_WebsocketScheme(asgi_app), mode="legacy", trusted_hops=1)
