"""The calendar in the store: competitions, teams and their names, matches by day, competition
and team, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from livescores.calendar import FRIENDLIES, Competition, TableRules, day_bounds, home_zone, new_competition
from livescores.matches import Event, Match, RuleViolation
from livescores.store import Store

LONDON = home_zone("Europe/London")
SATURDAY = datetime(2026, 3, 28, 15, 0, tzinfo=UTC)
EPL = new_competition("English Premier League", "2013/14")
WORLD_CUP = new_competition("World Cup", "2022", format="groups_then_knockout")


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    opened = Store(database_url)
    await opened.migrate()
    yield opened
    await opened.close()


def fixture(match_id: str, home: str, away: str, kickoff: datetime | None, **calendar: object) -> tuple[str, Match]:
    return f"key-{match_id}", Match(id=match_id, home=home, away=away, kickoff=kickoff, **calendar)  # type: ignore[arg-type]


async def test_fixtures_join_their_competitions_and_teams(store: Store) -> None:
    added = await store.add_fixtures(
        [
            fixture("a", "Arsenal", "Chelsea", SATURDAY, competition_slug=EPL.slug, round="Matchday 31"),
            fixture("b", "Man Utd", "Arsenal", SATURDAY, competition="League Cup"),
            fixture("c", "Brazil", "Serbia", SATURDAY, competition_slug=WORLD_CUP.slug, group="Group G", leg=1),
            fixture("d", "ARSENAL", "Hull", None),
        ],
        competitions=[EPL, WORLD_CUP],
    )
    assert [(m.competition, m.competition_slug) for m in added] == [
        ("English Premier League", EPL.slug),
        ("League Cup", "league-cup"),
        ("World Cup", WORLD_CUP.slug),
        (FRIENDLIES, "friendlies"),
    ]
    assert [(m.home_slug, m.away_slug) for m in added] == [
        ("arsenal", "chelsea"),
        ("man-utd", "arsenal"),
        ("brazil", "serbia"),
        ("arsenal", "hull"),
    ]
    assert added[3].home == "ARSENAL"  # the name as given stays the one shown
    assert [await store.get_match(m.id) for m in added] == added
    assert [c.slug for c in await store.competitions()] == [
        EPL.slug,
        "friendlies",
        "league-cup",
        WORLD_CUP.slug,
    ]
    assert await store.competition(WORLD_CUP.slug) == WORLD_CUP
    assert await store.competition("nope") is None
    assert [t.slug for t in await store.teams()] == ["arsenal", "brazil", "chelsea", "hull", "man-utd", "serbia"]
    arsenal = await store.team("arsenal")
    assert arsenal is not None and (arsenal.name, arsenal.code, arsenal.aliases) == ("Arsenal", "ARS", ())
    # A later file naming the competition by its name (or its title) joins the same one.
    later = await store.add_fixtures(
        [
            fixture("e", "Hull", "Chelsea", SATURDAY + timedelta(days=7), competition="English Premier League"),
            fixture("f", "Hull", "Arsenal", SATURDAY + timedelta(days=8), competition=EPL.title),
            fixture("a", "Arsenal", "Chelsea", SATURDAY),  # a key already present: skipped
        ]
    )
    assert [(m.id, m.competition_slug) for m in later] == [("e", EPL.slug), ("f", EPL.slug)]
    assert [m.id for m in await store.competition_matches(EPL.slug)] == ["a", "e", "f"]
    assert [m.id for m in await store.team_matches("arsenal")] == ["a", "b", "f", "d"]


async def test_bad_fixtures_change_nothing(store: Store) -> None:
    await store.add_fixtures([fixture("a", "Arsenal", "Chelsea", SATURDAY)])
    for bad in (
        [fixture("b", "Hull", "Stoke", SATURDAY, competition_slug="no-such-cup")],
        [fixture("b", "Hull", "Stoke", SATURDAY, home_slug="no-such-team")],
    ):
        with pytest.raises(RuleViolation, match="There is no"):
            await store.add_fixtures([fixture("c", "Leeds", "Derby", SATURDAY), *bad], competitions=[WORLD_CUP])
    with pytest.raises(RuleViolation, match="format"):
        await store.add_fixtures([fixture("c", "Leeds", "Derby", SATURDAY)], [replace(WORLD_CUP, format="pools")])  # type: ignore[arg-type]
    assert [m.id for m in await store.all_matches()] == ["a"]
    assert [c.slug for c in await store.competitions()] == ["friendlies"]
    assert [t.slug for t in await store.teams()] == ["arsenal", "chelsea"]


async def test_competitions_are_saved_and_changed_by_slug(store: Store) -> None:
    await store.save_competition(EPL)
    changed = replace(EPL, rules=TableRules(2, 1, ("points", "wins")), away_goals=True, short_name="EPL")
    await store.save_competition(changed)
    assert await store.competitions() == [changed]
    for bad in (
        replace(EPL, slug="Not A Slug"),
        replace(EPL, name="  "),
        replace(EPL, rules=TableRules(3, 1, ("luck",))),
    ):  # type: ignore[arg-type]
        with pytest.raises(RuleViolation):
            await store.save_competition(bad)
    assert await store.competitions() == [changed]


async def test_merged_names_are_one_team_and_later_fixtures_find_it(store: Store) -> None:
    await store.add_fixtures(
        [
            fixture("a", "Manchester United", "Arsenal", SATURDAY),
            fixture("b", "Chelsea", "Man Utd", SATURDAY + timedelta(days=1)),
        ]
    )
    merged = await store.merge_team("Man Utd", "manchester-united")
    assert (merged.slug, merged.aliases) == ("manchester-united", ("Man Utd",))
    assert await store.team("man-utd") is None
    moved = await store.get_match("b")
    assert moved is not None and (moved.away, moved.away_slug) == ("Man Utd", "manchester-united")
    (later,) = await store.add_fixtures([fixture("c", "man utd", "Hull", SATURDAY + timedelta(days=2))])
    assert later.home_slug == "manchester-united"
    assert [m.id for m in await store.team_matches("manchester-united")] == ["a", "b", "c"]
    # By name as well as slug; a name never seen before simply becomes one more name.
    again = await store.merge_team("United", "Man Utd")
    assert again.aliases == ("Man Utd", "United")
    with pytest.raises(RuleViolation, match="There is no team 'Newton Heath'"):
        await store.merge_team("MUFC", "Newton Heath")
    with pytest.raises(RuleViolation):
        await store.merge_team("   ", "manchester-united")
    assert (await store.team("manchester-united")) == again


async def test_days_and_their_neighbours(store: Store) -> None:
    # The clocks go forward in London on 29 March 2026: that day is 23 hours long.
    late = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)  # 23:30 in London, still the 28th
    after_midnight = datetime(2026, 3, 29, 0, 15, tzinfo=UTC)  # 00:15 GMT = 00:15 local, the 29th
    monday = datetime(2026, 3, 30, 18, 0, tzinfo=UTC)
    await store.add_fixtures(
        [
            fixture("z", "Zeta", "Alpha", SATURDAY),
            fixture("a", "Alpha", "Zeta", SATURDAY),
            fixture("l", "Late", "Side", late),
            fixture("m", "Mid", "Night", after_midnight),
            fixture("n", "Mon", "Day", monday),
            fixture("u", "No", "Kickoff", None),
        ]
    )
    start, end = day_bounds(date(2026, 3, 28), LONDON)
    assert [m.id for m in await store.matches_between(start, end)] == ["a", "z", "l"]
    sunday = day_bounds(date(2026, 3, 29), LONDON)
    assert [m.id for m in await store.matches_between(*sunday)] == ["m"]
    assert await store.kickoffs_between(start, sunday[1]) == [SATURDAY, late, after_midnight]
    assert await store.kickoff_before(start) is None
    assert await store.kickoff_before(sunday[0]) == late
    assert await store.kickoff_after(sunday[1]) == monday
    assert await store.kickoff_after(monday) == monday  # at or after
    assert await store.kickoff_after(monday + timedelta(seconds=1)) is None
    # Other zones name the same moments.
    paris = SATURDAY.astimezone(home_zone("Europe/Paris"))
    assert [m.id for m in await store.matches_between(paris, paris + timedelta(minutes=1))] == ["a", "z"]
    with pytest.raises(ValueError, match="no time zone"):
        await store.matches_between(datetime(2026, 3, 28), datetime(2026, 3, 29))
    assert [m.id for m in await store.matches_by_ids(["n", "z", "nope", "a"])] == ["a", "z", "n"]
    assert await store.matches_by_ids([]) == []


async def test_what_is_underway_follows_every_write(store: Store) -> None:
    await store.add_fixtures([fixture("a", "A", "B", SATURDAY), fixture("b", "C", "D", SATURDAY)])
    assert await store.matches_underway() == []
    await store.record("a", Event("kick_off", SATURDAY))
    assert [m.id for m in await store.matches_underway()] == ["a"]
    for kind in ("half_time", "second_half"):
        await store.record("a", Event(kind, SATURDAY + timedelta(minutes=50)))  # type: ignore[arg-type]
        assert [(m.id, m.status) for m in await store.matches_underway()] == [("a", kind.replace("time", "time"))]
    await store.record("a", Event("full_time", SATURDAY + timedelta(minutes=100)))
    assert await store.matches_underway() == []
    await store.record("a", Event("undo", SATURDAY + timedelta(minutes=101)))
    assert [m.status for m in await store.matches_underway()] == ["second_half"]


async def test_the_demo_is_placed_like_any_fixture(store: Store) -> None:
    opening = [Event("kick_off", SATURDAY)]
    assert await store.add_matches_if_empty([Match("a", "Arsenal", "Hull", SATURDAY, "Premier League")], opening)
    (match,) = await store.all_matches()
    assert (match.competition_slug, match.home_slug, match.away_slug, match.status) == (
        "premier-league",
        "arsenal",
        "hull",
        "first_half",
    )
    assert [m.id for m in await store.matches_underway()] == ["a"]
    assert not await store.add_matches_if_empty([Match("b", "X", "Y", SATURDAY)])
    assert isinstance((await store.competitions())[0], Competition)
