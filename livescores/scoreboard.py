"""The one write path and the one read path that every part of the app goes through.

Write: validate → store (committed) → this worker's hub → bus. Read: the bus's single
listener feeds the hub, and a resync reloads the board from the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import time
from datetime import UTC, datetime

from .account_book import REFRESH_SECONDS, AccountBook
from .accounts import Account, Audit, Scorer
from .bus import RESYNC, Bus
from .calendar import Team
from .config import Config
from .demo import demo_season
from .envelope import AccountEnded, MatchChanged, Watching, decode, encode
from .fixtures import demo_draw
from .hub import Hub, NotShown
from .matches import Event, Match, RuleViolation, Side
from .messages import Command
from .pages import Page
from .season_writer import LoadReport
from .seasons import SeasonFile
from .store import StaleVersion, Store
from .window import Window

log = logging.getLogger(__name__)


class StoredNotShown(Exception):
    """An event was stored, but the pass that was to show it failed (it is tried again)."""

    def __init__(self, match: Match) -> None:
        super().__init__(f"v{match.version} of {match.id} stored, not shown")
        self.match = match


class NotPermitted(RuleViolation):
    """A scorer asked to record an event in a match outside their competitions."""


class Scoreboard:
    def __init__(self, config: Config, store: Store, bus: Bus, hub: Hub) -> None:
        self.config = config
        self.store = store
        self.bus = bus
        self.hub = hub
        self.window = Window(store, hub)
        self.accounts = AccountBook()
        self._tasks: list[asyncio.Task[None]] = []
        # People watching on the other workers: worker id -> (count, when it was heard).
        self._watching_elsewhere: dict[str, tuple[int, float]] = {}
        self.worker_id = f"{os.getpid()}-{secrets.token_hex(3)}"
        # Stored changes the bus refused to take (Redis down), the latest per match, sent again
        # once it answers: other workers whose subscription never dropped would not resync.
        self._unpublished: dict[str, str] = {}
        self.resyncs = 0  # reloads from the store after the bus (re)subscribed, completed

    async def start(self) -> None:
        await self.store.migrate()
        if self.config.create_demo_matches and self.config.demo == "draw":
            kick_off = Event("kick_off", datetime.now(UTC), recorded_by="demo")
            if await self.store.add_matches_if_empty(demo_draw(), opening=[kick_off]):
                log.info("store: created the demo matches")
        elif self.config.create_demo_matches:
            season = demo_season(datetime.now(UTC), self.hub.clock.zone)
            teams = season.season.teams
            if await self.store.load_season(season.entries, season.competition, teams, only_if_empty=True):
                log.info("store: loaded the demo, %s with today's match day", season.competition.title)
        await self.window.open()
        self.accounts.replace_all(await self.store.accounts_since())
        self._tasks = [
            asyncio.create_task(self._follow_accounts(), name="accounts"),
            asyncio.create_task(self.window.run(), name="window"),
            asyncio.create_task(self._follow_bus(), name="bus-listener"),
            asyncio.create_task(self._run_clock(), name="match-clock"),
            asyncio.create_task(self._count_viewers(), name="viewer-count"),
        ]
        if self.bus.shared:
            self._tasks.append(asyncio.create_task(self._republish(), name="bus-republish"))
        elif self.config.store_poll_seconds > 0:
            self._tasks.append(asyncio.create_task(self._watch_store(), name="store-watcher"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def record(self, command: Command, by: Scorer | str | None, audit: Audit | None = None) -> Match:
        """Store an event, then show it; raises RuleViolation (nothing changed) when refused,
        StoredNotShown when it was stored but this worker's sockets could not be sent it. A
        scorer limited to competitions is refused any other match."""
        recorded_by = by.name if isinstance(by, Scorer) else by
        if isinstance(by, Scorer):
            await self._check_permission(by, command.match_id)
        event = command.event(datetime.now(UTC), recorded_by)
        try:
            match, _ = await self.store.record(command.match_id, event, command.expected_version, audit)
        except StaleVersion as stale:
            if stale.current is not None:
                # The sender looked at an older row than the store's: this worker missed a
                # change (the bus was down), so its sockets get the stored row now.
                self.hub.apply(stale.current)
            raise
        await self._show(match, command.side if command.kind == "goal" else None)
        # Acknowledged once every socket here was handed the change: the scorer's own row first.
        try:
            await self.hub.delivered()
        except NotShown as error:
            log.warning(
                "event: %s %s v%d by %s stored, not shown yet",
                command.kind,
                match.id,
                match.version,
                recorded_by or "-",
            )
            raise StoredNotShown(match) from error
        log.info("event: %s %s v%d by %s", command.kind, match.id, match.version, recorded_by or "-")
        return match

    async def _check_permission(self, scorer: Scorer, match_id: str) -> None:
        if scorer.admin or not scorer.competitions:
            return
        found = await self.window.page_matches(Page("match", match_id))
        refusal = scorer.refusal(found[0].competition_slug if found else None)
        if refusal is not None:
            raise NotPermitted(refusal)

    async def account_ended(self, account: Account) -> None:
        """Revoked or reset here: every worker's sockets and sessions of it end now."""
        self.accounts.update(account)
        if self.bus.shared:
            try:
                await self.bus.publish(encode(AccountEnded(account.id, account.generation, account.revoked)))
            except Exception as error:  # the others read it from the store within a second
                log.warning("bus: could not publish the end of an account's sessions: %s", error)

    async def _follow_accounts(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            try:
                self.accounts.replace_all(await self.store.accounts_since())
            except Exception as error:
                log.warning("accounts: could not read the accounts: %s", error)

    async def add_fixtures(self, fixtures: list[tuple[str, Match]]) -> list[Match]:
        """Store new fixtures (skipping keys already there, all or nothing), then show them."""
        added = await self.store.add_fixtures(fixtures)
        await self.window.refresh_catalogue()
        self.window.forget_strips()
        for match in added:
            await self._show(match, None)
        return added

    async def load_season(self, season: SeasonFile) -> LoadReport:
        """Store a season file (all or nothing), then show its new and corrected matches."""
        report = await self.store.load_season(season.entries, season.competition, season.season.teams)
        assert report is not None
        await self._after_load([*report.added, *report.corrected])
        return report

    async def merge_team(self, alias: str, into: str) -> Team:
        """One more name for a team; the matches of the team the name stood for move to it,
        and every page showing them is told again."""
        team = await self.store.merge_team(alias, into)
        await self._after_load([])
        for match in await self.store.team_matches(team.slug):
            self.hub.apply(match, refresh=True)
        return team

    async def _after_load(self, changed: list[Match]) -> None:
        await self.window.refresh_catalogue()
        self.window.forget_strips()
        for match in changed:
            await self._show(match, None)

    async def _show(self, match: Match, changed: Side | None) -> None:
        self.hub.apply(match, changed)
        if not self.bus.shared:
            return  # this process's hub, just updated, is the bus's only listener
        message = encode(MatchChanged(match, changed))
        try:
            await self.bus.publish(message)
            self._unpublished.pop(match.id, None)
        except Exception as error:  # the goal is stored; it goes out again once the bus answers
            log.warning("bus: could not publish v%d of %s: %s", match.version, match.id, error)
            self._unpublished[match.id] = message

    async def _republish(self, interval: float = 1.0) -> None:
        while True:
            await asyncio.sleep(interval)
            for match_id, message in list(self._unpublished.items()):
                try:
                    await self.bus.publish(message)
                except Exception:
                    break  # still down: all of them wait for the next round
                if self._unpublished.get(match_id) is message:
                    del self._unpublished[match_id]
                    log.info("bus: published %s again", match_id)

    async def _reload_board(self) -> None:
        """The whole board from the store, retried until the store answers: a worker whose
        bus came back while its database is still unreachable would otherwise stay stale."""
        delay = 0.5
        while True:
            try:
                await self.window.reload()
                self.resyncs += 1
                return
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("resync: could not read the board (%s); trying again in %.1fs", error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    async def _follow_bus(self) -> None:
        async for message in self.bus.listen():
            try:
                if message == RESYNC:
                    await self._reload_board()
                    continue
                decoded = decode(message)
                if isinstance(decoded, Watching):
                    if decoded.worker != self.worker_id:
                        self._watching_elsewhere[decoded.worker] = (decoded.count, time.monotonic())
                elif isinstance(decoded, AccountEnded):
                    self.accounts.ended(decoded.account_id, decoded.generation, decoded.revoked)
                elif isinstance(decoded, MatchChanged):
                    self.hub.apply(decoded.match, decoded.changed)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("bus: could not handle a message")

    async def _watch_store(self) -> None:
        """With the in-process bus, other processes (`livescores fixtures load`, `livescores
        simulate`) cannot reach this one; a cheap look at the store shows when they wrote."""
        seen = await self.store.change_marker()
        while True:
            await asyncio.sleep(self.config.store_poll_seconds)
            try:
                marker = await self.store.change_marker()
                if marker != seen:
                    await self.window.reload()
                    self.window.forget_strips()
                    seen = marker  # only once loaded: a failed load is tried again next time
            except Exception:
                log.exception("store watcher: could not reload the board")

    async def _count_viewers(self) -> None:
        """Every few seconds: tell the other workers how many watch here, and every page the total.
        A worker not heard from for three rounds (stopped, or cut off) no longer counts."""
        interval = self.config.viewer_count_seconds
        while True:
            await asyncio.sleep(interval)
            here = self.hub.watching_here
            try:
                if self.bus.shared:
                    await self.bus.publish(encode(Watching(self.worker_id, here)))
            except Exception as error:
                log.debug("bus: could not publish the viewer count: %s", error)
            now = time.monotonic()
            heard = {w: seen for w, seen in self._watching_elsewhere.items() if now - seen[1] < 3 * interval}
            self._watching_elsewhere = heard
            self.hub.show_watching(here + sum(count for count, _ in heard.values()))

    async def _run_clock(self) -> None:
        while True:
            await asyncio.sleep(self.config.clock_interval_seconds)
            try:
                self.hub.tick()
            except Exception:
                log.exception("clock: tick failed")
