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

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "livescores", "version": "1", "description": "Live football scores, read-only."},
    "paths": {
        "/api/matches": {
            "get": {
                "summary": "Every match on the board, as it stands now",
                "responses": {
                    "200": {
                        "description": "The board",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["matches"],
                                    "properties": {
                                        "matches": {"type": "array", "items": {"$ref": "#/components/schemas/Match"}}
                                    },
                                }
                            }
                        },
                    }
                },
            }
        },
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
                                        "match": {"$ref": "#/components/schemas/Match"},
                                        "log": {"type": "array", "items": {"$ref": "#/components/schemas/LogEntry"}},
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
                "event (one Match) on every change. Reconnect to resync.",
                "responses": {"200": {"description": "An event stream", "content": {"text/event-stream": {}}}},
            }
        },
    },
    "components": {"schemas": {"Match": MATCH, "LogEntry": LOG_ENTRY}},
}
