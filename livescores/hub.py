"""This process's live sockets and the board they show.

The hub keeps every match rendered once per role and hands each socket the fragment for
its role. Each socket has an outbox keyed by what a fragment replaces (a row, the board,
a timeline, the feedback line): every push carries full state, so a newer fragment simply
replaces an unsent older one, and a slow socket costs at most one fragment per match.

A socket shows either the whole board or one match (its detail page, `/ws?match=<id>`):
the latter gets that match's row and timeline only. A timeline is rendered only while some
socket shows it, once per version, whoever is watching.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime

from .closecodes import SERVICE_RESTART, TRY_AGAIN_LATER
from .matches import Match, Side, clock_label
from .render import RenderedRow, RenderedTimeline, Renderer, Role, board_snapshot, partial, row_id, viewers_fragment
from .transport import DirectWriter, text_frame

log = logging.getLogger(__name__)

BOARD_KEY = "board"
VIEWERS_KEY = "viewers"
# A pass over thousands of sockets hands the event loop back at least this often, so that a
# page request or a handshake arriving meanwhile waits a few milliseconds, not the whole pass:
# each step of serving a request waits for one turn of the loop, and so for one slice.
PASS_SLICE_SECONDS = 0.001
SLICE_CHECK_EVERY = 32  # sockets between two looks at the clock
PASS_INTERVAL = 0.05  # seconds: the shortest time between the starts of two passes


class Connection:
    """One socket's (or stream's) way out.

    A push is written straight to the socket's transport when nothing is waiting before it
    and the socket keeps up (see transport.py); otherwise it goes to the outbox, keyed by
    what it replaces, and a flush task sends the outbox through `send` until it is empty.
    A socket that takes longer than `send_timeout` to accept a message is stopped with 1013.
    """

    def __init__(
        self,
        role: Role,
        send: Callable[[str], Awaitable[None]],
        send_timeout: float,
        match_id: str | None = None,
        writer: DirectWriter | None = None,
    ) -> None:
        self.role: Role = role
        self.match_id = match_id  # None: the whole board
        self._send = send
        self._send_timeout = send_timeout
        self._writer = writer
        self._outbox: dict[str, str] = {}
        self._flusher: asyncio.Task[None] | None = None
        # Resolved with a close code when the connection must end from this side.
        self.stopped: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def push(self, key: str, html: str, frame: bytes | None = None) -> None:
        self.push_many(((key, html),), frame)

    def push_many(self, items: Sequence[tuple[str, str]], frame: bytes | None = None) -> None:
        """Send several fragments as one message; `frame`, if given, is that message encoded."""
        direct = self._writer is not None and self._flusher is None and not self._outbox
        if direct and self._writer.write(frame or text_frame("".join(html for _, html in items))):  # type: ignore[union-attr]
            return
        for key, html in items:
            if key == BOARD_KEY:
                # A snapshot supersedes every row still waiting; feedback and timelines survive.
                self._outbox = {k: v for k, v in self._outbox.items() if not k.startswith("row:")}
            self._outbox[key] = html
        if self._flusher is None and not self.stopped.done():
            self._flusher = asyncio.create_task(self._flush_outbox())

    def stop(self, code: int) -> None:
        if not self.stopped.done():
            self.stopped.set_result(code)

    async def flush(self) -> None:
        """Wait for the message being sent, then send what is left (before a close)."""
        if self._flusher is not None:
            await asyncio.wait({self._flusher})
        if self._outbox:
            message = "".join(self._outbox.values())
            self._outbox.clear()
            await self._send(message)

    async def close(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            await asyncio.wait({self._flusher})
            # A task cancelled before it ran never reached its own cleanup, and would keep
            # this connection alive through a reference cycle.
            self._flusher = None

    async def _flush_outbox(self) -> None:
        try:
            while self._outbox:
                message = "".join(self._outbox.values())
                self._outbox.clear()
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation.
                async with asyncio.timeout(self._send_timeout):
                    await self._send(message)
        except TimeoutError:
            self.stop(TRY_AGAIN_LATER)
        except Exception as error:  # the socket went away under the send
            log.debug("hub: send failed: %s", error)
            self.stop(TRY_AGAIN_LATER)
        finally:
            self._flusher = None


def scored_side(before: Match, after: Match) -> Side | None:
    """The side whose goal made `after`, when exactly one side's score went up."""
    home, away = after.home_score > before.home_score, after.away_score > before.away_score
    return "home" if home and not away else "away" if away and not home else None


class Hub:
    """Every change is queued, and one broadcaster task sends what is queued in passes over the
    sockets: each socket gets one message per pass with the latest version of every match that
    changed since the last pass. So a burst of goals costs one write per socket per pass rather
    than one per goal, and a socket never gets an older version of a row after a newer one."""

    def __init__(self, renderer: Renderer, max_connections: int) -> None:
        self.renderer = renderer
        self.max_connections = max_connections
        self.connections: set[Connection] = set()
        self.rows: dict[str, RenderedRow] = {}
        self._snapshots: dict[Role, str] = {}
        self._clocks: dict[str, str] = {}
        self._timelines: dict[str, RenderedTimeline] = {}
        self._snapshot_frames: dict[Role, bytes] = {}
        self._watchers: dict[str, int] = {}  # match id -> sockets showing that match's page
        self._feeds = 0
        self.closing = asyncio.Event()  # set when the worker stops: every socket closes with 1012
        self.watching = 0  # people watching across all workers, as last shown
        # What the next pass sends: rows (with their timeline when a match page shows them),
        # whether board sockets need a whole snapshot instead, and the watching count.
        self._queued_rows: dict[str, tuple[RenderedRow, RenderedTimeline | None]] = {}
        self._queued_snapshot = False
        self._queued_viewers: str | None = None
        self._next_pass: asyncio.Future[None] | None = None
        self._running_pass: asyncio.Future[None] | None = None
        self._broadcaster: asyncio.Task[None] | None = None
        self._pass_started = -PASS_INTERVAL
        self.pass_slice_seconds = PASS_SLICE_SECONDS

    @property
    def matches(self) -> list[Match]:
        return [rendered.match for rendered in self.rows.values()]

    def is_full(self) -> bool:
        return len(self.connections) >= self.max_connections

    async def attach(self, connection: Connection) -> None:
        """Subscribe first, then queue the snapshot: a change can't fall between the two."""
        self.connections.add(connection)
        match_id = connection.match_id
        if connection.role == "feed":
            self._feeds += 1
        if match_id is None:
            self._push_snapshot(connection)
            return
        self._watchers[match_id] = self._watchers.get(match_id, 0) + 1
        row = self.rows.get(match_id)
        if row is None:
            return
        connection.push(f"row:{match_id}", partial(row_id(match_id), row.rows[connection.role]))
        if watching := self._watching_for(connection.role):
            connection.push(VIEWERS_KEY, watching)
        timeline = await self.timeline(row.match)
        if self.rows[match_id].match.version == timeline.match.version:  # else a newer one was pushed meanwhile
            connection.push(f"timeline:{match_id}", timeline.pushes[connection.role])

    def detach(self, connection: Connection) -> None:
        if connection not in self.connections:
            return
        self.connections.discard(connection)
        if connection.role == "feed":
            self._feeds -= 1
        match_id = connection.match_id
        if match_id is not None:
            left = self._watchers.get(match_id, 1) - 1
            if left > 0:
                self._watchers[match_id] = left
            else:
                self._watchers.pop(match_id, None)

    @property
    def watching_here(self) -> int:
        """This worker's page sockets (boards, match pages, embeds); feeds are not people."""
        return len(self.connections) - self._feeds

    def show_watching(self, total: int) -> None:
        """Tell every page how many people watch, when the number has changed."""
        if total == self.watching:
            return
        self.watching = total
        self._snapshots.clear()
        self._snapshot_frames.clear()
        self._queued_viewers = viewers_fragment(total)
        self._start_pass()

    def begin_closing(self) -> None:
        """The worker is stopping: every connection ends with 1012, and no new one starts."""
        self.closing.set()
        for connection in self.connections:
            connection.stop(SERVICE_RESTART)

    async def delivered(self) -> None:
        """Wait until everything queued so far has been handed to every socket."""
        waiting = self._next_pass or self._running_pass
        if waiting is not None:
            await asyncio.shield(waiting)

    def _push_snapshot(self, connection: Connection) -> None:
        role = connection.role
        html = self.snapshot(role)
        if role not in self._snapshot_frames:
            self._snapshot_frames[role] = text_frame(html)
        connection.push(BOARD_KEY, html, self._snapshot_frames[role])

    def snapshot(self, role: Role) -> str:
        """The whole board, and for a page the number watching: a page back from a hidden tab
        would otherwise show the count it had when it was hidden until the number changes."""
        if role not in self._snapshots:
            self._snapshots[role] = board_snapshot(self.rows.values(), role) + self._watching_for(role)
        return self._snapshots[role]

    def _watching_for(self, role: Role) -> str:
        """The number watching, for a page's (re)connect; feeds are told nothing of it."""
        return viewers_fragment(self.watching) if self.watching and role != "feed" else ""

    async def timeline(self, match: Match) -> RenderedTimeline:
        """The match's timeline at this version, rendered on first demand."""
        cached = self._timelines.get(match.id)
        if cached is not None and cached.match.version == match.version:
            return cached
        rendered = await self.renderer.timeline(match)
        cached = self._timelines.get(match.id)
        if cached is None or cached.match.version < match.version:
            self._timelines[match.id] = rendered
        return rendered

    def watched(self, match_id: str) -> bool:
        return match_id in self._watchers

    async def load(self, matches: Iterable[Match]) -> None:
        """Take the whole board from the store (start-up, or a resync after the bus may have
        lost messages), pushing only what differs from what the sockets already have."""
        fresh = list(matches)
        same_matches = [m.id for m in fresh] == list(self.rows)
        # Only newer versions: a write applied here while the store was being read stays shown.
        changed = [m for m in fresh if m.id not in self.rows or m.version > self.rows[m.id].match.version]
        rendered = {m.id: await self._render_newer(m) for m in changed}
        timelines = {m.id: await self.timeline(m) for m in changed if self.watched(m.id)}
        # No awaits from here on: the rows and what the sockets get change together.
        for match in changed:
            known = self.rows.get(match.id)
            if known is not None and known.match.version > match.version:
                continue  # a newer version arrived while rendering
            self.rows[match.id] = rendered[match.id]
            self._clocks[match.id] = clock_label(match, datetime.now(UTC))
            self._queued_rows[match.id] = (rendered[match.id], timelines.get(match.id))
        if not same_matches:
            self.rows = {m.id: self.rows[m.id] for m in fresh}
            self._timelines = {k: v for k, v in self._timelines.items() if k in self.rows}
            self._queued_rows = {k: v for k, v in self._queued_rows.items() if k in self.rows}
            self._queued_snapshot = True
        if not changed and same_matches:
            return
        self._snapshots.clear()
        self._snapshot_frames.clear()
        self._start_pass()

    async def _render_newer(self, match: Match) -> RenderedRow:
        """A row found newer in the store (written by another process, or missed while the bus
        was down) is pushed as a live change is: a goal flashes and is announced."""
        known = self.rows.get(match.id)
        if known is None:
            return await self.renderer.render(match)
        return await self.renderer.render(match, scored_side(known.match, match), previous=known.match)

    async def apply(self, match: Match, changed: Side | None = None) -> bool:
        """Take a newer state of a match and queue it for every socket; older or repeated
        versions are ignored."""
        if not self._is_newer(match):
            return False
        shown = self.rows.get(match.id)
        rendered = await self.renderer.render(match, changed, previous=shown.match if shown else None)
        timeline = await self.timeline(match) if self.watched(match.id) else None
        if not self._is_newer(match):
            return False  # a newer version arrived while rendering
        known = self.rows.get(match.id)
        if known is not None and match.version > known.match.version + 1:
            log.info("hub: match %s jumped from v%d to v%d", match.id, known.match.version, match.version)
        self.rows[match.id] = rendered
        self._clocks[match.id] = clock_label(match, datetime.now(UTC))
        self._snapshots.clear()
        self._snapshot_frames.clear()
        if known is None:
            self._queued_snapshot = True
        self._queued_rows[match.id] = (rendered, timeline)
        self._start_pass()
        return True

    async def tick(self, now: datetime | None = None) -> None:
        """Re-render the rows whose clock label moved on, once for all viewers."""
        now = now or datetime.now(UTC)
        for match_id, rendered in list(self.rows.items()):
            label = clock_label(rendered.match, now)
            if label == self._clocks.get(match_id):
                continue
            fresh = await self.renderer.render(rendered.match, now=now)
            if self.rows.get(match_id) is not rendered:
                continue  # the match changed while rendering, and that push carried the clock
            self._clocks[match_id] = label
            self.rows[match_id] = fresh
            self._snapshots.clear()
            self._snapshot_frames.clear()
            self._queued_rows[match_id] = (fresh, None)
            self._start_pass()

    def _is_newer(self, match: Match) -> bool:
        known = self.rows.get(match.id)
        return known is None or match.version > known.match.version

    def _start_pass(self) -> None:
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
                snapshot, self._queued_snapshot = self._queued_snapshot, False
                viewers, self._queued_viewers = self._queued_viewers, None
                await self._send_pass(rows, snapshot, viewers)
                self._running_pass.set_result(None)
                self._running_pass = None
        finally:
            for waiting in (self._running_pass, self._next_pass):
                if waiting is not None and not waiting.done():
                    waiting.set_result(None)
            self._running_pass = None
            self._broadcaster = None

    async def _send_pass(
        self, rows: dict[str, tuple[RenderedRow, RenderedTimeline | None]], snapshot: bool, viewers: str | None
    ) -> None:
        """One message per socket with everything it shows that changed. Sockets that attach
        while the pass yields are left out: their snapshot is already newer than this pass."""
        messages: dict[tuple[Role, str | None], tuple[list[tuple[str, str]], bytes | None]] = {}
        targets = list(self.connections)
        slice_started = time.perf_counter()
        for index, connection in enumerate(targets):
            if index % SLICE_CHECK_EVERY == 0 and time.perf_counter() - slice_started >= self.pass_slice_seconds:
                await asyncio.sleep(0)  # pages, handshakes and reads get their turn
                slice_started = time.perf_counter()
            if connection not in self.connections:
                continue
            shape = (connection.role, connection.match_id)
            message = messages.get(shape)
            if message is None:
                items = self._message(connection.role, connection.match_id, rows, snapshot, viewers)
                message = messages[shape] = (items, text_frame("".join(h for _, h in items)) if items else None)
            if message[0]:
                connection.push_many(*message)

    def _message(
        self,
        role: Role,
        match_id: str | None,
        rows: dict[str, tuple[RenderedRow, RenderedTimeline | None]],
        snapshot: bool,
        viewers: str | None,
    ) -> list[tuple[str, str]]:
        items: list[tuple[str, str]] = []
        if match_id is None:
            if snapshot:
                items.append((BOARD_KEY, self.snapshot(role)))
            else:
                items += [(f"row:{key}", rendered.pushes[role]) for key, (rendered, _) in rows.items()]
        elif match_id in rows:
            rendered, timeline = rows[match_id]
            items.append((f"row:{match_id}", rendered.pushes[role]))
            if timeline is not None:
                items.append((f"timeline:{match_id}", timeline.pushes[role]))
        if viewers is not None and role != "feed":
            items.append((VIEWERS_KEY, viewers))
        return items
