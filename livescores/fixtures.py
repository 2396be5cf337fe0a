"""Where matches come from: the demo draw for an empty database."""

from __future__ import annotations

import random
import secrets

from .matches import Match

DEMO_TEAMS: tuple[str, ...] = (
    "Arsenal", "Aston Villa", "Cardiff", "Chelsea", "Crystal Palace", "Everton", "Fulham",
    "Hull", "Liverpool", "Man City", "Man Utd", "Newcastle", "Norwich", "Southampton",
    "Stoke", "Sunderland", "Swansea", "Tottenham", "West Brom", "West Ham",
)  # fmt: skip


def new_match_id() -> str:
    return secrets.token_hex(6)


def demo_draw(rng: random.Random | None = None) -> list[Match]:
    """The 2013/14 Premier League drawn at random into ten matches, every team playing once."""
    teams = list(DEMO_TEAMS)
    (rng or random.SystemRandom()).shuffle(teams)
    return [
        Match(id=new_match_id(), home=home, away=away, competition="Premier League")
        for home, away in zip(teams[0::2], teams[1::2], strict=True)
    ]
