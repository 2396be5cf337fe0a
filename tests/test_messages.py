"""Parsing what a scorer's form sends, as htmx 4's hx-ws serialises it."""

from __future__ import annotations

import json

import pytest

from livescores.matches import Minute
from livescores.messages import InvalidMessage, parse_command


def parse(**data: object) -> object:
    return parse_command(json.dumps({"match": "m1", **data, "headers": {"HX-Request": "true"}}), 4096)


def test_a_goal_form_as_htmx_sends_it() -> None:
    command = parse(action="goal", side="away", player=" Cole Palmer ", minute="45+2", penalty="on", version="7")
    assert command == parse_command(
        json.dumps({"match": "m1", "action": "goal", "side": "away", "player": "Cole Palmer", "minute": 45,
                    "added": 2, "penalty": True, "version": 7}),
        4096,
    )  # fmt: skip
    assert command.minute == Minute(45, 2)  # type: ignore[attr-defined]
    assert command.expected_version == 7  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("raw", "minute"), [("37", Minute(37)), ("37'", Minute(37)), (" 90 + 3' ", Minute(90, 3)), ("", None), (None, None)]
)
def test_minutes_as_typed(raw: object, minute: Minute | None) -> None:
    assert parse(action="red_card", side="home", minute=raw).minute == minute  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"minute": "soon"}, "minute must be a whole number"),
        ({"minute": "45+"}, "look like 37 or 45"),
        ({"minute": "45+2", "added": "3"}, "not both"),
        ({"minute": "121"}, "from 1 to 120"),
        ({"added": "2"}, "Added time needs a minute"),
        ({"player": "x" * 41}, "longer than 40"),
        ({"player": 7}, "must be text"),
        ({"penalty": "perhaps"}, "penalty flag must be true or false"),
        ({"version": "-1"}, "version must be a whole number"),
    ],
)
def test_bad_fields_are_refused_with_a_reason(data: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidMessage, match=message):
        parse(action="goal", side="home", **data)


def test_status_changes_and_undo_need_only_the_match() -> None:
    for action in ("kick_off", "half_time", "second_half", "full_time", "undo"):
        command = parse(action=action, side="home", player="ignored", version=3)
        assert (command.kind, command.side, command.player) == (action, None, None)  # type: ignore[attr-defined]
