"""The shipped openfootball files read against what was published about those seasons."""

from __future__ import annotations

import copy
import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from livescores.calendar import FIFA_GROUP_ORDER, LEAGUE_ORDER
from livescores.matches import Minute, replay
from livescores.openfootball import DATA, SHIPPED, Fixture, OpenFootballError, Season, load, load_shipped, parse
from livescores.shootout import shootout_score, shootout_winner
from livescores.stories import final_match, shootout_sequence, story, to_match

PL = "football.json/2013-14/en.1.json"
CHAMPIONSHIP = "football.json/2013-14/en.2.json"
CL = "football.json/2013-14/uefa.cl.json"
WC2014 = "worldcup.json/2014/worldcup.json"
WC2022 = "worldcup.json/2022/worldcup.json"
QATAR = ZoneInfo("Asia/Qatar")


def raw(relative: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / relative).read_text(encoding="utf-8"))
    return data


def find(season: Season, home: str, away: str, round: str | None = None) -> Fixture:
    found = [f for f in season.fixtures if f.home == home and f.away == away and round in (None, f.round)]
    assert len(found) == 1, found
    return found[0]


def goal_lines(fixture: Fixture) -> list[tuple[str, str, str, bool, bool]]:
    assert fixture.result is not None and fixture.result.goals is not None
    return [(g.scorer, str(g.minute), g.side, g.penalty, g.own_goal) for g in fixture.result.goals]


@pytest.mark.parametrize(
    ("relative", "matches", "teams"),
    [(PL, 380, 20), (CHAMPIONSHIP, 552, 24), (CL, 125, 32), (WC2014, 64, 32), (WC2022, 64, 32)],
)
def test_every_shipped_file_reads_whole(relative: str, matches: int, teams: int) -> None:
    # 125 in the Champions League: 96 group matches, 14 two-legged ties and the final.
    season = load_shipped(relative)
    assert len(season.fixtures) == matches
    assert len(season.teams) == teams
    assert all(f.result is not None for f in season.fixtures)
    assert all(f.kickoff.utcoffset() is not None for f in season.fixtures)
    assert [f.number for f in season.fixtures] == list(range(1, matches + 1))


def test_shipped_files_are_the_ones_the_licence_note_names() -> None:
    assert set(SHIPPED) == {PL, CHAMPIONSHIP, CL, WC2014, WC2022}
    assert (DATA / "LICENSE.md").read_text().startswith("CC0 1.0 Universal")
    assert "CC0" in (DATA / "README.md").read_text()


@pytest.mark.parametrize(("relative", "goals", "shoot_outs"), [(WC2014, 171, 4), (WC2022, 172, 5)])
def test_world_cup_goal_totals_leave_out_shoot_outs(relative: str, goals: int, shoot_outs: int) -> None:
    season = load_shipped(relative)
    listed = [g for f in season.fixtures for g in (f.result.goals or ()) if f.result]
    assert len(listed) == goals
    assert sum(1 for f in season.fixtures if f.result and f.result.penalties) == shoot_outs
    # Every goal the lists give agrees with the score after extra time: no kick is counted.
    assert goals == sum(sum(f.result.final) for f in season.fixtures if f.result)


def test_competitions_are_told_apart_by_their_matches() -> None:
    pl, cl, wc = load_shipped(PL), load_shipped(CL), load_shipped(WC2022)
    assert (pl.competition.name, pl.competition.season, pl.competition.format) == (
        "English Premier League",
        "2013/14",
        "league",
    )
    assert pl.competition.rules.tie_breakers == LEAGUE_ORDER
    assert load_shipped(CHAMPIONSHIP).competition.format == "league"
    assert (wc.competition.name, wc.competition.season, wc.competition.slug) == ("World Cup", "2022", "world-cup-2022")
    assert wc.competition.format == "groups_then_knockout"
    assert wc.competition.rules.tie_breakers == FIFA_GROUP_ORDER
    assert cl.competition.format == "groups_then_knockout"
    assert cl.competition.rules.tie_breakers[:2] == ("points", "head_to_head_points")
    assert cl.competition.away_goals and not wc.competition.away_goals


def test_the_2022_final_in_match_order_with_extra_time_and_penalties() -> None:
    final = find(load_shipped(WC2022), "Argentina", "France", "Final")
    result = final.result
    assert result is not None
    assert (result.full_time, result.extra_time, result.penalties) == ((2, 2), (3, 3), (4, 2))
    assert goal_lines(final) == [
        ("Lionel Messi", "23'", "home", True, False),
        ("Ángel Di María", "36'", "home", False, False),
        ("Kylian Mbappé", "80'", "away", True, False),
        ("Kylian Mbappé", "81'", "away", False, False),
        ("Lionel Messi", "108'", "home", False, False),
        ("Kylian Mbappé", "118'", "away", True, False),
    ]
    assert final.venue == "Lusail Iconic Stadium, Lusail"
    assert final.kickoff == datetime(2022, 12, 18, 15, 0, tzinfo=UTC)  # 18:00 in Lusail
    assert final.group is None and final.leg is None


def test_the_final_is_told_through_extra_time_and_its_shoot_out() -> None:
    season = load_shipped(WC2022)
    final = find(season, "Argentina", "France", "Final")
    told = story(final)
    match = replay(to_match(season, final), told)
    assert not told.beyond_rules and not told.goals_missing
    assert (match.status, match.home_score, match.away_score) == ("full_time", 3, 3)
    assert match.decided_by == "penalties" and match.penalty_score == (4, 2)
    assert [(i.player, str(i.minute)) for i in match.incidents if i.kind == "goal"] == [
        ("Lionel Messi", "23'"),
        ("Ángel Di María", "36'"),
        ("Kylian Mbappé", "80'"),
        ("Kylian Mbappé", "81'"),
        ("Lionel Messi", "108'"),
        ("Kylian Mbappé", "118'"),
    ]
    kinds = [e.kind for e in told]
    assert kinds[: kinds.index("penalties") + 1] == [
        "kick_off",
        "goal",
        "goal",
        "half_time",
        "second_half",
        "goal",
        "goal",
        "extra_time",
        "extra_time_half_time",
        "extra_time_second_half",
        "goal",
        "goal",
        "penalties",
    ]
    # 4-2 is decided after four kicks each: the shortest run that ends there.
    assert kinds.count("shootout_kick") == 8
    moments = [e.at for e in told]
    assert moments == sorted(moments)
    messi = told.events[1]
    assert timedelta(minutes=22) < messi.at - final.kickoff < timedelta(minutes=23)


def test_shoot_out_scores_become_the_shortest_run_of_kicks_that_ends_there() -> None:
    for score in [(4, 2), (3, 0), (0, 3), (5, 4), (4, 5), (7, 6), (1, 0)]:
        kicks = shootout_sequence(score, "home")
        assert kicks is not None, score
        assert shootout_score(kicks) == score
        assert shootout_winner(kicks) is not None
        assert all(shootout_winner(kicks[:n]) is None for n in range(len(kicks)))
    assert shootout_sequence((3, 3), "home") is None
    assert shootout_sequence((9, 0), "home") is None


def test_an_own_goal_counts_for_the_list_it_is_in() -> None:
    # Brazil 3-1 Croatia, 2014: Marcelo turned the ball into his own net after 11 minutes.
    season = load_shipped(WC2014)
    opener = find(season, "Brazil", "Croatia")
    assert goal_lines(opener) == [
        ("Marcelo", "11'", "away", False, True),
        ("Neymar", "29'", "home", False, False),
        ("Neymar", "71'", "home", True, False),
        ("Oscar", "90+1'", "home", False, False),
    ]
    match = replay(to_match(season, opener), story(opener))
    assert (match.home_score, match.away_score) == (3, 1)
    own_goal = match.goals("away")[0]
    assert own_goal.own_goal and own_goal.player == "Marcelo"
    assert match.summary(own_goal) == "Goal, Croatia: Marcelo 11' (og)"


def test_every_world_cup_match_replays_to_its_final_score() -> None:
    for relative in (WC2014, WC2022):
        season = load_shipped(relative)
        for fixture in season.fixtures:
            assert fixture.result is not None and fixture.result.goals is not None
            minutes = [g.minute.order for g in fixture.result.goals]
            assert minutes == sorted(minutes), fixture.path
            match = replay(to_match(season, fixture), story(fixture))
            assert match.status == "full_time"
            final = fixture.result.extra_time or fixture.result.full_time
            assert (match.home_score, match.away_score) == final, fixture.path
            assert not story(fixture).beyond_rules
            if fixture.result.penalties is not None:
                assert match.penalty_score == fixture.result.penalties, fixture.path


def test_the_files_half_time_score_is_kept_while_the_story_follows_the_goals() -> None:
    # Serbia 2-3 Switzerland, 2022, was 2-2 at half-time; the file says 2-1.
    season = load_shipped(WC2022)
    fixture = find(season, "Serbia", "Switzerland")
    assert fixture.result is not None and fixture.result.half_time == (2, 1)
    first_half = [e for e in story(fixture) if e.kind != "second_half"][:6]
    assert first_half[-1].kind == "half_time"
    at_half_time = replay(to_match(season, fixture), first_half)
    assert (at_half_time.status, at_half_time.home_score, at_half_time.away_score) == ("half_time", 2, 2)


def test_minutes_counted_past_the_end_become_added_time() -> None:
    # Germany 2-1 Algeria after extra time, 2014: Djabou scored in the first minute added to 120.
    fixture = find(load_shipped(WC2014), "Germany", "Algeria")
    assert [line[:2] for line in goal_lines(fixture)] == [
        ("André Schürrle", "92'"),
        ("Mesut Özil", "120'"),
        ("Abdelmoumene Djabou", "120+1'"),
    ]
    assert fixture.result is not None and fixture.result.goals is not None
    assert all(g.in_extra_time for g in fixture.result.goals)


def test_kick_offs_with_an_offset_keep_it_and_others_are_local() -> None:
    wc2014, pl = load_shipped(WC2014), load_shipped(PL)
    assert find(wc2014, "Brazil", "Croatia").kickoff == datetime(2014, 6, 12, 20, 0, tzinfo=UTC)
    assert find(wc2014, "England", "Italy").kickoff == datetime(2014, 6, 14, 22, 0, tzinfo=UTC)  # Manaus, UTC-4
    opener = pl.fixtures[0]
    assert (opener.home, opener.away) == ("Liverpool FC", "Stoke City")
    assert opener.kickoff == datetime(2013, 8, 17, 11, 45, tzinfo=UTC)  # 12:45 in London's summer time
    # London's clocks: GMT in December, BST in August.
    assert {f.kickoff.utcoffset() for f in pl.fixtures if f.kickoff.month == 12} == {timedelta(0)}
    assert {f.kickoff.utcoffset() for f in pl.fixtures if f.kickoff.month == 8} == {timedelta(hours=1)}


def test_a_date_without_a_time_kicks_off_at_three_local() -> None:
    document = {
        "name": "Test League 2024",
        "matches": [{"round": "1", "date": "2024-01-06", "team1": "A", "team2": "B"}],
    }
    fixture = parse(document, ZoneInfo("Europe/London")).fixtures[0]
    assert fixture.kickoff == datetime(2024, 1, 6, 15, 0, tzinfo=UTC)
    assert fixture.result is None
    assert len(story(fixture)) == 0


def test_two_legged_ties_and_groups_in_the_champions_league() -> None:
    season = load_shipped(CL)
    first = find(season, "Manchester City (ENG)", "FC Barcelona (ESP)", "Round of 16")
    second = find(season, "FC Barcelona (ESP)", "Manchester City (ENG)", "Round of 16")
    assert (first.leg, second.leg) == (1, 2)
    assert sum(1 for f in season.fixtures if f.leg) == 28
    final = find(season, "Real Madrid (ESP)", "Atlético Madrid (ESP)", "Final")
    assert final.leg is None and final.result is not None
    assert (final.result.full_time, final.result.extra_time) == ((1, 1), (4, 1))
    groups = defaultdict(set)
    for fixture in season.fixtures:
        if fixture.group:
            groups[fixture.group].update((fixture.home, fixture.away))
    assert sorted(groups) == [f"Group {letter}" for letter in "ABCDEFGH"]
    assert all(len(teams) == 4 for teams in groups.values())
    team = season.team("Real Madrid (ESP)")
    assert (team.name, team.slug, team.aliases) == ("Real Madrid", "real-madrid", ("Real Madrid (ESP)",))
    assert to_match(season, final).home_slug == "real-madrid"


def test_world_cup_groups_match_the_groups_file() -> None:
    for relative in (WC2014, WC2022):
        season = load_shipped(relative)
        groups = defaultdict(set)
        for fixture in season.fixtures:
            if fixture.group:
                groups[fixture.group].update((fixture.home, fixture.away))
        published = raw(str(Path(relative).parent / "worldcup.groups.json"))
        # The one spelling the 2014 files disagree on.
        spelled = {"United States": "USA"}
        assert {g["name"]: {spelled.get(t, t) for t in g["teams"]} for g in published["groups"]} == groups


def test_result_only_matches_are_one_result_event_in_the_log() -> None:
    season = load_shipped(PL)
    opener = season.fixtures[0]
    told = story(opener)
    assert told.goals_missing and not told.beyond_rules
    assert [e.kind for e in told] == ["result"]
    match = final_match(season, opener)
    assert (match.status, match.home_score, match.away_score, match.decided_by) == ("full_time", 1, 0, "normal_time")
    assert match.details_missing and not match.goals("home")
    assert match.summary(match.incidents[0]) == "Result 1–0: the match's details are not available"
    goalless = next(f for f in season.fixtures if f.result and f.result.full_time == (0, 0))
    assert not story(goalless).goals_missing
    assert goalless.result is not None and goalless.result.goals == ()
    assert [e.kind for e in story(goalless)] == ["kick_off", "half_time", "second_half", "full_time"]


def test_a_result_only_final_after_extra_time() -> None:
    season = load_shipped(CL)
    final = next(f for f in season.fixtures if f.round == "Final")
    match = final_match(season, final)
    assert (match.home_score, match.away_score, match.decided_by) == (4, 1, "extra_time")


def test_the_rounds_shape_reads_like_the_matches_shape() -> None:
    flat = raw(PL)
    rounds: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for match in flat["matches"]:
        rounds[match["round"]].append({k: v for k, v in match.items() if k != "round"})
    nested = {"name": flat["name"], "rounds": [{"name": n, "matches": ms} for n, ms in rounds.items()]}
    zone = ZoneInfo("Europe/London")
    by_rounds, by_matches = parse(nested, zone), parse(flat, zone)
    assert by_rounds.competition == by_matches.competition

    def plain(fixtures: tuple[Fixture, ...]) -> list[tuple[object, ...]]:
        return sorted((f.kickoff, f.home, f.away, f.round, f.result) for f in fixtures)

    assert plain(by_rounds.fixtures) == plain(by_matches.fixtures)
    assert len(by_rounds.fixtures) == 380
    assert by_rounds.fixtures[10].path == "rounds[1].matches[0]"


def test_older_files_with_team_objects_and_numbered_scores() -> None:
    document = {
        "name": "Cup 2010",
        "rounds": [
            {
                "name": "Final",
                "matches": [
                    {
                        "date": "2010-05-22",
                        "time": "20:45 UTC+2",
                        "team1": {"name": "Bayern München", "code": "FCB"},
                        "team2": {"name": "Inter", "code": "INT"},
                        "score1": 0,
                        "score2": 2,
                        "score1i": 0,
                        "score2i": 1,
                    }
                ],
            }
        ],
    }
    fixture = parse(document, ZoneInfo("Europe/Madrid")).fixtures[0]
    assert (fixture.home, fixture.away, fixture.kickoff) == (
        "Bayern München",
        "Inter",
        datetime(2010, 5, 22, 18, 45, tzinfo=UTC),
    )
    assert fixture.result is not None
    assert (fixture.result.full_time, fixture.result.half_time, fixture.result.goals) == ((0, 2), (0, 1), None)


def test_a_broken_file_names_every_problem_by_its_path() -> None:
    data = copy.deepcopy(raw(WC2022))
    data["matches"][3]["score"]["ft"] = "two"
    scored = next(m for m, match in enumerate(data["matches"]) if match.get("goals1"))
    data["matches"][scored]["goals1"][0]["minute"] = 0
    data["matches"][20]["date"] = "20/11/2022"
    data["matches"][30]["time"] = "25:00"
    data["matches"][63]["goals1"].pop()  # Messi's 108th-minute goal goes missing
    del data["matches"][40]["team2"]
    with pytest.raises(OpenFootballError) as raised:
        parse(data, QATAR, "worldcup.json")
    problems = raised.value.problems
    for path in (
        "matches[3].score.ft",
        f"matches[{scored}].goals1[0].minute",
        "matches[20].date",
        "matches[30].time",
        "matches[63].goals1",
        "matches[40].team2",
    ):
        assert any(p.startswith(f"{path}:") for p in problems), (path, problems)
    assert "worldcup.json" in str(raised.value)


def test_a_broken_round_names_its_path() -> None:
    data = {"name": "League 2020/21", "rounds": [{"name": f"Round {r}", "matches": []} for r in range(4)]}
    data["rounds"][3]["matches"] = [
        {"date": "2020-09-12", "team1": "A", "team2": "B", "score": {"ft": [1, 0]}},
        {"date": "2020-09-12", "team1": "C", "team2": "D", "score": {"ft": [1, 0]}},
        {"date": "2020-09-12", "team1": "E", "team2": "F", "score": {"ht": [1, 0]}},
    ]
    data["rounds"][1] = {"matches": []}
    with pytest.raises(OpenFootballError) as raised:
        parse(data, ZoneInfo("UTC"))
    assert raised.value.problems == ["rounds[1].name: missing or not text", "rounds[3].matches[2].score.ft: missing"]


def test_a_file_that_is_not_json_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "en.1.json"
    broken.write_text('{"name": "English Premier League 2013/14", "matches": [', encoding="utf-8")
    with pytest.raises(OpenFootballError) as raised:
        load(broken, ZoneInfo("Europe/London"))
    assert raised.value.problems[0].startswith("(file):")
    with pytest.raises(OpenFootballError):
        parse({"name": "Groups only", "groups": []}, ZoneInfo("UTC"))


def test_same_minute_goals_and_minute_objects() -> None:
    assert Minute(45, 3).order < Minute(46).order
    data = copy.deepcopy(raw(WC2022))
    # Both sides in one minute: the file cannot say which came first, so home goes first.
    data["matches"][0]["goals1"] = [{"name": "Afif", "minute": 16}]
    data["matches"][0]["score"] = {"ft": [1, 2]}
    fixture = parse(data, QATAR).fixtures[0]
    assert [line[:3] for line in goal_lines(fixture)] == [
        ("Afif", "16'", "home"),
        ("Enner Valencia", "16'", "away"),
        ("Enner Valencia", "31'", "away"),
    ]
