"""What a screen reader hears when a match changes: one sentence per new event, spoken by the
page's polite live region. Pushes carry it, snapshots never do, and an undo says nothing (it
corrects a scorer's mistake, which fans never saw as football)."""

from __future__ import annotations

from datetime import UTC, datetime

from babel.dates import format_datetime

from .i18n import DEFAULT, language, number
from .i18n import gettext as _
from .matches import Incident, Match, Minute, Side
from .words import outcome_word, reason_word, say, status_word, var_word


def ordinal(number: int) -> str:
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def spoken_minute(minute: Minute) -> str:
    """ "23rd minute plus 2"; other languages put the number after the word ("minuto 23 más 2")."""
    added = _(" plus %(added)s", added=minute.added) if minute.added else ""
    base = ordinal(minute.base) if language() == "en" else str(minute.base)
    return _("%(ordinal)s minute", ordinal=base) + added


def spoken_score(match: Match) -> str:
    return f"{match.home} {match.home_score}, {match.away} {match.away_score}"


def goal_sentence(match: Match, side: Side) -> str:
    """What a screen reader says about a goal: "Goal: Arsenal 1, Chelsea 0, 23rd minute"."""
    sentence = _("Goal: %(score)s", score=spoken_score(match))
    goals = match.goals(side)
    if goals:
        goal = goals[-1]
        if goal.minute is not None:
            sentence += f", {spoken_minute(goal.minute)}"
        if goal.player:
            scorer = _("own goal by %(player)s") if goal.own_goal else _("scored by %(player)s")
            sentence += ", " + scorer % {"player": goal.player}
        if goal.penalty:
            sentence += _(", penalty")
    return sentence


def new_incident(match: Match, previous: Match | None) -> Incident | None:
    """The incident the latest event left, if that event was not an undo and pages showed the
    version before it."""
    if previous is None or previous.version >= match.version or not match.incidents:
        return None
    latest = match.incidents[-1]
    return latest if latest.version == match.version and len(match.incidents) > len(previous.incidents) else None


def event_sentence(match: Match, previous: Match | None) -> str | None:
    """The sentence for whatever event made this version: a status change, a shoot-out kick, a
    VAR decision, a card, a substitution, a postponement... None when there is nothing new."""
    incident = new_incident(match, previous)
    if incident is None:
        return None
    if incident.counts_as_goal and incident.side is not None and incident.kind == "goal":
        return goal_sentence(match, incident.side)
    return _sentence(match, incident)


def _who(match: Match, incident: Incident) -> str:
    """ ", France: Kylian Mbappé, 80th minute" as far as the incident says."""
    parts = [match.team(incident.side)] if incident.side else []
    if incident.player:
        parts.append(incident.player)
    text = ": ".join(parts[:1]) + (f": {parts[1]}" if len(parts) > 1 else "")
    if incident.minute is not None:
        text += f", {spoken_minute(incident.minute)}"
    return text


def _sentence(match: Match, incident: Incident) -> str:
    kind = incident.kind
    score = spoken_score(match)
    fixture = _("%(home)s v %(away)s", home=match.home, away=match.away)
    if kind == "kick_off":
        return _("Kick-off: %(fixture)s", fixture=fixture)
    if kind == "full_time" or (kind == "shootout_kick" and match.status == "full_time"):
        return _result(match)
    if kind in ("half_time", "second_half", "extra_time", "extra_time_half_time", "extra_time_second_half"):
        return f"{status_word(kind)}: {score}"
    if kind == "penalties" and incident.side is not None:
        return _("Penalty shoot-out: %(team)s kick first", team=match.team(incident.side))
    if kind == "shootout_kick" and incident.side is not None:
        pens = match.penalty_score or (0, 0)
        if incident.player:
            kick = _(
                "Shoot-out, %(team)s: %(player)s %(outcome)s.",
                team=match.team(incident.side),
                player=incident.player,
                outcome=outcome_word(incident.outcome),
            )
        else:
            kick = _(
                "Shoot-out, %(team)s: %(outcome)s.",
                team=match.team(incident.side),
                outcome=outcome_word(incident.outcome),
            )
        tally = _(
            "Penalties: %(home)s %(home_pens)s, %(away)s %(away_pens)s",
            home=match.home,
            home_pens=pens[0],
            away=match.away,
            away_pens=pens[1],
        )
        return f"{kick} {tally}"
    if kind == "added_time":
        return _("%(minutes)s minutes of added time", minutes=number(incident.minutes or 0))
    if kind == "substitution" and incident.side is not None:
        minute = f", {spoken_minute(incident.minute)}" if incident.minute else ""
        return (
            _(
                "Substitution, %(team)s: %(on)s on, %(off)s off",
                team=match.team(incident.side),
                on=incident.player_on or "",
                off=incident.player or "",
            )
            + minute
        )
    if kind == "lineup" and incident.side is not None:
        team = match.team(incident.side)
        said = _("Line-up confirmed, %(team)s", team=team) if incident.confirmed else _("Line-up, %(team)s", team=team)
        return f"{said}: {incident.formation}" if incident.formation else said
    if kind == "var":
        return f"{_var_words(incident)}, {_who(match, incident)}. {score}"
    if kind == "penalty_missed":
        return f"{_('Penalty %(outcome)s', outcome=outcome_word(incident.outcome))}, {_who(match, incident)}"
    if kind in ("yellow_card", "red_card"):
        what = _("Yellow card") if kind == "yellow_card" else _("Red card")
        return f"{what}{_(' (second yellow)') if incident.second_yellow else ''}, {_who(match, incident)}"
    if kind == "postpone":
        if incident.kickoff is None:
            return _("Postponed: %(fixture)s", fixture=fixture)
        return _("Postponed: %(fixture)s, new kick-off %(when)s", fixture=fixture, when=_when(incident.kickoff))
    if kind in ("suspend", "resume", "abandon"):
        return f"{status_word(kind)}: {score}"
    if kind == "cancel":
        return _("Cancelled: %(fixture)s", fixture=fixture)
    if kind == "award":
        note = f". {incident.note}" if incident.note else ""
        return _("Result awarded: %(score)s", score=score) + note
    return say(match.summary(incident), language())


def _when(kickoff: datetime) -> str:
    """A new kick-off as a sentence says it, in UTC: "Saturday 18 December 2026, 15:00 UTC"."""
    at = kickoff.astimezone(UTC)
    if language() == DEFAULT:
        return at.strftime("%A %d %B %Y, %H:%M UTC")
    return format_datetime(at, "EEEE d 'de' MMMM 'de' y, HH:mm 'UTC'", tzinfo=UTC, locale=language())


def _var_words(incident: Incident) -> str:
    words = var_word(incident.decision)
    return f"{words}, {reason_word(incident.reason)}" if incident.reason else words


def _result(match: Match) -> str:
    sentence = _("Full-time: %(score)s", score=spoken_score(match))
    if match.decided_by == "extra_time":
        sentence += _(", after extra time")
    pens = match.penalty_score
    if match.decided_by == "penalties" and pens is not None and match.winner is not None:
        won = pens[0] if match.winner == "home" else pens[1]
        lost = pens[1] if match.winner == "home" else pens[0]
        sentence += ". " + _(
            "%(team)s win %(won)s–%(lost)s on penalties",
            team=match.team(match.winner),
            won=won,
            lost=lost,
        )
    elif match.aggregate is not None and match.winner is not None:
        total = match.aggregate
        sentence += ". " + _(
            "%(team)s go through, %(home)s–%(away)s on aggregate",
            team=match.team(match.winner),
            home=total[0],
            away=total[1],
        )
    return sentence
