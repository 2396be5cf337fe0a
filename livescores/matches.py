"""The rules of a match: plain data and pure functions, no I/O.

A match is its fixture plus an append-only log of events; everything a viewer sees is
derived by replaying that log, so a correction is just another event.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal, get_args

Side = Literal["home", "away"]
Status = Literal["scheduled", "first_half", "half_time", "second_half", "full_time"]
EventKind = Literal["kick_off", "half_time", "second_half", "full_time", "goal", "yellow_card", "red_card", "undo"]

SIDES: tuple[Side, ...] = get_args(Side)
EVENT_KINDS: tuple[EventKind, ...] = get_args(EventKind)
STATUS_CHANGES: dict[EventKind, tuple[Status, Status]] = {
    "kick_off": ("scheduled", "first_half"),
    "half_time": ("first_half", "half_time"),
    "second_half": ("half_time", "second_half"),
    "full_time": ("second_half", "full_time"),
}
IN_PLAY: frozenset[Status] = frozenset({"first_half", "second_half"})
# Kicked off and not yet over: a match in this state stays on today's board past midnight.
UNDERWAY: frozenset[Status] = frozenset({"first_half", "half_time", "second_half"})
HALF_MINUTES = 45
MAX_ADDED_MINUTES = 30
MAX_NAME_LENGTH = 40
STATUS_LABELS: dict[EventKind, str] = {
    "kick_off": "Kick-off",
    "half_time": "Half-time",
    "second_half": "Second half",
    "full_time": "Full-time",
}


# Format characters (zero-width joiners, direction marks) and spaces show nothing on their own.
INVISIBLE = frozenset({"Cf", "Zs", "Mn", "Me"})


class RuleViolation(ValueError):
    """An event the rules refuse; its message is shown to the scorer as is."""


@dataclass(frozen=True)
class Minute:
    """A match minute as football shows it: 45+2 is `Minute(45, 2)`."""

    base: int
    added: int = 0

    def __str__(self) -> str:
        return f"{self.base}+{self.added}'" if self.added else f"{self.base}'"

    @property
    def order(self) -> tuple[int, int]:
        return (self.base, self.added)


@dataclass(frozen=True)
class Event:
    kind: EventKind
    at: datetime
    side: Side | None = None
    player: str | None = None
    minute: Minute | None = None
    penalty: bool = False
    own_goal: bool = False
    recorded_by: str | None = None


@dataclass(frozen=True)
class Incident:
    """An event still standing after replay: a goal or a card (with side and minute), or a
    status change (its minute is when a half ended; none for a half starting)."""

    kind: EventKind
    side: Side | None
    player: str | None
    minute: Minute | None
    penalty: bool = False
    own_goal: bool = False
    second_yellow: bool = False  # a red card that a player's second yellow card became

    @property
    def is_status_change(self) -> bool:
        return self.kind in STATUS_CHANGES


@dataclass(frozen=True)
class Match:
    id: str
    home: str
    away: str
    kickoff: datetime | None = None
    competition: str | None = None  # the competition's name, as rows show it
    version: int = 0
    status: Status = "scheduled"
    period_started_at: datetime | None = None
    home_score: int = 0
    away_score: int = 0
    incidents: tuple[Incident, ...] = field(default=())
    # Where the match sits in the calendar (see calendar.py): these never change with events.
    competition_slug: str | None = None
    round: str | None = None  # "Matchday 12", "Group C", "Round of 16", "Final"
    group: str | None = None  # "Group C", for a group stage's table
    leg: int | None = None  # 1 or 2 in a two-legged tie
    venue: str | None = None
    home_slug: str | None = None
    away_slug: str | None = None

    @property
    def fixture(self) -> Match:
        """The match as it was before any event: its place in the calendar, no state."""
        return Match(
            self.id,
            self.home,
            self.away,
            self.kickoff,
            self.competition,
            competition_slug=self.competition_slug,
            round=self.round,
            group=self.group,
            leg=self.leg,
            venue=self.venue,
            home_slug=self.home_slug,
            away_slug=self.away_slug,
        )

    def score(self, side: Side) -> int:
        return self.home_score if side == "home" else self.away_score

    def team(self, side: Side) -> str:
        return self.home if side == "home" else self.away

    @property
    def in_play(self) -> bool:
        return self.status in IN_PLAY

    @property
    def underway(self) -> bool:
        return self.status in UNDERWAY

    def goals(self, side: Side) -> tuple[Incident, ...]:
        return tuple(i for i in self.incidents if i.kind == "goal" and i.side == side)

    def red_cards(self, side: Side) -> tuple[Incident, ...]:
        return tuple(i for i in self.incidents if i.kind == "red_card" and i.side == side)

    @property
    def timeline(self) -> tuple[Incident, ...]:
        """The incidents in match order: a goal entered late, with its own earlier minute, is
        shown where it happened. Within a half by minute, then as recorded; a half's start
        before everything in it and its end after."""
        half = 0
        keyed: list[tuple[int, int, tuple[int, int], int, Incident]] = []
        for index, incident in enumerate(self.incidents):
            if incident.kind in ("kick_off", "second_half"):
                half += 1
                keyed.append((half, 0, (0, 0), index, incident))
            elif incident.is_status_change:
                keyed.append((half, 2, (0, 0), index, incident))
            else:
                keyed.append((half, 1, incident.minute.order if incident.minute else (0, 0), index, incident))
        return tuple(item[-1] for item in sorted(keyed, key=lambda item: item[:4]))

    @property
    def last_incident(self) -> Incident | None:
        """What an undo would cancel."""
        return self.incidents[-1] if self.incidents else None

    @property
    def next_status_change(self) -> EventKind | None:
        return next((kind for kind, (before, _) in STATUS_CHANGES.items() if before == self.status), None)

    def summary(self, incident: Incident) -> str:
        """One line of plain text for an incident, e.g. "Goal, Arsenal: Walcott 45+2' (pen)"."""
        if incident.is_status_change or incident.side is None:
            return STATUS_LABELS.get(incident.kind, incident.kind)
        what = {"goal": "Goal", "yellow_card": "Yellow card", "red_card": "Red card"}.get(incident.kind, incident.kind)
        if incident.second_yellow:
            what = "Red card (second yellow)"
        who = f"{incident.player} " if incident.player else ""
        flags = " (pen)" if incident.penalty else " (og)" if incident.own_goal else ""
        return f"{what}, {self.team(incident.side)}: {who}{incident.minute}{flags}"

    def booked(self, side: Side, player: str) -> bool:
        """Whether this side's player has already been shown a yellow card in this match."""
        wanted = player.casefold()
        return any(
            card.kind == "yellow_card" and card.side == side and (card.player or "").casefold() == wanted
            for card in self.incidents
        )

    def sent_off(self, side: Side, player: str) -> str | None:
        """The name as recorded on the red card, if this side's player has been sent off."""
        wanted = player.casefold()
        return next((card.player for card in self.red_cards(side) if (card.player or "").casefold() == wanted), None)


def clean_name(raw: object, what: str = "player name", limit: int = MAX_NAME_LENGTH) -> str | None:
    """Trim a free-text name; blank means 'not given'. Refuses control characters, lone
    surrogates (text no page or frame can encode), names with nothing visible, overlong names."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise RuleViolation(f"The {what} must be text.")
    name = " ".join(raw.split())
    if not name:
        return None
    categories = [unicodedata.category(ch) for ch in name]
    if "Cc" in categories:
        raise RuleViolation(f"The {what} contains control characters.")
    if "Cs" in categories:
        raise RuleViolation(f"The {what} is not valid text.")
    if all(category in INVISIBLE for category in categories):
        raise RuleViolation(f"The {what} has no visible characters.")
    if len(name) > limit:
        raise RuleViolation(f"The {what} is longer than {limit} characters.")
    return name


def current_minute(match: Match, now: datetime) -> Minute | None:
    """The running clock of a half in play, None when the ball is not rolling. It stops at the
    most added time the rules accept, so a half nobody ends still takes events."""
    if not match.in_play or match.period_started_at is None:
        return None
    elapsed = max(0, int((now - match.period_started_at).total_seconds() // 60))
    offset = 0 if match.status == "first_half" else HALF_MINUTES
    minute = offset + elapsed + 1
    end = offset + HALF_MINUTES
    return Minute(end, min(minute - end, MAX_ADDED_MINUTES)) if minute > end else Minute(minute)


def _half_ends_at(match: Match, now: datetime) -> Minute | None:
    """The clock's minute, or the latest minute recorded in this half if that is later: a
    scorer's minutes follow the referee's watch, which the server's clock only approximates."""
    clock = current_minute(match, now)
    starts = [i for i, incident in enumerate(match.incidents) if incident.kind in ("kick_off", "second_half")]
    in_this_half = match.incidents[starts[-1] + 1 :] if starts else match.incidents
    recorded = [incident.minute for incident in in_this_half if incident.minute is not None]
    latest = max(recorded, key=lambda minute: minute.order, default=None)
    if clock is None or (latest is not None and latest.order > clock.order):
        return latest
    return clock


def clock_label(match: Match, now: datetime) -> str:
    minute = current_minute(match, now)
    if minute is not None:
        return str(minute)
    return {"scheduled": "", "half_time": "HT", "full_time": "FT"}.get(match.status, "")


def check_minute(match: Match, minute: Minute) -> None:
    first = 1 if match.status == "first_half" else HALF_MINUTES + 1
    last = first + HALF_MINUTES - 1
    if not first <= minute.base <= last:
        raise RuleViolation(f"The minute must be between {first} and {last} in this half.")
    if minute.added and minute.base != last:
        raise RuleViolation(f"Added time only follows the {last}th minute.")
    if not 0 <= minute.added <= MAX_ADDED_MINUTES:
        raise RuleViolation(f"Added time must be between 0 and {MAX_ADDED_MINUTES} minutes.")


def apply(match: Match, event: Event) -> Match:
    """The match after one more event; raises RuleViolation and changes nothing when refused."""
    if event.kind == "undo":
        raise RuleViolation("An undo is resolved by replay, not applied.")
    bumped = replace(match, version=match.version + 1)
    if event.kind in STATUS_CHANGES:
        before, after = STATUS_CHANGES[event.kind]
        if match.status != before:
            raise RuleViolation(
                f"Cannot record {STATUS_LABELS[event.kind].lower()} while the match is {describe(match.status)}."
            )
        ended = None
        if before in IN_PLAY:
            ended = event.minute or _half_ends_at(match, event.at)
            if ended is not None:
                check_minute(match, ended)
        marker = Incident(event.kind, None, None, ended)
        started = event.at if after in IN_PLAY else None
        return replace(bumped, status=after, period_started_at=started, incidents=(*match.incidents, marker))
    if event.kind not in ("goal", "yellow_card", "red_card"):
        raise RuleViolation(f"Unknown event {event.kind!r}.")
    if not match.in_play:
        raise RuleViolation(f"The match is {describe(match.status)}: goals and cards need the ball in play.")
    if event.side not in SIDES:
        raise RuleViolation("The side must be home or away.")
    if event.kind != "goal" and (event.penalty or event.own_goal):
        raise RuleViolation("Only a goal can be a penalty or an own goal.")
    if event.penalty and event.own_goal:
        raise RuleViolation("A goal cannot be both a penalty and an own goal.")
    player = clean_name(event.player)
    # An own goal counts for one side and is scored by a player of the other.
    players_side: Side = event.side if not event.own_goal else ("away" if event.side == "home" else "home")
    sent_off = match.sent_off(players_side, player) if player is not None else None
    if sent_off is not None:
        raise RuleViolation(f"{sent_off} has already been sent off.")
    minute = event.minute or current_minute(match, event.at)
    assert minute is not None
    check_minute(match, minute)
    incident = Incident(event.kind, event.side, player, minute, event.penalty, event.own_goal)
    if event.kind == "yellow_card" and player is not None and match.booked(event.side, player):
        # The laws of the game: a second caution in a match is a sending-off.
        incident = replace(incident, kind="red_card", second_yellow=True)
    incidents = (*match.incidents, incident)
    if event.kind == "goal":
        if event.side == "home":
            return replace(bumped, home_score=match.home_score + 1, incidents=incidents)
        return replace(bumped, away_score=match.away_score + 1, incidents=incidents)
    return replace(bumped, incidents=incidents)


def replay(fixture: Match, events: Iterable[Event]) -> Match:
    """Fold the log over the fixture; an undo cancels the latest event still standing."""
    standing: list[Event] = []
    count = 0
    for event in events:
        count += 1
        if event.kind == "undo":
            if not standing:
                raise RuleViolation("There is nothing to undo.")
            standing.pop()
        else:
            standing.append(event)
    match = fixture.fixture
    for event in standing:
        match = apply(match, event)
    return replace(match, version=count)


def fill_minute(match: Match, event: Event) -> Event:
    """Give a goal or card recorded without a minute the match clock's minute, so replays agree."""
    if event.kind in ("goal", "yellow_card", "red_card") and event.minute is None:
        return replace(event, minute=current_minute(match, event.at))
    return event


def describe(status: Status) -> str:
    return {
        "scheduled": "not started",
        "first_half": "in the first half",
        "half_time": "at half-time",
        "second_half": "in the second half",
        "full_time": "over",
    }[status]
