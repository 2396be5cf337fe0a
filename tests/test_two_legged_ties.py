"""A two-legged tie from the 2013/14 Champions League: the second leg carries its first leg's
result from the store, shows the aggregate on its row, its page and in the API, and follows the
first leg live as it is recorded."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest
from quart.typing import TestClientProtocol as Client

from livescores.matches import Event, Match, RuleViolation
from livescores.openfootball import Fixture, Season, load_shipped
from livescores.services import Services
from livescores.stories import story, to_match

from .pages import rows, texts
from .support import receive_until, socket

CL = "football.json/2013-14/uefa.cl.json"


def leg(season: Season, home: str, away: str, number: int) -> Fixture:
    (found,) = [f for f in season.fixtures if f.home.startswith(home) and f.away.startswith(away) and f.leg == number]
    return found


def fixtures(season: Season, *legs: Fixture) -> list[tuple[str, Match]]:
    """The legs as fixtures to add; their teams are found (or made) by name as they are placed."""
    return [
        (f"cl-{f.number}", replace(to_match(season, f, f"cl{f.number}"), home_slug=None, away_slug=None)) for f in legs
    ]


async def play(live: Services, match: Match, fixture: Fixture) -> Match:
    """The imported match's story, through the store's write path, shown as the scoreboard shows it."""
    for event in story(fixture):
        match, _ = await live.store.record(match.id, event)
        live.hub.apply(match)
    return match


async def test_a_champions_league_tie_shows_its_aggregate_and_winner(client: Client, live: Services) -> None:
    season = load_shipped(CL)
    first_leg, second_leg = leg(season, "Galatasaray", "Chelsea", 1), leg(season, "Chelsea", "Galatasaray", 2)
    added = await live.store.add_fixtures(fixtures(season, first_leg, second_leg), [season.competition])
    first, second = added
    # Stored with its competition's settings: a knockout round, away goals still counting in 2014.
    assert (second.competition_format, second.away_goals, second.leg) == ("groups_then_knockout", True, 2)
    assert second.aggregate is None  # the first leg has not been played

    async with socket(client, f"/ws?match={second.id}") as watcher:
        opening = await asyncio.wait_for(watcher.receive(), 5)
        assert isinstance(opening, str) and texts(opening, "agg") == []

        # Galatasaray 1-1 Chelsea in Istanbul: the second leg's row, watched, takes the aggregate at once.
        first = await play(live, first, first_leg)
        assert (first.status, first.home_score, first.away_score) == ("full_time", 1, 1)
        pushed = await receive_until(watcher, lambda m: f"match-{second.id}" in m and "agg" in m)
        assert texts(pushed, "agg") == ["agg 1–1"]

    stored = await live.store.get_match(second.id)
    assert stored is not None and (stored.first_leg_home, stored.first_leg_away) == (1, 1)

    # Chelsea 2-0 at Stamford Bridge: 3-1 on aggregate, Chelsea through.
    second = await play(live, stored, second_leg)
    assert (second.home_score, second.away_score, second.aggregate, second.winner) == (2, 0, (3, 1), "home")
    assert second.decided_by == "normal_time"

    html = await (await client.get(f"/matches/{second.id}")).get_data(as_text=True)
    row = rows(html)[second.id]
    assert (row.home_score, row.away_score) == (2, 0)
    assert texts(html, "agg") == ["agg 3–1"]
    assert 'class="team home winner"' in html and "(winner)" in html
    assert texts(html, "clock") == ["FT"]

    api = (await (await client.get(f"/api/matches/{second.id}")).get_json())["match"]
    assert api["aggregate"] == {"home": 3, "away": 1}
    assert api["winner"] == "home" and api["leg"] == 2
    assert (await (await client.get(f"/api/matches/{first.id}")).get_json())["match"]["aggregate"] is None


async def test_a_second_leg_level_on_aggregate_cannot_end_at_full_time(live: Services) -> None:
    """The write path reads the first leg's result before the rules run. After 1-1 in Istanbul,
    0-0 at Stamford Bridge puts Chelsea through on away goals (no extra time); 1-1 leaves the tie
    level on aggregate and away goals, so full-time is refused and extra time follows."""
    season = load_shipped(CL)
    first_leg, second_leg = leg(season, "Galatasaray", "Chelsea", 1), leg(season, "Chelsea", "Galatasaray", 2)
    first, second = await live.store.add_fixtures(fixtures(season, first_leg, second_leg), [season.competition])
    await play(live, first, first_leg)
    at = second_leg.kickoff
    for minutes, kind in ((0, "kick_off"), (47, "half_time"), (62, "second_half")):
        second, _ = await live.store.record(second.id, Event(kind, at + timedelta(minutes=minutes)))
    assert second.aggregate == (1, 1)
    with pytest.raises(RuleViolation, match="decided on away goals"):
        await live.store.record(second.id, Event("extra_time", at + timedelta(minutes=108)))
    for minutes, side in ((70, "home"), (80, "away")):
        second, _ = await live.store.record(second.id, Event("goal", at + timedelta(minutes=minutes), side))
    assert second.aggregate == (2, 2)
    with pytest.raises(RuleViolation, match="The tie is level on aggregate"):
        await live.store.record(second.id, Event("full_time", at + timedelta(minutes=108)))
    second, _ = await live.store.record(second.id, Event("extra_time", at + timedelta(minutes=108)))
    assert second.status == "extra_time_first_half"
