"""The calendar through the real app: day, competition and team pages, their sockets getting
only what their page shows, the JSON API, and the window of matches a worker holds."""

from __future__ import annotations

import asyncio
import json
from contextlib import AsyncExitStack
from datetime import UTC, date, datetime, timedelta

import pytest
from quart.testing.connections import TestWebsocketConnection as WebSocket
from quart.typing import TestClientProtocol as Client

from livescores.calendar import home_zone
from livescores.fixtures import fixture_key
from livescores.hub import HOLD_SECONDS
from livescores.matches import Match
from livescores.pages import Clock, Page
from livescores.services import Services

from .pages import rows, texts
from .support import close_code, goal, receive_until, socket
from .test_feeds import read_events

NOW = datetime.now(UTC)
TODAY = NOW.date()
LAST_SEASON = datetime(2014, 3, 15, 15, 0, tzinfo=UTC)


def fixture(match_id: str, home: str, away: str, kickoff: datetime, competition: str = "Test League") -> Match:
    return Match(match_id, home, away, kickoff, competition, round="Matchday 1")


async def add(live: Services, *matches: Match) -> list[Match]:
    return await live.scoreboard.add_fixtures([(fixture_key(m.home, m.away, m.kickoff), m) for m in matches])  # type: ignore[arg-type]


async def first_message(ws: WebSocket) -> str:
    message = await asyncio.wait_for(ws.receive(), 5)
    assert isinstance(message, str)
    return message


async def nothing_more(ws: WebSocket, seconds: float = 0.3) -> None:
    """The socket receives no frame for a while."""
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(ws.receive(), seconds)


async def test_a_scheduled_row_shows_its_kick_off_and_no_score(client: Client, live: Services) -> None:
    later = NOW.replace(microsecond=0) + timedelta(hours=2)
    if later.date() != TODAY:
        later = NOW.replace(microsecond=0)
    (added,) = await add(live, fixture("later", "Harrow Borough", "Stamford Albion", later))
    html = await (await client.get("/")).get_data(as_text=True)
    row = rows(html)["later"]
    assert (row.home_score, row.away_score) == (None, None)
    assert 'data-status="scheduled"' in row.html
    assert f'<time datetime="{later.isoformat()}" data-local="short">' in row.html
    # Grouped under their competitions, each heading a link to its page.
    assert f'<a href="/competitions/{added.competition_slug}"><bdi>Test League</bdi></a>' in html
    assert texts(html, "group-title")[0].strip() in ("Premier League", "Test League")
    kicked_off = next(r for r in rows(html).values() if r.id != "later")
    assert 'data-status="first_half"' in kicked_off.html and kicked_off.home_score == 0


async def test_day_pages_have_a_strip_and_refuse_dates_that_are_not(client: Client, live: Services) -> None:
    await add(live, fixture("old", "Ashby", "Corby Town", LAST_SEASON))
    html = await (await client.get("/day/2014-03-15")).get_data(as_text=True)
    assert list(rows(html)) == ["old"]
    assert 'hx-ws:connect="/ws?day=2014-03-15"' in html
    assert 'href="/day/2014-03-14" rel="prev"' in html and 'href="/day/2014-03-16" rel="next"' in html
    assert 'class="day has-matches" aria-current="page"' in html
    empty = await (await client.get("/day/2014-03-18")).get_data(as_text=True)
    assert "No matches on this day." in empty
    assert '<a href="/day/2014-03-15" rel="prev">Saturday 15 March 2014</a>' in empty
    assert f'<a href="/day/{TODAY.isoformat()}" rel="next">' in empty
    for bad in ("2014-02-30", "yesterday", "2014-3-1"):
        response = await client.get(f"/day/{bad}")
        assert response.status_code == 404
        assert "is not a date" in await response.get_data(as_text=True)


async def test_competition_and_team_pages(client: Client, live: Services) -> None:
    first, _second = await add(
        live,
        fixture("r1", "Ashby", "Corby Town", LAST_SEASON, "Cup Of Tests"),
        Match("r2", "Corby Town", "Eastleigh Rovers", LAST_SEASON + timedelta(days=7), "Cup Of Tests", round="Final"),
    )
    slug = first.competition_slug
    listing = await (await client.get("/competitions")).get_data(as_text=True)
    assert f'href="/competitions/{slug}"' in listing
    page = await (await client.get(f"/competitions/{slug}")).get_data(as_text=True)
    assert list(rows(page)) == ["r2"]  # a finished season opens on its last round
    assert f'hx-ws:connect="/ws?competition={slug}&amp;round=Final"' in page
    assert "<option selected>Final</option>" in page and 'rel="prev"' in page
    round_one = await (await client.get(f"/competitions/{slug}?round=Matchday+1")).get_data(as_text=True)
    assert list(rows(round_one)) == ["r1"]
    assert (await client.get(f"/competitions/{slug}?round=Nope")).status_code == 404
    assert (await client.get("/competitions/no-such-thing")).status_code == 404
    team = await (await client.get(f"/teams/{first.away_slug}")).get_data(as_text=True)
    assert list(rows(team)) == ["r1", "r2"]  # Corby Town's season, in order
    assert f'href="/competitions/{slug}"' in team
    assert (await client.get("/teams/nobody")).status_code == 404


async def test_the_json_api_by_day_competition_and_team(client: Client, live: Services) -> None:
    (old,) = await add(live, fixture("old", "Ashby", "Corby Town", LAST_SEASON))
    today = await (await client.get("/api/matches")).get_json()
    assert today["date"] == TODAY.isoformat() and today["timezone"] == "UTC"
    assert len(today["matches"]) == 10 and "old" not in {m["id"] for m in today["matches"]}
    day = await (await client.get("/api/days/2014-03-15")).get_json()
    assert [m["id"] for m in day["matches"]] == ["old"]
    assert day["matches"][0]["competition_slug"] == old.competition_slug
    assert (await client.get("/api/days/2014-13-01")).status_code == 404
    listed = await (await client.get("/api/competitions")).get_json()
    assert old.competition_slug in {c["slug"] for c in listed["competitions"]}
    competition = await (await client.get(f"/api/competitions/{old.competition_slug}")).get_json()
    assert competition["rounds"] == ["Matchday 1"] and [m["id"] for m in competition["matches"]] == ["old"]
    team = await (await client.get(f"/api/teams/{old.home_slug}")).get_json()
    assert team["team"]["name"] == "Ashby" and team["team"]["code"] == "ASH"
    assert [m["id"] for m in team["matches"]] == ["old"]


async def test_a_day_socket_gets_its_day_and_nothing_about_another(
    scorer_client: Client, client: Client, live: Services
) -> None:
    await add(live, fixture("old", "Ashby", "Corby Town", LAST_SEASON))
    today_match = live.hub.matches[0]
    async with socket(client, "/ws?day=2014-03-15") as other_day, socket(scorer_client) as scorer:
        snapshot = await other_day.receive()
        assert isinstance(snapshot, str) and list(rows(snapshot)) == ["old"]
        await scorer.receive()
        await goal(scorer, today_match.id)
        await receive_until(scorer, lambda m: today_match.id in m and "feedback" not in m)
        await nothing_more(other_day)


async def test_a_goal_reaches_its_day_competition_team_and_match_pages_and_nobody_else(
    scorer_client: Client, client: Client, live: Services
) -> None:
    match = live.hub.matches[2]
    other = next(m for m in live.hub.matches if m.id != match.id)
    watching = [
        "/ws",
        f"/ws?day={TODAY.isoformat()}",
        f"/ws?competition={match.competition_slug}",
        f"/ws?team={match.home_slug}",
        f"/ws?team={match.away_slug}",
        f"/ws?match={match.id}",
    ]
    async with (
        socket(scorer_client, f"/ws?match={match.id}") as scorer,
        socket(client, f"/ws?team={other.home_slug}") as elsewhere,
    ):
        await first_message(scorer)
        await first_message(elsewhere)
        async with AsyncExitStack() as stack:
            sockets = [await stack.enter_async_context(socket(client, path)) for path in watching]
            for ws in sockets:
                await first_message(ws)
            await goal(scorer, match.id, "away")
            for ws in sockets:
                push = await receive_until(ws, lambda m: match.id in m)
                assert rows(push)[match.id].away_score == 1
            await nothing_more(elsewhere)


async def test_sockets_for_pages_that_do_not_exist_are_refused(client: Client) -> None:
    for path in ("/ws?day=2014-02-30", "/ws?team=nobody", "/ws?competition=nothing", "/ws?match=nope", "/ws?team=A B"):
        async with socket(client, path) as ws:
            assert await close_code(ws) == 404, path


async def test_a_match_added_to_a_watched_day_sends_that_day_a_new_snapshot(client: Client, live: Services) -> None:
    await add(live, fixture("old", "Ashby", "Corby Town", LAST_SEASON))
    async with socket(client, "/ws?day=2014-03-15") as day, socket(client) as today:
        await day.receive()
        await today.receive()
        await add(live, fixture("late", "Eastleigh Rovers", "Frome", LAST_SEASON + timedelta(hours=3)))
        snapshot = await receive_until(day, lambda m: "late" in m)
        assert snapshot.startswith('<hx-partial hx-target="#board"') and list(rows(snapshot)) == ["old", "late"]
        await nothing_more(today)


async def test_at_midnight_todays_board_moves_on_and_keeps_matches_still_being_played(
    client: Client, live: Services
) -> None:
    tomorrow = TODAY + timedelta(days=1)
    kickoff = datetime.combine(tomorrow, datetime.min.time(), UTC) + timedelta(hours=15)
    await add(live, fixture("tomorrow", "Harrow Borough", "Stamford Albion", kickoff))
    playing = {m.id for m in live.hub.matches}
    async with socket(client) as ws:
        first = await ws.receive()
        assert "tomorrow" not in rows(first)  # type: ignore[arg-type]
        await live.scoreboard.window.roll(datetime.combine(tomorrow, datetime.min.time(), UTC) + timedelta(seconds=1))
        snapshot = await receive_until(ws, lambda m: "tomorrow" in m)
    assert set(rows(snapshot)) == playing | {"tomorrow"}  # yesterday's, kicked off and still being played
    assert live.hub.clock == Clock(home_zone("UTC"), tomorrow)
    assert "Today, " in snapshot


async def test_the_window_holds_the_days_around_today_and_lets_go_of_old_pages(client: Client, live: Services) -> None:
    (old,) = await add(live, fixture("old", "Ashby", "Corby Town", LAST_SEASON))
    assert "old" not in live.hub.rows  # the archive stays in the store
    assert (await client.get("/day/2014-03-15")).status_code == 200
    assert "old" in live.hub.rows
    live.hub._held = {page: used - HOLD_SECONDS for page, used in live.hub._held.items()}
    live.hub.trim()
    assert "old" not in live.hub.rows and len(live.hub.matches) == 10
    async with socket(client, f"/ws?team={old.home_slug}") as ws:
        await ws.receive()
        live.hub._held = {page: used - HOLD_SECONDS for page, used in live.hub._held.items()}
        live.hub.trim()
        assert "old" in live.hub.rows  # watched: kept


async def test_the_stream_takes_the_same_page_arguments(client: Client, live: Services) -> None:
    await add(live, fixture("old", "Ashby", "Corby Town", LAST_SEASON))
    async with client.request("/api/stream?day=2014-03-15") as stream:
        await stream.send_complete()
        [(name, data)] = await read_events(stream, 1)
        await stream.disconnect()
    assert name == "snapshot" and [m["id"] for m in json.loads(data)] == ["old"]
    assert (await client.get("/api/stream?day=2014-02-30")).status_code == 404
    assert (await client.get("/sse?team=nobody")).status_code == 404


def test_today_is_the_home_zones(live: Services) -> None:
    assert live.hub.clock.today == datetime.now(home_zone("UTC")).date()
    assert Page("today").day(live.hub.clock) == live.hub.clock.today
    assert isinstance(live.hub.clock.today, date)


async def test_the_day_and_competition_embeds_are_viewer_widgets_of_the_same_boards(
    scorer_client: Client, live: Services
) -> None:
    (old,) = await add(live, fixture("old", "Ashby", "Corby Town", LAST_SEASON))
    day = await (await scorer_client.get("/embed/day/2014-03-15")).get_data(as_text=True)
    assert list(rows(day)) == ["old"] and 'hx-ws:connect="/ws?embed=1&amp;day=2014-03-15"' in day
    assert "hx-ws:send" not in day  # a viewer's rows, whoever's cookie comes along
    competition = await (await scorer_client.get(f"/embed/competitions/{old.competition_slug}")).get_data(as_text=True)
    assert list(rows(competition)) == ["old"]
    assert f"embed=1&amp;competition={old.competition_slug}" in competition
    assert (await scorer_client.get("/embed/day/2014-02-30")).status_code == 404
    assert (await scorer_client.get("/embed/competitions/nothing")).status_code == 404
