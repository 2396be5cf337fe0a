"""The JSON API's contract (OpenAPI 3.1), served at /api/openapi.json and checked by the tests."""

from __future__ import annotations

from typing import Any

_NULLABLE_TEXT = {"type": ["string", "null"]}
_SIDE = {"type": ["string", "null"], "enum": ["home", "away", None]}
_KIND = {
    "type": "string",
    "enum": ["kick_off", "half_time", "second_half", "full_time", "goal", "yellow_card", "red_card", "undo"],
}
# What an incident in a match and an entry of its log have in common.
_EVENT_FIELDS: dict[str, Any] = {
    "kind": _KIND,
    "side": _SIDE,
    "player": _NULLABLE_TEXT,
    "minute": _NULLABLE_TEXT,
    "penalty": {"type": "boolean"},
    "own_goal": {"type": "boolean"},
}

MATCH: dict[str, Any] = {
    "type": "object",
    "required": ["id", "home", "away", "status", "clock", "home_score", "away_score", "version", "incidents"],
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
        "status": {"type": "string", "enum": ["scheduled", "first_half", "half_time", "second_half", "full_time"]},
        "clock": {"type": "string", "description": "What the scoreboard shows: 37', 45+2', HT, FT, or empty"},
        "home_score": {"type": "integer", "minimum": 0},
        "away_score": {"type": "integer", "minimum": 0},
        "version": {"type": "integer", "minimum": 0, "description": "Events in the match's log so far"},
        "incidents": {
            "type": "array",
            "description": "The events still standing after corrections, in order",
            "items": {
                "type": "object",
                "required": ["kind", "side", "player", "minute", "penalty", "own_goal", "second_yellow"],
                "additionalProperties": False,
                "properties": {
                    **_EVENT_FIELDS,
                    "second_yellow": {
                        "type": "boolean",
                        "description": "A red card that the player's second yellow card of the match became",
                    },
                },
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
