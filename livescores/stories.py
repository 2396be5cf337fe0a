"""A past result told as the events a finished match's log would hold, and replayed.

The rules need a minute for every goal, so a result whose file names no scorers is told
without goals (`Story.goals_missing`) and its score is carried by the result. Extra time is
told with its goals; a shoot-out, of which the files give only the score, is told as the
shortest sequence of kicks, home side first, that ends at that score.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from livescores.matches import HALF_MINUTES, Event, Match, Minute, replay
from livescores.openfootball import FULL_MINUTES, Fixture, Goal, Season
from livescores.shootout import Kick, next_kicker, shootout_score, shootout_winner
from livescores.statuses import Side

HALF_TIME_BREAK = timedelta(minutes=15)
EXTRA_TIME_BREAK = timedelta(minutes=5)
EXTRA_HALF_MINUTES = 15
KICK_SECONDS = 75  # between two kicks of a shoot-out
MOST_KICKS = 60


@dataclass(frozen=True)
class Story:
    """The events a finished match's log would hold; iterable, so `replay(match, story)`."""

    events: tuple[Event, ...]
    # The file gives the score but not who scored when: the log is one `result` event.
    goals_missing: bool = False
    # What followed cannot be told as events (a shoot-out score no sequence of kicks ends at):
    # the log ends before it, and the rest stays in the fixture's result.
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
    if result.goals is None:
        # Only the score is known: one event records it, and the timeline says so.
        home, away = result.extra_time or result.full_time
        played = 120 if result.extra_time is not None else 90
        recorded = Event("result", fixture.kickoff, home_score=home, away_score=away, minutes=played)
        return Story((recorded,), goals_missing=True, beyond_rules=result.penalties is not None)
    goals = result.goals or ()
    first = [goal for goal in goals if goal.minute.base <= HALF_MINUTES]
    second = [goal for goal in goals if HALF_MINUTES < goal.minute.base <= FULL_MINUTES]
    first_end = Minute(HALF_MINUTES, max((goal.minute.added for goal in first), default=0))
    second_end = Minute(FULL_MINUTES, max((goal.minute.added for goal in second), default=0))
    half_time_at = fixture.kickoff + timedelta(minutes=HALF_MINUTES + first_end.added)
    second_half_at = half_time_at + HALF_TIME_BREAK
    events = [
        Event("kick_off", fixture.kickoff),
        *(_goal_event(goal, fixture.kickoff, 0) for goal in first),
        Event("half_time", half_time_at, minute=first_end),
        Event("second_half", second_half_at),
        *(_goal_event(goal, second_half_at, HALF_MINUTES) for goal in second),
    ]
    ended_at = second_half_at + timedelta(minutes=HALF_MINUTES + second_end.added)
    if result.extra_time is None and result.penalties is None:
        events.append(Event("full_time", ended_at, minute=second_end))
        return Story(tuple(events))
    extra, ended_at, ended = _extra_time(goals, ended_at, second_end)
    events += extra
    if result.penalties is None:
        events.append(Event("full_time", ended_at, minute=ended))
        return Story(tuple(events))
    kicks = shootout_sequence(result.penalties, "home")
    if kicks is None:
        return Story(tuple(events), beyond_rules=True)
    events.append(Event("penalties", ended_at, "home", minute=ended))
    for number, (side, scored) in enumerate(kicks, start=1):
        at = ended_at + timedelta(seconds=KICK_SECONDS * number)
        events.append(Event("shootout_kick", at, side, outcome="scored" if scored else "missed"))
    return Story(tuple(events))


def _extra_time(goals: tuple[Goal, ...], started: datetime, ninety: Minute) -> tuple[list[Event], datetime, Minute]:
    """Both halves of extra time with their goals: the events, when it ended, its last minute."""
    end_first, end_second = FULL_MINUTES + EXTRA_HALF_MINUTES, FULL_MINUTES + 2 * EXTRA_HALF_MINUTES
    first = [goal for goal in goals if FULL_MINUTES < goal.minute.base <= end_first]
    second = [goal for goal in goals if end_first < goal.minute.base]
    first_end = Minute(end_first, max((goal.minute.added for goal in first), default=0))
    second_end = Minute(end_second, max((goal.minute.added for goal in second), default=0))
    first_started = started + EXTRA_TIME_BREAK
    break_at = first_started + timedelta(minutes=EXTRA_HALF_MINUTES + first_end.added)
    second_started = break_at + EXTRA_TIME_BREAK
    events = [
        Event("extra_time", first_started, minute=ninety),
        *(_goal_event(goal, first_started, FULL_MINUTES) for goal in first),
        Event("extra_time_half_time", break_at, minute=first_end),
        Event("extra_time_second_half", second_started),
        *(_goal_event(goal, second_started, end_first) for goal in second),
    ]
    return events, second_started + timedelta(minutes=EXTRA_HALF_MINUTES + second_end.added), second_end


def shootout_sequence(score: tuple[int, int], first: Side) -> list[Kick] | None:
    """The shortest run of kicks, `first` kicking first, after which the shoot-out is decided
    at exactly `score` (home, away); None if no run ends there (a level or impossible score)."""
    wanted = {"home": score[0], "away": score[1]}
    queue: list[list[Kick]] = [[]]
    while queue:
        kicks = queue.pop(0)
        if len(kicks) >= MOST_KICKS:
            return None
        side = next_kicker(first, kicks)
        scored_so_far = shootout_score(kicks)[0 if side == "home" else 1]
        for scored in (True, False):
            if scored and scored_so_far >= wanted[side]:
                continue
            after = [*kicks, (side, scored)]
            if shootout_winner(after) is not None:
                if shootout_score(after) == score:
                    return after
                continue
            queue.append(after)
    return None


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
    """The match replayed from its story."""
    return replay(to_match(season, fixture, match_id), story(fixture))
