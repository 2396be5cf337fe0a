"""A pass whose rows fail to render loses nothing: the scorer is told the change is stored
but not shown, the rest goes out, and the match's next change reaches every socket."""

from __future__ import annotations

import asyncio
import dataclasses
import logging

import pytest
from jinja2 import ChoiceLoader, DictLoader, Environment
from quart import Quart
from quart.typing import TestClientProtocol as Client

from livescores.broadcaster import PASS_TRIES
from livescores.hub import Connection, NotShown
from livescores.matches import Match
from livescores.render import Renderer
from livescores.services import Services

from .pages import feedback, rows
from .support import goal, receive_until, socket

ROW = "_match_row.html"


def renderer_failing_at(app: Quart, match: Match) -> Renderer:
    """The app's own row template, with a bug that only one version of one match reaches:
    the name of a field the match does not have."""
    loader = app.jinja_env.loader
    assert loader is not None
    source = loader.get_source(app.jinja_env, ROW)[0]
    reached = f'match.id == "{match.id}" and match.version == {match.version}'
    bug = "{% if " + reached + " %}{{ match.no_such.field }}{% endif %}"
    env: Environment = app.jinja_env.overlay(loader=ChoiceLoader([DictLoader({ROW: bug + source}), loader]))
    return Renderer(env)


class Received:
    def __init__(self) -> None:
        self.messages: list[str] = []

    async def send(self, message: str) -> None:
        self.messages.append(message)

    def latest(self, match_id: str) -> tuple[int, int] | None:
        """The version and home score of the row this socket was sent last, snapshots included."""
        found = [rows(message)[match_id] for message in self.messages if f'data-match-id="{match_id}"' in message]
        return (found[-1].version, found[-1].home_score) if found else None


async def settle(live: Services) -> None:
    """Until every pass, retries included, has run."""
    for _ in range(200):
        try:
            await live.hub.delivered()
        except NotShown:
            continue
        break
    for _ in range(5):  # the outboxes' flush tasks
        await asyncio.sleep(0)


async def test_a_goal_that_cannot_be_shown_is_reported_stored_and_the_next_change_goes_out(
    app: Quart, scorer_client: Client, client: Client, live: Services, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "livescores")
    match, other = live.hub.matches[:2]
    live.hub.renderer = renderer_failing_at(app, dataclasses.replace(match, version=match.version + 1))
    async with socket(scorer_client) as scorer, socket(client) as viewer:
        for ws in (scorer, viewer):
            await ws.receive()  # the snapshot
        await goal(scorer, match.id)
        told = await receive_until(scorer, lambda m: feedback(m) is not None)
        assert feedback(told) == (
            f"error: Recorded goal: {match.home} 1–0 {match.away}. "
            "It is stored, but the pages could not be updated yet: do not send it again."
        )
        stored = {m.id: m for m in await live.store.all_matches()}[match.id]
        assert (stored.version, stored.home_score) == (match.version + 1, 1)
        assert any(r.levelname == "ERROR" and r.exc_info and "a pass failed" in r.getMessage() for r in caplog.records)

        await goal(scorer, other.id, "away")  # the socket stays open, and other matches go on
        for ws in (viewer, scorer):
            pushed = rows(await receive_until(ws, lambda m: other.id in m))[other.id]
            assert (pushed.version, pushed.away_score) == (other.version + 1, 1)

        await settle(live)  # the failing version is tried again, then given up
        assert any(f"gave up v{match.version + 1} of {match.id}" in r.getMessage() for r in caplog.records)
        await goal(scorer, match.id)
        seen: list[str] = []  # the scorer's own row comes before its feedback
        await receive_until(scorer, lambda m: seen.append(m) or feedback(m) is not None)
        assert feedback(seen[-1]) == f"ok: Recorded goal: {match.home} 2–0 {match.away}"
        for pushed in (
            rows("".join(seen))[match.id],
            rows(await receive_until(viewer, lambda m: match.id in m))[match.id],
        ):
            assert (pushed.version, pushed.home_score) == (match.version + 2, 2)


async def test_the_rows_of_a_failed_pass_go_again_and_only_the_failing_one_is_given_up(
    app: Quart, live: Services, caplog: pytest.LogCaptureFixture
) -> None:
    match, other = live.hub.matches[:2]
    sinks = [Received() for _ in range(3)]
    for sink in sinks:
        live.hub.attach(Connection("viewer", sink.send, 10.0))
    await settle(live)
    failing = dataclasses.replace(match, version=match.version + 1, home_score=1)
    live.hub.renderer = renderer_failing_at(app, failing)
    # Both in one pass: the failing row takes the other down with it, for that pass only.
    live.hub.apply(failing, "home")
    live.hub.apply(dataclasses.replace(other, version=other.version + 1, home_score=1), "home")
    with pytest.raises(NotShown):
        await live.hub.delivered()
    assert all(sink.latest(other.id) == (other.version, 0) for sink in sinks), "the failed pass sent nothing"
    await settle(live)
    gave_up = [r for r in caplog.records if "gave up" in r.getMessage()]
    assert [r.getMessage() for r in gave_up] == [
        f"hub: gave up v{failing.version} of {match.id} after {PASS_TRIES} failed passes"
    ]
    failed = [r for r in caplog.records if "a pass failed" in r.getMessage()]
    assert len(failed) == PASS_TRIES, "no pass is tried again sooner or longer than that"
    for sink in sinks:
        assert sink.latest(other.id) == (other.version + 1, 1)
        assert sink.latest(match.id) == (match.version, 0), "the snapshot's row, until the next version"
    live.hub.apply(dataclasses.replace(failing, version=failing.version + 1, home_score=2), "home")
    await live.hub.delivered()
    await settle(live)
    assert all(sink.latest(match.id) == (failing.version + 1, 2) for sink in sinks)
