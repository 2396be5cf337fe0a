from datetime import UTC, date, datetime

from livescores.calendar import (
    day_bounds,
    home_zone,
    local_day,
    next_midnight,
    parse_day,
    short_name,
    slugify,
    split_season,
    team_code,
)


def test_a_kick_off_after_local_midnight_belongs_to_that_local_day() -> None:
    london = home_zone("Europe/London")
    # 00:30 in London on a summer night is 23:30 UTC the day before.
    assert local_day(datetime(2014, 6, 14, 23, 30, tzinfo=UTC), london) == date(2014, 6, 15)
    assert local_day(datetime(2014, 6, 14, 23, 30, tzinfo=UTC), home_zone("UTC")) == date(2014, 6, 14)


def test_days_when_the_clocks_change_are_23_and_25_hours_long() -> None:
    london = home_zone("Europe/London")
    start, end = day_bounds(date(2026, 3, 29), london)
    assert (end - start).total_seconds() == 23 * 3600
    start, end = day_bounds(date(2026, 10, 25), london)
    assert (end - start).total_seconds() == 25 * 3600
    assert start == datetime(2026, 10, 24, 23, 0, tzinfo=UTC)


def test_next_midnight_is_in_the_home_zone() -> None:
    madrid = home_zone("Europe/Madrid")
    late_evening = datetime(2026, 11, 30, 22, 59, tzinfo=UTC)
    assert next_midnight(madrid, late_evening) == datetime(2026, 11, 30, 23, 0, tzinfo=UTC)


def test_slugs_short_names_and_codes() -> None:
    assert slugify("Bayern München 2013/14") == "bayern-munchen-2013-14"
    assert slugify("!!!") == "x"
    assert short_name("Liverpool FC") == "Liverpool"
    assert short_name("AFC Bournemouth") == "Bournemouth"
    assert team_code("Liverpool FC") == "LIV"
    assert team_code("Manchester United") == "MUN"
    assert team_code("West Ham United FC") == "WHU"


def test_a_competition_title_splits_into_name_and_season() -> None:
    assert split_season("English Premier League 2013/14") == ("English Premier League", "2013/14")
    assert split_season("World Cup 2022") == ("World Cup", "2022")
    assert split_season("Friendlies") == ("Friendlies", None)


def test_only_real_dates_in_iso_form_are_days() -> None:
    assert parse_day("2026-11-30") == date(2026, 11, 30)
    for bad in ("2026-02-30", "30-11-2026", "2026-1-3", "today", "0000-01-01", "2026-11-30\n"):
        assert parse_day(bad) is None
