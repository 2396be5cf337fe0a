"""Conversions to and from rows and JSON follow the dataclasses' fields."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from livescores import codec
from livescores.matches import Event, Incident, Match, Minute

AT = datetime(2026, 5, 1, 15, 0, tzinfo=UTC)
GOAL = Incident("goal", "home", "Walcott", Minute(45, 2), penalty=True)


@dataclass(frozen=True)
class Kick:
    taker: str
    scored: bool
    minute: Minute | None = None


@dataclass(frozen=True)
class Later:
    """The kinds of field a later release adds to a match's state or an event."""

    kicks: tuple[Kick, ...] = ()
    line_up: tuple[str, ...] = ()
    extra_time_at: datetime | None = None
    minute: Minute = Minute(90)  # noqa: RUF009 (frozen, so shared safely)
    count: int = 0


def test_new_kinds_of_field_go_to_json_and_back_without_any_conversion_written_for_them() -> None:
    later = Later((Kick("Ann", True, Minute(120, 3)), Kick("Bo", False)), ("Ann", "Bo"), AT, Minute(105, 1), 4)
    data = codec.encoder(Later)(later)
    assert json.loads(json.dumps(data)) == data
    assert data["kicks"][0] == {"taker": "Ann", "scored": True, "minute": {"base": 120, "added": 3}}
    assert codec.build(Later, json.loads(json.dumps(data))) == later
    assert codec.build(Later, {}) == Later()  # what an older row lacks takes its default


def test_a_type_with_no_json_form_is_refused_when_its_converter_is_made() -> None:
    @dataclass(frozen=True)
    class Odd:
        things: set[str]

    with pytest.raises(TypeError, match="No JSON form"):
        codec.encoder(Odd)


def test_the_stored_state_text_is_the_json_of_the_state_however_it_was_reached() -> None:
    match = Match("m", "A", "B", status="first_half", period_started_at=AT, incidents=(GOAL,))
    fresh = codec.stored_state(match, None)
    assert json.loads(fresh.state) == codec.state_to_json(match)
    assert list(codec.state_to_json(match))[-1] == "incidents"
    longer = replace(match, incidents=(GOAL, replace(GOAL, side="away", minute=Minute(50))), away_score=1)
    grown = codec.stored_state(longer, fresh)
    assert grown.state == codec.stored_state(longer, None).state
    assert codec.stored_state(match, grown).state == fresh.state  # an undo drops the last


def test_a_match_goes_to_a_row_and_between_workers_and_back() -> None:
    match = Match(
        "m",
        "A",
        "B",
        kickoff=AT,
        competition="Cup",
        version=3,
        status="second_half",
        period_started_at=AT + timedelta(hours=1),
        home_score=1,
        incidents=(GOAL,),
        competition_slug="cup",
        round="Final",
        group="Group C",
        leg=2,
        venue="Wembley",
        home_slug="a",
        away_slug="b",
    )
    assert codec.match_from_dict(json.loads(json.dumps(codec.match_to_dict(match)))) == match
    row = codec.match_columns(match)
    assert (row["group_name"], row["status"]) == ("Group C", "second_half")
    assert codec.match_from_row({**row, "state": json.dumps(row["state"]), "version": 3}) == match


def test_an_event_without_its_time_is_refused_by_name_not_given_the_present_time() -> None:
    event = Event("goal", AT, side="home", minute=Minute(3), recorded_by="ann")
    row = codec.event_row("m1", 4, event, AT)
    assert codec.event_from_row(row) == event
    with pytest.raises(codec.MissingTime, match=r"Event 4 of match 'm1' has no time"):
        codec.event_from_row({**row, "at": None})


def test_the_api_shows_minutes_as_football_writes_them() -> None:
    (incident,) = codec.match_json(Match("m", "A", "B", incidents=(GOAL,)), AT)["incidents"]
    assert incident["minute"] == "45+2'"
    entry = codec.event_json(1, Event("goal", AT, side="home", minute=Minute(45, 2), recorded_by="ann"))
    assert {key: value for key, value in entry.items() if value not in (None, False, [])} == {
        "version": 1,
        "kind": "goal",
        "at": AT.isoformat(),
        "side": "home",
        "minute": "45+2'",
    }
    assert "recorded_by" not in entry  # who recorded an event is not the public's business
