"""The words of a match's rules: sides, statuses, event kinds and the sets the rules test
against. Plain data, so every rules module can share them without importing each other."""

from __future__ import annotations

from typing import Literal, get_args

from .said import N_

Side = Literal["home", "away"]
Status = Literal[
    "scheduled",
    "first_half",
    "half_time",
    "second_half",
    "extra_time_first_half",
    "extra_time_break",
    "extra_time_second_half",
    "penalties",
    "full_time",
    "postponed",
    "suspended",
    "abandoned",
    "cancelled",
    "awarded",
]
EventKind = Literal[
    "kick_off",
    "half_time",
    "second_half",
    "full_time",
    "goal",
    "yellow_card",
    "red_card",
    "undo",
    "extra_time",
    "extra_time_half_time",
    "extra_time_second_half",
    "penalties",
    "shootout_kick",
    "added_time",
    "substitution",
    "lineup",
    "var",
    "penalty_missed",
    "postpone",
    "suspend",
    "resume",
    "abandon",
    "cancel",
    "award",
    "result",  # a result known without its details (an imported season): never a scorer's action
]
# The match's own course, in the order the controls offer it.
MAIN_LINE: tuple[EventKind, ...] = (
    "kick_off",
    "half_time",
    "second_half",
    "extra_time",
    "extra_time_half_time",
    "extra_time_second_half",
    "penalties",
    "full_time",
)
DecidedBy = Literal["normal_time", "extra_time", "penalties", "awarded"]
KickOutcome = Literal["scored", "saved", "missed"]
MissOutcome = Literal["saved", "missed"]
VarDecision = Literal[
    "goal_disallowed",
    "goal_awarded",
    "penalty_given",
    "penalty_overturned",
    "red_card_upgraded",
    "red_card_rescinded",
]
DisallowReason = Literal["offside", "handball", "foul", "other"]

SIDES: tuple[Side, ...] = get_args(Side)
STATUSES: tuple[Status, ...] = get_args(Status)
EVENT_KINDS: tuple[EventKind, ...] = get_args(EventKind)
DECIDED_BY: tuple[DecidedBy, ...] = get_args(DecidedBy)
KICK_OUTCOMES: tuple[KickOutcome, ...] = get_args(KickOutcome)
MISS_OUTCOMES: tuple[MissOutcome, ...] = get_args(MissOutcome)
VAR_DECISIONS: tuple[VarDecision, ...] = get_args(VarDecision)
DISALLOW_REASONS: tuple[DisallowReason, ...] = get_args(DisallowReason)

# The main line of a match, one step each; `full_time` also ends extra time (see transitions.py).
STATUS_CHANGES: dict[EventKind, tuple[Status, Status]] = {
    "kick_off": ("scheduled", "first_half"),
    "half_time": ("first_half", "half_time"),
    "second_half": ("half_time", "second_half"),
    "full_time": ("second_half", "full_time"),
    "extra_time": ("second_half", "extra_time_first_half"),
    "extra_time_half_time": ("extra_time_first_half", "extra_time_break"),
    "extra_time_second_half": ("extra_time_break", "extra_time_second_half"),
    "penalties": ("extra_time_second_half", "penalties"),
}
# Events that change the status outside the main line.
LIFECYCLE_KINDS: frozenset[EventKind] = frozenset({"postpone", "suspend", "resume", "abandon", "cancel", "award"})
STATUS_KINDS: frozenset[EventKind] = frozenset(STATUS_CHANGES) | LIFECYCLE_KINDS
# An event of these kinds starts a period of play; its incident's minute is when the one before ended.
PERIOD_STARTS: frozenset[EventKind] = frozenset(
    {"kick_off", "second_half", "extra_time", "extra_time_second_half", "penalties"}
)

STATUS_LABELS: dict[EventKind, str] = {
    "kick_off": "Kick-off",
    "half_time": "Half-time",
    "second_half": "Second half",
    "full_time": "Full-time",
    "extra_time": "Extra time",
    "extra_time_half_time": "Extra-time half-time",
    "extra_time_second_half": "Extra time, second half",
    "penalties": "Penalty shoot-out",
    "postpone": "Postponed",
    "suspend": "Suspended",
    "resume": "Resumed",
    "abandon": "Abandoned",
    "cancel": "Cancelled",
    "award": "Awarded",
    "result": "Result",
}

HALF_MINUTES = 45
EXTRA_HALF_MINUTES = 15
# Each period with the ball rolling: the minutes played before it, and its length.
PERIODS: dict[Status, tuple[int, int]] = {
    "first_half": (0, HALF_MINUTES),
    "second_half": (HALF_MINUTES, HALF_MINUTES),
    "extra_time_first_half": (2 * HALF_MINUTES, EXTRA_HALF_MINUTES),
    "extra_time_second_half": (2 * HALF_MINUTES + EXTRA_HALF_MINUTES, EXTRA_HALF_MINUTES),
}
IN_PLAY: frozenset[Status] = frozenset(PERIODS)
BREAKS: frozenset[Status] = frozenset({"half_time", "extra_time_break"})
# Kicked off and not yet over: a match in this state stays on today's board past midnight.
UNDERWAY: frozenset[Status] = IN_PLAY | BREAKS | frozenset({"penalties", "suspended"})
OVER: frozenset[Status] = frozenset({"full_time", "abandoned", "cancelled", "awarded"})
# The period a break leads to, for a substitution made during it.
AFTER_BREAK: dict[Status, Status] = {"half_time": "second_half", "extra_time_break": "extra_time_second_half"}
BEFORE_BREAK: dict[Status, Status] = {"half_time": "first_half", "extra_time_break": "extra_time_first_half"}


class RuleViolation(ValueError):
    """An event the rules refuse; its message is shown to the scorer as is."""


def other(side: Side) -> Side:
    return "away" if side == "home" else "home"


def describe(status: Status) -> str:
    return {
        "scheduled": N_("not started"),
        "first_half": N_("in the first half"),
        "half_time": N_("at half-time"),
        "second_half": N_("in the second half"),
        "extra_time_first_half": N_("in the first half of extra time"),
        "extra_time_break": N_("at the break in extra time"),
        "extra_time_second_half": N_("in the second half of extra time"),
        "penalties": N_("in a penalty shoot-out"),
        "full_time": N_("over"),
        "postponed": N_("postponed"),
        "suspended": N_("suspended"),
        "abandoned": N_("abandoned"),
        "cancelled": N_("cancelled"),
        "awarded": N_("awarded"),
    }[status]
