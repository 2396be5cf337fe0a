"""Tables computed from the shipped results against the tables published at the time, and
tie-breakers on constructed groups where only they can decide."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from livescores.calendar import FIFA_GROUP_ORDER, LEAGUE_ORDER, TableRules
from livescores.matches import Match, replay
from livescores.openfootball import load_shipped
from livescores.standings import Row, group_tables, table, table_changes
from livescores.stories import final_match, story, to_match

# Published final tables: (team, won, drawn, lost, goals for, goals against, points).
PREMIER_LEAGUE_2013_14 = [
    ("Manchester City", 27, 5, 6, 102, 37, 86),
    ("Liverpool FC", 26, 6, 6, 101, 50, 84),
    ("Chelsea FC", 25, 7, 6, 71, 27, 82),
    ("Arsenal FC", 24, 7, 7, 68, 41, 79),
    ("Everton FC", 21, 9, 8, 61, 39, 72),
    ("Tottenham Hotspur", 21, 6, 11, 55, 51, 69),
    ("Manchester United", 19, 7, 12, 64, 43, 64),
    ("Southampton FC", 15, 11, 12, 54, 46, 56),
    ("Stoke City", 13, 11, 14, 45, 52, 50),
    ("Newcastle United", 15, 4, 19, 43, 59, 49),
    ("Crystal Palace", 13, 6, 19, 33, 48, 45),
    ("Swansea City", 11, 9, 18, 54, 54, 42),
    ("West Ham United", 11, 7, 20, 40, 51, 40),
    ("Sunderland AFC", 10, 8, 20, 41, 60, 38),
    ("Aston Villa", 10, 8, 20, 39, 61, 38),
    ("Hull City", 10, 7, 21, 38, 53, 37),
    ("West Bromwich Albion", 7, 15, 16, 43, 59, 36),
    ("Norwich City", 8, 9, 21, 28, 62, 33),
    ("Fulham FC", 9, 5, 24, 40, 85, 32),
    ("Cardiff City", 7, 9, 22, 32, 74, 30),
]
# The Championship by points; Birmingham stayed up on goal difference (-16 against -31).
CHAMPIONSHIP_2013_14 = [
    ("Leicester City", 102),
    ("Burnley FC", 93),
    ("Derby County", 85),
    ("Queens Park Rangers", 80),
    ("Wigan Athletic", 73),
    ("Brighton & Hove Albion", 72),
    ("Reading FC", 71),
    ("Blackburn Rovers", 70),
    ("Ipswich Town", 68),
    ("AFC Bournemouth", 66),
    ("Nottingham Forest", 65),
    ("Middlesbrough FC", 64),
    ("Watford FC", 60),
    ("Bolton Wanderers", 59),
    ("Leeds United", 57),
    ("Sheffield Wednesday", 53),
    ("Huddersfield Town", 53),
    ("Charlton Athletic", 51),
    ("Millwall FC", 48),
    ("Blackpool FC", 46),
    ("Birmingham City", 44),
    ("Doncaster Rovers", 44),
    ("Barnsley FC", 39),
    ("Yeovil Town", 37),
]
# Published group tables: (team, points) in finishing order.
WORLD_CUP_2014 = {
    "Group A": [("Brazil", 7), ("Mexico", 7), ("Croatia", 3), ("Cameroon", 0)],
    "Group B": [("Netherlands", 9), ("Chile", 6), ("Spain", 3), ("Australia", 0)],
    "Group C": [("Colombia", 9), ("Greece", 4), ("Côte d'Ivoire", 3), ("Japan", 1)],
    "Group D": [("Costa Rica", 7), ("Uruguay", 6), ("Italy", 3), ("England", 1)],
    "Group E": [("France", 7), ("Switzerland", 6), ("Ecuador", 4), ("Honduras", 0)],
    "Group F": [("Argentina", 9), ("Nigeria", 4), ("Bosnia-Herzegovina", 3), ("Iran", 1)],
    "Group G": [("Germany", 7), ("USA", 4), ("Portugal", 4), ("Ghana", 1)],
    "Group H": [("Belgium", 9), ("Algeria", 4), ("Russia", 2), ("South Korea", 1)],
}
WORLD_CUP_2022 = {
    "Group A": [("Netherlands", 7), ("Senegal", 6), ("Ecuador", 4), ("Qatar", 0)],
    "Group B": [("England", 7), ("USA", 5), ("Iran", 3), ("Wales", 1)],
    "Group C": [("Argentina", 6), ("Poland", 4), ("Mexico", 4), ("Saudi Arabia", 3)],
    "Group D": [("France", 6), ("Australia", 6), ("Tunisia", 4), ("Denmark", 1)],
    "Group E": [("Japan", 6), ("Spain", 4), ("Germany", 4), ("Costa Rica", 3)],
    "Group F": [("Morocco", 7), ("Croatia", 5), ("Belgium", 4), ("Canada", 0)],
    "Group G": [("Brazil", 6), ("Switzerland", 6), ("Cameroon", 4), ("Serbia", 1)],
    "Group H": [("Portugal", 6), ("South Korea", 4), ("Uruguay", 4), ("Ghana", 3)],
}
CHAMPIONS_LEAGUE_2013_14 = {
    "Group A": [("Manchester United", 14), ("Bayer Leverkusen", 10), ("Shakhtar Donetsk", 8), ("Real Sociedad", 1)],
    "Group B": [("Real Madrid", 16), ("Galatasaray", 7), ("Juventus", 6), ("FC København", 4)],
    "Group C": [("Paris Saint-Germain", 13), ("Olympiakos Piraeus", 10), ("SL Benfica", 10), ("RSC Anderlecht", 1)],
    "Group D": [("Bayern München", 15), ("Manchester City", 15), ("Viktoria Plzeň", 3), ("CSKA Moskva", 3)],
    "Group E": [("Chelsea FC", 12), ("FC Schalke 04", 10), ("FC Basel 1893", 8), ("FC Steaua Bucureşti", 3)],
    "Group F": [("Borussia Dortmund", 12), ("Arsenal FC", 12), ("SSC Napoli", 12), ("Olympique Marseille", 0)],
    "Group G": [("Atlético Madrid", 16), ("Zenit St. Petersburg", 6), ("FC Porto", 5), ("Austria Wien", 5)],
    "Group H": [("FC Barcelona", 13), ("AC Milan", 9), ("AFC Ajax", 8), ("Celtic FC", 3)],
}
FIFA_RULES = TableRules(tie_breakers=FIFA_GROUP_ORDER)


def season_matches(relative: str) -> list[Match]:
    season = load_shipped(relative)
    return [final_match(season, fixture) for fixture in season.fixtures]


def standings(rows: tuple[Row, ...]) -> list[tuple[str, int]]:
    return [(row.name, row.points) for row in rows]


def test_the_2013_14_premier_league_from_its_380_results() -> None:
    rows = table(
        season_matches("football.json/2013-14/en.1.json"),
        load_shipped("football.json/2013-14/en.1.json").competition.rules,
    )
    assert [
        (r.name, r.won, r.drawn, r.lost, r.goals_for, r.goals_against, r.points) for r in rows
    ] == PREMIER_LEAGUE_2013_14
    assert [r.position for r in rows] == list(range(1, 21))
    city, liverpool = rows[0], rows[1]
    assert (city.played, city.goal_difference, liverpool.goal_difference) == (38, 65, 51)
    assert city.team == "manchester-city" and not any(r.tied or r.live for r in rows)
    # Liverpool's run-in: Manchester City 3-2, Norwich 3-2, Chelsea 0-2, Crystal Palace 3-3, Newcastle 2-1.
    assert liverpool.form == ("W", "W", "L", "D", "W")
    assert rows[3].form == ("W",) * 5  # Arsenal won their last five


def test_the_2013_14_championship_with_goal_difference_deciding_relegation() -> None:
    season = load_shipped("football.json/2013-14/en.2.json")
    rows = table(season_matches("football.json/2013-14/en.2.json"), season.competition.rules)
    assert standings(rows) == CHAMPIONSHIP_2013_14
    assert (rows[20].goal_difference, rows[21].goal_difference) == (-16, -31)
    assert sum(r.goals_for for r in rows) == 1434  # the season's published total


def assert_groups(
    relative: str, published: dict[str, list[tuple[str, int]]], played: int, rules: TableRules | None = None
) -> None:
    season = load_shipped(relative)
    matches = [final_match(season, fixture) for fixture in season.fixtures]
    tables = group_tables(matches, rules or season.competition.rules)
    assert [t.group for t in tables] == list(published)
    for group in tables:
        names = [(season.team(row.name).name, row.points) for row in group.rows]
        assert names == published[group.group], group.group
        assert all(row.played == played for row in group.rows)


def test_world_cup_2014_group_tables() -> None:
    assert_groups("worldcup.json/2014/worldcup.json", WORLD_CUP_2014, 3)


def test_world_cup_2022_group_tables() -> None:
    assert_groups("worldcup.json/2022/worldcup.json", WORLD_CUP_2022, 3)
    season = load_shipped("worldcup.json/2022/worldcup.json")
    tables = {t.group: t.rows for t in group_tables(season_matches("worldcup.json/2022/worldcup.json"), FIFA_RULES)}
    poland, mexico = tables["Group C"][1], tables["Group C"][2]
    assert (poland.goal_difference, mexico.goal_difference) == (0, -1)
    korea, uruguay = tables["Group H"][1], tables["Group H"][2]  # level on goal difference, not on goals
    assert (korea.goal_difference, korea.goals_for, uruguay.goal_difference, uruguay.goals_for) == (0, 4, 0, 2)
    assert season.competition.rules == FIFA_RULES


def test_champions_league_2013_14_groups_but_group_d() -> None:
    published = dict(CHAMPIONS_LEAGUE_2013_14)
    # Plzeň finished third on away goals in their two matches with CSKA, a criterion the
    # calendar cannot name yet: with the parsed rules the next one, goal difference, decides.
    bayern, city, plzen, cska = published["Group D"]
    published["Group D"] = [bayern, city, cska, plzen]
    assert_groups("football.json/2013-14/uefa.cl.json", published, 6)


def test_head_to_head_away_goals_put_plzen_third() -> None:
    breakers = load_shipped("football.json/2013-14/uefa.cl.json").competition.rules.tie_breakers
    with_away_goals = (*breakers[:4], "head_to_head_away_goals", *breakers[4:])
    assert_groups(
        "football.json/2013-14/uefa.cl.json",
        CHAMPIONS_LEAGUE_2013_14,
        6,
        # Not a calendar tie-breaker yet; the tables already count it.
        TableRules(tie_breakers=with_away_goals),  # type: ignore[arg-type]
    )


# -- constructed groups -------------------------------------------------------------------

KICKOFF = datetime(2026, 6, 1, 18, 0, tzinfo=UTC)


def played(number: int, home: str, away: str, home_goals: int, away_goals: int) -> Match:
    return Match(
        f"m{number}",
        home,
        away,
        KICKOFF + timedelta(days=number),
        group="Group A",
        status="full_time",
        home_score=home_goals,
        away_score=away_goals,
    )


def test_head_to_head_decides_between_teams_level_on_everything_else() -> None:
    # Alpha and Bravo: 4 points, 3 scored and 3 conceded each; Bravo beat Alpha.
    matches = [
        played(1, "Bravo", "Alpha", 2, 1),
        played(2, "Alpha", "Charlie", 2, 1),
        played(3, "Alpha", "Delta", 0, 0),
        played(4, "Bravo", "Charlie", 0, 0),
        played(5, "Delta", "Bravo", 2, 1),
        played(6, "Charlie", "Delta", 1, 1),
    ]
    fifa = table(matches, FIFA_RULES)
    assert [(r.name, r.points, r.goals_for, r.goals_against, r.tied) for r in fifa] == [
        ("Delta", 5, 3, 2, False),
        ("Bravo", 4, 3, 3, False),
        ("Alpha", 4, 3, 3, False),
        ("Charlie", 2, 2, 3, False),
    ]
    # Without head-to-head nothing separates them: by name, and flagged.
    league = table(matches, TableRules(tie_breakers=LEAGUE_ORDER))
    assert [(r.position, r.name, r.tied) for r in league[1:3]] == [(2, "Alpha", True), (3, "Bravo", True)]


def test_head_to_head_is_counted_again_among_the_teams_it_leaves_level() -> None:
    # Middle, York and Albion: 6 points, 4 scored, 3 conceded each. Among the three Middle has
    # scored most (3 to 2 and 2); York and Albion are level there too, and York beat Albion.
    matches = [
        played(1, "York", "Albion", 1, 0),
        played(2, "York", "Middle", 1, 2),
        played(3, "Albion", "Middle", 2, 1),
        played(4, "York", "Fourth", 2, 1),
        played(5, "Albion", "Fourth", 2, 1),
        played(6, "Middle", "Fourth", 1, 0),
    ]
    rows = table(matches, FIFA_RULES)
    assert [(r.name, r.points, r.goal_difference, r.goals_for) for r in rows] == [
        ("Middle", 6, 1, 4),
        ("York", 6, 1, 4),
        ("Albion", 6, 1, 4),
        ("Fourth", 0, -3, 2),
    ]


def test_every_team_has_a_row_before_a_ball_is_kicked() -> None:
    season = load_shipped("football.json/2013-14/en.1.json")
    rows = table([to_match(season, f) for f in season.fixtures], season.competition.rules)
    assert len(rows) == 20 and all(r.played == r.points == 0 and r.tied for r in rows)
    assert [r.name for r in rows] == sorted(r.name for r in rows)
    assert rows[0].name == "Arsenal FC" and rows[0].form == ()


def group_c_at(minute: int) -> list[Match]:
    """2022's Group C with its last two matches replayed to `minute` of the second half."""
    season = load_shipped("worldcup.json/2022/worldcup.json")
    matches = []
    for fixture in season.fixtures:
        if fixture.group != "Group C":
            continue
        if fixture.round != "Matchday 11":
            matches.append(final_match(season, fixture))
            continue
        so_far = [e for e in story(fixture) if e.kind != "full_time" and (e.minute is None or e.minute.base <= minute)]
        matches.append(replay(to_match(season, fixture), so_far))
    return matches


def test_a_live_table_counts_matches_underway_and_flags_them() -> None:
    # After 60 minutes of the last round: Argentina 1-0 Poland (Mac Allister 46'), Saudi Arabia
    # 0-2 Mexico (Martín 47', Chávez 52'). Poland would go through on goal difference.
    matches = group_c_at(60)
    live = group_tables(matches, FIFA_RULES, live=True)[0].rows
    assert [(r.name, r.points, r.goal_difference, r.live) for r in live] == [
        ("Argentina", 6, 2, True),
        ("Poland", 4, 1, True),
        ("Mexico", 4, 0, True),
        ("Saudi Arabia", 3, -3, True),
    ]
    assert all(r.played == 3 and len(r.form) == 2 for r in live)
    # As it stood before the last round: the matches underway do not count.
    settled = table(matches, FIFA_RULES)
    assert [(r.name, r.points, r.played, r.live) for r in settled] == [
        ("Poland", 4, 2, False),
        ("Argentina", 3, 2, False),
        ("Saudi Arabia", 3, 2, False),
        ("Mexico", 1, 2, False),
    ]


def test_a_goal_changes_only_the_rows_of_its_two_teams() -> None:
    before = table(group_c_at(50), FIFA_RULES, live=True)
    after = table(group_c_at(52), FIFA_RULES, live=True)  # Chávez: Saudi Arabia 0-2 Mexico
    changed = table_changes(before, after)
    assert [(r.position, r.name, r.goals_for, r.goals_against) for r in changed] == [
        (3, "Mexico", 2, 2),
        (4, "Saudi Arabia", 2, 5),
    ]
    assert table_changes(after, after) == ()


def test_a_goal_that_levels_two_teams_moves_both_rows() -> None:
    # Álvarez's goal at 67' left Poland and Mexico level on everything the rules count, their
    # own match 0-0 included (fewer yellow cards, which tables do not count, kept Poland ahead).
    before = table(group_c_at(60), FIFA_RULES, live=True)
    after = table(group_c_at(67), FIFA_RULES, live=True)
    changed = table_changes(before, after)
    assert [(r.position, r.name, r.goals_for, r.goals_against, r.tied) for r in changed] == [
        (1, "Argentina", 5, 2, False),
        (2, "Mexico", 2, 2, True),
        (3, "Poland", 2, 2, True),
    ]
