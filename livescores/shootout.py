"""A penalty shoot-out as the laws of the game run it: the sides kick alternately, five each,
then in pairs (sudden death), and it ends the moment one side cannot be caught."""

from __future__ import annotations

from collections.abc import Sequence

from .statuses import Side, other

REGULATION_KICKS = 5
# A kick as the shoot-out counts it: which side took it, and whether it went in.
Kick = tuple[Side, bool]


def next_kicker(first: Side, kicks: Sequence[Kick]) -> Side:
    return first if len(kicks) % 2 == 0 else other(first)


def shootout_score(kicks: Sequence[Kick]) -> tuple[int, int]:
    """Kicks scored by the home side and by the away side."""
    home = sum(1 for side, scored in kicks if side == "home" and scored)
    away = sum(1 for side, scored in kicks if side == "away" and scored)
    return home, away


def shootout_winner(kicks: Sequence[Kick]) -> Side | None:
    """The side that has won the shoot-out, or None while it is still open."""
    taken = {side: sum(1 for kicked, _ in kicks if kicked == side) for side in ("home", "away")}
    home, away = shootout_score(kicks)
    scored: dict[Side, int] = {"home": home, "away": away}
    if max(taken.values()) <= REGULATION_KICKS:
        # Best of five: a side has won once the other could not draw level with every kick it has left.
        for side in ("home", "away"):
            rival = other(side)
            if scored[side] > scored[rival] + REGULATION_KICKS - taken[rival]:
                return side
        return None
    # Sudden death: decided only when both have kicked the same number of times.
    if taken["home"] == taken["away"] and home != away:
        return "home" if home > away else "away"
    return None
