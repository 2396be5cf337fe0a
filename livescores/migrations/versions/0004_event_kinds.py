"""Event kinds up to 40 characters: "extra_time_second_half" (22) did not fit the 20 the first
schema allowed, so a match told through extra time could not be stored on PostgreSQL
(SQLite does not enforce the length).

Revision ID: 0004
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.alter_column("kind", type_=sa.String(40), existing_type=sa.String(20), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.alter_column("kind", type_=sa.String(20), existing_type=sa.String(40), existing_nullable=False)
