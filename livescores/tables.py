"""A competition's tables as its page, its API and its live pushes show them.

`standings.py` computes; this module decides which tables a competition shows (one league
table, a table per group, none for a cup), whether they are live, how they are keyed in the
page, and, for the hub, which rows changed since the page was last told. One partial renders a
row (`_standings_row.html`) and one the tables (`_standings.html`), for the page and every push.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, Template

from .calendar import Competition, slugify
from .i18n import Spoken
from .matches import Match
from .pages import match_order
from .standings import GroupTable, Row, group_tables, table

TABLES_ID = "tables"
LEAGUE_KEY = "table"


@dataclass(frozen=True)
class Tables:
    """What a competition page shows under its rounds."""

    tables: tuple[GroupTable, ...]  # a league's one table has the group "" (no caption)
    live: bool  # a match is in play, and the tables count its current score
    knockout: tuple[tuple[str, tuple[Match, ...]], ...]  # rounds outside the groups, in order

    @property
    def grouped(self) -> bool:
        return any(t.group for t in self.tables)


def table_key(group: str) -> str:
    return slugify(group) if group else LEAGUE_KEY


def row_id(group: str, position: int) -> str:
    """Rows are addressed by place, not team: a push that moves a team rewrites the places
    that changed, and the page's rows stay in table order without any script."""
    return f"standing-{table_key(group)}-{position}"


def competition_tables(competition: Competition, matches: Iterable[Match]) -> Tables:
    games = sorted(matches, key=match_order)
    live = any(m.underway for m in games)
    rules = competition.rules
    found: tuple[GroupTable, ...] = ()
    if competition.format == "league":
        found = (GroupTable("", table(games, rules, live=live)),)
    elif competition.format == "groups_then_knockout":
        found = group_tables(games, rules, live=live)
    live = live and any(row.live for t in found for row in t.rows)
    rounds: dict[str, list[Match]] = {}
    if competition.format != "league":
        for match in games:
            if match.group is None and match.round is not None:
                rounds.setdefault(match.round, []).append(match)
    return Tables(found, live, tuple((name, tuple(listed)) for name, listed in rounds.items()))


def row_json(row: Row) -> dict[str, Any]:
    return {
        "position": row.position,
        "team": row.team,
        "name": row.name,
        "played": row.played,
        "won": row.won,
        "drawn": row.drawn,
        "lost": row.lost,
        "goals_for": row.goals_for,
        "goals_against": row.goals_against,
        "goal_difference": row.goal_difference,
        "points": row.points,
        "form": "".join(row.form),
        "live": row.live,
        "tied": row.tied,
    }


def tables_json(tables: Tables) -> list[dict[str, Any]]:
    return [
        {"group": t.group or None, "live": tables.live, "rows": [row_json(r) for r in t.rows]} for t in tables.tables
    ]


class TableRenderer:
    def __init__(self, env: Environment) -> None:
        partials = env.overlay(enable_async=False)
        self._tables: Template = partials.get_template("_standings.html")
        self._row: Template = partials.get_template("_standings_row.html")

    def tables(self, tables: Tables) -> str:
        return self._tables.render(tables=tables, row_id=row_id)

    def row(self, group: str, row: Row, moved: int = 0) -> str:
        return self._row.render(group=group, row=row, row_id=row_id, moved=moved)


def _shape(tables: Tables) -> tuple[object, ...]:
    """What only a whole new set of tables can show: which tables, their sizes, live or not."""
    return (tables.live, tuple((t.group, len(t.rows)) for t in tables.tables), tables.knockout)


class LiveTables:
    """The tables each watched competition's pages were last sent, and what changed since.

    The hub asks once per change to a match of a competition some socket shows; one table
    computation and one render of each changed row serve every socket of every round's page."""

    def __init__(self, env: Environment, competitions: Callable[[str], Competition | None]) -> None:
        self.renderer = TableRenderer(env)
        self.competitions = competitions
        self._sent: dict[str, Tables] = {}

    def snapshot(self, slug: str, matches: Iterable[Match]) -> str:
        """The whole tables of a competition, as a swap of its `#tables`; remembered as sent."""
        competition = self.competitions(slug)
        if competition is None:
            return ""
        tables = competition_tables(competition, matches)
        self._sent[slug] = tables
        return self._swap(tables)

    def _swap(self, tables: Tables) -> str:
        """The tables as a swap of `#tables`, in the language being rendered."""
        return f'<hx-partial hx-target="#{TABLES_ID}" hx-swap="innerHTML">{self.renderer.tables(tables)}</hx-partial>'

    def changes(self, slug: str, matches: Iterable[Match]) -> list[tuple[str, str]]:
        """The fragments that bring pages from the tables last sent to these: the rows whose
        place changed hands or figures, or the whole tables when their shape changed."""
        competition = self.competitions(slug)
        before = self._sent.get(slug)
        if competition is None or before is None:
            return []
        after = competition_tables(competition, matches)
        if after == before:
            return []
        self._sent[slug] = after
        if _shape(after) != _shape(before):
            return [(f"table:{slug}", Spoken(lambda: self._swap(after)))]
        items: list[tuple[str, str]] = []
        for old, new in zip(before.tables, after.tables, strict=True):
            places = {row.team: row.position for row in old.rows}
            for was, row in zip(old.rows, new.rows, strict=True):
                if was == row:
                    continue
                moved = places.get(row.team, row.position) - row.position
                items.append((f"table:{row_id(new.group, row.position)}", self._row_swap(new.group, row, moved)))
        return items

    def _row_swap(self, group: str, row: Row, moved: int) -> str:
        """A changed row as a swap of its place, in every language a socket asks for."""
        key = row_id(group, row.position)
        target = f'<hx-partial hx-target="#{key}" hx-swap="outerHTML">'
        return Spoken(lambda: f"{target}{self.renderer.row(group, row, moved)}</hx-partial>")

    def forget(self, slug: str) -> None:
        self._sent.pop(slug, None)

    def watched(self, slugs: Mapping[str, int]) -> None:
        """Let go of what was sent to competitions no socket shows any more."""
        for slug in [s for s in self._sent if not slugs.get(s)]:
            del self._sent[slug]
