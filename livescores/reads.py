"""What the store answers: matches by day, competition, team or state; competitions and teams.

Every answer is made of the domain's objects (`Match`, `Event`, `Competition`, `Team`),
never rows. Reads go through the store's reader engine, which on SQLite never waits for the
writer.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from . import directory, legs
from .calendar import Competition, Team
from .codec import aware, event_from_row, match_from_row, utc
from .matches import UNDERWAY, Event, Match
from .schema import events_table, matches_table

_m = matches_table.c
# The calendar's order: by kick-off (none last, on both engines), then by the home side's name,
# then by id so that it is total.
_CALENDAR_ORDER = (_m.kickoff.asc().nulls_last(), _m.home, _m.id)


def _moment(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError(f"{when.isoformat()} has no time zone: the store compares moments, not wall-clock times.")
    return utc(when)


async def load_log(conn: AsyncConnection, match_id: str) -> list[Event]:
    rows = await conn.execute(
        select(events_table).where(events_table.c.match_id == match_id).order_by(events_table.c.version)
    )
    return [event_from_row(row._mapping) for row in rows]


class Reads:
    reader: AsyncEngine

    async def _matches(self, query: Select[tuple[object, ...]]) -> list[Match]:
        async with self.reader.connect() as conn:
            found = [match_from_row(row._mapping) for row in await conn.execute(query)]
            return await legs.fill(conn, found)

    async def _calendar(self, *where: ColumnElement[bool]) -> list[Match]:
        return await self._matches(select(matches_table).where(*where).order_by(*_CALENDAR_ORDER))

    async def all_matches(self) -> list[Match]:
        return await self._matches(select(matches_table).order_by(_m.position, _m.kickoff, _m.id))

    async def get_match(self, match_id: str) -> Match | None:
        found = await self._matches(select(matches_table).where(_m.id == match_id))
        return found[0] if found else None

    async def events(self, match_id: str) -> list[Event]:
        async with self.reader.connect() as conn:
            return await load_log(conn, match_id)

    async def change_marker(self) -> tuple[int, int]:
        """Moves whenever any event or match is added: the newest event id and the match count."""
        async with self.reader.connect() as conn:
            row = (
                await conn.execute(
                    select(
                        select(func.coalesce(func.max(events_table.c.id), 0)).scalar_subquery(),
                        select(func.count()).select_from(matches_table).scalar_subquery(),
                    )
                )
            ).one()
            return int(row[0]), int(row[1])

    # -- the calendar ---------------------------------------------------------------------

    async def matches_between(self, start: datetime, end: datetime) -> list[Match]:
        """Matches kicking off in [start, end): a day's, given calendar.day_bounds."""
        return await self._calendar(_m.kickoff >= _moment(start), _m.kickoff < _moment(end))

    async def matches_underway(self) -> list[Match]:
        return await self._calendar(_m.status.in_(sorted(UNDERWAY)))

    async def competition_matches(self, slug: str) -> list[Match]:
        return await self._calendar(_m.competition_slug == slug)

    async def team_matches(self, slug: str) -> list[Match]:
        return await self._calendar(or_(_m.home_slug == slug, _m.away_slug == slug))

    async def matches_by_ids(self, ids: Collection[str]) -> list[Match]:
        """The matches of these ids that exist, in the calendar's order."""
        return await self._calendar(_m.id.in_(list(ids))) if ids else []

    async def kickoffs_between(self, start: datetime, end: datetime) -> list[datetime]:
        """Every distinct kick-off in [start, end), earliest first: which days have matches."""
        query = (
            select(_m.kickoff)
            .distinct()
            .where(_m.kickoff >= _moment(start), _m.kickoff < _moment(end))
            .order_by(_m.kickoff)
        )
        async with self.reader.connect() as conn:
            return [aware(when) for when in (await conn.execute(query)).scalars()]

    async def kickoff_before(self, when: datetime) -> datetime | None:
        """The latest kick-off strictly before `when`."""
        return await self._kickoff(select(func.max(_m.kickoff)).where(_m.kickoff < _moment(when)))

    async def kickoff_after(self, when: datetime) -> datetime | None:
        """The earliest kick-off at or after `when`."""
        return await self._kickoff(select(func.min(_m.kickoff)).where(_m.kickoff >= _moment(when)))

    async def _kickoff(self, query: Select[tuple[Any]]) -> datetime | None:
        async with self.reader.connect() as conn:
            found = (await conn.execute(query)).scalar()
        return aware(found) if found is not None else None

    async def competitions(self) -> list[Competition]:
        """Every competition, by name, then season."""
        async with self.reader.connect() as conn:
            return await directory.competitions(conn)

    async def competition(self, slug: str) -> Competition | None:
        async with self.reader.connect() as conn:
            found = await directory.competitions(conn, slug)
        return found[0] if found else None

    async def teams(self) -> list[Team]:
        """Every team, by name, each with its other names."""
        async with self.reader.connect() as conn:
            return await directory.teams(conn)

    async def team(self, slug: str) -> Team | None:
        async with self.reader.connect() as conn:
            found = await directory.teams(conn, [slug])
        return found[0] if found else None
