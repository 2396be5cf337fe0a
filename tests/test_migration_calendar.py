"""Migration 0002 on a database as the release before the calendar wrote it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from alembic import command
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from livescores.calendar import FRIENDLIES
from livescores.matches import Event, Minute
from livescores.migrations import alembic_config
from livescores.store import Store

KICKOFF = datetime(2026, 5, 1, 15, 0, tzinfo=UTC)
STARTED = KICKOFF + timedelta(minutes=2)


def _state(status: str, home: int = 0, away: int = 0) -> str:
    return json.dumps(
        {"status": status, "period_started_at": None, "home_score": home, "away_score": away, "incidents": []}
    )


# As 0001's release stored them: a match of a named competition, one without any (and without a
# kick-off, but with events), "ARSENAL" spelled two ways, and one with neither events nor kick-off.
MATCHES = [
    ("m1", "Arsenal", "Chelsea", KICKOFF, "Premier League", "k1", 2, _state("first_half", 1, 0), 0),
    ("m2", "arsenal ", "Hull City", None, None, "k2", 1, _state("first_half"), 1),
    ("m3", "Hull City", "Chelsea", KICKOFF + timedelta(days=1), "Premier League", None, 0, _state("scheduled"), 2),
    ("m4", "Stoke", "Hull City", None, "", None, 0, _state("scheduled"), 3),
]
EVENTS = [
    ("m1", 1, "kick_off", {"side": None, "player": None, "minute": None, "penalty": False, "own_goal": False}, KICKOFF),
    ("m1", 2, "goal", {"side": "home", "player": "Walcott", "minute": {"base": 3, "added": 0}}, STARTED),
    ("m2", 1, "kick_off", {}, STARTED),
]


async def _old_database(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), "0001"))
            for row in MATCHES:
                await conn.execute(
                    text(
                        "INSERT INTO matches (id, home, away, kickoff, competition, fixture_key, version, state,"
                        " position) VALUES (:id, :home, :away, :kickoff, :competition, :key, :version, :state, :pos)"
                    ),
                    dict(
                        zip(
                            ("id", "home", "away", "kickoff", "competition", "key", "version", "state", "pos"),
                            row,
                            strict=True,
                        )
                    ),
                )
            for match_id, version, kind, payload, at in EVENTS:
                await conn.execute(
                    text(
                        "INSERT INTO events (match_id, version, kind, payload, at, recorded_at)"
                        " VALUES (:match_id, :version, :kind, :payload, :at, :at)"
                    ),
                    {"match_id": match_id, "version": version, "kind": kind, "payload": json.dumps(payload), "at": at},
                )
    finally:
        await engine.dispose()


async def test_every_match_and_event_survives_with_its_competition_and_teams(database_url: str) -> None:
    await _old_database(database_url)
    before = datetime.now(UTC)
    store = Store(database_url)
    try:
        await store.migrate()
        matches = {match.id: match for match in await store.all_matches()}
        assert list(matches) == ["m1", "m2", "m3", "m4"]
        m1, m2, m3, m4 = matches.values()
        assert (m1.version, m1.status, m1.home_score, m1.kickoff) == (2, "first_half", 1, KICKOFF)
        assert [(e.kind, e.player, e.at) for e in await store.events("m1")] == [
            ("kick_off", None, KICKOFF),
            ("goal", "Walcott", STARTED),
        ]
        assert m2.kickoff == STARTED  # its first event's time
        assert m4.kickoff is not None and m4.kickoff >= before - timedelta(seconds=1)
        assert (m2.version, m2.status) == (1, "first_half")
        assert {m.competition_slug for m in (m1, m3)} == {"premier-league"}
        assert (m2.competition, m2.competition_slug, m4.competition_slug) == (FRIENDLIES, "friendlies", "friendlies")
        assert [c.slug for c in await store.competitions()] == ["friendlies", "premier-league"]
        assert m1.home_slug == m2.home_slug == "arsenal"
        assert m1.away_slug == m3.away_slug == "chelsea"
        assert m2.away_slug == m3.home_slug == m4.away_slug == "hull-city"
        assert [t.slug for t in await store.teams()] == ["arsenal", "chelsea", "hull-city", "stoke"]
        assert [m.id for m in await store.matches_underway()] == ["m1", "m2"]
        assert [m.id for m in await store.team_matches("hull-city")] == ["m2", "m3", "m4"]
        # The migrated store goes on taking events where the log left off.
        goal = Event("goal", STARTED + timedelta(minutes=5), side="home", minute=Minute(8))
        after, _ = await store.record("m1", goal)
        assert (after.version, after.home_score) == (3, 2)
    finally:
        await store.close()
