"""Limits a hostile or careless client runs into: floods, stale clicks, too many sockets, names."""

from __future__ import annotations

import asyncio
import html
import json
from dataclasses import replace

from markupsafe import escape
from quart.typing import TestClientProtocol as Client

from livescores import create_app
from livescores.config import Config
from livescores.matches import Match
from livescores.services import Services

from .pages import feedback, rows
from .support import close_code, goal, receive_until, sign_in, socket


async def test_a_flood_beyond_the_rate_limit_is_told_to_slow_down(scorer_client: Client, live: Services) -> None:
    match = live.hub.matches[0]
    notes = []
    async with socket(scorer_client) as ws:
        await ws.receive()
        for _ in range(60):
            await goal(ws, match.id)
        await asyncio.sleep(2.5)  # the bucket refills
        await ws.send(json.dumps({"action": "goal", "match": "marker", "side": "home"}))
        while "no match" not in str(notes[-1:]):
            if note := feedback(str(await asyncio.wait_for(ws.receive(), 5))):
                notes.append(note)
    assert any("Slow down" in note for note in notes)
    stored = await live.store.get_match(match.id)
    assert stored is not None
    # The burst of 20 went through, plus what refilled at 10 a second while the flood was read.
    assert 20 <= stored.home_score < 40


async def test_a_stale_click_is_refused_and_changes_nothing(scorer_client: Client, live: Services) -> None:
    match = live.hub.matches[2]
    async with socket(scorer_client) as first, socket(scorer_client) as second:
        await first.receive()
        await second.receive()
        await goal(first, match.id, version=match.version)
        await receive_until(first, lambda m: "ok" in str(feedback(m)))
        # A second scorer clicks the same goal from the row they were shown before it.
        await goal(second, match.id, version=match.version)
        answer = await receive_until(second, lambda m: feedback(m) is not None)
        assert "The match changed since you looked — check and click again." in answer
        # A click from the re-rendered row, which carries the new version, works.
        await goal(second, match.id, version=match.version + 1)
        await receive_until(second, lambda m: "ok" in str(feedback(m)))
    stored = await live.store.get_match(match.id)
    assert stored is not None and stored.home_score == 2


async def test_the_rows_carry_the_version_the_click_is_checked_against(scorer_client: Client, live: Services) -> None:
    match = live.hub.matches[0]
    async with socket(scorer_client) as ws:
        await ws.receive()
        await goal(ws, match.id, version=match.version)
        push = await receive_until(ws, lambda m: f"#match-{match.id}" in m)
    assert f'"version": {match.version + 1}' in html.unescape(push)


async def test_sockets_beyond_the_cap_are_refused_with_1013(config: Config) -> None:
    capped = create_app(replace(config, max_sockets=2))
    async with capped.test_app():
        client = capped.test_client()
        async with socket(client) as one, socket(client) as two:
            await one.receive()
            await two.receive()
            async with socket(client) as three:
                assert await close_code(three) == 1013  # type: ignore[arg-type]
        async with socket(client) as again:
            assert len(rows(str(await again.receive()))) == 10


async def test_a_socket_that_keeps_sending_garbage_is_closed_with_1008(config: Config) -> None:
    lenient = create_app(replace(config, scoring_rate=10_000, scoring_burst=10_000))
    async with lenient.test_app():
        client = lenient.test_client()
        await sign_in(client)
        async with socket(client) as ws:
            await ws.receive()
            for _ in range(100):
                await ws.send("garbage")
            assert await close_code(ws) == 1008  # type: ignore[arg-type]


HOSTILE_NAMES = [
    '<script>alert("x")</script>',
    'Tom & Jerry\'s "United"',
    "\u202eRight-to-left FC\u202c",
    "W" * 40,
    "<img src=x onerror=alert(1)>",
]


async def test_hostile_team_names_render_as_text(app: object, live: Services) -> None:
    fixtures = [
        (f"hostile-{n}", Match(id=f"hostile{n}", home=name, away=HOSTILE_NAMES[-1 - n]))
        for n, name in enumerate(HOSTILE_NAMES)
    ]
    await live.store.add_fixtures(fixtures)
    await live.hub.load(await live.store.all_matches())
    client = app.test_client()  # type: ignore[attr-defined]
    page = await (await client.get("/")).get_data(as_text=True)
    for name in HOSTILE_NAMES:
        assert f"<bdi>{escape(name)}</bdi>" in page
    assert "<script>alert" not in page and "<img src=x" not in page
    board = rows(page)
    assert board["hostile0"].home == HOSTILE_NAMES[0]
    async with socket(client) as ws:
        snapshot = str(await ws.receive())
    assert "<script>alert" not in snapshot and escape(HOSTILE_NAMES[1]) in snapshot


async def test_a_name_with_control_characters_or_too_long_is_refused(scorer_client: Client, live: Services) -> None:
    match = live.hub.matches[0]
    async with socket(scorer_client) as ws:
        await ws.receive()
        for player in ("x" * 41, "bad\x00name"):
            await ws.send(json.dumps({"action": "goal", "match": match.id, "side": "home", "player": player}))
            assert str(feedback(str(await ws.receive()))).startswith("error: ")
    assert await live.store.get_match(match.id) == match
