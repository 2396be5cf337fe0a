"""The per-process objects the routes share, opened in Quart's serving hooks."""

from __future__ import annotations

from dataclasses import dataclass, field

from quart import current_app

from .auth import SigninThrottle
from .bus import Bus
from .config import Config
from .hub import Hub
from .scoreboard import Scoreboard
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
    signin_throttle: SigninThrottle = field(default_factory=SigninThrottle)


def services() -> Services:
    found: Services = current_app.extensions[EXTENSION_KEY]
    return found
