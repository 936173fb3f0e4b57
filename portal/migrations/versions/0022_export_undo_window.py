"""an export waits out an undo window before it is final (exports.final_at)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02 22:10:00
"""

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("exports") as batch:
        batch.add_column(sa.Column("final_at", portal.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("exports") as batch:
        batch.drop_column("final_at")
