"""Scorer accounts, their invitations, wrong sign-ins, and who recorded each event from where.

Events stored before keep their `recorded_by` name and have no account or address.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scorers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(40), nullable=False, unique=True),
        sa.Column("name_key", sa.String(40), nullable=False, unique=True),
        sa.Column("password_hash", sa.Text),
        sa.Column("admin", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("competitions", sa.JSON, nullable=False),
        sa.Column("generation", sa.Integer, nullable=False, server_default="1"),
        sa.Column("revoked", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_signin", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "invitations",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("scorer_id", sa.Integer, sa.ForeignKey("scorers.id"), nullable=False, index=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "signin_failures",
        sa.Column("key", sa.String(120), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("last_failure", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("account_id", sa.Integer, sa.ForeignKey("scorers.id", name="fk_events_account")))
        batch.add_column(sa.Column("client_address", sa.String(64)))
        batch.add_column(sa.Column("user_agent", sa.String(200)))
        batch.create_index("ix_events_account_id", ["account_id"])


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_index("ix_events_account_id")
        batch.drop_constraint("fk_events_account", type_="foreignkey")
        batch.drop_column("user_agent")
        batch.drop_column("client_address")
        batch.drop_column("account_id")
    op.drop_table("signin_failures")
    op.drop_table("invitations")
    op.drop_table("scorers")
