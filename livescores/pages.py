"""What each page shows: plain data and pure functions, no I/O.

Every page that updates live (a day, today's board, a competition's round, a team, a match)
is a `Page`. Its socket says which (`/ws?day=…`, `?competition=…`, `?team=…`, `?match=…`, or
nothing for today's board) and receives changes to the matches that page shows, and nothing
else. Which matches a page shows depends only on the matches and on today's date in the
home time zone, so every worker decides it the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import groupby
from typing import Literal
from urllib.parse import quote
from zoneinfo import ZoneInfo

from . import i18n
from .calendar import local_day, parse_day, slugify
from .matches import Match

PageKind = Literal["today", "day", "competition", "team", "match"]
MAX_ROUND_LENGTH = 80


class NoSuchPage(ValueError):
    """A page address that names nothing: refused with 404."""


@dataclass(frozen=True)
class Clock:
    """Today as the home time zone sees it: which day a match belongs to, and which is today."""

    zone: ZoneInfo
    today: date

    def day_of(self, match: Match) -> date | None:
        return local_day(match.kickoff, self.zone) if match.kickoff is not None else None

    @property
    def window(self) -> tuple[date, date, date]:
        """The days every worker keeps in memory: yesterday, today and tomorrow."""
        return (self.today - timedelta(days=1), self.today, self.today + timedelta(days=1))


@dataclass(frozen=True)
class Page:
    kind: PageKind
    key: str = ""  # the day (ISO), the competition's or team's slug, or the match id
    round: str | None = None  # a competition page's round; None: the whole competition

    def shows(self, match: Match, clock: Clock) -> bool:
        if self.kind == "match":
            return match.id == self.key
        if self.kind == "competition":
            return match.competition_slug == self.key and (self.round is None or match.round == self.round)
        if self.kind == "team":
            return self.key in (match.home_slug, match.away_slug)
        day = clock.today if self.kind == "today" else date.fromisoformat(self.key)
        shown_on = clock.day_of(match)
        if shown_on == day:
            return True
        # Today's board keeps yesterday's matches that are still being played.
        return day == clock.today and match.underway and shown_on is not None and shown_on < day

    def day(self, clock: Clock) -> date | None:
        if self.kind == "today":
            return clock.today
        return date.fromisoformat(self.key) if self.kind == "day" else None

    @property
    def query(self) -> str:
        """The socket's address for this page: what `page_from_args` reads back."""
        if self.kind == "today":
            return ""
        if self.kind == "competition" and self.round is not None:
            return f"competition={self.key}&round={_quote(self.round)}"
        return f"{self.kind}={self.key}"


TODAY = Page("today")


def page_from_args(args: Mapping[str, str]) -> Page:
    """The page a socket or stream shows, from its query arguments; NoSuchPage when they name
    no page (an impossible date, a malformed slug or id). Whether the competition, team or
    match exists is the caller's to check."""
    given = [kind for kind in ("day", "competition", "team", "match") if args.get(kind)]
    if len(given) > 1:
        raise NoSuchPage(f"A socket shows one page; got {', '.join(given)}.")
    if not given:
        return TODAY
    kind = given[0]
    value = args[kind]
    if kind == "day":
        day = parse_day(value)
        if day is None:
            raise NoSuchPage(f"{value!r} is not a date like 2026-11-30.")
        return Page("day", day.isoformat())
    if kind == "match":
        if not _is_token(value, 32):
            raise NoSuchPage("That is not a match id.")
        return Page("match", value)
    if slugify(value) != value:
        raise NoSuchPage(f"That is not a {kind}'s address.")
    if kind == "team":
        return Page("team", value)
    round_name = args.get("round") or None
    if round_name is not None and (len(round_name) > MAX_ROUND_LENGTH or not round_name.isprintable()):
        raise NoSuchPage("That is not a round.")
    return Page("competition", value, round_name)


def _is_token(value: str, limit: int) -> bool:
    return 0 < len(value) <= limit and all(ch.isascii() and (ch.isalnum() or ch in "-_") for ch in value)


def _quote(text: str) -> str:
    return quote(text, safe="")


# -- ordering and grouping ------------------------------------------------------------------


def match_order(match: Match) -> tuple[datetime | str, str, str]:
    """Kick-off, then home team: the order of every list of matches."""
    return (match.kickoff.isoformat() if match.kickoff else "", match.home.casefold(), match.id)


@dataclass(frozen=True)
class Group:
    """A heading and the matches under it (a competition on a day page, a day on a team page)."""

    title: str
    slug: str | None
    matches: tuple[Match, ...]


def by_competition(matches: Iterable[Match]) -> list[Group]:
    """A day's matches under their competitions: competitions in the order of their first
    kick-off, matches by kick-off and home team within each."""
    ordered = sorted(matches, key=match_order)
    groups: dict[str, list[Match]] = {}
    titles: dict[str, tuple[str, str | None]] = {}
    for match in ordered:
        key = match.competition_slug or match.competition or ""
        groups.setdefault(key, []).append(match)
        titles.setdefault(key, (match.competition or "Other matches", match.competition_slug))
    return [Group(titles[key][0], titles[key][1], tuple(found)) for key, found in groups.items()]


def by_day(matches: Iterable[Match], clock: Clock) -> list[Group]:
    """Matches under the home zone's days, in kick-off order (a team's season)."""
    ordered = sorted(matches, key=match_order)
    return [
        Group(day.isoformat() if day else "", None, tuple(found)) for day, found in groupby(ordered, key=clock.day_of)
    ]


def rounds(matches: Iterable[Match]) -> list[str]:
    """A competition's rounds in the order they are played (by their first kick-off)."""
    first: dict[str, str] = {}
    for match in sorted(matches, key=match_order):
        if match.round is not None:
            first.setdefault(match.round, "")
    return list(first)


def current_round(matches: Sequence[Match], now: datetime) -> str | None:
    """The round a competition page opens on: one being played, else the next to be played,
    else the last one played (a finished season opens on its final round)."""
    ordered = sorted((m for m in matches if m.round is not None), key=match_order)
    if not ordered:
        return None
    underway = [m for m in ordered if m.underway]
    if underway:
        return underway[0].round
    upcoming = [m for m in ordered if m.status == "scheduled" and m.kickoff is not None and m.kickoff >= now]
    if upcoming:
        return upcoming[0].round
    played = [m for m in ordered if m.status != "scheduled"]
    return (played or ordered)[-1].round


def day_label(day: date, today: date) -> str:
    """ "Today", "Sat"; in the language being rendered."""
    return i18n.relative_day(day, today) or i18n.weekday(day)


def day_title(value: date | str, today: date) -> str:
    """A day as a heading says it: "Today, Monday 30 November 2026", "Saturday 17 August 2013"."""
    day = date.fromisoformat(value) if isinstance(value, str) else value
    relative = i18n.relative_day(day, today)
    return f"{relative}, {i18n.day_name(day)}" if relative else i18n.day_name(day)
