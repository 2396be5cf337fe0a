"""Fixtures shared by the tests: real databases (SQLite files, PostgreSQL databases made per
test), the real app inside Quart's test harness, and scorer sign-in through the real form."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from quart import Quart
from quart.typing import TestClientProtocol as Client

from livescores import create_app
from livescores.config import Config
from livescores.services import EXTENSION_KEY, Services

from .services import POSTGRES_ADMIN_URL, REDIS_TEST_URL, need_postgres
from .support import SCORER_TOKEN, sign_in

__all__ = ["POSTGRES_ADMIN_URL", "REDIS_TEST_URL"]  # imported from here by the tests


async def create_postgres_database() -> str:
    name = f"livescores_{secrets.token_hex(6)}"
    conn = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


async def drop_postgres_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def private_channel() -> str:
    """A pub/sub channel no other test (nor anyone else on the shared Redis) publishes on."""
    return f"livescores-test:{secrets.token_hex(8)}"


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """Every test that touches the store runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'livescores.db'}"
        return
    need_postgres()
    url = await create_postgres_database()
    try:
        yield url.replace("postgresql://", "postgresql+asyncpg://", 1)
    finally:
        await drop_postgres_database(url)


@pytest.fixture
def config(database_url: str) -> Config:
    return Config(
        database_url=database_url,
        scorer_token=SCORER_TOKEN,
        secret_key="secret-for-tests",
        clock_interval_seconds=3600,
        viewer_count_seconds=3600,
        demo="draw",  # today's board: ten matches kicked off, which most tests score in
    )


@pytest.fixture
async def app(config: Config) -> AsyncIterator[Quart]:
    quart_app = create_app(config)
    async with quart_app.test_app():
        yield quart_app


@pytest.fixture
def client(app: Quart) -> Client:
    return app.test_client()


@pytest.fixture
async def scorer_client(app: Quart) -> Client:
    client = app.test_client()
    await sign_in(client)
    return client


@pytest.fixture
def live(app: Quart) -> Services:
    found: Services = app.extensions[EXTENSION_KEY]
    return found


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database (plain URL) for tests that start servers on it."""
    need_postgres()
    url = await create_postgres_database()
    try:
        yield url
    finally:
        await drop_postgres_database(url)
