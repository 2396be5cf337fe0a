"""Which matches this worker keeps in memory, and the rest read from the store on demand.

The hub holds yesterday's, today's and tomorrow's matches in the home time zone, every match
underway, and the matches of every page someone has open; a page outside that (last season's
round, a team's whole season) is read from the store when it is asked for and kept while it
is watched, then let go. At midnight the window moves on and today's board with it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from .calendar import Competition, Team, day_bounds, local_day, next_midnight, today
from .hub import Hub
from .matches import Match
from .pages import Clock, Page
from .store import Store

log = logging.getLogger(__name__)

TRIM_SECONDS = 60.0  # how often pages nobody watches are let go
CATALOGUE_SECONDS = 5.0  # how often an unknown competition or team may send a look to the store
STRIP_CACHE_SECONDS = 30.0
STRIP_CACHE_SIZE = 256


def clock_for(zone: ZoneInfo, now: datetime | None = None) -> Clock:
    return Clock(zone, today(zone, now))


class Window:
    def __init__(self, store: Store, hub: Hub) -> None:
        self.store = store
        self.hub = hub
        self._competitions: dict[str, Competition] = {}
        self._teams: dict[str, Team] = {}
        self._catalogue_read = -CATALOGUE_SECONDS
        self._strips: dict[tuple[date, date], tuple[float, set[date]]] = {}
        hub.tables.competitions = lambda slug: self._competitions.get(slug)

    @property
    def zone(self) -> ZoneInfo:
        return self.hub.clock.zone

    async def base_matches(self, clock: Clock) -> list[Match]:
        """Yesterday, today and tomorrow, and whatever is still being played."""
        first, _, last = clock.window
        start, end = day_bounds(first, clock.zone)[0], day_bounds(last, clock.zone)[1]
        found = {m.id: m for m in await self.store.matches_between(start, end)}
        for match in await self.store.matches_underway():
            found.setdefault(match.id, match)
        return list(found.values())

    async def open(self) -> None:
        await self.refresh_catalogue()
        self.hub.load(await self.base_matches(self.hub.clock))

    async def reload(self) -> None:
        """Everything the hub holds, from the store: after the bus may have lost messages."""
        await self.refresh_catalogue()
        fresh = {m.id: m for m in await self.base_matches(self.hub.clock)}
        for page in self.hub.held_pages():
            for match in await self._read(page):
                fresh.setdefault(match.id, match)
        self.hub.load(list(fresh.values()))

    async def page_matches(self, page: Page) -> list[Match]:
        """What a page shows, in order: from the hub, which reads it from the store first if
        it holds no copy."""
        await self._hold(page)
        return self.hub.page_matches(page)

    async def _hold(self, page: Page) -> None:
        if not self.hub.held(page):
            self.hub.hold(page, await self._read(page))

    async def open_page(self, page: Page) -> bool:
        """Hold a page's matches for a socket or stream about to show it; False when the page
        names a competition, round, team or match that does not exist."""
        if page.kind == "competition":
            if await self.competition(page.key) is None:
                return False
            matches = await self.page_matches(Page("competition", page.key))
            return page.round is None or any(m.round == page.round for m in matches)
        if page.kind == "team" and await self.team(page.key) is None:
            return False
        if page.kind != "match":
            await self._hold(page)  # its matches in order are the snapshot's business, not this check's
            return True
        return bool(await self.page_matches(page))

    async def _read(self, page: Page) -> list[Match]:
        if page.kind == "match":
            found = await self.store.get_match(page.key)
            return [found] if found is not None else []
        if page.kind == "competition":
            return await self.store.competition_matches(page.key)
        if page.kind == "team":
            return await self.store.team_matches(page.key)
        day = page.day(self.hub.clock)
        assert day is not None  # every other kind is a day
        start, end = day_bounds(day, self.zone)
        return await self.store.matches_between(start, end)

    # -- the calendar around the matches ----------------------------------------------------

    async def refresh_catalogue(self) -> None:
        self._competitions = {c.slug: c for c in await self.store.competitions()}
        self._teams = {t.slug: t for t in await self.store.teams()}
        self._catalogue_read = time.monotonic()

    async def _catalogue_miss(self) -> None:
        """A slug not known here may have been added by another process a moment ago."""
        if time.monotonic() - self._catalogue_read >= CATALOGUE_SECONDS:
            await self.refresh_catalogue()

    async def competitions(self) -> list[Competition]:
        return sorted(self._competitions.values(), key=lambda c: (c.name.casefold(), c.season or ""))

    async def competition(self, slug: str) -> Competition | None:
        if slug not in self._competitions:
            await self._catalogue_miss()
        return self._competitions.get(slug)

    async def team(self, slug: str) -> Team | None:
        if slug not in self._teams:
            await self._catalogue_miss()
        return self._teams.get(slug)

    async def days_with_matches(self, first: date, last: date) -> set[date]:
        """The days from `first` to `last` that have matches, kept for a few seconds: every
        day page marks its strip with them."""
        cached = self._strips.get((first, last))
        if cached is not None and time.monotonic() - cached[0] < STRIP_CACHE_SECONDS:
            return cached[1]
        start, end = day_bounds(first, self.zone)[0], day_bounds(last, self.zone)[1]
        days = {local_day(kickoff, self.zone) for kickoff in await self.store.kickoffs_between(start, end)}
        if len(self._strips) >= STRIP_CACHE_SIZE:
            self._strips.clear()
        self._strips[(first, last)] = (time.monotonic(), days)
        return days

    async def nearest_kickoffs(self, start: datetime, end: datetime) -> tuple[datetime | None, datetime | None]:
        return await self.store.kickoff_before(start), await self.store.kickoff_after(end)

    def forget_strips(self) -> None:
        self._strips.clear()

    # -- time passing ---------------------------------------------------------------------

    async def run(self) -> None:
        """Move on at midnight in the home zone, and let go of pages nobody watches."""
        while True:
            midnight = next_midnight(self.zone)
            wait = (midnight - datetime.now(UTC)).total_seconds()
            # Just past midnight, so that the new day is today when the window reads it.
            await asyncio.sleep(max(0.05, min(wait + 0.05, TRIM_SECONDS)))
            try:
                if datetime.now(UTC) >= midnight:
                    await self.roll()
                self.hub.trim()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("window: could not move on")

    async def roll(self, now: datetime | None = None) -> None:
        """A new day in the home zone: today's board shows it, the window moves with it."""
        clock = clock_for(self.zone, now)
        if clock == self.hub.clock:
            return
        matches = await self.base_matches(clock)
        self.hub.roll(clock, matches)
        self._strips.clear()
        log.info("window: today is %s", clock.today.isoformat())
