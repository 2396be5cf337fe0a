"""A competition page's tables: on the page, in the API, live while a match is in play, and
pushed row by row to every socket on any of its rounds' pages when a goal changes them."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from quart import Quart
from quart.typing import TestClientProtocol as Client

from livescores import create_app
from livescores.config import Config
from livescores.messages import Command
from livescores.seasons import parse_season
from livescores.services import EXTENSION_KEY, Services

from .support import receive_until, socket

DAY = (datetime.now(UTC) - timedelta(days=3)).date().isoformat()
SOON = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()


def played(round_name: str, home: str, away: str, score: list[int], day: str = DAY) -> dict[str, object]:
    return {"round": round_name, "date": day, "time": "15:00", "team1": home, "team2": away, "score": {"ft": score}}


LEAGUE = json.dumps(
    {
        "name": "Test League 2030/31",
        "matches": [
            played("Matchday 1", "Alpha", "Beta", [2, 0]),
            played("Matchday 1", "Gamma", "Delta", [1, 0]),
            {"round": "Matchday 2", "date": SOON, "time": "15:00", "team1": "Delta", "team2": "Alpha"},
            {"round": "Matchday 2", "date": SOON, "time": "15:00", "team1": "Beta", "team2": "Gamma"},
            {"round": "Matchday 3", "date": SOON, "time": "19:00", "team1": "Alpha", "team2": "Gamma"},
            {"round": "Matchday 3", "date": SOON, "time": "19:00", "team1": "Beta", "team2": "Delta"},
        ],
    }
)


async def loaded(live: Services) -> str:
    from zoneinfo import ZoneInfo

    season = parse_season(LEAGUE, ZoneInfo("UTC"))
    await live.scoreboard.load_season(season)
    return season.competition.slug


def standings(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<tr id="standing-table-\d+" data-team="([^"]+)"[^>]*>\s*<td class="pos">(\d+)</td>', html)


async def test_the_page_and_the_api_show_the_table(client: Client, live: Services) -> None:
    slug = await loaded(live)
    html = await (await client.get(f"/competitions/{slug}")).get_data(as_text=True)
    assert '<table class="standings"' in html
    assert standings(html) == [("alpha", "1"), ("gamma", "2"), ("delta", "3"), ("beta", "4")]
    for cell in ("pos", "played", "won", "drawn", "lost", "gf", "ga", "gd", "pts", "form"):
        assert f'<td class="{cell}">' in html
    api = await (await client.get(f"/api/competitions/{slug}")).get_json()
    (table,) = api["tables"]
    assert table["group"] is None and not table["live"]
    top = table["rows"][0]
    assert (top["team"], top["points"], top["goal_difference"], top["form"]) == ("alpha", 3, 2, "W")


async def test_a_goal_pushes_the_changed_rows_to_every_round_page(client: Client, live: Services) -> None:
    slug = await loaded(live)
    (delta_alpha,) = [m for m in await live.store.competition_matches(slug) if m.home == "Delta"]
    match_id = delta_alpha.id
    async with socket(client, f"/ws?competition={slug}&round=Matchday+1") as first:
        snapshot = str(await asyncio.wait_for(first.receive(), 5))
        assert 'hx-target="#tables"' in snapshot and standings(snapshot)[0] == ("alpha", "1")
        await live.scoreboard.record(Command(match_id, "kick_off"), "test")
        kicked = await receive_until(first, lambda m: "standing-" in m or 'hx-target="#tables"' in m)
        assert "Live table" in kicked and 'class="live"' in kicked  # the table turned live
        async with socket(client, f"/ws?competition={slug}&round=Matchday+2") as second:
            await asyncio.wait_for(second.receive(), 5)
            await live.scoreboard.record(Command(match_id, "goal", "home", "Dee"), "test")
            await live.scoreboard.record(Command(match_id, "goal", "home", "Dee"), "test")
            await live.scoreboard.record(Command(match_id, "goal", "home", "Dee"), "test")
            top = 'id="standing-table-1" data-team="delta"'
            pushes = [await receive_until(ws, lambda m: top in m) for ws in (first, second)]
    for push in pushes:
        # Delta, 3-0 up, rises from third to first: the places that changed hands are pushed.
        assert 'hx-target="#standing-table-1" hx-swap="outerHTML"' in push
        assert re.search(r'id="standing-table-1" data-team="delta" class="live rose"', push)
        assert 'hx-target="#tables"' not in push  # rows, not the whole table


async def test_no_table_is_computed_for_a_competition_nobody_watches(config: Config) -> None:
    app: Quart = create_app(replace(config, demo="draw"))
    async with app.test_app():
        live: Services = app.extensions[EXTENSION_KEY]
        slug = await loaded(live)
        assert live.hub.tables._sent == {}
        (match,) = [m for m in await live.store.competition_matches(slug) if m.home == "Delta"]
        await live.scoreboard.record(Command(match.id, "kick_off"), "test")
        assert live.hub.tables._sent == {} and live.hub._queued_tables == {}
