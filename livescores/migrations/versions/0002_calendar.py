"""The calendar: competitions, teams and their other names; each match's place among them.

Every match already stored keeps its id, events and state. It joins the competition named by
its `competition` text (Friendlies when it has none), its teams become team rows (one per name
as `calendar.name_key` sees it), its status is copied out of its state, and a match without a
kick-off gets its first event's time, else the time of the migration.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from livescores.calendar import FRIENDLIES, name_key, new_competition, new_team

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

MATCH_COLUMNS = (
    sa.Column("competition_slug", sa.String(60)),
    sa.Column("round", sa.String(80)),
    sa.Column("group_name", sa.String(80)),
    sa.Column("leg", sa.Integer),
    sa.Column("venue", sa.String(120)),
    sa.Column("home_slug", sa.String(60)),
    sa.Column("away_slug", sa.String(60)),
    sa.Column("status", sa.String(20), nullable=False, server_default="scheduled"),
)
INDEXED = ("kickoff", "competition_slug", "home_slug", "away_slug", "status")


def upgrade() -> None:
    competitions = op.create_table(
        "competitions",
        sa.Column("slug", sa.String(60), primary_key=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("short_name", sa.String(80), nullable=False),
        sa.Column("season", sa.String(20)),
        sa.Column("format", sa.String(30), nullable=False),
        sa.Column("rules", sa.JSON, nullable=False),
        sa.Column("away_goals", sa.Boolean, nullable=False, server_default="0"),
    )
    teams = op.create_table(
        "teams",
        sa.Column("slug", sa.String(60), primary_key=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("short_name", sa.String(80), nullable=False),
        sa.Column("code", sa.String(3), nullable=False),
    )
    aliases = op.create_table(
        "team_aliases",
        sa.Column("key", sa.String(120), primary_key=True),
        sa.Column("team_slug", sa.String(60), sa.ForeignKey("teams.slug"), nullable=False),
        sa.Column("alias", sa.String(80), nullable=False),
    )
    op.create_index("ix_team_aliases_team_slug", "team_aliases", ["team_slug"])
    for column in MATCH_COLUMNS:
        op.add_column("matches", column)
    for name in INDEXED:
        op.create_index(f"ix_matches_{name}", "matches", [name])
    _fill(competitions, teams, aliases)


def _fill(competitions: sa.Table, teams: sa.Table, aliases: sa.Table) -> None:
    bind = op.get_bind()
    matches = sa.table(
        "matches",
        sa.column("id", sa.String),
        sa.column("home", sa.String),
        sa.column("away", sa.String),
        sa.column("kickoff", sa.DateTime(timezone=True)),
        sa.column("competition", sa.String),
        sa.column("state", sa.JSON),
        sa.column("position", sa.Integer),
        *(sa.column(column.name, column.type) for column in MATCH_COLUMNS),
    )
    events = sa.table("events", sa.column("match_id", sa.String), sa.column("at", sa.DateTime(timezone=True)))
    first_event = dict(
        bind.execute(sa.select(events.c.match_id, sa.func.min(events.c.at)).group_by(events.c.match_id)).all()
    )
    now = datetime.now(UTC)
    by_name: dict[str, str] = {}  # competition name → slug
    by_key: dict[str, str] = {}  # name_key(team name) → slug
    competition_rows: list[dict[str, Any]] = []
    team_rows: list[dict[str, Any]] = []
    alias_rows: list[dict[str, Any]] = []

    def competition_slug(name: str) -> str:
        if name not in by_name:
            made = new_competition(name)
            slug = _unique(made.slug, set(by_name.values()))
            by_name[name] = slug
            competition_rows.append(
                {
                    "slug": slug,
                    "name": made.name,
                    "short_name": made.short_name,
                    "season": None,
                    "format": made.format,
                    "rules": {
                        "points_for_win": made.rules.points_for_win,
                        "points_for_draw": made.rules.points_for_draw,
                        "tie_breakers": list(made.rules.tie_breakers),
                    },
                    "away_goals": False,
                }
            )
        return by_name[name]

    def team_slug(name: str) -> str:
        key = name_key(name)
        if key not in by_key:
            made = new_team(name)
            slug = _unique(made.slug, set(by_key.values()))
            by_key[key] = slug
            team_rows.append({"slug": slug, "name": made.name, "short_name": made.short_name, "code": made.code})
            alias_rows.append({"key": key, "team_slug": slug, "alias": name})
        return by_key[key]

    columns = (matches.c.id, matches.c.home, matches.c.away, matches.c.kickoff, matches.c.competition, matches.c.state)
    rows = bind.execute(sa.select(*columns).order_by(matches.c.position, matches.c.id)).all()
    changes = []
    for match_id, home, away, kickoff, competition, state in rows:
        if isinstance(state, str):
            state = json.loads(state)
        changes.append(
            {
                "match_id": match_id,
                "competition_slug": competition_slug(competition or FRIENDLIES),
                "competition": competition or FRIENDLIES,
                "home_slug": team_slug(home),
                "away_slug": team_slug(away),
                "status": state.get("status", "scheduled"),
                "kickoff": kickoff or first_event.get(match_id) or now,
            }
        )
    if competition_rows:
        bind.execute(competitions.insert(), competition_rows)
    if team_rows:
        bind.execute(teams.insert(), team_rows)
        bind.execute(aliases.insert(), alias_rows)
    if changes:
        bind.execute(
            matches.update()
            .where(matches.c.id == sa.bindparam("match_id"))
            .values(
                competition_slug=sa.bindparam("competition_slug"),
                competition=sa.bindparam("competition"),
                home_slug=sa.bindparam("home_slug"),
                away_slug=sa.bindparam("away_slug"),
                status=sa.bindparam("status"),
                kickoff=sa.bindparam("kickoff"),
            ),
            changes,
        )


def _unique(slug: str, taken: set[str]) -> str:
    """Two names can make one slug ("Paris SG" and "Paris-SG" are two names to name_key): number the later."""
    found, n = slug, 1
    while found in taken:
        n += 1
        found = f"{slug[:55]}-{n}"
    return found


def downgrade() -> None:
    for name in INDEXED:
        op.drop_index(f"ix_matches_{name}", "matches")
    with op.batch_alter_table("matches") as batch:
        for column in MATCH_COLUMNS:
            batch.drop_column(column.name)
    op.drop_index("ix_team_aliases_team_slug", "team_aliases")
    op.drop_table("team_aliases")
    op.drop_table("teams")
    op.drop_table("competitions")
