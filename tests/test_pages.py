from datetime import UTC, date, datetime, timedelta

import pytest

from livescores.calendar import home_zone
from livescores.matches import Match
from livescores.pages import (
    TODAY,
    Clock,
    NoSuchPage,
    Page,
    by_competition,
    by_day,
    current_round,
    page_from_args,
    rounds,
)

LONDON = home_zone("Europe/London")
CLOCK = Clock(LONDON, date(2026, 11, 30))


def fixture(
    match_id: str,
    kickoff: datetime,
    home: str = "Arsenal",
    away: str = "Chelsea",
    competition: str = "premier-league",
    round_name: str | None = "Matchday 1",
    status: str = "scheduled",
) -> Match:
    return Match(
        match_id,
        home,
        away,
        kickoff,
        competition.replace("-", " ").title(),
        status=status,  # type: ignore[arg-type]
        competition_slug=competition,
        round=round_name,
        home_slug=home.lower().replace(" ", "-"),
        away_slug=away.lower().replace(" ", "-"),
    )


def test_a_day_page_shows_the_matches_of_that_local_day() -> None:
    late = fixture("a", datetime(2026, 11, 30, 23, 30, tzinfo=UTC))  # 23:30 in London, still the 30th
    early = fixture("b", datetime(2026, 11, 30, 0, 15, tzinfo=UTC))
    assert Page("day", "2026-11-30").shows(late, CLOCK)
    assert Page("day", "2026-11-30").shows(early, CLOCK)
    assert not Page("day", "2026-12-01").shows(late, CLOCK)
    summer = Clock(LONDON, date(2026, 7, 1))
    after_midnight = fixture("c", datetime(2026, 6, 30, 23, 30, tzinfo=UTC))  # 00:30 on 1 July in London
    assert Page("today").shows(after_midnight, summer)
    assert not Page("day", "2026-06-30").shows(after_midnight, summer)


def test_today_keeps_yesterdays_matches_still_being_played_and_no_others() -> None:
    yesterday = datetime(2026, 11, 29, 22, 0, tzinfo=UTC)
    playing = fixture("a", yesterday, status="second_half")
    over = fixture("b", yesterday, status="full_time")
    assert TODAY.shows(playing, CLOCK)
    assert not TODAY.shows(over, CLOCK)
    assert Page("day", "2026-11-30").shows(playing, CLOCK)  # the same board, by its date
    assert not Page("day", "2026-12-01").shows(playing, Clock(LONDON, date(2026, 11, 30)))


def test_competition_team_and_match_pages() -> None:
    match = fixture("a", datetime(2026, 11, 30, 15, tzinfo=UTC), home="Man City", away="Hull")
    assert Page("competition", "premier-league").shows(match, CLOCK)
    assert Page("competition", "premier-league", "Matchday 1").shows(match, CLOCK)
    assert not Page("competition", "premier-league", "Matchday 2").shows(match, CLOCK)
    assert not Page("competition", "championship").shows(match, CLOCK)
    assert Page("team", "hull").shows(match, CLOCK)
    assert Page("team", "man-city").shows(match, CLOCK)
    assert not Page("team", "arsenal").shows(match, CLOCK)
    assert Page("match", "a").shows(match, CLOCK)
    assert not Page("match", "b").shows(match, CLOCK)


def test_socket_addresses_name_one_page() -> None:
    assert page_from_args({}) == TODAY
    assert page_from_args({"day": "2026-11-30"}) == Page("day", "2026-11-30")
    assert page_from_args({"competition": "premier-league", "round": "Matchday 2"}) == Page(
        "competition", "premier-league", "Matchday 2"
    )
    assert page_from_args({"team": "hull-city"}) == Page("team", "hull-city")
    assert page_from_args({"match": "abc123"}) == Page("match", "abc123")
    assert page_from_args({"embed": "1", "match": "abc123"}) == Page("match", "abc123")
    for page in (Page("day", "2026-11-30"), Page("competition", "x", "Round of 16"), Page("team", "y"), TODAY):
        from urllib.parse import parse_qsl

        assert page_from_args(dict(parse_qsl(page.query))) == page


@pytest.mark.parametrize(
    "args",
    [
        {"day": "2026-02-30"},
        {"day": "tomorrow"},
        {"team": "Hull City"},
        {"team": "../etc"},
        {"competition": "pl", "round": "x" * 81},
        {"match": "a b"},
        {"match": "x" * 33},
        {"day": "2026-11-30", "team": "hull"},
    ],
)
def test_addresses_that_name_no_page_are_refused(args: dict[str, str]) -> None:
    with pytest.raises(NoSuchPage):
        page_from_args(args)


def test_a_day_is_grouped_by_competition_in_kick_off_order() -> None:
    noon = datetime(2026, 11, 30, 12, tzinfo=UTC)
    matches = [
        fixture("late", noon + timedelta(hours=3), home="Zeta", competition="premier-league"),
        fixture("early", noon, home="Burnley", competition="championship"),
        fixture("same-time", noon + timedelta(hours=3), home="Arsenal", competition="premier-league"),
    ]
    groups = by_competition(matches)
    assert [g.slug for g in groups] == ["championship", "premier-league"]
    assert [m.id for m in groups[1].matches] == ["same-time", "late"]


def test_rounds_in_the_order_they_are_played_and_the_current_one() -> None:
    start = datetime(2026, 11, 1, 15, tzinfo=UTC)
    played = [fixture(f"r{n}", start + timedelta(days=7 * n), round_name=f"Matchday {n}") for n in range(1, 5)]
    played = [
        Match(**{**m.__dict__, "status": "full_time"}) if n < 2 else m  # type: ignore[arg-type]
        for n, m in enumerate(played)
    ]
    assert rounds(reversed(played)) == ["Matchday 1", "Matchday 2", "Matchday 3", "Matchday 4"]
    now = start + timedelta(days=17)
    assert current_round(played, now) == "Matchday 3"
    underway = [*played[:2], Match(**{**played[2].__dict__, "status": "first_half"}), played[3]]  # type: ignore[arg-type]
    assert current_round(underway, now) == "Matchday 3"
    finished = [Match(**{**m.__dict__, "status": "full_time"}) for m in played]  # type: ignore[arg-type]
    assert current_round(finished, now + timedelta(days=100)) == "Matchday 4"


def test_a_teams_season_is_grouped_by_local_day() -> None:
    first = fixture("a", datetime(2026, 11, 29, 23, 30, tzinfo=UTC))  # the 29th in London
    second = fixture("b", datetime(2026, 11, 30, 0, 30, tzinfo=UTC))  # the 30th
    assert [g.title for g in by_day([second, first], CLOCK)] == ["2026-11-29", "2026-11-30"]
