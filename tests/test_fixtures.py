"""Fixture files: parsing with line numbers, and `livescores fixtures load` on good and bad files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from livescores.cli import main
from livescores.fixtures import FixtureFileError, fixture_key, parse_fixtures, read_fixture_file
from livescores.store import Store

GOOD_CSV = """home,away,kickoff,competition
Arsenal,Chelsea,2025-08-16T15:00:00+01:00,Premier League
"Brighton & Hove Albion",Everton,2025-08-16T12:30:00Z,
"""
GOOD_JSON = [
    {"home": "Leeds", "away": "Sunderland", "kickoff": "2025-08-17T16:30:00+01:00"},
    {"home": "Real Sociedad", "away": "Valencia", "kickoff": "2025-08-17T19:00:00+02:00", "competition": "La Liga"},
]


def test_csv_fixtures_in_kick_off_order_in_utc() -> None:
    fixtures = parse_fixtures(GOOD_CSV, "csv")
    assert [(m.home, m.away, m.competition) for _, m in fixtures] == [
        ("Brighton & Hove Albion", "Everton", None),
        ("Arsenal", "Chelsea", "Premier League"),
    ]
    assert fixtures[1][1].kickoff == datetime(2025, 8, 16, 14, 0, tzinfo=UTC)
    assert fixtures[1][0] == "2025-08-16T14:00Z|arsenal|chelsea"


def test_json_fixtures() -> None:
    fixtures = parse_fixtures(json.dumps(GOOD_JSON, indent=2), "json")
    assert [m.home for _, m in fixtures] == ["Leeds", "Real Sociedad"]
    assert fixtures[0][1].kickoff == datetime(2025, 8, 17, 15, 30, tzinfo=UTC)
    assert fixtures[1][1].kickoff == datetime(2025, 8, 17, 17, 0, tzinfo=UTC)
    assert fixtures[1][1].competition == "La Liga"


def test_the_key_ignores_case_and_the_timezone_it_was_written_in() -> None:
    a = fixture_key("Arsenal", "Chelsea", datetime.fromisoformat("2025-08-16T15:00:00+01:00"))
    assert a == fixture_key("ARSENAL", "chelsea", datetime(2025, 8, 16, 14, 0, tzinfo=UTC))


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        ("", ["the file is empty"]),
        ("home,away\nA,B\n", ["line 1: no kickoff column; the header names home, away, kickoff, competition"]),
        ("home,away,kickoff,venue\n", ["line 1: unknown column 'venue'"]),
        ("home,away,kickoff\n", ["the file has no fixtures"]),
        (
            "home,away,kickoff\nA,B,2025-08-16T15:00:00Z\n,B,2025-08-16T15:00:00Z\nC,D,2025-08-16 15:00\n"
            "E,F,tomorrow\nG,G,2025-08-16T15:00:00Z\nA,B,2025-08-16T16:00:00+01:00\nH,I,2025-08-16T15:00Z,x\n",
            [
                "line 3: the home team is missing",
                "line 4: the kick-off time '2025-08-16 15:00' needs a timezone, e.g. Z or +01:00",
                "line 5: the kick-off time 'tomorrow' is not an ISO 8601 date and time",
                "line 6: G cannot play itself",
                "line 7: the same match as line 2",
                "line 8: unknown field '(extra column)'",
            ],
        ),
        (f"home,away,kickoff\n{'x' * 81},B,2025-08-16T15:00:00Z\n", ["line 2: the home team is longer than 80"]),
        ('home,away,kickoff\n"A\x07",B,2025-08-16T15:00:00Z\n', ["line 2: the home team contains control characters"]),
        (
            "home,away,kickoff\nA,B,0001-01-01T00:00:00+01:00\nC,D,9999-12-31T23:30:00-01:00\n",
            [
                "line 2: the kick-off time '0001-01-01T00:00:00+01:00' is out of range",
                "line 3: the kick-off time '9999-12-31T23:30:00-01:00' is out of range",
            ],
        ),
        ("home,away,kickoff,\nA,B,2025-08-16T15:00:00Z,x\n", ["line 2: unknown field '(extra column)'"]),
    ],
)
def test_bad_csv_is_refused_with_line_numbers(text: str, problems: list[str]) -> None:
    with pytest.raises(FixtureFileError) as refused:
        parse_fixtures(text, "csv")
    assert len(refused.value.problems) == len(problems)
    for found, expected in zip(refused.value.problems, problems, strict=True):
        assert found.startswith(expected)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"home": "A"}', "line 1: expected a JSON array of fixtures"),
        ('[\n  {"home": "A", "away": "B", "kickoff": "2025-08-16T15:00:00Z"},\n  "C v D"\n]', "line 3: each fixture"),
        ('[\n  {"home": "A", "away": "B",\n   "kickoff": null}\n]', "line 2: the kick-off time is missing"),
        (
            '[\n  {"home": "A", "away": "B",\n   "kickoff": 1700000000}\n]',
            "line 2: the kick-off time must be text, an ISO 8601 date and time with a timezone such as "
            '"2025-08-16T15:00:00+01:00", not 1700000000',
        ),
        ('[\n  {"home": "A", "away": 7, "kickoff": "2025-08-16T15:00:00Z"}\n]', "line 2: the away team must be text"),
        (
            '[\n  {"home": "A", "away": "B", "kickoff": "2025-08-16T15:00:00Z"}\n  {"home": "C"}\n]',
            "line 3: expected ,",
        ),
        ('[\n  {"home": "A", "away": "B", "kickoff": "2025-08-16T15:00:00Z",}\n]', "line 2: Expecting property name"),
        ('[{"home": "A", "away": "B", "kickoff": "2025-08-16T15:00:00Z"}]\n[]', "line 2: unexpected text"),
        ('[\n  {"home": "A", "away": "B", "n": ' + "9" * 5000 + "}\n]", "line 2: Exceeds the limit"),
        ("[\n" + "[" * 100_000, "line 2: maximum recursion depth exceeded"),
    ],
)
def test_bad_json_is_refused_with_line_numbers(text: str, problem: str) -> None:
    with pytest.raises(FixtureFileError) as refused:
        parse_fixtures(text, "json")
    assert refused.value.problems[0].startswith(problem), refused.value.problems


def test_empty_trailing_cells_of_a_spreadsheet_export_are_ignored() -> None:
    text = (
        "home,away,kickoff,competition,,\n"
        "A,B,2025-08-16T15:00:00Z,Cup,,\n"
        "C,D,2025-08-16T17:00:00Z\n"
        "E,F,2025-08-16T19:00:00Z, ,\n"
    )
    fixtures = parse_fixtures(text, "csv")
    assert [(m.home, m.competition) for _, m in fixtures] == [("A", "Cup"), ("C", None), ("E", None)]


def test_files_must_be_csv_or_json_and_utf8(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text(GOOD_CSV)
    with pytest.raises(FixtureFileError, match=r"expected a \.csv or \.json file"):
        read_fixture_file(tmp_path / "f.txt")
    (tmp_path / "latin.csv").write_bytes("home,away,kickoff\nMálaga,B,2025-08-16T15:00:00Z\n".encode("latin-1"))
    with pytest.raises(FixtureFileError, match="line 2: the file is not UTF-8"):
        read_fixture_file(tmp_path / "latin.csv")
    with pytest.raises(FixtureFileError, match="No such file"):
        read_fixture_file(tmp_path / "missing.csv")
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbf" + GOOD_CSV.encode())
    assert len(read_fixture_file(tmp_path / "bom.csv")) == 2


async def test_the_store_adds_each_fixture_once(database_url: str) -> None:
    store = Store(database_url)
    try:
        await store.migrate()
        fixtures = parse_fixtures(GOOD_CSV, "csv")
        assert len(await store.add_fixtures(fixtures)) == 2
        again = parse_fixtures(GOOD_CSV.replace("Arsenal,Chelsea", "arsenal,CHELSEA"), "csv")
        assert await store.add_fixtures(again) == []
        stored = await store.all_matches()
        assert [(m.home, m.kickoff) for m in stored] == [(m.home, m.kickoff) for _, m in fixtures]
    finally:
        await store.close()


# -- the command ------------------------------------------------------------------------------


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    database = tmp_path / "cli.db"
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("LIVESCORES_DB_PATH", str(database))
    return database


def stored_matches(database: Path) -> list[tuple[str, str]]:
    import sqlite3

    with sqlite3.connect(database) as conn:
        return conn.execute("SELECT home, away FROM matches ORDER BY position").fetchall()


def test_loading_a_file_twice_adds_its_matches_once(
    cli_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "fixtures.json"
    path.write_text(json.dumps(GOOD_JSON))
    assert main(["fixtures", "load", str(path)]) == 0
    assert "loaded 2 new matches" in capsys.readouterr().out
    assert main(["fixtures", "load", str(path)]) == 0
    assert "loaded 0 new matches" in capsys.readouterr().out
    # No demo draw: the database held only the fixtures file's matches.
    assert stored_matches(cli_env) == [("Leeds", "Sunderland"), ("Real Sociedad", "Valencia")]


def test_a_bad_file_loads_nothing_and_says_where(
    cli_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.csv"
    good.write_text(GOOD_CSV)
    assert main(["fixtures", "load", str(good)]) == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("home,away,kickoff\nLeeds,Wolves,2025-08-23T15:00:00Z\nLeeds,Wolves,2025-08-23T15:00:00\n")
    assert main(["fixtures", "load", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "refused, nothing was loaded" in err and "line 3: the kick-off time" in err
    assert len(stored_matches(cli_env)) == 2


def test_the_installed_command_loads_and_refuses(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["LIVESCORES_DB_PATH"] = str(tmp_path / "cmd.db")
    command = str(Path(sys.executable).with_name("livescores"))
    (tmp_path / "f.csv").write_text(GOOD_CSV)
    done = subprocess.run(
        [command, "fixtures", "load", str(tmp_path / "f.csv")], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0 and "loaded 2 new matches" in done.stdout, done.stderr
    done = subprocess.run(
        [command, "fixtures", "load", str(tmp_path / "nope.csv")], env=env, capture_output=True, text=True
    )
    assert done.returncode == 1 and "No such file" in done.stderr
