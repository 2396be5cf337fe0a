"""What a socket may send: parsing and validating one scoring message, with no side effects."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .matches import EVENT_KINDS, SIDES, Event, EventKind, Minute, RuleViolation, Side, clean_name

MATCH_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
TRUE_WORDS = frozenset({"on", "true", "1", "yes"})
FALSE_WORDS = frozenset({"", "off", "false", "0", "no"})
MINUTE_TEXT = re.compile(r"\s*(\d{1,3})\s*\+\s*(\d{1,2})\s*'?\s*")


class InvalidMessage(ValueError):
    """A message that is not a valid command; its text is shown to the sender."""


class MessageTooLarge(InvalidMessage):
    pass


@dataclass(frozen=True)
class Command:
    match_id: str
    kind: EventKind
    side: Side | None = None
    player: str | None = None
    minute: Minute | None = None
    penalty: bool = False
    own_goal: bool = False
    expected_version: int | None = None

    def event(self, at: datetime, recorded_by: str | None) -> Event:
        return Event(self.kind, at, self.side, self.player, self.minute, self.penalty, self.own_goal, recorded_by)


def parse_command(raw: str | bytes | None, max_bytes: int) -> Command:
    # An empty binary frame reaches Quart as None (the ASGI message carries no text either).
    raw = raw or b""
    size = len(raw.encode() if isinstance(raw, str) else raw)
    if size > max_bytes:
        raise MessageTooLarge(f"The message is {size} bytes; the limit is {max_bytes}.")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidMessage("The message is not valid JSON.") from error
    except RecursionError as error:  # a few KiB of brackets nest deeper than the parser goes
        raise InvalidMessage("The message nests too deeply.") from error
    if not isinstance(data, dict):
        raise InvalidMessage("The message must be a JSON object.")

    kind = data.get("action", "goal")
    if kind not in EVENT_KINDS:
        raise InvalidMessage(f"Unknown action; expected one of: {', '.join(EVENT_KINDS)}.")
    match_id = data.get("match")
    if not isinstance(match_id, str) or not MATCH_ID.match(match_id):
        raise InvalidMessage("The message must name a match by its id.")
    side = data.get("side")
    needs_side = kind in ("goal", "yellow_card", "red_card")
    if needs_side and side not in SIDES:
        raise InvalidMessage("The side must be home or away.")
    try:
        player = clean_name(data.get("player")) if needs_side else None
    except RuleViolation as error:
        raise InvalidMessage(str(error)) from error
    return Command(
        match_id=match_id,
        kind=kind,
        side=side if needs_side else None,
        player=player,
        minute=_minute(data) if needs_side else None,
        penalty=_flag(data, "penalty") if kind == "goal" else False,
        own_goal=_flag(data, "own_goal") if kind == "goal" else False,
        expected_version=_whole_number(data, "version", 0, 10**9),
    )


def _whole_number(data: dict[str, Any], key: str, low: int, high: int) -> int | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, str) and re.fullmatch(r"\s*\d{1,10}\s*", value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidMessage(f"The {key} must be a whole number from {low} to {high}.")
    return value


def _minute(data: dict[str, Any]) -> Minute | None:
    """A minute as a number, or as typed on a scoreboard ("45+2", "90+3'"), optionally with
    `added` beside it; blank means the match clock's minute."""
    raw = data.get("minute")
    if isinstance(raw, str) and "+" in raw:
        found = MINUTE_TEXT.fullmatch(raw)
        if found is None:
            raise InvalidMessage("The minute must look like 37 or 45+2.")
        if data.get("added") not in (None, ""):
            raise InvalidMessage("Give added time either as 45+2 or in its own field, not both.")
        data = {"minute": found.group(1), "added": found.group(2)}
    elif isinstance(raw, str):
        data = {**data, "minute": raw.strip().rstrip("'").strip()}
    base = _whole_number(data, "minute", 1, 120)
    added = _whole_number(data, "added", 0, 30)
    if base is None:
        if added:
            raise InvalidMessage("Added time needs a minute.")
        return None
    return Minute(base, added or 0)


def _flag(data: dict[str, Any], key: str) -> bool:
    value = data.get(key, False)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in TRUE_WORDS | FALSE_WORDS:
        return value.lower() in TRUE_WORDS
    raise InvalidMessage(f"The {key} flag must be true or false.")
