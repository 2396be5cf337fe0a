"""`livescores simulate`: matches played at a chosen speed through the scorers' write path.

A match the shipped data knows (the demo's) gets its real goals in their real minutes;
any other gets plausible random ones.

The choices (when a goal or a card falls, who gets it) are pure functions of a random source;
the loop around them sleeps in real time and records through `Scoreboard.record`, exactly as
a scorer's click does, so every open page sees the simulated matches live.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from .matches import HALF_MINUTES, EventKind, Match, Minute, RuleViolation, Side, current_minute
from .messages import Command
from .openfootball import SHIPPED, Goal, Season, load_shipped
from .scoreboard import Scoreboard

log = logging.getLogger(__name__)

SIMULATOR = "simulator"
HALF_TIME_BREAK_MINUTES = 15
# Per-minute chances, from a typical top-flight season: ~2.7 goals, ~3.6 yellow and ~0.1 red cards a match.
GOAL_CHANCE = 2.7 / 90
YELLOW_CHANCE = 3.6 / 90
RED_CHANCE = 0.12 / 90
PLAYERS = (
    "Adeyemi", "Bergström", "Costa", "Dubois", "Eriksen", "Fernández", "García", "Haddad", "Ito",
    "Jovanović", "Kowalski", "Larsen", "Mensah", "Novak", "O'Brien", "Pereira", "Rossi", "Silva",
    "Tanaka", "Van Dijk", "Walker", "Yilmaz", "Zieliński",
)  # fmt: skip


@dataclass(frozen=True)
class Happening:
    kind: EventKind
    side: Side
    player: str | None
    penalty: bool = False
    own_goal: bool = False


def happenings(rng: random.Random) -> list[Happening]:
    """What happens in one minute of play (usually nothing)."""
    found: list[Happening] = []
    side: Side
    if rng.random() < GOAL_CHANCE:
        side = rng.choice(("home", "away"))
        kind = rng.random()
        name = rng.choice(PLAYERS) if rng.random() < 0.9 else None
        found.append(Happening("goal", side, name, penalty=kind < 0.1, own_goal=0.1 <= kind < 0.14))
    if rng.random() < YELLOW_CHANCE:
        found.append(Happening("yellow_card", rng.choice(("home", "away")), rng.choice(PLAYERS)))
    if rng.random() < RED_CHANCE:
        found.append(Happening("red_card", rng.choice(("home", "away")), rng.choice(PLAYERS)))
    return found


def next_minute(previous: Minute | None, match: Match, now: datetime) -> Minute:
    """The simulated clock's next minute in the half being played; a fresh half (or a match
    the simulator joins) starts from the match clock."""
    first, last = (1, HALF_MINUTES) if match.status == "first_half" else (HALF_MINUTES + 1, 2 * HALF_MINUTES)
    if previous is None or not first <= previous.base <= last:
        return current_minute(match, now) or Minute(first)
    if previous.base < last:
        return Minute(previous.base + 1)
    return Minute(last, previous.added + 1)


def real_goals(match: Match) -> tuple[Goal, ...] | None:
    """The goals the shipped data records for this match (found by competition, round and
    teams, whatever its kick-off), or None when it has none: the demo's matches play as they
    were really played."""
    for relative in SHIPPED:
        season = _shipped(relative)
        if season.competition.slug != match.competition_slug:
            continue
        for fixture in season.fixtures:
            if (fixture.round, fixture.home, fixture.away) == (match.round, match.home, match.away):
                return fixture.result.goals if fixture.result is not None else None
    return None


@functools.cache
def _shipped(relative: str) -> Season:
    return load_shipped(relative)


def scripted(goals: tuple[Goal, ...], minute: Minute) -> list[Happening]:
    return [Happening("goal", g.side, g.scorer, g.penalty, g.own_goal) for g in goals if g.minute == minute]


class Simulator:
    def __init__(self, scoreboard: Scoreboard, speed: float, rng: random.Random | None = None) -> None:
        if not 0 < speed <= 100_000:
            raise ValueError("The speed must be above 0 and at most 100000.")
        self.scoreboard = scoreboard
        self.minute_seconds = 60.0 / speed
        self.rng = rng or random.Random()

    async def run(self, match_ids: Sequence[str]) -> None:
        await asyncio.gather(*(self.play(match_id) for match_id in match_ids))

    async def play(self, match_id: str) -> None:
        """Play one match to full time from wherever it stands."""
        clock: Minute | None = None
        added = {"first_half": self.rng.randint(0, 4), "second_half": self.rng.randint(1, 6)}
        match = await self.scoreboard.store.get_match(match_id)
        goals = real_goals(match) if match is not None else None
        for goal in goals or ():
            # A half lasts at least until its last real goal.
            half = "first_half" if goal.minute.base <= HALF_MINUTES else "second_half"
            added[half] = max(added[half], goal.minute.added)
        while True:
            match = await self.scoreboard.store.get_match(match_id)
            if match is None or match.status == "full_time":
                return
            if match.status == "scheduled":
                await self._record(match, "kick_off")
            elif match.status == "half_time":
                await asyncio.sleep(HALF_TIME_BREAK_MINUTES * self.minute_seconds)
                await self._record(match, "second_half")
            else:
                clock = next_minute(clock, match, datetime.now(UTC))
                if clock.added > added[match.status]:
                    ended = Minute(clock.base, clock.added - 1)
                    await self._record(match, "half_time" if match.status == "first_half" else "full_time", None, ended)
                    clock = None
                    continue
                await asyncio.sleep(self.minute_seconds)
                happened = happenings(self.rng)
                if goals is not None:  # the real goals, in their minutes, and no others
                    happened = [h for h in happened if h.kind != "goal"] + scripted(goals, clock)
                for happening in happened:
                    await self._record(match, happening.kind, happening, clock)

    async def _record(
        self, match: Match, kind: EventKind, happening: Happening | None = None, minute: Minute | None = None
    ) -> None:
        command = Command(match.id, kind, minute=minute)
        if happening is not None:
            command = Command(
                match.id, kind, happening.side, happening.player, minute, happening.penalty, happening.own_goal
            )
        try:
            await self.scoreboard.record(command, SIMULATOR)
        except RuleViolation as error:
            # Someone else moved the match on (or a sent-off player came up): read it again next time.
            log.info("simulate: %s for %s refused: %s", kind, match.id, error)
