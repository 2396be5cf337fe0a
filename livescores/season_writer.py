"""A season file written in one transaction: its new matches with their stories, and the
corrections to the matches already stored (found by competition, round and teams)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from . import directory
from .batches import Request, SQLAlchemyIO, write_batch
from .calendar import Competition, Team, name_key
from .codec import match_columns, match_from_row, utc
from .fixtures import FixtureFileError
from .matches import Match
from .schema import matches_table, team_aliases_table
from .seasons import Entry, corrections, fixture_key

_m = matches_table.c


@dataclass
class LoadReport:
    added: list[Match] = field(default_factory=list)  # as they stand after their stories
    corrected: list[Match] = field(default_factory=list)
    unchanged: int = 0


async def _team_slugs(conn: AsyncConnection, teams: Sequence[Team]) -> dict[str, str]:
    """Each name the file writes (by name_key) to its team: found through any name a team
    goes by, made when never seen; a file's other spellings of it become its aliases."""
    slugs = await directory.team_slugs(conn, [team.name for team in teams])
    aliases = team_aliases_table
    for team in teams:
        slug = slugs[name_key(team.name)]
        for written in team.aliases:
            key = name_key(written)
            if key in slugs:
                continue
            known = (await conn.execute(select(aliases.c.team_slug).where(aliases.c.key == key))).scalar()
            if known is None:
                await conn.execute(insert(aliases).values(key=key, team_slug=slug, alias=written))
            slugs[key] = known or slug
    return slugs


async def write_season(
    conn: AsyncConnection, entries: Sequence[Entry], competition: Competition, teams: Sequence[Team], now: datetime
) -> LoadReport:
    slugs = await _team_slugs(conn, teams)
    named = [
        replace(e.match, home_slug=slugs[name_key(e.match.home)], away_slug=slugs[name_key(e.match.away)])
        for e in entries
    ]
    placed = await directory.place(conn, named, [competition])
    keys = [fixture_key(match) for match in placed]
    problems = []
    seen: dict[str, str] = {}
    for entry, key in zip(entries, keys, strict=True):
        if key in seen:  # two names the aliases make one team
            problems.append(f"{entry.where}: the same match as {seen[key]}")
        seen.setdefault(key, entry.where)
    if problems:
        raise FixtureFileError(problems)
    stored: dict[str, Match] = {}
    for row in await conn.execute(select(matches_table).where(_m.competition_slug == competition.slug)):
        match = match_from_row(row._mapping)
        stored.setdefault(fixture_key(match), match)
    stored_by_id = {match.id: match for match in stored.values()}
    report = LoadReport()
    fresh: list[tuple[str, Match, Entry]] = []
    requests: list[Request] = []
    where: dict[str, str] = {}
    for entry, match, key in zip(entries, placed, keys, strict=True):
        current = stored.get(key)
        if current is None:
            fresh.append((key, match, entry))
            requests += [(match.id, event, None, None) for event in entry.events]
            where[match.id] = entry.where
            continue
        assert match.kickoff is not None
        fixes = corrections(current, match.kickoff, entry.events, now)
        if fixes:
            requests += [(current.id, event, None, None) for event in fixes]
            where[current.id] = entry.where
        else:
            report.unchanged += 1
    if fresh:
        start = (await conn.execute(select(func.coalesce(func.max(_m.position), -1)))).scalar_one() + 1
        await conn.execute(
            insert(matches_table),
            [
                {**match_columns(match), "fixture_key": key, "version": 0, "position": start + index}
                for index, (key, match, _) in enumerate(fresh)
            ],
        )
    outcomes, _ = await conn.run_sync(lambda sync: write_batch(SQLAlchemyIO(sync), requests, {}))
    after: dict[str, Match] = {}
    for (match_id, event, _, _), outcome in zip(requests, outcomes, strict=True):
        if isinstance(outcome, Exception):
            problems.append(f"{where[match_id]}: {event.kind}: {outcome}")
        else:
            after[match_id] = outcome[0]
    if problems:
        raise FixtureFileError(problems)
    # A postponement moves the match in the calendar too: its day pages read the column.
    for match_id, match in after.items():
        known = stored_by_id.get(match_id)
        if known is not None and match.kickoff != known.kickoff:
            await conn.execute(
                update(matches_table)
                .where(_m.id == match_id)
                .values(kickoff=utc(match.kickoff) if match.kickoff else None)
            )
    new_ids = {match.id for _, match, _ in fresh}
    report.added = [after.get(match.id, match) for _, match, _ in fresh]
    report.corrected = [m for match_id, m in after.items() if match_id not in new_ids]
    return report
