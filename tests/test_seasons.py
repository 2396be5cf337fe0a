"""Loading openfootball's season files into the store: every shipped file, idempotence,
corrections through the log, refusals with their JSON paths, and the tables that come out."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from livescores.fixtures import FixtureFileError
from livescores.openfootball import DATA, SHIPPED
from livescores.seasons import load_season_file, parse_season
from livescores.store import Store
from livescores.tables import competition_tables

LONDON = ZoneInfo("Europe/London")
# Matches, and goals in their logs, per shipped file (the club files name no scorers).
COUNTS = {
    "football.json/2013-14/en.1.json": (380, 0),
    "football.json/2013-14/en.2.json": (552, 0),
    "worldcup.json/2014/worldcup.json": (64, 171),
    "worldcup.json/2022/worldcup.json": (64, 172),
}


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    store = Store(database_url)
    await store.migrate()
    yield store
    await store.close()


async def load(store: Store, relative_or_text: str, zone: ZoneInfo = LONDON) -> tuple[int, int, int]:
    if relative_or_text.lstrip().startswith("{"):
        season = parse_season(relative_or_text, zone)
    else:
        season = load_season_file(DATA / relative_or_text, ZoneInfo(SHIPPED[relative_or_text]))
    report = await store.load_season(season.entries, season.competition, season.season.teams)
    assert report is not None
    return len(report.added), len(report.corrected), report.unchanged


@pytest.mark.parametrize("relative", sorted(COUNTS))
async def test_every_shipped_file_loads_whole_and_again_changes_nothing(store: Store, relative: str) -> None:
    matches, goals = COUNTS[relative]
    assert await load(store, relative) == (matches, 0, 0)
    stored = await store.all_matches()
    assert len(stored) == matches
    assert all(m.status == "full_time" for m in stored)
    assert sum(sum(1 for i in m.incidents if i.kind == "goal") for m in stored) == goals
    marker = await store.change_marker()
    assert await load(store, relative) == (0, 0, matches)
    assert await store.change_marker() == marker  # not one event more


async def test_the_premier_league_table_is_the_real_one(store: Store) -> None:
    await load(store, "football.json/2013-14/en.1.json")
    (competition,) = await store.competitions()
    tables = competition_tables(competition, await store.competition_matches(competition.slug))
    (league,) = tables.tables
    top = [(r.team, r.points, r.goal_difference) for r in league.rows[:3]]
    assert top == [("manchester-city", 86, 65), ("liverpool-fc", 84, 51), ("chelsea-fc", 82, 44)]
    assert (league.rows[-1].team, league.rows[-1].points, len(league.rows)) == ("cardiff-city", 30, 20)
    assert not tables.live


async def test_world_cup_2014_group_a_is_the_published_one(store: Store) -> None:
    await load(store, "worldcup.json/2014/worldcup.json")
    (competition,) = await store.competitions()
    tables = competition_tables(competition, await store.competition_matches(competition.slug))
    group_a = tables.tables[0]
    assert group_a.group == "Group A"
    assert [(r.name, r.points, r.goal_difference) for r in group_a.rows] == [
        ("Brazil", 7, 5),
        ("Mexico", 7, 3),
        ("Croatia", 3, 0),
        ("Cameroon", 0, -8),
    ]
    assert len(tables.tables) == 8
    assert [name for name, _ in tables.knockout] == [
        "Round of 16",
        "Quarter-finals",
        "Semi-finals",
        "Match for third place",
        "Final",
    ]


def league(matches: list[dict[str, object]]) -> str:
    return json.dumps({"name": "Test League 2030/31", "matches": matches})


PLAYED = {"round": "Matchday 1", "date": "2030-08-10", "time": "15:00", "team1": "Alpha FC", "team2": "Beta FC"}
COMING = {"round": "Matchday 2", "date": "2030-08-17", "time": "15:00", "team1": "Beta FC", "team2": "Alpha FC"}


async def test_a_changed_kickoff_postpones_the_same_match(store: Store) -> None:
    await load(store, league([{**PLAYED, "score": {"ft": [2, 1]}}, COMING]))
    before = {m.round: m for m in await store.all_matches()}
    assert await load(store, league([{**PLAYED, "score": {"ft": [2, 1]}}, {**COMING, "time": "17:30"}])) == (0, 1, 1)
    after = {m.round: m for m in await store.all_matches()}
    moved = after["Matchday 2"]
    assert moved.id == before["Matchday 2"].id and len(after) == 2
    assert moved.kickoff is not None and moved.kickoff.astimezone(LONDON).strftime("%H:%M") == "17:30"
    assert moved.postponed_from == before["Matchday 2"].kickoff
    assert [e.kind for e in await store.events(moved.id)] == ["postpone"]
    # Loading the corrected file again changes nothing more.
    assert await load(store, league([{**PLAYED, "score": {"ft": [2, 1]}}, {**COMING, "time": "17:30"}])) == (0, 0, 2)


async def test_a_changed_result_is_undone_and_told_again(store: Store) -> None:
    await load(store, league([{**PLAYED, "score": {"ft": [2, 1]}}, COMING]))
    (played,) = [m for m in await store.all_matches() if m.round == "Matchday 1"]
    assert await load(store, league([{**PLAYED, "score": {"ft": [1, 1]}}, COMING])) == (0, 1, 1)
    corrected = await store.get_match(played.id)
    assert corrected is not None and (corrected.home_score, corrected.away_score) == (1, 1)
    assert [e.kind for e in await store.events(played.id)] == ["result", "undo", "result"]
    # A result for the match still to come: it is played now, its log tells it.
    text = league([{**PLAYED, "score": {"ft": [1, 1]}}, {**COMING, "score": {"ft": [0, 3]}}])
    assert await load(store, text) == (0, 1, 1)


async def test_a_broken_file_is_refused_whole_with_its_paths(store: Store) -> None:
    broken = league([PLAYED, {**COMING, "date": "17 Aug", "score": {"ft": [1]}}])
    with pytest.raises(FixtureFileError) as refused:
        await load(store, broken)
    assert refused.value.problems == [
        "matches[1].date: missing or not a date (YYYY-MM-DD)",
        "matches[1].score.ft: not a pair of goal counts",
    ]
    with pytest.raises(FixtureFileError) as refused:
        await load(store, league([PLAYED, COMING, PLAYED, {**COMING, "team1": "Alpha FC"}]))
    assert refused.value.problems == [
        "matches[2]: the same match as matches[0]",
        "matches[3]: Alpha FC cannot play itself",
    ]
    with pytest.raises(FixtureFileError) as refused:
        await load(store, '{"name": "X 2030", "matches": [\n  {"round": 1,}\n]}')
    assert refused.value.problems[0].startswith("line 2:")
    assert await store.all_matches() == []


async def test_a_name_the_aliases_know_is_one_team(store: Store, tmp_path: Path) -> None:
    await load(store, league([{**PLAYED, "score": {"ft": [2, 1]}}]))
    await store.merge_team("Alpha", "alpha-fc")
    renamed = {**PLAYED, "team1": "Alpha", "score": {"ft": [2, 1]}}
    assert await load(store, league([renamed])) == (0, 0, 1)
    assert len(await store.teams()) == 2
