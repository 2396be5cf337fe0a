"""Read-only feeds beside the WebSocket: the JSON API, its change stream, and the page's
Server-Sent Events fallback for networks that block WebSockets.

Both streams are hub connections like a socket: they get the snapshot on connect and then
the same pushes, through the same coalescing outbox, so they cannot drift from the board.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from quart import Blueprint, Response, abort, request

from .codec import event_json, match_json
from .hub import Connection
from .i18n import DEFAULT, language
from .messages import MATCH_ID
from .openapi import OPENAPI
from .pages import NoSuchPage, Page, page_from_args
from .render import Role, sse_event
from .services import services

log = logging.getLogger(__name__)
blueprint = Blueprint("feeds", __name__)

KEEPALIVE_SECONDS = 15.0
API_CACHE_SIZE = 500
STREAM_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-store", "X-Accel-Buffering": "no"}


@blueprint.get("/api/openapi.json")
async def api_schema() -> dict[str, Any]:
    return OPENAPI


@blueprint.get("/api/matches/<match_id>")
async def api_match(match_id: str) -> dict[str, Any]:
    found = services()
    # The match from the hub's window (what the pages show, kept current by the bus), its log
    # from a cache keyed by the match's version: a flood of anonymous reads costs no query
    # while the match does not change, and cannot hold up a goal's transaction.
    held = await found.scoreboard.window.page_matches(Page("match", match_id)) if MATCH_ID.fullmatch(match_id) else []
    if not held:
        abort(404)
    match = held[0]
    cache = found.api_logs
    key = (match.id, match.version)
    log_json = cache.get(key)
    if log_json is None:
        # The log is cut at the match's version: a write since only lengthens it.
        log_entries = (await found.store.events(match_id))[: match.version]
        log_json = [event_json(version, event) for version, event in enumerate(log_entries, start=1)]
        cache[key] = log_json
        while len(cache) > API_CACHE_SIZE:
            cache.popitem(last=False)
    return {"match": match_json(match, datetime.now(UTC)), "log": log_json}


@blueprint.get("/api/stream")
async def api_stream() -> Response:
    """Every change to a page's matches as a JSON `match` event, after a `snapshot` event with
    them all; the page is named as for `/ws` (today's matches by default)."""
    return await _stream("feed", await _page_asked())


@blueprint.get("/sse")
async def page_stream() -> Response:
    """The page's fragments as unnamed events, which htmx's hx-sse extension swaps like /ws's."""
    return await _stream("viewer", await _page_asked(), html=True)


async def _page_asked() -> Page:
    """The page a stream shows, read into the hub; 404 when it names nothing."""
    try:
        page = page_from_args(request.args)
    except NoSuchPage:
        abort(404)
    if not await services().scoreboard.window.open_page(page):
        abort(404)
    return page


async def _stream(role: Role, page: Page, html: bool = False) -> Response:
    app_services = services()
    hub = app_services.hub
    address = request.remote_addr or "-"
    # Streams count in the viewers' budget, per address too: they hold a connection each.
    if hub.closing.is_set() or app_services.limits.admit("viewer", address) is not None:
        abort(503)
    # One message waits at most; while it does, the outbox coalesces newer pushes behind it.
    pending: asyncio.Queue[str] = asyncio.Queue(maxsize=1)
    spoken = language() if role != "feed" else DEFAULT  # the JSON feed is the same in every language
    connection = Connection(role, pending.put, app_services.config.outbox_timeout_seconds, page, language=spoken)

    async def events() -> AsyncIterator[bytes]:
        hub.attach(connection)
        opened = time.monotonic()
        try:
            yield b"retry: 2000\n\n"
            while True:
                taking = asyncio.ensure_future(pending.get())
                waiting: set[asyncio.Future[Any]] = {taking, connection.stopped}
                await asyncio.wait(waiting, timeout=KEEPALIVE_SECONDS, return_when=asyncio.FIRST_COMPLETED)
                if not taking.done():
                    taking.cancel()
                    if connection.stopped.done():
                        return  # the client reconnects (htmx and EventSource both do) elsewhere or later
                    yield b": keep-alive\n\n"
                    continue
                message = taking.result()
                yield (sse_event(message) if html else message).encode()
        finally:
            app_services.limits.release("viewer", address)
            hub.detach(connection)
            await connection.close()
            log.info("stream: %s closed after %.1fs (%d open)", role, time.monotonic() - opened, len(hub.connections))

    response = Response(events(), headers=STREAM_HEADERS)
    response.timeout = None
    return response
