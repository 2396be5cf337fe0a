"""The broadcaster: one task sends what is queued in passes over the sockets.

Each socket gets one message per pass with the latest version of every match of its page that
changed since the last pass, so a burst of goals costs one write per socket per pass rather than
one per goal, and a socket never gets an older row after a newer one. A pass that fails loses
nothing: what it carried goes again in the next one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from typing import Any

from .connection import BOARD_KEY, Connection
from .pages import Page
from .render import RenderedRow, RenderedTimeline, Role
from .transport import Encoded, text_frame

log = logging.getLogger(__name__)

VIEWERS_KEY = "viewers"
# A pass over thousands of sockets hands the event loop back at least this often, so that a
# page request or a handshake arriving meanwhile waits a few milliseconds, not the whole pass:
# each step of serving a request waits for one turn of the loop, and so for one slice.
PASS_SLICE_SECONDS = 0.001
SLICE_CHECK_EVERY = 32  # sockets between two looks at the clock
PASS_INTERVAL = 0.05  # seconds: the shortest time between the starts of two passes
# A row whose pass fails goes again at the next pass interval, in this many passes in all
# before it is given up when it is the one failing; the match's next version starts afresh.
PASS_TRIES = 3


class NotShown(Exception):
    """The pass that was to carry a change failed: the change is queued again, but no socket
    may have it yet."""


class Broadcaster:
    """The queue of what the next pass sends, and the passes; the hub decides what is queued."""

    connections: set[Connection]
    rows: dict[str, RenderedRow]
    _views: dict[Page, Any]

    def __init__(self) -> None:
        # What the next pass sends: rows (with their timeline when a match page shows them),
        # the pages that need a whole snapshot instead, and the watching count.
        self._queued_rows: dict[str, tuple[RenderedRow, RenderedTimeline | None]] = {}
        self._queued_pages: set[Page] = set()
        self._queued_viewers: str | None = None
        self._next_pass: asyncio.Future[None] | None = None
        self._running_pass: asyncio.Future[None] | None = None
        self._broadcaster: asyncio.Task[None] | None = None
        self._pass_started = -PASS_INTERVAL
        self.pass_slice_seconds = PASS_SLICE_SECONDS
        self._failed_passes = 0  # in a row
        self._row_failures: dict[tuple[str, int], int] = {}  # (match id, version) -> failed passes
        self._queued_tables: dict[str, dict[str, str]] = {}  # slug -> fragment key -> fragment
        self._pass_tables: dict[str, dict[str, str]] = {}
        # Rows whose clock moved on, for the JSON feed only (see `Hub.tick`).
        self._queued_clocks: dict[str, RenderedRow] = {}
        self._pass_clocks: dict[str, RenderedRow] = {}

    async def delivered(self) -> None:
        """Wait until everything queued so far has been handed to every socket; raises
        NotShown when the pass that was to carry it failed (it is tried again)."""
        waiting = self._next_pass or self._running_pass
        if waiting is not None:
            await asyncio.shield(waiting)

    def _start_pass(self) -> None:
        if not (
            self._queued_rows
            or self._queued_pages
            or self._queued_viewers
            or self._queued_tables
            or self._queued_clocks
        ):
            return
        if self._next_pass is None:
            self._next_pass = asyncio.get_running_loop().create_future()
        if self._broadcaster is None:
            self._broadcaster = asyncio.create_task(self._broadcast(), name="broadcaster")

    async def _broadcast(self) -> None:
        try:
            while self._next_pass is not None:
                # Back-to-back changes wait for the next pass slot: a page gets at most one
                # message per interval, however fast goals come; a goal after a quiet spell goes at once.
                await asyncio.sleep(max(0.0, self._pass_started + PASS_INTERVAL - time.monotonic()))
                self._pass_started = time.monotonic()
                self._running_pass, self._next_pass = self._next_pass, None
                rows, self._queued_rows = self._queued_rows, {}
                pages, self._queued_pages = self._queued_pages, set()
                viewers, self._queued_viewers = self._queued_viewers, None
                self._pass_tables, self._queued_tables = self._queued_tables, {}
                self._pass_clocks, self._queued_clocks = self._queued_clocks, {}
                try:
                    await self._send_pass(rows, pages, viewers)
                except Exception as error:
                    log.exception("hub: a pass failed; what it carried goes again in the next one")
                    self._queue_again(rows, pages, viewers)
                    self._running_pass.set_exception(NotShown(str(error)))
                    self._running_pass.exception()  # a pass nobody waits for is no unhandled error
                else:
                    self._failed_passes = 0
                    self._row_failures.clear()
                    self._running_pass.set_result(None)
                self._running_pass = None
        finally:
            for waiting in (self._running_pass, self._next_pass):
                if waiting is not None and not waiting.done():
                    waiting.set_result(None)
            self._running_pass = None
            self._broadcaster = None

    def _queue_again(
        self, rows: dict[str, tuple[RenderedRow, RenderedTimeline | None]], pages: set[Page], viewers: str | None
    ) -> None:
        """Put a failed pass back in the queue behind anything newer queued meanwhile. A row
        that fails to render on its own is given up after PASS_TRIES passes, and so is the
        whole pass when its failure is no row's."""
        self._failed_passes += 1
        for slug, fragments in self._pass_tables.items():
            self._queued_tables[slug] = {**fragments, **self._queued_tables.get(slug, {})}
        roles = {connection.role for connection in self.connections}
        failing = {key for key, queued in rows.items() if not _renders(queued, roles)}
        if not failing and self._failed_passes >= PASS_TRIES:
            log.error("hub: gave up a pass that failed %d times: rows %s", self._failed_passes, ", ".join(rows))
            return
        for key, queued in rows.items():
            if key in self._queued_rows or key not in self.rows:
                continue  # a newer version is queued, or the match left the window
            if key in failing:
                tries = self._row_failures.get((key, queued[0].match.version), 0) + 1
                if tries >= PASS_TRIES:
                    del self._row_failures[key, queued[0].match.version]
                    log.error("hub: gave up v%d of %s after %d failed passes", queued[0].match.version, key, tries)
                    continue
                self._row_failures[key, queued[0].match.version] = tries
            self._queued_rows[key] = queued
        self._queued_pages |= {page for page in pages if page in self._views}
        if self._queued_viewers is None:
            self._queued_viewers = viewers
        if self._next_pass is None and (
            self._queued_rows or self._queued_pages or self._queued_viewers or self._queued_tables
        ):
            self._next_pass = asyncio.get_running_loop().create_future()

    async def _send_pass(
        self, rows: dict[str, tuple[RenderedRow, RenderedTimeline | None]], pages: set[Page], viewers: str | None
    ) -> None:
        """One message per socket with everything its page shows that changed. Sockets that
        attach while the pass yields are left out: their snapshot is already newer than this pass."""
        messages: dict[tuple[Role, Page, str], tuple[list[tuple[str, str]], bytes | Encoded | None]] = {}
        targets = list(self.connections)
        # A pass that only tells pages how many watch gives way to a change that arrives
        # meanwhile: a goal would otherwise wait for the rest of it (a third of a second at
        # 20,000 sockets). The next pass carries both, the count again to every socket.
        count_only = viewers is not None and not (rows or pages or self._pass_tables)
        slice_started = time.perf_counter()
        for index, connection in enumerate(targets):
            if index % SLICE_CHECK_EVERY == 0 and time.perf_counter() - slice_started >= self.pass_slice_seconds:
                await asyncio.sleep(0)  # pages, handshakes and reads get their turn
                slice_started = time.perf_counter()
                if count_only and (self._queued_rows or self._queued_pages or self._queued_tables):
                    if self._queued_viewers is None:
                        self._queued_viewers = viewers
                    return
            if connection not in self.connections:
                continue
            shape = (connection.role, connection.page, connection.language)  # rendered once per language
            message = messages.get(shape)
            if message is None:
                items = self._message(connection.role, connection.page, rows, pages, viewers, connection.language)
                message = messages[shape] = (items, _encoded(items))
            if message[0]:
                connection.push_many(*message)

    def _message(
        self,
        role: Role,
        page: Page,
        rows: dict[str, tuple[RenderedRow, RenderedTimeline | None]],
        pages: set[Page],
        viewers: str | None,
        language: str,
    ) -> list[tuple[str, str]]:
        """What a socket of this role showing this page, in this language, is sent in a pass
        (the hub decides)."""
        raise NotImplementedError


def _encoded(items: list[tuple[str, str]]) -> bytes | Encoded | None:
    """A pass's message for one page and role, encoded once: compressed too when it carries a
    snapshot (for the sockets that negotiated deflate); a few rows go as they are."""
    if not items:
        return None
    text = "".join(html for _, html in items)
    return Encoded(text) if any(key == BOARD_KEY for key, _ in items) else text_frame(text)


def _renders(queued: tuple[RenderedRow, RenderedTimeline | None], roles: Iterable[Role]) -> bool:
    """Whether a row (and its timeline) renders for every role a socket has."""
    rendered, timeline = queued
    try:
        # A row renders on first use, and keeps only what rendered: asking is the test.
        for role in roles:
            rendered.pushes[role]
            if timeline is not None and role in timeline.pushes:
                timeline.pushes[role]
    except Exception:
        return False
    return True
