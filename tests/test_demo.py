"""The demo an empty database opens on: the 2022 World Cup with a real match day on today."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from livescores import create_app
from livescores.config import Config
from livescores.demo import demo_season
from livescores.services import EXTENSION_KEY, Services
from livescores.simulator import real_goals
from livescores.stories import replay


def test_todays_match_day_is_in_every_state() -> None:
    now = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
    season = demo_season(now, ZoneInfo("Europe/London"))
    today = [e for e in season.entries if e.match.kickoff is not None and e.match.kickoff.date() == now.date()]
    states = {e.match.home: replay(e.match, e.events) for e in today}
    assert {home: (m.status, m.home_score, m.away_score) for home, m in states.items()} == {
        "Tunisia": ("full_time", 0, 1),  # the real result
        "Poland": ("second_half", 1, 0),  # Zieliński's 39th-minute goal; Lewandowski's 82nd is to come
        "France": ("first_half", 0, 0),
        "Argentina": ("scheduled", 0, 0),
    }
    assert len(season.entries) == 64
    yesterday = [e for e in season.entries if e.match.kickoff and e.match.kickoff.date().day == 29]
    assert len(yesterday) == 4 and all(replay(e.match, e.events).status == "full_time" for e in yesterday)
    poland = next(e.match for e in today if e.match.home == "Poland")
    assert [(g.scorer, g.minute.base) for g in real_goals(poland) or ()] == [
        ("Piotr Zielinski", 39),
        ("Robert Lewandowski", 82),
    ]


async def test_an_empty_database_opens_on_the_demo_with_live_tables(config: Config) -> None:
    app = create_app(replace(config, demo="worldcup"))
    async with app.test_app():
        live: Services = app.extensions[EXTENSION_KEY]
        assert len(await live.store.all_matches()) == 64
        client = app.test_client()
        api = await (await client.get("/api/competitions/world-cup-2022")).get_json()
        assert len(api["tables"]) == 8
        underway = await live.store.matches_underway()
        if underway:  # always, unless run in the first hours after midnight
            assert any(t["live"] for t in api["tables"])
