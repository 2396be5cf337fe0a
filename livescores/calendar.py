"""Competitions, teams and match days: plain data and pure functions, no I/O.

A match belongs to the day of its kick-off in the app's home time zone, whatever the zone of
the person looking; pages show kick-off times in the viewer's own zone.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, get_args
from zoneinfo import ZoneInfo

Format = Literal["league", "cup", "groups_then_knockout"]
TieBreaker = Literal[
    "points",
    "goal_difference",
    "goals_for",
    "head_to_head_points",
    "head_to_head_goal_difference",
    "head_to_head_goals_for",
    "wins",
]
FORMATS: tuple[Format, ...] = get_args(Format)
TIE_BREAKERS: tuple[TieBreaker, ...] = get_args(TieBreaker)

# The Premier League's order, and FIFA's group stage (2014 and 2022): the same three, then the
# same three counted only in the matches between the teams still level.
LEAGUE_ORDER: tuple[TieBreaker, ...] = ("points", "goal_difference", "goals_for")
FIFA_GROUP_ORDER: tuple[TieBreaker, ...] = (
    *LEAGUE_ORDER,
    "head_to_head_points",
    "head_to_head_goal_difference",
    "head_to_head_goals_for",
)
FRIENDLIES = "Friendlies"
MAX_SLUG_LENGTH = 60
# Words that name a club's form rather than the club: left out of short names and codes.
CLUB_WORDS = frozenset({"fc", "afc", "cf", "sc", "ac", "ssc", "sv", "fk", "the", "de", "of", "club", "football"})


@dataclass(frozen=True)
class TableRules:
    """How a competition ranks its table."""

    points_for_win: int = 3
    points_for_draw: int = 1
    tie_breakers: tuple[TieBreaker, ...] = LEAGUE_ORDER


@dataclass(frozen=True)
class Competition:
    slug: str
    name: str
    short_name: str
    season: str | None = None
    format: Format = "league"
    rules: TableRules = field(default_factory=TableRules)
    away_goals: bool = False  # whether away goals decide a two-legged tie level on aggregate

    @property
    def title(self) -> str:
        """The name with its season, as headings show it: "English Premier League 2013/14"."""
        return f"{self.name} {self.season}" if self.season else self.name


@dataclass(frozen=True)
class Team:
    slug: str
    name: str
    short_name: str
    code: str  # three letters, as broadcasters show it
    aliases: tuple[str, ...] = ()


def slugify(text: str, limit: int = MAX_SLUG_LENGTH) -> str:
    """A URL part from a name: "Bayern München 2013/14" → "bayern-munchen-2013-14"."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", plain.casefold()).strip("-")
    return slug[:limit].rstrip("-") or "x"


def name_key(name: str) -> str:
    """What two spellings of one name share: case, accents and spacing aside."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode() or name
    return " ".join(plain.casefold().replace(".", " ").split())


def _core_words(name: str) -> list[str]:
    words = name.replace("-", " ").split()
    return [w for w in words if w.casefold().strip(".") not in CLUB_WORDS] or words


def short_name(name: str) -> str:
    """A team's name without the club's form: "Liverpool FC" → "Liverpool"."""
    return " ".join(_core_words(name)) or name


def team_code(name: str) -> str:
    """Three letters: "Liverpool FC" → "LIV", "Manchester United" → "MUN", "West Ham United" → "WHU"."""
    words = [re.sub(r"[^A-Za-z]", "", unicodedata.normalize("NFKD", w)) for w in _core_words(name)]
    words = [w for w in words if w] or ["XXX"]
    if len(words) == 1:
        return words[0][:3].upper().ljust(3, "X")
    if len(words) == 2:
        return (words[0][0] + words[1][:2]).upper().ljust(3, "X")
    return "".join(w[0] for w in words[:3]).upper()


def new_team(name: str, aliases: Iterable[str] = ()) -> Team:
    return Team(slugify(name), name, short_name(name), team_code(name), tuple(aliases))


def split_season(name: str) -> tuple[str, str | None]:
    """A competition's name and season from a file's title: "English Premier League 2013/14"
    → ("English Premier League", "2013/14"); "World Cup 2022" → ("World Cup", "2022")."""
    found = re.fullmatch(r"\s*(.*?)\s+((?:19|20)\d\d(?:[/-](?:\d\d|\d{4}))?)\s*", name)
    if found is None:
        return name.strip(), None
    return found.group(1), found.group(2).replace("-", "/")


def new_competition(
    name: str,
    season: str | None = None,
    format: Format = "league",
    rules: TableRules | None = None,
    short: str | None = None,
) -> Competition:
    slug = slugify(f"{name} {season}" if season else name)
    return Competition(slug, name, short or _short_competition_name(name), season, format, rules or TableRules())


def _short_competition_name(name: str) -> str:
    words = [w for w in name.split() if w[:1].isupper() or w[:1].isdigit()]
    if len(name) <= 16 or len(words) < 2:
        return name
    return "".join(w[0] for w in words if w.casefold() not in CLUB_WORDS)


# -- days ---------------------------------------------------------------------------------


def home_zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_day(when: datetime, zone: ZoneInfo) -> date:
    """The day a moment belongs to in the home zone: a kick-off at 00:30 local is that day's."""
    return when.astimezone(zone).date()


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The first moment of a local day and of the next, in UTC: 23 or 25 hours apart on the
    days the clocks change."""
    start = datetime.combine(day, time(0), zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)
    return start, end


def today(zone: ZoneInfo, now: datetime | None = None) -> date:
    return local_day(now or datetime.now(UTC), zone)


def next_midnight(zone: ZoneInfo, now: datetime | None = None) -> datetime:
    """When the home zone's next day begins, in UTC."""
    return day_bounds(today(zone, now), zone)[1]


def parse_day(text: str) -> date | None:
    """A day from a URL (`2026-11-30`), or None when it is not a real date in that form."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return None
    try:
        parsed = date.fromisoformat(text)
    except ValueError:
        return None
    return parsed if 1900 <= parsed.year <= 2200 else None
