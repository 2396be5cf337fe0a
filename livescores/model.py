"""A match as plain data: its fixture, its log's events, the incidents they leave, and what
a viewer reads off them (goals, cards, line-ups, the shoot-out, the timeline)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .calendar import Format
from .lineups import Lineup
from .names import same_name
from .said import N_, Said, Word
from .shootout import Kick, next_kicker, shootout_score, shootout_winner
from .statuses import (
    IN_PLAY,
    MAIN_LINE,
    OVER,
    PERIOD_STARTS,
    STATUS_KINDS,
    STATUS_LABELS,
    UNDERWAY,
    DecidedBy,
    DisallowReason,
    EventKind,
    KickOutcome,
    Side,
    Status,
    VarDecision,
)
from .ties import aggregate, winner
from .transitions import refusal


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
    """One entry of a match's log, as a scorer sent it. Each kind reads only its own fields."""

    kind: EventKind
    at: datetime
    side: Side | None = None  # for `penalties`, the side that kicks first
    player: str | None = None  # for a substitution, the player going off
    minute: Minute | None = None
    penalty: bool = False
    own_goal: bool = False
    recorded_by: str | None = None
    player_on: str | None = None
    outcome: KickOutcome | None = None  # a shoot-out kick, or a penalty missed in play (saved, missed)
    decision: VarDecision | None = None
    reason: DisallowReason | None = None  # why VAR disallowed a goal
    goal_version: int | None = None  # the goal VAR disallows, by the version its event made
    minutes: int | None = None  # added time announced
    kickoff: datetime | None = None  # a postponed match's new kick-off
    formation: str | None = None
    starting: tuple[str, ...] = ()
    substitutes: tuple[str, ...] = ()
    confirmed: bool = False
    home_score: int | None = None  # an awarded result
    away_score: int | None = None
    note: str | None = None


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
    player_on: str | None = None
    outcome: KickOutcome | None = None
    decision: VarDecision | None = None
    reason: DisallowReason | None = None
    minutes: int | None = None
    refers_to: int | None = None  # the version of the goal or card a VAR decision is about
    # The match version its event made: how VAR decisions name a goal or card. Left out of
    # equality because it says where the incident sits in the log, not what happened.
    version: int | None = field(default=None, compare=False)
    kickoff: datetime | None = None
    formation: str | None = None
    confirmed: bool = False
    note: str | None = None

    @property
    def is_status_change(self) -> bool:
        return self.kind in STATUS_KINDS

    @property
    def counts_as_goal(self) -> bool:
        return self.kind == "goal" or (self.kind == "var" and self.decision == "goal_awarded")

    @property
    def is_red_card(self) -> bool:
        return self.kind == "red_card" or (self.kind == "var" and self.decision == "red_card_upgraded")


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
    # What the calendar knows of the tie, set by whoever loads the match (see ties.py).
    competition_format: Format | None = None
    away_goals: bool = False  # the competition's setting: away goals decide a level tie
    first_leg_home: int | None = None  # a second leg: goals this match's home side scored in the first
    first_leg_away: int | None = None
    # State beyond the score, replayed from the log like the rest. How the match was decided,
    # the shoot-out and the announced added time are read off the incidents instead (see the
    # properties below), so they can never disagree with them.
    lineups: tuple[Lineup, ...] = ()
    postponed_from: datetime | None = None  # the kick-off first planned, once moved
    suspended_during: Status | None = None  # what play resumes as
    suspended_at: datetime | None = None

    @property
    def fixture(self) -> Match:
        """The match as it was before any event: its place in the calendar, no state."""
        return Match(
            self.id,
            self.home,
            self.away,
            self.postponed_from or self.kickoff,
            self.competition,
            competition_slug=self.competition_slug,
            round=self.round,
            group=self.group,
            leg=self.leg,
            venue=self.venue,
            home_slug=self.home_slug,
            away_slug=self.away_slug,
            competition_format=self.competition_format,
            away_goals=self.away_goals,
            first_leg_home=self.first_leg_home,
            first_leg_away=self.first_leg_away,
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

    @property
    def over(self) -> bool:
        return self.status in OVER

    def _ruled_out(self, decision: VarDecision) -> frozenset[int]:
        return frozenset(
            i.refers_to for i in self.incidents if i.decision == decision and i.kind == "var" and i.refers_to
        )

    def goals(self, side: Side) -> tuple[Incident, ...]:
        """The goals that count for a side: a goal disallowed by VAR no longer does; one it
        awarded does. Shoot-out kicks are never goals."""
        disallowed = self._ruled_out("goal_disallowed")
        return tuple(i for i in self.incidents if i.counts_as_goal and i.side == side and i.version not in disallowed)

    def red_cards(self, side: Side) -> tuple[Incident, ...]:
        rescinded = self._ruled_out("red_card_rescinded")
        return tuple(i for i in self.incidents if i.is_red_card and i.side == side and i.version not in rescinded)

    def lineup(self, side: Side) -> Lineup | None:
        return next((lineup for lineup in self.lineups if lineup.side == side), None)

    def substitutions(self, side: Side) -> tuple[Incident, ...]:
        return tuple(i for i in self.incidents if i.kind == "substitution" and i.side == side)

    @property
    def decided_by(self) -> DecidedBy | None:
        """How a finished match was decided: in normal time, after extra time, on penalties, or
        by the organisers."""
        if self.status == "awarded":
            return "awarded"
        if self.status != "full_time":
            return None
        if self.shootout_first is not None:
            return "penalties"
        if any(i.kind == "extra_time" or (i.kind == "result" and (i.minutes or 0) > 90) for i in self.incidents):
            return "extra_time"
        return "normal_time"

    @property
    def details_missing(self) -> bool:
        """A result recorded without its story: no goals, cards or times to show."""
        return any(i.kind == "result" for i in self.incidents)

    @property
    def shootout_first(self) -> Side | None:
        """The side that kicked first, once a shoot-out has begun."""
        return next((i.side for i in self.incidents if i.kind == "penalties"), None)

    @property
    def added_time(self) -> int | None:
        """The added time announced for the period being played (the latest announcement)."""
        if not self.in_play:
            return None
        for incident in reversed(self.incidents):
            if incident.kind == "added_time":
                return incident.minutes
            if incident.kind in PERIOD_STARTS:
                return None
        return None

    @property
    def award_note(self) -> str | None:
        return next((i.note for i in self.incidents if i.kind == "award"), None) if self.status == "awarded" else None

    @property
    def shootout_kicks(self) -> tuple[Incident, ...]:
        return tuple(i for i in self.incidents if i.kind == "shootout_kick")

    @property
    def _kicks(self) -> tuple[Kick, ...]:
        return tuple((kick.side, kick.outcome == "scored") for kick in self.shootout_kicks if kick.side is not None)

    @property
    def penalty_score(self) -> tuple[int, int] | None:
        """The shoot-out's score (home, away) once one has begun, else None."""
        return shootout_score(self._kicks) if self.shootout_first is not None else None

    @property
    def shootout_winner(self) -> Side | None:
        return shootout_winner(self._kicks) if self.shootout_first is not None else None

    @property
    def next_kicker(self) -> Side | None:
        """The side whose turn it is in a shoot-out under way."""
        if self.status != "penalties" or self.shootout_first is None:
            return None
        return next_kicker(self.shootout_first, self._kicks)

    @property
    def aggregate(self) -> tuple[int, int] | None:
        return aggregate(self)

    @property
    def winner(self) -> Side | None:
        return winner(self)

    @property
    def timeline(self) -> tuple[Incident, ...]:
        """The incidents in match order: a goal entered late, with its own earlier minute, is
        shown where it happened. Within a period by minute, then as recorded; a period's start
        before everything in it and a half's end after."""
        period = 0
        keyed: list[tuple[int, int, tuple[int, int], int, Incident]] = []
        for index, incident in enumerate(self.incidents):
            if incident.kind in PERIOD_STARTS:
                period += 1
                keyed.append((period, 0, (0, 0), index, incident))
            elif incident.kind in ("half_time", "extra_time_half_time", "full_time"):
                keyed.append((period, 2, (0, 0), index, incident))
            else:
                keyed.append((period, 1, incident.minute.order if incident.minute else (0, 0), index, incident))
        return tuple(item[-1] for item in sorted(keyed, key=lambda item: item[:4]))

    @property
    def last_incident(self) -> Incident | None:
        """What an undo would cancel."""
        return self.incidents[-1] if self.incidents else None

    @property
    def next_status_change(self) -> EventKind | None:
        """The step along the main line the controls offer first (see `allowed_actions` for all)."""
        return next((kind for kind in MAIN_LINE if refusal(self, kind) is None), None)

    def summary(self, incident: Incident) -> str:
        """One line of plain text for an incident, e.g. "Goal, Arsenal: Walcott 45+2' (pen)"; a
        `Said`, so the scorer's controls and the timeline say it in their language."""
        kind = incident.kind
        if kind == "penalties" and incident.side is not None:
            return N_("Penalty shoot-out: %(team)s kick first", team=self.team(incident.side))
        if kind == "postpone" and incident.kickoff is not None:
            return N_("Postponed to %(when)s", when=f"{incident.kickoff:%Y-%m-%d %H:%M %Z}".rstrip())
        score = {"home": self.home_score, "away": self.away_score}
        if kind == "award":
            if incident.note:
                return N_("Awarded %(home)s–%(away)s: %(note)s", note=incident.note, **score)
            return N_("Awarded %(home)s–%(away)s", **score)
        if kind == "added_time":
            return N_("Added time: +%(minutes)s", minutes=incident.minutes)
        if kind == "result":
            if (incident.minutes or 0) > 90:
                return N_("Result %(home)s–%(away)s after extra time: the match's details are not available", **score)
            return N_("Result %(home)s–%(away)s: the match's details are not available", **score)
        if incident.is_status_change or incident.side is None:
            return Word(kind, STATUS_LABELS.get(kind, kind))
        team = self.team(incident.side)
        who = f"{incident.player} " if incident.player else ""
        minute = f"{incident.minute}" if incident.minute else ""
        outcome = _OUTCOMES.get(incident.outcome or "", str(incident.outcome))
        if kind == "shootout_kick":
            return N_("Shoot-out, %(team)s: %(who)s%(outcome)s", team=team, who=who, outcome=outcome)
        if kind == "lineup":
            shape = f" {incident.formation}" if incident.formation else ""
            if incident.confirmed:
                return N_("Line-up, %(team)s:%(shape)s (confirmed)", team=team, shape=shape)
            return N_("Line-up, %(team)s:%(shape)s", team=team, shape=shape)
        if kind == "substitution":
            return N_(
                "Substitution, %(team)s: %(on)s for %(off)s %(minute)s",
                team=team,
                on=incident.player_on,
                off=incident.player,
                minute=minute,
            )
        if kind == "penalty_missed":
            return N_(
                "Penalty %(outcome)s, %(team)s: %(who)s%(minute)s", outcome=outcome, team=team, who=who, minute=minute
            )
        if kind == "var":
            what: str = _VAR_WHAT.get(incident.decision or "", N_("VAR"))
            if incident.reason:
                reason = _REASONS.get(incident.reason, incident.reason)
                what = N_("%(what)s (%(reason)s)", what=what, reason=reason)
            return _incident_line(what, team, who, minute, incident)
        what = _WHAT.get(kind, kind)
        if incident.second_yellow:
            what = N_("Red card (second yellow)")
        return _incident_line(what, team, who, minute, incident)

    def booked(self, side: Side, player: str) -> bool:
        """Whether this side's player has already been shown a yellow card in this match."""
        return same_name(
            player, (card.player for card in self.incidents if card.kind == "yellow_card" and card.side == side)
        )

    def sent_off(self, side: Side, player: str) -> str | None:
        """The name as recorded on the red card, if this side's player has been sent off."""
        wanted = player.casefold()
        return next((card.player for card in self.red_cards(side) if (card.player or "").casefold() == wanted), None)


_OUTCOMES = {"scored": N_("scored"), "saved": N_("saved"), "missed": N_("missed")}
_REASONS = {"offside": N_("offside"), "handball": N_("handball"), "foul": N_("foul"), "other": N_("other")}
_WHAT = {"goal": N_("Goal"), "yellow_card": N_("Yellow card"), "red_card": N_("Red card")}
_VAR_WHAT = {
    "goal_disallowed": N_("Goal disallowed"),
    "goal_awarded": N_("Goal awarded after review"),
    "penalty_given": N_("Penalty given after review"),
    "penalty_overturned": N_("Penalty overturned after review"),
    "red_card_upgraded": N_("Red card after review"),
    "red_card_rescinded": N_("Red card rescinded after review"),
}


def _incident_line(what: str, team: str, who: str, minute: str, incident: Incident) -> Said:
    """ "Goal, Chelsea: Palmer 12' (pen)": what happened, to whom, when, and how."""
    if incident.penalty:
        return N_("%(what)s, %(team)s: %(who)s%(minute)s (pen)", what=what, team=team, who=who, minute=minute)
    if incident.own_goal:
        return N_("%(what)s, %(team)s: %(who)s%(minute)s (og)", what=what, team=team, who=who, minute=minute)
    return N_("%(what)s, %(team)s: %(who)s%(minute)s", what=what, team=team, who=who, minute=minute)
