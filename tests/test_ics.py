"""The calendar feeds: every fixture of a team or a competition, moved when a match is moved."""

from datetime import UTC, datetime, timedelta

from icalendar import Calendar
from quart.typing import TestClientProtocol as Client

from livescores.matches import Match
from livescores.messages import Command
from livescores.services import Services


async def test_a_team_calendar_lists_every_fixture_and_follows_a_postponement(client: Client, live: Services) -> None:
    kickoff = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    [match] = await live.store.add_fixtures([("ics-test", Match("icstest", "Leeds Town", "Everton", kickoff))])
    live.hub.load(await live.store.all_matches())
    await live.scoreboard.window.refresh_catalogue()
    slug = match.home_slug
    assert slug is not None

    response = await client.get(f"/teams/{slug}.ics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/calendar")
    calendar = Calendar.from_ical(await response.get_data())
    [event] = calendar.walk("VEVENT")
    assert str(event["uid"]) == "match-icstest@livescores"
    assert event.decoded("dtstart") == kickoff
    assert event.decoded("dtend") == kickoff + timedelta(hours=2)
    assert str(event["summary"]) == "Leeds Town v Everton"
    assert str(event["url"]).endswith("/matches/icstest")
    assert str(event["status"]) == "CONFIRMED"
    assert str(calendar["x-wr-calname"]).startswith("Leeds Town")

    later = kickoff + timedelta(days=2)
    moved = await live.scoreboard.record(
        Command(match.id, "postpone", kickoff=later, expected_version=match.version), "Sam"
    )
    again = Calendar.from_ical(await (await client.get(f"/teams/{slug}.ics")).get_data())
    [event] = again.walk("VEVENT")
    assert event.decoded("dtstart") == later
    assert int(event["sequence"]) == moved.version > match.version
    assert "moved from" in str(event["description"])
    team_page = await (await client.get(f"/teams/{slug}")).get_data(as_text=True)
    assert f'href="/teams/{slug}.ics"' in team_page


async def test_a_competition_calendar_and_unknown_names(client: Client, live: Services) -> None:
    competitions = await live.scoreboard.window.competitions()
    slug = competitions[0].slug
    response = await client.get(f"/competitions/{slug}.ics")
    assert response.status_code == 200
    calendar = Calendar.from_ical(await response.get_data())
    assert calendar.walk("VEVENT")
    assert calendar["version"] == "2.0"
    for path in ("/teams/no-such-team.ics", "/competitions/no-such-cup.ics"):
        missing = await client.get(path)
        assert missing.status_code == 404
        assert b"no such" in await missing.get_data()
    page = await client.get(f"/competitions/{slug}")
    assert page.status_code == 200
    assert f'href="/competitions/{slug}.ics"' in await page.get_data(as_text=True)
