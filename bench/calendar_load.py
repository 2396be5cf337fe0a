"""A calendar of N stored matches for the app to start on, and what one goal reaches in it.

    python -m bench.calendar_load DATABASE N      # store N matches (10 today), print today's as JSON

Today holds the usual ten matches kicked off (the demo draw, as `LIVESCORES_DEMO=draw` makes
them on an empty database); the other N - 10 are spread over the days before and after, over
`COMPETITIONS` competitions of 20 teams each, stored with `Store.add_fixtures` as
`livescores fixtures load` stores a file. The app then starts on a database that is not empty,
so it draws no demo of its own.

`reach` measures where a goal goes: a few sockets on each page that shows the match (today's
board, its day page, its competition, both teams, the match) and on pages that do not (another
day, another competition, another team, another match), a few goals, and per page the frames
each socket got while they were pushed.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from livescores.fixtures import demo_draw, new_match_id
from livescores.matches import Event, Match
from livescores.store import Store

from .clients import Scorer
from .servers import Server
from .wsclient import Viewer, open_viewer

COMPETITIONS = 40
TEAMS_PER_COMPETITION = 20
DAYS_EACH_WAY = 200
PROBES_PER_PAGE = 3
REACH_GOALS = 3
REACH_INTERVAL = 0.5
QUIET_SECONDS = 2.0
TARGET = re.compile(rb'hx-target="#([^"]+)"')


@dataclass(frozen=True)
class Today:
    """What the viewers watch, as stored: the target match and the pages around it."""

    day: str
    match: str
    competition: str
    home: str
    away: str
    other_match: str
    other_team: str

    def showing(self) -> dict[str, str]:
        return {
            "today (/ws)": "/ws",
            "its day": f"/ws?day={self.day}",
            "its competition": f"/ws?competition={self.competition}",
            "home team": f"/ws?team={self.home}",
            "away team": f"/ws?team={self.away}",
            "the match": f"/ws?match={self.match}",
        }

    def not_showing(self, other_competition: str | None) -> dict[str, str]:
        tomorrow = (date.fromisoformat(self.day) + timedelta(days=1)).isoformat()
        pages = {
            "another day": f"/ws?day={tomorrow}",
            "another team": f"/ws?team={self.other_team}",
            "another match": f"/ws?match={self.other_match}",
        }
        if other_competition is not None:
            pages["another competition"] = f"/ws?competition={other_competition}"
        return pages


def other_fixtures(count: int, today: date) -> list[tuple[str, Match]]:
    """`count` fixtures on the `2 * DAYS_EACH_WAY` days around today, not today."""
    fixtures = []
    days = 2 * DAYS_EACH_WAY
    for number in range(count):
        # Each lap over the days puts one more competition's match on every day: a day holds
        # matches of many competitions, each competition at most one a day (for up to
        # COMPETITIONS laps: 16,000 fixtures).
        day, lap = number % days, number // days
        competition = (day + lap) % COMPETITIONS
        offset = day - DAYS_EACH_WAY
        offset += offset >= 0  # never today
        kickoff = datetime.combine(today + timedelta(days=offset), datetime.min.time(), UTC)
        kickoff += timedelta(hours=12 + lap % 10)
        home = (day + lap) % TEAMS_PER_COMPETITION
        away = (home + 1 + lap % (TEAMS_PER_COMPETITION - 1)) % TEAMS_PER_COMPETITION
        name = f"Bench League {competition + 1}"
        match = Match(
            id=new_match_id(),
            home=f"{name} Team {home + 1}",
            away=f"{name} Team {away + 1}",
            kickoff=kickoff,
            competition=name,
        )
        fixtures.append((f"bench|{number}", match))
    return fixtures


async def seed(database: Path, total: int) -> dict[str, Any]:
    """Store the demo draw kicked off today and `total - 10` other fixtures; today's pages."""
    store = Store(f"sqlite+aiosqlite:///{database}")
    try:
        await store.migrate()
        now = datetime.now(UTC)
        draw = demo_draw(now=now)
        await store.add_matches_if_empty(draw, opening=[Event("kick_off", now, recorded_by="demo")])
        others = other_fixtures(max(0, total - len(draw)), now.date())
        for start in range(0, len(others), 2000):
            await store.add_fixtures(others[start : start + 2000])
        stored = await store.all_matches()
    finally:
        await store.close()
    ids = {m.id for m in draw}
    today = sorted((m for m in stored if m.id in ids), key=lambda m: m.home)
    target, other = today[0], today[1]
    elsewhere = (m.competition_slug for m in stored if m.competition_slug != target.competition_slug)
    other_competition = next(elsewhere, None)
    return {
        "stored": len(stored),
        "today": Today(
            day=now.date().isoformat(),
            match=target.id,
            competition=str(target.competition_slug),
            home=str(target.home_slug),
            away=str(target.away_slug),
            other_match=other.id,
            other_team=str(other.home_slug),
        ).__dict__,
        "other_competition": other_competition,
    }


def page_size(server: Server, path: str = "/") -> int:
    """The uncompressed size of a page as a browser without gzip gets it."""
    request = urllib.request.Request(server.url + path, headers={"Accept-Encoding": "identity"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return len(response.read())


async def first_message(server: Server, path: str = "/ws") -> dict[str, int]:
    """The size of the first message a socket gets (inflated), on the wire with the handshake's
    response, and its frames alone."""
    viewer = await open_viewer("127.0.0.1", server.port, server.origin, path=path, board=False)
    try:
        return {
            "bytes": viewer.first_size,
            "wire_bytes": viewer.bytes,
            "frame_bytes": viewer.first_frame_bytes,
            "compressed": viewer.first_compressed,
        }
    finally:
        if viewer.transport is not None:
            viewer.transport.abort()


async def reach(server: Server, scorer: Scorer, today: Today, other_competition: str | None) -> dict[str, Any]:
    """Per page: sockets, frames they got while `REACH_GOALS` goals were pushed, how many of
    those frames held the goal's row, and the elements all their fragments targeted."""
    pages = {**today.showing(), **today.not_showing(other_competition)}
    sockets: dict[str, list[Viewer]] = {name: [] for name in pages}
    for name, path in pages.items():
        for _ in range(PROBES_PER_PAGE):
            sockets[name].append(await open_viewer("127.0.0.1", server.port, server.origin, path=path, board=False))
    try:
        await asyncio.sleep(QUIET_SECONDS)
        before = {name: [v.messages for v in group] for name, group in sockets.items()}
        for group in sockets.values():
            for viewer in group:
                viewer.kept = []
        started = time.monotonic()
        for _ in range(REACH_GOALS):
            await scorer.goal(today.match)
            await asyncio.sleep(REACH_INTERVAL)
        await asyncio.sleep(QUIET_SECONDS)
        per_page: dict[str, Any] = {}
        for name, group in sockets.items():
            frames = [v.messages - b for v, b in zip(group, before[name], strict=True)]
            rows = [sum(1 for _, at in v.goals.get(today.match.encode(), []) if at >= started) for v in group]
            per_page[name] = {
                "path": pages[name],
                "shows_match": name in today.showing(),
                "sockets": len(group),
                "frames": sum(frames),
                "goal_rows": sum(rows),
                # Frames other than the periodic viewer count (every page's, goal or not).
                "goal_frames": sum(1 for v in group for m in v.kept or [] if set(TARGET.findall(m)) - {b"viewers"}),
                "targets": dict(Counter(t.decode() for v in group for m in v.kept or [] for t in TARGET.findall(m))),
                "closed": sum(1 for v in group if v.lost.done()),
            }
        showing = [p for p in per_page.values() if p["shows_match"]]
        others = [p for p in per_page.values() if not p["shows_match"]]
        return {
            "goals": REACH_GOALS,
            "sockets_showing": sum(p["sockets"] for p in showing),
            "goal_frames_per_goal_showing": round(sum(p["goal_frames"] for p in showing) / REACH_GOALS, 2),
            "sockets_not_showing": sum(p["sockets"] for p in others),
            "goal_frames_not_showing": sum(p["goal_frames"] for p in others),
            "frames_not_showing": sum(p["frames"] for p in others),
            "pages": per_page,
        }
    finally:
        for group in sockets.values():
            for viewer in group:
                if viewer.transport is not None:
                    viewer.transport.abort()


def main() -> None:
    database, total = Path(sys.argv[1]), int(sys.argv[2])
    print(json.dumps(asyncio.run(seed(database, total))))


if __name__ == "__main__":
    main()
