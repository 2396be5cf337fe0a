"""What the page and the pushes say: crests, goal sentences, headers and embeds."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from quart.typing import TestClientProtocol as Client
from werkzeug.datastructures import Headers

from livescores import create_app
from livescores.config import Config
from livescores.matches import Incident, Match, Minute
from livescores.render import goal_sentence, ordinal, team_colour, team_initials, viewers_fragment
from livescores.services import Services

from .pages import rows, texts
from .support import goal, receive_until, socket


def test_initials_and_colours_are_short_and_stable() -> None:
    assert team_initials("Arsenal") == "ARS"
    assert team_initials("Manchester United") == "MU"
    assert team_initials("AFC Bournemouth") == "BOU"
    assert team_initials("  ") == "?"
    assert team_colour("Arsenal") == team_colour("arsenal")
    assert len({team_colour(name) for name in ("Arsenal", "Chelsea", "Everton", "Fulham", "Hull", "Stoke")}) > 1


def test_a_goal_is_said_in_one_sentence() -> None:
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 90, 101)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "90th", "101st",
    ]  # fmt: skip
    scored = Incident("goal", "home", None, Minute(23))
    match = Match("m1", "Arsenal", "Chelsea", home_score=1, incidents=(scored,))
    assert goal_sentence(match, "home") == "Goal: Arsenal 1, Chelsea 0, 23rd minute"
    late = Incident("goal", "away", "Cole Palmer", Minute(45, 2), penalty=True)
    match = Match("m1", "Arsenal", "Chelsea", home_score=1, away_score=1, incidents=(scored, late))
    assert goal_sentence(match, "away") == (
        "Goal: Arsenal 1, Chelsea 1, 45th minute plus 2, scored by Cole Palmer, penalty"
    )


def test_the_number_watching_has_thousands_separators_and_none_shows_nothing() -> None:
    swap = '<hx-partial hx-target="#viewers" hx-swap="innerHTML">{}</hx-partial>'
    assert viewers_fragment(1) == swap.format("1 watching")
    assert viewers_fragment(999) == swap.format("999 watching")
    assert viewers_fragment(1204) == swap.format("1,204 watching")
    assert viewers_fragment(1_234_567) == swap.format("1,234,567 watching")
    assert viewers_fragment(0) == swap.format("")


async def test_the_goal_push_announces_it_and_the_snapshot_never_does(
    scorer_client: Client, client: Client, live: Services
) -> None:
    match = live.hub.matches[0]
    async with socket(scorer_client) as scorer, socket(client) as viewer:
        snapshot = await viewer.receive()
        assert "#announcer" not in str(snapshot)
        await scorer.receive()
        await goal(scorer, match.id, "away", minute="7")
        push = await receive_until(viewer, lambda m: match.id in m)
        expected = f"Goal: {match.home} 0, {match.away} 1, 7th minute"
        assert push.count('hx-target="#announcer" hx-swap="innerHTML"') == 1
        assert f"<p>{expected}</p>" in push
        assert rows(push)[match.id].away_score == 1
    async with socket(client) as again:
        assert "#announcer" not in str(await again.receive())


async def test_pages_have_one_status_region_and_errors_are_alerts(scorer_client: Client, live: Services) -> None:
    html = await (await scorer_client.get("/")).get_data(as_text=True)
    assert html.count('role="status"') == 1 and html.count("aria-live") == 1
    assert 'id="connection"' in html and "/static/live.js" in html and "/static/hx-sse-4.0.1.min.js" in html
    async with socket(scorer_client) as scorer:
        await scorer.receive()
        await goal(scorer, "nonexistent")
        refusal = await receive_until(scorer, lambda m: "#feedback" in m)
        assert 'class="error" role="alert"' in refusal


async def test_only_embeds_may_be_framed_and_only_by_the_configured_sites(config: Config) -> None:
    def ancestors(headers: Headers) -> str:
        policy = str(headers.get("Content-Security-Policy"))
        return policy.split("frame-ancestors ", 1)[1]

    for configured, embed_policy in (((), "'self'"), (("https://club.example", "https://news.example"), None)):
        app = create_app(replace(config, frame_ancestors=configured))
        async with app.test_app():
            client = app.test_client()
            assert ancestors((await client.get("/")).headers) == "'none'"
            assert ancestors((await client.get("/signin")).headers) == "'none'"
            embed = ancestors((await client.get("/embed")).headers)
            assert embed == (embed_policy or " ".join(configured))


async def test_an_embed_is_a_viewers_widget_even_for_a_scorer(scorer_client: Client, live: Services) -> None:
    match = live.hub.matches[2]
    page = await (await scorer_client.get("/embed")).get_data(as_text=True)
    assert len(rows(page)) == 10 and "<button" not in page and 'hx-ws:connect="/ws?embed=1"' in page
    single = await scorer_client.get(f"/embed/{match.id}")
    html = await single.get_data(as_text=True)
    assert list(rows(html)) == [match.id] and f"/ws?embed=1&amp;match={match.id}" in html
    assert (await scorer_client.get("/embed/nope")).status_code == 404
    async with socket(scorer_client, "/ws?embed=1") as ws:
        snapshot = str(await asyncio.wait_for(ws.receive(), 5))
        assert "<button" not in snapshot and len(rows(snapshot)) == 10


async def test_sign_in_page_carries_no_live_badge(client: Client) -> None:
    html = await (await client.get("/signin")).get_data(as_text=True)
    assert 'id="connection"' not in html


async def test_a_second_yellow_shows_as_a_red_card_on_the_row_and_the_timeline(live: Services) -> None:
    match = live.hub.matches[0]
    rice = Incident("yellow_card", "home", "Rice", Minute(5))
    sent_off = Incident("red_card", "home", "Rice", Minute(20), second_yellow=True)
    carded = replace(match, version=match.version + 2, incidents=(*match.incidents, rice, sent_off))
    rendered = live.hub.renderer.render(carded, previous=match)
    assert 'class="red-card fresh"' in rendered.pushes["viewer"]
    timeline = live.hub.renderer.timeline(carded)
    assert timeline.html["viewer"].count("Red card (second yellow)") == 1
    assert timeline.html["viewer"].count("Yellow card") == 1


async def test_a_rows_goals_and_red_cards_tell_a_screen_reader_whose_they_are(live: Services) -> None:
    match = replace(
        live.hub.matches[0],
        home="Stoke",
        away="Swansea",
        home_score=2,
        incidents=(
            Incident("goal", "home", "Bukayo Saka", Minute(1)),
            Incident("goal", "home", None, Minute(9), penalty=True),
            Incident("red_card", "away", "Reece James", Minute(30)),
            Incident("red_card", "away", None, Minute(40)),
        ),
    )
    html = live.hub.renderer.row(match, "viewer")
    assert texts(html, "incidents home") == ["Goal, Stoke: Bukayo Saka 1'Goal, Stoke: Goal 9' (pen)"]
    assert texts(html, "incidents away") == ["Red card, Swansea: Reece James 30'Red card, Swansea: Red card 40'"]
    assert texts(html, "goal") == ["Bukayo Saka 1'", "Goal 9' (pen)"]  # what is shown
    said = '<span class="visually-hidden">Goal, <bdi>Stoke</bdi>: </span>'
    assert f'{said}<span class="goal"><bdi>Bukayo Saka</bdi>' in html
    assert '<span class="visually-hidden">Red card, <bdi>Swansea</bdi>: </span><bdi>Reece James</bdi>' in html
    # Without a name the shown word would repeat what was just said.
    assert '<span aria-hidden="true">Goal</span> 9' in html and '<span aria-hidden="true">Red card</span> 40' in html
