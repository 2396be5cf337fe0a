"""The `/ws` endpoint: one socket per page, for the live board and for scorers' commands."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from quart import Blueprint, abort, websocket

from .auth import current_role, current_scorer, websocket_origin_allowed
from .hub import SERVICE_RESTART, TRY_AGAIN_LATER, Connection
from .matches import Match, RuleViolation
from .messages import MATCH_ID, InvalidMessage, MessageTooLarge, parse_command
from .render import Role, feedback
from .services import services
from .transport import SEND_KEY, DirectWriter

log = logging.getLogger(__name__)
blueprint = Blueprint("socket", __name__)

# htmx reconnects after 1011-1013 and never after 1008/1009; 1000 would strand the page.
POLICY_VIOLATION = 1008
MESSAGE_TOO_BIG = 1009
ABUSE_LIMIT = 100  # refused messages in a row before a socket counts as hostile


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
    if hub.closing.is_set() or hub.is_full():
        await websocket.accept()
        await websocket.close(SERVICE_RESTART if hub.closing.is_set() else TRY_AGAIN_LATER)
        return
    writer = DirectWriter.find(websocket.scope.get(SEND_KEY))  # before accept: it declines compression
    # An embed's socket (`?embed=1`) is a viewer's even when a scorer's cookie comes along.
    role: Role = "viewer" if websocket.args.get("embed") else current_role()
    connection = Connection(role, websocket.send, app_services.config.outbox_timeout_seconds, match_id, writer)
    await websocket.accept()
    await hub.attach(connection)
    log.info("socket: open as %s (%d open)", connection.role, len(hub.connections))
    opened = time.monotonic()
    close_code: int | None = None
    try:
        close_code = await _converse(connection)
    finally:
        hub.detach(connection)
        log.info(
            "socket: %s closed %s after %.1fs (%d open)",
            connection.role,
            close_code or "by client",
            time.monotonic() - opened,
            len(hub.connections),
        )
        if close_code is None:
            await connection.close()
    # What is being sent, and the feedback that explains the close, go first; not to a socket
    # that stopped reading, which would only hold the close up.
    if close_code != TRY_AGAIN_LATER:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(1.0):
                await connection.flush()
    await connection.close()
    await websocket.close(close_code)


async def _converse(connection: Connection) -> int:
    """Read and act on messages until this side ends the conversation; the close code.
    A message being handled is finished (stored and acknowledged) before a stop is obeyed."""
    app_services = services()
    config = app_services.config
    bucket = TokenBucket(config.scoring_rate, config.scoring_burst)
    refused_in_a_row = 0
    receiving: asyncio.Future[str | bytes] | None = None
    try:
        while True:
            receiving = asyncio.ensure_future(websocket.receive())
            waiting: set[asyncio.Future[Any]] = {receiving, connection.stopped}
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if connection.stopped.done():
                return connection.stopped.result()
            raw = receiving.result()
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
                return MESSAGE_TOO_BIG
            except (InvalidMessage, RuleViolation) as error:
                refused_in_a_row += 1
                connection.push("feedback", feedback(str(error)))
                if refused_in_a_row >= ABUSE_LIMIT:
                    return POLICY_VIOLATION
                continue
            refused_in_a_row = 0
            connection.push("feedback", feedback(describe(match, command.kind), level="ok"))
    finally:
        if receiving is not None and not receiving.done():
            receiving.cancel()


def describe(match: Match, kind: str) -> str:
    what = "Undid the last event" if kind == "undo" else f"Recorded {kind.replace('_', ' ')}"
    return f"{what}: {match.home} {match.home_score}–{match.away_score} {match.away}"
