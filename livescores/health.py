"""`/healthz` from what the worker keeps: the database and the bus are checked every few
seconds by one task, so that a flood of health checks costs no query and no connection from
the pool the goals are written with."""

from __future__ import annotations

import asyncio
import os
import time
from typing import TYPE_CHECKING

from .compat import fast_path_available

if TYPE_CHECKING:
    from .services import Services

HEALTH_SECONDS = 3.0


async def refresh_health(found: Services) -> None:
    checks: dict[str, object] = {}
    for name, ping in (("database", found.store.ping), ("bus", found.bus.ping)):
        try:
            async with asyncio.timeout(HEALTH_SECONDS):
                await ping()
            checks[name] = "ok"
        except Exception as error:  # reported, not raised
            checks[name] = f"error: {type(error).__name__}"
    checks["checked"] = time.time()
    found.health = checks


async def keep_health(found: Services, interval: float = HEALTH_SECONDS) -> None:
    while True:
        await asyncio.sleep(interval)
        await refresh_health(found)


def health_body(found: Services) -> tuple[dict[str, object], int]:
    checks = dict(found.health)
    checked = checks.pop("checked", 0.0)
    healthy = bool(checks) and all(value == "ok" for value in checks.values())
    body: dict[str, object] = {
        "status": "ok" if healthy else "unavailable",
        **checks,
        "checked_seconds_ago": round(time.time() - float(checked), 1) if isinstance(checked, float) else None,
        "sockets": len(found.hub.connections),
        "worker": os.getpid(),
        # Whether pushes go straight to the sockets' transports; the slow way is no failure,
        # but an operator should know (compat.py logs why, once).
        "fast_path": fast_path_available(),
    }
    return body, 200 if healthy else 503
