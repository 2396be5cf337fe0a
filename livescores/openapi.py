"""The JSON API's contract (OpenAPI 3.1), served at /api/openapi.json and checked by the tests."""

from __future__ import annotations

from typing import Any, get_args

from .statuses import EVENT_KINDS, Status, VarDecision

STATUSES = get_args(Status)
VAR_DECISIONS = get_args(VarDecision)

_NULLABLE_TEXT = {"type": ["string", "null"]}
_SIDE = {"type": ["string", "null"], "enum": ["home", "away", None]}
_KIND = {"type": "string", "enum": list(EVENT_KINDS)}
_NULLABLE_INT = {"type": ["integer", "null"]}
_COUNT = {"type": "integer", "minimum": 0}
# A league's one table (group null) or a group's, live while a match of the competition is in
# play (its current score counted, its teams' rows marked live), else the final or current one.
_STANDINGS: dict[str, object] = {
    "type": "object",
    "required": ["group", "live", "rows"],
    "additionalProperties": False,
    "properties": {
        "group": {"type": ["string", "null"]},
        "live": {"type": "boolean"},
        "rows": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": [
                    "position", "team", "name", "played", "won", "drawn", "lost", "goals_for",
                    "goals_against", "goal_difference", "points", "form", "live", "tied",
                ],
                "properties": {
                    "position": {"type": "integer", "minimum": 1},
                    "team": {"type": "string", "description": "the team's slug"},
                    "name": {"type": "string"},
                    "played": _COUNT, "won": _COUNT, "drawn": _COUNT, "lost": _COUNT,
                    "goals_for": _COUNT, "goals_against": _COUNT,
                    "goal_difference": {"type": "integer"},
                    "points": {"type": "integer"},
                    "form": {"type": "string", "pattern": "^[WDL]{0,5}$", "description": "last five, most recent last"},
                    "live": {"type": "boolean", "description": "playing now; the current score counts"},
                    "tied": {"type": "boolean", "description": "level with a neighbour on every tie-breaker"},
                },
            },
        },
    },
}  # fmt: skip
_NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
_SCORE = {
    "type": "object",
    "required": ["home", "away"],
    "properties": {"home": {"type": "integer"}, "away": {"type": "integer"}},
}
# What an incident in a match and an entry of its log have in common.
_EVENT_FIELDS: dict[str, Any] = {
    "kind": _KIND,
    "side": {**_SIDE, "description": "For `penalties`, the side that kicks first"},
    "player": {**_NULLABLE_TEXT, "description": "For a substitution, the player going off"},
    "minute": _NULLABLE_TEXT,
    "penalty": {"type": "boolean"},
    "own_goal": {"type": "boolean"},
    "player_on": _NULLABLE_TEXT,
    "outcome": {"type": ["string", "null"], "enum": ["scored", "saved", "missed", None]},
    "decision": {"type": ["string", "null"], "enum": [*VAR_DECISIONS, None]},
    "reason": _NULLABLE_TEXT,
    "minutes": {**_NULLABLE_INT, "description": "Added time announced; for a result, the minutes played"},
    "kickoff": {**_NULLABLE_TIME, "description": "A postponed match's new kick-off"},
    "formation": _NULLABLE_TEXT,
    "confirmed": {"type": "boolean"},
    "note": _NULLABLE_TEXT,
}
# What only the log's entries carry, beside the fields above.
_LOG_ONLY: dict[str, Any] = {
    "goal_version": {**_NULLABLE_INT, "description": "The goal a VAR decision disallows, by its version"},
    "starting": {"type": "array", "items": {"type": "string"}},
    "substitutes": {"type": "array", "items": {"type": "string"}},
    "home_score": _NULLABLE_INT,
    "away_score": _NULLABLE_INT,
}
# What only a match's incidents carry.
_INCIDENT_ONLY: dict[str, Any] = {
    "second_yellow": {
        "type": "boolean",
        "description": "A red card that the player's second yellow card of the match became",
    },
    "refers_to": {**_NULLABLE_INT, "description": "The version of the goal or card a VAR decision is about"},
    "version": {**_NULLABLE_INT, "description": "The match version the incident's event made"},
}

MATCH: dict[str, Any] = {
    "type": "object",
    "required": [
        "id",
        "home",
        "away",
        "status",
        "clock",
        "home_score",
        "away_score",
        "penalties",
        "decided_by",
        "aggregate",
        "lineups",
        "version",
        "incidents",
    ],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string"},
        "home": {"type": "string"},
        "away": {"type": "string"},
        "competition": _NULLABLE_TEXT,
        "competition_slug": _NULLABLE_TEXT,
        "round": {**_NULLABLE_TEXT, "description": "Matchday 12, Group C, Round of 16, Final"},
        "group": _NULLABLE_TEXT,
        "leg": {"type": ["integer", "null"], "description": "1 or 2 in a two-legged tie"},
        "venue": _NULLABLE_TEXT,
        "home_slug": _NULLABLE_TEXT,
        "away_slug": _NULLABLE_TEXT,
        "kickoff": {"type": ["string", "null"], "format": "date-time"},
        "postponed_from": {**_NULLABLE_TIME, "description": "The kick-off first planned, once moved"},
        "status": {"type": "string", "enum": list(STATUSES)},
        "clock": {"type": "string", "description": "What the scoreboard shows: 37', 105+2', HT, ET HT, FT, AET, Pens"},
        "home_score": {"type": "integer", "minimum": 0},
        "away_score": {"type": "integer", "minimum": 0},
        "penalties": {
            "type": ["object", "null"],
            "description": "The shoot-out, once one has begun: its score and every kick in order",
            "properties": {
                "home": {"type": "integer"},
                "away": {"type": "integer"},
                "first": _SIDE,
                "kicks": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "side": _SIDE,
                            "player": _NULLABLE_TEXT,
                            "outcome": {"type": ["string", "null"]},
                        },
                    },
                },
            },
        },
        "decided_by": {"type": ["string", "null"], "enum": ["normal_time", "extra_time", "penalties", "awarded", None]},
        "aggregate": {**_SCORE, "type": ["object", "null"], "description": "A second leg: the tie's score so far"},
        "winner": {**_SIDE, "description": "The side that won the match, or the tie on a second leg"},
        "lineups": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "side": _SIDE,
                    "formation": _NULLABLE_TEXT,
                    "starting": {"type": "array", "items": {"type": "string"}},
                    "substitutes": {"type": "array", "items": {"type": "string"}},
                    "confirmed": {"type": "boolean"},
                },
            },
        },
        "version": {"type": "integer", "minimum": 0, "description": "Events in the match's log so far"},
        "incidents": {
            "type": "array",
            "description": "The events still standing after corrections, in order",
            "items": {
                "type": "object",
                "required": ["kind", "side", "player", "minute", "penalty", "own_goal", "second_yellow"],
                "additionalProperties": False,
                "properties": {**_EVENT_FIELDS, **_INCIDENT_ONLY},
            },
        },
    },
}

LOG_ENTRY: dict[str, Any] = {
    "type": "object",
    "required": ["version", "kind", "at", "side", "player", "minute", "penalty", "own_goal"],
    "additionalProperties": False,
    "properties": {
        "version": {"type": "integer", "minimum": 1},
        "at": {"type": "string", "format": "date-time"},
        **_EVENT_FIELDS,
        **_LOG_ONLY,
    },
}

COMPETITION: dict[str, Any] = {
    "type": "object",
    "required": ["slug", "name", "short_name", "season", "format", "rules", "away_goals"],
    "properties": {
        "slug": {"type": "string"},
        "name": {"type": "string"},
        "short_name": {"type": "string"},
        "season": _NULLABLE_TEXT,
        "format": {"type": "string", "enum": ["league", "cup", "groups_then_knockout"]},
        "rules": {
            "type": "object",
            "properties": {
                "points_for_win": {"type": "integer"},
                "points_for_draw": {"type": "integer"},
                "tie_breakers": {"type": "array", "items": {"type": "string"}},
            },
        },
        "away_goals": {"type": "boolean"},
    },
}

TEAM: dict[str, Any] = {
    "type": "object",
    "required": ["slug", "name", "short_name", "code", "aliases"],
    "properties": {
        "slug": {"type": "string"},
        "name": {"type": "string"},
        "short_name": {"type": "string"},
        "code": {"type": "string", "minLength": 3, "maxLength": 3},
        "aliases": {"type": "array", "items": {"type": "string"}},
    },
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _matches() -> dict[str, Any]:
    return {"type": "array", "items": _ref("Match")}


def _get(summary: str, properties: dict[str, Any], parameter: str | None = None) -> dict[str, Any]:
    """A GET answering one JSON object with these properties (all required), 404 for a bad parameter."""
    operation: dict[str, Any] = {
        "summary": summary,
        "responses": {
            "200": {
                "description": "OK",
                "content": {
                    "application/json": {
                        "schema": {"type": "object", "required": list(properties), "properties": properties}
                    }
                },
            }
        },
    }
    if parameter is not None:
        operation["parameters"] = [{"name": parameter, "in": "path", "required": True, "schema": {"type": "string"}}]
        operation["responses"]["404"] = {"description": f"No such {parameter}"}
    return {"get": operation}


_DAY = {"type": "string", "format": "date"}
_ZONE = {"type": "string", "description": "The home time zone (IANA) that decides which day a match is on"}
_PAGE_ARGUMENTS = (
    "Name the page as for `/ws`: `?day=YYYY-MM-DD`, `?competition=<slug>[&round=<name>]`, `?team=<slug>`, "
    "`?match=<id>`, or nothing for today's matches."
)

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "livescores", "version": "2", "description": "Live football scores, read-only."},
    "paths": {
        "/api/matches": _get(
            "Today's matches in the home time zone (and yesterday's still being played), as they stand now",
            {"date": _DAY, "timezone": _ZONE, "matches": _matches()},
        ),
        "/api/days/{date}": _get(
            "One day's matches in the home time zone (YYYY-MM-DD)",
            {"date": _DAY, "timezone": _ZONE, "matches": _matches()},
            "date",
        ),
        "/api/competitions": _get(
            "Every competition", {"competitions": {"type": "array", "items": _ref("Competition")}}
        ),
        "/api/competitions/{slug}": _get(
            "A competition: its rounds in the order they are played, the round being played, and all its matches",
            {
                "competition": _ref("Competition"),
                "rounds": {"type": "array", "items": {"type": "string"}},
                "current_round": _NULLABLE_TEXT,
                "matches": _matches(),
                "tables": {"type": "array", "items": _STANDINGS},
            },
            "slug",
        ),
        "/api/teams/{slug}": _get(
            "A team's fixtures and results across competitions",
            {"team": _ref("Team"), "matches": _matches()},
            "slug",
        ),
        "/api/matches/{id}": {
            "get": {
                "summary": "One match with its whole append-only event log (undos included)",
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {
                    "200": {
                        "description": "The match",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["match", "log"],
                                    "properties": {
                                        "match": _ref("Match"),
                                        "log": {"type": "array", "items": _ref("LogEntry")},
                                    },
                                }
                            }
                        },
                    },
                    "404": {"description": "No such match"},
                },
            }
        },
        "/api/stream": {
            "get": {
                "summary": "Server-Sent Events: a `snapshot` event (an array of Match), then a `match` "
                "event (one Match) on every change to a match of the page. Reconnect to resync. " + _PAGE_ARGUMENTS,
                "responses": {
                    "200": {"description": "An event stream", "content": {"text/event-stream": {}}},
                    "404": {"description": "The arguments name no page"},
                },
            }
        },
    },
    "components": {"schemas": {"Match": MATCH, "LogEntry": LOG_ENTRY, "Competition": COMPETITION, "Team": TEAM}},
}
