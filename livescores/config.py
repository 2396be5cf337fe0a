"""Configuration read once from the environment, with defaults that need no services."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_DATA_DIR = Path("instance")
Number = TypeVar("Number", int, float)


def normalise_database_url(url: str) -> str:
    """Pick the async driver for a database URL, accepting Heroku's `postgres://` form."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    return url


@dataclass(frozen=True)
class Config:
    database_url: str = f"sqlite+aiosqlite:///{DEFAULT_DATA_DIR / 'livescores.db'}"
    bus_url: str = "memory://"
    bus_channel: str = "livescores:changes"
    bus_verify_tls: bool = True
    scorer_token: str | None = None
    secret_key: str | None = None
    allowed_origins: tuple[str, ...] = ()
    frame_ancestors: tuple[str, ...] = ()
    trust_proxy_headers: bool = False
    max_message_bytes: int = 4096
    max_sockets: int = 19_500  # viewers'; scorers have room of their own
    max_scorer_sockets: int = 100
    max_sockets_per_address: int = 1000
    public_url: str | None = None
    scoring_rate: float = 10.0
    scoring_burst: int = 20
    outbox_timeout_seconds: float = 10.0
    # A socket silent this long (no pong, no frame) is closed; a message left half sent this long too.
    ping_timeout_seconds: float = 60.0
    fragment_timeout_seconds: float = 10.0
    clock_interval_seconds: float = 15.0
    viewer_count_seconds: float = 5.0
    store_poll_seconds: float = 2.0
    # Above 0: log every event-loop stall longer than this many milliseconds, and what ran (stalls.py).
    stall_log_ms: float = 0.0
    create_demo_matches: bool = True
    # "worldcup": a real match day of the 2022 World Cup moved onto today (demo.py);
    # "draw": ten random Premier League matches already kicked off, which the tests build on.
    demo: str = "worldcup"
    worker_count: int = 1
    timezone: str = "UTC"  # the home time zone: which day a match belongs to
    # A folder: the worker traces its allocations and writes a snapshot there on SIGUSR2 (bench only).
    tracemalloc_dir: str | None = None
    # On SIGTERM a lone worker lets go of its port, keeps its sockets until a replacement
    # listens on it (at most this long), then closes them this many a second (lifecycle.py).
    restart_wait_seconds: float = 2.0
    drain_rate: int = 4000

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        env = os.environ if env is None else env
        database_url = env.get("DATABASE_URL") or (
            f"sqlite+aiosqlite:///{env.get('LIVESCORES_DB_PATH') or DEFAULT_DATA_DIR / 'livescores.db'}"
        )
        return cls(
            database_url=normalise_database_url(database_url),
            bus_url=env.get("REDIS_URL") or "memory://",
            bus_channel=env.get("LIVESCORES_CHANNEL") or "livescores:changes",
            bus_verify_tls=env.get("LIVESCORES_REDIS_VERIFY_TLS", "1") not in {"0", "false", "no"},
            scorer_token=env.get("LIVESCORES_SCORER_TOKEN") or None,
            secret_key=env.get("SECRET_KEY") or None,
            allowed_origins=_split(env.get("LIVESCORES_ALLOWED_ORIGINS", "")),
            frame_ancestors=_split(env.get("LIVESCORES_FRAME_ANCESTORS", "")),
            trust_proxy_headers=env.get("LIVESCORES_TRUST_PROXY", "") in {"1", "true", "yes"},
            max_sockets=_number(env, "LIVESCORES_MAX_SOCKETS", 19500),
            max_scorer_sockets=_number(env, "LIVESCORES_MAX_SCORER_SOCKETS", 100),
            max_sockets_per_address=_number(env, "LIVESCORES_MAX_SOCKETS_PER_ADDRESS", 1000),
            ping_timeout_seconds=_number(env, "LIVESCORES_PING_TIMEOUT", 60.0),
            fragment_timeout_seconds=_number(env, "LIVESCORES_FRAGMENT_TIMEOUT", 10.0),
            public_url=(env.get("LIVESCORES_PUBLIC_URL") or "").rstrip("/") or None,
            clock_interval_seconds=_number(env, "LIVESCORES_CLOCK_INTERVAL", 15.0),
            viewer_count_seconds=_number(env, "LIVESCORES_VIEWER_COUNT_INTERVAL", 5.0),
            store_poll_seconds=_number(env, "LIVESCORES_STORE_POLL", 2.0),
            stall_log_ms=_number(env, "LIVESCORES_STALL_LOG_MS", 0.0),
            create_demo_matches=env.get("LIVESCORES_DEMO", "1") not in {"0", "false", "no"},
            demo="draw" if env.get("LIVESCORES_DEMO") == "draw" else "worldcup",
            worker_count=int(env.get("WEB_CONCURRENCY", "1") or 1),
            timezone=_zone_name(env.get("LIVESCORES_TIMEZONE") or "UTC"),
            tracemalloc_dir=env.get("LIVESCORES_TRACEMALLOC") or None,
            restart_wait_seconds=_at_least(0, "LIVESCORES_RESTART_WAIT", _number(env, "LIVESCORES_RESTART_WAIT", 2.0)),
            drain_rate=_at_least(1, "LIVESCORES_DRAIN_RATE", _number(env, "LIVESCORES_DRAIN_RATE", 4000)),
        )


def _number(env: Mapping[str, str], name: str, default: Number) -> Number:
    """A number from the environment; one that is not a number stops the start, naming the variable."""
    value = env.get(name)
    if value is None:
        return default
    try:
        return type(default)(value)
    except ValueError:
        kind = "a whole number" if isinstance(default, int) else "a number"
        raise ValueError(f"{name}={value!r} is not {kind}.") from None


def _at_least(least: Number, name: str, value: Number) -> Number:
    if value < least:
        raise ValueError(f"{name}={value!r} is below {least}.")
    return value


def _zone_name(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"LIVESCORES_TIMEZONE={name!r} is not an IANA time zone such as Europe/London.") from None
    return name


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip().rstrip("/") for part in value.split(",") if part.strip())
