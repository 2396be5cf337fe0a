"""A team's and a competition's fixtures as iCalendar feeds, to subscribe to from any calendar app.

Each match is one event whose UID never changes and whose SEQUENCE is the match's version, so
a calendar that refreshes the feed moves a rescheduled match instead of adding a second one,
and marks a cancelled one as cancelled.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from icalendar import Calendar, Event
from quart import Blueprint, Response, request

from .matches import Match
from .pages import Page
from .services import services

blueprint = Blueprint("ics", __name__)

MATCH_LENGTH = timedelta(hours=2)  # ninety minutes, the break and stoppages: what a diary should block
REFRESH = "PT1H"
CANCELLED = {"cancelled", "abandoned"}
UNSETTLED = {"postponed", "suspended"}
FINISHED = {"full_time", "awarded"}


def summary(match: Match) -> str:
    if match.status in FINISHED:
        return f"{match.home} {match.home_score}–{match.away_score} {match.away}"
    prefix = {"postponed": "Postponed: ", "suspended": "Suspended: ", "cancelled": "Cancelled: "}.get(match.status, "")
    return f"{prefix}{match.home} v {match.away}"


def match_event(match: Match, base_url: str, stamp: datetime) -> Event | None:
    if match.kickoff is None:
        return None  # no date yet: nothing a calendar could show
    event = Event()
    event.add("uid", f"match-{match.id}@livescores")
    event.add("sequence", match.version)
    event.add("dtstamp", stamp)
    event.add("dtstart", match.kickoff.astimezone(UTC))
    event.add("dtend", match.kickoff.astimezone(UTC) + MATCH_LENGTH)
    event.add("summary", summary(match))
    details = [part for part in (match.competition, match.round) if part]
    if match.postponed_from is not None:
        details.append(f"moved from {match.postponed_from.astimezone(UTC):%d %b %Y %H:%M} UTC")
    if details:
        event.add("description", " · ".join(details))
    if match.venue:
        event.add("location", match.venue)
    event.add("url", f"{base_url}/matches/{match.id}")
    event.add(
        "status",
        "CANCELLED" if match.status in CANCELLED else "TENTATIVE" if match.status in UNSETTLED else "CONFIRMED",
    )
    return event


def feed(name: str, matches: Iterable[Match], base_url: str, stamp: datetime | None = None) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//livescores//fixtures//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    # Both spellings of "ask again in an hour": the standard one and the one Outlook and Google read.
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", REFRESH)
    stamp = stamp or datetime.now(UTC)
    for match in sorted(matches, key=lambda m: (m.kickoff is None, m.kickoff or stamp, m.id)):
        event = match_event(match, base_url, stamp)
        if event is not None:
            calendar.add_component(event)
    ical: bytes = calendar.to_ical()
    return ical


def _ics(body: bytes, filename: str) -> Response:
    response = Response(body, content_type="text/calendar; charset=utf-8")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}.ics"'
    return response


def _not_found(what: str) -> Response:
    return Response(f"There is no such {what}.\n", status=404, content_type="text/plain; charset=utf-8")


def _base_url() -> str:
    return request.host_url.rstrip("/")


@blueprint.get("/teams/<slug>.ics")
async def team_calendar(slug: str) -> Response:
    window = services().scoreboard.window
    team = await window.team(slug)
    if team is None:
        return _not_found("team")
    matches = await window.page_matches(Page("team", slug))
    return _ics(feed(f"{team.name} · Live scores", matches, _base_url()), slug)


@blueprint.get("/competitions/<slug>.ics")
async def competition_calendar(slug: str) -> Response:
    window = services().scoreboard.window
    competition = await window.competition(slug)
    if competition is None:
        return _not_found("competition")
    matches = await window.page_matches(Page("competition", slug))
    return _ics(feed(f"{competition.title} · Live scores", matches, _base_url()), slug)
