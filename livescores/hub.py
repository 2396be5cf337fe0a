"""This process's live sockets and the board they show.

The hub keeps every match rendered once per role and hands each socket the fragment for
its role. Each socket has an outbox keyed by what a fragment replaces (a row, the board,
the feedback line): every push carries full state, so a newer fragment simply replaces an
unsent older one, and a slow socket costs at most one fragment per match, never a queue.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime

from .matches import Match, Side, clock_label
from .render import ROLES, RenderedRow, Renderer, Role, board_snapshot

log = logging.getLogger(__name__)

BOARD_KEY = "board"


class SlowConsumer(Exception):
    """A socket that did not take a message within the outbox timeout."""


class Connection:
    def __init__(self, role: Role, send: Callable[[str], Awaitable[None]], send_timeout: float) -> None:
        self.role: Role = role
        self._send = send
        self._send_timeout = send_timeout
        self._outbox: dict[str, str] = {}
        self._ready = asyncio.Event()
        self.flushing = asyncio.Lock()  # held from taking the outbox to the end of its send

    def push(self, key: str, html: str) -> None:
        if key == BOARD_KEY:
            # A snapshot supersedes every row still waiting; only the feedback line survives.
            self._outbox = {k: v for k, v in self._outbox.items() if k == "feedback"}
        self._outbox[key] = html
        self._ready.set()

    async def run(self) -> None:
        """Send whatever is in the outbox, one message at a time, until cancelled."""
        while True:
            await self._ready.wait()
            self._ready.clear()
            try:
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation.
                async with asyncio.timeout(self._send_timeout):
                    await self.flush()
            except TimeoutError as error:
                raise SlowConsumer from error

    async def flush(self) -> None:
        async with self.flushing:
            if self._outbox:
                message = "".join(self._outbox.values())
                self._outbox.clear()
                await self._send(message)


class Hub:
    def __init__(self, renderer: Renderer, max_connections: int) -> None:
        self.renderer = renderer
        self.max_connections = max_connections
        self.connections: set[Connection] = set()
        self.rows: dict[str, RenderedRow] = {}
        self._snapshots: dict[Role, str] = {}
        self._clocks: dict[str, str] = {}
        self.closing = asyncio.Event()  # set when the worker stops: every socket closes with 1012

    @property
    def matches(self) -> list[Match]:
        return [rendered.match for rendered in self.rows.values()]

    def is_full(self) -> bool:
        return len(self.connections) >= self.max_connections

    def attach(self, connection: Connection) -> None:
        """Subscribe first, then queue the snapshot: a change can't fall between the two."""
        self.connections.add(connection)
        connection.push(BOARD_KEY, self.snapshot(connection.role))

    def detach(self, connection: Connection) -> None:
        self.connections.discard(connection)

    def snapshot(self, role: Role) -> str:
        if role not in self._snapshots:
            self._snapshots[role] = board_snapshot(self.rows.values(), role)
        return self._snapshots[role]

    async def load(self, matches: Iterable[Match]) -> None:
        """Take the whole board from the store (start-up, or a resync after the bus may have
        lost messages), pushing only what differs from what the sockets already have."""
        fresh = list(matches)
        same_matches = [m.id for m in fresh] == list(self.rows)
        # Only newer versions: a write applied here while the store was being read stays shown.
        changed = [m for m in fresh if m.id not in self.rows or m.version > self.rows[m.id].match.version]
        for match in changed:
            self.rows[match.id] = await self.renderer.render(match)
            self._clocks[match.id] = clock_label(match, datetime.now(UTC))
        if not same_matches:
            self.rows = {m.id: self.rows[m.id] for m in fresh}
        if not changed and same_matches:
            return
        self._snapshots.clear()
        if same_matches:
            for match in changed:
                self._fan_out(match.id, self.rows[match.id])
        else:
            for connection in self.connections:
                connection.push(BOARD_KEY, self.snapshot(connection.role))

    async def apply(self, match: Match, changed: Side | None = None) -> bool:
        """Take a newer state of a match and push it; older or repeated versions are ignored."""
        known = self.rows.get(match.id)
        if known is not None and match.version <= known.match.version:
            return False
        if known is not None and match.version > known.match.version + 1:
            log.info("hub: match %s jumped from v%d to v%d", match.id, known.match.version, match.version)
        rendered = await self.renderer.render(match, changed)
        self.rows[match.id] = rendered
        self._clocks[match.id] = clock_label(match, datetime.now(UTC))
        self._snapshots.clear()
        if known is None:
            for connection in self.connections:
                connection.push(BOARD_KEY, self.snapshot(connection.role))
        else:
            self._fan_out(match.id, rendered)
        return True

    async def tick(self) -> None:
        """Re-render the rows whose clock label moved on, once for all viewers."""
        now = datetime.now(UTC)
        for match_id, rendered in list(self.rows.items()):
            label = clock_label(rendered.match, now)
            if label == self._clocks.get(match_id):
                continue
            self._clocks[match_id] = label
            fresh = await self.renderer.render(rendered.match)
            self.rows[match_id] = fresh
            self._snapshots.clear()
            self._fan_out(match_id, fresh)

    def _fan_out(self, match_id: str, rendered: RenderedRow) -> None:
        key = f"row:{match_id}"
        pushes = {role: rendered.pushes[role] for role in ROLES}
        for connection in self.connections:
            connection.push(key, pushes[connection.role])
