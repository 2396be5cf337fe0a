"""The live loop through Quart's test client: page, snapshot, pushes, and refusals."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from quart.typing import TestClientProtocol as Client

from livescores.fixtures import DEMO_TEAMS
from livescores.services import Services

from .pages import feedback, rows
from .support import close_code, goal, receive_until, sign_in, socket


async def test_page_renders_the_whole_board_on_the_server(client: Client) -> None:
    response = await client.get("/")
    html = await response.get_data(as_text=True)
    board = rows(html)
    assert len(board) == 10
    teams = sorted(name for row in board.values() for name in (row.home, row.away))
    assert teams == sorted(DEMO_TEAMS)
    assert all(row.home_score == 0 and row.away_score == 0 for row in board.values())
    assert 'hx-ws:connect="/ws"' in html and 'hx-swap="none"' in html
    assert "/static/htmx-4.0.1.min.js" in html and "/static/hx-ws-4.0.1.min.js" in html
    for match_id in board:
        assert f'id="match-{match_id}"' in html


async def test_vendored_htmx_is_served(client: Client) -> None:
    for name in ("htmx-4.0.1.min.js", "hx-ws-4.0.1.min.js", "htmx-LICENSE.txt"):
        response = await client.get(f"/static/{name}")
        assert response.status_code == 200, name


async def test_socket_receives_the_full_board_on_connect(client: Client) -> None:
    async with socket(client) as ws:
        snapshot = await asyncio.wait_for(ws.receive(), 5)
    assert isinstance(snapshot, str)
    assert snapshot.startswith('<hx-partial hx-target="#board" hx-swap="innerHTML">')
    assert len(rows(snapshot)) == 10


async def test_a_goal_reaches_every_socket_with_the_new_row(
    scorer_client: Client, client: Client, live: Services
) -> None:
    match = live.hub.matches[3]
    async with socket(scorer_client) as scorer, socket(client) as viewer_a, socket(client) as viewer_b:
        for ws in (scorer, viewer_a, viewer_b):
            await ws.receive()  # the snapshot
        await goal(scorer, match.id, "away")
        for ws in (viewer_a, viewer_b, scorer):
            push = await receive_until(ws, lambda m: match.id in m)
            row = rows(push)[match.id]
            assert (row.home_score, row.away_score) == (0, 1)
            assert push.startswith(f'<hx-partial hx-target="#match-{match.id}" hx-swap="outerHTML">')
            assert 'class="score away changed"' in push
    stored = await live.store.get_match(match.id)
    assert stored is not None and stored.away_score == 1


async def test_the_push_is_rendered_once_per_goal_not_per_client(
    scorer_client: Client, client: Client, live: Services
) -> None:
    match = live.hub.matches[0]
    calls = 0
    original = live.hub.renderer.render

    def counting(*args: object, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        return original(*args, **kwargs)  # type: ignore[arg-type]

    live.hub.renderer.render = counting  # type: ignore[method-assign]
    async with socket(scorer_client) as scorer, socket(client) as a, socket(client) as b, socket(client) as c:
        for ws in (scorer, a, b, c):
            await ws.receive()
        await goal(scorer, match.id)
        for ws in (a, b, c):
            await receive_until(ws, lambda m: match.id in m)
    assert calls == 1


async def test_bad_messages_change_nothing_and_tell_the_sender_why(
    scorer_client: Client, client: Client, live: Services
) -> None:
    match = live.hub.matches[0]
    before = await live.store.all_matches()
    bad_messages: list[str | bytes] = [
        "not json",
        "[1, 2, 3]",
        json.dumps({"action": "goal", "side": "home"}),
        json.dumps({"action": "goal", "match": match.id}),
        json.dumps({"action": "goal", "match": match.id, "side": "middle"}),
        json.dumps({"action": "goal", "match": "no-such-match", "side": "home"}),
        json.dumps({"action": "goal", "match": 42, "side": "home"}),
        json.dumps({"action": "teleport", "match": match.id, "side": "home"}),
        json.dumps({"action": "goal", "match": match.id, "side": "home", "minute": "soon"}),
        json.dumps({"action": "goal", "match": match.id, "side": "home", "version": -1}),
        b"\xff\xfe binary garbage",
    ]
    async with socket(scorer_client) as scorer, socket(client) as viewer:
        await scorer.receive()
        await viewer.receive()
        for bad in bad_messages:
            await scorer.send(bad)
            answer = await asyncio.wait_for(scorer.receive(), 5)
            assert isinstance(answer, str)
            note = feedback(answer)
            assert note is not None and note.startswith("error: "), (bad, answer)
        # The connection is still open and still works for a valid goal.
        await goal(scorer, match.id)
        assert rows(await receive_until(scorer, lambda m: match.id in m))[match.id].home_score == 1
        # The viewer saw only the valid goal, never an error meant for the scorer.
        only = await asyncio.wait_for(viewer.receive(), 5)
        assert feedback(only) is None and rows(only)[match.id].home_score == 1
    after = await live.store.all_matches()
    assert [m.version for m in after] == [m.version + (m.id == match.id) for m in before]


async def test_an_oversized_message_is_refused_and_closes_with_1009(scorer_client: Client, live: Services) -> None:
    match = live.hub.matches[0]
    async with socket(scorer_client) as scorer:
        await scorer.receive()
        await scorer.send(json.dumps({"action": "goal", "match": match.id, "side": "home", "pad": "x" * 5000}))
        answer = await asyncio.wait_for(scorer.receive(), 5)
        assert "limit is 4096" in str(feedback(answer))
        closed = await close_code(scorer)
    assert closed == 1009
    assert (await live.store.get_match(match.id)) == match


async def test_scores_survive_a_restart_on_the_same_database(config: object, app: object) -> None:
    from livescores import create_app

    async with socket_goal(app) as match_id:  # type: ignore[arg-type]
        pass
    second = create_app(config)  # type: ignore[arg-type]
    async with second.test_app():
        html = await (await second.test_client().get("/")).get_data(as_text=True)
    assert rows(html)[match_id].home_score == 1


@asynccontextmanager
async def socket_goal(app: object) -> AsyncIterator[str]:
    client = app.test_client()  # type: ignore[attr-defined]
    await sign_in(client)
    async with socket(client) as ws:
        snapshot = await ws.receive()
        match_id = next(iter(rows(snapshot)))
        await goal(ws, match_id)
        await receive_until(ws, lambda m: match_id in m)
        yield match_id


async def test_concurrent_goals_from_many_sockets_each_count_once(app: object, live: Services) -> None:
    match = live.hub.matches[5]
    clients = []
    for index in range(10):
        client = app.test_client()  # type: ignore[attr-defined]
        await sign_in(client, name=f"scorer{index}")
        clients.append(client)

    async def twenty_goals(client: Client) -> None:
        async with socket(client) as ws:
            await ws.receive()
            await asyncio.gather(*(goal(ws, match.id, "home" if n % 2 else "away") for n in range(20)))
            acknowledged = 0
            while acknowledged < 20:
                message = await asyncio.wait_for(ws.receive(), 10)
                acknowledged += str(feedback(str(message))).startswith("ok: ")

    await asyncio.gather(*(twenty_goals(c) for c in clients))
    stored = await live.store.get_match(match.id)
    assert stored is not None
    assert stored.home_score + stored.away_score == 200
    assert (stored.home_score, stored.away_score) == (100, 100)
    assert len(await live.store.events(match.id)) == 1 + 200  # the kick-off and every goal
