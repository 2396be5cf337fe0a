"""Knockout rounds and two-legged ties: whether a match needs a winner, the aggregate, who won.

The rules read only the match itself. A match carries what the calendar knows of its tie as
fixture fields (`competition_format`, `away_goals`, and for a second leg `first_leg_home` and
`first_leg_away`), set by whoever loads it, so `apply` and `replay` stay functions of the
fixture and the log alone.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .said import N_
from .statuses import Side

if TYPE_CHECKING:
    from .matches import Match

KNOCKOUT_ROUND = re.compile(
    r"\b(round of \d+|last \d+|(eighth|quarter|semi)[- ]?finals?|finals?|third[- ]place|3rd[- ]place"
    r"|play[- ]?offs?|knockout|replay)\b",
    re.IGNORECASE,
)
# Rounds whose matches may end level: a league's matchdays, a group stage, a league phase.
LEVEL_ROUND = re.compile(r"^\s*(matchday|match ?week|week|group|league phase|round \d+\s*$)", re.IGNORECASE)


def is_knockout(match: Match) -> bool:
    """Whether the match's round sends one side through: named as a knockout round (Round of 16,
    Quarter-finals, Final...), or any round of a cup that is not a group."""
    if match.competition_format == "league" or match.group:
        return False
    round_name = match.round or ""
    if LEVEL_ROUND.match(round_name):
        return False
    if KNOCKOUT_ROUND.search(round_name):
        return True
    return match.competition_format == "cup"


def can_go_to_extra_time(match: Match) -> bool:
    """Whether this match is one that extra time can follow: a knockout match played once, or the
    second leg of a tie. Whether the score is level when the second half ends is `tie_level`."""
    return extra_time_refusal(match) is None


def extra_time_refusal(match: Match) -> str | None:
    """Why this match can never go to extra time, or None if it can."""
    round_name = (match.round or "").strip()
    if match.group or round_name.casefold().startswith("group"):
        return N_("A group-stage match cannot go to extra time: it may end level.")
    if match.competition_format == "league" or LEVEL_ROUND.match(round_name):
        return N_("A league match cannot go to extra time: it may end level.")
    if not is_knockout(match):
        return N_("Only a knockout match can go to extra time: this one may end level.")
    if match.leg == 1:
        return N_("A first leg cannot go to extra time: the tie is decided in the second leg.")
    return None


def aggregate(match: Match) -> tuple[int, int] | None:
    """A second leg's aggregate, each side's goals over both legs, when the first leg is known."""
    if match.leg != 2 or match.first_leg_home is None or match.first_leg_away is None:
        return None
    return match.home_score + match.first_leg_home, match.away_score + match.first_leg_away


def away_goals(match: Match) -> tuple[int, int] | None:
    """Goals each side scored away from home over the tie: this match's home side played the first
    leg away, this match's away side plays away now."""
    if aggregate(match) is None or match.first_leg_home is None:
        return None
    return match.first_leg_home, match.away_score


def tie_level(match: Match) -> bool | None:
    """Whether the match (or, for a second leg, the tie) stands level as a winner is needed: the
    score, or the aggregate and then, if the competition counts them, away goals. None when a
    second leg's first result is not known: the rules then leave it to the scorer."""
    if match.leg != 2:
        return match.home_score == match.away_score
    total = aggregate(match)
    if total is None:
        return None
    if total[0] != total[1]:
        return False
    away = away_goals(match)
    return not (match.away_goals and away is not None and away[0] != away[1])


def leader(home: int, away: int) -> Side | None:
    return "home" if home > away else "away" if away > home else None


def winner(match: Match) -> Side | None:
    """The side that won, once the match is over: for a second leg the side that won the tie. None
    while it is under way, for a draw, or when there was no result."""
    if match.status == "awarded":
        return leader(match.home_score, match.away_score)
    if match.status != "full_time":
        return None
    if match.decided_by == "penalties":
        return match.shootout_winner
    total = aggregate(match)
    if total is None:
        return leader(match.home_score, match.away_score)
    ahead = leader(*total)
    away = away_goals(match)
    if ahead is None and match.away_goals and away is not None:
        return leader(*away)
    return ahead
