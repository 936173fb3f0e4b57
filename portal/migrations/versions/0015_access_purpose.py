"""access log: the purpose of each read (case, field check, search, export...)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 18:00:00

A nullable column without a default: PostgreSQL adds it without rewriting the table, and
the append-only rows written before stay as they are (their purpose is read from actor and
role, portal/access/history.py).
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a plain ALTER on both engines: a batch copy on SQLite would drop the append-only
    # triggers (migration 0005) with the old table
    op.add_column("access_events", sa.Column("purpose", sa.String(length=16), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE access_events DROP COLUMN purpose")  # SQLite 3.35+ as PostgreSQL
