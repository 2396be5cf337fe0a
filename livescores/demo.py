"""The demo an empty database opens on: a real competition, with one of its real match days
moved onto today in the home time zone.

The 2022 World Cup (openfootball, CC0: real scorers and minutes). The whole tournament moves
by whole days so that its 26 November 2022 falls on today, yesterday's and tomorrow's match
days with it; today's four matches are timed around now, so the first page shows a finished
match with its real result, two in play (their real goals so far recorded) and one kicking off
later. `livescores simulate` then plays the two in play with their real goals.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from .calendar import local_day
from .fixtures import new_match_id
from .matches import Event
from .openfootball import Fixture, load_shipped
from .seasons import IMPORTER, Entry, SeasonFile
from .stories import story, to_match

DEMO_FILE = "worldcup.json/2022/worldcup.json"
DEMO_DAY = date(2022, 11, 26)  # Tunisia v Australia, Poland v Saudi Arabia, France v Denmark, Argentina v Mexico
DEMO_ZONE = ZoneInfo("Asia/Qatar")
# Today's matches, in their real order, kick off this long before now (negative: after it):
# one finished, one in the second half, one in the first half, one still to come.
TODAY_OFFSETS = (timedelta(minutes=150), timedelta(minutes=75), timedelta(minutes=35), timedelta(minutes=-90))


def demo_season(now: datetime, zone: ZoneInfo) -> SeasonFile:
    season = load_shipped(DEMO_FILE)
    shift = timedelta(days=(local_day(now, zone) - DEMO_DAY).days)
    on_the_day = sorted(
        (f for f in season.fixtures if local_day(f.kickoff, DEMO_ZONE) == DEMO_DAY), key=lambda f: f.kickoff
    )
    retimed = {
        f.number: now.replace(second=0, microsecond=0) - offset
        for f, offset in zip(on_the_day, TODAY_OFFSETS, strict=True)
    }
    entries = []
    for fixture in season.fixtures:
        moved = replace(fixture, kickoff=retimed.get(fixture.number, fixture.kickoff + shift))
        entries.append(Entry(to_match(season, moved, new_match_id()), _told_by(moved, now), fixture.path))
    return SeasonFile(season, tuple(entries))


def _told_by(fixture: Fixture, now: datetime) -> tuple[Event, ...]:
    """The story as far as it has happened by now."""
    return tuple(replace(event, recorded_by=IMPORTER) for event in story(fixture) if event.at <= now)
