"""Thousands of random and edge-case messages thrown at a real socket: every one gets an
answer, nothing escapes as an exception, and state changes only for accepted events."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from quart.testing.connections import TestWebsocketConnection as WebSocket

from livescores import create_app
from livescores.config import Config
from livescores.services import EXTENSION_KEY, Services

from .pages import feedback
from .support import SCORER_TOKEN, sign_in

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=15,
)
FIELD_VALUES = st.one_of(JSON, st.sampled_from(["", "home", "away", "on", "45", "-1", "1e9", "\u0000", "x" * 41]))


ORIGIN = {"Origin": "http://localhost"}


def messages(match_ids: list[str]) -> st.SearchStrategy[str | bytes]:
    shaped = st.fixed_dictionaries(
        {},
        optional={
            "action": st.sampled_from(["goal", "yellow_card", "red_card", "undo", "kick_off", "nope"]) | FIELD_VALUES,
            "match": st.sampled_from([*match_ids, "unknown", ""]) | FIELD_VALUES,
            "side": st.sampled_from(["home", "away", "middle"]) | FIELD_VALUES,
            "player": FIELD_VALUES,
            "minute": FIELD_VALUES,
            "added": FIELD_VALUES,
            "version": FIELD_VALUES,
            "penalty": FIELD_VALUES,
            "headers": FIELD_VALUES,
        },
    )
    return st.one_of(
        st.binary(min_size=1, max_size=300),  # an empty frame is tested on a real server
        st.text(max_size=300),
        JSON.map(json.dumps),
        shaped.map(json.dumps),
        st.sampled_from(["", "{", "null", "[]", '{"match": null}', "\ud800".encode("utf-8", "surrogatepass").hex()]),
    )


def valid_goal(match_ids: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"action": st.just("goal"), "match": st.sampled_from(match_ids), "side": st.sampled_from(["home", "away"])}
    )


async def exchange(ws: WebSocket, message: str | bytes) -> str:
    """Send one message and read until its answer (the feedback line) arrives."""
    await ws.send(message)
    while True:
        answer = feedback(str(await asyncio.wait_for(ws.receive(), 5)))
        if answer is not None:
            return answer


async def total_version(live: Services) -> int:
    return sum(match.version for match in await live.store.all_matches())


def test_random_messages_change_state_only_when_accepted(tmp_path: Path) -> None:
    config = Config(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'fuzz.db'}",
        scorer_token=SCORER_TOKEN,
        secret_key="fuzz",
        clock_interval_seconds=3600,
        demo="draw",
    )
    config = replace(config, scoring_rate=1_000_000, scoring_burst=1_000_000)
    with asyncio.Runner() as runner:
        app = create_app(config)
        harness = app.test_app()
        runner.run(harness.__aenter__())
        live: Services = app.extensions[EXTENSION_KEY]
        match_ids = [match.id for match in live.hub.matches]
        scorer_client, viewer_client = app.test_client(), app.test_client()
        runner.run(sign_in(scorer_client))

        async def check(batch: list[str | bytes], goal: dict[str, Any]) -> None:
            # Fresh sockets for each batch: a socket refused 100 times in a row is closed as hostile.
            async with (
                viewer_client.websocket("/ws", headers=ORIGIN) as viewer,
                scorer_client.websocket("/ws", headers=ORIGIN) as scorer,
            ):
                await viewer.receive()
                await scorer.receive()
                await exchange_all(batch, viewer, scorer)  # type: ignore[arg-type]
                # A valid goal always counts, once, for the side it names.
                before_match = await live.store.get_match(goal["match"])
                assert before_match is not None
                answer = await exchange(scorer, json.dumps(goal))  # type: ignore[arg-type]
                after_match = await live.store.get_match(goal["match"])
                assert after_match is not None
                if before_match.in_play:
                    assert answer.startswith("ok: "), answer
                    assert after_match.score(goal["side"]) == before_match.score(goal["side"]) + 1
                else:
                    assert answer.startswith("error: ") and after_match == before_match

        async def exchange_all(batch: list[str | bytes], viewer: WebSocket, scorer: WebSocket) -> None:
            for message in batch:
                before = await total_version(live)
                answer = await exchange(viewer, message)
                assert answer.startswith("error: ") and await total_version(live) == before
                answer = await exchange(scorer, message)
                accepted = answer.startswith("ok: ")
                assert answer.startswith(("ok: ", "error: ")), answer
                assert await total_version(live) == before + accepted, (message, answer)

        @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
        @given(batch=st.lists(messages(match_ids), min_size=1, max_size=25), goal=valid_goal(match_ids))
        def fuzz(batch: list[str | bytes], goal: dict[str, Any]) -> None:
            runner.run(check(batch, goal))

        try:
            fuzz()
        finally:
            runner.run(harness.__aexit__(None, None, None))
