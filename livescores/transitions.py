"""What may happen next in a match, and why anything else may not: the scorer's controls offer
exactly the actions `allowed_actions` returns, and `apply` refuses the rest with `refusal`'s text."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .said import N_, Said, Word
from .statuses import BREAKS, IN_PLAY, MAIN_LINE, OVER, STATUS_LABELS, UNDERWAY, EventKind, describe
from .ties import aggregate, extra_time_refusal, tie_level

if TYPE_CHECKING:
    from .matches import Match

# In the order the controls show them.
ACTIONS: tuple[EventKind, ...] = (
    *MAIN_LINE,
    "goal",
    "yellow_card",
    "red_card",
    "penalty_missed",
    "var",
    "added_time",
    "substitution",
    "lineup",
    "shootout_kick",
    "postpone",
    "suspend",
    "resume",
    "abandon",
    "cancel",
    "award",
    "undo",
)
IN_PLAY_ONLY: dict[EventKind, Said] = {
    "goal": N_("goals and cards need the ball in play"),
    "yellow_card": N_("goals and cards need the ball in play"),
    "red_card": N_("goals and cards need the ball in play"),
    "penalty_missed": N_("a penalty needs the ball in play"),
    "var": N_("a VAR decision needs the ball in play"),
    "added_time": N_("added time is announced while a half is played"),
}


def allowed_actions(match: Match) -> tuple[EventKind, ...]:
    """Every action the rules would take now, whatever the scorer then fills in."""
    return tuple(kind for kind in ACTIONS if refusal(match, kind) is None)


def refusal(match: Match, kind: EventKind) -> str | None:
    """Why the rules refuse this kind of event at this point of the match, or None if they may
    take it (its own fields are checked when it is applied)."""
    status = match.status
    now = describe(status)
    if kind == "undo":
        return None if match.incidents else N_("There is nothing to undo.")
    if kind == "kick_off":
        if status == "postponed":
            return N_("The match is postponed: give it a new kick-off time first.")
        return None if status == "scheduled" else _out_of_order(kind, now)
    if kind == "half_time":
        return None if status == "first_half" else _out_of_order(kind, now)
    if kind == "second_half":
        return None if status == "half_time" else _out_of_order(kind, now)
    if kind == "full_time":
        return _full_time_refusal(match)
    if kind == "extra_time":
        if status != "second_half":
            return N_("Extra time follows the second half; the match is %(now)s.", now=now)
        return extra_time_refusal(match) or _level_refusal(match, N_("Extra time"), N_("extra time"))
    if kind == "extra_time_half_time":
        if status != "extra_time_first_half":
            return _out_of_order(kind, now)
        return None
    if kind == "extra_time_second_half":
        if status != "extra_time_break":
            return _out_of_order(kind, now)
        return None
    if kind == "penalties":
        if status != "extra_time_second_half":
            return N_("A penalty shoot-out follows extra time; the match is %(now)s.", now=now)
        return _level_refusal(match, N_("A penalty shoot-out"), N_("a penalty shoot-out"))
    if kind == "shootout_kick":
        if status == "penalties":
            return None
        if match.decided_by == "penalties":
            return N_("The shoot-out is over: it was decided by the last kick.")
        return N_("There is no penalty shoot-out: the match is %(now)s.", now=now)
    if kind in IN_PLAY_ONLY:
        return None if status in IN_PLAY else N_("The match is %(now)s: %(why)s.", now=now, why=IN_PLAY_ONLY[kind])
    if kind == "substitution":
        if status in IN_PLAY or status in BREAKS:
            return None
        return N_("The match is %(now)s: substitutions are made during play or at a break.", now=now)
    if kind == "lineup":
        return None if status not in OVER else N_("The match is %(now)s: its line-ups can no longer change.", now=now)
    if kind == "postpone":
        if status in ("scheduled", "postponed"):
            return None
        return N_("Only a match that has not kicked off can be postponed; this one is %(now)s.", now=now)
    if kind == "suspend":
        if status in UNDERWAY and status != "suspended":
            return None
        return N_("Only a match under way can be suspended; this one is %(now)s.", now=now)
    if kind == "resume":
        return None if status == "suspended" else N_("Only a suspended match can resume; this one is %(now)s.", now=now)
    if kind == "abandon":
        return (
            None if status in UNDERWAY else N_("Only a match under way can be abandoned; this one is %(now)s.", now=now)
        )
    if kind == "cancel":
        if status in ("scheduled", "postponed"):
            return None
        if status in UNDERWAY:
            return N_("A match that has kicked off is abandoned, not cancelled.")
        return N_("The match is %(now)s: it can no longer be cancelled.", now=now)
    if kind == "result":
        if status == "scheduled":
            return None
        return N_(
            "A result without its details is only recorded for a match not yet played; this one is %(now)s.", now=now
        )
    if kind == "award":
        if status == "awarded":
            return N_("The match has already been awarded: undo that first to change the result.")
        if status in UNDERWAY and status != "suspended":
            return N_("The match is %(now)s: suspend or abandon it before the organisers' result is recorded.", now=now)
        return None
    return N_("Unknown event %(kind)r.", kind=kind)


def _full_time_refusal(match: Match) -> str | None:
    status = match.status
    if status == "second_half":
        if extra_time_refusal(match) is None and tie_level(match):
            if match.leg == 2:
                return N_("The tie is level on aggregate: play extra time, or go to penalties after it.")
            return N_("The score is level in a knockout match: play extra time, or go to penalties after it.")
        return None
    if status == "extra_time_second_half":
        if tie_level(match):
            if match.leg == 2:
                return N_("The tie is level after extra time: go to penalties.")
            return N_("The score is level after extra time: go to penalties.")
        return None
    if status == "penalties":
        return N_("The shoot-out ends the match by itself once it is decided.")
    return _out_of_order("full_time", describe(status))


def _level_refusal(match: Match, what: str, lowered: str) -> str | None:
    """Extra time and a shoot-out need a level score (for a second leg, a level tie)."""
    if tie_level(match) is False:
        total = aggregate(match)
        if total is not None and total[0] == total[1]:
            return N_("The tie is decided on away goals: %(what)s is not played.", what=lowered)
        if match.leg == 2:
            return N_("%(what)s is played only when the tie is level on aggregate.", what=what)
        return N_("%(what)s is played only when the score is level.", what=what)
    return None


def _out_of_order(kind: EventKind, now: str) -> str:
    return N_(
        "Cannot record %(kind)s while the match is %(now)s.", kind=Word(kind, STATUS_LABELS[kind].lower()), now=now
    )
