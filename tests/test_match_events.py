"""Goals with scorers and minutes, cards, status, undo and the timeline, over the real socket."""

from __future__ import annotations

import asyncio
import json
import random
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from quart.testing.connections import TestWebsocketConnection as WebSocket
from quart.typing import TestClientProtocol as Client

from livescores import create_app
from livescores.cli import open_scoreboard
from livescores.config import Config
from livescores.fixtures import fixture_key
from livescores.matches import Event, Match, replay
from livescores.render import RenderedTimeline
from livescores.services import EXTENSION_KEY, Services
from livescores.simulator import Simulator

from .pages import feedback, rows, texts
from .support import close_code, receive_until, sign_in, socket
from .test_feeds import read_events


async def send(ws: WebSocket, **data: object) -> None:
    await ws.send(json.dumps({**data, "headers": {"HX-Request": "true"}}))


async def answer(ws: WebSocket) -> str:
    """The scorer's own feedback line for the command just sent."""
    message = await receive_until(ws, lambda m: feedback(m) is not None)
    return str(feedback(message))


def timeline_of(html: str, match_id: str) -> list[str]:
    found = re.search(rf'<section class="timeline" id="timeline-{match_id}".*?</section>', html, re.S)
    assert found, "the message carries the timeline"
    return [" ".join(text.split()) for text in texts(found.group(0), "event")]


async def test_the_detail_page_lists_the_timeline_at_a_shareable_url(client: Client, live: Services) -> None:
    match = live.hub.matches[2]
    response = await client.get(f"/matches/{match.id}")
    assert response.status_code == 200
    html = await response.get_data(as_text=True)
    assert f'hx-ws:connect="/ws?match={match.id}"' in html
    assert rows(html)[match.id].home == match.home
    assert timeline_of(html, match.id) == ["Kick-off"]
    assert "hx-ws:send" not in html  # a viewer gets no controls
    assert f'href="/matches/{match.id}"' in await (await client.get("/")).get_data(as_text=True)
    assert (await client.get("/matches/nope")).status_code == 404


async def test_a_scorer_gets_controls_that_carry_the_version(scorer_client: Client, live: Services) -> None:
    match = live.hub.matches[0]
    html = await (await scorer_client.get(f"/matches/{match.id}")).get_data(as_text=True)
    for action in ("goal", "half_time", "undo"):
        assert f'"action": "{action}", "match": "{match.id}", "version": {match.version}' in html.replace("&#34;", '"')
    assert 'name="player"' in html and 'name="minute"' in html and 'value="red_card"' in html
    assert 'name="side" value="home"' in html and 'name="side" value="away"' in html


async def test_goal_card_and_undo_reach_the_row_and_timeline_of_every_watcher(
    scorer_client: Client, client: Client, live: Services
) -> None:
    match = live.hub.matches[4]
    detail = f"/ws?match={match.id}"
    async with (
        socket(scorer_client, detail) as scorer,
        socket(client, detail) as watcher,
        socket(client) as board,
    ):
        first = await asyncio.wait_for(watcher.receive(), 5)
        assert isinstance(first, str) and timeline_of(first, match.id) == ["Kick-off"]
        assert 'hx-target="#board"' not in first  # a detail page has no board to swap
        await scorer.receive()
        await board.receive()

        await send(scorer, action="goal", match=match.id, side="home", player="  Bukayo  Saka ", minute="23",
                   penalty="on", version=str(match.version))  # fmt: skip
        assert (await answer(scorer)).startswith("ok: Recorded goal")
        push = await receive_until(watcher, lambda m: "timeline-" in m)
        assert rows(push)[match.id].home_score == 1
        assert timeline_of(push, match.id) == ["Kick-off", f"23' Goal 1–0 {match.home} Bukayo Saka (pen)"]
        on_board = await receive_until(board, lambda m: match.id in m)
        assert "Bukayo Saka" in on_board and "timeline-" not in on_board

        await send(scorer, action="red_card", match=match.id, side="away", player="Reece James", minute="45+2",
                   version=str(match.version + 1))  # fmt: skip
        assert (await answer(scorer)).startswith("ok: Recorded red card")
        push = await receive_until(watcher, lambda m: "timeline-" in m)
        assert timeline_of(push, match.id)[-1] == f"45+2' Red card {match.away} Reece James"
        assert 'class="red-card fresh"' in push and "Reece James" in rows(push)[match.id].html

        await send(scorer, action="undo", match=match.id, version=str(match.version + 2))
        assert (await answer(scorer)).startswith("ok: Undid the last event")
        await send(scorer, action="undo", match=match.id, version=str(match.version + 3))
        assert (await answer(scorer)).startswith("ok: Undid the last event")
        push = await receive_until(watcher, lambda m: "timeline-" in m and "Saka" not in m)
        assert timeline_of(push, match.id) == ["Kick-off"]
        assert rows(push)[match.id].home_score == 0
        on_board = await receive_until(board, lambda m: match.id in m and "Saka" not in m)
        assert rows(on_board)[match.id].home_score == 0

    log = await live.store.events(match.id)
    assert [e.kind for e in log] == ["kick_off", "goal", "red_card", "undo", "undo"]  # the audit trail keeps all
    assert (await live.store.get_match(match.id)) == replay(match, log)


async def test_status_changes_follow_the_order_and_refusals_change_nothing(
    scorer_client: Client, live: Services
) -> None:
    match = live.hub.matches[1]
    async with socket(scorer_client, f"/ws?match={match.id}") as scorer:
        await scorer.receive()
        await send(scorer, action="second_half", match=match.id)
        assert "Cannot record second half while the match is in the first half" in await answer(scorer)
        await send(scorer, action="goal", match=match.id, side="home", minute="50")
        assert "between 1 and 45" in await answer(scorer)
        await send(scorer, action="half_time", match=match.id, version=str(match.version))
        assert (await answer(scorer)).startswith("ok: Recorded half time")
        await send(scorer, action="goal", match=match.id, side="home")
        assert "at half-time: goals and cards need the ball in play" in await answer(scorer)
        await send(scorer, action="undo", match=match.id, version=str(match.version))
        assert "changed since" in await answer(scorer)  # a stale page cannot undo someone else's event
        await send(scorer, action="second_half", match=match.id, version=str(match.version + 1))
        push = await receive_until(scorer, lambda m: "timeline-" in m and "Second half" in m)
        assert timeline_of(push, match.id)[-2:] == ["1' Half-time 0–0", "Second half"]
    assert [e.kind for e in await live.store.events(match.id)] == ["kick_off", "half_time", "second_half"]


async def test_nothing_to_undo_is_refused(scorer_client: Client, live: Services) -> None:
    match = live.hub.matches[3]
    async with socket(scorer_client) as scorer:
        await scorer.receive()
        await send(scorer, action="undo", match=match.id)
        assert (await answer(scorer)).startswith("ok: ")  # the kick-off
        await send(scorer, action="undo", match=match.id)
        assert "There is nothing to undo" in await answer(scorer)
    assert len(await live.store.events(match.id)) == 2


async def test_a_viewer_cannot_record_and_names_are_escaped(
    scorer_client: Client, client: Client, live: Services
) -> None:
    match = live.hub.matches[6]
    async with socket(client, f"/ws?match={match.id}") as viewer, socket(scorer_client) as scorer:
        await viewer.receive()
        await scorer.receive()
        await send(viewer, action="undo", match=match.id)
        assert "Only signed-in scorers" in await answer(viewer)
        await send(scorer, action="yellow_card", match=match.id, side="away", player="<img src=x onerror=alert(1)>")
        push = await receive_until(viewer, lambda m: "timeline-" in m)
    assert "<img" not in push
    assert '<bdi class="player">&lt;img src=x onerror=alert(1)&gt;</bdi>' in push


async def test_a_socket_for_an_unknown_match_is_refused(client: Client) -> None:
    async with socket(client, "/ws?match=no-such-match") as ws:
        assert await close_code(ws) == 404


async def test_a_timeline_is_rendered_once_per_change_and_only_while_watched(
    scorer_client: Client, client: Client, live: Services
) -> None:
    watched, unwatched = live.hub.matches[7], live.hub.matches[8]
    rendered: list[str] = []
    original = live.hub.renderer.timeline

    def counting(match: Match) -> RenderedTimeline:
        rendered.append(match.id)
        return original(match)

    live.hub.renderer.timeline = counting  # type: ignore[method-assign]
    detail = f"/ws?match={watched.id}"
    async with socket(scorer_client) as scorer, socket(client, detail) as a, socket(client, detail) as b:
        for ws in (scorer, a, b):
            await ws.receive()
        rendered.clear()
        await send(scorer, action="goal", match=watched.id, side="away")
        await send(scorer, action="goal", match=unwatched.id, side="away")
        for ws in (a, b):
            await receive_until(ws, lambda m: "timeline-" in m)
        await answer(scorer)
        await answer(scorer)
    assert rendered == [watched.id]


async def test_the_clock_moves_on_without_anyone_scoring(config: Config) -> None:
    app = create_app(replace(config, clock_interval_seconds=0.1))
    async with app.test_app():
        live: Services = app.extensions[EXTENSION_KEY]
        fixture = Match("clocktest", "Leeds", "Everton", datetime.now(UTC))
        await live.store.add_fixtures([("clock-test", fixture)])
        # Kicked off 59.7 s ago: the clock shows 1' now and 2' within a second.
        started = datetime.now(UTC) - timedelta(seconds=59.7)
        match, _ = await live.store.record(fixture.id, Event("kick_off", started))
        live.hub.apply(match)
        await live.hub.delivered()  # the kick-off's own push is not the tick this test waits for
        client = app.test_client()
        async with (
            socket(client, f"/ws?match={fixture.id}") as ws,
            client.request(f"/api/stream?match={fixture.id}") as feed,
        ):
            first = await asyncio.wait_for(ws.receive(), 5)
            assert isinstance(first, str) and texts(first, "clock") == ["1'"]
            # The page counts the minutes itself, from when the half began.
            assert f'data-since="{started.isoformat()}" data-from="0" data-length="45"' in first
            await feed.send_complete()
            [(_, snapshot)] = await read_events(feed, 1)
            assert json.loads(snapshot)[0]["clock"] == "1'"
            [(name, moved)] = await read_events(feed, 1)  # the JSON feed is told the new minute
            assert name == "match" and json.loads(moved)["clock"] == "2'"
            with pytest.raises(TimeoutError):  # a page socket is not: a minute costs it nothing
                await asyncio.wait_for(ws.receive(), 0.5)
            await feed.disconnect()
        page = await (await client.get(f"/matches/{fixture.id}")).get_data(as_text=True)
        assert texts(page, "clock")[0] == "2'"  # a page made now shows the new minute


async def test_the_simulator_plays_matches_through_the_scorers_write_path(client: Client, live: Services) -> None:
    chosen = [m.id for m in live.hub.matches[:2]]
    simulator = Simulator(live.scoreboard, speed=100_000, rng=random.Random(4))
    async with socket(client, f"/ws?match={chosen[0]}") as watcher:
        await watcher.receive()
        await simulator.run(chosen)
        push = await receive_until(watcher, lambda m: "Full-time" in m, limit=200)
    assert timeline_of(push, chosen[0])[-1].split()[1:2] == ["Full-time"]
    for match_id in chosen:
        stored = await live.store.get_match(match_id)
        log = await live.store.events(match_id)
        assert stored is not None and stored.status == "full_time"
        assert stored == replay(stored, log)
        assert {e.recorded_by for e in log[1:]} == {"simulator"}
        assert live.hub.rows[match_id].match == stored


async def test_matches_added_by_another_process_appear_on_open_boards(config: Config) -> None:
    app = create_app(replace(config, store_poll_seconds=0.1))
    async with app.test_app(), socket(app.test_client()) as ws:
        await ws.receive()
        # What `livescores fixtures load` does from its own process, with the in-process bus.
        kickoff = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        other = replace(config, create_demo_matches=False)
        async with open_scoreboard(other) as scoreboard:
            added = await scoreboard.add_fixtures(
                [(fixture_key("Derby", "Stoke", kickoff), Match("derby1", "Derby", "Stoke", kickoff))]
            )
        assert [m.id for m in added] == ["derby1"]
        snapshot = await receive_until(ws, lambda m: "derby1" in m)
    assert snapshot.startswith('<hx-partial hx-target="#board"')
    assert len(rows(snapshot)) == 11
    assert f'<time datetime="{kickoff.isoformat()}" data-local="short">{kickoff:%a %H:%M} UTC</time>' in snapshot


async def test_sign_in_reaches_the_detail_page(app: object, live: Services) -> None:
    client = app.test_client()  # type: ignore[attr-defined]
    await sign_in(client, name="Robin")
    html = await (await client.get(f"/matches/{live.hub.matches[0].id}")).get_data(as_text=True)
    assert "Scoring as <strong>Robin</strong>" in html and "Undo: <bdi>Kick-off</bdi>" in html
