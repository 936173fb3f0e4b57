"""tracking grants kept on the server, revocable

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 11:00:00
"""

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tracking_grants",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("appeal_id", sa.Integer(), nullable=False),
        sa.Column("expires_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["appeal_id"],
            ["appeals.id"],
            name="fk_tracking_grants_appeal_id_appeals",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name="pk_tracking_grants"),
    )
    op.create_index("ix_tracking_grants_appeal_id", "tracking_grants", ["appeal_id"])
    op.create_index("ix_tracking_grants_expires_at", "tracking_grants", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_tracking_grants_expires_at", table_name="tracking_grants")
    op.drop_index("ix_tracking_grants_appeal_id", table_name="tracking_grants")
    op.drop_table("tracking_grants")
