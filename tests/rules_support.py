"""Matches played up to a point through the rules, for the rule tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from livescores.matches import Event, EventKind, Match, Minute, replay

T0 = datetime(2025, 8, 16, 14, 0, tzinfo=UTC)
LEAGUE = Match("l1", "Arsenal", "Chelsea", T0, "Premier League", round="Matchday 1", competition_format="league")
CUP = Match("c1", "Arsenal", "Chelsea", T0, "FA Cup", round="Quarter-finals", competition_format="cup")


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def event(kind: EventKind, when: float = 0, **fields: object) -> Event:
    """An event `when` minutes after kick-off (T0)."""
    return Event(kind, at(when), **fields)  # type: ignore[arg-type]


def goal(side: str, minute: int, added: int = 0, **fields: object) -> Event:
    return event("goal", 0, side=side, minute=Minute(minute, added), **fields)


FIRST_HALF = [event("kick_off")]
SECOND_HALF = [*FIRST_HALF, event("half_time", 47), event("second_half", 62)]
EXTRA_TIME = [*SECOND_HALF, event("extra_time", 112)]
ET_SECOND_HALF = [*EXTRA_TIME, event("extra_time_half_time", 128), event("extra_time_second_half", 130)]
PENALTIES = [*ET_SECOND_HALF, event("penalties", 147, side="home")]


def play(fixture: Match, events: list[Event]) -> Match:
    return replay(fixture, events)


def kick(side: str, outcome: str, player: str | None = None) -> Event:
    return event("shootout_kick", 150, side=side, outcome=outcome, player=player)
