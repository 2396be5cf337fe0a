"""Limits a hostile or careless client runs into: floods, stale clicks, too many sockets, names."""

from __future__ import annotations

import asyncio
import html
import json
import time
import urllib.request
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from markupsafe import escape
from quart.typing import TestClientProtocol as Client
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from livescores import create_app
from livescores.config import Config
from livescores.matches import Event, Match
from livescores.services import EXTENSION_KEY, Services

from .pages import feedback, rows
from .servers import start_server
from .support import close_code, goal, receive_until, sign_in, socket


async def test_a_flood_beyond_the_rate_limit_is_told_to_slow_down(scorer_client: Client, live: Services) -> None:
    match = live.hub.matches[0]
    notes = []
    async with socket(scorer_client) as ws:
        await ws.receive()
        started = time.monotonic()
        for _ in range(60):
            await goal(ws, match.id)
        await asyncio.sleep(2.5)  # the bucket refills
        await ws.send(json.dumps({"action": "goal", "match": "marker", "side": "home"}))
        while "no match" not in str(notes[-1:]):
            if note := feedback(str(await asyncio.wait_for(ws.receive(), 5))):
                notes.append(note)
        flood_read_within = time.monotonic() - started  # the flood was read before the marker
    assert any("Slow down" in note for note in notes)
    stored = await live.store.get_match(match.id)
    assert stored is not None
    # The burst of 20 went through, plus what refilled at 10 a second while the flood was read
    # (on a loaded machine reading it takes longer, and more refills), and never all 60.
    assert 20 <= stored.home_score <= min(59, 20 + 10 * flood_read_within)


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
        (f"hostile-{n}", Match(id=f"hostile{n}", home=name, away=HOSTILE_NAMES[-1 - n], kickoff=datetime.now(UTC)))
        for n, name in enumerate(HOSTILE_NAMES)
    ]
    await live.store.add_fixtures(fixtures)
    live.hub.load(await live.store.all_matches())
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


async def test_names_that_no_page_could_show_are_refused(scorer_client: Client, live: Services) -> None:
    # A lone surrogate is ASCII on the wire ("\ud800") but no page or frame can encode it.
    match = live.hub.matches[0]
    async with socket(scorer_client) as ws:
        await ws.receive()
        for raw in ('"\\ud800"', '"Saka\\udfff"', '"\\u200b\\u200d"', '"\\u200e \\u2066"'):
            await ws.send(f'{{"action": "goal", "match": "{match.id}", "side": "home", "player": {raw}}}')
            assert str(feedback(str(await ws.receive()))).startswith("error: "), raw
    assert await live.store.get_match(match.id) == match
    async with socket(scorer_client) as ws:  # the board still renders for everyone
        assert len(rows(str(await ws.receive()))) == 10


async def test_deeply_nested_json_is_an_invalid_message_not_a_server_error(
    scorer_client: Client, live: Services
) -> None:
    before = await live.store.all_matches()
    async with socket(scorer_client) as ws:
        await ws.receive()
        await ws.send("[" * 3000)
        assert "nests too deeply" in str(feedback(str(await ws.receive())))
        await goal(ws, live.hub.matches[0].id)  # still open, still scoring
        await receive_until(ws, lambda m: "ok" in str(feedback(m)))
    assert [m.version for m in await live.store.all_matches()] == [
        m.version + (m.id == live.hub.matches[0].id) for m in before
    ]


async def test_a_replay_of_queued_clicks_after_a_reconnect_does_not_close_the_socket(config: Config) -> None:
    # htmx sends up to 100 clicks queued while offline: stale or too fast, never hostile.
    app = create_app(config)
    async with app.test_app():
        client = app.test_client()
        await sign_in(client)
        live: Services = app.extensions[EXTENSION_KEY]
        match = live.hub.matches[0]
        async with socket(client) as ws:
            await ws.receive()
            for _ in range(150):
                await goal(ws, match.id, version=match.version + 1000)
            await asyncio.sleep(1.1)  # the bucket refills
            await goal(ws, match.id, version=match.version)
            # Feedback lines replace each other, so a page that lags gets only the latest ones.
            seen: list[str] = []
            await receive_until(ws, lambda m: seen.append(str(feedback(m))) or seen[-1].startswith("ok: "), 200)
            assert any("Slow down" in note for note in seen) or any("changed since you looked" in n for n in seen)
        stored = await live.store.get_match(match.id)
        assert stored is not None and stored.version == match.version + 1


async def test_a_stale_click_brings_the_sender_the_stored_row(config: Config) -> None:
    # Another worker recorded a goal that this one never heard of (its bus was down; the store
    # watcher, which would find it, is off).
    app = create_app(replace(config, store_poll_seconds=0))
    async with app.test_app():
        client = app.test_client()
        await sign_in(client)
        live: Services = app.extensions[EXTENSION_KEY]
        match = live.hub.matches[1]
        await live.store.record(match.id, Event("goal", datetime.now(UTC), "away", recorded_by="elsewhere"), None)
        async with socket(client) as ws:
            assert rows(str(await ws.receive()))[match.id].away_score == match.away_score
            await goal(ws, match.id, version=match.version)
            seen = await receive_until(ws, lambda m: match.id in rows(m))
            assert rows(seen)[match.id].away_score == match.away_score + 1
            assert rows(seen)[match.id].version == match.version + 1
            await goal(ws, match.id, version=match.version + 1)  # the click from the fresh row counts
            await receive_until(ws, lambda m: "ok" in str(feedback(m)))


@pytest.mark.slow
async def test_a_low_file_limit_caps_the_sockets_and_pages_still_load(tmp_path: Path) -> None:
    # 160 descriptors: 72 sockets, and the rest kept for the database and page requests. Past
    # the limit itself, the server could not accept a page's connection for a whole second.
    server = await asyncio.to_thread(start_server, tmp_path, file_limit=160)
    opened: list[ClientConnection] = []
    try:
        assert "limits: 72 sockets at most (file limit 160" in server.log()
        refused = 0
        for _ in range(110):
            ws = await connect(server.ws_url, open_timeout=10)
            opened.append(ws)
            try:
                await asyncio.wait_for(ws.recv(), 5)
            except ConnectionClosed as closed:
                assert closed.rcvd is not None and closed.rcvd.code == 1013
                refused += 1
        assert refused == 110 - (72 - 72 // 10)  # a tenth of what the file limit holds is the scorers' room
        for _ in range(20):
            started = time.monotonic()
            page = await asyncio.to_thread(urllib.request.urlopen, server.url + "/", timeout=5)
            assert page.status == 200 and time.monotonic() - started < 0.9
    finally:
        await asyncio.gather(*(ws.close() for ws in opened))
        await asyncio.to_thread(server.stop)
