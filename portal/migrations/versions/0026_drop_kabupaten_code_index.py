"""appeals: drop ix_appeals_kabupaten_code, which the queue's indexes made redundant

Migration 0002 indexed appeals.kabupaten_code alone. Since migration 0013 every query by a
kabupaten has an index that starts with kabupaten_code and goes on to its filter and order
(ix_appeals_kabupaten_code_due_at_id and the others), while every case filed still wrote the
lone one too. bench/staff.py at a million cases, PostgreSQL: with it, 0 scans of it over
all thirteen pages; without it, every page under its goal as before. One B-tree fewer (6.6 MB
at a million cases) to write for each case.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04 04:30:00
"""

from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

INDEX = "ix_appeals_kabupaten_code"


def upgrade() -> None:
    op.drop_index(INDEX, table_name="appeals")


def downgrade() -> None:
    op.create_index(INDEX, "appeals", ["kabupaten_code"], unique=False)
