"""The JSON API, its change stream and the page's SSE fallback, against the same board."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import jsonschema
from quart.testing.connections import TestHTTPConnection as HTTPStream
from quart.typing import TestClientProtocol as Client

from livescores.services import Services

from .pages import rows
from .support import goal, receive_until, socket


async def read_events(connection: HTTPStream, count: int) -> list[tuple[str | None, str]]:
    """Read Server-Sent Events until `count` have data; (event name, data) pairs."""
    buffer = ""
    events: list[tuple[str | None, str]] = []
    while len(events) < count:
        buffer += (await asyncio.wait_for(connection.receive(), 5)).decode()
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            name = next((line[7:] for line in block.split("\n") if line.startswith("event: ")), None)
            data = "\n".join(line[6:] for line in block.split("\n") if line.startswith("data: "))
            if data:
                events.append((name, data))
    return events


def schema(document: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = document["components"]["schemas"][name]
    return found


async def test_the_api_lists_the_board_as_the_page_shows_it(client: Client) -> None:
    document = await (await client.get("/api/openapi.json")).get_json()
    body = await (await client.get("/api/matches")).get_json()
    page = rows(await (await client.get("/")).get_data(as_text=True))
    assert [m["id"] for m in body["matches"]] == list(page)
    for match in body["matches"]:
        jsonschema.validate(match, schema(document, "Match"))
        row = page[match["id"]]
        assert (match["home"], match["away"], match["home_score"], match["away_score"]) == (
            row.home,
            row.away,
            row.home_score,
            row.away_score,
        )
        assert match["status"] == "first_half" and match["version"] == 1


async def test_one_match_with_its_log_follows_a_goal(scorer_client: Client, client: Client, live: Services) -> None:
    match = live.hub.matches[4]
    async with socket(scorer_client) as ws:
        await ws.receive()
        await goal(ws, match.id, "away", player="Suárez", minute=23)
        await receive_until(ws, lambda m: "Recorded goal" in m)
    document = await (await client.get("/api/openapi.json")).get_json()
    body = await (await client.get(f"/api/matches/{match.id}")).get_json()
    jsonschema.validate(body["match"], schema(document, "Match"))
    for entry in body["log"]:
        jsonschema.validate(entry, schema(document, "LogEntry"))
    assert body["match"]["away_score"] == 1 and body["match"]["version"] == 2
    assert [entry["kind"] for entry in body["log"]] == ["kick_off", "goal"]
    assert body["log"][1]["player"] == "Suárez" and body["log"][1]["minute"] == "23'"
    assert "recorded_by" not in json.dumps(body)
    assert (await client.get("/api/matches/nope")).status_code == 404


async def test_the_json_stream_sends_the_board_then_every_change(
    scorer_client: Client, client: Client, live: Services
) -> None:
    match = live.hub.matches[0]
    async with client.request("/api/stream") as stream:
        await stream.send_complete()
        [(name, data)] = await read_events(stream, 1)
        assert name == "snapshot" and len(json.loads(data)) == 10
        async with socket(scorer_client) as ws:
            await ws.receive()
            await goal(ws, match.id)
            [(name, data)] = await read_events(stream, 1)
        assert name == "match"
        changed = json.loads(data)
        assert changed["id"] == match.id and changed["home_score"] == 1
        await stream.disconnect()


async def test_the_page_fallback_stream_carries_the_same_fragments_as_the_socket(
    scorer_client: Client, client: Client, live: Services
) -> None:
    match = live.hub.matches[1]
    async with client.request("/sse") as stream:
        await stream.send_complete()
        [(name, snapshot)] = await read_events(stream, 1)
        assert name is None
        assert snapshot == live.hub.snapshot("viewer")
        async with socket(scorer_client) as ws, socket(client) as viewer:
            await ws.receive()
            await viewer.receive()
            await goal(ws, match.id, "away")
            [(_, pushed)] = await read_events(stream, 1)
            by_socket = await receive_until(viewer, lambda m: match.id in m)
        assert pushed == by_socket
        assert rows(pushed)[match.id].away_score == 1 and "hx-ws:send" not in pushed
        await stream.disconnect()
    assert (await client.get("/sse?match=unknown")).status_code == 404


async def test_pages_are_told_how_many_people_watch(config: object, client: Client) -> None:
    from dataclasses import replace

    from livescores import create_app

    counted = create_app(replace(config, viewer_count_seconds=0.05))  # type: ignore[type-var]
    async with counted.test_app():
        viewers = counted.test_client()
        async with socket(viewers) as first, socket(viewers) as second:
            await first.receive()
            await second.receive()
            told = await receive_until(first, lambda m: 'hx-target="#viewers"' in m)
            assert ">2 watching</hx-partial>" in told
            async with counted.test_client().request("/api/stream") as feed:  # a feed is not a person
                await feed.send_complete()
                await asyncio.sleep(0.3)
                page = await (await viewers.get("/")).get_data(as_text=True)
                assert '<span class="viewers" id="viewers">2 watching</span>' in page
                await feed.disconnect()
        async with socket(viewers) as third:
            # A page back from a hidden tab learns the count with its snapshot, not a round later.
            assert 'hx-target="#viewers" hx-swap="innerHTML">2 watching</hx-partial>' in str(await third.receive())
            await receive_until(third, lambda m: ">1 watching</hx-partial>" in m)
