"""The calendar in the database: competitions, teams and the names they go by, and which
competition and teams a new fixture belongs to.

Functions on a connection the store holds (a write transaction for those that change rows),
so that fixtures and the teams they name go in together or not at all.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import Table, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from .calendar import FORMATS, FRIENDLIES, TIE_BREAKERS, Competition, Team, name_key, new_competition, new_team, slugify
from .codec import competition_from_row, competition_row, team_from_row, team_row
from .matches import Match, RuleViolation, clean_name
from .schema import competitions_table, matches_table, team_aliases_table, teams_table

MAX_NAME = 80


async def upsert(conn: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows, or update them where their primary key is already present."""
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table)
    keys = [column.name for column in table.primary_key]
    await conn.execute(
        statement.on_conflict_do_update(
            index_elements=keys,
            set_={column.name: statement.excluded[column.name] for column in table.c if column.name not in keys},
        ),
        rows,
    )


def check_competition(competition: Competition) -> None:
    """Refuse a competition that pages could not show or link to; RuleViolation says why."""
    if not competition.slug or slugify(competition.slug) != competition.slug:
        raise RuleViolation(f"{competition.slug!r} is not a slug: lower-case letters, digits and dashes.")
    for what, text in (("competition name", competition.name), ("short name", competition.short_name)):
        if clean_name(text, what, MAX_NAME) != text:
            raise RuleViolation(f"The {what} {text!r} is blank or not trimmed.")
    if competition.format not in FORMATS:
        raise RuleViolation(f"The format must be one of {', '.join(FORMATS)}.")
    unknown = [t for t in competition.rules.tie_breakers if t not in TIE_BREAKERS]
    if unknown:
        raise RuleViolation(f"Unknown tie-breakers: {', '.join(map(str, unknown))}.")


async def competitions(conn: AsyncConnection, slug: str | None = None) -> list[Competition]:
    query = select(competitions_table).order_by(competitions_table.c.name, competitions_table.c.season)
    if slug is not None:
        query = query.where(competitions_table.c.slug == slug)
    return [competition_from_row(row._mapping) for row in await conn.execute(query)]


async def teams(conn: AsyncConnection, slugs: Collection[str] | None = None) -> list[Team]:
    """Teams by name, each with its other names (its own name's spellings left out)."""
    query = select(teams_table).order_by(teams_table.c.name, teams_table.c.slug)
    aliases = select(team_aliases_table).order_by(team_aliases_table.c.alias)
    if slugs is not None:
        query = query.where(teams_table.c.slug.in_(slugs))
        aliases = aliases.where(team_aliases_table.c.team_slug.in_(slugs))
    names: dict[str, list[tuple[str, str]]] = {}
    for key, slug, alias in await conn.execute(aliases):
        names.setdefault(slug, []).append((key, alias))
    found = []
    for row in await conn.execute(query):
        own = name_key(row.name)
        found.append(team_from_row(row._mapping, [alias for key, alias in names.get(row.slug, []) if key != own]))
    return found


async def find_team(conn: AsyncConnection, slug_or_name: str) -> Team | None:
    """A team by its slug, else by any of its names."""
    slug = (await conn.execute(select(teams_table.c.slug).where(teams_table.c.slug == slug_or_name))).scalar()
    if slug is None:
        key = name_key(slug_or_name)
        slug = (
            await conn.execute(select(team_aliases_table.c.team_slug).where(team_aliases_table.c.key == key))
        ).scalar()
    found = await teams(conn, [slug]) if slug is not None else []
    return found[0] if found else None


def _unique(slug: str, taken: set[str]) -> str:
    """Two names can make one slug ("Paris SG" and "Paris-SG" are two names to name_key)."""
    found, n = slug, 1
    while found in taken:
        n += 1
        found = f"{slug[:55]}-{n}"
    taken.add(found)
    return found


async def place(conn: AsyncConnection, fixtures: Sequence[Match], given: Sequence[Competition] = ()) -> list[Match]:
    """The fixtures with their competition and teams found, or created, in the database.

    A fixture without a competition slug joins the competition its `competition` text names
    (Friendlies when it has none): the existing one of that name (the latest season when
    several), else a new one. Its teams are found by name through every name a team goes
    by, and made for names never seen."""
    for competition in given:
        check_competition(competition)
    await upsert(conn, competitions_table, [competition_row(c) for c in given])
    known = {c.slug: c for c in await competitions(conn)}
    by_name = {c.name: c for c in known.values()}  # ordered by season: the latest stays
    by_name.update({c.title: c for c in known.values()})
    made: list[Competition] = []
    taken = set(known)
    placed = []
    for match in fixtures:
        if match.competition_slug is not None:
            if match.competition_slug not in known:
                raise RuleViolation(f"There is no competition {match.competition_slug!r}.")
            competition = known[match.competition_slug]
        else:
            name = match.competition or FRIENDLIES
            competition = by_name.get(name) or new_competition(name)
            if name not in by_name:
                competition = replace(competition, slug=_unique(competition.slug, taken))
                known[competition.slug] = by_name[name] = competition
                made.append(competition)
        placed.append(
            replace(match, competition_slug=competition.slug, competition=match.competition or competition.name)
        )
    await upsert(conn, competitions_table, [competition_row(c) for c in made])
    given_teams = {slug for m in placed for slug in (m.home_slug, m.away_slug) if slug is not None}
    if given_teams:
        present = set(
            (await conn.execute(select(teams_table.c.slug).where(teams_table.c.slug.in_(given_teams)))).scalars()
        )
        if given_teams - present:
            raise RuleViolation(f"There is no team {min(given_teams - present)!r}.")
    slugs = await team_slugs(conn, [name for m in placed for name in (m.home, m.away)])
    return [
        replace(
            match,
            home_slug=match.home_slug or slugs[name_key(match.home)],
            away_slug=match.away_slug or slugs[name_key(match.away)],
        )
        for match in placed
    ]


async def team_slugs(conn: AsyncConnection, names: Iterable[str]) -> dict[str, str]:
    """Each name's team slug, by name_key; a team is made for each name never seen before."""
    wanted: dict[str, str] = {}
    for name in names:  # the first spelling seen names a new team
        wanted.setdefault(name_key(name), name)
    query = select(team_aliases_table.c.key, team_aliases_table.c.team_slug).where(team_aliases_table.c.key.in_(wanted))
    found = {key: slug for key, slug in await conn.execute(query)}
    fresh = [name for key, name in wanted.items() if key not in found]
    if fresh:
        taken = set((await conn.execute(select(teams_table.c.slug))).scalars())
        made = []
        for name in fresh:
            team = new_team(name)
            team = replace(team, slug=_unique(team.slug, taken))
            made.append(team)
            found[name_key(name)] = team.slug
        await conn.execute(teams_table.insert(), [team_row(team) for team in made])
        await conn.execute(
            team_aliases_table.insert(),
            [{"key": name_key(team.name), "team_slug": team.slug, "alias": team.name} for team in made],
        )
    return found


async def merge_team(conn: AsyncConnection, alias: str, into: str) -> Team:
    """Make `alias` one more name of the team `into` (a slug or a name); the team the alias
    named until now, if another, gives its matches and names to `into` and is deleted."""
    name = clean_name(alias, "team name", MAX_NAME)
    if name is None:
        raise RuleViolation("The team name is blank.")
    target = await find_team(conn, into)
    if target is None:
        raise RuleViolation(f"There is no team {into!r}.")
    key = name_key(name)
    aliases = team_aliases_table
    current = (await conn.execute(select(aliases.c.team_slug).where(aliases.c.key == key))).scalar()
    if current is not None and current != target.slug:
        for side in (matches_table.c.home_slug, matches_table.c.away_slug):
            await conn.execute(update(matches_table).where(side == current).values({side.name: target.slug}))
        await conn.execute(update(aliases).where(aliases.c.team_slug == current).values(team_slug=target.slug))
        await conn.execute(delete(teams_table).where(teams_table.c.slug == current))
    await upsert(conn, aliases, [{"key": key, "team_slug": target.slug, "alias": name}])
    (merged,) = await teams(conn, [target.slug])
    return merged
