"""This process's live sockets and the matches their pages show.

The hub keeps a window of matches (see window.py), each rendered once per role, and the
pages its sockets show (`pages.Page`: a day, today's board, a competition's round, a team, a
match). A change to a match goes to the sockets whose page shows it: as the new row when the
page's list of matches stays the same, as a snapshot of that page's board when a match joins,
leaves or moves within it. Each socket has an outbox keyed by what a fragment replaces, so a
newer fragment replaces an unsent older one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from . import i18n, legs
from .broadcaster import PASS_INTERVAL, SLICE_CHECK_EVERY, VIEWERS_KEY, Broadcaster, NotShown
from .closecodes import SERVICE_RESTART, TRY_AGAIN_LATER
from .connection import BOARD_KEY, Connection
from .matches import Match, Side, clock_label
from .pages import TODAY, Clock, Page, by_competition, by_day, match_order
from .render import (
    PAGE_ROLES,
    RenderedRow,
    RenderedTimeline,
    Renderer,
    Role,
    day_heading,
    partial,
    row_id,
    viewers_fragment,
)
from .tables import LiveTables
from .transport import Encoded

__all__ = [
    "BOARD_KEY",
    "PASS_INTERVAL",
    "SERVICE_RESTART",
    "SLICE_CHECK_EVERY",
    "TRY_AGAIN_LATER",
    "Connection",
    "Hub",
    "NotShown",
    "scored_side",
]

log = logging.getLogger(__name__)

HOLD_SECONDS = 300.0  # how long a page nobody watches keeps its matches in memory
RECENT_LIMIT = 4096  # versions remembered of matches outside the window (see `apply`)


def scored_side(before: Match, after: Match) -> Side | None:
    """The side whose goal made `after`, when exactly one side's score went up."""
    home, away = after.home_score > before.home_score, after.away_score > before.away_score
    return "home" if home and not away else "away" if away and not home else None


@dataclass
class PageView:
    """A page some socket shows: the matches on it, and how many sockets show it."""

    page: Page
    ids: set[str]
    sockets: int = 0
    # A snapshot per role and per language its sockets speak: made on demand, never per socket.
    snapshots: dict[tuple[Role, str], tuple[str, Encoded]] = field(default_factory=dict)


def _held_key(page: Page) -> Page:
    """What a page needs in memory: a competition's round needs the whole competition."""
    return Page("competition", page.key) if page.kind == "competition" else page


class Hub(Broadcaster):
    """Every change is queued, and one broadcaster task sends what is queued in passes over the
    sockets: each socket gets one message per pass with the latest version of every match of
    its page that changed since the last pass. So a burst of goals costs one write per socket
    per pass rather than one per goal, and a socket never gets an older row after a newer one."""

    def __init__(self, renderer: Renderer, max_connections: int, clock: Clock) -> None:
        self.renderer = renderer
        self.max_connections = max_connections
        self.clock = clock
        self.connections: set[Connection] = set()
        self.rows: dict[str, RenderedRow] = {}
        self._views: dict[Page, PageView] = {}
        self._held: dict[Page, float] = {}  # pages read from the store -> when last asked for
        # The latest version seen of matches outside the window: a page read from the store
        # while a change to it was arriving keeps the newer of the two.
        self._recent: OrderedDict[str, Match] = OrderedDict()
        self._clocks: dict[str, str] = {}
        self._timelines: dict[str, RenderedTimeline] = {}
        self._feeds = 0
        self.closing = asyncio.Event()  # set when the worker stops: every socket closes with 1012
        self.watching = 0  # people watching across all workers, as last shown
        # Competition pages' tables: the window tells it the competitions' rules.
        self.tables = LiveTables(renderer.env, lambda slug: None)
        Broadcaster.__init__(self)

    # -- what is held ---------------------------------------------------------------------

    @property
    def matches(self) -> list[Match]:
        """Today's board."""
        return self.page_matches(TODAY)

    def in_base_window(self, match: Match) -> bool:
        return match.underway or self.clock.day_of(match) in self.clock.window

    def held(self, page: Page) -> bool:
        day = page.day(self.clock)
        if day is not None and day in self.clock.window:
            return True
        key = _held_key(page)
        if key in self._held:
            self._held[key] = time.monotonic()
            return True
        return False

    def held_pages(self) -> list[Page]:
        return list(self._held)

    def hold(self, page: Page, matches: Iterable[Match]) -> None:
        """Keep a page's matches (read from the store) while it is open, and a while after."""
        self._held[_held_key(page)] = time.monotonic()
        for match in matches:
            recent = self._recent.pop(match.id, None)
            newest = recent if recent is not None and recent.version > match.version else match
            self.apply(newest)

    def page_matches(self, page: Page) -> list[Match]:
        view = self._views.get(page)
        if view is not None:
            return sorted((self.rows[i].match for i in view.ids), key=match_order)
        return sorted((r.match for r in self.rows.values() if page.shows(r.match, self.clock)), key=match_order)

    def row_html(self, match: Match, role: Role) -> str:
        """A match's row in the language of the page being rendered."""
        return i18n.said_in(self.rows[match.id].rows[role], i18n.language())

    def timeline_html(self, match: Match, role: Role) -> str:
        return i18n.said_in(self.timeline(match).html[role], i18n.language())

    def _wanted(self, match: Match) -> bool:
        return self.in_base_window(match) or any(page.shows(match, self.clock) for page in (*self._held, *self._views))

    def trim(self) -> None:
        """Let go of pages nobody has watched or asked for lately, and of their matches."""
        now = time.monotonic()
        self._held = {
            page: used for page, used in self._held.items() if now - used < HOLD_SECONDS or self._watched_data(page)
        }
        keep = {match_id for match_id, rendered in self.rows.items() if self._wanted(rendered.match)}
        for match_id in [match_id for match_id in self.rows if match_id not in keep]:
            del self.rows[match_id]
            self._clocks.pop(match_id, None)
            self._timelines.pop(match_id, None)
            self._queued_rows.pop(match_id, None)

    def _watched_data(self, key: Page) -> bool:
        return any(_held_key(page) == key for page in self._views)

    # -- sockets ------------------------------------------------------------------------

    def is_full(self) -> bool:
        return len(self.connections) >= self.max_connections

    def attach(self, connection: Connection) -> None:
        """Subscribe first, then queue the snapshot: a change can't fall between the two. The
        page's matches must be held (`Window.page_matches` reads them first)."""
        self.connections.add(connection)
        if connection.role == "feed":
            self._feeds += 1
        page = connection.page
        view = self._views.get(page)
        if view is None:
            ids = {i for i, r in self.rows.items() if page.shows(r.match, self.clock)}
            view = self._views[page] = PageView(page, ids)
        view.sockets += 1
        language = connection.language
        if page.kind != "match" or connection.role == "feed":  # a feed starts with a snapshot event
            html, frame = self._snapshot(view, connection.role, language)
            connection.push(BOARD_KEY, html, frame)
            return
        row = self.rows.get(page.key)
        if row is None:
            return
        connection.push(f"row:{page.key}", partial(row_id(page.key), i18n.said_in(row.rows[connection.role], language)))
        if watching := self._watching_for(connection.role):
            connection.push(VIEWERS_KEY, i18n.said_in(watching, language))
        timeline = self.timeline(row.match).pushes[connection.role]
        connection.push(f"timeline:{page.key}", i18n.said_in(timeline, language))

    def detach(self, connection: Connection) -> None:
        if connection not in self.connections:
            return
        self.connections.discard(connection)
        if connection.role == "feed":
            self._feeds -= 1
        view = self._views.get(connection.page)
        if view is not None:
            view.sockets -= 1
            if view.sockets <= 0:
                del self._views[connection.page]
                if connection.page.day(self.clock) is None:
                    self._held[_held_key(connection.page)] = time.monotonic()
                if connection.page.kind == "competition" and not self._shows_competition(connection.page.key):
                    self.tables.forget(connection.page.key)

    @property
    def watching_here(self) -> int:
        """This worker's page sockets (boards, match pages, embeds); feeds are not people."""
        return len(self.connections) - self._feeds

    def show_watching(self, total: int) -> None:
        """Tell every page how many people watch, when the number has changed."""
        if total == self.watching or self.closing.is_set():
            return  # a stopping worker's pages are about to reconnect elsewhere
        self.watching = total
        self._forget_snapshots()
        self._queued_viewers = viewers_fragment(total)
        self._start_pass()

    def begin_closing(self) -> None:
        """The worker is stopping: every connection ends with 1012, and no new one starts."""
        self.closing.set()
        for connection in self.connections:
            connection.stop(SERVICE_RESTART)

    def watched(self, match_id: str) -> bool:
        return Page("match", match_id) in self._views

    # -- snapshots -------------------------------------------------------------------------

    def snapshot(self, role: Role, page: Page = TODAY, language: str = i18n.DEFAULT) -> str:
        """A page's whole board as one swap (and for a page the number watching: a page back
        from a hidden tab would otherwise show the count it had when it was hidden)."""
        view = self._views.get(page) or PageView(
            page, {i for i, r in self.rows.items() if page.shows(r.match, self.clock)}
        )
        return self._snapshot(view, role, language)[0]

    def _snapshot(self, view: PageView, role: Role, language: str) -> tuple[str, Encoded]:
        if role == "feed":
            language = i18n.DEFAULT  # JSON: the same for everyone
        cached = view.snapshots.get((role, language))
        if cached is None:
            with i18n.speaking(language):
                html = self._board(view, role) + i18n.said_in(self._watching_for(role), language)
            cached = view.snapshots[role, language] = (html, Encoded(html))
        return cached

    def _board(self, view: PageView, role: Role) -> str:
        """The page's board in the language being rendered."""
        matches = sorted((self.rows[i].match for i in view.ids), key=match_order)
        if role == "feed":
            return self.renderer.feed_snapshot([self.rows[m.id] for m in matches])
        language = i18n.language()
        if view.page.kind in ("today", "day"):
            groups = [
                (g, [i18n.said_in(self.rows[m.id].rows[role], language) for m in g.matches])
                for g in by_competition(matches)
            ]
            heading, empty = "competition", i18n.gettext("No matches on this day.")
        else:
            groups = [
                (g, [i18n.said_in(self.rows[m.id].rows[role], language) for m in g.matches])
                for g in by_day(matches, self.clock)
            ]
            heading = "day"
            if view.page.kind == "competition":
                empty = i18n.gettext("No matches in this round.")
            elif view.page.kind == "team":
                empty = i18n.gettext("No matches yet.")
            else:
                empty = i18n.gettext("No matches.")
        html = partial("board", self.renderer.board(groups, heading, empty, self.clock.today), swap="innerHTML")
        day = view.page.day(self.clock)
        if day is not None:
            # The heading says "Today" or "Yesterday": after midnight it changes with the board.
            html += day_heading(day, self.clock.today)
        if view.page.kind == "competition":
            html += self.tables.snapshot(view.page.key, self._competition_matches(view.page.key))
        return html

    def _watching_for(self, role: Role) -> str:
        """The number watching, for a page's (re)connect; feeds are told nothing of it."""
        return viewers_fragment(self.watching) if self.watching and role != "feed" else ""

    def _forget_snapshots(self) -> None:
        for view in self._views.values():
            view.snapshots.clear()

    def timeline(self, match: Match) -> RenderedTimeline:
        """The match's timeline at this version, rendered on first demand."""
        cached = self._timelines.get(match.id)
        if cached is not None and cached.match.version == match.version:
            return cached
        rendered = self.renderer.timeline(match)
        if cached is None or cached.match.version < match.version:
            self._timelines[match.id] = rendered
        return rendered

    # -- changes ---------------------------------------------------------------------------

    def load(self, matches: Iterable[Match]) -> None:
        """Matches read from the store (start-up, or a resync after the bus may have lost
        messages): newer ones are pushed as live changes are, a goal flashing and announced."""
        for match in matches:
            known = self.rows.get(match.id)
            self.apply(match, scored_side(known.match, match) if known is not None else None)

    def apply(self, match: Match, changed: Side | None = None, refresh: bool = False) -> bool:
        """Take a newer state of a match and queue it for the sockets whose page shows it;
        older or repeated versions, and matches no page here shows, are ignored. `refresh`
        takes the same version again: a second leg whose first leg's result changed, or a
        match whose team was merged into another."""
        known = self.rows.get(match.id)
        if known is not None and match.version <= known.match.version:
            if not (refresh and match.version == known.match.version and match != known.match):
                return False
            self._timelines.pop(match.id, None)
        if known is None:
            recent = self._recent.get(match.id)
            if recent is not None and recent.version >= match.version:
                return False
            if not self._wanted(match):
                self._remember(match)
                if match.leg == 1:
                    self._follow_first_leg(match)
                return False
            self._recent.pop(match.id, None)
        elif match.version > known.match.version + 1:
            log.info("hub: match %s jumped from v%d to v%d", match.id, known.match.version, match.version)
        previous = known.match if known is not None else None
        rendered = self.renderer.render(match, changed if known is not None else None, previous=previous)
        self.rows[match.id] = rendered
        self._clocks[match.id] = clock_label(match, datetime.now(UTC))
        pushed = False
        for view in self._views.values():
            shown_before, shown_now = match.id in view.ids, view.page.shows(match, self.clock)
            if not (shown_before or shown_now):
                continue
            view.snapshots.clear()
            moved = previous is not None and match_order(previous) != match_order(match)
            if view.page.kind != "match" and (shown_before != shown_now or moved):
                # The page's list itself changed: its sockets get the whole board again.
                (view.ids.add if shown_now else view.ids.discard)(match.id)
                self._queued_pages.add(view.page)
            elif shown_now:
                pushed = True
        if pushed:
            timeline = self.timeline(match) if self.watched(match.id) else None
            self._queued_rows[match.id] = (rendered, timeline)
        if match.competition_slug is not None and (previous is None or _table_moves(previous, match)):
            self._queue_tables(match.competition_slug)
        self._start_pass()
        if match.leg == 1:
            self._follow_first_leg(match)
        return True

    def _follow_first_leg(self, first: Match) -> None:
        """A first leg's result is part of its second leg's row: the aggregate moves with it."""
        for known in [row.match for row in self.rows.values() if row.match.leg == 2]:
            if legs.is_first_leg_of(first, known):
                self.apply(legs.follow_first_leg(known, first), refresh=True)

    # -- competition tables ----------------------------------------------------------------

    def _shows_competition(self, slug: str) -> bool:
        return any(v.page.kind == "competition" and v.page.key == slug and v.sockets for v in self._views.values())

    def _competition_matches(self, slug: str) -> list[Match]:
        return [r.match for r in self.rows.values() if r.match.competition_slug == slug]

    def _queue_tables(self, slug: str) -> None:
        """One table computation, and one render per changed row, for every page of the
        competition; nothing when no socket here shows it."""
        if not self._shows_competition(slug):
            return
        changes = self.tables.changes(slug, self._competition_matches(slug))
        if not changes:
            return
        self._queued_tables.setdefault(slug, {}).update(changes)
        for view in self._views.values():
            if view.page.kind == "competition" and view.page.key == slug:
                view.snapshots.clear()

    def _remember(self, match: Match) -> None:
        self._recent[match.id] = match
        self._recent.move_to_end(match.id)
        while len(self._recent) > RECENT_LIMIT:
            self._recent.popitem(last=False)

    def roll(self, clock: Clock, matches: Iterable[Match]) -> None:
        """A new day in the home zone: the window and today's board move on to it."""
        self.clock = clock
        for match in matches:
            known = self.rows.get(match.id)
            if known is None or match.version > known.match.version:
                self.apply(match)
        for view in self._views.values():
            ids = {i for i, r in self.rows.items() if view.page.shows(r.match, clock)}
            if ids != view.ids or view.page.kind in ("today", "day", "competition", "team"):
                # Headings say "Today" and "Tomorrow": every board is told again.
                view.ids = ids
                view.snapshots.clear()
                self._queued_pages.add(view.page)
        self.trim()
        self._start_pass()

    def tick(self, now: datetime | None = None) -> None:
        """Re-render the rows whose clock label moved on, once for all viewers. Pages count a
        running clock's minutes themselves (static/clock.js), so only the JSON feed is sent the
        new minute; snapshots and pages made from now on carry it."""
        now = now or datetime.now(UTC)
        for match_id, rendered in list(self.rows.items()):
            if not rendered.match.underway:
                continue
            label = clock_label(rendered.match, now)
            if label == self._clocks.get(match_id):
                continue
            fresh = self.renderer.render(rendered.match, now=now)
            self._clocks[match_id] = label
            self.rows[match_id] = fresh
            shown = [view for view in self._views.values() if match_id in view.ids]
            for view in shown:
                view.snapshots.clear()
            if shown and self._feeds:
                self._queued_clocks[match_id] = fresh
                self._start_pass()

    def _message(
        self,
        role: Role,
        page: Page,
        rows: dict[str, tuple[RenderedRow, RenderedTimeline | None]],
        pages: set[Page],
        viewers: str | None,
        language: str = i18n.DEFAULT,
    ) -> list[tuple[str, str]]:
        items: list[tuple[str, str]] = []
        view = self._views.get(page)
        said = i18n.said_in
        if view is None:
            pass
        elif page in pages:
            items.append((BOARD_KEY, self._snapshot(view, role, language)[0]))
        elif page.kind == "match":
            if page.key in rows:
                rendered, timeline = rows[page.key]
                items.append((f"row:{page.key}", said(rendered.pushes[role], language)))
                if timeline is not None and role in PAGE_ROLES:
                    items.append((f"timeline:{page.key}", said(timeline.pushes[role], language)))
            elif role == "feed" and page.key in self._pass_clocks:
                items.append((f"row:{page.key}", self._pass_clocks[page.key].pushes[role]))
        else:
            items += [
                (f"row:{key}", said(rendered.pushes[role], language))
                for key, (rendered, _) in rows.items()
                if key in view.ids
            ]
            if role == "feed":  # the new minute of the clocks that moved on: pages count them themselves
                items += [
                    (f"row:{key}", fresh.pushes[role])
                    for key, fresh in self._pass_clocks.items()
                    if key in view.ids and key not in rows
                ]
            if page.kind == "competition" and role != "feed":
                items += [(key, said(html, language)) for key, html in self._pass_tables.get(page.key, {}).items()]
        if viewers is not None and role != "feed":
            items.append((VIEWERS_KEY, said(viewers, language)))
        return items


def _table_moves(before: Match, after: Match) -> bool:
    """Whether a change can move a table: a score, or a match starting or ending."""
    return (before.home_score, before.away_score, before.status) != (after.home_score, after.away_score, after.status)
