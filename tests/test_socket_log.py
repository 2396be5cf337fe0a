"""What the sockets tell an operator: a line per socket as it closes and per refused handshake,
a warning for each close that was the app's doing for a fault, a summary line a minute, and an
error as 1011, never 1000."""

from __future__ import annotations

import asyncio
import json
import logging
import re

import pytest
from quart import Quart
from quart.typing import TestClientProtocol as Client
from sqlalchemy import text

from livescores import SOCKETS_KEY
from livescores.services import Services
from livescores.socket import LiveSocketEndpoint

from .pages import feedback
from .support import close_code, goal, receive_until, socket

REFUSE_EVENTS_SQLITE = ["CREATE TRIGGER refuse BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"]
REFUSE_EVENTS_POSTGRESQL = [
    "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk on fire'; END $$ LANGUAGE plpgsql",
    "CREATE TRIGGER refuse BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION refuse()",
]


def endpoint_of(app: Quart) -> LiveSocketEndpoint:
    found: LiveSocketEndpoint = app.extensions[SOCKETS_KEY]
    return found


async def test_each_socket_is_logged_once_as_it_ends_and_summed_up(
    app: Quart, client: Client, scorer_client: Client, live: Services, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, "livescores.socket")
    sockets = endpoint_of(app)
    sockets.log.summary(0, 60)  # what the app's start-up may have counted
    async with socket(client) as viewer, socket(scorer_client) as scorer:
        await viewer.receive()
        await scorer.receive()
        await scorer.send(json.dumps({"action": "goal", "match": live.hub.matches[0].id, "pad": "x" * 5000}))
        assert await close_code(scorer) == 1009
    async with client.websocket("/ws", headers={"Origin": "http://evil.example"}) as refused:
        assert await close_code(refused) == 403  # type: ignore[arg-type]
    async with socket(client, "/ws?match=nope") as unknown:
        assert await close_code(unknown) == 404
    lines = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "livescores.socket"]
    warnings = [line for level, line in lines if level == logging.WARNING]
    assert len(warnings) == 1
    assert re.fullmatch(r"socket: \S+ scorer closed 1009 message too big after \d+\.\ds \(\d+ open\)", warnings[0])
    infos = [line for level, line in lines if level == logging.INFO]
    assert sum(re.fullmatch(r"socket: \S+ viewer closed by client after .*", line) is not None for line in infos) == 1
    assert sum(line.startswith("socket: refused ") for line in infos) == 2
    assert any("(origin, origin 'http://evil.example')" in line for line in infos)
    assert any("(unknown match, origin " in line for line in infos)
    debugs = [line for level, line in lines if level == logging.DEBUG]
    assert sum(" open as " in line for line in debugs) == 2
    line = sockets.log.summary(0, 60)
    assert line == (
        "sockets: 0 open; in the last 60s 2 opened; 2 closed (1009 message too big 1, by client 1); "
        "2 refused (origin 1, unknown match 1); refused origins: 'http://evil.example' 1"
    )
    assert sockets.log.summary(0, 60) is None  # nothing since


async def test_the_summary_is_logged_every_interval(
    app: Quart, live: Services, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "livescores.socket")
    sockets = endpoint_of(app)
    reporting = asyncio.create_task(sockets.log.report(live.hub, interval=0.05))
    try:
        sockets.log.refuse("full")
        while not any("1 refused (full 1)" in record.getMessage() for record in caplog.records):  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    finally:
        reporting.cancel()


async def test_a_failure_while_handling_a_message_closes_with_1011_and_is_logged(
    scorer_client: Client, live: Services, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "livescores.socket")
    async with socket(scorer_client) as scorer:
        await scorer.receive()
        async with live.store.engine.begin() as conn:  # the database starts refusing every write
            for statement in REFUSE_EVENTS_SQLITE if live.store.is_sqlite else REFUSE_EVENTS_POSTGRESQL:
                await conn.execute(text(statement))
        await goal(scorer, live.hub.matches[0].id)
        told = await receive_until(scorer, lambda m: feedback(m) is not None)
        assert str(feedback(told)).startswith("error: Something went wrong on the server")
        assert await close_code(scorer) == 1011
    failed = [record for record in caplog.records if record.getMessage() == "socket: scorer failed"]
    assert failed and failed[0].exc_info is not None
    assert any("closed 1011 error" in record.getMessage() for record in caplog.records)
