"""The servers some tests need (PostgreSQL, Redis): a plain `pytest` skips those tests, with one
reason each, where a server is missing; `make test` and CI make a missing server a failure."""

from __future__ import annotations

import os
import shutil
import socket
from functools import cache
from urllib.parse import urlsplit

import pytest

POSTGRES_ADMIN_URL = os.environ.get("LIVESCORES_TEST_POSTGRES", "postgresql://127.0.0.1:5432/test")
REDIS_TEST_URL = os.environ.get("LIVESCORES_TEST_REDIS", "redis://127.0.0.1:6379/0")


def services_required() -> bool:
    """Set by `make test` (LIVESCORES_REQUIRE_SERVICES=1) and by CI (CI=true)."""
    return os.environ.get("LIVESCORES_REQUIRE_SERVICES") == "1" or os.environ.get("CI", "").lower() == "true"


@cache
def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _missing(what: str) -> None:
    if services_required():
        pytest.fail(f"{what}: this run requires it (LIVESCORES_REQUIRE_SERVICES=1 or CI=true)", pytrace=False)
    pytest.skip(f"{what}: the tests that need it are skipped (make test requires it)")


def need_server(name: str, url: str) -> None:
    """Skip (or fail, when required) the calling test unless `name` answers at `url`."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or {"postgresql": 5432, "redis": 6379}[parts.scheme]
    if not _listening(host, port):
        _missing(f"{name} is not running on {host}:{port}")


def need_postgres() -> None:
    need_server("PostgreSQL", POSTGRES_ADMIN_URL)


def need_redis() -> None:
    need_server("Redis", REDIS_TEST_URL)


def need_redis_server_program() -> None:
    if shutil.which("redis-server") is None:
        _missing("redis-server is not installed")
