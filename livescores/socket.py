"""The `/ws` endpoint: one socket per page, for the live board and for scorers' commands."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from quart import Blueprint, abort, websocket

from .auth import current_role, current_scorer, websocket_origin_allowed
from .hub import Connection, SlowConsumer
from .matches import Match, RuleViolation
from .messages import MATCH_ID, InvalidMessage, MessageTooLarge, parse_command
from .render import Role, feedback
from .services import services

log = logging.getLogger(__name__)
blueprint = Blueprint("socket", __name__)

# htmx reconnects after 1011-1013 and never after 1008/1009; 1000 would strand the page.
POLICY_VIOLATION = 1008
MESSAGE_TOO_BIG = 1009
TRY_AGAIN_LATER = 1013
ABUSE_LIMIT = 100  # refused messages in a row before a socket counts as hostile


class Closing(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class TokenBucket:
    """`rate` messages a second on average, up to `burst` at once."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.capacity = float(burst)
        self.tokens = float(burst)
        self.stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


@blueprint.websocket("/ws")
async def live() -> None:
    app_services = services()
    if not websocket_origin_allowed(app_services.config):
        log.info("socket: refused origin %r", websocket.headers.get("Origin"))
        abort(403)  # before accept, so the handshake itself fails with HTTP 403
    hub = app_services.hub
    # `?match=<id>`: the socket of a match's detail page, which gets that match's row and timeline.
    match_id = websocket.args.get("match") or None
    if match_id is not None and (not MATCH_ID.match(match_id) or match_id not in hub.rows):
        abort(404)
    if hub.is_full():
        await websocket.accept()
        await websocket.close(TRY_AGAIN_LATER, "server busy")
        return
    # An embed's socket (`?embed=1`) is a viewer's even when a scorer's cookie comes along.
    role: Role = "viewer" if websocket.args.get("embed") else current_role()
    connection = Connection(role, websocket.send, app_services.config.outbox_timeout_seconds, match_id)
    await websocket.accept()
    await hub.attach(connection)
    log.info("socket: open as %s (%d open)", connection.role, len(hub.connections))
    sender = asyncio.create_task(connection.run())
    receiver = asyncio.create_task(_receive(connection))
    close_code: int | None = None
    try:
        done, _ = await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
        error = next(iter(done)).exception()
        if isinstance(error, SlowConsumer):
            close_code = TRY_AGAIN_LATER
        elif isinstance(error, Closing):
            close_code = error.code
        elif error is not None:
            raise error
    finally:
        hub.detach(connection)
        for task in (sender, receiver):
            task.cancel()
        await asyncio.wait({sender, receiver})
        log.info("socket: closed %s (%d open)", close_code or "by client", len(hub.connections))
    if close_code is not None:
        # The feedback that explains the close goes first, unless the socket is the slow one.
        if close_code != TRY_AGAIN_LATER:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1.0):
                    await connection.flush()
        await websocket.close(close_code)


async def _receive(connection: Connection) -> None:
    app_services = services()
    config = app_services.config
    bucket = TokenBucket(config.scoring_rate, config.scoring_burst)
    refused_in_a_row = 0
    while True:
        raw = await websocket.receive()
        try:
            command = parse_command(raw, config.max_message_bytes)
            if not bucket.take():
                raise InvalidMessage("Slow down: too many messages at once. This one was ignored.")
            scorer = current_scorer()
            if scorer is None or connection.role != "scorer":
                raise InvalidMessage("Only signed-in scorers can record events. Nothing was changed.")
            match = await app_services.scoreboard.record(command, scorer)
        except MessageTooLarge as error:
            connection.push("feedback", feedback(str(error)))
            raise Closing(MESSAGE_TOO_BIG) from error
        except (InvalidMessage, RuleViolation) as error:
            refused_in_a_row += 1
            connection.push("feedback", feedback(str(error)))
            if refused_in_a_row >= ABUSE_LIMIT:
                raise Closing(POLICY_VIOLATION) from error
            continue
        refused_in_a_row = 0
        connection.push("feedback", feedback(describe(match, command.kind), level="ok"))


def describe(match: Match, kind: str) -> str:
    what = "Undid the last event" if kind == "undo" else f"Recorded {kind.replace('_', ' ')}"
    return f"{what}: {match.home} {match.home_score}–{match.away_score} {match.away}"
