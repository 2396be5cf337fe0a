"""Line-ups as teams announce them, and the checks a substitution must pass against them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .names import clean_name, same_name
from .said import N_
from .statuses import RuleViolation, Side

STARTING_PLAYERS = 11
MAX_SUBSTITUTES = 15  # a World Cup squad of 26 names 15 substitutes
MAX_FORMATION_LENGTH = 12
OUTFIELD_PLAYERS = STARTING_PLAYERS - 1
FORMATION = re.compile(r"[1-6](?:-[1-6]){1,4}")


@dataclass(frozen=True)
class Lineup:
    side: Side
    formation: str | None = None
    starting: tuple[str, ...] = ()
    substitutes: tuple[str, ...] = ()
    confirmed: bool = False


def check_formation(raw: object) -> str | None:
    """A formation as written on a team sheet ("4-3-3", "4-2-3-1"): its lines add up to the ten
    outfield players. Blank means not given."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise RuleViolation(N_("The formation must be text such as 4-3-3."))
    text = "".join(raw.split())
    if not text:
        return None
    if len(text) > MAX_FORMATION_LENGTH or not FORMATION.fullmatch(text):
        raise RuleViolation(N_("The formation must look like 4-3-3 or 4-2-3-1."))
    if sum(int(part) for part in text.split("-")) != OUTFIELD_PLAYERS:
        raise RuleViolation(
            N_("The formation's lines must add up to %(players)s outfield players.", players=OUTFIELD_PLAYERS)
        )
    return text


def clean_names(raw: object, what: str, limit: int) -> tuple[str, ...]:
    """A list of player names, each cleaned; blanks dropped, the same name twice refused."""
    if raw is None:
        return ()
    if isinstance(raw, str):
        raise RuleViolation(N_("The %(what)s must be a list of names.", what=what))
    if not isinstance(raw, Sequence):
        raise RuleViolation(N_("The %(what)s must be a list of names.", what=what))
    if len(raw) > limit * 2:  # blanks from an empty form are dropped, but not without bound
        raise RuleViolation(N_("The %(what)s may name at most %(limit)s players.", what=what, limit=limit))
    names: list[str] = []
    for item in raw:
        name = clean_name(item, N_("name in the %(what)s", what=what))
        if name is None:
            continue
        if same_name(name, names):
            raise RuleViolation(N_("%(name)s is named twice in the %(what)s.", name=name, what=what))
        names.append(name)
    if len(names) > limit:
        raise RuleViolation(N_("The %(what)s may name at most %(limit)s players.", what=what, limit=limit))
    return tuple(names)


def check_lineup(lineup: Lineup) -> Lineup:
    """A line-up whose names and formation make sense together; raises RuleViolation if not."""
    formation = check_formation(lineup.formation)
    starting = clean_names(lineup.starting, N_("starting eleven"), STARTING_PLAYERS)
    substitutes = clean_names(lineup.substitutes, N_("substitutes"), MAX_SUBSTITUTES)
    both = next((name for name in substitutes if same_name(name, starting)), None)
    if both is not None:
        raise RuleViolation(N_("%(both)s cannot both start and be a substitute.", both=both))
    if lineup.confirmed and len(starting) != STARTING_PLAYERS:
        raise RuleViolation(N_("A confirmed line-up names all %(players)s starting players.", players=STARTING_PLAYERS))
    return Lineup(lineup.side, formation, starting, substitutes, lineup.confirmed)


def on_the_pitch(lineup: Lineup | None, came_on: Iterable[str], went_off: Iterable[str]) -> tuple[str, ...] | None:
    """The side's players on the pitch after its substitutions, or None without a starting eleven."""
    if lineup is None or not lineup.starting:
        return None
    off = tuple(went_off)
    return tuple(name for name in (*lineup.starting, *came_on) if not same_name(name, off))
