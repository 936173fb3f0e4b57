"""the verval task: the checklist answers of a field check, and its server-side draft

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 22:00:00
"""

import sqlalchemy as sa
from alembic import op

from portal.db import UTCDateTime

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("field_checks") as batch:
        batch.add_column(sa.Column("checklist", sa.JSON(), nullable=True))
    op.create_table(
        "field_check_drafts",
        sa.Column("field_check_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["field_check_id"], ["field_checks.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_users.id"]),
        sa.PrimaryKeyConstraint("field_check_id"),
    )


def downgrade() -> None:
    op.drop_table("field_check_drafts")
    with op.batch_alter_table("field_checks") as batch:
        batch.drop_column("checklist")
