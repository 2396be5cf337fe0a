"""The rules of a match: plain data and pure functions, no I/O.

A match is its fixture plus an append-only log of events; everything a viewer sees is
derived by replaying that log, so a correction is just another event. Each event still
standing leaves exactly one incident, so the latest incident is always what an undo cancels.

Here: `apply` and `replay`. The data is in `model.py`, the vocabulary in `statuses.py`, the
clock in `clock.py`, each kind's step in `steps.py`, what may happen next in `transitions.py`,
knockout ties in `ties.py`, the shoot-out in `shootout.py`, line-ups in `lineups.py`; every
name is importable from here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from .clock import (
    MAX_ADDED_MINUTES,
    added_time_label,
    check_minute,
    clock_label,
    current_minute,
    score_extras,
    score_line,
)
from .lineups import MAX_SUBSTITUTES, STARTING_PLAYERS, Lineup, check_formation, check_lineup
from .model import Event, Incident, Match, Minute
from .names import INVISIBLE, MAX_NAME_LENGTH, clean_name
from .said import N_
from .statuses import (
    BREAKS,
    DECIDED_BY,
    DISALLOW_REASONS,
    EVENT_KINDS,
    HALF_MINUTES,
    IN_PLAY,
    KICK_OUTCOMES,
    LIFECYCLE_KINDS,
    MISS_OUTCOMES,
    OVER,
    PERIODS,
    SIDES,
    STATUS_CHANGES,
    STATUS_KINDS,
    STATUS_LABELS,
    STATUSES,
    UNDERWAY,
    VAR_DECISIONS,
    DecidedBy,
    DisallowReason,
    EventKind,
    KickOutcome,
    RuleViolation,
    Side,
    Status,
    VarDecision,
    describe,
)
from .steps import STEPS
from .ties import aggregate, can_go_to_extra_time, extra_time_refusal, is_knockout, tie_level, winner
from .transitions import ACTIONS, allowed_actions, refusal

__all__ = [
    "ACTIONS",
    "BREAKS",
    "DECIDED_BY",
    "DISALLOW_REASONS",
    "EVENT_KINDS",
    "HALF_MINUTES",
    "INVISIBLE",
    "IN_PLAY",
    "KICK_OUTCOMES",
    "LIFECYCLE_KINDS",
    "MAX_ADDED_MINUTES",
    "MAX_NAME_LENGTH",
    "MAX_SUBSTITUTES",
    "MISS_OUTCOMES",
    "OVER",
    "PERIODS",
    "SIDES",
    "STARTING_PLAYERS",
    "STATUSES",
    "STATUS_CHANGES",
    "STATUS_KINDS",
    "STATUS_LABELS",
    "UNDERWAY",
    "VAR_DECISIONS",
    "DecidedBy",
    "DisallowReason",
    "Event",
    "EventKind",
    "Incident",
    "KickOutcome",
    "Lineup",
    "Match",
    "Minute",
    "RuleViolation",
    "Side",
    "Status",
    "VarDecision",
    "added_time_label",
    "aggregate",
    "allowed_actions",
    "apply",
    "can_go_to_extra_time",
    "check_formation",
    "check_lineup",
    "check_minute",
    "clean_name",
    "clock_label",
    "current_minute",
    "describe",
    "extra_time_refusal",
    "fill_minute",
    "is_knockout",
    "refusal",
    "replay",
    "score_extras",
    "score_line",
    "tie_level",
    "winner",
]

# Events whose minute, when the scorer leaves it blank, is the match clock's.
CLOCKED_KINDS: frozenset[EventKind] = frozenset(
    {"goal", "yellow_card", "red_card", "penalty_missed", "var", "substitution"}
)


def apply(match: Match, event: Event) -> Match:
    """The match after one more event; raises RuleViolation and changes nothing when refused."""
    if event.kind == "undo":
        raise RuleViolation(N_("An undo is resolved by replay, not applied."))
    step = STEPS.get(event.kind)
    if step is None:
        raise RuleViolation(N_("Unknown event %(kind)r.", kind=event.kind))
    reason = refusal(match, event.kind)
    if reason is not None:
        raise RuleViolation(reason)
    return step(match, event, replace(match, version=match.version + 1))


def replay(fixture: Match, events: Iterable[Event]) -> Match:
    """Fold the log over the fixture; an undo cancels the latest event still standing. Each
    event is applied at the version it made in the log, so incidents keep their versions
    (which VAR decisions name) whatever was undone before them."""
    standing: list[tuple[int, Event]] = []
    count = 0
    for event in events:
        count += 1
        if event.kind == "undo":
            if not standing:
                raise RuleViolation(N_("There is nothing to undo."))
            standing.pop()
        else:
            standing.append((count, event))
    match = fixture.fixture
    for version, event in standing:
        match = apply(replace(match, version=version - 1), event)
    return replace(match, version=count)


def fill_minute(match: Match, event: Event) -> Event:
    """Give an event recorded without a minute the match clock's minute, so replays agree."""
    # A disallowed goal stands in the timeline at the goal's own minute, not the review's.
    reviewed_goal = event.kind == "var" and event.decision == "goal_disallowed"
    if event.kind in CLOCKED_KINDS and event.minute is None and match.in_play and not reviewed_goal:
        return replace(event, minute=current_minute(match, event.at))
    return event
