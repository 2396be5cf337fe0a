"""Room for the longest statuses and event kinds: "extra_time_second_half" is 22 characters.

SQLite does not enforce a VARCHAR's length, so only PostgreSQL's columns change.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

WIDENED = (("matches", "status"), ("events", "kind"))


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in WIDENED:
        op.alter_column(table, column, type_=sa.String(40), existing_type=sa.String(20))


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in WIDENED:
        op.alter_column(table, column, type_=sa.String(20), existing_type=sa.String(40))
