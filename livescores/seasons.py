"""A season file (openfootball's formats) as matches with the stories of their results, and
what to append to a match already stored so that it tells the file's version.

Pure functions: `store.load_season` writes what they decide, in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from .calendar import Competition, name_key
from .fixtures import FixtureFileError, new_match_id, read_text
from .matches import Event, Match, replay
from .openfootball import OpenFootballError, Season, parse
from .stories import story, to_match

IMPORTER = "import"  # who the events of a loaded file are recorded by


@dataclass(frozen=True)
class Entry:
    """One match of a file: its fixture (a fresh id), the events that tell its result, and
    where the file has it, for messages."""

    match: Match
    events: tuple[Event, ...]
    where: str


@dataclass(frozen=True)
class SeasonFile:
    season: Season
    entries: tuple[Entry, ...]

    @property
    def competition(self) -> Competition:
        return self.season.competition


def is_season(text: str) -> bool:
    """openfootball's files are one JSON object; the app's own fixture files are CSV or a JSON array."""
    return text.lstrip("\ufeff \t\r\n").startswith("{")


def parse_season(text: str, zone: ZoneInfo, source: str = "<file>") -> SeasonFile:
    """A whole file or FixtureFileError naming each fault: a line for JSON that does not
    parse, a JSON path (`rounds[3].matches[2].score.ft`) for a match that does not."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise FixtureFileError([f"line {error.lineno}: {error.msg}"]) from error
    except (ValueError, RecursionError) as error:
        raise FixtureFileError([f"(file): {error}"]) from error
    try:
        season = parse(data, zone, source)
    except OpenFootballError as error:
        raise FixtureFileError(error.problems) from error
    if not season.fixtures:
        raise FixtureFileError(["(file): the file has no matches"])
    problems: list[str] = []
    seen: dict[tuple[str, str, str], str] = {}
    for fixture in season.fixtures:
        key = (fixture.round.casefold(), name_key(fixture.home), name_key(fixture.away))
        if key in seen:
            problems.append(f"{fixture.path}: the same match as {seen[key]}")
        seen.setdefault(key, fixture.path)
        if name_key(fixture.home) == name_key(fixture.away):
            problems.append(f"{fixture.path}: {fixture.home} cannot play itself")
    if problems:
        raise FixtureFileError(problems)
    entries = tuple(
        Entry(
            to_match(season, fixture, new_match_id()),
            tuple(replace(event, recorded_by=IMPORTER) for event in story(fixture)),
            fixture.path,
        )
        for fixture in season.fixtures
    )
    return SeasonFile(season, entries)


def load_season_file(path: Path, zone: ZoneInfo) -> SeasonFile:
    return parse_season(read_text(path), zone, str(path))


def fixture_key(match: Match) -> str:
    """A loaded match's key: its competition, round and teams, never its kick-off, so that a
    file with a new kick-off corrects the match instead of adding a second one."""
    return f"season|{match.competition_slug}|{(match.round or '').casefold()}|{match.home_slug}|{match.away_slug}"


def _essence(match: Match) -> tuple[object, ...]:
    """What a file can say about a match: when, how it stands, and what happened in it."""
    told = tuple(
        (i.kind, i.side, i.player, i.minute, i.penalty, i.own_goal, i.outcome, i.minutes)
        for i in match.incidents
        if i.kind != "postpone"
    )
    return (match.kickoff, match.status, match.home_score, match.away_score, told)


def corrections(current: Match, kickoff: datetime, told: Sequence[Event], now: datetime) -> list[Event]:
    """The events that bring a stored match to what the file tells (nothing when it already
    does): a new kick-off of a match not played is a postponement to it; anything else undoes
    the match back to its fixture, then tells the file's story. The log keeps every step."""
    wanted = replay(replace(current.fixture, kickoff=kickoff), told)
    if _essence(current) == _essence(wanted):
        return []
    played = [i for i in current.incidents if i.kind != "postpone"]
    if not played and not told:
        if current.status not in ("scheduled", "postponed") or current.kickoff == kickoff:
            return []
        return [Event("postpone", now, kickoff=kickoff, recorded_by=IMPORTER)]
    events = [Event("undo", now, recorded_by=IMPORTER) for _ in current.incidents]
    original = current.postponed_from or current.kickoff
    if original != kickoff:
        events.append(Event("postpone", now, kickoff=kickoff, recorded_by=IMPORTER))
    return [*events, *told]
