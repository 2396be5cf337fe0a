"""What a socket may send: parsing and validating one scoring message, with no side effects."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from .lineups import MAX_SUBSTITUTES, STARTING_PLAYERS, Lineup, check_formation, check_lineup, clean_names
from .matches import (
    DISALLOW_REASONS,
    EVENT_KINDS,
    KICK_OUTCOMES,
    MAX_ADDED_MINUTES,
    MISS_OUTCOMES,
    PERIODS,
    SIDES,
    VAR_DECISIONS,
    DisallowReason,
    Event,
    EventKind,
    KickOutcome,
    Minute,
    RuleViolation,
    Side,
    VarDecision,
    clean_name,
)
from .said import N_, said_of
from .steps import MAX_AWARDED_GOALS, MAX_NOTE_LENGTH

# What a scorer may send: every event but a result without details, which only an import records.
SCORER_ACTIONS = tuple(kind for kind in EVENT_KINDS if kind != "result")
MATCH_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
TRUE_WORDS = frozenset({"on", "true", "1", "yes"})
FALSE_WORDS = frozenset({"", "off", "false", "0", "no"})
MINUTE_TEXT = re.compile(r"\s*(\d{1,3})\s*\+\s*(\d{1,2})\s*'?\s*")
PERIOD_ENDS = frozenset(offset + length for offset, length in PERIODS.values())
LAST_MINUTE = max(PERIOD_ENDS)
MAX_KICKOFF_LENGTH = 40
MIN_YEAR, MAX_YEAR = 1900, 2200


class InvalidMessage(ValueError):
    """A message that is not a valid command; its text is shown to the sender."""


class MessageTooLarge(InvalidMessage):
    pass


@dataclass(frozen=True)
class Command:
    """A scorer's action, checked for form; the rules then judge it against the match."""

    match_id: str
    kind: EventKind
    side: Side | None = None  # for `penalties`, the side that kicks first
    player: str | None = None  # for a substitution, the player going off
    minute: Minute | None = None
    penalty: bool = False
    own_goal: bool = False
    expected_version: int | None = None
    player_on: str | None = None
    outcome: KickOutcome | None = None
    decision: VarDecision | None = None
    reason: DisallowReason | None = None
    goal_version: int | None = None
    minutes: int | None = None
    kickoff: datetime | None = None
    formation: str | None = None
    starting: tuple[str, ...] = ()
    substitutes: tuple[str, ...] = ()
    confirmed: bool = False
    home_score: int | None = None
    away_score: int | None = None
    note: str | None = None

    def event(self, at: datetime, recorded_by: str | None) -> Event:
        return Event(
            self.kind,
            at,
            self.side,
            self.player,
            self.minute,
            self.penalty,
            self.own_goal,
            recorded_by,
            player_on=self.player_on,
            outcome=self.outcome,
            decision=self.decision,
            reason=self.reason,
            goal_version=self.goal_version,
            minutes=self.minutes,
            kickoff=self.kickoff,
            formation=self.formation,
            starting=self.starting,
            substitutes=self.substitutes,
            confirmed=self.confirmed,
            home_score=self.home_score,
            away_score=self.away_score,
            note=self.note,
        )


def parse_command(raw: str | bytes | None, max_bytes: int) -> Command:
    # An empty binary frame reaches Quart as None (the ASGI message carries no text either).
    raw = raw or b""
    size = len(raw.encode() if isinstance(raw, str) else raw)
    if size > max_bytes:
        raise MessageTooLarge(
            N_("The message is %(size)s bytes; the limit is %(max_bytes)s.", size=size, max_bytes=max_bytes)
        )
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidMessage(N_("The message is not valid JSON.")) from error
    except RecursionError as error:  # a few KiB of brackets nest deeper than the parser goes
        raise InvalidMessage(N_("The message nests too deeply.")) from error
    if not isinstance(data, dict):
        raise InvalidMessage(N_("The message must be a JSON object."))

    kind = data.get("action", "goal")
    if kind not in SCORER_ACTIONS:
        raise InvalidMessage(N_("Unknown action; expected one of: %(choices)s.", choices=", ".join(SCORER_ACTIONS)))
    match_id = data.get("match")
    if not isinstance(match_id, str) or not MATCH_ID.fullmatch(match_id):
        raise InvalidMessage(N_("The message must name a match by its id."))
    command = Command(match_id, kind, expected_version=_whole_number(data, "version", 0, 10**9))
    try:
        fields = _FIELDS.get(kind)
        return replace(command, **fields(data)) if fields is not None else command
    except RuleViolation as error:  # a name, list or formation the rules' own checks refuse
        raise InvalidMessage(said_of(error)) from error


def _goal_or_card(data: dict[str, Any]) -> dict[str, Any]:
    kind = data.get("action", "goal")
    return {
        "side": _side(data),
        "player": clean_name(data.get("player")),
        "minute": _minute(data),
        "penalty": _flag(data, "penalty") if kind == "goal" else False,
        "own_goal": _flag(data, "own_goal") if kind == "goal" else False,
    }


def _penalty_missed(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "side": _side(data),
        "player": clean_name(data.get("player")),
        "minute": _minute(data),
        "outcome": _choice(data, "outcome", MISS_OUTCOMES),
    }


def _var(data: dict[str, Any]) -> dict[str, Any]:
    decision = _choice(data, "decision", VAR_DECISIONS)
    fields: dict[str, Any] = {"decision": decision, "minute": _minute(data)}
    if decision == "goal_disallowed":
        # The goal is named by the version its event made, or else it is the side's latest.
        fields["goal_version"] = _whole_number(data, "goal_version", 1, 10**9)
        fields["reason"] = _choice(data, "reason", DISALLOW_REASONS, required=False)
        fields["side"] = _side(data) if fields["goal_version"] is None or data.get("side") else None
        return fields
    fields["side"] = _side(data)
    fields["player"] = clean_name(data.get("player"))
    if decision == "goal_awarded":
        fields["penalty"] = _flag(data, "penalty")
        fields["own_goal"] = _flag(data, "own_goal")
    return fields


def _substitution(data: dict[str, Any]) -> dict[str, Any]:
    off = clean_name(data.get("player_off"), N_("name of the player going off"))
    on = clean_name(data.get("player_on"), N_("name of the player coming on"))
    if off is None or on is None:
        raise InvalidMessage(N_("A substitution names the player going off and the player coming on."))
    return {"side": _side(data), "player": off, "player_on": on, "minute": _minute(data)}


def _lineup(data: dict[str, Any]) -> dict[str, Any]:
    lineup = check_lineup(
        Lineup(
            _side(data),
            check_formation(data.get("formation")),
            _names(data.get("starting"), N_("starting eleven"), STARTING_PLAYERS),
            _names(data.get("substitutes"), N_("substitutes"), MAX_SUBSTITUTES),
            _flag(data, "confirmed"),
        )
    )
    return {
        "side": lineup.side,
        "formation": lineup.formation,
        "starting": lineup.starting,
        "substitutes": lineup.substitutes,
        "confirmed": lineup.confirmed,
    }


def _names(raw: object, what: str, limit: int) -> tuple[str, ...]:
    """A list of names, or as a text area sends them: one per line, or separated by commas."""
    if isinstance(raw, str):
        raw = re.split(r"[\n\r,]+", raw)
    return clean_names(raw, what, limit)


def _penalties(data: dict[str, Any]) -> dict[str, Any]:
    first = data.get("first")
    if first not in SIDES:
        raise InvalidMessage(N_("Say which side kicks first in the shoot-out: home or away."))
    return {"side": first, "minute": _minute(data)}


def _shootout_kick(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "side": _side(data),
        "player": clean_name(data.get("player")),
        "outcome": _choice(data, "outcome", KICK_OUTCOMES),
    }


def _added_time(data: dict[str, Any]) -> dict[str, Any]:
    minutes = _whole_number(data, "minutes", 1, MAX_ADDED_MINUTES)
    if minutes is None:
        raise InvalidMessage(N_("Say how many minutes of added time were announced."))
    return {"minutes": minutes}


def _postpone(data: dict[str, Any]) -> dict[str, Any]:
    raw = data.get("kickoff")
    if raw is None or raw == "":
        return {}
    if not isinstance(raw, str) or len(raw) > MAX_KICKOFF_LENGTH:
        raise InvalidMessage(N_("The new kick-off must be an ISO 8601 time such as 2026-12-18T15:00:00Z."))
    try:
        kickoff = datetime.fromisoformat(raw.strip())
    except ValueError as error:
        raise InvalidMessage(N_("The new kick-off must be an ISO 8601 time such as 2026-12-18T15:00:00Z.")) from error
    if kickoff.tzinfo is None or kickoff.utcoffset() is None:
        raise InvalidMessage(N_("The new kick-off must carry a timezone (Z or an offset such as +01:00)."))
    if not MIN_YEAR <= kickoff.year <= MAX_YEAR:
        raise InvalidMessage(
            N_("The new kick-off must fall between %(first)s and %(last)s.", first=MIN_YEAR, last=MAX_YEAR)
        )
    return {"kickoff": kickoff.astimezone(UTC)}


def _award(data: dict[str, Any]) -> dict[str, Any]:
    home = _whole_number(data, "home", 0, MAX_AWARDED_GOALS)
    away = _whole_number(data, "away", 0, MAX_AWARDED_GOALS)
    if home is None or away is None:
        raise InvalidMessage(N_("An awarded result gives both sides a score, such as 3 and 0."))
    return {"home_score": home, "away_score": away, "note": clean_name(data.get("note"), N_("note"), MAX_NOTE_LENGTH)}


def _period_end(data: dict[str, Any]) -> dict[str, Any]:
    """The minute the referee ended a period at, when the scorer gives it: "90+8"."""
    return {"minute": _minute(data)}


_FIELDS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    **dict.fromkeys(("half_time", "full_time", "extra_time", "extra_time_half_time", "penalties"), _period_end),
    **dict.fromkeys(("goal", "yellow_card", "red_card"), _goal_or_card),
    "penalty_missed": _penalty_missed,
    "var": _var,
    "substitution": _substitution,
    "lineup": _lineup,
    "penalties": _penalties,
    "shootout_kick": _shootout_kick,
    "added_time": _added_time,
    "postpone": _postpone,
    "award": _award,
}


def _side(data: dict[str, Any]) -> Side:
    side = data.get("side")
    if side not in SIDES:
        raise InvalidMessage(N_("The side must be home or away."))
    return side  # type: ignore[no-any-return]


def _choice(data: dict[str, Any], key: str, allowed: tuple[str, ...], required: bool = True) -> Any:
    value = data.get(key)
    if value in (None, "") and not required:
        return None
    if value not in allowed:
        raise InvalidMessage(N_("The %(key)s must be one of: %(choices)s.", key=key, choices=", ".join(allowed)))
    return value


def _whole_number(data: dict[str, Any], key: str, low: int, high: int) -> int | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, str) and re.fullmatch(r"\s*\d{1,10}\s*", value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidMessage(
            N_("The %(key)s must be a whole number from %(low)s to %(high)s.", key=key, low=low, high=high)
        )
    return value


def _minute(data: dict[str, Any]) -> Minute | None:
    """A minute as a number, or as typed on a scoreboard ("45+2", "90+3'"), optionally with
    `added` beside it; blank means the match clock's minute."""
    raw = data.get("minute")
    if isinstance(raw, str) and "+" in raw:
        found = MINUTE_TEXT.fullmatch(raw)
        if found is None:
            raise InvalidMessage(N_("The minute must look like 37 or 45+2."))
        if data.get("added") not in (None, ""):
            raise InvalidMessage(N_("Give added time either as 45+2 or in its own field, not both."))
        data = {"minute": found.group(1), "added": found.group(2)}
    elif isinstance(raw, str):
        data = {**data, "minute": raw.strip().rstrip("'").strip()}
    base = _whole_number(data, "minute", 1, LAST_MINUTE)
    added = _whole_number(data, "added", 0, MAX_ADDED_MINUTES)
    if base is None:
        if added:
            raise InvalidMessage(N_("Added time needs a minute."))
        return None
    if added and base not in PERIOD_ENDS:
        raise InvalidMessage(N_("Added time only follows the 45th, 90th, 105th or 120th minute."))
    return Minute(base, added or 0)


def _flag(data: dict[str, Any], key: str) -> bool:
    value = data.get(key, False)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in TRUE_WORDS | FALSE_WORDS:
        return value.lower() in TRUE_WORDS
    raise InvalidMessage(N_("The %(key)s flag must be true or false.", key=key))
