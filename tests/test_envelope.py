"""Bus messages in their typed envelope, and the templates a command-line process renders with."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import pytest

from livescores import create_app, envelope
from livescores.bus import MemoryBus, RedisBus
from livescores.cli import template_environment
from livescores.config import Config
from livescores.envelope import MatchChanged, Watching, decode, encode
from livescores.matches import Incident, Match, Minute
from livescores.render import Renderer

from .conftest import REDIS_TEST_URL

SCORED = Match(
    "m1",
    "Arsenal",
    "Chelsea",
    home_score=1,
    version=3,
    kickoff=datetime(2026, 11, 26, 20, tzinfo=UTC),
    incidents=(Incident("goal", "home", "Bukayo Saka", Minute(23)),),
)


def test_every_message_names_its_type_and_comes_back_as_it_went() -> None:
    for message in (MatchChanged(SCORED, "home"), MatchChanged(SCORED), Watching("worker-1", 1204)):
        text = encode(message)
        assert json.loads(text)["type"] in {"match", "watching"}
        assert decode(text) == message


def test_a_message_of_an_unknown_type_is_refused_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="livescores.envelope")
    envelope._refused_types.clear()
    newer = json.dumps({"type": "calendar", "day": "2026-11-26"})
    untyped = json.dumps({"worker": "w", "watching": 3})  # what a release without envelopes sent
    assert [decode(newer), decode(newer), decode(untyped)] == [None, None, None]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "bus: refused a message of type 'calendar' (and will refuse any more like it quietly)",
        "bus: refused a message without a type (and will refuse any more like it quietly)",
    ]


def test_a_known_type_with_wrong_contents_raises_for_the_listener_to_log() -> None:
    with pytest.raises(ValueError, match="not a side"):
        decode(json.dumps({"type": "match", "match": {}, "changed": "middle"}))
    with pytest.raises(KeyError):
        decode(json.dumps({"type": "watching", "worker": "w"}))


def test_only_a_bus_that_reaches_other_processes_says_it_is_shared() -> None:
    assert MemoryBus().shared is False
    assert RedisBus(REDIS_TEST_URL).shared is True  # no connection is made until it is used


def test_a_command_line_process_renders_rows_as_the_web_app_does() -> None:
    when = datetime(2026, 11, 26, 20, 30, tzinfo=UTC)
    web = Renderer(create_app(Config()).jinja_env)
    command_line = Renderer(template_environment())
    for role in ("viewer", "scorer"):
        assert command_line.row(SCORED, role, "home", when) == web.row(SCORED, role, "home", when)
