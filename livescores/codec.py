"""Every conversion of a match, an event, a competition or a team to and from rows and JSON.

The JSON of an event's payload and of a match's state follows the dataclasses' fields: the
converters are worked out once per class from its type hints, so a field added to `Event`,
`Incident` or `Match` (a primitive, a `Minute`, a datetime, a tuple of text or of frozen
dataclasses, or None of any of these) is stored, sent and read back with no change here. A
field a stored row lacks takes its dataclass default, so older rows still read.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Callable, Collection, Mapping
from dataclasses import fields, is_dataclass, replace
from datetime import UTC, datetime
from functools import cache
from operator import attrgetter
from typing import Any, Literal, NamedTuple, TypeVar, get_args, get_origin, get_type_hints

from .accounts import Audit
from .calendar import Competition, Team
from .matches import Event, Incident, Match, Minute, clock_label

T = TypeVar("T")
Convert = Callable[[Any], Any]
Style = Literal["stored", "api"]  # the API shows a minute as football writes it: "45+2'"

# A match's fields that are columns of its row; every other field is its state, kept as JSON.
FIXTURE_COLUMNS: dict[str, str] = {
    "id": "id",
    "home": "home",
    "away": "away",
    "kickoff": "kickoff",
    "competition": "competition",
    "version": "version",
    "competition_slug": "competition_slug",
    "round": "round",
    "group": "group_name",  # GROUP is a keyword of SQL
    "leg": "leg",
    "venue": "venue",
    "home_slug": "home_slug",
    "away_slug": "away_slug",
}
EVENT_COLUMNS = frozenset({"kind", "at", "recorded_by"})  # the rest of an event is its payload


def aware(value: datetime) -> datetime:
    """Times are stored in UTC; SQLite gives them back without their zone."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def utc(value: datetime) -> datetime:
    """A time as it is stored: SQLite keeps a time's digits and drops its zone."""
    return aware(value).astimezone(UTC)


def _converters(hint: Any, style: Style) -> tuple[Convert | None, Convert | None]:
    """To JSON and from JSON for a value of this type; None where the value is JSON already."""
    origin = get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        (inner,) = [arg for arg in get_args(hint) if arg is not type(None)]
        to_json, from_json = _converters(inner, style)
        return (
            None if to_json is None else lambda value: None if value is None else to_json(value),
            None if from_json is None else lambda value: None if value is None else from_json(value),
        )
    if origin is tuple:
        item, ellipsis = get_args(hint)
        assert ellipsis is Ellipsis, f"only tuple[X, ...] is stored, not {hint}"
        item_to, item_from = _converters(item, style)
        return (
            list if item_to is None else lambda value: [item_to(each) for each in value],
            tuple if item_from is None else lambda value: tuple(item_from(each) for each in value),
        )
    if hint is datetime:
        return datetime.isoformat, lambda value: aware(datetime.fromisoformat(value))
    if hint is Minute and style == "api":
        return str, None
    if isinstance(hint, type) and is_dataclass(hint):
        make = decoder(hint)
        return encoder(hint, style=style), lambda value: hint(**make(value))
    if origin is Literal or hint in (str, int, float, bool):
        return None, None
    raise TypeError(f"No JSON form for {hint!r}: add one to codec._converters.")


@cache
def encoder(cls: type, skip: frozenset[str] = frozenset(), style: Style = "stored") -> Callable[[Any], dict[str, Any]]:
    """An instance of the dataclass as a JSON object, its fields in order (but `skip`)."""
    hints = get_type_hints(cls)
    names = tuple(f.name for f in fields(cls) if f.name not in skip)
    converts = tuple(_converters(hints[name], style)[0] for name in names)
    values = attrgetter(*names) if len(names) > 1 else (lambda obj: (getattr(obj, names[0]),))
    # By hand rather than dataclasses.asdict: a match's state is written with every event, and
    # asdict's generic recursion was once the most expensive step of a write.
    return lambda obj: {
        name: value if convert is None else convert(value)
        for name, convert, value in zip(names, converts, values(obj), strict=True)
    }


@cache
def decoder(cls: type[Any], skip: frozenset[str] = frozenset()) -> Callable[[Mapping[Any, Any]], dict[str, Any]]:
    """The constructor arguments for the dataclass from a JSON object; missing fields left out."""
    hints = get_type_hints(cls)
    wanted = [(f.name, _converters(hints[f.name], "stored")[1]) for f in fields(cls) if f.name not in skip]

    def decode(data: Mapping[Any, Any]) -> dict[str, Any]:
        return {
            name: data[name] if convert is None else convert(data[name]) for name, convert in wanted if name in data
        }

    return decode


def build(cls: type[T], data: Mapping[Any, Any]) -> T:
    made: T = cls(**decoder(cls)(data))  # type: ignore[arg-type]
    return made


# -- matches --------------------------------------------------------------------------------

_STATE_SKIP = frozenset(FIXTURE_COLUMNS) | {"incidents"}
_state_head = encoder(Match, _STATE_SKIP)
_state_from = decoder(Match, frozenset(FIXTURE_COLUMNS))
_fixture_to = encoder(Match, frozenset(f.name for f in fields(Match)) - frozenset(FIXTURE_COLUMNS))
_fixture_from = decoder(Match, frozenset(f.name for f in fields(Match)) - frozenset(FIXTURE_COLUMNS))
incident_to_json = encoder(Incident)


def state_to_json(match: Match) -> dict[str, Any]:
    """The derived part of a match, as stored beside its log and sent between workers. Its
    incidents come last, which `stored_state` relies on."""
    return {**_state_head(match), "incidents": [incident_to_json(i) for i in match.incidents]}


class StoredState(NamedTuple):
    match: Match
    state: str  # as stored: json.dumps(state_to_json(match))
    incidents: tuple[str, ...]  # each of the match's incidents as JSON, as it appears in `state`


def stored_state(match: Match, before: StoredState | None) -> StoredState:
    """The match's state as `json.dumps(state_to_json(match))` writes it, reusing the text of
    the incidents it shares with `before`: incidents are appended, or dropped from the end by an
    undo, and serialising them all anew on every write would cost in proportion to them."""
    parts: tuple[str, ...] | None = None
    if before is not None:
        old, new = before.match.incidents, match.incidents
        if new[: len(old)] == old:
            parts = before.incidents + tuple(json.dumps(incident_to_json(i)) for i in new[len(old) :])
        elif old[: len(new)] == new:
            parts = before.incidents[: len(new)]
    if parts is None:
        parts = tuple(json.dumps(incident_to_json(i)) for i in match.incidents)
    head = json.dumps({**_state_head(match), "incidents": []})  # ends with "incidents": []}
    return StoredState(match, head[: -len("]}")] + ", ".join(parts) + "]}", parts)


def match_from_row(row: Mapping[Any, Any]) -> Match:
    """A match from its row (or `match_to_dict`'s form): the fixture's columns and its state."""
    state = row["state"]
    if isinstance(state, str):
        state = json.loads(state)
    found = {field: row[column] for field, column in FIXTURE_COLUMNS.items() if column in row}
    if found.get("kickoff") is not None:
        found["kickoff"] = aware(found["kickoff"])
    return Match(**found, **_state_from(state))


def match_columns(match: Match) -> dict[str, Any]:
    """The row of a match as first inserted (its state included)."""
    row = {column: getattr(match, field) for field, column in FIXTURE_COLUMNS.items()}
    row.update(kickoff=utc(match.kickoff) if match.kickoff else None, state=state_to_json(match), status=match.status)
    return row


def match_to_dict(match: Match) -> dict[str, Any]:
    """A match as sent between workers."""
    return {**_fixture_to(match), "state": state_to_json(match)}


def match_from_dict(data: Mapping[Any, Any]) -> Match:
    return Match(**_fixture_from(data), **_state_from(data["state"]))


# -- events ---------------------------------------------------------------------------------

_payload_to = encoder(Event, EVENT_COLUMNS)
_payload_from = decoder(Event, EVENT_COLUMNS)


class MissingTime(RuntimeError):
    """A stored event without its time: the log cannot be replayed as it happened."""


def event_row(
    match_id: str, version: int, event: Event, recorded_at: datetime, audit: Audit | None = None
) -> dict[str, Any]:
    return {
        "match_id": match_id,
        "version": version,
        "kind": event.kind,
        "payload": _payload_to(event),
        "at": utc(event.at),
        "recorded_by": event.recorded_by,
        "recorded_at": recorded_at,
        "account_id": audit.account_id if audit else None,
        "client_address": audit.client_address[:64] if audit and audit.client_address else None,
        "user_agent": audit.user_agent[:200] if audit and audit.user_agent else None,
    }


def event_from_row(row: Mapping[Any, Any]) -> Event:
    at = row["at"]
    if at is None:
        raise MissingTime(f"Event {row['version']} of match {row['match_id']!r} has no time stored.")
    payload = row["payload"]
    if isinstance(payload, str):
        payload = json.loads(payload)
    return Event(kind=row["kind"], at=aware(at), recorded_by=row["recorded_by"], **_payload_from(payload))


# -- the API (schema: openapi.py) ---------------------------------------------------------

_api_incident = encoder(Incident, style="api")
_api_event = encoder(Event, frozenset({"recorded_by"}), style="api")


def match_json(match: Match, now: datetime) -> dict[str, Any]:
    """A match as the JSON API and the change stream show it (schema: `/api/openapi.json`)."""
    penalties = match.penalty_score
    aggregate = match.aggregate
    return {
        "id": match.id,
        "home": match.home,
        "away": match.away,
        "competition": match.competition,
        "competition_slug": match.competition_slug,
        "round": match.round,
        "group": match.group,
        "leg": match.leg,
        "venue": match.venue,
        "home_slug": match.home_slug,
        "away_slug": match.away_slug,
        "kickoff": match.kickoff.isoformat() if match.kickoff else None,
        "postponed_from": match.postponed_from.isoformat() if match.postponed_from else None,
        "status": match.status,
        "clock": clock_label(match, now),
        "home_score": match.home_score,
        "away_score": match.away_score,
        "penalties": None
        if penalties is None
        else {
            "home": penalties[0],
            "away": penalties[1],
            "first": match.shootout_first,
            "kicks": [
                {"side": kick.side, "player": kick.player, "outcome": kick.outcome} for kick in match.shootout_kicks
            ],
        },
        "decided_by": match.decided_by,
        "aggregate": None if aggregate is None else {"home": aggregate[0], "away": aggregate[1]},
        "winner": match.winner,
        "lineups": [
            {
                "side": lineup.side,
                "formation": lineup.formation,
                "starting": list(lineup.starting),
                "substitutes": list(lineup.substitutes),
                "confirmed": lineup.confirmed,
            }
            for lineup in match.lineups
        ],
        "version": match.version,
        "incidents": [_api_incident(incident) for incident in match.incidents],
    }


def event_json(version: int, event: Event) -> dict[str, Any]:
    """One entry of a match's log as the API shows it."""
    return {"version": version, **_api_event(event)}


# -- competitions and teams ---------------------------------------------------------------

competition_row = encoder(Competition)
_team_row = encoder(Team, frozenset({"aliases"}))


def competition_from_row(row: Mapping[Any, Any]) -> Competition:
    data = dict(row)
    if isinstance(data["rules"], str):
        data["rules"] = json.loads(data["rules"])
    return build(Competition, data)


def team_row(team: Team) -> dict[str, Any]:
    return _team_row(team)


def team_from_row(row: Mapping[Any, Any], aliases: Collection[str] = ()) -> Team:
    return replace(
        build(Team, {name: row[name] for name in ("slug", "name", "short_name", "code")}), aliases=tuple(aliases)
    )
