"""What the calendar knows of a match's tie, brought onto the match as ties.py expects it.

A match carries its competition's format and away-goals setting, and a second leg the result
of its first leg (same competition and round, the teams the other way round, leg 1), as
fixture fields: the rules read only the match. They are filled wherever matches are loaded:
the store's reads, a batch before the rules run, fixtures as they are added, and the hub when
a first leg it holds changes (its second leg's aggregate moves with it).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from .calendar import FORMATS, Format
from .matches import Match

RESULT_STATUSES = frozenset({"full_time", "awarded"})  # a first leg that counts towards the aggregate

_CONTEXT_SQL = (
    "SELECT s.id, c.format, c.away_goals, f.status, CAST(f.state AS TEXT)"
    " FROM matches AS s"
    " LEFT JOIN competitions AS c ON c.slug = s.competition_slug"
    " LEFT JOIN matches AS f ON s.leg = 2 AND f.leg = 1 AND f.competition_slug = s.competition_slug"
    " AND f.round = s.round AND f.home_slug = s.away_slug AND f.away_slug = s.home_slug"
    " WHERE s.id IN {ids}"
)
_CONTEXT = text(_CONTEXT_SQL.format(ids=":ids")).bindparams(bindparam("ids", expanding=True))

ContextRow = Sequence[Any]  # id, format, away_goals, first leg's status, first leg's state (JSON text)


def needs_context(match: Match) -> bool:
    """A second leg (whose first leg may have changed), or a match whose competition's format has
    not been brought onto it yet."""
    return match.leg == 2 or (match.competition_slug is not None and match.competition_format is None)


def first_leg_result(status: str | None, state: str | Mapping[str, Any] | None) -> tuple[int, int] | None:
    """The first leg's score (its home side's goals, its away side's), once it has a result."""
    if status not in RESULT_STATUSES or state is None:
        return None
    data = json.loads(state) if isinstance(state, str) else state
    return int(data.get("home_score", 0)), int(data.get("away_score", 0))


def with_context(
    match: Match, competition_format: str | None, away_goals: object, first_leg: tuple[int, int] | None
) -> Match:
    """The match with its competition's settings and, for a second leg, its first leg's result:
    this match's home side played the first leg away, so its first-leg goals are that match's
    away score."""
    found_format: Format | None = next((f for f in FORMATS if f == competition_format), match.competition_format)
    changes: dict[str, Any] = {"competition_format": found_format, "away_goals": bool(away_goals)}
    if match.leg == 2:
        changes["first_leg_home"] = first_leg[1] if first_leg else None
        changes["first_leg_away"] = first_leg[0] if first_leg else None
    if competition_format is None:  # no competition row: keep what the match already says
        changes.pop("competition_format")
        changes.pop("away_goals")
    updated = replace(match, **changes)
    return match if updated == match else updated


def apply_rows(matches: Mapping[str, Match], rows: Iterable[ContextRow]) -> dict[str, Match]:
    """The matches (by id) that the context rows change, changed."""
    changed: dict[str, Match] = {}
    for match_id, competition_format, away_goals, first_status, first_state in rows:
        match = matches.get(match_id)
        if match is None:
            continue
        updated = with_context(match, competition_format, away_goals, first_leg_result(first_status, first_state))
        if updated is not match:
            changed[match_id] = updated
    return changed


def is_first_leg_of(first: Match, second: Match) -> bool:
    return (
        first.leg == 1
        and second.leg == 2
        and first.competition_slug is not None
        and first.competition_slug == second.competition_slug
        and first.round == second.round
        and first.home_slug is not None
        and (first.home_slug, first.away_slug) == (second.away_slug, second.home_slug)
    )


def follow_first_leg(second: Match, first: Match) -> Match:
    """A second leg as its first leg now stands (see `with_context`)."""
    result = (first.home_score, first.away_score) if first.status in RESULT_STATUSES else None
    home, away = (result[1], result[0]) if result else (None, None)
    if (second.first_leg_home, second.first_leg_away) == (home, away):
        return second
    return replace(second, first_leg_home=home, first_leg_away=away)


async def fill(conn: AsyncConnection, matches: list[Match]) -> list[Match]:
    """The matches with their ties' context, read in one statement for those that need it."""
    wanted = {m.id: m for m in matches if needs_context(m)}
    if not wanted:
        return matches
    rows = (await conn.execute(_CONTEXT, {"ids": list(wanted)})).all()
    changed = apply_rows(wanted, rows)
    return [changed.get(m.id, m) for m in matches] if changed else matches


def fill_sync(conn: Connection, matches: Mapping[str, Match]) -> dict[str, Match]:
    """`fill` inside a batch on a SQLAlchemy connection: the matches it changes, by id."""
    wanted = {match_id: m for match_id, m in matches.items() if needs_context(m)}
    if not wanted:
        return {}
    return apply_rows(wanted, conn.execute(_CONTEXT, {"ids": list(wanted)}).all())


def context_sql(count: int) -> str:
    """The statement with `count` question marks, for SQLite's own driver."""
    return _CONTEXT_SQL.format(ids="(" + ", ".join("?" * count) + ")")
