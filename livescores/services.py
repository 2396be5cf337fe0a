"""The per-process objects the routes share, opened in Quart's serving hooks."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from quart import current_app

from .bus import Bus
from .config import Config
from .hub import Hub
from .scoreboard import Scoreboard
from .socket_limits import SocketLimits
from .store import Store

EXTENSION_KEY = "livescores"


@dataclass
class Services:
    config: Config
    store: Store
    bus: Bus
    hub: Hub
    scoreboard: Scoreboard
    scorer_token: str
    limits: SocketLimits = field(default_factory=lambda: SocketLimits(0))
    health: dict[str, object] = field(default_factory=dict)  # refreshed every few seconds
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    api_logs: OrderedDict[tuple[str, int], list[dict[str, Any]]] = field(default_factory=OrderedDict)


def services() -> Services:
    found: Services = current_app.extensions[EXTENSION_KEY]
    return found
