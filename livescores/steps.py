"""How each kind of event changes a match: one step per kind, each given the match before,
the event, and the match with its version already moved on. `apply` in matches.py checks
first that the kind may happen at all (transitions.py); a step checks the event's own fields."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from .clock import MAX_ADDED_MINUTES, check_minute, current_minute, event_minute, half_ends_at
from .lineups import Lineup, check_lineup, on_the_pitch
from .model import Event, Incident, Match, Minute
from .names import clean_name, same_name
from .said import N_
from .statuses import (
    AFTER_BREAK,
    BEFORE_BREAK,
    DISALLOW_REASONS,
    IN_PLAY,
    KICK_OUTCOMES,
    LIFECYCLE_KINDS,
    MISS_OUTCOMES,
    PERIODS,
    SIDES,
    STATUS_CHANGES,
    VAR_DECISIONS,
    EventKind,
    RuleViolation,
    Side,
    other,
)

MAX_NOTE_LENGTH = 200
MAX_AWARDED_GOALS = 99
FULL_MINUTES = 90
EXTRA_TIME_MINUTES = 120


def _add(bumped: Match, incident: Incident, **changes: object) -> Match:
    """The match with one more incident, stamped with the version its event makes."""
    stamped = replace(incident, version=bumped.version)
    return replace(bumped, incidents=(*bumped.incidents, stamped), **changes)  # type: ignore[arg-type]


def _side(event: Event) -> Side:
    if event.side not in SIDES:
        raise RuleViolation(N_("The side must be home or away."))
    return event.side


def _player(match: Match, side: Side, raw: str | None, what: str = N_("player name")) -> str | None:
    """A named player of a side who is still allowed to take part."""
    player = clean_name(raw, what)
    sent_off = match.sent_off(side, player) if player is not None else None
    if sent_off is not None:
        raise RuleViolation(N_("%(sent_off)s has already been sent off.", sent_off=sent_off))
    return player


def _main_line(match: Match, event: Event, bumped: Match) -> Match:
    """A step along kick-off, halves, extra time and the shoot-out."""
    before = match.status
    after = "full_time" if event.kind == "full_time" else STATUS_CHANGES[event.kind][1]
    ended = None
    if before in IN_PLAY:
        ended = event.minute or half_ends_at(match, event.at)
        if ended is not None:
            check_minute(match, ended)
    first: Side | None = None
    if event.kind == "penalties":
        if event.side not in SIDES:
            raise RuleViolation(N_("Say which side kicks first in the shoot-out: home or away."))
        first = event.side
    marker = Incident(event.kind, first, None, ended)
    started = event.at if after in IN_PLAY else None
    return _add(
        bumped,
        marker,
        status=after,
        period_started_at=started,
    )


def _goal_or_card(match: Match, event: Event, bumped: Match) -> Match:
    """A goal or a card; also a goal VAR awards (an event of kind `var`)."""
    side = _side(event)
    is_goal = event.kind == "goal" or event.decision == "goal_awarded"
    if not is_goal and (event.penalty or event.own_goal):
        raise RuleViolation(N_("Only a goal can be a penalty or an own goal."))
    if event.penalty and event.own_goal:
        raise RuleViolation(N_("A goal cannot be both a penalty and an own goal."))
    # An own goal counts for one side and is scored by a player of the other.
    player = _player(match, other(side) if event.own_goal else side, event.player)
    minute = event_minute(match, event)
    incident = Incident(event.kind, side, player, minute, event.penalty, event.own_goal)
    if event.kind == "var":
        incident = replace(incident, decision=event.decision)
    elif event.kind == "yellow_card" and player is not None and match.booked(side, player):
        # The laws of the game: a second caution in a match is a sending-off.
        incident = replace(incident, kind="red_card", second_yellow=True)
    if not is_goal:
        return _add(bumped, incident)
    if side == "home":
        return _add(bumped, incident, home_score=match.home_score + 1)
    return _add(bumped, incident, away_score=match.away_score + 1)


def _penalty_missed(match: Match, event: Event, bumped: Match) -> Match:
    side = _side(event)
    if event.outcome not in MISS_OUTCOMES:
        raise RuleViolation(N_("A penalty not scored was either saved or missed."))
    player = _player(match, side, event.player)
    return _add(bumped, Incident("penalty_missed", side, player, event_minute(match, event), outcome=event.outcome))


def _var(match: Match, event: Event, bumped: Match) -> Match:
    decision = event.decision
    if decision not in VAR_DECISIONS:
        raise RuleViolation(N_("The VAR decision must be one of: %(choices)s.", choices=", ".join(VAR_DECISIONS)))
    if decision == "goal_awarded":
        return _goal_or_card(match, event, bumped)
    if decision == "goal_disallowed":
        return _goal_disallowed(match, event, bumped)
    side = _side(event)
    if decision == "red_card_rescinded":
        return _red_card_rescinded(match, event, bumped, side)
    player = _player(match, side, event.player)
    incident = Incident("var", side, player, event_minute(match, event), decision=decision)
    return _add(bumped, incident)


def _goal_disallowed(match: Match, event: Event, bumped: Match) -> Match:
    if event.reason is not None and event.reason not in DISALLOW_REASONS:
        raise RuleViolation(N_("The reason must be one of: %(choices)s.", choices=", ".join(DISALLOW_REASONS)))
    standing = (*match.goals("home"), *match.goals("away"))
    if event.goal_version is not None:
        goal = next((g for g in standing if g.version == event.goal_version), None)
        if goal is None:
            raise RuleViolation(N_("No goal standing was recorded at version %(version)s.", version=event.goal_version))
        if event.side is not None and goal.side != event.side:
            assert goal.side is not None
            raise RuleViolation(
                N_(
                    "The goal at version %(version)s counted for %(team)s.",
                    version=event.goal_version,
                    team=match.team(goal.side),
                )
            )
    else:
        side = _side(event)
        goal = next((g for g in reversed(standing) if g.side == side), None)
        if goal is None:
            raise RuleViolation(N_("%(team)s have no goal standing to disallow.", team=match.team(side)))
    if goal.version is None:
        raise RuleViolation(N_("That goal was recorded before goals could be named; undo it instead."))
    assert goal.side is not None
    minute = event.minute or goal.minute
    incident = Incident(
        "var", goal.side, goal.player, minute, decision="goal_disallowed", reason=event.reason, refers_to=goal.version
    )
    if goal.side == "home":
        return _add(bumped, incident, home_score=match.home_score - 1)
    return _add(bumped, incident, away_score=match.away_score - 1)


def _red_card_rescinded(match: Match, event: Event, bumped: Match, side: Side) -> Match:
    player = clean_name(event.player)
    cards = match.red_cards(side)
    if player is not None:
        card = next((c for c in reversed(cards) if same_name(player, (c.player,))), None)
        if card is None:
            raise RuleViolation(
                N_("%(player)s of %(team)s has no red card to rescind.", player=player, team=match.team(side))
            )
    else:
        card = cards[-1] if cards else None
        if card is None:
            raise RuleViolation(N_("%(team)s have no red card to rescind.", team=match.team(side)))
    if card.version is None:
        raise RuleViolation(N_("That red card was recorded before cards could be named; undo it instead."))
    minute = event.minute or event_minute(match, event)
    incident = Incident("var", side, card.player, minute, decision="red_card_rescinded", refers_to=card.version)
    return _add(bumped, incident)


def _added_time(match: Match, event: Event, bumped: Match) -> Match:
    if event.minutes is None or not 1 <= event.minutes <= MAX_ADDED_MINUTES:
        raise RuleViolation(N_("Added time must be between 1 and %(most)s minutes.", most=MAX_ADDED_MINUTES))
    offset, length = PERIODS[match.status]
    incident = Incident("added_time", None, None, Minute(offset + length), minutes=event.minutes)
    return _add(bumped, incident)


def _substitution(match: Match, event: Event, bumped: Match) -> Match:
    side = _side(event)
    off = clean_name(event.player, N_("name of the player going off"))
    on = clean_name(event.player_on, N_("name of the player coming on"))
    if off is None or on is None:
        raise RuleViolation(N_("A substitution names the player going off and the player coming on."))
    if same_name(off, (on,)):
        raise RuleViolation(N_("A player cannot replace himself."))
    subs = match.substitutions(side)
    went_off = tuple(s.player for s in subs if s.player)
    came_on = tuple(s.player_on for s in subs if s.player_on)
    for name in (off, on):
        sent_off = match.sent_off(side, name)
        if sent_off is not None:
            raise RuleViolation(N_("%(sent_off)s has been sent off.", sent_off=sent_off))
    if same_name(off, went_off):
        raise RuleViolation(N_("%(off)s has already been substituted off.", off=off))
    if same_name(on, went_off):
        raise RuleViolation(N_("%(on)s has been substituted off and cannot come back on.", on=on))
    lineup = match.lineup(side)
    pitch = on_the_pitch(lineup, came_on, went_off)
    if same_name(on, came_on) or (pitch is not None and same_name(on, pitch)):
        raise RuleViolation(N_("%(on)s is already on the pitch.", on=on))
    if pitch is not None and not same_name(off, pitch):
        raise RuleViolation(N_("%(off)s is not on the pitch for %(team)s.", off=off, team=match.team(side)))
    if lineup is not None and lineup.substitutes and not same_name(on, lineup.substitutes):
        raise RuleViolation(N_("%(on)s is not among %(team)s's substitutes.", on=on, team=match.team(side)))
    return _add(bumped, Incident("substitution", side, off, _substitution_minute(match, event), player_on=on))


def _substitution_minute(match: Match, event: Event) -> Minute:
    """In play, the clock's minute; at a break, the minute given (within the period before or
    after it) or else the first minute of the period to come, as football records it."""
    if match.in_play:
        return event_minute(match, event)
    before, after = BEFORE_BREAK[match.status], AFTER_BREAK[match.status]
    if event.minute is None:
        return Minute(PERIODS[after][0] + 1)
    try:
        check_minute(match, event.minute, before)
    except RuleViolation:
        check_minute(match, event.minute, after)
    return event.minute


def _lineup(match: Match, event: Event, bumped: Match) -> Match:
    side = _side(event)
    lineup = check_lineup(Lineup(side, event.formation, event.starting, event.substitutes, event.confirmed))
    lineups = (*(kept for kept in match.lineups if kept.side != side), lineup)
    incident = Incident("lineup", side, None, None, formation=lineup.formation, confirmed=lineup.confirmed)
    return _add(bumped, incident, lineups=lineups)


def _shootout_kick(match: Match, event: Event, bumped: Match) -> Match:
    side = _side(event)
    due = match.next_kicker
    if due is None:
        raise RuleViolation(N_("No penalty shoot-out is under way."))
    if side != due:
        raise RuleViolation(N_("It is %(team)s's turn to kick.", team=match.team(due)))
    if event.outcome not in KICK_OUTCOMES:
        raise RuleViolation(N_("A kick is scored, saved or missed."))
    player = _player(match, side, event.player)
    after = _add(bumped, Incident("shootout_kick", side, player, None, outcome=event.outcome))
    if after.shootout_winner is None:
        return after
    # The kick that decides the shoot-out ends the match with it.
    return replace(after, status="full_time", period_started_at=None)


def _lifecycle(match: Match, event: Event, bumped: Match) -> Match:
    """Postponed, suspended and resumed, abandoned, cancelled, awarded."""
    kind = event.kind
    minute = current_minute(match, event.at)
    marker = Incident(kind, None, None, minute)
    if kind == "postpone":
        return _postpone(match, event, bumped)
    if kind == "suspend":
        return _add(bumped, marker, status="suspended", suspended_during=match.status, suspended_at=event.at)
    if kind == "resume":
        resumed = match.suspended_during or "scheduled"
        started = match.period_started_at
        if started is not None and match.suspended_at is not None:
            # The clock stood still while play was suspended.
            started += event.at - match.suspended_at
        return _add(bumped, marker, status=resumed, period_started_at=started, suspended_during=None, suspended_at=None)
    if kind == "abandon":
        return _add(bumped, marker, status="abandoned", period_started_at=None, suspended_during=None)
    if kind == "cancel":
        return _add(bumped, marker, status="cancelled")
    return _award(match, event, bumped)


def _postpone(match: Match, event: Event, bumped: Match) -> Match:
    marker = Incident("postpone", None, None, None, kickoff=event.kickoff)
    if event.kickoff is None:
        return _add(bumped, marker, status="postponed")
    if event.kickoff.tzinfo is None:
        raise RuleViolation(N_("The new kick-off must carry a timezone."))
    if match.kickoff is None:
        raise RuleViolation(N_("The match has no kick-off time to move from."))
    if event.kickoff == match.kickoff:
        raise RuleViolation(N_("The new kick-off is the one already planned."))
    return _add(
        bumped,
        marker,
        status="scheduled",
        kickoff=event.kickoff,
        postponed_from=match.postponed_from or match.kickoff,
    )


def _award(match: Match, event: Event, bumped: Match) -> Match:
    scores = (event.home_score, event.away_score)
    if any(score is None or not 0 <= score <= MAX_AWARDED_GOALS for score in scores):
        raise RuleViolation(
            N_("An awarded result gives both sides a score from 0 to %(most)s.", most=MAX_AWARDED_GOALS)
        )
    note = clean_name(event.note, N_("note"), MAX_NOTE_LENGTH)
    home, away = event.home_score or 0, event.away_score or 0
    return _add(
        bumped,
        Incident("award", None, None, None, note=note),
        status="awarded",
        home_score=home,
        away_score=away,
        period_started_at=None,
        suspended_during=None,
    )


def _result(match: Match, event: Event, bumped: Match) -> Match:
    """A result known without its story: the score, and whether extra time was played
    (`minutes` 120), but no goals, cards or times."""
    scores = (event.home_score, event.away_score)
    if any(score is None or not 0 <= score <= MAX_AWARDED_GOALS for score in scores):
        raise RuleViolation(N_("A result gives both sides a score from 0 to %(most)s.", most=MAX_AWARDED_GOALS))
    played = event.minutes or FULL_MINUTES
    if played not in (FULL_MINUTES, EXTRA_TIME_MINUTES):
        raise RuleViolation(
            N_("A result is after %(full)s or %(extra)s minutes.", full=FULL_MINUTES, extra=EXTRA_TIME_MINUTES)
        )
    return _add(
        bumped,
        Incident("result", None, None, None, minutes=played),
        status="full_time",
        home_score=event.home_score or 0,
        away_score=event.away_score or 0,
        period_started_at=None,
    )


Step = Callable[[Match, Event, Match], Match]
STEPS: dict[EventKind, Step] = {
    **dict.fromkeys(STATUS_CHANGES, _main_line),
    **dict.fromkeys(("goal", "yellow_card", "red_card"), _goal_or_card),
    **dict.fromkeys(LIFECYCLE_KINDS, _lifecycle),
    "penalty_missed": _penalty_missed,
    "var": _var,
    "added_time": _added_time,
    "substitution": _substitution,
    "lineup": _lineup,
    "shootout_kick": _shootout_kick,
    "result": _result,
}
