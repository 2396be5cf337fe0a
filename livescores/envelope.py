"""What workers say to each other on the bus, in one typed envelope: `{"type": ..., ...}`.

Every message names its type, so a listener dispatches on it instead of guessing from which
keys are present, and a message of a type it does not know (a newer release beside an older
one during a deploy, another app on the same channel) is refused with one warning per type
rather than misread.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from .codec import match_from_dict, match_to_dict
from .matches import SIDES, Match, Side

log = logging.getLogger(__name__)

_refused_types: set[str] = set()


@dataclass(frozen=True)
class MatchChanged:
    """A match's new stored state; `changed` is the side that just scored, if a goal did it."""

    match: Match
    changed: Side | None = None


@dataclass(frozen=True)
class Watching:
    """How many page sockets one worker holds now."""

    worker: str
    count: int


@dataclass(frozen=True)
class AccountEnded:
    """A scorer account was revoked or reset: sessions of an older generation end everywhere."""

    account_id: int
    generation: int
    revoked: bool


BusMessage = MatchChanged | Watching | AccountEnded


def encode(message: BusMessage) -> str:
    payload: dict[str, Any]
    if isinstance(message, MatchChanged):
        payload = {"type": "match", "match": match_to_dict(message.match), "changed": message.changed}
    elif isinstance(message, AccountEnded):
        payload = {"type": "account", "id": message.account_id, "generation": message.generation}
        payload["revoked"] = message.revoked
    else:
        payload = {"type": "watching", "worker": message.worker, "watching": message.count}
    return json.dumps(payload, separators=(",", ":"))


def decode(text: str) -> BusMessage | None:
    """The message, or None (logged) when it is not one this release understands. A message of
    a known type with wrong contents raises, as the listener logs any failure to handle one."""
    data = json.loads(text)
    kind = data.get("type") if isinstance(data, dict) else None
    if kind == "match":
        changed = data.get("changed")
        if changed is not None and changed not in SIDES:
            raise ValueError(f"bus: {changed!r} is not a side")
        return MatchChanged(match_from_dict(data["match"]), changed)
    if kind == "account":
        if not all(isinstance(data.get(key), int) for key in ("id", "generation")):
            raise ValueError("bus: an account message needs an id and a generation")
        return AccountEnded(data["id"], data["generation"], bool(data.get("revoked")))
    if kind == "watching":
        return Watching(str(data["worker"]), int(data["watching"]))
    label = f"of type {kind!r}" if isinstance(kind, str) else "without a type"
    if label not in _refused_types:
        _refused_types.add(label)
        log.warning("bus: refused a message %s (and will refuse any more like it quietly)", label)
    else:
        log.debug("bus: refused a message %s", label)
    return None
