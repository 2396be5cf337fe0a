"""The database's tables, as the store reads and writes them and Alembic compares them."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()


def _named() -> list[Column[str]]:
    """What a competition and a team both have: a slug for URLs, a name, a short name."""
    return [
        Column("slug", String(60), primary_key=True),
        Column("name", String(80), nullable=False),
        Column("short_name", String(80), nullable=False),
    ]


competitions_table = Table(
    "competitions",
    metadata,
    *_named(),
    Column("season", String(20)),
    Column("format", String(30), nullable=False),
    Column("rules", JSON, nullable=False),  # {points_for_win, points_for_draw, tie_breakers}
    Column("away_goals", Boolean, nullable=False, server_default="0"),
)

teams_table = Table(
    "teams",
    metadata,
    *_named(),
    Column("code", String(3), nullable=False),
)

# Every spelling a team is known by, its own name included: resolving a name is one lookup.
team_aliases_table = Table(
    "team_aliases",
    metadata,
    Column("key", String(120), primary_key=True),  # calendar.name_key(alias)
    Column("team_slug", String(60), ForeignKey("teams.slug"), nullable=False, index=True),
    Column("alias", String(80), nullable=False),
)

matches_table = Table(
    "matches",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("home", String(80), nullable=False),
    Column("away", String(80), nullable=False),
    Column("kickoff", DateTime(timezone=True), index=True),
    Column("competition", String(80)),
    Column("fixture_key", String(255), unique=True),
    Column("version", Integer, nullable=False, server_default="0"),
    Column("state", JSON, nullable=False),
    Column("position", Integer, nullable=False, server_default="0"),
    Column("competition_slug", String(60), index=True),
    Column("round", String(80)),
    Column("group_name", String(80)),
    Column("leg", Integer),
    Column("venue", String(120)),
    Column("home_slug", String(60), index=True),
    Column("away_slug", String(60), index=True),
    # A copy of the state's status, kept equal on every write, so "what is underway" is an index.
    Column("status", String(40), nullable=False, server_default="scheduled", index=True),
)

events_table = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("match_id", String(32), ForeignKey("matches.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("recorded_by", String(80)),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    # The audit: which account recorded it (none in quick mode or for the demo), from where.
    Column("account_id", Integer, ForeignKey("scorers.id", name="fk_events_account"), index=True),
    Column("client_address", String(64)),
    Column("user_agent", String(200)),
    UniqueConstraint("match_id", "version", name="uq_events_match_version"),
)

settings_table = Table(
    "settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# Scorer accounts: `generation` grows at each revocation or reset, ending the sessions before it.
scorers_table = Table(
    "scorers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(40), nullable=False, unique=True),
    Column("name_key", String(40), nullable=False, unique=True),  # the name in lower case
    Column("password_hash", Text),
    Column("admin", Boolean, nullable=False, server_default="0"),
    Column("competitions", JSON, nullable=False),  # slugs; empty: every competition
    Column("generation", Integer, nullable=False, server_default="1"),
    Column("revoked", Boolean, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_signin", DateTime(timezone=True)),
)

# One-time invitations, kept by the hash of their token: the token itself is only ever printed.
invitations_table = Table(
    "invitations",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("scorer_id", Integer, ForeignKey("scorers.id"), nullable=False, index=True),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
)

# Wrong sign-ins per address and per account, shared by every worker and process.
signin_failures_table = Table(
    "signin_failures",
    metadata,
    Column("key", String(120), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failure", DateTime(timezone=True), nullable=False),
)
