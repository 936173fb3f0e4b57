"""enrolment link bound to the first browser that opens it

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 08:00:00
"""

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff_users") as batch:
        batch.add_column(sa.Column("enrol_browser_hash", sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column("enrol_reopened_at", portal.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_column("enrol_reopened_at")
        batch.drop_column("enrol_browser_hash")
