"""A past result told as the events a finished match's log would hold, and replayed.

The rules need a minute for every goal, so a result whose file names no scorers is told
without goals (`Story.goals_missing`) and its score is carried by the result; extra time and
shoot-outs are not events yet, so a story ends at 90 minutes (`Story.beyond_rules`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from livescores.matches import HALF_MINUTES, Event, Match, Minute, replay
from livescores.openfootball import FULL_MINUTES, Fixture, Goal, Season

HALF_TIME_BREAK = timedelta(minutes=15)


@dataclass(frozen=True)
class Story:
    """The events a finished match's log would hold; iterable, so `replay(match, story)`."""

    events: tuple[Event, ...]
    # The file gives the score but not who scored when: the log has no goals, the score is in
    # the fixture's result (see `final_match`).
    goals_missing: bool = False
    # Extra time or a shoot-out followed, which the rules cannot record yet: the log ends at 90
    # minutes, and the rest stays in the fixture's result.
    beyond_rules: bool = False

    def __iter__(self) -> Iterator[Event]:
        return iter(self.events)

    def __len__(self) -> int:
        return len(self.events)


def story(fixture: Fixture) -> Story:
    """Kick-off, first-half goals, half-time, second half, second-half goals, full-time, each
    at a realistic moment from the kick-off (a 15-minute break; a half lasts until its latest
    goal's added time). Nothing for a match not yet played."""
    result = fixture.result
    if result is None:
        return Story(())
    goals = result.goals or ()
    first = [goal for goal in goals if goal.minute.base <= HALF_MINUTES]
    second = [goal for goal in goals if HALF_MINUTES < goal.minute.base <= FULL_MINUTES]
    first_end = Minute(HALF_MINUTES, max((goal.minute.added for goal in first), default=0))
    second_end = Minute(FULL_MINUTES, max((goal.minute.added for goal in second), default=0))
    half_time_at = fixture.kickoff + timedelta(minutes=HALF_MINUTES + first_end.added)
    second_half_at = half_time_at + HALF_TIME_BREAK
    full_time_at = second_half_at + timedelta(minutes=HALF_MINUTES + second_end.added)
    events = [
        Event("kick_off", fixture.kickoff),
        *(_goal_event(goal, fixture.kickoff, 0) for goal in first),
        Event("half_time", half_time_at, minute=first_end),
        Event("second_half", second_half_at),
        *(_goal_event(goal, second_half_at, HALF_MINUTES) for goal in second),
        Event("full_time", full_time_at, minute=second_end),
    ]
    beyond = result.extra_time is not None or result.penalties is not None
    return Story(tuple(events), result.goals is None and result.full_time != (0, 0), beyond)


def _goal_event(goal: Goal, half_started: datetime, before: int) -> Event:
    # The 23rd minute is the one that began 22 minutes into the match: mid-way through it.
    elapsed = timedelta(minutes=goal.minute.base - before - 1 + goal.minute.added, seconds=30)
    return Event("goal", half_started + elapsed, goal.side, goal.scorer, goal.minute, goal.penalty, goal.own_goal)


def to_match(season: Season, fixture: Fixture, match_id: str | None = None) -> Match:
    """The fixture as the rules hold it, before any event; the id defaults to the
    competition's slug and the fixture's number."""
    competition = season.competition
    return Match(
        match_id or f"{competition.slug}-{fixture.number}",
        fixture.home,
        fixture.away,
        fixture.kickoff,
        competition.name,
        competition_slug=competition.slug,
        round=fixture.round,
        group=fixture.group,
        leg=fixture.leg,
        venue=fixture.venue,
        home_slug=season.team(fixture.home).slug,
        away_slug=season.team(fixture.away).slug,
    )


def final_match(season: Season, fixture: Fixture, match_id: str | None = None) -> Match:
    """The match replayed from its story; where the file names no scorers, with the 90-minute
    score set from the result, so it counts in a table (its timeline then has no goals)."""
    told = story(fixture)
    match = replay(to_match(season, fixture, match_id), told)
    if told.goals_missing and fixture.result is not None:
        home, away = fixture.result.full_time
        match = replace(match, home_score=home, away_score=away)
    return match
