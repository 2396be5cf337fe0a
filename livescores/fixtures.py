"""Where matches come from: the demo draw for an empty database, or a fixture file.

A fixture file is CSV (a header row naming home, away, kickoff and optionally competition)
or a JSON array of objects with those fields; kick-off times are ISO 8601 with a timezone.
"""

from __future__ import annotations

import csv
import io
import json
import random
import secrets
from datetime import UTC, datetime
from pathlib import Path

from .matches import Match, RuleViolation, clean_name

DEMO_TEAMS: tuple[str, ...] = (
    "Arsenal", "Aston Villa", "Cardiff", "Chelsea", "Crystal Palace", "Everton", "Fulham",
    "Hull", "Liverpool", "Man City", "Man Utd", "Newcastle", "Norwich", "Southampton",
    "Stoke", "Sunderland", "Swansea", "Tottenham", "West Brom", "West Ham",
)  # fmt: skip


def new_match_id() -> str:
    return secrets.token_hex(6)


def demo_draw(rng: random.Random | None = None, now: datetime | None = None) -> list[Match]:
    """The 2013/14 Premier League drawn at random into ten matches, every team playing once,
    kicking off now."""
    teams = list(DEMO_TEAMS)
    (rng or random.SystemRandom()).shuffle(teams)
    kickoff = (now or datetime.now(UTC)).replace(second=0, microsecond=0)
    return [
        Match(id=new_match_id(), home=home, away=away, kickoff=kickoff, competition="Premier League")
        for home, away in zip(teams[0::2], teams[1::2], strict=True)
    ]


# -- fixtures from a file -------------------------------------------------------------------

MAX_FILE_BYTES = 5_000_000
MAX_TEAM_LENGTH = 80
MAX_PROBLEMS_SHOWN = 50
COLUMNS = ("home", "away", "kickoff", "competition")
REQUIRED = ("home", "away", "kickoff")


class FixtureFileError(ValueError):
    """A fixture file refused as a whole; `problems` name the lines at fault."""

    def __init__(self, problems: list[str]) -> None:
        shown = problems[:MAX_PROBLEMS_SHOWN]
        if len(problems) > len(shown):
            shown.append(f"… and {len(problems) - len(shown)} more")
        super().__init__("\n".join(shown))
        self.problems = problems


def fixture_key(home: str, away: str, kickoff: datetime) -> str:
    """The natural key that makes loading the same file twice a no-op."""
    return f"{kickoff.astimezone(UTC):%Y-%m-%dT%H:%MZ}|{home.casefold()}|{away.casefold()}"


def parse_kickoff(raw: object) -> datetime:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise ValueError("the kick-off time is missing")
    if not isinstance(raw, str):
        # A number could be seconds or milliseconds since 1970: one documented text format is safer.
        got = json.dumps(raw)
        got = got if len(got) <= 40 else got[:39] + "…"
        raise ValueError(
            f"the kick-off time must be text, an ISO 8601 date and time with a timezone "
            f'such as "2025-08-16T15:00:00+01:00", not {got}'
        )
    text = raw.strip()
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"the kick-off time {text!r} is not an ISO 8601 date and time") from None
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"the kick-off time {text!r} needs a timezone, e.g. Z or +01:00")
    try:
        return when.astimezone(UTC)
    except OverflowError:
        # Near year 1 or 9999 an offset can carry the time past the range a datetime holds.
        raise ValueError(
            f"the kick-off time {text!r} is out of range: in UTC it is before year 1 or after 9999"
        ) from None


def read_fixture_file(path: Path) -> list[tuple[str, Match]]:
    """Every fixture of a CSV or JSON file, keyed, in kick-off order; FixtureFileError if any is wrong."""
    kind = path.suffix.lower().lstrip(".")
    if kind not in ("csv", "json"):
        raise FixtureFileError([f"{path.name}: expected a .csv or .json file"])
    return parse_fixtures(read_text(path), kind)


def read_text(path: Path) -> str:
    """A fixture file's text: refused when it cannot be read, is too large, or is not UTF-8."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise FixtureFileError([f"{path}: {error.strerror or error}"]) from error
    if len(data) > MAX_FILE_BYTES:
        raise FixtureFileError([f"{path.name}: the file is over {MAX_FILE_BYTES // 1_000_000} MB"])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise FixtureFileError([f"line {line}: the file is not UTF-8 text"]) from error


def parse_fixtures(text: str, kind: str) -> list[tuple[str, Match]]:
    records = _csv_records(text) if kind == "csv" else _json_records(text)
    problems: list[str] = []
    fixtures: list[tuple[str, Match]] = []
    first_seen: dict[str, int] = {}
    for line, record in records:
        try:
            key, match = _fixture(record)
        except ValueError as error:
            problems.append(f"line {line}: {error}")
            continue
        if key in first_seen:
            problems.append(f"line {line}: the same match as line {first_seen[key]}")
            continue
        first_seen[key] = line
        fixtures.append((key, match))
    if problems:
        raise FixtureFileError(problems)
    if not fixtures:
        raise FixtureFileError(["the file has no fixtures"])
    return sorted(fixtures, key=lambda pair: pair[1].kickoff or datetime.min.replace(tzinfo=UTC))


def _fixture(record: dict[str, object]) -> tuple[str, Match]:
    unknown = sorted(str(key) for key in record if key not in COLUMNS)
    if unknown:
        raise ValueError(f"unknown field {unknown[0]!r}; the fields are {', '.join(COLUMNS)}")
    try:
        home = clean_name(record.get("home"), "home team", MAX_TEAM_LENGTH)
        away = clean_name(record.get("away"), "away team", MAX_TEAM_LENGTH)
        competition = clean_name(record.get("competition"), "competition", MAX_TEAM_LENGTH)
    except RuleViolation as error:
        raise ValueError(str(error)[0].lower() + str(error)[1:].rstrip(".")) from error
    if home is None or away is None:
        raise ValueError(f"the {'home' if home is None else 'away'} team is missing")
    if home.casefold() == away.casefold():
        raise ValueError(f"{home} cannot play itself")
    kickoff = parse_kickoff(record.get("kickoff"))
    match = Match(id=new_match_id(), home=home, away=away, kickoff=kickoff, competition=competition)
    return fixture_key(home, away, kickoff), match


def _csv_records(text: str) -> list[tuple[int, dict[str, object]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise FixtureFileError(["the file is empty"])
        names = [name.strip().lower() for name in header]
        # Spreadsheets often export a separator at the end of every line: an unnamed last column.
        while names and not names[-1]:
            names.pop()
        missing = [name for name in REQUIRED if name not in names]
        unknown = [name for name in names if name not in COLUMNS]
        if missing or unknown:
            wrong = f"no {missing[0]} column" if missing else f"unknown column {unknown[0]!r}"
            raise FixtureFileError([f"line 1: {wrong}; the header names {', '.join(COLUMNS)} (competition optional)"])
        records: list[tuple[int, dict[str, object]]] = []
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            while len(row) > len(names) and not row[-1].strip():
                row.pop()
            record: dict[str, object] = dict(zip(names, row, strict=False))
            if len(row) > len(names):
                record["(extra column)"] = row[len(names)]
            records.append((reader.line_num, record))
        return records
    except csv.Error as error:
        raise FixtureFileError([f"line {reader.line_num}: {error}"]) from error


def _json_records(text: str) -> list[tuple[int, dict[str, object]]]:
    """A JSON array of objects, each with the line it starts on."""
    decoder = json.JSONDecoder()

    def line_of(position: int) -> int:
        return text.count("\n", 0, position) + 1

    def skip_space(position: int) -> int:
        while position < len(text) and text[position] in " \t\r\n":
            position += 1
        return position

    position = skip_space(0)
    if position >= len(text) or text[position] != "[":
        raise FixtureFileError([f"line {line_of(position)}: expected a JSON array of fixtures"])
    position = skip_space(position + 1)
    records: list[tuple[int, dict[str, object]]] = []
    if position < len(text) and text[position] == "]":
        return records
    while True:
        try:
            value, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            raise FixtureFileError([f"line {error.lineno}: {error.msg}"]) from error
        except (ValueError, RecursionError) as error:  # a number too long to convert, nesting too deep
            raise FixtureFileError([f"line {line_of(position)}: {error}"]) from error
        if not isinstance(value, dict):
            raise FixtureFileError([f"line {line_of(position)}: each fixture must be a JSON object"])
        records.append((line_of(position), value))
        position = skip_space(end)
        if position < len(text) and text[position] == ",":
            position = skip_space(position + 1)
            continue
        if position < len(text) and text[position] == "]":
            rest = skip_space(position + 1)
            if rest != len(text):
                raise FixtureFileError([f"line {line_of(rest)}: unexpected text after the array"])
            return records
        raise FixtureFileError([f"line {line_of(position)}: expected , or ] after a fixture"])
